// Package secret keeps secrets (registry passwords) out of every message
// that leaves the library: error messages and log lines.  A secret can
// reach a message in more than its raw form: Go's %q writes a NUL byte as
// \x00, JSON escapes quotes and control characters, URLs percent-encode,
// and an HTTP Authorization header carries base64("user:password").
// Scrub replaces every one of those forms.
package secret

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Mask replaces a secret in a message.
const Mask = "********"

// Forms lists the ways s may be written in a message, longest first (so
// that a longer escaped form is replaced before a raw form inside it).
func Forms(s string) []string {
	if s == "" {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	add := func(form string) {
		if form != "" && !seen[form] {
			seen[form] = true
			out = append(out, form)
		}
	}
	add(s)
	add(unquote(strconv.Quote(s)))
	add(unquote(strconv.QuoteToASCII(s)))
	add(unquote(strconv.QuoteToGraphic(s)))
	if data, err := json.Marshal(s); err == nil {
		add(unquote(string(data)))
	}
	add(jsonNoHTML(s))
	add(url.QueryEscape(s))
	add(url.PathEscape(s))
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

func unquote(q string) string { return q[1 : len(q)-1] }

func jsonNoHTML(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(s) != nil {
		return ""
	}
	return unquote(strings.TrimSuffix(b.String(), "\n"))
}

// Credentials are the secrets of "user:password" credentials: the password
// and the base64 of the pair that an Authorization header carries.
func Credentials(user, password string) []string {
	if password == "" {
		return nil
	}
	return []string{password, base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}
}

// Scrub replaces every form of every secret in msg.
func Scrub(msg string, secrets []string) string {
	for _, s := range secrets {
		for _, form := range Forms(s) {
			msg = strings.ReplaceAll(msg, form, Mask)
		}
	}
	return msg
}

// The secrets of the calls running now: log lines (Buildah's logrus output
// and build logs) are scrubbed of all of them, whichever call logged.
type hidden struct {
	sync.Mutex
	counts map[string]int
	list   []string
}

var active = hidden{counts: map[string]int{}}

// Hide adds secrets to the set that every log line is scrubbed of, until
// the returned function is called (at the end of the call that carried them).
func Hide(secrets []string) (release func()) {
	if len(secrets) == 0 {
		return func() {}
	}
	active.Lock()
	for _, s := range secrets {
		active.counts[s]++
	}
	active.refresh()
	active.Unlock()
	return func() {
		active.Lock()
		for _, s := range secrets {
			if active.counts[s]--; active.counts[s] <= 0 {
				delete(active.counts, s)
			}
		}
		active.refresh()
		active.Unlock()
	}
}

func (a *hidden) refresh() {
	a.list = a.list[:0:0]
	for s := range a.counts {
		a.list = append(a.list, s)
	}
}

// ScrubActive scrubs msg of the secrets of every call running now.
func ScrubActive(msg string) string {
	active.Lock()
	list := active.list
	active.Unlock()
	if len(list) == 0 {
		return msg
	}
	return Scrub(msg, list)
}

// InRequest reads the secrets a request carries before it is decoded (so
// that even a request the decoder refuses cannot echo them): the "creds"
// option, "user:password", whose password and whose whole text, if it has
// no colon, are secret; and the passphrases of signing keys ("sign_passphrase",
// and "passphrase" of a new key pair).
func InRequest(data []byte) []string {
	var request struct {
		Creds          *string `json:"creds"`
		SignPassphrase *string `json:"sign_passphrase"`
		Passphrase     *string `json:"passphrase"`
	}
	if json.Unmarshal(data, &request) != nil {
		return nil
	}
	var out []string
	for _, p := range []*string{request.SignPassphrase, request.Passphrase} {
		if p != nil && *p != "" {
			out = append(out, *p)
		}
	}
	if request.Creds == nil || *request.Creds == "" {
		return out
	}
	user, password, ok := strings.Cut(*request.Creds, ":")
	if !ok {
		return append(out, *request.Creds) // malformed: it may be all password
	}
	return append(out, Credentials(user, password)...)
}
