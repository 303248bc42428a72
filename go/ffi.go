package main

// The C boundary.  Every export takes one JSON document and returns one
// malloc'd JSON envelope that Python frees with PyBuildahFree:
//
//	{"ok": <result>}                                 on success
//	{"error": {"kind": "ImageNotFound", "message": "..."}}   on failure
//
// Long-running calls report progress through a single event sink that
// Python installs once; events carry the stream number that the caller put
// into its options.

/*
#include "events.h"
*/
import "C"

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime/cgo"
	"unsafe"
)

type envelope struct {
	OK    any        `json:"ok"`
	Error *wireError `json:"error,omitempty"`
}

type wireError struct {
	Kind     string `json:"kind"`
	Message  string `json:"message"`
	ExitCode *int   `json:"exit_code,omitempty"`
	Details  any    `json:"details,omitempty"`
}

// call decodes args into T, runs fn, and encodes the envelope.  A panic in
// fn becomes an InternalError instead of killing the host process.
func call[T any](args *C.char, fn func(T) (any, error)) (out *C.char) {
	defer func() {
		if r := recover(); r != nil {
			out = encode(envelope{Error: &wireError{Kind: "InternalError", Message: fmt.Sprintf("internal error in pybuildah shim: %v", r)}})
		}
	}()
	var opts T
	if args != nil {
		if err := json.Unmarshal([]byte(C.GoString(args)), &opts); err != nil {
			return encode(envelope{Error: &wireError{Kind: "InvalidArgument", Message: "malformed options: " + err.Error()}})
		}
	}
	result, err := fn(opts)
	if err != nil {
		return encode(envelope{Error: classify(err)})
	}
	return encode(envelope{OK: result})
}

func encode(e envelope) *C.char {
	data, err := json.Marshal(e)
	if err != nil {
		data, _ = json.Marshal(envelope{Error: &wireError{Kind: "InternalError", Message: "encoding result: " + err.Error()}})
	}
	return C.CString(string(data))
}

// handleValue resolves a cgo handle sent by Python to a *T.
func handleValue[T any](h uint64, what string) (*T, error) {
	if h == 0 {
		return nil, kindf("InvalidArgument", "no %s handle given", what)
	}
	var value any
	func() {
		defer func() { _ = recover() }() // cgo.Handle.Value panics on unknown handles
		value = cgo.Handle(h).Value()
	}()
	v, ok := value.(*T)
	if !ok {
		return nil, kindf("InvalidArgument", "stale or invalid %s handle", what)
	}
	return v, nil
}

func newHandle(v any) uint64 { return uint64(cgo.NewHandle(v)) }

func deleteHandle(h uint64) {
	defer func() { _ = recover() }()
	cgo.Handle(h).Delete()
}

// emit sends one event to Python; stream 0 means nobody is listening.
func emit(stream uint64, kind string, payload any) {
	if stream == 0 {
		return
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return
	}
	ckind, cpayload := C.CString(kind), C.CString(string(data))
	defer C.free(unsafe.Pointer(ckind))
	defer C.free(unsafe.Pointer(cpayload))
	C.pybuildah_emit(C.uint64_t(stream), ckind, cpayload)
}

// lineWriter turns a byte stream into "log" events, one per line.
type lineWriter struct {
	stream  uint64
	kind    string
	pending []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.pending = append(w.pending, p...)
	for {
		i := bytes.IndexByte(w.pending, '\n')
		if i < 0 {
			return len(p), nil
		}
		emit(w.stream, w.kind, string(w.pending[:i]))
		w.pending = w.pending[i+1:]
	}
}

// Flush sends a final line that had no newline.
func (w *lineWriter) Flush() {
	if len(w.pending) > 0 {
		emit(w.stream, w.kind, string(w.pending))
		w.pending = nil
	}
}

//export PyBuildahFree
func PyBuildahFree(p *C.char) { C.free(unsafe.Pointer(p)) }

//export PyBuildahSetEventSink
func PyBuildahSetEventSink(fn C.pybuildah_event_fn) { C.pybuildah_set_sink(fn) }

//export PyBuildahReleaseHandle
func PyBuildahReleaseHandle(args *C.char) *C.char {
	return call(args, func(o struct {
		Handle uint64 `json:"handle"`
	}) (any, error) {
		if closer, ok := handleValueAny(o.Handle).(interface{ release() }); ok {
			closer.release()
		}
		deleteHandle(o.Handle)
		return nil, nil
	})
}

func handleValueAny(h uint64) (v any) {
	defer func() { _ = recover() }()
	return cgo.Handle(h).Value()
}

// withState is call for options that carry a store or builder handle: it
// resolves the handle first, so the export's body starts from its object.
func withState[S any, T interface{ state() (S, error) }](args *C.char, fn func(S, T) (any, error)) *C.char {
	return call(args, func(o T) (any, error) {
		s, err := o.state()
		if err != nil {
			return nil, err
		}
		return fn(s, o)
	})
}
