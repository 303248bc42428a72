package containerfile

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.podman.io/buildah/define"
	"go.podman.io/buildah/pkg/rusage"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/reexec"
)

// TestMain lets storage re-exec this test binary to apply layers.
func TestMain(m *testing.M) {
	if reexec.Init() {
		return
	}
	os.Exit(m.Run())
}

// layerTar is an uncompressed layer holding one file.
func layerTar(t *testing.T, name, content string) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	if err := w.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

func TestStepRecorderAttributesLayersAndUsage(t *testing.T) {
	dir := t.TempDir()
	s, err := storage.GetStore(storage.StoreOptions{
		RunRoot: filepath.Join(dir, "run"), GraphRoot: filepath.Join(dir, "root"), GraphDriverName: "vfs",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = s.Shutdown(true) }()
	baseLayer, _, err := s.PutLayer("", "", nil, "", false, nil, layerTar(t, "base", "b"))
	if err != nil {
		t.Fatal(err)
	}
	runLayer, _, err := s.PutLayer("", baseLayer.ID, nil, "", false, nil, layerTar(t, "run", "made by RUN"))
	if err != nil {
		t.Fatal(err)
	}
	image := func(top string) string {
		img, err := s.CreateImage("", nil, top, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		return img.ID
	}
	base, afterRun, afterEnv := image(baseLayer.ID), image(runLayer.ID), image(runLayer.ID)

	r := newStepRecorder(s, 1)
	hook := r.hook()
	usage := rusage.Rusage{Elapsed: 1500 * time.Millisecond, Utime: time.Second, Stime: 250 * time.Millisecond,
		Inblock: 2, Outblock: 4}
	// Reported out of order, as parallel stages may: the result is sorted.
	hook(define.StepResult{Stage: 1, StageName: "1", Step: 1, Command: "from", Instruction: "FROM scratch"})
	hook(define.StepResult{Stage: 0, StageName: "build", Step: 1, Command: "from", Instruction: "FROM base", ImageID: base})
	hook(define.StepResult{Stage: 0, StageName: "build", Step: 2, Command: "run", Instruction: "RUN make",
		ImageID: afterRun, Usage: usage})
	hook(define.StepResult{Stage: 0, StageName: "build", Step: 3, Command: "env", Instruction: "ENV A=1",
		ImageID: afterEnv, CacheHit: true})
	hook(define.StepResult{Stage: 1, StageName: "1", Step: 2, Command: "copy", Instruction: "COPY --from=build / /",
		ImageID: "no-such-image"})

	steps := r.result()
	if len(steps) != 5 {
		t.Fatalf("%d steps", len(steps))
	}
	var order []string
	for _, step := range steps {
		order = append(order, step.Instruction)
	}
	if want := []string{"FROM base", "RUN make", "ENV A=1", "FROM scratch", "COPY --from=build / /"}; !slices.Equal(order, want) {
		t.Errorf("order %v", order)
	}
	from, run, env := steps[0], steps[1], steps[2]
	if from.LayerDigest != "" || from.LayerSize != nil || from.Image != base {
		t.Errorf("FROM claims the base's layer: %+v", from)
	}
	if run.LayerDigest != runLayer.UncompressedDigest.String() || run.LayerSize == nil ||
		*run.LayerSize != runLayer.UncompressedSize || run.Kind != "run" || run.Stage != "build" {
		t.Errorf("RUN record %+v, layer %s (%d bytes)", run, runLayer.UncompressedDigest, runLayer.UncompressedSize)
	}
	if run.Duration != 1.5 || run.UserTime != 1 || run.SystemTime != 0.25 || run.ReadBytes != 1024 || run.WrittenBytes != 2048 {
		t.Errorf("RUN usage %+v", run)
	}
	if env.LayerDigest != "" || !env.CacheHit {
		t.Errorf("an empty-layer step has a layer: %+v", env)
	}
	if steps[4].LayerDigest != "" || steps[4].StageIndex != 1 {
		t.Errorf("a step whose image is gone: %+v", steps[4])
	}
}

func TestStepRecorderOff(t *testing.T) {
	if r := newStepRecorder(nil, 2); r != nil || r.hook() != nil || r.result() != nil {
		t.Error("a multi-platform build records steps")
	}
	t.Setenv("PYBUILDAH_STEP_RECORDS", "off")
	if r := newStepRecorder(nil, 1); r != nil {
		t.Error("the internal switch does not turn records off")
	}
}

// BenchmarkStepRecorderAdd is the records' whole cost per step on the Go
// side: the store lookups of the step's image and layer, and the append.
func BenchmarkStepRecorderAdd(b *testing.B) {
	dir := b.TempDir()
	s, err := storage.GetStore(storage.StoreOptions{
		RunRoot: filepath.Join(dir, "run"), GraphRoot: filepath.Join(dir, "root"), GraphDriverName: "vfs",
	})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _, _ = s.Shutdown(true) }()
	var images []string
	parent := ""
	for i := range 30 { // a store with a 30-step build's intermediate images in it
		layer, err := s.CreateLayer("", parent, nil, "", false, nil)
		if err != nil {
			b.Fatal(err)
		}
		img, err := s.CreateImage("", []string{fmt.Sprintf("localhost/step:%d", i)}, layer.ID, "", nil)
		if err != nil {
			b.Fatal(err)
		}
		images, parent = append(images, img.ID), layer.ID
	}
	r := newStepRecorder(s, 1)
	b.ResetTimer()
	for i := range b.N {
		r.add(define.StepResult{Stage: 0, Step: i%len(images) + 2, Command: "run", Instruction: "RUN true",
			ImageID: images[i%len(images)]})
	}
}
