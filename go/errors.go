package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"go.podman.io/storage"
)

// kindError tags an error with the name of the Python exception class
// that should carry it.
type kindError struct {
	kind     string
	err      error
	exitCode *int
	details  any // extra fields for the exception, e.g. BuildError's instruction
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

func kindf(kind, format string, args ...any) error {
	return &kindError{kind: kind, err: fmt.Errorf(format, args...)}
}

func withKind(kind string, err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: kind, err: err}
}

// classify picks the Python exception kind for err.  Explicit kinds win;
// otherwise well-known sentinel errors from storage and the OS decide.
func classify(err error) *wireError {
	out := &wireError{Kind: "BuildahError", Message: cleanMessage(err)}
	var ke *kindError
	if errors.As(err, &ke) {
		out.Kind = ke.kind
		out.ExitCode = ke.exitCode
		out.Details = ke.details
		return out
	}
	if kind := registryErrorKind(err); kind != "" {
		out.Kind = kind
		return out
	}
	var ee *exec.ExitError
	switch {
	case errors.Is(err, storage.ErrImageUnknown):
		out.Kind = "ImageNotFound"
	case errors.Is(err, storage.ErrContainerUnknown), errors.Is(err, storage.ErrNotAContainer):
		out.Kind = "ContainerNotFound"
	case errors.Is(err, os.ErrNotExist):
		out.Kind = "SourceNotFound"
	case errors.As(err, &ee):
		code := ee.ExitCode()
		out.Kind = "RunError"
		out.ExitCode = &code
	}
	return out
}

// cleanMessage keeps Buildah's own words but drops anything that looks
// like a Go stack trace.
func cleanMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "\ngoroutine "); i >= 0 {
		msg = msg[:i]
	}
	return strings.TrimSpace(msg)
}
