package validate

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"pybuildah.dev/shim/internal/errkind"
)

func TestPort(t *testing.T) {
	for _, good := range []string{"80", "8080/tcp", "53/udp", "9/sctp", "8000-8010/tcp", "1", "65535"} {
		if err := Port(good); err != nil {
			t.Errorf("Port(%q): %v", good, err)
		}
	}
	for _, bad := range []string{"99999", "http", "0", "80/icmp", "90-80", "", "-1", "80/", "1-", "8080/tcp/udp"} {
		if err := Port(bad); errkind.KindOf(err) != errkind.InvalidArgument || !strings.Contains(err.Error(), "port") {
			t.Errorf("Port(%q) = %v", bad, err)
		}
	}
}

func TestChmod(t *testing.T) {
	for _, good := range []string{"", "755", "0755", "4755", "0"} {
		if err := Chmod(good); err != nil {
			t.Errorf("Chmod(%q): %v", good, err)
		}
	}
	for _, bad := range []string{"999", "rwxr-xr-x", "-1", "0x1ff", "8"} {
		if err := Chmod(bad); errkind.KindOf(err) != errkind.InvalidArgument || !strings.Contains(err.Error(), "chmod") {
			t.Errorf("Chmod(%q) = %v", bad, err)
		}
	}
}

func TestChown(t *testing.T) {
	for _, good := range []string{"", "root", "0", "1000:1000", "app:staff", ":staff", "nosuchuser"} {
		if err := Chown(good); err != nil {
			t.Errorf("Chown(%q): %v", good, err)
		}
	}
	for _, bad := range []string{":", "a:b:c", "a\x00b", "x\n"} {
		if err := Chown(bad); errkind.KindOf(err) != errkind.InvalidArgument {
			t.Errorf("Chown(%q) = %v", bad, err)
		}
	}
}

func TestNames(t *testing.T) {
	if err := EnvName("A=B"); errkind.KindOf(err) != errkind.InvalidArgument || !strings.Contains(err.Error(), "environment variable") {
		t.Errorf("EnvName: %v", err)
	}
	if err := Name("label", ""); err == nil || !strings.Contains(err.Error(), "label") {
		t.Errorf("Name: %v", err)
	}
	if err := Name("build argument", "A=B"); err == nil {
		t.Error("Name accepted =")
	}
	if err := Assignments("annotation", []string{"a=1", "b="}); err != nil {
		t.Error(err)
	}
	for _, bad := range [][]string{{"=x"}, {"novalue"}} {
		if err := Assignments("label", bad); errkind.KindOf(err) != errkind.InvalidArgument {
			t.Errorf("Assignments(%q) = %v", bad, err)
		}
	}
}

func TestCommand(t *testing.T) {
	shell := "echo hi"
	blank := "   "
	cases := []struct {
		command []string
		shell   *string
		want    []string
	}{
		{[]string{"true"}, nil, []string{"true"}},
		{nil, &shell, []string{"/bin/sh", "-c", "echo hi"}},
		{[]string{}, &shell, []string{"/bin/sh", "-c", "echo hi"}},
	}
	for _, c := range cases {
		got, err := Command(c.command, c.shell)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Command(%q, %v) = %q, %v", c.command, c.shell, got, err)
		}
	}
	for _, bad := range []struct {
		command []string
		shell   *string
	}{{nil, nil}, {[]string{}, nil}, {[]string{""}, nil}, {nil, &blank}, {[]string{"x"}, &shell}} {
		if _, err := Command(bad.command, bad.shell); errkind.KindOf(err) != errkind.InvalidArgument {
			t.Errorf("Command(%q, %v) = %v", bad.command, bad.shell, err)
		}
	}
}

func TestDestination(t *testing.T) {
	for _, good := range []string{"", "x:1", "localhost/x:1", "oci-archive:/tmp/x.tar", "oci:/dir:tag", "docker://r/x", "dir:/x"} {
		if err := Destination(good); err != nil {
			t.Errorf("Destination(%q): %v", good, err)
		}
	}
	for _, bad := range []string{"oci-archive:", "oci::tag", "docker-archive: ", "dir:"} {
		if err := Destination(bad); errkind.KindOf(err) != errkind.InvalidReference {
			t.Errorf("Destination(%q) = %v", bad, err)
		}
	}
}

func TestJobs(t *testing.T) {
	if n, err := Jobs(nil); n != 1 || err != nil {
		t.Errorf("Jobs(nil) = %d, %v", n, err)
	}
	three, zero := 3, 0
	if n, err := Jobs(&three); n != 3 || err != nil {
		t.Errorf("Jobs(3) = %d, %v", n, err)
	}
	if _, err := Jobs(&zero); errkind.KindOf(err) != errkind.InvalidArgument {
		t.Errorf("Jobs(0) = %v", err)
	}
}

