"""What other processes see of a Builder in use: its state file is written when it matters (flush(),
run(), commit(), close(), interpreter exit), and its one mount is released at delete(), close() and
interpreter exit, or by the next store open after a SIGKILL.  Buildah's own CLI, at the pinned
version and on the same store, is the other process."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from test_crash import _kill, _start

import pybuildah

Inspect = Callable[..., str]


@pytest.fixture
def buildah(store: pybuildah.Store, pinned_buildah: Path) -> Inspect:
    """Runs the pinned Buildah CLI on the test's store and returns its output."""
    peers = importlib.import_module("peers")  # bench/peers.py, on sys.path through pinned_buildah

    def run(*args: str, root: Path | None = None, runroot: Path | None = None) -> str:
        command = [str(pinned_buildah), "--root", str(root or store.root), "--runroot", str(runroot or store.runroot),
                   "--storage-driver", "overlay", *args]
        done = subprocess.run(command, capture_output=True, text=True, env=peers.peer_env(str(pinned_buildah)),
                              timeout=120)
        assert done.returncode == 0, f"{command}: {done.stderr}"
        return done.stdout.strip()

    return run


def _config(buildah: Inspect, name: str, **where: Path) -> dict[str, object]:
    config: dict[str, object] = json.loads(buildah("inspect", "--type", "container", name, **where))["OCIv1"]["config"]
    return config


def _mounted(buildah: Inspect, **where: Path) -> str:
    """`buildah mount` with no arguments: the containers mounted in the store, with their mount points."""
    return buildah("mount", **where)


def test_buildah_inspect_sees_every_config_change_after_flush(store: pybuildah.Store, busybox: str,
                                                               buildah: Inspect, tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    b = pybuildah.Builder(busybox, store=store)
    b.copy(tmp_path / "f", "/f")
    b.set_env("HELD", "1")
    b.set_label("org.example.held", "yes")
    b.set_annotation("org.example.note", "n")
    b.set_port("8080/tcp")
    b.set_user("0")
    b.set_workdir("/srv")
    b.set_entrypoint(["/bin/sh", "-c"])
    b.set_cmd(["echo hi"])
    before = _config(buildah, b.name)  # config calls changed the builder in this process only
    assert "HELD=1" not in before.get("Env", [])  # type: ignore[operator]
    b.flush()
    after = _config(buildah, b.name)
    assert "HELD=1" in after["Env"]  # type: ignore[operator]
    assert after["Labels"] == {**(before.get("Labels") or {}), "org.example.held": "yes"}  # type: ignore[dict-item]
    assert after["ExposedPorts"] == {"8080/tcp": {}}
    assert (after["User"], after["WorkingDir"]) == ("0", "/srv")
    assert (after["Entrypoint"], after["Cmd"]) == (["/bin/sh", "-c"], ["echo hi"])
    inspect = json.loads(buildah("inspect", "--type", "container", b.name))
    assert inspect["ImageAnnotations"]["org.example.note"] == "n"
    b.set_label("org.example.held", "again")
    b.run(["true"])  # written before a RUN
    assert _config(buildah, b.name)["Labels"]["org.example.held"] == "again"  # type: ignore[index]
    b.delete()


def test_one_mount_is_held_while_in_use_and_released_at_close_and_delete(
        store: pybuildah.Store, busybox: str, buildah: Inspect, tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    b = pybuildah.Builder(busybox, store=store)
    assert b.name not in _mounted(buildah)
    for _ in range(3):
        b.copy(tmp_path / "f", "/f")
    b.run(["true"])
    assert b.name in _mounted(buildah)  # the Builder's one mount, kept across steps
    b.set_label("closed", "1")
    b.close()
    assert b.name not in _mounted(buildah)
    assert _config(buildah, b.name)["Labels"]["closed"] == "1"  # type: ignore[index]
    with pytest.raises(pybuildah.ContainerNotFound, match="closed"):
        b.set_label("after", "close")
    b.close()  # idempotent
    again = pybuildah.Builder.open(b.name, store=store)
    again.copy(tmp_path / "f", "/g")
    assert again.name in _mounted(buildah)
    assert again.run("cat /f /g").stdout == "xx"
    again.delete()
    assert "closed" not in buildah("containers", "--all", "--format", "{{.ContainerName}}")
    assert _mounted(buildah) == ""


EXITS_HOLDING = """
import sys, pybuildah
store = pybuildah.Store(root=sys.argv[1], driver="overlay", additional_image_stores=[sys.argv[2]])
b = pybuildah.Builder("localhost/busybox:latest", store=store, name="left")
b.copy(sys.argv[3], "/f")
b.set_env("AT_EXIT", "written")
print("ready", flush=True)
if sys.argv[4] == "wait":
    sys.stdin.read()
"""


def test_interpreter_exit_writes_the_state_and_releases_the_mount(
        tmp_path: Path, base_store_root: Path, buildah: Inspect) -> None:
    root, source = tmp_path / "exit-store", tmp_path / "f"
    source.write_text("x")
    out = subprocess.run([sys.executable, "-c", EXITS_HOLDING, str(root), str(base_store_root), str(source), "exit"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "ready"
    where = {"root": root, "runroot": root / "runroot"}
    assert _mounted(buildah, **where) == ""
    assert "AT_EXIT=written" in _config(buildah, "left", **where)["Env"]  # type: ignore[operator]
    buildah("rm", "left", **where)


def test_a_mount_left_by_a_killed_process_is_released_by_the_next_open(
        tmp_path: Path, base_store_root: Path, buildah: Inspect) -> None:
    root, source = tmp_path / "killed-store", tmp_path / "f"
    source.write_text("x")
    where = {"root": root, "runroot": root / "runroot"}
    process = _start(EXITS_HOLDING, str(root), str(base_store_root), str(source), "wait")
    _kill(process)
    assert "left" in buildah("containers", "--format", "{{.ContainerName}}", **where)
    assert _mounted(buildah, **where) != ""  # the dead process's mount is still there
    with pybuildah.Store(root=root, driver="overlay", additional_image_stores=[base_store_root]) as store:
        assert _mounted(buildah, **where) == ""
        b = pybuildah.Builder.open("left", store=store)
        assert b.run("cat /f").stdout == "x"  # the copy was made; a config change not written is lost
        b.delete()


def test_run_looks_users_up_inside_the_container_through_symlinks(store: pybuildah.Store, busybox: str,
                                                                    tmp_path: Path) -> None:
    """RUN's user lookup reads /etc/passwd through the kept copier child, chrooted: an absolute
    symbolic link resolves inside the container, as it did for the one-shot lookup process."""
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/sh\nalice:x:1234:2345:Alice:/home/alice:/bin/sh\n")
    with pybuildah.Builder(busybox, store=store) as b:
        b.copy(passwd, "/srv/passwd")
        b.run("ln -sf /srv/passwd /etc/passwd")
        assert b.run("id -u; id -g", user="alice").stdout.split() == ["1234", "2345"]
        with pytest.raises(pybuildah.InvalidArgument, match="unknown user"):
            b.run("true", user="bob")
