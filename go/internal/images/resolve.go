// Package images is everything about images in a store or behind a
// transport: resolving names, inspecting, tagging, removing, saving and
// loading, through libimage as Buildah's and Podman's image commands do.
package images

import (
	"errors"
	"fmt"
	"strings"

	"go.podman.io/common/libimage"
	"go.podman.io/image/v5/pkg/shortnames"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/transports"
	"go.podman.io/image/v5/transports/alltransports"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/store"
	"pybuildah.dev/shim/internal/validate"
)

// ResolveLocal finds an image in the store by ID, ID prefix, full name or
// short name.
func ResolveLocal(st *store.State, name string) (*storage.Image, error) {
	if name == "" {
		return nil, errkind.New(errkind.InvalidReference, "an image reference is required")
	}
	name = strings.TrimPrefix(name, "containers-storage:")
	if img, err := st.Store.Image(name); err == nil {
		return img, nil
	}
	// libimage's Load names an unnamed image "sha256:<ID>", which the store's own look-up does not take.
	if id, ok := strings.CutPrefix(name, "sha256:"); ok && len(id) == 64 {
		if img, err := st.Store.Image(id); err == nil {
			return img, nil
		}
	}
	if strings.Contains(name, "@") {
		// name@sha256:digest: the store's names carry no digest; libimage
		// matches the repository and the image's digests, as `buildah from`
		// and every buildah image command do.  A list stays a list here.
		return byDigest(st, name)
	}
	candidates, err := shortnames.ResolveLocally(st.Sys(), name)
	if err != nil {
		return nil, errkind.Wrap(errkind.InvalidReference, fmt.Errorf("parsing image reference %q: %w", name, err))
	}
	for _, candidate := range candidates {
		if img, err := st.Store.Image(candidate.String()); err == nil {
			return img, nil
		}
	}
	return nil, errkind.New(errkind.ImageNotFound, "image %q not found in the store", name)
}

// byDigest finds an image named repository@digest through libimage.
func byDigest(st *store.State, name string) (*storage.Image, error) {
	runtime, err := Runtime(st, st.Sys())
	if err != nil {
		return nil, err
	}
	found, _, err := runtime.LookupImage(name, &libimage.LookupImageOptions{ManifestList: true})
	if err != nil {
		if errors.Is(err, storage.ErrImageUnknown) {
			return nil, errkind.New(errkind.ImageNotFound, "image %q not found in the store", name)
		}
		return nil, errkind.Wrap(errkind.InvalidReference, fmt.Errorf("parsing image reference %q: %w", name, err))
	}
	return found.StorageImage(), nil
}

// ResolveImage is ResolveLocal, except that a manifest list gives its
// instance for this machine's platform, as Builder() (libimage) picks it:
// what a look-up that must return one image (Store.image, exists) needs.
func ResolveImage(st *store.State, name string) (*storage.Image, error) {
	img, err := ResolveLocal(st, name)
	if err != nil || !IsList(st, img) {
		return img, err
	}
	runtime, err := Runtime(st, st.Sys())
	if err != nil {
		return nil, err
	}
	instance, _, err := runtime.LookupImage(img.ID, nil)
	if err != nil {
		return nil, errkind.Wrap(errkind.ImageNotFound, fmt.Errorf("manifest list %s has no image for this platform in the store: %w", firstName(img), err))
	}
	return instance.StorageImage(), nil
}

// ParseDestination turns a commit target into an image reference.  A
// reference with a transport goes there; anything else names an image in
// the store, with unqualified names placed under localhost/.
func ParseDestination(st *store.State, sys *types.SystemContext, dest string) (types.ImageReference, error) {
	if dest == "" {
		return nil, nil
	}
	if err := validate.Destination(dest); err != nil {
		return nil, err
	}
	if ref, err := alltransports.ParseImageName(dest); err == nil {
		if ref.Transport().Name() == is.Transport.Name() {
			return is.Transport.ParseStoreReference(st.Store, strings.TrimPrefix(dest, "containers-storage:"))
		}
		return ref, nil
	} else if HasTransportPrefix(dest) {
		return nil, errkind.Wrap(errkind.InvalidReference, err)
	}
	candidates, err := shortnames.ResolveLocally(sys, dest)
	if err != nil {
		return nil, errkind.Wrap(errkind.InvalidReference, fmt.Errorf("parsing image name %q: %w", dest, err))
	}
	if len(candidates) == 0 {
		return nil, errkind.New(errkind.InvalidReference, "parsing image name %q", dest)
	}
	ref, err := is.Transport.ParseStoreReference(st.Store, candidates[0].String())
	if err != nil {
		return nil, errkind.Wrap(errkind.InvalidReference, fmt.Errorf("parsing image name %q: %w", dest, err))
	}
	return ref, nil
}

// HasTransportPrefix reports whether s starts with a known transport name.
func HasTransportPrefix(s string) bool {
	name, _, ok := strings.Cut(s, ":")
	return ok && transports.Get(name) != nil
}

// External reports whether ref names an image outside the store.
func External(ref string) bool {
	return HasTransportPrefix(ref) && !strings.HasPrefix(ref, is.Transport.Name()+":")
}

// TransportName is how a reference is written with its transport.
func TransportName(ref types.ImageReference) string { return transports.ImageName(ref) }

// Runtime is libimage's view of a store with the given system context.
func Runtime(st *store.State, sys *types.SystemContext) (*libimage.Runtime, error) {
	return libimage.RuntimeFromStore(st.Store, &libimage.RuntimeOptions{SystemContext: sys})
}

// lookup finds a local image through libimage, which applies the same
// name rules as Buildah's and Podman's image commands.
func lookup(st *store.State, name string) (*libimage.Runtime, *libimage.Image, error) {
	img, err := ResolveLocal(st, name)
	if err != nil {
		return nil, nil, err
	}
	runtime, err := Runtime(st, st.Sys())
	if err != nil {
		return nil, nil, err
	}
	found, _, err := runtime.LookupImage(img.ID, nil)
	if err != nil {
		return nil, nil, errkind.Image(name, err)
	}
	return runtime, found, nil
}

// StoreReference names an image of this store as a containers-storage:
// reference that says which store (a bare "containers-storage:ID" is looked
// up in the transport's default store).
func StoreReference(st *store.State, id string) (string, error) {
	ref, err := is.Transport.NewStoreReference(st.Store, nil, id)
	if err != nil {
		return "", err
	}
	return TransportName(ref), nil
}
