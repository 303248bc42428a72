package builder

import (
	"strings"

	"go.podman.io/buildah"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/images"
	"pybuildah.dev/shim/internal/store"
	"pybuildah.dev/shim/internal/wire"
)

// containerFilter is `buildah containers --filter`: a container ID prefix,
// a part of the container's name, and an ancestor (an image ID prefix, or a
// repository suffix with an optional tag).
type containerFilter struct{ id, name, ancestor string }

// parseContainerFilters reads "key=value" filters; like buildah, one may
// hold several joined by commas.
func parseContainerFilters(filters []string) (containerFilter, error) {
	var f containerFilter
	for _, joined := range filters {
		for _, one := range strings.Split(joined, ",") {
			key, value, ok := strings.Cut(one, "=")
			if !ok {
				return f, errkind.New(errkind.InvalidArgument, "container filter %q is not key=value", one)
			}
			switch strings.TrimSpace(key) {
			case "id":
				f.id = value
			case "name":
				f.name = value
			case "ancestor":
				f.ancestor = value
			default:
				return f, errkind.New(errkind.InvalidArgument, "unknown container filter %q; known: ancestor, id, name", key)
			}
		}
	}
	return f, nil
}

// matches is buildah's matchesCtrFilter; imageName is the first name of
// the container's image ("scratch" for none).
func (f containerFilter) matches(id, name, imageID, imageName string) bool {
	return strings.HasPrefix(id, f.id) && strings.Contains(name, f.name) &&
		(f.ancestor == "" || (imageID != "" && strings.HasPrefix(imageID, f.ancestor)) || matchesReference(imageName, f.ancestor))
}

// matchesReference is buildah's: the repository ends with the argument's,
// and the tags are equal when the argument has one.
func matchesReference(name, arg string) bool {
	repo, tag, _ := strings.Cut(name, ":")
	if argRepo, argTag, ok := strings.Cut(arg, ":"); ok {
		return strings.HasSuffix(repo, argRepo) && tag == argTag
	}
	return strings.HasSuffix(repo, arg)
}

// List describes the working containers in the store that pass the filters.
func List(st *store.State, o wire.ListOptions) ([]wire.ContainerInfo, error) {
	filter, err := parseContainerFilters(o.Filters)
	if err != nil {
		return nil, err
	}
	builders, err := buildah.OpenAllBuilders(st.Store)
	if err != nil {
		return nil, err
	}
	out := make([]wire.ContainerInfo, 0, len(builders))
	for _, b := range builders {
		if filter.matches(b.ContainerID, b.Container, b.FromImageID, imageName(st, b.FromImageID)) {
			out = append(out, describe(b))
		}
	}
	return out, nil
}

// imageName is what `buildah containers` shows as IMAGE NAME.
func imageName(st *store.State, id string) string {
	if id == "" {
		return buildah.BaseImageFakeName
	}
	if img, err := st.Store.Image(id); err == nil && len(img.Names) > 0 {
		return img.Names[0]
	}
	return ""
}

// Prune removes every working container, then the dangling images, as
// `buildah rm --all` and `buildah rmi --prune` do.  A container a handle in
// this process is open on goes too (its calls then raise ContainerNotFound).
func Prune(st *store.State, _ wire.StoreRef) (wire.PruneReport, error) {
	report := wire.PruneReport{Containers: []string{}, Images: []string{}}
	builders, err := buildah.OpenAllBuilders(st.Store)
	if err != nil {
		return report, err
	}
	for _, b := range builders {
		id := b.ContainerID // Delete clears it
		if err := remove(st, b); err != nil {
			return report, err
		}
		report.Containers = append(report.Containers, id)
	}
	report.Images, err = images.Prune(st)
	return report, err
}

// remove deletes a working container as Delete does, also when handles in
// this process share it: under its lock, with their copier children stopped.
func remove(st *store.State, b *buildah.Builder) error {
	containers.Lock()
	c := containers.byKey[containerKey(st, b.ContainerID)]
	containers.Unlock()
	// b is a fresh copy: Delete clears the names of the builder it deletes,
	// and the handles' one keeps them for their ContainerNotFound messages.
	if c == nil {
		if err := b.Delete(); err != nil && !errkind.ContainerGone(err) {
			return err
		}
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dispose(b)
}
