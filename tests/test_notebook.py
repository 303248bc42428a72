"""Notebooks and terminals: the progress and log defaults, in a real Jupyter kernel, a pty and a pipe."""

from __future__ import annotations

import fcntl
import logging
import os
import pty
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

import pybuildah
from pybuildah import _notebook

REPO = Path(__file__).resolve().parent.parent
WIDGET = "application/vnd.jupyter.widget-view+json"

# A build with the default log and a commit with the default progress, in a store of its own.
DEFAULTS = """
import sys, pathlib, pybuildah
root, base, ctx = sys.argv[1:4]
with pybuildah.Store(root=root, driver="overlay", additional_image_stores=[base]) as store:
    image = pybuildah.build(ctx, tag="defaults:1", store=store)
    with pybuildah.Builder(image.id, store=store) as b:
        b.commit("defaults:2")
    print("ID=" + image.id)
"""


@pytest.fixture(scope="session")
def context_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ctx = tmp_path_factory.mktemp("nb-context")
    (ctx / "Containerfile").write_text(
        "FROM localhost/busybox:latest\nRUN echo notebook-build-says-hi\nCMD [\"true\"]\n")
    return ctx


@pytest.fixture(scope="session")
def jupyter_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A python3 kernelspec for this interpreter, in a temporary JUPYTER_PATH."""
    prefix = tmp_path_factory.mktemp("jupyter")
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix), "--name", "python3"],
                   check=True, capture_output=True)
    saved = {name: os.environ.get(name) for name in ("JUPYTER_PATH", "PYTHONPATH")}
    os.environ["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    # The kernel imports the pybuildah under test, installed or not.
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), saved["PYTHONPATH"]) if p)
    yield prefix
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def execute(nb: Any, cwd: Path, timeout: int = 240) -> Any:
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb


def outputs(cell: Any, output_type: str, name: str | None = None) -> list[Any]:
    return [o for o in cell.outputs if o.output_type == output_type and (name is None or o.get("name") == name)]


def stream_text(cell: Any, name: str = "stdout") -> str:
    return "".join(o.text for o in outputs(cell, "stream", name))


def html_of(cell: Any) -> str:
    return "".join(o.data.get("text/html", "") for o in cell.outputs if o.output_type in ("execute_result",
                                                                                         "display_data"))


# Detection and the default itself ----------------------------------------------------------


def test_kernel_detection_imports_nothing_and_is_false_outside_a_kernel() -> None:
    probe = ("import sys, pybuildah; from pybuildah import _notebook; "
             "print(_notebook.in_kernel(), 'IPython' in sys.modules, 'tqdm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=str(REPO))).stdout.split()
    assert out == ["False", "False", "False"]
    assert _notebook.in_kernel() is False


def test_without_a_terminal_the_default_progress_logs_and_none_means_none(
        store: pybuildah.Store, busybox: str, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert not sys.stderr.isatty()  # pytest captures it
    assert isinstance(_notebook.default_progress("commit"), _notebook.LoggedProgress)
    with caplog.at_level(logging.INFO, logger="pybuildah.progress"), pybuildah.Builder(busybox, store=store) as b:
        image = b.commit("logged:1")
        logged = [r.getMessage() for r in caplog.records if r.name == "pybuildah.progress"]
        assert any(m.startswith("commit: blob sha256:") and m.endswith(" done") for m in logged), logged
        caplog.clear()
        b.commit("silent:1", progress=None)
        assert not [r for r in caplog.records if r.name == "pybuildah.progress"]
        with pytest.raises(pybuildah.InvalidType):
            b.commit("bad:1", progress="bars")  # type: ignore[arg-type]
    assert image.names == ["localhost/logged:1"]
    monkeypatch.setenv("PYBUILDAH_PROGRESS", "off")
    assert _notebook.default_progress("commit") is None


def run_on_pty(argv: list[str], timeout: float = 120) -> tuple[int, str]:
    """Run argv with stderr on a 100-column pseudo-terminal; returns its status and what it drew there."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return proc.wait(timeout=30), b"".join(chunks).decode(errors="replace")


