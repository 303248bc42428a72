package builder

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/wire"
)

func TestTrimRuntimeNotes(t *testing.T) {
	cases := []struct {
		in, want string
		code     int
		signal   unix.Signal
	}{
		{"", "", 1, 0},
		{"to-err\n", "to-err\n", 1, 0},
		{"to-err\nsubprocess exited with status 3\nsubprocess exited with status 3\n", "to-err\n", 3, 0},
		{"a\nb", "a\nb", 2, 0}, // no final newline: kept as is
		{"mine\n\nsubprocess exited with status 1\n", "mine\n\n", 1, 0},                  // the command's blank line stays
		{"subprocess exited with status 4\n", "subprocess exited with status 4\n", 1, 0}, // another status: the command's
		{"x\nsubprocess exited on killed\nsubprocess exited with status 1\n", "x\n", 1, unix.SIGKILL},
		{"subprocess exited on terminated\n", "", 1, unix.SIGTERM},
		{"\xff\xfe raw\nsubprocess exited with status 1\n", "\xff\xfe raw\n", 1, 0},
	}
	for _, c := range cases {
		got, sig := TrimRuntimeNotes([]byte(c.in), c.code)
		if string(got) != c.want || sig != c.signal {
			t.Errorf("TrimRuntimeNotes(%q, %d) = %q, %v; want %q, %v", c.in, c.code, got, sig, c.want, c.signal)
		}
	}
}

func TestCheckConfig(t *testing.T) {
	empty, ok := "", "x"
	bad := []wire.ConfigChange{
		{Env: map[string]*string{"A=B": &ok}},
		{Labels: map[string]*string{"": &ok}},
		{Annotations: map[string]*string{"": nil}},
		{Ports: []string{"80", "99999"}},
		{Volumes: []string{"relative/path"}},
		{StopSignal: &empty},
	}
	for _, c := range bad {
		if err := CheckConfig(c); errkind.Describe(err).Kind != errkind.InvalidArgument {
			t.Errorf("CheckConfig(%+v) = %v", c, err)
		}
	}
	term := "SIGTERM"
	good := wire.ConfigChange{Env: map[string]*string{"A": &ok, "B": nil}, Ports: []string{"8080/tcp"}, Volumes: []string{"/data"}, StopSignal: &term}
	if err := CheckConfig(good); err != nil {
		t.Error(err)
	}
	if err := CheckConfig(wire.ConfigChange{Labels: map[string]*string{"": &ok}}); !strings.Contains(err.Error(), "label") {
		t.Errorf("message: %v", err)
	}
}

func TestParseSourceDateEpoch(t *testing.T) {
	got, err := ParseSourceDateEpoch("1700000000")
	if err != nil || got.Unix() != 1700000000 || got.Location().String() != "UTC" {
		t.Errorf("ParseSourceDateEpoch(1700000000) = %v, %v", got, err)
	}
	for _, bad := range []string{"soon", "1.5", " 1", "99999999999999999999"} {
		if _, err := ParseSourceDateEpoch(bad); errkind.Describe(err).Kind != errkind.InvalidArgument {
			t.Errorf("ParseSourceDateEpoch(%q) = %v", bad, err)
		}
	}
}

func TestCheckRunMounts(t *testing.T) {
	dir := t.TempDir()
	good := []string{"type=bind,src=" + dir + ",dst=/d", "src=" + dir + ",dst=/d,rw", "type=tmpfs,dst=/t",
		"type=bind,from=some-image,src=rel,dst=/i", "type=cache,dst=/c"}
	if err := CheckRunMounts(good); err != nil {
		t.Errorf("CheckRunMounts(%q) = %v", good, err)
	}
	for _, bad := range []string{"type=bind,dst=/d", "type=bind,src=rel,dst=/d", "src=,dst=/d"} {
		if err := CheckRunMounts([]string{bad}); errkind.Describe(err).Kind != errkind.InvalidArgument {
			t.Errorf("CheckRunMounts(%q) = %v", bad, err)
		}
	}
	if err := CheckRunMounts([]string{"type=bind,src=" + dir + "/missing,dst=/d"}); errkind.Describe(err).Kind != errkind.SourceNotFound {
		t.Errorf("missing source: %v", err)
	}
}

func TestInputReader(t *testing.T) {
	if r, done, err := InputReader(nil); r != nil || err != nil {
		t.Fatalf("InputReader(nil) = %v, %v", r, err)
	} else {
		done()
	}
	f, err := os.CreateTemp(t.TempDir(), "input")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("skip the input"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(5, io.SeekStart); err != nil { // read from the current offset
		t.Fatal(err)
	}
	fd := int(f.Fd())
	r, done, err := InputReader(&fd)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	done()
	if err != nil || string(got) != "the input" {
		t.Errorf("read %q, %v", got, err)
	}
	if offset, _ := f.Seek(0, io.SeekCurrent); offset != 5 {
		t.Errorf("the caller's offset moved to %d", offset)
	}

	// A pipe is a stream; closing ends a read that waits on a silent writer.
	streamReader, streamWriter, _ := os.Pipe()
	defer streamReader.Close()
	defer streamWriter.Close()
	pipeFD := int(streamReader.Fd())
	r, done, err = InputReader(&pipeFD)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := streamWriter.WriteString("streamed"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if _, err := io.ReadFull(r, buf); err != nil || string(buf) != "streamed" {
		t.Errorf("pipe read %q, %v", buf, err)
	}
	waiting := make(chan error)
	go func() { _, err := r.Read(buf); waiting <- err }()
	time.Sleep(50 * time.Millisecond)
	done()
	select {
	case err := <-waiting:
		if err == nil {
			t.Error("a read after close succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Error("close did not end a waiting read")
	}

	socket, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(socket)
	for _, bad := range []int{-1, 1 << 20, socket} {
		if _, _, err := InputReader(&bad); errkind.Describe(err).Kind != errkind.InvalidArgument {
			t.Errorf("InputReader(%d) = %v", bad, err)
		}
	}
}
