package images

import (
	"errors"
	"strings"
	"testing"

	"pybuildah.dev/shim/internal/errkind"
)

func TestParseFilter(t *testing.T) {
	good := map[string][2]string{
		"dangling=true":         {"dangling", "true"},
		"reference=localhost/*": {"reference", "localhost/*"},
		"label=a=b":             {"label", "a=b"},
		"label!=a":              {"label", "a"},
		"until=10m":             {"until", "10m"},
		"digest=sha256:ab":      {"digest", "sha256:ab"},
	}
	for filter, want := range good {
		key, value, err := ParseFilter(filter)
		if err != nil || key != want[0] || value != want[1] {
			t.Errorf("%s: %q %q %v", filter, key, value, err)
		}
	}
	bad := map[string]string{
		"colour=red":     "unknown image filter \"colour\"",
		"dangling":       "not key=value",
		"dangling=maybe": "true or false",
		"digest=ab":      "sha256:",
		"until=someday":  "time or a duration",
	}
	for filter, want := range bad {
		_, _, err := ParseFilter(filter)
		var ke *errkind.Error
		if !errors.As(err, &ke) || ke.Kind != errkind.InvalidArgument || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", filter, err)
		}
	}
}
