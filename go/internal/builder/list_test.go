package builder

import (
	"errors"
	"strings"
	"testing"

	"pybuildah.dev/shim/internal/errkind"
)

func TestContainerFilters(t *testing.T) {
	const id, image = "abcdef0123", "0123456789"
	cases := []struct {
		filters []string
		name    string
		want    bool
	}{
		{nil, "x", true},
		{[]string{"id=abc"}, "x", true},
		{[]string{"id=bcd"}, "x", false},
		{[]string{"name=work"}, "my-working", true},
		{[]string{"name=work"}, "other", false},
		{[]string{"ancestor=0123"}, "x", true},
		{[]string{"ancestor=localhost/app"}, "x", true},
		{[]string{"ancestor=app:1"}, "x", true},
		{[]string{"ancestor=app:2"}, "x", false},
		{[]string{"ancestor=other"}, "x", false},
		{[]string{"id=abc,name=x"}, "x", true},
		{[]string{"id=abc", "name=y"}, "x", false},
	}
	for _, c := range cases {
		f, err := parseContainerFilters(c.filters)
		if err != nil {
			t.Fatalf("%v: %v", c.filters, err)
		}
		if got := f.matches(id, c.name, image, "localhost/app:1"); got != c.want {
			t.Errorf("%v on %s: %v", c.filters, c.name, got)
		}
	}
	if f, _ := parseContainerFilters([]string{"ancestor=scratch"}); !f.matches(id, "x", "", "scratch") {
		t.Error("scratch is an ancestor of containers from scratch")
	}
	for _, bad := range []string{"colour=red", "name"} {
		_, err := parseContainerFilters([]string{bad})
		var ke *errkind.Error
		if !errors.As(err, &ke) || ke.Kind != errkind.InvalidArgument || !strings.Contains(err.Error(), "container filter") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
