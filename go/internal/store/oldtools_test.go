package store

import (
	"os"
	"path/filepath"
	"testing"
)

func TestUsedByOldStorage(t *testing.T) {
	root := t.TempDir()
	if usedByOldStorage(root) {
		t.Error("a fresh store")
	}
	if err := os.Mkdir(filepath.Join(root, "tmp"), 0o700); err != nil { // image_copy_tmp_dir = "storage" makes this one
		t.Fatal(err)
	}
	if usedByOldStorage(root) {
		t.Error("tmp/ alone is not the old tools' mark")
	}
	if err := os.Mkdir(filepath.Join(root, "mounts"), 0o700); err != nil {
		t.Fatal(err)
	}
	if !usedByOldStorage(root) {
		t.Error("mounts/ and tmp/: old storage has opened this store")
	}
}
