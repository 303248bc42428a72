package store

import (
	"os"
	"path/filepath"

	"go.podman.io/storage/pkg/unshare"

	"pybuildah.dev/shim/internal/errkind"
)

// explainOpenError turns containers/storage's refusal of a store that holds
// several drivers' layers (advice: buildah's "-s <DRIVER>") into a
// StoreError that names pybuildah's own ways to choose the driver.
func explainOpenError(err error) error {
	what, ok := errkind.SeveralDriversText(err)
	if !ok {
		return errkind.Wrap(errkind.StoreError, err)
	}
	return errkind.New(errkind.StoreError,
		"%s: another tool used this store with another driver (Debian 12's buildah 1.28 picks vfs for an "+
			"ordinary user). Choose the driver: pybuildah.Store(driver=\"overlay\"), "+
			"`pybuildah --storage-driver overlay COMMAND`, or the line driver = \"overlay\" under [storage] in %s, "+
			"which buildah and podman read too", what, storageConf())
}

// storageConf is the storage.conf that the containers libraries read first
// for this user: $CONTAINERS_STORAGE_CONF, the user's own, or the system's.
func storageConf() string {
	if path := os.Getenv("CONTAINERS_STORAGE_CONF"); path != "" {
		return path
	}
	if unshare.GetRootlessUID() > 0 {
		if dir, err := os.UserConfigDir(); err == nil {
			return filepath.Join(dir, "containers", "storage.conf")
		}
	}
	return "/etc/containers/storage.conf"
}
