// Package validate checks option values before anything runs, with the
// messages Python shows.  Pure functions: no store, no cgo.
package validate

import (
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/common/pkg/capabilities"
	"golang.org/x/sys/unix"

	"pybuildah.dev/shim/internal/enums"
	"pybuildah.dev/shim/internal/errkind"
)

func invalid(format string, args ...any) error {
	return errkind.New(errkind.InvalidArgument, format, args...)
}

// Port accepts PORT[-PORT][/tcp|udp|sctp] with ports from 1 to 65535.
func Port(spec string) error {
	bad := invalid("invalid port %q: expected NUMBER[-NUMBER][/tcp|/udp|/sctp] with numbers from 1 to 65535", spec)
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

// Chmod accepts an octal mode ("" means unset).
func Chmod(mode string) error {
	if mode == "" {
		return nil
	}
	if bits, err := strconv.ParseUint(mode, 8, 32); err != nil || bits > 0o7777 {
		return invalid("invalid chmod %q: expected an octal mode from 0 to 7777, such as 0755", mode)
	}
	return nil
}

// MaxID is the largest user or group ID (2^32-1 is the kernel's "no ID").
const MaxID = math.MaxUint32 - 1

// User accepts a config's USER[:GROUP]: names, or numeric IDs from 0 to
// MaxID ("-1" or "4294967296" is neither a name nor an ID).
func User(spec string) error {
	for _, part := range strings.SplitN(spec, ":", 2) {
		if strings.TrimLeft(part, "-+0123456789") != "" || part == "" {
			continue // a name (or an empty group)
		}
		if id, err := strconv.ParseInt(part, 10, 64); err != nil || id < 0 || id > MaxID || part[0] == '+' {
			return invalid("invalid user %q: a numeric ID must be from 0 to %d", spec, MaxID)
		}
	}
	return nil
}

// Environment checks the names of a NAME -> VALUE map (run's and build's
// env=) and returns NAME=VALUE items, sorted by name.
func Environment(env map[string]string) ([]string, error) {
	names := make([]string, 0, len(env))
	for name := range env {
		switch {
		case name == "":
			return nil, invalid("env: a variable needs a name")
		case strings.Contains(name, "="):
			return nil, invalid("env: the name %q must not contain \"=\": it would be read as NAME=VALUE", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]string, 0, len(names))
	for _, name := range names {
		out = append(out, name+"="+env[name])
	}
	return out, nil
}

// Timestamps an image can record: its JSON time format holds years 1 to 9999.
const (
	MinTimestamp = -62135596800 // 0001-01-01T00:00:00Z
	MaxTimestamp = 253402300799 // 9999-12-31T23:59:59Z
)

// Timestamp turns seconds since the epoch into a time an image's config and
// history can hold (what says which option); a build's source_date_epoch
// must also not be negative (SOURCE_DATE_EPOCH's own rule).
func Timestamp(what string, seconds int64) (time.Time, error) {
	if seconds < MinTimestamp || seconds > MaxTimestamp {
		return time.Time{}, invalid("%s %d is outside the years 1 to 9999 that an image can record (%d to %d)",
			what, seconds, int64(MinTimestamp), int64(MaxTimestamp))
	}
	return time.Unix(seconds, 0).UTC(), nil
}

// Chown accepts USER[:GROUP] or :GROUP, names or numeric IDs ("" means
// unset); whether the names exist is for the container's files to say.
func Chown(spec string) error {
	if spec == "" {
		return nil
	}
	user, group, _ := strings.Cut(spec, ":")
	if user == "" && group == "" || strings.Contains(group, ":") || strings.ContainsAny(spec, "\x00\n") {
		return invalid("invalid chown %q: expected USER[:GROUP] with names or numeric IDs", spec)
	}
	return nil
}

// EnvName accepts an environment variable name: non-empty, without "=".
func EnvName(name string) error {
	if name == "" || strings.Contains(name, "=") {
		return invalid("invalid environment variable name %q", name)
	}
	return nil
}

// Name accepts the name of a label, annotation or build argument
// (what says which): non-empty, without "=".
func Name(what, name string) error {
	if name == "" {
		return invalid("a %s needs a name", what)
	}
	if strings.Contains(name, "=") {
		return invalid("invalid %s name %q: it must not contain \"=\"", what, name)
	}
	return nil
}

// Assignments checks NAME=VALUE items (build labels and annotations).
func Assignments(what string, items []string) error {
	for _, item := range items {
		name, _, ok := strings.Cut(item, "=")
		if !ok {
			return invalid("invalid %s %q: expected NAME=VALUE", what, item)
		}
		if err := Name(what, name); err != nil {
			return err
		}
	}
	return nil
}

// Command picks the argv of a Run: exactly one of command (non-empty, its
// first element non-empty) and shell (non-blank, run by /bin/sh -c).
func Command(command []string, shell *string) ([]string, error) {
	switch {
	case shell != nil && len(command) > 0:
		return nil, invalid("give a command or a shell string, not both")
	case shell != nil:
		if strings.TrimSpace(*shell) == "" {
			return nil, invalid("no command given: the shell string is blank")
		}
		return []string{"/bin/sh", "-c", *shell}, nil
	case len(command) == 0:
		return nil, invalid("no command given")
	case command[0] == "":
		return nil, invalid("no command given: the program name is empty")
	}
	return command, nil
}

// Destination refuses a file transport without a path (oci-archive:),
// with which Buildah would write into the current directory.
func Destination(reference string) error {
	transport, rest, ok := strings.Cut(reference, ":")
	if !ok {
		return nil
	}
	for _, t := range enums.FileTransports {
		if transport == t {
			path, _, _ := strings.Cut(rest, ":")
			if strings.TrimSpace(path) == "" {
				return errkind.New(errkind.InvalidReference, "%q: the %s transport needs a path, e.g. %s:/tmp/image", reference, transport, transport)
			}
		}
	}
	return nil
}

// Jobs is the number of parallel build jobs: absent means 1, else ≥ 1.
func Jobs(jobs *int) (int, error) {
	if jobs == nil {
		return 1, nil
	}
	if *jobs < 1 {
		return 0, invalid("jobs must be a positive integer, not %d", *jobs)
	}
	return *jobs, nil
}

var realtime = regexp.MustCompile(`^SIGRT(MIN|MAX)([+-][0-9]+)?$`)

// Linux's real-time signals: SIGRTMIN is 34 and SIGRTMAX 64 as the C library
// numbers them (glibc keeps 32 and 33), so SIGRTMIN+n and SIGRTMAX-n take n
// from 0 to 30.
const realtimeSpan = 30

// realtimeInRange reports whether name is SIGRTMIN[+n] or SIGRTMAX[-n] naming a
// real-time signal (SIGRTMAX+5 names none).
func realtimeInRange(name string) bool {
	m := realtime.FindStringSubmatch(name)
	if m == nil {
		return false
	}
	if m[2] == "" {
		return true
	}
	n, err := strconv.Atoi(m[2][1:])
	if err != nil || n > realtimeSpan {
		return false
	}
	return n == 0 || (m[1] == "MIN") == (m[2][0] == '+')
}

// Hostname accepts a RUN's hostname: at most 64 bytes, the kernel's
// HOST_NAME_MAX ("" is the container's default).
func Hostname(name string) error {
	if len(name) > 64 {
		return invalid("hostname %q is %d bytes long: the kernel takes at most 64", name, len(name))
	}
	return nil
}

// Signal accepts a stop signal: a name with or without "SIG" in any case
// (SIGTERM, term, SIGRTMIN+3) or a number from 1 to 64.
func Signal(sig string) error {
	if n, err := strconv.Atoi(sig); err == nil {
		if n >= 1 && n <= 64 {
			return nil
		}
	} else if name := strings.ToUpper(sig); name != "" {
		if !strings.HasPrefix(name, "SIG") {
			name = "SIG" + name
		}
		if unix.SignalNum(name) != 0 || realtimeInRange(name) {
			return nil
		}
	}
	return invalid("invalid stop signal %q: expected a signal name such as SIGTERM or a number from 1 to 64", sig)
}

// Capabilities accepts capability names as buildah run --cap-add and
// --cap-drop do ("CAP_NET_RAW", "net_raw", "all") and returns them in
// their canonical form.
func Capabilities(what string, caps []string) ([]string, error) {
	if len(caps) == 0 {
		return nil, nil
	}
	out, err := capabilities.NormalizeCapabilities(caps)
	if err != nil {
		return nil, invalid("%s: %v", what, err)
	}
	return out, nil
}

// Checksum accepts a digest such as "sha256:<64 hex digits>" for the URL
// sources of COPY/ADD, as buildah add --checksum does ("" means unset); it
// makes no sense for any other source.
func Checksum(checksum string, sources []string, isURL func(string) bool) error {
	if checksum == "" {
		return nil
	}
	if _, err := digest.Parse(checksum); err != nil {
		return invalid("invalid checksum %q: %v", checksum, err)
	}
	for _, src := range sources {
		if !isURL(src) {
			return invalid("checksum applies only to URL sources, not %q", src)
		}
	}
	return nil
}

// Timeout is a run's time limit in seconds: absent means none, else a
// finite number above zero (at most a year, which time.Duration holds).
func Timeout(seconds *float64) (time.Duration, error) {
	if seconds == nil {
		return 0, nil
	}
	s := *seconds
	if math.IsNaN(s) || s <= 0 || s > 366*24*3600 {
		return 0, invalid("timeout must be a number of seconds above 0 (and at most a year), not %v", s)
	}
	return time.Duration(s * float64(time.Second)), nil
}

// Duration parses a Go duration string ("30s", "1m30s") that must not be
// negative, as buildah config's --healthcheck-* durations.
func Duration(what, spec string) (time.Duration, error) {
	d, err := time.ParseDuration(spec)
	if err != nil {
		return 0, invalid("%s %q is not a duration such as \"30s\" or \"1m30s\"", what, spec)
	}
	if d < 0 {
		return 0, invalid("%s %q must not be negative", what, spec)
	}
	return d, nil
}
