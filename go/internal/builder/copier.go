package builder

// One long-lived chrooted copier child per working container, instead of one
// child per copier request (four per COPY).  The copier side is the overlay
// go/overlay/buildah-copier-kept.go (copier.KeepRoot/CloseRoot); see
// docs/design.md, "A long-lived copier per root".  Here: keepCopier before a
// step that uses the copier (COPY/ADD, RUN), releaseCopier when the builder
// is deleted or its handle released (close, commit-and-close, garbage
// collection).

import (
	"sync"

	"go.podman.io/buildah/copier"

	"pybuildah.dev/shim/internal/store"
)

var keptCopiers sync.Map // *State -> the kept mount held for its copier

type keptMount struct{ mountPoint, record string }

// keepCopier mounts s's working container, holding that mount until
// releaseCopier (one mount per Builder: Add and Run use it instead of
// mounting, unmounting and saving the state file each time, see
// Builder.HoldMount in patches/buildah-held-mount.patch), and lets one
// long-lived copier child serve it.  The mount is recorded for this
// process, so that the next store open unmounts it if the process dies
// holding it (store.ReapMounts).  On failure nothing is kept and the step reports
// the error itself.
func keepCopier(s *State) {
	if _, ok := keptCopiers.Load(s); ok {
		return
	}
	mountPoint, err := s.Builder.Mount(s.Builder.MountLabel)
	if err != nil {
		return
	}
	kept := &keptMount{mountPoint: mountPoint}
	if _, loaded := keptCopiers.LoadOrStore(s, kept); loaded {
		_ = s.Builder.Unmount() // another thread got there first
		return
	}
	kept.record = store.RecordMount(s.Store.Store, s.Builder.ContainerID)
	s.Builder.HoldMount(true)
	copier.KeepRoot(mountPoint)
}

// releaseCopier stops s's copier child and drops the mount keepCopier held.
// Idempotent.
func releaseCopier(s *State) {
	if record, ok := stopCopier(s); ok {
		if s.Builder.Unmount() == nil { // else the record stays, for the next open after this process
			store.ForgetMount(record)
		}
	}
}

// stopCopier stops s's copier child and lets go of the mount keepCopier held,
// leaving it mounted (dispose: deleting the container unmounts it).  It
// returns the mount's record, and false when nothing was kept.
func stopCopier(s *State) (string, bool) {
	value, ok := keptCopiers.LoadAndDelete(s)
	if !ok {
		return "", false
	}
	kept := value.(*keptMount)
	copier.CloseRoot(kept.mountPoint)
	s.Builder.HoldMount(false)
	return kept.record, true
}
