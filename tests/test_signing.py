"""Sigstore signing on push and signature policies on pull, Builder() and build(), against real oracles.

In the local registry (tests/registry.py): images signed by pybuildah must verify with the
pinned Buildah CLI's ``pull --signature-policy``; an image signed by containers/image's own
signer (go/tools/sigstoresign, built here from the pinned modules) must verify with
pybuildah; an unsigned image, a tampered signature and a signature by another key must be
refused by both, before any layer is stored.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from registry import Registry, plain_registry  # noqa: F401  (a fixture, imported by name)

import pybuildah

ROOT = Path(__file__).resolve().parent.parent
PASSPHRASE = "pa$$ \"phrase\" é:€"  # quotes, a colon, non-ASCII: every form must stay hidden
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@dataclass
class Published:
    """Images in the registry: signed by key A (pybuildah and containers/image), by key B, unsigned, tampered."""

    registry: Registry
    key_a: pybuildah.SigstoreKeyPair
    key_b: pybuildah.SigstoreKeyPair
    registries_d: Path
    store: pybuildah.Store
    image: pybuildah.Image

    def ref(self, repository: str) -> str:
        return f"docker://{self.registry.host}/{repository}"

    def policy(self, key: pybuildah.SigstoreKeyPair) -> dict[str, Any]:
        """Accept anything, except from this registry: there, a sigstore signature by key."""
        return {"default": [{"type": "insecureAcceptAnything"}],
                "transports": {"docker": {self.registry.host: [
                    {"type": "sigstoreSigned", "keyPath": str(key.public_key),
                     "signedIdentity": {"type": "matchRepository"}}]}}}


def _go() -> tuple[str, dict[str, str]]:
    sys.path.insert(0, str(ROOT / "bench"))
    import peers  # bench/peers.py: go/build.py's find_go and environment

    gobuild = peers._go_build_script()
    go = gobuild.find_go(None)
    return go, dict(gobuild.go_env(go), GOFLAGS="-buildvcs=false")


@pytest.fixture(scope="session")
def cimage_signer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """containers/image's own copy-and-sign (go/tools/sigstoresign), built once per session."""
    go, env = _go()
    out = tmp_path_factory.mktemp("sigstoresign") / "sigstoresign"
    subprocess.run([go, "build", "-tags", "containers_image_openpgp exclude_graphdriver_btrfs", "-o", str(out),
                    "./tools/sigstoresign"], cwd=ROOT / "go", env=env, check=True)
    return out


def _manifest_url(registry: Registry, repository: str, tag: str) -> str:
    return f"http://{registry.host}/v2/{repository}/manifests/{tag}"


def _signature_tag(digest: str) -> str:
    return digest.replace(":", "-") + ".sig"


def _tags(registry: Registry, repository: str) -> list[str]:
    try:
        with urllib.request.urlopen(f"http://{registry.host}/v2/{repository}/tags/list") as response:
            return list(json.load(response).get("tags") or [])
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return []
        raise


def tamper(registry: Registry, repository: str, digest: str) -> None:
    """Flip one byte of every sigstore signature attached to digest (the signed payload stays)."""
    url = _manifest_url(registry, repository, _signature_tag(digest))
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": OCI_MANIFEST})) as response:
        manifest = json.load(response)
    for layer in manifest["layers"]:
        raw = bytearray(base64.b64decode(layer["annotations"][SIGNATURE_ANNOTATION]))
        raw[len(raw) // 2] ^= 0x01
        layer["annotations"][SIGNATURE_ANNOTATION] = base64.b64encode(bytes(raw)).decode()
    request = urllib.request.Request(url, data=json.dumps(manifest).encode(), method="PUT",
                                     headers={"Content-Type": OCI_MANIFEST})
    with urllib.request.urlopen(request):
        pass


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, plain_registry: Registry,  # noqa: F811
              cimage_signer: Path) -> Iterator[Published]:
    tmp = tmp_path_factory.mktemp("signing")
    key_a = pybuildah.generate_sigstore_key_pair(tmp, PASSPHRASE, name="a")
    key_b = pybuildah.generate_sigstore_key_pair(tmp, b"another passphrase", name="b")
    registries_d = tmp / "registries.d"
    registries_d.mkdir()
    (registries_d / "default.yaml").write_text("default-docker:\n  use-sigstore-attachments: true\n")
    (tmp / "payload").write_text("signed content\n")
    with pybuildah.Store(root=tmp / "root", driver="vfs") as store:
        with pybuildah.Builder("scratch", store=store) as b:
            b.copy(tmp / "payload", "/payload")
            b.set_label("org.example.signed", "yes")
            image = b.commit("localhost/signed-app:1")
        p = Published(plain_registry, key_a, key_b, registries_d, store, image)
        common: dict[str, Any] = {"tls_verify": False, "progress": None}
        image.push(p.ref("signing/a:1"), sign_by_sigstore_key=key_a.private_key, sign_passphrase=PASSPHRASE, **common)
        image.push(p.ref("signing/b:1"), sign_by_sigstore_key=key_b.private_key,
                   sign_passphrase=b"another passphrase", **common)
        image.push(p.ref("signing/unsigned:1"), **common)
        digest = image.push(p.ref("signing/tampered:1"), sign_by_sigstore_key=key_a.private_key,
                            sign_passphrase=PASSPHRASE, **common)
        tamper(plain_registry, "signing/tampered", digest)
        archive = tmp / "image.tar"
        image.push(f"oci-archive:{archive}", progress=None)
        subprocess.run([str(cimage_signer), f"oci-archive:{archive}", p.ref("signing/cimage:1"),
                        str(key_a.private_key), str(registries_d)], input=PASSPHRASE.encode(), check=True)
        yield p


