package errkind

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"syscall"
	"testing"

	"github.com/docker/distribution/registry/api/errcode"
	errcodev2 "github.com/docker/distribution/registry/api/v2"
	"go.podman.io/buildah/pkg/chrootuser"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/signature"
	_ "go.podman.io/image/v5/transports/alltransports" // the transports, as the library registers them
	"go.podman.io/storage"
)

func TestDescribeByType(t *testing.T) {
	exitErr := exec.Command("sh", "-c", "exit 3").Run()
	cases := []struct {
		err  error
		want Kind
	}{
		{New(ContextError, "explicit"), ContextError},
		{fmt.Errorf("outer: %w", New(ImageInUse, "inner")), ImageInUse},
		{fmt.Errorf("x: %w", storage.ErrImageUnknown), ImageNotFound},
		{fmt.Errorf("x: %w", storage.ErrContainerUnknown), ContainerNotFound},
		{fmt.Errorf("x: %w", storage.ErrNotAContainer), ContainerNotFound},
		{fmt.Errorf("x: %w", storage.ErrImageUsedByContainer), ImageInUse},
		{fmt.Errorf("x: %w", storage.ErrStoreIsReadOnly), StoreError},
		{fmt.Errorf("x: %w", os.ErrNotExist), SourceNotFound},
		{fmt.Errorf("x: %w", exitErr), RunError},
		{fmt.Errorf("x: %w", x509.UnknownAuthorityError{}), TLSError},
		{errors.New("Get https://x: http: server gave HTTP response to HTTPS client"), TLSError},
		{fmt.Errorf("x: %w", docker.ErrUnauthorizedForCredentials{}), AuthenticationError},
		{fmt.Errorf("x: %w", errcode.ErrorCodeDenied.WithMessage("no")), AuthenticationError},
		{fmt.Errorf("x: %w", errcodev2.ErrorCodeManifestUnknown.WithMessage("gone")), ImageNotFound},
		{errcode.Errors{errcodev2.ErrorCodeNameUnknown.WithMessage("gone")}, ImageNotFound},
		{fmt.Errorf("x: %w", errcode.ErrorCodeUnsupported.WithMessage("no")), RegistryError},
		{fmt.Errorf("x: %w", docker.UnexpectedHTTPStatusError{StatusCode: 403}), AuthenticationError},
		{fmt.Errorf("x: %w", docker.UnexpectedHTTPStatusError{StatusCode: 500}), RegistryError},
		{fmt.Errorf("x: %w", &net.OpError{Op: "dial", Err: errors.New("refused")}), RegistryError},
		{errors.New("something else"), BuildahError},
		// "user" in a message no longer decides anything.
		{errors.New("user gid uid group looking up"), BuildahError},
	}
	for _, c := range cases {
		if got := Describe(c.err).Kind; got != c.want {
			t.Errorf("Describe(%v) = %s, want %s", c.err, got, c.want)
		}
	}
	if code := Describe(exitErr).ExitCode; code == nil || *code != 3 {
		t.Errorf("exit code: %v", code)
	}
}

func TestImage(t *testing.T) {
	cases := []struct {
		ref  string
		err  error
		want Kind
	}{
		{"x", fmt.Errorf("x: %w", storage.ErrImageUnknown), ImageNotFound},
		{"X::Y", fmt.Errorf("parsing: %w", reference.ErrReferenceInvalidFormat), InvalidReference},
		{"Upper", fmt.Errorf("parsing: %w", reference.ErrNameContainsUppercase), InvalidReference},
		{"X::Y", errors.New("invalid reference format"), InvalidReference},
		{"oci-archive:/nope.tar", errors.New("open /nope.tar: no such file or directory"), ImageNotFound},
		{"docker://r/x", errors.New("reading manifest: manifest unknown"), ImageNotFound},
		{"x", New(TLSError, "kept"), TLSError},
		{"127.0.0.1:5000/x:1", errors.New("reading blob sha256:1: Digest did not match, expected sha256:1, got sha256:2"), RegistryError},
		{"docker://r/x", errors.New("reading manifest 1: exceeded maximum allowed size of 4194304 bytes"), RegistryError},
		{"oci-archive:/x.tar", errors.New("exceeded maximum allowed size of 1048576 bytes"), BuildahError},
	}
	for _, c := range cases {
		if got := Describe(Image(c.ref, c.err)).Kind; got != c.want {
			t.Errorf("Image(%q, %v) = %s, want %s", c.ref, c.err, got, c.want)
		}
	}
	if Image("x", nil) != nil {
		t.Error("nil stays nil")
	}
}

func TestUnknownUser(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("looking up UID/GID for %q: determining run uid: %w", "nosuchuser", chrootuser.ErrNoSuchUser),
		fmt.Errorf("determining run gid: %w", user.UnknownGroupError("error looking up group \"g\"")),
	} {
		if !UnknownUser(err) {
			t.Errorf("UnknownUser(%v) = false", err)
		}
	}
	if UnknownUser(errors.New("user not found")) {
		t.Error("text alone must not count")
	}
}

