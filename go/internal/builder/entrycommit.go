package builder

// Committing after a chain of step cache hits without a container (see
// docs/design.md, "The step cache"): the image is what Rebase + Commit would
// give - the entry's layers, one empty layer for the (unchanged) working
// container, and the builder's configuration - made the way buildah's
// containerImageRef makes it (image.go: newOCIManifestBuilder, buildHistory),
// then copied into the store by c/image like a commit's image.

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/buildah"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/signature"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/stringid"

	"pybuildah.dev/shim/internal/wire"
)

// emptyLayer is the diff of a container nothing was written to: a tar
// archive's end marker, as storage's Diff gives it on every driver.
var emptyLayer = make([]byte, 1024)

// entryImage is a cache entry's image as the commit needs it: the diff IDs
// and sizes of its layers (base first) and its OCI configuration.
type entryImage struct {
	id     string
	layers []storage.Layer
	config v1.Image
}

// readEntryImage reads what commitOnEntry needs; ok is false when the entry
// is not an OCI image whose layers all have known digests.
func readEntryImage(st storage.Store, id string) (*entryImage, bool, error) {
	img, err := st.Image(id)
	if err != nil {
		return nil, false, err
	}
	raw, err := st.ImageBigData(img.ID, storage.ImageDigestBigDataKey)
	if err != nil || manifest.GuessMIMEType(raw) != v1.MediaTypeImageManifest {
		return nil, false, nil //nolint:nilerr // not covered: the ordinary path handles it
	}
	var m v1.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, false, nil //nolint:nilerr
	}
	raw, err = st.ImageBigData(img.ID, m.Config.Digest.String())
	if err != nil {
		return nil, false, nil //nolint:nilerr
	}
	e := &entryImage{id: img.ID}
	if err := json.Unmarshal(raw, &e.config); err != nil {
		return nil, false, nil //nolint:nilerr
	}
	for layerID := img.TopLayer; layerID != ""; {
		layer, err := st.Layer(layerID)
		if err != nil {
			return nil, false, err
		}
		if layer.UncompressedDigest == "" || layer.UncompressedSize < 0 {
			return nil, false, nil
		}
		e.layers = append([]storage.Layer{*layer}, e.layers...)
		layerID = layer.Parent
	}
	if len(e.config.History) == 0 || len(e.layers) != len(e.config.RootFS.DiffIDs) {
		return nil, false, nil
	}
	for i, layer := range e.layers {
		if e.config.RootFS.DiffIDs[i] != layer.UncompressedDigest {
			return nil, false, nil
		}
	}
	return e, true, nil
}

// entryCommitCovered says whether commitOnEntry makes the image the ordinary
// path would: an OCI image into the store (named or not), not squashed, not
// compressed.
func entryCommitCovered(options *buildah.CommitOptions, dest types.ImageReference) bool {
	return (dest == nil || dest.Transport().Name() == is.Transport.Name()) && !options.Squash &&
		options.Compression == archive.Uncompressed && options.PreferredManifestType == v1.MediaTypeImageManifest
}

// entryManifest builds the configuration and manifest buildah's commit of a
// container made from e (by Rebase) would build: b's configuration, e's
// history, a history entry for the commit, e's layers and an empty one.
func entryManifest(b *buildah.Builder, e *entryImage, options *buildah.CommitOptions) (config, man []byte, err error) {
	created := time.Now().UTC()
	if options.HistoryTimestamp != nil {
		created = options.HistoryTimestamp.UTC()
	}
	if options.SourceDateEpoch != nil {
		created = options.SourceDateEpoch.UTC()
	}
	raw, err := json.Marshal(&b.OCIv1)
	if err != nil {
		return nil, nil, err
	}
	oimage := v1.Image{}
	if err := json.Unmarshal(raw, &oimage); err != nil {
		return nil, nil, err
	}
	oimage.Created = &created
	oimage.History = append([]v1.History(nil), e.config.History...)
	oimage.RootFS = v1.RootFS{Type: "layers", DiffIDs: []digest.Digest{}}
	var layers []v1.Descriptor
	add := func(d digest.Digest, size int64) {
		layers = append(layers, v1.Descriptor{MediaType: v1.MediaTypeImageLayer, Digest: d, Size: size})
		oimage.RootFS.DiffIDs = append(oimage.RootFS.DiffIDs, d)
	}
	for _, layer := range e.layers {
		add(layer.UncompressedDigest, layer.UncompressedSize)
	}
	add(digest.Canonical.FromBytes(emptyLayer), int64(len(emptyLayer)))
	createdBy := b.CreatedBy()
	if createdBy == "" {
		createdBy = strings.Join(b.Shell(), " ")
		if createdBy == "" {
			createdBy = "/bin/sh"
		}
	}
	entry := v1.History{Created: &created, CreatedBy: createdBy, Author: oimage.Author, Comment: b.HistoryComment()}
	if b.FromImage != "" && !strings.HasPrefix(e.id, b.FromImage) { // buildah's "FROM name" note
		if entry.Comment != "" {
			entry.Comment += " "
		}
		entry.Comment += "FROM " + b.FromImage
	}
	oimage.History = append(oimage.History, entry)
	if config, err = json.Marshal(&oimage); err != nil {
		return nil, nil, err
	}
	annotations := make(map[string]string)
	maps.Copy(annotations, b.Annotations())
	annotations[v1.AnnotationCreated] = created.UTC().Format(time.RFC3339Nano)
	man, err = json.Marshal(&v1.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: v1.MediaTypeImageManifest,
		Config: v1.Descriptor{MediaType: v1.MediaTypeImageConfig, Digest: digest.Canonical.FromBytes(config),
			Size: int64(len(config))},
		Layers:      layers,
		Annotations: annotations,
	})
	return config, man, err
}

