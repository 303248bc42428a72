"""One store shared with the host's buildah: the pinned CLI and pybuildah see each other's working
containers; Debian 12's buildah 1.28 does not see ours, can remove their base image, and pybuildah warns."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import pytest

import pybuildah

DEBIAN_BUILDAH = Path("/usr/bin/buildah")
OLD_TOOLS = "older than 1.29"


def cli(binary: Path, store: pybuildah.Store, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a buildah binary on the same store as pybuildah's."""
    command = [str(binary), "--root", str(store.root), "--runroot", str(store.runroot),
               "--storage-driver", store.driver, *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, (command, result.stderr)
    return result


@pytest.fixture
def shared(tmp_path: Path, busybox_exports: dict[str, Path]) -> pybuildah.Store:
    """A store of its own (no additional image store, which the CLI would not know) holding busybox."""
    store = pybuildah.Store(root=tmp_path / "root", driver="overlay")
    pybuildah.load(busybox_exports["oci-archive"], store=store).tag("localhost/busybox:latest")
    return store


def test_the_pinned_cli_and_pybuildah_see_each_others_containers(
        shared: pybuildah.Store, pinned_buildah: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="pybuildah"), \
            pybuildah.Builder("localhost/busybox:latest", store=shared, name="py-made") as ours:
        ours.run("echo ours > /who")
        listed = cli(pinned_buildah, shared, "containers", "--format", "{{.ContainerName}}").stdout.split()
        assert "py-made" in listed
        refused = cli(pinned_buildah, shared, "rmi", "localhost/busybox:latest", check=False)
        assert refused.returncode != 0 and "in use" in refused.stderr
        assert shared.exists("localhost/busybox:latest")
        cli(pinned_buildah, shared, "from", "--isolation", "chroot", "--name", "cli-made", "localhost/busybox:latest")
        assert {"py-made", "cli-made"} <= {c.name for c in shared.containers()}
        with pybuildah.Builder.open("cli-made", store=shared) as theirs:
            assert theirs.run("cat /etc/hostname; echo ok").stdout.endswith("ok\n")
        assert "cli-made" not in cli(pinned_buildah, shared, "containers", "--format", "{{.ContainerName}}").stdout
        assert ours.run("cat /who").stdout == "ours\n"
        with pybuildah.Store(root=shared.root, driver="overlay"):
            pass
    assert not [r for r in caplog.records if OLD_TOOLS in r.getMessage()]
    shared.close()


def test_debian_buildah_128_cannot_see_our_containers_and_pybuildah_warns(
        shared: pybuildah.Store, caplog: pytest.LogCaptureFixture) -> None:
    """What the old CLI does to a shared store, and the warning that the next open gives."""
    assert "1.28" in subprocess.run([str(DEBIAN_BUILDAH), "--version"], capture_output=True, text=True).stdout
    live = pybuildah.Builder("localhost/busybox:latest", store=shared, name="live")
    live.run("echo live > /x")
    assert "live" not in cli(DEBIAN_BUILDAH, shared, "containers", "--all").stdout  # 1.28 does not see it...
    cli(DEBIAN_BUILDAH, shared, "rmi", "localhost/busybox:latest")  # ...so it removes its base image
    assert not shared.exists("localhost/busybox:latest")
    # and the container is broken: its held mount lost its lower layer's files (a fresh mount would fail)
    with pytest.raises(pybuildah.BuildahError, match=r"lower layer|/bin/sh: no such file"):
        live.run("cat /x")
    with caplog.at_level(logging.WARNING, logger="pybuildah"):
        for _ in range(2):
            with pybuildah.Store(root=shared.root, driver="overlay"):
                pass
    warnings = [r for r in caplog.records if OLD_TOOLS in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].name == "pybuildah" and warnings[0].levelno == logging.WARNING
    assert str(shared.root) in warnings[0].getMessage()
    live.delete()
    shared.close()
