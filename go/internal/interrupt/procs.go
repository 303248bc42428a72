package interrupt

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// killProcesses sends SIGKILL to every process whose stdin is the call's
// pipe (the runtime a RUN starts) and to all their descendants, deepest
// first.  The pipe is private to the call, so nothing else matches.
func killProcesses(ino uint64) {
	children, roots := scanProcesses(fmt.Sprintf("pipe:[%d]", ino))
	for _, pid := range victims(children, roots) {
		_ = unix.Kill(pid, unix.SIGKILL)
	}
}

// scanProcesses maps parents to children and lists the processes whose
// stdin links to stdin.
func scanProcesses(stdin string) (map[int][]int, []int) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, nil
	}
	self := os.Getpid()
	children := map[int][]int{}
	var roots []int
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil || pid == self {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", entry.Name(), "stat"))
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(stat); ok {
			children[ppid] = append(children[ppid], pid)
		}
		if link, err := os.Readlink(filepath.Join("/proc", entry.Name(), "fd", "0")); err == nil && link == stdin {
			roots = append(roots, pid)
		}
	}
	return children, roots
}

// parentOf reads the parent PID from a /proc/PID/stat line.
func parentOf(stat []byte) (int, bool) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, false
	}
	fields := strings.Fields(string(stat[end+1:]))
	if len(fields) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(fields[1])
	return ppid, err == nil
}

// victims lists roots and all their descendants, deepest first.
func victims(children map[int][]int, roots []int) []int {
	var out []int
	var walk func(pid int)
	walk = func(pid int) {
		for _, child := range children[pid] {
			walk(child)
		}
		out = append(out, pid)
	}
	for _, root := range roots {
		walk(root)
	}
	return out
}
