"""Containerfile builds, through Buildah's own front end (imagebuildah.BuildDockerfiles).

The Go call runs in a worker thread (_api.build, _ffi.call_cancellable; cffi releases
the GIL), so the calling thread stays responsive: log lines reach ``log``
while the build runs, and a KeyboardInterrupt (or any other exception raised
asynchronously in the caller) cancels the build, waits until it has stopped
and cleaned up, and is then re-raised.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from datetime import datetime
from typing import Any, Protocol, Unpack, overload

from . import _api, _buildopts, _ffi, _notebook, _provenance, _sbom
from ._buildopts import SecretSource, TextSource
from ._checks import PathLike
from ._env import sync_env
from ._records import StepRecord, StepReport
from .builder import Builder
from .errors import BuildahError, BuildError, InvalidArgument, InvalidType
from .image import Image
from .manifest import Manifest
from .options import RegistryAccess, RegistryOptions, registry_options, scrubbed
from .store import Store, resolve

LOGGER = logging.getLogger("pybuildah.build")
LOG_TAIL_LINES = 50  # how many of the last log lines a BuildError keeps


class TextSink(Protocol):
    def write(self, text: str, /) -> Any: ...


LogTarget = Callable[[str], Any] | TextSink | None


class BuildSettings(RegistryAccess, total=False):
    """build()'s keyword arguments but ``manifest`` and ``store`` (pybuildah.aio's build takes its own store)."""

    containerfile: PathLike | Sequence[PathLike] | TextSource | None
    tag: str | Sequence[str] | None
    target: str | None
    build_args: Mapping[str, str] | None
    labels: Mapping[str, str] | None
    annotations: Mapping[str, str] | None
    isolation: str
    layers: bool
    no_cache: bool
    pull: str
    squash: bool
    format: str
    timestamp: int | datetime | None
    jobs: int
    log: LogTarget
    platform: str | None
    platforms: Sequence[str] | None
    secrets: Mapping[str, SecretSource] | None
    build_contexts: Mapping[str, PathLike] | None
    output: str | Sequence[str] | None
    source_date_epoch: int | datetime | None
    rewrite_timestamp: bool
    network: str | None
    cap_add: Sequence[str] | None
    cap_drop: Sequence[str] | None
    volumes: Sequence[str] | None
    ulimits: Sequence[str] | None
    add_hosts: Sequence[str] | None
    env: Mapping[str, str] | None
    cache_from: str | Sequence[str] | None
    cache_to: str | Sequence[str] | None
    ssh: Sequence[str] | Mapping[str, PathLike | Sequence[PathLike]] | None
    provenance: bool | PathLike
    registry: RegistryOptions | None
    keep_failed: bool
    sbom: str | None
    sbom_output: PathLike | None
    sbom_image_output: str | None
    sbom_purl_output: PathLike | None


class BuildOptions(BuildSettings, total=False):
    """build()'s keyword arguments but ``manifest``, for the overloads that type its result.

    Kept equal to build()'s own signature by tests/test_contract.py.
    """

    store: Store | None


@overload
def build(context: PathLike = ".", *, manifest: None = None, **options: Unpack[BuildOptions]) -> Image: ...


@overload
def build(context: PathLike = ".", *, manifest: str, **options: Unpack[BuildOptions]) -> Manifest: ...


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
    provenance: bool | PathLike = False,
    registry: RegistryOptions | None = None,
    keep_failed: bool = False,
    sbom: str | None = None,
    sbom_output: PathLike | None = None,
    sbom_image_output: str | None = None,
    sbom_purl_output: PathLike | None = None,
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
    ``cert_dir=``, ``retries=``, ``signature_policy=``) applies to every pull
    the build makes: FROM, ``COPY --from=image`` and image build contexts; an
    image the signature policy refuses raises SignatureError.
    ``secrets={"id": source}`` serves ``RUN --mount=type=secret,id=...``:
    the source is a file path, ``"env:NAME"`` (that environment variable) or
    bytes (kept in a private temporary file for the build); a secret never
    reaches the image, its history or the log.
    ``build_contexts={"name": dir}`` names extra contexts for
    ``COPY --from=name`` and ``FROM name``: a directory, a URL, or
    ``"docker-image://ref"`` for an image (as ``--build-context``).
    ``output="type=local,dest=DIR"`` (or ``type=tar,dest=FILE``) also writes
    the final stage's files there (as ``--output``); the image is still
    returned.  ``output="-"`` (or ``type=tar,dest=-``) writes that tar to
    ``sys.stdout.buffer`` once the build has succeeded (nothing on failure).
    ``source_date_epoch`` (default: $SOURCE_DATE_EPOCH, as buildah reads it)
    fixes the timestamps in the image's configuration and history, and
    ``rewrite_timestamp=True`` clamps file times in new layers to it, for
    reproducible builds.
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
    ``keep_failed=True`` keeps the failing step's working container: the
    BuildError's ``builder`` is a Builder on it (run, mount, diff, commit;
    delete it, or use it as a context manager).  Without it nothing is kept.
    ``provenance=True`` records SLSA provenance v1 for the image
    (``image.provenance``; a path also writes it there), see
    pybuildah.attestations; with ``manifest=``, one statement names
    each platform's image and is kept with each.
    ``sbom="spdx"`` (or ``"cyclonedx"``) scans the built image as
    Builder.commit(sbom=...) does, with the same ``sbom_output``,
    ``sbom_image_output`` (one more layer on top, which takes the image's
    names) and ``sbom_purl_output``; one platform per build.
    """
    keywords = dict(locals())  # first: build()'s arguments, as _buildopts.ENCODING reads them
    target_store = resolve(store)
    sink = _log_sink(log)
    reg = registry_options(registry, access)
    sbom_request = _sbom.request(sbom, sbom_output, sbom_image_output, sbom_purl_output)
    if sbom_request is not None and (manifest is not None or len(platforms or ()) > 1):
        raise InvalidArgument("sbom= scans one image: build one platform at a time, without manifest=")
    with ExitStack() as temporary:
        files = _buildopts.PrivateFiles(temporary, target_store._scratch)
        options = _buildopts.request(keywords, files)
        started, results = int(time.time()), list[dict[str, Any]]()
        built = _run(target_store, sink, log is None, options, reg, manifest, results.append)
        if sbom_request is not None and isinstance(built, Image):
            built = _scan_built(target_store, built, sbom_request, options["format"])
        if options["provenance"]:
            _provenance.record_build(_images_of(built), manifest, keywords, options, results[0], started)
        if files.stdout_tar is not None:
            _buildopts.copy_to_stdout(files.stdout_tar)
        return built


