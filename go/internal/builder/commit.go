package builder

import (
	"strconv"
	"time"

	"go.podman.io/buildah"
	"go.podman.io/buildah/define"

	"pybuildah.dev/shim/internal/enums"
	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/events"
	"pybuildah.dev/shim/internal/images"
	"pybuildah.dev/shim/internal/interrupt"
	"pybuildah.dev/shim/internal/sysctx"
	"pybuildah.dev/shim/internal/validate"
	"pybuildah.dev/shim/internal/wire"
)

// Commit writes the working container as an image, into the store by
// default or to any transport reference.
func Commit(s *State, o wire.CommitOptions) (*wire.CommitResult, error) {
	options, reg, err := commitOptions(s, o)
	if err != nil {
		return nil, err
	}
	if err := s.shared.flush(); err != nil {
		return nil, s.explain(err)
	}
	dest, err := images.ParseDestination(s.Store, reg.Sys, o.Destination)
	if err != nil {
		return nil, err
	}
	report := &events.CopyReport{Stream: o.Stream}
	if o.Stream != 0 {
		options.ReportWriter = report
	}
	call, err := interrupt.Begin(o.CallID())
	if err != nil {
		return nil, err
	}
	defer call.End()
	var container string
	if o.Entry != "" { // the last cache hit's image, not yet in the working container
		result, done, err := commitOnEntry(call.Context(), s, o.Entry, options, dest)
		if done && err == nil {
			report.Finish()
		}
		if done {
			return result, errkind.Redact(s.explain(err), reg.Secrets())
		}
		if err != nil {
			return nil, errkind.Image(o.Entry, err)
		}
		info, err := Rebase(s, wire.RebaseOptions{BuilderRef: o.BuilderRef, Image: o.Entry})
		if err != nil {
			return nil, err
		}
		container = info.ID
	}
	id, ref, manifestDigest, err := s.Builder.Commit(call.Context(), dest, *options)
	if err != nil {
		return nil, errkind.Redact(s.explain(err), reg.Secrets())
	}
	report.Finish()
	result := &wire.CommitResult{ID: id, Digest: manifestDigest.String(), Container: container}
	if ref != nil {
		result.Name = ref.String()
	} else if dest != nil {
		result.Name = images.TransportName(dest)
	}
	return result, nil
}

// commitOptions checks Commit's options and turns them into Buildah's;
// without a format, the one chosen when the builder was made applies.
func commitOptions(s *State, o wire.CommitOptions) (*buildah.CommitOptions, *sysctx.Registry, error) {
	format, err := enums.ParseFormat(o.Format)
	if err != nil {
		return nil, nil, err
	}
	compression, err := enums.ParseCompression(o.Compression)
	if err != nil {
		return nil, nil, err
	}
	force, err := compression.Force(o.ForceCompression)
	if err != nil {
		return nil, nil, err
	}
	reg, err := sysctx.ForRegistry(s.Store.SystemContext(), o.RegistryOptions)
	if err != nil {
		return nil, nil, err
	}
	options := &buildah.CommitOptions{
		PreferredManifestType:  string(format),
		SystemContext:          reg.Sys,
		Squash:                 o.Squash,
		Compression:            compression.Archive(),
		CompressionFormat:      compression.Algorithm(),
		ForceCompressionFormat: force,
	}
	if format == "" {
		options.PreferredManifestType = s.Builder.Format
	}
	if options.PreferredManifestType == "" {
		options.PreferredManifestType = define.OCIv1ImageManifest
	}
	if reg.Retries != nil {
		options.MaxRetries = int(*reg.Retries)
	}
	if o.Timestamp != nil {
		t, err := validate.Timestamp("timestamp", *o.Timestamp)
		if err != nil {
			return nil, nil, err
		}
		options.HistoryTimestamp = &t
	} else if o.SourceDateEpoch != "" {
		t, err := ParseSourceDateEpoch(o.SourceDateEpoch)
		if err != nil {
			return nil, nil, err
		}
		options.SourceDateEpoch = &t
	}
	return options, reg, nil
}

// ParseSourceDateEpoch reads SOURCE_DATE_EPOCH (whole seconds since the
// epoch) the way buildah commit does.
func ParseSourceDateEpoch(value string) (time.Time, error) {
	seconds, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return time.Time{}, errkind.New(errkind.InvalidArgument, "parsing SOURCE_DATE_EPOCH %q: %v", value, err)
	}
	return validate.Timestamp("SOURCE_DATE_EPOCH", seconds)
}
