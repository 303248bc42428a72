package builder

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/buildah"
	"go.podman.io/buildah/define"
	"go.podman.io/buildah/docker"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/archive"
)

func TestEntryManifestIsWhatACommitOfTheEntryGives(t *testing.T) {
	b := &buildah.Builder{FromImage: "localhost/base:1", ImageCreatedBy: "make", ImageHistoryComment: "note",
		ImageAnnotations: map[string]string{"a": "b"}}
	b.Docker.Config = &docker.Config{}
	b.OCIv1.Config.Env = []string{"A=1"}
	b.OCIv1.Author = "me"
	old := time.Unix(10, 0).UTC()
	e := &entryImage{id: "1234abcd", manifestType: define.OCIv1ImageManifest, layers: []storage.Layer{
		{UncompressedDigest: digest.FromString("one"), UncompressedSize: 3},
		{UncompressedDigest: digest.FromString("two"), UncompressedSize: 5},
	}, config: v1.Image{History: []v1.History{{Created: &old, CreatedBy: "base"}, {CreatedBy: "step"}}}}
	at := time.Unix(1_700_000_000, 0)
	oci := define.OCIv1ImageManifest
	config, man, ok, err := entryManifest(b, e, &buildah.CommitOptions{HistoryTimestamp: &at, PreferredManifestType: oci})
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	var image v1.Image
	var m v1.Manifest
	if err := json.Unmarshal(config, &image); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(man, &m); err != nil {
		t.Fatal(err)
	}
	empty := digest.Canonical.FromBytes(make([]byte, 1024))
	if got := image.RootFS.DiffIDs; len(got) != 3 || got[0] != digest.FromString("one") || got[2] != empty {
		t.Fatalf("diff IDs %v", got)
	}
	last := image.History[len(image.History)-1]
	if len(image.History) != 3 || last.CreatedBy != "make" || last.Comment != "note FROM localhost/base:1" ||
		last.Author != "me" || !last.Created.Equal(at) || !image.Created.Equal(at) {
		t.Fatalf("history %+v", image.History)
	}
	if image.Config.Env[0] != "A=1" || m.Config.Digest != digest.Canonical.FromBytes(config) ||
		m.Layers[1].Size != 5 || m.Layers[2].MediaType != v1.MediaTypeImageLayer ||
		m.Annotations["a"] != "b" || m.Annotations[v1.AnnotationCreated] != "2023-11-14T22:13:20Z" {
		t.Fatalf("manifest %s", man)
	}
	b.FromImage = "1234" // a base named by its ID gets no "FROM" note
	b.ImageHistoryComment, b.ImageCreatedBy = "", ""
	_, man2, _, _ := entryManifest(b, e, &buildah.CommitOptions{SourceDateEpoch: &old, HistoryTimestamp: &at,
		PreferredManifestType: oci})
	config2, _, _, _ := entryManifest(b, e, &buildah.CommitOptions{SourceDateEpoch: &old, PreferredManifestType: oci})
	image = v1.Image{}
	if err := json.Unmarshal(config2, &image); err != nil {
		t.Fatal(err)
	}
	last = image.History[len(image.History)-1]
	if last.Comment != "" || last.CreatedBy != "/bin/sh" || !image.Created.Equal(old) || len(man2) == 0 {
		t.Fatalf("history %+v", last)
	}
	if _, _, ok, _ := entryManifest(b, e, &buildah.CommitOptions{PreferredManifestType: define.Dockerv2ImageManifest,
		HistoryTimestamp: &at}); ok {
		t.Fatal("an OCI entry committed as Docker is converted by Rebase: not covered")
	}
}

func TestEntryCommitCovers(t *testing.T) {
	oci := &buildah.CommitOptions{PreferredManifestType: define.OCIv1ImageManifest}
	if !entryCommitCovered(oci, nil) {
		t.Fatal("an unnamed OCI commit is covered")
	}
	at := time.Unix(1, 0)
	if !entryCommitCovered(&buildah.CommitOptions{PreferredManifestType: define.Dockerv2ImageManifest,
		HistoryTimestamp: &at}, nil) {
		t.Fatal("Docker with a fixed time is covered")
	}
	for _, o := range []*buildah.CommitOptions{
		{PreferredManifestType: define.Dockerv2ImageManifest},
		{PreferredManifestType: define.OCIv1ImageManifest, Squash: true},
		{PreferredManifestType: define.OCIv1ImageManifest, Compression: archive.Gzip},
	} {
		if entryCommitCovered(o, nil) {
			t.Fatalf("%+v is not covered", o)
		}
	}
}
