"""pybuildah as a guest in the host process: threads, signals, interrupted calls, fork, leaks.

Anything that could crash or hang the interpreter runs in a child Python with a
timeout, so that one crash fails one test.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import processes_running

import pybuildah

BASE = "localhost/busybox:latest"

PRELUDE = """
import _thread, os, signal, sys, threading, time
import pybuildah
store = pybuildah.Store(root=sys.argv[1], driver="overlay", additional_image_stores=[sys.argv[2]])
BASE = "localhost/busybox:latest"
ARG = sys.argv[3] if len(sys.argv) > 3 else ""

def pids_running(needle):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    line = f.read().replace(b"\\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if needle in line and int(entry) != os.getpid():
                found.append(int(entry))
    return found

def interrupt_after(seconds, how="sigint"):
    def fire():
        if how == "sigint":
            os.kill(os.getpid(), signal.SIGINT)
        else:
            _thread.interrupt_main()
    timer = threading.Timer(seconds, fire)
    timer.start()
    return timer
"""


def run_script(body: str, tmp_path: Path, base_store_root: Path, *, arg: str = "",
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run PRELUDE + body in a child Python on a fresh store; fail (not hang) on a timeout."""
    root = tmp_path / f"child-store-{time.monotonic_ns()}"
    code = PRELUDE + textwrap.dedent(body)
    try:
        return subprocess.run([sys.executable, "-c", code, str(root), str(base_store_root), arg],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the child hung for {timeout} s; output: {exc.stdout!r} {exc.stderr!r}")


def ok(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, f"child failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result.stdout.splitlines()


def values(lines: list[str]) -> dict[str, str]:
    """The child's KEY=VALUE lines."""
    return dict(line.split("=", 1) for line in lines if "=" in line)


@pytest.fixture
def tarpit() -> Iterator[str]:
    """A "registry" on 127.0.0.1 that accepts connections and never answers: calls to it hang."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


# Threads ---------------------------------------------------------------------------


def test_threads_setting_labels_on_one_builder_lose_nothing(tmp_path: Path, base_store_root: Path) -> None:
    # Used to abort with "concurrent map writes", lose labels or raise index out of range.
    lines = ok(run_script("""
        errors = []
        with pybuildah.Builder(BASE, store=store) as b:
            def work(t):
                try:
                    for i in range(50):
                        b.set_label(f"t{t}-{i}", str(i))
                        if i % 10 == 0:
                            b.set_env(f"T{t}", str(i))
                            b.config
                except BaseException as exc:
                    errors.append(repr(exc))
            threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
            for t in threads: t.start()
            for t in threads: t.join()
            labels = b.config.labels
            print("errors=" + repr(errors))
            print("labels=" + str(sum(1 for t in range(8) for i in range(50) if labels.get(f"t{t}-{i}") == str(i))))
    """, tmp_path, base_store_root))
    got = values(lines)
    assert got["errors"] == "[]"
    assert got["labels"] == "400"


def test_two_handles_of_one_container_keep_each_others_changes(store: pybuildah.Store) -> None:
    with pybuildah.Builder(BASE, store=store) as first:
        second = pybuildah.Builder.open(first.id, store=store)
        for i in range(20):
            (first if i % 2 else second).set_label(f"k{i}", str(i))
        second.set_env("FROM_SECOND", "1")
        first.set_env("FROM_FIRST", "1")
        for handle in (first, second, pybuildah.Builder.open(first.name, store=store)):
            config = handle.config
            assert {f"k{i}": str(i) for i in range(20)}.items() <= config.labels.items()
            assert config.env["FROM_FIRST"] == config.env["FROM_SECOND"] == "1"
        # Sharing one builder adds no reload: a config call (lock, read) stays well under 1 ms.
        start = time.perf_counter()
        for _ in range(200):
            assert second.config.labels["k0"] == "0"
        per_call = (time.perf_counter() - start) / 200
        assert per_call < 0.001, f"{per_call * 1000:.2f} ms per config call"


def test_delete_waits_for_a_command_running_in_another_thread(store: pybuildah.Store) -> None:
    b = pybuildah.Builder(BASE, store=store)
    results: list[object] = []

    def run() -> None:
        try:
            results.append(b.run("sleep 1; echo finished"))
        except BaseException as exc:
            results.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.3)
    start = time.monotonic()
    b.delete()
    waited = time.monotonic() - start
    thread.join(30)
    assert len(results) == 1 and isinstance(results[0], pybuildah.RunResult), results
    assert results[0].stdout == "finished\n"
    assert waited > 0.3, "delete() did not wait for the running command"
    assert store.containers() == []


def test_eight_threads_on_one_store_lose_nothing(tmp_path: Path, base_store_root: Path) -> None:
    lines = ok(run_script("""
        src = os.path.join(ARG, "payload")
        with open(src, "w") as f: f.write("payload\\n")
        errors = []
        shared = pybuildah.Builder(BASE, store=store, name="shared")
        def work(t):
            try:
                for i in range(3):
                    with pybuildah.Builder(BASE, store=store) as b:
                        b.copy(src, f"/data/{t}-{i}")
                        r = b.run(f"cat /data/{t}-{i} && echo {t}-{i} > /marker")
                        assert r.stdout == "payload\\n", r
                        b.set_label("thread", str(t))
                        b.set_label("round", str(i))
                        b.commit(f"localhost/stress-{t}-{i}:latest")
                    shared.set_label(f"t{t}-{i}", "1")
                    shared.run("true")
            except BaseException as exc:
                errors.append(repr(exc))
        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        missing = []
        for t in range(8):
            for i in range(3):
                try:
                    img = store.image(f"localhost/stress-{t}-{i}:latest")
                    if img.config.labels.get("thread") != str(t) or img.config.labels.get("round") != str(i):
                        missing.append(f"labels of {t}-{i}")
                except pybuildah.ImageNotFound:
                    missing.append(f"image {t}-{i}")
                if shared.config.labels.get(f"t{t}-{i}") != "1":
                    missing.append(f"shared label {t}-{i}")
        shared.delete()
        print("errors=" + repr(errors))
        print("missing=" + repr(missing))
        print("containers=" + str(len(store.containers())))
    """, tmp_path, base_store_root, arg=str(tmp_path), timeout=600))
    got = values(lines)
    assert got == {"errors": "[]", "missing": "[]", "containers": "0"}


def test_threads_changing_one_manifest_list_lose_nothing(tmp_path: Path, base_store_root: Path) -> None:
    # Adds, annotations and removals each read the whole list and write it back; libimage does
    # that under the list's lock in the store, so concurrent calls must not lose each other's change.
    lines = ok(run_script("""
        digests, errors = {}, []
        for t in range(8):
            with open(os.path.join(ARG, f"f{t}"), "w") as f: f.write(f"image {t}\\n")
            with pybuildah.Builder("scratch", store=store) as b:
                b.copy(os.path.join(ARG, f"f{t}"), "/f")
                b.commit(f"localhost/entry-{t}:1")
        listed = pybuildah.Manifest.create("localhost/shared-list:1", store=store)
        start = threading.Barrier(8)
        def work(t):
            try:
                start.wait()
                digests[t] = listed.add(f"localhost/entry-{t}:1", annotations={"thread": str(t)})
                start.wait()
                if t % 2:
                    listed.remove(digests[t])
                else:
                    listed.annotate(digests[t], arch="arm64")
            except BaseException as exc:
                errors.append(repr(exc))
        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        entries = {e.digest: e for e in listed.inspect().entries}
        print("errors=" + repr(errors))
        print("added=" + str(len(set(digests.values()))))
        print("kept=" + repr(sorted(int(e.annotations["thread"]) for e in entries.values())))
        print("arm64=" + str(all(entries[digests[t]].architecture == "arm64" for t in range(0, 8, 2))))
    """, tmp_path, base_store_root, arg=str(tmp_path)))
    assert values(lines) == {"errors": "[]", "added": "8", "kept": "[0, 2, 4, 6]", "arm64": "True"}


# Signals and interrupted calls ---------------------------------------------------------


@pytest.mark.parametrize("how", ["sigint", "interrupt_main"])
def test_ctrl_c_during_run_kills_the_command_and_keeps_the_container(
        how: str, tmp_path: Path, base_store_root: Path) -> None:
    lines = ok(run_script("""
        with pybuildah.Builder(BASE, store=store) as b:
            start = time.monotonic()
            interrupt_after(0.7, ARG)
            try:
                b.run("sleep " + "31.5")
                print("outcome=returned")
            except KeyboardInterrupt:
                print("outcome=KeyboardInterrupt")
            print(f"took={time.monotonic() - start:.2f}")
            time.sleep(0.2)
            print("left=" + repr(pids_running("sleep 31.5")))
            print("again=" + b.run("echo usable").stdout.strip())
        print("containers=" + str(len(store.containers())))
    """, tmp_path, base_store_root, arg=how))
    got = values(lines)
    assert got["outcome"] == "KeyboardInterrupt"
    assert float(got["took"]) < 0.7 + 2
    assert got["left"] == "[]"
    assert got["again"] == "usable"
    assert got["containers"] == "0"


def test_ctrl_c_at_any_moment_of_many_runs_is_always_a_keyboard_interrupt(
        tmp_path: Path, base_store_root: Path) -> None:
    # A signal can land anywhere in the wait for a call, including inside the lock
    # handling of a threading primitive; it must come out as KeyboardInterrupt every time,
    # never as another exception and never as a hang.  The interrupts are spread over the
    # life of short runs, so some land as a run starts, some while it waits, some as it ends.
    lines = ok(run_script("""
        import json, random
        rng = random.Random(ARG)
        outcomes = {}
        with pybuildah.Builder(BASE, store=store) as b:
            for n in range(60):
                interrupt_after(rng.uniform(0.0, 0.25))
                try:
                    try:
                        b.run(["sleep", "0.1"])
                        outcome = "returned"
                    except KeyboardInterrupt:
                        outcome = "KeyboardInterrupt"
                    time.sleep(0.3)  # a late interrupt lands here, outside the call
                except KeyboardInterrupt:
                    pass
                except BaseException as exc:
                    outcome = type(exc).__name__ + ": " + str(exc)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            print("usable=" + b.run("echo yes").stdout.strip())
        print("outcomes=" + json.dumps(sorted(outcomes)))
        print("containers=" + str(len(store.containers())))
    """, tmp_path, base_store_root, arg=str(time.time_ns()), timeout=300))
    got = values(lines)
    assert set(json.loads(got["outcomes"])) <= {"returned", "KeyboardInterrupt"}, got["outcomes"]
    assert "KeyboardInterrupt" in got["outcomes"]
    assert got["usable"] == "yes" and got["containers"] == "0"


def test_ctrl_c_during_a_pull_for_a_new_builder_leaves_no_container(tmp_path: Path, base_store_root: Path,
                                                                     tarpit: str) -> None:
    lines = ok(run_script("""
        for what in ("builder", "pull", "pull_all"):
            start = time.monotonic()
            interrupt_after(0.7)
            try:
                if what == "builder":
                    pybuildah.Builder(ARG + "/never:latest", store=store, tls_verify=False, retries=0)
                else:
                    pybuildah.pull(ARG + "/never:latest", store=store, tls_verify=False, retries=0,
                                   all_platforms=what == "pull_all")
                print(what + "=returned")
            except KeyboardInterrupt:
                print(what + "=KeyboardInterrupt")
            print(f"{what}_took={time.monotonic() - start:.2f}")
        print("containers=" + str(len(store.containers())))
        print("images=" + repr([i.names for i in store.images() if "never" in str(i.names)]))
    """, tmp_path, base_store_root, arg=tarpit))
    got = values(lines)
    assert got["builder"] == got["pull"] == got["pull_all"] == "KeyboardInterrupt"
    for what in ("builder", "pull", "pull_all"):
        assert float(got[what + "_took"]) < 0.7 + 2, what
    assert got["containers"] == "0"
    assert got["images"] == "[]"


def test_ctrl_c_during_commit_and_push_stops_them(tmp_path: Path, base_store_root: Path, tarpit: str) -> None:
    lines = ok(run_script("""
        with pybuildah.Builder(BASE, store=store) as b:
            b.run("echo x > /x")
            for what in ("commit", "push"):
                start = time.monotonic()
                interrupt_after(0.7)
                try:
                    if what == "commit":
                        b.commit("docker://" + ARG + "/never:latest", tls_verify=False, retries=0)
                    else:
                        pybuildah.push(BASE, "docker://" + ARG + "/never:latest", store=store,
                                       tls_verify=False, retries=0)
                    print(what + "=returned")
                except KeyboardInterrupt:
                    print(what + "=KeyboardInterrupt")
                print(f"{what}_took={time.monotonic() - start:.2f}")
            print("mounts=" + str(sum(1 for line in open("/proc/self/mountinfo") if sys.argv[1] in line)))
            print("again=" + b.commit("localhost/after:latest").id[:6])
        print("containers=" + str(len(store.containers())))
    """, tmp_path, base_store_root, arg=tarpit))
    got = values(lines)
    assert got["commit"] == got["push"] == "KeyboardInterrupt"
    assert float(got["commit_took"]) < 0.7 + 2
    assert float(got["push_took"]) < 0.7 + 2
    assert len(got["again"]) == 6
    assert got["containers"] == "0"


def test_ctrl_c_during_manifest_calls_that_reach_a_registry_stops_them(tmp_path: Path, base_store_root: Path,
                                                                       tarpit: str) -> None:
    lines = ok(run_script("""
        listed = pybuildah.Manifest.create("localhost/cancel-list:1", store=store)
        listed.add(BASE)
        remote = "docker://" + ARG + "/never:latest"
        calls = {"add": lambda: listed.add(remote, tls_verify=False, retries=0),
                 "push": lambda: listed.push(remote, tls_verify=False, retries=0),
                 "inspect": lambda: pybuildah.Manifest(remote, store=store).inspect(tls_verify=False, retries=0)}
        for what, call in calls.items():
            start = time.monotonic()
            interrupt_after(0.7)
            try:
                call()
                print(what + "=returned")
            except KeyboardInterrupt:
                print(what + "=KeyboardInterrupt")
            print(f"{what}_took={time.monotonic() - start:.2f}")
        print("entries=" + str(len(listed.inspect().entries)))
    """, tmp_path, base_store_root, arg=tarpit))
    got = values(lines)
    for what in ("add", "push", "inspect"):
        assert got[what] == "KeyboardInterrupt", what
        assert float(got[what + "_took"]) < 0.7 + 2, what
    assert got["entries"] == "1"  # the list is as it was


def test_a_sigterm_handler_installed_during_a_run_keeps_working(tmp_path: Path, base_store_root: Path) -> None:
    # The handler is installed while run() is in progress (by a SIGUSR1 handler, in the main
    # thread, as Python requires); Go used to restore its own view of the handlers afterwards.
    lines = ok(run_script("""
        received = []
        def install(signum, frame):
            signal.signal(signal.SIGTERM, lambda s, f: received.append(s))
        signal.signal(signal.SIGUSR1, install)
        with pybuildah.Builder(BASE, store=store) as b:
            threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGUSR1)).start()
            r = b.run("sleep 2; echo slept")
            print("run=" + r.stdout.strip())
            b.run("true")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.2)
        print("received=" + repr(received))
        print("sigint_handler=" + repr(signal.getsignal(signal.SIGINT) is signal.default_int_handler))
    """, tmp_path, base_store_root))
    got = values(lines)
    assert got["run"] == "slept"
    assert got["received"] == f"[{int(signal.SIGTERM)}]"
    assert got["sigint_handler"] == "True"


def test_sigterm_with_the_default_disposition_ends_the_process_and_its_command(
        tmp_path: Path, base_store_root: Path) -> None:
    marker = "sleep 32.25"  # the child's own command line spells it differently
    child = subprocess.Popen(
        [sys.executable, "-c", PRELUDE + textwrap.dedent("""
            with pybuildah.Builder(BASE, store=store) as b:
                print("started", flush=True)
                b.run("sleep " + "32.25")
            print("survived", flush=True)
        """), str(tmp_path / "root"), str(base_store_root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 20
        while not processes_running(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=5)
    finally:
        child.kill()
    assert child.returncode == -signal.SIGTERM
    assert "survived" not in out
    deadline = time.monotonic() + 2
    while processes_running(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_running(marker) == []


def test_an_ignored_sigchld_breaks_nothing(tmp_path: Path, base_store_root: Path) -> None:
    lines = ok(run_script("""
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        ctx = os.path.join(ARG, "ctx")
        os.makedirs(ctx, exist_ok=True)
        with open(os.path.join(ctx, "Containerfile"), "w") as f:
            f.write(f"FROM {BASE}\\nRUN echo built > /built\\n")
        with pybuildah.Builder(BASE, store=store) as b:
            print("run=" + b.run("echo ran").stdout.strip())
            print("commit=" + str(len(b.commit("localhost/sigchld:latest").id)))
        image = pybuildah.build(ctx, store=store, tag="localhost/built:latest")
        print("build=" + str(len(image.id)))
        print("still_ignored=" + repr(signal.getsignal(signal.SIGCHLD) is signal.SIG_IGN))
        import subprocess
        p = subprocess.Popen(["true"])
        time.sleep(0.3)
        print("auto_reaped=" + repr(not os.path.exists(f"/proc/{p.pid}")))
    """, tmp_path, base_store_root, arg=str(tmp_path)))
    got = values(lines)
    assert got["run"] == "ran"
    assert got["commit"] == got["build"] == "64"
    assert got["still_ignored"] == "True"
    assert got["auto_reaped"] == "True"  # the program's own disposition is back after the calls


# RunResult ------------------------------------------------------------------------------


def test_run_result_is_like_subprocess(store: pybuildah.Store) -> None:
    with pybuildah.Builder(BASE, store=store) as b:
        killed = b.run("kill -KILL $$", check=False)
        assert killed.exit_code == -signal.SIGKILL
        terminated = b.run("kill -TERM $$", check=False)
        assert terminated.exit_code == -signal.SIGTERM
        # The command's own lines, blank ones and look-alikes of the runtime's notes included, stay.
        mine = b.run("echo err >&2; echo >&2; echo 'subprocess exited with status 5' >&2; exit 3",
                     check=False)
        assert mine.exit_code == 3
        assert mine.stderr == "err\n\nsubprocess exited with status 5\n"
        raw = b.run(r"printf 'a\377b\n'; printf '\376\n' >&2", check=False)
        assert raw.stdout_bytes == b"a\xffb\n"
        assert raw.stderr_bytes == b"\xfe\n"
        assert raw.stdout == "a\ufffdb\n"
        with pytest.raises(pybuildah.RunError) as caught:
            b.run("echo bad >&2; exit 7")
        assert caught.value.exit_code == 7
        assert caught.value.stderr == "bad\n"


def test_a_thousand_runs_in_a_row_never_fail(store: pybuildah.Store) -> None:
    failures: list[str] = []
    with pybuildah.Builder(BASE, store=store) as b:
        for i in range(1000):
            try:
                result = b.run("true", check=False)
                if result.exit_code != 0 or result.stderr:
                    failures.append(f"{i}: {result}")
            except pybuildah.BuildahError as exc:
                failures.append(f"{i}: {exc}")
    assert failures == []


# Fork ---------------------------------------------------------------------------------


def test_fork_while_another_thread_loads_the_library_gives_fork_error() -> None:
    code = textwrap.dedent("""
        import os, sys, threading, time
        from pybuildah import _ffi, errors
        loader = threading.Thread(target=_ffi._load)
        with _ffi._lock:          # hold the load lock as a loading thread would
            loader.start()
            pid = os.fork()
            if pid == 0:
                try:
                    _ffi.call("Version")
                    os._exit(3)
                except errors.ForkError:
                    os._exit(0)
                except BaseException:
                    os._exit(4)
        loader.join()
        _, status = os.waitpid(pid, 0)
        print("child=" + str(os.waitstatus_to_exitcode(status)))
        print("parent=" + _ffi.call("Version")["buildah"])
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    lines = ok(result)
    got = values(lines)
    assert got["child"] == "0"
    assert got["parent"]


