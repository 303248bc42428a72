"""Failures get the kind a user would catch: a full disk is an OSError, a bad registry a RegistryError."""

from __future__ import annotations

import errno
import gzip
import hashlib
import http.server
import io
import json
import os
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import pybuildah
from pybuildah import errors

DISK_MIB = 40


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real tmpfs of DISK_MIB MiB, unmounted (with anything storage left mounted in it) afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MIB}m", "tmpfs", str(disk)], check=True)
    try:
        yield disk
    finally:
        subprocess.run(["umount", "--recursive", "--lazy", str(disk)], check=False)


def _used_mib(path: Path) -> float:
    stat = os.statvfs(path)
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize / (1 << 20)


def test_a_full_disk_is_a_store_error_with_enospc_and_the_store_stays_usable(
    small_disk: Path, tmp_path: Path, base_store_root: Path
) -> None:
    """The store's layers live on the small tmpfs (its runroot does not): a 22 MiB file fits, its layer does not."""
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom((DISK_MIB + 5) << 20))
    with pybuildah.Store(root=small_disk / "root", runroot=tmp_path / "run", driver="overlay",
                         additional_image_stores=[base_store_root]) as store:
        before = {image.id for image in store.images()}
        with pybuildah.Builder("localhost/busybox:latest", store=store) as b:
            b.run("dd if=/dev/urandom of=/big bs=1M count=22 2>/dev/null")
            used = _used_mib(small_disk)
            with pytest.raises(pybuildah.StoreError) as caught:
                b.commit("localhost/too-big:1")
            error = caught.value
            assert isinstance(error, OSError) and not isinstance(error, pybuildah.RunError)
            assert error.errno == errno.ENOSPC and error.strerror == os.strerror(errno.ENOSPC)
            assert "no space left on device" in str(error) and "[Errno" not in str(error)
            assert {image.id for image in store.images()} == before  # nothing half-written is listed
            assert not store.exists("localhost/too-big:1")
            assert _used_mib(small_disk) < used + 2  # the partial layer was removed

            # The store and the container still work: a smaller commit succeeds.
            b.run("rm /big; echo small > /small")
            image = b.commit("localhost/small:1")
        assert store.exists("localhost/small:1")
        with pybuildah.Builder(image.id, store=store) as again:
            assert again.run("cat /small").stdout == "small\n"

        # A copy that does not fit: the copier's child reports it as text, same kind.  (Like the
        # buildah CLI, the copier leaves the partial file, so the full disk is unmounted as it is.)
        filler = pybuildah.Builder("localhost/busybox:latest", store=store)
        with pytest.raises(pybuildah.StoreError) as copying:
            filler.copy(big, "/big.bin")
        assert copying.value.errno == errno.ENOSPC
        # Nor can a command start (Buildah saves the container's state first): not a RunError either.
        with pytest.raises(pybuildah.StoreError) as running:
            filler.run("true")
        assert running.value.errno == errno.ENOSPC and not isinstance(running.value, pybuildah.RunError)


def test_errno_reaches_python_only_for_os_errors() -> None:
    full = errors.from_wire({"kind": "StoreError", "message": "write x: no space left on device", "errno": 28})
    assert isinstance(full, OSError) and full.errno == errno.ENOSPC and str(full) == "write x: no space left on device"
    plain = errors.from_wire({"kind": "StoreError", "message": "read-only"})
    assert isinstance(plain, OSError) and plain.errno is None
    run = errors.from_wire({"kind": "RunError", "message": "m", "errno": 28, "exit_code": 1})
    assert not isinstance(run, OSError)


class _Blobs(http.server.BaseHTTPRequestHandler):
    """Registry v2 API: /v2/, manifests and blobs from the server's tables (GET and HEAD); nothing else."""

    server: _Registry

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _answer(self, body: bool) -> None:
        path = self.path.split("?")[0]
        if path in ("/v2", "/v2/"):
            found: tuple[bytes, str] | None = (b"{}", "application/json")
        elif "/manifests/" in path:
            found = self.server.manifests.get(path)
        else:
            found = self.server.blobs.get(path.rsplit("/", 1)[-1])
        if found is None:
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            data = b'{"errors": [{"code": "MANIFEST_UNKNOWN", "message": "unknown"}]}'
        else:
            data, media_type = found
            self.send_response(200)
            self.send_header("Content-Type", media_type)
            self.send_header("Docker-Content-Digest", "sha256:" + hashlib.sha256(data).hexdigest())
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads results, not the server's log."""


class _Registry(http.server.ThreadingHTTPServer):
    manifests: dict[str, tuple[bytes, str]]
    blobs: dict[str, tuple[bytes, str]]


OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def lying_registry() -> Iterator[str]:
    """A registry on 127.0.0.1 that serves a layer not matching its digest, and a 5 MiB manifest."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w:gz") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = 6
        tar.addfile(info, io.BytesIO(b"hello\n"))
    layer_bytes = layer.getvalue()
    diff_id = _digest(gzip.decompress(layer_bytes))
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": _digest(config),
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": _digest(layer_bytes),
                    "size": len(layer_bytes)}],
    }).encode()
    tampered = bytes([layer_bytes[0] ^ 0xFF]) + layer_bytes[1:]  # same size, other content
    huge = manifest[:-1] + b" " * (5 << 20) + b"}"  # over containers/image's 4 MiB manifest limit
    server = _Registry(("127.0.0.1", 0), _Blobs)
    server.manifests = {"/v2/bad/digest/manifests/1": (manifest, OCI_MANIFEST),
                        "/v2/bad/huge/manifests/1": (huge, OCI_MANIFEST)}
    server.blobs = {_digest(config): (config, "application/octet-stream"),
                    _digest(layer_bytes): (tampered, "application/octet-stream")}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_registry_serving_a_bad_digest_or_a_huge_manifest_is_a_registry_error(
    store: pybuildah.Store, lying_registry: str, tmp_path: Path
) -> None:
    before = {image.id for image in store.images()}
    reg = pybuildah.RegistryOptions(tls_verify=False, retries=0)
    with pytest.raises(pybuildah.RegistryError, match="Digest did not match"):
        pybuildah.pull(f"{lying_registry}/bad/digest:1", store=store, progress=None, registry=reg)
    with pytest.raises(pybuildah.RegistryError, match="Digest did not match"):
        pybuildah.Builder(f"docker://{lying_registry}/bad/digest:1", store=store, registry=reg)
    for call in (
        lambda: pybuildah.pull(f"{lying_registry}/bad/huge:1", store=store, progress=None, registry=reg),
        lambda: pybuildah.Builder(f"{lying_registry}/bad/huge:1", store=store, registry=reg),
        lambda: store.image(f"docker://{lying_registry}/bad/huge:1", registry=reg),
    ):
        with pytest.raises(pybuildah.RegistryError, match="exceeded maximum allowed size") as caught:
            call()
        assert not isinstance(caught.value, pybuildah.ImageNotFound)
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Containerfile").write_text(f"FROM {lying_registry}/bad/digest:1\n")
    with pytest.raises(pybuildah.RegistryError, match="Digest did not match"):
        pybuildah.build(tmp_path / "ctx", store=store, log=lambda line: None, registry=reg)
    assert {image.id for image in store.images()} == before and not store.containers()
