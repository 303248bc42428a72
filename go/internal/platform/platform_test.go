package platform

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"pybuildah.dev/shim/internal/errkind"
)

func TestParse(t *testing.T) {
	for spec, want := range map[string]string{
		"linux/arm64":     "linux/arm64",
		"linux/aarch64":   "linux/arm64",
		"linux/amd64":     "linux/amd64",
		"linux/x86_64":    "linux/amd64",
		"linux/arm/v7":    "linux/arm/v7",
		"linux/s390x":     "linux/s390x",
		"/linux/ppc64le/": "linux/ppc64le",
	} {
		p, err := Parse(spec)
		if err != nil || Format(p) != want {
			t.Errorf("Parse(%q) = %v, %v; want %s", spec, Format(p), err, want)
		}
	}
	if p, err := Parse(""); err != nil || p.OS != "" {
		t.Errorf("Parse(\"\") = %v, %v", p, err)
	}
	for _, bad := range []string{"arm64", "linux/", "linux/arm64/v8/x", "linux/no such"} {
		_, err := Parse(bad)
		var ke *errkind.Error
		if !errors.As(err, &ke) || ke.Kind != errkind.InvalidArgument {
			t.Errorf("Parse(%q) = %v; want InvalidArgument", bad, err)
		}
	}
}

func TestParseAll(t *testing.T) {
	got, err := ParseAll([]string{"linux/amd64", "linux/arm64"})
	if err != nil || len(got) != 2 || got[1].Architecture != "arm64" {
		t.Errorf("ParseAll = %v, %v", got, err)
	}
	if _, err := ParseAll([]string{"linux/arm64", "linux/aarch64"}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := ParseAll([]string{"linux/arm64", ""}); err == nil {
		t.Error("an empty platform in a list must be refused")
	}
}

func TestCheckHandler(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	err := checkHandler(dir, "s390x")
	var ke *errkind.Error
	if !errors.As(err, &ke) || ke.Kind != errkind.EmulationError ||
		!strings.Contains(err.Error(), "no binfmt_misc handler for s390x") || !strings.Contains(err.Error(), "qemu-user-static") {
		t.Errorf("missing handler: %v", err)
	}
	write("qemu-aarch64", "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POF\n")
	if err := checkHandler(dir, "arm64"); err != nil {
		t.Errorf("enabled handler: %v", err)
	}
	write("qemu-aarch64", "disabled\n")
	if err := checkHandler(dir, "arm64"); err == nil || !strings.Contains(err.Error(), "is disabled") {
		t.Errorf("disabled handler: %v", err)
	}
	write("qemu-aarch64", "enabled\n")
	write("status", "disabled\n")
	if err := checkHandler(dir, "arm64"); err == nil || !strings.Contains(err.Error(), "binfmt_misc is disabled") {
		t.Errorf("disabled binfmt_misc: %v", err)
	}
	if err := CheckEmulation(runtime.GOARCH); err != nil {
		t.Errorf("native: %v", err)
	}
	if QemuName("arm64") != "aarch64" || QemuName("s390x") != "s390x" {
		t.Error("qemu names")
	}
}
