package interrupt

import (
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
