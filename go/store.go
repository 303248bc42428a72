package main

import "C"

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/configfile"
	"go.podman.io/storage/pkg/unshare"
)

//go:embed defaults/policy.json
var embeddedPolicy []byte

//go:embed defaults/registries.conf
var embeddedRegistries []byte

type storeOptions struct {
	Root                  string   `json:"root"`
	RunRoot               string   `json:"runroot"`
	Driver                string   `json:"driver"`
	Options               []string `json:"options"`
	AdditionalImageStores []string `json:"additional_image_stores"`
}

// storeState is what a Store handle points at.  Builders keep a reference,
// so the store stays open until the last user lets go of it.
type storeState struct {
	store    storage.Store
	sys      types.SystemContext // policy and registries defaults for this store
	sources  map[string]string   // which configuration files are in effect
	mu       sync.Mutex
	refs     int
	shutdown bool
}

func (s *storeState) acquire() { s.mu.Lock(); s.refs++; s.mu.Unlock() }

// release drops one reference and shuts the store down after the last one.
func (s *storeState) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refs--
	if s.refs <= 0 && !s.shutdown {
		s.shutdown = true
		_, _ = s.store.Shutdown(false)
	}
}

// systemContext returns a fresh copy of the store's base system context.
func (s *storeState) systemContext() *types.SystemContext {
	sys := s.sys
	return &sys
}

func openStore(o storeOptions) (*storeState, error) {
	opts, err := storage.DefaultStoreOptions()
	if err != nil {
		return nil, withKind("StoreError", err)
	}
	if o.Root != "" {
		if !filepath.IsAbs(o.Root) {
			return nil, kindf("InvalidArgument", "store root %q must be an absolute path", o.Root)
		}
		opts.GraphRoot = o.Root
		if o.RunRoot == "" {
			o.RunRoot = filepath.Join(o.Root, "runroot")
		}
	}
	if o.RunRoot != "" {
		if !filepath.IsAbs(o.RunRoot) {
			return nil, kindf("InvalidArgument", "store runroot %q must be an absolute path", o.RunRoot)
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
			return nil, kindf("InvalidArgument", "additional image store %q must be an absolute path", dir)
		}
		if _, err := os.Stat(dir); err != nil {
			return nil, withKind("StoreError", fmt.Errorf("additional image store: %w", err))
		}
		opts.GraphDriverOptions = append(opts.GraphDriverOptions, "imagestore="+dir)
	}
	store, err := storage.GetStore(opts)
	if err != nil {
		return nil, withKind("StoreError", err)
	}
	state := &storeState{store: store, refs: 1, sources: map[string]string{}}
	if defaults, err := storage.DefaultStoreOptions(); err == nil && filepath.Clean(store.GraphRoot()) != filepath.Clean(defaults.GraphRoot) {
		// containers/image keeps its blob-info cache in /var/lib/containers/cache
		// (as root); a store elsewhere keeps its own, beside its layers.
		state.sys.BlobInfoCacheDir = filepath.Join(store.GraphRoot(), "cache")
	}
	if err := state.applyConfigDefaults(); err != nil {
		_, _ = store.Shutdown(false)
		return nil, err
	}
	return state, nil
}

// applyConfigDefaults points the store's system context at pybuildah's
// embedded policy and registries configuration where the host has none, so
// that a machine without containers-common still works.
func (s *storeState) applyConfigDefaults() error {
	dir := filepath.Join(s.store.RunRoot(), "pybuildah")
	policy := &configfile.File{Name: "policy", Extension: "json", DoNotLoadDropInFiles: true, EnvironmentName: "CONTAINERS_POLICY_JSON"}
	if found := firstConfigFile(policy); found != "" {
		s.sources["policy"] = found
	} else {
		path, err := writeDefault(dir, "policy.json", embeddedPolicy)
		if err != nil {
			return err
		}
		s.sys.SignaturePolicyPath = path
		s.sources["policy"] = "embedded"
	}
	registries := &configfile.File{Name: "registries", Extension: "conf", EnvironmentName: "CONTAINERS_REGISTRIES_CONF", UserId: unshare.GetRootlessUID()}
	if found := firstConfigFile(registries); found != "" {
		s.sources["registries"] = found
	} else {
		path, err := writeDefault(dir, "registries.conf", embeddedRegistries)
		if err != nil {
			return err
		}
		s.sys.SystemRegistriesConfPath = path
		s.sources["registries"] = "embedded"
	}
	return nil
}

// firstConfigFile names the first configuration file that the containers
// libraries would read for conf, or "" when there is none.
func firstConfigFile(conf *configfile.File) string {
	for item, err := range configfile.Read(conf) {
		if err != nil {
			return "unreadable"
		}
		return item.Name
	}
	return ""
}

func writeDefault(dir, name string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", withKind("StoreError", err)
	}
	path := filepath.Join(dir, name)
	tmp := path + fmt.Sprintf(".%d.tmp", os.Getpid())
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return "", withKind("StoreError", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", withKind("StoreError", err)
	}
	return path, nil
}

type storeInfo struct {
	Handle  uint64            `json:"handle"`
	Root    string            `json:"root"`
	RunRoot string            `json:"runroot"`
	Driver  string            `json:"driver"`
	Sources map[string]string `json:"config_sources"`
}

//export PyBuildahStoreOpen
func PyBuildahStoreOpen(args *C.char) *C.char {
	return call(args, func(o storeOptions) (any, error) {
		state, err := openStore(o)
		if err != nil {
			return nil, err
		}
		return storeInfo{
			Handle:  newHandle(state),
			Root:    state.store.GraphRoot(),
			RunRoot: state.store.RunRoot(),
			Driver:  state.store.GraphDriverName(),
			Sources: state.sources,
		}, nil
	})
}

type storeRef struct {
	Store uint64 `json:"store"`
}

func (r storeRef) state() (*storeState, error) { return handleValue[storeState](r.Store, "store") }
