// Package containerfile runs Containerfile builds through Buildah's own front end,
// imagebuildah.BuildDockerfiles, and adds only what a library needs around
// it: checked options, live log lines, cancellation that really stops RUN
// steps, and errors that name the failing instruction.
package containerfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.podman.io/buildah/define"
	"go.podman.io/buildah/imagebuildah"
	"go.podman.io/buildah/util"

	"pybuildah.dev/shim/internal/enums"
	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/interrupt"
	"pybuildah.dev/shim/internal/store"
	"pybuildah.dev/shim/internal/sysctx"
	"pybuildah.dev/shim/internal/validate"
	"pybuildah.dev/shim/internal/wire"
)

// plan is a checked build, ready to run.
type plan struct {
	options        define.BuildOptions
	containerfiles []string
	stages         []string // stage names in build order, for error attribution
	redact         []string // what no error message may contain (a registry password)
	dependencies   []wire.Dependency
}

// Build builds the Containerfiles in a context directory and returns the
// image ID.  It blocks until the build ends; log lines arrive meanwhile as
// events on the caller's stream.
func Build(st *store.State, o wire.BuildOptions) (*wire.BuildResult, error) {
	p, err := prepare(st, o)
	if err != nil {
		return nil, err
	}
	return p.run(st, o)
}

