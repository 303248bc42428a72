package images

import (
	"context"
	"encoding/json"
	"errors"
	"os"

	"github.com/sirupsen/logrus"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/buildah"
	"go.podman.io/buildah/define"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/transports/alltransports"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/interrupt"
	"pybuildah.dev/shim/internal/store"
	"pybuildah.dev/shim/internal/sysctx"
	"pybuildah.dev/shim/internal/wire"
)

// inspectReference reads the manifest and config of any image reference.
func inspectReference(ctx context.Context, sys *types.SystemContext, ref types.ImageReference) (*wire.ImageInfo, error) {
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	manifestBytes, manifestType, err := src.GetManifest(ctx, nil)
	if err != nil {
		return nil, err
	}
	parsed, err := image.FromUnparsedImage(ctx, sys, image.UnparsedInstance(src, nil))
	if err != nil {
		return nil, err
	}
	config, err := parsed.OCIConfig(ctx)
	if err != nil {
		return nil, err
	}
	manifestDigest, err := manifest.Digest(manifestBytes)
	if err != nil {
		return nil, err
	}
	info := &wire.ImageInfo{
		ID: parsed.ConfigInfo().Digest.Encoded(), Names: []string{}, Digest: manifestDigest.String(), Size: -1,
		Config: config.Config, History: config.History, OS: config.OS, Architecture: config.Architecture,
		ManifestType: manifestType, Manifest: manifestBytes, OCIConfig: config, Layers: []string{},
	}
	if config.Created != nil {
		info.Created = *config.Created
	}
	for _, d := range config.RootFS.DiffIDs {
		info.Layers = append(info.Layers, d.String())
	}
	if manifestType == v1.MediaTypeImageManifest {
		var m v1.Manifest
		if json.Unmarshal(manifestBytes, &m) == nil {
			info.Annotations = m.Annotations
		}
	}
	return info, nil
}

// IsList reports whether a stored image is a manifest list (an index of
// images, with no config or layers of its own).
func IsList(st *store.State, img *storage.Image) bool {
	raw, err := st.Store.ImageBigData(img.ID, storage.ImageDigestBigDataKey)
	return err == nil && manifest.MIMETypeIsMultiImage(manifest.GuessMIMEType(raw))
}

// InspectStored inspects an image in the store, with its names and size.
func InspectStored(st *store.State, img *storage.Image) (*wire.ImageInfo, error) {
	if IsList(st, img) {
		return nil, errkind.New(errkind.InvalidArgument, "%s is a manifest list, not an image: use pybuildah.Manifest", firstName(img))
	}
	ref, err := is.Transport.NewStoreReference(st.Store, nil, img.ID)
	if err != nil {
		return nil, err
	}
	info, err := inspectReference(context.Background(), st.Sys(), ref)
	if err != nil {
		return nil, err
	}
	info.ID = img.ID
	if img.Names != nil {
		info.Names = img.Names
	}
	if img.Digest != "" {
		info.Digest = img.Digest.String()
	}
	info.Digests = []string{}
	for _, d := range img.Digests {
		info.Digests = append(info.Digests, d.String())
	}
	if size, err := st.Store.ImageSize(img.ID); err == nil {
		info.Size = size
	}
	if info.Created.IsZero() {
		info.Created = img.Created
	}
	return info, nil
}

// inspectExternal inspects a reference outside the store (a registry or an
// archive) with the caller's registry options; cancelling ctx stops it.
func inspectExternal(ctx context.Context, reg *sysctx.Registry, ref string) (*wire.ImageInfo, error) {
	parsed, err := alltransports.ParseImageName(ref)
	if err != nil {
		return nil, errkind.Wrap(errkind.InvalidReference, err)
	}
	info, err := inspectReference(ctx, reg.Sys, parsed)
	if err != nil {
		return nil, errkind.Redact(errkind.Image(ref, err), reg.Secrets())
	}
	return info, nil
}

