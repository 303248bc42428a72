"""pybuildah's version: the installed distribution's metadata, which pyproject.toml sets.

``pip install`` (editable or not) records the version in the distribution's metadata,
so that is the one source of truth.  Running from a source tree that was never
installed has no metadata; the version is then read from the tree's pyproject.toml,
and "0+unknown" (a valid PEP 440 local version that sorts below every release) when
even that is missing.

The version is read on first use, not at import: importlib.metadata and the email
package it pulls in took 10-16 ms of every ``import pybuildah``.  ``__version__`` is
served by the module's ``__getattr__`` (and pybuildah's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _api

__all__ = ["__version__", "buildah_version", "engine_versions", "version"]

DISTRIBUTION = "pybuildah"
UNKNOWN = "0+unknown"

__version__: str  # read on first access (see __getattr__)
_read: str | None = None


def _from_source_tree() -> str | None:
    import re
    from pathlib import Path

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        text = pyproject.read_text(encoding="utf-8")
    except OSError:
        return None
    project = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL)
    if project is None:
        return None
    found = re.search(r'^version\s*=\s*"([^"]+)"', project.group(1), re.MULTILINE)
    return found.group(1) if found else None


def version() -> str:
    """The version string of pybuildah, e.g. "0.1.0" (read once per process)."""
    global _read
    if _read is None:
        from importlib import metadata

        try:
            _read = metadata.version(DISTRIBUTION)
        except metadata.PackageNotFoundError:
            _read = _from_source_tree() or UNKNOWN
    return _read


if not TYPE_CHECKING:  # hidden from type checkers, which would take every attribute as valid

    def __getattr__(name: str) -> Any:
        """``__version__``, read on first access."""
        if name == "__version__":
            return version()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def buildah_version() -> str:
    """The version of the Buildah engine built into this pybuildah (e.g. "1.45.0")."""
    return engine_versions()["buildah"]


def engine_versions() -> dict[str, str]:
    """The versions built in: buildah, go (the Go runtime) and storage (containers/storage)."""
    return {key: str(value) for key, value in _api.version().items()}
