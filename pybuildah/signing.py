"""Sigstore key pairs for signing pushed images (push(sign_by_sigstore_key=...))."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import _api, _checks
from ._checks import PathLike
from .errors import InvalidArgument, InvalidType


@dataclass(frozen=True)
class SigstoreKeyPair:
    """The two files generate_sigstore_key_pair wrote."""

    private_key: Path  # encrypted with the passphrase, mode 0600: push(sign_by_sigstore_key=...)
    public_key: Path  # for a policy's sigstoreSigned keyPath (or keyData, base64)


def generate_sigstore_key_pair(directory: PathLike, passphrase: str | bytes, *,
                               name: str = "sigstore") -> SigstoreKeyPair:
    """Make a sigstore key pair, as skopeo generate-sigstore-key does: no cosign needed.

    Writes directory/NAME.private (ECDSA P-256, encrypted with passphrase,
    mode 0600) and directory/NAME.pub, and never replaces an existing file
    (InvalidArgument).  The passphrase is never shown in a message.
    """
    if isinstance(passphrase, bytes):
        try:
            passphrase = passphrase.decode()
        except UnicodeDecodeError:
            raise InvalidArgument("passphrase must be UTF-8 text") from None
    if not isinstance(passphrase, str):
        raise InvalidType(f"passphrase must be str or bytes, not {type(passphrase).__name__}")
    result = _api.generate_sigstore_key_pair(
        directory=_checks.wire_path(_checks.absolute(directory, "directory")), name=_checks.text(name, "name"),
        passphrase=passphrase)
    return SigstoreKeyPair(private_key=Path(result["private_key"]), public_key=Path(result["public_key"]))
