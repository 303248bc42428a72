package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUnknownFormatIsRefused(t *testing.T) {
	if _, err := encoder("spdx-tag-value"); err == nil || !strings.Contains(err.Error(), "unknown SBOM format") {
		t.Fatalf("got %v", err)
	}
}

func TestMissingFlagsAreRefused(t *testing.T) {
	var stderr bytes.Buffer
	if err := run([]string{"-root", t.TempDir()}, &stderr); err == nil || !strings.Contains(err.Error(), "required") {
		t.Fatalf("got %v", err)
	}
}

// A root holding one Python distribution: its dist-info is catalogued, its purl listed.
func TestScanFindsADistInfo(t *testing.T) {
	root := t.TempDir()
	dist := filepath.Join(root, "usr/lib/python3/dist-packages/demo-1.2.3.dist-info")
	if err := os.MkdirAll(dist, 0o755); err != nil {
		t.Fatal(err)
	}
	metadata := "Metadata-Version: 2.1\nName: demo\nVersion: 1.2.3\n"
	if err := os.WriteFile(filepath.Join(dist, "METADATA"), []byte(metadata), 0o644); err != nil {
		t.Fatal(err)
	}
	out, purls := filepath.Join(t.TempDir(), "sbom.json"), filepath.Join(t.TempDir(), "purls")
	var stderr bytes.Buffer
	if err := run([]string{"-root", root, "-format", "cyclonedx-json", "-output", out, "-purl-output", purls,
		"-name", "demo-image"}, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	var doc struct {
		Components []struct{ Name, Version, Purl string }
	}
	data, _ := os.ReadFile(out)
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range doc.Components {
		found = found || (c.Name == "demo" && c.Version == "1.2.3")
	}
	listed, _ := os.ReadFile(purls)
	if !found || !strings.Contains(string(listed), "pkg:pypi/demo@1.2.3") {
		t.Fatalf("components %+v, purls %q", doc.Components, listed)
	}
}

func TestFilesAnalyzedOnlyForPackagesContainingFiles(t *testing.T) {
	in := `{"packages":[{"SPDXID":"root","filesAnalyzed":false},{"SPDXID":"lib","filesAnalyzed":false}],
	"files":[{"SPDXID":"f1"}],
	"relationships":[{"spdxElementId":"root","relatedSpdxElement":"f1","relationshipType":"CONTAINS"},
	{"spdxElementId":"root","relatedSpdxElement":"lib","relationshipType":"CONTAINS"}]}`
	out, err := filesAnalyzed([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Packages []struct {
			SPDXID        string
			FilesAnalyzed bool
		}
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if !doc.Packages[0].FilesAnalyzed || doc.Packages[1].FilesAnalyzed {
		t.Fatalf("got %+v", doc.Packages)
	}
}
