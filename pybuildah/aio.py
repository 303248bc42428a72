"""pybuildah for asyncio: an awaitable twin of every blocking call, with the same names, arguments and errors.

    from pybuildah import aio

    async with aio.Store(root="/tmp/store") as store:
        async with aio.Builder("localhost/busybox:latest", store=store) as b:
            await b.run("echo hi > /greeting")
            image = await b.commit("greeter:1")

One implementation runs underneath, the synchronous one: each twin runs its
synchronous call in a thread of its own, so the event loop never waits for
Buildah, and the calls raise the synchronous API's exceptions.  Cancelling
the awaiting task (``task.cancel()``, ``asyncio.timeout()``, Ctrl-C under
``asyncio.run``) cancels the call in Go the way Ctrl-C does (its processes
killed, a half-made container or image removed), waits until the call has
really ended, and raises CancelledError.  A call that finished just as it
was cancelled keeps its result, except a new Builder or Store, which is
deleted or closed, and a new manifest list, which is deleted.

Log lines of ``build()`` and ``Builder.run()`` reach ``async for`` through a
``Log`` given as ``log=``.  Other callbacks (``progress=``, a plain ``log=``
callable) run on Buildah's threads, as in the synchronous API.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import operator
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Concatenate, Generic, ParamSpec, Self, TypeVar, Unpack, cast, overload

from . import _ffi, _version, display
from . import attestations as _attestations
from . import builder as _builder
from . import image as _image
from . import manifest as _manifest
from . import registry as _registry
from . import signing as _signing
from . import store as _store
from ._attach import Referrer
from ._checks import PathLike
from ._records import ContainerConfig, ContainerInfo, ImageConfig, PruneReport, RemovalReport, StepReport
from .build import BuildSettings
from .build import build as _sync_build
from .errors import InvalidArgument, InvalidType
from .manifest import ManifestEntry
from .options import RegistryAccess, RegistryOptions
from .progress import AUTO, ProgressCallback, ProgressOption

__all__ = ["Builder", "Image", "Log", "Manifest", "Store", "build", "buildah_version", "containers",
           "default_store", "generate_sigstore_key_pair", "images", "load", "login", "logout", "provenance",
           "prune", "pull", "push", "referrers", "remove_image", "resolve", "tag"]

LOGGER = logging.getLogger("pybuildah.aio")

_T = TypeVar("_T")
_S = TypeVar("_S")
_P = ParamSpec("_P")

# The one list of twins is this module: each face (FACES, at the end) names each of its synchronous
# class's members once, and __all__ the functions; tests/test_aio.py checks both against the
# synchronous API, so the two faces cannot drift apart.  What has no twin, and why:
SYNC_ONLY = {"init_reexec": "re-executes the whole program: call it first, before an event loop starts"}


# Running one synchronous call ------------------------------------------------------------------------


async def _call(undo: Callable[[Any], object] | None, fn: Callable[_P, _T], /,
                *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run fn in a thread of its own under a CancelScope; cancelling the task cancels the call.

    On cancellation the scope cancels fn's cancellable Go calls (and any it
    starts later), this waits until fn has returned, undo(result) disposes
    of a result that fn produced all the same, and CancelledError is raised.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[_T] = loop.create_future()
    scope = _ffi.CancelScope()
    logs = [value for value in (*args, *kwargs.values()) if isinstance(value, Log)]
    for log in logs:
        log._bind(loop)

    def settle(ok: bool, value: Any) -> None:
        if not done.done():
            if ok:
                done.set_result(value)
            else:
                done.set_exception(value)

    def work() -> None:
        ok, value = True, cast(Any, None)
        try:
            with scope.entered():
                value = fn(*args, **kwargs)
        except BaseException as exc:  # handed to the awaiting task
            ok, value = False, exc
        with suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
            loop.call_soon_threadsafe(settle, ok, value)

    name = "pybuildah-aio-" + getattr(getattr(fn, "func", fn), "__qualname__", "call")
    try:
        threading.Thread(target=contextvars.copy_context().run, args=(work,), name=name, daemon=True).start()
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            scope.cancel()
            await _ended(done)
            if undo is not None and not done.cancelled() and done.exception() is None:
                try:  # it was made all the same: a cancelled task leaves no new container behind
                    await _call(None, undo, done.result())
                except Exception:
                    LOGGER.warning("could not dispose of %r after a cancel", done.result(), exc_info=True)
            raise
    finally:
        for log in logs:
            log._close()


async def _ended(done: asyncio.Future[Any]) -> None:
    """Wait until done is settled, whatever happens to the waiting task meanwhile."""
    while not done.done():
        with suppress(BaseException):  # cancelled again, or the call's own error: it ended either way
            await asyncio.shield(done)
    if not done.cancelled():
        done.exception()  # retrieved: the cancellation is what the task reports


def _unwrapped(value: Any) -> Any:
    return value.sync if isinstance(value, _Face) else value


_W = TypeVar("_W", bound=Callable[..., Any])


def _mirror(sync: Callable[..., Any]) -> Callable[[_W], _W]:
    """Give a twin its synchronous original's name and docstring (and, for inspect, ``__wrapped__``)."""

    def mirror(twin: _W) -> _W:
        twin.__name__ = sync.__name__
        twin.__qualname__ = sync.__qualname__
        twin.__doc__ = sync.__doc__
        twin.__wrapped__ = sync  # type: ignore[attr-defined]
        return twin

    return mirror


