package main

// The exports: each decodes its options, calls one internal function and
// encodes the result (call, withStore and withBuilder in ffi.go).

/*
#include "events.h"
*/
import "C"

import (
	"runtime"
	"runtime/debug"
	"unsafe"

	"go.podman.io/buildah/define"

	"pybuildah.dev/shim/internal/attach"
	"pybuildah.dev/shim/internal/builder"
	"pybuildah.dev/shim/internal/containerfile"
	"pybuildah.dev/shim/internal/environ"
	"pybuildah.dev/shim/internal/handle"
	"pybuildah.dev/shim/internal/images"
	"pybuildah.dev/shim/internal/interrupt"
	"pybuildah.dev/shim/internal/manifests"
	"pybuildah.dev/shim/internal/reexecinit"
	"pybuildah.dev/shim/internal/registry"
	"pybuildah.dev/shim/internal/signing"
	"pybuildah.dev/shim/internal/store"
	"pybuildah.dev/shim/internal/userns"
	"pybuildah.dev/shim/internal/wire"
)

// requests names the options type each JSON export decodes, so that
// PyBuildahContract can publish the fields every request takes (and Python
// can hold its calls to them).  exports_test.go checks that every
// //export below has an entry; Python's contract test sends each export
// an unknown field and checks that the fields Go names are these.
var requests = map[string]any{
	"InitReexec":       wire.InitOptions{},
	"RuntimeDir":       wire.None{},
	"ReleaseHandle":    wire.HandleRef{},
	"Contract":         wire.None{},
	"Version":          wire.None{},
	"SyncEnv":          wire.SyncEnvOptions{},
	"StoreOpen":        wire.StoreOptions{},
	"NewBuilder":       wire.NewBuilderOptions{},
	"OpenBuilder":      wire.OpenBuilderOptions{},
	"ListContainers":   wire.ListOptions{},
	"Add":              wire.AddOptions{},
	"Configure":        wire.ConfigChange{},
	"SetCmd":           wire.SetCmdOptions{},
	"GetConfig":        wire.BuilderRef{},
	"Diff":             wire.DiffOptions{},
	"Shell":            wire.ShellOptions{},
	"StepLookup":       wire.StepOptions{},
	"StepSave":         wire.StepSaveOptions{},
	"StepAdopt":        wire.StepAdoptOptions{},
	"Rebase":           wire.RebaseOptions{},
	"Run":              wire.RunOptions{},
	"Mount":            wire.BuilderRef{},
	"Unmount":          wire.BuilderRef{},
	"DeleteBuilder":    wire.BuilderRef{},
	"Commit":           wire.CommitOptions{},
	"InspectImage":     wire.InspectOptions{},
	"ListImages":       wire.ListOptions{},
	"Prune":            wire.StoreRef{},
	"InspectBuildInfo": wire.InspectOptions{},
	"TagImage":         wire.TagOptions{},
	"UntagImage":       wire.TagOptions{},
	"RemoveImage":      wire.RemoveOptions{},
	"SaveImage":        wire.SaveOptions{},
	"LoadImage":        wire.LoadOptions{},
	"Pull":             wire.PullOptions{},
	"Push":             wire.PushOptions{},
	"Login":            wire.LoginOptions{},
	"Logout":           wire.LogoutOptions{},
	"Build":            wire.BuildOptions{},
	"Cancel":           wire.CancelOptions{},
	"ManifestCreate":   wire.ManifestOptions{},
	"ManifestAdd":      wire.ManifestAddOptions{},
	"ManifestAnnotate": wire.ManifestAnnotateOptions{},
	"ManifestRemove":   wire.ManifestRemoveOptions{},
	"ManifestInspect":  wire.ManifestInspectOptions{},
	"ManifestPush":     wire.ManifestPushOptions{},
	"ManifestDelete":   wire.ManifestOptions{},
	"FlushBuilder":     wire.BuilderRef{},

	"GenerateSigstoreKeyPair": wire.KeyPairOptions{},
	"ImageAttachment":         wire.AttachmentOptions{},
	"AttachPush":              wire.AttachPushOptions{},
	"Referrers":               wire.ReferrersOptions{},
	"FetchAttachment":         wire.FetchAttachmentOptions{},
}

