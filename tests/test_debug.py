"""Debugging a failed build: build(keep_failed=True), BuildError.builder, Builder.diff(), Builder.shell()
and ``pybuildah build --debug-on-failure`` on a real pseudo-terminal."""

from __future__ import annotations

import os
import pickle
import pty
import re
import select
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import pybuildah
from pybuildah import Change

FAILING = "FROM {base}\nENV STAGE=debugging\nWORKDIR /work\nRUN echo partial > /f && echo here > note && false\n"


def context(tmp_path: Path, containerfile: str) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / "Containerfile").write_text(containerfile)
    return ctx


def failed_build(store: pybuildah.Store, ctx: Path, **options: Any) -> pybuildah.BuildError:
    with pytest.raises(pybuildah.BuildError) as info:
        pybuildah.build(str(ctx), store=store, log=lambda line: None, **options)
    return info.value


@pytest.mark.parametrize("layers", [False, True])
def test_keep_failed_keeps_the_failing_steps_container_with_its_partial_writes(
        tmp_path: Path, store: pybuildah.Store, busybox: str, layers: bool) -> None:
    error = failed_build(store, context(tmp_path, FAILING.format(base=busybox)), keep_failed=True, layers=layers)
    assert error.step == 4 and error.exit_code == 1
    builder = error.builder
    assert isinstance(builder, pybuildah.Builder) and builder.id == error.container
    assert [c.id for c in store.containers()] == [builder.id]
    assert builder.id in error._repr_html_()  # the notebook display names the kept container
    copied = pickle.loads(pickle.dumps(error))  # another process gets the record, not this process's handle
    assert copied.builder is None and copied.container == error.container and copied.step == 4
    with builder:
        assert builder.run("cat /f").stdout == "partial\n"  # the failing step's own writes
        shown = builder.run('echo "$STAGE $(pwd)"; cat note').stdout
        assert shown == "debugging /work\nhere\n"  # the step's environment and working directory
        assert builder.config.workdir == "/work" and builder.config.env["STAGE"] == "debugging"
        with builder.mount() as root:
            assert (root / "f").read_text() == "partial\n"
        changes = builder.diff()
        assert Change("/f", "A") in changes and Change("/work/note", "A") in changes
        # Against the stage's base; with layers, against the cached image of the step before.
        assert (store.image(builder.from_image).id == store.image(busybox).id) is not layers
        image = builder.commit("debug-snapshot:1")
    assert store.containers() == []  # the context manager removed it
    with pybuildah.Builder(image.id, store=store) as again:
        assert again.run("cat /f /work/note").stdout == "partial\nhere\n"


def test_without_keep_failed_nothing_is_left(tmp_path: Path, store: pybuildah.Store, busybox: str) -> None:
    ctx = context(tmp_path, FAILING.format(base=busybox))
    for layers in (False, True):
        error = failed_build(store, ctx, layers=layers)
        assert error.builder is None and error.container is None
        assert store.containers() == []


def test_keep_failed_in_a_later_stage_keeps_only_that_stage(tmp_path: Path, store: pybuildah.Store,
                                                            busybox: str) -> None:
    ctx = context(tmp_path, f"FROM {busybox} AS first\nRUN echo one > /one\n"
                            f"FROM {busybox}\nCOPY --from=first /one /one\nRUN echo two > /two; exit 7\n")
    error = failed_build(store, ctx, keep_failed=True)
    assert error.exit_code == 7 and error.stage_index == 1
    assert [c.id for c in store.containers()] == [error.container]
    error.builder.delete()
    assert store.containers() == []
    error.builder.delete()  # idempotent


def test_a_stopped_build_keeps_nothing_even_with_keep_failed(tmp_path: Path, store: pybuildah.Store,
                                                              busybox: str) -> None:
    ctx = context(tmp_path, f"FROM {busybox}\nRUN echo started; echo partial > /f; sleep 60\n")

    class Stop(Exception):
        pass

    def log(line: str) -> None:
        if line == "started":  # the RUN step is running: its container exists
            raise Stop

    started = time.monotonic()
    with pytest.raises(Stop):
        pybuildah.build(str(ctx), store=store, keep_failed=True, log=log)
    assert time.monotonic() - started < 30
    assert store.containers() == []


def test_keep_failed_bad_input_is_typed(tmp_path: Path, store: pybuildah.Store, busybox: str) -> None:
    ctx = context(tmp_path, FAILING.format(base=busybox))
    with pytest.raises(pybuildah.InvalidType):
        pybuildah.build(str(ctx), store=store, keep_failed="yes")  # type: ignore[call-overload]
    with pytest.raises(pybuildah.InvalidArgument, match="keep_failed takes a build of one platform"):
        pybuildah.build(str(ctx), store=store, keep_failed=True, platforms=["linux/amd64", "linux/arm64"])
    assert store.containers() == []


def test_a_successful_build_with_keep_failed_leaves_nothing(tmp_path: Path, store: pybuildah.Store,
                                                            busybox: str) -> None:
    image = pybuildah.build(str(context(tmp_path, f"FROM {busybox}\nRUN echo ok > /ok\n")), store=store,
                            keep_failed=True, log=lambda line: None)
    assert image.id and store.containers() == []


