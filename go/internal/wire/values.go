package wire

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"pybuildah.dev/shim/internal/errkind"
)

// Path is a file name as the kernel sees it: any bytes but NUL.  JSON text
// cannot carry bytes that are not UTF-8, so such a name travels as
// {"base64": "..."} (Python's _checks.wire_path picks the form); every
// other name as a plain string.
type Path string

// UnmarshalJSON accepts a JSON string or {"base64": "..."}.
func (p *Path) UnmarshalJSON(data []byte) error {
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*p = Path(s)
		return nil
	}
	var encoded struct {
		Base64 *string `json:"base64"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&encoded); err != nil || encoded.Base64 == nil {
		return errors.New(`a path is a string or {"base64": "..."}`)
	}
	raw, err := base64.StdEncoding.DecodeString(*encoded.Base64)
	if err != nil {
		return errors.New(`a path given as {"base64": ...} must hold standard base64`)
	}
	*p = Path(raw)
	return nil
}

// Seconds is a duration in seconds: a JSON number, or a string that Go's
// ParseFloat reads ("nan", "inf"), since JSON has no number for those and
// deciding that they are wrong is the reader's job (validate.Timeout).
type Seconds float64

// UnmarshalJSON accepts a number or a string.
func (s *Seconds) UnmarshalJSON(data []byte) error {
	var f float64
	if err := json.Unmarshal(data, &f); err == nil {
		*s = Seconds(f)
		return nil
	}
	var text string
	if err := json.Unmarshal(data, &text); err != nil {
		return errors.New("seconds are a number")
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return fmt.Errorf("seconds: %q is not a number", text)
	}
	*s = Seconds(f)
	return nil
}

// Strings converts paths for the APIs that take strings.
func Strings(paths []Path) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = string(p)
	}
	return out
}

// checkValues applies the rules that every option follows after decoding:
// no string anywhere holds a NUL byte (the kernel would cut it there), and
// a field tagged wire:"nonempty" that was given (not null, not left out) is
// not the empty string, which the file system reads as "the current
// directory" and references as "nothing".  For a list, every element counts.
// A field tagged wire:"required" is nonempty and must be given.
func checkValues(data []byte, v any) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		raw = nil // not an object: json.Unmarshal has said so already
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return checkValue("options", rv, false)
	}
	return checkStruct(rv, raw)
}

func checkStruct(v reflect.Value, raw map[string]json.RawMessage) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			if err := checkStruct(v.Field(i), raw); err != nil {
				return err
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		given := raw != nil && raw[name] != nil && string(bytes.TrimSpace(raw[name])) != "null"
		rule := f.Tag.Get("wire")
		if rule == "required" && !given && raw != nil {
			return errkind.New(errkind.InvalidArgument, "%s is required", name)
		}
		if err := checkValue(name, v.Field(i), given && rule != ""); err != nil {
			return err
		}
	}
	return nil
}

var (
	credsType = reflect.TypeOf(Creds(""))
	wordsType = reflect.TypeOf(Words{})
)

func checkValue(name string, v reflect.Value, nonempty bool) error {
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if strings.ContainsRune(s, 0) {
			if v.Type() == credsType {
				return errkind.New(errkind.InvalidArgument, "%s must not contain a NUL byte", name) // never echoed
			}
			return errkind.New(errkind.InvalidArgument, "%s must not contain a NUL byte: %q", name, s)
		}
		if nonempty && s == "" {
			return errkind.New(errkind.InvalidArgument, "%s must not be empty (leave it out, or pass None, for the default)", name)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return checkValue(name, v.Elem(), nonempty)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := checkValue(name, v.Index(i), nonempty); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			if err := checkValue(name, iter.Key(), false); err != nil {
				return err
			}
			if err := checkValue(name, iter.Value(), false); err != nil {
				return err
			}
		}
	case reflect.Struct:
		if v.Type() == wordsType { // a list or a string: either is named as the field holding it
			if err := checkValue(name, v.FieldByName("List"), nonempty); err != nil {
				return err
			}
			return checkValue(name, v.FieldByName("Spec"), nonempty)
		}
		return checkStruct(v, nil)
	}
	return nil
}