//export PyBuildahFree
func PyBuildahFree(p *C.char) { C.free(unsafe.Pointer(p)) }

//export PyBuildahSetEventSink
func PyBuildahSetEventSink(fn C.pybuildah_event_fn) { C.pybuildah_set_sink(fn) }

//export PyBuildahInitReexec
func PyBuildahInitReexec(args *C.char) *C.char { return call(args, reexecinit.Init) }

//export PyBuildahRuntimeDir
func PyBuildahRuntimeDir(args *C.char) *C.char { return call(args, userns.RuntimeDir) }

//export PyBuildahReleaseHandle
func PyBuildahReleaseHandle(args *C.char) *C.char {
	return call(args, func(o wire.HandleRef) (any, error) { handle.Release(o.Handle); return nil, nil })
}

//export PyBuildahContract
func PyBuildahContract(args *C.char) *C.char {
	return call(args, func(wire.None) (wire.Contract, error) { return wire.NewContract(requests), nil })
}

//export PyBuildahVersion
func PyBuildahVersion(args *C.char) *C.char {
	return call(args, func(wire.None) (wire.Version, error) {
		return wire.Version{Buildah: define.Version, Go: runtime.Version(), Storage: moduleVersion("go.podman.io/storage")}, nil
	})
}

// moduleVersion is the version of a module linked in, "" if unknown.
func moduleVersion(path string) string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == path {
				return dep.Version
			}
		}
	}
	return ""
}

//export PyBuildahSyncEnv
func PyBuildahSyncEnv(args *C.char) *C.char { return call(args, environ.Sync) }

//export PyBuildahStoreOpen
func PyBuildahStoreOpen(args *C.char) *C.char { return call(args, store.Open) }

//export PyBuildahNewBuilder
func PyBuildahNewBuilder(args *C.char) *C.char { return withStore(args, builder.New) }

//export PyBuildahOpenBuilder
func PyBuildahOpenBuilder(args *C.char) *C.char { return withStore(args, builder.Open) }

//export PyBuildahListContainers
func PyBuildahListContainers(args *C.char) *C.char { return withStore(args, builder.List) }

//export PyBuildahAdd
func PyBuildahAdd(args *C.char) *C.char { return withBuilder(args, builder.Add) }

//export PyBuildahConfigure
func PyBuildahConfigure(args *C.char) *C.char { return withBuilder(args, builder.Configure) }

//export PyBuildahSetCmd
func PyBuildahSetCmd(args *C.char) *C.char { return withBuilder(args, builder.SetCmd) }

//export PyBuildahGetConfig
func PyBuildahGetConfig(args *C.char) *C.char { return withBuilder(args, builder.Config) }

//export PyBuildahDiff
func PyBuildahDiff(args *C.char) *C.char { return withBuilder(args, builder.Diff) }

//export PyBuildahShell
func PyBuildahShell(args *C.char) *C.char { return withBuilder(args, builder.Shell) }

//export PyBuildahRun
func PyBuildahRun(args *C.char) *C.char { return withBuilder(args, builder.Run) }

//export PyBuildahStepLookup
func PyBuildahStepLookup(args *C.char) *C.char { return withBuilder(args, builder.StepLookup) }

//export PyBuildahStepSave
func PyBuildahStepSave(args *C.char) *C.char { return withBuilder(args, builder.StepSave) }

//export PyBuildahStepAdopt
func PyBuildahStepAdopt(args *C.char) *C.char { return withBuilder(args, builder.StepAdopt) }

//export PyBuildahRebase
func PyBuildahRebase(args *C.char) *C.char { return withBuilder(args, builder.Rebase) }

//export PyBuildahMount
func PyBuildahMount(args *C.char) *C.char { return withBuilder(args, builder.Mount) }

//export PyBuildahUnmount
func PyBuildahUnmount(args *C.char) *C.char { return withBuilder(args, builder.Unmount) }

