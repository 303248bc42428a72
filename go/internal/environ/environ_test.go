package environ

import (
	"os"
	"testing"

	"pybuildah.dev/shim/internal/wire"
)

func TestSyncSetsAndUnsets(t *testing.T) {
	t.Setenv("PYBUILDAH_ENV_KEEP", "old")
	t.Setenv("PYBUILDAH_ENV_GONE", "x")
	value := "new"
	if _, err := Sync(wire.SyncEnvOptions{Env: map[string]*string{
		"PYBUILDAH_ENV_KEEP": &value, "PYBUILDAH_ENV_GONE": nil, "PYBUILDAH_ENV_NEVER_SET": nil,
	}}); err != nil {
		t.Fatal(err)
	}
	if got := os.Getenv("PYBUILDAH_ENV_KEEP"); got != "new" {
		t.Errorf("KEEP = %q", got)
	}
	if _, set := os.LookupEnv("PYBUILDAH_ENV_GONE"); set {
		t.Error("GONE is still set")
	}
	if _, set := os.LookupEnv("PYBUILDAH_ENV_NEVER_SET"); set {
		t.Error("NEVER_SET was set")
	}
	bad := "v"
	if _, err := Sync(wire.SyncEnvOptions{Env: map[string]*string{"A=B": &bad}}); err == nil {
		t.Error("a name with = was accepted")
	}
}