def _layers(store: pybuildah.Store) -> int:
    layers = Path(store.root, f"{store.driver}-layers", "layers.json")
    return len(json.loads(layers.read_text())) if layers.exists() else 0


def _cli_pull(cli: Path, tmp: Path, ref: str, policy: Path, registries_d: Path) -> subprocess.CompletedProcess[str]:
    sys.path.insert(0, str(ROOT / "bench"))
    import peers

    return subprocess.run([str(cli), "--root", str(tmp / "cli-root"), "--runroot", str(tmp / "cli-run"),
                           "--storage-driver", "vfs", "--registries-conf-dir", str(registries_d),
                           "pull", "--tls-verify=false", "--signature-policy", str(policy), "--quiet", ref],
                          capture_output=True, text=True, env=peers.peer_env(str(cli)))


def test_pinned_buildah_verifies_what_pybuildah_signed_and_refuses_the_rest(
        published: Published, pinned_buildah: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(published.policy(published.key_a)))
    results = {repo: _cli_pull(pinned_buildah, tmp_path, published.ref(f"signing/{repo}:1"), policy,
                               published.registries_d)
               for repo in ("a", "cimage", "b", "unsigned", "tampered")}
    assert results["a"].returncode == 0, results["a"].stderr
    assert results["a"].stdout.strip() == published.image.id
    assert results["cimage"].returncode == 0, results["cimage"].stderr  # the two signers agree
    for repo in ("b", "unsigned", "tampered"):
        assert results[repo].returncode != 0, repo
        assert "Source image rejected" in results[repo].stderr, results[repo].stderr


def test_pybuildah_verifies_containers_image_signatures_and_refuses_the_rest(
        published: Published, tmp_path: Path) -> None:
    with pybuildah.Store(root=tmp_path / "root", driver="vfs",
                         signature_policy=published.policy(published.key_a)) as store:
        for repo in ("cimage", "a"):
            assert pybuildah.pull(published.ref(f"signing/{repo}:1"), store=store, tls_verify=False,
                                  progress=None).id == published.image.id
    with pybuildah.Store(root=tmp_path / "root2", driver="vfs") as store:
        before = (_layers(store), store.images())
        for repo, reason in [("unsigned", "no signature exists"), ("b", "cryptographic signature verification"),
                             ("tampered", "cryptographic signature verification"),
                             ("cimage", "cryptographic signature verification")]:
            key = published.key_b if repo == "cimage" else published.key_a  # cimage was signed by A
            with pytest.raises(pybuildah.SignatureError, match=reason) as caught:
                pybuildah.pull(published.ref(f"signing/{repo}:1"), store=store, tls_verify=False, progress=None,
                               signature_policy=published.policy(key))
            assert isinstance(caught.value, PermissionError)
        assert (_layers(store), store.images()) == before  # refused before any layer was stored


