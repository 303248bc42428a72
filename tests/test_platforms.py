"""Multi-platform images and manifest lists, against a real local registry and Buildah's CLI.

The amd64 and arm64 bases are busybox-static from Debian (arm64 fetched with apt),
made once per session and joined in a local manifest list that FROM picks from.
arm64 RUN steps run under qemu-user-static (binfmt_misc, see ./dev); s390x has no
handler registered, so its RUN steps must fail with a clear EmulationError.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry import Registry, plain_registry, skopeo  # fixtures are imported by name

import pybuildah
from pybuildah import bases

__all__ = ["plain_registry"]

BASES = "localhost/busybox-multi:latest"  # a manifest list: linux/amd64 and linux/arm64
S390X = "localhost/busybox-s390x:latest"  # no emulator registered for it
MACHINES = {"linux/amd64": "x86_64", "linux/arm64": "aarch64"}

MAKE_PLATFORM_BASES = """
import sys, pybuildah
from pybuildah import bases
root, runroot, bases_name, s390x_name = sys.argv[1:]
with pybuildah.Store(root=root, runroot=runroot, driver="overlay") as store:
    bases.busybox(store, "localhost/busybox-amd64:latest", arch="amd64")
    bases.busybox(store, "localhost/busybox-arm64:latest", arch="arm64")
    bases_list = pybuildah.Manifest.create(bases_name, store=store)
    bases_list.add("localhost/busybox-amd64:latest")
    bases_list.add("localhost/busybox-arm64:latest")
    # s390x: its set-up cannot RUN here, so only the binary, as /bin/busybox and /bin/sh.
    with pybuildah.Builder("scratch", store=store) as b:
        b.configure(architecture="s390x", os="linux")
        b.copy(bases.foreign_busybox("s390x"), "/bin/busybox", chmod="0755")
        b.copy(bases.foreign_busybox("s390x"), "/bin/sh", chmod="0755")
        b.commit(s390x_name)
"""


@pytest.fixture(scope="session")
def platform_bases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the per-architecture bases and their list, made once in another process."""
    root = tmp_path_factory.mktemp("platform-bases") / "root"
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", MAKE_PLATFORM_BASES, str(root), str(root.parent / "run"), BASES, S390X],
                   check=True, timeout=600)
    print(f"\nplatform bases (amd64, arm64, s390x) made in {time.monotonic() - started:.1f}s")
    return root


def open_store(path: Path, bases_root: Path | None = None) -> pybuildah.Store:
    return pybuildah.Store(root=path / "root", runroot=path / "run", driver="overlay",
                           additional_image_stores=[bases_root] if bases_root else [])


@pytest.fixture
def pstore(tmp_path: Path, platform_bases: Path) -> Iterator[pybuildah.Store]:
    """A fresh store per test that sees the platform bases read-only."""
    with open_store(tmp_path / "store", platform_bases) as store:
        yield store
        for container in store.containers():
            pybuildah.Builder.open(container.id, store=store).delete()


def arch_file(store: pybuildah.Store, image: str, platform: str | None = None) -> str:
    """What /arch holds in an image (or in a list's entry for platform), read by running cat in it."""
    with pybuildah.Builder(image, store=store, platform=platform, pull="never") as b:
        result = b.run(["cat", "/arch"])
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def context(tmp_path: Path) -> Path:
    directory = tmp_path / "context"
    directory.mkdir()
    (directory / "Containerfile").write_text(f"FROM {BASES}\nRUN uname -m > /arch\n")
    return directory


