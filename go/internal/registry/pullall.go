package registry

import (
	"context"
	"errors"

	"go.podman.io/common/libimage"
	"go.podman.io/common/pkg/config"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/transports/alltransports"
	"go.podman.io/storage"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/images"
	"pybuildah.dev/shim/internal/store"
	"pybuildah.dev/shim/internal/sysctx"
)

// pullAll pulls every image of a registry's manifest list, one at a time
// (containers-storage takes one image per copy), and keeps the list under
// the reference's name, as a local manifest list of the pulled images.
// This machine's image comes first.  A single image is simply pulled.
// ctx is the call's: cancelling it stops the pull at any step.
func pullAll(ctx context.Context, st *store.State, reg *sysctx.Registry, runtime *libimage.Runtime, ref string,
	policy config.PullPolicy, options *libimage.PullOptions) ([]*libimage.Image, error) {
	name := ref
	if !images.HasTransportPrefix(name) {
		name = docker.Transport.Name() + "://" + name
	}
	parsed, err := alltransports.ParseImageName(name)
	if err != nil {
		return nil, errkind.Wrap(errkind.InvalidReference, err)
	}
	if parsed.Transport().Name() != docker.Transport.Name() {
		return nil, errkind.New(errkind.InvalidArgument, "all platforms are pulled from a registry (docker://), not from %s", parsed.Transport().Name())
	}
	src, err := parsed.NewImageSource(ctx, reg.Sys)
	if err != nil {
		return nil, err
	}
	raw, mimeType, err := image.UnparsedInstance(src, nil).Manifest(ctx)
	src.Close()
	if err != nil {
		return nil, err
	}
	if !manifest.MIMETypeIsMultiImage(mimeType) {
		return runtime.Pull(ctx, ref, policy, options)
	}
	remote, err := manifest.ListFromBlob(raw, mimeType)
	if err != nil {
		return nil, err
	}
	named := parsed.DockerReference()
	list, err := runtime.LookupManifestList(named.String())
	if errors.Is(err, storage.ErrImageUnknown) {
		list, err = runtime.CreateManifestList(named.String())
	}
	if err != nil {
		return nil, err
	}
	host, _ := remote.ChooseInstance(reg.Sys) // "" when no entry fits this machine
	var pulled []*libimage.Image
	for _, instance := range remote.Instances() {
		byDigest, err := reference.WithDigest(reference.TrimNamed(named), instance)
		if err != nil {
			return nil, err
		}
		got, err := runtime.Pull(ctx, docker.Transport.Name()+"://"+byDigest.String(), policy, options)
		if err != nil {
			return nil, err
		}
		for _, img := range got {
			local, err := images.StoreReference(st, img.ID())
			if err != nil {
				return nil, err
			}
			if _, err := list.Add(ctx, local, nil); err != nil {
				return nil, err
			}
		}
		if instance == host {
			pulled = append(got, pulled...)
		} else {
			pulled = append(pulled, got...)
		}
	}
	return pulled, nil
}
