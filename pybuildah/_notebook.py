"""Where progress and build logs go when the caller said nothing: Jupyter, a terminal, or a pipe.

The defaults are chosen here, and only here:

- progress: calls that copy images (pull, push, Image.push, Builder.commit)
  take ``progress="auto"`` by default, which progress_callback() turns into
  default_progress(): tqdm bars (tqdm.auto: widgets in Jupyter, text on a
  terminal) when tqdm is installed (``pybuildah[notebook]``) and the output
  is interactive (stderr is a TTY, or we run inside a Jupyter kernel);
  otherwise a callback that logs each blob to the "pybuildah.progress"
  logger.  An explicit ``progress=None`` still means "no callback", and
  PYBUILDAH_PROGRESS=off turns the default off everywhere.
- build logs: with ``log=None``, build_output() prints the lines to the
  cell (sys.stdout) inside a Jupyter kernel, and hands them to the
  "pybuildah.build" logger elsewhere; a step bar shows where the build is,
  under the same conditions as the progress bars.

tqdm is imported only when a bar is made, and IPython never: detecting a
kernel only looks at sys.modules.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from .errors import InvalidType
from .progress import AUTO, ProgressCallback, ProgressEvent, ProgressOption

PROGRESS_LOGGER = logging.getLogger("pybuildah.progress")
OFF_VALUES = ("0", "off", "no", "false", "none")


def in_kernel() -> bool:
    """Whether this process is a Jupyter kernel (ipykernel) now; imports nothing."""
    if "ipykernel" not in sys.modules:
        return False
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    if get_ipython is None:
        return False
    try:
        shell = get_ipython()
    except Exception:
        return False
    return shell is not None and getattr(shell, "kernel", None) is not None


def interactive() -> bool:
    """Whether progress bars may be drawn: inside a Jupyter kernel, or stderr is a terminal."""
    if in_kernel():
        return True
    stream = sys.stderr
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


def progress_enabled() -> bool:
    """False when PYBUILDAH_PROGRESS turns the default progress off."""
    return os.environ.get("PYBUILDAH_PROGRESS", "auto").strip().lower() not in OFF_VALUES


def _tqdm_class() -> Any:
    """tqdm.auto's tqdm when it is installed and bars may be drawn, else None."""
    if not (progress_enabled() and interactive()):
        return None
    try:
        if importlib.util.find_spec("tqdm") is None:
            return None
        return importlib.import_module("tqdm.auto").tqdm
    except Exception:  # a broken tqdm must not break a pull
        return None


class BlobBars:
    """One aggregate bar for one copy.

    It counts bytes (all blobs of known size) when Go reports sizes, as pull
    and push do, and blobs done out of blobs seen when it does not (commit).
    """

    def __init__(self, tqdm_class: Any, what: str) -> None:
        self._lock = threading.Lock()
        self._sizes: dict[str, int] = {}
        self._offsets: dict[str, int] = {}
        self._done: set[str] = set()
        self._total: int | None = None
        self._bar = tqdm_class(total=None, desc=what, unit="blob", leave=True, dynamic_ncols=True)

    def __call__(self, event: ProgressEvent) -> None:
        with self._lock:
            digest = event.digest
            if event.size > 0:
                self._sizes[digest] = event.size
            self._offsets.setdefault(digest, 0)
            if event.event == "read":
                self._offsets[digest] = event.offset
            elif event.event in ("done", "skipped"):
                self._done.add(digest)
                self._offsets[digest] = self._sizes.get(digest, event.offset)
            bar = self._bar
            if self._sizes:  # bytes
                total, done = sum(self._sizes.values()), sum(self._offsets.values())
                bar.unit, bar.unit_scale, bar.unit_divisor = "B", True, 1024
                bar.set_postfix_str(f"{len(self._done)}/{len(self._offsets)} blobs", refresh=False)
            else:  # blobs
                total, done = len(self._offsets), len(self._done)
            if total != self._total:
                self._total = total
                bar.reset(total=total)
            bar.n = done
            bar.refresh()

    def close(self) -> None:
        with self._lock:
            self._bar.close()