func TestSignal(t *testing.T) {
	for _, good := range []string{"SIGTERM", "term", "SIGKILL", "9", "64", "SIGRTMIN+3", "SIGRTMAX"} {
		if err := Signal(good); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
	for _, bad := range []string{"", "SIGFOO", "0", "65", "-1", "SIG", "TERM ", "SIGRTMIN+x"} {
		if err := Signal(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCapabilities(t *testing.T) {
	got, err := Capabilities("cap_add", []string{"net_raw", "CAP_CHOWN", "all"})
	if err != nil || strings.Join(got, ",") != "ALL,CAP_CHOWN,CAP_NET_RAW" {
		t.Errorf("Capabilities = %v, %v", got, err)
	}
	if _, err := Capabilities("cap_drop", []string{"CAP_BOGUS"}); errkind.Describe(err).Kind != errkind.InvalidArgument ||
		!strings.Contains(err.Error(), "cap_drop") {
		t.Errorf("Capabilities(CAP_BOGUS) = %v", err)
	}
}

func TestChecksum(t *testing.T) {
	isURL := func(s string) bool { return strings.HasPrefix(s, "http") }
	good := "sha256:" + strings.Repeat("ab", 32)
	if err := Checksum(good, []string{"http://x/a"}, isURL); err != nil {
		t.Errorf("Checksum(good) = %v", err)
	}
	if err := Checksum("", []string{"/local"}, isURL); err != nil {
		t.Errorf("Checksum(unset) = %v", err)
	}
	for _, c := range []struct{ sum, src string }{
		{"sha256:abc", "http://x/a"}, {"md5:" + strings.Repeat("ab", 16), "http://x/a"}, {good, "/local/file"},
	} {
		if err := Checksum(c.sum, []string{c.src}, isURL); errkind.Describe(err).Kind != errkind.InvalidArgument {
			t.Errorf("Checksum(%q, %q) = %v", c.sum, c.src, err)
		}
	}
}

func TestTimeout(t *testing.T) {
	if d, err := Timeout(nil); d != 0 || err != nil {
		t.Errorf("Timeout(nil) = %v, %v", d, err)
	}
	half := 0.5
	if d, err := Timeout(&half); d != 500*time.Millisecond || err != nil {
		t.Errorf("Timeout(0.5) = %v, %v", d, err)
	}
	for _, bad := range []float64{0, -1, math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := Timeout(&bad); errkind.KindOf(err) != errkind.InvalidArgument {
			t.Errorf("Timeout(%v) = %v", bad, err)
		}
	}
}

func TestChmodRange(t *testing.T) {
	for _, good := range []string{"0", "755", "0755", "7777", "07777"} {
		if err := Chmod(good); err != nil {
			t.Errorf("Chmod(%q) = %v", good, err)
		}
	}
	for _, bad := range []string{"10000", "17777", "9999", "-1", "0o755", " 755", "77777777777"} {
		if err := Chmod(bad); err == nil {
			t.Errorf("Chmod(%q) accepted", bad)
		}
	}
}

func TestUserIDs(t *testing.T) {
	for _, good := range []string{"", "root", "1000", "0:0", "app:staff", "1000:", "4294967294", ":5", "user-1"} {
		if err := User(good); err != nil {
			t.Errorf("User(%q) = %v", good, err)
		}
	}
	for _, bad := range []string{"-1", "4294967295", "1:-1", "99999999999999999999", "+5"} {
		if err := User(bad); err == nil {
			t.Errorf("User(%q) accepted", bad)
		}
	}
}

func TestEnvironmentAndTimestamp(t *testing.T) {
	env, err := Environment(map[string]string{"B": "2=3", "A": ""})
	if err != nil || strings.Join(env, " ") != "A= B=2=3" {
		t.Errorf("Environment = %q, %v", env, err)
	}
	for _, bad := range []map[string]string{{"": "x"}, {"A=B": "x"}} {
		if _, err := Environment(bad); err == nil {
			t.Errorf("Environment(%v) accepted", bad)
		}
	}
	for _, good := range []int64{0, -1, MinTimestamp, MaxTimestamp, 1_700_000_000} {
		if _, err := Timestamp("t", good); err != nil {
			t.Errorf("Timestamp(%d) = %v", good, err)
		}
	}
	for _, bad := range []int64{MinTimestamp - 1, MaxTimestamp + 1, math.MaxInt64, math.MinInt64} {
		if _, err := Timestamp("t", bad); err == nil {
			t.Errorf("Timestamp(%d) accepted", bad)
		}
	}
}

func TestRealtimeSignalsAndHostnames(t *testing.T) {
	for _, good := range []string{"SIGRTMIN", "RTMIN+3", "SIGRTMAX-30", "sigrtmax", "SIGRTMIN+30", "SIGRTMAX+0"} {
		if err := Signal(good); err != nil {
			t.Errorf("Signal(%q) = %v", good, err)
		}
	}
	for _, bad := range []string{"SIGRTMAX+5", "SIGRTMIN-1", "SIGRTMIN+31", "SIGRTMAX-31", "SIGRTMIN+99999999999999999999"} {
		if err := Signal(bad); err == nil {
			t.Errorf("Signal(%q) accepted", bad)
		}
	}
	if Hostname(strings.Repeat("a", 64)) != nil || Hostname(strings.Repeat("a", 65)) == nil {
		t.Error("Hostname: 64 bytes at most")
	}
}

func TestDuration(t *testing.T) {
	if d, err := Duration("interval", "1m30s"); err != nil || d != 90*time.Second {
		t.Fatalf("1m30s: %v %v", d, err)
	}
	for _, bad := range []string{"", "30", "soon", "-1s"} {
		if _, err := Duration("interval", bad); errkind.KindOf(err) != errkind.InvalidArgument {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
