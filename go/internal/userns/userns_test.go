package userns

import (
	"errors"
	"strings"
	"testing"

	"pybuildah.dev/shim/internal/errkind"
)

func TestParseMap(t *testing.T) {
	ranges, err := ParseMap("         0      65534          1\n         1     200000      65536\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(ranges) != 2 || ranges[1] != (Range{1, 200000, 65536}) {
		t.Fatalf("got %+v", ranges)
	}
	for _, bad := range []string{"0 1", "0 x 1", "0 1 2 3"} {
		if _, err := ParseMap(bad); err == nil {
			t.Errorf("ParseMap(%q) accepted", bad)
		}
	}
}

func TestMapped(t *testing.T) {
	ranges := []Range{{0, 65534, 1}, {1, 200000, 65536}}
	for id, want := range map[uint64]bool{0: true, 1: true, 1001: true, 65536: true, 65537: false} {
		if got := Mapped(ranges, id); got != want {
			t.Errorf("Mapped(%d) = %v, want %v", id, got, want)
		}
	}
	if !Mapped([]Range{{0, 0, 4294967295}}, 4294967294) {
		t.Error("the initial namespace maps every ID")
	}
}

func TestCheckChownSpec(t *testing.T) {
	single := []Range{{0, 65534, 1}}
	full := []Range{{0, 65534, 1}, {1, 200000, 65536}}
	for _, ok := range []string{"0:0", "root", "1001:1001", "app:app", "0"} {
		if err := CheckChownSpec(ok, full, full); err != nil {
			t.Errorf("%q refused with full maps: %v", ok, err)
		}
	}
	for _, ok := range []string{"0:0", "root:wheel", "app"} {
		if err := CheckChownSpec(ok, single, single); err != nil {
			t.Errorf("%q refused with a single ID: %v", ok, err)
		}
	}
	err := CheckChownSpec("1001:1001", single, single)
	var kinded *errkind.Error
	if !errors.As(err, &kinded) || kinded.Kind != errkind.InvalidArgument {
		t.Fatalf("want InvalidArgument, got %v", err)
	}
	for _, part := range []string{"UID 1001", "user namespace", "/etc/subuid", "0 65534 1"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("message %q lacks %q", err, part)
		}
	}
	if err := CheckChownSpec("0:1001", single, single); err == nil || !strings.Contains(err.Error(), "GID 1001") {
		t.Errorf("an unmapped group passed: %v", err)
	}
}

func TestRequired(t *testing.T) {
	if err := requiredFor(0); err != nil {
		t.Fatalf("root refused: %v", err)
	}
	err := requiredFor(1001)
	var kinded *errkind.Error
	if !errors.As(err, &kinded) || kinded.Kind != errkind.UserNamespaceError {
		t.Fatalf("want UserNamespaceError, got %v", err)
	}
	for _, part := range []string{"UID 1001", "init_reexec()", "pybuildah unshare"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("message %q lacks %q", err, part)
		}
	}
}
