package containerfile

import (
	"errors"
	"testing"

	"go.podman.io/buildah/define"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/types"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/sysctx"
	"pybuildah.dev/shim/internal/wire"
)

func parity(t *testing.T, o wire.BuildOptions) (*define.BuildOptions, error) {
	t.Helper()
	reg, err := sysctx.ForRegistry(types.SystemContext{}, o.RegistryOptions)
	if err != nil {
		t.Fatal(err)
	}
	options := &define.BuildOptions{CommonBuildOpts: &define.CommonBuildOptions{}}
	return options, setParity(options, o, reg)
}

func TestSourceDateEpoch(t *testing.T) {
	explicit := int64(42)
	if got, err := sourceDateEpoch(&explicit, "7"); err != nil || got.Unix() != 42 {
		t.Errorf("explicit value should win over the environment: %v, %v", got, err)
	}
	if got, err := sourceDateEpoch(nil, "7"); err != nil || got.Unix() != 7 {
		t.Errorf("the environment's value: %v, %v", got, err)
	}
	if got, err := sourceDateEpoch(nil, ""); err != nil || got != nil {
		t.Errorf("neither set: %v, %v", got, err)
	}
	negative := int64(-1)
	for _, c := range []struct {
		explicit *int64
		env      string
	}{{nil, "soon"}, {&negative, ""}, {nil, "-5"}} {
		if _, err := sourceDateEpoch(c.explicit, c.env); errkind.Describe(err).Kind != errkind.InvalidArgument {
			t.Errorf("%v %q: want InvalidArgument, got %v", c.explicit, c.env, err)
		}
	}
}

func TestSetParityChecksWithBuildahsParsers(t *testing.T) {
	dir := t.TempDir()
	options, err := parity(t, wire.BuildOptions{
		Secrets:       []string{"id=a,type=file,src=" + dir},
		BuildContexts: map[string]string{"dir": dir, "img": "docker-image://busybox"},
		Outputs:       []string{"type=tar,dest=" + dir + "/out.tar"},
		EpochFromEnv:  "100", RewriteTimestamp: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if options.SourceDateEpoch.Unix() != 100 || !options.RewriteTimestamp || len(options.BuildOutputs) != 1 ||
		!options.AdditionalBuildContexts["img"].IsImage || options.AdditionalBuildContexts["dir"].Value != dir ||
		len(options.CommonBuildOpts.Secrets) != 1 {
		t.Errorf("options not carried over: %+v", options)
	}
	for name, o := range map[string]wire.BuildOptions{
		"secret syntax":      {Secrets: []string{"nonsense"}},
		"secret missing":     {Secrets: []string{"id=a,type=file,src=" + dir + "/missing"}},
		"empty context name": {BuildContexts: map[string]string{"": dir}},
		"empty image":        {BuildContexts: map[string]string{"x": "docker-image://"}},
		"output type":        {Outputs: []string{"type=zip,dest=x"}},
		"rewrite alone":      {RewriteTimestamp: true},
		"cache repository":   {CacheFrom: []string{"Not A Repo"}},
		"ssh key":            {SSH: []string{"default=" + dir + "/no-such-key"}},
	} {
		if _, err := parity(t, o); errkind.Describe(err).Kind != errkind.InvalidArgument && errkind.Describe(err).Kind != errkind.InvalidReference {
			t.Errorf("%s: want InvalidArgument, got %v", name, err)
		}
	}
	if _, err := parity(t, wire.BuildOptions{BuildContexts: map[string]string{"x": dir + "/missing"}}); errkind.Describe(err).Kind != errkind.ContextError {
		t.Errorf("a missing context directory: want ContextError, got %v", err)
	}
}

func TestFailureKeepsRegistryKinds(t *testing.T) {
	err := failure(errors.New("pulling: "+docker.ErrUnauthorizedForCredentials{Err: errors.New("401")}.Error()), nil, nil)
	if errkind.Describe(err).Kind != errkind.BuildError {
		t.Errorf("text alone is not a registry error: %v", err)
	}
	wrapped := errors.Join(errors.New("creating build container"), docker.ErrUnauthorizedForCredentials{Err: errors.New("401")})
	if errkind.Describe(failure(wrapped, nil, nil)).Kind != errkind.AuthenticationError {
		t.Errorf("an authentication failure stays one")
	}
	creds := wire.Creds("user:hunter2")
	if got := registryPassword(wire.BuildOptions{RegistryOptions: wire.RegistryOptions{Creds: &creds}}); len(got) != 1 || got[0] != "hunter2" {
		t.Errorf("registryPassword = %v", got)
	}
}

func TestSetRunOptions(t *testing.T) {
	options := &define.BuildOptions{CommonBuildOpts: &define.CommonBuildOptions{Ulimit: []string{"nofile=10:10"}}}
	err := setRunOptions(options, wire.BuildOptions{
		Network: "none", CapDrop: []string{"CAP_CHOWN"}, Ulimits: []string{"nofile=5:5"},
		AddHosts: []string{"a:10.0.0.1", "b:host-gateway", "c:[::1]"}, Env: map[string]string{"A": "1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if options.ConfigureNetwork != define.NetworkDisabled || options.CommonBuildOpts.Ulimit[1] != "nofile=5:5" ||
		len(options.CommonBuildOpts.AddHost) != 3 || options.Envs[0] != "A=1" || options.DropCapabilities[0] != "CAP_CHOWN" {
		t.Errorf("options not carried over: %+v %+v", options, options.CommonBuildOpts)
	}
	for name, o := range map[string]wire.BuildOptions{
		"netns path":  {Network: "/no/such/netns"},
		"ulimit":      {Ulimits: []string{"nofile=many"}},
		"host":        {AddHosts: []string{"noaddress"}},
		"host ip":     {AddHosts: []string{"a:999.1.1.1"}},
		"volume":      {Volumes: []string{"relative:/x"}},
		"env":         {Env: map[string]string{"A=B": "x"}},
		"env name":    {Env: map[string]string{"": "x"}},
		"ulimit < -1": {Ulimits: []string{"nofile=-5:-3"}},
	} {
		options := &define.BuildOptions{CommonBuildOpts: &define.CommonBuildOptions{}}
		if err := setRunOptions(options, o); errkind.Describe(err).Kind != errkind.InvalidArgument {
			t.Errorf("%s: want InvalidArgument, got %v", name, err)
		}
	}
}
