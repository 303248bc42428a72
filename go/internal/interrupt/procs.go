package interrupt

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// killProcesses kills every process whose stdin is the call's pipe (the
// runtime a RUN starts) and all their descendants.  The pipe is private to
// the call, so nothing else matches.  They are first stopped, parents before
// children, until a scan finds none not yet stopped: killing a child of a
// running shell lets the shell go on to its next command before its own
// SIGKILL lands (`sleep 9; echo never` printed "never" under load), and a
// child forked during a scan is caught by the next one.
func killProcesses(ino uint64) {
	stdin := pipeName(ino)
	var stopped []int
	for range maxScans {
		children, roots := scanProcesses(stdin)
		found := victims(children, roots)
		fresh := false
		for i := len(found) - 1; i >= 0; i-- { // parents first
			if pid := found[i]; !slices.Contains(stopped, pid) {
				stopped, fresh = append(stopped, pid), true
				_ = unix.Kill(pid, unix.SIGSTOP)
			}
		}
		if !fresh {
			break
		}
	}
	for _, pid := range stopped { // a stopped process takes SIGKILL at once
		_ = unix.Kill(pid, unix.SIGKILL)
	}
}

// pipeName is how /proc/PID/fd shows a pipe with inode ino.
func pipeName(ino uint64) string { return fmt.Sprintf("pipe:[%d]", ino) }

// maxScans bounds the stop-and-rescan rounds of killProcesses: each round
// can only find children forked before their parent was stopped.
const maxScans = 8

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
