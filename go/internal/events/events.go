// Package events carries log lines and progress to Python.  The transport
// is a Sink (package main implements it with cgo); streams are numbers that
// the caller put into its options, 0 meaning that nobody listens.
package events

import (
	"bytes"
	"encoding/json"
	"sync"

	"pybuildah.dev/shim/internal/secret"
)

// Sink delivers one event: the stream it belongs to, its kind ("log",
// "stdout", "progress", ...) and its JSON payload.
type Sink interface {
	Emit(stream uint64, kind string, payload []byte)
}

var (
	sinkMu sync.RWMutex
	sink   Sink
)

// Install sets the process's sink (once, at load; tests install recorders).
func Install(s Sink) {
	sinkMu.Lock()
	sink = s
	sinkMu.Unlock()
}

// Emit sends one event; stream 0 means nobody is listening.  Log lines
// (Buildah's logrus output, build logs) are scrubbed of the secrets of
// every call running now (secret.Hide), in every form they may take.
func Emit(stream uint64, kind string, payload any) {
	if stream == 0 {
		return
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return
	}
	if kind == "log" {
		if scrubbed := secret.ScrubActive(string(data)); scrubbed != string(data) {
			data = []byte(scrubbed)
			if !json.Valid(data) { // a secret that spanned the JSON's own syntax
				data, _ = json.Marshal(secret.Mask)
			}
		}
	}
	sinkMu.RLock()
	s := sink
	sinkMu.RUnlock()
	if s != nil {
		s.Emit(stream, kind, data)
	}
}

// LineWriter turns a byte stream into events, one per line.
type LineWriter struct {
	Stream  uint64
	Kind    string
	pending []byte
}

func (w *LineWriter) Write(p []byte) (int, error) {
	w.pending = append(w.pending, p...)
	for {
		i := bytes.IndexByte(w.pending, '\n')
		if i < 0 {
			return len(p), nil
		}
		Emit(w.Stream, w.Kind, string(w.pending[:i]))
		w.pending = w.pending[i+1:]
	}
}

// Flush sends a final line that had no newline.
func (w *LineWriter) Flush() {
	if len(w.pending) > 0 {
		Emit(w.Stream, w.Kind, string(w.pending))
		w.pending = nil
	}
}

// Tee keeps output in a buffer and also streams it when someone listens.
type Tee struct {
	Buf   *bytes.Buffer
	Lines *LineWriter
}

func (t *Tee) Write(p []byte) (int, error) {
	t.Buf.Write(p)
	if t.Lines.Stream != 0 {
		_, _ = t.Lines.Write(p)
	}
	return len(p), nil
}
