package builder

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.podman.io/buildah"
	"go.podman.io/buildah/define"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/images"
	"pybuildah.dev/shim/internal/interrupt"
	"pybuildah.dev/shim/internal/sysctx"
	"pybuildah.dev/shim/internal/userns"
	"pybuildah.dev/shim/internal/validate"
	"pybuildah.dev/shim/internal/wire"
)

// Add copies (or, with extract, adds) sources into the container: local
// paths, URLs, or paths inside another builder or an image.
func Add(s *State, o wire.AddOptions) (any, error) {
	if len(o.Sources) == 0 {
		return nil, errkind.New(errkind.InvalidArgument, "no source given")
	}
	if err := validate.Chmod(o.Chmod); err != nil {
		return nil, err
	}
	if err := validate.Chown(o.Chown); err != nil {
		return nil, err
	}
	if err := userns.CheckChown(o.Chown); err != nil {
		return nil, err
	}
	if err := validate.Checksum(o.Checksum, wire.Strings(o.Sources), isURL); err != nil {
		return nil, err
	}
	idle, err := sysctx.IdleTimeout(o.Timeout)
	if err != nil {
		return nil, err
	}
	options := buildah.AddAndCopyOptions{
		Chown: o.Chown, Chmod: o.Chmod, Excludes: o.Excludes, Parents: o.Parents, Checksum: o.Checksum,
		IdleTimeout: idle,
	}
	if slices.ContainsFunc(wire.Strings(o.Sources), isURL) {
		call, err := interrupt.Begin(o.CallID()) // cancelling stops the downloads
		if err != nil {
			return nil, err
		}
		defer call.End()
		options.Context = call.Context()
	}
	root, done, err := sourceRoot(s, o, &options)
	if err != nil {
		return nil, err
	}
	defer done()
	sources := wire.Strings(o.Sources)
	if root != "" {
		options.ContextDir = root
		options.PreserveOwnership = true
		for i, src := range sources {
			sources[i] = filepath.Join(root, src)
		}
	}
	s.Builder.ContentDigester.Restart()
	keepCopier(s)
	if err := s.Builder.Add(o.Destination, o.Extract, options, sources...); err != nil {
		return nil, s.explain(classifyAddError(err))
	}
	s.shared.dirty = true // the digester's summary, for commit's history
	return nil, nil
}

// sourceRoot mounts the builder or image that sources are read from, if
// any, and returns its root and the function that lets go of it.  Without
// one, local sources must exist (globs and URLs aside).
func sourceRoot(s *State, o wire.AddOptions, options *buildah.AddAndCopyOptions) (string, func(), error) {
	switch {
	case o.FromBuilder != 0:
		from, err := Resolve(o.FromBuilder)
		if err != nil {
			return "", func() {}, err
		}
		root, err := from.Builder.Mount(from.Builder.MountLabel)
		if err != nil {
			return "", func() {}, err
		}
		options.IDMappingOptions = &from.Builder.IDMappingOptions
		if from.shared.mounted {
			return root, func() {}, nil
		}
		return root, func() { _ = from.Builder.Unmount() }, nil
	case o.FromImage != "":
		return imageRoot(s, o.FromImage, options)
	}
	for _, src := range wire.Strings(o.Sources) {
		if isURL(src) {
			continue
		}
		if _, err := os.Lstat(src); err != nil && !hasGlob(src) {
			return "", func() {}, errkind.New(errkind.SourceNotFound, "source %q: %v", src, errors.Unwrap(err))
		}
	}
	return "", func() {}, nil
}

// imageRoot mounts a short-lived working container on the image: unlike
// MountImage it also works for images whose layers live in a read-only
// additional image store.
func imageRoot(s *State, name string, options *buildah.AddAndCopyOptions) (string, func(), error) {
	img, err := images.ResolveLocal(s.Store, name)
	if err != nil {
		return "", func() {}, err
	}
	tmp, err := buildah.NewBuilder(context.Background(), s.Store.Store, buildah.BuilderOptions{
		FromImage:     img.ID,
		PullPolicy:    define.PullNever,
		Isolation:     define.IsolationChroot,
		SystemContext: s.Store.Sys(),
	})
	if err != nil {
		return "", func() {}, errkind.Image(name, err)
	}
	done := func() { _ = tmp.Unmount(); _ = tmp.Delete() }
	root, err := tmp.Mount(tmp.MountLabel)
	if err != nil {
		done()
		return "", func() {}, err
	}
	options.IDMappingOptions = &tmp.IDMappingOptions
	return root, done, nil
}

// classifyAddError: an unknown chown user or group is the caller's
// mistake; a missing source is SourceNotFound.
func classifyAddError(err error) error {
	switch {
	case errkind.UnknownUser(err):
		return errkind.Wrap(errkind.InvalidArgument, err)
	case errkind.CopierSourceMissing(err):
		return errkind.Wrap(errkind.SourceNotFound, err)
	case errkind.ChecksumMismatchText(err):
		return errkind.Wrap(errkind.ChecksumMismatch, err)
	}
	return err
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

func hasGlob(s string) bool { return strings.ContainsAny(s, "*?[") }
