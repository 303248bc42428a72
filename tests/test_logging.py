"""pybuildah speaks through `logging`: steps at INFO on pybuildah.* loggers, nothing on the console unasked."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import pybuildah

pytestmark = pytest.mark.fast  # ./dev check's quick tier

def _steps(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records
            if r.name.startswith("pybuildah") and r.levelno == logging.INFO and r.name != "pybuildah.progress"]


def test_builder_pull_push_and_build_log_their_steps(store: pybuildah.Store, busybox: str, tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    archive = tmp_path / "app.tar"
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Containerfile").write_text(f"FROM {busybox}\nRUN echo built\n")
    with caplog.at_level(logging.INFO, logger="pybuildah"):
        with pybuildah.Builder(busybox, store=store, name="logged") as b:
            b.copy(__file__, "/t.py")
            b.run(["true"])
            image = b.commit("localhost/logged:1", progress=None)
        image.push(f"oci-archive:{archive}", progress=None)
        pulled = pybuildah.pull(f"oci-archive:{archive}", store=store, progress=None)
        built = pybuildah.build(tmp_path / "ctx", store=store, log=lambda line: None)
    steps = _steps(caplog)
    expected = [
        f"pybuildah.builder: FROM {busybox}: working container logged",
        f"pybuildah.builder: COPY {__file__} /t.py in logged",
        "pybuildah.builder: RUN ['true'] in logged",
        "pybuildah.builder: Committing logged to localhost/logged:1",
        f"pybuildah.builder: Committed logged: image {image.id}",
        f"pybuildah.registry: Pushing {image.id} to oci-archive:{archive}",
        f"pybuildah.registry: Pulling oci-archive:{archive} (policy always)",
        f"pybuildah.registry: Pulled oci-archive:{archive}: image {pulled.id}",
        f"pybuildah.build: Building {tmp_path / 'ctx'}",
        f"pybuildah.build: Built image {built.id}",
    ]
    missing = [line for line in expected if line not in steps]
    assert not missing, f"missing {missing} in {steps}"
    assert any(line.startswith(f"pybuildah.registry: Pushed {image.id} to oci-archive:") for line in steps)
    assert steps.index(expected[3]) < steps.index(expected[4]) < steps.index(expected[5])
    assert pulled.id == image.id


RETRY = """
import logging, sys
import pybuildah
if sys.argv[3] == "configured":
    logging.basicConfig(level=logging.INFO)   # the one line the docs give
with pybuildah.Store(root=sys.argv[1], driver="vfs") as store:
    try:
        pybuildah.pull(f"docker://127.0.0.1:{sys.argv[2]}/nothing:1", store=store, tls_verify=False, retries=1,
                       progress=None)
    except pybuildah.BuildahError as exc:
        print("FAILED", type(exc).__name__)
"""


def test_registry_retries_stay_off_the_console_unless_logging_is_configured(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port where nothing listens: connection refused, which is retried
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(Path(pybuildah.__file__).resolve().parent.parent)}
    runs = {mode: subprocess.run([sys.executable, "-c", RETRY, str(tmp_path / mode), str(port), mode],
                                 capture_output=True, text=True, timeout=120, env=env)
            for mode in ("silent", "configured")}
    for done in runs.values():
        assert done.returncode == 0 and done.stdout.startswith("FAILED"), done.stdout + done.stderr
    assert "retrying" in runs["configured"].stderr and "Pulling docker://" in runs["configured"].stderr
    assert runs["silent"].stderr == "", runs["silent"].stderr
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("pybuildah").handlers)
