// Package volumes reads buildah's --volume specs, HOST:CONTAINER[:OPTIONS],
// for run(volumes=) and build(volumes=) alike: one parser, so that a spec
// means the same, or is refused the same way, in both.
package volumes

import (
	"errors"
	"fmt"
	"io/fs"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"go.podman.io/buildah/pkg/parse"

	"pybuildah.dev/shim/internal/errkind"
)

// Parse checks every spec with Buildah's own parser (the one behind
// buildah run -v and buildah build --volume: absolute paths, an existing host
// path, \: for a colon in a path, options such as ro, rw, z, U, O,
// [r]private) and returns them as the bind mounts Builder.Run takes; Buildah
// applies the options the same way to both.  On top of Buildah's parser it
// refuses a fourth field (which Buildah silently ignores) and two specs with
// the same destination (as buildah run -v does).  A missing host path is
// SourceNotFound, anything else InvalidArgument.
func Parse(volumes []string) ([]specs.Mount, error) {
	var out []specs.Mount
	seen := map[string]bool{}
	for _, spec := range volumes {
		if fields := len(parse.SplitStringWithColonEscape(spec)); fields > 3 {
			return nil, errkind.New(errkind.InvalidArgument, "volume %q: want HOST:CONTAINER[:OPTIONS], not %d fields", spec, fields)
		}
		mount, err := parse.Volume(spec)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errkind.Wrap(errkind.SourceNotFound, fmt.Errorf("volume %q: %w", spec, err))
		}
		if err != nil {
			return nil, errkind.Wrap(errkind.InvalidArgument, fmt.Errorf("volume %q: %w", spec, err))
		}
		if seen[mount.Destination] {
			return nil, errkind.New(errkind.InvalidArgument, "volume %q: %s is mounted twice", spec, mount.Destination)
		}
		seen[mount.Destination] = true
		var options []string
		for _, option := range mount.Options {
			if option != "" {
				options = append(options, option)
			}
		}
		mount.Options = options
		out = append(out, mount)
	}
	return out, nil
}
