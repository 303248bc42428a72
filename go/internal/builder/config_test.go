package builder

import (
	"strings"
	"testing"
	"time"

	"go.podman.io/buildah/docker"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/wire"
)

func TestHealthcheckStartsFromBuildahDefaults(t *testing.T) {
	interval := "5s"
	h, err := healthcheck(nil, &wire.HealthcheckChange{Interval: &interval})
	if err != nil || h == nil {
		t.Fatalf("%v %v", h, err)
	}
	if h.Test[0] != "NONE" || h.Interval != 5*time.Second || h.Timeout != 30*time.Second || h.Retries != 3 {
		t.Errorf("defaults: %+v", h)
	}
}

func TestHealthcheckKeepsWhatIsNotChangedAndEmptyTestRemoves(t *testing.T) {
	current := &docker.HealthConfig{Test: []string{"CMD", "true"}, Interval: time.Minute, Retries: 7}
	retries := 2
	h, err := healthcheck(current, &wire.HealthcheckChange{Retries: &retries})
	if err != nil || h.Test[1] != "true" || h.Interval != time.Minute || h.Retries != 2 {
		t.Fatalf("%+v %v", h, err)
	}
	empty := []string{}
	if h, err := healthcheck(current, &wire.HealthcheckChange{Test: &wire.Words{List: empty}}); h != nil || err != nil {
		t.Errorf("empty test: %+v %v", h, err)
	}
	bad := -1
	if _, err := healthcheck(nil, &wire.HealthcheckChange{Retries: &bad}); err == nil {
		t.Error("negative retries accepted")
	}
}

func TestParseWordsAsBuildahConfig(t *testing.T) {
	spec := func(s string) *wire.Words { return &wire.Words{Spec: &s} }
	c := wire.ConfigChange{
		Cmd: spec(`/app/run.sh --flag "two words"`), Entrypoint: spec("exec /app/run.sh"),
		Shell: spec("/bin/bash -c"), Healthcheck: &wire.HealthcheckChange{Test: spec("CMD-SHELL true")},
	}
	if err := parseWords(&c); err != nil {
		t.Fatal(err)
	}
	for _, got := range []struct{ got, want []string }{
		{c.Cmd.List, []string{"/app/run.sh", "--flag", "two words"}},
		{c.Entrypoint.List, []string{"/bin/sh", "-c", "exec /app/run.sh"}},
		{c.Shell.List, []string{"/bin/bash", "-c"}}, {c.Healthcheck.Test.List, []string{"CMD-SHELL", "true"}},
	} {
		if strings.Join(got.got, "|") != strings.Join(got.want, "|") {
			t.Errorf("got %q, want %q", got.got, got.want)
		}
	}
	c = wire.ConfigChange{Cmd: spec(`["a", "b c"]`), Entrypoint: spec("  ")}
	if err := parseWords(&c); err != nil || len(c.Cmd.List) != 2 || c.Entrypoint.List != nil {
		t.Errorf("%v %+v", err, c)
	}
	c = wire.ConfigChange{Cmd: spec(`echo "unclosed`)}
	if err := parseWords(&c); errkind.Describe(err).Kind != errkind.InvalidArgument {
		t.Errorf("unclosed quote: %v", err)
	}
}
