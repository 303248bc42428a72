"""Local image life cycle: tag, untag, remove, archives and layouts, buildah-style inspect, the CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BUSYBOX
from registry import PASSWORD, USERNAME, Registry, auth_registry, file_tree, make_image, plain_registry, skopeo

import pybuildah
from pybuildah import bases
from pybuildah.cli import images as cli_images

__all__ = ["auth_registry", "plain_registry"]


@pytest.mark.parametrize("format", ["oci-archive", "docker-archive"])
def test_save_and_load_archives(store: pybuildah.Store, busybox: str, tmp_path: Path, format: str) -> None:
    image = make_image(store, busybox, tmp_path, f"localhost/archived:{format}")
    tree = file_tree(store, image.id)
    archive = tmp_path / f"image.{format}.tar"
    events: list[pybuildah.ProgressEvent] = []
    image.save(archive, format=format, progress=events.append)
    assert archive.stat().st_size > 256 * 1024  # the random file cannot shrink
    assert {e.digest for e in events if e.event == "done"}  # progress was reported
    image.remove()
    with pytest.raises(pybuildah.ImageNotFound):
        store.image(image.id)

    loaded = pybuildah.load(archive, store=store)
    assert loaded.layers == image.layers
    assert loaded.config == image.config
    assert f"localhost/archived:{format}" in loaded.names
    if format == "oci-archive":
        assert loaded.id == image.id  # the OCI config travels unchanged
    assert file_tree(store, loaded.id) == tree
    # skopeo reads the archive too and sees the same layers.
    assert json.loads(skopeo("inspect", "--config", f"{format}:{archive}"))["rootfs"]["diff_ids"] == image.layers


def test_load_rejects_what_is_not_an_image(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    with pytest.raises(pybuildah.SourceNotFound):
        pybuildah.load(tmp_path / "missing.tar", store=store)
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar file at all")
    with pytest.raises(pybuildah.InvalidArgument):
        pybuildah.load(junk, store=store)
    with pytest.raises(pybuildah.InvalidArgument):
        store.image(busybox).save(tmp_path / "x", format="zip")


def test_builder_starts_from_an_archive(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    image = make_image(store, busybox, tmp_path, "localhost/from-archive:1")
    archive = tmp_path / "base.tar"
    image.save(archive)
    image.remove()
    with pybuildah.Builder(f"oci-archive:{archive}", store=store) as b:
        assert b.run(["/data/run.sh"]).stdout == "from-the-image\n"
        assert b.run("cat /var/app/stamp").stdout == "built\n"
        assert b.config.env["MODE"] == "test"
    remote = store.image(f"oci-archive:{archive}")
    assert remote.id == image.id and remote.layers == image.layers
    assert remote.inspect()["FromImageID"] == image.id


@pytest.mark.parametrize("transport", ["oci", "dir", "oci-archive", "docker-archive"])
def test_commit_push_and_pull_through_transports(
    store: pybuildah.Store, busybox: str, tmp_path: Path, transport: str
) -> None:
    location = tmp_path / f"layout-{transport}"
    ref = {"oci": f"oci:{location}:v1", "dir": f"dir:{location}", "oci-archive": f"oci-archive:{location}.tar",
           "docker-archive": f"docker-archive:{location}.tar:localhost/layout:v1"}[transport]
    with pybuildah.Builder(busybox, store=store) as b:
        b.run("echo via-" + transport + " > /via")
        b.set_cmd(["cat", "/via"])
        committed = b.commit(ref)
    pulled = pybuildah.pull(ref, store=store)
    assert pulled.layers == committed.layers
    assert pulled.config.cmd == ["cat", "/via"]
    with pybuildah.Builder(pulled.id, store=store) as b:
        assert b.run(["cat", "/via"]).stdout == f"via-{transport}\n"
    # And push writes the same transports from the store.
    again = tmp_path / f"pushed-{transport}"
    dest = ref.replace(str(location), str(again))
    digest = pulled.push(dest)
    assert digest.startswith("sha256:")
    assert pybuildah.pull(dest, store=store).layers == committed.layers


def test_tag_untag_and_remove(store: pybuildah.Store, busybox: str) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        b.run("true")
        image = b.commit("life-cycle:1")
    image.tag("life-cycle:2")
    image.tag("registry.example.com/team/app:3")
    assert sorted(image.names) == ["localhost/life-cycle:1", "localhost/life-cycle:2",
                                   "registry.example.com/team/app:3"]
    assert store.image("life-cycle:2").id == image.id
    assert store.image("registry.example.com/team/app:3").id == image.id
    with pytest.raises(pybuildah.InvalidReference):
        image.tag("Upper/Case:x")

    image.untag("registry.example.com/team/app:3")
    assert sorted(image.names) == sorted(image.reload().names) == ["localhost/life-cycle:1", "localhost/life-cycle:2"]
    with pytest.raises(pybuildah.ImageNotFound):
        image.untag("never-had-this:1")

    # Several names: by ID it takes force; by name only that name goes.
    with pytest.raises(pybuildah.ImageInUse):
        image.remove()
    report = pybuildah.remove_image("life-cycle:2", store=store)
    assert report == [pybuildah.RemovalReport(id=image.id, untagged=["localhost/life-cycle:2"], removed=False)]
    assert store.image(image.id).names == ["localhost/life-cycle:1"]

    # A working container keeps it unless forced, and force removes the container too.
    user = pybuildah.Builder(image.id, store=store, name="uses-the-image")
    with pytest.raises(pybuildah.ImageInUse):
        image.remove()
    image.remove(force=True)
    with pytest.raises(pybuildah.ImageNotFound):
        store.image(image.id)
    assert "uses-the-image" not in [c.name for c in store.containers()]
    user._deleted = True  # the removal took the container with it
    user._finalizer()
    with pytest.raises(pybuildah.ImageNotFound):
        pybuildah.remove_image("localhost/life-cycle:1", store=store)


def test_inspect_has_buildah_inspect_shape(tmp_path: Path) -> None:
    """Our inspect() and Debian's `buildah inspect --type image` agree, on a store both can read."""
    content = tmp_path / "hello.txt"
    content.write_text("hello\n")
    root = tmp_path / "shared-root"
    with pybuildah.Store(root=root, driver="overlay") as store:
        with pybuildah.Builder("scratch", store=store) as b:
            b.copy(content, "/hello.txt")
            b.set_cmd(["/hello.txt"])
            b.set_label("purpose", "inspect")
            b.set_annotation("org.example.note", "annotated")
            image = b.commit("inspected:1")
        ours = image.inspect()
    theirs = json.loads(subprocess.run(
        ["buildah", "--root", str(root), "--runroot", str(root / "runroot"), "--storage-driver", "overlay",
         "inspect", "--type", "image", image.id], check=True, capture_output=True).stdout)
    assert set(theirs) <= set(ours)
    for key in ("Type", "FromImage", "FromImageID", "FromImageDigest", "Manifest", "Config", "ImageAnnotations"):
        assert ours[key] == theirs[key], key
    assert ours["OCIv1"]["config"] == theirs["OCIv1"]["config"]
    assert ours["OCIv1"]["config"]["Labels"] == {"purpose": "inspect"}
    assert ours["ImageAnnotations"]["org.example.note"] == "annotated"
    assert image.annotations["org.example.note"] == "annotated"
    assert ours["Docker"]["config"]["Cmd"] == ["/hello.txt"]