def _twin(method: Callable[Concatenate[_S, _P], _T]) -> Callable[Concatenate[Any, _P], Coroutine[Any, Any, _T]]:
    """The awaitable twin of a synchronous method, returning what it returns."""

    @_mirror(method)
    async def twin(self: _Face[_S], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        return await _call(None, method, self.sync, *args, **kwargs)

    return twin


def _twin_function(fn: Callable[_P, _T]) -> Callable[_P, Coroutine[Any, Any, _T]]:
    """The awaitable twin of a module function that takes no pybuildah object."""

    @_mirror(fn)
    async def twin(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        return await _call(None, fn, *args, **kwargs)

    return twin


_F = TypeVar("_F", bound="_Face[Any]")


def _twin_to(face: type[_F], method: Callable[Concatenate[_S, _P], Any],
             ) -> Callable[Concatenate[Any, _P], Coroutine[Any, Any, _F]]:
    """The awaitable twin of a method returning a pybuildah object: its face is returned."""

    @_mirror(method)
    async def twin(self: _Face[_S], /, *args: _P.args, **kwargs: _P.kwargs) -> _F:
        return face.of(await _call(None, method, self.sync, *args, **kwargs))

    return twin


def _twin_to_list(face: type[_F], method: Callable[Concatenate[_S, _P], Iterable[Any]],
                  ) -> Callable[Concatenate[Any, _P], Coroutine[Any, Any, list[_F]]]:
    """The awaitable twin of a method returning a list of pybuildah objects: their faces."""

    @_mirror(method)
    async def twin(self: _Face[_S], /, *args: _P.args, **kwargs: _P.kwargs) -> list[_F]:
        return [face.of(item) for item in await _call(None, method, self.sync, *args, **kwargs)]

    return twin


def _twin_context(method: Callable[Concatenate[_S, _P], AbstractContextManager[_T]],
                  ) -> Callable[Concatenate[Any, _P], AbstractAsyncContextManager[_T]]:
    """The async context manager twin of a synchronous one: entering and leaving run in a thread."""

    @_mirror(method)
    @asynccontextmanager
    async def twin(self: _Face[_S], /, *args: _P.args, **kwargs: _P.kwargs) -> AsyncIterator[_T]:
        manager = method(self.sync, *args, **kwargs)
        value = await _call(None, manager.__enter__)
        try:
            yield value
        except BaseException as exc:
            if not await _call(None, manager.__exit__, type(exc), exc, exc.__traceback__):
                raise
        else:
            await _call(None, manager.__exit__, None, None, None)

    return cast(Callable[Concatenate[Any, _P], AbstractAsyncContextManager[_T]], twin)


class _Plain(Generic[_T]):
    """An attribute of the synchronous object that needs no I/O, read as it is."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, face: None, owner: type) -> Self: ...

    @overload
    def __get__(self, face: _Face[Any], owner: type) -> _T: ...

    def __get__(self, face: _Face[Any] | None, owner: type) -> Self | _T:
        if face is None:
            return self
        return cast(_T, getattr(face.sync, self._name))


class _Face(Generic[_S]):
    """The awaitable face of one synchronous pybuildah object (``sync``)."""

    mirrors: ClassVar[type]  # the synchronous class
    _sync: _S | None = None
    _opening: Callable[[], _S] | None = None
    _opened: asyncio.Future[_S] | None = None

    @classmethod
    def of(cls, sync: _S) -> Self:
        """The face of a synchronous object (pybuildah.Store, Builder, Image, Manifest) already at hand."""
        if not isinstance(sync, cls.mirrors):
            raise InvalidType(f"pybuildah.aio.{cls.__name__}.of takes a {cls.mirrors.__module__.split('.')[0]}."
                              f"{cls.mirrors.__name__}, not {type(sync).__name__}")
        face = cls.__new__(cls)
        face._sync = sync
        return face

    @property
    def sync(self) -> _S:
        """The synchronous object underneath (for other threads, or to hand to synchronous code)."""
        if self._sync is None:
            raise InvalidArgument(f"await this pybuildah.aio.{type(self).__name__} (or use it with async with) first")
        return self._sync

    def _undo(self, sync: _S) -> None:
        """Dispose of a synchronous object made by a cancelled opening (nothing by default)."""

    async def _open(self) -> Self:
        """Open once, however many tasks await it at once (a failed or cancelled opening is tried again)."""
        if self._sync is None:
            if self._opening is None:
                raise InvalidArgument(f"this pybuildah.aio.{type(self).__name__} was not opened")
            opened = self._opened
            if opened is None or (opened.done() and (opened.cancelled() or opened.exception() is not None)):
                self._opened = opened = asyncio.ensure_future(_call(self._undo, self._opening))
            self._sync = await opened
        return self

    def __await__(self) -> Generator[Any, None, Self]:
        return self._open().__await__()

    def __repr__(self) -> str:
        return f"<pybuildah.aio {self._sync!r}>" if self._sync is not None else \
            f"<pybuildah.aio.{type(self).__name__} not opened>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Face):
            return self._sync is not None and bool(self._sync == other._sync)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._sync) if self._sync is not None else id(self)

    def _repr_html_(self) -> str:
        return display.to_html(self.sync)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self) if cycle else display.to_text(self.sync))


def _store_of(store: Store | _store.Store | None) -> _store.Store | None:
    return store.sync if isinstance(store, Store) else store


# Log lines for async for -----------------------------------------------------------------------------


class Log:
    """The log of one build() or Builder.run() call, read with ``async for``; pass it as ``log=``.

        log = aio.Log()
        task = asyncio.create_task(builder.run("make", log=log))
        async for line in log:
            print(line)
        result = await task

    Lines are queued (without bound) as Go produces them and iteration ends
    when the call has ended, whether it succeeded or not; the call's result
    or error is the task's.  One Log serves one call.
    """

    def __init__(self) -> None:
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._loop is not None:
            raise InvalidArgument("a pybuildah.aio.Log serves one call; make a new one for each")
        self._loop = loop

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self._queue.put_nowait(None)  # after every line: they were queued before the call's end

    def __call__(self, line: str) -> None:
        """Queue one line (called in the worker thread or a Go thread)."""
        if self._loop is None:
            raise InvalidArgument("a pybuildah.aio.Log is read only from the pybuildah.aio call it is given to")
        with suppress(RuntimeError):  # the loop is closed
            self._loop.call_soon_threadsafe(self._queue.put_nowait, line)

    def __aiter__(self) -> AsyncIterator[str]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[str]:
        while (line := await self._queue.get()) is not None:
            yield line
        self._queue.put_nowait(None)  # a second iteration ends too


# The faces -------------------------------------------------------------------------------------------


class Image(_Face[_image.Image]):
    """An image (pybuildah.Image): its data as attributes, its actions awaitable."""

    mirrors = _image.Image

    id = _Plain[str]()
    names = _Plain[list[str]]()
    digest = _Plain[str]()
    size = _Plain[int]()
    created = _Plain[datetime | None]()
    config = _Plain[ImageConfig]()
    history = _Plain[list[dict[str, Any]]]()
    layers = _Plain[list[str]]()
    os = _Plain[str]()
    architecture = _Plain[str]()
    annotations = _Plain[dict[str, str]]()
    labels = _Plain[dict[str, str]]()
    digests = _Plain[list[str]]()
    short_id = _Plain[str]()
    manifest_type = _Plain[str]()
    reference = _Plain[str]()
    build_steps = _Plain[StepReport]()

    @property
    def store(self) -> Store:
        return Store.of(cast(_store.Store, self.sync.store))

    inspect = _twin(_image.Image.inspect)
    tag = _twin(_image.Image.tag)
    untag = _twin(_image.Image.untag)
    remove = _twin(_image.Image.remove)
    save = _twin(_image.Image.save)
    push = _twin(_image.Image.push)
    referrers = _twin(_image.Image.referrers)

    @property
    def provenance(self) -> Awaitable[dict[str, Any] | None]:
        """The SLSA provenance kept with the image, read from the store: ``await image.provenance``."""
        return _call(None, operator.attrgetter("provenance"), self.sync)

    @_mirror(_image.Image.reload)
    async def reload(self) -> Image:
        await _call(None, self.sync.reload)
        return self


class Store(_Face[_store.Store]):
    """An open store (pybuildah.Store): ``async with aio.Store(...) as store`` or ``store = await aio.Store(...)``."""

    mirrors = _store.Store

    def __init__(self, root: PathLike | None = None, runroot: PathLike | None = None, driver: str | None = None,
                 options: Iterable[str] = (), additional_image_stores: Iterable[PathLike] = (),
                 signature_policy: PathLike | Mapping[str, Any] | None = None) -> None:
        self._opening = functools.partial(_store.Store, **_arguments(locals()))

    def _undo(self, sync: _store.Store) -> None:
        sync.close()

    async def __aenter__(self) -> Self:
        return await self._open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    root = _Plain[Path]()
    runroot = _Plain[Path]()
    driver = _Plain[str]()
    config_sources = _Plain[dict[str, str]]()
    handle = _Plain[int]()
    closed = _Plain[bool]()

    close = _twin(_store.Store.close)
    image = _twin_to(Image, _store.Store.image)
    exists = _twin(_store.Store.exists)
    images = _twin_to_list(Image, _store.Store.images)
    containers = _twin(_store.Store.containers)
    prune = _twin(_store.Store.prune)
    load = _twin_to(Image, _store.Store.load)
    tag = _twin(_store.Store.tag)
    remove_image = _twin(_store.Store.remove_image)


class Manifest(_Face[_manifest.Manifest]):
    """A manifest list (pybuildah.Manifest): ``m = await aio.Manifest(name, store=store)``."""

    mirrors = _manifest.Manifest

    def __init__(self, name: str, *, store: Store | _store.Store | None = None) -> None:
        self._opening = functools.partial(_manifest.Manifest, **_arguments(locals()))

    @classmethod
    @_mirror(_manifest.Manifest.create)
    async def create(cls, name: str, *, store: Store | _store.Store | None = None) -> Manifest:
        return cls.of(await _call(_manifest.Manifest.delete, _manifest.Manifest.create, name, store=_store_of(store)))

    name = _Plain[str]()

    @property
    def store(self) -> Store:
        return Store.of(self.sync.store)

    @property
    def id(self) -> Awaitable[str]:
        """The ID of the list's image in the store: ``await manifest.id``."""
        return _call(None, operator.attrgetter("id"), self.sync)

    @property
    def entries(self) -> Awaitable[list[ManifestEntry]]:
        """The list's entries: ``await manifest.entries``."""
        return _call(None, operator.attrgetter("entries"), self.sync)

    inspect = _twin(_manifest.Manifest.inspect)
    add = _twin(_manifest.Manifest.add)
    annotate = _twin(_manifest.Manifest.annotate)
    remove = _twin(_manifest.Manifest.remove)
    push = _twin(_manifest.Manifest.push)
    images = _twin_to_list(Image, _manifest.Manifest.images)
    delete = _twin(_manifest.Manifest.delete)


class Builder(_Face[_builder.Builder]):
    """A working container (pybuildah.Builder): ``async with aio.Builder(image, store=store) as b``.

    Leaving the block deletes the container, also when the task is cancelled.
    """

    mirrors = _builder.Builder

    def __init__(
        self,
        image: str = "scratch",
        *,
        store: Store | _store.Store | None = None,
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
        self._opening = functools.partial(_builder.Builder, **_arguments(locals()))

    def _undo(self, sync: _builder.Builder) -> None:
        sync.delete()

    @classmethod
    @_mirror(_builder.Builder.open)
    async def open(cls, name_or_id: str, store: Store | _store.Store | None = None) -> Builder:
        return cls.of(await _call(None, _builder.Builder.open, name_or_id, _store_of(store)))

    async def __aenter__(self) -> Self:
        return await self._open()

    async def __aexit__(self, *exc: object) -> None:
        await self.delete()

    id = _Plain[str]()
    name = _Plain[str]()
    from_image = _Plain[str]()
    handle = _Plain[int]()
    steps = _Plain[StepReport]()

    @property
    def store(self) -> Store:
        return Store.of(self.sync.store)

    @property
    def config(self) -> Awaitable[ContainerConfig]:
        """The current configuration, read back from Buildah: ``await builder.config``."""
        return _call(None, operator.attrgetter("config"), self.sync)

    add = _twin(_builder.Builder.add)

    @_mirror(_builder.Builder.copy)
    async def copy(
        self,
        src: _builder.Sources,
        dest: str,
        *,
        chown: str | None = None,
        chmod: str | int | None = None,
        from_: Builder | _builder.Builder | str | None = None,
        exclude: Sequence[str] | None = None,
        parents: bool = False,
        checksum: str | None = None,
        cache: bool = True,
        cache_key: str | None = None,
    ) -> None:
        await _call(None, functools.partial(self.sync.copy, **_arguments(locals())))

    set_cmd = _twin(_builder.Builder.set_cmd)
    set_entrypoint = _twin(_builder.Builder.set_entrypoint)
    set_env = _twin(_builder.Builder.set_env)
    unset_env = _twin(_builder.Builder.unset_env)
    set_label = _twin(_builder.Builder.set_label)
    unset_label = _twin(_builder.Builder.unset_label)
    set_annotation = _twin(_builder.Builder.set_annotation)
    unset_annotation = _twin(_builder.Builder.unset_annotation)
    set_port = _twin(_builder.Builder.set_port)
    unset_port = _twin(_builder.Builder.unset_port)
    set_user = _twin(_builder.Builder.set_user)
    set_workdir = _twin(_builder.Builder.set_workdir)
    add_volume = _twin(_builder.Builder.add_volume)
    remove_volume = _twin(_builder.Builder.remove_volume)
    add_onbuild = _twin(_builder.Builder.add_onbuild)
    set_domainname = _twin(_builder.Builder.set_domainname)
    set_healthcheck = _twin(_builder.Builder.set_healthcheck)
    set_shell = _twin(_builder.Builder.set_shell)
    set_stop_signal = _twin(_builder.Builder.set_stop_signal)
    set_author = _twin(_builder.Builder.set_author)
    set_created_by = _twin(_builder.Builder.set_created_by)

    @_mirror(_builder.Builder.configure)
    async def configure(self, **changes: Any) -> None:
        await _call(None, self.sync.configure, **changes)

    run = _twin(_builder.Builder.run)
    shell = _twin(_builder.Builder.shell)
    diff = _twin(_builder.Builder.diff)
    mount = _twin_context(_builder.Builder.mount)
    mount_root = _twin(_builder.Builder.mount_root)
    unmount = _twin(_builder.Builder.unmount)
    commit = _twin_to(Image, _builder.Builder.commit)
    flush = _twin(_builder.Builder.flush)
    close = _twin(_builder.Builder.close)
    delete = _twin(_builder.Builder.delete)


def _arguments(args: dict[str, Any]) -> dict[str, Any]:
    """A twin's arguments for its synchronous call: faces unwrapped, ``**access`` spread out."""
    fields = {name: _unwrapped(value) for name, value in args.items() if name not in ("self", "cls", "access")}
    fields.update(args.get("access") or {})
    return fields


# The functions ---------------------------------------------------------------------------------------


@overload
async def build(context: PathLike = ".", *, store: Store | _store.Store | None = None, manifest: None = None,
                **options: Unpack[BuildSettings]) -> Image: ...


@overload
async def build(context: PathLike = ".", *, store: Store | _store.Store | None = None, manifest: str,
                **options: Unpack[BuildSettings]) -> Manifest: ...


async def build(context: PathLike = ".", *, store: Store | _store.Store | None = None, manifest: str | None = None,
                **options: Any) -> Image | Manifest:
    """Build a Containerfile (pybuildah.build); ``log=aio.Log()`` streams its lines to ``async for``."""
    sync_build = cast(Callable[..., _image.Image | _manifest.Manifest], _sync_build)
    built = await _call(None, sync_build, context, store=_store_of(store), manifest=manifest, **options)
    return Image.of(built) if isinstance(built, _image.Image) else Manifest.of(built)


async def pull(
    ref: str,
    *,
    store: Store | _store.Store | None = None,
    all_tags: bool = False,
    policy: str = "always",
    platform: str | None = None,
    all_platforms: bool = False,
    progress: ProgressOption = AUTO,
    registry: RegistryOptions | None = None,
    **access: Unpack[RegistryAccess],
) -> Image:
    """Pull ref into the store and return the image (pybuildah.pull)."""
    return Image.of(await _call(None, functools.partial(_registry.pull, **_arguments(locals()))))


async def push(
    image_ref: str,
    dest: str,
    *,
    store: Store | _store.Store | None = None,
    format: str | None = None,
    compression: str | None = None,
    compression_level: int | None = None,
    force_compression: bool | None = None,
    attach: Sequence[str] | None = None,
    progress: ProgressOption = AUTO,
    all: bool = True,
    sign_by: str | None = None,
    sign_by_sigstore_key: PathLike | None = None,
    sign_passphrase: str | bytes | None = None,
    registry: RegistryOptions | None = None,
    **access: Unpack[RegistryAccess],
) -> str:
    """Push an image of the store to dest and return the pushed manifest digest (pybuildah.push)."""
    return await _call(None, functools.partial(_registry.push, **_arguments(locals())))


async def referrers(ref: str, *, artifact_type: str | None = None, store: Store | _store.Store | None = None,
                    registry: RegistryOptions | None = None, **access: Unpack[RegistryAccess]) -> list[Referrer]:
    """The artifacts in the registry that name the image at ref as their subject (pybuildah.referrers)."""
    return await _call(None, functools.partial(_attestations.referrers, **_arguments(locals())))


async def provenance(ref: str, *, store: Store | _store.Store | None = None, registry: RegistryOptions | None = None,
                     **access: Unpack[RegistryAccess]) -> dict[str, Any] | None:
    """The SLSA provenance attached to the image at ref, or None (pybuildah.provenance)."""
    return await _call(None, functools.partial(_attestations.provenance, **_arguments(locals())))


async def login(registry: str, username: str, password: str, *, authfile: PathLike | None = None,
                tls_verify: bool = True, cert_dir: PathLike | None = None,
                store: Store | _store.Store | None = None, timeout: float | None = None) -> None:
    """Check the credentials against the registry, then save them (pybuildah.login)."""
    await _call(None, functools.partial(_registry.login, **_arguments(locals())))


async def logout(registry: str | None = None, *, authfile: PathLike | None = None, all: bool = False,
                 store: Store | _store.Store | None = None) -> bool:
    """Remove the stored credentials for registry (pybuildah.logout)."""
    return await _call(None, functools.partial(_registry.logout, **_arguments(locals())))


async def load(path: PathLike, *, store: Store | _store.Store | None = None,
               progress: ProgressCallback | None = None) -> Image:
    """Load an archive or layout into store and return its image (pybuildah.load)."""
    return Image.of(await _call(None, functools.partial(_store.load, **_arguments(locals()))))


async def images(store: Store | _store.Store | None = None, *, filters: Sequence[str] = ()) -> list[Image]:
    """The images in store, filtered as Store.images (pybuildah.images)."""
    return [Image.of(i) for i in await _call(None, functools.partial(_store.images, **_arguments(locals())))]


async def containers(store: Store | _store.Store | None = None, *,
                     filters: Sequence[str] = ()) -> list[ContainerInfo]:
    """The working containers in store (pybuildah.containers)."""
    return await _call(None, functools.partial(_store.containers, **_arguments(locals())))


async def prune(store: Store | _store.Store | None = None) -> PruneReport:
    """Remove the working containers and dangling images of store (pybuildah.prune)."""
    return await _call(None, functools.partial(_store.prune, **_arguments(locals())))


async def tag(ref: str, names: str | Sequence[str], *, store: Store | _store.Store | None = None) -> list[str]:
    """Add names to an image; returns all its names (pybuildah.tag)."""
    return await _call(None, functools.partial(_store.tag, **_arguments(locals())))


async def remove_image(ref: str, force: bool = False, *,
                       store: Store | _store.Store | None = None) -> list[RemovalReport]:
    """Remove an image, as `buildah rmi` (pybuildah.remove_image)."""
    return await _call(None, functools.partial(_store.remove_image, **_arguments(locals())))


async def default_store() -> Store:
    """The store that calls without ``store=`` use, opened on first use (pybuildah.default_store)."""
    return Store.of(await _call(None, _store.default_store))


async def resolve(store: Store | _store.Store | None) -> Store:
    """Return store, or the default store when it is None (pybuildah.resolve)."""
    return Store.of(await _call(None, functools.partial(_store.resolve, **_arguments(locals()))))


buildah_version = _twin_function(_version.buildah_version)
generate_sigstore_key_pair = _twin_function(_signing.generate_sigstore_key_pair)


FACES: tuple[type[_Face[Any]], ...] = (Builder, Image, Manifest, Store)  # each mirrors one synchronous class
