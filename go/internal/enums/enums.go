// Package enums holds the one parser of each enumerated option.  Each
// parser is the only place that lists its values; an empty name means
// "the caller's default", which each caller handles itself.
package enums

import (
	"fmt"

	"github.com/spf13/pflag"
	"go.podman.io/buildah/define"
	"go.podman.io/buildah/pkg/parse"
	"go.podman.io/common/pkg/config"
	"go.podman.io/image/v5/pkg/compression"
	"go.podman.io/storage/pkg/archive"

	"pybuildah.dev/shim/internal/errkind"
)

// Isolation parses chroot (the default), oci or rootless.
func Isolation(name string) (define.Isolation, error) {
	switch name {
	case "", "chroot":
		return define.IsolationChroot, nil
	case "oci":
		return define.IsolationOCI, nil
	case "rootless":
		return define.IsolationOCIRootless, nil
	}
	return 0, errkind.New(errkind.InvalidArgument, "unknown isolation %q (expected chroot, oci or rootless)", name)
}

// Network is buildah's --network (of run and build), read by Buildah's own
// namespace parser: "" (the default), "private", "host", "none", or a
// namespace path.
func Network(value string) (define.NamespaceOptions, define.NetworkConfigurationPolicy, error) {
	if value == "" {
		return nil, define.NetworkDefault, nil
	}
	flags := pflag.NewFlagSet("network", pflag.ContinueOnError)
	flags.String("network", "", "")
	if err := flags.Set("network", value); err != nil {
		return nil, define.NetworkDefault, errkind.Wrap(errkind.InvalidArgument, err)
	}
	namespaces, policy, err := parse.NamespaceOptionsFromFlagSet(flags, flags.Lookup)
	if err != nil {
		return nil, define.NetworkDefault, errkind.Wrap(errkind.InvalidArgument, fmt.Errorf("network: %w", err))
	}
	return namespaces, policy, nil
}

// Format is an image format: its manifest MIME type.
type Format string

// ParseFormat parses oci or docker; "" gives "" (the caller's default).
func ParseFormat(name string) (Format, error) {
	switch name {
	case "":
		return "", nil
	case "oci":
		return define.OCIv1ImageManifest, nil
	case "docker":
		return define.Dockerv2ImageManifest, nil
	}
	return "", errkind.New(errkind.InvalidArgument, "unknown image format %q (expected oci or docker)", name)
}

// PullPolicy is a pull policy, convertible to Buildah's and libimage's types.
type PullPolicy string

// ParsePullPolicy parses always, missing, newer or never; "" gives def.
func ParsePullPolicy(name string, def PullPolicy) (PullPolicy, error) {
	switch name {
	case "":
		return def, nil
	case "always", "missing", "newer", "never":
		return PullPolicy(name), nil
	}
	return "", errkind.New(errkind.InvalidArgument, "unknown pull policy %q (expected always, missing, newer or never)", name)
}

// Pull policies, as callers' defaults.
const (
	PullAlways  PullPolicy = "always"
	PullMissing PullPolicy = "missing"
)

// Buildah returns the policy for Buildah's builder and build options.
func (p PullPolicy) Buildah() define.PullPolicy {
	return map[PullPolicy]define.PullPolicy{
		"always": define.PullAlways, "missing": define.PullIfMissing, "newer": define.PullIfNewer, "never": define.PullNever,
	}[p]
}

// Libimage returns the policy for libimage's Pull.
func (p PullPolicy) Libimage() config.PullPolicy {
	return map[PullPolicy]config.PullPolicy{
		"always": config.PullPolicyAlways, "missing": config.PullPolicyMissing, "newer": config.PullPolicyNewer, "never": config.PullPolicyNever,
	}[p]
}

// Compression is a layer compression: gzip, zstd or zstd:chunked (zstd
// with a table of contents, which lets a pull fetch only missing files).
type Compression string

// ParseCompression parses gzip, zstd or zstd:chunked; "" gives "" (the
// caller's default).
func ParseCompression(name string) (Compression, error) {
	switch name {
	case "", "gzip", "zstd", "zstd:chunked":
		return Compression(name), nil
	}
	return "", errkind.New(errkind.InvalidArgument, "unknown compression %q (expected gzip, zstd or zstd:chunked)", name)
}

// Force says whether a copy must recompress blobs the destination already
// holds in another compression: force when given, else (as buildah push
// and commit do) whenever a compression is named.
func (c Compression) Force(force *bool) (bool, error) {
	if force == nil {
		return c != "", nil
	}
	if *force && c == "" {
		return false, errkind.New(errkind.InvalidArgument, "force_compression needs a compression")
	}
	return *force, nil
}

// CheckLevel accepts a compression level for c (nil: the default).  gzip,
// also what a copy without a compression uses, takes -2 (Huffman only) to 9;
// zstd maps any level to one of its own.
func (c Compression) CheckLevel(level *int) error {
	if level == nil || c == "zstd" || c == "zstd:chunked" {
		return nil
	}
	if *level < -2 || *level > 9 {
		return errkind.New(errkind.InvalidArgument, "compression_level %d: gzip takes -2 (Huffman only) to 9", *level)
	}
	return nil
}

// Archive returns the compression for buildah.Commit (uncompressed when unset).
func (c Compression) Archive() archive.Compression {
	switch c {
	case "gzip":
		return archive.Gzip
	case "zstd", "zstd:chunked":
		return archive.Zstd
	}
	return archive.Uncompressed
}

// Algorithm returns the compression for an image copy (nil when unset).
func (c Compression) Algorithm() *compression.Algorithm {
	var algorithm compression.Algorithm
	switch c {
	case "gzip":
		algorithm = compression.Gzip
	case "zstd":
		algorithm = compression.Zstd
	case "zstd:chunked":
		algorithm = compression.ZstdChunked
	default:
		return nil
	}
	return &algorithm
}

// SaveFormat parses an archive or layout format for SaveImage into
// libimage's name: oci-archive (the default), docker-archive, oci, dir.
func SaveFormat(name string) (string, error) {
	format := map[string]string{
		"": "oci-archive", "oci-archive": "oci-archive", "docker-archive": "docker-archive",
		"oci": "oci-dir", "oci-dir": "oci-dir", "dir": "docker-dir", "docker-dir": "docker-dir",
	}[name]
	if format == "" {
		return "", errkind.New(errkind.InvalidArgument, "unknown archive format %q (expected oci-archive, docker-archive, oci or dir)", name)
	}
	return format, nil
}

// FileTransports are the transports that write to a path.
var FileTransports = []string{"oci-archive", "oci", "docker-archive", "dir"}
