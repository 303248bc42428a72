// Package environ owns the process environment as Go sees it.  The Go
// runtime copies the environment once, when the library is loaded, but the
// places where credentials live (REGISTRY_AUTH_FILE, DOCKER_CONFIG,
// XDG_RUNTIME_DIR, HOME) should follow os.environ as Python sees it now, so
// Python hands over the current values before the calls that read them.
package environ

import (
	"os"

	"pybuildah.dev/shim/internal/wire"
)

// Sync sets each variable of o.Env in Go's copy of the environment, or
// unsets it for a null value; a variable already as asked is left alone.
func Sync(o wire.SyncEnvOptions) (any, error) {
	for name, value := range o.Env {
		current, set := os.LookupEnv(name)
		switch {
		case value == nil && set:
			if err := os.Unsetenv(name); err != nil {
				return nil, err
			}
		case value != nil && (!set || current != *value):
			if err := os.Setenv(name, *value); err != nil {
				return nil, err
			}
		}
	}
	return nil, nil
}
