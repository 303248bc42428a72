package builder

import (
	"strings"

	"go.podman.io/buildah"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/validate"
	"pybuildah.dev/shim/internal/wire"
)

// Configure checks every change first, so that a bad one changes nothing,
// then applies them and saves the builder.
func Configure(s *State, c wire.ConfigChange) (any, error) {
	if err := CheckConfig(c); err != nil {
		return nil, err
	}
	applyConfig(s.Builder, c)
	return nil, s.explain(s.Builder.Save())
}

// SetCmd sets the default command (the design card's SetCmd export): a
// Configure of the one field, so the checks and errors are Configure's.
func SetCmd(s *State, o wire.SetCmdOptions) (any, error) {
	return Configure(s, o.Change())
}

// CheckConfig validates a change without touching any builder.
func CheckConfig(c wire.ConfigChange) error {
	for k := range c.Env {
		if err := validate.EnvName(k); err != nil {
			return err
		}
	}
	for k := range c.Labels {
		if err := validate.Name("label", k); err != nil {
			return err
		}
	}
	for k := range c.Annotations {
		if err := validate.Name("annotation", k); err != nil {
			return err
		}
	}
	for _, p := range c.Ports {
		if err := validate.Port(p); err != nil {
			return err
		}
	}
	for _, v := range c.Volumes {
		if !strings.HasPrefix(v, "/") {
			return errkind.New(errkind.InvalidArgument, "volume %q must be an absolute path", v)
		}
	}
	if c.StopSignal != nil {
		if err := validate.Signal(*c.StopSignal); err != nil {
			return err
		}
	}
	if c.User != nil {
		if err := validate.User(*c.User); err != nil {
			return err
		}
	}
	return nil
}

func applyMap(values map[string]*string, set func(k, v string), unset func(k string)) {
	for k, v := range values {
		if v == nil {
			unset(k)
		} else {
			set(k, *v)
		}
	}
}

func applyConfig(b *buildah.Builder, c wire.ConfigChange) {
	if c.Cmd != nil {
		b.SetCmd(*c.Cmd)
	}
	if c.Entrypoint != nil {
		b.SetEntrypoint(*c.Entrypoint)
	}
	applyMap(c.Env, b.SetEnv, b.UnsetEnv)
	applyMap(c.Labels, b.SetLabel, b.UnsetLabel)
	applyMap(c.Annotations, b.SetAnnotation, b.UnsetAnnotation)
	for _, p := range c.Ports {
		b.SetPort(p)
	}
	for _, v := range c.Volumes {
		b.AddVolume(v)
	}
	if c.Shell != nil {
		b.SetShell(*c.Shell)
	}
	for _, field := range []struct {
		value *string
		set   func(string)
	}{
		{c.User, b.SetUser}, {c.WorkDir, b.SetWorkDir}, {c.StopSignal, b.SetStopSignal},
		{c.Author, b.SetMaintainer}, {c.Architecture, b.SetArchitecture}, {c.OS, b.SetOS},
		{c.CreatedBy, b.SetCreatedBy}, {c.HistoryComment, b.SetHistoryComment},
	} {
		if field.value != nil {
			field.set(*field.value)
		}
	}
}

// Config reads the configuration the container will commit.
func Config(s *State, _ wire.BuilderRef) (wire.ContainerConfig, error) {
	b := s.Builder
	return wire.ContainerConfig{
		Cmd: b.Cmd(), Entrypoint: b.Entrypoint(), Env: b.Env(), Labels: b.Labels(),
		Annotations: b.Annotations(), Ports: b.Ports(), User: b.User(), WorkDir: b.WorkDir(),
		Volumes: b.Volumes(), Shell: b.Shell(), StopSignal: b.StopSignal(), Author: b.Maintainer(),
		Architecture: b.Architecture(), OS: b.OS(),
	}, nil
}