def test_diff_lists_added_changed_and_deleted_paths(store: pybuildah.Store, busybox: str) -> None:
    with pybuildah.Builder(busybox, store=store) as builder:
        assert builder.diff() == []
        builder.run("echo new > /added.txt && echo more >> /etc/passwd && rm /bin/ls && mkdir -p /d/e && touch /d/e/f")
        changes = builder.diff()
        assert changes == sorted(changes, key=lambda c: c.path)
        kinds = {c.path: c.kind for c in changes}
        assert {p: kinds.get(p) for p in ("/added.txt", "/etc/passwd", "/bin/ls", "/d", "/d/e", "/d/e/f")} == {
            "/added.txt": "A", "/etc/passwd": "C", "/bin/ls": "D", "/d": "A", "/d/e": "A", "/d/e/f": "A"}
        # Nothing but what the command touched (and the directories holding a deletion or a new entry).
        with builder.mount() as root:
            for change in changes:
                assert (root / change.path.lstrip("/")).exists() == (change.kind != "D"), change
        assert set(kinds) <= {"/added.txt", "/etc", "/etc/passwd", "/bin", "/bin/ls", "/d", "/d/e", "/d/e/f"}
        with pytest.raises(pybuildah.ImageNotFound):
            builder.diff("localhost/no-such-image:1")
        with pytest.raises(pybuildah.InvalidType):
            builder.diff(42)  # type: ignore[arg-type]
    with pybuildah.Builder("scratch", store=store) as empty:
        assert empty.diff() == []


def test_diff_with_the_step_cache_is_against_the_base_image(store: pybuildah.Store, busybox: str) -> None:
    # The cache rebases the container on one entry per step; the base must be in the store itself for a
    # diff across those layers (storage computes it in one layer store, not across additional ones).
    with pybuildah.Builder(busybox, store=store) as copy:
        base = copy.commit("local-busybox:1").id
    for _ in range(2):  # the second round takes both steps from the cache
        with pybuildah.Builder(base, store=store, cache=True) as builder:
            builder.run("echo a > /a")
            builder.run("echo b > /b")
            assert {Change("/a", "A"), Change("/b", "A")} <= set(builder.diff())


def test_shell_without_a_terminal_is_refused(store: pybuildah.Store, busybox: str) -> None:
    with pybuildah.Builder(busybox, store=store) as builder:
        read, write = os.pipe()
        saved = os.dup(0)
        try:
            os.dup2(read, 0)
            with pytest.raises(pybuildah.InvalidArgument, match="terminal"):
                builder.shell()
        finally:
            os.dup2(saved, 0)
            for fd in (read, write, saved):
                os.close(fd)
        with pytest.raises(pybuildah.InvalidType):
            builder.shell("sh")  # a list of words, not a string


class Terminal:
    """A child process on a real pseudo-terminal, read until expected text appears."""

    def __init__(self, argv: list[str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: argv on the terminal
            os.execv(argv[0], argv)
        self.output = b""

    def expect(self, text: bytes, timeout: float = 120) -> None:
        """Read until the pattern text (a regular expression) matches the output."""
        end = time.monotonic() + timeout
        while not re.search(text, self.output):
            assert time.monotonic() < end, f"{text!r} not seen in {self.output.decode(errors='replace')!r}"
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:  # EIO: the child closed the terminal
                    chunk = b""
                assert chunk, f"{text!r} not seen before the end: {self.output.decode(errors='replace')!r}"
                self.output += chunk

    def send(self, text: bytes) -> None:
        os.write(self.fd, text)

    def kill(self) -> None:
        """End the child if a failed assertion left it running."""
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass

    def wait(self) -> int:
        while True:  # drain, so the child never blocks writing to the terminal
            try:
                if not os.read(self.fd, 4096):
                    break
            except OSError:
                break
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


def test_cli_debug_on_failure_opens_a_shell_in_the_failed_step(tmp_path: Path,
                                                                busybox_exports: dict[str, Path]) -> None:
    root = tmp_path / "cli-root"
    with pybuildah.Store(root=root, driver="overlay") as store:  # the base, in the CLI's own store
        base = pybuildah.pull(f"oci-archive:{busybox_exports['oci-archive']}", store=store).id
    ctx = context(tmp_path, FAILING.format(base=base))
    term = Terminal([sys.executable, "-m", "pybuildah", "--root", str(root), "--storage-driver", "overlay",
                     "build", "--debug-on-failure", str(ctx)])
    try:
        term.expect(rb"exit the shell to remove it")
        term.expect(rb"/work # ")  # busybox sh's prompt, on the container's terminal, in the step's workdir
        term.send(b'echo "tty=$(tty) $STAGE $(cat /f)"\n')
        term.expect(rb"tty=/dev/pts/\d+ debugging partial")  # a terminal; the step's environment and writes
        term.send(b"exit 5\n")
        term.expect(rb"The shell exited with status 5")
        assert term.wait() == 1  # the build failed
    finally:
        term.kill()
    assert b"Error: building at STEP" in term.output
    with pybuildah.Store(root=root, driver="overlay") as store:
        assert store.containers() == []


def test_cli_debug_on_failure_needs_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pybuildah.cli import main
    ctx = context(tmp_path, "FROM scratch\nRUN false\n")
    status = main(["--root", str(tmp_path / "root"), "--storage-driver", "overlay", "build", "--debug-on-failure",
                   str(ctx)])
    assert status != 0 and "terminal" in capsys.readouterr().err
    assert not (tmp_path / "root" / "overlay-containers").exists() or not any(
        (tmp_path / "root" / "overlay-containers").iterdir())
