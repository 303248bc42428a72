"""The one module that talks to the Go shim.

It owns the C declarations, loading the shared library, calling exports,
translating error envelopes into exceptions, and freeing every string Go
returns.  Everything else in pybuildah works with plain Python values.

Every export has the same shape: ``char *PyBuildahX(char *options_json)``.
The returned envelope is ``{"ok": value}`` or ``{"error": {...}}``.
"""

from __future__ import annotations

import contextvars
import fcntl
import itertools
import json
import logging
import os
import re
import select
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from . import errors
from ._cdef import CDEF, MODULE
from ._cdef import EXPORTS as EXPORTS  # the exports, declared in one place with the C declarations

if TYPE_CHECKING:
    from _cffi_backend import FFI

NATIVE_DIR = Path(__file__).resolve().parent / "_native"
LIBRARY_PATH = Path(os.environ.get("PYBUILDAH_LIBRARY", NATIVE_DIR / "libpybuildah.so"))
HELPER_PATH = Path(os.environ.get("PYBUILDAH_HELPER", NATIVE_DIR / "pybuildah-helper"))
LIGHT_HELPER_PATH = Path(os.environ.get("PYBUILDAH_LIGHT_HELPER", NATIVE_DIR / "pybuildah-light-helper"))
# cffi's types for CDEF, made at build time (out-of-line ABI mode): loading them parses no C
TYPES_PATH = NATIVE_DIR / f"{MODULE}.py"

EventHandler = Callable[[str, Any], None]

_lock = threading.Lock()
_lib: Any = None
_loaded_pid: int | None = None
_handlers: dict[int, EventHandler] = {}
_stream_ids = itertools.count(1)
_call_ids = itertools.count(1)

LOGGER = logging.getLogger("pybuildah")
# A library's records go where the application's logging config sends them, and nowhere when it
# has none: without this, Python's last-resort handler would print warnings (registry retries) to stderr.
LOGGER.addHandler(logging.NullHandler())
_LOG_STREAM = next(_stream_ids)
_LOG_LEVELS = {"trace": logging.DEBUG, "debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
               "error": logging.ERROR, "fatal": logging.CRITICAL, "panic": logging.CRITICAL}
_LOG_LINE = re.compile(r"level=(\w+) msg=(.*)")


def _forward_log(kind: str, line: Any) -> None:
    """Send one of Buildah's logrus lines to the "pybuildah" logger."""
    match = _LOG_LINE.match(str(line))
    level, message = (match.group(1), match.group(2)) if match else ("info", str(line))
    LOGGER.log(_LOG_LEVELS.get(level, logging.INFO), "%s", message)


_handlers[_LOG_STREAM] = _forward_log


_ffi: FFI | None = None  # set by _load, before the library's first call
_event_sink: Any = None  # the C callback Go calls; kept here so that it lives as long as the library


def _dispatch_event(stream: int, kind: Any, payload: Any) -> None:
    # Runs on a Go thread; cffi takes the GIL for us.  Never raise into Go.
    handler = _handlers.get(stream)
    if handler is None or _ffi is None:
        return
    with suppress(Exception):
        handler(cast(bytes, _ffi.string(kind)).decode(), json.loads(cast(bytes, _ffi.string(payload))))


def _types() -> FFI:
    """cffi's FFI for CDEF, from the module go/build.py generated (it must match this tree's CDEF)."""
    from ._native import _ffi_types  # generated at build time; absence is reported before this import

    if getattr(_ffi_types, "CDEF", None) != CDEF:
        raise errors.BuildahError(
            f"pybuildah's native parts are out of date ({TYPES_PATH.name} in {NATIVE_DIR} declares other exports); "
            "reinstall pybuildah with `pip install .`"
        )
    return _ffi_types.ffi


_forked_while_loading = False


def _after_fork_in_child() -> None:
    """A fork copies _lock as it was: held, if another thread was loading the library.

    The child gets a fresh lock (waiting on the copy would hang forever) and,
    if a load was under way, remembers it: the library is half set up in the
    child and unusable, so calls raise ForkError.
    """
    global _lock, _forked_while_loading
    if _lock.locked():
        _forked_while_loading = True
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _fork_error() -> errors.ForkError:
    return errors.ForkError(
        "pybuildah was loaded (or being loaded) before os.fork(); the Go runtime does not survive fork. "
        "Use pybuildah only in the parent, or start children with the 'spawn' method."
    )


