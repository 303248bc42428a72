"""The FFI layer: every Go export is declared once, and envelopes turn into typed errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import pybuildah
from pybuildah import _ffi

pytestmark = pytest.mark.fast  # ./dev check's quick tier

GO_DIR = Path(__file__).resolve().parent.parent / "go"
UNIFORM_EXCEPTIONS = {"PyBuildahFree", "PyBuildahSetEventSink"}


def test_every_go_export_is_declared_in_python() -> None:
    exported = {
        match.group(1)
        for source in GO_DIR.glob("*.go")
        for match in re.finditer(r"^//export (\w+)$", source.read_text(), re.MULTILINE)
    }
    assert exported - UNIFORM_EXCEPTIONS == {f"PyBuildah{name}" for name in _ffi.EXPORTS}


def test_malformed_options_and_stale_handles_raise_typed_errors() -> None:
    with pytest.raises(pybuildah.InvalidArgument, match="malformed options"):
        _ffi.call("Configure", builder="not a number")
    with pytest.raises(pybuildah.InvalidArgument, match="stale or invalid builder handle"):
        _ffi.call("GetConfig", builder=987654321)
    with pytest.raises(pybuildah.InvalidArgument, match="no store handle"):
        _ffi.call("ListImages", store=0)


def test_a_handle_of_the_wrong_kind_is_refused(store: pybuildah.Store) -> None:
    with pytest.raises(pybuildah.InvalidArgument, match="builder handle"):
        _ffi.call("GetConfig", builder=store.handle)


def test_a_closed_store_refuses_use(tmp_path: Path) -> None:
    closed = pybuildah.Store(root=tmp_path / "root", driver="vfs")
    closed.close()
    with pytest.raises(pybuildah.StoreError, match="closed"):
        closed.images()
