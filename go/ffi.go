package main

// The C boundary.  Every export takes one JSON document and returns one
// malloc'd JSON envelope (wire.Envelope) that Python frees with
// PyBuildahFree.  Long-running calls report through the one event sink
// that Python installs; cgoSink is the events.Sink that calls it.

/*
#include "events.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"unsafe"

	"pybuildah.dev/shim/internal/builder"
	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/events"
	"pybuildah.dev/shim/internal/interrupt"
	"pybuildah.dev/shim/internal/secret"
	"pybuildah.dev/shim/internal/store"
	"pybuildah.dev/shim/internal/wire"
)

func init() { events.Install(cgoSink{}) }

// cgoSink hands events to the C callback Python installed.
type cgoSink struct{}

func (cgoSink) Emit(stream uint64, kind string, payload []byte) {
	ckind, cpayload := C.CString(kind), C.CString(string(payload))
	defer C.free(unsafe.Pointer(ckind))
	defer C.free(unsafe.Pointer(cpayload))
	C.pybuildah_emit(C.uint64_t(stream), ckind, cpayload)
}

// call decodes args into T, runs fn, and encodes the envelope.  The
// request's secrets (its creds) are scrubbed from the error and, while the
// call runs, from every log line (package secret).  A panic in
// fn becomes an InternalError instead of killing the host process.  While
// it runs, this process's children can be waited for even if the program
// ignores SIGCHLD (interrupt.ReapOwnChildren).
func call[T, R any](args *C.char, fn func(T) (R, error)) (out *C.char) {
	defer func() {
		if r := recover(); r != nil {
			out = encodeError(errkind.New(errkind.InternalError, "internal error in pybuildah shim: %v", r))
		}
	}()
	defer interrupt.ReapOwnChildren()()
	var opts T
	var secrets []string
	if args != nil {
		data := []byte(C.GoString(args))
		secrets = secret.InRequest(data)
		defer secret.Hide(secrets)()
		if err := wire.Decode(data, &opts); err != nil {
			return encodeError(errkind.Redact(err, secrets))
		}
	}
	result, err := fn(opts)
	if err != nil {
		return encodeError(errkind.Redact(err, secrets))
	}
	return encode(wire.Envelope{OK: result})
}

// withStore is call for options that carry a store handle.
func withStore[T interface{ StoreHandle() uint64 }, R any](args *C.char, fn func(*store.State, T) (R, error)) *C.char {
	return call(args, func(o T) (r R, err error) {
		st, err := store.Resolve(o.StoreHandle())
		if err != nil {
			return r, err
		}
		return fn(st, o)
	})
}

// withBuilder is call for options that carry a builder handle.  The call
// holds the container's lock (and that of a container it reads from), so
// calls on one container are serialised and calls on others run in parallel.
func withBuilder[T interface{ BuilderHandle() uint64 }, R any](args *C.char, fn func(*builder.State, T) (R, error)) *C.char {
	return call(args, func(o T) (r R, err error) {
		b, err := builder.Resolve(o.BuilderHandle())
		if err != nil {
			return r, err
		}
		var source *builder.State
		if ref, ok := any(o).(wire.SourceRef); ok && ref.SourceBuilderHandle() != 0 {
			if source, err = builder.Resolve(ref.SourceBuilderHandle()); err != nil {
				return r, err
			}
		}
		defer builder.Lock(b, source)()
		return fn(b, o)
	})
}

func encodeError(err error) *C.char {
	d := errkind.Describe(err)
	return encode(wire.Envelope{Error: &wire.Error{Kind: string(d.Kind), Message: d.Message, ExitCode: d.ExitCode, Details: d.Details, Errno: d.Errno}})
}

func encode(e wire.Envelope) *C.char {
	data, err := json.Marshal(e)
	if err != nil {
		data, _ = json.Marshal(wire.Envelope{Error: &wire.Error{Kind: string(errkind.InternalError), Message: fmt.Sprintf("encoding result: %v", err)}})
	}
	return C.CString(string(data))
}
