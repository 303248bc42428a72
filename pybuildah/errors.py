"""pybuildah's exceptions.  Every failure raised by the library is a BuildahError."""

from __future__ import annotations

import base64
import os
from typing import Any, cast

from .display import RichRepr


class BuildahError(Exception):
    """Base class of every pybuildah error; the message is Buildah's own."""


class InvalidArgument(BuildahError, ValueError):
    """An option had a value that Buildah cannot use."""


class InvalidType(InvalidArgument, TypeError):
    """An argument had the wrong type (a TypeError; also an InvalidArgument for older callers)."""


class InvalidReference(InvalidArgument):
    """An image reference could not be parsed."""


class ImageNotFound(BuildahError, LookupError):
    """The image does not exist in the store or the registry."""


class ContainerNotFound(BuildahError, LookupError):
    """The working container does not exist (or was deleted)."""


class SourceNotFound(BuildahError, FileNotFoundError):
    """A file to copy or add does not exist."""


class StoreError(BuildahError, OSError):
    """The containers/storage store could not be opened or used.

    Also an OSError: a full disk or quota (in commit, copy, run, pull, build's
    layers) is a StoreError whose errno is ENOSPC or EDQUOT.
    """

    def __str__(self) -> str:  # Buildah's message, not OSError's "[Errno N] strerror"
        return str(self.args[0]) if self.args else ""


class ForkError(BuildahError):
    """pybuildah was used in a child created by os.fork() after the Go runtime started."""


class UserNamespaceError(BuildahError, RuntimeError):
    """A rootless program could not enter (or be re-executed in) a user namespace."""


class InternalError(BuildahError):
    """The Go shim caught a panic; please report it."""


class RunError(BuildahError):
    """A command run in a working container exited with a non-zero status."""

    def __init__(self, message: str, exit_code: int = -1, stdout: str = "", stderr: str = "") -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr


class EmulationError(RunError):
    """A foreign-architecture program cannot run here: no qemu-user-static handler in binfmt_misc."""


class ChecksumMismatch(BuildahError, ValueError):
    """A URL source's content does not match the checksum given for it."""


class RunTimeout(RunError, TimeoutError):
    """A command run with ``timeout=`` was still running when it expired and was killed (exit_code -9).

    stdout and stderr hold what it wrote before that.
    """


class BuildError(BuildahError, RichRepr):
    """A Containerfile build failed.

    stage/stage_index/step/instruction name the failing instruction when it
    is known, exit_code is a failed RUN step's status, and log_tail holds the
    last lines of the build's log.  For a Containerfile that does not parse,
    file and line say where.  With ``build(keep_failed=True)``, container is
    the ID of the failing step's kept working container and builder a
    pybuildah.Builder on it (else both are None): the caller deletes it.
    """

    #: The Builder on the kept container (a pybuildah.Builder; errors cannot import builder).
    builder: Any = None

    def __init__(
        self,
        message: str,
        *,
        stage: str | None = None,
        stage_index: int | None = None,
        step: int | None = None,
        instruction: str | None = None,
        exit_code: int | None = None,
        file: str | None = None,
        line: int | None = None,
        log_tail: list[str] | None = None,
        container: str | None = None,
    ) -> None:
        super().__init__(message)
        self.stage = stage
        self.stage_index = stage_index
        self.step = step
        self.instruction = instruction
        self.exit_code = exit_code
        self.file = file
        self.line = line
        self.log_tail: list[str] = list(log_tail or [])
        self.container = container

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (for another process) without builder: a Builder is this process's handle on the container."""
        state = {k: v for k, v in self.__dict__.items() if k != "builder"}
        return type(self), self.args, state

    def __str__(self) -> str:
        text = super().__str__()
        if self.log_tail:
            text += "\n--- last lines of the build log ---\n" + "\n".join(self.log_tail[-10:])
        return text


class BuildCancelled(BuildError):
    """The build was stopped by Ctrl-C or a signal (a failing log handler re-raises its own error)."""

    def __init__(self, message: str, *, signal: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.signal = signal


class ContextError(BuildahError, FileNotFoundError):
    """The build context or a Containerfile is missing."""


class RegistryError(BuildahError):
    """A registry refused or failed a request."""


class AuthenticationError(RegistryError):
    """The registry rejected the credentials, or none were found."""


class RegistryTimeout(RegistryError, TimeoutError):
    """A registry (or an ADD URL's server) sent or took nothing for the idle timeout (also a TimeoutError)."""


class TLSError(RegistryError):
    """The TLS connection to a registry could not be verified."""


class SignatureError(BuildahError, PermissionError):
    """A signature policy refused an image (unsigned, or not signed by a trusted key), or a key cannot sign.

    Raised by pull, Builder() and build() before any layer of the refused
    image is stored, and by push when a sigstore key's passphrase is wrong.
    """

    def __str__(self) -> str:  # the message, not OSError's "[Errno N] strerror"
        return str(self.args[0]) if self.args else ""


class SigningNotSupported(BuildahError, NotImplementedError):
    """This build cannot make that kind of signature: GPG (sign_by=) needs gpgme, which pybuildah leaves out."""


class SBOMError(BuildahError, RuntimeError):
    """The SBOM scanner failed on an image's file system (its message says why)."""


class ImageInUse(BuildahError):
    """The image cannot be removed: containers use it, or it has several names and was named by ID."""


def _decoded(data: Any) -> str:
    """Output bytes from the wire (base64, or null for none) as text, like RunResult's."""
    return base64.b64decode(data or "").decode(errors="replace")


def from_wire(error: dict[str, Any]) -> BuildahError:
    """Build the exception that an error envelope from Go describes."""
    cls = globals().get(str(error.get("kind")), BuildahError)
    if not (isinstance(cls, type) and issubclass(cls, BuildahError)):
        cls = BuildahError
    message = str(error.get("message", "unknown error"))
    if cls is RunError:
        return RunError(message, exit_code=int(error.get("exit_code", -1)))
    if cls is RunTimeout:  # with what the command wrote before it was killed
        output = dict(error.get("details") or {})
        return RunTimeout(
            message,
            exit_code=int(error.get("exit_code", -1)),
            stdout=_decoded(output.get("stdout_bytes")),
            stderr=_decoded(output.get("stderr_bytes")),
        )
    if issubclass(cls, BuildError):
        build_cls = cast(type[BuildError], cls)
        details = dict(error.get("details") or {})
        known = ("stage", "stage_index", "step", "instruction", "file", "line", "container")
        kwargs: dict[str, Any] = {k: details[k] for k in known if details.get(k) not in (None, "")}
        if cls is BuildCancelled:
            kwargs["signal"] = details.get("signal") or None
        return build_cls(message, exit_code=error.get("exit_code"), **kwargs)
    exc = cls(message)
    code = error.get("errno")
    if isinstance(exc, OSError) and isinstance(code, int):
        exc.errno, exc.strerror = code, os.strerror(code)
    return exc
