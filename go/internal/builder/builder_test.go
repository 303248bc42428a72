package builder

import (
	"strings"
	"testing"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/wire"
)

func TestTrimRuntimeNotes(t *testing.T) {
	cases := map[string]string{
		"":         "",
		"to-err\n": "to-err\n",
		"to-err\nsubprocess exited with status 3\n": "to-err\n",
		"a\nb":                                "a\nb\n",
		"subprocess exited with status 1\n\n": "",
	}
	for in, want := range cases {
		if got := TrimRuntimeNotes(in); got != want {
			t.Errorf("TrimRuntimeNotes(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckConfig(t *testing.T) {
	empty, ok := "", "x"
	bad := []wire.ConfigChange{
		{Env: map[string]*string{"A=B": &ok}},
		{Labels: map[string]*string{"": &ok}},
		{Annotations: map[string]*string{"": nil}},
		{Ports: []string{"80", "99999"}},
		{Volumes: []string{"relative/path"}},
		{StopSignal: &empty},
	}
	for _, c := range bad {
		if err := CheckConfig(c); errkind.Describe(err).Kind != errkind.InvalidArgument {
			t.Errorf("CheckConfig(%+v) = %v", c, err)
		}
	}
	term := "SIGTERM"
	good := wire.ConfigChange{Env: map[string]*string{"A": &ok, "B": nil}, Ports: []string{"8080/tcp"}, Volumes: []string{"/data"}, StopSignal: &term}
	if err := CheckConfig(good); err != nil {
		t.Error(err)
	}
	if err := CheckConfig(wire.ConfigChange{Labels: map[string]*string{"": &ok}}); !strings.Contains(err.Error(), "label") {
		t.Errorf("message: %v", err)
	}
}
