package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"pybuildah.dev/shim/internal/errkind"
)

func TestSeveralDriversNamesPybuildahsWaysOut(t *testing.T) {
	t.Setenv("CONTAINERS_STORAGE_CONF", "/x/storage.conf")
	upstream := fmt.Errorf("/s contains several valid graphdrivers: vfs, overlay; Please cleanup or explicitly choose storage driver (-s <DRIVER>)")
	msg := explainOpenError(upstream).Error()
	for _, want := range []string{"/s contains several valid graphdrivers: vfs, overlay", `Store(driver="overlay")`,
		"--storage-driver overlay", `driver = "overlay"`, "/x/storage.conf"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "-s <DRIVER>") {
		t.Errorf("%q keeps buildah's flag", msg)
	}
	var kinded *errkind.Error
	if !errors.As(explainOpenError(upstream), &kinded) || kinded.Kind != errkind.StoreError {
		t.Errorf("not a StoreError: %#v", explainOpenError(upstream))
	}
	if other := explainOpenError(errors.New("disk on fire")); !strings.Contains(other.Error(), "disk on fire") {
		t.Errorf("other errors change: %v", other)
	}
}
