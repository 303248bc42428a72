"""pybuildah: build OCI and Docker images from Python with Buildah, in process."""

from __future__ import annotations

from . import _ffi
from ._records import ContainerConfig, ContainerInfo, ImageConfig, RemovalReport, RunResult
from ._version import __version__, buildah_version
from .build import build
from .builder import Builder
from .errors import (
    AuthenticationError,
    BuildahError,
    BuildCancelled,
    BuildError,
    ContainerNotFound,
    ContextError,
    EmulationError,
    ForkError,
    ImageInUse,
    ImageNotFound,
    InternalError,
    InvalidArgument,
    InvalidReference,
    InvalidType,
    RegistryError,
    RunError,
    SourceNotFound,
    StoreError,
    TLSError,
)
from .image import Image
from .manifest import Manifest, ManifestEntry, ManifestList
from .options import RegistryOptions
from .progress import ProgressEvent
from .registry import login, logout, pull, push
from .store import Store, containers, default_store, images, load, remove_image, resolve, tag

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
    "EmulationError",
    "ForkError",
    "Image",
    "ImageConfig",
    "ImageInUse",
    "ImageNotFound",
    "InternalError",
    "InvalidArgument",
    "InvalidReference",
    "InvalidType",
    "Manifest",
    "ManifestEntry",
    "ManifestList",
    "ProgressEvent",
    "RegistryError",
    "RegistryOptions",
    "RemovalReport",
    "RunError",
    "RunResult",
    "SourceNotFound",
    "Store",
    "StoreError",
    "TLSError",
    "__version__",
    "build",
    "buildah_version",
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
    "resolve",
    "tag",
]


def init_reexec() -> bool:
    """Start the Go runtime and point re-execs at the helper, as buildah.InitReexec().

    Returns False: the Python process is never a re-exec'd subroutine.
    pybuildah calls this itself on first use; calling it early only moves
    the start-up cost.
    """
    _ffi._load()
    return False
