package sysctx

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.podman.io/image/v5/types"
	"golang.org/x/sys/unix"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/wire"
)

func TestParseCreds(t *testing.T) {
	cases := map[string][2]string{
		"bob:pw":       {"bob", "pw"},
		"bob:pw:colon": {"bob", "pw:colon"},
		"bob:":         {"bob", ""},
	}
	for in, want := range cases {
		user, password, err := ParseCreds(in)
		if err != nil || user != want[0] || password != want[1] {
			t.Errorf("ParseCreds(%q) = %q, %q, %v", in, user, password, err)
		}
	}
	for _, bad := range []string{"no-colon-secret", ":secret", ""} {
		_, _, err := ParseCreds(bad)
		if errkind.KindOf(err) != errkind.InvalidArgument || strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseCreds(%q) = %v", bad, err)
		}
	}
}

func TestForRegistry(t *testing.T) {
	t.Setenv("REGISTRY_AUTH_FILE", "")
	t.Setenv("DOCKER_CONFIG", "")
	base := types.SystemContext{SignaturePolicyPath: "/policy.json"}
	no, retries, timeout := false, 2, wire.Seconds(2.5)
	creds := wire.Creds("bob:pw")
	dir := t.TempDir()
	r, err := ForRegistry(base, wire.RegistryOptions{TLSVerify: &no, CertDir: dir, AuthFile: "/auth.json", Creds: &creds, Retries: &retries, Timeout: &timeout})
	if err != nil {
		t.Fatal(err)
	}
	want := types.SystemContext{
		SignaturePolicyPath: "/policy.json", DockerCertPath: dir, AuthFilePath: "/auth.json",
		DockerInsecureSkipTLSVerify: types.OptionalBoolTrue, OCIInsecureSkipTLSVerify: true,
		DockerAuthConfig:  &types.DockerAuthConfig{Username: "bob", Password: "pw"},
		DockerIdleTimeout: 2500 * time.Millisecond,
	}
	if !reflect.DeepEqual(*r.Sys, want) {
		t.Errorf("Sys = %+v", *r.Sys)
	}
	if *r.Retries != 2 || !reflect.DeepEqual(r.Secrets(), []string{"pw", "Ym9iOnB3"}) || base.DockerCertPath != "" {
		t.Errorf("retries %v, secrets %v, base changed %v", *r.Retries, r.Secrets(), base.DockerCertPath)
	}
	login := r.ForLogin()
	if login.AuthFilePath != "/auth.json" || login.DockerAuthConfig != nil {
		t.Errorf("ForLogin = %+v", login)
	}
}

func TestForRegistryDefaults(t *testing.T) {
	t.Setenv("REGISTRY_AUTH_FILE", "/from-env.json")
	r, err := ForRegistry(types.SystemContext{}, wire.RegistryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Sys.AuthFilePath != "/from-env.json" || r.Sys.DockerInsecureSkipTLSVerify != types.OptionalBoolUndefined ||
		r.Retries != nil || r.Secrets() != nil || r.ForLogin().AuthFilePath != "" ||
		r.Sys.DockerIdleTimeout != DefaultIdleTimeout || r.IdleTimeout != DefaultIdleTimeout {
		t.Errorf("defaults: %+v", r.Sys)
	}
}

func TestForRegistryRefuses(t *testing.T) {
	negative, zero, nan := -1, wire.Seconds(0), wire.Seconds(math.NaN())
	bad := wire.Creds("nocolon")
	for name, o := range map[string]wire.RegistryOptions{
		"cert dir":  {CertDir: "/nope"},
		"file cert": {CertDir: "/etc/hostname"},
		"retries":   {Retries: &negative},
		"creds":     {Creds: &bad},
		"timeout 0": {Timeout: &zero},
		"nan":       {Timeout: &nan},
	} {
		if _, err := ForRegistry(types.SystemContext{}, o); errkind.KindOf(err) != errkind.InvalidArgument {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestUlimits(t *testing.T) {
	limits := map[int]uint64{unix.RLIMIT_NOFILE: 524288, unix.RLIMIT_NPROC: 1 << 40}
	getrlimit := func(resource int) (unix.Rlimit, error) {
		return unix.Rlimit{Cur: 1024, Max: limits[resource]}, nil
	}
	defaults := []string{"nofile=1048576:1048576"}
	if got := Ulimits(defaults, true, getrlimit); !reflect.DeepEqual(got, defaults) {
		t.Errorf("with CAP_SYS_RESOURCE: %v", got)
	}
	got := Ulimits(defaults, false, getrlimit)
	if want := []string{"nofile=1048576:1048576", "nofile=524288:524288"}; !reflect.DeepEqual(got, want) {
		t.Errorf("without: %v", got)
	}
	if len(defaults) != 1 {
		t.Error("defaults changed")
	}
}

func TestCapabilityIn(t *testing.T) {
	status := "Name:\tx\nCapEff:\t0000000001000000\n"
	if !capabilityIn(status, unix.CAP_SYS_RESOURCE) || capabilityIn(status, unix.CAP_SYS_ADMIN) || capabilityIn("", 0) {
		t.Error("capabilityIn")
	}
}
