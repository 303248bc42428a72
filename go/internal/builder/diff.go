package builder

import (
	"fmt"
	"sort"

	"go.podman.io/storage/pkg/archive"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/wire"
)

// changeKinds are podman diff's letters for storage's change kinds.
var changeKinds = map[archive.ChangeType]string{
	archive.ChangeAdd:    "A",
	archive.ChangeModify: "C",
	archive.ChangeDelete: "D",
}

// Diff lists what the container changed against an image (by default the
// one it was made from), as `podman diff` does: storage's Changes between
// that image's top layer and the container's layer, sorted by path.  From
// scratch every path is added.
func Diff(s *State, o wire.DiffOptions) ([]wire.Change, error) {
	ctr, err := s.Store.Store.Container(s.Builder.ContainerID)
	if err != nil {
		return nil, s.explain(err)
	}
	image := o.Image
	if image == "" {
		image = s.Builder.FromImageID
	}
	from := ""
	if image != "" {
		img, err := s.Store.Store.Image(image)
		if err != nil {
			return nil, errkind.Wrap(errkind.ImageNotFound, fmt.Errorf("diff against image %s: %w", image, err))
		}
		from = img.TopLayer
	}
	changes, err := s.Store.Store.Changes(from, ctr.LayerID)
	if err != nil {
		return nil, s.explain(fmt.Errorf("listing the changes of %s: %w", s.Builder.Container, err))
	}
	return changeRecords(changes), nil
}

// changeRecords turns storage's changes into records, sorted by path.
func changeRecords(changes []archive.Change) []wire.Change {
	out := make([]wire.Change, 0, len(changes))
	for _, c := range changes {
		out = append(out, wire.Change{Path: c.Path, Kind: changeKinds[c.Kind]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
