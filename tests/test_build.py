"""pybuildah.build(): options, live logs, errors, layer cache and Ctrl-C, against real stores."""

from __future__ import annotations

import _thread
import io
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import processes_running

import pybuildah

BASE = "localhost/busybox:latest"


def context(tmp_path: Path, containerfile: str, name: str = "Containerfile", **files: str) -> Path:
    """A build context directory with a Containerfile and some files."""
    ctx = tmp_path / "ctx"
    ctx.mkdir(parents=True, exist_ok=True)
    (ctx / name).write_text(containerfile)
    for rel, content in files.items():
        (ctx / rel).parent.mkdir(parents=True, exist_ok=True)
        (ctx / rel).write_text(content)
    return ctx


def quiet(line: str) -> None:
    pass


def read_file(store: pybuildah.Store, image: pybuildah.Image, path: str) -> str:
    with pybuildah.Builder(image.id, store=store) as b, b.mount() as root:
        return (root / path.lstrip("/")).read_text()


# Results -----------------------------------------------------------------------------


def test_build_returns_image_with_tags(store: pybuildah.Store, tmp_path: Path) -> None:
    ctx = context(tmp_path, f"FROM {BASE}\nCOPY hello.txt /hello.txt\nCMD [\"cat\", \"/hello.txt\"]\n",
                  **{"hello.txt": "hi\n"})
    image = pybuildah.build(ctx, tag=["built:1", "localhost/also:2"], store=store, log=quiet)
    assert isinstance(image, pybuildah.Image)
    assert {"localhost/built:1", "localhost/also:2"} <= set(image.names)
    assert store.image("built:1").id == image.id
    assert image.config.cmd == ["cat", "/hello.txt"]
    assert read_file(store, image, "/hello.txt") == "hi\n"
    assert store.containers() == []


