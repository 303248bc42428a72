package handle

import (
	"strings"
	"testing"
)

type thing struct{ released int }

func (t *thing) Release() { t.released++ }

type other struct{}

func TestHandles(t *testing.T) {
	v := &thing{}
	h := New(v)
	if got, err := Value[thing](h, "thing"); err != nil || got != v {
		t.Fatalf("Value = %v, %v", got, err)
	}
	if _, err := Value[other](h, "other"); err == nil || !strings.Contains(err.Error(), "stale or invalid other handle") {
		t.Errorf("wrong type: %v", err)
	}
	if _, err := Value[thing](0, "thing"); err == nil || !strings.Contains(err.Error(), "no thing handle") {
		t.Errorf("zero: %v", err)
	}
	Release(h)
	Release(h) // unknown now: ignored
	if v.released != 1 {
		t.Errorf("released %d times", v.released)
	}
	if _, err := Value[thing](h, "thing"); err == nil {
		t.Error("a released handle still resolves")
	}
}
