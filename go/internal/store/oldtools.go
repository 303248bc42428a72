package store

import (
	"os"
	"path/filepath"
	"sync"

	"github.com/sirupsen/logrus"
)

// Buildah makes its working containers volatile, and containers/storage
// 1.45 (Buildah 1.29, Podman 4.4) and later keep volatile containers in
// volatile-containers.json.  Older versions read only containers.json: they
// see none of our working containers, so their `rmi` removes an image that
// one is built on, and the container breaks.  containers/storage before
// 1.44 (Debian 12's buildah 1.28 and podman 4.3) made empty "mounts" and
// "tmp" directories in the graph root whenever it opened a store, which
// later versions never do: finding both says such a tool uses this store.

var warnedOld sync.Map // graph roots already warned about, once per process

// warnOldTools logs a warning (the pybuildah logger) the first time this
// process opens a store that an old tool has used.
func warnOldTools(graphRoot string) {
	if !usedByOldStorage(graphRoot) {
		return
	}
	if _, seen := warnedOld.LoadOrStore(filepath.Clean(graphRoot), true); seen {
		return
	}
	logrus.Warnf("store %s has been used by a Buildah or Podman older than 1.29/4.4 (containers/storage before 1.44, "+
		"such as Debian 12's buildah 1.28, left its empty mounts/ and tmp/ directories there): those versions do not "+
		"see the working containers that pybuildah keeps in volatile-containers.json, so their rmi can remove the "+
		"image of a live container.  Use Buildah 1.29 or Podman 4.4 or later on this store (and remove the two "+
		"empty directories when the old tools are gone)", graphRoot)
}

// usedByOldStorage reports whether both of old storage's directories exist.
func usedByOldStorage(graphRoot string) bool {
	for _, name := range []string{"mounts", "tmp"} {
		info, err := os.Stat(filepath.Join(graphRoot, name))
		if err != nil || !info.IsDir() {
			return false
		}
	}
	return true
}
