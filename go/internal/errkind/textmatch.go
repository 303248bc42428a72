package errkind

// Every place where pybuildah reads an error's message text, because
// upstream offers no type or sentinel for the case.  Each function says why.
// Nothing outside this file may look into err.Error() to decide anything.

import (
	"regexp"
	"strconv"
	"strings"
	"syscall"
)

// errnoText: storage applies layers and Buildah's copier writes files in
// re-exec'd children, whose errors come back over a pipe as strings, so an
// errno from there is only visible as its text ("no space left on device").
func errnoText(err error, errno syscall.Errno) bool {
	return strings.Contains(err.Error(), errno.Error())
}

// plainHTTPText: net/http reports a plain-HTTP answer to a TLS client with
// an untyped errors.New ("server gave HTTP response to HTTPS client").
func plainHTTPText(err error) bool {
	return strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

// imageMissingText: some registry paths flatten errcode MANIFEST_UNKNOWN
// with %v ("manifest unknown"), and the archive transports flatten a missing
// file's *PathError with %v or say "archive file not found" in their own
// words, so neither errors.As nor errors.Is sees them.
func imageMissingText(ref string, err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "manifest unknown") ||
		fileReference(ref) && (strings.Contains(msg, "no such file or directory") || strings.Contains(msg, "archive file not found"))
}

// badReferenceText: libimage and the transports re-create reference errors
// with %v or their own untyped messages ("parsing image name", "invalid
// image name", "Invalid image name ..., unknown transport"), losing
// docker/reference's sentinels.
func badReferenceText(err error) bool {
	msg := strings.ToLower(err.Error())
	for _, text := range []string{"invalid reference format", "repository name must be lowercase", "parsing image name", "invalid image name", "unknown transport"} {
		if strings.Contains(msg, text) {
			return true
		}
	}
	return false
}

// CopierSourceMissing: COPY/ADD run the copier in a re-exec'd child, whose
// errors come back over a pipe as strings (copier.Response.Error), so a
// missing source or an empty glob is only visible in the text.
func CopierSourceMissing(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "no such file or directory") || strings.Contains(msg, "no items matching glob")
}

// ChecksumMismatchText: Buildah's getURL reports a URL source whose
// content does not match --checksum with a plain fmt.Errorf.
func ChecksumMismatchText(err error) bool {
	return strings.Contains(err.Error(), "unexpected response digest for ")
}

// ExecFormatLine: a RUN of a foreign program without an emulator fails in
// the chroot runtime, a re-exec'd child, which prints its ENOEXEC into the
// build log; the build's error says only "exit status 1".
func ExecFormatLine(line string) bool { return strings.Contains(line, syscall.ENOEXEC.Error()) }

// IntegrityText: containers/image reports a blob whose content does not
// match its digest (copy's digesting reader: "Digest did not match,
// expected ...") and a manifest or config over its size limit
// (iolimits.ReadAtMost: "exceeded maximum allowed size of N bytes") with
// untyped fmt.Errorf.  From a registry, both are the registry's fault.
func IntegrityText(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Digest did not match, expected ") || strings.Contains(msg, "exceeded maximum allowed size of ")
}

// TagUnknown: libimage's "tag not known" sentinel (errTagUnknown) is unexported.
func TagUnknown(err error) bool { return strings.Contains(err.Error(), "tag not known") }

// NeedsForce: libimage refuses to remove an image named by ID or digest
// that has several names with a plain fmt.Errorf ("... please force removal").
func NeedsForce(err error) bool { return strings.Contains(err.Error(), "please force removal") }

// NotLoggedIn: auth.Logout turns config.ErrNotLoggedIn into a new
// fmt.Errorf("not logged into %s") without %w.
func NotLoggedIn(err error) bool { return strings.HasPrefix(err.Error(), "not logged into ") }

// failedStepPattern: imagebuildah reports the failing step only in its
// message, `building at STEP "<text>": ...`; no field carries it.
var failedStepPattern = regexp.MustCompile(`building at STEP "((?s).*?)": `)

// FailedStepText returns the step text that err's message names, if any.
func FailedStepText(err error) (string, bool) {
	m := failedStepPattern.FindStringSubmatch(err.Error())
	if m == nil {
		return "", false
	}
	return m[1], true
}

// FailedStepIs reports whether err's message names the step printed as text.
func FailedStepIs(err error, text string) bool {
	return strings.Contains(err.Error(), `building at STEP "`+text+`": `)
}

var exitStatusPattern = regexp.MustCompile(`exit status (\d+)`)

// ExitStatusText: a RUN step's exit status is reported by the chroot
// runtime, a re-exec'd child, so BuildDockerfiles' error carries it as text
// ("exit status N") rather than as an *exec.ExitError.
func ExitStatusText(err error) (int, bool) {
	m := exitStatusPattern.FindStringSubmatch(err.Error())
	if m == nil {
		return 0, false
	}
	code, convErr := strconv.Atoi(m[1])
	return code, convErr == nil
}

// CleanMessage keeps upstream's own words but drops anything that looks
// like a Go stack trace (panics and some wrapped errors append one).
func CleanMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "\ngoroutine "); i >= 0 {
		msg = msg[:i]
	}
	return strings.TrimSpace(msg)
}

// BadRunMount: Buildah parses RunOptions.RunMounts (buildah run --mount)
// while it sets the run up, in its internal/volumes package, whose
// sentinels (errBadMntOption, errBadVolDest, ...) are unexported; every
// such failure comes back wrapped in "resolving mountpoints for container".
func BadRunMount(err error) bool {
	return strings.Contains(err.Error(), "resolving mountpoints for container")
}

// SeveralDriversText: containers/storage refuses a store that holds the
// layers of several graph drivers with a plain fmt.Errorf ("ROOT contains
// several valid graphdrivers: vfs, overlay; Please cleanup or ...").
// It returns the part before buildah's own advice ("-s <DRIVER>").
func SeveralDriversText(err error) (string, bool) {
	msg := err.Error()
	if !strings.Contains(msg, "contains several valid graphdrivers") {
		return "", false
	}
	if i := strings.Index(msg, "; Please cleanup"); i >= 0 {
		msg = msg[:i]
	}
	return msg, true
}

// AttachmentsDisabledText: containers/image refuses to write a sigstore
// signature where registries.d does not enable sigstore attachments with
// an untyped errors.New ("writing sigstore attachments is disabled by
// configuration").
func AttachmentsDisabledText(err error) bool {
	return strings.Contains(err.Error(), "writing sigstore attachments is disabled by configuration")
}