def run_cli(root: Path, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(pybuildah.__file__).resolve().parent.parent)}
    result = subprocess.run([sys.executable, "-m", "pybuildah", "--root", str(root), "--storage-driver", "overlay",
                             *args], input=stdin, capture_output=True, text=True, env=env, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_cli_images_tag_inspect_push_pull_rmi(tmp_path: Path, plain_registry: Registry) -> None:
    root = tmp_path / "cli-root"
    content = tmp_path / "hello.txt"
    content.write_text("hello from the cli test\n")
    with pybuildah.Store(root=root, driver="overlay") as store, pybuildah.Builder("scratch", store=store) as b:
        b.copy(content, "/hello.txt")
        b.set_cmd(["/hello.txt"])
        image = b.commit("cli-image:1")

    listed = json.loads(run_cli(root, "images", "--format", "json").stdout)
    assert [entry["id"] for entry in listed] == [image.id]
    run_cli(root, "tag", "cli-image:1", "cli-image:2")
    table = run_cli(root, "images").stdout.splitlines()
    assert table[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert any(line.split()[:3] == ["localhost/cli-image", "2", image.short_id] for line in table[1:])
    inspected = json.loads(run_cli(root, "inspect", "--format", "json", "cli-image:2").stdout)
    assert inspected["FromImageID"] == image.id
    assert "Cmd:" in run_cli(root, "inspect", "cli-image:1").stdout

    dest = plain_registry.ref("cli-image:1")
    pushed = run_cli(root, "push", "--tls-verify=false", "cli-image:1", dest)
    digest = pushed.stdout.strip()
    assert "Copying blob" in pushed.stderr  # progress, one line per blob when not on a terminal
    assert json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{dest}"))["Digest"] == digest

    removed = run_cli(root, "rmi", "--format", "json", "-f", image.id)
    assert json.loads(removed.stdout)[0]["removed"] is True
    assert json.loads(run_cli(root, "images", "--format", "json").stdout) == []
    pulled = json.loads(run_cli(root, "pull", "--tls-verify=false", "--format", "json", dest).stdout)
    assert pulled["id"] == image.id and pulled["digest"] == digest

    failed = run_cli(root, "pull", "--tls-verify=false", plain_registry.ref("cli-image:missing"), check=False)
    assert failed.returncode == 1 and "manifest unknown" in failed.stderr


def test_cli_images_hides_intermediate_images_as_buildah_does(tmp_path: Path) -> None:
    root = tmp_path / "cli-root"
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Containerfile").write_text(
        "FROM localhost/busybox:latest\nRUN echo one > /one\nRUN echo two > /two\n")
    with pybuildah.Store(root=root, driver="overlay") as store:
        base = bases.busybox(store, busybox=BUSYBOX)
        built = pybuildah.build(tmp_path / "ctx", store=store, tag="layered:1", layers=True, log=lambda line: None)
        intermediate = {image.id for image in store.images(filters=["intermediate=true"])}
    assert intermediate and built.id not in intermediate
    shown = {entry["id"] for entry in json.loads(run_cli(root, "images", "--format", "json").stdout)}
    assert shown == {base.id, built.id}
    for flag in ("-a", "--all"):
        every = {entry["id"] for entry in json.loads(run_cli(root, "images", flag, "--format", "json").stdout)}
        assert every == shown | intermediate
    rows = [line.split() for line in run_cli(root, "images").stdout.splitlines()[1:]]
    assert len(rows) == 2 and all(re.fullmatch(r"\d+(\.\d+)? (B|kB|MB|GB)", " ".join(r[-2:])) for r in rows), rows


@pytest.mark.fast
@pytest.mark.parametrize(("size", "text"), [(0, "0 B"), (999, "999 B"), (1000, "1 kB"), (4452352, "4.45 MB"),
                                            (123456789, "123 MB"), (2_500_000_000, "2.5 GB")])
def test_cli_sizes_are_decimal_as_buildah_prints_them(size: int, text: str) -> None:
    assert cli_images.size_text(size) == text  # go-units HumanSizeWithPrecision(size, 3), as buildah images


@pytest.mark.fast
@pytest.mark.parametrize(("seconds", "text"), [
    (0.5, "Less than a second"), (1, "1 second"), (59, "59 seconds"), (60, "About a minute"), (150, "2 minutes"),
    (3599, "59 minutes"), (3600, "About an hour"), (5400, "2 hours"), (47 * 3600, "47 hours"),
    (48 * 3600, "2 days"), (20 * 86400, "2 weeks"), (90 * 86400, "3 months"), (56.9 * 365 * 86400, "56 years")])
def test_cli_ages_read_as_buildah_images_prints_them(seconds: float, text: str) -> None:
    assert cli_images.age_text(seconds) == text  # go-units HumanDuration, as buildah images


def test_cli_login_reads_the_password_from_stdin(tmp_path: Path, auth_registry: Registry) -> None:
    root = tmp_path / "cli-root"
    authfile = tmp_path / "cli-auth.json"
    common = ("--authfile", str(authfile), "--tls-verify=false")
    wrong = run_cli(root, "login", "-u", USERNAME, "--password-stdin", *common, auth_registry.host,
                    stdin="wrong\n", check=False)
    assert wrong.returncode == 1 and "invalid username/password" in wrong.stderr
    run_cli(root, "login", "-u", USERNAME, "--password-stdin", *common, auth_registry.host, stdin=PASSWORD + "\n")
    assert auth_registry.host in json.loads(authfile.read_text())["auths"]
    out = run_cli(root, "logout", "--format", "json", "--authfile", str(authfile), auth_registry.host).stdout
    assert json.loads(out) == {"registry": auth_registry.host, "removed": True}
    no_prompt = run_cli(root, "login", "-u", USERNAME, *common, auth_registry.host, stdin="", check=False)
    assert no_prompt.returncode == 1 and "--password-stdin" in no_prompt.stderr
