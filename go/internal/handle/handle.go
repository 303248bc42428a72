// Package handle turns Go objects into the numbers Python holds
// (runtime/cgo.Handle) and back, with typed errors for stale or wrong ones.
package handle

import (
	"runtime/cgo"

	"pybuildah.dev/shim/internal/errkind"
)

// New returns a handle for v.
func New(v any) uint64 { return uint64(cgo.NewHandle(v)) }

// Value resolves a handle sent by Python to a *T; what names T in messages.
func Value[T any](h uint64, what string) (*T, error) {
	if h == 0 {
		return nil, errkind.New(errkind.InvalidArgument, "no %s handle given", what)
	}
	v, ok := Any(h).(*T)
	if !ok {
		return nil, errkind.New(errkind.InvalidArgument, "stale or invalid %s handle", what)
	}
	return v, nil
}

// Any is the value behind h, or nil for an unknown handle.
func Any(h uint64) (v any) {
	defer func() { _ = recover() }() // cgo.Handle.Value panics on unknown handles
	return cgo.Handle(h).Value()
}

// Release lets go of h: an object with a release method (stores, builders)
// drops its reference first.  Unknown handles are ignored.
func Release(h uint64) {
	if r, ok := Any(h).(interface{ Release() }); ok {
		r.Release()
	}
	defer func() { _ = recover() }()
	cgo.Handle(h).Delete()
}
