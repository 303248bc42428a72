// Package attach keeps an image's attestations (provenance; later SBOMs
// and signatures): in the store, as big-data items of the image, and in a
// registry, as OCI 1.1 artifacts whose subject is the image.  Registries
// without the referrers API (Debian's docker-registry among them) are
// served by the referrers tag fallback, as cosign and oras do: an index
// tagged sha256-<hex of the image's digest> lists the artifacts.
package attach

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/blobinfocache/none"
	"go.podman.io/image/v5/types"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/images"
	"pybuildah.dev/shim/internal/interrupt"
	"pybuildah.dev/shim/internal/store"
	"pybuildah.dev/shim/internal/sysctx"
	"pybuildah.dev/shim/internal/wire"
)

// Prefix starts the name of every big-data item that holds an attachment.
const Prefix = "pybuildah.attachment."

// empty is the OCI empty descriptor's content, an artifact's config.
var empty = []byte("{}")

// Stored sets the attachment kind of an image when data is given, and
// returns what the image holds under kind (nil when nothing).
func Stored(st *store.State, o wire.AttachmentOptions) (*string, error) {
	if o.Kind == "" || strings.ContainsAny(o.Kind, "/\x00") {
		return nil, errkind.New(errkind.InvalidArgument, "attachment kind %q: a plain name is required", o.Kind)
	}
	img, err := images.ResolveLocal(st, o.Image)
	if err != nil {
		return nil, err
	}
	if o.Data != nil {
		if err := st.Store.SetImageBigData(img.ID, Prefix+o.Kind, []byte(*o.Data), nil); err != nil {
			return nil, errkind.Wrap(errkind.StoreError, err)
		}
		return o.Data, nil
	}
	data, err := st.Store.ImageBigData(img.ID, Prefix+o.Kind)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, errkind.Wrap(errkind.StoreError, err)
	}
	text := string(data)
	return &text, nil
}

// Push writes data as an artifact whose subject is the image at o.Ref
// (repository@digest) and lists it in the subject's referrers tag.  It
// returns the artifact's descriptor.
func Push(st *store.State, o wire.AttachPushOptions) (*v1.Descriptor, error) {
	return withRegistry(st, o.RegistryOptions, o.CallID(), func(ctx context.Context, sys *types.SystemContext) (*v1.Descriptor, error) {
		return push(ctx, sys, o)
	})
}

// withRegistry runs do as an interruptible call (callID) with the system
// context of the registry options; its error is redacted of their secrets.
func withRegistry[T any](st *store.State, opts wire.RegistryOptions, callID uint64, do func(context.Context, *types.SystemContext) (T, error)) (T, error) {
	var zero T
	reg, err := sysctx.ForRegistry(st.SystemContext(), opts)
	if err != nil {
		return zero, err
	}
	call, err := interrupt.Begin(callID)
	if err != nil {
		return zero, err
	}
	defer call.End()
	out, err := do(call.Context(), reg.Sys)
	return out, errkind.Redact(err, reg.Secrets())
}

func push(ctx context.Context, sys *types.SystemContext, o wire.AttachPushOptions) (*v1.Descriptor, error) {
	repo, subjectDigest, err := parse(o.Ref)
	if err != nil {
		return nil, err
	}
	if o.ArtifactType == "" || o.MediaType == "" {
		return nil, errkind.New(errkind.InvalidArgument, "an artifact type and a media type are required")
	}
	subjectManifest, subjectType, err := getManifest(ctx, sys, repo, subjectDigest.String())
	if err != nil {
		return nil, err
	}
	data := []byte(o.Data)
	artifact := v1.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    v1.MediaTypeImageManifest,
		ArtifactType: o.ArtifactType,
		Config:       v1.DescriptorEmptyJSON,
		Layers:       []v1.Descriptor{{MediaType: o.MediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}},
		Subject:      &v1.Descriptor{MediaType: subjectType, Digest: subjectDigest, Size: int64(len(subjectManifest))},
		Annotations:  o.Annotations,
	}
	raw, err := json.Marshal(artifact)
	if err != nil {
		return nil, err
	}
	ref, err := docker.NewReferenceUnknownDigest(repo)
	if err != nil {
		return nil, errkind.Wrap(errkind.InvalidReference, err)
	}
	dest, err := ref.NewImageDestination(ctx, sys)
	if err != nil {
		return nil, errkind.Image(o.Ref, err)
	}
	defer dest.Close()
	for _, blob := range [][]byte{empty, data} {
		info := types.BlobInfo{Digest: digest.FromBytes(blob), Size: int64(len(blob))}
		if _, err := dest.PutBlob(ctx, bytes.NewReader(blob), info, none.NoCache, bytes.Equal(blob, empty)); err != nil {
			return nil, errkind.Image(o.Ref, err)
		}
	}
	if err := dest.PutManifest(ctx, raw, nil); err != nil {
		return nil, errkind.Image(o.Ref, err)
	}
	desc := v1.Descriptor{MediaType: v1.MediaTypeImageManifest, ArtifactType: o.ArtifactType,
		Digest: digest.FromBytes(raw), Size: int64(len(raw)), Annotations: o.Annotations}
	return &desc, addReferrer(ctx, sys, repo, subjectDigest, desc)
}