func TestRedactKeepsKindAndHidesSecrets(t *testing.T) {
	err := Redact(fmt.Errorf("auth as bob:hunter2 failed: %w", docker.ErrUnauthorizedForCredentials{}), []string{"hunter2", ""})
	d := Describe(err)
	if d.Kind != AuthenticationError || strings.Contains(d.Message, "hunter2") || !strings.Contains(d.Message, "********") {
		t.Errorf("Redact: %+v", d)
	}
	if Redact(nil, []string{"x"}) != nil {
		t.Error("nil stays nil")
	}
}

func TestCleanMessageDropsStackTraces(t *testing.T) {
	if got := CleanMessage(errors.New("boom \ngoroutine 1 [running]:\nmain.main()")); got != "boom" {
		t.Errorf("CleanMessage = %q", got)
	}
}

func TestTextMatchers(t *testing.T) {
	if !TagUnknown(errors.New("x: tag not known")) || !NeedsForce(errors.New("... please force removal")) ||
		!NotLoggedIn(errors.New("not logged into r.example")) || !CopierSourceMissing(errors.New("no items matching glob \"x*\"")) {
		t.Error("a matcher missed its text")
	}
	err := errors.New(`building at STEP "RUN false": exit status 7`)
	if !FailedStepIs(err, "RUN false") || FailedStepIs(err, "RUN true") {
		t.Error("FailedStepIs")
	}
	if code, ok := ExitStatusText(err); !ok || code != 7 {
		t.Errorf("ExitStatusText = %d, %v", code, ok)
	}
}

func TestAllKindsAreDistinct(t *testing.T) {
	seen := map[Kind]bool{}
	for _, k := range All() {
		if seen[k] {
			t.Errorf("duplicate kind %s", k)
		}
		seen[k] = true
	}
	if len(seen) != 23 {
		t.Errorf("%d kinds", len(seen))
	}
}

func TestFailedStepText(t *testing.T) {
	text, ok := FailedStepText(errors.New("building at STEP \"RUN a\nb\": boom"))
	if !ok || text != "RUN a\nb" {
		t.Errorf("FailedStepText = %q, %v", text, ok)
	}
	if _, ok := FailedStepText(errors.New("other")); ok {
		t.Error("matched")
	}
	if Describe(Image("oci-archive:/x.tar", fmt.Errorf("open: %w", os.ErrNotExist))).Kind != ImageNotFound {
		t.Error("missing archive by type")
	}
}

func TestImageMissingArchiveAndUnknownTransport(t *testing.T) {
	missing := errors.New(`creating temp directory: archive file not found: "/tmp/no.tar"`)
	if got := Describe(Image("oci-archive:/tmp/no.tar", missing)).Kind; got != ImageNotFound {
		t.Errorf("missing archive: %s", got)
	}
	bogus := errors.New(`Invalid image name "bogus://x", unknown transport "bogus"`)
	if got := Describe(Image("bogus://x", bogus)).Kind; got != InvalidReference {
		t.Errorf("unknown transport: %s", got)
	}
}

func TestNoSpaceIsAStoreErrorWithItsErrno(t *testing.T) {
	for _, c := range []struct {
		err   error
		errno syscall.Errno
	}{
		{fmt.Errorf("writing blob: %w", &os.PathError{Op: "write", Path: "/x", Err: syscall.ENOSPC}), syscall.ENOSPC},
		{errors.New(`adding layer with blob "sha256:x": processing tar file(write /big: no space left on device): exit status 1`), syscall.ENOSPC},
		{fmt.Errorf("x: %w", syscall.EDQUOT), syscall.EDQUOT},
		{fmt.Errorf("wrapped exit: %w: %w", &exec.ExitError{}, syscall.ENOSPC), syscall.ENOSPC},
	} {
		d := Describe(c.err)
		if d.Kind != StoreError || d.Errno == nil || *d.Errno != int(c.errno) {
			t.Errorf("Describe(%v) = %s, errno %v", c.err, d.Kind, d.Errno)
		}
		if r := Describe(Redact(c.err, []string{"secret"})); r.Errno == nil || *r.Errno != int(c.errno) {
			t.Errorf("Redact lost the errno of %v", c.err)
		}
	}
	if d := Describe(errors.New("no space for you")); d.Kind != BuildahError || d.Errno != nil {
		t.Errorf("plain text: %+v", d)
	}
}

func TestPolicyRefusalsAreSignatureErrors(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("Source image rejected: %w", signature.PolicyRequirementError("A signature was required, but no signature exists")),
		fmt.Errorf("copying: %w", signature.InvalidSignatureError{}),
	} {
		if got := Describe(err).Kind; got != SignatureError {
			t.Errorf("%v: %s", err, got)
		}
	}
}
