package builder

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/mattn/go-shellwords"
	"go.podman.io/buildah"
	"go.podman.io/buildah/docker"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/validate"
	"pybuildah.dev/shim/internal/wire"
)

// Configure checks every change first, so that a bad one changes nothing,
// then applies them to the in-memory builder; its state file is written
// later, when it matters (see flush).
func Configure(s *State, c wire.ConfigChange) (any, error) {
	if err := CheckConfig(c); err != nil {
		return nil, err
	}
	if err := parseWords(&c); err != nil {
		return nil, err
	}
	health, err := healthcheck(s.Builder.Healthcheck(), c.Healthcheck)
	if err != nil {
		return nil, err
	}
	applyConfig(s.Builder, c)
	if c.Healthcheck != nil {
		s.Builder.SetHealthcheck(health)
	}
	s.shared.dirty = true // written when it matters (state.go)
	return nil, nil
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
	for _, p := range c.UnsetPorts {
		if err := validate.Port(p); err != nil {
			return err
		}
	}
	for _, v := range append(append([]string{}, c.Volumes...), c.UnsetVolumes...) {
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
	if c.Entrypoint != nil {
		b.SetEntrypoint(c.Entrypoint.List)
	}
	if c.Cmd != nil {
		b.SetCmd(c.Cmd.List)
	}
	applyMap(c.Env, b.SetEnv, b.UnsetEnv)
	applyMap(c.Labels, b.SetLabel, b.UnsetLabel)
	applyMap(c.Annotations, b.SetAnnotation, b.UnsetAnnotation)
	for _, p := range c.Ports {
		b.SetPort(p)
	}
	for _, p := range c.UnsetPorts {
		b.UnsetPort(p)
	}
	for _, v := range c.Volumes {
		b.AddVolume(v)
	}
	for _, v := range c.UnsetVolumes {
		b.RemoveVolume(v)
	}
	for _, o := range c.OnBuild {
		b.SetOnBuild(o)
	}
	if c.Shell != nil {
		b.SetShell(c.Shell.List)
	}
	for _, field := range []struct {
		value *string
		set   func(string)
	}{
		{c.User, b.SetUser}, {c.WorkDir, b.SetWorkDir}, {c.StopSignal, b.SetStopSignal},
		{c.Author, b.SetMaintainer}, {c.Architecture, b.SetArchitecture}, {c.OS, b.SetOS},
		{c.CreatedBy, b.SetCreatedBy}, {c.HistoryComment, b.SetHistoryComment},
		{c.DomainName, b.SetDomainname},
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
		Architecture: b.Architecture(), OS: b.OS(), OnBuild: b.OnBuild(), DomainName: b.Domainname(),
		Healthcheck: healthRecord(b.Healthcheck()),
	}, nil
}

// parseWords turns each string given for a list into the list, as buildah
// config does with its flags: --cmd is a JSON list or shell words,
// --entrypoint a JSON list or a command for "/bin/sh -c", --shell and
// --healthcheck shell words; a blank cmd or entrypoint clears it and a blank
// healthcheck test removes the healthcheck.
func parseWords(c *wire.ConfigChange) error {
	var test *wire.Words
	if c.Healthcheck != nil {
		test = c.Healthcheck.Test
	}
	for _, w := range []struct {
		name   string
		words  *wire.Words
		orElse func(string) ([]string, error)
	}{
		{"cmd", c.Cmd, shellWords}, {"entrypoint", c.Entrypoint, func(s string) ([]string, error) {
			return []string{"/bin/sh", "-c", s}, nil
		}},
		{"shell", c.Shell, nil}, {"healthcheck test", test, nil},
	} {
		if w.words == nil || w.words.Spec == nil {
			continue
		}
		spec := *w.words.Spec
		list, err := wordList(spec, w.orElse)
		if err != nil {
			return errkind.New(errkind.InvalidArgument, "%s %q: %v", w.name, spec, err)
		}
		w.words.List, w.words.Spec = list, nil
	}
	return nil
}

// wordList parses one spec: shell words when orElse is nil; otherwise blank
// is nil, a JSON list is itself, and anything else goes to orElse.
func wordList(spec string, orElse func(string) ([]string, error)) ([]string, error) {
	if orElse == nil {
		return shellWords(spec)
	}
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}
	var list []string
	if json.Unmarshal([]byte(spec), &list) == nil {
		return list, nil
	}
	return orElse(spec)
}

func shellWords(spec string) ([]string, error) {
	return shellwords.Parse(spec)
}

// healthcheck is the healthcheck after change, built as buildah config's
// --healthcheck* flags build it: from the current one, or from Buildah's
// defaults; an empty test means none (nil).
func healthcheck(current *docker.HealthConfig, change *wire.HealthcheckChange) (*docker.HealthConfig, error) {
	if change == nil {
		return current, nil
	}
	h := current
	if h == nil {
		h = &docker.HealthConfig{Test: []string{"NONE"}, Interval: 30 * time.Second, Timeout: 30 * time.Second, Retries: 3}
	}
	if change.Test != nil {
		h.Test = change.Test.List
	}
	for _, d := range []struct {
		name  string
		value *string
		dest  *time.Duration
	}{
		{"interval", change.Interval, &h.Interval}, {"timeout", change.Timeout, &h.Timeout},
		{"start_period", change.StartPeriod, &h.StartPeriod}, {"start_interval", change.StartInterval, &h.StartInterval},
	} {
		if d.value == nil {
			continue
		}
		v, err := validate.Duration("healthcheck "+d.name, *d.value)
		if err != nil {
			return nil, err
		}
		*d.dest = v
	}
	if change.Retries != nil {
		if *change.Retries < 0 {
			return nil, errkind.New(errkind.InvalidArgument, "healthcheck retries must not be negative, not %d", *change.Retries)
		}
		h.Retries = *change.Retries
	}
	if len(h.Test) == 0 {
		return nil, nil
	}
	return h, nil
}

func healthRecord(h *docker.HealthConfig) *wire.Healthcheck {
	if h == nil {
		return nil
	}
	return &wire.Healthcheck{
		Test: h.Test, Interval: h.Interval.Seconds(), Timeout: h.Timeout.Seconds(),
		StartPeriod: h.StartPeriod.Seconds(), StartInterval: h.StartInterval.Seconds(), Retries: h.Retries,
	}
}
