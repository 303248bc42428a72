package imagebuildah

// Added to a build-time copy of Buildah by pybuildah (go/build.py; the hooks
// are in patches/buildah-imagebuildah-keep-failed.patch): a build asked to
// (define.BuildOptions.KeepFailedContainer) keeps the working container of
// the stage that failed, for debugging, and says which one it is.

import (
	"context"
	"strings"

	"go.podman.io/buildah/copier"
)

// FailedStageError is a failed build whose failing stage's working container
// was kept: ContainerID names it, with the configuration the failing step saw
// (environment, working directory, user, shell).  Its text is Err's.
type FailedStageError struct {
	Err         error
	Stage       string
	ContainerID string
}

func (e *FailedStageError) Error() string { return e.Err.Error() }

func (e *FailedStageError) Unwrap() error { return e.Err }

// keepFailedStage is buildStage's error path: with KeepFailedContainer, the
// first stage to fail (not one stopped by a cancelled build) keeps its
// container, unmounted, out of the clean-up, and err says which.
func (b *executor) keepFailedStage(ctx context.Context, cleanupStages map[int]*stageExecutor, s *stageExecutor, err error) error {
	if !b.keepFailedContainer || s.builder == nil || ctx.Err() != nil {
		return err
	}
	b.stagesLock.Lock()
	defer b.stagesLock.Unlock()
	if b.keptFailedContainer {
		return err
	}
	b.keptFailedContainer = true
	delete(cleanupStages, s.stage.Position)
	kept := s.builder
	s.builder = nil // Delete() is now a no-op for this stage
	copier.CloseRoot(s.mountPoint)
	if config := s.stage.Builder.Config(); config != nil {
		kept.ClearEnv()
		for _, spec := range config.Env {
			key, value, _ := strings.Cut(spec, "=")
			kept.SetEnv(key, value)
		}
		kept.SetWorkDir(config.WorkingDir)
		kept.SetUser(config.User)
		kept.SetShell(config.Shell)
	}
	if saveErr := kept.Save(); saveErr != nil {
		b.logger.Debugf("saving the failed stage's container configuration: %v", saveErr)
	}
	if unmountErr := kept.Unmount(); unmountErr != nil {
		b.logger.Debugf("unmounting the failed stage's container: %v", unmountErr)
	}
	return &FailedStageError{Err: err, Stage: s.stage.Name, ContainerID: kept.ContainerID}
}
