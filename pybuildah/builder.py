"""Builder: a working container, step by step, as in Buildah's Go API."""

from __future__ import annotations

import logging
import os
import sys
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, Unpack

from . import _api, _buildopts, _checks, _ffi, _provenance, _sbom, _stepcache, _transfer, display
from ._checks import PathLike
from ._records import Change, ContainerConfig, ContainerInfo, RunResult, StepReport
from ._storecore import LiveHandle
from .errors import ContainerNotFound, ImageNotFound, InvalidArgument, InvalidType, RunError, StoreError
from .image import Image
from .options import RegistryAccess, RegistryOptions, registry_options
from .progress import AUTO, ProgressOption
from .store import Store, resolve

LOGGER = logging.getLogger("pybuildah.builder")

HostPath = str | bytes | os.PathLike[str] | os.PathLike[bytes]  # bytes: names that are not UTF-8
Sources = HostPath | Sequence[HostPath]
LogCallback = Callable[[str], None]

__all__ = ["Builder", "Change", "ContainerConfig", "ContainerInfo", "RunResult"]


class Builder(LiveHandle, display.RichRepr):
    """A working container: start from an image (or "scratch"), change it, commit it.

    Use it as a context manager: leaving the block deletes the working
    container, on exceptions too.
    """

    _REOPEN = "its name, and reattach with Builder.open() there"
    _cache: _stepcache.StepCache | None = None  # Builder(cache=True) only

    def __init__(
        self,
        image: str = "scratch",
        *,
        store: Store | None = None,
        name: str | None = None,
        isolation: str = "chroot",
        pull: str = "missing",
        format: str = "oci",
        platform: str | None = None,
        registry: RegistryOptions | None = None,
        cache: bool = False,
        cache_from: str | Sequence[str] | None = None,
        cache_to: str | Sequence[str] | None = None,
        **access: Unpack[RegistryAccess],
    ) -> None:
        """Start a working container from image (a name, ID, transport reference or manifest list).

        cache=True turns the step cache on: copy, add and run steps whose
        inputs are unchanged since an earlier build on this store are taken
        from it instead of run again, and Builder.steps says which were and
        why the others were not (see the "Iterating on a build in a
        notebook" tutorial).  cache_to and cache_from (registry repositories,
        one or a list) share the entries through a registry: a new entry is
        pushed to each cache_to repository, tagged with its key, and a step
        missing from the store is pulled from the first cache_from
        repository that has it, with this Builder's registry options.

        platform ("linux/arm64") picks that platform's image from a list,
        pulling it if needed, as `buildah from --platform`; RUN steps of a
        foreign architecture run under emulation (qemu-user-static).
        signature_policy (a policy.json path or a dict, as for pybuildah.pull)
        checks a pulled image's signatures: a refused image raises SignatureError.
        """
        pulls, pushes = _repositories(cache_from, "cache_from"), _repositories(cache_to, "cache_to")
        if (pulls or pushes) and not _checks.flag(cache, "cache"):
            raise InvalidArgument("cache_from and cache_to need cache=True")
        cache = _checks.flag(cache, "cache")
        self.store = resolve(store)
        with _transfer.registry_access(registry_options(registry, access)) as (wire, _):
            info = _api.new_builder(
                store=self.store.handle,
                from_image=_checks.text(image, "image"),
                name=_checks.optional_text(name, "name"),
                isolation=_checks.text(isolation, "isolation"),
                pull=_checks.text(pull, "pull"),
                format=_checks.text(format, "format"),
                platform=_checks.optional_text(platform, "platform"),
                **wire,
            )
        self._adopt(info)
        if cache:
            self._cache = _stepcache.StepCache(info["image_id"], self.store, cache_from=pulls, cache_to=pushes,
                                               registry=registry_options(registry, access))
        LOGGER.info("FROM %s: working container %s", image, self.name)

    @classmethod
    def open(cls, name_or_id: str, store: Store | None = None) -> Builder:
        """Reattach to an existing working container; raises ContainerNotFound."""
        self = cls.__new__(cls)
        self.store = resolve(store)
        self._adopt(_api.open_builder(store=self.store.handle, name=_checks.text(name_or_id, "name_or_id")))
        return self

    def _adopt(self, info: dict[str, Any]) -> None:
        self.id: str = info["id"]
        self.name: str = info["name"]
        self.from_image: str = info["from_image"]
        self._base_image: str = info.get("image_id") or ""  # diff()'s default; the step cache rebases
        self._handle: int = info["handle"]
        self._deleted = False
        self._started = int(time.time())  # for provenance: when this Builder began
        self._urls: list[tuple[str, str | None]] = []  # for provenance: URLs added, with their checksum
        self._finalizer = weakref.finalize(self, _ffi.release, self._handle)

    @property
    def handle(self) -> int:
        """The Go handle; raises ContainerNotFound after delete()."""
        if self._deleted:
            raise ContainerNotFound(f"working container {self.name!r} has been deleted")
        if not self._finalizer.alive:
            raise ContainerNotFound(f"this Builder on {self.name!r} is closed: reattach with Builder.open()")
        return self._handle

    def __enter__(self) -> Builder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.delete()

    def __repr__(self) -> str:
        state = " deleted" if self._deleted else ""
        return f"<pybuildah.Builder{state} {self.name!r} from {self.from_image!r}>"

    # Content ---------------------------------------------------------------

    def add(self, src: Sources, dest: str, *, chown: str | None = None, chmod: str | int | None = None,
            exclude: Sequence[str] | None = None, checksum: str | None = None,
            timeout: float | None = None, cache: bool = True, cache_key: str | None = None) -> None:
        """Copy src into dest; local tar archives are extracted and URLs fetched (ADD).

        exclude takes .containerignore-style patterns matched against full host paths, as in copy().
        checksum ("sha256:...") must match the content of URL sources, as with
        buildah add --checksum; otherwise ChecksumMismatch is raised.
        timeout (seconds, default 60) is the idle timeout of URL downloads: a
        server that sends nothing for that long raises RegistryTimeout (a
        TimeoutError).  Ctrl-C stops a download.
        cache and cache_key are as in run().
        """
        self._add(src, dest, extract=True, chown=chown, chmod=chmod, exclude=exclude, checksum=checksum,
                  timeout=timeout, cache=cache, cache_key=cache_key)

    def copy(
        self,
        src: Sources,
        dest: str,
        *,
        chown: str | None = None,
        chmod: str | int | None = None,
        from_: Builder | str | None = None,
        exclude: Sequence[str] | None = None,
        parents: bool = False,
        checksum: str | None = None,
        cache: bool = True,
        cache_key: str | None = None,
    ) -> None:
        """Copy src into dest (COPY).  With from_, src is a path inside that Builder or image.

        exclude takes .containerignore-style patterns of source paths to leave
        out; as with buildah copy --exclude, they match the full host path
        (so "**/*.tmp", not "*.tmp").  parents keeps each source's directories
        below a "/./" in its path, as COPY --parents does.  checksum is as in add().
        cache and cache_key are as in run().
        """
        self._add(src, dest, extract=False, chown=chown, chmod=chmod, from_=from_, exclude=exclude,
                  parents=parents, checksum=checksum, cache=cache, cache_key=cache_key)

    def _add(
        self,
        src: Sources,
        dest: str,
        *,
        extract: bool,
        chown: str | None,
        chmod: str | int | None,
        from_: Builder | str | None = None,
        exclude: Sequence[str] | None = None,
        parents: bool = False,
        checksum: str | None = None,
        timeout: float | None = None,
        cache: bool = True,
        cache_key: str | None = None,
    ) -> None:
        sources = _checks.paths(src, "src")
        excludes = _checks.optional_strings(exclude, "exclude")
        parents = _checks.flag(parents, "parents")
        options: dict[str, Any] = {}
        if isinstance(from_, Builder):
            options["from_builder"] = from_.handle
        elif isinstance(from_, str):
            options["from_image"] = from_
        elif from_ is not None:
            raise InvalidType(f"from_ must be a Builder or an image reference, not {type(from_).__name__}")
        else:
            sources = [s if _is_url(s) else _local_source(s, parents) for s in sources]
        if isinstance(chmod, int) and not isinstance(chmod, bool):
            chmod = f"{chmod:o}"
        if timeout is not None:
            options["timeout"] = _checks.seconds(timeout, "timeout")
        dest = _checks.text(dest, "dest")
        LOGGER.info("%s %s %s in %s", "ADD" if extract else "COPY", " ".join(sources), dest, self.name)
        if from_ is None:
            self._urls += [(s, checksum) for s in sources if _is_url(s) and (s, checksum) not in self._urls]
        chown, chmod = _checks.optional_text(chown, "chown"), _checks.optional_text(chmod, "chmod")
        step = self._begin_copy(sources, dest, extract=extract, chown=chown, chmod=chmod, from_=from_,
                                excludes=excludes, parents=parents, checksum=checksum, cache=cache,
                                cache_key=cache_key)
        if step is not None and step.hit:
            return
        try:
            self._materialise()
            if isinstance(from_, Builder):
                from_._materialise()
            self._add_now(sources, dest, extract=extract, chown=chown, chmod=chmod, excludes=excludes,
                          parents=parents, checksum=checksum, options=options)
        except BaseException as error:
            self._end_step(step, error=error)
            raise
        self._end_step(step)

    def _add_now(self, sources: list[str], dest: str, *, extract: bool, chown: str | None, chmod: str | int | None,
                 excludes: list[str] | None, parents: bool, checksum: str | None, options: dict[str, Any]) -> None:
        _api.add(
            cancellable=any(_is_url(s) for s in sources),  # a download stops on Ctrl-C; local copies: the hot path
            builder=self.handle,
            sources=[_checks.wire_path(s) for s in sources],
            destination=_checks.text(dest, "dest"),
            extract=extract,
            chown=_checks.optional_text(chown, "chown"),
            chmod=_checks.optional_text(chmod, "chmod"),
            excludes=excludes,
            parents=parents,
            checksum=_checks.optional_text(checksum, "checksum"),
            **options,
        )

    # Configuration -----------------------------------------------------------

    def set_cmd(self, cmd: Sequence[str] | str) -> None:
        """Set the default command (through configure(), so that the step cache sees the change).

        A list is taken as it is; a string as buildah config --cmd takes it: a JSON
        list ('["/app", "-v"]'), else shell words; a blank string clears the command.
        """
        self._configure(cmd=cmd)

    def set_entrypoint(self, entrypoint: Sequence[str] | str) -> None:
        """Set the entrypoint: a list, or a string as buildah config --entrypoint takes it
        (a JSON list, else a command for "/bin/sh -c"; blank clears it)."""
        self._configure(entrypoint=entrypoint)

    def set_env(self, key: str, value: str) -> None:
        self._configure(env={_checks.text(key, "key"): _checks.text(value, "value")})

    def unset_env(self, key: str) -> None:
        self._configure(env={_checks.text(key, "key"): None})

    def set_label(self, key: str, value: str) -> None:
        self._configure(labels={_checks.text(key, "key"): _checks.text(value, "value")})

    def unset_label(self, key: str) -> None:
        self._configure(labels={_checks.text(key, "key"): None})

    def set_annotation(self, key: str, value: str) -> None:
        self._configure(annotations={_checks.text(key, "key"): _checks.text(value, "value")})

    def unset_annotation(self, key: str) -> None:
        self._configure(annotations={_checks.text(key, "key"): None})

    def set_port(self, port: str | int) -> None:
        """Expose a port: 8080, "8080/tcp", "53/udp" or a range "8000-8010/tcp"."""
        self._configure(ports=[_text_or_int(port, "port")])

    def unset_port(self, port: str | int) -> None:
        """Stop exposing a port, given as set_port() took it."""
        self._configure(unset_ports=[_text_or_int(port, "port")])

    def set_user(self, user: str | int) -> None:
        self._configure(user=_text_or_int(user, "user"))

    def set_workdir(self, path: str) -> None:
        self._configure(workdir=_checks.text(path, "path"))

    def add_volume(self, path: str) -> None:
        self._configure(volumes=[_checks.text(path, "path")])

    def remove_volume(self, path: str) -> None:
        self._configure(unset_volumes=[_checks.text(path, "path")])

    def add_onbuild(self, instruction: str) -> None:
        """Add an ONBUILD trigger, e.g. "RUN make" (kept in the Docker format only, as in Buildah)."""
        self._configure(onbuild=[_checks.text(instruction, "instruction")])

    def set_domainname(self, name: str) -> None:
        self._configure(domainname=_checks.text(name, "name"))

    def set_healthcheck(
        self,
        test: Sequence[str] | str | None,
        *,
        interval: str | timedelta | None = None,
        timeout: str | timedelta | None = None,
        start_period: str | timedelta | None = None,
        start_interval: str | timedelta | None = None,
        retries: int | None = None,
    ) -> None:
        """Set the healthcheck, as buildah config --healthcheck and --healthcheck-* do.

        test is e.g. ["CMD", "curl", "-f", "http://localhost/"], ["CMD-SHELL", "..."] or
        ["NONE"], or a string of shell words as buildah takes it ("CMD-SHELL true");
        None (or [] or "") removes the healthcheck.  Durations are timedeltas or Go
        duration strings ("30s", "1m30s").  Arguments left as None keep their current values,
        or Buildah's defaults (30s interval and timeout, 3 retries).  Docker format only.
        """
        change: dict[str, Any] = {"test": [] if test is None else _words(test, "test")}
        for name, value in (("interval", interval), ("timeout", timeout), ("start_period", start_period),
                            ("start_interval", start_interval)):
            if value is not None:
                change[name] = _duration(value, name)
        if retries is not None:
            change["retries"] = _checks.integer(retries, "retries")
        self._configure(healthcheck=change)

    def set_shell(self, shell: Sequence[str] | str) -> None:
        """Set the shell for RUN: a list, or a string of shell words ("/bin/bash -c")."""
        self._configure(shell=shell)

    def set_stop_signal(self, signal: str) -> None:
        self._configure(stop_signal=_checks.text(signal, "signal"))

    def set_author(self, author: str) -> None:
        self._configure(author=_checks.text(author, "author"))

    def set_created_by(self, created_by: str) -> None:
        """Set the "created by" text of the history entry the next commit writes."""
        self._configure(created_by=_checks.text(created_by, "created_by"))

    def configure(self, **changes: Any) -> None:
        """Change several config fields in one call, e.g. configure(user="1001", workdir="/app").

        Fields: cmd, entrypoint, env, labels, annotations (dicts; a None value
        removes the key), ports, volumes, onbuild (lists, added), unset_ports,
        unset_volumes (lists, removed), user, workdir, shell, stop_signal, author,
        architecture, os, domainname, created_by, history_comment, healthcheck
        (a mapping of set_healthcheck's arguments, durations as strings).
        An unknown field, or a bad value, raises and changes nothing.
        """
        self._configure(**changes)

    def _configure(self, **changes: Any) -> None:
        checked = {k: _config_value(k, v) for k, v in changes.items()}
        _api.configure(builder=self.handle, **checked)
        if self._cache is not None:
            self._cache.config.append(checked)

    @property
    def config(self) -> ContainerConfig:
        """The current configuration, read back from Buildah."""
        return ContainerConfig._from_wire(_api.get_config(builder=self.handle))

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
        hostname: str | None = None,
        cap_add: Sequence[str] | None = None,
        cap_drop: Sequence[str] | None = None,
        volumes: Sequence[str] | None = None,
        mounts: Sequence[str] | None = None,
        network: str | None = None,
        input: bytes | str | _ffi.BinaryStream | None = None,
        timeout: float | None = None,
        cache: bool = True,
        cache_key: str | None = None,
    ) -> RunResult:
        """Run a command in the working container (chroot isolation by default).

        A string runs through /bin/sh -c.  With check (the default) a non-zero
        exit raises RunError.  log, if given, receives each output line live.
        As with subprocess, a command killed by signal N has exit_code -N;
        stdout_bytes and stderr_bytes are the raw output.  Ctrl-C (in the
        main thread) kills the command and raises KeyboardInterrupt; the
        working container stays usable.
        hostname, cap_add and cap_drop (names such as "CAP_NET_RAW", or "all")
        mean what buildah run's --hostname, --cap-add and --cap-drop do;
        volumes bind-mounts host paths like buildah run -v: "HOST:CONTAINER[:ro|rw]".
        mounts are buildah run --mount specs ("type=bind,src=/host,dst=/in[,rw]",
        read-only unless rw; "type=tmpfs,dst=/scratch").  network is buildah run
        --network: "none" gives the command a network namespace of its own with
        only loopback, "host" (chroot isolation's default) the host's.
        input (bytes, str encoded as UTF-8, or a binary file object such as an
        open("...", "rb") file, a pipe or io.BytesIO, streamed from its current
        position) is the command's stdin, else it reads an empty stdin.
        timeout (seconds) kills the command and everything it started when it
        expires and raises RunTimeout, also a TimeoutError.
        With Builder(cache=True), cache=False runs the step every time (and
        the steps after it too), as does a run with volumes or host mounts,
        whose inputs the cache cannot see; cache_key (any text) vouches for
        such a step: it is cached under that text instead.
        """
        check = _checks.flag(check, "check")  # before running: a bad argument changes nothing
        log = _checks.optional_callable(log, "log")
        caps: dict[str, Any] = {
            "cap_add": _checks.optional_strings(cap_add, "cap_add"),
            "cap_drop": _checks.optional_strings(cap_drop, "cap_drop"),
            "hostname": _checks.optional_text(hostname, "hostname"),
            "volumes": _checks.optional_strings(volumes, "volumes"),
            "mounts": _checks.optional_strings(mounts, "mounts"),
            "network": _checks.optional_text(network, "network"),
            "timeout": _checks.seconds(timeout, "timeout") if timeout is not None else None,
        }
        stdin = _checks.input_source(input, "input") if input is not None else None
        if isinstance(command, str):
            form: dict[str, Any] = {"shell": command}
            argv = ["/bin/sh", "-c", command]
        else:
            argv = _checks.strings(command, "command")
            form = {"command": argv}

        LOGGER.info("RUN %s in %s", argv, self.name)

        def on_event(kind: str, line: Any) -> None:
            if log is not None and kind in ("stdout", "stderr"):
                log(str(line))

        step = self._begin_run(argv, env, workdir, user, caps, stdin, cache, cache_key)
        try:
            if step is not None and step.hit:
                raw = step.result or {"exit_code": 0}
                replayed = RunResult._from_wire(raw)
                for line in replayed.stdout.splitlines() + replayed.stderr.splitlines() if log is not None else ():
                    log(line)
            else:
                self._materialise()
                with _ffi.events(on_event if log else None) as stream, _ffi.data_fd(stdin) as input_fd:
                    raw = _api.run(
                        builder=self.handle,
                        input_fd=input_fd,
                        env=_checks.string_map(env, "env"),
                        workdir=_checks.optional_text(workdir, "workdir"),
                        user=_checks.optional_text(user, "user"),
                        stream=stream,
                        **caps,
                        **form,
                    )
            result = RunResult._from_wire(raw)
            failed = _checks.flag(check, "check") and result.exit_code != 0
        except BaseException as error:
            self._end_step(step, error=error)
            raise
        if failed:
            failure = RunError(
                f"command {argv!r} exited with status {result.exit_code}: {result.stderr.strip()[-500:]}",
                exit_code=result.exit_code,
                stdout=result.stdout,
                stderr=result.stderr,
            )
            self._end_step(step, error=failure)
            raise failure
        if step is None or not step.hit:
            self._end_step(step, raw)
        return result

    def shell(self, command: Sequence[str] | None = None, *, env: dict[str, str] | None = None,
              workdir: str | None = None, user: str | None = None) -> int:
        """Run an interactive command (default /bin/sh) on this process's terminal; return its exit status.

        As buildah run -t: the command gets a pseudo-terminal relayed to this
        process's standard input and output, whose terminal is in raw mode
        until it ends (Ctrl-C goes to the command).  Standard input must be a
        terminal, else InvalidArgument.  The container's environment, working
        directory and user apply; env, workdir and user override them.
        """
        argv = None if command is None else _checks.strings(command, "command")
        variables = _checks.string_map(env, "env")
        workdir, user = _checks.optional_text(workdir, "workdir"), _checks.optional_text(user, "user")
        self._materialise()
        if self._cache is not None:
            self._cache.touched("shell()")
        LOGGER.info("Interactive %s in %s", argv or "/bin/sh", self.name)
        for stream in (sys.stdout, sys.stderr):  # what Python buffered comes before the shell's output
            stream.flush()
        return _api.shell(builder=self.handle, command=argv, env=variables, workdir=workdir, user=user)

    def diff(self, image: str | None = None) -> list[Change]:
        """The paths changed against the image this Builder started from (or image), as podman diff lists them.

        Each Change has a path and a kind: "A" added, "C" changed, "D"
        deleted; sorted by path.  From scratch every path is added.
        """
        image = _checks.optional_text(image, "image")
        self._materialise()
        raw = _api.diff(builder=self.handle, image=image if image is not None else self._base_image or None)
        return [Change(path=str(c["path"]), kind=str(c["kind"])) for c in raw]

    @contextmanager
    def mount(self) -> Iterator[Path]:
        """Mount the container's root filesystem and yield its path; unmounts on exit.

        With the step cache on, steps after a mount() are not cached: the
        cache cannot see what was changed through the mount.
        """
        path = self.mount_root()
        try:
            yield path
        finally:
            if not self._deleted:
                self.unmount()

    def mount_root(self) -> Path:
        """Mount the root filesystem and return its path; it stays mounted until unmount() (buildah mount).

        Other processes see the mount too, as root; rootless, only this program's
        user namespace does.  As with mount(), the step cache stops caching here.
        """
        self._materialise()
        if self._cache is not None:
            self._cache.touched("mount()")
        return Path(_api.mount(builder=self.handle))

    def unmount(self) -> bool:
        """Undo mount_root(), also one made by another process (buildah umount); False when not mounted."""
        return _api.unmount(builder=self.handle)

    # Results -------------------------------------------------------------------

    def commit(
        self,
        dest: str | None = None,
        *,
        format: str | None = None,
        squash: bool = False,
        compression: str | None = None,
        force_compression: bool | None = None,
        timestamp: int | None = None,
        provenance: bool | PathLike = False,
        progress: ProgressOption = AUTO,
        registry: RegistryOptions | None = None,
        sbom: str | None = None,
        sbom_output: PathLike | None = None,
        sbom_image_output: str | None = None,
        sbom_purl_output: PathLike | None = None,
        **access: Unpack[RegistryAccess],
    ) -> Image:
        """Commit the container as an image and return it.

        format is "oci" or "docker"; by default, the format the Builder was made with.
        dest is an image name ("hello:1.0.0") stored in this Builder's store,
        or a transport reference: oci-archive:/x.tar, oci:/dir:tag,
        docker-archive:/x.tar, dir:/x, docker://registry/repo:tag.
        compression ("gzip", "zstd", "zstd:chunked") and force_compression
        apply to a destination outside the store, as in pybuildah.push.
        provenance=True records SLSA provenance v1 for an image in the store
        (image.provenance: the base image and the URLs added; a path also
        writes it there), see pybuildah.attestations.
        progress receives a ProgressEvent when each blob starts and ends.
        timestamp (seconds since the epoch) sets the image's created time and
        its new history entry's, for reproducible images; without it, the
        SOURCE_DATE_EPOCH environment variable does the same, as with
        buildah commit.
        sbom ("spdx" for SPDX 2.3 JSON, "cyclonedx" for CycloneDX JSON; Buildah's
        "syft", "syft-spdx", "syft-cyclonedx" too) scans the root file system with
        syft's image catalogers before committing: the SBOM goes to sbom_output
        (a host file) and/or sbom_image_output (a path inside the committed
        image), its package URLs one a line to sbom_purl_output.  A failed scan
        raises SBOMError and commits nothing.
        """
        if self.store.closed:  # refused before anything is written
            raise StoreError(f"store {self.store.root} is closed: open it again to commit into it")
        options = registry_options(registry, access)
        sbom_request = _sbom.request(sbom, sbom_output, sbom_image_output, sbom_purl_output)
        sbom_document = _sbom.apply(self, sbom_request) if sbom_request is not None else None
        timestamp = _checks.optional_integer(timestamp, "timestamp")
        destination = _checks.optional_text(dest, "dest")
        if _buildopts.provenance(provenance) and destination and _is_external(destination):
            raise InvalidArgument("provenance= is kept with an image in the store: commit there, then push")
        LOGGER.info("Committing %s to %s", self.name, destination or "an unnamed image")
        # After a chain of hits Go commits on the last hit's image without a
        # container when that gives the same image, else it makes one first.
        entry = self._cache.pending if self._cache is not None else None
        try:
            with _transfer.registry_access(options, progress, "commit") as (wire, stream):
                result = _api.commit(
                    builder=self.handle,
                    destination=destination,
                    format=_checks.optional_text(format, "format"),
                    squash=_checks.flag(squash, "squash"),
                    compression=_checks.optional_text(compression, "compression"),
                    force_compression=_checks.optional_flag(force_compression, "force_compression"),
                    timestamp=timestamp,
                    source_date_epoch=os.environ.get("SOURCE_DATE_EPOCH") if timestamp is None else None,
                    entry=entry,
                    stream=stream,
                    **wire,
                )
        except ImageNotFound as error:
            if entry is not None and entry in str(error):
                raise _entry_gone(entry, error) from error
            raise
        if result.get("container") and self._cache is not None:
            self.id, self._cache.pending = result["container"], None
        LOGGER.info("Committed %s: image %s", self.name, result["id"])
        if destination and _is_external(destination):
            return self.store.image(destination, registry=options)
        image = self.store.image(result["id"])
        if sbom_document is not None:
            _sbom.keep(self.store.handle, image.id, sbom_document)
        if provenance is not False:
            self._record_provenance(image, provenance, timestamp)
        return image

    def _record_provenance(self, image: Image, provenance: bool | PathLike, timestamp: int | None) -> None:
        base = "" if self.from_image == "scratch" else self.from_image
        try:
            base_digest = self.store.image(base).digest if base else ""
        except ImageNotFound:  # removed since: recorded without a digest
            base_digest = ""
        epoch = timestamp if timestamp is not None else _provenance.epoch_of(
            None, os.environ.get("SOURCE_DATE_EPOCH", ""), None)
        _provenance.record_commit(image, base=base or "scratch", base_digest=base_digest, urls=self._urls,
                                  epoch=epoch, started=self._started, provenance=provenance)

    # The step cache ------------------------------------------------------------

    @property
    def steps(self) -> StepReport:
        """The copy, add and run steps so far, with Builder(cache=True): hit or miss, and why."""
        return StepReport(self._cache.steps if self._cache is not None else ())

    def _materialise(self) -> None:
        """Give the working container the content of the last cache hit, if it does not have it yet."""
        cache = self._cache
        if cache is not None and cache.pending is not None:
            try:
                info = _api.rebase(builder=self.handle, image=cache.pending)
            except ImageNotFound as error:
                raise _entry_gone(cache.pending, error) from error
            self.id, cache.pending = info["id"], None

    def _begin_copy(self, sources: list[str], dest: str, *, extract: bool, chown: str | None,
                    chmod: str | int | None, from_: Builder | str | None, excludes: list[str] | None,
                    parents: bool, checksum: str | None, cache: bool, cache_key: str | None,
                    ) -> _stepcache.Step | None:
        """Look a copy or add up in the step cache (None: the cache is off)."""
        if self._cache is None:
            return None
        kind = "add" if extract else "copy"
        urls = [s for s in sources if _is_url(s)] if from_ is None else []
        local = [s for s in sources if not _is_url(s)] if from_ is None else []
        args: dict[str, Any] = {"dest": dest, "chown": chown, "chmod": chmod, "exclude": excludes or [],
                                "parents": parents, "checksum": checksum, "urls": urls,
                                "cache_key": _checks.optional_text(cache_key, "cache_key")}
        why_not = "" if _checks.flag(cache, "cache") else "not cacheable: cache=False"
        if urls and checksum is None and cache_key is None:
            why_not = why_not or "not cacheable: URL without checksum="
        if isinstance(from_, Builder):
            args["from"] = from_._cache.chain_key if from_._cache is not None else None
            args["sources"] = sources
            if args["from"] is None and cache_key is None:
                why_not = why_not or "not cacheable: from_ a Builder whose steps are not cached"
        elif isinstance(from_, str):
            args["from"] = "image:" + self.store.image(from_).id
            args["sources"] = sources
        names = ", ".join(os.path.basename(s.rstrip("/")) or s for s in sources)
        return self._cache.begin(self.handle, kind, _stepcache.summary(f"{names} → {dest}"), args,
                                 sources=local, parents=parents, why_not=why_not)

    def _begin_run(self, argv: list[str], env: dict[str, str] | None, workdir: str | None, user: str | None,
                   caps: dict[str, Any], stdin: bytes | _ffi.BinaryStream | None, cache: bool,
                   cache_key: str | None,
                   ) -> _stepcache.Step | None:
        """Look a run up in the step cache (None: the cache is off)."""
        if self._cache is None:
            return None
        cache_key = _checks.optional_text(cache_key, "cache_key")
        data = stdin if stdin is None or isinstance(stdin, bytes) else None
        streamed = stdin is not None and data is None
        why_not = _stepcache.run_uncacheable(caps["volumes"], caps["mounts"], _checks.flag(cache, "cache"), streamed)
        options = {k: v for k, v in caps.items() if k not in ("timeout", "volumes", "mounts")}
        args = _stepcache.run_args(argv, _checks.string_map(env, "env"), data,
                                   workdir=_checks.optional_text(workdir, "workdir"),
                                   user=_checks.optional_text(user, "user"),
                                   mounts=caps["mounts"], volumes=caps["volumes"], cache_key=cache_key, **options)
        shown = argv[2] if argv[:2] == ["/bin/sh", "-c"] else " ".join(argv)
        return self._cache.begin(self.handle, "run", _stepcache.summary(shown), args,
                                 why_not="" if cache_key is not None else why_not)

    def _end_step(self, step: _stepcache.Step | None, result: dict[str, Any] | None = None, *,
                  error: BaseException | None = None) -> None:
        if step is None or self._cache is None:
            return
        if error is not None:
            self._cache.failed(step, error)
        else:
            self._cache.finish(self.handle, step, result)

    def flush(self) -> None:
        """Write the working container's state now, so that other processes see every change so far.

        Config calls (set_env, set_label, configure, ...) and copies change
        the container in this process; Buildah's state file, which
        `buildah inspect` and `buildah containers` read, is written before
        run(), commit() and mount_root(), at close() and delete(), at
        interpreter exit, and here.  See "State written when it matters" in
        docs/design.md.
        """
        self._materialise()
        _api.flush_builder(builder=self.handle)

    def close(self) -> None:
        """Let go of the working container without deleting it (idempotent).

        Its state is written, and the mount and copier child this Builder
        held are released; Builder.open() reattaches to it later.
        """
        if self._deleted or not self._finalizer.alive:
            return
        try:
            self._materialise()  # a step cache hit not applied yet
        finally:
            self._finalizer()  # Go writes the state file as the handle goes

    def delete(self) -> None:
        """Delete the working container (idempotent).

        If the deletion fails (a file that cannot be removed, a busy mount),
        the Builder stays open and usable: fix the cause and call delete() again.
        """
        if self._deleted:
            return
        _api.delete_builder(builder=self.handle)
        self._deleted = True
        self._finalizer()


