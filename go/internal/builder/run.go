package builder

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"go.podman.io/buildah"
	"go.podman.io/buildah/pkg/parse"
	"golang.org/x/sys/unix"

	"pybuildah.dev/shim/internal/enums"
	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/events"
	"pybuildah.dev/shim/internal/interrupt"
	"pybuildah.dev/shim/internal/platform"
	"pybuildah.dev/shim/internal/validate"
	"pybuildah.dev/shim/internal/volumes"
	"pybuildah.dev/shim/internal/wire"
)

// Run runs a command in the container.  A non-zero exit is a result, not
// an error; output is kept and, with a stream, also sent line by line.
// The command reads the call's private empty pipe, so that Cancel can
// kill it (see internal/interrupt).
func Run(s *State, o wire.RunOptions) (*wire.RunResult, error) {
	argv, err := validate.Command(o.Command, o.Shell)
	if err != nil {
		return nil, err
	}
	env, err := validate.Environment(o.Env)
	if err != nil {
		return nil, err
	}
	if err := validate.User(o.User); err != nil {
		return nil, err
	}
	if err := validate.Hostname(o.Hostname); err != nil {
		return nil, err
	}
	capAdd, err := validate.Capabilities("cap_add", o.CapAdd)
	if err != nil {
		return nil, err
	}
	capDrop, err := validate.Capabilities("cap_drop", o.CapDrop)
	if err != nil {
		return nil, err
	}
	mounts, err := volumes.Parse(o.Volumes)
	if err != nil {
		return nil, err
	}
	if err := CheckRunMounts(o.Mounts); err != nil {
		return nil, err
	}
	namespaces, networkPolicy, err := enums.Network(o.Network)
	if err != nil {
		return nil, err
	}
	var timeout time.Duration
	if o.Timeout != nil {
		if timeout, err = validate.Timeout((*float64)(o.Timeout)); err != nil {
			return nil, err
		}
	}
	if err := platform.CheckEmulation(s.Builder.Architecture()); err != nil {
		return nil, err
	}
	input, closeInput, err := InputReader(o.InputFD)
	if err != nil {
		return nil, err
	}
	call, err := interrupt.BeginWithInput(o.CallID(), input)
	if err != nil {
		closeInput()
		return nil, err
	}
	defer func() {
		closeInput() // first: End waits for the feeder, which may be waiting on the input
		call.End()
	}()
	if timeout > 0 {
		call.SetTimeout(timeout)
	}
	var stdout, stderr bytes.Buffer
	outLines := &events.LineWriter{Stream: o.Stream, Kind: "stdout"}
	errLines := &events.LineWriter{Stream: o.Stream, Kind: "stderr"}
	if err := s.shared.flush(); err != nil {
		return nil, s.explain(err)
	}
	keepCopier(s)
	err = s.Builder.Run(argv, buildah.RunOptions{
		Isolation:        s.Builder.Isolation,
		Env:              env,
		WorkingDir:       o.WorkDir,
		User:             o.User,
		Stdin:            call.Stdin(),
		Stdout:           &events.Tee{Buf: &stdout, Lines: outLines},
		Stderr:           &events.Tee{Buf: &stderr, Lines: errLines},
		Terminal:         buildah.WithoutTerminal,
		Quiet:            true,
		Hostname:         o.Hostname,
		Mounts:           mounts,
		AddCapabilities:  capAdd,
		DropCapabilities: capDrop,
		NamespaceOptions: namespaces,
		ConfigureNetwork: networkPolicy,
		RunMounts:        o.Mounts,
		ContextDir:       "/", // --mount sources are host paths, as buildah run's without --contextdir
		SystemContext:    s.Store.Sys(),
	})
	outLines.Flush()
	errLines.Flush()
	if err != nil && call.TimedOut() { // a command that finished as the timer fired succeeded
		killed := -int(unix.SIGKILL)
		return nil, &errkind.Error{
			Kind:     errkind.RunTimeout,
			Err:      fmt.Errorf("running %q: timed out after %v; the command was killed", argv, timeout),
			ExitCode: &killed,
			Details:  wire.RunResult{ExitCode: killed, Stdout: stdout.Bytes(), Stderr: untilKilled(stderr.Bytes())}, // what it wrote in time
		}
	}
	if call.Stopped() {
		return nil, errkind.New(errkind.BuildahError, "running %q: cancelled", argv)
	}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		code := exitErr.ExitCode()
		trimmed, signal := TrimRuntimeNotes(stderr.Bytes(), code)
		if signal != 0 {
			code = -int(signal)
		}
		return &wire.RunResult{ExitCode: code, Stdout: stdout.Bytes(), Stderr: trimmed}, nil
	case err != nil && errkind.UnknownUser(err):
		return nil, errkind.Wrap(errkind.InvalidArgument, fmt.Errorf("running %q: %w", argv, err))
	case err != nil && len(o.Mounts) > 0 && errors.Is(err, os.ErrNotExist):
		return nil, errkind.Wrap(errkind.SourceNotFound, fmt.Errorf("running %q: %w", argv, err))
	case err != nil && len(o.Mounts) > 0 && errkind.BadRunMount(err):
		return nil, errkind.Wrap(errkind.InvalidArgument, fmt.Errorf("running %q: %w", argv, err))
	case err != nil:
		return nil, s.explain(fmt.Errorf("running %q: %w", argv, err))
	}
	return &wire.RunResult{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}, nil
}

