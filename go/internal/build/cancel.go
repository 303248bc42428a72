package build

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"pybuildah.dev/shim/internal/wire"
)

// run is one running build, found by its id when Python cancels it.
type run struct {
	cancel   context.CancelFunc
	stdinIno uint64 // the inode of this build's stdin pipe, which its RUN steps inherit
	done     chan struct{}
	once     sync.Once
	mu       sync.Mutex
	stopped  bool
	signal   syscall.Signal // the signal that stopped the build, if any
}

var running = struct {
	sync.Mutex
	builds    map[uint64]*run
	cancelled map[uint64]bool // cancel requests that arrived before their build started
}{builds: map[uint64]*run{}, cancelled: map[uint64]bool{}}

// stop cancels the build's context and, until the build returns, kills the
// processes of its RUN steps: Builder.Run takes no context, so a RUN step
// would otherwise run to its end.
func (r *run) stop(sig syscall.Signal) {
	r.mu.Lock()
	if !r.stopped {
		r.stopped = true
		r.signal = sig
	}
	r.mu.Unlock()
	r.once.Do(func() {
		r.cancel()
		go func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				killBuildProcesses(r.stdinIno)
				select {
				case <-r.done:
					return
				case <-tick.C:
				}
			}
		}()
	})
}

func (r *run) state() (bool, syscall.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopped, r.signal
}

// holdSignals makes the given stopping signals (SIGINT, SIGTERM, SIGHUP)
// stop the build first; Python re-delivers them to its own handler after.
// The chroot runtime catches these signals during RUN steps anyway, so
// without this a Ctrl-C would only end the command.  The returned function
// restores the previous handlers.
func (r *run) holdSignals(held []int) func() {
	signals := make(chan os.Signal, 1)
	for _, sig := range held {
		switch s := syscall.Signal(sig); s {
		case syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP:
			signal.Notify(signals, s)
		}
	}
	go func() {
		select {
		case sig := <-signals:
			if s, ok := sig.(syscall.Signal); ok {
				r.stop(s)
			}
		case <-r.done:
		}
	}()
	return func() { signal.Stop(signals) }
}

// register makes the build findable by Cancel; a cancel that came first
// stops it at once.
func register(id uint64, r *run) {
	running.Lock()
	defer running.Unlock()
	if id == 0 {
		return
	}
	running.builds[id] = r
	if running.cancelled[id] {
		delete(running.cancelled, id)
		r.stop(0)
	}
}

func unregister(id uint64) {
	running.Lock()
	defer running.Unlock()
	delete(running.builds, id)
	delete(running.cancelled, id)
}

// Cancel stops a running build; it returns at once (true when the build
// was running) and the build call itself returns with BuildCancelled.
func Cancel(o wire.CancelOptions) (bool, error) {
	running.Lock()
	defer running.Unlock()
	if r, ok := running.builds[o.BuildID]; ok {
		r.stop(0)
		return true, nil
	}
	running.cancelled[o.BuildID] = true
	return false, nil
}

// killBuildProcesses sends SIGKILL to every process whose stdin is the
// build's pipe (the chroot runtime that each RUN step starts) and to all of
// their descendants, deepest first.  The pipe is private to the build, so
// nothing else in this process or on the host matches.
func killBuildProcesses(ino uint64) {
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
