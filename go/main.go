// Command pybuildah-helper, and the c-shared library libpybuildah.so.
//
// This package is built twice: as the library that Python loads (the
// //export functions in exports.go, a thin layer over internal/...), and
// as the helper executable that every re-exec'd subroutine of Buildah and
// containers/storage runs in (the overlay makes reexec.Self() return the
// helper's path inside the library).  Both carry the same registered
// handlers because both link the same packages.
package main

import (
	"fmt"
	"os"

	"go.podman.io/buildah"
)

// main is the helper's entry point; the shared library never runs it.
func main() {
	if buildah.InitReexec() {
		return
	}
	fmt.Fprintf(os.Stderr, "%s: this is pybuildah's re-exec helper; it is started by the pybuildah library, not by hand\n", os.Args[0])
	os.Exit(2)
}
