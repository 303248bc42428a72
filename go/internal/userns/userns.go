// Package userns reads the ID maps of the process's user namespace, so that
// a rootless chown to an ID the namespace lacks fails up front, saying why,
// instead of as EINVAL from deep inside the copier.
package userns

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.podman.io/storage/pkg/homedir"
	"go.podman.io/storage/pkg/unshare"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/wire"
)

// Range is one line of /proc/self/uid_map or gid_map.
type Range struct{ Inside, Outside, Size uint64 }

// ParseMap reads the lines of a uid_map or gid_map.
func ParseMap(content string) ([]Range, error) {
	var ranges []Range
	for _, line := range strings.Split(strings.TrimSpace(content), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 3 {
			return nil, fmt.Errorf("ID map line %q has %d fields, not 3", line, len(fields))
		}
		var r Range
		for i, dst := range []*uint64{&r.Inside, &r.Outside, &r.Size} {
			n, err := strconv.ParseUint(fields[i], 10, 32)
			if err != nil {
				return nil, fmt.Errorf("ID map line %q: %w", line, err)
			}
			*dst = n
		}
		ranges = append(ranges, r)
	}
	return ranges, nil
}

// Mapped says whether id exists in the namespace that ranges describe.
func Mapped(ranges []Range, id uint64) bool {
	for _, r := range ranges {
		if id >= r.Inside && id-r.Inside < r.Size {
			return true
		}
	}
	return false
}

// CheckChownSpec checks the numeric IDs of a USER[:GROUP] spec against the
// maps; names are left to Buildah, which resolves them in the container.
func CheckChownSpec(spec string, uids, gids []Range) error {
	user, group, _ := strings.Cut(spec, ":")
	for _, c := range []struct {
		kind, value, file string
		ranges            []Range
	}{{"UID", user, "uid_map", uids}, {"GID", group, "gid_map", gids}} {
		id, err := strconv.ParseUint(c.value, 10, 32)
		if err != nil || Mapped(c.ranges, id) {
			continue
		}
		return errkind.New(errkind.InvalidArgument,
			"chown %q: %s %d does not exist in this process's user namespace (%s: %s); pybuildah runs rootless "+
				"with too few IDs mapped, e.g. the single-ID fallback for a user without subordinate ranges: "+
				"give the user ranges in /etc/subuid and /etc/subgid (usermod --add-subuids/--add-subgids) "+
				"and start the program again", spec, c.kind, id, c.file, describe(c.ranges))
	}
	return nil
}

// CheckChown checks a chown spec against this process's ID maps.  As real
// root (the whole ID space mapped) every ID passes.
func CheckChown(spec string) error {
	if spec == "" {
		return nil
	}
	uids, err := readMap("/proc/self/uid_map")
	if err != nil {
		return nil // no maps to read: let Buildah report whatever happens
	}
	gids, err := readMap("/proc/self/gid_map")
	if err != nil {
		return nil
	}
	return CheckChownSpec(spec, uids, gids)
}

func readMap(path string) ([]Range, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseMap(string(content))
}

func describe(ranges []Range) string {
	parts := make([]string, len(ranges))
	for i, r := range ranges {
		parts[i] = fmt.Sprintf("%d %d %d", r.Inside, r.Outside, r.Size)
	}
	return "\"" + strings.Join(parts, ", ") + "\""
}

// Required fails unless this process can use a store: as real root, or as
// root in the user namespace that init_reexec() or `pybuildah unshare` made.
// Outside one, an ordinary user's store fails on the first root-only step
// (overlay's private mount, the network lock in /run/lock), saying nothing of
// the fix; the buildah command never runs there either.
func Required() error { return requiredFor(os.Geteuid()) }

func requiredFor(euid int) error {
	if euid == 0 {
		return nil
	}
	return errkind.New(errkind.UserNamespaceError,
		"pybuildah runs as UID %d outside a user namespace, where Buildah cannot use a store: "+
			"call pybuildah.init_reexec() first thing in the program (as the buildah command re-executes "+
			"itself), or start it under `pybuildah unshare`", euid)
}

// RuntimeDir is what the buildah command sets XDG_RUNTIME_DIR to when it
// runs rootless without one (its setXDGRuntimeDir): storage's choice of
// /run/user/UID or a private directory under $TMPDIR.  Empty when not
// rootless or when XDG_RUNTIME_DIR is set.  The auth file and the run root
// live there.
func RuntimeDir(wire.None) (string, error) {
	if !unshare.IsRootless() || os.Getenv("XDG_RUNTIME_DIR") != "" {
		return "", nil
	}
	dir, err := homedir.GetRuntimeDir()
	if err != nil {
		return "", errkind.Wrap(errkind.StoreError, err)
	}
	return dir, nil
}
