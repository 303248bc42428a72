"""Builder.run's input=, timeout=, network= and mounts= (issue 12), against real stores and real RUNs."""

from __future__ import annotations

import io
import math
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from conftest import processes_running

import pybuildah


def _children(pid: int) -> set[int]:
    """PIDs whose parent is pid."""
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.add(int(entry.name))
    return out


def _run_in_thread(b: pybuildah.Builder, limit: float, *args: object, **kwargs: object) -> pybuildah.RunResult:
    """b.run in a worker thread: a deadlock fails the test instead of hanging the session."""
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["ok"] = b.run(*args, **kwargs)  # type: ignore[arg-type]
        except BaseException as exc:  # re-raised below
            outcome["error"] = exc

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(limit)
    assert not worker.is_alive(), f"run did not return within {limit} s"
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    result = outcome["ok"]
    assert isinstance(result, pybuildah.RunResult)
    return result


# input= ---------------------------------------------------------------------------


def test_run_input_is_the_commands_stdin(store: pybuildah.Store, busybox: str) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        assert b.run(["cat"], input=b"raw \xff\x00 bytes\n").stdout_bytes == b"raw \xff\x00 bytes\n"
        assert b.run(["cat"], input="caf\u00e9\n").stdout_bytes == "caf\u00e9\n".encode()
        assert b.run(["/bin/sh", "-c", "read line; echo got $line"], input="one\ntwo\n").stdout == "got one\n"
        # Without input, stdin is empty (EOF at once), as before.
        assert b.run(["cat"]).stdout_bytes == b""


def test_run_large_input_does_not_deadlock(store: pybuildah.Store, busybox: str) -> None:
    big = os.urandom(6 << 20)  # 6 MiB: far over any pipe buffer, both ways at once
    with pybuildah.Builder(busybox, store=store) as b:
        echoed = _run_in_thread(b, 120, ["cat"], input=big)
        assert echoed.stdout_bytes == big
        counted = _run_in_thread(b, 120, ["/bin/sh", "-c", "wc -c"], input=big)
        assert counted.stdout.strip() == str(len(big))
        # A command that reads nothing: the unread input must not hold the call.
        assert _run_in_thread(b, 120, ["true"], input=big).exit_code == 0


def test_run_input_type_is_checked_before_anything_runs(store: pybuildah.Store, busybox: str) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        with pytest.raises(pybuildah.InvalidType):
            b.run(["/bin/sh", "-c", "touch /ran"], input=7)  # type: ignore[arg-type]
        assert b.run(["/bin/sh", "-c", "test -e /ran || echo absent"]).stdout == "absent\n"


class _Endless:
    """A binary stream that never ends: only a streamed input lets a command that stops reading finish."""

    def __init__(self) -> None:
        self.served = 0

    def readinto(self, buffer: bytearray) -> int:
        buffer[:] = b"y" * len(buffer)
        self.served += len(buffer)
        return len(buffer)


