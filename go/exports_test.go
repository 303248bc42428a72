package main

import (
	"os"
	"regexp"
	"sort"
	"testing"
)

// Every JSON export in exports.go has its request type in requests, and
// requests names no export that does not exist, so the contract's request
// half cannot drift from the exports.
func TestEveryExportHasItsRequest(t *testing.T) {
	source, err := os.ReadFile("exports.go")
	if err != nil {
		t.Fatal(err)
	}
	exports := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^//export PyBuildah(\w+)$`).FindAllStringSubmatch(string(source), -1) {
		exports[m[1]] = true
	}
	delete(exports, "Free")         // frees what an export returned
	delete(exports, "SetEventSink") // takes a C function pointer, not JSON
	var missing, extra []string
	for name := range exports {
		if _, ok := requests[name]; !ok {
			missing = append(missing, name)
		}
	}
	for name := range requests {
		if !exports[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(exports) < 40 || len(missing) > 0 || len(extra) > 0 {
		t.Errorf("%d exports; without a request type: %v; requests of no export: %v", len(exports), missing, extra)
	}
}
