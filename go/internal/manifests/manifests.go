// Package manifests is `buildah manifest`: manifest lists (image indexes)
// in a store, made, changed, inspected and pushed through libimage's
// ManifestList, the layer under `buildah manifest` and `podman manifest`.
package manifests

import (
	"context"
	"encoding/json"
	"errors"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/common/libimage"
	"go.podman.io/common/libimage/define"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/transports/alltransports"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/images"
	"pybuildah.dev/shim/internal/interrupt"
	"pybuildah.dev/shim/internal/store"
	"pybuildah.dev/shim/internal/sysctx"
	"pybuildah.dev/shim/internal/wire"
)

// Create makes an empty manifest list (buildah manifest create).
func Create(st *store.State, o wire.ManifestOptions) (*wire.ManifestList, error) {
	if o.List == "" {
		return nil, errkind.New(errkind.InvalidReference, "a manifest list name is required")
	}
	runtime, err := images.Runtime(st, st.Sys())
	if err != nil {
		return nil, err
	}
	list, err := runtime.CreateManifestList(o.List)
	if errors.Is(err, storage.ErrDuplicateName) {
		return nil, errkind.New(errkind.InvalidArgument, "an image or manifest list named %q already exists", o.List)
	}
	if err != nil {
		return nil, errkind.Wrap(errkind.InvalidReference, err)
	}
	return describe(list, o.List)
}

// openList opens the store's image runtime with sys and finds the manifest
// list there by name or ID.
func openList(st *store.State, sys *types.SystemContext, name string) (*libimage.Runtime, *libimage.ManifestList, error) {
	runtime, err := images.Runtime(st, sys)
	if err != nil {
		return nil, nil, err
	}
	list, err := Lookup(runtime, name)
	return runtime, list, err
}

// Lookup finds a manifest list in the store by name or ID.
func Lookup(runtime *libimage.Runtime, name string) (*libimage.ManifestList, error) {
	if name == "" {
		return nil, errkind.New(errkind.InvalidReference, "a manifest list name is required")
	}
	list, err := runtime.LookupManifestList(name)
	switch {
	case errors.Is(err, libimage.ErrNotAManifestList):
		return nil, errkind.New(errkind.InvalidArgument, "%q is an image, not a manifest list", name)
	case errors.Is(err, storage.ErrImageUnknown):
		return nil, errkind.New(errkind.ImageNotFound, "no manifest list named %q in the store", name)
	}
	return list, err
}

// Add adds an image (local, or behind any transport; every image of a list
// with o.All) and returns the new entry's digest (buildah manifest add).
func Add(st *store.State, o wire.ManifestAddOptions) (*wire.ManifestChange, error) {
	if o.Image == "" {
		return nil, errkind.New(errkind.InvalidReference, "an image to add is required")
	}
	reg, err := sysctx.ForRegistry(st.SystemContext(), o.RegistryOptions)
	if err != nil {
		return nil, err
	}
	_, list, err := openList(st, reg.Sys, o.List)
	if err != nil {
		return nil, err
	}
	name := o.Image
	if !images.External(name) {
		// A local image wins, as in buildah manifest create: no registry is asked.
		if img, err := images.ResolveLocal(st, name); err == nil {
			if name, err = images.StoreReference(st, img.ID); err != nil {
				return nil, err
			}
		}
	}
	call, err := interrupt.Begin(o.CallID())
	if err != nil {
		return nil, err
	}
	defer call.End()
	instance, err := list.Add(call.Context(), name, &libimage.ManifestListAddOptions{All: o.All})
	if err != nil {
		return nil, errkind.Redact(errkind.Image(o.Image, err), reg.Secrets())
	}
	if err := annotate(list, &instance, o.EntryPlatform); err != nil {
		return nil, err
	}
	return &wire.ManifestChange{ID: list.ID(), Digest: instance.String()}, nil
}

