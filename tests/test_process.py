"""Process-level behaviour: fork, the GIL and embedded defaults (the wheel: tests/test_distribution.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import pybuildah

REPO = Path(__file__).resolve().parent.parent


def test_fork_child_gets_fork_error_promptly(store: pybuildah.Store, busybox: str) -> None:
    assert store.image(busybox).id  # the Go runtime is running in this process
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what happened through the pipe, never return into pytest
        code = b"?"
        try:
            try:
                store.image(busybox)
                code = b"no error"
            except pybuildah.ForkError as exc:
                code = b"ForkError:" + str(exc).encode()
            except BaseException as exc:
                code = repr(exc).encode()
        finally:
            os.write(write_fd, code)
            os._exit(0)
    os.close(write_fd)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung")
    with os.fdopen(read_fd, "rb") as pipe:
        report = pipe.read().decode()
    assert report.startswith("ForkError:"), report
    assert "fork" in report and "spawn" in report


def test_gil_is_released_during_a_long_run(store: pybuildah.Store, busybox: str) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        counter = 0
        stop = threading.Event()

        def spin() -> None:
            nonlocal counter
            while not stop.is_set():
                counter += 1

        thread = threading.Thread(target=spin)
        thread.start()
        try:
            start = time.monotonic()
            b.run(["sleep", "2"])
            elapsed = time.monotonic() - start
            during = counter
        finally:
            stop.set()
            thread.join()
    assert elapsed >= 2
    # a thread that ran through the whole RUN counts millions; one starved by the GIL, almost nothing
    assert during > 100_000, during


EMBEDDED_CHECK = textwrap.dedent("""
    import json, sys, pybuildah
    with pybuildah.Store(root=sys.argv[1], driver="vfs") as store:
        with pybuildah.Builder("scratch", store=store) as b:
            b.set_label("short", "name")
            b.commit("docker.io/library/shorty:1")
            b.commit("registry.example/shorty:1")
        try:
            resolved = store.image("shorty:1").names
        except pybuildah.ImageNotFound:
            resolved = []
        print(json.dumps({"sources": store.config_sources, "resolved": resolved}))
""")


def _run_in_mount_namespace(tmp_path: Path, setup: str) -> dict[str, object]:
    """Run EMBEDDED_CHECK in a private mount namespace after the shell commands in setup."""
    import json

    mounts = " && ".join(f"mount -t tmpfs tmpfs {d}" for d in ("/etc/containers", "/usr/share/containers")
                         if Path(d).is_dir())
    script = f'{mounts or "true"} && {setup} && exec "$0" -c "$1" "$2"'
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for var in ("CONTAINERS_REGISTRIES_CONF", "CONTAINERS_POLICY_JSON", "REGISTRIES_CONFIG_PATH"):
        env.pop(var, None)
    out = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, sys.executable,
                          EMBEDDED_CHECK, str(tmp_path / "root")],
                         capture_output=True, text=True, env=env, timeout=120, check=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def test_embedded_defaults_without_containers_common(tmp_path: Path) -> None:
    # tmpfs over /etc/containers and /usr/share/containers: as on a machine without containers-common
    result = _run_in_mount_namespace(tmp_path, "true")
    assert result["sources"] == {"policy": "embedded", "registries": "embedded", "registries.d": "embedded"}
    assert result["resolved"] == ["docker.io/library/shorty:1"]  # short names resolve to docker.io
    assert Path("/etc/containers/policy.json").exists() == (Path("/etc/containers") / "policy.json").exists()


def test_host_configuration_files_are_honoured(tmp_path: Path) -> None:
    setup = ("echo 'unqualified-search-registries = [\"registry.example\"]' > /etc/containers/registries.conf"
             " && echo '{\"default\": [{\"type\": \"insecureAcceptAnything\"}]}' > /etc/containers/policy.json"
             " && mkdir /etc/containers/registries.d"
             " && echo 'default-docker: {use-sigstore-attachments: false}' > /etc/containers/registries.d/host.yaml")
    result = _run_in_mount_namespace(tmp_path, setup)
    assert result["sources"] == {"policy": "/etc/containers/policy.json",
                                 "registries": "/etc/containers/registries.conf",
                                 "registries.d": "/etc/containers/registries.d"}
    assert result["resolved"] == ["registry.example/shorty:1"]
