package builder

// State written when it matters: config calls and COPY change the shared
// in-memory *buildah.Builder and mark the container dirty; its state file
// (Buildah's builder.json) is written by flush before anything that reads
// it from disk or hands the container to another process (RUN, commit,
// mount, unmount), on Builder.flush(), and when a handle is released
// (close, garbage collection, interpreter exit).  docs/design.md says what
// another process sees meanwhile.

import "pybuildah.dev/shim/internal/wire"

// flush writes the container's state file if a change is only in memory.
// The caller holds c.mu.
func (c *container) flush() error {
	if !c.dirty {
		return nil
	}
	if err := c.builder.Save(); err != nil {
		return err
	}
	c.dirty = false
	return nil
}

// Flush writes the working container's state file now (Builder.flush()).
func Flush(s *State, _ wire.BuilderRef) (any, error) {
	return nil, s.explain(s.shared.flush())
}

// flushOnRelease writes the state file as a handle goes.  A call in
// progress on the container (through another handle) holds its lock; that
// handle writes it later, so a busy container is not waited for here.
func flushOnRelease(c *container) {
	if c.mu.TryLock() {
		_ = c.flush() // a container removed behind our back has nothing to write to
		c.mu.Unlock()
	}
}
