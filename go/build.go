package main

// Containerfile builds through Buildah's own front end,
// imagebuildah.BuildDockerfiles.  This file adds only what a library needs
// around it: options from JSON, live log lines, cancellation that really
// stops RUN steps, and errors that name the failing instruction.

import "C"

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/openshift/imagebuilder"
	"github.com/openshift/imagebuilder/dockerfile/command"
	"github.com/openshift/imagebuilder/dockerfile/parser"
	"go.podman.io/buildah/define"
	"go.podman.io/buildah/imagebuildah"
	butil "go.podman.io/buildah/pkg/util"
	"go.podman.io/buildah/util"
	"golang.org/x/sys/unix"
)

type imagebuilderNode = parser.Node

type buildOptions struct {
	storeRef
	BuildID        uint64            `json:"build_id"`
	Context        string            `json:"context"`
	Containerfiles []string          `json:"containerfiles"`
	Tags           []string          `json:"tags"`
	Target         string            `json:"target"`
	BuildArgs      map[string]string `json:"build_args"`
	Labels         []string          `json:"labels"`
	Annotations    []string          `json:"annotations"`
	Isolation      string            `json:"isolation"`
	Layers         bool              `json:"layers"`
	NoCache        bool              `json:"no_cache"`
	Pull           string            `json:"pull"`
	Squash         bool              `json:"squash"`
	Format         string            `json:"format"`
	Timestamp      *int64            `json:"timestamp"`
	Jobs           int               `json:"jobs"`
	Stream         uint64            `json:"stream"`
	HoldSignals    []int             `json:"hold_signals"` // signals that stop the build first (Python's handler gets them after)
}

type buildResult struct {
	ID string `json:"id"`
}

// buildRun is one running build, found by its id when Python cancels it.
type buildRun struct {
	cancel   context.CancelFunc
	stdinIno uint64 // the inode of this build's stdin pipe, which its RUN steps inherit
	done     chan struct{}
	once     sync.Once
	mu       sync.Mutex
	stopped  bool
	signal   syscall.Signal // the signal that stopped the build, if any
}

var running = struct {
	sync.Mutex
	builds    map[uint64]*buildRun
	cancelled map[uint64]bool // cancel requests that arrived before their build started
}{builds: map[uint64]*buildRun{}, cancelled: map[uint64]bool{}}

// stop cancels the build's context and, until the build returns, kills the
// processes of its RUN steps: Builder.Run takes no context, so a RUN step
// would otherwise run to its end.
func (r *buildRun) stop(sig syscall.Signal) {
	r.mu.Lock()
	if !r.stopped {
		r.stopped = true
		r.signal = sig
	}
	r.mu.Unlock()
	r.once.Do(func() {
		r.cancel()
		go func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				killBuildProcesses(r.stdinIno)
				select {
				case <-r.done:
					return
				case <-tick.C:
				}
			}
		}()
	})
}

func (r *buildRun) state() (bool, syscall.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopped, r.signal
}

// killBuildProcesses sends SIGKILL to every process whose stdin is the
// build's pipe (the chroot runtime that each RUN step starts) and to all of
// their descendants, deepest first.  The pipe is private to the build, so
// nothing else in this process or on the host matches.
func killBuildProcesses(ino uint64) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	want := fmt.Sprintf("pipe:[%d]", ino)
	self := os.Getpid()
	children := map[int][]int{}
	var roots []int
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil || pid == self {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", entry.Name(), "stat"))
		if err != nil {
			continue
		}
		end := bytes.LastIndexByte(stat, ')')
		if end < 0 {
			continue
		}
		fields := strings.Fields(string(stat[end+1:]))
		if len(fields) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(fields[1]); err == nil {
			children[ppid] = append(children[ppid], pid)
		}
		if link, err := os.Readlink(filepath.Join("/proc", entry.Name(), "fd", "0")); err == nil && link == want {
			roots = append(roots, pid)
		}
	}
	var victims []int
	var walk func(pid int)
	walk = func(pid int) {
		for _, child := range children[pid] {
			walk(child)
		}
		victims = append(victims, pid)
	}
	for _, root := range roots {
		walk(root)
	}
	for _, pid := range victims {
		_ = unix.Kill(pid, unix.SIGKILL)
	}
}

