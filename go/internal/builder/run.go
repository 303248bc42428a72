package builder

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"go.podman.io/buildah"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/events"
	"pybuildah.dev/shim/internal/platform"
	"pybuildah.dev/shim/internal/validate"
	"pybuildah.dev/shim/internal/wire"
)

// Run runs a command in the container.  A non-zero exit is a result, not
// an error; output is kept and, with a stream, also sent line by line.
func Run(s *State, o wire.RunOptions) (*wire.RunResult, error) {
	argv, err := validate.Command(o.Command, o.Shell)
	if err != nil {
		return nil, err
	}
	if err := platform.CheckEmulation(s.Builder.Architecture()); err != nil {
		return nil, err
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()
	var stdout, stderr bytes.Buffer
	outLines := &events.LineWriter{Stream: o.Stream, Kind: "stdout"}
	errLines := &events.LineWriter{Stream: o.Stream, Kind: "stderr"}
	keepCopier(s)
	err = s.Builder.Run(argv, buildah.RunOptions{
		Isolation:  s.Builder.Isolation,
		Env:        o.Env,
		WorkingDir: o.WorkDir,
		User:       o.User,
		Stdin:      devnull,
		Stdout:     &events.Tee{Buf: &stdout, Lines: outLines},
		Stderr:     &events.Tee{Buf: &stderr, Lines: errLines},
		Terminal:   buildah.WithoutTerminal,
		Quiet:      true,
	})
	outLines.Flush()
	errLines.Flush()
	result := &wire.RunResult{Stdout: stdout.String(), Stderr: TrimRuntimeNotes(stderr.String())}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		result.ExitCode = exitErr.ExitCode()
		return result, nil
	case err != nil && errkind.UnknownUser(err):
		return nil, errkind.Wrap(errkind.InvalidArgument, fmt.Errorf("running %q: %w", argv, err))
	case err != nil:
		return nil, s.explain(fmt.Errorf("running %q: %w", argv, err))
	}
	return result, nil
}

// TrimRuntimeNotes drops the "subprocess exited with status N" lines that
// Buildah's chroot runtime appends to a failing command's stderr: they are
// not the command's output, and the exit code is reported separately.
func TrimRuntimeNotes(stderr string) string {
	lines := strings.SplitAfter(stderr, "\n")
	for len(lines) > 0 {
		last := strings.TrimSpace(lines[len(lines)-1])
		if last == "" || strings.HasPrefix(last, "subprocess exited with status ") {
			lines = lines[:len(lines)-1]
			continue
		}
		break
	}
	out := strings.Join(lines, "")
	if stderr != "" && out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	return out
}
