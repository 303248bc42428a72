package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"go.podman.io/common/pkg/config"
	"go.podman.io/storage/pkg/system"
)

// Each process that uses pybuildah keeps its temporary files (Buildah's RUN
// bundles, which hold the command's environment, and image-copy scratch
// space) in one directory of its own, named after its PID and start time:
// <base>/pybuildah-<pid>-<start>.  A process killed with SIGKILL cannot
// clean up; the next one that opens a store removes the directories of
// processes that are gone.

const scratchPrefix = "pybuildah-"

var (
	scratchOnce sync.Once
	scratchDir  string
	scratchErr  error
)

// Scratch returns this process's scratch directory, made (mode 0700) on
// first use, after removing those of dead processes; Buildah's temporary
// directories go there from then on (see redirectTemp).
func Scratch() (string, error) {
	scratchOnce.Do(func() {
		base := tempBase()
		ReapScratch(base)
		start, err := startTime(os.Getpid())
		if err != nil {
			scratchErr = err
			return
		}
		dir := filepath.Join(base, fmt.Sprintf("%s%d-%d", scratchPrefix, os.Getpid(), start))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			scratchErr = err
			return
		}
		scratchDir = dir
		redirectTemp(dir)
	})
	return scratchDir, scratchErr
}

// tempBase is where Buildah would put temporary files: $TMPDIR, else
// containers.conf's image_copy_tmp_dir, else /var/tmp.
func tempBase() string {
	if dir, ok := os.LookupEnv("TMPDIR"); ok && filepath.IsAbs(dir) {
		return dir
	}
	if conf, err := config.Default(); err == nil {
		if dir, err := conf.ImageCopyTmpDir(); err == nil && filepath.IsAbs(dir) {
			return dir
		}
	}
	return "/var/tmp"
}

// redirectTemp points Buildah's temporary directory (its tmpdir.GetTempDir
// reads containers.conf's image_copy_tmp_dir when TMPDIR is not set) at
// dir.  The process environment is the host's and stays untouched, so with
// TMPDIR set Buildah keeps using TMPDIR itself.
func redirectTemp(dir string) {
	if _, ok := os.LookupEnv("TMPDIR"); ok {
		return
	}
	if conf, err := config.Default(); err == nil {
		conf.Engine.ImageCopyTmpDir = dir
	}
}

// ReapScratch removes the scratch directories in base whose process is gone
// (no such PID, or a PID reused by a process that started at another time),
// with anything still mounted in them.
func ReapScratch(base string) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, entry := range entries {
		pid, start, ok := parseScratchName(entry.Name())
		if !ok || !entry.IsDir() {
			continue
		}
		if running, err := startTime(pid); err == nil && running == start {
			continue // alive (this process included)
		}
		// EnsureRemoveAll also unmounts what the dead process left mounted
		// there (a build's context is an overlay mount under its scratch).
		_ = system.EnsureRemoveAll(filepath.Join(base, entry.Name()))
	}
}

// parseScratchName reads "pybuildah-<pid>-<start>".
func parseScratchName(name string) (pid int, start uint64, ok bool) {
	rest, found := strings.CutPrefix(name, scratchPrefix)
	if !found {
		return 0, 0, false
	}
	pidText, startText, found := strings.Cut(rest, "-")
	if !found {
		return 0, 0, false
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 {
		return 0, 0, false
	}
	start, err = strconv.ParseUint(startText, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return pid, start, true
}

// startTime is a process's start time in clock ticks since boot (field 22
// of /proc/<pid>/stat), which tells a reused PID from the original.
func startTime(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStartTime(string(data))
}

func parseStartTime(stat string) (uint64, error) {
	// The command name (field 2) is in parentheses and may hold spaces.
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("malformed /proc stat %q", stat)
	}
	fields := strings.Fields(stat[end+1:])
	if len(fields) < 20 {
		return 0, fmt.Errorf("malformed /proc stat %q", stat)
	}
	return strconv.ParseUint(fields[19], 10, 64) // field 22 overall; fields here start at 3
}