// addReferrer adds desc to the subject's referrers index (made if missing).
func addReferrer(ctx context.Context, sys *types.SystemContext, repo reference.Named, subject digest.Digest, desc v1.Descriptor) error {
	index, err := referrers(ctx, sys, repo, subject)
	if err != nil {
		return err
	}
	for _, listed := range index.Manifests {
		if listed.Digest == desc.Digest {
			return nil
		}
	}
	index.Manifests = append(index.Manifests, desc)
	raw, err := json.Marshal(index)
	if err != nil {
		return err
	}
	tagged, err := reference.WithTag(repo, FallbackTag(subject))
	if err != nil {
		return errkind.Wrap(errkind.InvalidReference, err)
	}
	ref, err := docker.NewReference(tagged)
	if err != nil {
		return errkind.Wrap(errkind.InvalidReference, err)
	}
	dest, err := ref.NewImageDestination(ctx, sys)
	if err != nil {
		return errkind.Image(tagged.String(), err)
	}
	defer dest.Close()
	if err := dest.PutManifest(ctx, raw, nil); err != nil {
		return errkind.Image(tagged.String(), err)
	}
	return nil
}

// FallbackTag is the referrers tag of a digest: sha256-<hex>.
func FallbackTag(d digest.Digest) string { return d.Algorithm().String() + "-" + d.Encoded() }

// referrers reads the subject's referrers index; empty when there is none.
func referrers(ctx context.Context, sys *types.SystemContext, repo reference.Named, subject digest.Digest) (*v1.Index, error) {
	index := &v1.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: v1.MediaTypeImageIndex, Manifests: []v1.Descriptor{}}
	raw, _, err := getManifest(ctx, sys, repo, FallbackTag(subject))
	if err != nil {
		if errkind.Describe(err).Kind == errkind.ImageNotFound {
			return index, nil
		}
		return nil, err
	}
	if err := json.Unmarshal(raw, index); err != nil {
		return nil, fmt.Errorf("reading the referrers index of %s: %w", subject, err)
	}
	return index, nil
}

// List returns the descriptors of the artifacts that name the image at
// o.Ref (repository@digest) as their subject, of one artifact type if given.
func List(st *store.State, o wire.ReferrersOptions) ([]v1.Descriptor, error) {
	return withRegistry(st, o.RegistryOptions, o.CallID(), func(ctx context.Context, sys *types.SystemContext) ([]v1.Descriptor, error) {
		repo, subject, err := parse(o.Ref)
		if err != nil {
			return nil, err
		}
		index, err := referrers(ctx, sys, repo, subject)
		if err != nil {
			return nil, err
		}
		out := []v1.Descriptor{}
		for _, desc := range index.Manifests {
			if o.ArtifactType == "" || desc.ArtifactType == o.ArtifactType {
				out = append(out, desc)
			}
		}
		return out, nil
	})
}

