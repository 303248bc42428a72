"""How build() encodes its options for the Build export: types are checked here, values in Go.

Text Containerfiles and secrets given as bytes or "env:NAME" are written to
one private directory inside the process's scratch directory (see
PrivateFiles).  Values joined into Buildah's flag strings ("id=X,src=PATH",
"ID=KEY,KEY", "NAME=VALUE") are made safe here, where the joining happens:
Buildah's parsers have no escapes, so a separator inside a name is refused
and a path holding a comma is passed as a comma-free link to it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from datetime import datetime
from typing import Any, Protocol

from . import _checks
from ._checks import PathLike
from .errors import InvalidArgument, InvalidType


class TextSource(Protocol):
    def read(self) -> str: ...


SecretSource = PathLike | bytes


class PrivateFiles:
    """One 0700 directory for a build's own files, made on first use and removed with ``temporary``.

    It lives in the process's scratch directory (Store._scratch), which the
    next store open of any process removes if this one is killed; without
    one (it could not be made), in the system's temporary directory.
    """

    def __init__(self, temporary: ExitStack, scratch: str | None) -> None:
        self._temporary, self._scratch = temporary, scratch
        self._directory: str | None = None
        self.stdout_tar: str | None = None  # the private tar standing in for output="-" (outputs())
        self._count = 0

    def path(self, stem: str) -> str:
        """A new file name in the directory."""
        if self._directory is None:
            import tempfile  # here, not at import: only a build with such files needs it

            self._directory = self._temporary.enter_context(
                tempfile.TemporaryDirectory(prefix="build-", dir=self._scratch))
        self._count += 1
        return os.path.join(self._directory, f"{stem}-{self._count}")

    def flag_safe(self, path: str, what: str) -> str:
        """path, or a link to it whose name has no comma (Buildah splits --secret and --ssh at commas)."""
        if "," not in path:
            return path
        if not os.path.exists(path):  # Buildah's message would name the link
            raise InvalidArgument(f"{what}: {path} does not exist")
        link = self.path("link")
        os.symlink(path, link)
        return link


def no_separator(name: str, separators: str, what: str) -> str:
    """name, refused if it holds a character that Buildah's flag parser would split at."""
    for separator in separators:
        if separator in name:
            raise InvalidArgument(f"{what} {name!r} must not contain {separator!r}: "
                                  "Buildah would read it as a separator")
    return name


def text_file(source: Any, files: PrivateFiles) -> str:
    """Write a Containerfile given as text (an object with .read()) to a private file."""
    read = getattr(source, "read", None)
    if not callable(read):
        raise InvalidType("containerfile must be a path, a list of paths, or a text object with .read()")
    text = read()
    if not isinstance(text, str):
        raise InvalidType(f"containerfile.read() must return str, not {type(text).__name__}")
    path = files.path("Containerfile")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as file:
        file.write(text)
    return path


def secrets(secrets: Mapping[str, SecretSource] | None, files: PrivateFiles) -> list[str]:
    """buildah's --secret values, id=X,type=file,src=PATH.

    Bytes and "env:NAME" (read from os.environ here: Go's copy of the
    environment does not follow os.environ; unset is empty, as in buildah)
    go to 0600 private files removed after the build.
    """
    if secrets is None:
        return []
    if not isinstance(secrets, Mapping):
        raise InvalidType(f"secrets must be a mapping of id to source, not {type(secrets).__name__}")
    out = []
    for name, source in secrets.items():
        no_separator(_checks.text(name, "secret id"), ",=", "secrets: the id")
        if isinstance(source, str) and source.startswith("env:"):
            source = os.environ.get(source[4:], "").encode()
        if isinstance(source, (bytes, bytearray, memoryview)):
            path = files.path("secret")
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as file:
                file.write(source)
        else:
            path = files.flag_safe(os.path.abspath(_checks.path(source, f"secret {name!r}")), "secrets")
        out.append(f"id={name},type=file,src={path}")
    return out


def pairs(values: Mapping[str, str] | None, what: str) -> list[str]:
    """NAME=VALUE strings (labels, annotations); Buildah splits them at the first "=", so names hold none."""
    return [f"{no_separator(k, '=', f'{what}: the name')}={v}"
            for k, v in _checks.string_map(values, what).items()]