// Inspect describes an image in the store or behind a transport.
func Inspect(st *store.State, o wire.InspectOptions) (*wire.ImageInfo, error) {
	reg, err := sysctx.ForRegistry(st.SystemContext(), o.RegistryOptions)
	if err != nil {
		return nil, err
	}
	if External(o.Ref) {
		call, err := interrupt.Begin(o.CallID())
		if err != nil {
			return nil, err
		}
		defer call.End()
		return inspectExternal(call.Context(), reg, o.Ref)
	}
	img, err := ResolveImage(st, o.Ref)
	if err != nil {
		return nil, err
	}
	return InspectStored(st, img)
}

// List describes every image in the store, or those that pass the filters
// (`buildah images --filter`'s).  It waits for the store's locks when
// another process holds them; cancelling the call stops the wait
// (interrupt.Detach).
func List(st *store.State, o wire.ListOptions) ([]*wire.ImageInfo, error) {
	call, err := interrupt.Begin(o.CallID())
	if err != nil {
		return nil, err
	}
	defer call.End()
	st.Acquire() // the store stays open while the listing runs, even after a cancel
	return interrupt.Detach(call, func() ([]*wire.ImageInfo, error) { return list(st, o) }, nil, st.Release)
}

func list(st *store.State, o wire.ListOptions) ([]*wire.ImageInfo, error) {
	keep, err := filtered(st, o.Filters)
	if err != nil {
		return nil, err
	}
	images, err := st.Store.Images()
	if err != nil {
		return nil, err
	}
	out := make([]*wire.ImageInfo, 0, len(images))
	for i := range images {
		if keep != nil && !keep[images[i].ID] {
			continue
		}
		if IsList(st, &images[i]) {
			continue // a manifest list: pybuildah.Manifest, not an Image
		}
		info, err := InspectStored(st, &images[i])
		if err != nil {
			if errors.Is(err, storage.ErrImageUnknown) {
				continue // removed while we listed
			}
			if errors.Is(err, os.ErrNotExist) {
				// A record without its manifest: a commit whose process died before it
				// wrote it.  It is not an image yet; list the others.
				logrus.Warnf("skipping incomplete image %s: %v", images[i].ID, err)
				continue
			}
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// BuildInfo is what `buildah inspect --type image` prints for an image in
// the store; for other transports the same keys are filled from the
// image's manifest and configuration.
func BuildInfo(st *store.State, o wire.InspectOptions) (buildah.BuilderInfo, error) {
	reg, err := sysctx.ForRegistry(st.SystemContext(), o.RegistryOptions)
	if err != nil {
		return buildah.BuilderInfo{}, err
	}
	if External(o.Ref) {
		call, err := interrupt.Begin(o.CallID())
		if err != nil {
			return buildah.BuilderInfo{}, err
		}
		defer call.End()
		info, err := inspectExternal(call.Context(), reg, o.Ref)
		if err != nil {
			return buildah.BuilderInfo{}, err
		}
		return externalBuildInfo(o.Ref, info)
	}
	img, err := ResolveImage(st, o.Ref)
	if err != nil {
		return buildah.BuilderInfo{}, err
	}
	b, err := buildah.ImportBuilderFromImage(context.Background(), st.Store, buildah.ImportFromImageOptions{
		Image: img.ID, SystemContext: st.Sys(),
	})
	if err != nil {
		return buildah.BuilderInfo{}, err
	}
	return buildah.GetBuildInfo(b), nil
}

func externalBuildInfo(ref string, info *wire.ImageInfo) (buildah.BuilderInfo, error) {
	out := buildah.BuilderInfo{
		Type: "buildah 0.0.1", FromImage: ref, FromImageID: info.ID, FromImageDigest: info.Digest,
		Manifest: string(info.Manifest), ImageAnnotations: info.Annotations, History: info.History,
		Isolation: define.IsolationChroot.String(),
	}
	if info.OCIConfig != nil {
		out.OCIv1 = *info.OCIConfig
		config, err := json.Marshal(info.OCIConfig)
		if err != nil {
			return out, err
		}
		out.Config = string(config)
	}
	return out, nil
}

func firstName(img *storage.Image) string {
	if len(img.Names) > 0 {
		return img.Names[0]
	}
	return img.ID
}
