package errkind

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io/fs"
	"net"
	"net/url"
	"os/exec"
	"os/user"
	"strings"
	"syscall"

	"github.com/docker/distribution/registry/api/errcode"
	errcodev2 "github.com/docker/distribution/registry/api/v2"
	"go.podman.io/buildah/pkg/chrootuser"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/transports"
	"go.podman.io/storage"
)

// generic maps storage's and the OS's sentinels.
func generic(err error) (Kind, *int) {
	var ee *exec.ExitError
	switch {
	case errors.Is(err, storage.ErrImageUnknown):
		return ImageNotFound, nil
	case errors.Is(err, storage.ErrContainerUnknown), errors.Is(err, storage.ErrNotAContainer):
		return ContainerNotFound, nil
	case errors.Is(err, storage.ErrImageUsedByContainer):
		return ImageInUse, nil
	case errors.Is(err, storage.ErrStoreIsReadOnly):
		return StoreError, nil
	case errors.Is(err, fs.ErrNotExist):
		return SourceNotFound, nil
	case errors.As(err, &ee):
		code := ee.ExitCode()
		return RunError, &code
	}
	return "", nil
}

// NoSpace returns ENOSPC or EDQUOT when err says a file system ran out of
// space or quota (0 otherwise): as an errno from this process, or as the
// text of one from a re-exec'd child (layer application, the copier).
func NoSpace(err error) syscall.Errno {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT} {
		if errors.Is(err, errno) || errnoText(err, errno) {
			return errno
		}
	}
	return 0
}

// ContainerGone reports whether err says that a working container does not exist.
func ContainerGone(err error) bool {
	return errors.Is(err, storage.ErrContainerUnknown) || errors.Is(err, storage.ErrNotAContainer)
}

// UnknownUser reports whether err is a failed user or group lookup in a
// container (chown, RUN as a user).
func UnknownUser(err error) bool {
	var (
		unknownUser  user.UnknownUserError
		unknownGroup user.UnknownGroupError
	)
	return errors.Is(err, chrootuser.ErrNoSuchUser) || errors.As(err, &unknownUser) || errors.As(err, &unknownGroup)
}

// BadReference reports whether err is one of the reference parser's errors.
func BadReference(err error) bool {
	for _, sentinel := range []error{
		reference.ErrReferenceInvalidFormat, reference.ErrTagInvalidFormat, reference.ErrDigestInvalidFormat,
		reference.ErrNameContainsUppercase, reference.ErrNameEmpty, reference.ErrNameTooLong,
		reference.ErrNameNotCanonical,
	} {
		if errors.Is(err, sentinel) {
			return true
		}
	}
	return false
}

// Image classifies a failure to find, parse or read an image reference
// (NewBuilder, Pull, Push, inspect); explicit kinds stay.
func Image(ref string, err error) error {
	if err == nil || HasKind(err) {
		return err
	}
	switch {
	case registryReference(ref) && IntegrityText(err):
		return Wrap(RegistryError, err)
	case errors.Is(err, storage.ErrImageUnknown), fileReference(ref) && errors.Is(err, fs.ErrNotExist),
		imageMissingText(ref, err):
		return Wrap(ImageNotFound, err)
	case BadReference(err), badReferenceText(err):
		return Wrap(InvalidReference, err)
	}
	return err
}

// registryReference reports whether ref names an image in a registry:
// docker://, or a name without another transport (host:port/name:tag).
func registryReference(ref string) bool {
	name, _, ok := strings.Cut(ref, ":")
	return strings.HasPrefix(ref, "docker://") || !ok || transports.Get(name) == nil
}

// fileReference reports whether ref names a path (oci-archive:/x.tar).
func fileReference(ref string) bool {
	return !strings.Contains(ref, "://") && strings.Contains(ref, ":/")
}

// Registry names the kind of a registry failure, or "" when err is not one.
func Registry(err error) Kind {
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
		netErr       net.Error
	)
	var (
		policyErr    signature.PolicyRequirementError
		signatureErr signature.InvalidSignatureError
	)
	switch {
	case errors.As(err, &policyErr), errors.As(err, &signatureErr):
		// The signature policy refused the image before any layer was read.
		return SignatureError
	case errors.As(err, &netErr) && netErr.Timeout():
		// A connection that made no progress for the idle timeout
		// (sysctx.DefaultIdleTimeout), or a dial or TLS handshake that timed out.
		return RegistryTimeout
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr),
		errors.As(err, &invalidCert), errors.As(err, &recordErr), plainHTTPText(err):
		return TLSError
	case errors.As(err, &unauthorized):
		return AuthenticationError
	case errors.As(err, &codeErr):
		return errcodeKind(codeErr)
	case errors.As(err, &codeErrs) && len(codeErrs) > 0:
		if first, ok := codeErrs[0].(errcode.Error); ok {
			return errcodeKind(first)
		}
		return RegistryError
	case errors.As(err, &statusErr):
		switch statusErr.StatusCode {
		case 401, 403:
			return AuthenticationError
		}
		return RegistryError
	case errors.Is(err, docker.ErrTooManyRequests),
		errors.As(err, &urlErr), errors.As(err, &opErr), errors.As(err, &dnsErr):
		return RegistryError
	}
	return ""
}

func errcodeKind(e errcode.Error) Kind {
	switch e.Code {
	case errcode.ErrorCodeUnauthorized, errcode.ErrorCodeDenied:
		return AuthenticationError
	case errcodev2.ErrorCodeManifestUnknown, errcodev2.ErrorCodeNameUnknown:
		return ImageNotFound
	}
	return RegistryError
}