// Fetch reads the artifact at o.Ref (repository@digest of the artifact):
// its manifest and its first layer's content, checked against their
// digests and, when o.Subject is given, against the subject it must name.
func Fetch(st *store.State, o wire.FetchAttachmentOptions) (*wire.Attachment, error) {
	return withRegistry(st, o.RegistryOptions, o.CallID(), func(ctx context.Context, sys *types.SystemContext) (*wire.Attachment, error) {
		repo, artifactDigest, err := parse(o.Ref)
		if err != nil {
			return nil, err
		}
		return fetch(ctx, sys, repo, artifactDigest, o.Subject)
	})
}

func fetch(ctx context.Context, sys *types.SystemContext, repo reference.Named, artifactDigest digest.Digest, subject string) (*wire.Attachment, error) {
	raw, _, err := getManifest(ctx, sys, repo, artifactDigest.String())
	if err != nil {
		return nil, err
	}
	if digest.FromBytes(raw) != artifactDigest {
		return nil, errkind.New(errkind.ChecksumMismatch, "the artifact manifest of %s does not match its digest", artifactDigest)
	}
	var artifact v1.Manifest
	if err := json.Unmarshal(raw, &artifact); err != nil || len(artifact.Layers) == 0 {
		return nil, errkind.New(errkind.ChecksumMismatch, "%s is not an artifact with content", artifactDigest)
	}
	if subject != "" && (artifact.Subject == nil || artifact.Subject.Digest.String() != subject) {
		return nil, errkind.New(errkind.ChecksumMismatch, "the artifact %s does not name %s as its subject", artifactDigest, subject)
	}
	named, err := reference.WithDigest(repo, artifactDigest)
	if err != nil {
		return nil, errkind.Wrap(errkind.InvalidReference, err)
	}
	ref, err := docker.NewReference(named)
	if err != nil {
		return nil, errkind.Wrap(errkind.InvalidReference, err)
	}
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return nil, errkind.Image(repo.String(), err)
	}
	defer src.Close()
	layer := artifact.Layers[0]
	blob, _, err := src.GetBlob(ctx, types.BlobInfo{Digest: layer.Digest, Size: layer.Size}, none.NoCache)
	if err != nil {
		return nil, errkind.Image(repo.String(), err)
	}
	defer blob.Close()
	data, err := io.ReadAll(io.LimitReader(blob, maxAttachment+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxAttachment || digest.FromBytes(data) != layer.Digest {
		return nil, errkind.New(errkind.ChecksumMismatch, "the content of %s does not match its digest", artifactDigest)
	}
	return &wire.Attachment{Manifest: string(raw), MediaType: layer.MediaType, Data: string(data)}, nil
}

// maxAttachment bounds what Fetch reads into memory.
const maxAttachment = 64 << 20

// getManifest reads a manifest of repo by tag or digest.
func getManifest(ctx context.Context, sys *types.SystemContext, repo reference.Named, tagOrDigest string) ([]byte, string, error) {
	var named reference.Named
	var err error
	if d, parseErr := digest.Parse(tagOrDigest); parseErr == nil {
		named, err = reference.WithDigest(repo, d)
	} else {
		named, err = reference.WithTag(repo, tagOrDigest)
	}
	if err != nil {
		return nil, "", errkind.Wrap(errkind.InvalidReference, err)
	}
	ref, err := docker.NewReference(named)
	if err != nil {
		return nil, "", errkind.Wrap(errkind.InvalidReference, err)
	}
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return nil, "", errkind.Image(named.String(), err)
	}
	defer src.Close()
	raw, mimeType, err := src.GetManifest(ctx, nil)
	if err != nil {
		return nil, "", errkind.Image(named.String(), err)
	}
	return raw, mimeType, nil
}

// parse reads "[docker://]registry/repository@sha256:...".
func parse(ref string) (reference.Named, digest.Digest, error) {
	named, err := reference.ParseNormalizedNamed(strings.TrimPrefix(ref, "docker://"))
	if err != nil {
		return nil, "", errkind.Wrap(errkind.InvalidReference, err)
	}
	canonical, ok := named.(reference.Canonical)
	if !ok {
		return nil, "", errkind.New(errkind.InvalidReference, "%s: a reference by digest (repository@sha256:...) is required", ref)
	}
	return reference.TrimNamed(named), canonical.Digest(), nil
}