// prepare checks every option and the Containerfiles before anything runs.
func prepare(st *store.State, o wire.BuildOptions) (*plan, error) {
	options, err := buildOptions(st, o)
	if err != nil {
		return nil, err
	}
	contextDir, err := contextDirectory(o.Context)
	if err != nil {
		return nil, err
	}
	options.ContextDirectory = contextDir
	containerfiles, err := resolveContainerfiles(contextDir, o.Containerfiles)
	if err != nil {
		return nil, err
	}
	stages, err := checkContainerfiles(containerfiles, o.BuildArgs, o.Target)
	if err != nil {
		return nil, err
	}
	if err := checkEmulation(o.Platforms, containerfiles); err != nil {
		return nil, err
	}
	if len(o.Platforms) == 0 {
		if err := checkBaseEmulation(st, containerfiles); err != nil {
			return nil, err
		}
	}
	p := &plan{options: *options, containerfiles: containerfiles, stages: stages, redact: registryPassword(o)}
	if o.Provenance {
		if p.dependencies, err = dependencies(containerfiles, o.BuildArgs, o.Target, o.BuildContexts); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// buildOptions turns the wire options into Buildah's, with the same
// run-time defaults as a Builder (containers.conf capabilities, ulimits).
func buildOptions(st *store.State, o wire.BuildOptions) (*define.BuildOptions, error) {
	isolation, err := enums.Isolation(o.Isolation)
	if err != nil {
		return nil, err
	}
	pull, err := enums.ParsePullPolicy(o.Pull, enums.PullMissing)
	if err != nil {
		return nil, err
	}
	format, err := enums.ParseFormat(o.Format)
	if err != nil {
		return nil, err
	}
	if format == "" {
		format = define.OCIv1ImageManifest
	}
	jobs, err := validate.Jobs(o.Jobs)
	if err != nil {
		return nil, err
	}
	if err := checkNames(o); err != nil {
		return nil, err
	}
	defaults, err := sysctx.ContainersConf()
	if err != nil {
		return nil, err
	}
	reg, err := sysctx.ForRegistry(st.SystemContext(), o.RegistryOptions)
	if err != nil {
		return nil, err
	}
	sys := reg.Sys
	var timestamp *time.Time
	if o.Timestamp != nil {
		t, err := validate.Timestamp("timestamp", *o.Timestamp)
		if err != nil {
			return nil, err
		}
		timestamp = &t
	}
	options := &define.BuildOptions{
		PullPolicy:       pull.Buildah(),
		Isolation:        isolation,
		Args:             o.BuildArgs,
		Output:           firstOr(o.Tags, ""),
		AdditionalTags:   restOf(o.Tags),
		OutputFormat:     string(format),
		SystemContext:    sys,
		ConfigureNetwork: define.NetworkDefault,
		CommonBuildOpts: &define.CommonBuildOptions{
			Ulimit:    defaults.Ulimits,
			HTTPProxy: true,
			ShmSize:   defaults.ShmSize,
		},
		SignaturePolicyPath:     sys.SignaturePolicyPath,
		Labels:                  o.Labels,
		Annotations:             o.Annotations,
		Layers:                  o.Layers,
		NoCache:                 o.NoCache,
		RemoveIntermediateCtrs:  true,
		ForceRmIntermediateCtrs: true, // a library must not leave working containers behind
		Target:                  o.Target,
		Squash:                  o.Squash,
		Timestamp:               timestamp,
		Jobs:                    &jobs,
		Compression:             define.Uncompressed,
	}
	if err := setParity(options, o, reg); err != nil {
		return nil, err
	}
	if err := setRunOptions(options, o); err != nil {
		return nil, err
	}
	if err := setPlatforms(options, o); err != nil {
		return nil, err
	}
	if err := setKeepFailed(options, o); err != nil {
		return nil, err
	}
	return options, nil
}

// checkNames checks tags, build argument, label and annotation names.
func checkNames(o wire.BuildOptions) error {
	for _, tag := range o.Tags {
		if _, err := util.VerifyTagName(tag); err != nil {
			return errkind.Wrap(errkind.InvalidReference, fmt.Errorf("tag %q: %w", tag, err))
		}
	}
	for name := range o.BuildArgs {
		if err := validate.Name("build argument", name); err != nil {
			return err
		}
	}
	if err := validate.Assignments("label", o.Labels); err != nil {
		return err
	}
	return validate.Assignments("annotation", o.Annotations)
}

// contextDirectory checks the build context and resolves its symlinks.
func contextDirectory(dir string) (string, error) {
	if !filepath.IsAbs(dir) {
		return "", errkind.New(errkind.InvalidArgument, "build context %q must be an absolute path", dir)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return "", errkind.New(errkind.ContextError, "build context %s does not exist", dir)
	}
	if !info.IsDir() {
		return "", errkind.New(errkind.ContextError, "build context %s is not a directory", dir)
	}
	resolved, err := filepath.EvalSymlinks(dir)
	return resolved, errkind.Wrap(errkind.ContextError, err)
}

// run runs a prepared build.  RUN steps read the call's private, empty
// stdin pipe (end of file at once, as from /dev/null), so that a cancel
// finds exactly this build's processes (see internal/interrupt).
func (p *plan) run(st *store.State, o wire.BuildOptions) (*wire.BuildResult, error) {
	call, err := interrupt.Begin(o.CallID())
	if err != nil {
		return nil, err
	}
	defer call.End()

	log := &buildLog{stream: o.Stream}
	out, errOut, report := log.writer("stdout"), log.writer("stderr"), log.writer("report")
	options := p.options
	options.In, options.Out, options.Err, options.ReportWriter = call.Stdin(), out, errOut, report
	steps := newStepRecorder(st.Store, len(o.Platforms))
	options.StepResults = steps.hook()
	id, _, err := imagebuildah.BuildDockerfiles(call.Context(), st.Store, options, p.containerfiles...)
	out.flush()
	errOut.flush()
	report.flush()
	kept := keptContainer(err)
	if call.Stopped() {
		removeKept(st.Store, kept)
		return nil, cancelled(err == nil)
	}
	if emulation := afterFailure(st, p.containerfiles, err, log.execFormat); emulation != nil {
		removeKept(st.Store, kept)
		return nil, errkind.Redact(fmt.Errorf("%w (the build failed with exec format error: %s)", emulation, errkind.CleanMessage(err)), p.redact)
	}
	if err != nil {
		return nil, errkind.Redact(withKept(st.Store, failure(err, log.stepLines(), p.stages), kept), p.redact)
	}
	result := &wire.BuildResult{ID: id, Steps: steps.result()}
	if o.Provenance {
		result.Dependencies, result.Containerfiles = resolveImages(st, p.dependencies, o.Platforms), p.containerfiles
	}
	return result, nil
}

// cancelled is the BuildCancelled error; finished says whether the image
// was written before the cancel took effect.
func cancelled(finished bool) error {
	message := "build cancelled"
	if finished {
		message += " (the image was written before the build stopped)"
	}
	return buildError(errkind.BuildCancelled, errors.New(message), wire.BuildErrorDetails{}, nil)
}

func firstOr(values []string, fallback string) string {
	if len(values) > 0 {
		return values[0]
	}
	return fallback
}

func restOf(values []string) []string {
	if len(values) > 1 {
		return values[1:]
	}
	return nil
}
