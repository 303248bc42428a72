package interrupt

import (
	"bytes"
	"io"
	"reflect"
	"testing"
	"time"

	"pybuildah.dev/shim/internal/wire"
)

func TestVictimsDeepestFirst(t *testing.T) {
	children := map[int][]int{10: {11, 12}, 11: {13}, 99: {100}}
	if got := victims(children, []int{10}); !reflect.DeepEqual(got, []int{13, 11, 12, 10}) {
		t.Errorf("victims = %v", got)
	}
	if ppid, ok := parentOf([]byte("42 (a) b) S 7 42 42")); !ok || ppid != 7 {
		t.Errorf("parentOf = %d, %v", ppid, ok)
	}
}

func TestCancelBeforeBegin(t *testing.T) {
	if running, _ := CancelCall(wire.CancelOptions{CallID: 77}); running {
		t.Error("no call 77 runs")
	}
	c, err := Begin(77)
	if err != nil {
		t.Fatal(err)
	}
	defer c.End()
	select {
	case <-c.Context().Done():
	case <-time.After(time.Second):
		t.Fatal("a cancel sent before Begin was lost")
	}
	if !c.Stopped() {
		t.Error("not marked stopped")
	}
}

func TestCancelRunningAndEnd(t *testing.T) {
	c, err := Begin(78)
	if err != nil {
		t.Fatal(err)
	}
	if c.Stopped() || c.Context().Err() != nil {
		t.Fatal("stopped before any cancel")
	}
	if running, _ := CancelCall(wire.CancelOptions{CallID: 78}); !running {
		t.Error("call 78 runs")
	}
	if c.Context().Err() == nil || !c.Stopped() {
		t.Error("cancel did not reach the call")
	}
	c.End()
	if _, err := CancelCall(wire.CancelOptions{}); err == nil {
		t.Error("no id: accepted")
	}
	Forget(78)
	if len(running.calls) != 0 {
		t.Errorf("calls left registered: %v", running.calls)
	}
}

func TestInputIsFedThenEOF(t *testing.T) {
	input := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB, far over a pipe's buffer
	c, err := BeginWithInput(0, bytes.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c.Stdin())
	c.End()
	if err != nil || !bytes.Equal(got, input) {
		t.Fatalf("read %d bytes (%v), want %d", len(got), err, len(input))
	}
}

func TestEndUnblocksAnUnreadInput(t *testing.T) {
	c, err := BeginWithInput(0, bytes.NewReader(make([]byte, 4<<20)))
	if err != nil {
		t.Fatal(err)
	}
	ended := make(chan struct{})
	go func() { c.End(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("End waited for a reader that never came")
	}
}

func TestTimeoutStopsTheCall(t *testing.T) {
	c, err := Begin(79)
	if err != nil {
		t.Fatal(err)
	}
	defer c.End()
	c.SetTimeout(20 * time.Millisecond)
	select {
	case <-c.Context().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the timeout did not stop the call")
	}
	if !c.TimedOut() || !c.Stopped() {
		t.Error("not marked timed out and stopped")
	}
	quick, err := Begin(80)
	if err != nil {
		t.Fatal(err)
	}
	quick.SetTimeout(time.Hour)
	quick.End()
	if quick.TimedOut() {
		t.Error("a call that ended in time timed out")
	}
}
