package volumes

import (
	"reflect"
	"testing"

	"pybuildah.dev/shim/internal/errkind"
)

func TestParse(t *testing.T) {
	dir := t.TempDir()
	got, err := Parse([]string{dir + ":/data", dir + ":/ro:ro", dir + ":/z:ro,z,rprivate"})
	if err != nil || len(got) != 3 {
		t.Fatalf("Parse = %+v, %v", got, err)
	}
	if got[0].Source != dir || got[0].Destination != "/data" || len(got[0].Options) != 0 {
		t.Errorf("plain: %+v", got[0])
	}
	if !reflect.DeepEqual(got[2].Options, []string{"ro", "z", "rprivate"}) {
		t.Errorf("options: %+v", got[2].Options)
	}
	for _, bad := range []string{dir, dir + ":rel", "rel:/x", dir + ":/x:rx", dir + ":/x:ro:z", dir + ":/x:ro,rw",
		":/x", dir + "::ro"} {
		if _, err := Parse([]string{bad}); err == nil || errkind.Describe(err).Kind != errkind.InvalidArgument {
			t.Errorf("Parse(%q) = %v", bad, err)
		}
	}
	if _, err := Parse([]string{dir + ":/x", dir + ":/x:ro"}); errkind.Describe(err).Kind != errkind.InvalidArgument {
		t.Errorf("a destination twice: %v", err)
	}
	if _, err := Parse([]string{dir + "/missing:/x"}); errkind.Describe(err).Kind != errkind.SourceNotFound {
		t.Errorf("missing source: %v", err)
	}
}