def _load() -> Any:
    """Load the library once per process and point re-execs at the helper."""
    global _lib, _loaded_pid, _ffi, _event_sink
    if _lib is not None and _loaded_pid == os.getpid():
        return _lib
    if _forked_while_loading:
        raise _fork_error()
    with _lock:
        if _loaded_pid is not None and _loaded_pid != os.getpid():
            raise _fork_error()
        if _lib is None:
            missing = [p.name for p in (LIBRARY_PATH, HELPER_PATH, LIGHT_HELPER_PATH, TYPES_PATH) if not p.exists()]
            if missing:
                raise errors.BuildahError(
                    f"pybuildah's native parts are missing ({', '.join(missing)} in {NATIVE_DIR}); "
                    "reinstall pybuildah with `pip install .`"
                )
            ffi = _types()
            if _event_sink is None:
                _event_sink = ffi.callback("pybuildah_event_fn", _dispatch_event)
            _ffi = ffi
            lib: Any = ffi.dlopen(str(LIBRARY_PATH))
            _loaded_pid = os.getpid()  # the Go runtime is running from here on
            lib.PyBuildahSetEventSink(_event_sink)
            init_reexec(lib, helper=str(HELPER_PATH), light_helper=str(LIGHT_HELPER_PATH), log_stream=_LOG_STREAM,
                        log_level=os.environ.get("PYBUILDAH_LOG_LEVEL", "info"))
            _lib = lib  # only once initialised: a failed InitReexec is retried, never skipped
    return _lib


def init_reexec(lib: Any, /, *, helper: str, light_helper: str, log_stream: int, log_level: str) -> bool:
    """Point re-execs at the helpers and Buildah's log at log_stream (InitReexec, while loading)."""
    return bool(_invoke(lib, "InitReexec", {"helper": helper, "light_helper": light_helper,
                                            "log_stream": log_stream, "log_level": log_level}))


def is_loaded() -> bool:
    """Whether the Go runtime has been started in this process."""
    return _lib is not None


def call(export: str, **options: Any) -> Any:
    """Call ``PyBuildah<export>`` with options as JSON and return its result.

    The GIL is released while Go runs (cffi does this for every call).
    """
    if _forked_while_loading:
        raise _fork_error()
    if _loaded_pid is not None and _loaded_pid != os.getpid():
        raise errors.ForkError(
            "pybuildah cannot be used in a child created by os.fork() after the Go runtime started; "
            "use the 'spawn' start method or call pybuildah only in the parent"
        )
    return _invoke(_lib if _lib is not None else _load(), export, options)


def _invoke(lib: Any, export: str, options: dict[str, Any]) -> Any:
    """Send options to one export and unpack its envelope, freeing what Go returned."""
    request = json.dumps(options).encode()
    raw = getattr(lib, "PyBuildah" + export)(request)
    try:
        envelope = json.loads(cast("FFI", _ffi).string(raw))
    finally:
        lib.PyBuildahFree(raw)
    error = envelope.get("error")
    if error:
        raise errors.from_wire(error)
    return envelope.get("ok")


def call_cancellable(export: str, *, should_cancel: Callable[[], bool] | None = None, **options: Any) -> Any:
    """Call a long-running export so that the caller can interrupt it.

    The export gets a ``call_id``.  In the main thread (where Python delivers
    signals) the Go call runs in a worker thread while this thread waits in
    short, interruptible steps; an exception raised while waiting
    (KeyboardInterrupt from Ctrl-C, or whatever a signal handler raises)
    cancels the call in Go (its context is cancelled and the processes it
    started are killed), waits until Go has stopped and cleaned up, and is
    then re-raised.  ``should_cancel``, polled while waiting, cancels the
    call too (a failing log sink); with it the worker is used in any thread.
    Elsewhere the call runs directly: other threads get no signals.  Under a
    CancelScope (a pybuildah.aio call's thread), the scope's cancel() cancels
    it by its id, the same way.
    """
    call_id = next(_call_ids)
    scope = _SCOPE.get()
    if scope is None:
        return _wait_for(export, call_id, should_cancel, options)
    scope._enter(call_id)
    try:
        return _wait_for(export, call_id, should_cancel, options)
    finally:
        scope._leave(call_id)


