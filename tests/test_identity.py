"""An Image object means the image it was made for, whatever names move later;
file names that are not UTF-8 survive the trip into an image."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from registry import Registry, plain_registry, skopeo

import pybuildah

pytestmark = pytest.mark.fast  # ./dev check's quick tier

__all__ = ["plain_registry"]


def _layout_config_digest(layout: Path) -> str:
    """The config digest of the one image in an OCI layout directory."""
    index = json.loads((layout / "index.json").read_text())
    algo, hexdigest = index["manifests"][0]["digest"].split(":", 1)
    manifest = json.loads((layout / "blobs" / algo / hexdigest).read_text())
    return str(manifest["config"]["digest"])


@pytest.fixture
def two_images(store: pybuildah.Store, busybox: str) -> tuple[pybuildah.Image, pybuildah.Image]:
    """A, then B, both committed as localhost/app:1: the name moves to B."""
    with pybuildah.Builder(busybox, store=store) as b:
        b.set_label("which", "A")
        a = b.commit("localhost/app:1")
        b.set_label("which", "B")
        newer = b.commit("localhost/app:1")
    assert a.id != newer.id
    assert store.image("localhost/app:1").id == newer.id
    return a, newer


def test_save_push_and_tag_act_on_the_objects_image(
    store: pybuildah.Store, two_images: tuple[pybuildah.Image, pybuildah.Image], tmp_path: Path,
    plain_registry: Registry,
) -> None:
    a, newer = two_images
    a.save(tmp_path / "saved", format="oci")
    assert _layout_config_digest(tmp_path / "saved") == "sha256:" + a.id
    a.save(tmp_path / "saved.tar")
    config = json.loads(skopeo("inspect", "--config", f"oci-archive:{tmp_path / 'saved.tar'}"))
    assert config["config"]["Labels"]["which"] == "A"

    a.push(f"oci:{tmp_path / 'pushed'}:latest")
    assert _layout_config_digest(tmp_path / "pushed") == "sha256:" + a.id
    dest = plain_registry.ref("identity:1")
    a.push(dest, tls_verify=False)
    manifest = json.loads(skopeo("inspect", "--tls-verify=false", "--raw", f"docker://{dest}"))
    assert manifest["config"]["digest"] == "sha256:" + a.id

    a.tag("localhost/app:a")
    assert store.image("localhost/app:a").id == a.id
    assert "localhost/app:a" in a.names
    assert store.image("localhost/app:1").id == newer.id  # B keeps its name

    newer.remove()
    assert store.image(a.id).id == a.id  # removing B left A alone
    a.untag("localhost/app:a")
    assert "localhost/app:a" not in store.image(a.id).names


def test_an_image_outside_the_store_says_so(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        outside = b.commit(f"oci-archive:{tmp_path / 'out.tar'}")
    assert outside.reference.startswith("oci-archive:")
    images_before = sorted(i.id for i in store.images())
    for action in (lambda: outside.save(tmp_path / "again.tar"), lambda: outside.push(f"oci:{tmp_path}/p"),
                   lambda: outside.tag("localhost/x:1"), lambda: outside.untag("localhost/x:1"),
                   outside.remove):
        with pytest.raises(pybuildah.ImageNotFound, match=r"not in the store; pybuildah\.load\(\) or "):
            action()
    assert sorted(i.id for i in store.images()) == images_before
    loaded = pybuildah.load(tmp_path / "out.tar", store=store)
    assert loaded.id == outside.id  # once loaded, the same image is in the store


@pytest.mark.parametrize("as_bytes", [True, False], ids=["bytes", "surrogate-escaped-str"])
def test_a_file_name_that_is_not_utf8_is_copied(
    store: pybuildah.Store, busybox: str, tmp_path: Path, as_bytes: bool
) -> None:
    name = b"caf\xe9.txt"
    source = os.fsencode(tmp_path) + b"/" + name
    with open(source, "wb") as f:
        f.write(b"latin-1 name\n")
    src: bytes | str = source if as_bytes else os.fsdecode(source)
    with pybuildah.Builder(busybox, store=store) as b:
        b.copy(src, "/names/")
        b.copy([src], "/list/")
        image = b.commit("localhost/names:1")
    with pybuildah.Builder(image.id, store=store, pull="never") as check, check.mount() as root:
        for where in (b"names", b"list"):
            listed = os.listdir(os.fsencode(root) + b"/" + where)
            assert listed == [name]
            with open(os.fsencode(root) + b"/" + where + b"/" + name, "rb") as f:
                assert f.read() == b"latin-1 name\n"
