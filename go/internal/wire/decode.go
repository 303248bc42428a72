package wire

import (
	"encoding/json"
	"strings"

	"pybuildah.dev/shim/internal/errkind"
)

// closed is implemented by options that refuse unknown fields.
type closed interface {
	// fieldsName names the fields in messages ("config field").
	fieldsName() string
	// knownFields lists the fields a caller may send.
	knownFields() []string
}

func (ConfigChange) fieldsName() string    { return "config field" }
func (ConfigChange) knownFields() []string { return ConfigFields() }

// Decode reads one call's options.  Malformed JSON is InvalidArgument; so
// are unknown fields for the options that list theirs (Configure), NUL bytes
// in any string and empty strings where a value is required (checkValues).
func Decode(data []byte, v any) error {
	if c, ok := v.(closed); ok {
		if err := checkKnown(data, v, c); err != nil {
			return err
		}
	}
	if err := json.Unmarshal(data, v); err != nil {
		return errkind.New(errkind.InvalidArgument, "malformed options: %v", err)
	}
	return checkValues(data, v)
}

func checkKnown(data []byte, v any, c closed) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return errkind.New(errkind.InvalidArgument, "malformed options: %v", err)
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	if unknown := UnknownFields(keys, v); len(unknown) > 0 {
		return errkind.New(errkind.InvalidArgument, "unknown %s(s) %s; known: %s",
			c.fieldsName(), strings.Join(unknown, ", "), strings.Join(c.knownFields(), ", "))
	}
	return nil
}
