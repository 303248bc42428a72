package interrupt

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A shell whose child is killed must not run its next command: the whole
// tree is stopped before any of it is killed.
func TestKillProcessesStopsTheShellBeforeItsChild(t *testing.T) {
	for round := range 20 {
		reader, writer, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		var stat unix.Stat_t
		if err := unix.Fstat(int(reader.Fd()), &stat); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		cmd := exec.Command("/bin/sh", "-c", "sleep 30 & sleep 30; echo never")
		cmd.Stdin, cmd.Stdout = reader, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for { // both sleeps started: the shell and its two children share the pipe
			if children, roots := scanProcesses(pipeName(stat.Ino)); len(victims(children, roots)) >= 3 || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		killProcesses(stat.Ino)
		_ = cmd.Wait()
		_ = reader.Close()
		_ = writer.Close()
		if out.Len() != 0 {
			t.Fatalf("round %d: the shell ran on after its child was killed: %q", round, out.String())
		}
		if children, roots := scanProcesses(pipeName(stat.Ino)); len(victims(children, roots)) != 0 {
			t.Fatalf("round %d: processes left: %v", round, victims(children, roots))
		}
	}
}
