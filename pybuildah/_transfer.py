"""Calls that may talk to a registry: registry options, credentials scrubbing, progress events."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import _api, _attach, _ffi, _notebook
from ._env import sync_env
from .options import RegistryOptions, scrubbed
from .progress import ProgressOption, handler

LOGGER = logging.getLogger("pybuildah.registry")


@contextmanager
def registry_access(registry: RegistryOptions, progress: ProgressOption = None,
                    what: str = "transfer") -> Iterator[tuple[_api.RegistryWire, int]]:
    """The registry fields and the progress stream (0: none) of one call; no password survives in an error.

    The environment Go reads credentials from is synced first; progress
    ("auto", a callable or None) gets the call's progress events.
    """
    wire = registry._wire()
    sync_env()
    with scrubbed(registry), _notebook.progress_callback(progress, what) as callback, \
            _ffi.events(handler(callback)) as stream:
        yield wire, stream


def push(store_handle: int, image: str, dest: str, registry: RegistryOptions, *, format: str | None,
         compression: str | None, compression_level: int | None, progress: ProgressOption,
         all: bool | None = None, force_compression: bool | None = None,
         signing: dict[str, Any] | None = None, attach: Any = None) -> str:
    """Push one image (or a manifest list, with its images unless all=False) and return the pushed digest.

    signing holds options.signing_wire's fields (what to sign with).  attach
    names the image's stored attachments to add to the registry beside it
    (pybuildah.attestations); each is checked before anything is pushed.
    """
    kinds = _attach.check(store_handle, image, dest, attach)
    LOGGER.info("Pushing %s to %s%s", image, dest,
                " (signed)" if signing and (signing["sign_by"] or signing["sign_by_sigstore_key"]) else "")
    with registry_access(registry, progress, "push") as (access, stream):
        result = _api.push(store=store_handle, image=image, dest=dest, format=format, compression=compression,
                           compression_level=compression_level, force_compression=force_compression,
                           all=all, stream=stream, **(signing or {}), **access)
        LOGGER.info("Pushed %s to %s: manifest %s", image, dest, result["digest"])
        _attach.push(store_handle, image, dest, str(result["digest"]), kinds, access)
    return str(result["digest"])
