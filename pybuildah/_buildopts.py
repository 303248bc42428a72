"""How build() encodes its options for the Build export: types are checked here, values in Go.

Text Containerfiles and secrets given as bytes or "env:NAME" are written to
private temporary files that live as long as the caller's ExitStack.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from datetime import datetime
from typing import Any, Protocol

from . import _checks
from ._checks import PathLike
from .errors import InvalidArgument, InvalidType


class TextSource(Protocol):
    def read(self) -> str: ...


SecretSource = PathLike | bytes


def text_file(source: Any, temporary: ExitStack) -> str:
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


def secrets(secrets: Mapping[str, SecretSource] | None, temporary: ExitStack) -> list[str]:
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


def build_contexts(contexts: Mapping[str, PathLike] | None) -> dict[str, str]:
    """Name -> a directory (made absolute), a URL or docker-image://ref, as --build-context."""
    out = {}
    for name, value in _checks.string_map(
            None if contexts is None else {k: os.fspath(v) if isinstance(v, os.PathLike) else v
                                           for k, v in mapping(contexts, "build_contexts").items()},
            "build_contexts").items():
        assert value is not None
        out[name] = value if "://" in value else os.path.abspath(value)
    return out


def ssh(ssh: Sequence[str] | Mapping[str, PathLike | Sequence[PathLike]] | None) -> list[str]:
    """--ssh values, ID=SOCKET_OR_KEYS; an ID alone is $SSH_AUTH_SOCK of os.environ (Go's copy may be stale)."""
    if ssh is None:
        return []
    sources = {name: [] for name in _checks.strings(ssh, "ssh")} if not isinstance(ssh, Mapping) else {
        _checks.text(name, "ssh id"): [] if value is None else _checks.paths(value, f"ssh {name!r}")
        for name, value in ssh.items()}
    agent = os.environ.get("SSH_AUTH_SOCK", "")
    return [f"{name}={','.join(os.path.abspath(p) for p in paths)}" if paths
            else f"{name}={agent}" if agent else name for name, paths in sources.items()]


def names(value: str | Sequence[str] | None, what: str) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else _checks.strings(value, what)


def mapping(value: Any, what: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise InvalidType(f"{what} must be a mapping, not {type(value).__name__}")
    return value


def reproducible(source_date_epoch: int | datetime | None, rewrite_timestamp: bool) -> dict[str, Any]:
    """--source-date-epoch (default $SOURCE_DATE_EPOCH, parsed in Go) and --rewrite-timestamp."""
    return {
        "source_date_epoch": _checks.optional_integer(seconds(source_date_epoch, "source_date_epoch"),
                                                      "source_date_epoch"),
        "source_date_epoch_env": os.environ.get("SOURCE_DATE_EPOCH", ""),
        "rewrite_timestamp": _checks.flag(rewrite_timestamp, "rewrite_timestamp"),
    }


def seconds(value: int | datetime | None, what: str) -> int | None:
    """Seconds since the epoch from an int or a timezone-aware datetime."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidArgument(f"{what} must be timezone-aware (or seconds since the epoch)")
        return int(value.timestamp())
    return value


def platforms(platform: str | None, platforms: Sequence[str] | None) -> list[str]:
    """One platform or several (Go parses them), not both."""
    if platform is not None and platforms is not None:
        raise InvalidArgument("give platform= or platforms=, not both")
    if platform is not None:
        return [_checks.text(platform, "platform")]
    return _checks.optional_strings(platforms, "platforms")


def options(
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
    timestamp = seconds(timestamp, "timestamp")
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
