//go:build !windows

// This file is added to go.podman.io/buildah/copier at build time
// (go build -overlay, as copier/kept_unix.go); patches/buildah-copier-kept.patch
// adds the three hooks that use it to copier.go.  See docs/design.md,
// "A long-lived copier per root".
//
// Upstream, every chrooted copier request (STAT, EVAL, MKDIR, PUT, GET, ...)
// starts a child process that chroots into the request's root, serves one
// request and exits: one COPY costs four process starts.  copierMain was
// written to serve several requests for one root ("we could run Stat() at a
// caller's behest before using the same process for Get() or Put().  Maybe
// later.").  KeepRoot opts a root in: its requests are then served by one
// long-lived child, started on first use and chrooted once exactly as the
// one-shot children are, until CloseRoot.
//
// Protocol with a kept child (argv "buildah-copier --serve"): requests and
// responses are the same JSON stream on stdin/stdout as today.  Fd 3 is a
// unix socket instead of the bulk pipes; before each request the parent
// sends one byte carrying, with SCM_RIGHTS, a fresh pipe pair for that
// request's bulk data (read end for the child's input, write end for its
// output).  The child closes both after the request's bulk transfer and then
// writes an empty response, which tells the parent the request is complete.
// A failure inside the child still ends it (as upstream); the parent then
// reaps it, reports its stderr and starts a fresh child on the next request.
//
// Protection is unchanged: every request for a kept root is served from
// inside a chroot to that root; a child never serves another root (the pool
// is keyed by root, and copierMain still refuses a change of root); and a
// child is only reused while the directory it is chrooted to is still the
// directory that root names (same device and inode), so a remount or a
// replaced directory gets a fresh child.  A request rooted in a directory
// inside a kept root (a COPY's PUT, chrooted into its destination) gets a
// long-lived child of its own, chrooted there (keptBelow): one per kept
// root, for the last such directory.

package copier

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"go.podman.io/storage/pkg/reexec"
	"golang.org/x/sys/unix"
)

const keptChildArg = "--serve"

var (
	keptMu    sync.Mutex
	keptRoots = map[string]*keptChild{}
)

// KeepRoot makes chrooted requests whose root is exactly root be served by
// one long-lived child process until CloseRoot(root) is called.  The caller
// should keep root's filesystem mounted meanwhile: a child whose root was
// unmounted or replaced is noticed and replaced, but until then it pins the
// old mount.
func KeepRoot(root string) {
	keptMu.Lock()
	defer keptMu.Unlock()
	if _, ok := keptRoots[root]; !ok {
		keptRoots[root] = &keptChild{root: root}
	}
}

// CloseRoot stops the child that serves root, after any request it is
// serving, and sends later requests for root to one-shot children again.
func CloseRoot(root string) {
	keptMu.Lock()
	c := keptRoots[root]
	delete(keptRoots, root)
	var sub *keptChild
	if c != nil {
		sub, c.sub = c.sub, nil
	}
	keptMu.Unlock()
	c.close()
	sub.close()
}

// close stops c for good (nil: nothing to do).
func (c *keptChild) close() {
	if c != nil {
		c.mu.Lock()
		c.closed = true
		c.stop()
		c.mu.Unlock()
	}
}

// keptBelow returns the child for a root strictly inside a kept root: a
// COPY's PUT is chrooted into its destination directory, not the
// container's root.  Each kept root has one such child, for the last
// directory asked for; a request for another directory replaces it (the
// old one is stopped in the background).  The caller holds keptMu.
func keptBelow(root string) *keptChild {
	for parentRoot, parent := range keptRoots {
		if !strings.HasPrefix(root, strings.TrimSuffix(parentRoot, "/")+"/") {
			continue
		}
		if parent.sub == nil || parent.sub.root != root {
			old := parent.sub
			parent.sub = &keptChild{root: root}
			go old.close()
		}
		return parent.sub
	}
	return nil
}

type keptChild struct {
	root     string
	mu       sync.Mutex // one request at a time
	closed   bool
	cmd      *exec.Cmd
	stdin    *os.File
	stdout   *os.File
	control  *os.File
	encoder  *json.Encoder
	decoder  *json.Decoder
	stderr   lockedBuffer
	chrooted bool // it has served a request, so it is chrooted to root
	sub      *keptChild // the child for a directory inside root (keptBelow); guarded by keptMu
}