def test_builder_and_build_refuse_an_unsigned_base_and_accept_a_signed_one(
        published: Published, tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(published.policy(published.key_a)))
    with pybuildah.Store(root=tmp_path / "root", driver="vfs") as store:
        before = _layers(store)
        with pytest.raises(pybuildah.SignatureError, match="no signature exists"):
            pybuildah.Builder(published.ref("signing/unsigned:1").removeprefix("docker://"), store=store,
                              tls_verify=False, signature_policy=policy_file)
        context = tmp_path / "ctx"
        context.mkdir()
        (context / "Containerfile").write_text(f"FROM {published.registry.host}/signing/tampered:1\nLABEL x=1\n")
        with pytest.raises(pybuildah.SignatureError) as caught:
            pybuildah.build(context, store=store, tls_verify=False, signature_policy=policy_file, log=lambda _: None)
        assert isinstance(caught.value, PermissionError)
        assert _layers(store) == before and store.containers() == []
        (context / "Containerfile").write_text(f"FROM {published.registry.host}/signing/a:1\nLABEL x=1\n")
        image = pybuildah.build(context, store=store, tls_verify=False, signature_policy=policy_file,
                                log=lambda _: None)
        assert image.config.labels["org.example.signed"] == "yes"
        with pybuildah.Builder(published.ref("signing/cimage:1"), store=store, tls_verify=False,
                               signature_policy=str(policy_file)) as b:
            assert b.config.labels["org.example.signed"] == "yes"  # made from the signed image


def test_push_failures_are_typed_and_send_nothing(published: Published) -> None:
    image, key = published.image, published.key_a
    common: dict[str, Any] = {"tls_verify": False, "progress": None}
    with pytest.raises(pybuildah.SignatureError, match="wrong passphrase") as wrong:
        image.push(published.ref("signing/wrong:1"), sign_by_sigstore_key=key.private_key,
                   sign_passphrase="not it", **common)
    with pytest.raises(pybuildah.SourceNotFound) as missing:
        image.push(published.ref("signing/missing:1"), sign_by_sigstore_key=key.private_key.with_name("none"),
                   sign_passphrase=PASSPHRASE, **common)
    assert isinstance(missing.value, FileNotFoundError)
    with pytest.raises(pybuildah.SigningNotSupported, match="sigstore") as gpg:
        image.push(published.ref("signing/gpg:1"), sign_by="0123456789ABCDEF", **common)
    assert isinstance(gpg.value, NotImplementedError)
    with pytest.raises(pybuildah.InvalidArgument, match="not a sigstore private key"):
        image.push(published.ref("signing/public:1"), sign_by_sigstore_key=key.public_key,
                   sign_passphrase=PASSPHRASE, **common)
    for repo in ("wrong", "missing", "gpg", "public"):
        assert _tags(published.registry, f"signing/{repo}") == []
    with pytest.raises(pybuildah.SignatureError) as secret:
        image.push(published.ref("signing/wrong:1"), sign_by_sigstore_key=key.private_key,
                   sign_passphrase=PASSPHRASE + "x", **common)
    for exc in (wrong.value, secret.value):
        assert "not it" not in str(exc) and PASSPHRASE not in str(exc) and PASSPHRASE not in repr(exc)


def test_a_signed_manifest_list_signs_the_list_and_every_instance(published: Published, tmp_path: Path) -> None:
    store = published.store
    with pybuildah.Builder("scratch", store=store) as b:
        b.set_label("variant", "second")
        b.configure(architecture="arm64")
        second = b.commit("localhost/signed-app:arm64")
    listed = pybuildah.Manifest.create("localhost/signed-list:1", store=store)
    listed.add(published.image.id)
    listed.add(second.id)
    digest = listed.push(published.ref("signing/list:1"), sign_by_sigstore_key=published.key_a.private_key,
                         sign_passphrase=PASSPHRASE, tls_verify=False)
    tags = set(_tags(published.registry, "signing/list"))
    request = urllib.request.Request(_manifest_url(published.registry, "signing/list", "1"), headers={
        "Accept": "application/vnd.oci.image.index.v1+json,application/vnd.docker.distribution.manifest.list.v2+json"})
    with urllib.request.urlopen(request) as response:
        instances = [entry["digest"] for entry in json.load(response)["manifests"]]  # as pushed (compressed)
    assert len(instances) == 2
    assert {_signature_tag(d) for d in [digest, *instances]} <= tags
    with pybuildah.Store(root=tmp_path / "root", driver="vfs") as verifying:
        pulled = pybuildah.pull(published.ref("signing/list:1"), store=verifying, tls_verify=False, progress=None,
                                signature_policy=published.policy(published.key_a))
        assert pulled.id == published.image.id  # this machine's (amd64) instance


