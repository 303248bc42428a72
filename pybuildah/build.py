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
import tempfile
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from datetime import datetime
from typing import Any, Protocol, Unpack, overload

from . import _checks, _ffi, _notebook
from ._env import sync_env
from .errors import BuildError, InvalidArgument, InvalidType
from .image import Image
from .manifest import Manifest
from .options import RegistryAccess, RegistryOptions, registry_options, scrubbed
from .store import Store, resolve

PathLike = str | os.PathLike[str]

LOGGER = logging.getLogger("pybuildah.build")
LOG_TAIL_LINES = 50  # how many of the last log lines a BuildError keeps


class TextSink(Protocol):
    def write(self, text: str, /) -> Any: ...


LogTarget = Callable[[str], Any] | TextSink | None


class TextSource(Protocol):
    def read(self) -> str: ...


SecretSource = PathLike | bytes


@overload
def build(
    context: PathLike = ".",
    *,
    containerfile: PathLike | Sequence[PathLike] | TextSource | None = None,
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
    secrets: Mapping[str, SecretSource] | None = None,
    build_contexts: Mapping[str, PathLike] | None = None,
    output: str | Sequence[str] | None = None,
    source_date_epoch: int | datetime | None = None,
    rewrite_timestamp: bool = False,
    network: str | None = None,
    cap_add: Sequence[str] | None = None,
    cap_drop: Sequence[str] | None = None,
    volumes: Sequence[str] | None = None,
    ulimits: Sequence[str] | None = None,
    add_hosts: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    cache_from: str | Sequence[str] | None = None,
    cache_to: str | Sequence[str] | None = None,
    ssh: Sequence[str] | Mapping[str, PathLike | Sequence[PathLike]] | None = None,
    registry: RegistryOptions | None = None,
    **access: Unpack[RegistryAccess],
) -> Image: ...


@overload
def build(
    context: PathLike = ".",
    *,
    containerfile: PathLike | Sequence[PathLike] | TextSource | None = None,
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
    secrets: Mapping[str, SecretSource] | None = None,
    build_contexts: Mapping[str, PathLike] | None = None,
    output: str | Sequence[str] | None = None,
    source_date_epoch: int | datetime | None = None,
    rewrite_timestamp: bool = False,
    network: str | None = None,
    cap_add: Sequence[str] | None = None,
    cap_drop: Sequence[str] | None = None,
    volumes: Sequence[str] | None = None,
    ulimits: Sequence[str] | None = None,
    add_hosts: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    cache_from: str | Sequence[str] | None = None,
    cache_to: str | Sequence[str] | None = None,
    ssh: Sequence[str] | Mapping[str, PathLike | Sequence[PathLike]] | None = None,
    registry: RegistryOptions | None = None,
    **access: Unpack[RegistryAccess],
) -> Manifest: ...


