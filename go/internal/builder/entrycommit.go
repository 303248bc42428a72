package builder

// Committing after a chain of step cache hits without a container (see
// docs/design.md, "The step cache"): the image is what Rebase + Commit would
// give - the entry's layers, one empty layer for the (unchanged) working
// container, and the builder's configuration - made the way buildah's
// containerImageRef makes it (image.go: newOCIManifestBuilder,
// newDockerSchema2ManifestBuilder, buildHistory), then copied into the store
// by c/image like a commit's image.

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/buildah"
	"go.podman.io/buildah/docker"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/directory"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/blobinfocache/none"
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
	id           string
	manifestType string
	layers       []storage.Layer
	config       v1.Image // the history and diff IDs, read from either format
	raw          []byte   // the configuration blob
}

// readEntryImage reads what commitOnEntry needs; ok is false when the entry
// is not an OCI or Docker schema 2 image whose layers all have known digests.
func readEntryImage(st storage.Store, id string) (*entryImage, bool, error) {
	img, err := st.Image(id)
	if err != nil {
		return nil, false, err
	}
	raw, err := st.ImageBigData(img.ID, storage.ImageDigestBigDataKey)
	mimeType := manifest.GuessMIMEType(raw)
	if err != nil || (mimeType != v1.MediaTypeImageManifest && mimeType != manifest.DockerV2Schema2MediaType) {
		return nil, false, nil //nolint:nilerr // not covered: the ordinary path handles it
	}
	var m v1.Manifest // the config descriptor is where both formats put it
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, false, nil //nolint:nilerr
	}
	raw, err = st.ImageBigData(img.ID, m.Config.Digest.String())
	if err != nil {
		return nil, false, nil //nolint:nilerr
	}
	e := &entryImage{id: img.ID, manifestType: mimeType, raw: raw}
	if err := json.Unmarshal(raw, &e.config); err != nil { // Docker's history and rootfs read the same
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
// path would: into the store (named or not), not squashed, not compressed,
// OCI, or Docker with a fixed creation time (else Docker's config names the
// container, which this path does not make).
func entryCommitCovered(options *buildah.CommitOptions, dest types.ImageReference) bool {
	if (dest != nil && dest.Transport().Name() != is.Transport.Name()) || options.Squash ||
		options.Compression != archive.Uncompressed {
		return false
	}
	fixed := options.HistoryTimestamp != nil || options.SourceDateEpoch != nil
	return options.PreferredManifestType == v1.MediaTypeImageManifest ||
		(options.PreferredManifestType == manifest.DockerV2Schema2MediaType && fixed)
}

// entryManifest builds the configuration and manifest buildah's commit of a
// container made from e (by Rebase) would build: b's configuration, e's
// history, a history entry for the commit, e's layers and an empty one; in
// e's format, which must be the commit's (a Rebase from the other format
// would convert the entry's configuration first).
func entryManifest(b *buildah.Builder, e *entryImage, options *buildah.CommitOptions) (config, man []byte, ok bool, err error) {
	if options.PreferredManifestType != e.manifestType {
		return nil, nil, false, nil
	}
	created := time.Now().UTC()
	if options.HistoryTimestamp != nil {
		created = options.HistoryTimestamp.UTC()
	}
	if options.SourceDateEpoch != nil {
		created = options.SourceDateEpoch.UTC()
	}
	diffIDs, sizes := make([]digest.Digest, 0, len(e.layers)+1), make([]int64, 0, len(e.layers)+1)
	for _, layer := range e.layers {
		diffIDs, sizes = append(diffIDs, layer.UncompressedDigest), append(sizes, layer.UncompressedSize)
	}
	diffIDs, sizes = append(diffIDs, digest.Canonical.FromBytes(emptyLayer)), append(sizes, int64(len(emptyLayer)))
	createdBy := b.CreatedBy()
	if createdBy == "" {
		createdBy = strings.Join(b.Shell(), " ")
		if createdBy == "" {
			createdBy = "/bin/sh"
		}
	}
	comment := b.HistoryComment()
	if b.FromImage != "" && !strings.HasPrefix(e.id, b.FromImage) { // buildah's "FROM name" note
		if comment != "" {
			comment += " "
		}
		comment += "FROM " + b.FromImage
	}
	if e.manifestType == manifest.DockerV2Schema2MediaType {
		config, man, err = dockerEntryManifest(b, e, created, createdBy, comment, diffIDs, sizes)
	} else {
		config, man, err = ociEntryManifest(b, e, created, createdBy, comment, diffIDs, sizes)
	}
	return config, man, err == nil, err
}

// ociEntryManifest is buildah's newOCIManifestBuilder and buildHistory.
func ociEntryManifest(b *buildah.Builder, e *entryImage, created time.Time, createdBy, comment string,
	diffIDs []digest.Digest, sizes []int64) (config, man []byte, err error) {
	oimage, err := jsonCopy[v1.Image](&b.OCIv1)
	if err != nil {
		return nil, nil, err
	}
	oimage.Created = &created
	oimage.History = append(slices.Clone(e.config.History),
		v1.History{Created: &created, CreatedBy: createdBy, Author: oimage.Author, Comment: comment})
	oimage.RootFS = v1.RootFS{Type: docker.TypeLayers, DiffIDs: diffIDs}
	layers := make([]v1.Descriptor, len(diffIDs))
	for i, d := range diffIDs {
		layers[i] = v1.Descriptor{MediaType: v1.MediaTypeImageLayer, Digest: d, Size: sizes[i]}
	}
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

// dockerEntryManifest is buildah's newDockerSchema2ManifestBuilder and
// buildHistory, with a fixed creation time (entryCommitCovered): the
// hostname is "sandbox" and no container is named.
func dockerEntryManifest(b *buildah.Builder, e *entryImage, created time.Time, createdBy, comment string,
	diffIDs []digest.Digest, sizes []int64) (config, man []byte, err error) {
	var entry docker.V2Image
	if err := json.Unmarshal(e.raw, &entry); err != nil {
		return nil, nil, err
	}
	dimage, err := jsonCopy[docker.V2Image](&b.Docker)
	if err != nil {
		return nil, nil, err
	}
	if dimage.Config == nil {
		dimage.Config = &docker.Config{}
	}
	dimage.History, dimage.Parent = entry.History, entry.Parent // what Rebase keeps of the entry
	dimage.Config.Hostname, dimage.Config.Domainname = "sandbox", ""
	dimage.Container = ""
	dimage.ContainerConfig = *dimage.Config
	dimage.Created = created
	dimage.RootFS = &docker.V2S2RootFS{Type: docker.TypeLayers, DiffIDs: diffIDs}
	dimage.History = append(slices.Clone(dimage.History),
		docker.V2S2History{Created: created, CreatedBy: createdBy, Author: dimage.Author, Comment: comment})
	layers := make([]docker.V2S2Descriptor, len(diffIDs))
	for i, d := range diffIDs {
		layers[i] = docker.V2S2Descriptor{MediaType: docker.V2S2MediaTypeUncompressedLayer, Digest: d, Size: sizes[i]}
	}
	if config, err = json.Marshal(&dimage); err != nil {
		return nil, nil, err
	}
	man, err = json.Marshal(&docker.V2S2Manifest{
		V2Versioned: docker.V2Versioned{SchemaVersion: 2, MediaType: manifest.DockerV2Schema2MediaType},
		Config: docker.V2S2Descriptor{MediaType: manifest.DockerV2Schema2ConfigMediaType,
			Digest: digest.Canonical.FromBytes(config), Size: int64(len(config))},
		Layers: layers,
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
	config, man, ok, err := entryManifest(s.Builder, e, options)
	if err != nil || !ok {
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
	src, err := writeSource(ctx, dir, config, man)
	if err != nil {
		return nil, false, err
	}
	// The source is what we just wrote; buildah's commit accepts its own
	// source (the storage scope) whatever the policy says, and so do we.
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

// writeSource writes the image into an empty directory with the dir:
// transport (it takes both formats): its config, its manifest and the empty
// layer; the entry's layers are in the store, where the copy finds them by
// digest.
func writeSource(ctx context.Context, dir string, config, man []byte) (types.ImageReference, error) {
	ref, err := directory.NewReference(dir)
	if err != nil {
		return nil, err
	}
	dest, err := ref.NewImageDestination(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer dest.Close()
	for i, blob := range [][]byte{config, emptyLayer} {
		info := types.BlobInfo{Digest: digest.Canonical.FromBytes(blob), Size: int64(len(blob))}
		if _, err := dest.PutBlob(ctx, bytes.NewReader(blob), info, none.NoCache, i == 0); err != nil {
			return nil, err
		}
	}
	if err := dest.PutManifest(ctx, man, nil); err != nil {
		return nil, err
	}
	return ref, dest.Commit(ctx, nil)
}

// jsonCopy is a deep copy of the builder's config through JSON, as buildah's
// manifest builders make theirs, so that the commit never edits the Builder.
func jsonCopy[T any](config any) (T, error) {
	var out T
	raw, err := json.Marshal(config)
	if err != nil {
		return out, err
	}
	err = json.Unmarshal(raw, &out)
	return out, err
}