def _wait_for(export: str, call_id: int, should_cancel: Callable[[], bool] | None, options: dict[str, Any]) -> Any:
    """call_cancellable's body: the call, in this thread or (main thread, should_cancel) in a worker."""
    if should_cancel is None and threading.current_thread() is not threading.main_thread():
        return call(export, call_id=call_id, **options)
    outcome: dict[str, Any] = {}
    # The worker says it is done by writing to a pipe, which this thread polls.
    # Not Thread.join (on Python 3.11 an interrupted join() can mark a running
    # thread as stopped) and not an Event: a signal landing inside
    # Condition.wait can leave its lock released, so the exception becomes
    # "RuntimeError: release unlocked lock", or the worker's set() hangs.
    read_end, write_end = os.pipe()

    def work() -> None:
        try:
            outcome["ok"] = call(export, call_id=call_id, **options)
        except BaseException as exc:  # re-raised in the caller's thread below
            outcome["error"] = exc
        finally:
            with suppress(OSError):  # the caller stopped waiting: nobody reads
                os.write(write_end, b"\0")
            os.close(write_end)  # the worker owns the write end, so no stale number is written to

    interrupted: BaseException | None = None
    cancelled = False
    worker = threading.Thread(target=work, name=f"pybuildah-{export}-{call_id}", daemon=True)
    try:
        try:
            worker.start()
        except BaseException as exc:  # the thread could not start, or a signal came while it did
            if worker.ident is None:
                os.close(write_end)
                raise
            interrupted, cancelled = exc, cancel(call_id=call_id)
        waiter = select.poll()
        waiter.register(read_end, select.POLLIN)
        done = False
        while not done:
            try:
                done = bool(waiter.poll(50))
                if not done and not cancelled and should_cancel is not None and should_cancel():
                    cancelled = cancel(call_id=call_id)
            except BaseException as exc:  # KeyboardInterrupt, SystemExit from a handler, ...
                if interrupted is None:
                    interrupted = exc
                if not cancelled:
                    cancelled = cancel(call_id=call_id)
    finally:
        os.close(read_end)
    if interrupted is not None:
        raise interrupted
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("ok")


class CancelScope:
    """Cancels every cancellable call made under it, once cancel() is called (pybuildah.aio's tasks).

    A thread enters the scope (``with scope.entered():``) and runs a blocking
    call; another thread (an event loop's) calls cancel().  Each running
    call is then cancelled by its id through the Cancel export, as Ctrl-C
    does, and each later one as it begins (Go keeps a cancel that arrives
    before its call).  Calls that are not cancellable run to their end.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: set[int] = set()
        self.cancelled = False

    @contextmanager
    def entered(self) -> Iterator[CancelScope]:
        token = _SCOPE.set(self)
        try:
            yield self
        finally:
            _SCOPE.reset(token)

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            for call_id in sorted(self._calls):
                cancel(call_id=call_id)

    def _enter(self, call_id: int) -> None:
        with self._lock:
            self._calls.add(call_id)
            if self.cancelled:
                cancel(call_id=call_id)

    def _leave(self, call_id: int) -> None:
        with self._lock:
            self._calls.discard(call_id)


_SCOPE: contextvars.ContextVar[CancelScope | None] = contextvars.ContextVar("pybuildah_cancel_scope", default=None)


def cancel_requested() -> bool:
    """Whether this thread's CancelScope was cancelled (for waits that are not Go calls)."""
    scope = _SCOPE.get()
    return scope is not None and scope.cancelled


def cancel(*, call_id: int) -> bool:
    """Cancel a running call (Cancel); true once asked, whether or not it was still running."""
    call("Cancel", call_id=call_id)
    return True


def release(handle: int) -> None:
    """Release a Go handle; safe to call at interpreter exit or after fork."""
    if _lib is None or _loaded_pid != os.getpid() or not handle:
        return
    with suppress(errors.BuildahError):
        release_handle(handle=handle)


