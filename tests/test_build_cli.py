"""`pybuildah build` on the command line: in process through main(), and as `python -m pybuildah`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import pybuildah
from pybuildah.cli import main

REPO = Path(__file__).resolve().parent.parent


def scratch_context(tmp_path: Path, containerfile: str) -> Path:
    # FROM scratch: the CLI's own store needs no base image.
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Containerfile").write_text(containerfile)
    (ctx / "hello.txt").write_text("hello\n")
    return ctx


def test_cli_build_streams_log_and_prints_id(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = scratch_context(tmp_path, "FROM scratch\nARG WHO\nCOPY hello.txt /hello.txt\nLABEL who=$WHO\n")
    (ctx / "Other").write_text("FROM scratch\nCOPY hello.txt /other.txt\nLABEL file=other\n")
    root = tmp_path / "root"
    monkeypatch.setenv("FROM_ENV", "env-value")
    status = main(["--root", str(root), "--storage-driver", "overlay", "build", "-t", "cli-made:1", "-t", "cli-too",
                   "--build-arg", "WHO=cli", "--label", "extra=yes", str(ctx)])
    out, err = capsys.readouterr()
    assert status == 0
    image_id = out.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", image_id)
    assert "STEP 3/5: COPY hello.txt /hello.txt" in err  # --label adds a LABEL step
    with pybuildah.Store(root=root, driver="overlay") as store:
        image = store.image("cli-made:1")
        assert image.id == image_id
        assert "localhost/cli-too:latest" in image.names
        assert image.labels["who"] == "cli"
        assert image.labels["extra"] == "yes"
    status = main(["--root", str(root), "--storage-driver", "overlay", "build", "-q", "-f", str(ctx / "Other"),
                   "--build-arg", "FROM_ENV", str(ctx)])
    out, err = capsys.readouterr()
    assert status == 0 and err == ""
    with pybuildah.Store(root=root, driver="overlay") as store:
        assert store.image(out.strip()).labels["file"] == "other"


def test_cli_build_failure_exits_1_with_the_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = scratch_context(tmp_path, "FROM scratch\nCOPY missing.txt /missing.txt\n")
    status = main(["--root", str(tmp_path / "root"), "--storage-driver", "overlay", "build", str(ctx)])
    out, err = capsys.readouterr()
    assert status == 1
    assert out == ""
    assert 'Error: building at STEP "COPY missing.txt /missing.txt"' in err
    status = main(["--root", str(tmp_path / "root"), "--storage-driver", "overlay", "build", str(tmp_path / "none")])
    assert status == 1
    assert "Error: build context" in capsys.readouterr().err


def test_python_dash_m_pybuildah_build(tmp_path: Path) -> None:
    ctx = scratch_context(tmp_path, "FROM scratch\nCOPY hello.txt /hello.txt\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "pybuildah", "--root", str(tmp_path / "root"), "--storage-driver", "overlay",
               "build", "--target", "0", "--layers", "--no-cache", str(ctx)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"[0-9a-f]{64}\n", result.stdout)
    assert "COMMIT" in result.stderr
    helped = subprocess.run([sys.executable, "-m", "pybuildah", "build", "--help"], capture_output=True, text=True,
                            env=env, timeout=60)
    assert helped.returncode == 0
    for flag in ("--tag", "--file", "--target", "--build-arg", "--layers", "--no-cache", "CONTEXT"):
        assert flag in helped.stdout


def test_bud_on_a_terminal_prints_the_image_id_once(tmp_path: Path) -> None:
    # `bud` is buildah's alias; on a terminal the log already ends with the ID, which is not printed twice.
    ctx = scratch_context(tmp_path, "FROM scratch\nCOPY hello.txt /hello.txt\n")
    argv = [sys.executable, "-m", "pybuildah", "--root", str(tmp_path / "root"), "--storage-driver", "overlay",
            "bud", "-t", "terminal:1", str(ctx)]
    controller, terminal = os.openpty()
    with subprocess.Popen(argv, stdout=terminal, stderr=terminal, cwd=REPO) as proc:
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the terminal's other side closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=300) == 0
    os.close(controller)
    shown = b"".join(chunks).decode()
    with pybuildah.Store(root=tmp_path / "root", driver="overlay") as store:
        image_id = store.image("terminal:1").id
    assert shown.splitlines().count(image_id) == 1, shown  # a line of its own; "Copying config sha256:ID" too
    piped = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=REPO)
    with pybuildah.Store(root=tmp_path / "root", driver="overlay") as store:
        image_id = store.image("terminal:1").id
    assert piped.stdout == image_id + "\n" and image_id in piped.stderr  # for id=$(pybuildah bud ...)


@pytest.mark.fast
def test_version_names_pybuildah_buildah_go_and_storage() -> None:
    done = subprocess.run([sys.executable, "-m", "pybuildah", "version", "--json"], capture_output=True, text=True,
                          timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    versions = json.loads(done.stdout)
    assert versions["pybuildah"] == pybuildah.__version__ and versions["buildah"] == pybuildah.buildah_version()
    assert versions["go"].startswith("go1.") and versions["storage"].startswith("v1.")
    text = subprocess.run([sys.executable, "-m", "pybuildah", "version"], capture_output=True, text=True,
                          timeout=60, cwd=REPO).stdout
    assert f"Version:         {pybuildah.buildah_version()}\n" in text
