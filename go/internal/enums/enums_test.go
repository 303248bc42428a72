package enums

import (
	"errors"
	"testing"

	"go.podman.io/buildah/define"
	"go.podman.io/common/pkg/config"
	"go.podman.io/storage/pkg/archive"

	"pybuildah.dev/shim/internal/errkind"
)

func wantInvalid(t *testing.T, err error) {
	t.Helper()
	var ke *errkind.Error
	if !errors.As(err, &ke) || ke.Kind != errkind.InvalidArgument {
		t.Fatalf("want InvalidArgument, got %v", err)
	}
}

func TestIsolation(t *testing.T) {
	for name, want := range map[string]define.Isolation{
		"": define.IsolationChroot, "chroot": define.IsolationChroot, "oci": define.IsolationOCI, "rootless": define.IsolationOCIRootless,
	} {
		if got, err := Isolation(name); err != nil || got != want {
			t.Errorf("Isolation(%q) = %v, %v", name, got, err)
		}
	}
	_, err := Isolation("vm")
	wantInvalid(t, err)
}

func TestParseFormat(t *testing.T) {
	for name, want := range map[string]Format{"": "", "oci": define.OCIv1ImageManifest, "docker": define.Dockerv2ImageManifest} {
		if got, err := ParseFormat(name); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v", name, got, err)
		}
	}
	for _, bad := range []string{"tarball", "v2s2", "OCI", "v1"} {
		_, err := ParseFormat(bad)
		wantInvalid(t, err)
	}
}

func TestParsePullPolicy(t *testing.T) {
	cases := map[string]struct {
		buildah  define.PullPolicy
		libimage config.PullPolicy
	}{
		"always":  {define.PullAlways, config.PullPolicyAlways},
		"missing": {define.PullIfMissing, config.PullPolicyMissing},
		"newer":   {define.PullIfNewer, config.PullPolicyNewer},
		"never":   {define.PullNever, config.PullPolicyNever},
	}
	for name, want := range cases {
		got, err := ParsePullPolicy(name, PullAlways)
		if err != nil || got.Buildah() != want.buildah || got.Libimage() != want.libimage {
			t.Errorf("ParsePullPolicy(%q) = %v, %v", name, got, err)
		}
	}
	if got, _ := ParsePullPolicy("", PullMissing); got != PullMissing {
		t.Errorf("default: %v", got)
	}
	for _, bad := range []string{"sometimes", "ifnewer", "true", "Always"} {
		_, err := ParsePullPolicy(bad, PullAlways)
		wantInvalid(t, err)
	}
}

func TestParseCompression(t *testing.T) {
	for name, want := range map[string]archive.Compression{"": archive.Uncompressed, "gzip": archive.Gzip, "zstd": archive.Zstd} {
		got, err := ParseCompression(name)
		if err != nil || got.Archive() != want {
			t.Errorf("ParseCompression(%q) = %v, %v", name, got, err)
		}
	}
	if c, _ := ParseCompression(""); c.Algorithm() != nil {
		t.Error("no algorithm without compression")
	}
	if c, _ := ParseCompression("zstd"); c.Algorithm() == nil || c.Algorithm().Name() != "zstd" {
		t.Error("zstd algorithm")
	}
	if c, _ := ParseCompression("zstd:chunked"); c.Archive() != archive.Zstd || c.Algorithm().Name() != "zstd:chunked" {
		t.Error("zstd:chunked algorithm")
	}
	for _, bad := range []string{"lzma", "bzip2", "xz", "none", "bzip9", "zstd:", "chunked"} {
		_, err := ParseCompression(bad)
		wantInvalid(t, err)
	}
}

func TestForceCompression(t *testing.T) {
	yes, no := true, false
	for _, c := range []struct {
		compression Compression
		force       *bool
		want        bool
	}{{"", nil, false}, {"zstd", nil, true}, {"zstd:chunked", &no, false}, {"gzip", &yes, true}, {"", &no, false}} {
		if got, err := c.compression.Force(c.force); err != nil || got != c.want {
			t.Errorf("%q.Force(%v) = %v, %v", c.compression, c.force, got, err)
		}
	}
	_, err := Compression("").Force(&yes)
	wantInvalid(t, err)
}

func TestSaveFormat(t *testing.T) {
	for name, want := range map[string]string{"": "oci-archive", "oci": "oci-dir", "dir": "docker-dir", "docker-archive": "docker-archive"} {
		if got, err := SaveFormat(name); err != nil || got != want {
			t.Errorf("SaveFormat(%q) = %v, %v", name, got, err)
		}
	}
	_, err := SaveFormat("zip")
	wantInvalid(t, err)
}

func TestCompressionLevel(t *testing.T) {
	level := func(n int) *int { return &n }
	for _, c := range []Compression{"", "gzip"} {
		if c.CheckLevel(nil) != nil || c.CheckLevel(level(-2)) != nil || c.CheckLevel(level(9)) != nil {
			t.Errorf("%q: a gzip level was refused", c)
		}
		wantInvalid(t, c.CheckLevel(level(10)))
		wantInvalid(t, c.CheckLevel(level(-3)))
	}
	if Compression("zstd").CheckLevel(level(19)) != nil {
		t.Error("zstd 19 refused")
	}
}
