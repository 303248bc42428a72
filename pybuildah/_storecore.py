"""The open store itself: a Go handle with a life cycle.

Store (store.py) adds the look-ups that return Images and containers; Image
keeps a reference to this part only, which keeps the import graph a tree.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Self

from . import _checks, _ffi, display
from ._checks import PathLike
from .errors import StoreError


class StoreHandle(display.RichRepr):
    """An open containers/storage store: its handle, its paths and its life cycle."""

    def __init__(
        self,
        root: PathLike | None = None,
        runroot: PathLike | None = None,
        driver: str | None = None,
        options: Iterable[str] = (),
        additional_image_stores: Iterable[PathLike] = (),
    ) -> None:
        info: dict[str, Any] = _ffi.call(
            "StoreOpen",
            root=_absolute(root, "root"),
            runroot=_absolute(runroot, "runroot"),
            driver=_checks.optional_text(driver, "driver"),
            options=_checks.strings(list(options) if not isinstance(options, str) else options, "options"),
            additional_image_stores=[_checks.absolute(p, "additional_image_stores") for p in additional_image_stores],
        )
        self._handle: int = info["handle"]
        self.root = Path(info["root"])
        self.runroot = Path(info["runroot"])
        self.driver: str = info["driver"]
        self.config_sources: dict[str, str] = info["config_sources"]
        self._finalizer = weakref.finalize(self, _ffi.release, self._handle)

    @property
    def handle(self) -> int:
        """The Go handle; raises StoreError once the store is closed."""
        if not self._finalizer.alive:
            raise StoreError(f"store {self.root} is closed")
        return self._handle

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def close(self) -> None:
        """Release the store; working containers and images stay on disk."""
        self._finalizer()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "open" if self._finalizer.alive else "closed"
        return f"<pybuildah.Store {state} root={str(self.root)!r} driver={self.driver!r}>"


def _absolute(path: PathLike | None, what: str) -> str | None:
    return _checks.optional_absolute(path, what)
