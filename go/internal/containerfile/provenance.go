package containerfile

import (
	"runtime"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/openshift/imagebuilder"
	"github.com/openshift/imagebuilder/dockerfile/command"
	"go.podman.io/common/libimage"

	"pybuildah.dev/shim/internal/images"
	"pybuildah.dev/shim/internal/platform"
	"pybuildah.dev/shim/internal/store"
	"pybuildah.dev/shim/internal/wire"
)

// dependencies lists what the stages a build runs read from outside its
// contexts, for provenance: base images (FROM, COPY --from=, RUN
// --mount=from=) and ADD URLs (with the --checksum that pins one).  Stage
// names and named build contexts are not images.  Arguments are expanded
// by Buildah's own evaluator, on a fresh parse (the check's dry run has
// used its stages).
func dependencies(paths []string, args map[string]string, target string, contexts map[string]string) ([]wire.Dependency, error) {
	stages, _, err := parseStages(paths, args, target)
	if err != nil || stages == nil {
		return nil, err
	}
	internal := map[string]bool{"scratch": true}
	for name := range contexts {
		internal[strings.ToLower(name)] = true
	}
	var out []wire.Dependency
	image := func(ref string) {
		if ref != "" && !internal[strings.ToLower(ref)] && !strings.Contains(ref, "$") {
			out = appendOnce(out, wire.Dependency{Kind: "image", Ref: ref})
		}
	}
	needed := neededStages(stages)
	for i, stage := range stages {
		if needed[i] {
			stageDependencies(stage, image, func(d wire.Dependency) { out = appendOnce(out, d) })
		}
		internal[strings.ToLower(stage.Name)] = true
		internal[strconv.Itoa(stage.Position)] = true
	}
	return out, nil
}

// stageDependencies walks one stage with a no-op executor, so that each
// step's words are the expanded ones Buildah would run.
func stageDependencies(stage imagebuilder.Stage, image func(string), url func(wire.Dependency)) {
	ib := stage.Builder
	if base, err := ib.From(stage.Node); err == nil {
		image(base)
	}
	for _, child := range stage.Node.Children {
		step := ib.Step()
		if step.Resolve(child) != nil || ib.Run(step, imagebuilder.NoopExecutor, false) != nil {
			continue
		}
		for _, ref := range stageRefs(child) {
			image(ref)
		}
		if step.Command != command.Add || len(step.Args) < 2 {
			continue
		}
		checksum := ""
		for _, flag := range step.Flags {
			if value, ok := strings.CutPrefix(flag, "--checksum="); ok {
				checksum = value
			}
		}
		for _, source := range step.Args[:len(step.Args)-1] {
			if strings.HasPrefix(source, "http://") || strings.HasPrefix(source, "https://") || strings.HasPrefix(source, "git@") {
				url(wire.Dependency{Kind: "url", Ref: source, Digest: checksum})
			}
		}
	}
}

func appendOnce(list []wire.Dependency, d wire.Dependency) []wire.Dependency {
	if slices.Contains(list, d) {
		return list
	}
	return append(list, d)
}

// resolveImages gives each base image the digest of the manifest the build
// used, once per platform built (the host's when none is named); an image
// the store no longer holds keeps no digest.
func resolveImages(st *store.State, deps []wire.Dependency, platforms []string) []wire.Dependency {
	lookup, err := images.Runtime(st, st.Sys())
	targets, _ := platform.ParseAll(platforms)
	if len(targets) == 0 {
		targets = append(targets, v1.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH})
	}
	var out []wire.Dependency
	for _, d := range deps {
		if d.Kind != "image" {
			out = append(out, d)
			continue
		}
		for _, target := range targets {
			resolved := d
			resolved.Platform = platform.Format(target)
			if err == nil {
				options := &libimage.LookupImageOptions{OS: target.OS, Architecture: target.Architecture, Variant: target.Variant}
				if found, _, lookupErr := lookup.LookupImage(d.Ref, options); lookupErr == nil {
					resolved.Digest = found.Digest().String()
				}
			}
			out = appendOnce(out, resolved)
		}
	}
	return out
}
