package builder

// The step cache's storage (see docs/design.md, "The step cache"): an entry
// is an unnamed image in the store carrying a big-data item named after its
// parent and key (stepcache.Entry as JSON), as `buildah build --layers`
// keeps intermediate images; libimage's prune removes the unreachable ones.

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"sort"
	"strings"
	"sync"

	"go.podman.io/buildah"
	"go.podman.io/buildah/define"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/stringid"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/interrupt"
	"pybuildah.dev/shim/internal/stepcache"
	"pybuildah.dev/shim/internal/wire"
)

// pendingSteps holds, per handle, the entry StepLookup computed last, for
// StepSave to keep (the file list stays in Go).
var pendingSteps sync.Map // *State -> *stepcache.Entry

// StepLookup computes a step's key and looks for its entry; on a miss it
// names the first input that differs from the newest entry with the same
// parent.  It runs under the builder's lock, like every call on it.
func StepLookup(s *State, o wire.StepOptions) (*wire.StepLookup, error) {
	files, err := stepcache.Tree(wire.Strings(o.Sources), o.Parents)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errkind.Wrap(errkind.SourceNotFound, err)
		}
		return nil, err
	}
	parent, base := o.Parent, ""
	if parent == "" {
		base = o.Base
		parent, err = stepcache.FirstParent(base, map[string]any{"isolation": s.Builder.Isolation.String()})
		if err != nil {
			return nil, err
		}
	}
	entry, err := stepcache.NewEntry(parent, base, o.Kind, o.Args, files)
	if err != nil {
		return nil, errkind.Wrap(errkind.InvalidArgument, err)
	}
	pendingSteps.Store(s, entry)
	result := &wire.StepLookup{Key: entry.Key, Parent: parent}
	candidates, err := entries(s.Store.Store)
	if err != nil {
		return nil, err
	}
	var siblings, firsts []candidate
	for _, c := range candidates {
		switch {
		case c.key == entry.Key && c.parent == parent:
			if kept, err := readEntry(s.Store.Store, c); err == nil {
				result.Hit, result.Result = c.image.ID, kept.Result
				return result, nil
			}
		case c.parent == parent:
			siblings = append(siblings, c)
		case base != "" && strings.HasPrefix(c.parent, stepcache.FirstPrefix):
			firsts = append(firsts, c)
		}
	}
	result.Reason = explain(s.Store.Store, entry, siblings, firsts)
	return result, nil
}

// explain says why entry missed: what differs from the closest sibling (two
// steps can follow the same parent: two Builders from one base), or,
// for a first step, that an entry for the same step on another base exists.
func explain(st storage.Store, entry *stepcache.Entry, siblings, firsts []candidate) string {
	var nearest *stepcache.Entry
	for i, c := range siblings { // newest first; the closest wins, the newest among equals
		if i == 50 {
			break
		}
		if earlier, err := readEntry(st, c); err == nil &&
			(nearest == nil || stepcache.Distance(entry, earlier) < stepcache.Distance(entry, nearest)) {
			nearest = earlier
		}
	}
	if nearest != nil {
		return stepcache.Explain(entry, nearest)
	}
	for i, c := range firsts {
		if i == 50 { // enough: entries of other scripts are first steps too
			break
		}
		if earlier, err := readEntry(st, c); err == nil && stepcache.SameStep(entry, earlier) {
			return "base image changed (" + shortID(entry.Base) + ")"
		}
	}
	return "no earlier entry"
}

func shortID(id string) string {
	if len(id) > 12 {
		return "sha256:" + id[:12]
	}
	return id
}

type candidate struct {
	image       storage.Image
	name        string
	parent, key string
}

// entries lists the store's cache entries, newest first.
func entries(st storage.Store) ([]candidate, error) {
	imgs, err := st.Images()
	if err != nil {
		return nil, err
	}
	var out []candidate
	for _, img := range imgs {
		for _, name := range img.BigDataNames {
			if parent, key, ok := stepcache.ParseName(name); ok {
				out = append(out, candidate{image: img, name: name, parent: parent, key: key})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].image.Created.After(out[j].image.Created) })
	return out, nil
}

