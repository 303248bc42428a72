package manifests

import (
	"errors"
	"testing"

	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"

	"pybuildah.dev/shim/internal/errkind"
)

const index = `{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.index.v1+json",
  "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 501,
     "digest": "sha256:9e534460f936e808da75811e2e19bbfeb8e78ddb69f1df3d6c5f77597f3f4204",
     "platform": {"architecture": "amd64", "os": "linux"}},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 502,
     "digest": "sha256:ea87162c3d3dc404fdf43554e1a67b461bf592cd4ab538b726776ef227c8fe3e",
     "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"},
     "annotations": {"org.example.note": "emulated"}}
  ],
  "annotations": {"org.example.list": "yes"}
}`

func TestFromBlob(t *testing.T) {
	got, err := FromBlob("registry/app:1", []byte(index), imgspecv1.MediaTypeImageIndex)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "registry/app:1" || got.MediaType != imgspecv1.MediaTypeImageIndex || got.SchemaVersion != 2 ||
		got.Annotations["org.example.list"] != "yes" || len(got.Entries) != 2 || string(got.Raw) != index {
		t.Fatalf("FromBlob = %+v", got)
	}
	arm := got.Entries[1]
	if arm.OS != "linux" || arm.Architecture != "arm64" || arm.Variant != "v8" || arm.Size != 502 ||
		arm.Annotations["org.example.note"] != "emulated" || arm.Digest[:7] != "sha256:" {
		t.Errorf("arm64 entry = %+v", arm)
	}
	if got.Entries[0].Architecture != "amd64" || got.Entries[0].Variant != "" {
		t.Errorf("amd64 entry = %+v", got.Entries[0])
	}
}

func TestFromBlobRefusesAnImage(t *testing.T) {
	_, err := FromBlob("x", []byte(`{"schemaVersion": 2, "layers": []}`), imgspecv1.MediaTypeImageManifest)
	var ke *errkind.Error
	if !errors.As(err, &ke) || ke.Kind != errkind.InvalidArgument {
		t.Errorf("FromBlob(image) = %v", err)
	}
}