// copierWithKeptSubprocess serves req with root's long-lived child when
// root was kept; kept is false when the caller should start a one-shot
// child instead (root not kept, or its child busy with another request,
// such as a GET feeding a PUT into the same root).
func copierWithKeptSubprocess(bulkReader io.Reader, bulkWriter io.Writer, req request) (resp *response, kept bool, err error) {
	keptMu.Lock()
	c := keptRoots[req.Root]
	if c == nil {
		c = keptBelow(req.Root)
	}
	keptMu.Unlock()
	if c == nil || !c.mu.TryLock() {
		return nil, false, nil
	}
	defer c.mu.Unlock()
	if c.closed {
		return nil, false, nil
	}
	if c.cmd != nil && !c.sameRoot() {
		c.stop()
	}
	if c.cmd == nil {
		if err := c.start(); err != nil {
			return nil, true, err
		}
	}
	if bulkReader == nil {
		bulkReader = bytes.NewReader(nil)
	}
	if bulkWriter == nil {
		bulkWriter = io.Discard
	}
	resp, err = c.serve(bulkReader, bulkWriter, req)
	if err != nil {
		c.stop()
		if text := strings.TrimFunc(c.stderr.String(), func(r rune) bool { return r == '\n' || r == ' ' }); text != "" {
			err = fmt.Errorf("%s: %w", text, err)
		}
		return nil, true, err
	}
	c.chrooted = true
	return resp, true, nil
}

// sameRoot tells whether the child is alive and chrooted to the directory
// that c.root names now.
func (c *keptChild) sameRoot() bool {
	if !c.chrooted {
		return false
	}
	var want, have unix.Stat_t
	if unix.Stat(c.root, &want) != nil {
		return false
	}
	if unix.Stat(fmt.Sprintf("/proc/%d/root", c.cmd.Process.Pid), &have) != nil {
		return false
	}
	return want.Dev == have.Dev && want.Ino == have.Ino
}

func (c *keptChild) start() (err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socketpair: %w", err)
	}
	control, theirControl := os.NewFile(uintptr(fds[0]), "copier control"), os.NewFile(uintptr(fds[1]), "copier control")
	defer theirControl.Close()
	stdinRead, stdinWrite, err := os.Pipe()
	if err != nil {
		control.Close()
		return fmt.Errorf("pipe: %w", err)
	}
	defer stdinRead.Close()
	stdoutRead, stdoutWrite, err := os.Pipe()
	if err != nil {
		control.Close()
		stdinWrite.Close()
		return fmt.Errorf("pipe: %w", err)
	}
	defer stdoutWrite.Close()
	c.stderr.Reset()
	cmd := reexec.Command(copierCommand, keptChildArg)
	cmd.Dir = "/"
	cmd.Env = append([]string{fmt.Sprintf("LOGLEVEL=%d", logrus.GetLevel())}, os.Environ()...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdinRead, stdoutWrite, &c.stderr
	cmd.ExtraFiles = []*os.File{theirControl}
	if err := cmd.Start(); err != nil {
		control.Close()
		stdinWrite.Close()
		stdoutRead.Close()
		return fmt.Errorf("starting subprocess: %w", err)
	}
	c.cmd, c.control, c.stdin, c.stdout = cmd, control, stdinWrite, stdoutRead
	c.encoder, c.decoder = json.NewEncoder(stdinWrite), json.NewDecoder(stdoutRead)
	c.chrooted = false
	return nil
}

// serve passes one request and its bulk data; any error leaves the child
// in an unknown state, and the caller stops it.
func (c *keptChild) serve(bulkReader io.Reader, bulkWriter io.Writer, req request) (*response, error) {
	c.stderr.Reset()
	inRead, inWrite, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("pipe: %w", err)
	}
	outRead, outWrite, err := os.Pipe()
	if err != nil {
		inRead.Close()
		inWrite.Close()
		return nil, fmt.Errorf("pipe: %w", err)
	}
	rights := unix.UnixRights(int(inRead.Fd()), int(outWrite.Fd()))
	err = unix.Sendmsg(int(c.control.Fd()), []byte{0}, rights, nil, 0)
	inRead.Close()
	outWrite.Close()
	defer closeIfNotNilYet(&inWrite, "kept copier bulk input")
	defer closeIfNotNilYet(&outRead, "kept copier bulk output")
	if err != nil {
		return nil, fmt.Errorf("passing bulk descriptors to copier subprocess: %w", err)
	}
	if err := c.encoder.Encode(req); err != nil {
		return nil, fmt.Errorf("encoding work request for copier subprocess: %w", err)
	}
	var resp response
	if err := c.decoder.Decode(&resp); err != nil {
		return nil, fmt.Errorf("decoding response from copier subprocess: %w", err)
	}
	var wg sync.WaitGroup
	var readError, writeError error
	wg.Go(func() {
		_, writeError = io.Copy(bulkWriter, outRead)
		closeIfNotNilYet(&outRead, "kept copier bulk output")
	})
	wg.Go(func() {
		_, readError = io.Copy(inWrite, bulkReader)
		closeIfNotNilYet(&inWrite, "kept copier bulk input")
	})
	wg.Wait()
	var done response
	if err := c.decoder.Decode(&done); err != nil {
		return nil, fmt.Errorf("copier subprocess did not complete the request: %w", err)
	}
	if readError != nil {
		return nil, fmt.Errorf("passing bulk input to subprocess: %w", readError)
	}
	if writeError != nil {
		return nil, fmt.Errorf("passing bulk output from subprocess: %w", writeError)
	}
	return &resp, nil
}

