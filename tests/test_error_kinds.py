"""Failures get the kind a user would catch: a full disk is an OSError, a bad registry a RegistryError."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import pybuildah
from pybuildah import errors

DISK_MIB = 40


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real tmpfs of DISK_MIB MiB, unmounted (with anything storage left mounted in it) afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MIB}m", "tmpfs", str(disk)], check=True)
    try:
        yield disk
    finally:
        subprocess.run(["umount", "--recursive", "--lazy", str(disk)], check=False)


def _used_mib(path: Path) -> float:
    stat = os.statvfs(path)
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize / (1 << 20)


def test_a_full_disk_is_a_store_error_with_enospc_and_the_store_stays_usable(
    small_disk: Path, tmp_path: Path, base_store_root: Path
) -> None:
    """The store's layers live on the small tmpfs (its runroot does not): a 22 MiB file fits, its layer does not."""
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom((DISK_MIB + 5) << 20))
    with pybuildah.Store(root=small_disk / "root", runroot=tmp_path / "run", driver="overlay",
                         additional_image_stores=[base_store_root]) as store:
        before = {image.id for image in store.images()}
        with pybuildah.Builder("localhost/busybox:latest", store=store) as b:
            b.run("dd if=/dev/urandom of=/big bs=1M count=22 2>/dev/null")
            used = _used_mib(small_disk)
            with pytest.raises(pybuildah.StoreError) as caught:
                b.commit("localhost/too-big:1")
            error = caught.value
            assert isinstance(error, OSError) and not isinstance(error, pybuildah.RunError)
            assert error.errno == errno.ENOSPC and error.strerror == os.strerror(errno.ENOSPC)
            assert "no space left on device" in str(error) and "[Errno" not in str(error)
            assert {image.id for image in store.images()} == before  # nothing half-written is listed
            assert not store.exists("localhost/too-big:1")
            assert _used_mib(small_disk) < used + 2  # the partial layer was removed

            # The store and the container still work: a smaller commit succeeds.
            b.run("rm /big; echo small > /small")
            image = b.commit("localhost/small:1")
        assert store.exists("localhost/small:1")
        with pybuildah.Builder(image.id, store=store) as again:
            assert again.run("cat /small").stdout == "small\n"

        # A copy that does not fit: the copier's child reports it as text, same kind.  (Like the
        # buildah CLI, the copier leaves the partial file, so the full disk is unmounted as it is.)
        filler = pybuildah.Builder("localhost/busybox:latest", store=store)
        with pytest.raises(pybuildah.StoreError) as copying:
            filler.copy(big, "/big.bin")
        assert copying.value.errno == errno.ENOSPC


def test_errno_reaches_python_only_for_os_errors() -> None:
    full = errors.from_wire({"kind": "StoreError", "message": "write x: no space left on device", "errno": 28})
    assert isinstance(full, OSError) and full.errno == errno.ENOSPC and str(full) == "write x: no space left on device"
    plain = errors.from_wire({"kind": "StoreError", "message": "read-only"})
    assert isinstance(plain, OSError) and plain.errno is None
    run = errors.from_wire({"kind": "RunError", "message": "m", "errno": 28, "exit_code": 1})
    assert not isinstance(run, OSError)