def test_bars_on_a_terminal_and_no_bar_noise_in_a_pipe(tmp_path: Path, base_store_root: Path,
                                                       context_dir: Path) -> None:
    env = {"PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-c", DEFAULTS, str(tmp_path / "tty"), str(base_store_root), str(context_dir)]
    status, drawn = run_on_pty(argv)
    assert status == 0, drawn
    assert "build: 100%" in drawn and "3/3" in drawn  # the step bar, completed
    assert "commit: 100%" in drawn  # the blob bar of the explicit commit

    argv[3] = str(tmp_path / "pipe")
    piped = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=dict(os.environ, **env))
    assert piped.returncode == 0, piped.stderr
    assert "ID=" in piped.stdout
    for noise in ("\r", "%|", "blob/s", "step/s", "\x1b["):
        assert noise not in piped.stderr and noise not in piped.stdout, (noise, piped.stderr)


# A real Jupyter kernel ------------------------------------------------------------------------


def test_in_a_kernel_build_logs_reach_the_cell_and_the_image_displays_as_html(
        jupyter_path: Path, tmp_path: Path, base_store_root: Path, context_dir: Path) -> None:
    nb = new_notebook(cells=[
        new_code_cell(
            "import pybuildah\n"
            f"store = pybuildah.Store(root={str(tmp_path / 'root')!r}, driver='overlay',\n"
            f"                        additional_image_stores=[{str(base_store_root)!r}])\n"
            f"image = pybuildah.build({str(context_dir)!r}, tag='nb:1', store=store)\n"
            "print('ID=' + image.id)\n"
            "image"),
        new_code_cell("from pybuildah import _notebook\n_notebook.in_kernel()"),
        new_code_cell("store"),
    ])
    build, detect, listing = execute(nb, tmp_path).cells
    log = stream_text(build)
    assert "STEP 1/3: FROM localhost/busybox:latest" in log
    assert "notebook-build-says-hi" in log
    image_id = log.split("ID=", 1)[1].split()[0]
    assert image_id in html_of(build)
    assert log.index("STEP 1/3") < log.index("ID=")  # printed while the build ran, before it returned
    assert any(WIDGET in o.get("data", {}) for o in build.outputs), "no progress widget"
    assert "%|" not in stream_text(build, "stderr")
    assert detect.outputs[0].data["text/plain"] == "True"
    assert "localhost/nb:1" in html_of(listing)


def test_in_a_kernel_top_level_await_runs_the_async_face(jupyter_path: Path, tmp_path: Path,
                                                          base_store_root: Path) -> None:
    awaiting = new_code_cell(
        "from pybuildah import aio\n"
        f"store = await aio.Store(root={str(tmp_path / 'root')!r}, driver='overlay',\n"
        f"                        additional_image_stores=[{str(base_store_root)!r}])\n"
        "async with aio.Builder('localhost/busybox:latest', store=store) as b:\n"
        "    log = aio.Log()\n"
        "    ran = asyncio.ensure_future(b.run('echo awaited-in-a-cell', log=log))\n"
        "    lines = [line async for line in log]\n"
        "    image = await b.commit('awaited:1')\n"
        "print('LINES=' + repr(lines), 'EXIT=' + str((await ran).exit_code))\n"
        "print('CONTAINERS=' + str(len(await store.containers())))\n"
        "image")
    (cell,) = execute(new_notebook(cells=[new_code_cell("import asyncio"), awaiting]), tmp_path).cells[1:]
    out = stream_text(cell)
    assert "LINES=['awaited-in-a-cell']" in out and "EXIT=0" in out, out
    assert "CONTAINERS=0" in out, out
    assert "localhost/awaited:1" in html_of(cell)