// Annotate sets an entry's platform and annotations, or the list's own
// annotations without an instance (buildah manifest annotate [--index]).
func Annotate(st *store.State, o wire.ManifestAnnotateOptions) (*wire.ManifestChange, error) {
	_, list, err := openList(st, st.Sys(), o.List)
	if err != nil {
		return nil, err
	}
	if o.Instance == "" {
		if o.OS != "" || o.Arch != "" || o.Variant != "" {
			return nil, errkind.New(errkind.InvalidArgument, "os, arch and variant describe an entry: name its digest or image")
		}
		err := list.AnnotateInstance("", &libimage.ManifestListAnnotateOptions{IndexAnnotations: o.Annotations})
		return &wire.ManifestChange{ID: list.ID()}, errkind.Wrap(errkind.InvalidArgument, err)
	}
	instance, err := instanceOf(st, list, o.Instance)
	if err != nil {
		return nil, err
	}
	if err := annotate(list, &instance, o.EntryPlatform); err != nil {
		return nil, err
	}
	return &wire.ManifestChange{ID: list.ID(), Digest: instance.String()}, nil
}

func annotate(list *libimage.ManifestList, instance *digest.Digest, p wire.EntryPlatform) error {
	if p.OS == "" && p.Arch == "" && p.Variant == "" && len(p.Annotations) == 0 {
		return nil
	}
	err := list.AnnotateInstance(*instance, &libimage.ManifestListAnnotateOptions{
		OS: p.OS, Architecture: p.Arch, Variant: p.Variant, Annotations: p.Annotations,
	})
	return errkind.Wrap(errkind.InvalidArgument, err)
}

// Remove takes an entry out of the list (buildah manifest remove).
func Remove(st *store.State, o wire.ManifestRemoveOptions) (*wire.ManifestChange, error) {
	_, list, err := openList(st, st.Sys(), o.List)
	if err != nil {
		return nil, err
	}
	instance, err := instanceOf(st, list, o.Instance)
	if err != nil {
		return nil, err
	}
	if err := list.RemoveInstance(instance); err != nil {
		return nil, errkind.Wrap(errkind.ImageNotFound, err)
	}
	return &wire.ManifestChange{ID: list.ID(), Digest: instance.String()}, nil
}

// instanceOf turns a digest or a local image into the digest of an entry
// of the list.
func instanceOf(st *store.State, list *libimage.ManifestList, spec string) (digest.Digest, error) {
	if spec == "" {
		return "", errkind.New(errkind.InvalidArgument, "an entry (digest or image) is required")
	}
	d, err := digest.Parse(spec)
	if err != nil {
		img, lookupErr := images.ResolveLocal(st, spec)
		if lookupErr != nil {
			return "", errkind.New(errkind.ImageNotFound, "%q is neither a digest nor an image in the store", spec)
		}
		d = img.Digest
	}
	data, err := list.Inspect()
	if err != nil {
		return "", err
	}
	for _, entry := range data.Manifests {
		if entry.Digest == d {
			return d, nil
		}
	}
	return "", errkind.New(errkind.ImageNotFound, "manifest list %q has no entry %s", list.ID(), d)
}

// Inspect describes a manifest list in the store, or one behind a
// transport (docker://...).
func Inspect(st *store.State, o wire.ManifestInspectOptions) (*wire.ManifestList, error) {
	reg, err := sysctx.ForRegistry(st.SystemContext(), o.RegistryOptions)
	if err != nil {
		return nil, err
	}
	if images.External(o.List) {
		call, err := interrupt.Begin(o.CallID())
		if err != nil {
			return nil, err
		}
		defer call.End()
		out, err := inspectExternal(call.Context(), reg, o.List)
		return out, errkind.Redact(err, reg.Secrets())
	}
	_, list, err := openList(st, reg.Sys, o.List)
	if err != nil {
		return nil, err
	}
	return describe(list, o.List)
}