func registerBuild(id uint64, run *buildRun) {
	running.Lock()
	defer running.Unlock()
	if id == 0 {
		return
	}
	running.builds[id] = run
	if running.cancelled[id] {
		delete(running.cancelled, id)
		run.stop(0)
	}
}

func unregisterBuild(id uint64) {
	running.Lock()
	defer running.Unlock()
	delete(running.builds, id)
	delete(running.cancelled, id)
}

// PyBuildahCancelBuild stops a running build; it returns at once and the
// build call itself returns (with BuildCancelled) within moments.
//
//export PyBuildahCancelBuild
func PyBuildahCancelBuild(args *C.char) *C.char {
	return call(args, func(o struct {
		BuildID uint64 `json:"build_id"`
	}) (any, error) {
		running.Lock()
		defer running.Unlock()
		if run, ok := running.builds[o.BuildID]; ok {
			run.stop(0)
			return true, nil
		}
		running.cancelled[o.BuildID] = true
		return false, nil
	})
}

// buildLog turns a build's Out, Err and ReportWriter into "log" events,
// one per line, and remembers the STEP lines for error attribution.  The
// writers are shared by parallel stages, hence the lock.
type buildLog struct {
	mu     sync.Mutex
	stream uint64
	steps  []stepLine
}

type stepLine struct {
	stage   int // 0-based position in the build's stage list
	step    int
	message string
}

var stepPattern = regexp.MustCompile(`^(?:\[(\d+)/\d+\] )?STEP (\d+)(?:/\d+)?: (.*)$`)

func (l *buildLog) line(kind, text string) {
	if m := stepPattern.FindStringSubmatch(text); m != nil {
		stage := 0
		if m[1] != "" {
			stage, _ = strconv.Atoi(m[1])
			stage--
		}
		step, _ := strconv.Atoi(m[2])
		l.steps = append(l.steps, stepLine{stage: stage, step: step, message: m[3]})
	}
	emit(l.stream, "log", map[string]string{"kind": kind, "line": text})
}

func (l *buildLog) writer(kind string) *buildLogWriter { return &buildLogWriter{log: l, kind: kind} }

type buildLogWriter struct {
	log     *buildLog
	kind    string
	pending []byte
}

func (w *buildLogWriter) Write(p []byte) (int, error) {
	w.log.mu.Lock()
	defer w.log.mu.Unlock()
	w.pending = append(w.pending, p...)
	for {
		i := bytes.IndexByte(w.pending, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.log.line(w.kind, strings.TrimRight(string(w.pending[:i]), "\r"))
		w.pending = w.pending[i+1:]
	}
}

func (w *buildLogWriter) flush() {
	w.log.mu.Lock()
	defer w.log.mu.Unlock()
	if len(w.pending) > 0 {
		w.log.line(w.kind, string(w.pending))
		w.pending = nil
	}
}

// buildErrorDetails names the failing instruction for BuildError.
type buildErrorDetails struct {
	Stage       string `json:"stage,omitempty"`
	StageIndex  *int   `json:"stage_index,omitempty"`
	Step        int    `json:"step,omitempty"`
	Instruction string `json:"instruction,omitempty"`
	Line        int    `json:"line,omitempty"`
	File        string `json:"file,omitempty"`
	Signal      int    `json:"signal,omitempty"`
}

func buildError(kind string, err error, details buildErrorDetails, exitCode *int) error {
	return &kindError{kind: kind, err: err, exitCode: exitCode, details: details}
}

var failedStepPattern = regexp.MustCompile(`building at STEP "((?s).*?)": `)

// attributeBuildError finds the instruction that failed: the error names
// the step's text, and the log says which stage and step number printed it.
func attributeBuildError(err error, log *buildLog, stages []string) error {
	log.mu.Lock()
	steps := append([]stepLine(nil), log.steps...)
	log.mu.Unlock()
	msg := err.Error()
	var details buildErrorDetails
	var found *stepLine
	for i := len(steps) - 1; i >= 0; i-- {
		if strings.Contains(msg, `building at STEP "`+steps[i].message+`": `) {
			found = &steps[i]
			break
		}
	}
	if found == nil && len(steps) > 0 && !failedStepPattern.MatchString(msg) {
		// Failures outside a step's own work (a FROM that cannot be
		// resolved, a commit) happen after the last STEP line printed.
		found = &steps[len(steps)-1]
	}
	if found != nil {
		details.Step = found.step
		details.Instruction = found.message
		index := found.stage
		details.StageIndex = &index
		if index >= 0 && index < len(stages) {
			details.Stage = stages[index]
		}
	} else if m := failedStepPattern.FindStringSubmatch(msg); m != nil {
		details.Instruction = m[1]
	}
	var exitCode *int
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		exitCode = &code
	} else if m := regexp.MustCompile(`exit status (\d+)`).FindStringSubmatch(msg); m != nil {
		code, _ := strconv.Atoi(m[1])
		exitCode = &code
	}
	return buildError("BuildError", err, details, exitCode)
}