# Leaks --------------------------------------------------------------------------------


LEAK_CYCLES = 1000
WARM_UP = 50


def test_a_thousand_builder_cycles_leak_nothing(tmp_path: Path, base_store_root: Path) -> None:
    lines = ok(run_script(f"""
        src = os.path.join(ARG, "tiny")
        with open(src, "w") as f: f.write("x")

        def rss():
            with open("/proc/self/status") as f:
                return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))

        def level():
            with open("/proc/self/mountinfo") as f:
                mounts = sum(1 for line in f if sys.argv[1] in line)
            return dict(rss=rss(), fds=len(os.listdir("/proc/self/fd")),
                        threads=len(os.listdir("/proc/self/task")), mounts=mounts,
                        containers=len(store.containers()))

        def cycle(i):
            with pybuildah.Builder(BASE, store=store) as b:
                b.copy(src, "/tiny")
                b.run("true")
                with b.mount() as root:
                    assert (root / "tiny").exists()
                img = b.commit()
            store.remove_image(img.id)

        for i in range({WARM_UP}):
            cycle(i)
        before = level()
        for i in range({LEAK_CYCLES}):
            cycle(i)
        after = level()
        for key in before:
            print(f"before_{{key}}={{before[key]}}")
            print(f"after_{{key}}={{after[key]}}")
    """, tmp_path, base_store_root, arg=str(tmp_path), timeout=1800))
    got = {key: int(value) for key, value in values(lines).items()}
    print(got)
    assert got["after_rss"] < got["before_rss"] * 1.10, got
    assert got["after_fds"] <= got["before_fds"] + 2, got
    assert got["after_threads"] <= got["before_threads"] + 2, got
    assert got["after_mounts"] <= got["before_mounts"], got
    assert got["after_containers"] == got["before_containers"] == 0, got