//export PyBuildahDeleteBuilder
func PyBuildahDeleteBuilder(args *C.char) *C.char { return withBuilder(args, builder.Delete) }

//export PyBuildahCommit
func PyBuildahCommit(args *C.char) *C.char { return withBuilder(args, builder.Commit) }

//export PyBuildahInspectImage
func PyBuildahInspectImage(args *C.char) *C.char { return withStore(args, images.Inspect) }

//export PyBuildahListImages
func PyBuildahListImages(args *C.char) *C.char { return withStore(args, images.List) }

//export PyBuildahPrune
func PyBuildahPrune(args *C.char) *C.char { return withStore(args, builder.Prune) }

//export PyBuildahInspectBuildInfo
func PyBuildahInspectBuildInfo(args *C.char) *C.char { return withStore(args, images.BuildInfo) }

//export PyBuildahTagImage
func PyBuildahTagImage(args *C.char) *C.char { return withStore(args, images.Tag) }

//export PyBuildahUntagImage
func PyBuildahUntagImage(args *C.char) *C.char { return withStore(args, images.Untag) }

//export PyBuildahRemoveImage
func PyBuildahRemoveImage(args *C.char) *C.char { return withStore(args, images.Remove) }

//export PyBuildahSaveImage
func PyBuildahSaveImage(args *C.char) *C.char { return withStore(args, images.Save) }

//export PyBuildahLoadImage
func PyBuildahLoadImage(args *C.char) *C.char { return withStore(args, images.Load) }

//export PyBuildahPull
func PyBuildahPull(args *C.char) *C.char { return withStore(args, registry.Pull) }

//export PyBuildahPush
func PyBuildahPush(args *C.char) *C.char { return withStore(args, registry.Push) }

//export PyBuildahLogin
func PyBuildahLogin(args *C.char) *C.char { return call(args, registry.Login) }

//export PyBuildahLogout
func PyBuildahLogout(args *C.char) *C.char { return call(args, registry.Logout) }

//export PyBuildahBuild
func PyBuildahBuild(args *C.char) *C.char { return withStore(args, containerfile.Build) }

//export PyBuildahCancel
func PyBuildahCancel(args *C.char) *C.char { return call(args, interrupt.CancelCall) }

//export PyBuildahManifestCreate
func PyBuildahManifestCreate(args *C.char) *C.char { return withStore(args, manifests.Create) }

//export PyBuildahManifestAdd
func PyBuildahManifestAdd(args *C.char) *C.char { return withStore(args, manifests.Add) }

//export PyBuildahManifestAnnotate
func PyBuildahManifestAnnotate(args *C.char) *C.char { return withStore(args, manifests.Annotate) }

//export PyBuildahManifestRemove
func PyBuildahManifestRemove(args *C.char) *C.char { return withStore(args, manifests.Remove) }

//export PyBuildahManifestInspect
func PyBuildahManifestInspect(args *C.char) *C.char { return withStore(args, manifests.Inspect) }

//export PyBuildahManifestPush
func PyBuildahManifestPush(args *C.char) *C.char { return withStore(args, registry.PushList) }

//export PyBuildahManifestDelete
func PyBuildahManifestDelete(args *C.char) *C.char { return withStore(args, manifests.Delete) }

//export PyBuildahGenerateSigstoreKeyPair
func PyBuildahGenerateSigstoreKeyPair(args *C.char) *C.char {
	return call(args, signing.GenerateKeyPair)
}

//export PyBuildahImageAttachment
func PyBuildahImageAttachment(args *C.char) *C.char { return withStore(args, attach.Stored) }

//export PyBuildahAttachPush
func PyBuildahAttachPush(args *C.char) *C.char { return withStore(args, attach.Push) }

//export PyBuildahReferrers
func PyBuildahReferrers(args *C.char) *C.char { return withStore(args, attach.List) }

//export PyBuildahFetchAttachment
func PyBuildahFetchAttachment(args *C.char) *C.char { return withStore(args, attach.Fetch) }

//export PyBuildahFlushBuilder
func PyBuildahFlushBuilder(args *C.char) *C.char { return withBuilder(args, builder.Flush) }
