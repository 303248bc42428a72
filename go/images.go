package main

import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.podman.io/buildah"
	"go.podman.io/buildah/define"
	"go.podman.io/common/libimage"

	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/shortnames"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/transports"
	"go.podman.io/image/v5/transports/alltransports"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/archive"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// resolveLocalImage finds an image in the store by ID, ID prefix, full
// name or short name.
func resolveLocalImage(st *storeState, name string) (*storage.Image, error) {
	if name == "" {
		return nil, kindf("InvalidReference", "an image reference is required")
	}
	name = strings.TrimPrefix(name, "containers-storage:")
	if img, err := st.store.Image(name); err == nil {
		return img, nil
	}
	candidates, err := shortnames.ResolveLocally(st.systemContext(), name)
	if err != nil {
		return nil, withKind("InvalidReference", fmt.Errorf("parsing image reference %q: %w", name, err))
	}
	for _, candidate := range candidates {
		if img, err := st.store.Image(candidate.String()); err == nil {
			return img, nil
		}
	}
	return nil, kindf("ImageNotFound", "image %q not found in the store", name)
}

// parseDestination turns a commit target into an image reference.  A
// reference with a transport goes there; anything else names an image in
// the store, with unqualified names placed under localhost/.
func parseDestination(st *storeState, sys *types.SystemContext, dest string) (types.ImageReference, error) {
	if dest == "" {
		return nil, nil
	}
	if ref, err := alltransports.ParseImageName(dest); err == nil {
		if ref.Transport().Name() == is.Transport.Name() {
			return is.Transport.ParseStoreReference(st.store, strings.TrimPrefix(dest, "containers-storage:"))
		}
		return ref, nil
	} else if hasTransportPrefix(dest) {
		return nil, withKind("InvalidReference", err)
	}
	candidates, err := shortnames.ResolveLocally(sys, dest)
	if err != nil {
		return nil, withKind("InvalidReference", fmt.Errorf("parsing image name %q: %w", dest, err))
	}
	if len(candidates) == 0 {
		return nil, kindf("InvalidReference", "parsing image name %q", dest)
	}
	ref, err := is.Transport.ParseStoreReference(st.store, candidates[0].String())
	if err != nil {
		return nil, withKind("InvalidReference", fmt.Errorf("parsing image name %q: %w", dest, err))
	}
	return ref, nil
}

// hasTransportPrefix reports whether s starts with a known transport name.
func hasTransportPrefix(s string) bool {
	name, _, ok := strings.Cut(s, ":")
	return ok && transports.Get(name) != nil
}

func transportName(ref types.ImageReference) string { return transports.ImageName(ref) }

func parseCompression(name string) (archive.Compression, error) {
	switch name {
	case "":
		return archive.Uncompressed, nil
	case "gzip":
		return archive.Gzip, nil
	case "zstd":
		return archive.Zstd, nil
	case "none":
		return archive.Uncompressed, nil
	}
	return archive.Uncompressed, kindf("InvalidArgument", "unknown compression %q (expected gzip or zstd)", name)
}

func unixTime(seconds int64) time.Time { return time.Unix(seconds, 0).UTC() }

// imageInfo is what Python's Image is built from.
type imageInfo struct {
	ID           string            `json:"id"`
	Names        []string          `json:"names"`
	Digest       string            `json:"digest"`
	Digests      []string          `json:"digests"`
	Size         int64             `json:"size"`
	Created      time.Time         `json:"created"`
	Config       v1.ImageConfig    `json:"config"`
	History      []v1.History      `json:"history"`
	Layers       []string          `json:"layers"`
	OS           string            `json:"os"`
	Architecture string            `json:"architecture"`
	Annotations  map[string]string `json:"annotations"`
	ManifestType string            `json:"manifest_type"`
	Manifest     json.RawMessage   `json:"manifest"`
	OCIConfig    *v1.Image         `json:"oci_config"`
}