// stop ends the child: QUIT when it is idle, a kill if it does not exit.
func (c *keptChild) stop() {
	if c.cmd == nil {
		return
	}
	_ = c.encoder.Encode(&request{Request: requestQuit})
	c.stdin.Close()
	c.control.Close()
	exited := make(chan struct{})
	go func() {
		_ = c.cmd.Wait()
		close(exited)
	}()
	select {
	case <-exited:
	case <-time.After(2 * time.Second):
		_ = c.cmd.Process.Kill()
		<-exited
	}
	c.stdout.Close()
	c.cmd = nil
	c.chrooted = false
}

// lockedBuffer collects a child's stderr.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 { // a long-lived child's debug logging must not grow without bound
		b.buf.Reset()
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// keptChildMode tells copierMain that it is a kept child.
func keptChildMode() bool {
	return len(os.Args) > 1 && os.Args[1] == keptChildArg
}

// keptChildReceive reads the bulk pipe pair for the next request.
func keptChildReceive(control *os.File) (*os.File, *os.File) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(2*4))
	_, oobn, _, _, err := unix.Recvmsg(int(control.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err == nil && oobn == 0 {
		err = errors.New("no descriptors")
	}
	var fds []int
	if err == nil {
		var msgs []unix.SocketControlMessage
		if msgs, err = unix.ParseSocketControlMessage(oob[:oobn]); err == nil && len(msgs) == 1 {
			fds, err = unix.ParseUnixRights(&msgs[0])
		}
	}
	if err != nil || len(fds) != 2 {
		fmt.Fprintf(os.Stderr, "error receiving bulk descriptors from copier parent process: %v (%d descriptors)", err, len(fds))
		os.Exit(1)
	}
	return os.NewFile(uintptr(fds[0]), "bulk-reader"), os.NewFile(uintptr(fds[1]), "bulk-writer")
}

// keptChildDone closes a request's bulk pipes and tells the parent that the
// request is complete.
func keptChildDone(encoder *json.Encoder, bulkReader, bulkWriter *os.File) {
	bulkReader.Close()
	bulkWriter.Close()
	if err := encoder.Encode(&response{}); err != nil {
		fmt.Fprintf(os.Stderr, "error encoding completion for copier parent process: %v", err)
		os.Exit(1)
	}
}

// ReadKeptFile reads the file at path (inside root) with a GET request to
// root's long-lived child, which resolves it, symbolic links included,
// inside its chroot to root.  ok is false when root has no kept child or
// the request failed (a missing file included): the caller then reads the
// file its own way.  chrootuser's user and group lookups use it
// (patches/buildah-chrootuser-kept-copier.patch), so a RUN's lookups cost
// round trips to a running child instead of a process start each.
func ReadKeptFile(root, path string) (data []byte, ok bool) {
	keptMu.Lock()
	_, kept := keptRoots[root]
	keptMu.Unlock()
	if !kept {
		return nil, false
	}
	var archive bytes.Buffer
	if err := Get(root, root, GetOptions{}, []string{root + "/" + strings.TrimPrefix(path, "/")}, &archive); err != nil {
		return nil, false
	}
	reader := tar.NewReader(&archive)
	for {
		header, err := reader.Next()
		if err != nil {
			return nil, false
		}
		if header.Typeflag == tar.TypeReg {
			content, err := io.ReadAll(reader)
			return content, err == nil
		}
	}
}
