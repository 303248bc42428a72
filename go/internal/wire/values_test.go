package wire

import (
	"strings"
	"testing"

	"pybuildah.dev/shim/internal/errkind"
)

func TestPathForms(t *testing.T) {
	var o AddOptions
	if err := Decode([]byte(`{"sources": ["/a", {"base64": "Y2Fm6S50eHQ="}], "destination": "/app/"}`), &o); err != nil {
		t.Fatal(err)
	}
	if got := Strings(o.Sources); got[0] != "/a" || got[1] != "caf\xe9.txt" {
		t.Errorf("sources = %q", got)
	}
	for _, bad := range []string{`{"base64": "%%"}`, `{"b64": "YQ=="}`, `{}`, `12`} {
		err := Decode([]byte(`{"sources": [`+bad+`], "destination": "/"}`), &o)
		if !invalid(err) {
			t.Errorf("%s: err = %v", bad, err)
		}
	}
}

func TestEmptyAndNul(t *testing.T) {
	for _, tc := range []struct {
		json, field string
		v           any
	}{
		{`{"root": ""}`, "root", &StoreOptions{}},
		{`{"options": ["a", ""]}`, "options", &StoreOptions{}},
		{`{"builder": 1, "sources": [""], "destination": "/"}`, "sources", &AddOptions{}},
		{`{"builder": 1, "sources": ["/a"], "destination": "/", "from_image": ""}`, "from_image", &AddOptions{}},
		{`{"builder": 1, "sources": ["/a"]}`, "destination", &AddOptions{}},
		{`{"store": 1, "ref": "x", "path": ""}`, "path", &SaveOptions{}},
		{`{"store": 1, "ref": "a\u0000b"}`, "ref", &ImageRefOptions{}},
		{`{"builder": 1, "env": {"A\u0000": "x"}}`, "env", &ConfigChange{}},
		{`{"builder": 1, "workdir": ""}`, "workdir", &ConfigChange{}},
		{`{"store": 1, "ref": "x", "cert_dir": ""}`, "cert_dir", &PullOptions{}},
	} {
		err := Decode([]byte(tc.json), tc.v)
		if !invalid(err) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: err = %v", tc.json, err)
		}
	}
	// null and absent mean "not given"; "" is a value where none is required.
	for _, tc := range []struct {
		json string
		v    any
	}{
		{`{"root": null, "driver": null}`, &StoreOptions{}},
		{`{}`, &StoreOptions{}},
		{`{"builder": 1, "env": {"A": ""}, "labels": {"l": ""}}`, &ConfigChange{}},
		{`{"store": 1, "ref": "x", "cert_dir": null, "authfile": null}`, &PullOptions{}},
	} {
		if err := Decode([]byte(tc.json), tc.v); err != nil {
			t.Errorf("%s: %v", tc.json, err)
		}
	}
}

func invalid(err error) bool {
	return err != nil && errkind.Describe(err).Kind == errkind.InvalidArgument
}
