"""pybuildah: build OCI and Docker images from Python with Buildah, in process."""

from __future__ import annotations

from . import _ffi
from .build import build
from .builder import Builder, ContainerConfig, ContainerInfo, RunResult
from .errors import (
    AuthenticationError,
    BuildahError,
    BuildCancelled,
    BuildError,
    ContainerNotFound,
    ContextError,
    ForkError,
    ImageInUse,
    ImageNotFound,
    InternalError,
    InvalidArgument,
    InvalidReference,
    RegistryError,
    RunError,
    SourceNotFound,
    StoreError,
    TLSError,
)
from .image import Image, ImageConfig
from .progress import ProgressEvent
from .registry import RemovalReport, load, login, logout, pull, push, remove_image
from .store import Store, default_store, resolve

__version__ = "0.1.0"

__all__ = [
    "AuthenticationError",
    "BuildCancelled",
    "BuildError",
    "BuildahError",
    "Builder",
    "ContainerConfig",
    "ContainerInfo",
    "ContainerNotFound",
    "ContextError",
    "ForkError",
    "Image",
    "ImageConfig",
    "ImageInUse",
    "ImageNotFound",
    "InternalError",
    "InvalidArgument",
    "InvalidReference",
    "ProgressEvent",
    "RegistryError",
    "RemovalReport",
    "RunError",
    "RunResult",
    "SourceNotFound",
    "Store",
    "StoreError",
    "TLSError",
    "build",
    "containers",
    "default_store",
    "images",
    "init_reexec",
    "load",
    "login",
    "logout",
    "pull",
    "push",
    "remove_image",
]


def init_reexec() -> bool:
    """Start the Go runtime and point re-execs at the helper, as buildah.InitReexec().

    Returns False: the Python process is never a re-exec'd subroutine.
    pybuildah calls this itself on first use; calling it early only moves
    the start-up cost.
    """
    _ffi._load()
    return False


def containers(store: Store | None = None) -> list[ContainerInfo]:
    """The working containers in store (default: the default store)."""
    return resolve(store).containers()


def images(store: Store | None = None) -> list[Image]:
    """The images in store (default: the default store)."""
    return resolve(store).images()
