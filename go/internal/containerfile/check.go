package containerfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/openshift/imagebuilder"
	"github.com/openshift/imagebuilder/dockerfile/command"
	"github.com/openshift/imagebuilder/dockerfile/parser"
	butil "go.podman.io/buildah/pkg/util"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/wire"
)

type node = parser.Node

// checkContainerfiles parses the Containerfiles with Buildah's parser and
// rejects what would fail only later, mid-build: syntax errors, unknown
// instructions, a missing target.  It returns the stage names in build
// order (after --target), so errors can name the failing stage.
func checkContainerfiles(paths []string, args map[string]string, target string) ([]string, error) {
	stages, fileOf, err := parseStages(paths, args, target)
	if err != nil || stages == nil {
		return nil, err
	}
	names := make([]string, len(stages))
	for i, stage := range stages {
		names[i] = stage.Name
	}
	return names, dryRun(stages, fileOf)
}

// parseStages parses the Containerfiles into Buildah's stages through the
// target (nil for preprocessed .in files), with the file each line is from.
func parseStages(paths []string, args map[string]string, target string) (imagebuilder.Stages, map[*node]string, error) {
	var root *node
	fileOf := map[*node]string{}
	for _, path := range paths {
		if strings.HasSuffix(path, ".in") {
			return nil, nil, nil // preprocessed by cpp inside BuildDockerfiles
		}
		parsed, err := parseContainerfile(path, root == nil)
		if err != nil {
			return nil, nil, err
		}
		for _, child := range parsed.Children {
			fileOf[child] = path
		}
		if root == nil {
			root = parsed
		} else {
			root.Children = append(root.Children, parsed.Children...)
		}
	}
	if root == nil {
		return nil, nil, nil
	}
	if len(root.Children) == 0 || strings.ToLower(root.Children[0].Value) != command.From && !onlyArgsBeforeFrom(root) {
		return nil, nil, buildError(errkind.BuildError, fmt.Errorf("%s: the first instruction must be FROM (or ARG before FROM)", paths[0]), wire.BuildErrorDetails{File: paths[0]}, nil)
	}
	stages, err := imagebuilder.NewStages(root, imagebuilder.NewBuilder(args))
	if err != nil {
		return nil, nil, buildError(errkind.BuildError, fmt.Errorf("reading stages: %w", err), wire.BuildErrorDetails{File: paths[0]}, nil)
	}
	if target != "" {
		through, ok := stages.ThroughTarget(target)
		if !ok {
			return nil, nil, errkind.New(errkind.InvalidArgument, "the target %q was not found in the Containerfile", target)
		}
		stages = through
	}
	return stages, fileOf, nil
}

// parseContainerfile reads one file and rejects unknown instructions
// (naming the stage in the first file, whose stage numbers are the build's).
func parseContainerfile(path string, first bool) (*node, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, buildError(errkind.ContextError, fmt.Errorf("reading Containerfile: %w", err), wire.BuildErrorDetails{File: path}, nil)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, buildError(errkind.BuildError, fmt.Errorf("no contents in %q", path), wire.BuildErrorDetails{File: path}, nil)
	}
	parsed, err := imagebuilder.ParseDockerfile(bytes.NewReader(data))
	if err != nil {
		return nil, buildError(errkind.BuildError, fmt.Errorf("parsing %s: %w", path, err), wire.BuildErrorDetails{File: path}, nil)
	}
	stage, stageName := -1, ""
	for _, child := range parsed.Children {
		name := strings.ToLower(child.Value)
		if name == command.From {
			stage++
			stageName = stageNameOf(child, stage)
		}
		if _, ok := command.Commands[name]; !ok {
			details := wire.BuildErrorDetails{File: path, Line: child.StartLine, Instruction: child.Original}
			if stage >= 0 && first {
				details.Stage, details.StageIndex = stageName, &stage
			}
			return nil, buildError(errkind.BuildError,
				fmt.Errorf("%s:%d: unknown instruction %s", path, child.StartLine, strings.ToUpper(child.Value)), details, nil)
		}
	}
	return parsed, nil
}

