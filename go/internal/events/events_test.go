package events

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/types"

	"pybuildah.dev/shim/internal/secret"
	"pybuildah.dev/shim/internal/wire"
)

type recorder struct{ events []string }

func (r *recorder) Emit(stream uint64, kind string, payload []byte) {
	r.events = append(r.events, kind+" "+string(payload))
}

func record(t *testing.T) *recorder {
	r := &recorder{}
	Install(r)
	t.Cleanup(func() { Install(nil) })
	return r
}

func TestLineWriterAndTee(t *testing.T) {
	r := record(t)
	w := &LineWriter{Stream: 5, Kind: "stdout"}
	_, _ = w.Write([]byte("one\ntw"))
	_, _ = w.Write([]byte("o\nthree"))
	w.Flush()
	Emit(0, "stdout", "nobody listens")
	want := []string{`stdout "one"`, `stdout "two"`, `stdout "three"`}
	if len(r.events) != 3 || r.events[0] != want[0] || r.events[1] != want[1] || r.events[2] != want[2] {
		t.Errorf("events = %q", r.events)
	}
	var buf bytes.Buffer
	tee := &Tee{Buf: &buf, Lines: &LineWriter{}}
	_, _ = tee.Write([]byte("kept\n"))
	if buf.String() != "kept\n" || len(r.events) != 3 {
		t.Error("Tee")
	}
}

func TestCopyReport(t *testing.T) {
	r := record(t)
	w := &CopyReport{Stream: 1}
	_, _ = w.Write([]byte("Getting image source signatures\nCopying blob sha256:aa\nCopying config sha256:bb done\n"))
	w.Finish()
	if len(r.events) != 4 {
		t.Fatalf("events = %q", r.events)
	}
	var last wire.ProgressEvent
	_ = json.Unmarshal([]byte(r.events[3][len("progress "):]), &last)
	if last.Event != "done" || last.Kind != "config" || last.Digest != "sha256:bb" || last.Size != -1 {
		t.Errorf("last = %+v", last)
	}
}

func TestProgressEventOf(t *testing.T) {
	p := types.ProgressProperties{Event: types.ProgressEventDone, Offset: 3,
		Artifact: types.BlobInfo{Digest: digest.Digest("sha256:cc"), Size: 10, MediaType: "application/vnd.oci.image.config.v1+json"}}
	event, ok := ProgressEventOf(p)
	if !ok || event.Offset != 10 || event.Kind != "config" || event.Event != "done" {
		t.Errorf("event = %+v", event)
	}
	if _, ok := ProgressEventOf(types.ProgressProperties{Event: types.ProgressEventSkipped + 100}); ok {
		t.Error("unknown event passed")
	}
}

func TestLogEventsAreScrubbedOfRunningCallsSecrets(t *testing.T) {
	r := record(t)
	release := secret.Hide([]string{"pa\"ss\x00word"})
	Emit(1, "log", "level=debug msg=auth pa\"ss\x00word")
	Emit(1, "log", wire.LogLine{Kind: "stderr", Line: "echo pa\"ss\x00word"})
	Emit(1, "stdout", "pa\"ss\x00word") // a command's own output is its own
	release()
	Emit(1, "log", "pa\"ss\x00word")
	for i, e := range r.events[:2] {
		if strings.Contains(e, "word") || !strings.Contains(e, secret.Mask) || !json.Valid([]byte(e[len("log "):])) {
			t.Errorf("event %d = %q", i, e)
		}
	}
	if !strings.Contains(r.events[2], "word") || !strings.Contains(r.events[3], "word") {
		t.Errorf("scrubbed too much: %q", r.events[2:])
	}
}
