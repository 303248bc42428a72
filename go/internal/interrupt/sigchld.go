package interrupt

import (
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A host program may ignore SIGCHLD (signal(SIGCHLD, SIG_IGN)) or set
// SA_NOCLDWAIT; the kernel then reaps children itself and every wait for
// the helpers Buildah starts fails with ECHILD.  While any call runs,
// ReapOwnChildren puts the default disposition in place (which also
// ignores the signal, but leaves children to their parent's wait), and the
// last call to end restores the program's.  Go never handles SIGCHLD in
// the host process; this goes straight to rt_sigaction, so Go's and
// Python's signal tables are untouched.

// sigaction is the kernel's struct sigaction (amd64, arm64).
type sigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

const (
	sigIgn      = 1
	saNoCldWait = 2 // SA_NOCLDWAIT
)

var reaping = struct {
	sync.Mutex
	users int
	saved *sigaction // the program's disposition, while ours is in place
}{}

func rtSigaction(sig unix.Signal, act, old *sigaction) error {
	_, _, errno := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(act)),
		uintptr(unsafe.Pointer(old)), unsafe.Sizeof(uint64(0)), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// ReapOwnChildren makes sure this process's children can be waited for
// until the returned function is called.
func ReapOwnChildren() func() {
	reaping.Lock()
	defer reaping.Unlock()
	reaping.users++
	if reaping.users == 1 {
		var current sigaction
		if rtSigaction(unix.SIGCHLD, nil, &current) == nil &&
			(current.handler == sigIgn || current.flags&saNoCldWait != 0) {
			dfl := sigaction{flags: current.flags &^ saNoCldWait, restorer: current.restorer, mask: current.mask}
			if current.handler != sigIgn {
				dfl.handler = current.handler // a real handler stays; only SA_NOCLDWAIT goes
			}
			if rtSigaction(unix.SIGCHLD, &dfl, nil) == nil {
				reaping.saved = &current
			}
		}
	}
	return func() {
		reaping.Lock()
		defer reaping.Unlock()
		reaping.users--
		if reaping.users == 0 && reaping.saved != nil {
			_ = rtSigaction(unix.SIGCHLD, reaping.saved, nil)
			reaping.saved = nil
		}
	}
}
