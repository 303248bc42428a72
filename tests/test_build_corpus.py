"""The Containerfile corpus (tests/containerfiles/): every case built with pybuildah.build().

test_case checks each result against the case's own case.toml: config fields and the
final image's files (content, mode, owner, links, absent paths).

test_matches_buildah_cli builds the same case with Debian's buildah CLI (1.28) in a
store of its own and compares the two images: every config field and the whole file
tree (type, mode, owner, size, content digest, link target).  The differences it
accepts, all of them version differences (also listed in docs/design.md):

- label io.buildah.version: each side records its own Buildah version;
- Docker-format ``Hostname``: the random ID of the build container, new on every build;
- annotation org.opencontainers.image.created, and every timestamp: build time;
- ``WorkingDir`` "/" versus unset, in an image built FROM scratch: newer Buildah writes
  the default working directory explicitly; both mean "/";
- annotation org.opencontainers.image.base.digest when the final stage is built FROM an
  earlier stage: 1.28 records the digest of that intermediate stage image (which changes
  with every build), newer Buildah the digest of the original base image;
- empty mount-point placeholders that RUN steps leave behind in 1.28 (the files
  /etc/hosts, /etc/hostname and /etc/resolv.conf, the directory /run, and the
  directories made for --mount targets such as /mnt or /var/cache): newer Buildah
  removes the placeholders it created;
- cases whose case.toml names a ``cli`` reason use features 1.28 does not have
  (heredocs came in Buildah 1.33); for them the test checks that 1.28 still fails,
  so the exclusion cannot go stale unnoticed.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from corpus import BuildahCLI, Case, check, config_of, load_cases, tree

import pybuildah

CASES = load_cases()
IDS = [case.name for case in CASES]

# Placeholders that buildah 1.28 leaves where RUN bind-mounted host files.
RUN_PLACEHOLDER_FILES = {"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"}


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 25
    instructions = " ".join((case.path / "Containerfile").read_text() for case in CASES)
    for keyword in ("AS", "COPY --from=", "ARG", "--chown", "--chmod", "ADD", "<<EOF", "type=bind", "type=cache",
                    "ENV", "LABEL", "EXPOSE", "USER", "WORKDIR", "ENTRYPOINT", "CMD", "VOLUME", "SHELL",
                    "STOPSIGNAL", "HEALTHCHECK", "ONBUILD"):
        assert keyword in instructions, keyword


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory: pytest.TempPathFactory, base_store_root: Path) -> Iterator[pybuildah.Store]:
    root = tmp_path_factory.mktemp("corpus-store") / "root"
    with pybuildah.Store(root=root, driver="overlay", additional_image_stores=[base_store_root]) as store:
        yield store


@pytest.fixture(scope="module")
def built(corpus_store: pybuildah.Store) -> dict[str, pybuildah.Image]:
    """Images built so far, by case name: each case is built once per module."""
    return {}


def build_case(case: Case, store: pybuildah.Store, built: dict[str, pybuildah.Image]) -> pybuildah.Image:
    if case.name not in built:
        built[case.name] = pybuildah.build(case.path, store=store, log=lambda line: None, **case.build_kwargs())
    return built[case.name]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_case(case: Case, corpus_store: pybuildah.Store, built: dict[str, pybuildah.Image]) -> None:
    image = build_case(case, corpus_store, built)
    with pybuildah.Builder(image.id, store=corpus_store) as b, b.mount() as root:
        problems = check(case, image, root)
    assert problems == []
    assert corpus_store.containers() == []


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory, base_store_root: Path) -> BuildahCLI:
    """buildah 1.28 on its own store, holding the same busybox image (same ID) as ours."""
    root = tmp_path_factory.mktemp("cli-store")
    (root / "tmp").mkdir()
    source = f"containers-storage:[overlay@{base_store_root}+{base_store_root / 'runroot'}]localhost/busybox:latest"
    dest = f"containers-storage:[overlay@{root / 'root'}+{root / 'run'}]localhost/busybox:latest"
    subprocess.run(["skopeo", "copy", "-q", source, dest], check=True, stdin=subprocess.DEVNULL)
    # On this VM the CLI needs no extra flags; elsewhere, e.g. "--ulimit nofile=1024:1024".
    return BuildahCLI(root, shlex.split(os.environ.get("PYBUILDAH_TEST_CLI_FLAGS", "")))


@pytest.fixture(scope="module")
def cli_view(tmp_path_factory: pytest.TempPathFactory, cli: BuildahCLI) -> Iterator[pybuildah.Store]:
    """Our read-only view of the CLI's store, to mount its images exactly as we mount ours.

    (`buildah from` would run ONBUILD triggers, so the CLI cannot mount them untouched.)
    """
    root = tmp_path_factory.mktemp("cli-view") / "root"
    with pybuildah.Store(root=root, driver="overlay", additional_image_stores=[cli.root / "root"]) as store:
        yield store


def mounted_tree(image_id: str, store: pybuildah.Store) -> dict[str, dict[str, Any]]:
    with pybuildah.Builder(image_id, store=store) as b, b.mount() as root:
        return tree(root)


def accepted_cli_only(path: str, theirs: dict[str, dict[str, Any]], only_theirs: set[str]) -> bool:
    """Whether a path only the CLI's image has is one of 1.28's RUN mount-point placeholders."""
    info = theirs[path]
    if path in RUN_PLACEHOLDER_FILES:
        return bool(info["type"] == "file" and info["size"] == 0)
    if info["type"] != "dir":
        return False
    children = [p for p in theirs if p.startswith(path + "/")]
    return all(child in only_theirs and accepted_cli_only(child, theirs, only_theirs) for child in children)


def final_stage_from_stage(case: Case) -> bool:
    """Whether the last FROM of the case names an earlier stage."""
    froms = [line.split() for line in (case.path / "Containerfile").read_text().splitlines()
             if line.upper().startswith("FROM ")]
    names = {words[3] for words in froms if len(words) == 4 and words[2].upper() == "AS"}
    return bool(froms) and froms[-1][1] in names


def compare_configs(ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    problems = []
    for key in sorted(set(ours) | set(theirs)):
        mine, other = ours.get(key), theirs.get(key)
        if key == "Hostname":
            continue  # the random build-container ID
        if key == "Labels":
            mine = {k: v for k, v in (mine or {}).items() if k != "io.buildah.version"}
            other = {k: v for k, v in (other or {}).items() if k != "io.buildah.version"}
        if key == "WorkingDir" and {mine, other} <= {"/", None, ""}:
            continue
        if mine != other:
            problems.append(f"config {key}: ours {mine!r}, buildah 1.28 {other!r}")
    return problems


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_buildah_cli(
    case: Case,
    corpus_store: pybuildah.Store,
    built: dict[str, pybuildah.Image],
    cli: BuildahCLI,
    cli_view: pybuildah.Store,
) -> None:
    image = build_case(case, corpus_store, built)
    if "cli" in case.spec:
        with pytest.raises(RuntimeError, match="buildah build failed"):
            cli.build(case.path, case.cli_flags())
        return
    their_id = cli.build(case.path, case.cli_flags())
    their_info = cli.inspect(their_id)

    their_config = (their_info["Docker"] if case.format == "docker" else their_info["OCIv1"])["config"]
    problems = compare_configs(config_of(image), their_config)

    skip = {"org.opencontainers.image.created"}
    if final_stage_from_stage(case):
        skip.add("org.opencontainers.image.base.digest")
    ours_annotations = {k: v for k, v in image.annotations.items() if k not in skip}
    theirs_annotations = {k: v for k, v in (their_info.get("ImageAnnotations") or {}).items() if k not in skip}
    if ours_annotations != theirs_annotations:
        problems.append(f"annotations: ours {ours_annotations}, buildah 1.28 {theirs_annotations}")

    ours = mounted_tree(image.id, corpus_store)
    theirs = mounted_tree(their_id, cli_view)
    only_theirs = set(theirs) - set(ours)
    for path in sorted(set(ours) | set(theirs)):
        if path in only_theirs and accepted_cli_only(path, theirs, only_theirs):
            continue
        if ours.get(path) != theirs.get(path):
            problems.append(f"{path}: ours {ours.get(path)}, buildah 1.28 {theirs.get(path)}")
    assert problems == []
    # The comparison saw real trees, not two empty ones.
    assert len(ours) > 100 or case.name == "copy_from_image"
