"""Layer compression on push and commit: gzip, zstd and zstd:chunked (with its table of contents),
checked against what Buildah's own CLI at the pinned version writes, through a real registry."""

from __future__ import annotations

import importlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from registry import Registry, file_tree, make_image, plain_registry, skopeo

import pybuildah
from pybuildah.cli import main

__all__ = ["plain_registry"]

ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
# The annotations that locate zstd:chunked's table of contents (and tar-split data) in a layer.
TOC_ANNOTATIONS = {"io.github.containers.zstd-chunked.manifest-checksum",
                   "io.github.containers.zstd-chunked.manifest-position"}


def raw_manifest(ref: str) -> dict[str, Any]:
    return dict(json.loads(skopeo("inspect", "--tls-verify=false", "--raw", f"docker://{ref}")))


def layers(ref: str) -> list[dict[str, Any]]:
    return list(raw_manifest(ref)["layers"])


def test_zstd_chunked_push_matches_the_pinned_cli_and_pulls_back(
        store: pybuildah.Store, busybox: str, tmp_path: Path, plain_registry: Registry, pinned_buildah: Path) -> None:
    image = make_image(store, busybox, tmp_path, "localhost/chunked:1")
    tree = file_tree(store, image.id)
    ours = plain_registry.ref("chunked:ours")
    digest = image.push(ours, tls_verify=False, compression="zstd:chunked", progress=None)
    pushed = layers(ours)
    assert {layer["mediaType"] for layer in pushed} == {ZSTD}
    for layer in pushed:  # every layer carries its table of contents
        assert set(layer.get("annotations") or {}) >= TOC_ANNOTATIONS, layer

    # Buildah's CLI pushes the same image (through an OCI layout, into its own store) the same way.
    layout = tmp_path / "layout"
    image.save(layout, format="oci")
    peers = importlib.import_module("peers")
    cli = [str(pinned_buildah), "--root", str(tmp_path / "cli-root"), "--runroot", str(tmp_path / "cli-run"),
           "--storage-driver", "vfs"]
    env = peers.peer_env(str(pinned_buildah))
    subprocess.run([*cli, "pull", f"oci:{layout}"], check=True, capture_output=True, env=env)
    theirs = plain_registry.ref("chunked:cli")
    subprocess.run([*cli, "push", "--tls-verify=false", "--compression-format", "zstd:chunked", image.id,
                    f"docker://{theirs}"], check=True, capture_output=True, env=env)
    cli_layers = layers(theirs)
    assert cli_layers == pushed  # media types, table-of-contents annotations, even the digests

    # Pulled back into a fresh store, the files are the same.
    with pybuildah.Store(root=tmp_path / "fresh", driver="overlay") as fresh:
        pulled = pybuildah.pull(ours, store=fresh, tls_verify=False, progress=None)
        assert pulled.layers == image.layers
        assert digest in pulled.digests
        assert file_tree(fresh, pulled.id) == tree


def test_force_compression_false_reuses_blobs_the_registry_has(
        store: pybuildah.Store, busybox: str, tmp_path: Path, plain_registry: Registry) -> None:
    image = make_image(store, busybox, tmp_path, "localhost/reuse:1")
    pybuildah.push(image.id, plain_registry.ref("reuse:gzip"), store=store, tls_verify=False, compression="gzip",
                   progress=None)
    lenient = plain_registry.ref("reuse:lenient")
    image.push(lenient, tls_verify=False, compression="zstd", force_compression=False, progress=None)
    assert {layer["mediaType"] for layer in layers(lenient)} == {GZIP}  # the gzip blobs were reused
    forced = plain_registry.ref("reuse:forced")
    image.push(forced, tls_verify=False, compression="zstd", progress=None)  # a named compression forces
    assert {layer["mediaType"] for layer in layers(forced)} == {ZSTD}
    with pytest.raises(pybuildah.InvalidArgument, match="force_compression needs a compression"):
        image.push(forced, tls_verify=False, force_compression=True, progress=None)
    with pytest.raises(pybuildah.InvalidType):
        image.push(forced, tls_verify=False, compression="zstd", force_compression="yes")  # type: ignore[arg-type]


def test_commit_and_manifest_push_take_zstd_chunked(
        store: pybuildah.Store, busybox: str, tmp_path: Path, plain_registry: Registry) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        b.run("echo chunked > /chunked.txt")
        b.commit(f"oci:{tmp_path / 'committed'}:1", compression="zstd:chunked", progress=None)
        image = b.commit("localhost/listed:1", progress=None)
    index = json.loads((tmp_path / "committed" / "index.json").read_text())
    blob = tmp_path / "committed" / "blobs" / "sha256" / index["manifests"][0]["digest"].split(":")[1]
    committed = json.loads(blob.read_text())["layers"]
    assert {layer["mediaType"] for layer in committed} == {ZSTD}
    assert all(set(layer["annotations"]) >= TOC_ANNOTATIONS for layer in committed)

    listed = pybuildah.Manifest.create("localhost/chunked-list:1", store=store)
    listed.add(image.id)
    dest = plain_registry.ref("chunked-list:1")
    listed.push(dest, tls_verify=False, compression="zstd:chunked")
    entry = raw_manifest(dest)["manifests"][0]["digest"]
    assert {layer["mediaType"] for layer in layers(f"{plain_registry.ref('chunked-list')}@{entry}")} == {ZSTD}


def test_cli_push_compression_flags(tmp_path: Path, plain_registry: Registry,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "cli"
    with pybuildah.Store(root=root, driver="overlay") as cli_store, \
            pybuildah.Builder("scratch", store=cli_store) as b:
        (tmp_path / "f.txt").write_text("cli\n")
        b.copy(tmp_path / "f.txt", "/f.txt")
        b.commit("localhost/cli-chunked:1", progress=None)
    dest = plain_registry.ref("cli-chunked:1")
    status = main(["--root", str(root), "--storage-driver", "overlay", "push", "--tls-verify=false", "-q",
                   "--compression-format", "zstd:chunked", "--force-compression=true", "localhost/cli-chunked:1",
                   f"docker://{dest}"])
    capsys.readouterr()
    assert status == 0
    assert {layer["mediaType"] for layer in layers(dest)} == {ZSTD}
