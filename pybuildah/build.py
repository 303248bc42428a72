"""Containerfile builds, through Buildah's own front end (imagebuildah.BuildDockerfiles).

The Go call runs in a worker thread (_ffi.call_cancellable; cffi releases
the GIL), so the calling thread stays responsive: log lines reach ``log``
while the build runs, and a KeyboardInterrupt (or any other exception raised
asynchronously in the caller) cancels the build, waits until it has stopped
and cleaned up, and is then re-raised.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, overload

from . import _checks, _ffi, _notebook
from .errors import BuildError, InvalidArgument, InvalidType
from .image import Image
from .manifest import Manifest
from .store import Store, resolve

PathLike = str | os.PathLike[str]

LOGGER = logging.getLogger("pybuildah.build")
LOG_TAIL_LINES = 50  # how many of the last log lines a BuildError keeps


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

    try:
        with _notebook.build_output(sink, log is None, LOGGER) as out, _ffi.events(on_event) as stream:
            result = _ffi.call_cancellable("Build", should_cancel=lambda: bool(sink_failures),
                                           store=target_store.handle, stream=stream, **options)
    except BuildError as error:
        if sink_failures:
            raise sink_failures[0] from None
        error.log_tail = list(tail)
        raise
    if sink_failures:
        raise sink_failures[0]
    if manifest is not None:
        return Manifest(manifest, store=target_store)
    return target_store.image(result["id"])


def _platforms(platform: str | None, platforms: Sequence[str] | None) -> list[str]:
    """One platform or several (Go parses them), not both."""
    if platform is not None and platforms is not None:
        raise InvalidArgument("give platform= or platforms=, not both")
    if platform is not None:
        return [_checks.text(platform, "platform")]
    return [] if platforms is None else _checks.strings(platforms, "platforms")


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
    containerfiles = [] if containerfile is None else _checks.paths(containerfile, "containerfile")
    if isinstance(timestamp, datetime):
        if timestamp.tzinfo is None:
            raise InvalidArgument("timestamp must be timezone-aware (or seconds since the epoch)")
        timestamp = int(timestamp.timestamp())
    return {
        "context": _checks.absolute(context, "context"),
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
