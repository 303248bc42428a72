package builder

import (
	"bytes"
	"testing"
)

func TestNoteFilterDropsOnlyTheRuntimesExitNotes(t *testing.T) {
	var out bytes.Buffer
	f := &noteFilter{out: &out}
	for _, chunk := range []string{"real error\nsubprocess exi", "ted with status 3\n", "subprocess exited on killed\nlast\n"} {
		if n, err := f.Write([]byte(chunk)); err != nil || n != len(chunk) {
			t.Fatalf("Write(%q) = %d, %v", chunk, n, err)
		}
	}
	if got := out.String(); got != "real error\nlast\n" {
		t.Fatalf("passed on %q", got)
	}
}
