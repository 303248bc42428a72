package attach

import (
	"testing"

	digest "github.com/opencontainers/go-digest"

	"pybuildah.dev/shim/internal/errkind"
)

func TestFallbackTag(t *testing.T) {
	d := digest.FromString("x")
	if got := FallbackTag(d); got != "sha256-"+d.Encoded() {
		t.Errorf("FallbackTag = %q", got)
	}
}

func TestParseNeedsADigest(t *testing.T) {
	d := digest.FromString("x")
	repo, got, err := parse("docker://localhost:5000/team/app@" + d.String())
	if err != nil || repo.String() != "localhost:5000/team/app" || got != d {
		t.Errorf("parse = %v, %v, %v", repo, got, err)
	}
	for _, bad := range []string{"localhost:5000/team/app:1", "UPPER/x@" + d.String(), ""} {
		if _, _, err := parse(bad); errkind.Describe(err).Kind != errkind.InvalidReference {
			t.Errorf("parse(%q) = %v", bad, err)
		}
	}
}
