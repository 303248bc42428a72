package wire

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"pybuildah.dev/shim/internal/errkind"
)

func TestFieldNames(t *testing.T) {
	got := FieldNames(CommitOptions{})
	want := []string{"builder", "call_id", "tls_verify", "cert_dir", "authfile", "creds", "retries", "timeout", "signature_policy",
		"destination", "format",
		"squash", "compression", "force_compression", "timestamp", "source_date_epoch", "stream", "entry"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FieldNames = %v", got)
	}
	if got := FieldNames(&RunResult{}); !reflect.DeepEqual(got, []string{"exit_code", "stdout_bytes", "stderr_bytes"}) {
		t.Errorf("RunResult = %v", got)
	}
}

func TestContract(t *testing.T) {
	c := NewContract(map[string]any{"Add": AddOptions{}, "Version": None{}})
	if len(c.ErrorKinds) != len(errkind.All()) || c.ErrorKinds[0] != "InvalidArgument" {
		t.Errorf("kinds = %v", c.ErrorKinds)
	}
	config := c.Records["ConfigChange"]
	if len(config) != 21 || config[0] != "cmd" || strings.Contains(strings.Join(config, " "), "builder") {
		t.Errorf("ConfigChange = %v", config)
	}
	if add := c.Requests["Add"]; add[0] != "builder" || add[2] != "sources" || len(c.Requests["Version"]) != 0 {
		t.Errorf("requests = %v", c.Requests)
	}
	for _, name := range []string{"ContainerConfig", "ContainerInfo", "RunResult", "ImageInfo", "RemovalReport", "ProgressEvent"} {
		if len(c.Records[name]) == 0 {
			t.Errorf("no fields for %s", name)
		}
	}
}

func TestDecodeRefusesUnknownConfigFields(t *testing.T) {
	var c ConfigChange
	err := Decode([]byte(`{"builder": 1, "usr": "1001", "cmd": ["x"]}`), &c)
	var ke *errkind.Error
	if !errors.As(err, &ke) || ke.Kind != errkind.InvalidArgument || !strings.Contains(err.Error(), "usr") ||
		!strings.Contains(err.Error(), "known: cmd, entrypoint") {
		t.Errorf("Decode = %v", err)
	}
	if err := Decode([]byte(`{"builder": 1, "cmd": ["x"], "user": "1"}`), &c); err != nil || *c.User != "1" || c.Builder != 1 {
		t.Errorf("Decode = %v, %+v", err, c)
	}
	var r RunOptions
	if err := Decode([]byte(`{"builder": "x"}`), &r); err == nil || !strings.Contains(err.Error(), "malformed options") {
		t.Errorf("malformed: %v", err)
	}
}

func TestCredsAreOneString(t *testing.T) {
	var o RegistryOptions
	if err := json.Unmarshal([]byte(`{"creds": "bob:pw"}`), &o); err != nil || o.Creds == nil || *o.Creds != "bob:pw" {
		t.Errorf("string: %v %v", o.Creds, err)
	}
	if err := json.Unmarshal([]byte(`{"creds": {"username": "bob", "password": "pw"}}`), &o); err == nil {
		t.Error("an object is not credentials")
	}
	o = RegistryOptions{}
	if err := json.Unmarshal([]byte(`{"creds": null}`), &o); err != nil || o.Creds != nil {
		t.Errorf("null: %v %v", o.Creds, err)
	}
}

func TestNULInCredsIsNeverEchoed(t *testing.T) {
	var o RegistryOptions
	err := Decode([]byte(`{"creds": "bob:se\u0000cret-pw"}`), &o)
	if err == nil || strings.Contains(err.Error(), "cret-pw") || !strings.Contains(err.Error(), "creds") {
		t.Errorf("Decode = %v", err)
	}
}

// Every options type refuses keys it does not have, naming the unknown and
// the known fields; embedded structs' fields are known.
func TestDecodeRefusesUnknownFieldsOfEveryRequest(t *testing.T) {
	for _, v := range []any{&RunOptions{}, &PushOptions{}, &InspectOptions{}, &ManifestAddOptions{},
		&BuildOptions{}, &StoreOptions{}, &HandleRef{}, &BuilderRef{}, &None{}} {
		err := Decode([]byte(`{"zz_unknown": 1, "also_unknown": null}`), v)
		var ke *errkind.Error
		if !errors.As(err, &ke) || ke.Kind != errkind.InvalidArgument ||
			!strings.Contains(err.Error(), "unknown option(s) also_unknown, zz_unknown") {
			t.Errorf("%T: %v", v, err)
			continue
		}
		known := FieldNames(v)
		if len(known) == 0 && !strings.Contains(err.Error(), "takes none") ||
			len(known) > 0 && !strings.HasSuffix(err.Error(), "known: "+strings.Join(known, ", ")) {
			t.Errorf("%T: %v", v, err)
		}
	}
	var p PushOptions
	if err := Decode([]byte(`{"store": 1, "call_id": 2, "tls_verify": false, "image": "a", "dest": "b",
		"compression_level": 3, "all": true}`), &p); err != nil || p.Call != 2 || *p.Level != 3 || *p.TLSVerify {
		t.Errorf("embedded fields: %v %+v", err, p)
	}
	var m ManifestAddOptions
	if err := Decode([]byte(`{"list": "l", "image": "i", "os": "linux", "annotations": {"a": "b"}}`), &m); err != nil || m.OS != "linux" {
		t.Errorf("embedded EntryPlatform: %v %+v", err, m)
	}
	// A JSON value that is not an object is malformed, not "unknown".
	if err := Decode([]byte(`[1]`), &p); err == nil || !strings.Contains(err.Error(), "malformed options") {
		t.Errorf("array: %v", err)
	}
}

func TestSetCmdIsAConfigureOfCmd(t *testing.T) {
	var o SetCmdOptions
	if err := Decode([]byte(`{"builder": 3, "cmd": ["/app", "-v"]}`), &o); err != nil {
		t.Fatal(err)
	}
	c := o.Change()
	if c.Builder != 3 || c.Cmd == nil || !reflect.DeepEqual(c.Cmd.List, []string{"/app", "-v"}) || c.Env != nil || c.User != nil {
		t.Errorf("change = %+v", c)
	}
	if err := Decode([]byte(`{"builder": 3}`), &o); err == nil || !strings.Contains(err.Error(), "cmd is required") {
		t.Errorf("missing cmd: %v", err)
	}
	if err := Decode([]byte(`{"builder": 3, "cmd": [], "user": "1"}`), &o); err == nil || !strings.Contains(err.Error(), "unknown option(s) user") {
		t.Errorf("other config field: %v", err)
	}
}

func TestWordsTakeAListOrAString(t *testing.T) {
	var c ConfigChange
	if err := Decode([]byte(`{"builder": 1, "cmd": ["a", "b"], "shell": "/bin/sh -c"}`), &c); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Cmd.List, []string{"a", "b"}) || c.Cmd.Spec != nil || *c.Shell.Spec != "/bin/sh -c" {
		t.Errorf("change = %+v %+v", c.Cmd, c.Shell)
	}
	for _, nul := range []string{`"a\u0000b"`, `["a\u0000b"]`} {
		err := Decode([]byte(`{"builder": 1, "cmd": `+nul+`}`), &c)
		if err == nil || !strings.HasPrefix(err.Error(), "cmd must not contain a NUL byte") {
			t.Errorf("%s: %v", nul, err)
		}
	}
	if err := Decode([]byte(`{"builder": 1, "cmd": 3}`), &c); err == nil {
		t.Error("a number was accepted as a command")
	}
}
