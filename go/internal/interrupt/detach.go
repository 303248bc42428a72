package interrupt

import (
	"fmt"

	"github.com/sirupsen/logrus"
)

// Detach runs fn in a goroutine of its own and returns its result, or the
// call's cancellation error as soon as the call is cancelled, whichever
// comes first.
//
// It is for work that may wait on a containers/storage lock held by another
// process: storage waits in fcntl(F_SETLKW), which no context reaches, and
// making storage give up half-way (a panic out of its lock) could leave
// in-process mutexes held or work half-done.  So a cancelled fn is not
// stopped but left to finish on its own once the lock is free: it runs
// storage's code to the end, so every lock it takes is released by the code
// that took it, and whatever it made then goes to discard (close the store,
// delete the container), so nothing outlives the cancelled call.  release
// (if not nil) runs in the goroutine after the result was returned or
// discarded: it lets go of what fn needed (a reference on the store).  A
// panic in fn is an error for the caller, or logged once nobody waits.
func Detach[R any](c *Call, fn func() (R, error), discard func(R), release func()) (R, error) {
	type outcome struct {
		value R
		err   error
	}
	done := make(chan outcome) // unbuffered: a result is either received or discarded
	abandoned := make(chan struct{})
	go func() {
		defer ReapOwnChildren()() // it may outlive the call that started it
		if release != nil {
			defer release()
		}
		var out outcome
		func() {
			defer func() {
				if r := recover(); r != nil {
					out.err = fmt.Errorf("internal error in pybuildah shim: %v", r)
				}
			}()
			out.value, out.err = fn()
		}()
		select {
		case done <- out:
		case <-abandoned:
			if out.err != nil {
				logrus.Debugf("pybuildah: a cancelled call ended later: %v", out.err)
			} else if discard != nil {
				discard(out.value)
			}
		}
	}()
	select {
	case out := <-done:
		return out.value, out.err
	case <-c.ctx.Done():
	}
	close(abandoned) // from now on nobody receives from done: the goroutine discards
	var zero R
	return zero, c.ctx.Err()
}
