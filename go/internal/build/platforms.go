package build

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/openshift/imagebuilder"
	"github.com/openshift/imagebuilder/dockerfile/command"
	"go.podman.io/buildah/define"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/images"
	"pybuildah.dev/shim/internal/platform"
	"pybuildah.dev/shim/internal/store"
	"pybuildah.dev/shim/internal/wire"
)

// setPlatforms fills Buildah's Platforms and Manifest from the options, as
// buildah build --platform a,b --manifest name does: each platform is built
// in turn (RUN steps of foreign ones under emulation) and, with a manifest
// name, added to that list.
func setPlatforms(options *define.BuildOptions, o wire.BuildOptions) error {
	targets, err := platform.ParseAll(o.Platforms)
	if err != nil {
		return err
	}
	for _, p := range targets {
		options.Platforms = append(options.Platforms, struct{ OS, Arch, Variant string }{p.OS, p.Architecture, p.Variant})
	}
	if len(targets) == 1 {
		// One platform: the system context chooses it, so that FROM pulls and picks it.
		platform.Choose(options.SystemContext, targets[0])
	}
	if len(targets) > 1 && len(o.Tags) > 0 && o.Manifest == "" {
		return errkind.New(errkind.InvalidArgument,
			"a build for several platforms gives several images: name a manifest list for them instead of a tag")
	}
	options.Manifest = o.Manifest
	return nil
}

// checkEmulation refuses, before anything runs, a build whose RUN steps
// would need an emulator that is not registered.
func checkEmulation(platforms []string, containerfiles []string) error {
	targets, err := platform.ParseAll(platforms)
	if err != nil || len(targets) == 0 {
		return err
	}
	needed := false
	for _, p := range targets {
		if !platform.Native(p.Architecture) {
			needed = true
		}
	}
	if !needed || !hasRun(containerfiles) {
		return nil
	}
	for _, p := range targets {
		if err := platform.CheckEmulation(p.Architecture); err != nil {
			return err
		}
	}
	return nil
}

// checkBaseEmulation is checkEmulation for builds without platforms: the
// stages' FROM images found in the store say which architectures RUN steps
// need.  Before the build it refuses what it can see; after a failed build
// (whose bases may just have been pulled) it turns the runtime's "exec
// format error" into the same EmulationError.
func checkBaseEmulation(st *store.State, containerfiles []string) error {
	if !hasRun(containerfiles) {
		return nil
	}
	for _, base := range baseImages(containerfiles) {
		img, err := images.ResolveLocal(st, base)
		if err != nil {
			continue // not here yet: a pull will bring it, and the check after the build covers it
		}
		info, err := images.InspectStored(st, img)
		if err != nil {
			continue
		}
		if err := platform.CheckEmulation(info.Architecture); err != nil {
			return fmt.Errorf("FROM %s: %w", base, err)
		}
	}
	return nil
}

// afterFailure is the EmulationError that explains a failed build whose
// log said "exec format error", or nil.
func afterFailure(st *store.State, containerfiles []string, err error, execFormat bool) error {
	if err == nil || !execFormat {
		return nil
	}
	return checkBaseEmulation(st, containerfiles)
}

// baseImages lists the images that stages start FROM (not earlier stages,
// scratch or names made of build arguments).
func baseImages(containerfiles []string) []string {
	var out []string
	stages := map[string]bool{"scratch": true}
	for _, path := range containerfiles {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		parsed, err := imagebuilder.ParseDockerfile(bytes.NewReader(data))
		if err != nil {
			continue
		}
		for _, child := range parsed.Children {
			if !strings.EqualFold(child.Value, command.From) || child.Next == nil {
				continue
			}
			base := child.Next.Value
			if !stages[strings.ToLower(base)] && !strings.Contains(base, "$") {
				out = append(out, base)
			}
			if as := child.Next.Next; as != nil && strings.EqualFold(as.Value, "as") && as.Next != nil {
				stages[strings.ToLower(as.Next.Value)] = true
			}
		}
	}
	return out
}

// hasRun reports whether any of the Containerfiles has a RUN instruction.
func hasRun(containerfiles []string) bool {
	for _, path := range containerfiles {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		parsed, err := imagebuilder.ParseDockerfile(bytes.NewReader(data))
		if err != nil {
			continue
		}
		for _, child := range parsed.Children {
			if strings.EqualFold(child.Value, command.Run) {
				return true
			}
		}
	}
	return false
}