def test_dockerfile_fallback_and_explicit_containerfile(store: pybuildah.Store, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = context(tmp_path, f"FROM {BASE}\nLABEL which=dockerfile\n", name="Dockerfile")
    (ctx / "other.Containerfile").write_text(f"FROM {BASE}\nLABEL which=other\n")
    assert pybuildah.build(ctx, store=store, log=quiet).labels["which"] == "dockerfile"
    # A relative containerfile is found in the context when not in the working directory.
    monkeypatch.chdir(tmp_path)
    image = pybuildah.build(ctx, containerfile="other.Containerfile", store=store, log=quiet)
    assert image.labels["which"] == "other"
    image = pybuildah.build(ctx, containerfile=[ctx / "Dockerfile"], store=store, log=quiet)
    assert image.labels["which"] == "dockerfile"


def test_build_args_target_labels_annotations(store: pybuildah.Store, tmp_path: Path) -> None:
    ctx = context(tmp_path, f"""ARG BASE={BASE}
FROM $BASE AS first
ARG NUMBER=1
RUN echo "number $NUMBER" > /number.txt
FROM first AS second
RUN echo second > /second.txt
""")
    with pytest.raises(TypeError):  # no coercion: build arguments are strings
        pybuildah.build(ctx, build_args={"NUMBER": 42}, store=store, log=quiet)  # type: ignore[dict-item]
    image = pybuildah.build(ctx, target="first", build_args={"NUMBER": "42"}, labels={"team": "build"},
                            annotations={"org.example.note": "hi"}, store=store, log=quiet)
    assert read_file(store, image, "/number.txt") == "number 42\n"
    assert image.labels["team"] == "build"
    assert image.annotations["org.example.note"] == "hi"
    with pybuildah.Builder(image.id, store=store) as b, b.mount() as root:
        assert not (root / "second.txt").exists()


def test_docker_format_and_squash(store: pybuildah.Store, tmp_path: Path) -> None:
    ctx = context(tmp_path, f"FROM {BASE}\nRUN echo a > /a\nRUN echo b > /b\nHEALTHCHECK CMD true\n")
    docker = pybuildah.build(ctx, format="docker", store=store, log=quiet)
    assert docker.manifest_type == "application/vnd.docker.distribution.manifest.v2+json"
    assert json.loads(docker.inspect()["Config"])["config"]["Healthcheck"]["Test"] == ["CMD-SHELL", "true"]
    plain = pybuildah.build(ctx, store=store, log=quiet)
    squashed = pybuildah.build(ctx, squash=True, store=store, log=quiet)
    assert plain.manifest_type == "application/vnd.oci.image.manifest.v1+json"
    base_layers = len(store.image(BASE).layers)
    assert len(plain.layers) == base_layers + 1
    assert len(squashed.layers) == 1
    assert read_file(store, squashed, "/b") == "b\n"
    assert read_file(store, squashed, "/etc/passwd").startswith("root:")


def test_timestamp_makes_builds_reproducible(store: pybuildah.Store, tmp_path: Path) -> None:
    ctx = context(tmp_path, f"FROM {BASE}\nCOPY data.txt /data.txt\nRUN mkdir /made && echo x > /made/x\n",
                  **{"data.txt": "data\n"})
    when = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    first = pybuildah.build(ctx, timestamp=when, store=store, log=quiet)
    second = pybuildah.build(ctx, timestamp=int(when.timestamp()), store=store, log=quiet)
    assert first.created == when
    assert first.id == second.id
    third = pybuildah.build(ctx, store=store, log=quiet)
    assert third.id != first.id


def test_parallel_stages_with_jobs(store: pybuildah.Store, tmp_path: Path) -> None:
    ctx = context(tmp_path, f"""FROM {BASE} AS left
RUN sleep 1 && echo left > /left
FROM {BASE} AS right
RUN sleep 1 && echo right > /right
FROM {BASE}
COPY --from=left /left /left
COPY --from=right /right /right
""")
    image = pybuildah.build(ctx, jobs=2, store=store, log=quiet)
    assert read_file(store, image, "/left") == "left\n"
    assert read_file(store, image, "/right") == "right\n"
    assert store.containers() == []



def test_parallel_stages_keep_each_line_of_run_output_whole(store: pybuildah.Store, tmp_path: Path) -> None:
    # Two stages print at the same time, a character every 20 ms, into the build's one log.
    ctx = context(tmp_path, "".join(f"FROM {BASE} AS {c}\nRUN for i in $(seq 1 30); do printf {c}; sleep 0.02; done"
                                    f"; printf '\\n{c}-tail'\n" for c in "AB")
                  + f"FROM {BASE}\nCOPY --from=A /bin/busybox /a\nCOPY --from=B /bin/busybox /b\n")
    lines: list[str] = []
    pybuildah.build(ctx, jobs=2, store=store, log=lines.append)
    output = [line for line in lines if line and set(line) <= set("AB-tail")]
    assert sorted(output) == sorted(["A" * 30, "A-tail", "B" * 30, "B-tail"]), lines


def test_onbuild_triggers_run_in_child_build(store: pybuildah.Store, tmp_path: Path) -> None:
    parent = context(tmp_path / "p", f"FROM {BASE}\nONBUILD RUN echo triggered > /onbuild.txt\n"
                                     "ONBUILD COPY payload.txt /app/payload.txt\n")
    pybuildah.build(parent, tag="onbuild-parent", format="docker", store=store, log=quiet)
    child = context(tmp_path / "c", "FROM localhost/onbuild-parent\nRUN echo child > /child.txt\n",
                    **{"payload.txt": "from the child context\n"})
    image = pybuildah.build(child, format="docker", store=store, log=quiet)
    assert read_file(store, image, "/onbuild.txt") == "triggered\n"
    assert read_file(store, image, "/app/payload.txt") == "from the child context\n"
    assert read_file(store, image, "/child.txt") == "child\n"


# Layer cache --------------------------------------------------------------------------


def test_layer_cache_rebuild_is_fast_and_identical(store: pybuildah.Store, tmp_path: Path) -> None:
    ctx = context(tmp_path, f"FROM {BASE}\nRUN sleep 3 && echo one > /one\nCOPY data.txt /data.txt\n"
                            "RUN echo two > /two\nLABEL cached=yes\n", **{"data.txt": "data\n"})
    start = time.monotonic()
    first = pybuildah.build(ctx, layers=True, store=store, log=quiet)
    first_time = time.monotonic() - start
    lines: list[str] = []
    start = time.monotonic()
    again = pybuildah.build(ctx, layers=True, store=store, log=lines.append)
    cached_time = time.monotonic() - start
    assert again.id == first.id
    assert any("Using cache" in line for line in lines)
    assert first_time >= 5 * cached_time, (first_time, cached_time)
    # A changed file invalidates the steps from its COPY on, not before.
    (ctx / "data.txt").write_text("changed\n")
    lines.clear()
    changed = pybuildah.build(ctx, layers=True, store=store, log=lines.append)
    assert changed.id != first.id
    assert read_file(store, changed, "/data.txt") == "changed\n"
    assert sum("Using cache" in line for line in lines) == 1  # only the RUN sleep step
    assert store.containers() == []


def test_no_cache_rebuilds(store: pybuildah.Store, tmp_path: Path) -> None:
    ctx = context(tmp_path, f"FROM {BASE}\nRUN cat /proc/sys/kernel/random/uuid > /id\n")
    first = pybuildah.build(ctx, layers=True, store=store, log=quiet)
    assert pybuildah.build(ctx, layers=True, store=store, log=quiet).id == first.id
    fresh = pybuildah.build(ctx, layers=True, no_cache=True, store=store, log=quiet)
    assert fresh.id != first.id
    assert read_file(store, fresh, "/id") != read_file(store, first, "/id")


# Logs -------------------------------------------------------------------------------


def test_log_lines_arrive_while_the_build_runs(store: pybuildah.Store, tmp_path: Path) -> None:
    ctx = context(tmp_path, f"FROM {BASE}\nRUN echo early-line && sleep 2 && echo late-line\n")
    seen: dict[str, float] = {}

    def log(line: str) -> None:
        seen.setdefault(line, time.monotonic())

    pybuildah.build(ctx, store=store, log=log)
    done = time.monotonic()
    assert "early-line" in seen and "late-line" in seen
    assert seen["late-line"] - seen["early-line"] >= 1.5
    assert done - seen["early-line"] >= 1.5
    assert any(line.startswith("STEP 2/2: RUN") for line in seen)


def test_log_to_file_and_to_logging(store: pybuildah.Store, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ctx = context(tmp_path, f"FROM {BASE}\nRUN echo to-the-log\n")
    sink = io.StringIO()
    pybuildah.build(ctx, store=store, log=sink)
    text = sink.getvalue()
    assert "STEP 1/2: FROM" in text and "to-the-log\n" in text
    with caplog.at_level(logging.INFO, logger="pybuildah.build"):
        pybuildah.build(ctx, store=store)
    messages = [r.getMessage() for r in caplog.records if r.name == "pybuildah.build"]
    assert "to-the-log" in messages
    with pytest.raises(pybuildah.InvalidArgument):
        pybuildah.build(ctx, store=store, log=42)  # type: ignore[call-overload]


def test_failing_log_handler_stops_the_build(store: pybuildah.Store, tmp_path: Path) -> None:
    ctx = context(tmp_path, f"FROM {BASE}\nRUN echo explode && sleep 37\n")

    def log(line: str) -> None:
        if line == "explode":
            raise ValueError("handler failed")

    start = time.monotonic()
    with pytest.raises(ValueError, match="handler failed"):
        pybuildah.build(ctx, store=store, log=log)
    assert time.monotonic() - start < 15
    assert store.containers() == []
    assert processes_running("sleep 37") == []


# Errors ---------------------------------------------------------------------------


def test_failing_run_names_stage_step_and_exit_code(store: pybuildah.Store, tmp_path: Path) -> None:
    ctx = context(tmp_path, f"""FROM {BASE} AS prepare
RUN echo prepared > /p
FROM prepare AS compile
RUN echo compiling
RUN echo something went wrong >&2; exit 7
RUN echo never
""")
    lines: list[str] = []
    with pytest.raises(pybuildah.BuildError) as caught:
        pybuildah.build(ctx, tag="never-made", store=store, log=lines.append)
    error = caught.value
    assert error.stage == "compile"
    assert error.stage_index == 1
    assert error.step == 3
    assert error.instruction == "RUN echo something went wrong >&2; exit 7"
    assert error.exit_code == 7
    assert "something went wrong" in error.log_tail
    assert "never" not in lines
    assert "something went wrong" in str(error)
    assert store.containers() == []
    with pytest.raises(pybuildah.ImageNotFound):
        store.image("never-made")


def test_failing_copy_and_missing_base(store: pybuildah.Store, tmp_path: Path) -> None:
    ctx = context(tmp_path, f"FROM {BASE}\nCOPY missing.txt /missing.txt\n")
    with pytest.raises(pybuildah.BuildError) as caught:
        pybuildah.build(ctx, store=store, log=quiet)
    assert caught.value.instruction == "COPY missing.txt /missing.txt"
    assert caught.value.step == 2
    assert caught.value.exit_code is None
    (ctx / "Containerfile").write_text("FROM localhost/no-such-base:1\nRUN true\n")
    with pytest.raises(pybuildah.BuildError) as caught:
        pybuildah.build(ctx, pull="never", store=store, log=quiet)
    assert caught.value.instruction == "FROM localhost/no-such-base:1"
    assert caught.value.step == 1
    assert store.containers() == []


@pytest.mark.parametrize(("containerfile", "line"), [
    (f"FROM {BASE}\nRUN touch /ran\nFROBNICATE now\n", 3),
    ("RUN echo no base\n", None),
    (f"FROM {BASE}\nENV\n", None),
    (f"FROM {BASE}\nCOPY --from=nowhere\n", None),
    ("   \n", None),
])
def test_containerfile_errors_raise_before_anything_runs(store: pybuildah.Store, tmp_path: Path,
                                                        containerfile: str, line: int | None) -> None:
    ctx = context(tmp_path, containerfile)
    lines: list[str] = []
    images_before = {image.id for image in store.images()}
    with pytest.raises(pybuildah.BuildError) as caught:
        pybuildah.build(ctx, store=store, log=lines.append)
    assert lines == []  # not even the first step started
    assert caught.value.file == str(ctx / "Containerfile")
    if line is not None:
        assert caught.value.line == line
        assert caught.value.instruction == "FROBNICATE now"
        assert caught.value.stage_index == 0
    assert store.containers() == []
    assert {image.id for image in store.images()} == images_before


def test_missing_context_or_containerfile(store: pybuildah.Store, tmp_path: Path) -> None:
    with pytest.raises(pybuildah.ContextError) as caught:
        pybuildah.build(tmp_path / "nowhere", store=store, log=quiet)
    assert isinstance(caught.value, FileNotFoundError)
    assert isinstance(caught.value, pybuildah.BuildahError)
    (tmp_path / "file").write_text("x")
    with pytest.raises(pybuildah.ContextError, match="not a directory"):
        pybuildah.build(tmp_path / "file", store=store, log=quiet)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(pybuildah.ContextError, match="no Containerfile or Dockerfile"):
        pybuildah.build(empty, store=store, log=quiet)
    with pytest.raises(pybuildah.ContextError, match=r"nope\.Containerfile"):
        pybuildah.build(empty, containerfile="nope.Containerfile", store=store, log=quiet)
    with pytest.raises(pybuildah.ContextError, match="is a directory"):
        pybuildah.build(tmp_path, containerfile=empty, store=store, log=quiet)


@pytest.mark.parametrize(("options", "error"), [
    ({"format": "v1"}, pybuildah.InvalidArgument),
    ({"pull": "sometimes"}, pybuildah.InvalidArgument),
    ({"isolation": "vm"}, pybuildah.InvalidArgument),
    ({"jobs": 0}, pybuildah.InvalidArgument),
    ({"tag": "Not A Valid Tag"}, pybuildah.InvalidReference),
    ({"target": "no-such-stage"}, pybuildah.InvalidArgument),
    ({"build_args": {"": "x"}}, pybuildah.InvalidArgument),
    ({"timestamp": "yesterday"}, pybuildah.InvalidArgument),
])
def test_bad_options_raise_typed_errors(store: pybuildah.Store, tmp_path: Path, options: dict[str, object],
                                        error: type[Exception]) -> None:
    ctx = context(tmp_path, f"FROM {BASE}\nRUN true\n")
    with pytest.raises(error):
        pybuildah.build(ctx, store=store, log=quiet, **options)  # type: ignore[call-overload]
    assert store.containers() == []


# Ctrl-C ------------------------------------------------------------------------------


def interrupt_during_run(store: pybuildah.Store, ctx: Path, fire: Callable[[], None],
                         **options: object) -> tuple[BaseException, float]:
    """Build ctx, call fire() once its RUN step has started; return the exception and the time it took."""
    started = threading.Event()

    def log(line: str) -> None:
        if line == "sleeping":
            started.set()

    fired_at: list[float] = []

    def trigger() -> None:
        if started.wait(60):
            time.sleep(0.3)
            fired_at.append(time.monotonic())
            fire()

    thread = threading.Thread(target=trigger)
    thread.start()
    try:
        pybuildah.build(ctx, store=store, log=log, **options)  # type: ignore[call-overload]
    except BaseException as exc:
        caught = exc
    else:
        pytest.fail("the build was not interrupted")
    finally:
        thread.join()
    return caught, time.monotonic() - fired_at[0]


def test_keyboard_interrupt_stops_a_running_step(store: pybuildah.Store, tmp_path: Path) -> None:
    ctx = context(tmp_path, f"FROM {BASE}\nRUN echo sleeping && sleep 37\nRUN echo never\n")
    caught, took = interrupt_during_run(store, ctx, _thread.interrupt_main)
    assert isinstance(caught, KeyboardInterrupt)
    assert took < 5
    assert store.containers() == []
    assert processes_running("sleep 37") == []


def test_sigint_stops_a_layered_build(store: pybuildah.Store, tmp_path: Path) -> None:
    # A real SIGINT, as a terminal's Ctrl-C sends: Python's handler raises KeyboardInterrupt in
    # the waiting thread, which cancels the build in Go (Go never catches the signal).
    ctx = context(tmp_path, f"FROM {BASE}\nRUN echo first > /first\nRUN echo sleeping && sleep 37\n")
    caught, took = interrupt_during_run(store, ctx, lambda: os.kill(os.getpid(), signal.SIGINT), layers=True)
    assert isinstance(caught, KeyboardInterrupt)
    assert took < 5
    assert store.containers() == []
    assert processes_running("sleep 37") == []


def test_sigterm_runs_pythons_handler_which_can_stop_the_build(store: pybuildah.Store, tmp_path: Path) -> None:
    # SIGTERM gets the disposition the program set: here a handler that raises, which stops the build.
    ctx = context(tmp_path, f"FROM {BASE}\nRUN echo sleeping && sleep 37\n")
    received: list[int] = []

    class Terminated(Exception):
        pass

    def on_term(signum: int, frame: object) -> None:
        received.append(signum)
        raise Terminated

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        caught, took = interrupt_during_run(store, ctx, lambda: os.kill(os.getpid(), signal.SIGTERM))
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert isinstance(caught, Terminated)
    assert received == [signal.SIGTERM]
    assert took < 5
    assert store.containers() == []