// commitOnEntry commits b as if its container had been made from the entry
// image (Rebase) and nothing written to it; done is false (and nothing
// written) when the case is not covered, for the ordinary path to take.
func commitOnEntry(ctx context.Context, s *State, entry string, options *buildah.CommitOptions,
	dest types.ImageReference) (result *wire.CommitResult, done bool, err error) {
	if !entryCommitCovered(options, dest) {
		return nil, false, nil
	}
	e, ok, err := readEntryImage(s.Store.Store, entry)
	if err != nil || !ok {
		return nil, false, err
	}
	config, man, err := entryManifest(s.Builder, e, options)
	if err != nil {
		return nil, false, err
	}
	temporary := ""
	if dest == nil { // as buildah does: a temporary name, removed after the copy
		temporary = stringid.GenerateRandomID() + "-tmp"
		if dest, err = is.Transport.ParseStoreReference(s.Store.Store, temporary); err != nil {
			return nil, false, err
		}
	}
	dir, err := os.MkdirTemp(s.Store.Store.RunRoot(), "entry-commit-")
	if err != nil {
		return nil, false, err
	}
	defer os.RemoveAll(dir)
	src, err := writeLayout(dir, config, man)
	if err != nil {
		return nil, false, err
	}
	policy, err := signature.NewPolicyContext(&signature.Policy{
		Default: signature.PolicyRequirements{signature.NewPRInsecureAcceptAnything()},
	})
	if err != nil {
		return nil, false, err
	}
	defer func() { _ = policy.Destroy() }()
	sys := *options.SystemContext
	sys.OCIAcceptUncompressedLayers = true
	copied, err := copy.Image(ctx, policy, dest, src, &copy.Options{
		ReportWriter: options.ReportWriter, SourceCtx: &sys, DestinationCtx: &sys,
	})
	if err != nil {
		return nil, true, err
	}
	manifestDigest, err := manifest.Digest(copied)
	if err != nil {
		return nil, true, err
	}
	_, img, err := is.ResolveReference(dest)
	if err != nil {
		return nil, true, err
	}
	result = &wire.CommitResult{ID: img.ID, Digest: manifestDigest.String()}
	if temporary != "" {
		var names []string
		for _, name := range img.Names {
			if strings.Contains(name, temporary) {
				names = append(names, name)
			}
		}
		return result, true, s.Store.Store.RemoveNames(img.ID, names)
	}
	if name := dest.DockerReference(); name != nil {
		if ref, err := reference.WithDigest(name, manifestDigest); err == nil {
			result.Name = ref.String()
		}
	}
	return result, true, nil
}

// writeLayout writes an OCI layout holding the image (its config, its
// manifest and the empty layer; the entry's layers are in the store, where
// the copy finds them by digest) and returns a reference to it.
func writeLayout(dir string, config, man []byte) (types.ImageReference, error) {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o700); err != nil {
		return nil, err
	}
	for _, blob := range [][]byte{config, man, emptyLayer} {
		if err := os.WriteFile(filepath.Join(blobs, digest.Canonical.FromBytes(blob).Encoded()), blob, 0o600); err != nil {
			return nil, err
		}
	}
	index, err := json.Marshal(v1.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: v1.MediaTypeImageIndex,
		Manifests: []v1.Descriptor{{MediaType: v1.MediaTypeImageManifest,
			Digest: digest.Canonical.FromBytes(man), Size: int64(len(man))}},
	})
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), index, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, v1.ImageLayoutFile), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o600); err != nil {
		return nil, err
	}
	return layout.NewReference(dir, "")
}