// untilKilled is a killed command's stderr without the runtime's notes
// ("subprocess exited on killed"), which it may or may not have written
// before it was killed too.
func untilKilled(stderr []byte) []byte {
	trimmed, _ := TrimRuntimeNotes(stderr, 1)
	return trimmed
}

// runtimeNotes is how many note lines the chroot runtime can append: one
// per process level between us and the command.
const runtimeNotes = 3

// TrimRuntimeNotes removes the notes that Buildah's chroot runtime appends
// to a failing command's stderr, and only those: at most runtimeNotes final
// lines that read exactly "subprocess exited with status CODE" (CODE being
// the exit status seen) or "subprocess exited on SIGNAL".  It returns the
// rest, byte for byte, and the signal that killed the command, if a note
// says so (the runtime itself then exits with status 1).
func TrimRuntimeNotes(stderr []byte, code int) ([]byte, unix.Signal) {
	status := []byte(fmt.Sprintf("subprocess exited with status %d", code))
	var killedBy unix.Signal
	end := len(stderr)
	for range runtimeNotes {
		if end == 0 || stderr[end-1] != '\n' {
			break
		}
		start := bytes.LastIndexByte(stderr[:end-1], '\n') + 1
		line := stderr[start : end-1]
		if bytes.Equal(line, status) {
			end = start
			continue
		}
		if name, ok := bytes.CutPrefix(line, []byte("subprocess exited on ")); ok {
			if sig := signalNamed(string(name)); sig != 0 {
				killedBy = sig
				end = start
			}
		}
		break
	}
	return stderr[:end], killedBy
}

// signalNamed maps Go's description of a signal ("killed", "terminated")
// back to its number.
func signalNamed(name string) unix.Signal {
	for sig := unix.Signal(1); sig < 65; sig++ {
		if sig.String() == name {
			return sig
		}
	}
	return 0
}

// CheckRunMounts applies to buildah run --mount specs the rule that the
// buildah command applies when no --contextdir is given: a bind mount
// (the default type) that is not from= an image names an absolute host
// path that exists.  Run passes "/" as the context directory, which
// Buildah's RunMounts need, so without this check a missing src would
// bind the host's root.  Everything else is left to Buildah's parser.
func CheckRunMounts(mounts []string) error {
	for _, spec := range mounts {
		kind, src, from := "bind", "", false
		for _, field := range strings.Split(spec, ",") {
			key, value, _ := strings.Cut(field, "=")
			switch key {
			case "type":
				kind = value
			case "src", "source":
				src = value
			case "from":
				from = true
			}
		}
		if kind != "bind" || from {
			continue
		}
		if src == "" || !filepath.IsAbs(src) {
			return errkind.New(errkind.InvalidArgument, "mount %q: a bind mount needs src=, an absolute host path", spec)
		}
		if err := parse.ValidateVolumeHostDir(src); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return errkind.Wrap(errkind.SourceNotFound, fmt.Errorf("mount %q: %w", spec, err))
			}
			return errkind.Wrap(errkind.InvalidArgument, fmt.Errorf("mount %q: %w", spec, err))
		}
	}
	return nil
}

// InputReader reads the caller's file descriptor fd (nil: no input)
// through a duplicate of it: a regular file (a memfd, or a file the caller
// opened) from its current offset to its end, without moving that offset; a
// pipe as a stream until its writer closes it.  The close function also
// ends a read that is waiting on the pipe, so a stalled writer cannot keep
// the call from returning.
func InputReader(fd *int) (io.Reader, func(), error) {
	if fd == nil {
		return nil, func() {}, nil
	}
	if *fd < 0 {
		return nil, nil, errkind.New(errkind.InvalidArgument, "input_fd %d is not a file descriptor", *fd)
	}
	dup, err := unix.FcntlInt(uintptr(*fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, nil, errkind.New(errkind.InvalidArgument, "input_fd %d: %v", *fd, err)
	}
	var stat unix.Stat_t
	if err := unix.Fstat(dup, &stat); err != nil {
		unix.Close(dup)
		return nil, nil, errkind.New(errkind.InvalidArgument, "input_fd %d: %v", *fd, err)
	}
	switch stat.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		offset, err := unix.Seek(dup, 0, io.SeekCurrent)
		if err != nil {
			unix.Close(dup)
			return nil, nil, errkind.New(errkind.InvalidArgument, "input_fd %d: %v", *fd, err)
		}
		f := os.NewFile(uintptr(dup), "input")
		return io.NewSectionReader(f, offset, max(stat.Size-offset, 0)), func() { f.Close() }, nil
	case unix.S_IFIFO:
		// Non-blocking, so that the runtime's poller serves reads and Close interrupts one.
		if err := unix.SetNonblock(dup, true); err != nil {
			unix.Close(dup)
			return nil, nil, errkind.New(errkind.InvalidArgument, "input_fd %d: %v", *fd, err)
		}
		f := os.NewFile(uintptr(dup), "input")
		return f, func() { f.Close() }, nil
	}
	unix.Close(dup)
	return nil, nil, errkind.New(errkind.InvalidArgument, "input_fd %d is neither a regular file nor a pipe", *fd)
}
