package wire

import (
	"reflect"
	"sort"
	"strings"

	"pybuildah.dev/shim/internal/errkind"
)

// Contract is what PyBuildahContract returns: the error kinds Go can emit,
// the field names of the records Python reads and, for every export, the
// field names of the request it decodes, derived from the types here.
type Contract struct {
	ErrorKinds []string            `json:"error_kinds"`
	ErrnoKinds []string            `json:"errno_kinds"` // kinds whose errors may carry "errno"
	Records    map[string][]string `json:"records"`
	Requests   map[string][]string `json:"requests"`
}

// NewContract lists every error kind, the fields of the records here and
// the fields of each export's request (requests: export name -> a value of
// the options type it decodes).
func NewContract(requests map[string]any) Contract {
	var kinds []string
	for _, kind := range errkind.All() {
		kinds = append(kinds, string(kind))
	}
	var errnoKinds []string
	for _, kind := range errkind.ErrnoKinds() {
		errnoKinds = append(errnoKinds, string(kind))
	}
	return Contract{ErrorKinds: kinds, ErrnoKinds: errnoKinds, Records: map[string][]string{
		"ContainerConfig": FieldNames(ContainerConfig{}),
		"ContainerInfo":   without(FieldNames(ContainerInfo{}), "handle"), // the handle is the Builder's
		"RunResult":       FieldNames(RunResult{}),
		"ImageInfo":       FieldNames(ImageInfo{}),
		"RemovalReport":   FieldNames(RemovalReport{}),
		"PruneReport":     FieldNames(PruneReport{}),
		"ProgressEvent":   FieldNames(ProgressEvent{}),
		"ConfigChange":    ConfigFields(),
		"ManifestList":    FieldNames(ManifestList{}),
		"ManifestEntry":   FieldNames(ManifestEntry{}),
		"Change":          FieldNames(Change{}),
		"BuildStep":       FieldNames(BuildStep{}),
	}, Requests: RequestFields(requests)}
}

// RequestFields maps each export to the json names its options type takes.
func RequestFields(requests map[string]any) map[string][]string {
	out := make(map[string][]string, len(requests))
	for name, v := range requests {
		out[name] = append([]string{}, FieldNames(v)...)
	}
	return out
}

// without returns names less the one left out.
func without(names []string, left string) []string {
	var out []string
	for _, name := range names {
		if name != left {
			out = append(out, name)
		}
	}
	return out
}

// ConfigFields are the fields Configure accepts (without the builder handle).
func ConfigFields() []string {
	return without(FieldNames(ConfigChange{}), "builder")
}

// FieldNames lists the json names of a struct's fields, embedded structs
// flattened, in declaration order; fields tagged "-" are left out.
func FieldNames(v any) []string {
	return fieldNames(reflect.TypeOf(v))
}

func fieldNames(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported():
			continue
		case f.Anonymous && name == "":
			out = append(out, fieldNames(f.Type)...)
		case name == "":
			out = append(out, f.Name)
		default:
			out = append(out, name)
		}
	}
	return out
}

// UnknownFields returns the keys of a decoded JSON object that are not
// fields of v's type, sorted.
func UnknownFields(keys []string, v any) []string {
	known := map[string]bool{}
	for _, name := range FieldNames(v) {
		known[name] = true
	}
	var unknown []string
	for _, k := range keys {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	return unknown
}
