"""Real local registries for the tests: Debian's docker-registry on 127.0.0.1.

Three set-ups, each started once per session: plain HTTP, htpasswd (bcrypt)
authentication, and TLS with a self-signed certificate made here.  Every
registry runs in its own process group and is killed when the session ends,
whatever happens (fixture finaliser plus an atexit hook).
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import hashlib
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import pybuildah

REGISTRY_BINARY = shutil.which("docker-registry") or "/usr/bin/docker-registry"
USERNAME = "ci-builder"
# Shell, JSON, URL and printf metacharacters, quotes, a colon and non-ASCII.
PASSWORD = "p@ss:w0rd/$HOME;`id`'\"\\%s&|<>{}[]!#*?~ é€"

_running: list[subprocess.Popen[bytes]] = []


@dataclass
class Registry:
    """A running registry: host is "127.0.0.1:PORT"."""

    host: str
    root: Path
    process: subprocess.Popen[bytes]
    cert_dir: Path | None = None
    username: str | None = None
    password: str | None = None

    def ref(self, repository: str) -> str:
        return f"{self.host}/{repository}"

    @property
    def scheme(self) -> str:
        return "https" if self.cert_dir else "http"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (and localhost); returns (cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pybuildah test registry")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "registry.crt", directory / "registry.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def start_registry(root: Path, *, auth: bool = False, tls: bool = False) -> Registry:
    """Start docker-registry under root and wait until it answers."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config: dict[str, object] = {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(root / "data")}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": "pybuildah-tests"},
    }
    registry_kwargs: dict[str, object] = {}
    if auth:
        htpasswd = root / "htpasswd"
        subprocess.run(["htpasswd", "-iBc", str(htpasswd), USERNAME], input=PASSWORD.encode(), check=True,
                       capture_output=True)
        config["auth"] = {"htpasswd": {"realm": "pybuildah-tests", "path": str(htpasswd)}}
        registry_kwargs.update(username=USERNAME, password=PASSWORD)
    if tls:
        cert, key = make_certificate(root / "tls")
        config["http"] = {**config["http"], "tls": {"certificate": str(cert), "key": str(key)}}  # type: ignore[dict-item]
        cert_dir = root / "certs.d"
        cert_dir.mkdir()
        shutil.copy(cert, cert_dir / "ca.crt")  # containers/image trusts *.crt in a cert dir
        registry_kwargs["cert_dir"] = cert_dir
    config_path = root / "config.yml"
    config_path.write_text(json.dumps(config))  # JSON is YAML
    log = open(root / "registry.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen([REGISTRY_BINARY, "serve", str(config_path)], stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    log.close()
    _running.append(process)
    registry = Registry(host=f"127.0.0.1:{port}", root=root, process=process, **registry_kwargs)  # type: ignore[arg-type]
    _wait_ready(registry)
    return registry


def _wait_ready(registry: Registry, timeout: float = 20.0) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if registry.process.poll() is not None:
            log = (registry.root / "registry.log").read_text(errors="replace")
            raise RuntimeError(f"docker-registry exited with {registry.process.returncode}: {log}")
        try:
            urllib.request.urlopen(f"{registry.scheme}://{registry.host}/v2/", timeout=1, context=context)
            return
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                return
        except OSError:
            pass
        time.sleep(0.1)
    stop_registry(registry.process)
    raise RuntimeError(f"docker-registry on {registry.host} did not start within {timeout}s")


def stop_registry(process: subprocess.Popen[bytes]) -> None:
    """Kill the registry's whole process group and reap it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    if process in _running:
        _running.remove(process)


@atexit.register
def _stop_all() -> None:
    for process in list(_running):
        stop_registry(process)


@contextlib.contextmanager
def running_registry(root: Path, *, auth: bool = False, tls: bool = False) -> Iterator[Registry]:
    registry = start_registry(root, auth=auth, tls=tls)
    try:
        yield registry
    finally:
        stop_registry(registry.process)


@pytest.fixture(scope="session")
def plain_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry over plain HTTP without authentication."""
    with running_registry(tmp_path_factory.mktemp("registry-plain")) as registry:
        yield registry


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry with htpasswd (bcrypt) authentication over plain HTTP."""
    with running_registry(tmp_path_factory.mktemp("registry-auth"), auth=True) as registry:
        yield registry


@pytest.fixture(scope="session")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry over HTTPS with a self-signed certificate; registry.cert_dir trusts it."""
    with running_registry(tmp_path_factory.mktemp("registry-tls"), tls=True) as registry:
        yield registry


# Images to move around -------------------------------------------------------


def make_image(store: pybuildah.Store, base: str, tmp_path: Path, name: str) -> pybuildah.Image:
    """An image with a mix of content (random bytes, text, a symlink, modes, a RUN) and a full config."""
    content = tmp_path / f"content-{name.replace('/', '_').replace(':', '_')}"
    (content / "data").mkdir(parents=True)
    (content / "data" / "random.bin").write_bytes(os.urandom(256 * 1024))
    (content / "data" / "notes.txt").write_text("compressible line\n" * 4000)
    (content / "data" / "run.sh").write_text("#!/bin/sh\necho from-the-image\n")
    (content / "data" / "run.sh").chmod(0o750)
    with pybuildah.Builder(base, store=store) as b:
        b.copy(content / "data", "/data")
        b.run("ln -s /data/notes.txt /notes && mkdir -p /var/app && echo built > /var/app/stamp")
        b.set_cmd(["/data/run.sh"])
        b.set_env("MODE", "test")
        b.set_label("org.example.kind", "round-trip")
        b.set_port("8080/tcp")
        b.set_workdir("/data")
        return b.commit(name)


def file_tree(store: pybuildah.Store, ref: str) -> dict[str, tuple[object, ...]]:
    """Every path of an image with its type, mode, owner and content hash (or link target)."""
    tree: dict[str, tuple[object, ...]] = {}
    with pybuildah.Builder(ref, store=store, pull="never") as b, b.mount() as root:
        for dirpath, dirnames, filenames in os.walk(root):
            for entry in dirnames + filenames:
                path = Path(dirpath) / entry
                st = path.lstat()
                rel = "/" + str(path.relative_to(root))
                if path.is_symlink():
                    tree[rel] = ("link", os.readlink(path))
                elif path.is_file():
                    tree[rel] = ("file", oct(st.st_mode), st.st_uid, st.st_gid,
                                 hashlib.sha256(path.read_bytes()).hexdigest())
                else:
                    tree[rel] = ("dir", oct(st.st_mode), st.st_uid, st.st_gid)
    return tree


def skopeo(*args: str) -> bytes:
    return subprocess.run(["skopeo", *args], check=True, capture_output=True).stdout
