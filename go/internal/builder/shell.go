package builder

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"

	"go.podman.io/buildah"
	"golang.org/x/term"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/validate"
	"pybuildah.dev/shim/internal/wire"
)

// defaultShell is what Shell runs when no command is given.
var defaultShell = []string{"/bin/sh"}

// Shell runs an interactive command in the container on this process's
// terminal, as `buildah run -t` does: Buildah's runtime gives the command a
// pseudo-terminal relayed to our standard input and output, with our
// terminal in raw mode meanwhile (so Ctrl-C reaches the command, not us).
// The container's environment, working directory and user apply unless
// given.  It returns the command's exit status when it ends.
func Shell(s *State, o wire.ShellOptions) (int, error) {
	argv := o.Command
	if len(argv) == 0 {
		argv = defaultShell
	}
	env, err := validate.Environment(o.Env)
	if err != nil {
		return 0, err
	}
	if err := validate.User(o.User); err != nil {
		return 0, err
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return 0, errkind.New(errkind.InvalidArgument, "an interactive shell needs a terminal on standard input")
	}
	keepCopier(s)
	err = s.Builder.Run(argv, buildah.RunOptions{
		Isolation:     s.Builder.Isolation,
		Env:           env,
		WorkingDir:    o.WorkDir,
		User:          o.User,
		Stdin:         os.Stdin,
		Stdout:        os.Stdout,
		Stderr:        &noteFilter{out: os.Stderr}, // the command's own stderr is the terminal
		Terminal:      buildah.WithTerminal,
		Quiet:         true,
		SystemContext: s.Store.Sys(),
	})
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		return exitErr.ExitCode(), nil
	case err != nil && errkind.UnknownUser(err):
		return 0, errkind.Wrap(errkind.InvalidArgument, fmt.Errorf("running %q: %w", argv, err))
	case err != nil:
		return 0, s.explain(fmt.Errorf("running %q: %w", argv, err))
	}
	return 0, nil
}

// noteFilter passes the runtime's own stderr on, less its "subprocess
// exited ..." notes (TrimRuntimeNotes): the shell's user saw it exit.
type noteFilter struct {
	out     io.Writer
	pending []byte
}

func (f *noteFilter) Write(p []byte) (int, error) {
	f.pending = append(f.pending, p...)
	for {
		i := bytes.IndexByte(f.pending, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := f.pending[:i+1]
		if !bytes.HasPrefix(line, []byte("subprocess exited ")) {
			if _, err := f.out.Write(line); err != nil {
				return len(p), err
			}
		}
		f.pending = f.pending[i+1:]
	}
}
