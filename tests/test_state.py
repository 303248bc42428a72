"""State stays truthful after a failure: a failed delete can be retried, a commit on a closed store writes
nothing, name@digest works wherever a name does, a manifest list's name gives this platform's image, and
handles refuse to pickle."""

from __future__ import annotations

import copy
import json
import pickle
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import pybuildah


@pytest.fixture
def pinned(store: pybuildah.Store) -> Iterator[Callable[[Path], None]]:
    """Pin files with chattr +i (so nothing can remove them); unpinned again at the end."""
    pinned: list[Path] = []

    def pin(path: Path) -> None:
        subprocess.run(["chattr", "+i", str(path)], check=True)
        pinned.append(path)

    yield pin
    for path in pinned:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_a_failed_delete_leaves_the_builder_for_a_retry(store: pybuildah.Store, busybox: str,
                                                        pinned: Callable[[Path], None]) -> None:
    b = pybuildah.Builder(busybox, store=store)
    b.run("echo kept > /kept")
    stuck = store.root / "overlay-containers" / b.id / "userdata" / "stuck"
    stuck.write_text("cannot be removed while immutable")
    pinned(stuck)
    with pytest.raises(pybuildah.BuildahError, match="operation not permitted"):
        b.delete()
    # Storage removed part of it (the layer, Buildah's state file) but keeps the record, and so does the Builder.
    assert _stored_containers(store.root) == [b.id]
    assert "deleted" not in repr(b) and b.handle
    subprocess.run(["chattr", "-i", str(stuck)], check=True)
    b.delete()
    assert _stored_containers(store.root) == [] and store.containers() == [] and "deleted" in repr(b)
    b.delete()  # idempotent


def _stored_containers(root: Path) -> list[str]:
    """Every container record of the store, Buildah's or not (both of storage's files)."""
    records = []
    for name in ("containers.json", "volatile-containers.json"):
        path = root / "overlay-containers" / name
        if path.exists():
            records += [c["id"] for c in json.loads(path.read_text() or "[]")]
    return records


def _layers(root: Path) -> set[str]:
    return {p.name for p in (root / "overlay").iterdir() if len(p.name) == 64}


def test_commit_on_a_closed_store_writes_nothing(tmp_path: Path, base_store_root: Path, busybox: str) -> None:
    root = tmp_path / "root"
    store = pybuildah.Store(root=root, driver="overlay", additional_image_stores=[base_store_root])
    b = pybuildah.Builder(busybox, store=store)
    b.run("echo change > /change")
    images_before, layers_before = store.images(), _layers(root)
    store.close()
    with pytest.raises(pybuildah.StoreError, match="closed"):
        b.commit("localhost/after-close:1")
    with pybuildah.Store(root=root, driver="overlay", additional_image_stores=[base_store_root]) as again:
        assert again.images() == images_before and not again.exists("localhost/after-close:1")
        assert _layers(root) == layers_before
        pybuildah.Builder.open(b.id, store=again).delete()


def test_name_at_digest_works_wherever_a_name_does(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        b.run("echo digest > /which")
        image = b.commit("localhost/digested:1")
    ref = f"localhost/digested@{image.digest}"
    absent = "localhost/digested@sha256:" + "0" * 64
    assert store.image(ref).id == image.id and store.image(f"digested@{image.digest}").id == image.id
    assert store.exists(ref) and not store.exists(absent)
    with pytest.raises(pybuildah.ImageNotFound):
        store.image(absent)
    with pybuildah.Builder(ref, store=store) as b:  # as before
        assert b.run("cat /which").stdout == "digest\n"
    assert "localhost/digested:2" in store.tag(ref, "localhost/digested:2")
    pushed = pybuildah.push(ref, f"oci:{tmp_path / 'layout'}:pushed", store=store, progress=None)
    assert pushed.startswith("sha256:") and (tmp_path / "layout" / "index.json").exists()
    store.image(ref).save(tmp_path / "saved.tar")
    loaded = pybuildah.load(tmp_path / "saved.tar", store=store)
    assert loaded.id == image.id
    reports = store.remove_image(ref, force=True)
    assert image.id in [r.id for r in reports] and not store.exists(image.id)


def test_store_image_of_a_manifest_list_gives_this_platforms_image(store: pybuildah.Store, busybox: str) -> None:
    base = store.image(busybox)
    with pybuildah.Builder(busybox, store=store) as b:
        b.run("echo listed > /which")
        image = b.commit("localhost/listed:1")
    listed = pybuildah.Manifest.create("localhost/multi:1", store=store)
    listed.add(image.id)
    assert store.image("localhost/multi:1").id == image.id != base.id
    assert store.exists("localhost/multi:1")
    with pybuildah.Builder("localhost/multi:1", store=store) as b:  # the same choice as Builder()
        assert b.run("cat /which").stdout == "listed\n"
    assert pybuildah.Manifest("localhost/multi:1", store=store).inspect().platforms  # still a list


def test_handles_refuse_to_pickle_and_copy_to_themselves(store: pybuildah.Store, busybox: str) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        image = b.commit("localhost/pickled:1")
        listed = pybuildah.Manifest.create("localhost/pickled-list:1", store=store)
        for handle, hint in ((store, "Store(root=...)"), (b, "Builder.open()"), (image, "Store.image()"),
                             (listed, "Manifest(name)")):
            for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
                with pytest.raises(TypeError, match="cannot pickle a pybuildah") as caught:
                    pickle.dumps(handle, protocol=protocol)
                assert hint in str(caught.value)
            assert copy.copy(handle) is handle and copy.deepcopy({"h": [handle]})["h"][0] is handle
    # Plain records still pickle.
    assert pickle.loads(pickle.dumps(image.config)) == image.config
    assert pickle.loads(pickle.dumps(store.containers())) == store.containers()
