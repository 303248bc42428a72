package interrupt

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestDetachReturnsWhatFnReturns(t *testing.T) {
	c, err := Begin(0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.End()
	var released atomic.Bool
	got, err := Detach(c, func() (int, error) { return 7, nil }, func(int) { t.Error("discarded a received result") },
		func() { released.Store(true) })
	if got != 7 || err != nil {
		t.Errorf("got %d, %v", got, err)
	}
	failure := errors.New("no")
	if _, err := Detach(c, func() (int, error) { panic("boom") }, nil, nil); err == nil {
		t.Error("a panic in fn was lost")
	}
	if _, err := Detach(c, func() (int, error) { return 0, failure }, nil, nil); !errors.Is(err, failure) {
		t.Errorf("err %v", err)
	}
	waitFor(t, released.Load)
}

// A cancel returns at once; fn (blocked as on a store lock) finishes later,
// and only then is its result discarded and its hold released, in that order.
func TestDetachCancelledLeavesFnToFinishAndDiscards(t *testing.T) {
	c, err := Begin(91)
	if err != nil {
		t.Fatal(err)
	}
	defer c.End()
	lock := make(chan struct{})
	var order []string
	var finished atomic.Bool
	time.AfterFunc(50*time.Millisecond, func() { Cancel(91) })
	start := time.Now()
	_, err = Detach(c, func() (string, error) {
		<-lock // another process holds the lock
		return "container", nil
	}, func(v string) { order = append(order, "discard "+v) }, func() {
		order = append(order, "release")
		finished.Store(true)
	})
	if err == nil || time.Since(start) > time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
	if finished.Load() {
		t.Fatal("fn was stopped, not left to finish")
	}
	close(lock) // the other process lets go
	waitFor(t, finished.Load)
	if len(order) != 2 || order[0] != "discard container" || order[1] != "release" {
		t.Errorf("order %v", order)
	}
}

func waitFor(t *testing.T, done func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !done(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}
