"""RegistryOptions: how to reach registries, in one value shared by every call that may."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import Any, TypedDict, cast

from . import _checks
from ._api import RegistryWire
from ._checks import PathLike
from .errors import BuildahError, InvalidArgument, InvalidType

Creds = str | tuple[str, str]


@dataclass(frozen=True)
class RegistryOptions:
    """Registry access for pull, push, Builder, commit, build, login and image look-ups.

    tls_verify=True leaves the decision to registries.conf (which verifies
    unless it marks the registry insecure); False turns verification off.
    cert_dir holds extra CA certificates and client keys; authfile is the
    credentials file (default: $REGISTRY_AUTH_FILE, then Buildah's search
    path); creds are "user:password" or (user, password) and override it.
    retries overrides containers.conf's retry count for network failures.
    signature_policy (buildah's --signature-policy) replaces the store's
    policy.json for the call: a path, or the policy itself as a dict; an
    image the policy refuses raises SignatureError (a PermissionError)
    before any layer is stored.
    timeout (seconds, default 60) is an idle timeout: a connection that
    sends and receives nothing for that long fails with RegistryTimeout
    (a RegistryError and a TimeoutError), however long the transfer; each
    retry waits again.
    Every function that takes ``registry=`` also takes these fields as
    keywords: ``pull(ref, authfile=...)`` is ``pull(ref, registry=RegistryOptions(authfile=...))``.
    """

    tls_verify: bool = True
    cert_dir: PathLike | None = None
    authfile: PathLike | None = None
    creds: Creds | None = None
    retries: int | None = None
    timeout: float | None = None
    signature_policy: PathLike | Mapping[str, Any] | None = None

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
                          if f.name != "creds" and getattr(self, f.name) != f.default)
        if self.creds is not None:
            shown = ", ".join(filter(None, [shown, "creds=<hidden>"]))
        return f"RegistryOptions({shown})"

    def _wire(self) -> RegistryWire:
        """The JSON fields that Go's one registry-options type reads."""
        return {
            "tls_verify": None if _checks.flag(self.tls_verify, "tls_verify") else False,
            "cert_dir": _checks.optional_path(self.cert_dir, "cert_dir"),
            "authfile": _checks.optional_path(self.authfile, "authfile"),
            "creds": _creds_text(self.creds),
            "retries": _checks.optional_integer(self.retries, "retries"),
            "timeout": _checks.seconds(self.timeout, "timeout") if self.timeout is not None else None,
            "signature_policy": signature_policy_wire(self.signature_policy),
        }

    def _secrets(self) -> list[str]:
        """What no message may show: the password, and the Authorization header's base64 of the pair."""
        user: Any = ""
        password: Any = ""
        if isinstance(self.creds, tuple) and len(self.creds) == 2:
            user, password = self.creds
        elif isinstance(self.creds, str):
            user, sep, password = self.creds.partition(":")
            if not sep:
                password = user  # malformed: it may be all password
        if not isinstance(password, str) or not password:
            return []
        user = user if isinstance(user, str) else ""
        pair = f"{user}:{password}".encode("utf-8", "surrogatepass")
        return [password, base64.b64encode(pair).decode()]


class RegistryAccess(TypedDict, total=False):
    """The fields of RegistryOptions, as keyword arguments."""

    tls_verify: bool
    cert_dir: PathLike | None
    authfile: PathLike | None
    creds: Creds | None
    retries: int | None
    timeout: float | None
    signature_policy: PathLike | Mapping[str, Any] | None


def signature_policy_wire(policy: Any) -> str | dict[str, Any] | None:
    """A signature policy as Go's wire.Policy takes it: an absolute path, or the policy as a JSON object."""
    if policy is None or isinstance(policy, (str, bytes, os.PathLike)):
        return _checks.optional_absolute(policy, "signature_policy")
    if isinstance(policy, Mapping):
        try:
            return cast(dict[str, Any], json.loads(json.dumps(dict(policy))))
        except (TypeError, ValueError) as exc:
            raise InvalidType(f"signature_policy must be JSON data: {exc}") from None
    raise InvalidType(f"signature_policy must be a path or a dict, not {type(policy).__name__}")


def signing_wire(sign_by: str | None, sign_by_sigstore_key: PathLike | None,
                 sign_passphrase: str | bytes | None) -> dict[str, Any]:
    """A push's signing fields (Go's wire.Signing); the passphrase is never shown in a message."""
    passphrase = sign_passphrase
    if isinstance(passphrase, bytes):
        try:
            passphrase = passphrase.decode()
        except UnicodeDecodeError:
            raise InvalidArgument("sign_passphrase must be UTF-8 text") from None
    elif passphrase is not None and not isinstance(passphrase, str):
        raise InvalidType(f"sign_passphrase must be str or bytes, not {type(passphrase).__name__}")
    return {"sign_by": _checks.optional_text(sign_by, "sign_by"),
            "sign_by_sigstore_key": None if sign_by_sigstore_key is None
            else _checks.wire_path(_checks.absolute(sign_by_sigstore_key, "sign_by_sigstore_key")),
            "sign_passphrase": passphrase}


def registry_options(registry: RegistryOptions | None, access: RegistryAccess) -> RegistryOptions:
    """Merge ``registry=`` with the keyword spelling of its fields (keywords win)."""
    if registry is not None and not isinstance(registry, RegistryOptions):
        raise InvalidType(f"registry must be a RegistryOptions, not {type(registry).__name__}")
    return replace(registry or RegistryOptions(), **access)


def _creds_text(creds: Any) -> str | None:
    """Credentials travel as one "user:password" string that Go parses."""
    if creds is None:
        return None
    if isinstance(creds, tuple) and len(creds) == 2:
        user = _checks.text(creds[0], "creds' user name")
        if ":" in user:  # Go splits "user:password" at the first colon
            raise InvalidArgument("creds' user name must not contain ':'")
        return user + ":" + _checks.text(creds[1], "creds' password")
    if isinstance(creds, str):
        return creds
    raise InvalidType("creds must be 'user:password' or a (user, password) tuple")


MASK = "********"


def secret_forms(secret: str) -> list[str]:
    """The ways a secret may be written in a message, longest first: as is, repr'd, JSON-escaped.

    Go scrubs its own forms (%q, JSON, URL escapes) before a message leaves it.
    """
    forms = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    return sorted((form for form in forms if form), key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    """text without any form of any secret."""
    for secret in secrets:
        for form in secret_forms(secret):
            text = text.replace(form, MASK)
    return text


@contextmanager
def scrubbed(options: RegistryOptions) -> Iterator[None]:
    """Make sure no password from options survives in an exception (its message and text attributes)."""
    secrets = options._secrets()
    try:
        yield
    except BuildahError as exc:
        if secrets:
            exc.args = tuple(scrub(a, secrets) if isinstance(a, str) else a for a in exc.args)
            for name, value in vars(exc).items():
                if isinstance(value, str):
                    setattr(exc, name, scrub(value, secrets))
                elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                    setattr(exc, name, [scrub(v, secrets) for v in value])
        raise