def to_stdout(output: str) -> bool:
    """Whether an --output value means standard output: "-", or type=tar with dest=- (Buildah's two forms)."""
    if output == "-":
        return True
    fields = dict(field.partition("=")[::2] for field in output.split(","))
    return "," in output and fields.get("type") == "tar" and fields.get("dest") == "-"


def outputs(output: str | Sequence[str] | None, files: PrivateFiles) -> tuple[list[str], str | None]:
    """--output values, and the private tar file that stands in for standard output, if one is asked for.

    Buildah would write "-" to file descriptor 1 from Go, past sys.stdout; the
    tar goes to a private file instead, which build() copies to
    sys.stdout.buffer once the build has succeeded.
    """
    values = [] if output is None else [output] if isinstance(output, str) else _checks.strings(output, "output")
    stdout = [value for value in values if to_stdout(value)]
    if not stdout:
        return values, None
    if len(stdout) > 1:
        raise InvalidArgument("output: standard output (\"-\") can be given once")
    if not callable(getattr(getattr(sys.stdout, "buffer", None), "write", None)):
        raise InvalidArgument('output="-" writes the tar to sys.stdout.buffer, and this sys.stdout has none '
                              '(a notebook?): use output="type=tar,dest=FILE"')
    tar = files.path("output") + ".tar"
    open(tar, "wb").close()  # so that flag_safe can link to it: Buildah splits --output at commas
    dest = files.flag_safe(tar, "output")
    return [f"type=tar,dest={dest}" if to_stdout(value) else value for value in values], tar


def copy_to_stdout(tar: str) -> None:
    """Write a finished output tar to sys.stdout.buffer, after what was printed before it."""
    import shutil

    sys.stdout.flush()
    with open(tar, "rb") as file:
        shutil.copyfileobj(file, sys.stdout.buffer, 1 << 20)
    sys.stdout.buffer.flush()


# The prefixes by which --build-context tells an image or a URL from a directory.
_CONTEXT_PREFIXES = ("docker-image://", "container-image://", "docker://", "http://", "https://")


def build_contexts(contexts: Mapping[str, PathLike] | None) -> dict[str, str]:
    """Name -> a directory (made absolute), a URL or docker-image://ref, as --build-context."""
    out = {}
    for name, value in _checks.string_map(
            None if contexts is None else {k: os.fspath(v) if isinstance(v, os.PathLike) else v
                                           for k, v in mapping(contexts, "build_contexts").items()},
            "build_contexts").items():
        assert value is not None
        out[name] = value if value.startswith(_CONTEXT_PREFIXES) else os.path.abspath(value)
    return out


def ssh(ssh: Sequence[str] | Mapping[str, PathLike | Sequence[PathLike]] | None, files: PrivateFiles) -> list[str]:
    """--ssh values, ID=SOCKET_OR_KEYS; an ID alone is $SSH_AUTH_SOCK of os.environ (Go's copy may be stale)."""
    if ssh is None:
        return []
    sources = {name: [] for name in _checks.strings(ssh, "ssh")} if not isinstance(ssh, Mapping) else {
        _checks.text(name, "ssh id"): [] if value is None else _checks.paths(value, f"ssh {name!r}")
        for name, value in ssh.items()}
    agent = os.environ.get("SSH_AUTH_SOCK", "")
    out = []
    for name, paths in sources.items():
        no_separator(name, "=,", "ssh: the id")
        found = [files.flag_safe(os.path.abspath(p), "ssh") for p in paths] or (
            [files.flag_safe(agent, "ssh")] if agent else [])
        out.append(f"{name}={','.join(found)}" if found else name)
    return out


def provenance(value: Any) -> bool:
    """provenance=: a bool, or a path to write the statement to (which asks for it)."""
    if isinstance(value, bool):
        return value
    _checks.path(value, "provenance")
    return True


def names(value: str | Sequence[str] | None, what: str) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else _checks.strings(value, what)


