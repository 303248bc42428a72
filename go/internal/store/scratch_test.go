package store

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestParseStartTime(t *testing.T) {
	stat := "1234 (a (weird) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10"
	if got, err := parseStartTime(stat); err != nil || got != 987654 {
		t.Errorf("got %d, %v", got, err)
	}
	if _, err := parseStartTime("garbage"); err == nil {
		t.Error("garbage accepted")
	}
}

func TestReapScratchKeepsTheLivingAndOtherFiles(t *testing.T) {
	base := t.TempDir()
	start, err := startTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	alive := fmt.Sprintf("pybuildah-%d-%d", os.Getpid(), start)
	reused := fmt.Sprintf("pybuildah-%d-%d", os.Getpid(), start+1) // same PID, another process
	dead := "pybuildah-999999999-1"
	for _, name := range []string{alive, reused, dead, "buildah123", "pybuildah-notapid-1"} {
		if err := os.MkdirAll(filepath.Join(base, name, "bundle"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	ReapScratch(base)
	for name, want := range map[string]bool{alive: true, reused: false, dead: false, "buildah123": true, "pybuildah-notapid-1": true} {
		if _, err := os.Stat(filepath.Join(base, name)); (err == nil) != want {
			t.Errorf("%s: exists = %v, want %v", name, err == nil, want)
		}
	}
}
