package containerfile

import (
	"bytes"
	"errors"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/events"
	"pybuildah.dev/shim/internal/wire"
)

// buildLog turns a build's Out, Err and ReportWriter into "log" events,
// one per line, and remembers the STEP lines for error attribution.  The
// writers are shared by parallel stages, hence the lock.
type buildLog struct {
	mu     sync.Mutex
	stream uint64
	steps  []stepLine
	// execFormat: a line said "exec format error" (a foreign RUN without an emulator)
	execFormat bool
}

type stepLine struct {
	stage   int // 0-based position in the build's stage list
	step    int
	message string
}

// stepPattern reads Buildah's own progress lines, "[i/n] STEP k/m: text".
var stepPattern = regexp.MustCompile(`^(?:\[(\d+)/\d+\] )?STEP (\d+)(?:/\d+)?: (.*)$`)

// parseStepLine recognises a STEP line of the build log.
func parseStepLine(text string) (stepLine, bool) {
	m := stepPattern.FindStringSubmatch(text)
	if m == nil {
		return stepLine{}, false
	}
	stage := 0
	if m[1] != "" {
		stage, _ = strconv.Atoi(m[1])
		stage--
	}
	step, _ := strconv.Atoi(m[2])
	return stepLine{stage: stage, step: step, message: m[3]}, true
}

func (l *buildLog) line(kind, text string) {
	if step, ok := parseStepLine(text); ok {
		l.steps = append(l.steps, step)
	}
	if errkind.ExecFormatLine(text) {
		l.execFormat = true
	}
	events.Emit(l.stream, "log", wire.LogLine{Kind: kind, Line: text})
}

func (l *buildLog) writer(kind string) *logWriter { return &logWriter{log: l, kind: kind} }

type logWriter struct {
	log     *buildLog
	kind    string
	pending []byte
}

func (w *logWriter) Write(p []byte) (int, error) {
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

func (w *logWriter) flush() {
	w.log.mu.Lock()
	defer w.log.mu.Unlock()
	if len(w.pending) > 0 {
		w.log.line(w.kind, string(w.pending))
		w.pending = nil
	}
}

func buildError(kind errkind.Kind, err error, details wire.BuildErrorDetails, exitCode *int) error {
	return &errkind.Error{Kind: kind, Err: err, ExitCode: exitCode, Details: details}
}

// attribute finds the instruction that failed: the error names the step's
// text, and the log says which stage and step number printed it.
func attribute(err error, steps []stepLine, stages []string) error {
	var details wire.BuildErrorDetails
	var found *stepLine
	for i := len(steps) - 1; i >= 0; i-- {
		if errkind.FailedStepIs(err, steps[i].message) {
			found = &steps[i]
			break
		}
	}
	named, hasStep := errkind.FailedStepText(err)
	if found == nil && len(steps) > 0 && !hasStep {
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
	} else if hasStep {
		details.Instruction = named
	}
	var exitCode *int
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		exitCode = &code
	} else if code, ok := errkind.ExitStatusText(err); ok {
		exitCode = &code
	}
	return buildError(errkind.BuildError, err, details, exitCode)
}

func (l *buildLog) stepLines() []stepLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]stepLine(nil), l.steps...)
}
