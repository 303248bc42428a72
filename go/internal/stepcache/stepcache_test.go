package stepcache

import (
	"os"
	"path/filepath"
	"testing"
)

func entry(t *testing.T, parent string, args map[string]any, files []File) *Entry {
	t.Helper()
	e, err := NewEntry(parent, "", "copy", args, files)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestKeyCoversEveryInput(t *testing.T) {
	files := []File{{Path: "app/main.py", Type: "f", Mode: 0o644, Digest: "aa"}}
	base := entry(t, "p", map[string]any{"dest": "/app"}, files)
	for name, other := range map[string]*Entry{
		"parent":  entry(t, "q", map[string]any{"dest": "/app"}, files),
		"args":    entry(t, "p", map[string]any{"dest": "/srv"}, files),
		"content": entry(t, "p", map[string]any{"dest": "/app"}, []File{{Path: "app/main.py", Type: "f", Mode: 0o644, Digest: "ab"}}),
		"mode":    entry(t, "p", map[string]any{"dest": "/app"}, []File{{Path: "app/main.py", Type: "f", Mode: 0o755, Digest: "aa"}}),
		"name":    entry(t, "p", map[string]any{"dest": "/app"}, []File{{Path: "app/main2.py", Type: "f", Mode: 0o644, Digest: "aa"}}),
	} {
		if other.Key == base.Key {
			t.Errorf("a change of %s kept the key", name)
		}
	}
	if again := entry(t, "p", map[string]any{"dest": "/app"}, files); again.Key != base.Key {
		t.Error("the same inputs gave another key")
	}
}

func TestExplain(t *testing.T) {
	old := entry(t, "p", map[string]any{"command": []string{"a"}}, []File{{Path: "x", Type: "f", Digest: "1"}, {Path: "y", Type: "f"}})
	for want, now := range map[string]*Entry{
		"command changed":      entry(t, "p", map[string]any{"command": []string{"b"}}, old.Files),
		"content of x changed": entry(t, "p", map[string]any{"command": []string{"a"}}, []File{{Path: "x", Type: "f", Digest: "2"}, {Path: "y", Type: "f"}}),
		"mode of y changed":    entry(t, "p", map[string]any{"command": []string{"a"}}, []File{{Path: "x", Type: "f", Digest: "1"}, {Path: "y", Type: "f", Mode: 1}}),
		"y removed":            entry(t, "p", map[string]any{"command": []string{"a"}}, []File{{Path: "x", Type: "f", Digest: "1"}}),
		"z added":              entry(t, "p", map[string]any{"command": []string{"a"}}, append(old.Files, File{Path: "z", Type: "l"})),
	} {
		if got := Explain(now, old); got != want {
			t.Errorf("Explain = %q, want %q", got, want)
		}
	}
}

func TestParseName(t *testing.T) {
	e := entry(t, "b12", nil, nil)
	parent, key, ok := ParseName(e.BigDataName())
	if !ok || parent != "b12" || key != e.Key {
		t.Fatalf("ParseName(%q) = %q %q %v", e.BigDataName(), parent, key, ok)
	}
	if _, _, ok := ParseName("manifest-sha256:x"); ok {
		t.Fatal("an ordinary big-data name parsed as an entry")
	}
}

func TestTree(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	if err := os.MkdirAll(filepath.Join(app, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(app, "sub", "f"), []byte("one"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/f", filepath.Join(app, "link")); err != nil {
		t.Fatal(err)
	}
	files, err := Tree([]string{app}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []File{
		{Path: "app", Type: "d", Mode: 0o755},
		{Path: "app/link", Type: "l", Mode: 0o777, Digest: "sub/f"},
		{Path: "app/sub", Type: "d", Mode: 0o755},
		{Path: "app/sub/f", Type: "f", Mode: 0o640, Digest: "7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed"},
	}
	if len(files) != len(want) {
		t.Fatalf("Tree = %+v", files)
	}
	for i := range want {
		if files[i] != want[i] {
			t.Errorf("Tree[%d] = %+v, want %+v", i, files[i], want[i])
		}
	}
	if err := os.WriteFile(filepath.Join(app, "sub", "f"), []byte("two"), 0o640); err != nil {
		t.Fatal(err)
	}
	again, err := Tree([]string{app}, false)
	if err != nil {
		t.Fatal(err)
	}
	if again[3].Digest == files[3].Digest {
		t.Error("a rewritten file kept its digest (stale memo)")
	}
	pivot, err := Tree([]string{dir + "/./app/sub"}, true)
	if err != nil || pivot[0].Path != "app/sub" {
		t.Fatalf("parents: %+v %v", pivot, err)
	}
	if _, err := Tree([]string{filepath.Join(dir, "missing")}, false); err == nil {
		t.Fatal("a missing source was listed")
	}
}

func TestDistancePrefersTheSameStep(t *testing.T) {
	now := entry(t, "p", map[string]any{"dest": "/bundle", "from": "k2"}, nil)
	sameStep := entry(t, "p", map[string]any{"dest": "/bundle", "from": "k1"}, nil)
	otherStep := entry(t, "p", map[string]any{"dest": "/src/", "from": nil}, []File{{Path: "app", Type: "d"}})
	if Distance(now, sameStep) >= Distance(now, otherStep) {
		t.Fatal("another step of the same parent is nearer than the same step")
	}
	if got := Explain(now, sameStep); got != "from changed" {
		t.Fatalf("Explain = %q", got)
	}
}
