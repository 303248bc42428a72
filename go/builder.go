package main

import "C"

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"go.podman.io/buildah"
	"go.podman.io/buildah/define"
	"go.podman.io/common/pkg/config"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
	"golang.org/x/sys/unix"
)

// builderState is what a Builder handle points at.
type builderState struct {
	builder *buildah.Builder
	store   *storeState
	mounted bool
}

func (s *builderState) release() { releaseCopier(s); s.store.release() }

type builderRef struct {
	Builder uint64 `json:"builder"`
}

func (r builderRef) state() (*builderState, error) {
	return handleValue[builderState](r.Builder, "builder")
}

// explain turns an error from an operation on s into ContainerNotFound when
// the working container was removed behind this handle's back (by another
// handle, another process or `buildah rm`), so users see why.
func (s *builderState) explain(err error) error {
	if err == nil {
		return nil
	}
	var ke *kindError
	if errors.As(err, &ke) {
		return err
	}
	if _, lookupErr := s.store.store.Container(s.builder.ContainerID); lookupErr != nil &&
		(errors.Is(lookupErr, storage.ErrContainerUnknown) || errors.Is(lookupErr, storage.ErrNotAContainer)) {
		return kindf("ContainerNotFound", "working container %q no longer exists", s.builder.Container)
	}
	return err
}

