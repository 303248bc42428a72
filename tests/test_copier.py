"""The long-lived chrooted copier child per working container (tracker #10).

Each working container's copier requests (STAT, EVAL, MKDIR, PUT, GET, ...) are served
by one child process, chrooted once into the container's root, that lives until the
builder is deleted, closed or collected.  These tests check that it is one child, that
it stays inside its container, that it never serves another root, and that losing it
mid-request is a clean error followed by a fresh child.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

import pybuildah
from pybuildah import _ffi


def copier_children() -> dict[int, str]:
    """Long-lived copier children of this process: pid -> the directory it is chrooted to."""
    me = os.getpid()
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid != me:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            if argv[:2] == [b"buildah-copier", b"--serve"]:
                found[int(entry)] = os.readlink(f"/proc/{entry}/root")
        except (OSError, IndexError, ValueError):
            continue
    return found


def mount_point(b: pybuildah.Builder) -> str:
    with b.mount() as path:
        return str(path)


def test_copies_share_one_child_chrooted_into_the_container(store: pybuildah.Store, busybox: str,
                                                             tmp_path: Path) -> None:
    src = tmp_path / "f.txt"
    src.write_text("one\n")
    before = set(copier_children())
    with pybuildah.Builder(busybox, store=store) as b:
        b.copy(src, "/a.txt")
        children = {pid: root for pid, root in copier_children().items() if pid not in before}
        assert len(children) == 1, children
        (pid, root), = children.items()
        assert root == mount_point(b)
        for i in range(5):
            b.copy(src, f"/dir{i}/")
        b.run("true")
        assert copier_children().get(pid) == root  # the same child served every request
        assert b.run("cat /a.txt /dir4/f.txt").stdout == "one\none\n"
    assert pid not in copier_children()  # stopped with the builder


def test_copies_into_a_directory_share_a_child_chrooted_there(store: pybuildah.Store, busybox: str,
                                                                tmp_path: Path) -> None:
    """A COPY's PUT is chrooted into its destination directory: the last one gets a long-lived child too."""
    src = tmp_path / "f.txt"
    src.write_text("x")
    before = set(copier_children())
    with pybuildah.Builder(busybox, store=store) as b:
        b.copy(src, "/files/f0")
        root = mount_point(b)
        children = {pid: r for pid, r in copier_children().items() if pid not in before}
        assert sorted(children.values()) == [root, root + "/files"]
        for i in range(1, 6):
            b.copy(src, f"/files/f{i}")
        assert {pid: r for pid, r in copier_children().items() if pid not in before} == children  # the same two
        b.copy(src, "/other/f")
        deadline = time.monotonic() + 10
        while (now := sorted(r for pid, r in copier_children().items() if pid not in before)) != \
                [root, root + "/other"] and time.monotonic() < deadline:
            time.sleep(0.05)  # the replaced child is stopped in the background
        assert now == [root, root + "/other"]
        assert b.run("ls /files").stdout.split() == [f"f{i}" for i in range(6)]
    assert not set(copier_children()) - before  # all stopped with the builder


