// Package sysctx is the one path from a call's options to what Buildah and
// containers/image read: a types.SystemContext for registry options (TLS,
// certificates, auth file, credentials, retries), and the run-time defaults
// from containers.conf (capabilities, ulimits).
package sysctx

import (
	"os"
	"strings"
	"time"

	"go.podman.io/common/pkg/auth"
	"go.podman.io/image/v5/types"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/secret"
	"pybuildah.dev/shim/internal/signing"
	"pybuildah.dev/shim/internal/validate"
	"pybuildah.dev/shim/internal/wire"
)

// DefaultIdleTimeout is how long a connection to a registry (or to the
// server of an ADD URL) may make no progress before the call fails with
// RegistryTimeout, when the caller gives no timeout.  It bounds a stalled
// server, not a transfer: a large layer that keeps moving is never cut off.
const DefaultIdleTimeout = 60 * time.Second

// Registry is a call's registry options, checked and applied.
type Registry struct {
	Sys      *types.SystemContext // the store's context with these options
	AuthFile string               // as the caller gave it ("" = the default places)
	User     string               // from creds, "" without
	Password string
	Retries  *uint // nil: containers.conf's count
	// IdleTimeout bounds each connection's silence (Sys.DockerIdleTimeout).
	IdleTimeout time.Duration
}

// Secrets lists what must never appear in an error message: the password
// and the Authorization header's base64 of the pair.
func (r *Registry) Secrets() []string {
	if r == nil {
		return nil
	}
	return secret.Credentials(r.User, r.Password)
}

// ForRegistry checks o (the certificate directory exists, retries are not
// negative, creds parse, a signature policy parses) and applies it to a copy of base.  Without an
// explicit auth file, REGISTRY_AUTH_FILE and DOCKER_CONFIG apply as in
// Buildah's CLI; otherwise containers/image searches its standard places.
func ForRegistry(base types.SystemContext, o wire.RegistryOptions) (*Registry, error) {
	r := &Registry{Sys: &base, AuthFile: o.AuthFile}
	timeout, err := IdleTimeout(o.Timeout)
	if err != nil {
		return nil, err
	}
	r.IdleTimeout, r.Sys.DockerIdleTimeout = timeout, timeout
	if o.CertDir != "" {
		if info, err := os.Stat(o.CertDir); err != nil || !info.IsDir() {
			return nil, errkind.New(errkind.InvalidArgument, "certificate directory %q does not exist or is not a directory", o.CertDir)
		}
		r.Sys.DockerCertPath = o.CertDir
	}
	if o.Retries != nil {
		if *o.Retries < 0 {
			return nil, errkind.New(errkind.InvalidArgument, "retries must not be negative, not %d", *o.Retries)
		}
		retries := uint(*o.Retries)
		r.Retries = &retries
	}
	if o.TLSVerify != nil {
		r.Sys.DockerInsecureSkipTLSVerify = types.NewOptionalBool(!*o.TLSVerify)
		r.Sys.OCIInsecureSkipTLSVerify = !*o.TLSVerify
	}
	if authFile := defaultAuthFile(o.AuthFile); authFile != "" {
		r.Sys.AuthFilePath = authFile
	}
	policy, err := signing.PolicyPath(o.SignaturePolicy, base.BigFilesTemporaryDir)
	if err != nil {
		return nil, err
	}
	if policy != "" {
		r.Sys.SignaturePolicyPath = policy
	}
	if o.Creds != nil {
		user, password, err := ParseCreds(string(*o.Creds))
		if err != nil {
			return nil, err
		}
		r.User, r.Password = user, password
		r.Sys.DockerAuthConfig = &types.DockerAuthConfig{Username: user, Password: password}
	}
	return r, nil
}

// IdleTimeout checks a timeout in seconds; nil is DefaultIdleTimeout.
func IdleTimeout(seconds *wire.Seconds) (time.Duration, error) {
	if seconds == nil {
		return DefaultIdleTimeout, nil
	}
	return validate.Timeout((*float64)(seconds))
}

// ForLogin is the context for auth.Login, which picks the auth file itself
// (explicit, REGISTRY_AUTH_FILE, DOCKER_CONFIG, then the per-user default)
// and checks the credentials it is given, not the context's.
func (r *Registry) ForLogin() *types.SystemContext {
	sys := *r.Sys
	sys.AuthFilePath = r.AuthFile
	sys.DockerAuthConfig = nil
	return &sys
}

// ParseCreds splits "user:password" at the first colon.  The user must not
// be empty; messages never contain the password.
func ParseCreds(creds string) (user, password string, err error) {
	user, password, ok := strings.Cut(creds, ":")
	if !ok {
		return "", "", errkind.New(errkind.InvalidArgument, "creds must be \"user:password\" (no \":\" found)")
	}
	if user == "" {
		return "", "", errkind.New(errkind.InvalidArgument, "creds need a user name")
	}
	return user, password, nil
}

// defaultAuthFile is the auth file to use when the caller named none.
func defaultAuthFile(authFile string) string {
	if authFile != "" {
		return authFile
	}
	return auth.GetDefaultAuthFile()
}