// describe is the record of a list in the store; Raw is what
// `buildah manifest inspect` prints for it.
func describe(list *libimage.ManifestList, name string) (*wire.ManifestList, error) {
	data, err := list.Inspect()
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	return fromInspect(list.ID(), name, data, raw), nil
}

// fromInspect turns libimage's inspect data into the wire record.
func fromInspect(id, name string, data *define.ManifestListData, raw []byte) *wire.ManifestList {
	out := &wire.ManifestList{ID: id, Name: name, MediaType: data.MediaType, SchemaVersion: data.SchemaVersion,
		Annotations: data.Annotations, Entries: []wire.ManifestEntry{}, Raw: raw}
	for _, m := range data.Manifests {
		out.Entries = append(out.Entries, wire.ManifestEntry{
			Digest: m.Digest.String(), MediaType: m.MediaType, Size: m.Size, OS: m.Platform.OS,
			Architecture: m.Platform.Architecture, Variant: m.Platform.Variant, Annotations: m.Annotations,
		})
	}
	return out
}

// inspectExternal reads a list behind a transport, as buildah manifest
// inspect does for a name that is not a local list.
func inspectExternal(ctx context.Context, reg *sysctx.Registry, spec string) (*wire.ManifestList, error) {
	ref, err := alltransports.ParseImageName(spec)
	if err != nil {
		return nil, errkind.Wrap(errkind.InvalidReference, err)
	}
	src, err := ref.NewImageSource(ctx, reg.Sys)
	if err != nil {
		return nil, errkind.Image(spec, err)
	}
	defer src.Close()
	raw, mimeType, err := image.UnparsedInstance(src, nil).Manifest(ctx)
	if err != nil {
		return nil, errkind.Image(spec, err)
	}
	if !manifest.MIMETypeIsMultiImage(mimeType) {
		return nil, errkind.New(errkind.InvalidArgument, "%s is a single image (%s), not a manifest list", spec, mimeType)
	}
	return FromBlob(spec, raw, mimeType)
}

// FromBlob reads a serialized OCI index or Docker manifest list.
func FromBlob(name string, raw []byte, mimeType string) (*wire.ManifestList, error) {
	list, err := manifest.ListFromBlob(raw, mimeType)
	if err != nil {
		return nil, errkind.Wrap(errkind.InvalidArgument, err)
	}
	var header struct {
		SchemaVersion int               `json:"schemaVersion"`
		Annotations   map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(raw, &header); err != nil {
		return nil, errkind.Wrap(errkind.InvalidArgument, err)
	}
	listDigest, err := manifest.Digest(raw)
	if err != nil {
		return nil, err
	}
	out := &wire.ManifestList{ID: listDigest.String(), Name: name, MediaType: list.MIMEType(), SchemaVersion: header.SchemaVersion,
		Annotations: header.Annotations, Entries: []wire.ManifestEntry{}, Raw: raw}
	for _, d := range list.Instances() {
		instance, err := list.Instance(d)
		if err != nil {
			return nil, err
		}
		entry := wire.ManifestEntry{Digest: d.String(), MediaType: instance.MediaType, Size: instance.Size,
			Annotations: instance.ReadOnly.Annotations}
		if p := instance.ReadOnly.Platform; p != nil {
			entry.OS, entry.Architecture, entry.Variant = p.OS, p.Architecture, p.Variant
		}
		out.Entries = append(out.Entries, entry)
	}
	return out, nil
}

// Delete removes the list from the store, not the images it lists
// (buildah manifest rm).
func Delete(st *store.State, o wire.ManifestOptions) (*wire.ManifestChange, error) {
	runtime, list, err := openList(st, st.Sys(), o.List)
	if err != nil {
		return nil, err
	}
	_, errs := runtime.RemoveImages(context.Background(), []string{list.ID()},
		&libimage.RemoveImagesOptions{LookupManifest: true, Filters: []string{"readonly=false"}})
	return &wire.ManifestChange{ID: list.ID()}, errors.Join(errs...)
}
