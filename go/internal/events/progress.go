package events

import (
	"bytes"
	"strings"
	"sync"

	"go.podman.io/image/v5/types"

	"pybuildah.dev/shim/internal/wire"
)

var progressEventNames = map[types.ProgressEvent]string{
	types.ProgressEventNewArtifact: "new",
	types.ProgressEventRead:        "read",
	types.ProgressEventDone:        "done",
	types.ProgressEventSkipped:     "skipped",
}

func blobKind(mediaType string) string {
	if strings.Contains(mediaType, "config") {
		return "config"
	}
	return "blob"
}

// ProgressEventOf converts containers/image's progress report; ok is false
// for reports Python does not get.
func ProgressEventOf(p types.ProgressProperties) (wire.ProgressEvent, bool) {
	name, ok := progressEventNames[p.Event]
	if !ok {
		return wire.ProgressEvent{}, false
	}
	offset := p.Offset
	if p.Event == types.ProgressEventDone && p.Artifact.Size > 0 {
		offset = uint64(p.Artifact.Size)
	}
	return wire.ProgressEvent{
		Event: name, Kind: blobKind(p.Artifact.MediaType), Digest: p.Artifact.Digest.String(),
		MediaType: p.Artifact.MediaType, Size: p.Artifact.Size, Offset: offset,
	}, true
}

// Progress forwards containers/image copy progress to stream.  The returned
// stop function must be called once the copy has returned; it waits until
// every event has been delivered.
func Progress(stream uint64) (chan types.ProgressProperties, func()) {
	if stream == 0 {
		return nil, func() {}
	}
	ch := make(chan types.ProgressProperties, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range ch {
			if event, ok := ProgressEventOf(p); ok {
				Emit(stream, "progress", event)
			}
		}
	}()
	var once sync.Once
	return ch, func() { once.Do(func() { close(ch); <-done }) }
}

// CopyReport turns containers/image's plain report lines ("Copying blob
// sha256:..."), which is all that buildah.Commit offers, into progress
// events.  They carry no byte counts: commit computes its layers before the
// copy starts, so the copy itself is local and short.
type CopyReport struct {
	Stream  uint64
	pending []byte
	started []wire.ProgressEvent
}

func (w *CopyReport) Write(p []byte) (int, error) {
	w.pending = append(w.pending, p...)
	for {
		i := bytes.IndexByte(w.pending, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.line(strings.TrimSpace(string(w.pending[:i])))
		w.pending = w.pending[i+1:]
	}
}

func (w *CopyReport) line(line string) {
	fields := strings.Fields(line)
	if len(fields) >= 3 && fields[0] == "Copying" && (fields[1] == "blob" || fields[1] == "config") {
		event := wire.ProgressEvent{Event: "new", Kind: fields[1], Digest: fields[2], Size: -1}
		w.started = append(w.started, event)
		Emit(w.Stream, "progress", event)
	}
}

// Finish reports every started blob as done, once the commit has succeeded.
func (w *CopyReport) Finish() {
	for _, event := range w.started {
		event.Event = "done"
		Emit(w.Stream, "progress", event)
	}
	w.started = nil
}
