"""Shared fixtures: real stores in temporary directories and locally made base images."""

from __future__ import annotations

import importlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import pybuildah

# A shell without job control starts background jobs with SIGINT ignored, and children inherit
# that, so the Ctrl-C tests' child interpreters would get no KeyboardInterrupt.  Exec resets a
# handled signal to its default: handling SIGINT here gives them Python's usual Ctrl-C.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

BUSYBOX = shutil.which("busybox") or "/bin/busybox"


def processes_running(needle: str) -> list[int]:
    """PIDs whose command line contains needle."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if needle in cmdline:
                pids.append(int(entry.name))
    return pids


def descendants() -> dict[int, str]:
    """This process's live descendants (zombies excepted): pid -> command line, NULs as spaces."""
    parents: dict[int, int] = {}
    cmdlines: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] == "Z":
                continue
            parents[int(entry.name)] = int(fields[1])
            cmdlines[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError):
            continue
    me, found = os.getpid(), {}
    for pid in parents:
        walk = pid
        while walk in parents and walk not in (0, 1, me):
            walk = parents[walk]
        if walk == me and pid != me:
            found[pid] = cmdlines[pid]
    return found


MAKE_BASES = """
import sys, pybuildah
from pybuildah import bases
with pybuildah.Store(root=sys.argv[1], driver="overlay") as store:
    bases.busybox(store, "localhost/busybox:latest", busybox=sys.argv[2])
"""


@pytest.fixture(scope="session", autouse=True)
def unmount_leftovers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """At the end of the session, unmount what storage left mounted under the temp dirs.

    The overlay driver bind-mounts its home as a private mount point, and a store that
    another store used as an additional image store is not unmounted by either, which
    would leave pytest unable to delete old temp dirs.
    """
    yield
    base = str(tmp_path_factory.getbasetemp())
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1] for line in mounts if line.split()[1].startswith(base + "/")]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", point], check=False)


@pytest.fixture(scope="session")
def base_store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the base images, made once per session in another process.

    Tests see it as a read-only additional image store.  containers/storage
    keeps a lock per path for the life of a process, so a store that this
    process opened for writing cannot also serve it read-only; a separate
    process fills it, as a CI job would fill a shared cache volume.
    """
    root = tmp_path_factory.mktemp("base-store") / "root"
    subprocess.run([sys.executable, "-c", MAKE_BASES, str(root), BUSYBOX], check=True)
    return root


@pytest.fixture
def store(tmp_path: Path, base_store_root: Path) -> Iterator[pybuildah.Store]:
    """A fresh store per test that sees the base images through a read-only additional image store."""
    with pybuildah.Store(
        root=tmp_path / "root", driver="overlay", additional_image_stores=[base_store_root]
    ) as test_store:
        yield test_store
        for container in test_store.containers():
            pybuildah.Builder.open(container.id, store=test_store).delete()


@pytest.fixture
def busybox(store: pybuildah.Store) -> str:
    """The reference of the busybox base image, visible in ``store``."""
    return "localhost/busybox:latest"


EXPORT_BASES = """
import sys, pybuildah
with pybuildah.Store(root=sys.argv[1], driver="overlay", additional_image_stores=[sys.argv[2]]) as store:
    with pybuildah.Builder("localhost/busybox:latest", store=store) as b:
        b.commit("oci-archive:" + sys.argv[3])
        b.commit("oci:" + sys.argv[4] + ":latest")
"""


@pytest.fixture(scope="session")
def busybox_exports(tmp_path_factory: pytest.TempPathFactory, base_store_root: Path) -> dict[str, Path]:
    """The busybox base image as an oci-archive and as an oci layout (made in another process)."""
    out = tmp_path_factory.mktemp("base-exports")
    paths = {"oci-archive": out / "busybox.tar", "oci": out / "busybox-layout"}
    subprocess.run([sys.executable, "-c", EXPORT_BASES, str(out / "scratch-store"), str(base_store_root),
                    str(paths["oci-archive"]), str(paths["oci"])], check=True)
    return paths


@pytest.fixture(scope="session")
def pinned_buildah() -> Path:
    """Buildah's own CLI at the pinned version (bench/peers.py builds it once into ~/.cache)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    peers = importlib.import_module("peers")
    cli: Path = peers.build_pinned_cli()
    return cli


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP listener on the host's 127.0.0.1 that accepts and closes; yields its port."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conn.sendall(b"hello from the host\n")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(5)
    server.close()


@pytest.fixture
def bind_sources(tmp_path: Path) -> tuple[Path, Path]:
    """Host directories to bind-mount: one holding in.txt ("from host"), and an empty one."""
    ro, rw = tmp_path / "ro", tmp_path / "rw"
    ro.mkdir()
    rw.mkdir()
    (ro / "in.txt").write_text("from host\n")
    return ro, rw
