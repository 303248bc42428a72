// Package store opens containers/storage stores and keeps what a Store
// handle points at: the store, its base SystemContext (embedded policy and
// registries defaults) and a reference count shared with its builders.
package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"go.podman.io/image/v5/types"
	"go.podman.io/storage"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/handle"
	"pybuildah.dev/shim/internal/interrupt"
	"pybuildah.dev/shim/internal/sysctx"
	"pybuildah.dev/shim/internal/userns"
	"pybuildah.dev/shim/internal/wire"
)

// State is what a Store handle points at.  Builders keep a reference, so
// the store stays open until the last user lets go of it.
type State struct {
	Store    storage.Store
	sys      types.SystemContext // policy and registries defaults for this store
	sources  map[string]string   // which configuration files are in effect
	mu       sync.Mutex
	refs     int
	shutdown bool
}

// Acquire adds a reference (a builder made on this store).
func (s *State) Acquire() { s.mu.Lock(); s.refs++; s.mu.Unlock() }

// Release drops one reference and shuts the store down after the last one.
func (s *State) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refs--
	if s.refs <= 0 && !s.shutdown && s.Store != nil {
		s.shutdown = true
		_, _ = s.Store.Shutdown(false)
	}
}

// SystemContext returns a copy of the store's base system context.
func (s *State) SystemContext() types.SystemContext { return s.sys }

// Sys returns a pointer to a fresh copy of the base system context.
func (s *State) Sys() *types.SystemContext {
	sys := s.sys
	return &sys
}

// Resolve finds the store behind a handle.
func Resolve(h uint64) (*State, error) { return handle.Value[State](h, "store") }

// Optional is the store behind h when the caller gave one, else an empty
// one whose system context holds only the host's configuration: logging in
// and out needs no storage, so it never opens (or creates) the default store.
func Optional(h uint64) (*State, error) {
	if h == 0 {
		return &State{}, nil
	}
	return Resolve(h)
}

// Open opens a store and returns a handle and a description of it.  It
// waits for the store's lock if another process holds it; cancelling the
// call stops the wait (interrupt.Detach: a store opened after that is
// closed again).
func Open(o wire.StoreOptions) (wire.StoreInfo, error) {
	call, err := interrupt.Begin(o.CallID())
	if err != nil {
		return wire.StoreInfo{}, err
	}
	defer call.End()
	st, err := interrupt.Detach(call, func() (*State, error) { return open(o) }, (*State).Release, nil)
	if err != nil {
		return wire.StoreInfo{}, err
	}
	scratch, _ := Scratch() // "" if it could not be made
	return wire.StoreInfo{
		Handle: handle.New(st), Root: st.Store.GraphRoot(), RunRoot: st.Store.RunRoot(),
		Driver: st.Store.GraphDriverName(), Sources: st.sources, Scratch: scratch,
	}, nil
}

func open(o wire.StoreOptions) (*State, error) {
	if err := userns.Required(); err != nil {
		return nil, err
	}
	opts, err := storage.DefaultStoreOptions()
	if err != nil {
		return nil, errkind.Wrap(errkind.StoreError, err)
	}
	if o.Root != "" {
		if !filepath.IsAbs(o.Root) {
			return nil, errkind.New(errkind.InvalidArgument, "store root %q must be an absolute path", o.Root)
		}
		opts.GraphRoot = o.Root
		if o.RunRoot == "" {
			o.RunRoot = filepath.Join(o.Root, "runroot")
		}
	}
	if o.RunRoot != "" {
		if !filepath.IsAbs(o.RunRoot) {
			return nil, errkind.New(errkind.InvalidArgument, "store runroot %q must be an absolute path", o.RunRoot)
		}
		opts.RunRoot = o.RunRoot
	}
	if o.Driver != "" {
		opts.GraphDriverName = o.Driver
		opts.GraphDriverOptions = nil // options from storage.conf belong to its driver
	}
	opts.GraphDriverOptions = append(opts.GraphDriverOptions, o.Options...)
	for _, dir := range o.AdditionalImageStores {
		if !filepath.IsAbs(dir) {
			return nil, errkind.New(errkind.InvalidArgument, "additional image store %q must be an absolute path", dir)
		}
		if strings.Contains(dir, ",") { // the driver splits its imagestore= option at commas
			return nil, errkind.New(errkind.InvalidArgument, "additional image store %q must not contain a comma", dir)
		}
		if _, err := os.Stat(dir); err != nil {
			return nil, errkind.Wrap(errkind.StoreError, fmt.Errorf("additional image store: %w", err))
		}
		opts.GraphDriverOptions = append(opts.GraphDriverOptions, "imagestore="+dir)
	}
	s, err := storage.GetStore(opts)
	if err != nil {
		return nil, explainOpenError(err)
	}
	warnOldTools(s.GraphRoot())
	ReapMounts(s)
	st := &State{Store: s, refs: 1, sources: map[string]string{}}
	// Every connection made with this store's context has an idle timeout,
	// even one made without a call's registry options (which set their own).
	st.sys.DockerIdleTimeout = sysctx.DefaultIdleTimeout
	if dir, err := Scratch(); err == nil { // also removes what dead processes left
		st.sys.BigFilesTemporaryDir = dir
	}
	if defaults, err := storage.DefaultStoreOptions(); err == nil && filepath.Clean(s.GraphRoot()) != filepath.Clean(defaults.GraphRoot) {
		// containers/image keeps its blob-info cache in /var/lib/containers/cache
		// (as root); a store elsewhere keeps its own, beside its layers.
		st.sys.BlobInfoCacheDir = filepath.Join(s.GraphRoot(), "cache")
	}
	if err := st.applyConfigDefaults(o); err != nil {
		_, _ = s.Shutdown(false)
		return nil, err
	}
	return st, nil
}
