"""Calls that may talk to a registry: registry options, credentials scrubbing, progress events."""

from __future__ import annotations

import logging
from typing import Any

from . import _ffi, _notebook
from ._env import sync_env
from .options import RegistryOptions, scrubbed
from .progress import ProgressOption, handler

LOGGER = logging.getLogger("pybuildah.registry")


def registry_call(export: str, registry: RegistryOptions, progress: ProgressOption = None,
                  **options: Any) -> Any:
    """Call an export with registry options and a progress stream; no password survives in an error.

    These calls are long (pulls, pushes, commits): Ctrl-C cancels them
    (_ffi.call_cancellable).
    """
    wire = registry._wire()
    sync_env()
    with scrubbed(registry), _notebook.progress_callback(progress, export.lower()) as callback, \
            _ffi.events(handler(callback)) as stream:
        return _ffi.call_cancellable(export, stream=stream, **wire, **options)


def push(store_handle: int, image: str, dest: str, registry: RegistryOptions, *, format: str | None,
         compression: str | None, compression_level: int | None, progress: ProgressOption,
         all: bool | None = None) -> str:
    """Push one image (or a manifest list, with its images unless all=False) and return the pushed digest."""
    LOGGER.info("Pushing %s to %s", image, dest)
    result = registry_call("Push", registry, progress, store=store_handle, image=image, dest=dest,
                           format=format, compression=compression,
                           compression_level=compression_level, all=all)
    LOGGER.info("Pushed %s to %s: manifest %s", image, dest, result["digest"])
    return str(result["digest"])