// containerInfo describes a working container to Python.
type containerInfo struct {
	Handle    uint64 `json:"handle,omitempty"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	FromImage string `json:"from_image"`
	ImageID   string `json:"image_id"`
}

func describe(b *buildah.Builder) containerInfo {
	return containerInfo{ID: b.ContainerID, Name: b.Container, FromImage: b.FromImage, ImageID: b.FromImageID}
}

func adopt(b *buildah.Builder, store *storeState) containerInfo {
	store.acquire()
	info := describe(b)
	info.Handle = newHandle(&builderState{builder: b, store: store})
	return info
}

func parseIsolation(name string) (define.Isolation, error) {
	switch name {
	case "", "chroot":
		return define.IsolationChroot, nil
	case "oci":
		return define.IsolationOCI, nil
	case "rootless":
		return define.IsolationOCIRootless, nil
	}
	return 0, kindf("InvalidArgument", "unknown isolation %q (expected chroot, oci or rootless)", name)
}

// parseFormat turns "oci" (the default) or "docker" into a manifest type.
func parseFormat(name string) (string, error) {
	switch name {
	case "", "oci":
		return define.OCIv1ImageManifest, nil
	case "docker":
		return define.Dockerv2ImageManifest, nil
	}
	return "", kindf("InvalidArgument", "unknown image format %q (expected oci or docker)", name)
}

func parsePullPolicy(name string) (define.PullPolicy, error) {
	if name == "" {
		return define.PullIfMissing, nil
	}
	if name == "newer" {
		name = "ifnewer"
	}
	policy, ok := define.PolicyMap[name]
	if !ok {
		return 0, kindf("InvalidArgument", "unknown pull policy %q (expected missing, always, newer or never)", name)
	}
	return policy, nil
}

type newBuilderOptions struct {
	storeRef
	FromImage string       `json:"from_image"`
	Name      string       `json:"name"`
	Isolation string       `json:"isolation"`
	Pull      string       `json:"pull"`
	Format    string       `json:"format"`
	TLSVerify *bool        `json:"tls_verify"`
	CertDir   string       `json:"cert_dir"`
	AuthFile  string       `json:"authfile"`
	Creds     *credentials `json:"creds"`
}

//export PyBuildahNewBuilder
func PyBuildahNewBuilder(args *C.char) *C.char {
	return withState(args, func(store *storeState, o newBuilderOptions) (any, error) {
		isolation, err := parseIsolation(o.Isolation)
		if err != nil {
			return nil, err
		}
		pull, err := parsePullPolicy(o.Pull)
		if err != nil {
			return nil, err
		}
		if o.FromImage == "" {
			return nil, kindf("InvalidReference", "an image reference (or \"scratch\") is required")
		}
		sys := store.systemContext()
		applyRegistryOptions(sys, o.TLSVerify, o.CertDir, defaultAuthFile(o.AuthFile))
		if err := applyCredentials(sys, o.Creds); err != nil {
			return nil, err
		}
		format, err := parseFormat(o.Format)
		if err != nil {
			return nil, err
		}
		conf, err := containersConf()
		if err != nil {
			return nil, err
		}
		capabilities, err := conf.Capabilities("", nil, nil)
		if err != nil {
			return nil, err
		}
		b, err := buildah.NewBuilder(context.Background(), store.store, buildah.BuilderOptions{
			Capabilities:     capabilities,
			FromImage:        o.FromImage,
			Container:        o.Name,
			PullPolicy:       pull,
			Isolation:        isolation,
			SystemContext:    sys,
			CommonBuildOpts:  &define.CommonBuildOptions{Ulimit: runUlimits(conf)},
			ConfigureNetwork: define.NetworkDefault,
			Format:           format,
			ReportWriter:     nil,
		})
		if err != nil {
			if errors.Is(err, storage.ErrDuplicateName) {
				return nil, withKind("InvalidArgument", err)
			}
			return nil, redacted(classifyImageError(o.FromImage, err), credentialSecrets(o.Creds))
		}
		return adopt(b, store), nil
	})
}

// classifyImageError turns reference and lookup failures into the kinds
// Python users catch.
func classifyImageError(ref string, err error) error {
	var ke *kindError
	if errors.As(err, &ke) {
		return err
	}
	msg := err.Error()
	switch {
	case errors.Is(err, storage.ErrImageUnknown),
		strings.Contains(msg, "manifest unknown"),
		strings.Contains(msg, "no such file or directory") && !strings.Contains(ref, "://") && strings.Contains(ref, ":/"):
		return withKind("ImageNotFound", err)
	case strings.Contains(msg, "invalid reference format"),
		strings.Contains(msg, "repository name must be lowercase"),
		strings.Contains(msg, "parsing image name"),
		strings.Contains(msg, "invalid image name"):
		return withKind("InvalidReference", err)
	}
	return err
}

type openBuilderOptions struct {
	storeRef
	Name string `json:"name"`
}

//export PyBuildahOpenBuilder
func PyBuildahOpenBuilder(args *C.char) *C.char {
	return withState(args, func(store *storeState, o openBuilderOptions) (any, error) {
		b, err := buildah.OpenBuilder(store.store, o.Name)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) || errors.Is(err, storage.ErrContainerUnknown) {
				return nil, kindf("ContainerNotFound", "no working container named %q", o.Name)
			}
			return nil, err
		}
		if b.CommonBuildOpts == nil {
			b.CommonBuildOpts = &define.CommonBuildOptions{}
		}
		if len(b.CommonBuildOpts.Ulimit) == 0 {
			conf, err := containersConf()
			if err != nil {
				return nil, err
			}
			b.CommonBuildOpts.Ulimit = runUlimits(conf)
		}
		return adopt(b, store), nil
	})
}

// containersConf reads containers.conf, or its built-in defaults.
func containersConf() (*config.Config, error) {
	conf, err := config.Default()
	if err != nil {
		return nil, withKind("StoreError", fmt.Errorf("reading containers.conf: %w", err))
	}
	return conf, nil
}

// runUlimits are the rlimits RUN steps get: containers.conf's defaults,
// then this process's hard limits where it cannot raise them.
func runUlimits(conf *config.Config) []string {
	return append(conf.Containers.DefaultUlimits.Get(), hostUlimits()...)
}

// hostUlimits keeps RUN steps within this process's hard limits when it
// cannot raise them.  As root, Buildah asks for 1048576 open files and
// processes, which fails without CAP_SYS_RESOURCE (common in containers
// and CI sandboxes).
func hostUlimits() []string {
	if hasCapability(unix.CAP_SYS_RESOURCE) {
		return nil
	}
	var limits []string
	for name, resource := range map[string]int{"nofile": unix.RLIMIT_NOFILE, "nproc": unix.RLIMIT_NPROC} {
		var rl unix.Rlimit
		if unix.Getrlimit(resource, &rl) == nil && rl.Max < define.RLimitDefaultValue {
			limits = append(limits, fmt.Sprintf("%s=%d:%d", name, rl.Max, rl.Max))
		}
	}
	return limits
}

// hasCapability reads the effective capability set of this process.
func hasCapability(bit int) bool {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(data)) {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			return err == nil && mask&(1<<uint(bit)) != 0
		}
	}
	return false
}

//export PyBuildahListContainers
func PyBuildahListContainers(args *C.char) *C.char {
	return withState(args, func(store *storeState, o storeRef) (any, error) {
		builders, err := buildah.OpenAllBuilders(store.store)
		if err != nil {
			return nil, err
		}
		out := make([]containerInfo, 0, len(builders))
		for _, b := range builders {
			out = append(out, describe(b))
		}
		return out, nil
	})
}

type addOptions struct {
	builderRef
	Sources     []string `json:"sources"`
	Destination string   `json:"destination"`
	Extract     bool     `json:"extract"`
	Chown       string   `json:"chown"`
	Chmod       string   `json:"chmod"`
	FromBuilder uint64   `json:"from_builder"`
	FromImage   string   `json:"from_image"`
	Excludes    []string `json:"excludes"`
}

// PyBuildahAdd copies (or, with extract, adds) sources into the container.
//
//export PyBuildahAdd
func PyBuildahAdd(args *C.char) *C.char {
	return withState(args, func(st *builderState, o addOptions) (any, error) {
		if len(o.Sources) == 0 {
			return nil, kindf("InvalidArgument", "no source given")
		}
		if o.Chmod != "" {
			if _, err := strconv.ParseUint(o.Chmod, 8, 32); err != nil {
				return nil, kindf("InvalidArgument", "invalid chmod %q: expected an octal mode such as 0755", o.Chmod)
			}
		}
		options := buildah.AddAndCopyOptions{Chown: o.Chown, Chmod: o.Chmod, Excludes: o.Excludes}
		sources := o.Sources
		var root string
		switch {
		case o.FromBuilder != 0:
			from, err := handleValue[builderState](o.FromBuilder, "builder")
			if err != nil {
				return nil, err
			}
			root, err = from.builder.Mount(from.builder.MountLabel)
			if err != nil {
				return nil, err
			}
			if !from.mounted {
				defer func() { _ = from.builder.Unmount() }()
			}
			options.IDMappingOptions = &from.builder.IDMappingOptions
		case o.FromImage != "":
			// A short-lived working container on the image: unlike
			// MountImage it also works for images whose layers live in
			// a read-only additional image store.
			img, err := resolveLocalImage(st.store, o.FromImage)
			if err != nil {
				return nil, err
			}
			tmp, err := buildah.NewBuilder(context.Background(), st.store.store, buildah.BuilderOptions{
				FromImage:     img.ID,
				PullPolicy:    define.PullNever,
				Isolation:     define.IsolationChroot,
				SystemContext: st.store.systemContext(),
			})
			if err != nil {
				return nil, classifyImageError(o.FromImage, err)
			}
			defer func() { _ = tmp.Unmount(); _ = tmp.Delete() }()
			root, err = tmp.Mount(tmp.MountLabel)
			if err != nil {
				return nil, err
			}
			options.IDMappingOptions = &tmp.IDMappingOptions
		default:
			for _, src := range sources {
				if isURL(src) {
					continue
				}
				if _, err := os.Lstat(src); err != nil && !hasGlob(src) {
					return nil, kindf("SourceNotFound", "source %q: %v", src, errors.Unwrap(err))
				}
			}
		}
		if root != "" {
			options.ContextDir = root
			options.PreserveOwnership = true
			sources = make([]string, len(o.Sources))
			for i, src := range o.Sources {
				sources[i] = filepath.Join(root, src)
			}
		}
		st.builder.ContentDigester.Restart()
		keepCopier(st) // copierpool.go
		if err := st.builder.Add(o.Destination, o.Extract, options, sources...); err != nil {
			return nil, st.explain(classifyAddError(err, o.Chown))
		}
		return nil, st.explain(st.builder.Save())
	})
}

func classifyAddError(err error, chown string) error {
	msg := err.Error()
	switch {
	case chown != "" && (strings.Contains(msg, "looking up") || strings.Contains(msg, "user") || strings.Contains(msg, "group") || strings.Contains(msg, "uid") || strings.Contains(msg, "gid")):
		return withKind("InvalidArgument", err)
	case strings.Contains(msg, "no such file or directory"), strings.Contains(msg, "no items matching glob"):
		return withKind("SourceNotFound", err)
	}
	return err
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

func hasGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

// configChange carries the config fields to change; absent fields stay.
type configChange struct {
	builderRef
	Cmd            *[]string          `json:"cmd"`
	Entrypoint     *[]string          `json:"entrypoint"`
	Env            map[string]*string `json:"env"` // null value unsets
	Labels         map[string]*string `json:"labels"`
	Annotations    map[string]*string `json:"annotations"`
	Ports          []string           `json:"ports"`
	User           *string            `json:"user"`
	WorkDir        *string            `json:"workdir"`
	Volumes        []string           `json:"volumes"`
	Shell          *[]string          `json:"shell"`
	StopSignal     *string            `json:"stop_signal"`
	Author         *string            `json:"author"`
	Architecture   *string            `json:"architecture"`
	OS             *string            `json:"os"`
	CreatedBy      *string            `json:"created_by"`
	HistoryComment *string            `json:"history_comment"`
}

// applyConfig checks every change first, so that a bad one changes nothing.
func applyConfig(b *buildah.Builder, c configChange) error {
	for k := range c.Env {
		if k == "" || strings.Contains(k, "=") {
			return kindf("InvalidArgument", "invalid environment variable name %q", k)
		}
	}
	for k := range c.Labels {
		if k == "" {
			return kindf("InvalidArgument", "a label needs a name")
		}
	}
	for k := range c.Annotations {
		if k == "" {
			return kindf("InvalidArgument", "an annotation needs a name")
		}
	}
	for _, p := range c.Ports {
		if err := validatePort(p); err != nil {
			return err
		}
	}
	for _, v := range c.Volumes {
		if !strings.HasPrefix(v, "/") {
			return kindf("InvalidArgument", "volume %q must be an absolute path", v)
		}
	}
	if c.StopSignal != nil && *c.StopSignal == "" {
		return kindf("InvalidArgument", "stop signal must not be empty")
	}
	if c.Cmd != nil {
		b.SetCmd(*c.Cmd)
	}
	if c.Entrypoint != nil {
		b.SetEntrypoint(*c.Entrypoint)
	}
	for k, v := range c.Env {
		if v == nil {
			b.UnsetEnv(k)
		} else {
			b.SetEnv(k, *v)
		}
	}
	for k, v := range c.Labels {
		if v == nil {
			b.UnsetLabel(k)
		} else {
			b.SetLabel(k, *v)
		}
	}
	for k, v := range c.Annotations {
		if v == nil {
			b.UnsetAnnotation(k)
		} else {
			b.SetAnnotation(k, *v)
		}
	}
	for _, p := range c.Ports {
		b.SetPort(p)
	}
	if c.User != nil {
		b.SetUser(*c.User)
	}
	if c.WorkDir != nil {
		b.SetWorkDir(*c.WorkDir)
	}
	for _, v := range c.Volumes {
		b.AddVolume(v)
	}
	if c.Shell != nil {
		b.SetShell(*c.Shell)
	}
	if c.StopSignal != nil {
		b.SetStopSignal(*c.StopSignal)
	}
	if c.Author != nil {
		b.SetMaintainer(*c.Author)
	}
	if c.Architecture != nil {
		b.SetArchitecture(*c.Architecture)
	}
	if c.OS != nil {
		b.SetOS(*c.OS)
	}
	if c.CreatedBy != nil {
		b.SetCreatedBy(*c.CreatedBy)
	}
	if c.HistoryComment != nil {
		b.SetHistoryComment(*c.HistoryComment)
	}
	return nil
}

// validatePort accepts PORT[-PORT][/tcp|udp|sctp].
func validatePort(spec string) error {
	bad := kindf("InvalidArgument", "invalid port %q: expected NUMBER[-NUMBER][/tcp|/udp|/sctp] with numbers from 1 to 65535", spec)
	number, proto, hasProto := strings.Cut(spec, "/")
	if hasProto && proto != "tcp" && proto != "udp" && proto != "sctp" {
		return bad
	}
	low, high, isRange := strings.Cut(number, "-")
	lo, err := strconv.ParseUint(low, 10, 16)
	if err != nil || lo == 0 {
		return bad
	}
	if isRange {
		hi, err := strconv.ParseUint(high, 10, 16)
		if err != nil || hi < lo {
			return bad
		}
	}
	return nil
}

//export PyBuildahConfigure
func PyBuildahConfigure(args *C.char) *C.char {
	return withState(args, func(st *builderState, c configChange) (any, error) {
		if err := applyConfig(st.builder, c); err != nil {
			return nil, err
		}
		return nil, st.explain(st.builder.Save())
	})
}

type setCmdOptions struct {
	builderRef
	Cmd []string `json:"cmd"`
}

// PyBuildahSetCmd is the design card's SetCmd: PyBuildahConfigure with only
// a command.
//
//export PyBuildahSetCmd
func PyBuildahSetCmd(args *C.char) *C.char {
	return withState(args, func(st *builderState, o setCmdOptions) (any, error) {
		st.builder.SetCmd(o.Cmd)
		return nil, st.explain(st.builder.Save())
	})
}

type builderConfig struct {
	Cmd          []string          `json:"cmd"`
	Entrypoint   []string          `json:"entrypoint"`
	Env          []string          `json:"env"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	Ports        []string          `json:"ports"`
	User         string            `json:"user"`
	WorkDir      string            `json:"workdir"`
	Volumes      []string          `json:"volumes"`
	Shell        []string          `json:"shell"`
	StopSignal   string            `json:"stop_signal"`
	Author       string            `json:"author"`
	Architecture string            `json:"architecture"`
	OS           string            `json:"os"`
}

