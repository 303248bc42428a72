//go:build linux

// This file replaces go.podman.io/storage/pkg/reexec/command_linux.go at
// build time (go build -overlay).  Upstream, Self() always returns
// "/proc/self/exe".  Inside a Python process that is the interpreter, so
// pybuildah lets the loaded shared library name a helper executable
// instead, and a lighter one for the subroutines that run most often.
// When nothing is set, the upstream behaviour is unchanged.

package reexec

import (
	"context"
	"os/exec"
	"sync/atomic"
)

var (
	selfOverride atomic.Pointer[string]
	routes       atomic.Pointer[map[string]string]
)

// SetSelf makes Self() return path; an empty path restores /proc/self/exe.
func SetSelf(path string) {
	if path == "" {
		selfOverride.Store(nil)
		return
	}
	selfOverride.Store(&path)
}

// SetSelfFor makes Command and CommandContext run path for the named
// subroutines (argv[0]); other subroutines still run Self().
func SetSelfFor(path string, names ...string) {
	next := map[string]string{}
	if current := routes.Load(); current != nil {
		for name, p := range *current {
			next[name] = p
		}
	}
	for _, name := range names {
		next[name] = path
	}
	routes.Store(&next)
}

// selfFor is the executable that runs the subroutine registered as name.
func selfFor(args []string) string {
	if current := routes.Load(); current != nil && len(args) > 0 {
		if path, ok := (*current)[args[0]]; ok {
			return path
		}
	}
	return Self()
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
	cmd := exec.Command(selfFor(args))
	cmd.Args = args
	return cmd
}

// CommandContext is Command bound to a context.
func CommandContext(ctx context.Context, args ...string) *exec.Cmd {
	panicIfNotInitialized()
	cmd := exec.CommandContext(ctx, selfFor(args))
	cmd.Args = args
	return cmd
}
