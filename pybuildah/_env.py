"""Process state that Go keeps a copy of: the credential-related environment.

Go's libraries read some environment variables once (auth file locations).
sync_env() hands Go the current values before each call that may need them,
so that a change to os.environ between calls is honoured.
"""

from __future__ import annotations

import os
import threading

from . import _api, _ffi

CREDENTIAL_ENV = ("REGISTRY_AUTH_FILE", "DOCKER_CONFIG", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "HOME")

_lock = threading.Lock()
_synced: dict[str, str | None] | None = None


def sync_env() -> None:
    """Let the Go side see the credential-related variables of os.environ as they are now."""
    global _synced
    current = {name: os.environ.get(name) for name in CREDENTIAL_ENV}
    with _lock:
        if current != _synced or not _ffi.is_loaded():
            _api.sync_env(env=current)
            _synced = current
