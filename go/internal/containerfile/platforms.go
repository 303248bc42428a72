package containerfile

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/openshift/imagebuilder"
	"github.com/openshift/imagebuilder/dockerfile/command"
	"github.com/openshift/imagebuilder/dockerfile/parser"
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
// FROM images (found in the store) of the stages that RUN something say
// which architectures need an emulator.  Before the build it refuses what it
// can see; after a failed build (whose bases may just have been pulled) it
// turns the runtime's "exec format error" into the same EmulationError.
func checkBaseEmulation(st *store.State, containerfiles []string) error {
	for _, base := range runBases(containerfiles) {
		img, err := images.ResolveLocal(st, base)
		if err != nil {
			continue // not here yet: a pull will bring it, and the check after the build covers it
		}
		info, err := images.InspectStored(st, img)
		if err != nil {
			continue // a manifest list: the build picks this machine's entry
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

// runBases lists the images that the stages with a RUN instruction start
// from, following FROM an earlier stage to that stage's image (scratch and
// names made of build arguments are left out).  A stage without RUN runs
// nothing, whatever its architecture (a cross-build's payload stage).
func runBases(containerfiles []string) []string {
	var out []string
	for _, parsed := range parseAll(containerfiles) {
		images := map[string]string{} // stage name -> the image it starts from ("" for none)
		current, runs := "", false
		flush := func() {
			if runs && current != "" && current != "scratch" && !strings.Contains(current, "$") {
				out = append(out, current)
			}
		}
		for _, child := range parsed.Children {
			switch {
			case strings.EqualFold(child.Value, command.From) && child.Next != nil:
				flush()
				base := child.Next.Value
				if image, ok := images[strings.ToLower(base)]; ok {
					base = image
				}
				current, runs = base, false
				if as := child.Next.Next; as != nil && strings.EqualFold(as.Value, "as") && as.Next != nil {
					images[strings.ToLower(as.Next.Value)] = base
				}
			case strings.EqualFold(child.Value, command.Run):
				runs = true
			}
		}
		flush()
	}
	return out
}

// hasRun reports whether any of the Containerfiles has a RUN instruction.
func hasRun(containerfiles []string) bool {
	for _, parsed := range parseAll(containerfiles) {
		for _, child := range parsed.Children {
			if strings.EqualFold(child.Value, command.Run) {
				return true
			}
		}
	}
	return false
}

// parseAll parses the Containerfiles that can be read and parsed; the build
// itself reports the others.
func parseAll(containerfiles []string) []*parser.Node {
	var out []*parser.Node
	for _, path := range containerfiles {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if parsed, err := imagebuilder.ParseDockerfile(bytes.NewReader(data)); err == nil {
			out = append(out, parsed)
		}
	}
	return out
}