//export PyBuildahGetConfig
func PyBuildahGetConfig(args *C.char) *C.char {
	return withState(args, func(st *builderState, o builderRef) (any, error) {
		b := st.builder
		return builderConfig{
			Cmd: b.Cmd(), Entrypoint: b.Entrypoint(), Env: b.Env(), Labels: b.Labels(),
			Annotations: b.Annotations(), Ports: b.Ports(), User: b.User(), WorkDir: b.WorkDir(),
			Volumes: b.Volumes(), Shell: b.Shell(), StopSignal: b.StopSignal(), Author: b.Maintainer(),
			Architecture: b.Architecture(), OS: b.OS(),
		}, nil
	})
}

type runOptions struct {
	builderRef
	Command []string `json:"command"`
	Env     []string `json:"env"`
	WorkDir string   `json:"workdir"`
	User    string   `json:"user"`
	Stream  uint64   `json:"stream"`
}

type runResult struct {
	ExitCode int    `json:"exit_code"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
}

//export PyBuildahRun
func PyBuildahRun(args *C.char) *C.char {
	return withState(args, func(st *builderState, o runOptions) (any, error) {
		if len(o.Command) == 0 {
			return nil, kindf("InvalidArgument", "no command given")
		}
		devnull, err := os.Open(os.DevNull)
		if err != nil {
			return nil, err
		}
		defer devnull.Close()
		var stdout, stderr bytes.Buffer
		outLines := &lineWriter{stream: o.Stream, kind: "stdout"}
		errLines := &lineWriter{stream: o.Stream, kind: "stderr"}
		keepCopier(st) // copierpool.go
		err = st.builder.Run(o.Command, buildah.RunOptions{
			Isolation:  st.builder.Isolation,
			Env:        o.Env,
			WorkingDir: o.WorkDir,
			User:       o.User,
			Stdin:      devnull,
			Stdout:     teeWriter(&stdout, outLines),
			Stderr:     teeWriter(&stderr, errLines),
			Terminal:   buildah.WithoutTerminal,
			Quiet:      true,
		})
		outLines.Flush()
		errLines.Flush()
		result := runResult{Stdout: stdout.String(), Stderr: trimRuntimeNotes(stderr.String())}
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			result.ExitCode = exitErr.ExitCode()
			return result, nil
		}
		if err != nil {
			err = fmt.Errorf("running %q: %w", o.Command, err)
			if o.User != "" && strings.Contains(err.Error(), "determining run ") {
				return nil, withKind("InvalidArgument", err)
			}
			return nil, st.explain(err)
		}
		return result, nil
	})
}

// trimRuntimeNotes drops the "subprocess exited with status N" lines that
// Buildah's chroot runtime appends to a failing command's stderr: they are
// not the command's output, and the exit code is reported separately.
func trimRuntimeNotes(stderr string) string {
	lines := strings.SplitAfter(stderr, "\n")
	for len(lines) > 0 {
		last := strings.TrimSpace(lines[len(lines)-1])
		if last == "" || strings.HasPrefix(last, "subprocess exited with status ") {
			lines = lines[:len(lines)-1]
			continue
		}
		break
	}
	out := strings.Join(lines, "")
	if stderr != "" && out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	return out
}

func teeWriter(buf *bytes.Buffer, lines *lineWriter) *multiWriter {
	return &multiWriter{buf: buf, lines: lines}
}

// multiWriter keeps the output and also streams it when someone listens.
type multiWriter struct {
	buf   *bytes.Buffer
	lines *lineWriter
}

func (m *multiWriter) Write(p []byte) (int, error) {
	m.buf.Write(p)
	if m.lines.stream != 0 {
		_, _ = m.lines.Write(p)
	}
	return len(p), nil
}

//export PyBuildahMount
func PyBuildahMount(args *C.char) *C.char {
	return withState(args, func(st *builderState, o builderRef) (any, error) {
		path, err := st.builder.Mount(st.builder.MountLabel)
		if err != nil {
			return nil, st.explain(err)
		}
		st.mounted = true
		return path, nil
	})
}

//export PyBuildahUnmount
func PyBuildahUnmount(args *C.char) *C.char {
	return withState(args, func(st *builderState, o builderRef) (any, error) {
		st.mounted = false
		return nil, st.explain(st.builder.Unmount())
	})
}

//export PyBuildahDeleteBuilder
func PyBuildahDeleteBuilder(args *C.char) *C.char {
	return withState(args, func(st *builderState, o builderRef) (any, error) {
		releaseCopier(st) // copierpool.go
		if st.mounted {
			_ = st.builder.Unmount()
			st.mounted = false
		}
		if err := st.builder.Delete(); err != nil && !errors.Is(err, storage.ErrContainerUnknown) && !errors.Is(err, storage.ErrNotAContainer) {
			return nil, err
		}
		return nil, nil
	})
}

type commitOptions struct {
	builderRef
	Destination string       `json:"destination"`
	Format      string       `json:"format"`
	Squash      bool         `json:"squash"`
	Compression string       `json:"compression"`
	Timestamp   *int64       `json:"timestamp"`
	Stream      uint64       `json:"stream"`
	TLSVerify   *bool        `json:"tls_verify"`
	CertDir     string       `json:"cert_dir"`
	AuthFile    string       `json:"authfile"`
	Creds       *credentials `json:"creds"`
}

type commitResult struct {
	ID     string `json:"id"`
	Digest string `json:"digest"`
	Name   string `json:"name"`
}

// PyBuildahCommit writes the working container as an image, into the
// store by default or to any transport reference.
//
//export PyBuildahCommit
func PyBuildahCommit(args *C.char) *C.char {
	return withState(args, func(st *builderState, o commitOptions) (any, error) {
		sys := st.store.systemContext()
		applyRegistryOptions(sys, o.TLSVerify, o.CertDir, defaultAuthFile(o.AuthFile))
		if err := applyCredentials(sys, o.Creds); err != nil {
			return nil, err
		}
		dest, err := parseDestination(st.store, sys, o.Destination)
		if err != nil {
			return nil, err
		}
		options := buildah.CommitOptions{
			PreferredManifestType: define.OCIv1ImageManifest,
			SystemContext:         sys,
			Squash:                o.Squash,
		}
		if o.Format == "" && st.builder.Format != "" {
			options.PreferredManifestType = st.builder.Format // chosen when the builder was made
		} else if options.PreferredManifestType, err = parseFormat(o.Format); err != nil {
			return nil, err
		}
		if options.Compression, err = parseCompression(o.Compression); err != nil {
			return nil, err
		}
		if o.Timestamp != nil {
			t := unixTime(*o.Timestamp)
			options.HistoryTimestamp = &t
		}
		report := &copyReportWriter{stream: o.Stream}
		if o.Stream != 0 {
			options.ReportWriter = report
		}
		id, ref, manifestDigest, err := st.builder.Commit(context.Background(), dest, options)
		if err != nil {
			return nil, redacted(st.explain(err), credentialSecrets(o.Creds))
		}
		report.finish()
		result := commitResult{ID: id, Digest: manifestDigest.String()}
		if ref != nil {
			result.Name = ref.String()
		} else if dest != nil {
			result.Name = transportName(dest)
		}
		return result, nil
	})
}

// applyRegistryOptions fills the TLS and credential fields of sys.
func applyRegistryOptions(sys *types.SystemContext, tlsVerify *bool, certDir, authFile string) {
	if tlsVerify != nil {
		sys.DockerInsecureSkipTLSVerify = types.NewOptionalBool(!*tlsVerify)
		sys.OCIInsecureSkipTLSVerify = !*tlsVerify
	}
	if certDir != "" {
		sys.DockerCertPath = certDir
	}
	if authFile != "" {
		sys.AuthFilePath = authFile
	}
}
