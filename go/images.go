package main

import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

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
	ConfigBlob   json.RawMessage   `json:"config_blob"` // as stored: Docker-format fields (Healthcheck, OnBuild, Shell) too
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
	configBlob, err := parsed.ConfigBlob(ctx)
	if err != nil {
		return nil, err
	}
	info := &imageInfo{
		ID: parsed.ConfigInfo().Digest.Encoded(), Names: []string{}, Digest: manifestDigest.String(), Size: -1,
		Config: config.Config, History: config.History, OS: config.OS, Architecture: config.Architecture,
		ManifestType: manifestType, Manifest: manifestBytes, OCIConfig: config, Layers: []string{},
		ConfigBlob: configBlob,
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
	Ref string `json:"ref"`
}

//export PyBuildahInspectImage
func PyBuildahInspectImage(args *C.char) *C.char {
	return call(args, func(o imageRefOptions) (any, error) {
		st, err := o.state()
		if err != nil {
			return nil, err
		}
		if hasTransportPrefix(o.Ref) && !strings.HasPrefix(o.Ref, is.Transport.Name()+":") {
			ref, err := alltransports.ParseImageName(o.Ref)
			if err != nil {
				return nil, withKind("InvalidReference", err)
			}
			info, err := inspectReference(st.systemContext(), ref)
			if err != nil {
				return nil, classifyImageError(o.Ref, err)
			}
			return info, nil
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
	return call(args, func(o storeRef) (any, error) {
		st, err := o.state()
		if err != nil {
			return nil, err
		}
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