_CONFIG_LISTS = ("volumes", "unset_volumes", "onbuild")
_CONFIG_WORDS = ("cmd", "entrypoint", "shell")
_CONFIG_MAPS = ("env", "labels", "annotations")


def _config_value(field: str, value: Any) -> Any:
    """Type-check one configure() field (None is refused: it would read as "leave unchanged").

    Unknown fields pass through for Go to refuse with the list of known ones.
    """
    if field in _CONFIG_LISTS:
        return _checks.strings(value, field)
    if field in _CONFIG_WORDS:
        return _words(value, field)
    if field in _CONFIG_MAPS:
        if value is None:
            raise InvalidType(f"{field} must be a mapping of names to values, not None")
        return _checks.string_map(value, field, removable=True)
    if field == "healthcheck" and not isinstance(value, dict):
        raise InvalidType(f"healthcheck must be a mapping (see set_healthcheck), not {type(value).__name__}")
    if field in ("ports", "unset_ports"):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise InvalidType(f"ports must be a list of ports, not {type(value).__name__}")
        return [_text_or_int(port, "port") for port in value]
    if field == "user":
        return _text_or_int(value, field)
    if field in ("workdir", "stop_signal", "author", "architecture", "os", "created_by", "history_comment",
                 "domainname"):
        return _checks.text(value, field)
    return value


