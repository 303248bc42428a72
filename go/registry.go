package main

// Registries: pull, push, login and logout, the progress events of image
// copies, and the classification of registry failures into the Python
// exception classes RegistryError, AuthenticationError, TLSError and
// ImageNotFound.
//
// Credentials arrive inside the JSON options, never on a command line, and
// every error message that leaves a call that carried a password is scrubbed
// of it.

import "C"

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/docker/distribution/registry/api/errcode"
	errcodev2 "github.com/docker/distribution/registry/api/v2"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/common/libimage"
	"go.podman.io/common/pkg/auth"
	"go.podman.io/common/pkg/config"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/compression"
	"go.podman.io/image/v5/types"
)

type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// registryOptions are the TLS and credential options shared by every call
// that may talk to a registry.
type registryOptions struct {
	TLSVerify *bool        `json:"tls_verify"`
	CertDir   string       `json:"cert_dir"`
	AuthFile  string       `json:"authfile"`
	Creds     *credentials `json:"creds"`
	Retries   *uint        `json:"retries"`
}

// secrets lists what must never appear in an error message.
func (o registryOptions) secrets() []string { return credentialSecrets(o.Creds) }

func credentialSecrets(creds *credentials) []string {
	if creds == nil {
		return nil
	}
	return []string{creds.Password}
}

// systemContext returns the store's system context with these options.
// Without an explicit auth file, REGISTRY_AUTH_FILE and DOCKER_CONFIG apply
// as in Buildah's CLI; otherwise containers/image searches its standard
// places (${XDG_RUNTIME_DIR}/containers/auth.json, ~/.docker/config.json).
func (o registryOptions) systemContext(st *storeState) (*types.SystemContext, error) {
	sys := st.systemContext()
	if o.CertDir != "" {
		if info, err := os.Stat(o.CertDir); err != nil || !info.IsDir() {
			return nil, kindf("InvalidArgument", "certificate directory %q does not exist or is not a directory", o.CertDir)
		}
	}
	applyRegistryOptions(sys, o.TLSVerify, o.CertDir, defaultAuthFile(o.AuthFile))
	if err := applyCredentials(sys, o.Creds); err != nil {
		return nil, err
	}
	return sys, nil
}

func applyCredentials(sys *types.SystemContext, creds *credentials) error {
	if creds == nil {
		return nil
	}
	if creds.Username == "" {
		return kindf("InvalidArgument", "credentials need a user name")
	}
	sys.DockerAuthConfig = &types.DockerAuthConfig{Username: creds.Username, Password: creds.Password}
	return nil
}

// defaultAuthFile is the auth file to use when the caller named none.
func defaultAuthFile(authFile string) string {
	if authFile != "" {
		return authFile
	}
	return auth.GetDefaultAuthFile()
}

// redacted classifies err and removes every secret from its message.
func redacted(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	wire := classify(err)
	msg := wire.Message
	for _, secret := range secrets {
		if secret != "" {
			msg = strings.ReplaceAll(msg, secret, "********")
		}
	}
	return &kindError{kind: wire.Kind, err: errors.New(msg), exitCode: wire.ExitCode}
}

// registryErrorKind names the Python class for a registry failure, or ""
// when err is not one.
func registryErrorKind(err error) string {
	var (
		certErr      *tls.CertificateVerificationError
		unknownCA    x509.UnknownAuthorityError
		hostErr      x509.HostnameError
		invalidCert  x509.CertificateInvalidError
		recordErr    tls.RecordHeaderError
		unauthorized docker.ErrUnauthorizedForCredentials
		codeErr      errcode.Error
		codeErrs     errcode.Errors
		statusErr    docker.UnexpectedHTTPStatusError
		urlErr       *url.Error
		opErr        *net.OpError
		dnsErr       *net.DNSError
	)
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr),
		errors.As(err, &invalidCert), errors.As(err, &recordErr),
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "TLSError"
	case errors.As(err, &unauthorized):
		return "AuthenticationError"
	case errors.As(err, &codeErr):
		return errcodeKind(codeErr)
	case errors.As(err, &codeErrs) && len(codeErrs) > 0:
		if first, ok := codeErrs[0].(errcode.Error); ok {
			return errcodeKind(first)
		}
		return "RegistryError"
	case errors.As(err, &statusErr):
		switch statusErr.StatusCode {
		case 401, 403:
			return "AuthenticationError"
		}
		return "RegistryError"
	case errors.Is(err, docker.ErrTooManyRequests),
		errors.As(err, &urlErr), errors.As(err, &opErr), errors.As(err, &dnsErr):
		return "RegistryError"
	}
	return ""
}

