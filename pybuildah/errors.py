"""pybuildah's exceptions.  Every failure raised by the library is a BuildahError."""

from __future__ import annotations

from typing import Any


class BuildahError(Exception):
    """Base class of every pybuildah error; the message is Buildah's own."""


class InvalidArgument(BuildahError, ValueError):
    """An option had a value that Buildah cannot use."""


class InvalidReference(InvalidArgument):
    """An image reference could not be parsed."""


class ImageNotFound(BuildahError, LookupError):
    """The image does not exist in the store or the registry."""


class ContainerNotFound(BuildahError, LookupError):
    """The working container does not exist (or was deleted)."""


class SourceNotFound(BuildahError, FileNotFoundError):
    """A file to copy or add does not exist."""


class StoreError(BuildahError):
    """The containers/storage store could not be opened or used."""


class ForkError(BuildahError):
    """pybuildah was used in a child created by os.fork() after the Go runtime started."""


class InternalError(BuildahError):
    """The Go shim caught a panic; please report it."""


class RunError(BuildahError):
    """A command run in a working container exited with a non-zero status."""

    def __init__(self, message: str, exit_code: int = -1, stdout: str = "", stderr: str = "") -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr


class BuildError(BuildahError):
    """A Containerfile build failed."""


class RegistryError(BuildahError):
    """A registry refused or failed a request."""


class AuthenticationError(RegistryError):
    """The registry rejected the credentials, or none were found."""


class TLSError(RegistryError):
    """The TLS connection to a registry could not be verified."""


class ImageInUse(BuildahError):
    """The image cannot be removed: containers use it, or it has several names and was named by ID."""


def from_wire(error: dict[str, Any]) -> BuildahError:
    """Build the exception that an error envelope from Go describes."""
    cls = globals().get(str(error.get("kind")), BuildahError)
    if not (isinstance(cls, type) and issubclass(cls, BuildahError)):
        cls = BuildahError
    message = str(error.get("message", "unknown error"))
    if cls is RunError:
        return RunError(message, exit_code=int(error.get("exit_code", -1)))
    return cls(message)