def mapping(value: Any, what: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise InvalidType(f"{what} must be a mapping, not {type(value).__name__}")
    return value


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


def _epoch(value: int | datetime | None, what: str) -> int | None:
    return _checks.optional_integer(seconds(value, what), what)


Encoder = Callable[[Any, str, Mapping[str, Any], PrivateFiles], Any]


def _plain(check: Callable[[Any, str], Any]) -> Encoder:
    """An encoder that needs only the value and the keyword's name."""
    return lambda value, what, keywords, files: check(value, what)


def _containerfiles(value: Any, what: str, keywords: Mapping[str, Any], files: PrivateFiles) -> list[str]:
    """Paths, or text (an object with .read()) written to a private file."""
    if value is None:
        return []
    if not isinstance(value, (str, os.PathLike, Sequence)):
        value = text_file(value, files)
    return _checks.paths(value, what)


def _outputs(value: Any, what: str, keywords: Mapping[str, Any], files: PrivateFiles) -> list[str]:
    """--output values; the tar standing in for standard output is remembered in files.stdout_tar."""
    values, files.stdout_tar = outputs(value, files)
    return values


def _both_platforms(value: Any, what: str, keywords: Mapping[str, Any], files: PrivateFiles) -> list[str]:
    return platforms(keywords["platform"], keywords["platforms"])


# build()'s keywords as the Build export takes them: keyword -> (request field,
# encoder).  The one table between the two spellings: tests/test_contract.py
# checks that its keys are build()'s keywords and that its fields, with
# FROM_PROCESS's, the registry fields and the call's own, are the Go request's.
ENCODING: dict[str, tuple[str, Encoder]] = {
    "context": ("context", _plain(_checks.absolute)),
    "containerfile": ("containerfiles", _containerfiles),
    "tag": ("tags", _plain(names)),
    "target": ("target", _plain(_checks.optional_text)),
    "build_args": ("build_args", _plain(_checks.string_map)),
    "labels": ("labels", _plain(pairs)),
    "annotations": ("annotations", _plain(pairs)),
    "isolation": ("isolation", _plain(_checks.text)),
    "layers": ("layers", _plain(_checks.flag)),
    "no_cache": ("no_cache", _plain(_checks.flag)),
    "pull": ("pull", _plain(_checks.text)),
    "squash": ("squash", _plain(_checks.flag)),
    "format": ("format", _plain(_checks.text)),
    "timestamp": ("timestamp", _plain(_epoch)),
    "jobs": ("jobs", _plain(_checks.integer)),
    "platform": ("platforms", _both_platforms),
    "platforms": ("platforms", _both_platforms),
    "manifest": ("manifest", _plain(_checks.optional_text)),
    "secrets": ("secrets", lambda value, what, keywords, files: secrets(value, files)),
    "build_contexts": ("build_contexts", _plain(lambda value, what: build_contexts(value))),
    "output": ("outputs", _outputs),
    "source_date_epoch": ("source_date_epoch", _plain(_epoch)),
    "rewrite_timestamp": ("rewrite_timestamp", _plain(_checks.flag)),
    "network": ("network", _plain(_checks.optional_text)),
    "cap_add": ("cap_add", _plain(_checks.optional_strings)),
    "cap_drop": ("cap_drop", _plain(_checks.optional_strings)),
    "volumes": ("volumes", _plain(_checks.optional_strings)),
    "ulimits": ("ulimits", _plain(_checks.optional_strings)),
    "add_hosts": ("add_hosts", _plain(_checks.optional_strings)),
    "env": ("env", _plain(_checks.string_map)),
    "cache_from": ("cache_from", _plain(names)),
    "cache_to": ("cache_to", _plain(names)),
    "ssh": ("ssh", lambda value, what, keywords, files: ssh(value, files)),
    "keep_failed": ("keep_failed", _plain(_checks.flag)),
    "provenance": ("provenance", _plain(lambda value, what: provenance(value))),
}

# Request fields that no keyword gives: $SOURCE_DATE_EPOCH as this process has
# it (buildah build's default for --source-date-epoch; Go's copy of the
# environment does not follow os.environ).
FROM_PROCESS: dict[str, Callable[[], Any]] = {
    "source_date_epoch_env": lambda: os.environ.get("SOURCE_DATE_EPOCH", ""),
}


def request(keywords: Mapping[str, Any], files: PrivateFiles) -> dict[str, Any]:
    """The Build request's fields from build()'s arguments; types are checked here, values in Go.

    Files made on the way (text Containerfiles, secrets, comma-free links) are files' own.
    """
    fields = {field: encode(keywords[name], name, keywords, files) for name, (field, encode) in ENCODING.items()}
    fields.update((field, value()) for field, value in FROM_PROCESS.items())
    return fields