func errcodeKind(e errcode.Error) string {
	switch e.Code {
	case errcode.ErrorCodeUnauthorized, errcode.ErrorCodeDenied:
		return "AuthenticationError"
	case errcodev2.ErrorCodeManifestUnknown, errcodev2.ErrorCodeNameUnknown:
		return "ImageNotFound"
	}
	return "RegistryError"
}

// progressEvent is one per-blob progress report sent to Python.
type progressEvent struct {
	Event     string `json:"event"` // new, read, done, skipped
	Kind      string `json:"kind"`  // blob, config
	Digest    string `json:"digest"`
	MediaType string `json:"media_type,omitempty"`
	Size      int64  `json:"size"`   // -1 when unknown
	Offset    uint64 `json:"offset"` // bytes copied so far
}

var progressEventNames = map[types.ProgressEvent]string{
	types.ProgressEventNewArtifact: "new",
	types.ProgressEventRead:        "read",
	types.ProgressEventDone:        "done",
	types.ProgressEventSkipped:     "skipped",
}

func blobKind(mediaType string) string {
	if strings.Contains(mediaType, "config") {
		return "config"
	}
	return "blob"
}

// progressChannel forwards containers/image copy progress to stream.  The
// returned stop function must be called once the copy has returned; it
// waits until every event has been delivered.
func progressChannel(stream uint64) (chan types.ProgressProperties, func()) {
	if stream == 0 {
		return nil, func() {}
	}
	ch := make(chan types.ProgressProperties, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range ch {
			name, ok := progressEventNames[p.Event]
			if !ok {
				continue
			}
			offset := p.Offset
			if p.Event == types.ProgressEventDone && p.Artifact.Size > 0 {
				offset = uint64(p.Artifact.Size)
			}
			emit(stream, "progress", progressEvent{
				Event: name, Kind: blobKind(p.Artifact.MediaType), Digest: p.Artifact.Digest.String(),
				MediaType: p.Artifact.MediaType, Size: p.Artifact.Size, Offset: offset,
			})
		}
	}()
	var once sync.Once
	return ch, func() { once.Do(func() { close(ch); <-done }) }
}

// copyReportWriter turns containers/image's plain report lines ("Copying
// blob sha256:..."), which is all that buildah.Commit offers, into progress
// events.  They carry no byte counts: commit computes its layers before the
// copy starts, so the copy itself is local and short.
type copyReportWriter struct {
	stream  uint64
	pending []byte
	started []progressEvent
}

