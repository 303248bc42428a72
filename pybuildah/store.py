"""Stores: the containers/storage directories where images and working containers live."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from . import _ffi
from .errors import StoreError

if TYPE_CHECKING:
    from .builder import ContainerInfo
    from .image import Image

PathLike = str | os.PathLike[str]

# Transports whose references name images outside the store.
_TRANSPORTS = ("oci-archive", "oci", "docker-archive", "dir", "docker")


class Store:
    """An open containers/storage store.

    With no arguments the host's storage.conf (or Buildah's defaults, as root
    /var/lib/containers/storage) applies, so images are shared with buildah
    and podman on the same host.
    """

    def __init__(
        self,
        root: PathLike | None = None,
        runroot: PathLike | None = None,
        driver: str | None = None,
        options: Iterable[str] = (),
        additional_image_stores: Iterable[PathLike] = (),
    ) -> None:
        info = _ffi.call(
            "StoreOpen",
            root=_absolute(root),
            runroot=_absolute(runroot),
            driver=driver or "",
            options=list(options),
            additional_image_stores=[_absolute(p) for p in additional_image_stores],
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

    def close(self) -> None:
        """Release the store; working containers and images stay on disk."""
        self._finalizer()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "open" if self._finalizer.alive else "closed"
        return f"<pybuildah.Store {state} root={str(self.root)!r} driver={self.driver!r}>"

    def image(self, ref: str, *, tls_verify: bool = True, cert_dir: PathLike | None = None,
              authfile: PathLike | None = None, creds: str | tuple[str, str] | None = None) -> Image:
        """Look an image up by ID, name or transport reference; raises ImageNotFound.

        A docker:// reference is inspected in its registry, with the given
        TLS and credential options (see pybuildah.pull).
        """
        from .image import Image
        from .registry import registry_options, sync_env

        external = ":" in ref.split("/", 1)[0] and ref.split(":", 1)[0] in _TRANSPORTS
        if not external:
            return Image._from_info(self, _ffi.call("InspectImage", store=self.handle, ref=ref))
        options = registry_options(tls_verify=tls_verify, cert_dir=cert_dir, authfile=authfile, creds=creds)
        sync_env()
        info = _ffi.call("InspectImage", store=self.handle, ref=ref, **options)
        access = {key: options[key] for key in ("tls_verify", "cert_dir", "authfile")}  # never the credentials
        return Image._from_info(self, {**info, "access": access}, reference=ref)

    def images(self) -> list[Image]:
        """All images in the store."""
        from .image import Image

        return [Image._from_info(self, info) for info in _ffi.call("ListImages", store=self.handle) or []]

    def containers(self) -> list[ContainerInfo]:
        """The working containers in the store."""
        from .builder import ContainerInfo

        return [ContainerInfo._from_info(info) for info in _ffi.call("ListContainers", store=self.handle) or []]


def _absolute(path: PathLike | None) -> str:
    return "" if path is None else str(Path(path).absolute())


_default: Store | None = None
_default_lock = threading.Lock()


def default_store() -> Store:
    """The store that calls without ``store=`` use, opened on first use."""
    global _default
    with _default_lock:
        if _default is None or not _default._finalizer.alive:
            _default = Store()
        return _default


def resolve(store: Store | None) -> Store:
    """Return store, or the default store when it is None."""
    return default_store() if store is None else store

