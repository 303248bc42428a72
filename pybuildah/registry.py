"""Registries: pull, push, login and logout.

Credentials travel to Go inside the JSON options of one call, never on a
command line, and never appear in an exception message, a log line or a repr.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Unpack

from . import _api, _checks, _transfer
from ._checks import PathLike
from ._env import sync_env
from .errors import BuildahError
from .image import Image
from .options import RegistryAccess, RegistryOptions, registry_options, signing_wire
from .progress import AUTO, ProgressOption
from .store import Store, resolve

LOGGER = logging.getLogger("pybuildah.registry")


def pull(
    ref: str,
    *,
    store: Store | None = None,
    all_tags: bool = False,
    policy: str = "always",
    platform: str | None = None,
    all_platforms: bool = False,
    progress: ProgressOption = AUTO,
    registry: RegistryOptions | None = None,
    **access: Unpack[RegistryAccess],
) -> Image:
    """Pull ref into the store and return the image.

    ref is a registry reference (docker://host/repo:tag or host/repo:tag) or
    any transport: oci-archive:/x.tar, docker-archive:/x.tar, oci:/dir:tag,
    dir:/x.  policy is "always", "missing", "newer" or "never".  With
    all_tags every tag of the repository is pulled and the first is returned.
    platform ("linux/arm64") pulls that platform's image of a manifest list;
    all_platforms pulls the list and every image in it (the list is then a
    pybuildah.Manifest of the same name) and returns this machine's image.
    signature_policy (a policy.json path or a dict) checks the image's
    signatures first: a refused image raises SignatureError (a
    PermissionError) before any of its layers is stored.
    Registry options (tls_verify, cert_dir, authfile, creds, retries) come as
    keywords or as ``registry=RegistryOptions(...)``.
    """
    target = resolve(store)
    LOGGER.info("Pulling %s (policy %s)", ref, policy)
    with _transfer.registry_access(registry_options(registry, access), progress, "pull") as (wire, stream):
        pulled = _api.pull(
            store=target.handle, ref=_checks.text(ref, "ref"), all_tags=_checks.flag(all_tags, "all_tags"),
            policy=_checks.text(policy, "policy"), platform=_checks.optional_text(platform, "platform"),
            all_platforms=_checks.flag(all_platforms, "all_platforms"), stream=stream, **wire,
        )
    if not pulled:
        raise BuildahError(f"pulling {ref}: no image was pulled")
    image = Image(target, pulled[0])
    LOGGER.info("Pulled %s: image %s", ref, image.id)
    return image


def push(
    image_ref: str,
    dest: str,
    *,
    store: Store | None = None,
    format: str | None = None,
    compression: str | None = None,
    compression_level: int | None = None,
    force_compression: bool | None = None,
    attach: Sequence[str] | None = None,
    progress: ProgressOption = AUTO,
    all: bool = True,
    sign_by: str | None = None,
    sign_by_sigstore_key: PathLike | None = None,
    sign_passphrase: str | bytes | None = None,
    registry: RegistryOptions | None = None,
    **access: Unpack[RegistryAccess],
) -> str:
    """Push an image of the store to dest and return the pushed manifest digest.

    image_ref may name a manifest list: the list is pushed with every image
    in it (only this machine's with all=False), as Manifest.push.

    dest is a registry reference (with or without docker://) or any transport:
    oci-archive:, docker-archive:, oci:, dir:.  format is "oci" or "docker"
    (default: keep the image's), compression "gzip", "zstd" or "zstd:chunked"
    (zstd with a table of contents: a pull fetches only the files it lacks).
    A named compression recompresses every layer; force_compression=False
    lets the copy reuse a blob the destination holds in another compression.
    sign_by_sigstore_key (a sigstore private key file, see
    generate_sigstore_key_pair) signs what is pushed, a manifest list and
    each image in it, as a sigstore attachment beside it; sign_passphrase
    (str or bytes, never shown in a message) decrypts the key.  sign_by (a
    GPG fingerprint) raises SigningNotSupported: this build verifies GPG
    signatures but cannot make them.
    attach=["provenance"] also writes the image's provenance to the registry
    as an OCI artifact whose subject is the pushed image (see
    pybuildah.attestations).
    """
    return _transfer.push(
        resolve(store).handle, _checks.text(image_ref, "image_ref"), _checks.text(dest, "dest"),
        registry_options(registry, access),
        format=_checks.optional_text(format, "format"),
        compression=_checks.optional_text(compression, "compression"),
        compression_level=_checks.optional_integer(compression_level, "compression_level"),
        force_compression=_checks.optional_flag(force_compression, "force_compression"),
        progress=progress, all=_checks.flag(all, "all"), attach=attach,
        signing=signing_wire(sign_by, sign_by_sigstore_key, sign_passphrase),
    )


def login(
    registry: str,
    username: str,
    password: str,
    *,
    authfile: PathLike | None = None,
    tls_verify: bool = True,
    cert_dir: PathLike | None = None,
    store: Store | None = None,
    timeout: float | None = None,
) -> None:
    """Check the credentials against the registry, then save them in the auth file (mode 0600).

    Without authfile: $REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json,
    else ${XDG_RUNTIME_DIR}/containers/auth.json (as root without it,
    /run/containers/0/auth.json).  A wrong password raises AuthenticationError.
    Logging in needs no storage: without store, the default store is not opened.
    timeout is the idle timeout in seconds (see RegistryOptions); Ctrl-C stops a login.
    """
    options = RegistryOptions(tls_verify=tls_verify, cert_dir=cert_dir, authfile=authfile, timeout=timeout,
                              creds=(_checks.text(username, "username"), _checks.text(password, "password")))
    with _transfer.registry_access(options) as (wire, _):
        _api.login(store=store.handle if store else 0, registry=_checks.text(registry, "registry"), **wire)


def logout(registry: str | None = None, *, authfile: PathLike | None = None, all: bool = False,
           store: Store | None = None) -> bool:
    """Remove the stored credentials for registry (or for every registry with all=True).

    Returns False when there were none.
    """
    sync_env()
    return _api.logout(store=store.handle if store else 0, registry=_checks.optional_text(registry, "registry"),
                       authfile=_checks.optional_path(authfile, "authfile"), all=_checks.flag(all, "all"))
