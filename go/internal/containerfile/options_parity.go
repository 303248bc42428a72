package containerfile

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"go.podman.io/buildah/define"
	"go.podman.io/buildah/pkg/parse"
	"go.podman.io/image/v5/docker/reference"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/sysctx"
	"pybuildah.dev/shim/internal/validate"
	"pybuildah.dev/shim/internal/wire"
)

// sourceDateEpochVariable is honoured as buildah build honours it: as the
// default of --source-date-epoch.  Python passes its value (os.environ is
// the caller's environment; Go's copy may be stale).
const sourceDateEpochVariable = "SOURCE_DATE_EPOCH"

// setParity fills the options that mirror buildah build's flags beyond the
// basics: registry access for every pull, secrets, extra build contexts,
// outputs and reproducible timestamps.  Each value is checked with the
// parser the buildah CLI uses, so messages match the CLI's.
func setParity(options *define.BuildOptions, o wire.BuildOptions, reg *sysctx.Registry) error {
	options.SystemContext = reg.Sys
	if reg.Retries != nil {
		options.MaxPullPushRetries = int(*reg.Retries)
	}
	if _, err := parse.Secrets(o.Secrets); err != nil {
		return errkind.Wrap(errkind.InvalidArgument, fmt.Errorf("secrets: %w", err))
	}
	options.CommonBuildOpts.Secrets = o.Secrets
	if _, err := parse.SSH(o.SSH); err != nil {
		return errkind.Wrap(errkind.InvalidArgument, fmt.Errorf("ssh: %w", err))
	}
	options.CommonBuildOpts.SSHSources = o.SSH
	contexts, err := buildContexts(o.BuildContexts)
	if err != nil {
		return err
	}
	options.AdditionalBuildContexts = contexts
	for _, out := range o.Outputs {
		parsed, err := parse.GetBuildOutput(out)
		if err != nil {
			return errkind.Wrap(errkind.InvalidArgument, fmt.Errorf("output: %w", err))
		}
		if parsed.IsStdout || parsed.Path == "-" { // Buildah would write to file descriptor 1, past Python's sys.stdout
			return errkind.New(errkind.InvalidArgument, "output %q: standard output is written by the Python side (build(output=\"-\"))", out)
		}
	}
	options.BuildOutputs = o.Outputs
	epoch, err := sourceDateEpoch(o.SourceDateEpoch, o.EpochFromEnv)
	if err != nil {
		return err
	}
	options.SourceDateEpoch = epoch
	options.RewriteTimestamp = o.RewriteTimestamp
	if options.CacheFrom, err = cacheRepositories("cache_from", o.CacheFrom); err != nil {
		return err
	}
	if options.CacheTo, err = cacheRepositories("cache_to", o.CacheTo); err != nil {
		return err
	}
	if o.RewriteTimestamp && epoch == nil {
		return errkind.New(errkind.InvalidArgument, "rewrite_timestamp needs source_date_epoch (or %s)", sourceDateEpochVariable)
	}
	return nil
}

// cacheRepositories parses --cache-from/--cache-to repositories with the
// CLI's parser.
func cacheRepositories(what string, repositories []string) ([]reference.Named, error) {
	if len(repositories) == 0 {
		return nil, nil
	}
	named, err := parse.RepoNamesToNamedReferences(repositories)
	if err != nil {
		return nil, errkind.Wrap(errkind.InvalidReference, fmt.Errorf("%s: %w", what, err))
	}
	return named, nil
}

// buildContexts parses name -> directory, URL or docker-image://ref, as
// --build-context does.
func buildContexts(values map[string]string) (map[string]*define.AdditionalBuildContext, error) {
	if len(values) == 0 {
		return nil, nil
	}
	contexts := make(map[string]*define.AdditionalBuildContext, len(values))
	for name, value := range values {
		if name == "" {
			return nil, errkind.New(errkind.InvalidArgument, "build context names must not be empty")
		}
		parsed, err := parse.GetAdditionalBuildContext(value)
		if err != nil {
			return nil, errkind.Wrap(errkind.InvalidArgument, fmt.Errorf("build context %q: %w", name, err))
		}
		if !parsed.IsImage && !parsed.IsURL {
			if info, err := os.Stat(parsed.Value); err != nil || !info.IsDir() {
				return nil, errkind.New(errkind.ContextError, "build context %q: %s is not a directory", name, parsed.Value)
			}
		}
		contexts[name] = &parsed
	}
	return contexts, nil
}

// sourceDateEpoch is the explicit value, else the environment's, as seconds
// since the epoch; nil when neither is set.
func sourceDateEpoch(explicit *int64, env string) (*time.Time, error) {
	var seconds int64
	switch {
	case explicit != nil:
		seconds = *explicit
	case env != "":
		parsed, err := strconv.ParseInt(env, 10, 64)
		if err != nil {
			return nil, errkind.New(errkind.InvalidArgument, "%s=%q is not a number of seconds", sourceDateEpochVariable, env)
		}
		seconds = parsed
	default:
		return nil, nil
	}
	if seconds < 0 {
		return nil, errkind.New(errkind.InvalidArgument, "source_date_epoch must not be negative, not %d", seconds)
	}
	t, err := validate.Timestamp("source_date_epoch", seconds)
	return &t, err
}

// failure is a registry's refusal (credentials, TLS), silence (the idle
// timeout) or a base image the signature policy refuses as that error, so that a build that cannot pull its base says why
// as a pull would; anything else is a BuildError naming the failing instruction.
func failure(err error, steps []stepLine, stages []string) error {
	switch kind := errkind.Registry(err); kind {
	case errkind.AuthenticationError, errkind.TLSError, errkind.RegistryTimeout, errkind.SignatureError:
		return errkind.Wrap(kind, err)
	}
	if errkind.IntegrityText(err) { // a base whose blob or manifest a registry served wrong
		return errkind.Wrap(errkind.RegistryError, err)
	}
	return attribute(err, steps, stages)
}

// registryPassword is the password of the call's creds, if any.
func registryPassword(o wire.BuildOptions) []string {
	if o.Creds == nil {
		return nil
	}
	if _, password, err := sysctx.ParseCreds(string(*o.Creds)); err == nil && password != "" {
		return []string{password}
	}
	return nil
}
