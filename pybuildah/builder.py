"""Builder: a working container, step by step, as in Buildah's Go API."""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import _ffi
from .errors import ContainerNotFound, InvalidArgument, InvalidReference, RunError
from .image import Image, env_dict
from .progress import ProgressCallback
from .progress import handler as progress_handler
from .registry import registry_options, sync_env
from .store import Store, resolve

PathLike = str | os.PathLike[str]
Sources = PathLike | Sequence[PathLike]
LogCallback = Callable[[str], None]


CONFIG_FIELDS = frozenset({
    "cmd", "entrypoint", "env", "labels", "annotations", "ports", "user", "workdir", "volumes", "shell",
    "stop_signal", "author", "architecture", "os", "created_by", "history_comment",
})


@dataclass(frozen=True)
class ContainerInfo:
    """A working container as listed by pybuildah.containers()."""

    id: str
    name: str
    from_image: str
    image_id: str

    @classmethod
    def _from_info(cls, info: dict[str, Any]) -> ContainerInfo:
        return cls(id=info["id"], name=info["name"], from_image=info["from_image"], image_id=info["image_id"])


@dataclass(frozen=True)
class ContainerConfig:
    """The configuration a working container will commit, read back from Buildah."""

    cmd: list[str] = field(default_factory=list)
    entrypoint: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    ports: list[str] = field(default_factory=list)
    user: str = ""
    workdir: str = ""
    volumes: list[str] = field(default_factory=list)
    shell: list[str] = field(default_factory=list)
    stop_signal: str = ""
    author: str = ""
    architecture: str = ""
    os: str = ""


@dataclass(frozen=True)
class RunResult:
    """The outcome of Builder.run()."""

    exit_code: int
    stdout: str
    stderr: str


