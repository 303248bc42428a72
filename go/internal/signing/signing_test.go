package signing

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/wire"
)

func TestKeyPairSignsAndRefusesAWrongPassphrase(t *testing.T) {
	dir := t.TempDir()
	pair, err := GenerateKeyPair(wire.KeyPairOptions{Directory: wire.Path(dir), Name: "k", Passphrase: "right"})
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(pair.PrivateKey); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode: %v %v", info, err)
	}
	s, err := SigstoreSigner(pair.PrivateKey, "right")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := SigstoreSigner(pair.PrivateKey, "wrong"); errkind.KindOf(err) != errkind.SignatureError {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := SigstoreSigner(filepath.Join(dir, "none"), "right"); errkind.KindOf(err) != errkind.SourceNotFound {
		t.Fatalf("missing key: %v", err)
	}
	if _, err := SigstoreSigner(pair.PublicKey, "right"); errkind.KindOf(err) != errkind.InvalidArgument {
		t.Fatalf("public key: %v", err)
	}
	if _, err := GenerateKeyPair(wire.KeyPairOptions{Directory: wire.Path(dir), Name: "k"}); errkind.KindOf(err) != errkind.InvalidArgument {
		t.Fatalf("overwrite: %v", err)
	}
	if _, err := GenerateKeyPair(wire.KeyPairOptions{Directory: wire.Path(dir), Name: "../k"}); errkind.KindOf(err) != errkind.InvalidArgument {
		t.Fatalf("a path as name: %v", err)
	}
}

func TestSignersCheckTheirOptions(t *testing.T) {
	passphrase := "secret"
	if _, secrets, err := Signers(wire.Signing{SignPassphrase: &passphrase}); errkind.KindOf(err) != errkind.InvalidArgument || len(secrets) != 1 {
		t.Fatalf("a passphrase without a key: %v %v", err, secrets)
	}
	if _, _, err := Signers(wire.Signing{SignBy: "ABCD"}); errkind.KindOf(err) != errkind.SigningNotSupported {
		t.Fatalf("GPG in an openpgp build: %v", err)
	}
	if signers, _, err := Signers(wire.Signing{}); err != nil || signers != nil {
		t.Fatalf("no signing: %v %v", signers, err)
	}
}

func TestPolicyPath(t *testing.T) {
	dir := t.TempDir()
	inline := []byte(`{"default":[{"type":"reject"}]}`)
	path, err := PolicyPath(&wire.Policy{Inline: inline}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); string(data) != string(inline) || !strings.HasPrefix(path, dir) {
		t.Fatalf("inline policy written as %s: %q", path, data)
	}
	again, err := PolicyPath(&wire.Policy{Inline: inline}, dir)
	if err != nil || again != path {
		t.Fatalf("the same policy, another file: %s %v", again, err)
	}
	if got, err := PolicyPath(&wire.Policy{Path: path}, dir); err != nil || got != path {
		t.Fatalf("a path: %s %v", got, err)
	}
	for _, bad := range []*wire.Policy{{Inline: []byte(`{"default":"x"}`)}, {Path: filepath.Join(dir, "none")}, {Path: ""}} {
		if _, err := PolicyPath(bad, dir); errkind.KindOf(err) != errkind.InvalidArgument {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
	if got, err := PolicyPath(nil, dir); got != "" || err != nil {
		t.Fatalf("no policy: %q %v", got, err)
	}
}
