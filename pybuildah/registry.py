"""Registries and archives: pull, push, login, logout, load and remove_image.

Credentials travel to Go inside the JSON options of one call, never on a
command line, and never appear in an exception message, a log line or a repr.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from . import _ffi
from .errors import BuildahError, InvalidArgument
from .image import Image
from .progress import ProgressCallback, handler
from .store import Store, resolve

PathLike = str | os.PathLike[str]
Creds = str | tuple[str, str]

_PULL_POLICIES = ("always", "missing", "newer", "never")

# Where credentials are looked for; Go reads its environment only once.
_CREDENTIAL_ENV = ("REGISTRY_AUTH_FILE", "DOCKER_CONFIG", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "HOME")
_env_lock = threading.Lock()
_synced_env: dict[str, str | None] | None = None


def sync_env() -> None:
    """Let the Go side see the credential-related variables of os.environ as they are now."""
    global _synced_env
    current = {name: os.environ.get(name) for name in _CREDENTIAL_ENV}
    with _env_lock:
        if current != _synced_env or not _ffi.is_loaded():
            _ffi.call("SyncEnv", env=current)
            _synced_env = current


def _credentials(creds: Creds | None) -> dict[str, str] | None:
    """Turn "user:password" or (user, password) into the JSON Go expects."""
    if creds is None:
        return None
    if isinstance(creds, str):
        user, sep, password = creds.partition(":")
        if not sep:
            raise InvalidArgument("creds must be 'user:password' or a (user, password) tuple")
    elif isinstance(creds, tuple) and len(creds) == 2 and all(isinstance(part, str) for part in creds):
        user, password = creds
    else:
        raise InvalidArgument("creds must be 'user:password' or a (user, password) tuple")
    if not user:
        raise InvalidArgument("creds need a user name")
    return {"username": user, "password": password}


def registry_options(
    *,
    tls_verify: bool | None = True,
    cert_dir: PathLike | None = None,
    authfile: PathLike | None = None,
    creds: Creds | None = None,
    retries: int | None = None,
) -> dict[str, Any]:
    """The JSON options shared by every call that may talk to a registry.

    tls_verify=True leaves the decision to registries.conf (which verifies
    unless it marks the registry insecure); False turns verification off.
    """
    if retries is not None and retries < 0:
        raise InvalidArgument("retries must not be negative")
    return {
        "tls_verify": None if tls_verify or tls_verify is None else False,
        "cert_dir": os.fspath(cert_dir) if cert_dir else "",
        "authfile": os.fspath(authfile) if authfile else "",
        "creds": _credentials(creds),
        "retries": retries,
    }


@contextmanager
def _scrubbed(options: dict[str, Any]) -> Iterator[None]:
    """Make sure no password from options survives in an exception message."""
    creds = options.get("creds") or {}
    secret = creds.get("password") or ""
    try:
        yield
    except BuildahError as exc:
        if secret and secret in str(exc):
            raise type(exc)(str(exc).replace(secret, "********")) from None
        raise


def _call(export: str, progress: ProgressCallback | None = None, **options: Any) -> Any:
    sync_env()
    with _scrubbed(options), _ffi.events(handler(progress)) as stream:
        return _ffi.call(export, stream=stream, **options)


def pull(
    ref: str,
    *,
    store: Store | None = None,
    tls_verify: bool = True,
    cert_dir: PathLike | None = None,
    authfile: PathLike | None = None,
    creds: Creds | None = None,
    all_tags: bool = False,
    policy: str = "always",
    progress: ProgressCallback | None = None,
    retries: int | None = None,
) -> Image:
    """Pull ref into the store and return the image.

    ref is a registry reference (docker://host/repo:tag or host/repo:tag) or
    any transport: oci-archive:/x.tar, docker-archive:/x.tar, oci:/dir:tag,
    dir:/x.  policy is "always", "missing", "newer" or "never".  With
    all_tags every tag of the repository is pulled and the first is returned.
    retries overrides containers.conf's retry count for network failures.
    """
    if policy not in _PULL_POLICIES:
        raise InvalidArgument(f"unknown pull policy {policy!r} (expected one of {', '.join(_PULL_POLICIES)})")
    target = resolve(store)
    options = registry_options(tls_verify=tls_verify, cert_dir=cert_dir, authfile=authfile, creds=creds,
                               retries=retries)
    pulled = _call("Pull", progress, store=target.handle, ref=ref, all_tags=all_tags, policy=policy, **options)
    if not pulled:
        raise BuildahError(f"pulling {ref}: no image was pulled")
    return Image._from_info(target, pulled[0])


def push(
    image_ref: str,
    dest: str,
    *,
    store: Store | None = None,
    tls_verify: bool = True,
    cert_dir: PathLike | None = None,
    authfile: PathLike | None = None,
    creds: Creds | None = None,
    format: str | None = None,
    compression: str | None = None,
    compression_level: int | None = None,
    progress: ProgressCallback | None = None,
    retries: int | None = None,
) -> str:
    """Push an image of the store to dest and return the pushed manifest digest.

    dest is a registry reference (with or without docker://) or any transport:
    oci-archive:, docker-archive:, oci:, dir:.  format is "oci" or "docker"
    (default: keep the image's), compression "gzip" or "zstd".
    """
    if format not in (None, "oci", "docker"):
        raise InvalidArgument(f"unknown image format {format!r} (expected 'oci' or 'docker')")
    if compression not in (None, "gzip", "zstd"):
        raise InvalidArgument(f"unknown compression {compression!r} (expected 'gzip' or 'zstd')")
    target = resolve(store)
    options = registry_options(tls_verify=tls_verify, cert_dir=cert_dir, authfile=authfile, creds=creds,
                               retries=retries)
    result = _call("Push", progress, store=target.handle, image=image_ref, dest=dest, format=format or "",
                   compression=compression or "", compression_level=compression_level, **options)
    return str(result["digest"])


def login(
    registry: str,
    username: str,
    password: str,
    *,
    authfile: PathLike | None = None,
    tls_verify: bool = True,
    cert_dir: PathLike | None = None,
    store: Store | None = None,
) -> None:
    """Check the credentials against the registry, then save them in the auth file (mode 0600).

    Without authfile: $REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json,
    else ${XDG_RUNTIME_DIR}/containers/auth.json (as root without it,
    /run/containers/0/auth.json).  A wrong password raises AuthenticationError.
    Logging in needs no storage: without store, the default store is not opened.
    """
    if not username or not password:
        raise InvalidArgument("login needs a user name and a password")
    options = registry_options(tls_verify=tls_verify, cert_dir=cert_dir, authfile=authfile,
                               creds=(username, password))
    sync_env()
    with _scrubbed(options):
        _ffi.call("Login", store=store.handle if store else 0, registry=registry, **options)


def logout(registry: str | None = None, *, authfile: PathLike | None = None, all: bool = False,
           store: Store | None = None) -> bool:
    """Remove the stored credentials for registry (or for every registry with all=True).

    Returns False when there were none.
    """
    if not registry and not all:
        raise InvalidArgument("logout needs a registry (or all=True)")
    sync_env()
    return bool(_ffi.call("Logout", store=store.handle if store else 0, registry=registry or "",
                          authfile=os.fspath(authfile) if authfile else "", all=all))


def load(path: PathLike, *, store: Store | None = None, progress: ProgressCallback | None = None) -> Image:
    """Load an oci-archive or docker-archive file (or an oci / dir layout) and return its image."""
    target = resolve(store)
    loaded = _call("LoadImage", progress, store=target.handle, path=os.fspath(os.path.abspath(path)))
    if not loaded:
        raise BuildahError(f"{path} holds no image")
    return Image._from_info(target, loaded[0])


@dataclass(frozen=True)
class RemovalReport:
    """What remove_image did to one image: names removed, and whether the image is gone."""

    id: str
    untagged: list[str]
    removed: bool


def remove_image(ref: str, force: bool = False, *, store: Store | None = None) -> list[RemovalReport]:
    """Remove an image, as `buildah rmi`.

    Naming one of several names only removes that name.  An image with
    several names cannot be removed by ID, nor one that working containers
    use, without force (ImageInUse); force also deletes those containers.
    """
    target = resolve(store)
    reports = _ffi.call("RemoveImage", store=target.handle, ref=ref, force=force) or []
    return [RemovalReport(id=r["id"], untagged=list(r["untagged"]), removed=bool(r["removed"])) for r in reports]


def tag(ref: str, names: str | Sequence[str], *, store: Store | None = None) -> list[str]:
    """Add names to an image; returns all its names."""
    target = resolve(store)
    return list(_ffi.call("TagImage", store=target.handle, ref=ref, names=[names] if isinstance(names, str)
                          else list(names)))