def test_child_stops_when_the_builder_is_collected(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    src = tmp_path / "f.txt"
    src.write_text("x")
    before = set(copier_children())
    b = pybuildah.Builder(busybox, store=store)
    b.copy(src, "/f.txt")
    new = set(copier_children()) - before
    assert len(new) == 1
    del b
    gc.collect()
    assert not new & set(copier_children())


def test_concurrent_builders_get_separate_children(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    src = tmp_path / "f.txt"
    src.write_text("x")
    before = set(copier_children())
    with pybuildah.Builder(busybox, store=store) as one, pybuildah.Builder(busybox, store=store) as two:
        errors: list[BaseException] = []

        def copy_many(b: pybuildah.Builder, name: str) -> None:
            try:
                for i in range(10):
                    b.copy(src, f"/{name}{i}")
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=copy_many, args=(b, n)) for b, n in ((one, "one"), (two, "two"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        children = {pid: root for pid, root in copier_children().items() if pid not in before}
        assert sorted(children.values()) == sorted([mount_point(one), mount_point(two)])
        assert one.run("ls /").stdout.split().count("one9") == 1
        assert "two0" not in one.run("ls /").stdout.split()
        assert "one0" not in two.run("ls /").stdout.split()


def test_links_and_dotdot_stay_inside_the_container(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    src = tmp_path / "planted.txt"
    src.write_text("planted\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    with pybuildah.Builder(busybox, store=store) as b:
        b.run(["sh", "-c", f"mkdir -p /d && ln -s / /d/abs && ln -s ../../../../../.. /d/up "
                           f"&& ln -s {outside} /d/host && mkdir -p {outside}"])
        b.copy(src, "/d/abs" + str(outside) + "/via-abs.txt")
        b.copy(src, "/d/up" + str(outside) + "/via-up.txt")
        b.copy(src, "/../../../.." + str(outside) + "/via-dotdot.txt")
        b.copy(src, "/d/host/via-host-link.txt")
        assert list(outside.iterdir()) == []  # nothing reached the host directory
        listing = b.run(["ls", str(outside)]).stdout.split()
        assert sorted(listing) == ["via-abs.txt", "via-dotdot.txt", "via-host-link.txt", "via-up.txt"]


def _serve(helper_args: list[str]) -> tuple[subprocess.Popen[bytes], socket.socket]:
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen(
        helper_args, executable=str(_ffi.LIGHT_HELPER_PATH), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, close_fds=False, cwd="/",
        preexec_fn=lambda: os.dup2(theirs.fileno(), 3),
    )
    theirs.close()
    return proc, ours


def _request(proc: subprocess.Popen[bytes], control: socket.socket, req: dict[str, object]) -> None:
    r, w = os.pipe()
    r2, w2 = os.pipe()
    socket.send_fds(control, [b"x"], [r, w2])
    for fd in (r, w2):
        os.close(fd)
    os.close(w)
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(req).encode() + b"\n")
    proc.stdin.flush()
    os.close(r2)


def test_a_kept_child_refuses_another_root(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for d in (one, two):
        d.mkdir()
    (one / "sub").mkdir()
    proc, control = _serve(["buildah-copier", "--serve"])
    try:
        assert proc.stdout is not None and proc.stderr is not None
        _request(proc, control, {"Request": "EVAL", "Root": str(one), "Directory": str(one / "sub")})
        reply = json.loads(proc.stdout.readline())
        assert reply["Eval"]["Evaluated"] == str(one / "sub")  # served inside the chroot to one
        done = json.loads(proc.stdout.readline())  # the request is complete
        assert "Error" not in done and done["Eval"]["Evaluated"] == ""
        _request(proc, control, {"Request": "EVAL", "Root": str(two), "Directory": str(two)})
        assert proc.stdout.readline() == b""  # no answer for another root: the child quits
        assert proc.wait(timeout=10) == 1
        assert "can't change location of chroot" in proc.stderr.read().decode()
    finally:
        proc.kill()
        proc.wait()
        control.close()


def test_killing_the_child_mid_request_is_a_clean_error(store: pybuildah.Store, busybox: str,
                                                         tmp_path: Path) -> None:
    src = tmp_path / "f.txt"
    src.write_text("x\n")
    before = set(copier_children())
    with pybuildah.Builder(busybox, store=store) as b:
        b.copy(src, "/first.txt")
        (pid,) = set(copier_children()) - before
        os.kill(pid, signal.SIGSTOP)  # it will take the next request and never answer it
        outcome: list[BaseException | None] = []

        def copy() -> None:
            try:
                b.copy(src, "/second.txt")
                outcome.append(None)
            except BaseException as e:
                outcome.append(e)

        t = threading.Thread(target=copy)
        t.start()
        time.sleep(0.5)
        assert t.is_alive() and not outcome  # the request is in flight
        os.kill(pid, signal.SIGKILL)
        t.join(timeout=30)
        assert not t.is_alive(), "COPY hung after its copier child died"
        assert isinstance(outcome[0], pybuildah.BuildahError), outcome
        assert pid not in copier_children()
        b.copy(src, "/third.txt")  # a fresh child serves the next COPY
        (fresh,) = set(copier_children()) - before
        assert fresh != pid
        assert b.run("cat /third.txt").stdout == "x\n"


def test_a_child_killed_while_idle_is_replaced(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    src = tmp_path / "f.txt"
    src.write_text("x\n")
    before = set(copier_children())
    with pybuildah.Builder(busybox, store=store) as b:
        b.copy(src, "/first.txt")
        (pid,) = set(copier_children()) - before
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
        b.copy(src, "/second.txt")
        assert b.run("cat /second.txt").stdout == "x\n"


@pytest.mark.parametrize("size", [0, 5 * 1024 * 1024])
def test_bulk_data_both_ways(store: pybuildah.Store, busybox: str, tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "blob").write_bytes(data)
    with pybuildah.Builder(busybox, store=store) as b, pybuildah.Builder(busybox, store=store) as other:
        for i in range(3):
            b.copy(tmp_path / "src", f"/data{i}/")
        other.copy("/data2/blob", "/blob", from_=b)  # GET from b's child, PUT through other's
        other.copy("/blob", "/blob2", from_=other)  # GET and PUT in one root: no deadlock
        with other.mount() as root:
            assert (root / "blob").read_bytes() == data
            assert (root / "blob2").read_bytes() == data


def test_a_build_uses_kept_children_and_stops_them(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    (ctx / "d").mkdir(parents=True)
    for i in range(5):
        (ctx / "d" / f"f{i}").write_text(f"{i}\n")
    (ctx / "Containerfile").write_text(
        f"FROM {busybox} AS one\nCOPY d/ /d/\nRUN cat /d/f4 > /four\n"
        f"FROM {busybox}\nCOPY --from=one /four /four\nCOPY d/f1 d/f2 /x/\nRUN cat /four /x/f1\n")
    before = set(copier_children())
    image = pybuildah.build(ctx, store=store, tag="localhost/kept-build:1")
    assert set(copier_children()) <= before  # every stage's and the context's child stopped
    with pybuildah.Builder(image.id, store=store) as b:
        assert b.run("cat /four /x/f1 /x/f2").stdout == "4\n1\n2\n"