// checkContainerfiles parses the Containerfiles with Buildah's parser and
// rejects what would fail only later, mid-build: syntax errors, unknown
// instructions, a missing target.  It returns the stage names in build
// order (after --target), so errors can name the failing stage.
func checkContainerfiles(paths []string, args map[string]string, target string) ([]string, error) {
	var main *imagebuilderNode
	fileOf := map[*imagebuilderNode]string{}
	for _, path := range paths {
		if strings.HasSuffix(path, ".in") {
			return nil, nil // preprocessed by cpp inside BuildDockerfiles
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, buildError("ContextError", fmt.Errorf("reading Containerfile: %w", err), buildErrorDetails{File: path}, nil)
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, buildError("BuildError", fmt.Errorf("no contents in %q", path), buildErrorDetails{File: path}, nil)
		}
		node, err := imagebuilder.ParseDockerfile(bytes.NewReader(data))
		if err != nil {
			return nil, buildError("BuildError", fmt.Errorf("parsing %s: %w", path, err), buildErrorDetails{File: path}, nil)
		}
		stage, stageName := -1, ""
		for _, child := range node.Children {
			name := strings.ToLower(child.Value)
			if name == command.From {
				stage++
				stageName = stageNameOf(child, stage)
			}
			if _, ok := command.Commands[name]; !ok {
				details := buildErrorDetails{File: path, Line: child.StartLine, Instruction: child.Original}
				if stage >= 0 && main == nil {
					details.Stage, details.StageIndex = stageName, &stage
				}
				return nil, buildError("BuildError",
					fmt.Errorf("%s:%d: unknown instruction %s", path, child.StartLine, strings.ToUpper(child.Value)), details, nil)
			}
		}
		for _, child := range node.Children {
			fileOf[child] = path
		}
		if main == nil {
			main = node
		} else {
			main.Children = append(main.Children, node.Children...)
		}
	}
	if main == nil {
		return nil, nil
	}
	if len(main.Children) == 0 || strings.ToLower(main.Children[0].Value) != command.From && !onlyArgsBeforeFrom(main) {
		return nil, buildError("BuildError", fmt.Errorf("%s: the first instruction must be FROM (or ARG before FROM)", paths[0]), buildErrorDetails{File: paths[0]}, nil)
	}
	builder := imagebuilder.NewBuilder(args)
	stages, err := imagebuilder.NewStages(main, builder)
	if err != nil {
		return nil, buildError("BuildError", fmt.Errorf("reading stages: %w", err), buildErrorDetails{File: paths[0]}, nil)
	}
	if target != "" {
		through, ok := stages.ThroughTarget(target)
		if !ok {
			return nil, kindf("InvalidArgument", "the target %q was not found in the Containerfile", target)
		}
		stages = through
	}
	names := make([]string, len(stages))
	for i, stage := range stages {
		names[i] = stage.Name
	}
	if err := dryRun(stages, fileOf); err != nil {
		return nil, err
	}
	return names, nil
}