def _words(value: Any, what: str) -> list[str] | str:
    """A list of strings, or one string that Go parses as buildah config parses the flag."""
    if isinstance(value, str):
        return value
    if not isinstance(value, Sequence) or isinstance(value, bytes):
        raise InvalidType(f"{what} must be a string or a list of strings, not {type(value).__name__}")
    return _checks.strings(value, what)


def _duration(value: Any, what: str) -> str:
    """A Go duration string from a str or a timedelta (Go checks the value)."""
    if isinstance(value, timedelta):
        return f"{value.total_seconds()}s"
    return _checks.text(value, what)


def _text_or_int(value: Any, what: str) -> str:
    """A str, or an int written in decimal (a port or a user ID)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _checks.text(value, what)


def _local_source(src: str, parents: bool) -> str:
    """src made absolute; with parents, not normalised, so that a "/./" pivot stays."""
    if parents and src and not os.path.isabs(src):
        return os.path.join(os.getcwd(), src)
    return src if parents and src else _checks.absolute(src, "src")


def _entry_gone(entry: str, error: ImageNotFound) -> ImageNotFound:
    return ImageNotFound(f"the step cache's entry {entry} was removed (by a prune?) "
                         f"before this Builder used it: {error}")


def _repositories(value: str | Sequence[str] | None, what: str) -> list[str]:
    """One repository or a list of them."""
    return [_checks.text(value, what)] if isinstance(value, str) else _checks.optional_strings(value, what) or []


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _is_external(reference: str) -> bool:
    """Whether a commit destination is outside the local store."""
    transport, sep, _ = reference.partition(":")
    return bool(sep) and transport in ("oci-archive", "oci", "docker-archive", "dir", "docker")