def test_key_pair_files_and_refusal_to_overwrite(tmp_path: Path) -> None:
    keys = pybuildah.generate_sigstore_key_pair(tmp_path, "pw")
    assert keys.private_key == tmp_path / "sigstore.private" and keys.public_key == tmp_path / "sigstore.pub"
    assert keys.private_key.stat().st_mode & 0o777 == 0o600
    assert keys.private_key.read_bytes().startswith(b"-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----")  # as cosign writes
    assert keys.public_key.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    before = keys.private_key.read_bytes()
    with pytest.raises(pybuildah.InvalidArgument, match="never replaces"):
        pybuildah.generate_sigstore_key_pair(tmp_path, "other")
    assert keys.private_key.read_bytes() == before
    with pytest.raises(pybuildah.InvalidArgument, match="signature policy"):
        pybuildah.Store(root=tmp_path / "root", driver="vfs", signature_policy={"default": "nonsense"})


def test_cli_signs_with_a_passphrase_file_and_enforces_a_policy(published: Published, tmp_path: Path) -> None:
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_text(PASSPHRASE + "\n")
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(published.policy(published.key_a)))
    cli = [sys.executable, "-m", "pybuildah", "--root", str(tmp_path / "root"), "--storage-driver", "vfs"]
    env = dict(os.environ, PYBUILDAH_PROGRESS="off")
    archive = tmp_path / "image.tar"
    published.image.push(f"oci-archive:{archive}", progress=None)
    subprocess.run([*cli, "pull", "-q", f"oci-archive:{archive}"], check=True, capture_output=True, env=env)
    pushed = subprocess.run([*cli, "push", "--tls-verify=false", "-q", "--sign-by-sigstore-private-key",
                             str(published.key_a.private_key), "--sign-passphrase-file", str(passphrase_file),
                             published.image.id, published.ref("signing/cli:1")],
                            capture_output=True, text=True, env=env)
    assert pushed.returncode == 0, pushed.stderr
    assert _signature_tag(pushed.stdout.strip()) in _tags(published.registry, "signing/cli")
    for repo, code in [("cli", 0), ("unsigned", 1)]:
        pulled = subprocess.run([*cli, "pull", "--tls-verify=false", "-q", "--signature-policy", str(policy),
                                 published.ref(f"signing/{repo}:1")], capture_output=True, text=True, env=env)
        assert (pulled.returncode != 0) == bool(code), pulled.stderr
    assert "SignatureError" in pulled.stderr or "signature" in pulled.stderr


HOST_REGISTRIES_D = """
import json, sys, pybuildah
root, key, dest = sys.argv[1:4]
with pybuildah.Store(root=root, driver="vfs") as store:
    with pybuildah.Builder("scratch", store=store) as b:
        b.set_label("host", "registries.d")
        image = b.commit("localhost/host-config:1")
    try:
        image.push(dest, tls_verify=False, progress=None, sign_by_sigstore_key=key, sign_passphrase=sys.argv[4])
        error = None
    except pybuildah.BuildahError as exc:
        error = {"type": type(exc).__name__, "message": str(exc)}
    print(json.dumps({"sources": store.config_sources, "error": error}))
"""


def test_a_host_registries_d_is_honoured_and_a_push_it_cannot_sign_says_why(
        published: Published, tmp_path: Path) -> None:
    # A user's own registries.d (here under $HOME) wins over the embedded default; one that
    # leaves sigstore attachments off makes a signed push fail with the setting to change.
    home = tmp_path / "home"
    config = home / ".config" / "containers" / "registries.d"
    config.mkdir(parents=True)
    (config / "site.yaml").write_text("docker:\n  example.com:\n    lookaside: https://sigs.example.com\n")
    result = subprocess.run([sys.executable, "-c", HOST_REGISTRIES_D, str(tmp_path / "root"),
                             str(published.key_a.private_key), published.ref("signing/host:1"), PASSPHRASE],
                            capture_output=True, text=True, env=dict(os.environ, HOME=str(home)), check=True)
    report = json.loads(result.stdout)
    assert report["sources"]["registries.d"] == str(config)
    assert report["error"]["type"] == "InvalidArgument"
    assert "use-sigstore-attachments: true" in report["error"]["message"]
    assert PASSPHRASE not in result.stdout + result.stderr
