package interrupt

import (
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

func TestReapOwnChildrenWhileSIGCHLDIsIgnored(t *testing.T) {
	var before sigaction
	if err := rtSigaction(unix.SIGCHLD, nil, &before); err != nil {
		t.Fatal(err)
	}
	ignore := sigaction{handler: sigIgn}
	if err := rtSigaction(unix.SIGCHLD, &ignore, nil); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rtSigaction(unix.SIGCHLD, &before, nil) }()
	if err := exec.Command("true").Run(); err == nil {
		t.Skip("this kernel lets an ignoring parent wait for its children") // not Linux semantics
	}
	release := ReapOwnChildren()
	inner := ReapOwnChildren()
	if err := exec.Command("true").Run(); err != nil {
		t.Errorf("with the default disposition in place: %v", err)
	}
	inner()
	if err := exec.Command("true").Run(); err != nil {
		t.Errorf("while another call still runs: %v", err)
	}
	release()
	var after sigaction
	if err := rtSigaction(unix.SIGCHLD, nil, &after); err != nil || after.handler != sigIgn {
		t.Errorf("the program's disposition was not restored: %+v, %v", after, err)
	}
}