// dryRun evaluates every instruction of the stages that the build will
// run with Buildah's own dispatcher and an executor that does nothing, so
// that malformed instructions (ENV without a value, bad flags, ...) fail
// before the first step runs instead of in the middle of the build.
func dryRun(stages imagebuilder.Stages, fileOf map[*imagebuilderNode]string) error {
	needed := neededStages(stages)
	for i, stage := range stages {
		if !needed[i] {
			continue // skipped by the build, as Buildah skips unused stages
		}
		fail := func(node *imagebuilderNode, step int, err error) error {
			index := i
			details := buildErrorDetails{Stage: stage.Name, StageIndex: &index, Step: step, File: fileOf[node]}
			if node != nil {
				details.Instruction, details.Line = node.Original, node.StartLine
				err = fmt.Errorf("%s:%d: %s: %w", details.File, node.StartLine, node.Original, err)
			}
			return buildError("BuildError", err, details, nil)
		}
		ib := stage.Builder
		var from *imagebuilderNode
		if len(stage.Node.Children) > 0 {
			from = stage.Node.Children[0]
		}
		if _, err := ib.From(stage.Node); err != nil {
			return fail(from, 1, err)
		}
		for j, node := range stage.Node.Children {
			step := ib.Step()
			if err := step.Resolve(node); err != nil {
				return fail(node, j+2, err)
			}
			if err := ib.Run(step, imagebuilder.NoopExecutor, false); err != nil {
				return fail(node, j+2, err)
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
		for _, node := range stageNodes(stages, i) {
			var refs []string
			if strings.EqualFold(node.Value, command.From) && node.Next != nil {
				refs = append(refs, node.Next.Value)
			}
			for _, flag := range node.Flags {
				for _, field := range strings.FieldsFunc(flag, func(r rune) bool { return r == ',' || r == ' ' }) {
					field = strings.TrimLeft(field, "-")
					if strings.HasPrefix(field, "mount=") {
						field = strings.TrimPrefix(field, "mount=")
					}
					if ref, ok := strings.CutPrefix(field, "from="); ok {
						refs = append(refs, ref)
					}
				}
			}
			for _, ref := range refs {
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

func stageNodes(stages imagebuilder.Stages, i int) []*imagebuilderNode {
	return stages[i].Node.Children
}

// stageNameOf is the name a FROM line gives its stage: the AS name, or
// the stage's position.
func stageNameOf(from *imagebuilderNode, position int) string {
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
func onlyArgsBeforeFrom(root *imagebuilderNode) bool {
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
			return nil, withKind("ContextError", fmt.Errorf("no Containerfile or Dockerfile in the build context %s", contextDir))
		}
		return []string{found}, nil
	}
	out := make([]string, 0, len(given))
	for _, path := range given {
		candidates := []string{path}
		if !filepath.IsAbs(path) {
			candidates = []string{filepath.Join(contextDir, path)}
			if abs, err := filepath.Abs(path); err == nil {
				candidates = []string{abs, filepath.Join(contextDir, path)}
			}
		}
		var resolved string
		for _, candidate := range candidates {
			if info, err := os.Stat(candidate); err == nil {
				if info.IsDir() {
					return nil, kindf("ContextError", "Containerfile %s is a directory", candidate)
				}
				resolved = candidate
				break
			}
		}
		if resolved == "" {
			return nil, kindf("ContextError", "Containerfile %q not found (looked in the working directory and in the build context)", path)
		}
		out = append(out, resolved)
	}
	return out, nil
}

// PyBuildahBuild builds the Containerfiles in a context directory and
// returns the image ID.  It blocks until the build ends; log lines arrive
// meanwhile as events on the caller's stream.
//
//export PyBuildahBuild
func PyBuildahBuild(args *C.char) *C.char {
	return withState(args, func(st *storeState, o buildOptions) (any, error) {
		isolation, err := parseIsolation(o.Isolation)
		if err != nil {
			return nil, err
		}
		pull, err := parsePullPolicy(o.Pull)
		if err != nil {
			return nil, err
		}
		format, err := parseFormat(o.Format)
		if err != nil {
			return nil, err
		}
		if o.Jobs < 0 {
			return nil, kindf("InvalidArgument", "jobs must be a positive number, not %d", o.Jobs)
		}
		jobs := max(o.Jobs, 1)
		for _, tag := range o.Tags {
			if _, err := util.VerifyTagName(tag); err != nil {
				return nil, withKind("InvalidReference", fmt.Errorf("tag %q: %w", tag, err))
			}
		}
		if !filepath.IsAbs(o.Context) {
			return nil, kindf("InvalidArgument", "build context %q must be an absolute path", o.Context)
		}
		info, err := os.Stat(o.Context)
		if err != nil {
			return nil, kindf("ContextError", "build context %s does not exist", o.Context)
		}
		if !info.IsDir() {
			return nil, kindf("ContextError", "build context %s is not a directory", o.Context)
		}
		contextDir, err := filepath.EvalSymlinks(o.Context)
		if err != nil {
			return nil, withKind("ContextError", err)
		}
		containerfiles, err := resolveContainerfiles(contextDir, o.Containerfiles)
		if err != nil {
			return nil, err
		}
		stageNames, err := checkContainerfiles(containerfiles, o.BuildArgs, o.Target)
		if err != nil {
			return nil, err
		}
		conf, err := containersConf()
		if err != nil {
			return nil, err
		}

		// RUN steps read an empty pipe: end of file at once, as from
		// /dev/null, but private to this build, so that cancelling can
		// find exactly this build's processes.
		stdin, stdinWriter, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		stdinWriter.Close()
		defer stdin.Close()
		var stat unix.Stat_t
		if err := unix.Fstat(int(stdin.Fd()), &stat); err != nil {
			return nil, err
		}

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		run := &buildRun{cancel: cancel, stdinIno: stat.Ino, done: make(chan struct{})}
		registerBuild(o.BuildID, run)
		defer unregisterBuild(o.BuildID)
		defer close(run.done)

		// A signal that would end the process (Ctrl-C) stops the build
		// first; Python re-delivers it to its own handler afterwards.
		// The chroot runtime catches these signals during RUN steps
		// anyway, so without this a Ctrl-C would only end the command.
		signals := make(chan os.Signal, 1)
		for _, sig := range o.HoldSignals {
			switch s := syscall.Signal(sig); s {
			case syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP:
				signal.Notify(signals, s)
			}
		}
		defer signal.Stop(signals)
		go func() {
			select {
			case sig := <-signals:
				if s, ok := sig.(syscall.Signal); ok {
					run.stop(s)
				}
			case <-run.done:
			}
		}()

		log := &buildLog{stream: o.Stream}
		out, errOut, report := log.writer("stdout"), log.writer("stderr"), log.writer("report")
		var timestamp *time.Time
		if o.Timestamp != nil {
			t := unixTime(*o.Timestamp)
			timestamp = &t
		}
		sys := st.systemContext()
		options := define.BuildOptions{
			ContextDirectory: contextDir,
			PullPolicy:       pull,
			Isolation:        isolation,
			Args:             o.BuildArgs,
			Output:           firstOr(o.Tags, ""),
			AdditionalTags:   restOf(o.Tags),
			In:               stdin,
			Out:              out,
			Err:              errOut,
			ReportWriter:     report,
			OutputFormat:     format,
			SystemContext:    sys,
			ConfigureNetwork: define.NetworkDefault,
			CommonBuildOpts: &define.CommonBuildOptions{
				Ulimit:    runUlimits(conf),
				HTTPProxy: true,
				ShmSize:   conf.Containers.ShmSize,
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
		id, _, err := imagebuildah.BuildDockerfiles(ctx, st.store, options, containerfiles...)
		out.flush()
		errOut.flush()
		report.flush()
		if stopped, sig := run.state(); stopped {
			message := "build cancelled"
			if sig != 0 {
				message = fmt.Sprintf("build stopped by %s", unix.SignalName(sig))
			}
			if err == nil {
				// The build finished before the cancel took effect; the
				// image exists, but the caller asked to stop.
				message += " (the image was written before the build stopped)"
			}
			return nil, buildError("BuildCancelled", errors.New(message), buildErrorDetails{Signal: int(sig)}, nil)
		}
		if err != nil {
			return nil, attributeBuildError(err, log, stageNames)
		}
		return buildResult{ID: id}, nil
	})
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
