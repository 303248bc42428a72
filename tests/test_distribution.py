"""The sdist is complete and installs; the wheel repairs to a manylinux tag and works without Go."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from distribution import PLATFORM_TAG, REPO, Distribution, build_image_with, clean_env, distribution, sdist_members

# Files the sdist adds (its metadata) and tracked files it leaves out on purpose (CI plumbing).
SDIST_METADATA = re.compile(r"^(PKG-INFO|setup\.cfg|pybuildah\.egg-info/.*)$")
NOT_SHIPPED = re.compile(r"^(\.ci/.*|\.gitignore|\.gitattributes)$")


@pytest.fixture(scope="session")
def dist() -> Distribution:
    return distribution()


def shippable_files() -> set[str]:
    """The files git knows (tracked, or new and not ignored) that an sdist should carry."""
    listing = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                             cwd=REPO, check=True, capture_output=True, text=True).stdout
    files = {name for name in listing.split("\0") if name and (REPO / name).is_file()}
    return {name for name in files if not NOT_SHIPPED.match(name)}


def test_sdist_carries_every_source_file(dist: Distribution) -> None:
    members = sdist_members(dist.sdist)
    shipped = {name for name in members if not SDIST_METADATA.match(name)}
    expected = shippable_files()
    assert sorted(expected - shipped) == []  # nothing missing: go/ sources, go.mod, patches, backend, ...
    assert sorted(shipped - expected) == []  # nothing extra: no go/.build copy, no built library
    for needed in ("_build_backend.py", "setup.py", "go/go.mod", "go/go.sum", "go/build.py", "go/lighthelper/main.go",
                   "go/overlay/reexec_self_linux.go", "go/internal/store/defaults/policy.json", "MANIFEST.in"):
        assert needed in shipped
    assert any(name.startswith("go/patches/") for name in shipped)
    assert not any(name.startswith(("go/.build/", "pybuildah/_native/")) for name in members)
    for name in ("go/go.mod", "go/build.py", "pybuildah/builder.py"):
        assert members[name] == (REPO / name).read_bytes()


def test_pip_install_from_sdist_builds_an_image(dist: Distribution, tmp_path: Path) -> None:
    python = dist.sdist_venv / "bin" / "python"
    output, package = build_image_with(python, tmp_path)
    assert output == "built-in-chroot localhost/dist-check:1"
    assert package.startswith(str(dist.sdist_venv)) and "site-packages" in package
    native = {p.name for p in (Path(package) / "_native").iterdir()}
    assert {"libpybuildah.so", "pybuildah-helper", "pybuildah-light-helper", "_ffi_types.py"} <= native


def test_wheel_repairs_to_manylinux(dist: Distribution) -> None:
    assert dist.wheel.name.endswith("-py3-none-linux_x86_64.whl")
    assert dist.repaired.name.endswith(f"-py3-none-{PLATFORM_TAG}.whl"), dist.repaired.name
    shown = subprocess.run([sys.executable, "-m", "auditwheel", "show", str(dist.repaired)],
                           check=True, capture_output=True, text=True).stdout
    flat = " ".join(shown.split())
    assert f'consistent with the following platform tag: "{PLATFORM_TAG}"' in flat, shown
    # the Go library and both helpers need nothing but libc: no library was grafted in
    with zipfile.ZipFile(dist.repaired) as repaired:
        names = repaired.namelist()
        assert not any(".libs/" in name for name in names), names
        modes = {Path(info.filename).name: (info.external_attr >> 16) & 0o777 for info in repaired.infolist()}
    for helper in ("pybuildah-helper", "pybuildah-light-helper"):
        assert modes[helper] & 0o111, f"{helper} lost its executable bits: {oct(modes[helper])}"


def test_repaired_wheel_installs_into_a_fresh_venv_and_works_without_go(dist: Distribution, tmp_path: Path) -> None:
    """The manylinux wheel, in a venv on a PATH without any Go, runs a real build (helpers included)."""
    python = tmp_path / "venv" / "bin" / "python"
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True, env=clean_env())
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(dist.repaired)], check=True, env=clean_env(),
                   cwd=tmp_path, timeout=600)
    output, package = build_image_with(python, tmp_path)
    assert output == "built-in-chroot localhost/dist-check:1"
    assert package.startswith(str(tmp_path / "venv"))
    version = subprocess.run([str(python), "-c", "from pybuildah._version import __version__; print(__version__)"],
                             check=True, capture_output=True, text=True, cwd=tmp_path).stdout.strip()
    assert version and version != "0+unknown"
    pyproject = (REPO / "pyproject.toml").read_text()
    assert f'version = "{version}"' in pyproject
