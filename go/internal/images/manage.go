package images

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.podman.io/common/libimage"

	"pybuildah.dev/shim/internal/enums"
	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/events"
	"pybuildah.dev/shim/internal/store"
	"pybuildah.dev/shim/internal/wire"
)

// Tag adds names to an image; unqualified names go under localhost/, and a
// name without a tag gets :latest.  It returns all the image's names.
func Tag(st *store.State, o wire.TagOptions) ([]string, error) {
	_, img, err := lookup(st, o.Ref)
	if err != nil {
		return nil, err
	}
	if len(o.Names) == 0 {
		return nil, errkind.New(errkind.InvalidArgument, "no name given")
	}
	for _, name := range o.Names {
		if err := img.Tag(name); err != nil {
			return nil, errkind.Wrap(errkind.InvalidReference, err)
		}
	}
	return img.Names(), nil
}

// Untag removes names from an image; the image stays.
func Untag(st *store.State, o wire.TagOptions) ([]string, error) {
	_, img, err := lookup(st, o.Ref)
	if err != nil {
		return nil, err
	}
	for _, name := range o.Names {
		if err := img.Untag(name); err != nil {
			if errkind.TagUnknown(err) {
				return nil, errkind.New(errkind.ImageNotFound, "image %s has no name %q", img.ID(), name)
			}
			return nil, errkind.Wrap(errkind.InvalidReference, err)
		}
	}
	return img.Names(), nil
}

// Remove removes an image, as `buildah rmi`: a name that is one of several
// only loses that name; force also removes the working containers that
// use the image.
func Remove(st *store.State, o wire.RemoveOptions) ([]wire.RemovalReport, error) {
	_, img, err := lookup(st, o.Ref)
	if err != nil {
		return nil, err
	}
	if img.IsReadOnly() {
		return nil, errkind.New(errkind.StoreError, "cannot remove read-only image %q", img.ID())
	}
	runtime, err := Runtime(st, st.Sys())
	if err != nil {
		return nil, err
	}
	ref := strings.TrimPrefix(o.Ref, "containers-storage:")
	if strings.Contains(ref, "@") {
		ref = img.ID() // a digest names the image, not one of its names: remove it as by ID
	}
	reports, errs := runtime.RemoveImages(context.Background(), []string{ref}, &libimage.RemoveImagesOptions{Force: o.Force})
	if len(errs) > 0 {
		err := errors.Join(errs...)
		if errkind.NeedsForce(err) {
			return nil, errkind.Wrap(errkind.ImageInUse, err)
		}
		return nil, err // storage.ErrImageUsedByContainer: ImageInUse by type
	}
	out := make([]wire.RemovalReport, 0, len(reports))
	for _, r := range reports {
		untagged := r.Untagged
		if untagged == nil {
			untagged = []string{}
		}
		out = append(out, wire.RemovalReport{ID: r.ID, Untagged: untagged, Removed: r.Removed})
	}
	return out, nil
}

// Save writes an image to an archive or a directory.
func Save(st *store.State, o wire.SaveOptions) (any, error) {
	if o.Path == "" {
		return nil, errkind.New(errkind.InvalidArgument, "a path to save to is required")
	}
	format, err := enums.SaveFormat(o.Format)
	if err != nil {
		return nil, err
	}
	runtime, img, err := lookup(st, o.Ref)
	if err != nil {
		return nil, err
	}
	// The archive records a name: the one asked for, or, for an image named
	// by ID or by digest (which an archive cannot record), the image's own
	// first name.
	name := img.ID()
	if ref := strings.TrimPrefix(o.Ref, "containers-storage:"); !strings.HasPrefix(img.ID(), ref) && !strings.HasPrefix(ref, "sha256:") && !strings.Contains(ref, "@") {
		name = ref
	} else if names := img.Names(); len(names) > 0 {
		name = names[0]
	}
	progress, stop := events.Progress(o.Stream)
	defer stop()
	options := &libimage.SaveOptions{}
	options.Progress = progress
	options.PolicyAllowStorage = true
	err = runtime.Save(context.Background(), []string{name}, format, string(o.Path), options)
	stop()
	return nil, err
}

// Load reads the images of an archive or a directory into the store
// (oci-archive, docker-archive, oci or dir layouts).
func Load(st *store.State, o wire.LoadOptions) ([]*wire.ImageInfo, error) {
	if _, err := os.Stat(string(o.Path)); err != nil {
		return nil, errkind.New(errkind.SourceNotFound, "loading %q: %v", o.Path, errors.Unwrap(err))
	}
	runtime, err := Runtime(st, st.Sys())
	if err != nil {
		return nil, err
	}
	progress, stop := events.Progress(o.Stream)
	defer stop()
	options := &libimage.LoadOptions{}
	options.Progress = progress
	options.PolicyAllowStorage = true
	names, err := runtime.Load(context.Background(), string(o.Path), options)
	stop()
	if err != nil {
		return nil, errkind.Wrap(errkind.InvalidArgument, fmt.Errorf("%s is not an image archive or layout that pybuildah can load: %w", o.Path, err))
	}
	out := make([]*wire.ImageInfo, 0, len(names))
	for _, name := range names {
		img, err := ResolveLocal(st, name)
		if err != nil {
			return nil, err
		}
		info, err := InspectStored(st, img)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// Prune removes the dangling images (no name, no child image), as `buildah
// rmi --prune` does, and returns their IDs.
func Prune(st *store.State) ([]string, error) {
	runtime, err := Runtime(st, st.Sys())
	if err != nil {
		return nil, err
	}
	reports, errs := runtime.RemoveImages(context.Background(), nil,
		&libimage.RemoveImagesOptions{Filters: []string{"readonly=false", "dangling=true"}})
	removed := []string{}
	for _, r := range reports {
		if r.Removed {
			removed = append(removed, r.ID)
		}
	}
	return removed, errors.Join(errs...)
}
