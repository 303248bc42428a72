"""Housekeeping: filtered images and containers, prune, and the containers/rm/prune commands.

Each option means what the buildah flag it mirrors means, so the results are
compared with Buildah's CLI at the pinned version (the ``pinned_buildah`` fixture)
run on the same store after ours is closed.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import pybuildah


@dataclass
class Populated:
    root: Path
    tagged: dict[str, str]  # name -> image ID
    dangling: str  # the image that lost localhost/app:1 to a newer commit
    containers: dict[str, str]  # name -> container ID
    cli: Path  # Buildah's CLI at the pinned version, to compare with


def populate(root: Path, source: Path, cli: Path) -> Populated:
    """Two named images, one dangling one (that a container still uses), two working containers."""
    source.write_text("payload\n")
    with pybuildah.Store(root=root, driver="vfs") as store:
        with pybuildah.Builder(store=store) as b:
            b.set_label("role", "old")
            dangling = b.commit("localhost/app:1").id
        with pybuildah.Builder(store=store) as b:
            b.set_label("role", "tool")
            tool = b.commit("localhost/tool:1").id
        work_app = pybuildah.Builder("localhost/app:1", store=store, name="work-app")  # uses the old app:1
        with pybuildah.Builder(store=store) as b:
            b.copy(str(source), "/payload")
            b.set_label("role", "app")
            app = b.commit("localhost/app:1").id  # the old app:1 is now nameless
        work_scratch = pybuildah.Builder(store=store, name="work-scratch")
        containers = {"work-app": work_app.id, "work-scratch": work_scratch.id}
        del work_app, work_scratch  # their handles keep the store open: let them go with it
        gc.collect()
    return Populated(root, {"localhost/app:1": app, "localhost/tool:1": tool}, dangling, containers, cli)


@pytest.fixture
def populated(tmp_path: Path, pinned_buildah: Path) -> Populated:
    return populate(tmp_path / "root", tmp_path / "payload", pinned_buildah)


def buildah(store: Populated, *args: str) -> list[str]:
    """The buildah CLI on the store (closed on our side), its output's lines."""
    root = store.root
    result = subprocess.run([store.cli, "--root", str(root), "--runroot", str(root / "runroot"),
                             "--storage-driver", "vfs", *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def image_ids(store: Populated, *args: str) -> set[str]:
    """`buildah images -q --no-trunc` on the store: the image IDs, without their sha256: prefix."""
    return {line.removeprefix("sha256:") for line in buildah(store, "images", "-q", "--no-trunc", *args)}


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pybuildah", "--root", str(root), "--storage-driver", "vfs", *args],
                          capture_output=True, text=True, timeout=120)


IMAGE_FILTERS = [
    ["dangling=true"],
    ["dangling=false"],
    ["reference=localhost/app*"],
    ["reference=localhost/tool:1"],
    ["label=role=tool"],
    ["label=role"],
    ["label!=role=tool"],
    ["since=localhost/tool:1"],
    ["before=localhost/tool:1"],
    ["dangling=false", "label=role=app"],
]


def test_image_filters_select_what_buildah_images_selects(populated: Populated) -> None:
    with pybuildah.Store(root=populated.root, driver="vfs") as store:
        ours = {tuple(f): {image.id for image in store.images(filters=f)} for f in IMAGE_FILTERS}
        module_level = {image.id for image in pybuildah.images(store, filters=["dangling=true"])}
    assert ours[("dangling=true",)] == module_level == {populated.dangling}
    assert ours[("dangling=false",)] == set(populated.tagged.values())
    assert ours[("reference=localhost/app*",)] == {populated.tagged["localhost/app:1"]}
    assert ours[("label=role=tool",)] == {populated.tagged["localhost/tool:1"]}
    for filters in IMAGE_FILTERS:
        args = [arg for f in filters for arg in ("--filter", f)]
        assert ours[tuple(filters)] == image_ids(populated, *args), filters


def test_bad_filters_raise_typed_errors(populated: Populated) -> None:
    with pybuildah.Store(root=populated.root, driver="vfs") as store:
        for bad in (["colour=red"], ["dangling"], ["dangling=maybe"], ["until=someday"]):
            with pytest.raises(pybuildah.InvalidArgument) as info:
                store.images(filters=bad)
            assert isinstance(info.value, ValueError)
        with pytest.raises(pybuildah.InvalidArgument, match="colour"):
            store.containers(filters=["colour=red"])
        with pytest.raises(ValueError, match="not key=value"):
            store.containers(filters=["name"])
        with pytest.raises(pybuildah.ImageNotFound) as lookup:
            store.images(filters=["before=localhost/no-such:1"])
        assert isinstance(lookup.value, LookupError)
        with pytest.raises(pybuildah.InvalidType):
            store.images(filters="dangling=true")
        with pytest.raises(TypeError):
            store.containers(filters=[1])  # type: ignore[list-item]
        assert len(store.images()) == 3 and len(store.containers()) == 2  # nothing lost


CONTAINER_FILTERS = [
    ["name=work"],
    ["name=work-app"],
    ["name=nothing"],
    ["ancestor=scratch"],
    ["ancestor=localhost/tool:1"],
    ["id=ID"],
    ["name=work", "ancestor=scratch"],
]


def test_container_filters_select_what_buildah_containers_selects(populated: Populated) -> None:
    work_app = populated.containers["work-app"]
    filters_list = [*CONTAINER_FILTERS, [f"ancestor={populated.dangling[:12]}"]]
    filters_list = [[f.replace("ID", work_app[:10]) for f in filters] for filters in filters_list]
    with pybuildah.Store(root=populated.root, driver="vfs") as store:
        ours = {tuple(f): {c.id for c in store.containers(filters=f)} for f in filters_list}
        assert {c.id for c in pybuildah.containers(store, filters=["name=scratch"])} == {
            populated.containers["work-scratch"]}
    assert ours[("name=work",)] == set(populated.containers.values())
    assert ours[(f"id={work_app[:10]}",)] == ours[(f"ancestor={populated.dangling[:12]}",)] == {work_app}
    assert ours[("ancestor=scratch",)] == {populated.containers["work-scratch"]}
    assert ours[("name=nothing",)] == set()
    for filters in filters_list:
        got = set(buildah(populated, "containers", "-q", "--filter", ",".join(filters)))
        assert ours[tuple(filters)] == got, filters


def test_prune_removes_containers_then_dangling_images(populated: Populated) -> None:
    with pybuildah.Store(root=populated.root, driver="vfs") as store:
        report = store.prune()
        assert isinstance(report, pybuildah.PruneReport)
        assert sorted(report.containers) == sorted(populated.containers.values())
        assert report.images == [populated.dangling]  # freed by its container's removal
        assert store.containers() == []
        assert {image.id: sorted(image.names) for image in store.images()} == {
            populated.tagged["localhost/app:1"]: ["localhost/app:1"],
            populated.tagged["localhost/tool:1"]: ["localhost/tool:1"]}
        again = pybuildah.prune(store)
        assert again.containers == [] and again.images == []
    assert buildah(populated, "containers", "-a", "-q") == []
    assert image_ids(populated) == set(populated.tagged.values())


def test_prune_keeps_the_read_only_base_images(store: pybuildah.Store, busybox: str) -> None:
    builder = pybuildah.Builder(busybox, store=store, name="from-base")
    base = store.image(busybox).id
    report = store.prune()
    assert report.containers == [builder.id] and report.images == []
    assert [image.id for image in store.images(filters=["readonly=true"])] == [base]
    builder.delete()  # already gone: a no-op


PRUNE_WITH_OPEN_BUILDER = """
import sys, pybuildah
root, payload = sys.argv[1:]
with pybuildah.Store(root=root, driver="vfs") as store:
    b = pybuildah.Builder.open("work-scratch", store=store)
    b.copy(payload, "/again")  # the builder keeps a copier child and a mount
    report = store.prune()
    assert b.id in report.containers, report
    try:
        b.copy(payload, "/later")
    except pybuildah.ContainerNotFound as exc:
        print("gone:", exc)
    assert store.containers() == []
"""


def test_prune_with_a_builder_open_in_this_process(populated: Populated, tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", PRUNE_WITH_OPEN_BUILDER, str(populated.root),
                             str(tmp_path / "payload")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "gone: " in result.stdout and "work-scratch" in result.stdout
    assert buildah(populated, "containers", "-a", "-q") == []


def test_cli_containers_rm_prune_and_images_filter(populated: Populated) -> None:
    root = populated.root
    table = cli(root, "containers")
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split() == ["CONTAINER", "ID", "IMAGE", "ID", "IMAGE", "NAME", "CONTAINER",
                                                   "NAME"]
    assert {line.split()[-1] for line in table.stdout.splitlines()[1:]} == set(populated.containers)
    quiet = cli(root, "containers", "-q", "--filter", "name=work-app")
    assert quiet.stdout.split() == [populated.containers["work-app"]]
    dangling = cli(root, "images", "--filter", "dangling=true", "--format", "json")
    assert [image["id"] for image in json.loads(dangling.stdout)] == [populated.dangling]

    removed = cli(root, "rm", "work-scratch")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.split() == [populated.containers["work-scratch"]]
    assert buildah(populated, "containers", "-q") == [populated.containers["work-app"]]
    pruned = cli(root, "prune")
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout.split() == [populated.containers["work-app"], populated.dangling]
    assert image_ids(populated) == set(populated.tagged.values())
    assert cli(root, "rm", "--all").stdout == ""  # nothing left to remove


def test_cli_rm_all(populated: Populated) -> None:
    removed = cli(populated.root, "rm", "--all", "--format", "json")
    assert removed.returncode == 0, removed.stderr
    assert sorted(json.loads(removed.stdout)["containers"]) == sorted(populated.containers.values())
    assert buildah(populated, "containers", "-a", "-q") == []


def test_cli_bad_invocations_fail_in_one_line(populated: Populated) -> None:
    bad = [
        ["containers", "--filter", "colour=red"],
        ["containers", "--filter", "name"],
        ["containers", "extra"],
        ["rm"],
        ["rm", "--all", "work-app"],
        ["rm", "work-app", "no-such-container"],
        ["images", "--filter", "colour=red"],
        ["images", "--filter", "dangling=maybe"],
        ["prune", "extra"],
    ]
    failures = []
    for args in bad:
        result = cli(populated.root, *args)
        lines = result.stderr.strip().splitlines()
        if result.returncode == 0 or len(lines) != 1 or not lines[0].startswith("Error: "):
            failures.append((args, result.returncode, result.stderr[-500:]))
    assert not failures, failures
    assert len(buildah(populated, "containers", "-q")) == 2  # the failed rm removed nothing
