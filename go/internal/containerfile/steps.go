package containerfile

import (
	"os"
	"sort"
	"sync"

	"go.podman.io/buildah/define"
	"go.podman.io/storage"

	"pybuildah.dev/shim/internal/wire"
)

// blockSize is the unit of getrusage's block counts (ru_inblock, ru_oublock).
const blockSize = 512

// stepRecorder collects what Buildah reports of each step through
// BuildOptions.StepResults (patches/buildah-imagebuildah-step-results.patch)
// as wire.BuildStep records.  A step's layer is read from the store while
// Buildah waits for the hook: a build without layers removes its
// intermediate images before it returns.  Parallel stages call add at once.
type stepRecorder struct {
	store storage.Store
	mu    sync.Mutex
	steps []wire.BuildStep
	top   map[int]string // stage -> top layer of the image the stage last went on from
}

// newStepRecorder returns a recorder, or nil when the build makes several
// images (one per platform) whose stages would mix, or when the internal
// switch PYBUILDAH_STEP_RECORDS=off (for bench/bench_steps_records.py) is set.
func newStepRecorder(s storage.Store, platforms int) *stepRecorder {
	if platforms > 1 || os.Getenv("PYBUILDAH_STEP_RECORDS") == "off" {
		return nil
	}
	return &stepRecorder{store: s, top: map[int]string{}}
}

// hook is the BuildOptions.StepResults callback; nil for a nil recorder.
func (r *stepRecorder) hook() func(define.StepResult) {
	if r == nil {
		return nil
	}
	return r.add
}

func (r *stepRecorder) add(res define.StepResult) {
	step := wire.BuildStep{
		Stage: res.StageName, StageIndex: res.Stage, Step: res.Step, Kind: res.Command,
		Instruction: res.Instruction, CacheHit: res.CacheHit, Image: res.ImageID,
		Duration:     res.Usage.Elapsed.Seconds(),
		UserTime:     res.Usage.Utime.Seconds(),
		SystemTime:   res.Usage.Stime.Seconds(),
		ReadBytes:    res.Usage.Inblock * blockSize,
		WrittenBytes: res.Usage.Outblock * blockSize,
	}
	top := r.topLayer(res.ImageID)
	r.mu.Lock()
	defer r.mu.Unlock()
	if res.ImageID != "" {
		if res.Step > 1 && top != "" && top != r.top[res.Stage] {
			step.LayerDigest, step.LayerSize = r.layer(top)
		}
		r.top[res.Stage] = top
	}
	r.steps = append(r.steps, step)
}

// topLayer is the ID of an image's top layer ("" for none, or no such image).
func (r *stepRecorder) topLayer(imageID string) string {
	if imageID == "" {
		return ""
	}
	img, err := r.store.Image(imageID)
	if err != nil {
		return ""
	}
	return img.TopLayer
}

// layer is a layer's diff ID and uncompressed size, as the store knows them.
func (r *stepRecorder) layer(id string) (string, *int64) {
	layer, err := r.store.Layer(id)
	if err != nil || layer.UncompressedDigest == "" {
		return "", nil
	}
	size := layer.UncompressedSize
	if size < 0 {
		return layer.UncompressedDigest.String(), nil
	}
	return layer.UncompressedDigest.String(), &size
}

// result is the records in stage order, then step order; nil for a nil recorder.
func (r *stepRecorder) result() []wire.BuildStep {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]wire.BuildStep(nil), r.steps...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].StageIndex != out[j].StageIndex {
			return out[i].StageIndex < out[j].StageIndex
		}
		return out[i].Step < out[j].Step
	})
	return out
}
