package secret

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestScrubEveryForm(t *testing.T) {
	for _, s := range []string{"pa\x00ss", `q"uo'te\back`, "new\nline\ttab", "ünï€😀", "a<b>&c", "plain-secret", "sp ace/sl+ash?"} {
		js, _ := json.Marshal(s)
		messages := []string{
			"raw " + s,
			fmt.Sprintf("go %q", s),
			fmt.Sprintf("go %+q", s),
			fmt.Sprintf("go %#v", s),
			fmt.Sprintf("errors: %v", fmt.Errorf("wrapped %q", s)),
			"json " + string(js),
			"url " + url.QueryEscape(s) + " " + url.PathEscape(s),
		}
		for _, m := range messages {
			got := Scrub(m, []string{s})
			for _, form := range Forms(s) {
				if strings.Contains(got, form) {
					t.Errorf("Scrub(%q) = %q still holds %q", m, got, form)
				}
			}
			if !strings.Contains(got, Mask) {
				t.Errorf("Scrub(%q) = %q masks nothing", m, got)
			}
		}
	}
}

func TestCredentialsIncludeTheAuthorizationHeader(t *testing.T) {
	got := Scrub("Authorization: Basic Ym9iOnB3LXNlY3JldA==", Credentials("bob", "pw-secret"))
	if strings.Contains(got, "Ym9i") {
		t.Errorf("header not scrubbed: %q", got)
	}
	if Credentials("bob", "") != nil {
		t.Error("no password, no secret")
	}
}

func TestHideScrubsLogLinesWhileACallRuns(t *testing.T) {
	release := Hide([]string{"s3cret"})
	again := Hide([]string{"s3cret"})
	if got := ScrubActive("level=debug msg=\"s3cret\""); strings.Contains(got, "s3cret") {
		t.Errorf("active secret shown: %q", got)
	}
	release()
	if got := ScrubActive("s3cret"); got != Mask {
		t.Errorf("a second call still holds it: %q", got)
	}
	again()
	if got := ScrubActive("s3cret"); got != "s3cret" {
		t.Errorf("released secret still scrubbed: %q", got)
	}
}

func TestInRequest(t *testing.T) {
	for data, want := range map[string][]string{
		`{"creds": "bob:p\u0000w"}`:                  {"p\x00w", "Ym9iOnAAdw=="},
		`{"creds": "nocolon"}`:                       {"nocolon"},
		`{"creds": null, "ref": "x"}`:                nil,
		`{"creds": 5}`:                               nil,
		`not json`:                                   nil,
		`{"sign_passphrase": "pp", "creds": "u:pw"}`: {"pp", "pw", "dTpwdw=="},
		`{"passphrase": "kp"}`:                       {"kp"},
		`{"sign_passphrase": ""}`:                    nil,
	} {
		if got := InRequest([]byte(data)); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("InRequest(%s) = %q, want %q", data, got, want)
		}
	}
}