def _run(target_store: Store, sink: Callable[[str], Any], default_log: bool, options: dict[str, Any],
         reg: RegistryOptions, manifest: str | None,
         on_result: Callable[[dict[str, Any]], Any] | None = None) -> Image | Manifest:
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
    LOGGER.info("Building %s", options["context"])
    try:
        with scrubbed(reg), _notebook.build_output(sink, default_log, LOGGER) as out, \
                _ffi.events(on_event) as stream:
            result = _api.build(should_cancel=lambda: bool(sink_failures), store=target_store.handle,
                                stream=stream, **options, **reg._wire())
    except BuildError as error:
        if error.container is not None:  # keep_failed: the failed step's container, as a Builder
            error.builder = _kept_builder(error.container, target_store, bool(sink_failures))
        if sink_failures:
            raise sink_failures[0] from None
        error.log_tail = list(tail)
        raise
    if sink_failures:
        raise sink_failures[0]
    LOGGER.info("Built %s", f"manifest list {manifest}" if manifest is not None else f"image {result['id']}")
    if on_result is not None:
        on_result(result)
    if manifest is not None:
        return Manifest(manifest, store=target_store)
    image = target_store.image(result["id"])
    image.build_steps = _build_steps(result.get("steps") or [], options)
    return image


def _build_steps(raw: list[dict[str, Any]], options: Mapping[str, Any]) -> StepReport:
    """The records of the build's steps (Go's BuildStep list), numbered from 1."""
    cached = "" if options.get("layers") and not options.get("no_cache") else (
        "no_cache=True" if options.get("layers") else "layers=False")
    return StepReport(StepRecord._from_build(index, step, cached) for index, step in enumerate(raw, 1))


def _kept_builder(container: str, store: Store, discard: bool) -> Builder | None:
    """A Builder on the container a failed build kept; removed instead when the error is not raised."""
    try:
        builder = Builder.open(container, store=store)
    except BuildahError as error:  # gone already (removed by another process): nothing to hand over
        LOGGER.warning("The failed step's container %s cannot be opened: %s", container, error)
        return None
    if discard:  # the log sink's own exception replaces the BuildError: nobody could reach the container
        builder.delete()
        return None
    LOGGER.info("Kept the failed step's working container %s", builder.name)
    return builder


def _images_of(built: Image | Manifest) -> list[Image]:
    """The image built, or each platform's image in the manifest list built."""
    return [built] if isinstance(built, Image) else built.images()


def _scan_built(store: Store, image: Image, req: _sbom.Request, format: str) -> Image:
    """build(sbom=...): scan the built image; with sbom_image_output, the SBOM is one more layer on top.

    That layer's image takes over the built image's names.
    """
    with Builder(image.id, store=store, format=format) as working:
        document = _sbom.apply(working, req)
        if req.image_output is None:
            _sbom.keep(store.handle, image.id, document)
            return image
        names = list(image.names)
        committed = working.commit(format=format)
        _sbom.keep(store.handle, committed.id, document)
    for name in names:
        committed.tag(name)
    committed.build_steps = image.build_steps
    return committed


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
