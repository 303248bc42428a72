package store

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"

	"go.podman.io/storage/pkg/configfile"
	"go.podman.io/storage/pkg/unshare"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/signing"
	"pybuildah.dev/shim/internal/wire"
)

//go:embed defaults/policy.json
var embeddedPolicy []byte

//go:embed defaults/registries.conf
var embeddedRegistries []byte

//go:embed defaults/registries.d.yaml
var embeddedRegistriesD []byte

// applyConfigDefaults points the store's system context at pybuildah's
// embedded policy, registries and registries.d configuration where the host
// has none, so that a machine without containers-common still works, and at
// the store's own signature policy when the caller gave one.
func (s *State) applyConfigDefaults(o wire.StoreOptions) error {
	dir := filepath.Join(s.Store.RunRoot(), "pybuildah")
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
	// registries.d (lookaside and sigstore attachments), read as
	// containers/image reads it: every drop-in file, no main file.
	registriesD := &configfile.File{Name: "registries", Extension: "yaml", DoNotLoadMainFiles: true,
		DoNotUseExtensionForConfigName: true, UserId: unshare.GetRootlessUID()}
	if found := firstConfigFile(registriesD); found != "" {
		s.sources["registries.d"] = filepath.Dir(found)
	} else {
		path, err := writeDefault(filepath.Join(dir, "registries.d"), "default.yaml", embeddedRegistriesD)
		if err != nil {
			return err
		}
		s.sys.RegistriesDirPath = filepath.Dir(path)
		s.sources["registries.d"] = "embedded"
	}
	if o.SignaturePolicy != nil {
		path, err := signing.PolicyPath(o.SignaturePolicy, s.sys.BigFilesTemporaryDir)
		if err != nil {
			return err
		}
		s.sys.SignaturePolicyPath = path
		s.sources["policy"] = path
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
		return "", errkind.Wrap(errkind.StoreError, err)
	}
	path := filepath.Join(dir, name)
	tmp := path + fmt.Sprintf(".%d.tmp", os.Getpid())
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return "", errkind.Wrap(errkind.StoreError, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", errkind.Wrap(errkind.StoreError, err)
	}
	return path, nil
}
