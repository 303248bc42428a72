// Package wire is the one JSON schema between Python and Go: the envelope
// every export returns, the options every export accepts and the records it
// returns.  Nothing here does work; other packages fill and read these types.
package wire

// Envelope is what every export returns: {"ok": value} or {"error": {...}}.
type Envelope struct {
	OK    any    `json:"ok"`
	Error *Error `json:"error,omitempty"`
}

// Error is the "error" member of an envelope.  Kind names the Python
// exception class.
type Error struct {
	Kind     string `json:"kind"`
	Message  string `json:"message"`
	ExitCode *int   `json:"exit_code,omitempty"`
	Details  any    `json:"details,omitempty"`
	Errno    *int   `json:"errno,omitempty"` // StoreError is an OSError: ENOSPC for a full disk
}

// StoreRef is embedded by the options of calls on a store.
type StoreRef struct {
	Store uint64 `json:"store"`
}

// StoreHandle returns the store handle the caller sent.
func (r StoreRef) StoreHandle() uint64 { return r.Store }

// BuilderRef is embedded by the options of calls on a working container.
type BuilderRef struct {
	Builder uint64 `json:"builder"`
}

// BuilderHandle returns the builder handle the caller sent.
func (r BuilderRef) BuilderHandle() uint64 { return r.Builder }

// CallRef is embedded by the options of calls that Python can cancel: the
// id it will name in Cancel (0: not cancellable).
type CallRef struct {
	Call uint64 `json:"call_id"`
}

// CallID returns the call's id.
func (r CallRef) CallID() uint64 { return r.Call }

// SourceRef is implemented by options that name a second working container
// to read from (Add's from_builder); both are locked for the call.
type SourceRef interface{ SourceBuilderHandle() uint64 }

// HandleRef names any handle (ReleaseHandle).
type HandleRef struct {
	Handle uint64 `json:"handle"`
}

// None is the options of calls that take none.
type None struct{}
