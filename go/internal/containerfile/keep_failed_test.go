package containerfile

import (
	"errors"
	"fmt"
	"testing"

	"go.podman.io/buildah/define"
	"go.podman.io/buildah/imagebuildah"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/wire"
)

func TestSetKeepFailedAsksBuildahForOnePlatformOnly(t *testing.T) {
	var options define.BuildOptions
	if err := setKeepFailed(&options, wire.BuildOptions{}); err != nil || options.KeepFailedContainer {
		t.Fatalf("without keep_failed: %v, %v", err, options.KeepFailedContainer)
	}
	if err := setKeepFailed(&options, wire.BuildOptions{KeepFailed: true, Platforms: []string{"linux/amd64"}}); err != nil || !options.KeepFailedContainer {
		t.Fatalf("one platform: %v, %v", err, options.KeepFailedContainer)
	}
	err := setKeepFailed(&define.BuildOptions{}, wire.BuildOptions{KeepFailed: true, Platforms: []string{"linux/amd64", "linux/arm64"}})
	var described *errkind.Error
	if !errors.As(err, &described) || described.Kind != errkind.InvalidArgument {
		t.Fatalf("two platforms: want InvalidArgument, got %v", err)
	}
}

func TestTheKeptContainerIsFoundThroughBuildahsWrappingAndNamedInTheDetails(t *testing.T) {
	step := errors.New("building at STEP \"RUN false\": exit status 1")
	kept := fmt.Errorf("cleanup: %w", &imagebuildah.FailedStageError{Err: step, ContainerID: "abc123"})
	if got := keptContainer(kept); got != "abc123" {
		t.Fatalf("keptContainer = %q", got)
	}
	if got := keptContainer(step); got != "" {
		t.Fatalf("keptContainer of a plain error = %q", got)
	}
	if kept.Error() != "cleanup: "+step.Error() {
		t.Fatalf("the error's text changed: %q", kept.Error())
	}
	failed := attribute(kept, []stepLine{{stage: 0, step: 2, message: "RUN false"}}, []string{"0"})
	details := withKept(nil, failed, "abc123").(*errkind.Error).Details.(wire.BuildErrorDetails)
	if details.Container != "abc123" || details.Step != 2 {
		t.Fatalf("details = %+v", details)
	}
}
