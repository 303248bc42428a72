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
)

var keptCopiers sync.Map // *State -> the mount point held for its copier

// keepCopier mounts s's working container, holding that mount until
// releaseCopier (so the root stays the same mount across steps, which Add
// and Run otherwise mount and unmount each time), and lets one long-lived
// copier child serve it.  On failure nothing is kept and the step reports
// the error itself.
func keepCopier(s *State) {
	if _, ok := keptCopiers.Load(s); ok {
		return
	}
	mountPoint, err := s.Builder.Mount(s.Builder.MountLabel)
	if err != nil {
		return
	}
	if _, loaded := keptCopiers.LoadOrStore(s, mountPoint); loaded {
		_ = s.Builder.Unmount() // another thread got there first
		return
	}
	copier.KeepRoot(mountPoint)
}

// releaseCopier stops s's copier child and drops the mount keepCopier held.
// Idempotent.
func releaseCopier(s *State) {
	if mountPoint, ok := keptCopiers.LoadAndDelete(s); ok {
		copier.CloseRoot(mountPoint.(string))
		_ = s.Builder.Unmount()
	}
}
