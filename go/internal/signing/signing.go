// Package signing signs images on push (sigstore keys; GPG where the build
// can sign), makes sigstore key pairs, and turns a call's signature policy
// (a path or the policy itself) into the policy.json path that
// containers/image and Buildah read.
package signing

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/signature/signer"
	"go.podman.io/image/v5/signature/sigstore"

	"pybuildah.dev/shim/internal/errkind"
	"pybuildah.dev/shim/internal/wire"
)

// Signers checks a push's signing options before anything is sent and
// returns the signers to hand to the copy (the caller closes them), and
// the secrets no message may show (the passphrase).
func Signers(o wire.Signing) ([]*signer.Signer, []string, error) {
	var secrets []string
	if o.SignPassphrase != nil && *o.SignPassphrase != "" {
		secrets = append(secrets, *o.SignPassphrase)
	}
	if o.SignBy != "" {
		if err := CanSignGPG(); err != nil {
			return nil, secrets, err
		}
	}
	if o.SignBySigstoreKey == "" {
		if o.SignPassphrase != nil && o.SignBy == "" {
			return nil, secrets, errkind.New(errkind.InvalidArgument, "sign_passphrase needs a key to sign with (sign_by_sigstore_key)")
		}
		return nil, secrets, nil
	}
	passphrase := ""
	if o.SignPassphrase != nil {
		passphrase = *o.SignPassphrase
	}
	s, err := SigstoreSigner(string(o.SignBySigstoreKey), passphrase)
	if err != nil {
		return nil, secrets, err
	}
	return []*signer.Signer{s}, secrets, nil
}

// SigstoreSigner opens a sigstore private key: a missing file is
// SourceNotFound, a file that holds no private key InvalidArgument, and a
// key the passphrase does not decrypt SignatureError.
func SigstoreSigner(path, passphrase string) (*signer.Signer, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errkind.New(errkind.SourceNotFound, "sigstore private key %s does not exist", path)
	}
	if err != nil {
		return nil, errkind.New(errkind.InvalidArgument, "cannot read sigstore private key: %v", err)
	}
	if block, _ := pem.Decode(data); block == nil || !strings.HasSuffix(block.Type, "PRIVATE KEY") {
		return nil, errkind.New(errkind.InvalidArgument, "%s is not a sigstore private key (an encrypted PEM private key, as cosign or generate_sigstore_key_pair write)", path)
	}
	s, err := sigstore.NewSigner(sigstore.WithPrivateKeyFile(path, []byte(passphrase)))
	if err != nil {
		return nil, errkind.New(errkind.SignatureError, "cannot use sigstore private key %s: %v (wrong passphrase?)", path, errors.Unwrap(err))
	}
	return s, nil
}

// CanSignGPG is nil when this build can make GPG ("simple signing")
// signatures.  pybuildah is built with containers_image_openpgp (no
// libgpgme at run time), whose mechanism verifies but cannot sign.
func CanSignGPG() error {
	mech, err := signature.NewGPGSigningMechanism()
	if err != nil {
		return errkind.New(errkind.SigningNotSupported, "GPG signing is not available: %v", err)
	}
	defer mech.Close()
	if err := mech.SupportsSigning(); err != nil {
		return errkind.New(errkind.SigningNotSupported,
			"sign_by (GPG) cannot sign in this build: %v; sign with a sigstore key (sign_by_sigstore_key) instead", err)
	}
	return nil
}

// GenerateKeyPair writes a new sigstore key pair, as skopeo
// generate-sigstore-key does: dir/name.private (encrypted with the
// passphrase, mode 0600) and dir/name.pub.  Existing files are never replaced.
func GenerateKeyPair(o wire.KeyPairOptions) (*wire.KeyPair, error) {
	if strings.ContainsRune(o.Name, '/') || o.Name == "." || o.Name == ".." {
		return nil, errkind.New(errkind.InvalidArgument, "a key pair's name is a file name, not %q", o.Name)
	}
	dir := string(o.Directory)
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return nil, errkind.New(errkind.InvalidArgument, "directory %q does not exist or is not a directory", dir)
	}
	out := &wire.KeyPair{PrivateKey: filepath.Join(dir, o.Name+".private"), PublicKey: filepath.Join(dir, o.Name+".pub")}
	for _, path := range []string{out.PrivateKey, out.PublicKey} {
		if _, err := os.Lstat(path); err == nil {
			return nil, errkind.New(errkind.InvalidArgument, "%s exists; a key pair never replaces a file", path)
		}
	}
	pair, err := sigstore.GenerateKeyPair([]byte(o.Passphrase))
	if err != nil {
		return nil, err
	}
	if err := writeNew(out.PrivateKey, pair.PrivateKey, 0o600); err != nil {
		return nil, err
	}
	if err := writeNew(out.PublicKey, pair.PublicKey, 0o644); err != nil {
		_ = os.Remove(out.PrivateKey)
		return nil, err
	}
	return out, nil
}

// writeNew creates path (failing if it exists) with data.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return errkind.New(errkind.InvalidArgument, "cannot create %s: %v", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		_ = os.Remove(path)
		return errkind.Wrap(errkind.StoreError, err)
	}
	return f.Close()
}

// PolicyPath is the policy.json path for a call's signature policy: a path
// is checked (it must exist and parse); an inline policy is checked and
// written once, named by its digest, into dir (the process's scratch
// directory).  Nil is "" (the store's policy).
func PolicyPath(p *wire.Policy, dir string) (string, error) {
	if p == nil {
		return "", nil
	}
	if p.Inline == nil {
		if p.Path == "" {
			return "", errkind.New(errkind.InvalidArgument, "signature_policy must not be empty")
		}
		if _, err := os.Stat(p.Path); err != nil {
			return "", errkind.New(errkind.InvalidArgument, "signature policy %s: %v", p.Path, errors.Unwrap(err))
		}
		if _, err := signature.NewPolicyFromFile(p.Path); err != nil {
			return "", errkind.New(errkind.InvalidArgument, "signature policy: %v", err)
		}
		return p.Path, nil
	}
	if _, err := signature.NewPolicyFromBytes(p.Inline); err != nil {
		return "", errkind.New(errkind.InvalidArgument, "signature policy: %v", err)
	}
	if dir == "" {
		dir = os.TempDir()
	}
	sum := sha256.Sum256(p.Inline)
	path := filepath.Join(dir, "policy-"+hex.EncodeToString(sum[:8])+".json")
	if existing, err := os.ReadFile(path); err == nil && string(existing) == string(p.Inline) {
		return path, nil
	}
	tmp, err := os.CreateTemp(dir, "policy-*.tmp") // mode 0600
	if err != nil {
		return "", errkind.Wrap(errkind.StoreError, err)
	}
	_, err = tmp.Write(p.Inline)
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return "", errkind.Wrap(errkind.StoreError, err)
	}
	return path, nil
}
