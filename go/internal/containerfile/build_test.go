package containerfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/openshift/imagebuilder"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/wire"
)

func TestParseStepLine(t *testing.T) {
	cases := map[string]stepLine{
		"STEP 1/3: FROM busybox":          {stage: 0, step: 1, message: "FROM busybox"},
		"[2/3] STEP 4/5: RUN make":        {stage: 1, step: 4, message: "RUN make"},
		"STEP 2: COPY . /src":             {stage: 0, step: 2, message: "COPY . /src"},
		"[1/1] STEP 1/1: RUN echo a: b c": {stage: 0, step: 1, message: "RUN echo a: b c"},
	}
	for text, want := range cases {
		if got, ok := parseStepLine(text); !ok || got != want {
			t.Errorf("parseStepLine(%q) = %+v, %v", text, got, ok)
		}
	}
	for _, text := range []string{"COMMIT x", "Getting image source signatures", " STEP 1: x"} {
		if _, ok := parseStepLine(text); ok {
			t.Errorf("parseStepLine(%q) matched", text)
		}
	}
}

func details(t *testing.T, err error) (wire.BuildErrorDetails, *int) {
	t.Helper()
	var ke *errkind.Error
	if !errors.As(err, &ke) || ke.Kind != errkind.BuildError {
		t.Fatalf("not a BuildError: %v", err)
	}
	return ke.Details.(wire.BuildErrorDetails), ke.ExitCode
}

func TestAttribute(t *testing.T) {
	steps := []stepLine{
		{stage: 0, step: 1, message: "FROM busybox AS base"},
		{stage: 0, step: 2, message: "RUN false"},
		{stage: 1, step: 1, message: "FROM base"},
		{stage: 1, step: 2, message: "RUN false"},
	}
	stages := []string{"base", "1"}
	d, code := details(t, attribute(errors.New(`building at STEP "RUN false": exit status 3`), steps, stages))
	if d.Stage != "1" || *d.StageIndex != 1 || d.Step != 2 || d.Instruction != "RUN false" || code == nil || *code != 3 {
		t.Errorf("last matching step: %+v, %v", d, code)
	}
	// A failure outside any step (e.g. the commit) belongs to the last step printed.
	d, code = details(t, attribute(errors.New("committing: disk full"), steps, stages))
	if d.Step != 2 || *d.StageIndex != 1 || code != nil {
		t.Errorf("after the last step: %+v", d)
	}
	// A step the log never printed: the instruction comes from the message.
	d, _ = details(t, attribute(errors.New(`building at STEP "COPY x /": no such file`), steps, stages))
	if d.Instruction != "COPY x /" || d.StageIndex != nil {
		t.Errorf("unprinted step: %+v", d)
	}
}

func stagesOf(t *testing.T, containerfile string) imagebuilder.Stages {
	t.Helper()
	node, err := imagebuilder.ParseDockerfile(strings.NewReader(containerfile))
	if err != nil {
		t.Fatal(err)
	}
	stages, err := imagebuilder.NewStages(node, imagebuilder.NewBuilder(nil))
	if err != nil {
		t.Fatal(err)
	}
	return stages
}

func TestNeededStages(t *testing.T) {
	stages := stagesOf(t, `FROM busybox AS unused
RUN exit 1
FROM busybox AS tools
FROM busybox AS cache
FROM busybox AS base
FROM base AS app
COPY --from=tools /bin/x /x
RUN --mount=type=cache,from=cache,target=/c true
COPY --from=0 /y /y
FROM busybox AS final
COPY --from=app /x /x
`)
	got := neededStages(stages)
	want := map[int]bool{0: true, 1: true, 2: true, 3: true, 4: true, 5: true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("neededStages = %v", got)
	}
	got = neededStages(stagesOf(t, "FROM busybox AS a\nFROM busybox AS b\nRUN true\n"))
	if !reflect.DeepEqual(got, map[int]bool{1: true}) {
		t.Errorf("unused first stage: %v", got)
	}
}

