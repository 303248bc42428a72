// Package reexecinit prepares the host process for Buildah's re-exec'd
// subroutines: it runs buildah.InitReexec() once, points reexec.Self() at
// the helper executables (see overlay/reexec_self_linux.go) and sends
// Buildah's logrus output to Python.
package reexecinit

import (
	"os"
	"sync"

	"github.com/sirupsen/logrus"
	"go.podman.io/buildah"
	"go.podman.io/buildah/chroot"
	"go.podman.io/storage/pkg/reexec"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/events"
	"pybuildah.dev/shim/internal/wire"
)

var initOnce sync.Once

// LightSubroutines run in the light helper (go/lighthelper), which links
// only the packages that register them.
var LightSubroutines = []string{"buildah-copier", "chrootuser-open", "storage-untar", "storage-tar", "storage-applyLayer",
	"buildah-chroot-runtime", "buildah-chroot-exec"}

// Init mirrors buildah.InitReexec() for the library: it marks the reexec
// package initialised (exactly once, in the host process) and points every
// future re-exec at the helpers.  The result is false: the host process is
// never itself a re-exec'd subroutine.
func Init(o wire.InitOptions) (bool, error) {
	level, err := check(o)
	if err != nil {
		return false, err
	}
	ranHandler := false
	initOnce.Do(func() { ranHandler = buildah.InitReexec() })
	// The host process's signals belong to Python: RUN steps must not
	// install Go handlers for SIGINT, SIGTERM and SIGHUP (Python cancels a
	// call through internal/interrupt instead).
	chroot.ForwardSignals = false
	reexec.SetSelf(o.Helper)
	if o.LightHelper != "" {
		reexec.SetSelfFor(o.LightHelper, LightSubroutines...)
	}
	if o.LogStream != 0 {
		// Buildah's own log lines go to Python's logging, not to stderr.
		logrus.SetOutput(&events.LineWriter{Stream: o.LogStream, Kind: "log"})
		logrus.SetFormatter(&logrus.TextFormatter{DisableTimestamp: true, DisableQuote: true})
	}
	logrus.SetLevel(level)
	return ranHandler, nil
}

// check validates the helpers and the log level before anything changes.
func check(o wire.InitOptions) (logrus.Level, error) {
	if o.Helper == "" {
		return 0, errkind.New(errkind.InvalidArgument, "the path of the re-exec helper is required")
	}
	if err := checkExecutable(o.Helper); err != nil {
		return 0, err
	}
	if o.LightHelper != "" {
		if err := checkExecutable(o.LightHelper); err != nil {
			return 0, err
		}
	}
	if o.LogLevel == "" {
		return logrus.GetLevel(), nil
	}
	level, err := logrus.ParseLevel(o.LogLevel)
	if err != nil {
		return 0, errkind.New(errkind.InvalidArgument, "PYBUILDAH_LOG_LEVEL: %v", err)
	}
	return level, nil
}

// checkExecutable fails unless path is an executable file.
func checkExecutable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return errkind.New(errkind.BuildahError, "pybuildah re-exec helper: %v", err)
	}
	if info.IsDir() || info.Mode()&0o111 == 0 {
		return errkind.New(errkind.BuildahError, "pybuildah re-exec helper %s is not executable", path)
	}
	return nil
}
