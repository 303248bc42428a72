"""Stores: the containers/storage directories where images and working containers live.

Store is the hub of the local side: it looks images and containers up, and
tags, loads and removes images.  The module-level functions do the same on
the default store (or on ``store=``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Unpack

from . import _api, _checks, _ffi, _transfer
from ._checks import PathLike
from ._records import ContainerInfo, PruneReport, RemovalReport, from_wire
from ._storecore import StoreHandle
from .errors import BuildahError, ImageNotFound, InvalidType
from .image import Image
from .options import RegistryAccess, RegistryOptions, registry_options
from .progress import ProgressCallback, handler

# Transports whose references name images outside the store.
_TRANSPORTS = ("oci-archive", "oci", "docker-archive", "dir", "docker")


class Store(StoreHandle):
    """An open containers/storage store.

    With no arguments the host's storage.conf (or Buildah's defaults, as root
    /var/lib/containers/storage) applies, so images are shared with buildah
    and podman on the same host.  Use it as a context manager, or close() it.
    """

    def image(self, ref: str, *, registry: RegistryOptions | None = None,
              **access: Unpack[RegistryAccess]) -> Image:
        """Look an image up by ID, name or transport reference; raises ImageNotFound.

        A docker:// reference is inspected in its registry, with the given
        registry options (see pybuildah.pull).
        """
        _checks.text(ref, "ref")
        external = ":" in ref.split("/", 1)[0] and ref.split(":", 1)[0] in _TRANSPORTS
        if not external:
            return Image(self, _api.inspect_image(store=self.handle, ref=ref))
        options = registry_options(registry, access)
        with _transfer.registry_access(options) as (wire, _):
            info = _api.inspect_image(store=self.handle, ref=ref, **wire)
        return Image(self, info, reference=ref, registry=options)

    def exists(self, ref: str) -> bool:
        """Whether the store holds an image with this ID or name (like buildah inspect, without raising).

        A malformed reference still raises InvalidReference.
        """
        try:
            self.image(_checks.text(ref, "ref"))
        except ImageNotFound:
            return False
        return True

    def images(self, filters: Sequence[str] = ()) -> list[Image]:
        """The images in the store: all, or those that pass every filter.

        filters are ``buildah images --filter``'s, each "key=value" or
        "key!=value": dangling, reference (a pattern such as
        "localhost/app*"), label ("k" or "k=v"), before, since (an image),
        until (a time or a duration), id, digest, intermediate, readonly,
        containers, manifest.  An unknown key raises InvalidArgument.  Ctrl-C
        stops a wait for the store's lock held by another process.
        """
        wanted = _checks.strings(filters, "filters")
        return [Image(self, info) for info in _api.list_images(store=self.handle, filters=wanted)]

    def containers(self, filters: Sequence[str] = ()) -> list[ContainerInfo]:
        """The working containers in the store: all, or those that pass every filter.

        filters are ``buildah containers --filter``'s: "id=PREFIX",
        "name=PART" and "ancestor=IMAGE" (an image ID prefix, or a name with
        an optional tag).  An unknown key raises InvalidArgument.
        """
        wanted = _checks.strings(filters, "filters")
        return [from_wire(ContainerInfo, info)
                for info in _api.list_containers(store=self.handle, filters=wanted)]

    def prune(self) -> PruneReport:
        """Remove every working container, then every dangling image (``buildah rm --all`` and ``buildah rmi --prune``).

        Named images stay.  Builders still open on a removed container raise
        ContainerNotFound from then on.
        """
        return from_wire(PruneReport, _api.prune(store=self.handle))

    def load(self, path: PathLike, *, progress: ProgressCallback | None = None) -> Image:
        """Load an oci-archive or docker-archive file (or an oci / dir layout) and return its image."""
        source = _checks.absolute(path, "path")
        with _ffi.events(handler(progress)) as stream:
            loaded = _api.load_image(store=self.handle, path=_checks.wire_path(source), stream=stream)
        if not loaded:
            raise BuildahError(f"{source} holds no image")
        return Image(self, loaded[0])

    def tag(self, ref: str, names: str | Sequence[str]) -> list[str]:
        """Add names to an image; returns all its names."""
        wanted = [names] if isinstance(names, str) else _checks.strings(names, "names")
        return _api.tag_image(store=self.handle, ref=_checks.text(ref, "ref"), names=wanted)

    def remove_image(self, ref: str, force: bool = False) -> list[RemovalReport]:
        """Remove an image, as `buildah rmi`.

        Naming one of several names only removes that name.  An image with
        several names cannot be removed by ID, nor one that working containers
        use, without force (ImageInUse); force also deletes those containers.
        """
        reports = _api.remove_image(store=self.handle, ref=_checks.text(ref, "ref"), force=_checks.flag(force, "force"))
        return [from_wire(RemovalReport, report) for report in reports]


_default: Store | None = None
_default_lock = threading.Lock()


def default_store() -> Store:
    """The store that calls without ``store=`` use, opened on first use."""
    global _default
    with _default_lock:
        if _default is None or _default.closed:
            _default = Store()
        return _default


def resolve(store: Store | None) -> Store:
    """Return store, or the default store when it is None."""
    if store is None:
        return default_store()
    if not isinstance(store, Store):
        raise InvalidType(f"store must be a pybuildah.Store, not {type(store).__name__}")
    return store


def images(store: Store | None = None, *, filters: Sequence[str] = ()) -> list[Image]:
    """The images in store (default: the default store), filtered as Store.images."""
    return resolve(store).images(filters)


def containers(store: Store | None = None, *, filters: Sequence[str] = ()) -> list[ContainerInfo]:
    """The working containers in store (default: the default store), filtered as Store.containers."""
    return resolve(store).containers(filters)


def prune(store: Store | None = None) -> PruneReport:
    """Remove the working containers and dangling images of store (see Store.prune)."""
    return resolve(store).prune()


def load(path: PathLike, *, store: Store | None = None, progress: ProgressCallback | None = None) -> Image:
    """Load an oci-archive or docker-archive file (or an oci / dir layout) into store and return its image."""
    return resolve(store).load(path, progress=progress)


def tag(ref: str, names: str | Sequence[str], *, store: Store | None = None) -> list[str]:
    """Add names to an image; returns all its names."""
    return resolve(store).tag(ref, names)


def remove_image(ref: str, force: bool = False, *, store: Store | None = None) -> list[RemovalReport]:
    """Remove an image, as `buildah rmi` (see Store.remove_image)."""
    return resolve(store).remove_image(ref, force)