func (w *copyReportWriter) Write(p []byte) (int, error) {
	w.pending = append(w.pending, p...)
	for {
		i := bytes.IndexByte(w.pending, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.line(strings.TrimSpace(string(w.pending[:i])))
		w.pending = w.pending[i+1:]
	}
}

func (w *copyReportWriter) line(line string) {
	fields := strings.Fields(line)
	if len(fields) >= 3 && fields[0] == "Copying" && (fields[1] == "blob" || fields[1] == "config") {
		event := progressEvent{Event: "new", Kind: fields[1], Digest: fields[2], Size: -1}
		w.started = append(w.started, event)
		emit(w.stream, "progress", event)
	}
}

// finish reports every started blob as done, once the commit has succeeded.
func (w *copyReportWriter) finish() {
	for _, event := range w.started {
		event.Event = "done"
		emit(w.stream, "progress", event)
	}
	w.started = nil
}

func newRuntime(st *storeState, sys *types.SystemContext) (*libimage.Runtime, error) {
	return libimage.RuntimeFromStore(st.store, &libimage.RuntimeOptions{SystemContext: sys})
}

type pullOptions struct {
	storeRef
	registryOptions
	Ref     string `json:"ref"`
	AllTags bool   `json:"all_tags"`
	Policy  string `json:"policy"`
	Stream  uint64 `json:"stream"`
}

// PyBuildahPull copies an image from a registry or an archive into the
// store and returns what it pulled (several images with all_tags).
//
//export PyBuildahPull
func PyBuildahPull(args *C.char) *C.char {
	return call(args, func(o pullOptions) (any, error) {
		images, err := pull(o)
		return images, redacted(err, o.secrets())
	})
}

func pull(o pullOptions) ([]*imageInfo, error) {
	st, err := o.state()
	if err != nil {
		return nil, err
	}
	if o.Ref == "" {
		return nil, kindf("InvalidReference", "an image reference is required")
	}
	policy, err := config.ParsePullPolicy(o.Policy)
	if err != nil || o.Policy == "" {
		if o.Policy == "" {
			policy = config.PullPolicyAlways
		} else {
			return nil, kindf("InvalidArgument", "unknown pull policy %q (expected always, missing, newer or never)", o.Policy)
		}
	}
	sys, err := o.systemContext(st)
	if err != nil {
		return nil, err
	}
	runtime, err := newRuntime(st, sys)
	if err != nil {
		return nil, err
	}
	progress, stop := progressChannel(o.Stream)
	defer stop()
	options := &libimage.PullOptions{AllTags: o.AllTags}
	options.Progress = progress
	options.MaxRetries = o.Retries
	pulled, err := runtime.Pull(context.Background(), o.Ref, policy, options)
	stop()
	if err != nil {
		return nil, classifyImageError(o.Ref, err)
	}
	out := make([]*imageInfo, 0, len(pulled))
	for _, img := range pulled {
		stored, err := st.store.Image(img.ID())
		if err != nil {
			return nil, err
		}
		info, err := inspectImage(st, stored)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

type pushOptions struct {
	storeRef
	registryOptions
	Image       string `json:"image"`
	Dest        string `json:"dest"`
	Format      string `json:"format"`
	Compression string `json:"compression"`
	Level       *int   `json:"compression_level"`
	Stream      uint64 `json:"stream"`
}

type pushResult struct {
	Digest string `json:"digest"`
	Dest   string `json:"dest"`
}

// PyBuildahPush copies an image from the store to a registry or any other
// transport and returns the digest of the manifest it wrote.
//
//export PyBuildahPush
func PyBuildahPush(args *C.char) *C.char {
	return call(args, func(o pushOptions) (any, error) {
		result, err := push(o)
		return result, redacted(err, o.secrets())
	})
}

func push(o pushOptions) (*pushResult, error) {
	st, err := o.state()
	if err != nil {
		return nil, err
	}
	img, err := resolveLocalImage(st, o.Image)
	if err != nil {
		return nil, err
	}
	source := o.Image
	if strings.HasPrefix(source, "containers-storage:") {
		source = img.ID
	}
	dest := o.Dest
	if dest == "" {
		return nil, kindf("InvalidReference", "a destination is required")
	}
	sys, err := o.systemContext(st)
	if err != nil {
		return nil, err
	}
	options := &libimage.PushOptions{}
	options.PolicyAllowStorage = true
	options.MaxRetries = o.Retries
	switch o.Format {
	case "":
	case "oci":
		options.ManifestMIMEType = v1.MediaTypeImageManifest
	case "docker", "v2s2":
		options.ManifestMIMEType = manifest.DockerV2Schema2MediaType
	default:
		return nil, kindf("InvalidArgument", "unknown image format %q (expected oci or docker)", o.Format)
	}
	if o.Compression != "" {
		algorithm, err := compression.AlgorithmByName(o.Compression)
		if err != nil || o.Compression == "bzip2" || o.Compression == "xz" {
			return nil, kindf("InvalidArgument", "unknown compression %q (expected gzip or zstd)", o.Compression)
		}
		options.CompressionFormat = &algorithm
		options.ForceCompressionFormat = true
	}
	options.CompressionLevel = o.Level
	runtime, err := newRuntime(st, sys)
	if err != nil {
		return nil, err
	}
	progress, stop := progressChannel(o.Stream)
	defer stop()
	options.Progress = progress
	manifestBytes, err := runtime.Push(context.Background(), source, dest, options)
	stop()
	if err != nil {
		return nil, classifyImageError(dest, err)
	}
	manifestDigest, err := manifest.Digest(manifestBytes)
	if err != nil {
		return nil, err
	}
	return &pushResult{Digest: manifestDigest.String(), Dest: dest}, nil
}

type loginOptions struct {
	storeRef
	registryOptions
	Registry string `json:"registry"`
}

// PyBuildahLogin checks the credentials against the registry and, when it
// accepts them, stores them in the auth file (written with mode 0600).
//
//export PyBuildahLogin
func PyBuildahLogin(args *C.char) *C.char {
	return call(args, func(o loginOptions) (any, error) {
		return nil, redacted(login(o), o.secrets())
	})
}

func login(o loginOptions) error {
	st, err := o.optionalState()
	if err != nil {
		return err
	}
	if o.Registry == "" {
		return kindf("InvalidArgument", "a registry to log in to is required")
	}
	if o.Creds == nil || o.Creds.Username == "" || o.Creds.Password == "" {
		return kindf("InvalidArgument", "login needs a user name and a password")
	}
	if o.CertDir != "" {
		if info, err := os.Stat(o.CertDir); err != nil || !info.IsDir() {
			return kindf("InvalidArgument", "certificate directory %q does not exist or is not a directory", o.CertDir)
		}
	}
	// auth.Login picks the auth file itself (explicit, REGISTRY_AUTH_FILE,
	// DOCKER_CONFIG, then the per-user default) and checks the credentials.
	sys := st.systemContext()
	applyRegistryOptions(sys, o.TLSVerify, o.CertDir, "")
	creds := o.Creds
	err = auth.Login(context.Background(), sys, &auth.LoginOptions{
		AuthFile: o.AuthFile,
		CertDir:  o.CertDir,
		Username: creds.Username,
		Password: creds.Password,
		Stdin:    strings.NewReader(""),
		Stdout:   io.Discard,
	}, []string{o.Registry})
	var invalid auth.ErrNewCredentialsInvalid
	if errors.As(err, &invalid) {
		return withKind("AuthenticationError", err)
	}
	return err
}

type logoutOptions struct {
	storeRef
	Registry string `json:"registry"`
	AuthFile string `json:"authfile"`
	All      bool   `json:"all"`
}

// PyBuildahLogout removes stored credentials; it returns false when there
// were none for the registry.
//
//export PyBuildahLogout
func PyBuildahLogout(args *C.char) *C.char {
	return call(args, func(o logoutOptions) (any, error) {
		st, err := o.optionalState()
		if err != nil {
			return nil, err
		}
		if o.Registry == "" && !o.All {
			return nil, kindf("InvalidArgument", "a registry to log out from is required")
		}
		var registries []string
		if !o.All {
			registries = []string{o.Registry}
		}
		err = auth.Logout(st.systemContext(), &auth.LogoutOptions{AuthFile: o.AuthFile, All: o.All, Stdout: io.Discard}, registries)
		if err != nil && strings.HasPrefix(err.Error(), "not logged into ") {
			return false, nil
		}
		if err != nil {
			return nil, err
		}
		return true, nil
	})
}

// optionalState is the store when the caller gave one, else an empty one
// whose system context holds only the host's configuration: logging in and
// out needs no storage, so it never opens (or creates) the default store.
func (r storeRef) optionalState() (*storeState, error) {
	if r.Store == 0 {
		return &storeState{}, nil
	}
	return r.state()
}

// PyBuildahSyncEnv copies environment variables from Python.  The Go
// runtime reads the environment once, when the library is loaded, but the
// places where credentials live (REGISTRY_AUTH_FILE, DOCKER_CONFIG,
// XDG_RUNTIME_DIR, HOME) should follow os.environ as Python sees it now.
// A null value unsets the variable.
//
//export PyBuildahSyncEnv
func PyBuildahSyncEnv(args *C.char) *C.char {
	return call(args, func(o struct {
		Env map[string]*string `json:"env"`
	}) (any, error) {
		for name, value := range o.Env {
			current, set := os.LookupEnv(name)
			switch {
			case value == nil && set:
				if err := os.Unsetenv(name); err != nil {
					return nil, err
				}
			case value != nil && (!set || current != *value):
				if err := os.Setenv(name, *value); err != nil {
					return nil, err
				}
			}
		}
		return nil, nil
	})
}
