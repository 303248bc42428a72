//go:build linux

// This file replaces go.podman.io/storage/pkg/reexec/command_linux.go at
// build time (go build -overlay).  Upstream, Self() always returns
// "/proc/self/exe".  Inside a Python process that is the interpreter, so
// pybuildah lets the loaded shared library name a helper executable
// instead.  When no helper is set, the upstream behaviour is unchanged.

package reexec

import (
	"context"
	"os/exec"
	"sync/atomic"
)

var selfOverride atomic.Pointer[string]

// SetSelf makes Self() return path; an empty path restores /proc/self/exe.
func SetSelf(path string) {
	if path == "" {
		selfOverride.Store(nil)
		return
	}
	selfOverride.Store(&path)
}

// Self returns the executable that re-exec'd subroutines run in.
func Self() string {
	if p := selfOverride.Load(); p != nil {
		return *p
	}
	return "/proc/self/exe"
}

// Command returns an *exec.Cmd that runs Self() with args as its argv.
func Command(args ...string) *exec.Cmd {
	panicIfNotInitialized()
	cmd := exec.Command(Self())
	cmd.Args = args
	return cmd
}

// CommandContext is Command bound to a context.
func CommandContext(ctx context.Context, args ...string) *exec.Cmd {
	panicIfNotInitialized()
	cmd := exec.CommandContext(ctx, Self())
	cmd.Args = args
	return cmd
}
