"""Containerfile builds, through Buildah's own front end (imagebuildah.BuildDockerfiles).

The Go call runs in a worker thread (cffi releases the GIL), so the calling
thread stays responsive: log lines reach ``log`` while the build runs, and a
KeyboardInterrupt (or any other exception raised asynchronously in the
caller) cancels the build, waits until it has stopped and cleaned up, and is
then re-raised.
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, overload

from . import _checks, _ffi, _notebook
from .errors import BuildCancelled, BuildError, InvalidArgument, InvalidType
from .image import Image
from .manifest import Manifest
from .store import Store, resolve

PathLike = str | os.PathLike[str]

LOGGER = logging.getLogger("pybuildah.build")
LOG_TAIL_LINES = 50  # how many of the last log lines a BuildError keeps

_build_ids = itertools.count(1)


class TextSink(Protocol):
    def write(self, text: str, /) -> Any: ...


LogTarget = Callable[[str], Any] | TextSink | None


@overload
def build(
    context: PathLike = ".",
    *,
    containerfile: PathLike | Sequence[PathLike] | None = None,
    tag: str | Sequence[str] | None = None,
    target: str | None = None,
    build_args: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    isolation: str = "chroot",
    layers: bool = False,
    no_cache: bool = False,
    pull: str = "missing",
    squash: bool = False,
    format: str = "oci",
    timestamp: int | datetime | None = None,
    jobs: int = 1,
    store: Store | None = None,
    log: LogTarget = None,
    platform: str | None = None,
    platforms: Sequence[str] | None = None,
    manifest: None = None,
) -> Image: ...


@overload
def build(
    context: PathLike = ".",
    *,
    containerfile: PathLike | Sequence[PathLike] | None = None,
    tag: str | Sequence[str] | None = None,
    target: str | None = None,
    build_args: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    isolation: str = "chroot",
    layers: bool = False,
    no_cache: bool = False,
    pull: str = "missing",
    squash: bool = False,
    format: str = "oci",
    timestamp: int | datetime | None = None,
    jobs: int = 1,
    store: Store | None = None,
    log: LogTarget = None,
    platform: str | None = None,
    platforms: Sequence[str] | None = None,
    manifest: str,
) -> Manifest: ...


def build(
    context: PathLike = ".",
    *,
    containerfile: PathLike | Sequence[PathLike] | None = None,
    tag: str | Sequence[str] | None = None,
    target: str | None = None,
    build_args: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    isolation: str = "chroot",
    layers: bool = False,
    no_cache: bool = False,
    pull: str = "missing",
    squash: bool = False,
    format: str = "oci",
    timestamp: int | datetime | None = None,
    jobs: int = 1,
    store: Store | None = None,
    log: LogTarget = None,
    platform: str | None = None,
    platforms: Sequence[str] | None = None,
    manifest: str | None = None,
) -> Image | Manifest:
    """Build the Containerfile in ``context`` and return the image.

    ``containerfile`` defaults to Containerfile, then Dockerfile, in the
    context; relative paths are looked up in the working directory, then in
    the context.  ``log`` is None (the "pybuildah.build" logger), a callable
    that receives each line, or a writable text file; lines arrive while the
    build runs.  Failures raise BuildError (with the failing stage, step,
    instruction, exit code and log tail); a missing context or Containerfile
    raises ContextError.

    ``platform="linux/arm64"`` builds for that platform (FROM picks that
    platform's image, RUN steps run under emulation).  ``platforms=[...]``
    builds once per platform; with ``manifest="name"`` each image is added
    to that manifest list (made if missing) and the Manifest is returned,
    as `buildah build --platform a,b --manifest name`.
    """
    target_store = resolve(store)
    sink = _log_sink(log)
    options = _options(
        context, containerfile, tag, target, build_args, labels, annotations, isolation,
        layers, no_cache, pull, squash, format, timestamp, jobs,
    )
    options["platforms"] = _platforms(platform, platforms)
    options["manifest"] = _checks.optional_text(manifest, "manifest")
    build_id = next(_build_ids)
    tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
    sink_failures: list[BaseException] = []

    def on_event(kind: str, payload: Any) -> None:
        line = str(payload.get("line", "")) if isinstance(payload, dict) else str(payload)
        tail.append(line)
        if sink_failures:
            return
        try:
            out(line)
        except BaseException as exc:  # stops the build; re-raised in the caller below
            sink_failures.append(exc)

    outcome: dict[str, Any] = {}
    with _notebook.build_output(sink, log is None, LOGGER) as out, _ffi.events(on_event) as stream:

        done = threading.Event()

        def work() -> None:
            try:
                outcome["ok"] = _ffi.call(
                    "Build", store=target_store.handle, build_id=build_id, stream=stream,
                    hold_signals=_signals_to_hold(), **options,
                )
            except BaseException as exc:
                outcome["error"] = exc
            finally:
                done.set()

        threading.Thread(target=work, name=f"pybuildah-build-{build_id}", daemon=True).start()
        interrupted = _wait(done, build_id, sink_failures)

    if interrupted is not None:
        raise interrupted
    if sink_failures:
        raise sink_failures[0]
    error = outcome.get("error")
    if isinstance(error, BuildError):
        error.log_tail = list(tail)
        if isinstance(error, BuildCancelled) and error.signal:
            # Go caught the signal (Ctrl-C) to stop the build; now that it has
            # stopped, hand the signal to Python's own handler.
            signal.raise_signal(error.signal)
    if error is not None:
        raise error
    if manifest is not None:
        return Manifest(manifest, store=target_store)
    return target_store.image(outcome["ok"]["id"])


def _platforms(platform: str | None, platforms: Sequence[str] | None) -> list[str]:
    """One platform or several (Go parses them), not both."""
    if platform is not None and platforms is not None:
        raise InvalidArgument("give platform= or platforms=, not both")
    if platform is not None:
        return [_checks.text(platform, "platform")]
    return [] if platforms is None else _checks.strings(platforms, "platforms")


def _wait(done: threading.Event, build_id: int, sink_failures: list[BaseException]) -> BaseException | None:
    """Wait for the build; cancel it on an exception here or in the log sink.

    Returns the exception that interrupted the wait (KeyboardInterrupt), to
    be re-raised once the build has stopped.  (An Event, not Thread.join:
    on Python 3.11 an interrupted join() can mark a running thread stopped.)
    """
    interrupted: BaseException | None = None
    cancelled = False
    while not done.is_set():
        try:
            done.wait(0.1)
            if sink_failures and not cancelled:
                cancelled = _cancel(build_id)
        except BaseException as exc:  # KeyboardInterrupt, SystemExit from a signal handler, ...
            if interrupted is None:
                interrupted = exc
            if not cancelled:
                cancelled = _cancel(build_id)
    return interrupted


def _signals_to_hold() -> list[int]:
    """The stopping signals that Go holds during the build: those Python does not ignore."""
    held = []
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) not in (signal.SIG_IGN, None):
            held.append(int(sig))
    return held


def _cancel(build_id: int) -> bool:
    _ffi.call("CancelBuild", build_id=build_id)
    return True


def _options(
    context: PathLike,
    containerfile: PathLike | Sequence[PathLike] | None,
    tag: str | Sequence[str] | None,
    target: str | None,
    build_args: Mapping[str, str] | None,
    labels: Mapping[str, str] | None,
    annotations: Mapping[str, str] | None,
    isolation: str,
    layers: bool,
    no_cache: bool,
    pull: str,
    squash: bool,
    format: str,
    timestamp: int | datetime | None,
    jobs: int,
) -> dict[str, Any]:
    """The Build export's options; types are checked here, values in Go."""
    if containerfile is None:
        containerfiles = []
    elif isinstance(containerfile, (str, bytes, os.PathLike)):
        containerfiles = [_checks.path(containerfile, "containerfile")]
    else:
        containerfiles = [_checks.path(path, "containerfile") for path in containerfile]
    if isinstance(timestamp, datetime):
        if timestamp.tzinfo is None:
            raise InvalidArgument("timestamp must be timezone-aware (or seconds since the epoch)")
        timestamp = int(timestamp.timestamp())
    return {
        "context": os.path.abspath(_checks.path(context, "context")),
        "containerfiles": containerfiles,
        "tags": [] if tag is None else [tag] if isinstance(tag, str) else _checks.strings(tag, "tag"),
        "target": _checks.optional_text(target, "target"),
        "build_args": _checks.string_map(build_args, "build_args"),
        "labels": [f"{k}={v}" for k, v in _checks.string_map(labels, "labels").items()],
        "annotations": [f"{k}={v}" for k, v in _checks.string_map(annotations, "annotations").items()],
        "isolation": _checks.text(isolation, "isolation"),
        "layers": _checks.flag(layers, "layers"),
        "no_cache": _checks.flag(no_cache, "no_cache"),
        "pull": _checks.text(pull, "pull"),
        "squash": _checks.flag(squash, "squash"),
        "format": _checks.text(format, "format"),
        "timestamp": _checks.optional_integer(timestamp, "timestamp"),
        "jobs": _checks.integer(jobs, "jobs"),
    }


def _log_sink(log: LogTarget) -> Callable[[str], Any]:
    if log is None:
        return lambda line: LOGGER.info("%s", line)
    write = getattr(log, "write", None)
    if callable(write):
        flush = getattr(log, "flush", None)

        def to_file(line: str) -> None:
            write(line + "\n")
            if callable(flush):
                flush()

        return to_file
    if callable(log):
        return log
    raise InvalidType("log must be None, a callable that takes a line, or a writable text file")
