// Package builder is the step-by-step API on a working container: make or
// reopen one, copy into it, configure, run, mount, commit and delete it.
package builder

import (
	"errors"
	"os"

	"go.podman.io/buildah"
	"go.podman.io/buildah/define"
	"go.podman.io/storage"

	"pybuildah.dev/shim/internal/enums"
	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/handle"
	"pybuildah.dev/shim/internal/interrupt"
	"pybuildah.dev/shim/internal/platform"
	"pybuildah.dev/shim/internal/store"
	"pybuildah.dev/shim/internal/sysctx"
	"pybuildah.dev/shim/internal/wire"
)

// State is what a Builder handle points at.  Builder is the container's
// shared *buildah.Builder; callers hold Lock(s) while they use it.
type State struct {
	Builder *buildah.Builder
	Store   *store.State
	shared  *container
}

// Release writes the container's state file if it changed, and lets go of
// the handle's references on its container and store (and of the copier
// child and mount it kept).
func (s *State) Release() {
	flushOnRelease(s.shared)
	releaseCopier(s)
	forgetStep(s)
	s.shared.unshare()
	s.Store.Release()
}

// Resolve finds the builder behind a handle.
func Resolve(h uint64) (*State, error) { return handle.Value[State](h, "builder") }

// explain turns an error from an operation on s into ContainerNotFound when
// the working container was removed behind this handle's back (by another
// handle, another process or `buildah rm`), so users see why.
func (s *State) explain(err error) error {
	if err == nil || errkind.HasKind(err) {
		return err
	}
	if _, lookupErr := s.Store.Store.Container(s.Builder.ContainerID); lookupErr != nil && errkind.ContainerGone(lookupErr) {
		return errkind.New(errkind.ContainerNotFound, "working container %q no longer exists", s.Builder.Container)
	}
	return err
}

func describe(b *buildah.Builder) wire.ContainerInfo {
	return wire.ContainerInfo{ID: b.ContainerID, Name: b.Container, FromImage: b.FromImage, ImageID: b.FromImageID}
}

func adopt(b *buildah.Builder, st *store.State) wire.ContainerInfo {
	st.Acquire()
	shared := share(st, b)
	info := describe(shared.builder)
	info.Handle = handle.New(&State{Builder: shared.builder, Store: st, shared: shared})
	return info
}

// New makes a working container from an image (or "scratch").
func New(st *store.State, o wire.NewBuilderOptions) (wire.ContainerInfo, error) {
	options, reg, err := newOptions(st, o)
	if err != nil {
		return wire.ContainerInfo{}, err
	}
	call, err := interrupt.Begin(o.CallID())
	if err != nil {
		return wire.ContainerInfo{}, err
	}
	defer call.End()
	// Waiting for a store lock that another process holds can be cancelled
	// too (interrupt.Detach); a container made after a cancel is deleted.
	st.Acquire()
	b, err := interrupt.Detach(call, func() (*buildah.Builder, error) {
		return buildah.NewBuilder(call.Context(), st.Store, *options)
	}, func(b *buildah.Builder) { _ = b.Delete() }, st.Release)
	if err == nil && call.Stopped() {
		// Cancelled after the container was made: leave nothing behind.
		_ = b.Delete()
		return wire.ContainerInfo{}, call.Context().Err()
	}
	if err != nil {
		if errors.Is(err, storage.ErrDuplicateName) {
			return wire.ContainerInfo{}, errkind.Wrap(errkind.InvalidArgument, err)
		}
		return wire.ContainerInfo{}, errkind.Redact(errkind.Image(o.FromImage, err), reg.Secrets())
	}
	if err := clearOnBuild(b); err != nil {
		_ = b.Delete()
		return wire.ContainerInfo{}, err
	}
	return adopt(b, st), nil
}

// clearOnBuild leaves an empty (not a missing) ONBUILD list when the base
// has no triggers, as buildah from does after running them, so that a
// Docker-format image is the same as the CLI's.  A base's triggers are kept
// as they are: they are not run.
func clearOnBuild(b *buildah.Builder) error {
	if len(b.OnBuild()) > 0 {
		return nil
	}
	b.ClearOnBuild()
	return b.Save()
}

