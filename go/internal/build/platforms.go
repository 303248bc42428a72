package build

import (
	"bytes"
	"os"
	"strings"

	"github.com/openshift/imagebuilder"
	"github.com/openshift/imagebuilder/dockerfile/command"
	"go.podman.io/buildah/define"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/platform"
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
