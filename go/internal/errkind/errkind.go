// Package errkind names the Python exception class of every error that
// leaves pybuildah's Go side.  Code that knows the kind says so (New, Wrap);
// everything else is classified here, by error types and sentinels that
// storage, image, common and buildah export.  The few places that must read
// message text are all in textmatch.go.
package errkind

import (
	"errors"
	"fmt"

	"pybuildah.dev/shim/internal/secret"
)

// Kind is the name of a Python exception class in pybuildah.errors.
type Kind string

// The kinds Go emits.
const (
	InvalidArgument     Kind = "InvalidArgument"
	InvalidReference    Kind = "InvalidReference"
	ImageNotFound       Kind = "ImageNotFound"
	ContainerNotFound   Kind = "ContainerNotFound"
	SourceNotFound      Kind = "SourceNotFound"
	StoreError          Kind = "StoreError"
	InternalError       Kind = "InternalError"
	RunError            Kind = "RunError"
	BuildError          Kind = "BuildError"
	BuildCancelled      Kind = "BuildCancelled"
	ContextError        Kind = "ContextError"
	RegistryError       Kind = "RegistryError"
	RegistryTimeout     Kind = "RegistryTimeout"
	AuthenticationError Kind = "AuthenticationError"
	TLSError            Kind = "TLSError"
	ImageInUse          Kind = "ImageInUse"
	BuildahError        Kind = "BuildahError"
	UserNamespaceError  Kind = "UserNamespaceError"
	EmulationError      Kind = "EmulationError"
	ChecksumMismatch    Kind = "ChecksumMismatch"
	RunTimeout          Kind = "RunTimeout"
	SignatureError      Kind = "SignatureError"      // a signature policy refused an image, or a key cannot sign
	SigningNotSupported Kind = "SigningNotSupported" // this build cannot make that kind of signature (GPG)
)

// All lists every kind, for PyBuildahContract.
func All() []Kind {
	return []Kind{
		InvalidArgument, InvalidReference, ImageNotFound, ContainerNotFound, SourceNotFound, StoreError,
		InternalError, RunError, BuildError, BuildCancelled, ContextError, RegistryError,
		AuthenticationError, TLSError, ImageInUse, BuildahError, UserNamespaceError, EmulationError,
		ChecksumMismatch,
		RunTimeout, RegistryTimeout,
		SignatureError, SigningNotSupported,
	}
}

// ErrnoKinds are the kinds that may carry an errno (Python's classes for them
// are OSErrors): a full disk or quota is a StoreError with ENOSPC or EDQUOT.
func ErrnoKinds() []Kind { return []Kind{StoreError} }

// Error tags an error with its kind and, for some kinds, more fields.
type Error struct {
	Kind     Kind
	Err      error
	ExitCode *int
	Details  any // extra fields for the exception, e.g. BuildError's instruction
	Errno    *int
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New makes an error of a kind, with a formatted message.
func New(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Err: fmt.Errorf(format, args...)}
}

// Wrap gives err a kind; nil stays nil.
func Wrap(kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: kind, Err: err}
}

// HasKind reports whether some code already decided err's kind.
func HasKind(err error) bool {
	var ke *Error
	return errors.As(err, &ke)
}

// KindOf is the kind some code decided for err, or "" if none did.
func KindOf(err error) Kind {
	var ke *Error
	if errors.As(err, &ke) {
		return ke.Kind
	}
	return ""
}

// Described is a classified error, ready for the wire.
type Described struct {
	Kind     Kind
	Message  string
	ExitCode *int
	Details  any
	Errno    *int // for the kinds that are OSErrors in Python
}

// Describe classifies err: an explicit kind wins, then a full disk (a
// StoreError with its errno, whichever step ran out of space), then registry
// failures, then storage's and the OS's sentinels; anything else is
// BuildahError.
func Describe(err error) Described {
	out := Described{Kind: BuildahError, Message: CleanMessage(err)}
	var ke *Error
	if errors.As(err, &ke) {
		out.Kind, out.ExitCode, out.Details, out.Errno = ke.Kind, ke.ExitCode, ke.Details, ke.Errno
		return out
	}
	if errno := NoSpace(err); errno != 0 {
		code := int(errno)
		out.Kind, out.Errno = StoreError, &code
		return out
	}
	if kind := Registry(err); kind != "" {
		out.Kind = kind
		return out
	}
	if kind, code := generic(err); kind != "" {
		out.Kind, out.ExitCode = kind, code
	}
	return out
}

// Redact classifies err and removes every secret, in every form it may be
// written in (secret.Forms), from its message; the kind and exit code survive.
func Redact(err error, secrets []string) error {
	if err == nil || len(secrets) == 0 {
		return err
	}
	d := Describe(err)
	msg := secret.Scrub(d.Message, secrets)
	return &Error{Kind: d.Kind, Err: errors.New(msg), ExitCode: d.ExitCode, Details: d.Details, Errno: d.Errno}
}
