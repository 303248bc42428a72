"""pybuildah: build OCI and Docker images from Python with Buildah, in process."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _userns, _version
from ._records import (
    Change,
    ContainerConfig,
    ContainerInfo,
    ImageConfig,
    PruneReport,
    RemovalReport,
    RunResult,
    StepRecord,
    StepReport,
)
from ._version import buildah_version
from .attestations import Referrer, provenance, referrers
from .build import build
from .builder import Builder
from .errors import (
    AuthenticationError,
    BuildahError,
    BuildCancelled,
    BuildError,
    ChecksumMismatch,
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
    RegistryTimeout,
    RunError,
    RunTimeout,
    SBOMError,
    SignatureError,
    SigningNotSupported,
    SourceNotFound,
    StoreError,
    TLSError,
    UserNamespaceError,
)
from .image import Image
from .manifest import Manifest, ManifestEntry, ManifestList
from .options import RegistryOptions
from .progress import ProgressEvent
from .registry import login, logout, pull, push
from .signing import SigstoreKeyPair, generate_sigstore_key_pair
from .store import Store, containers, default_store, images, load, prune, remove_image, resolve, tag

__all__ = [
    "AuthenticationError",
    "BuildCancelled",
    "BuildError",
    "BuildahError",
    "Builder",
    "Change",
    "ChecksumMismatch",
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
    "PruneReport",
    "Referrer",
    "RegistryError",
    "RegistryOptions",
    "RegistryTimeout",
    "RemovalReport",
    "RunError",
    "RunResult",
    "RunTimeout",
    "SBOMError",
    "SignatureError",
    "SigningNotSupported",
    "SigstoreKeyPair",
    "SourceNotFound",
    "StepRecord",
    "StepReport",
    "Store",
    "StoreError",
    "TLSError",
    "UserNamespaceError",
    "__version__",
    "build",
    "buildah_version",
    "containers",
    "default_store",
    "generate_sigstore_key_pair",
    "images",
    "init_reexec",
    "load",
    "login",
    "logout",
    "provenance",
    "prune",
    "pull",
    "push",
    "referrers",
    "remove_image",
    "resolve",
    "tag",
]

__version__: str  # read on first access: importing pybuildah reads no package metadata (_version)

if not TYPE_CHECKING:  # hidden from type checkers, which would take every attribute of pybuildah as valid

    def __getattr__(name: str) -> Any:
        if name == "__version__":
            return _version.version()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "__version__"})


def init_reexec() -> bool:
    """Prepare this process for Buildah, as the first thing a program does (buildah.InitReexec()).

    As root this only starts the Go runtime and returns False.  As an ordinary
    user it re-executes the program (``sys.executable`` with ``sys.orig_argv``)
    in a new user namespace where the user is root and the ranges of
    /etc/subuid and /etc/subgid are mapped, as the ``buildah`` command does;
    this process then waits for that copy and exits with its status, and
    init_reexec() returns False in the copy.  It is the one place pybuildah
    ends a process.  Everything the program did before the call runs twice,
    so call it first.  An interactive interpreter, a running Jupyter kernel or
    a program read from standard input cannot be re-executed: that raises
    UserNamespaceError, and such sessions start under ``pybuildah unshare``.
    """
    return _userns.init_reexec()
