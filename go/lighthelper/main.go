// Command pybuildah-light-helper runs the re-exec'd subroutines that every
// COPY, ADD, RUN, user lookup and layer extraction starts: the copier, the
// chroot runtime, chrootuser and storage's chrootarchive handlers.  It links
// only those packages, so it starts in about half the time of the full
// helper, and it is the binary that storage's unshare code copies into a
// sealed memfd for each RUN (see docs/design.md); the library routes exactly
// the names in reexecinit.LightSubroutines here.
package main

import (
	"fmt"
	"os"

	_ "go.podman.io/buildah/chroot"
	_ "go.podman.io/buildah/copier"
	_ "go.podman.io/buildah/pkg/chrootuser"
	_ "go.podman.io/storage/pkg/chrootarchive"
	"go.podman.io/storage/pkg/reexec"
)

func main() {
	if reexec.Init() {
		return
	}
	fmt.Fprintf(os.Stderr, "%s: no such subroutine in pybuildah's light re-exec helper\n", os.Args[0])
	os.Exit(2)
}
