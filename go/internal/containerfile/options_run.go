package containerfile

import (
	"fmt"
	"net"
	"strings"

	units "github.com/docker/go-units"
	"go.podman.io/buildah/define"

	"pybuildah.dev/shim/internal/enums"
	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/validate"
	"pybuildah.dev/shim/internal/volumes"
	"pybuildah.dev/shim/internal/wire"
)

// setRunOptions applies the options of buildah build that shape RUN steps
// (--network, --cap-add, --cap-drop, --volume, --ulimit, --add-host) and
// --env, each checked as the buildah CLI checks it.
func setRunOptions(options *define.BuildOptions, o wire.BuildOptions) error {
	namespaces, policy, err := enums.Network(o.Network)
	if err != nil {
		return err
	}
	if o.Network != "" {
		options.NamespaceOptions, options.ConfigureNetwork = namespaces, policy
	}
	options.AddCapabilities, options.DropCapabilities = o.CapAdd, o.CapDrop
	if _, err := volumes.Parse(o.Volumes); err != nil {
		return err
	}
	options.CommonBuildOpts.Volumes = o.Volumes
	for _, limit := range o.Ulimits {
		parsed, err := units.ParseUlimit(limit)
		if err != nil {
			return errkind.Wrap(errkind.InvalidArgument, fmt.Errorf("ulimits: %w", err))
		}
		if parsed.Soft < -1 || parsed.Hard < -1 { // -1 is unlimited; the kernel takes no other negative
			return errkind.New(errkind.InvalidArgument, "ulimits: %q: a limit is a number from 0, or -1 for unlimited", limit)
		}
	}
	// Later entries of a kind win, so the caller's come after the defaults.
	options.CommonBuildOpts.Ulimit = append(append([]string(nil), options.CommonBuildOpts.Ulimit...), o.Ulimits...)
	for _, host := range o.AddHosts {
		if err := checkExtraHost(host); err != nil {
			return err
		}
	}
	options.CommonBuildOpts.AddHost = o.AddHosts
	env, err := validate.Environment(o.Env)
	if err != nil {
		return err
	}
	options.Envs = env
	return nil
}

// checkExtraHost is --add-host's check: NAME:IP, or NAME:host-gateway.
func checkExtraHost(value string) error {
	name, address, ok := strings.Cut(value, ":")
	if !ok || name == "" {
		return errkind.New(errkind.InvalidArgument, "add_hosts: %q is not NAME:IP", value)
	}
	if address != "host-gateway" && net.ParseIP(strings.Trim(address, "[]")) == nil {
		return errkind.New(errkind.InvalidArgument, "add_hosts: invalid IP address %q for %s", address, name)
	}
	return nil
}
