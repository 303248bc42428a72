package builder

import (
	"sort"
	"sync"

	"go.podman.io/buildah"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/store"
)

// container is the one in-process state of a working container, shared by
// every handle on it (Builder.open of the same container included): one
// *buildah.Builder, so that no handle's Save undoes another's change, and
// one lock that serialises every call on the container.
type container struct {
	mu      sync.Mutex // held for the length of each call on the container
	key     string
	builder *buildah.Builder
	mounted bool // mounted by Mount (not only for the length of a call)
	dirty   bool // changed in memory since its state file was last written (flush)
	refs    int  // handles on it; guarded by containers' lock
}

var containers = struct {
	sync.Mutex
	byKey map[string]*container
}{byKey: map[string]*container{}}

// containerKey names a container across stores: its store's graph root and ID.
func containerKey(st *store.State, id string) string {
	return st.Store.GraphRoot() + "\x00" + id
}

// share returns the shared state of b's container, taking a reference: the
// first handle's *buildah.Builder wins, later opens reuse it.
func share(st *store.State, b *buildah.Builder) *container {
	key := containerKey(st, b.ContainerID)
	containers.Lock()
	defer containers.Unlock()
	c, ok := containers.byKey[key]
	if !ok {
		c = &container{key: key, builder: b}
		containers.byKey[key] = c
	}
	c.refs++
	return c
}

// unshare drops a reference; the last one forgets the container.
func (c *container) unshare() {
	containers.Lock()
	defer containers.Unlock()
	c.refs--
	if c.refs <= 0 && containers.byKey[c.key] == c {
		delete(containers.byKey, c.key)
	}
}

// forget makes the next open of this key start afresh (after Delete).
func (c *container) forget() {
	containers.Lock()
	defer containers.Unlock()
	if containers.byKey[c.key] == c {
		delete(containers.byKey, c.key)
	}
}

// dispose deletes the container through b (the shared builder, or a fresh
// copy of it), also when several handles in this process are open on it:
// every one's copier child is stopped first, and the next open starts
// afresh.  The caller holds c.mu.
//
// The mounts the handles held are not unmounted one by one before: deleting
// the container unmounts its layer however often it is mounted, and
// Buildah's Unmount would write the state file just before it is removed.
// Only if the delete fails are they unmounted here.
func (c *container) dispose(b *buildah.Builder) error {
	var records []string
	keptCopiers.Range(func(k, _ any) bool {
		if s := k.(*State); s.shared == c {
			if record, ok := stopCopier(s); ok {
				records = append(records, record)
			}
		}
		return true
	})
	held := len(records)
	if c.mounted {
		held++
		c.mounted = false
	}
	err := b.Delete()
	failed := err != nil && !errkind.ContainerGone(err)
	unmounted := true
	for ; failed && held > 0; held-- {
		unmounted = c.builder.Unmount() == nil && unmounted
	}
	if unmounted { // else the records stay, for the next open after this process
		for _, record := range records {
			store.ForgetMount(record)
		}
	}
	if failed {
		return err
	}
	c.forget()
	return nil
}

// Lock locks the containers of every given builder (the one a call is on,
// and a source it reads from), each once, in one global order so that two
// calls that lock the same pair cannot deadlock.  It returns the unlock.
func Lock(states ...*State) func() {
	seen := map[*container]bool{}
	var locks []*container
	for _, s := range states {
		if s != nil && !seen[s.shared] {
			seen[s.shared] = true
			locks = append(locks, s.shared)
		}
	}
	sort.Slice(locks, func(i, j int) bool { return locks[i].key < locks[j].key })
	for _, c := range locks {
		c.mu.Lock()
	}
	return func() {
		for i := len(locks) - 1; i >= 0; i-- {
			locks[i].mu.Unlock()
		}
	}
}
