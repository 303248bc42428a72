package store

// A Builder keeps its working container mounted while it is in use (see
// builder.keepCopier).  Each such mount is recorded as an empty file in the
// store's run root, <runroot>/pybuildah-mounts/<container ID>.<pid>-<start>.<n>,
// so that when its process dies holding it (SIGKILL), the next store open
// unmounts it, as it removes the dead process's scratch directory.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"go.podman.io/storage"
)

const mountsDir = "pybuildah-mounts"

var mountSeq atomic.Uint64

// RecordMount notes that this process holds a mount of container id and
// returns the record's path ("" if it could not be written: the mount is
// then only released by this process, as before).
func RecordMount(s storage.Store, id string) string {
	start, err := startTime(os.Getpid())
	if err != nil {
		return ""
	}
	dir := filepath.Join(s.RunRoot(), mountsDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return ""
	}
	path := filepath.Join(dir, fmt.Sprintf("%s.%d-%d.%d", id, os.Getpid(), start, mountSeq.Add(1)))
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		return ""
	}
	return path
}

// ForgetMount removes a record once its mount is released.
func ForgetMount(path string) {
	if path != "" {
		_ = os.Remove(path)
	}
}

// ReapMounts releases the mounts recorded by processes that are gone (no
// such PID, or a PID reused by a process that started at another time).
func ReapMounts(s storage.Store) {
	dir := filepath.Join(s.RunRoot(), mountsDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, entry := range entries {
		id, pid, start, ok := parseMountRecord(entry.Name())
		if !ok {
			continue
		}
		if running, err := startTime(pid); err == nil && running == start {
			continue // alive (this process included)
		}
		_, _ = s.Unmount(id, false) // one reference: the dead process's; others' mounts stay
		_ = os.Remove(filepath.Join(dir, entry.Name()))
	}
}

// parseMountRecord reads "<container ID>.<pid>-<start>.<n>".
func parseMountRecord(name string) (id string, pid int, start uint64, ok bool) {
	id, owner, found := strings.Cut(name, ".")
	if !found || id == "" {
		return "", 0, 0, false
	}
	pidStart, seq, found := strings.Cut(owner, ".")
	if !found || seq == "" {
		return "", 0, 0, false
	}
	pid, start, ok = parseScratchName(scratchPrefix + pidStart)
	return id, pid, start, ok
}
