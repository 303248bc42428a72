package wire

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"

	"pybuildah.dev/shim/internal/errkind"
)

// named is implemented by options whose fields have a name of their own in
// messages ("config field" for Configure); the rest are "option"s.
type named interface {
	// fieldsName names the fields in messages.
	fieldsName() string
	// knownFields lists the fields a caller may send.
	knownFields() []string
}

func (ConfigChange) fieldsName() string    { return "config field" }
func (ConfigChange) knownFields() []string { return ConfigFields() }

// Decode reads one call's options.  Every options struct is closed: a key
// that is not one of its json field names (FieldNames, embedded structs
// flattened) is InvalidArgument naming the unknown and the known fields, so
// an option Python sends is never dropped in silence.  Malformed JSON is
// InvalidArgument too; so are NUL bytes in any string and empty strings
// where a value is required (checkValues).
func Decode(data []byte, v any) error {
	if err := checkKnown(data, v); err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return errkind.New(errkind.InvalidArgument, "malformed options: %v", err)
	}
	return checkValues(data, v)
}

// checkKnown refuses keys that v's type does not have.  Options that are
// not structs (none today) and JSON that is not an object are left to
// json.Unmarshal.
func checkKnown(data []byte, v any) error {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct || !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return errkind.New(errkind.InvalidArgument, "malformed options: %v", err)
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	unknown := UnknownFields(keys, v)
	if len(unknown) == 0 {
		return nil
	}
	noun, known := "option", FieldNames(v)
	if n, ok := reflect.Zero(t).Interface().(named); ok {
		noun, known = n.fieldsName(), n.knownFields()
	}
	if len(known) == 0 {
		return errkind.New(errkind.InvalidArgument, "unknown %s(s) %s; this call takes none",
			noun, strings.Join(unknown, ", "))
	}
	return errkind.New(errkind.InvalidArgument, "unknown %s(s) %s; known: %s",
		noun, strings.Join(unknown, ", "), strings.Join(known, ", "))
}