func readEntry(st storage.Store, c candidate) (*stepcache.Entry, error) {
	data, err := st.ImageBigData(c.image.ID, c.name)
	if err != nil {
		return nil, err
	}
	var e stepcache.Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// StepSave commits the working container as the entry of the step looked up
// last on this handle, and returns the image's ID.  Two processes that save
// the same key both succeed: each keeps an image, lookups take the newest.
func StepSave(s *State, o wire.StepSaveOptions) (string, error) {
	pending, _ := pendingSteps.LoadAndDelete(s)
	entry, _ := pending.(*stepcache.Entry)
	if entry == nil || entry.Key != o.Key {
		return "", errkind.New(errkind.InvalidArgument, "no step with key %q was looked up on this builder", o.Key)
	}
	entry.Result = o.Result
	data, err := json.Marshal(entry)
	if err != nil {
		return "", err
	}
	label, err := json.Marshal(stepcache.Entry{Key: entry.Key, Parent: entry.Parent, Kind: entry.Kind, Result: entry.Result})
	if err != nil {
		return "", err
	}
	createdBy := s.Builder.ImageCreatedBy
	s.Builder.ImageCreatedBy = o.CreatedBy
	restore := withLabel(s.Builder, stepcache.Label, string(label))
	defer func() { s.Builder.ImageCreatedBy = createdBy; restore() }()
	format := s.Builder.Format
	if format == "" {
		format = define.OCIv1ImageManifest
	}
	call, err := interrupt.Begin(o.CallID())
	if err != nil {
		return "", err
	}
	defer call.End()
	id, _, _, err := s.Builder.Commit(call.Context(), nil, buildah.CommitOptions{
		PreferredManifestType: format,
		SystemContext:         s.Store.Sys(),
	})
	if err != nil {
		return "", s.explain(err)
	}
	if err := s.Store.Store.SetImageBigData(id, entry.BigDataName(), data, nil); err != nil {
		return "", err
	}
	return id, nil
}

// forgetStep drops what StepLookup kept for a handle.
func forgetStep(s *State) { pendingSteps.Delete(s) }

// Rebase replaces the working container by one made from image (a cache
// entry holding the content the container should have), under the same
// name, keeping the configuration: the entry's layers and history, the
// builder's settings, env, labels, annotations and the rest.
func Rebase(s *State, o wire.RebaseOptions) (wire.ContainerInfo, error) {
	old := *s.Builder
	fresh, err := buildah.NewBuilder(context.Background(), s.Store.Store, buildah.BuilderOptions{
		FromImage:        o.Image,
		Container:        old.Container + "-" + stringid.GenerateRandomID()[:8],
		PullPolicy:       define.PullNever,
		Isolation:        old.Isolation,
		Capabilities:     old.Capabilities,
		CommonBuildOpts:  old.CommonBuildOpts,
		ConfigureNetwork: old.ConfigureNetwork,
		Format:           old.Format,
		SystemContext:    s.Store.Sys(),
		NamespaceOptions: old.NamespaceOptions,
	})
	if err != nil {
		return wire.ContainerInfo{}, errkind.Image(o.Image, err)
	}
	carryConfig(&old, fresh)
	c := s.shared
	if err := c.dispose(&old); err != nil {
		_ = fresh.Delete()
		return wire.ContainerInfo{}, err
	}
	if err := s.Store.Store.SetNames(fresh.ContainerID, []string{old.Container}); err != nil {
		return wire.ContainerInfo{}, err
	}
	fresh.Container = old.Container
	if err := fresh.Save(); err != nil {
		return wire.ContainerInfo{}, err
	}
	c.dirty = false
	*s.Builder = *fresh // every handle on the container shares this *buildah.Builder
	containers.Lock()
	c.key = containerKey(s.Store, fresh.ContainerID)
	containers.byKey[c.key] = c
	containers.Unlock()
	return describe(s.Builder), nil
}

// carryConfig gives to what from would commit, except what describes
// to's own layers (history, diff IDs) and the image it was made from.
func carryConfig(from, to *buildah.Builder) {
	oHistory, oRootFS := to.OCIv1.History, to.OCIv1.RootFS
	dHistory, dRootFS, dParent := to.Docker.History, to.Docker.RootFS, to.Docker.Parent
	to.OCIv1 = from.OCIv1
	to.OCIv1.History, to.OCIv1.RootFS = oHistory, oRootFS
	to.Docker = from.Docker
	to.Docker.History, to.Docker.RootFS, to.Docker.Parent = dHistory, dRootFS, dParent
	to.ImageAnnotations = maps.Clone(from.ImageAnnotations)
	to.ImageCreatedBy = from.ImageCreatedBy
	to.ImageHistoryComment = from.ImageHistoryComment
	to.FromImage, to.FromImageDigest = from.FromImage, from.FromImageDigest
}

// withLabel sets a label on b for one commit; the function it returns puts
// the label back as it was.
func withLabel(b *buildah.Builder, name, value string) func() {
	before, had := b.Labels()[name]
	b.SetLabel(name, value)
	return func() {
		if had {
			b.SetLabel(name, before)
		} else {
			b.UnsetLabel(name)
		}
	}
}

// StepAdopt makes an image pulled from a cache_from repository an entry of
// this store: the entry's record travels as the label stepcache.Label of the
// image's config (without the file list, which only explains misses).
func StepAdopt(s *State, o wire.StepAdoptOptions) (*wire.StepLookup, error) {
	img, err := s.Store.Store.Image(o.Image)
	if err != nil {
		return nil, errkind.Image(o.Image, err)
	}
	raw, err := s.Store.Store.ImageBigData(img.ID, "sha256:"+img.ID)
	if err != nil {
		return nil, err
	}
	var config struct {
		Config struct {
			Labels map[string]string `json:"Labels"`
		} `json:"config"`
	}
	if err := json.Unmarshal(raw, &config); err != nil {
		return nil, err
	}
	var entry stepcache.Entry
	if err := json.Unmarshal([]byte(config.Config.Labels[stepcache.Label]), &entry); err != nil || entry.Key != o.Key {
		return nil, errkind.New(errkind.InvalidArgument, "image %s is not the step cache entry %s", img.ID, o.Key)
	}
	data, err := json.Marshal(entry)
	if err != nil {
		return nil, err
	}
	if err := s.Store.Store.SetImageBigData(img.ID, entry.BigDataName(), data, nil); err != nil {
		return nil, err
	}
	return &wire.StepLookup{Key: entry.Key, Parent: entry.Parent, Hit: img.ID, Result: entry.Result}, nil
}
