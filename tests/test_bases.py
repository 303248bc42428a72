"""pybuildah.bases: offline base images, the same image for the same inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BUSYBOX

import pybuildah
from pybuildah import bases

pytestmark = pytest.mark.fast  # ./dev check's quick tier


def test_busybox_is_idempotent(tmp_path: Path) -> None:
    with pybuildah.Store(root=tmp_path / "root", driver="overlay") as store:
        first = bases.busybox(store, "localhost/bb:1", busybox=BUSYBOX)
        second = bases.busybox(store, "localhost/bb:1", busybox=BUSYBOX)
        other_name = bases.busybox(store, "localhost/bb:2", busybox=BUSYBOX)
        assert first.id == second.id == other_name.id
        assert first.created is not None and first.created.timestamp() == 0
        assert [i.id for i in store.images()] == [first.id]  # one image, nothing dangling
        assert store.images(filters=["dangling=true"]) == []
        assert sorted(store.image(first.id).names) == ["localhost/bb:1", "localhost/bb:2"]
        assert store.containers() == []