def test_build_for_two_platforms_push_and_pull(pstore: pybuildah.Store, context: Path,
                                               plain_registry: Registry, tmp_path: Path) -> None:
    # One platform at a time first, to record what each costs (emulated arm64 vs native amd64).
    for platform, machine in MACHINES.items():
        started = time.monotonic()
        image = pybuildah.build(context, platform=platform, store=pstore, tag=f"localhost/one:{machine}")
        print(f"\nbuild for {platform}: {time.monotonic() - started:.2f}s")
        assert f"{image.os}/{image.architecture}" == platform
        assert arch_file(pstore, image.id) == machine

    started = time.monotonic()
    built = pybuildah.build(context, platforms=list(MACHINES), manifest="localhost/app:1", store=pstore)
    print(f"build for {', '.join(MACHINES)} into one manifest list: {time.monotonic() - started:.2f}s")
    assert isinstance(built, pybuildah.Manifest)
    listed = built.inspect()
    assert sorted(listed.platforms) == sorted(MACHINES)
    for platform, machine in MACHINES.items():
        assert arch_file(pstore, "localhost/app:1", platform) == machine

    dest = plain_registry.ref("platforms/app:1")
    pushed = built.push(dest, tls_verify=False, retries=0)
    raw = json.loads(skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{dest}"))
    assert raw["mediaType"] == "application/vnd.oci.image.index.v1+json"
    # Two entries for the same platforms (digests differ: push compresses the layers).
    remote = sorted(f"{m['platform']['os']}/{m['platform']['architecture']}" for m in raw["manifests"])
    assert remote == sorted(MACHINES)
    assert pushed.startswith("sha256:")
    # A list's name works with push() too (its images go along); as an Image, it is this machine's entry.
    via_push = plain_registry.ref("platforms/app:via-push")
    pybuildah.push("localhost/app:1", via_push, store=pstore, tls_verify=False, retries=0, progress=None)
    assert len(json.loads(skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{via_push}"))["manifests"]) == 2
    assert built.id not in {image.id for image in pstore.images()}
    mine = pstore.image("localhost/app:1")
    assert mine.id in {image.id for image in pstore.images()} and pstore.exists("localhost/app:1")
    assert arch_file(pstore, mine.id) == arch_file(pstore, "localhost/app:1")  # the one Builder() picks
    assert pybuildah.Manifest(f"docker://{dest}", store=pstore).inspect(tls_verify=False).platforms == listed.platforms

    # Pull one platform into another store: the arm64 image, whose RUN said aarch64.
    with open_store(tmp_path / "pull-one") as other:
        arm = pybuildah.pull(dest, platform="linux/arm64", store=other, tls_verify=False, retries=0, progress=None)
        assert (arm.os, arm.architecture) == ("linux", "arm64")
        assert arch_file(other, arm.id) == "aarch64"
        assert [image.architecture for image in other.images()] == ["arm64"]

    # Pull the whole list: the list and both images.
    with open_store(tmp_path / "pull-all") as other:
        host = pybuildah.pull(dest, all_platforms=True, store=other, tls_verify=False, retries=0, progress=None)
        assert host.architecture == bases.host_arch()
        assert sorted(pybuildah.Manifest(dest, store=other).inspect().platforms) == sorted(MACHINES)
        assert sorted(image.architecture for image in other.images()) == ["amd64", "arm64"]


def test_builder_platform_from_a_list(pstore: pybuildah.Store) -> None:
    with pybuildah.Builder(BASES, store=pstore, platform="linux/arm64") as b:
        assert b.config.architecture == "arm64"
        assert b.run(["uname", "-m"]).stdout.strip() == "aarch64"
    with pybuildah.Builder("scratch", store=pstore, platform="linux/arm64/v8") as b:
        assert (b.config.os, b.config.architecture) == ("linux", "arm64")
    with pybuildah.Builder(BASES, store=pstore) as b:  # no platform: this machine's entry
        assert b.config.architecture == bases.host_arch()
        assert b.run(["uname", "-m"]).stdout.strip() == os.uname().machine


def cli_inspect(cli: Path, store_dir: Path, name: str) -> dict[str, object]:
    """`buildah manifest inspect` of a list, by Buildah's CLI in its own process."""
    out = subprocess.run([cli, "--root", str(store_dir / "root"), "--runroot", str(store_dir / "run"),
                          "--storage-driver", "overlay", "manifest", "inspect", name],
                         check=True, capture_output=True, text=True, timeout=120)
    return dict(json.loads(out.stdout))


def test_manifest_step_by_step_agrees_with_buildah_cli(tmp_path: Path, platform_bases: Path,
                                                       pinned_buildah: Path) -> None:
    store_dir = tmp_path / "store"
    with open_store(store_dir, platform_bases) as store:
        digests = {}
        for platform, machine in MACHINES.items():
            with pybuildah.Builder(BASES, store=store, platform=platform) as b:
                assert b.config.architecture == platform.split("/")[1]
                b.run(["/bin/sh", "-c", "uname -m > /arch"])
                image = b.commit(f"localhost/step:{machine}")
            assert arch_file(store, image.id) == machine
        steps = pybuildah.Manifest.create("localhost/steps:1", store=store)
        with pytest.raises(pybuildah.InvalidArgument):
            pybuildah.Manifest.create("localhost/steps:1", store=store)
        for platform, machine in MACHINES.items():
            digests[platform] = steps.add(f"localhost/step:{machine}", annotations={"org.example.arch": machine})
        steps.annotate(digests["linux/arm64"], variant="v8")
        steps.annotate(annotations={"org.example.list": "steps"})
        listed = steps.inspect()
        assert listed.entry("linux/arm64/v8").digest == digests["linux/arm64"]
        assert listed.entry("linux/amd64").annotations == {"org.example.arch": "x86_64"}
        assert listed.annotations == {"org.example.list": "steps"}
        assert listed.json() == json.loads(listed.raw)

    cli = cli_inspect(pinned_buildah, store_dir, "localhost/steps:1")
    assert cli == listed.json()  # the same record buildah manifest inspect prints
    entries = [(m["digest"], m["platform"]["os"], m["platform"]["architecture"], m["platform"].get("variant", ""),
                m.get("annotations", {})) for m in cli["manifests"]]  # type: ignore[attr-defined]
    assert entries == [(e.digest, e.os, e.architecture, e.variant, e.annotations) for e in listed.entries]

    with open_store(store_dir, platform_bases) as store:
        steps = pybuildah.Manifest("localhost/steps:1", store=store)
        steps.remove(digests["linux/amd64"])
        assert steps.inspect().platforms == ["linux/arm64/v8"]
        with pytest.raises(pybuildah.ImageNotFound):
            steps.remove(digests["linux/amd64"])
        steps.delete()
        with pytest.raises(pybuildah.ImageNotFound):
            steps.inspect()
        assert store.image("localhost/step:aarch64").architecture == "arm64"  # the images stay
        with pytest.raises(pybuildah.InvalidArgument):
            pybuildah.Manifest("localhost/step:aarch64", store=store).inspect()  # an image, not a list


def test_missing_emulation_is_a_clear_error(pstore: pybuildah.Store, tmp_path: Path) -> None:
    with pybuildah.Builder(S390X, store=pstore, pull="never") as b:
        assert b.config.architecture == "s390x"
        with pytest.raises(pybuildah.EmulationError, match="no binfmt_misc handler for s390x") as caught:
            b.run(["/bin/sh", "-c", "true"])
    assert "qemu-user-static" in str(caught.value) and "exec format error" not in str(caught.value)
    assert isinstance(caught.value, pybuildah.RunError)

    before = {image.id for image in pstore.images()}
    context = tmp_path / "s390x"
    context.mkdir()
    (context / "Containerfile").write_text(f"FROM {S390X}\nRUN true\n")
    with pytest.raises(pybuildah.EmulationError, match="no binfmt_misc handler for s390x"):
        pybuildah.build(context, platform="linux/s390x", store=pstore, pull="never")
    assert {image.id for image in pstore.images()} == before  # refused before anything ran


def test_a_foreign_base_without_emulation_names_the_handler_in_build(
    pstore: pybuildah.Store, tmp_path: Path, plain_registry: Registry
) -> None:
    """No platform= given: the FROM image's architecture decides, before the build (stored) or after it (pulled)."""
    context = tmp_path / "from-s390x"
    context.mkdir()
    (context / "Containerfile").write_text(f"FROM {S390X} AS base\nRUN true\nFROM base\nRUN true\n")
    before = {image.id for image in pstore.images()}
    with pytest.raises(pybuildah.EmulationError, match="no binfmt_misc handler for s390x") as stored:
        pybuildah.build(context, store=pstore, pull="never")
    assert "qemu-s390x" in str(stored.value) and "exec format error" not in str(stored.value)
    assert {image.id for image in pstore.images()} == before and not pstore.containers()

    # A foreign stage that runs nothing is fine: only what RUNs needs an emulator.
    (context / "Containerfile").write_text(
        f"FROM --platform=linux/s390x {S390X} AS payload\nFROM {BASES}\n"
        "COPY --from=payload /bin/busybox /s390x-busybox\nRUN test -s /s390x-busybox\n")
    pybuildah.build(context, store=pstore, pull="never", log=lambda line: None).remove(force=True)

    # A base that only the build's pull brings: the runtime's "exec format error" is explained after the fact.
    remote = plain_registry.ref("platforms/s390x:1")
    pstore.image(S390X).push(remote, tls_verify=False, retries=0, progress=None)
    (context / "Containerfile").write_text(f"FROM {remote}\nRUN true\n")
    with pytest.raises(pybuildah.EmulationError, match="no binfmt_misc handler for s390x") as pulled:
        pybuildah.build(context, store=pstore, tls_verify=False, retries=0)
    assert "exec format error" in str(pulled.value)  # the build's own words follow the cause
    assert isinstance(pulled.value, pybuildah.RunError) and not pstore.containers()


CHECK_WITHOUT_HANDLERS = """
import sys, pybuildah
root, runroot, bases_root, image = sys.argv[1:]
with pybuildah.Store(root=root, runroot=runroot, driver="overlay", additional_image_stores=[bases_root]) as s:
    with pybuildah.Builder(image, store=s, platform="linux/arm64", pull="never") as b:
        try:
            b.run(["true"])
        except pybuildah.EmulationError as exc:
            print(exc)
"""


def test_emulation_check_reads_binfmt_misc(tmp_path: Path, platform_bases: Path) -> None:
    """With binfmt_misc pointed at an empty directory (in a child process), arm64 has no handler either."""
    empty = tmp_path / "binfmt_misc"
    empty.mkdir()
    out = subprocess.run(
        [sys.executable, "-c", CHECK_WITHOUT_HANDLERS, str(tmp_path / "root"), str(tmp_path / "run"),
         str(platform_bases), BASES],
        env={**os.environ, "PYBUILDAH_BINFMT_MISC": str(empty)}, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "no binfmt_misc handler for arm64" in out.stdout
    assert str(empty / "qemu-aarch64") in out.stdout


def test_platform_arguments_are_checked(pstore: pybuildah.Store, context: Path) -> None:
    with pytest.raises(pybuildah.InvalidArgument, match="os/arch"):
        pybuildah.Builder(BASES, store=pstore, platform="arm64")
    with pytest.raises(pybuildah.InvalidArgument, match="not both"):
        pybuildah.build(context, platform="linux/arm64", platforms=["linux/amd64"], store=pstore)
    with pytest.raises(pybuildah.InvalidArgument, match="twice"):
        pybuildah.build(context, platforms=["linux/arm64", "linux/aarch64"], manifest="localhost/x", store=pstore)
    with pytest.raises(pybuildah.InvalidType):
        pybuildah.build(context, platforms="linux/arm64", store=pstore)
    with pytest.raises(pybuildah.ImageNotFound):
        pybuildah.Manifest("localhost/no-such-list", store=pstore).inspect()


def test_cli_build_platforms_manifest_and_manifest_commands(tmp_path: Path, context: Path,
                                                             plain_registry: Registry) -> None:
    """`pybuildah build --platform a,b --manifest NAME`, then `pybuildah manifest ...`, each in its own process."""
    store_dir = tmp_path / "cli-store"
    root, runroot = str(store_dir / "root"), str(store_dir / "run")
    store_flags = ["--root", root, "--runroot", runroot, "--storage-driver", "overlay"]
    subprocess.run([sys.executable, "-c", MAKE_PLATFORM_BASES, root, runroot, BASES, S390X], check=True, timeout=600)

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "pybuildah", *store_flags, *args], capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    list_id = cli("build", "--platform", "linux/amd64,linux/arm64", "--manifest", "localhost/cli:1", "-q",
                  str(context)).strip()
    listed = json.loads(cli("manifest", "inspect", "localhost/cli:1"))
    assert sorted(f"{m['platform']['os']}/{m['platform']['architecture']}" for m in listed["manifests"]) \
        == sorted(MACHINES)
    arm = next(m["digest"] for m in listed["manifests"] if m["platform"]["architecture"] == "arm64")
    assert cli("manifest", "annotate", "localhost/cli:1", arm, "--variant", "v8").strip() == list_id
    dest = plain_registry.ref("platforms/cli:1")
    digest = cli("manifest", "push", "--tls-verify=false", "localhost/cli:1", f"docker://{dest}").strip()
    assert digest.startswith("sha256:")
    remote = json.loads(cli("manifest", "inspect", "--tls-verify=false", f"docker://{dest}"))
    assert sorted(m["platform"].get("variant", "") for m in remote["manifests"]) == ["", "v8"]
    assert cli("manifest", "rm", "localhost/cli:1").strip() == list_id
    done = subprocess.run([sys.executable, "-m", "pybuildah", *store_flags, "manifest", "inspect", "localhost/cli:1"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "no manifest list named" in done.stderr
