"""The open store itself: a Go handle with a life cycle.

Store (store.py) adds the look-ups that return Images and containers; Image
keeps a reference to this part only, which keeps the import graph a tree.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Self

from . import _api, _checks, _ffi, display
from ._checks import PathLike
from .errors import StoreError
from .options import signature_policy_wire


class LiveHandle:
    """An object that stands for live state in this process (a Go handle, a store's lock).

    It cannot be pickled: a copy in another process would hold a handle
    that means nothing there, so pickling raises TypeError, saying what to
    send instead.  copy.copy and copy.deepcopy give the object itself: a
    second Python object on one handle would make closing either one close
    both, so a copy is the same thing, as for a module or a class.
    """

    _REOPEN = "its name, and open it again there"

    def __reduce_ex__(self, protocol: object) -> Any:
        raise TypeError(f"cannot pickle a pybuildah.{type(self).__name__}: it is a handle on state in this "
                        f"process; pickle {self._REOPEN}")

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: object) -> Self:
        return self


class StoreHandle(LiveHandle, display.RichRepr):
    """An open containers/storage store: its handle, its paths and its life cycle.

    Opening waits while another process holds the store's lock; Ctrl-C stops the wait.
    signature_policy (a policy.json path, or the policy as a dict) replaces
    the host's policy for every pull and build through this store, as
    buildah's --signature-policy does for one command.
    """

    _REOPEN = "its root (and driver) and open Store(root=...) again there"

    def __init__(
        self,
        root: PathLike | None = None,
        runroot: PathLike | None = None,
        driver: str | None = None,
        options: Iterable[str] = (),
        additional_image_stores: Iterable[PathLike] = (),
        signature_policy: PathLike | Mapping[str, Any] | None = None,
    ) -> None:
        # Cancellable: opening waits while another process holds the store's lock.
        info = _api.store_open(
            root=_absolute(root, "root"),
            runroot=_absolute(runroot, "runroot"),
            driver=_checks.optional_text(driver, "driver"),
            options=_checks.strings(list(options) if not isinstance(options, str) else options, "options"),
            additional_image_stores=[_checks.absolute(p, "additional_image_stores") for p in additional_image_stores],
            signature_policy=signature_policy_wire(signature_policy),
        )
        self._handle: int = info["handle"]
        self.root = Path(info["root"])
        self.runroot = Path(info["runroot"])
        self.driver: str = info["driver"]
        self.config_sources: dict[str, str] = info["config_sources"]
        # This process's scratch directory, which the next process's store open clears after a crash.
        self._scratch: str | None = info.get("scratch") or None
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
