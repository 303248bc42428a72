"""SLSA provenance v1 for builds and commits, validated with the in-toto attestation models,
and attached to pushed images through the OCI referrers tag fallback of a real registry."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
from in_toto_attestation.v1.statement import Statement
from registry import Registry, plain_registry, skopeo

import pybuildah
from pybuildah import attestations
from pybuildah.cli import main

__all__ = ["plain_registry"]

SECRET = b"s3cret-value-never-recorded"
PASSWORD = "hunter2-registry-password"
EPOCH = 1700000000  # 2023-11-14T22:13:20Z


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    """A URL served by a local HTTP server thread, and the bytes it serves."""
    payload = os.urandom(64 * 1024)
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "payload.bin").write_bytes(payload)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "www"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/payload.bin", payload
    finally:
        server.shutdown()
        server.server_close()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def validate(statement: dict[str, Any]) -> Any:
    """Check a statement with the in-toto attestation models; unknown fields are refused."""
    pb = json_format.Parse(json.dumps(statement), statement_pb2.Statement())
    Statement.copy_from_pb(pb).validate()
    predicate = json_format.ParseDict(statement["predicate"], provenance_pb2.Provenance())
    assert predicate.build_definition.build_type and predicate.run_details.builder.id
    for dependency in predicate.build_definition.resolved_dependencies:
        ResourceDescriptor.copy_from_pb(dependency).validate()
    return predicate


def build_with_provenance(store: pybuildah.Store, ctx: Path, out: Path) -> pybuildah.Image:
    return pybuildah.build(ctx, tag="prov:1", store=store, build_args={"VERSION": "1.2"}, target="final",
                           secrets={"token": SECRET}, build_contexts={"extra": ctx.parent / "extra"},
                           creds=f"ci:{PASSWORD}", source_date_epoch=EPOCH, rewrite_timestamp=True,
                           provenance=out)


def test_build_provenance_is_slsa_v1_without_secrets_and_reproducible(
        store: pybuildah.Store, busybox: str, tmp_path: Path, served: tuple[str, bytes]) -> None:
    url, payload = served
    ctx, extra = tmp_path / "ctx", tmp_path / "extra"
    ctx.mkdir()
    extra.mkdir()
    (extra / "hello.txt").write_text("hello from a named context\n")
    (ctx / "Containerfile").write_text(
        f"ARG BASE={busybox}\nFROM $BASE AS base\nRUN true\n"
        "FROM base AS final\nARG VERSION\n"
        f"ADD --checksum=sha256:{sha256(payload)} {url} /payload.bin\n"
        "COPY --from=extra hello.txt /hello.txt\n"
        "RUN --mount=type=secret,id=token test -s /run/secrets/token\n"
        "FROM scratch AS unused\n")
    image = build_with_provenance(store, ctx, tmp_path / "first.json")
    statement = image.provenance
    assert statement is not None
    raw = (tmp_path / "first.json").read_bytes()
    assert raw == attestations.dumps(statement)
    predicate = validate(statement)

    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    assert statement["subject"] == [{"name": "localhost/prov:1", "digest": {"sha256": image.digest.split(":")[1]}}]
    assert dict(predicate.run_details.builder.version) == {"pybuildah": pybuildah.__version__,
                                                          "buildah": pybuildah.buildah_version()}
    external = statement["predicate"]["buildDefinition"]["externalParameters"]
    assert external["containerfiles"] == [{"name": "Containerfile",
                                           "digest": {"sha256": sha256((ctx / "Containerfile").read_bytes())}}]
    assert external["buildArgs"] == {"VERSION": "1.2"}
    assert external["target"] == "final" and external["secrets"] == ["token"]
    resolved = statement["predicate"]["buildDefinition"]["resolvedDependencies"]
    base_digest = store.image(busybox).digest.split(":")[1]
    assert [d for d in resolved if d.get("uri", "").startswith("docker://")] == [
        {"uri": f"docker://{busybox}", "digest": {"sha256": base_digest},
         "annotations": {"platform": f"linux/{image.architecture}"}}]
    assert {"uri": url, "digest": {"sha256": sha256(payload)}} in resolved
    names = {d.get("name"): d for d in resolved}
    assert names["context:extra"]["digest"] == attestations.tree_digest(extra)
    assert names["context"]["digest"] == attestations.tree_digest(ctx)
    metadata = statement["predicate"]["runDetails"]["metadata"]
    assert metadata == {"startedOn": "2023-11-14T22:13:20Z", "finishedOn": "2023-11-14T22:13:20Z"}

    # No secret value or credential anywhere in it.
    assert SECRET not in raw and PASSWORD.encode() not in raw

    # The same build again, with the same SOURCE_DATE_EPOCH: byte-identical provenance.
    again = build_with_provenance(store, ctx, tmp_path / "second.json")
    assert again.digest == image.digest
    assert (tmp_path / "second.json").read_bytes() == raw
    # It is kept with the image: a fresh lookup reads it back.
    assert store.image("prov:1").provenance == statement


def test_commit_provenance_names_the_base_and_the_urls(
        store: pybuildah.Store, busybox: str, served: tuple[str, bytes]) -> None:
    url, payload = served
    with pybuildah.Builder(busybox, store=store) as b:
        b.add(url, "/payload.bin", checksum=f"sha256:{sha256(payload)}")
        image = b.commit("committed:1", timestamp=EPOCH, provenance=True, progress=None)
        plain = b.commit("plain:1", progress=None)
    statement = image.provenance
    assert statement is not None and plain.provenance is None
    validate(statement)
    definition = statement["predicate"]["buildDefinition"]
    assert definition["externalParameters"] == {"from": busybox}
    assert definition["resolvedDependencies"] == [
        {"uri": f"docker://{busybox}", "digest": {"sha256": store.image(busybox).digest.split(":")[1]}},
        {"uri": url, "digest": {"sha256": sha256(payload)}}]
    assert statement["predicate"]["runDetails"]["metadata"]["startedOn"] == "2023-11-14T22:13:20Z"
    with pytest.raises(pybuildah.InvalidArgument, match="in the store"), pybuildah.Builder(busybox, store=store) as b:
        b.commit("oci-archive:/tmp/never.tar", provenance=True)


def test_provenance_is_attached_through_the_referrers_tag_and_fetched_back(
        store: pybuildah.Store, busybox: str, tmp_path: Path, plain_registry: Registry) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        b.run("echo attached > /attached.txt")
        image = b.commit("attached:1", timestamp=EPOCH, provenance=True, progress=None)
        bare = b.commit("bare:1", progress=None)
    dest = plain_registry.ref("attached:1")
    repo = plain_registry.ref("attached")
    digest = image.push(dest, tls_verify=False, compression="zstd", attach=["provenance"], progress=None)

    # skopeo reads the fallback tag: an index listing one in-toto artifact.
    index = json.loads(skopeo("inspect", "--tls-verify=false", "--raw",
                              f"docker://{repo}:sha256-{digest.split(':')[1]}"))
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    [entry] = index["manifests"]
    assert entry["artifactType"] == "application/vnd.in-toto+json"
    assert entry["annotations"] == {"in-toto.io/predicate-type": "https://slsa.dev/provenance/v1"}
    artifact_raw = skopeo("inspect", "--tls-verify=false", "--raw", f"docker://{repo}@{entry['digest']}")
    assert "sha256:" + sha256(artifact_raw) == entry["digest"]
    artifact = json.loads(artifact_raw)
    assert artifact["subject"]["digest"] == digest
    assert artifact["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    assert artifact["layers"][0]["mediaType"] == "application/vnd.in-toto+json"

    # The library lists and fetches it back; the statement's subject is now the pushed manifest.
    found = pybuildah.referrers(dest, store=store, tls_verify=False)
    assert [(r.digest, r.artifact_type) for r in found] == [(entry["digest"], "application/vnd.in-toto+json")]
    assert image.referrers(dest, tls_verify=False) == found
    fetched = pybuildah.provenance(dest, store=store, tls_verify=False)
    assert fetched is not None
    validate(fetched)
    assert fetched["subject"] == [{"name": repo, "digest": {"sha256": digest.split(":")[1]}}]
    local = image.provenance
    assert local is not None and fetched["predicate"] == local["predicate"]

    # Pushing again adds nothing twice; an image without provenance, or a file destination, is refused first.
    image.push(dest, tls_verify=False, compression="zstd", attach=["provenance"], progress=None)
    assert len(pybuildah.referrers(f"{repo}@{digest}", store=store, tls_verify=False)) == 1
    with pytest.raises(pybuildah.InvalidArgument, match="has no provenance"):
        bare.push(plain_registry.ref("bare:1"), tls_verify=False, attach=["provenance"], progress=None)
    assert subprocess.run(["skopeo", "inspect", "--tls-verify=false", f"docker://{plain_registry.ref('bare:1')}"],
                          capture_output=True).returncode != 0  # nothing was pushed
    with pytest.raises(pybuildah.InvalidArgument, match="registry"):
        image.push(f"oci:{tmp_path / 'layout'}:1", attach=["provenance"], progress=None)
    with pytest.raises(pybuildah.InvalidArgument, match="unknown kind"):
        image.push(dest, tls_verify=False, attach=["vex"], progress=None)
    bare_dest = plain_registry.ref("bare:1")
    bare.push(bare_dest, tls_verify=False, progress=None)
    assert pybuildah.provenance(bare_dest, store=store, tls_verify=False) is None


def test_an_index_pointing_at_another_images_provenance_is_refused(
        store: pybuildah.Store, busybox: str, plain_registry: Registry) -> None:
    # Anyone who can push to the repository can rewrite a referrers tag: an index copied from
    # image A's tag to image B's lists A's statement, whose subject is not B.
    with pybuildah.Builder(busybox, store=store) as b:
        a = b.commit("a:1", timestamp=EPOCH, provenance=True, progress=None)
        b.run("echo other > /other")
        other = b.commit("b:1", progress=None)
    repo = plain_registry.ref("tamper")
    digest_a = a.push(f"{repo}:a", tls_verify=False, attach=["provenance"], progress=None)
    digest_b = other.push(f"{repo}:b", tls_verify=False, progress=None)
    index = skopeo("inspect", "--tls-verify=false", "--raw", f"docker://{repo}:sha256-{digest_a.split(':')[1]}")
    request = urllib.request.Request(
        f"http://{plain_registry.host}/v2/tamper/manifests/sha256-{digest_b.split(':')[1]}", data=index,
        method="PUT", headers={"Content-Type": "application/vnd.oci.image.index.v1+json"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 201
    assert len(pybuildah.referrers(f"{repo}:b", store=store, tls_verify=False)) == 1  # listed, but ...
    with pytest.raises(pybuildah.ChecksumMismatch, match="does not name"):
        pybuildah.provenance(f"{repo}:b", store=store, tls_verify=False)
    assert pybuildah.provenance(f"{repo}:a", store=store, tls_verify=False) is not None


def test_cli_build_provenance_and_push_attach(tmp_path: Path, plain_registry: Registry,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    ctx, root = tmp_path / "ctx", tmp_path / "cli-root"
    ctx.mkdir()
    (ctx / "Containerfile").write_text("FROM scratch\nCOPY Containerfile /\n")
    common = ["--root", str(root), "--storage-driver", "overlay"]
    assert main([*common, "build", "-q", "-t", "cli-prov:1", "--provenance", str(tmp_path / "p.json"), str(ctx)]) == 0
    written = json.loads((tmp_path / "p.json").read_text())
    assert written["predicate"]["buildDefinition"]["externalParameters"]["containerfiles"][0]["name"] == "Containerfile"
    dest = plain_registry.ref("cli-prov:1")
    assert main([*common, "push", "-q", "--tls-verify=false", "--attach", "provenance", "cli-prov:1",
                 f"docker://{dest}"]) == 0
    capsys.readouterr()
    with pybuildah.Store(root=root, driver="overlay") as cli_store:
        fetched = pybuildah.provenance(dest, store=cli_store, tls_verify=False)
    assert fetched is not None and fetched["predicate"] == written["predicate"]


def test_a_multi_platform_build_names_each_platforms_image(store: pybuildah.Store, tmp_path: Path,
                                                          plain_registry: Registry) -> None:
    (tmp_path / "Containerfile").write_text("FROM scratch\nCOPY Containerfile /\n")
    listed = pybuildah.build(tmp_path, platforms=["linux/amd64", "linux/arm64"], manifest="localhost/multi:1",
                             store=store, source_date_epoch=EPOCH, provenance=True)
    entries = listed.entries
    images = [next(i for i in store.images() if e.digest in i.digests) for e in entries]
    statement = images[0].provenance
    assert statement is not None and images[1].provenance == statement
    validate(statement)
    assert statement["subject"] == [{"name": "localhost/multi:1", "digest": {"sha256": e.digest.split(":")[1]}}
                                    for e in entries]
    assert statement["predicate"]["buildDefinition"]["externalParameters"]["platforms"] == ["linux/amd64",
                                                                                            "linux/arm64"]
    assert listed.images() == images

    # Pushing the list attaches the statement to each platform's pushed image, subject rewritten.
    dest = plain_registry.ref("multi:1")
    listed.push(dest, compression="zstd", attach=["provenance"], tls_verify=False)
    pushed = json.loads(skopeo("inspect", "--tls-verify=false", "--raw", f"docker://{dest}"))["manifests"]
    assert len(pushed) == 2
    for entry in pushed:
        ref = f"{plain_registry.ref('multi')}@{entry['digest']}"
        fetched = pybuildah.provenance(ref, store=store, tls_verify=False)
        assert fetched is not None and fetched["subject"][0]["digest"] == {"sha256": entry["digest"].split(":")[1]}
        assert fetched["predicate"] == statement["predicate"]
    with pytest.raises(pybuildah.InvalidArgument, match="all=True"):
        listed.push(dest, all=False, attach=["provenance"], tls_verify=False)
