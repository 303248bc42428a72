package main

// This package is built twice: as the c-shared library that Python loads,
// and as the helper executable that every re-exec'd subroutine of Buildah
// and containers/storage runs in (the overlay makes reexec.Self() return
// the helper's path inside the library).  Both carry the same registered
// handlers because both link the same packages.

import "C"

import (
	"fmt"
	"os"
	"sync"

	"github.com/sirupsen/logrus"
	"go.podman.io/buildah"
	"go.podman.io/storage/pkg/reexec"
)

// main is the helper's entry point; the shared library never runs it.
func main() {
	if buildah.InitReexec() {
		return
	}
	fmt.Fprintf(os.Stderr, "%s: this is pybuildah's re-exec helper; it is started by the pybuildah library, not by hand\n", os.Args[0])
	os.Exit(2)
}

var initOnce sync.Once

// lightSubroutines run in the light helper (go/lighthelper), which links
// only the packages that register them.
var lightSubroutines = []string{"buildah-copier", "chrootuser-open", "storage-untar", "storage-tar", "storage-applyLayer",
	"buildah-chroot-runtime", "buildah-chroot-exec"} // the chroot runtime: issue #10

type initOptions struct {
	Helper      string `json:"helper"`
	LightHelper string `json:"light_helper"`
	LogStream   uint64 `json:"log_stream"`
	LogLevel    string `json:"log_level"`
}

// PyBuildahInitReexec mirrors buildah.InitReexec() for the library: it marks
// the reexec package initialised (exactly once, in the host process) and
// points every future re-exec at the helper executable.  It returns false:
// the host process is never itself a re-exec'd subroutine.
//
//export PyBuildahInitReexec
func PyBuildahInitReexec(args *C.char) *C.char {
	return call(args, func(o initOptions) (any, error) {
		if o.Helper == "" {
			return nil, kindf("InvalidArgument", "the path of the re-exec helper is required")
		}
		if err := checkExecutable(o.Helper); err != nil {
			return nil, err
		}
		if o.LightHelper != "" {
			if err := checkExecutable(o.LightHelper); err != nil {
				return nil, err
			}
		}
		level := logrus.GetLevel()
		if o.LogLevel != "" {
			var err error
			if level, err = logrus.ParseLevel(o.LogLevel); err != nil {
				return nil, kindf("InvalidArgument", "PYBUILDAH_LOG_LEVEL: %v", err)
			}
		}
		ranHandler := false
		initOnce.Do(func() { ranHandler = buildah.InitReexec() })
		reexec.SetSelf(o.Helper)
		if o.LightHelper != "" {
			reexec.SetSelfFor(o.LightHelper, lightSubroutines...)
		}
		if o.LogStream != 0 {
			// Buildah's own log lines go to Python's logging, not to stderr.
			logrus.SetOutput(&lineWriter{stream: o.LogStream, kind: "log"})
			logrus.SetFormatter(&logrus.TextFormatter{DisableTimestamp: true, DisableQuote: true})
		}
		logrus.SetLevel(level)
		return ranHandler, nil
	})
}

// checkExecutable fails unless path is an executable file.
func checkExecutable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return kindf("BuildahError", "pybuildah re-exec helper: %v", err)
	}
	if info.IsDir() || info.Mode()&0o111 == 0 {
		return kindf("BuildahError", "pybuildah re-exec helper %s is not executable", path)
	}
	return nil
}
