package store

import (
	"fmt"
	"os"
	"testing"
)

func TestParseMountRecord(t *testing.T) {
	start, err := startTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("abc123.%d-%d.7", os.Getpid(), start)
	id, pid, got, ok := parseMountRecord(name)
	if !ok || id != "abc123" || pid != os.Getpid() || got != start {
		t.Errorf("parseMountRecord(%q) = %q, %d, %d, %v", name, id, pid, got, ok)
	}
	for _, bad := range []string{"abc123", "abc123.12-34", ".12-34.1", "abc.x-34.1", "abc.12.1", "abc.0-1.1"} {
		if _, _, _, ok := parseMountRecord(bad); ok {
			t.Errorf("parseMountRecord(%q) accepted", bad)
		}
	}
}
