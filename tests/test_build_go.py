"""The book's multi-stage Go example, our own version: a Go hello-world HTTP server.

The builder stage uses a Go image made locally from this machine's Go
(pybuildah.bases.go_toolchain); the final image holds busybox and the binary, and
must serve "Hello World!".
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import descendants

import pybuildah

HERE = Path(__file__).resolve().parent
SERVER = "/usr/local/bin/hello-server"

MAKE_GO_BASE = """
import sys, pybuildah
from pybuildah import bases
with pybuildah.Store(root=sys.argv[1], driver="overlay") as store:
    bases.busybox(store, "localhost/busybox:latest", busybox=sys.argv[2])
    bases.go_toolchain(store, "localhost/golang:local")
"""


@pytest.fixture(scope="module")
def go_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pybuildah.Store]:
    """A store that sees busybox and the local Go image (made once, in another process)."""
    base = tmp_path_factory.mktemp("go-base") / "root"
    busybox = subprocess.run(["sh", "-c", "command -v busybox || echo /bin/busybox"], capture_output=True,
                             text=True, check=True).stdout.strip()
    subprocess.run([sys.executable, "-c", MAKE_GO_BASE, str(base), busybox], check=True)
    root = tmp_path_factory.mktemp("go-store") / "root"
    with pybuildah.Store(root=root, driver="overlay", additional_image_stores=[base]) as store:
        yield store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])




def test_multistage_go_server_serves_hello_world(go_store: pybuildah.Store) -> None:
    lines: list[str] = []
    image = pybuildah.build(HERE / "go_hello", tag="hello-go:latest", store=go_store, log=lines.append)
    assert any(line.startswith("[2/2] STEP 2/4: COPY --from=builder") for line in lines)
    assert image.config.cmd == [SERVER]
    assert image.config.ports == ["8080/tcp"]
    assert image.config.env.get("GOROOT") is None  # nothing of the builder stage's config
    with pybuildah.Builder(image.id, store=go_store) as b:
        with b.mount() as root:
            assert (root / SERVER.lstrip("/")).stat().st_mode & 0o111
            assert not (root / "usr/local/go").exists()
            assert not (root / "src").exists()
        port = free_port()
        results: list[pybuildah.RunResult] = []
        server = threading.Thread(target=lambda: results.append(
            b.run([SERVER], env={"PORT": str(port)}, check=False)))
        server.start()
        try:
            page = fetch(f"http://127.0.0.1:{port}/", timeout=30)
        finally:
            for pid, cmdline in descendants().items():
                if cmdline.startswith(SERVER):
                    os.kill(pid, signal.SIGTERM)
            server.join(30)
        assert page == "Hello World!"
        assert not server.is_alive()
        assert f"listening on :{port}" in results[0].stderr
    assert go_store.containers() == []


def fetch(url: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return str(response.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