def test_run_input_streams_a_binary_file_object(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    size = 64 << 20
    data = tmp_path / "input.bin"
    with open(data, "wb") as out:
        out.truncate(size)
        out.seek(size - 5)
        out.write(b"tail\n")
    with pybuildah.Builder(busybox, store=store) as b:
        # A regular file: read from its current position, which stays where it was.
        with open(data, "rb") as file:
            started = time.monotonic()
            assert _run_in_thread(b, 120, ["wc", "-c"], input=file).stdout.strip() == str(size)
            print(f"\n64 MiB file into wc -c: {time.monotonic() - started:.2f}s")
            file.seek(size - 5)
            assert b.run(["cat"], input=file).stdout == "tail\n"
            assert file.tell() == size - 5
        assert b.run(["cat"], input=io.BytesIO(b"from memory\n")).stdout == "from memory\n"

        # A pipe whose writer is a thread: 64 MiB streamed as it is written.
        read_end, write_end = os.pipe()
        chunk = os.urandom(1 << 20)

        def writer() -> None:
            with open(write_end, "wb") as pipe:
                for _ in range(64):
                    pipe.write(chunk)

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        with open(read_end, "rb") as pipe:
            started = time.monotonic()
            assert _run_in_thread(b, 120, ["wc", "-c"], input=pipe).stdout.strip() == str(size)
            print(f"64 MiB pipe into wc -c: {time.monotonic() - started:.2f}s")
        thread.join(10)

        # Streamed, not read whole first: an endless source serves a command that stops reading.
        endless = _Endless()
        assert _run_in_thread(b, 120, ["head", "-c", "3000000"], input=endless).stdout_bytes == b"y" * 3_000_000
        assert endless.served < 64 << 20


def test_run_input_from_a_stalled_pipe_stops_on_ctrl_c(store: pybuildah.Store, busybox: str) -> None:
    read_end, write_end = os.pipe()  # nobody ever writes: cat waits for ever
    with pybuildah.Builder(busybox, store=store) as b, open(read_end, "rb") as pipe:
        b.run(["true"])
        timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            b.run(["cat"], input=pipe, timeout=120)
        took = time.monotonic() - started
        print(f"\nCtrl-C to KeyboardInterrupt with a stalled input pipe: {took - 1.0:.2f}s")
        assert took < 10
        os.close(write_end)  # the pump thread, waiting on the stalled pipe, sees its end
        assert b.run(["echo", "usable"]).stdout == "usable\n"


def test_run_input_in_text_mode_is_a_type_error(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    (tmp_path / "text.txt").write_text("text\n")
    with pybuildah.Builder(busybox, store=store) as b:
        with open(tmp_path / "text.txt") as text, pytest.raises(pybuildah.InvalidType, match="rb") as caught:
            b.run(["/bin/sh", "-c", "touch /ran"], input=text)  # type: ignore[arg-type]
        assert isinstance(caught.value, TypeError)
        with pytest.raises(TypeError):
            b.run(["cat"], input=io.StringIO("text"))  # type: ignore[arg-type]
        assert b.run(["/bin/sh", "-c", "test -e /ran || echo absent"]).stdout == "absent\n"


# timeout= -------------------------------------------------------------------------


def test_run_timeout_kills_the_whole_tree_and_keeps_the_container(store: pybuildah.Store, busybox: str) -> None:
    marker = "31415"
    with pybuildah.Builder(busybox, store=store) as b:
        b.run(["true"])  # the long-lived helpers a first RUN starts are not the command's
        before = _children(os.getpid())
        started = time.monotonic()
        with pytest.raises(pybuildah.RunTimeout, match="timed out") as caught:
            b.run(["/bin/sh", "-c", f"echo started; echo to-err >&2; sleep {marker} & sleep {marker}; echo never"],
                  timeout=1.5)
        elapsed = time.monotonic() - started
        assert isinstance(caught.value, TimeoutError)
        assert isinstance(caught.value, pybuildah.RunError)
        # Like subprocess.TimeoutExpired, it carries what the command wrote in time.
        assert (caught.value.stdout, caught.value.stderr, caught.value.exit_code) == ("started\n", "to-err\n", -9)
        assert 1.5 <= elapsed < 30
        # Nothing is left: not the command, its background child, nor the runtime.
        assert processes_running(f"sleep {marker}") == []
        assert _children(os.getpid()) <= before
        # The working container is still usable, and quick commands are unaffected.
        assert b.run(["echo", "still here"], timeout=60).stdout == "still here\n"
        assert b.run(["/bin/sh", "-c", "exit 3"], timeout=60, check=False).exit_code == 3


@pytest.mark.parametrize("bad", [0, -1, -0.5, math.nan, math.inf])
def test_run_timeout_bad_value_is_a_value_error_and_runs_nothing(
    store: pybuildah.Store, busybox: str, bad: float
) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        with pytest.raises(pybuildah.InvalidArgument, match="timeout") as caught:
            b.run(["/bin/sh", "-c", "touch /ran"], timeout=bad)
        assert isinstance(caught.value, ValueError)
        assert b.run(["/bin/sh", "-c", "test -e /ran || echo absent"]).stdout == "absent\n"


@pytest.mark.parametrize("bad", [True, "5", [5]])
def test_run_timeout_bad_type_is_a_type_error(store: pybuildah.Store, busybox: str, bad: object) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        with pytest.raises(pybuildah.InvalidType) as caught:
            b.run(["/bin/sh", "-c", "touch /ran"], timeout=bad)  # type: ignore[arg-type]
        assert isinstance(caught.value, TypeError)
        assert b.run(["/bin/sh", "-c", "test -e /ran || echo absent"]).stdout == "absent\n"


# network= (the listener fixture is in conftest) ---------------------------------------


def _connect(port: int) -> str:
    return f"nc 127.0.0.1 {port} </dev/null"


def test_run_network_none_cuts_the_network_and_host_keeps_it(
    store: pybuildah.Store, busybox: str, listener: int
) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        default = b.run(_connect(listener), check=False)
        assert default.stdout == "hello from the host\n"  # chroot isolation's default is the host's network
        assert b.run(_connect(listener), network="host").stdout == "hello from the host\n"
        # As in Buildah, chroot isolation cannot make a private network and uses the host's.
        assert b.run(_connect(listener), network="private").stdout == "hello from the host\n"
        cut = b.run(_connect(listener), network="none", check=False)
        assert cut.exit_code != 0 and "hello" not in cut.stdout
        # Only loopback, and up: the command can still talk to itself.
        links = b.run(["ip", "-o", "link", "show"], network="none").stdout.splitlines()
        assert len(links) == 1 and links[0].split()[1] == "lo:" and ",UP" in links[0]
        assert len(b.run(["ip", "-o", "link", "show"]).stdout.splitlines()) > 1  # the host's
        # The next RUN without network= is back on the host's network.
        assert b.run(_connect(listener)).stdout == "hello from the host\n"


def test_run_network_bad_value_is_a_value_error(store: pybuildah.Store, busybox: str) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        with pytest.raises(pybuildah.InvalidArgument) as caught:
            b.run(["true"], network="")
        assert isinstance(caught.value, ValueError)
        with pytest.raises(pybuildah.InvalidType):
            b.run(["true"], network=0)  # type: ignore[arg-type]


def test_build_network_none_cuts_the_network(store: pybuildah.Store, busybox: str, tmp_path: Path,
                                              listener: int) -> None:
    (tmp_path / "Containerfile").write_text(
        f"FROM {busybox}\nRUN {_connect(listener)} > /got; echo status $? >> /got\n"
    )
    quiet: list[str] = []
    cut = pybuildah.build(tmp_path, store=store, network="none", log=quiet.append)
    open_ = pybuildah.build(tmp_path, store=store, network="host", log=quiet.append)
    with pybuildah.Builder(cut.id, store=store) as b:
        got = b.run(["cat", "/got"]).stdout
        assert "hello" not in got and "status 0" not in got
    with pybuildah.Builder(open_.id, store=store) as b:
        assert b.run(["cat", "/got"]).stdout == "hello from the host\nstatus 0\n"


# mounts= --------------------------------------------------------------------------


def test_run_mounts_bind_read_only_read_write_and_tmpfs(store: pybuildah.Store, busybox: str,
                                                        bind_sources: tuple[Path, Path]) -> None:
    ro, rw = bind_sources
    with pybuildah.Builder(busybox, store=store) as b:
        # As buildah run --mount: a bind is read-only unless rw is given.
        read = b.run(["/bin/sh", "-c", "cat /ro/in.txt; echo x > /ro/no.txt"],
                     mounts=[f"type=bind,src={ro},dst=/ro"], check=False)
        assert read.stdout == "from host\n"
        assert read.exit_code != 0 and "Read-only" in read.stderr
        assert not (ro / "no.txt").exists()
        # With rw the command may write, but, as with buildah run --mount (v1.45), onto an
        # overlay that is thrown away afterwards: the host directory is unchanged.  (volumes=
        # is the way to write to the host.)
        wrote = b.run(["/bin/sh", "-c", "echo written > /rw/out.txt && cat /rw/out.txt"],
                      mounts=[f"type=bind,src={rw},dst=/rw,rw"])
        assert wrote.stdout == "written\n"
        assert list(rw.iterdir()) == []
        fs = b.run(["/bin/sh", "-c", "grep ' /scratch ' /proc/mounts; echo t > /scratch/t; cat /scratch/t"],
                   mounts=["type=tmpfs,dst=/scratch"]).stdout
        assert fs.split()[2] == "tmpfs" and fs.endswith("t\n")
        # Nothing of the mounts stays in the container.
        gone = b.run(["/bin/sh", "-c", "test -e /rw/out.txt || test -e /scratch/t || echo gone"]).stdout
        assert gone == "gone\n"


@pytest.mark.parametrize("spec", ["type=bind,dst=/m", "type=bind,src=rel,dst=/m", "type=bind,src=/tmp",
                                  "type=nosuch,dst=/m", "type=bind,src=/tmp,dst=/m,bogus", "type=tmpfs"])
def test_run_bad_mount_spec_is_a_value_error_and_runs_nothing(
    store: pybuildah.Store, busybox: str, spec: str
) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        with pytest.raises(pybuildah.InvalidArgument) as caught:
            b.run(["/bin/sh", "-c", "touch /ran"], mounts=[spec])
        assert isinstance(caught.value, ValueError)
        assert b.run(["/bin/sh", "-c", "test -e /ran || echo absent"]).stdout == "absent\n"



def test_run_mount_missing_source_is_source_not_found(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    with pybuildah.Builder(busybox, store=store) as b, pytest.raises(pybuildah.SourceNotFound):
        b.run(["true"], mounts=[f"type=bind,src={tmp_path}/missing,dst=/m"])