def build(
    context: PathLike = ".",
    *,
    containerfile: PathLike | Sequence[PathLike] | TextSource | None = None,
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
    secrets: Mapping[str, SecretSource] | None = None,
    build_contexts: Mapping[str, PathLike] | None = None,
    output: str | Sequence[str] | None = None,
    source_date_epoch: int | datetime | None = None,
    rewrite_timestamp: bool = False,
    network: str | None = None,
    cap_add: Sequence[str] | None = None,
    cap_drop: Sequence[str] | None = None,
    volumes: Sequence[str] | None = None,
    ulimits: Sequence[str] | None = None,
    add_hosts: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    cache_from: str | Sequence[str] | None = None,
    cache_to: str | Sequence[str] | None = None,
    ssh: Sequence[str] | Mapping[str, PathLike | Sequence[PathLike]] | None = None,
    registry: RegistryOptions | None = None,
    **access: Unpack[RegistryAccess],
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

    ``containerfile`` may also be text to read: any object with ``.read()``
    returning str, such as ``io.StringIO("FROM alpine\n...")``.
    ``registry=`` (or ``authfile=``, ``creds=``, ``tls_verify=``,
    ``cert_dir=``, ``retries=``) applies to every pull the build makes: FROM,
    ``COPY --from=image`` and image build contexts.
    ``secrets={"id": source}`` serves ``RUN --mount=type=secret,id=...``:
    the source is a file path, ``"env:NAME"`` (that environment variable) or
    bytes (kept in a private temporary file for the build); a secret never
    reaches the image, its history or the log.
    ``build_contexts={"name": dir}`` names extra contexts for
    ``COPY --from=name`` and ``FROM name``: a directory, a URL, or
    ``"docker-image://ref"`` for an image (as ``--build-context``).
    ``output="type=local,dest=DIR"`` (or ``type=tar,dest=FILE``) also writes
    the final stage's files there (as ``--output``); the image is still
    returned.  ``source_date_epoch`` (default: $SOURCE_DATE_EPOCH, as
    buildah reads it) fixes the timestamps in the image's configuration and
    history, and ``rewrite_timestamp=True`` clamps file times in new layers
    to it, for reproducible builds.
    RUN steps take ``network`` ("private", "host", "none"), ``cap_add``,
    ``cap_drop``, ``volumes`` ("HOST:CONTAINER[:OPTIONS]"), ``ulimits``
    ("nofile=1024:2048") and ``add_hosts`` ("name:ip"); ``env`` sets
    variables in the image, as the buildah build flags of the same names.
    ``network="none"`` gives RUN steps a network namespace with only
    loopback, also under chroot isolation.
    ``cache_from``/``cache_to`` name registry repositories that serve and
    receive the layer cache (with ``layers=True``), as --cache-from/--cache-to.
    ``ssh=["default"]`` forwards $SSH_AUTH_SOCK's agent to
    ``RUN --mount=type=ssh``; ``ssh={"id": socket_or_key_paths}`` names others.
    """
    target_store = resolve(store)
    sink = _log_sink(log)
    reg = registry_options(registry, access)
    with ExitStack() as temporary:
        if containerfile is not None and not isinstance(containerfile, (str, os.PathLike, Sequence)):
            containerfile = _text_file(containerfile, temporary)
        options = _options(
            context, containerfile, tag, target, build_args, labels, annotations, isolation,
            layers, no_cache, pull, squash, format, timestamp, jobs,
        )
        options["platforms"] = _platforms(platform, platforms)
        options["manifest"] = _checks.optional_text(manifest, "manifest")
        options["secrets"] = _secrets(secrets, temporary)
        options.update(_reproducible(source_date_epoch, rewrite_timestamp))
        options["build_contexts"] = _build_contexts(build_contexts)
        options["outputs"] = [] if output is None else [output] if isinstance(output, str) \
            else _checks.strings(output, "output")
        options.update(reg._wire())
        options.update(
            network=_checks.optional_text(network, "network"),
            cap_add=[] if cap_add is None else _checks.strings(cap_add, "cap_add"),
            cap_drop=[] if cap_drop is None else _checks.strings(cap_drop, "cap_drop"),
            volumes=[] if volumes is None else _checks.strings(volumes, "volumes"),
            ulimits=[] if ulimits is None else _checks.strings(ulimits, "ulimits"),
            add_hosts=[] if add_hosts is None else _checks.strings(add_hosts, "add_hosts"),
            env=[f"{k}={v}" for k, v in _checks.string_map(env, "env").items()],
            cache_from=_names(cache_from, "cache_from"),
            cache_to=_names(cache_to, "cache_to"),
            ssh=_ssh(ssh),
        )
        return _run(target_store, sink, log is None, options, reg, manifest)


def _run(target_store: Store, sink: Callable[[str], Any], default_log: bool, options: dict[str, Any],
         reg: RegistryOptions, manifest: str | None) -> Image | Manifest:
    """Run the Build export, streaming the log; a failing log sink stops the build."""
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

    sync_env()
    try:
        with scrubbed(reg), _notebook.build_output(sink, default_log, LOGGER) as out, \
                _ffi.events(on_event) as stream:
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


def _text_file(source: Any, temporary: ExitStack) -> str:
    """Write a Containerfile given as text (an object with .read()) to a private temporary file."""
    read = getattr(source, "read", None)
    if not callable(read):
        raise InvalidType("containerfile must be a path, a list of paths, or a text object with .read()")
    text = read()
    if not isinstance(text, str):
        raise InvalidType(f"containerfile.read() must return str, not {type(text).__name__}")
    directory = temporary.enter_context(tempfile.TemporaryDirectory(prefix="pybuildah-containerfile-"))
    path = os.path.join(directory, "Containerfile")
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
    return path


def _secrets(secrets: Mapping[str, SecretSource] | None, temporary: ExitStack) -> list[str]:
    """buildah's --secret values, id=X,type=file,src=PATH.

    Bytes and "env:NAME" (read from os.environ here: Go's copy of the
    environment does not follow os.environ; unset is empty, as in buildah)
    go to 0600 files in a private temporary directory removed after the build.
    """
    if secrets is None:
        return []
    if not isinstance(secrets, Mapping):
        raise InvalidType(f"secrets must be a mapping of id to source, not {type(secrets).__name__}")
    out = []
    directory: str | None = None
    for index, (name, source) in enumerate(secrets.items()):
        _checks.text(name, "secret id")
        if isinstance(source, str) and source.startswith("env:"):
            source = os.environ.get(source[4:], "").encode()
        if isinstance(source, (bytes, bytearray, memoryview)):
            if directory is None:
                directory = temporary.enter_context(tempfile.TemporaryDirectory(prefix="pybuildah-secrets-"))
            path = os.path.join(directory, str(index))
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as file:
                file.write(source)
        else:
            path = os.path.abspath(_checks.path(source, f"secret {name!r}"))
        out.append(f"id={name},type=file,src={path}")
    return out


def _build_contexts(contexts: Mapping[str, PathLike] | None) -> dict[str, str]:
    """Name -> a directory (made absolute), a URL or docker-image://ref, as --build-context."""
    out = {}
    for name, value in _checks.string_map(
            None if contexts is None else {k: os.fspath(v) if isinstance(v, os.PathLike) else v
                                           for k, v in _mapping(contexts, "build_contexts").items()},
            "build_contexts").items():
        assert value is not None
        out[name] = value if "://" in value else os.path.abspath(value)
    return out


def _ssh(ssh: Sequence[str] | Mapping[str, PathLike | Sequence[PathLike]] | None) -> list[str]:
    """--ssh values, ID=SOCKET_OR_KEYS; an ID alone is $SSH_AUTH_SOCK of os.environ (Go's copy may be stale)."""
    if ssh is None:
        return []
    sources = {name: [] for name in _checks.strings(ssh, "ssh")} if not isinstance(ssh, Mapping) else {
        _checks.text(name, "ssh id"): [] if value is None else _checks.paths(value, f"ssh {name!r}")
        for name, value in ssh.items()}
    agent = os.environ.get("SSH_AUTH_SOCK", "")
    return [f"{name}={','.join(os.path.abspath(p) for p in paths)}" if paths
            else f"{name}={agent}" if agent else name for name, paths in sources.items()]


def _names(value: str | Sequence[str] | None, what: str) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else _checks.strings(value, what)


def _mapping(value: Any, what: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise InvalidType(f"{what} must be a mapping, not {type(value).__name__}")
    return value


def _reproducible(source_date_epoch: int | datetime | None, rewrite_timestamp: bool) -> dict[str, Any]:
    """--source-date-epoch (default $SOURCE_DATE_EPOCH, parsed in Go) and --rewrite-timestamp."""
    return {
        "source_date_epoch": _checks.optional_integer(_seconds(source_date_epoch, "source_date_epoch"),
                                                      "source_date_epoch"),
        "source_date_epoch_env": os.environ.get("SOURCE_DATE_EPOCH", ""),
        "rewrite_timestamp": _checks.flag(rewrite_timestamp, "rewrite_timestamp"),
    }


def _seconds(value: int | datetime | None, what: str) -> int | None:
    """Seconds since the epoch from an int or a timezone-aware datetime."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidArgument(f"{what} must be timezone-aware (or seconds since the epoch)")
        return int(value.timestamp())
    return value


def _platforms(platform: str | None, platforms: Sequence[str] | None) -> list[str]:
    """One platform or several (Go parses them), not both."""
    if platform is not None and platforms is not None:
        raise InvalidArgument("give platform= or platforms=, not both")
    if platform is not None:
        return [_checks.text(platform, "platform")]
    return [] if platforms is None else _checks.strings(platforms, "platforms")


def _options(
    context: PathLike,
    containerfile: PathLike | Sequence[PathLike] | TextSource | None,
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
    timestamp = _seconds(timestamp, "timestamp")
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