// newOptions checks NewBuilder's options and turns them into Buildah's.
func newOptions(st *store.State, o wire.NewBuilderOptions) (*buildah.BuilderOptions, *sysctx.Registry, error) {
	isolation, err := enums.Isolation(o.Isolation)
	if err != nil {
		return nil, nil, err
	}
	pull, err := enums.ParsePullPolicy(o.Pull, enums.PullMissing)
	if err != nil {
		return nil, nil, err
	}
	format, err := enums.ParseFormat(o.Format)
	if err != nil {
		return nil, nil, err
	}
	if format == "" {
		format = define.OCIv1ImageManifest
	}
	if o.FromImage == "" {
		return nil, nil, errkind.New(errkind.InvalidReference, "an image reference (or \"scratch\") is required")
	}
	target, err := platform.Parse(o.Platform)
	if err != nil {
		return nil, nil, err
	}
	reg, err := sysctx.ForRegistry(st.SystemContext(), o.RegistryOptions)
	if err != nil {
		return nil, nil, err
	}
	platform.Choose(reg.Sys, target) // pull and pick that platform's image, as buildah from --platform
	defaults, err := sysctx.ContainersConf()
	if err != nil {
		return nil, nil, err
	}
	options := &buildah.BuilderOptions{
		Capabilities:     defaults.Capabilities,
		FromImage:        o.FromImage,
		Container:        o.Name,
		PullPolicy:       pull.Buildah(),
		Isolation:        isolation,
		SystemContext:    reg.Sys,
		CommonBuildOpts:  &define.CommonBuildOptions{Ulimit: defaults.Ulimits},
		ConfigureNetwork: define.NetworkDefault,
		Format:           string(format),
	}
	if reg.Retries != nil {
		options.MaxPullRetries = int(*reg.Retries)
	}
	return options, reg, nil
}

// Open reattaches to an existing working container.
func Open(st *store.State, o wire.OpenBuilderOptions) (wire.ContainerInfo, error) {
	b, err := buildah.OpenBuilder(st.Store, o.Name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, storage.ErrContainerUnknown) {
			return wire.ContainerInfo{}, errkind.New(errkind.ContainerNotFound, "no working container named %q", o.Name)
		}
		return wire.ContainerInfo{}, err
	}
	if b.CommonBuildOpts == nil {
		b.CommonBuildOpts = &define.CommonBuildOptions{}
	}
	if len(b.CommonBuildOpts.Ulimit) == 0 {
		defaults, err := sysctx.ContainersConf()
		if err != nil {
			return wire.ContainerInfo{}, err
		}
		b.CommonBuildOpts.Ulimit = defaults.Ulimits
	}
	return adopt(b, st), nil
}

// Mount mounts the container's root filesystem and returns its path.
func Mount(s *State, _ wire.BuilderRef) (string, error) {
	if err := s.shared.flush(); err != nil {
		return "", s.explain(err)
	}
	path, err := s.Builder.Mount(s.Builder.MountLabel)
	if err != nil {
		return "", s.explain(err)
	}
	s.shared.mounted = true
	return path, nil
}

// Unmount unmounts it again, also when another process mounted it (as
// `buildah umount`); it reports false, and does nothing, when it is not
// mounted, or mounted only for this process's own copier (keepCopier).
func Unmount(s *State, _ wire.BuilderRef) (bool, error) {
	_, copierMount := keptCopiers.Load(s)
	if s.Builder.MountPoint == "" || (copierMount && !s.shared.mounted) {
		return false, nil
	}
	s.shared.mounted = false
	return true, s.explain(s.Builder.Unmount())
}

// Delete removes the working container; one already gone is fine.  It
// runs under the container's lock like every call, so it waits for a call
// on the container that another thread is making (a RUN, a commit).
func Delete(s *State, _ wire.BuilderRef) (any, error) {
	return nil, s.shared.dispose(s.Builder)
}
