package main

// pybuildah issue #10: one long-lived chrooted copier child per working
// container, instead of one child per copier request (four per COPY).  The
// copier side is go/overlay/buildah-copier-kept.go; see docs/design.md, "A
// long-lived copier per root".  The shim's part is only these two functions:
// keepCopier before a step that uses the copier (COPY/ADD, RUN), and
// releaseCopier when the builder is deleted or its handle released
// (close, commit-and-close, garbage collection).

import (
	"sync"

	"go.podman.io/buildah/copier"
)

var keptCopiers sync.Map // *builderState -> the mount point held for its copier

// keepCopier mounts st's working container, holding that mount until
// releaseCopier (so the root stays the same mount across steps, which Add
// and Run otherwise mount and unmount each time), and lets one long-lived
// copier child serve it.  On failure nothing is kept and the step reports
// the error itself.
func keepCopier(st *builderState) {
	if _, ok := keptCopiers.Load(st); ok {
		return
	}
	mountPoint, err := st.builder.Mount(st.builder.MountLabel)
	if err != nil {
		return
	}
	if _, loaded := keptCopiers.LoadOrStore(st, mountPoint); loaded {
		_ = st.builder.Unmount() // another thread got there first
		return
	}
	copier.KeepRoot(mountPoint)
}

// releaseCopier stops st's copier child and drops the mount keepCopier
// held.  Idempotent.
func releaseCopier(st *builderState) {
	if mountPoint, ok := keptCopiers.LoadAndDelete(st); ok {
		copier.CloseRoot(mountPoint.(string))
		_ = st.builder.Unmount()
	}
}
