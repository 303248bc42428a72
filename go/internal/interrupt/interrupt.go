// Package interrupt lets Python stop a long call (run, build, pull, push,
// commit, a new working container): each such call registers under the id
// Python gave it, gets a context and a private stdin pipe, and Cancel(id)
// cancels the context and kills every process that inherited the pipe.
//
// The host process never catches SIGINT, SIGTERM or SIGHUP: Python does,
// and turns them into a Cancel (see the chroot ForwardSignals patch).
package interrupt

import (
	"context"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/wire"
)

// Call is one running, cancellable call.
type Call struct {
	id       uint64
	ctx      context.Context
	cancel   context.CancelFunc
	stdin    *os.File // read end of a private pipe: the input, then EOF
	stdinIno uint64
	feeder   *os.File      // write end while input is still being written
	fed      chan struct{} // closed when the feeder is done
	done     chan struct{}
	once     sync.Once
	mu       sync.Mutex
	stopped  bool
	timedOut bool
	deadline *time.Timer
}

var running = struct {
	sync.Mutex
	calls     map[uint64]*Call
	cancelled map[uint64]bool // cancels that arrived before their call began
}{calls: map[uint64]*Call{}, cancelled: map[uint64]bool{}}

// Begin registers the call id (0: not cancellable, but still usable) and
// returns it; End must follow.  A Cancel that came first stops it at once.
func Begin(id uint64) (*Call, error) {
	return BeginWithInput(id, nil)
}

// BeginWithInput is Begin for a call whose processes read input from
// stdin: a goroutine writes it into the call's pipe and then closes it, so
// a command may read any amount while its output is being collected.
func BeginWithInput(id uint64, input io.Reader) (*Call, error) {
	stdin, writer, ino, err := privatePipe()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Call{id: id, ctx: ctx, cancel: cancel, stdin: stdin, stdinIno: ino, done: make(chan struct{}), fed: make(chan struct{})}
	if input == nil {
		writer.Close()
		close(c.fed)
	} else {
		c.feeder = writer
		go func() {
			defer close(c.fed)
			_, _ = io.Copy(writer, input) // EPIPE: the command stopped reading, as with subprocess
			writer.Close()
		}()
	}
	if id == 0 {
		return c, nil
	}
	running.Lock()
	defer running.Unlock()
	running.calls[id] = c
	if running.cancelled[id] {
		delete(running.cancelled, id)
		c.stop()
	}
	return c, nil
}

// End unregisters the call and releases its pipe and context.
func (c *Call) End() {
	if c.id != 0 {
		running.Lock()
		if running.calls[c.id] == c {
			delete(running.calls, c.id)
		}
		delete(running.cancelled, c.id)
		running.Unlock()
	}
	if c.deadline != nil {
		c.deadline.Stop()
	}
	close(c.done)
	c.cancel()
	c.stdin.Close()
	if c.feeder != nil {
		c.feeder.Close() // unblocks a write nobody reads any more
	}
	<-c.fed
}

// SetTimeout stops the call as Cancel does once d has passed; TimedOut
// then says so.
func (c *Call) SetTimeout(d time.Duration) {
	c.deadline = time.AfterFunc(d, func() {
		c.mu.Lock()
		c.timedOut = true
		c.mu.Unlock()
		c.stop()
	})
}

// TimedOut says whether the call's timeout stopped it.
func (c *Call) TimedOut() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timedOut
}

// Context is cancelled when the call is.
func (c *Call) Context() context.Context { return c.ctx }

// Stdin is what the call's child processes should read: Cancel kills every
// process whose stdin is this pipe, and all their descendants.
func (c *Call) Stdin() *os.File { return c.stdin }

// Stopped says whether Cancel reached this call.
func (c *Call) Stopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped
}

// stop cancels the context and, until the call ends, kills its processes
// every 100 ms (a RUN takes no context, and the runtime may start more).
func (c *Call) stop() {
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	c.once.Do(func() {
		c.cancel()
		go func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				killProcesses(c.stdinIno)
				select {
				case <-c.done:
					return
				case <-tick.C:
				}
			}
		}()
	})
}

// Cancel stops the call with this id; it returns at once (true when the
// call was running).  A cancel for a call that has not begun yet is kept.
func Cancel(id uint64) bool {
	running.Lock()
	defer running.Unlock()
	if c, ok := running.calls[id]; ok {
		c.stop()
		return true
	}
	running.cancelled[id] = true
	return false
}

// Forget drops a kept cancel whose call will never begin (it failed first).
func Forget(id uint64) {
	running.Lock()
	defer running.Unlock()
	delete(running.cancelled, id)
}

// privatePipe returns both ends of a new pipe and its inode.
func privatePipe() (*os.File, *os.File, uint64, error) {
	stdin, writer, err := os.Pipe()
	if err != nil {
		return nil, nil, 0, err
	}
	var stat unix.Stat_t
	if err := unix.Fstat(int(stdin.Fd()), &stat); err != nil {
		stdin.Close()
		writer.Close()
		return nil, nil, 0, err
	}
	return stdin, writer, stat.Ino, nil
}

// CancelCall is the Cancel export: it stops the call named by call_id and
// says whether it was running.
func CancelCall(o wire.CancelOptions) (bool, error) {
	id := o.CallID
	if id == 0 {
		return false, errkind.New(errkind.InvalidArgument, "no call id given")
	}
	return Cancel(id), nil
}
