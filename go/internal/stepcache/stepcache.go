// Package stepcache computes the keys of the step cache of the step-by-step
// API (Builder(cache=True)) and explains misses: a step's key covers its
// parent's key, its kind and normalised arguments (decided in Python) and
// the files it reads from the host (hashed here), and a small record of
// those inputs (an Entry) is kept with each cached result, so that a miss
// can name the first input that differs from the nearest earlier entry.
// Storage (intermediate images) is internal/builder's.
package stepcache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Version is part of every key: bump it when what a key covers changes.
const Version = "pybuildah-step-v1"

// BigDataPrefix starts the name of the big-data item that marks an image
// as a cache entry: BigDataPrefix + parent + "." + key.  Storage keeps names
// of lowercase letters, digits and dots as file names unchanged.
const BigDataPrefix = "pybuildah.step."

// Label is the image label that carries an entry's record (without its file
// list) to other stores, through a registry (cache_to, cache_from).
const Label = "io.pybuildah.step"

// FirstPrefix starts the parent "key" of a first step: a digest of the base
// image and the builder settings that affect every step.
const FirstPrefix = "b"

// Entry is kept (as JSON) with each cached result: the inputs of its key and
// a run's outcome.
type Entry struct {
	Key    string                     `json:"key"`
	Parent string                     `json:"parent"`
	Base   string                     `json:"base,omitempty"` // first steps: the base image
	Kind   string                     `json:"kind"`
	Args   map[string]json.RawMessage `json:"args"`
	Files  []File                     `json:"files,omitempty"`
	Result json.RawMessage            `json:"result,omitempty"`
}

// File is one host input of a step, as it will land: Path is relative to
// the name the source lands under, Type one of "f", "d", "l", "c", "b",
// "p", "s"; Mode the permission bits (with setuid, setgid and sticky);
// Digest the content's sha256 for a file, the target for a link.
type File struct {
	Path   string `json:"path"`
	Type   string `json:"type"`
	Mode   uint32 `json:"mode"`
	Digest string `json:"digest,omitempty"`
}

// FirstParent is the parent key of a builder's first step.
func FirstParent(base string, settings map[string]any) (string, error) {
	encoded, err := json.Marshal(settings)
	if err != nil {
		return "", err
	}
	return FirstPrefix + digest(Version, "base", base, string(encoded)), nil
}

// NewEntry canonicalises args (a JSON object; Go writes map keys sorted)
// and computes the key.
func NewEntry(parent, base, kind string, args map[string]any, files []File) (*Entry, error) {
	e := &Entry{Parent: parent, Base: base, Kind: kind, Args: map[string]json.RawMessage{}, Files: files}
	for name, value := range args {
		encoded, err := json.Marshal(value)
		if err != nil {
			return nil, fmt.Errorf("step argument %q: %w", name, err)
		}
		e.Args[name] = encoded
	}
	parts := []string{Version, parent, kind}
	for _, name := range sortedKeys(e.Args) {
		parts = append(parts, name, string(e.Args[name]))
	}
	for _, f := range files {
		parts = append(parts, f.Path, f.Type, fmt.Sprintf("%o", f.Mode), f.Digest)
	}
	e.Key = digest(parts...)
	return e, nil
}

// BigDataName is the name that marks an image as the entry e.
func (e *Entry) BigDataName() string { return BigDataPrefix + e.Parent + "." + e.Key }

// ParseName splits a big-data name into parent and key; ok is false for
// names that are not cache entries.
func ParseName(name string) (parent, key string, ok bool) {
	rest, found := strings.CutPrefix(name, BigDataPrefix)
	if !found {
		return "", "", false
	}
	parent, key, ok = strings.Cut(rest, ".")
	return parent, key, ok && parent != "" && key != ""
}

// digest hashes parts, each length-prefixed so that no two lists collide.
func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Explain names the first input of e that differs from earlier, an entry
// with the same parent: an argument ("command changed"), then the files.
func Explain(e, earlier *Entry) string {
	if e.Kind != earlier.Kind {
		return fmt.Sprintf("step changed (%s, was %s)", e.Kind, earlier.Kind)
	}
	names := map[string]bool{}
	for k := range e.Args {
		names[k] = true
	}
	for k := range earlier.Args {
		names[k] = true
	}
	for _, name := range sortedKeys(names) {
		if string(e.Args[name]) != string(earlier.Args[name]) {
			return name + " changed"
		}
	}
	return explainFiles(e.Files, earlier.Files)
}

// explainFiles names the first path (in order) added, removed or changed.
func explainFiles(now, before []File) string {
	old := make(map[string]File, len(before))
	for _, f := range before {
		old[f.Path] = f
	}
	seen := make(map[string]bool, len(now))
	for _, f := range now {
		seen[f.Path] = true
		was, ok := old[f.Path]
		switch {
		case !ok:
			return fmt.Sprintf("%s added", f.Path)
		case was.Type != f.Type:
			return fmt.Sprintf("type of %s changed", f.Path)
		case was.Digest != f.Digest && f.Type == "l":
			return fmt.Sprintf("target of %s changed", f.Path)
		case was.Digest != f.Digest:
			return fmt.Sprintf("content of %s changed", f.Path)
		case was.Mode != f.Mode:
			return fmt.Sprintf("mode of %s changed", f.Path)
		}
	}
	for _, f := range before {
		if !seen[f.Path] {
			return fmt.Sprintf("%s removed", f.Path)
		}
	}
	if len(now) != len(before) {
		return "order of inputs changed"
	}
	return "inputs changed"
}

// Distance counts how far other is from e: a different kind counts more
// than all arguments, then each differing argument, then whether the files differ.
func Distance(e, other *Entry) int {
	d := 0
	if e.Kind != other.Kind {
		d += 1000
	}
	names := map[string]bool{}
	for k := range e.Args {
		names[k] = true
	}
	for k := range other.Args {
		names[k] = true
	}
	for name := range names {
		if string(e.Args[name]) != string(other.Args[name]) {
			d += 10
		}
	}
	if explainFiles(e.Files, other.Files) != "inputs changed" {
		d++
	}
	return d
}

// SameStep reports whether two first steps differ only in their base.
func SameStep(e, other *Entry) bool {
	if e.Kind != other.Kind || len(e.Args) != len(other.Args) || len(e.Files) != len(other.Files) {
		return false
	}
	for k, v := range e.Args {
		if string(other.Args[k]) != string(v) {
			return false
		}
	}
	for i, f := range e.Files {
		if other.Files[i] != f {
			return false
		}
	}
	return true
}