// dryRun evaluates every instruction of the stages that the build will
// run with Buildah's own dispatcher and an executor that does nothing, so
// that malformed instructions (ENV without a value, bad flags, ...) fail
// before the first step runs instead of in the middle of the build.
func dryRun(stages imagebuilder.Stages, fileOf map[*node]string) error {
	needed := neededStages(stages)
	for i, stage := range stages {
		if !needed[i] {
			continue // skipped by the build, as Buildah skips unused stages
		}
		fail := func(n *node, step int, err error) error {
			index := i
			details := wire.BuildErrorDetails{Stage: stage.Name, StageIndex: &index, Step: step, File: fileOf[n]}
			if n != nil {
				details.Instruction, details.Line = n.Original, n.StartLine
				err = fmt.Errorf("%s:%d: %s: %w", details.File, n.StartLine, n.Original, err)
			}
			return buildError(errkind.BuildError, err, details, nil)
		}
		ib := stage.Builder
		var from *node
		if len(stage.Node.Children) > 0 {
			from = stage.Node.Children[0]
		}
		if _, err := ib.From(stage.Node); err != nil {
			return fail(from, 1, err)
		}
		for j, child := range stage.Node.Children {
			step := ib.Step()
			if err := step.Resolve(child); err != nil {
				return fail(child, j+2, err)
			}
			if err := ib.Run(step, imagebuilder.NoopExecutor, false); err != nil {
				return fail(child, j+2, err)
			}
		}
	}
	return nil
}

// neededStages marks the final stage and, transitively, every stage that a
// needed stage builds FROM or reads with --from (COPY, RUN --mount).
func neededStages(stages imagebuilder.Stages) map[int]bool {
	index := map[string]int{}
	for i, stage := range stages {
		index[stage.Name] = i
		index[strconv.Itoa(stage.Position)] = i
	}
	needed := map[int]bool{}
	var mark func(i int)
	mark = func(i int) {
		if needed[i] {
			return
		}
		needed[i] = true
		for _, n := range stages[i].Node.Children {
			for _, ref := range stageRefs(n) {
				if j, ok := index[ref]; ok && j < i {
					mark(j)
				}
			}
		}
	}
	if len(stages) > 0 {
		mark(len(stages) - 1)
	}
	return needed
}

// stageRefs lists the names an instruction may refer to other stages by:
// FROM's image, and --from= of COPY and RUN --mount.
func stageRefs(n *node) []string {
	var refs []string
	if strings.EqualFold(n.Value, command.From) && n.Next != nil {
		refs = append(refs, n.Next.Value)
	}
	for _, flag := range n.Flags {
		for _, field := range strings.FieldsFunc(flag, func(r rune) bool { return r == ',' || r == ' ' }) {
			field = strings.TrimPrefix(strings.TrimLeft(field, "-"), "mount=")
			if ref, ok := strings.CutPrefix(field, "from="); ok {
				refs = append(refs, ref)
			}
		}
	}
	return refs
}

// stageNameOf is the name a FROM line gives its stage: the AS name, or
// the stage's position.
func stageNameOf(from *node, position int) string {
	var words []string
	for n := from.Next; n != nil; n = n.Next {
		words = append(words, n.Value)
	}
	if len(words) == 3 && strings.EqualFold(words[1], "as") {
		return words[2]
	}
	return strconv.Itoa(position)
}

// onlyArgsBeforeFrom reports whether the instructions before the first
// FROM are all ARGs (global build arguments).
func onlyArgsBeforeFrom(root *node) bool {
	for _, child := range root.Children {
		switch strings.ToLower(child.Value) {
		case command.From:
			return true
		case command.Arg:
		default:
			return false
		}
	}
	return false
}

// resolveContainerfiles finds the Containerfiles: absolute paths as given,
// relative ones in the working directory or else in the context, and by
// default Containerfile, then Dockerfile, in the context.
func resolveContainerfiles(contextDir string, given []string) ([]string, error) {
	if len(given) == 0 {
		found, err := butil.DiscoverContainerfile(contextDir)
		if err != nil {
			return nil, errkind.Wrap(errkind.ContextError, fmt.Errorf("no Containerfile or Dockerfile in the build context %s", contextDir))
		}
		return []string{found}, nil
	}
	out := make([]string, 0, len(given))
	for _, path := range given {
		resolved, err := resolveContainerfile(contextDir, path)
		if err != nil {
			return nil, err
		}
		out = append(out, resolved)
	}
	return out, nil
}

func resolveContainerfile(contextDir, path string) (string, error) {
	candidates := []string{path}
	if !filepath.IsAbs(path) {
		candidates = []string{filepath.Join(contextDir, path)}
		if abs, err := filepath.Abs(path); err == nil {
			candidates = []string{abs, filepath.Join(contextDir, path)}
		}
	}
	for _, candidate := range candidates {
		if info, err := os.Stat(candidate); err == nil {
			if info.IsDir() {
				return "", errkind.New(errkind.ContextError, "Containerfile %s is a directory", candidate)
			}
			return candidate, nil
		}
	}
	return "", errkind.New(errkind.ContextError, "Containerfile %q not found (looked in the working directory and in the build context)", path)
}
