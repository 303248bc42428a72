package sysctx

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.podman.io/buildah/define"
	"go.podman.io/common/pkg/config"
	"golang.org/x/sys/unix"

	"pybuildah.dev/shim/internal/errkind"
)

// RunDefaults are what RUN steps get from containers.conf (or its built-in
// defaults), as Buildah's CLI does: without capabilities RUN steps could do
// nothing as root.
type RunDefaults struct {
	Capabilities []string
	Ulimits      []string
	ShmSize      string
}

// ContainersConf reads containers.conf and computes the run-time defaults.
func ContainersConf() (*RunDefaults, error) {
	conf, err := config.Default()
	if err != nil {
		return nil, errkind.Wrap(errkind.StoreError, fmt.Errorf("reading containers.conf: %w", err))
	}
	capabilities, err := conf.Capabilities("", nil, nil)
	if err != nil {
		return nil, err
	}
	return &RunDefaults{
		Capabilities: capabilities,
		Ulimits:      Ulimits(conf.Containers.DefaultUlimits.Get(), HasCapability(unix.CAP_SYS_RESOURCE), Getrlimit),
		ShmSize:      conf.Containers.ShmSize,
	}, nil
}

// Getrlimit reads one of this process's limits.
func Getrlimit(resource int) (unix.Rlimit, error) {
	var rl unix.Rlimit
	err := unix.Getrlimit(resource, &rl)
	return rl, err
}

// Ulimits are containers.conf's default ulimits, then, when this process
// cannot raise its limits (no CAP_SYS_RESOURCE, common in containers and CI
// sandboxes), its own hard limits for nofile and nproc: as root Buildah asks
// for 1048576, which would fail there.
func Ulimits(defaults []string, canRaise bool, getrlimit func(int) (unix.Rlimit, error)) []string {
	limits := append([]string(nil), defaults...)
	if canRaise {
		return limits
	}
	for _, r := range []struct {
		name     string
		resource int
	}{{"nofile", unix.RLIMIT_NOFILE}, {"nproc", unix.RLIMIT_NPROC}} {
		if rl, err := getrlimit(r.resource); err == nil && rl.Max < define.RLimitDefaultValue {
			limits = append(limits, fmt.Sprintf("%s=%d:%d", r.name, rl.Max, rl.Max))
		}
	}
	return limits
}

// HasCapability reads the effective capability set of this process.
func HasCapability(bit int) bool {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	return capabilityIn(string(data), bit)
}

func capabilityIn(status string, bit int) bool {
	for line := range strings.Lines(status) {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			return err == nil && mask&(1<<uint(bit)) != 0
		}
	}
	return false
}
