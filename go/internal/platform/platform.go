// Package platform parses OS/ARCH[/VARIANT] platforms, the one place that
// does, and checks that this machine can run a foreign architecture's
// programs (qemu-user-static registered in binfmt_misc) before RUN needs it.
package platform

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/buildah/pkg/parse"
	"go.podman.io/image/v5/types"

	"pybuildah.dev/shim/internal/errkind"
)

// BinfmtEnv names the environment variable that overrides BinfmtDir (tests
// point it at a directory without handlers).
const BinfmtEnv = "PYBUILDAH_BINFMT_MISC"

// BinfmtDir is where the kernel lists binfmt_misc handlers.
const BinfmtDir = "/proc/sys/fs/binfmt_misc"

// Parse reads "os/arch[/variant]" with Buildah's own parser (containerd's
// platforms, normalised: "linux/aarch64" is linux/arm64).  "" is no
// platform: the zero value.
func Parse(spec string) (v1.Platform, error) {
	if strings.TrimSpace(spec) == "" {
		return v1.Platform{}, nil
	}
	if !strings.Contains(strings.Trim(spec, "/"), "/") {
		return v1.Platform{}, errkind.New(errkind.InvalidArgument, "invalid platform %q: expected os/arch[/variant], e.g. linux/arm64", spec)
	}
	os, arch, variant, err := parse.Platform(spec)
	if err != nil {
		return v1.Platform{}, errkind.Wrap(errkind.InvalidArgument, err)
	}
	return v1.Platform{OS: os, Architecture: arch, Variant: variant}, nil
}

// ParseAll parses a list of platforms, refusing duplicates.
func ParseAll(specs []string) ([]v1.Platform, error) {
	seen := map[string]bool{}
	var out []v1.Platform
	for _, spec := range specs {
		p, err := Parse(spec)
		if err != nil {
			return nil, err
		}
		if p.OS == "" {
			return nil, errkind.New(errkind.InvalidArgument, "empty platform in %q", specs)
		}
		if seen[Format(p)] {
			return nil, errkind.New(errkind.InvalidArgument, "platform %s is listed twice", Format(p))
		}
		seen[Format(p)] = true
		out = append(out, p)
	}
	return out, nil
}

// Format writes a platform back as os/arch[/variant].
func Format(p v1.Platform) string {
	out := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		out += "/" + p.Variant
	}
	return out
}

// Choose sets a system context's platform choices (no-op for the zero
// platform), as buildah's --platform does.
func Choose(sys *types.SystemContext, p v1.Platform) {
	if p.OS == "" {
		return
	}
	sys.OSChoice, sys.ArchitectureChoice, sys.VariantChoice = p.OS, p.Architecture, p.Variant
}

// qemuNames are qemu-user-static's names for Go's architectures where they differ.
var qemuNames = map[string]string{
	"amd64": "x86_64", "arm64": "aarch64", "386": "i386", "mips64le": "mips64el", "mipsle": "mipsel",
	"ppc64le": "ppc64le", "arm": "arm", "s390x": "s390x", "riscv64": "riscv64", "loong64": "loongarch64",
}

// QemuName is qemu's name for a Go architecture (its binfmt handler is qemu-<name>).
func QemuName(arch string) string {
	if name, ok := qemuNames[arch]; ok {
		return name
	}
	return arch
}

// Native reports whether this machine runs arch's programs without emulation.
func Native(arch string) bool {
	return arch == "" || arch == runtime.GOARCH || (runtime.GOARCH == "amd64" && arch == "386") ||
		(runtime.GOARCH == "arm64" && arch == "arm")
}

// CheckEmulation returns nil when programs of arch can run here: natively,
// or through an enabled qemu-<arch> binfmt_misc handler.  Otherwise the
// error names the missing piece, instead of the "exec format error" that
// running would give.
func CheckEmulation(arch string) error {
	if Native(arch) {
		return nil
	}
	dir := BinfmtDir
	if override := os.Getenv(BinfmtEnv); override != "" {
		dir = override
	}
	return checkHandler(dir, arch)
}

func checkHandler(dir, arch string) error {
	name := "qemu-" + QemuName(arch)
	missing := func(why string) error {
		return errkind.New(errkind.EmulationError,
			"cannot run %s programs on this %s machine: %s; install qemu-user-static and register it (binfmt_misc, %s)",
			arch, runtime.GOARCH, why, filepath.Join(dir, name))
	}
	if status, err := os.ReadFile(filepath.Join(dir, "status")); err == nil && strings.TrimSpace(string(status)) == "disabled" {
		return missing("binfmt_misc is disabled")
	}
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return missing(fmt.Sprintf("no binfmt_misc handler for %s", arch))
	}
	if first, _, _ := strings.Cut(string(data), "\n"); strings.TrimSpace(first) != "enabled" {
		return missing(fmt.Sprintf("the binfmt_misc handler for %s is disabled", arch))
	}
	return nil
}