class Builder:
    """A working container: start from an image (or "scratch"), change it, commit it.

    Use it as a context manager: leaving the block deletes the working
    container, on exceptions too.
    """

    def __init__(
        self,
        image: str = "scratch",
        *,
        store: Store | None = None,
        name: str | None = None,
        isolation: str = "chroot",
        pull: str = "missing",
        format: str = "oci",
        tls_verify: bool | None = None,
        cert_dir: PathLike | None = None,
        authfile: PathLike | None = None,
        creds: str | tuple[str, str] | None = None,
    ) -> None:
        if format not in ("oci", "docker"):
            raise InvalidArgument(f"unknown image format {format!r} (expected 'oci' or 'docker')")
        self.store = resolve(store)
        sync_env()
        info = _ffi.call(
            "NewBuilder",
            store=self.store.handle,
            from_image=image,
            name=name or "",
            isolation=isolation,
            pull=pull,
            format=format,
            **registry_options(tls_verify=tls_verify, cert_dir=cert_dir, authfile=authfile, creds=creds),
        )
        self._adopt(info)

    @classmethod
    def open(cls, name_or_id: str, store: Store | None = None) -> Builder:
        """Reattach to an existing working container; raises ContainerNotFound."""
        self = cls.__new__(cls)
        self.store = resolve(store)
        self._adopt(_ffi.call("OpenBuilder", store=self.store.handle, name=name_or_id))
        return self

    def _adopt(self, info: dict[str, Any]) -> None:
        self.id: str = info["id"]
        self.name: str = info["name"]
        self.from_image: str = info["from_image"]
        self._handle: int = info["handle"]
        self._deleted = False
        self._finalizer = weakref.finalize(self, _ffi.release, self._handle)

    @property
    def handle(self) -> int:
        """The Go handle; raises ContainerNotFound after delete()."""
        if self._deleted or not self._finalizer.alive:
            raise ContainerNotFound(f"working container {self.name!r} has been deleted")
        return self._handle

    def __enter__(self) -> Builder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.delete()

    def __repr__(self) -> str:
        state = " deleted" if self._deleted else ""
        return f"<pybuildah.Builder{state} {self.name!r} from {self.from_image!r}>"

    # Content ---------------------------------------------------------------

    def add(self, src: Sources, dest: str, *, chown: str | None = None, chmod: str | int | None = None) -> None:
        """Copy src into dest; local tar archives are extracted and URLs fetched (ADD)."""
        self._add(src, dest, extract=True, chown=chown, chmod=chmod)

    def copy(
        self,
        src: Sources,
        dest: str,
        *,
        chown: str | None = None,
        chmod: str | int | None = None,
        from_: Builder | str | None = None,
    ) -> None:
        """Copy src into dest (COPY).  With from_, src is a path inside that Builder or image."""
        self._add(src, dest, extract=False, chown=chown, chmod=chmod, from_=from_)

    def _add(
        self,
        src: Sources,
        dest: str,
        *,
        extract: bool,
        chown: str | None,
        chmod: str | int | None,
        from_: Builder | str | None = None,
    ) -> None:
        sources = [os.fspath(src)] if isinstance(src, (str, os.PathLike)) else [os.fspath(s) for s in src]
        if not sources:
            raise InvalidArgument("no source given")
        if isinstance(chmod, int):
            chmod = f"{chmod:o}"
        options: dict[str, Any] = {}
        if isinstance(from_, Builder):
            options["from_builder"] = from_.handle
        elif isinstance(from_, str):
            options["from_image"] = from_
        elif from_ is not None:
            raise InvalidArgument("from_ must be a Builder or an image reference")
        else:
            sources = [str(Path(s).absolute()) if not _is_url(s) else s for s in sources]
        _ffi.call(
            "Add",
            builder=self.handle,
            sources=sources,
            destination=dest,
            extract=extract,
            chown=chown or "",
            chmod=chmod or "",
            **options,
        )

    # Configuration -----------------------------------------------------------

    def set_cmd(self, cmd: Sequence[str]) -> None:
        """Set the default command."""
        self._configure(cmd=_strings(cmd, "cmd"))

    def set_entrypoint(self, entrypoint: Sequence[str]) -> None:
        self._configure(entrypoint=_strings(entrypoint, "entrypoint"))

    def set_env(self, key: str, value: str) -> None:
        self._configure(env={key: str(value)})

    def unset_env(self, key: str) -> None:
        self._configure(env={key: None})

    def set_label(self, key: str, value: str) -> None:
        self._configure(labels={key: str(value)})

    def unset_label(self, key: str) -> None:
        self._configure(labels={key: None})

    def set_annotation(self, key: str, value: str) -> None:
        self._configure(annotations={key: str(value)})

    def set_port(self, port: str | int) -> None:
        """Expose a port: 8080, "8080/tcp", "53/udp" or a range "8000-8010/tcp"."""
        self._configure(ports=[str(port)])

    def set_user(self, user: str | int) -> None:
        self._configure(user=str(user))

    def set_workdir(self, path: str) -> None:
        self._configure(workdir=path)

    def add_volume(self, path: str) -> None:
        self._configure(volumes=[path])

    def set_shell(self, shell: Sequence[str]) -> None:
        self._configure(shell=_strings(shell, "shell"))

    def set_stop_signal(self, signal: str) -> None:
        self._configure(stop_signal=signal)

    def set_author(self, author: str) -> None:
        self._configure(author=author)

    def set_created_by(self, created_by: str) -> None:
        """Set the "created by" text of the history entry the next commit writes."""
        self._configure(created_by=created_by)

    def configure(self, **changes: Any) -> None:
        """Change several config fields in one call, e.g. configure(user="1001", workdir="/app").

        Fields: cmd, entrypoint, env, labels, annotations (dicts; a None value
        removes the key), ports, volumes (lists, added), user, workdir, shell,
        stop_signal, author, architecture, os, created_by, history_comment.
        """
        unknown = sorted(set(changes) - CONFIG_FIELDS)
        if unknown:
            known = ", ".join(sorted(CONFIG_FIELDS))
            raise InvalidArgument(f"unknown config field(s) {', '.join(unknown)}; known: {known}")
        self._configure(**changes)

    def _configure(self, **changes: Any) -> None:
        _ffi.call("Configure", builder=self.handle, **changes)

    @property
    def config(self) -> ContainerConfig:
        """The current configuration, read back from Buildah."""
        raw = _ffi.call("GetConfig", builder=self.handle)
        return ContainerConfig(
            cmd=list(raw.get("cmd") or []),
            entrypoint=list(raw.get("entrypoint") or []),
            env=env_dict(raw.get("env") or []),
            labels=dict(raw.get("labels") or {}),
            annotations=dict(raw.get("annotations") or {}),
            ports=list(raw.get("ports") or []),
            user=raw.get("user") or "",
            workdir=raw.get("workdir") or "",
            volumes=list(raw.get("volumes") or []),
            shell=list(raw.get("shell") or []),
            stop_signal=raw.get("stop_signal") or "",
            author=raw.get("author") or "",
            architecture=raw.get("architecture") or "",
            os=raw.get("os") or "",
        )

    # Running -------------------------------------------------------------------

    def run(
        self,
        command: Sequence[str] | str,
        *,
        env: dict[str, str] | None = None,
        workdir: str | None = None,
        user: str | None = None,
        check: bool = True,
        log: LogCallback | None = None,
    ) -> RunResult:
        """Run a command in the working container (chroot isolation by default).

        A string runs through /bin/sh -c.  With check (the default) a non-zero
        exit raises RunError.  log, if given, receives each output line live.
        """
        if isinstance(command, str):
            if not command.strip():
                raise InvalidArgument("no command given")
            argv = ["/bin/sh", "-c", command]
        else:
            argv = _strings(command, "command")
            if not argv:
                raise InvalidArgument("no command given")

        def on_event(kind: str, line: Any) -> None:
            if log is not None and kind in ("stdout", "stderr"):
                log(str(line))

        with _ffi.events(on_event if log else None) as stream:
            raw = _ffi.call(
                "Run",
                builder=self.handle,
                command=argv,
                env=[f"{k}={v}" for k, v in (env or {}).items()],
                workdir=workdir or "",
                user=user or "",
                stream=stream,
            )
        result = RunResult(exit_code=raw["exit_code"], stdout=raw["stdout"], stderr=raw["stderr"])
        if check and result.exit_code != 0:
            raise RunError(
                f"command {argv!r} exited with status {result.exit_code}: {result.stderr.strip()[-500:]}",
                exit_code=result.exit_code,
                stdout=result.stdout,
                stderr=result.stderr,
            )
        return result

    @contextmanager
    def mount(self) -> Iterator[Path]:
        """Mount the container's root filesystem and yield its path; unmounts on exit."""
        path = Path(_ffi.call("Mount", builder=self.handle))
        try:
            yield path
        finally:
            if not self._deleted:
                _ffi.call("Unmount", builder=self._handle)

    # Results -------------------------------------------------------------------

    def commit(
        self,
        dest: str | None = None,
        *,
        format: str | None = None,
        squash: bool = False,
        compression: str | None = None,
        timestamp: int | None = None,
        progress: ProgressCallback | None = None,
        tls_verify: bool | None = None,
        cert_dir: PathLike | None = None,
        authfile: PathLike | None = None,
        creds: str | tuple[str, str] | None = None,
    ) -> Image:
        """Commit the container as an image and return it.

        format is "oci" or "docker"; by default, the format the Builder was made with.
        dest is an image name ("hello:1.0.0") stored in this Builder's store,
        or a transport reference: oci-archive:/x.tar, oci:/dir:tag,
        docker-archive:/x.tar, dir:/x, docker://registry/repo:tag.
        progress receives a ProgressEvent when each blob starts and ends.
        """
        if dest:
            _check_destination(dest)
        sync_env()
        with _ffi.events(progress_handler(progress)) as stream:
            result = _ffi.call(
                "Commit",
                builder=self.handle,
                destination=dest or "",
                format=format or "",
                squash=squash,
                compression=compression or "",
                timestamp=timestamp,
                stream=stream,
                **registry_options(tls_verify=tls_verify, cert_dir=cert_dir, authfile=authfile, creds=creds),
            )
        if dest and _is_external(dest):
            return self.store.image(dest, tls_verify=tls_verify is not False, cert_dir=cert_dir, authfile=authfile,
                                    creds=creds)
        return self.store.image(result["id"])

    def delete(self) -> None:
        """Delete the working container (idempotent)."""
        if self._deleted:
            return
        try:
            _ffi.call("DeleteBuilder", builder=self.handle)
        finally:
            self._deleted = True
            self._finalizer()


def _strings(values: Sequence[str] | str, what: str) -> list[str]:
    if isinstance(values, str):
        raise InvalidArgument(f"{what} must be a list of strings, not a string")
    out = list(values)
    if not all(isinstance(v, str) for v in out):
        raise InvalidArgument(f"{what} must be a list of strings")
    return out


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


_FILE_TRANSPORTS = ("oci-archive", "oci", "docker-archive", "dir")


def _check_destination(reference: str) -> None:
    """Refuse file transports without a path: Buildah would write to the current directory."""
    transport, sep, rest = reference.partition(":")
    if sep and transport in _FILE_TRANSPORTS and not rest.split(":", 1)[0].strip():
        raise InvalidReference(f"{reference!r}: the {transport} transport needs a path, e.g. {transport}:/tmp/image")


def _is_external(reference: str) -> bool:
    """Whether a commit destination is outside the local store."""
    transport, sep, _ = reference.partition(":")
    return bool(sep) and transport in ("oci-archive", "oci", "docker-archive", "dir", "docker")