func write(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckContainerfiles(t *testing.T) {
	dir := t.TempDir()
	good := write(t, dir, "good", "ARG BASE=busybox\nFROM $BASE AS one\nRUN true\nFROM one\nENV A=1\n")
	names, err := checkContainerfiles([]string{good}, nil, "")
	if err != nil || !reflect.DeepEqual(names, []string{"one", "1"}) {
		t.Errorf("good: %v, %v", names, err)
	}
	if names, err := checkContainerfiles([]string{good}, nil, "one"); err != nil || len(names) != 1 {
		t.Errorf("target: %v, %v", names, err)
	}
	if _, err := checkContainerfiles([]string{good}, nil, "nope"); errkind.Describe(err).Kind != errkind.InvalidArgument {
		t.Errorf("missing target: %v", err)
	}
	unknown := write(t, dir, "unknown", "FROM busybox AS x\nFROBNICATE now\n")
	_, err = checkContainerfiles([]string{unknown}, nil, "")
	if d, _ := details(t, err); d.Line != 2 || d.Stage != "x" || !strings.Contains(err.Error(), "unknown instruction FROBNICATE") {
		t.Errorf("unknown instruction: %+v %v", d, err)
	}
	envless := write(t, dir, "envless", "FROM busybox\nENV\n")
	if _, err := checkContainerfiles([]string{envless}, nil, ""); err == nil {
		t.Error("ENV without a value passed")
	}
	empty := write(t, dir, "empty", "\n")
	if _, err := checkContainerfiles([]string{empty}, nil, ""); err == nil || !strings.Contains(err.Error(), "no contents") {
		t.Errorf("empty: %v", err)
	}
}

func TestResolveContainerfiles(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "Dockerfile", "FROM scratch\n")
	if got, err := resolveContainerfiles(dir, nil); err != nil || got[0] != filepath.Join(dir, "Dockerfile") {
		t.Errorf("default: %v, %v", got, err)
	}
	for _, bad := range []string{"nope.Containerfile", dir} {
		_, err := resolveContainerfiles(dir, []string{bad})
		if errkind.Describe(err).Kind != errkind.ContextError {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if _, err := resolveContainerfiles(t.TempDir(), nil); errkind.Describe(err).Kind != errkind.ContextError {
		t.Errorf("none: %v", err)
	}
}

func TestCheckNames(t *testing.T) {
	for _, o := range []wire.BuildOptions{
		{BuildArgs: map[string]string{"": "x"}},
		{BuildArgs: map[string]string{"A=B": "x"}},
		{Labels: []string{"=x"}},
		{Annotations: []string{"novalue"}},
	} {
		if errkind.Describe(checkNames(o)).Kind != errkind.InvalidArgument {
			t.Errorf("checkNames(%+v) passed", o)
		}
	}
	if err := checkNames(wire.BuildOptions{Tags: []string{"Bad::Tag"}}); errkind.Describe(err).Kind != errkind.InvalidReference {
		t.Errorf("tag: %v", err)
	}
	if err := checkNames(wire.BuildOptions{Tags: []string{"x:1"}, BuildArgs: map[string]string{"A": "1"}, Labels: []string{"a=b=c"}}); err != nil {
		t.Error(err)
	}
}

func TestCancelledMessage(t *testing.T) {
	if err := cancelled(true); !strings.Contains(err.Error(), "written before") || errkind.Describe(err).Kind != errkind.BuildCancelled {
		t.Error(fmt.Sprint(err))
	}
}

func TestRunBasesFollowStagesAndSkipStagesWithoutRun(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Containerfile")
	text := "FROM docker.io/a:1 AS one\nFROM one\nRUN true\nFROM scratch\nRUN x\n" +
		"FROM --platform=linux/s390x b AS Payload\nCOPY x /x\nFROM c\nCOPY --from=payload /x /x\nRUN true\n" +
		"FROM $BASE\nRUN true\nFROM payload\nRUN true\n"
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	got := runBases([]string{file})
	if strings.Join(got, ",") != "docker.io/a:1,c,b" {
		t.Errorf("runBases = %q", got)
	}
}