// inspectReference reads the manifest and config of any image reference.
func inspectReference(sys *types.SystemContext, ref types.ImageReference) (*imageInfo, error) {
	ctx := context.Background()
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
	info := &imageInfo{
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

// inspectImage inspects an image in the store, with its names and size.
func inspectImage(st *storeState, img *storage.Image) (*imageInfo, error) {
	ref, err := is.Transport.NewStoreReference(st.store, nil, img.ID)
	if err != nil {
		return nil, err
	}
	info, err := inspectReference(st.systemContext(), ref)
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
	if size, err := st.store.ImageSize(img.ID); err == nil {
		info.Size = size
	}
	if info.Created.IsZero() {
		info.Created = img.Created
	}
	return info, nil
}

type imageRefOptions struct {
	storeRef
	registryOptions        // for references to registries
	Ref             string `json:"ref"`
}

// inspectExternal inspects a reference outside the store (a registry or an
// archive) with the caller's registry options.
func inspectExternal(st *storeState, o imageRefOptions) (*imageInfo, error) {
	ref, err := alltransports.ParseImageName(o.Ref)
	if err != nil {
		return nil, withKind("InvalidReference", err)
	}
	sys, err := o.systemContext(st)
	if err != nil {
		return nil, err
	}
	info, err := inspectReference(sys, ref)
	if err != nil {
		return nil, redacted(classifyImageError(o.Ref, err), o.secrets())
	}
	return info, nil
}

//export PyBuildahInspectImage
func PyBuildahInspectImage(args *C.char) *C.char {
	return withState(args, func(st *storeState, o imageRefOptions) (any, error) {
		if hasTransportPrefix(o.Ref) && !strings.HasPrefix(o.Ref, is.Transport.Name()+":") {
			return inspectExternal(st, o)
		}
		img, err := resolveLocalImage(st, o.Ref)
		if err != nil {
			return nil, err
		}
		return inspectImage(st, img)
	})
}

//export PyBuildahListImages
func PyBuildahListImages(args *C.char) *C.char {
	return withState(args, func(st *storeState, o storeRef) (any, error) {
		images, err := st.store.Images()
		if err != nil {
			return nil, err
		}
		out := make([]*imageInfo, 0, len(images))
		for i := range images {
			info, err := inspectImage(st, &images[i])
			if err != nil {
				if errors.Is(err, storage.ErrImageUnknown) {
					continue // removed while we listed
				}
				return nil, err
			}
			out = append(out, info)
		}
		return out, nil
	})
}

// lookupImage finds a local image through libimage, which applies the same
// name rules as Buildah's and Podman's image commands.
func lookupImage(st *storeState, name string) (*libimage.Runtime, *libimage.Image, error) {
	img, err := resolveLocalImage(st, name)
	if err != nil {
		return nil, nil, err
	}
	runtime, err := newRuntime(st, st.systemContext())
	if err != nil {
		return nil, nil, err
	}
	found, _, err := runtime.LookupImage(img.ID, nil)
	if err != nil {
		return nil, nil, classifyImageError(name, err)
	}
	return runtime, found, nil
}

type tagOptions struct {
	imageRefOptions
	Names []string `json:"names"`
}

// PyBuildahTagImage adds names to an image; unqualified names go under
// localhost/, and a name without a tag gets :latest.
//
//export PyBuildahTagImage
func PyBuildahTagImage(args *C.char) *C.char {
	return withState(args, func(st *storeState, o tagOptions) (any, error) {
		_, img, err := lookupImage(st, o.Ref)
		if err != nil {
			return nil, err
		}
		if len(o.Names) == 0 {
			return nil, kindf("InvalidArgument", "no name given")
		}
		for _, name := range o.Names {
			if err := img.Tag(name); err != nil {
				return nil, withKind("InvalidReference", err)
			}
		}
		return img.Names(), nil
	})
}

// PyBuildahUntagImage removes names from an image; the image stays.
//
//export PyBuildahUntagImage
func PyBuildahUntagImage(args *C.char) *C.char {
	return withState(args, func(st *storeState, o tagOptions) (any, error) {
		_, img, err := lookupImage(st, o.Ref)
		if err != nil {
			return nil, err
		}
		for _, name := range o.Names {
			if err := img.Untag(name); err != nil {
				if strings.Contains(err.Error(), "tag not known") {
					return nil, kindf("ImageNotFound", "image %s has no name %q", img.ID(), name)
				}
				return nil, withKind("InvalidReference", err)
			}
		}
		return img.Names(), nil
	})
}

type removeOptions struct {
	imageRefOptions
	Force bool `json:"force"`
}

type removeReport struct {
	ID       string   `json:"id"`
	Untagged []string `json:"untagged"`
	Removed  bool     `json:"removed"`
}

// PyBuildahRemoveImage removes an image, as `buildah rmi`: a name that is
// one of several only loses that name; force also removes the working
// containers that use the image.
//
//export PyBuildahRemoveImage
func PyBuildahRemoveImage(args *C.char) *C.char {
	return withState(args, func(st *storeState, o removeOptions) (any, error) {
		if _, err := resolveLocalImage(st, o.Ref); err != nil {
			return nil, err
		}
		runtime, err := newRuntime(st, st.systemContext())
		if err != nil {
			return nil, err
		}
		ref := strings.TrimPrefix(o.Ref, "containers-storage:")
		reports, errs := runtime.RemoveImages(context.Background(), []string{ref}, &libimage.RemoveImagesOptions{Force: o.Force})
		if len(errs) > 0 {
			err := errors.Join(errs...)
			msg := err.Error()
			switch {
			case errors.Is(err, storage.ErrImageUsedByContainer), strings.Contains(msg, "used by"):
				return nil, withKind("ImageInUse", err)
			case strings.Contains(msg, "please force removal"):
				return nil, withKind("ImageInUse", err)
			case strings.Contains(msg, "read-only"):
				return nil, withKind("StoreError", err)
			}
			return nil, err
		}
		out := make([]removeReport, 0, len(reports))
		for _, r := range reports {
			untagged := r.Untagged
			if untagged == nil {
				untagged = []string{}
			}
			out = append(out, removeReport{ID: r.ID, Untagged: untagged, Removed: r.Removed})
		}
		return out, nil
	})
}

type saveOptions struct {
	imageRefOptions
	Path   string `json:"path"`
	Format string `json:"format"`
	Stream uint64 `json:"stream"`
}

// PyBuildahSaveImage writes an image to an archive or a directory.
//
//export PyBuildahSaveImage
func PyBuildahSaveImage(args *C.char) *C.char {
	return withState(args, func(st *storeState, o saveOptions) (any, error) {
		if o.Path == "" {
			return nil, kindf("InvalidArgument", "a path to save to is required")
		}
		format := map[string]string{
			"": "oci-archive", "oci-archive": "oci-archive", "docker-archive": "docker-archive",
			"oci": "oci-dir", "oci-dir": "oci-dir", "dir": "docker-dir", "docker-dir": "docker-dir",
		}[o.Format]
		if format == "" {
			return nil, kindf("InvalidArgument", "unknown archive format %q (expected oci-archive, docker-archive, oci or dir)", o.Format)
		}
		runtime, img, err := lookupImage(st, o.Ref)
		if err != nil {
			return nil, err
		}
		name := img.ID()
		var tags []string
		if ref := strings.TrimPrefix(o.Ref, "containers-storage:"); !strings.HasPrefix(img.ID(), ref) && !strings.HasPrefix(ref, "sha256:") {
			name = ref // keeps the name in docker archives
		} else if names := img.Names(); len(names) > 0 && format == "docker-archive" {
			tags = names[:1]
		}
		progress, stop := progressChannel(o.Stream)
		defer stop()
		options := &libimage.SaveOptions{AdditionalTags: tags}
		options.Progress = progress
		options.PolicyAllowStorage = true
		err = runtime.Save(context.Background(), []string{name}, format, o.Path, options)
		stop()
		if err != nil {
			return nil, err
		}
		return nil, nil
	})
}

type loadOptions struct {
	storeRef
	Path   string `json:"path"`
	Stream uint64 `json:"stream"`
}

// PyBuildahLoadImage reads the images of an archive or a directory into
// the store (oci-archive, docker-archive, oci or dir layouts).
//
//export PyBuildahLoadImage
func PyBuildahLoadImage(args *C.char) *C.char {
	return withState(args, func(st *storeState, o loadOptions) (any, error) {
		if _, err := os.Stat(o.Path); err != nil {
			return nil, kindf("SourceNotFound", "loading %q: %v", o.Path, errors.Unwrap(err))
		}
		runtime, err := newRuntime(st, st.systemContext())
		if err != nil {
			return nil, err
		}
		progress, stop := progressChannel(o.Stream)
		defer stop()
		options := &libimage.LoadOptions{}
		options.Progress = progress
		options.PolicyAllowStorage = true
		names, err := runtime.Load(context.Background(), o.Path, options)
		stop()
		if err != nil {
			return nil, withKind("InvalidArgument", fmt.Errorf("%s is not an image archive or layout that pybuildah can load: %w", o.Path, err))
		}
		out := make([]*imageInfo, 0, len(names))
		for _, name := range names {
			img, err := resolveLocalImage(st, name)
			if err != nil {
				return nil, err
			}
			info, err := inspectImage(st, img)
			if err != nil {
				return nil, err
			}
			out = append(out, info)
		}
		return out, nil
	})
}

// PyBuildahInspectBuildInfo returns what `buildah inspect --type image`
// prints for an image in the store; for other transports the same keys are
// filled from the image's manifest and configuration.
//
//export PyBuildahInspectBuildInfo
func PyBuildahInspectBuildInfo(args *C.char) *C.char {
	return withState(args, func(st *storeState, o imageRefOptions) (any, error) {
		if hasTransportPrefix(o.Ref) && !strings.HasPrefix(o.Ref, is.Transport.Name()+":") {
			info, err := inspectExternal(st, o)
			if err != nil {
				return nil, err
			}
			return externalBuildInfo(o.Ref, info)
		}
		img, err := resolveLocalImage(st, o.Ref)
		if err != nil {
			return nil, err
		}
		b, err := buildah.ImportBuilderFromImage(context.Background(), st.store, buildah.ImportFromImageOptions{
			Image: img.ID, SystemContext: st.systemContext(),
		})
		if err != nil {
			return nil, err
		}
		return buildah.GetBuildInfo(b), nil
	})
}

func externalBuildInfo(ref string, info *imageInfo) (buildah.BuilderInfo, error) {
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