def release_handle(*, handle: int) -> None:
    """Release a Go handle now (ReleaseHandle); release() is the safe form for finalizers."""
    call("ReleaseHandle", handle=handle)


class BinaryStream(Protocol):
    """What run(input=) streams from: anything with read(n) returning bytes."""

    def read(self, size: int = -1, /) -> bytes: ...


INPUT_CHUNK = 1 << 20


@contextmanager
def data_fd(data: bytes | BinaryStream | None) -> Iterator[int | None]:
    """A file descriptor that Go reads during the call, from its current offset (None: no input).

    bytes go into a memfd (large inputs skip base64 and JSON).  A regular
    file is reopened (its own offset, from the file's current position, the
    caller's position untouched).  Any other binary stream (a pipe, a socket,
    io.BytesIO) is pumped by a thread into a pipe that Go reads as it goes, so
    nothing is held in memory whole.  Go reads through a duplicate.
    """
    if data is None:
        yield None
        return
    if isinstance(data, (bytes, bytearray, memoryview)):
        fd = os.memfd_create("pybuildah-input", os.MFD_CLOEXEC)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.lseek(fd, 0, os.SEEK_SET)
            yield fd
        finally:
            os.close(fd)
        return
    regular = _regular_file(data)
    if regular is not None:
        try:
            yield regular
        finally:
            os.close(regular)
        return
    with _pumped(data) as fd:
        yield fd


def _regular_file(data: BinaryStream) -> int | None:
    """A new descriptor of a file object's regular file at its current position, or None."""
    fileno = getattr(data, "fileno", None)
    tell = getattr(data, "tell", None)
    if not (callable(fileno) and callable(tell)):
        return None
    try:
        fd = int(fileno())
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        position = int(tell())
    except (OSError, ValueError):  # io.UnsupportedOperation is both
        return None
    own = os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_CLOEXEC)
    os.lseek(own, position, os.SEEK_SET)
    return own


@contextmanager
def _pumped(data: BinaryStream) -> Iterator[int]:
    """The read end of a pipe that a thread fills from data until its end (or until nobody reads)."""
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    with suppress(OSError):  # fewer, larger hand-overs (the limit is /proc/sys/fs/pipe-max-size)
        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, INPUT_CHUNK)
    failures: list[BaseException] = []

    def pump() -> None:
        try:
            # readinto1: one read of the source at most, so what a slow writer sends goes on at once
            readinto = getattr(data, "readinto1", None) or getattr(data, "readinto", None)
            buffer = bytearray(INPUT_CHUNK)
            while True:
                if callable(readinto):
                    n = readinto(buffer)
                    chunk = memoryview(buffer)[:n or 0]
                else:
                    chunk = memoryview(data.read(INPUT_CHUNK))
                if not chunk:
                    return
                while chunk:
                    chunk = chunk[os.write(write_end, chunk):]
        except BrokenPipeError:  # the command (and Go) stopped reading, as with subprocess
            pass
        except TypeError as exc:  # read() gave str: a text-mode stream
            failures.append(errors.InvalidType(f"input must be a binary stream: {exc}"))
        except BaseException as exc:
            failures.append(exc)
        finally:
            os.close(write_end)

    thread = threading.Thread(target=pump, name="pybuildah-input", daemon=True)
    thread.start()
    try:
        yield read_end
    finally:
        os.close(read_end)  # a pump blocked on a full pipe gets EPIPE and ends
        thread.join(0.2)  # one blocked reading a stalled source ends when that read returns
    if failures:
        raise failures[0]


@contextmanager
def events(handler: EventHandler | None) -> Iterator[int]:
    """Register handler for one call's events; yields the stream number (0 = none).

    An exception raised by the handler (on a Go thread) is re-raised here once
    the call has returned.
    """
    if handler is None:
        yield 0
        return
    failures: list[BaseException] = []

    def guarded(kind: str, payload: Any) -> None:
        if failures:
            return
        try:
            handler(kind, payload)
        except BaseException as exc:  # re-raised in the caller's thread below
            failures.append(exc)

    stream = next(_stream_ids)
    _handlers[stream] = guarded
    try:
        yield stream
    finally:
        _handlers.pop(stream, None)
    if failures:
        raise failures[0]
