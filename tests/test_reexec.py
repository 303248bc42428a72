"""The re-exec paths, each exercised for real, and proof that none of them runs Python."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pybuildah
from pybuildah import _ffi


def _build_and_read_back(store: pybuildah.Store, base: str, tmp_path: Path) -> pybuildah.Image:
    payload = tmp_path / "payload.txt"
    payload.write_text("copied as root\n")
    with pybuildah.Builder(base, store=store) as b:
        b.copy(payload, "/payload.txt", chown="1001:1001")          # buildah-copier
        b.run("echo ran in chroot > /ran.txt")                       # chrootuser-open, chroot runtime
        image = b.commit("localhost/reexec-check:1")                 # layer diff
    with pybuildah.Builder(image.id, store=store) as again:         # layers applied to a new container
        out = again.run("cat /payload.txt /ran.txt; stat -c %u /payload.txt").stdout
    assert out.splitlines() == ["copied as root", "ran in chroot", "1001"]
    return image


@pytest.mark.parametrize("driver", ["overlay", "vfs"])
def test_layers_with_each_driver_from_an_oci_archive(tmp_path: Path, driver: str,
                                                     busybox_exports: dict[str, Path]) -> None:
    # storage-untar (overlay) / storage-applyLayer (vfs) write the base layers
    with pybuildah.Store(root=tmp_path / "root", driver=driver) as store:
        base = f"oci-archive:{busybox_exports['oci-archive']}"
        image = _build_and_read_back(store, base, tmp_path)
        assert store.driver == driver
        assert image.layers[:-1] == store.image(base).layers
        assert (tmp_path / "root" / f"{driver}-layers").is_dir()


def test_base_image_from_an_oci_layout(tmp_path: Path, busybox_exports: dict[str, Path]) -> None:
    with pybuildah.Store(root=tmp_path / "root", driver="overlay") as store:
        _build_and_read_back(store, f"oci:{busybox_exports['oci']}:latest", tmp_path)


TRACED_BUILD = textwrap.dedent("""
    import sys, pybuildah
    root, archive, payload = sys.argv[1:4]
    with pybuildah.Store(root=root, driver="overlay") as store:
        with pybuildah.Builder("oci-archive:" + archive, store=store) as b:
            b.copy(payload, "/payload")
            b.run(["/bin/sh", "-c", "cat /payload > /copy"])
            image = b.commit("traced:1")
        with pybuildah.Builder(image.id, store=store) as b:
            assert b.run(["cat", "/copy"]).stdout == "traced\\n"
            b.commit("oci:" + root + "-layout:x")
    print("build ok")
""")

EXEC_LINE = re.compile(r'^(\d+)\s+(execve|execveat)\((.*)\)\s+= 0$')
CLONE_LINE = re.compile(r'^(\d+)\s+(?:<\.\.\. )?(?:clone3?|fork|vfork)\b.*= (\d+)$')


def _merge_unfinished(lines: list[str]) -> list[str]:
    """Join strace's "<unfinished ...>" / "<... call resumed>" halves into whole lines."""
    pending: dict[str, str] = {}
    out = []
    for line in lines:
        pid = line.split(" ", 1)[0]
        if line.endswith("<unfinished ...>"):
            pending[pid] = line.removesuffix("<unfinished ...>").rstrip()
        elif (resumed := re.match(r"^(\d+)\s+<\.\.\. \w+ resumed>(.*)$", line)) and pid in pending:
            out.append(pending.pop(pid) + resumed.group(2))
        else:
            out.append(line)
    return out


def test_no_reexec_child_runs_the_python_interpreter(tmp_path: Path, busybox_exports: dict[str, Path]) -> None:
    payload = tmp_path / "payload"
    payload.write_text("traced\n")
    trace = tmp_path / "trace.txt"
    env = dict(os.environ, PYTHONPATH=str(Path(pybuildah.__file__).parent.parent))
    result = subprocess.run(
        ["strace", "-f", "-qq", "-s", "200", "-e", "trace=execve,execveat,clone,clone3,fork,vfork",
         "-e", "signal=none", "-o", str(trace),
         sys.executable, "-c", TRACED_BUILD, str(tmp_path / "root"), str(busybox_exports["oci-archive"]),
         str(payload)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "build ok" in result.stdout

    helpers = {str(_ffi.HELPER_PATH), str(_ffi.LIGHT_HELPER_PATH)}
    python = {os.path.realpath(sys.executable), sys.executable}
    handler_names = ("buildah-", "storage-", "chrootuser-")
    program: dict[str, str] = {}  # pid -> what that process runs: "python", "helper" or a container program
    handlers: set[str] = set()
    light: set[str] = set()  # subroutines that ran in the light helper
    in_container: list[str] = []
    lines = _merge_unfinished(trace.read_text().splitlines())
    assert any(EXEC_LINE.match(line) for line in lines), "strace saw no successful exec"
    parent = {c.group(2): c.group(1) for line in lines if (c := CLONE_LINE.match(line))}

    def running(pid: str) -> str | None:
        """What pid runs now: its own last exec, else (strace may log a child first) its parent's."""
        while pid not in program and pid in parent:
            pid = parent[pid]
        return program.get(pid)

    for line in lines:
        match = EXEC_LINE.match(line)
        if not match:
            continue
        pid, call, args = match.groups()
        argv0 = re.search(r'\["([^"]*)"', args)
        name = argv0.group(1) if argv0 else ""
        if not program:  # the traced Python process itself
            assert os.path.realpath(args.split('"')[1]) in python
            program[pid] = "python"
            continue
        assert "python" not in name.lower(), line
        if call == "execveat":
            # storage's unshare code re-executes a sealed memfd copy of the running helper
            assert running(pid) == "helper" and name.startswith(handler_names), line
            handlers.add(name)
            continue
        path = args.split('"')[1]
        if path == "/proc/self/exe":
            # the helper re-executes itself (the library always names the helper's path);
            # so may busybox inside the container
            if running(pid) == "container":
                in_container.append(name)
                continue
            assert running(pid) == "helper" and name.startswith(handler_names), line
            handlers.add(name)
            continue
        assert os.path.realpath(path) not in python, f"a re-exec ran Python: {line}"
        if path in helpers:
            assert name.startswith(handler_names), line
            if path == str(_ffi.LIGHT_HELPER_PATH):  # the light helper has only these handlers
                assert name in ("buildah-copier", "chrootuser-open", "storage-untar", "storage-tar",
                                "storage-applyLayer", "buildah-chroot-runtime", "buildah-chroot-exec"), line
                light.add(name)
            program[pid] = "helper"
            handlers.add(name)
        else:
            assert running(pid) == "helper", f"something other than the helper started {line}"
            program[pid] = "container"
            in_container.append(path)
    assert {"buildah-copier", "buildah-chroot-runtime", "buildah-chroot-exec", "storage-untar"} <= handlers, handlers
    # RUN's user lookups read /etc/passwd and /etc/group through the stage's kept copier child
    assert "chrootuser-open" not in handlers, handlers
    assert in_container and set(in_container) <= {"/bin/sh", "/bin/cat", "cat"}, in_container
    # RUN's chroot runtime too: the binary copied into a sealed memfd per RUN is the light one
    assert {"buildah-copier", "storage-untar", "buildah-chroot-runtime"} <= light, light
