// Command pybuildah-sbomscan writes an SBOM of a mounted root file system.
//
// It runs syft's image catalogers (what `syft scan --override-default-catalogers
// image` selects) over ROOT as a directory source whose symlinks resolve inside
// ROOT, and writes SPDX 2.3 JSON or CycloneDX JSON, and optionally a purl list.
// It never uses the network: syft's remote lookups stay off (their default).
//
// Usage: pybuildah-sbomscan -root DIR -format spdx-json|cyclonedx-json -output FILE [-purl-output FILE] [-name NAME]
package main

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	_ "modernc.org/sqlite" // rpm databases in sqlite form (Fedora, RHEL 9)

	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/cataloging"
	"github.com/anchore/syft/syft/cataloging/filecataloging"
	"github.com/anchore/syft/syft/cataloging/pkgcataloging"
	"github.com/anchore/syft/syft/format/cyclonedxjson"
	"github.com/anchore/syft/syft/format/purls"
	"github.com/anchore/syft/syft/format/spdxjson"
	"github.com/anchore/syft/syft/sbom"
	"github.com/anchore/syft/syft/source"
	"github.com/anchore/syft/syft/source/directorysource"
)

// version is set by the build (-X main.version=...).
var version = "devel"

func encoder(name string) (sbom.FormatEncoder, error) {
	switch name {
	case "spdx-json":
		cfg := spdxjson.DefaultEncoderConfig()
		cfg.Version = "2.3"
		return spdxjson.NewFormatEncoderWithConfig(cfg)
	case "cyclonedx-json":
		return cyclonedxjson.NewFormatEncoderWithConfig(cyclonedxjson.DefaultEncoderConfig())
	}
	return nil, fmt.Errorf("unknown SBOM format %q (spdx-json or cyclonedx-json)", name)
}

func scan(ctx context.Context, root, name string) (*sbom.SBOM, error) {
	src, err := directorysource.New(directorysource.Config{Path: root, Base: root, Alias: source.Alias{Name: name}})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	cfg := syft.DefaultCreateSBOMConfig().
		WithTool("pybuildah", version).
		// SPDX 2.3 requires a SHA1 checksum on every file (syft's library default is SHA256 only).
		WithFilesConfig(filecataloging.DefaultConfig().WithHashers(crypto.SHA1, crypto.SHA256)).
		WithCatalogerSelection(cataloging.NewSelectionRequest().WithDefaults(pkgcataloging.ImageTag))
	return syft.CreateSBOM(ctx, src, cfg)
}

func write(path string, enc sbom.FormatEncoder, s *sbom.SBOM) error {
	var buf bytes.Buffer
	if err := enc.Encode(&buf, *s); err != nil {
		return err
	}
	data := buf.Bytes()
	if enc.ID() == spdxjson.ID {
		var err error
		if data, err = filesAnalyzed(data); err != nil {
			return err
		}
	}
	return os.WriteFile(path, data, 0o644)
}

// filesAnalyzed marks the SPDX packages that CONTAIN files as filesAnalyzed.  syft writes
// the scanned directory as a package with filesAnalyzed false that contains the files no
// package owns, which SPDX 2.3 forbids (spdx-tools refuses the document); the directory
// was analysed, so true is the honest value.
func filesAnalyzed(data []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	files := map[string]bool{}
	for _, f := range list(doc["files"]) {
		if id, ok := f["SPDXID"].(string); ok {
			files[id] = true
		}
	}
	containers := map[string]bool{}
	for _, r := range list(doc["relationships"]) {
		if r["relationshipType"] == "CONTAINS" && files[fmt.Sprint(r["relatedSpdxElement"])] {
			containers[fmt.Sprint(r["spdxElementId"])] = true
		}
	}
	for _, p := range list(doc["packages"]) {
		if containers[fmt.Sprint(p["SPDXID"])] && p["filesAnalyzed"] == false {
			p["filesAnalyzed"] = true
		}
	}
	return json.Marshal(doc)
}

func list(v any) []map[string]any {
	items, _ := v.([]any)
	out := make([]map[string]any, 0, len(items))
	for _, item := range items {
		if m, ok := item.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("pybuildah-sbomscan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", "", "root file system to scan")
	format := fs.String("format", "spdx-json", "spdx-json or cyclonedx-json")
	output := fs.String("output", "", "SBOM file to write")
	purlOutput := fs.String("purl-output", "", "purl list to write (optional)")
	name := fs.String("name", "", "name recorded for the scanned source")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *root == "" || *output == "" {
		return fmt.Errorf("-root and -output are required")
	}
	enc, err := encoder(*format)
	if err != nil {
		return err
	}
	s, err := scan(context.Background(), *root, *name)
	if err != nil {
		return err
	}
	if err := write(*output, enc, s); err != nil {
		return err
	}
	if *purlOutput != "" {
		return write(*purlOutput, purls.NewFormatEncoder(), s)
	}
	return nil
}

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "pybuildah-sbomscan:", err)
		os.Exit(1)
	}
}
