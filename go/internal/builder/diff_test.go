package builder

import (
	"reflect"
	"testing"

	"go.podman.io/storage/pkg/archive"

	"pybuildah.dev/shim/internal/wire"
)

func TestChangeRecordsArePodmanLettersSortedByPath(t *testing.T) {
	got := changeRecords([]archive.Change{
		{Path: "/tmp/new", Kind: archive.ChangeAdd},
		{Path: "/etc", Kind: archive.ChangeModify},
		{Path: "/bin/gone", Kind: archive.ChangeDelete},
	})
	want := []wire.Change{{Path: "/bin/gone", Kind: "D"}, {Path: "/etc", Kind: "C"}, {Path: "/tmp/new", Kind: "A"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("changeRecords = %v, want %v", got, want)
	}
	if got := changeRecords(nil); got == nil || len(got) != 0 {
		t.Fatalf("no changes must be an empty list (JSON []), got %#v", got)
	}
}
