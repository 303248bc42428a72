package containerfile

import (
	"errors"

	"github.com/sirupsen/logrus"
	"go.podman.io/buildah"
	"go.podman.io/buildah/define"
	"go.podman.io/buildah/imagebuildah"
	"go.podman.io/storage"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/wire"
)

// setKeepFailed asks Buildah to keep the failing stage's working container
// (our patch: define.BuildOptions.KeepFailedContainer).  One build, one
// container: with several platforms each would fail on its own.
func setKeepFailed(options *define.BuildOptions, o wire.BuildOptions) error {
	if !o.KeepFailed {
		return nil
	}
	if len(o.Platforms) > 1 {
		return errkind.New(errkind.InvalidArgument, "keep_failed takes a build of one platform, not %d", len(o.Platforms))
	}
	options.KeepFailedContainer = true
	return nil
}

// keptContainer is the ID of the container a failed build kept, if any.
func keptContainer(err error) string {
	var failed *imagebuildah.FailedStageError
	if errors.As(err, &failed) {
		return failed.ContainerID
	}
	return ""
}

// withKept names the kept container in a BuildError's details.  An error
// of another kind (a registry's refusal) has no place for it, so the
// container is removed: nothing is left that the caller cannot find.
func withKept(store storage.Store, err error, id string) error {
	if id == "" {
		return err
	}
	var described *errkind.Error
	if errors.As(err, &described) && described.Kind == errkind.BuildError {
		if details, ok := described.Details.(wire.BuildErrorDetails); ok {
			details.Container = id
			described.Details = details
			return err
		}
	}
	removeKept(store, id)
	return err
}

// removeKept deletes a kept container that nobody will be told about (the
// build was cancelled, or failed in a way that has no place to name it).
func removeKept(store storage.Store, id string) {
	if id == "" {
		return
	}
	b, err := buildah.OpenBuilder(store, id)
	if err == nil {
		err = b.Delete()
	}
	if err != nil {
		logrus.Warnf("removing the failed build's container %s: %v", id, err)
	}
}