class LoggedProgress:
    """The fallback without bars: one "pybuildah.progress" log record when a blob starts and ends."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __call__(self, event: ProgressEvent) -> None:
        if event.event in ("new", "done", "skipped"):
            size = f" ({event.size} bytes)" if event.size >= 0 else ""
            PROGRESS_LOGGER.info("%s: %s %s %s%s", self.what, event.kind, event.digest, event.event, size)

    def close(self) -> None:
        pass


def default_progress(what: str = "copy") -> BlobBars | LoggedProgress | None:
    """The progress callback used when the caller passed none: bars, log records, or None (turned off)."""
    if not progress_enabled():
        return None
    tqdm_class = _tqdm_class()
    if tqdm_class is not None:
        try:
            return BlobBars(tqdm_class, what)
        except Exception:  # e.g. a notebook front end that cannot show widgets
            pass
    return LoggedProgress(what)


@contextmanager
def progress_callback(progress: ProgressOption, what: str) -> Iterator[ProgressCallback | None]:
    """Resolve a ``progress`` argument: "auto" gives default_progress(), closed when the block ends."""
    if progress is None or callable(progress):
        yield progress
        return
    if progress != AUTO:
        raise InvalidType(f"progress must be a callable, None or \"auto\", not {progress!r}")
    default = default_progress(what)
    try:
        yield default
    finally:
        if default is not None:
            default.close()


class StepBar:
    """A bar over the steps of the current stage of a build, driven by its STEP lines."""

    STEP = re.compile(r"^(?:\[(\d+)/(\d+)\] )?STEP (\d+)/(\d+): ")

    def __init__(self, tqdm_class: Any) -> None:
        self._lock = threading.Lock()
        self._desc = "build"
        self._bar = tqdm_class(total=None, desc=self._desc, unit="step", leave=True, dynamic_ncols=True)

    def line(self, text: str) -> None:
        match = self.STEP.match(text)
        with self._lock:
            if match is None:
                if text.startswith(("COMMIT", "--> ")) and self._bar.total:
                    self._bar.n = self._bar.total  # the stage is complete
                    self._bar.refresh()
                return
            stage, stages, step, steps = match.groups()
            desc = f"build [{stage}/{stages}]" if stage else "build"
            if desc != self._desc or self._bar.total != int(steps):
                self._desc = desc
                self._bar.reset(total=int(steps))
                self._bar.set_description(desc, refresh=False)
            self._bar.n = int(step) - 1
            self._bar.set_postfix_str(text.split(": ", 1)[1][:40], refresh=False)
            self._bar.refresh()

    def close(self) -> None:
        with self._lock:
            self._bar.close()


def _step_bar() -> StepBar | None:
    tqdm_class = _tqdm_class()
    if tqdm_class is None:
        return None
    try:
        return StepBar(tqdm_class)
    except Exception:
        return None


def _redirect_logging(bar: StepBar | None, logger: logging.Logger) -> AbstractContextManager[Any]:
    """On a terminal, route console log handlers through tqdm.write so lines do not cut the bar."""
    if bar is None:
        return nullcontext()
    try:
        contrib = importlib.import_module("tqdm.contrib.logging")
        manager: AbstractContextManager[Any] = contrib.logging_redirect_tqdm(
            loggers=[logging.root, logging.getLogger("pybuildah"), logger])
        return manager
    except Exception:
        return nullcontext()


@contextmanager
def build_output(sink: Callable[[str], Any], default: bool, logger: logging.Logger) -> Iterator[Callable[[str], Any]]:
    """The function that receives a build's log lines.

    ``sink`` is the caller's (or, when ``default``, the logger's); with
    default, inside a Jupyter kernel the lines are printed to the cell
    instead, and a step bar shows when bars may be drawn.
    """
    if not default:
        yield sink
        return
    kernel = in_kernel()
    stdout = sys.stdout  # in a kernel, ipykernel routes it to the running cell, from Go's threads too

    def to_cell(line: str) -> None:
        stdout.write(line + "\n")

    write = to_cell if kernel else sink
    bar = _step_bar() if progress_enabled() else None

    def out(line: str) -> None:
        write(line)
        if bar is not None:
            bar.line(line)

    try:
        with nullcontext() if kernel else _redirect_logging(bar, logger):
            yield out
    finally:
        if bar is not None:
            bar.close()
        if kernel:
            stdout.flush()
