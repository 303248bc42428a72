// Package registry pulls, pushes, logs in and out.  Credentials arrive in
// the call's options (sysctx.ForRegistry), never on a command line, and
// every error that leaves a call that carried a password is scrubbed of it.
package registry

import (
	"errors"
	"io"
	"strings"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/common/libimage"
	"go.podman.io/common/pkg/auth"
	imageCopy "go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/signature/signer"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"

	"pybuildah.dev/shim/internal/enums"
	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/events"
	"pybuildah.dev/shim/internal/images"
	"pybuildah.dev/shim/internal/interrupt"
	"pybuildah.dev/shim/internal/manifests"
	"pybuildah.dev/shim/internal/platform"
	"pybuildah.dev/shim/internal/signing"
	"pybuildah.dev/shim/internal/store"
	"pybuildah.dev/shim/internal/sysctx"
	"pybuildah.dev/shim/internal/validate"
	"pybuildah.dev/shim/internal/wire"
)

// Pull copies an image from a registry or an archive into the store and
// returns what it pulled (several images with all_tags).
func Pull(st *store.State, o wire.PullOptions) ([]*wire.ImageInfo, error) {
	if o.Ref == "" {
		return nil, errkind.New(errkind.InvalidReference, "an image reference is required")
	}
	policy, err := enums.ParsePullPolicy(o.Policy, enums.PullAlways)
	if err != nil {
		return nil, err
	}
	target, err := platform.Parse(o.Platform)
	if err != nil {
		return nil, err
	}
	if o.AllPlatforms && target.OS != "" {
		return nil, errkind.New(errkind.InvalidArgument, "give a platform or all platforms, not both")
	}
	reg, err := sysctx.ForRegistry(st.SystemContext(), o.RegistryOptions)
	if err != nil {
		return nil, err
	}
	t, err := begin(st, reg, o.CallID(), o.Stream)
	if err != nil {
		return nil, err
	}
	defer t.end()
	options := &libimage.PullOptions{AllTags: o.AllTags}
	options.OS, options.Architecture, options.Variant = target.OS, target.Architecture, target.Variant
	options.Progress = t.progress
	options.MaxRetries = reg.Retries
	var pulled []*libimage.Image
	if o.AllPlatforms {
		pulled, err = pullAll(t.call.Context(), st, reg, t.runtime, o.Ref, policy.Libimage(), options)
	} else {
		pulled, err = t.runtime.Pull(t.call.Context(), o.Ref, policy.Libimage(), options)
	}
	t.stopProgress()
	if err != nil {
		return nil, errkind.Redact(errkind.Image(o.Ref, err), reg.Secrets())
	}
	out := make([]*wire.ImageInfo, 0, len(pulled))
	for _, img := range pulled {
		stored, err := st.Store.Image(img.ID())
		if err != nil {
			return nil, err
		}
		info, err := images.InspectStored(st, stored)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// Push copies an image from the store to a registry or any other transport
// and returns the digest of the manifest it wrote.  A manifest list is
// pushed with the same options (format, compression, progress) as buildah
// manifest push [--all] does: every image it lists unless o.All is false.
func Push(st *store.State, o wire.PushOptions) (*wire.PushResult, error) {
	return push(st, o, false)
}

// PushList pushes a manifest list (ManifestPush): Push's one path, for a
// name that must be a list.
func PushList(st *store.State, o wire.ManifestPushOptions) (*wire.PushResult, error) {
	all := o.All
	return push(st, wire.PushOptions{StoreRef: o.StoreRef, CallRef: o.CallRef, RegistryOptions: o.RegistryOptions,
		Image: o.List, Dest: o.Dest, Format: o.Format, Compression: o.Compression, Level: o.Level,
		ForceCompression: o.ForceCompression, All: &all, Signing: o.Signing}, true)
}

func push(st *store.State, o wire.PushOptions, listOnly bool) (*wire.PushResult, error) {
	options, reg, err := pushOptions(st, o)
	if err != nil {
		return nil, err
	}
	signers, passphrase, err := signing.Signers(o.Signing) // a missing key or a wrong passphrase fails before anything is sent
	if err != nil {
		return nil, errkind.Redact(err, passphrase)
	}
	defer closeSigners(signers)
	options.Signers, options.SignBy, options.SignPassphrase = signers, o.SignBy, stringOr(o.SignPassphrase)
	secrets := append(reg.Secrets(), passphrase...)
	var img *storage.Image
	if !listOnly {
		if img, err = images.ResolveLocal(st, o.Image); err != nil {
			return nil, err
		}
	}
	t, err := begin(st, reg, o.CallID(), o.Stream)
	if err != nil {
		return nil, err
	}
	defer t.end()
	options.Progress = t.progress
	var pushed digest.Digest
	switch {
	case listOnly:
		pushed, err = pushList(t, o.Image, o.All, o.Dest, options)
	case images.IsList(st, img):
		pushed, err = pushList(t, img.ID, o.All, o.Dest, options) // the list found (name@digest included)
	default:
		source := o.Image
		if strings.HasPrefix(source, "containers-storage:") || strings.Contains(source, "@") {
			source = img.ID // the image found (name@digest included)
		}
		var manifestBytes []byte
		if manifestBytes, err = t.runtime.Push(t.call.Context(), source, o.Dest, options); err == nil {
			pushed, err = manifest.Digest(manifestBytes)
		}
	}
	t.stopProgress()
	if err != nil && len(signers) > 0 && errkind.AttachmentsDisabledText(err) {
		err = errkind.New(errkind.InvalidArgument, "%v: the image was pushed without its signature; "+
			"registries.d must set \"use-sigstore-attachments: true\" for this registry (the host's registries.d "+
			"files apply; pybuildah's default enables it only where the host has none)", err)
	}
	if err != nil {
		return nil, errkind.Redact(errkind.Image(o.Dest, err), secrets)
	}
	return &wire.PushResult{Digest: pushed.String(), Dest: o.Dest}, nil
}

func closeSigners(signers []*signer.Signer) {
	for _, s := range signers {
		s.Close()
	}
}

func stringOr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// pushList pushes the list named name and, unless all is false, every
// image it lists; otherwise only this machine's.
func pushList(t *transfer, name string, all *bool, dest string, options *libimage.PushOptions) (digest.Digest, error) {
	list, err := manifests.Lookup(t.runtime, name)
	if err != nil {
		return "", err
	}
	selection := imageCopy.CopyAllImages
	if all != nil && !*all {
		selection = imageCopy.CopySystemImage
	}
	return list.Push(t.call.Context(), dest, &libimage.ManifestListPushOptions{
		CopyOptions: options.CopyOptions, ImageListSelection: selection,
	})
}

// transfer is what a pull or a push sets up before it copies: the image
// runtime with the call's registry options, the interruptible call, and the
// progress events of a stream (none without one).
type transfer struct {
	runtime      *libimage.Runtime
	call         *interrupt.Call
	progress     chan types.ProgressProperties
	stopProgress func() // flushes the progress events; safe to call again
}

// begin sets up a transfer; the caller defers its end.
func begin(st *store.State, reg *sysctx.Registry, callID, stream uint64) (*transfer, error) {
	runtime, err := images.Runtime(st, reg.Sys)
	if err != nil {
		return nil, err
	}
	call, err := interrupt.Begin(callID)
	if err != nil {
		return nil, err
	}
	progress, stop := events.Progress(stream)
	return &transfer{runtime: runtime, call: call, progress: progress, stopProgress: stop}, nil
}

// end stops the progress events, then ends the call.
func (t *transfer) end() {
	t.stopProgress()
	t.call.End()
}

// pushOptions checks a push's options before anything is read or sent.
func pushOptions(st *store.State, o wire.PushOptions) (*libimage.PushOptions, *sysctx.Registry, error) {
	if o.Dest == "" {
		return nil, nil, errkind.New(errkind.InvalidReference, "a destination is required")
	}
	if err := validate.Destination(o.Dest); err != nil {
		return nil, nil, err
	}
	format, err := enums.ParseFormat(o.Format)
	if err != nil {
		return nil, nil, err
	}
	compression, err := enums.ParseCompression(o.Compression)
	if err != nil {
		return nil, nil, err
	}
	if err := compression.CheckLevel(o.Level); err != nil {
		return nil, nil, err
	}
	force, err := compression.Force(o.ForceCompression)
	if err != nil {
		return nil, nil, err
	}
	reg, err := sysctx.ForRegistry(st.SystemContext(), o.RegistryOptions)
	if err != nil {
		return nil, nil, err
	}
	options := &libimage.PushOptions{}
	options.PolicyAllowStorage = true
	options.MaxRetries = reg.Retries
	options.ManifestMIMEType = string(format)
	options.CompressionFormat = compression.Algorithm()
	options.ForceCompressionFormat = force
	options.CompressionLevel = o.Level
	return options, reg, nil
}

// Login checks the credentials against the registry and, when it accepts
// them, stores them in the auth file (written with mode 0600).
func Login(o wire.LoginOptions) (any, error) {
	st, err := store.Optional(o.Store)
	if err != nil {
		return nil, err
	}
	if o.Registry == "" {
		return nil, errkind.New(errkind.InvalidArgument, "a registry to log in to is required")
	}
	reg, err := sysctx.ForRegistry(st.SystemContext(), o.RegistryOptions)
	if err != nil {
		return nil, err
	}
	if reg.User == "" || reg.Password == "" {
		return nil, errkind.New(errkind.InvalidArgument, "login needs a user name and a password")
	}
	call, err := interrupt.Begin(o.CallID())
	if err != nil {
		return nil, err
	}
	defer call.End()
	err = auth.Login(call.Context(), reg.ForLogin(), &auth.LoginOptions{
		AuthFile: o.AuthFile,
		CertDir:  o.CertDir,
		Username: reg.User,
		Password: reg.Password,
		Stdin:    strings.NewReader(""),
		Stdout:   io.Discard,
	}, []string{o.Registry})
	var invalid auth.ErrNewCredentialsInvalid
	if errors.As(err, &invalid) {
		err = errkind.Wrap(errkind.AuthenticationError, err)
	}
	return nil, errkind.Redact(err, reg.Secrets())
}

// Logout removes stored credentials; false when there were none.
func Logout(o wire.LogoutOptions) (bool, error) {
	st, err := store.Optional(o.Store)
	if err != nil {
		return false, err
	}
	if o.Registry == "" && !o.All {
		return false, errkind.New(errkind.InvalidArgument, "a registry to log out from is required (or all)")
	}
	var registries []string
	if !o.All {
		registries = []string{o.Registry}
	}
	err = auth.Logout(st.Sys(), &auth.LogoutOptions{AuthFile: o.AuthFile, All: o.All, Stdout: io.Discard}, registries)
	if err != nil && errkind.NotLoggedIn(err) {
		return false, nil
	}
	return err == nil, err
}
