#!/usr/bin/env python3
"""Build the pybuildah runner image with pybuildah itself, offline from Debian's packages.

The image is what the Kubernetes Job and the Tekton Task in this directory run:

- a minimal Debian root made by ``debootstrap --variant=minbase`` against the apt
  source this machine already uses (no registry, no base image download);
- Debian's Python 3 with cffi, and the pybuildah wheel unpacked into it;
- netavark: Buildah sets up a network backend even with chroot isolation and stops
  with ``could not find "netavark"`` without it;
- ``/etc/containers/storage.conf``: overlay storage at /var/lib/containers/storage
  (a volume per build) plus a read-only additional image store at /var/lib/shared;
- ``BUILDAH_ISOLATION=chroot`` and ``pybuildah`` as the entry point.

The debootstrap tree is the slow part (a minute or two); it is kept as a tarball
under --cache-dir, keyed by everything that goes into it, and reused.

Usage:
  python deploy/build_runner.py --wheel dist/pybuildah-*.whl [--tag localhost/pybuildah-runner:latest]
      [--root STORE] [--cache-dir DIR] [--mirror URL] [--suite bookworm]
Prints the image ID on the last line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pybuildah

SUITE = "bookworm"
# debootstrap resolves dependencies but not virtual packages: python3-pycparser (needed by
# python3-cffi) depends on python3-ply-lex-3.10 and python3-ply-yacc-3.10, virtual packages
# that python3-ply provides, so python3-ply is named here.
PACKAGES = (
    "python3", "python3-cffi", "python3-cffi-backend", "python3-ply", "python3-pycparser",
    "netavark", "ca-certificates", "mount",
)
SITE_PACKAGES = "/usr/local/lib/python3.11/dist-packages"
DEFAULT_TAG = "localhost/pybuildah-runner:latest"
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pybuildah" / "runner"
ROOTFS_FORMAT = 1  # bump when the way the root file system is made changes

STORAGE_CONF = """\
# pybuildah runner: one store per build on a volume, base images from a shared read-only store.
[storage]
driver = "overlay"
graphroot = "/var/lib/containers/storage"
runroot = "/run/containers/storage"

[storage.options]
additionalimagestores = ["/var/lib/shared"]

[storage.options.overlay]
mountopt = "nodev"
"""

ENTRY_POINT = """\
#!/usr/bin/python3
import sys

from pybuildah.cli import main

sys.exit(main())
"""


def apt_mirror() -> str:
    """The first Debian archive URI among this machine's apt sources."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        uris: list[str] = [*re.findall(r"^URIs:\s*(\S+)", text, re.MULTILINE),
                           *re.findall(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.MULTILINE)]
        for uri in uris:
            if re.search(r"/debian/?$", uri):
                return uri
    return "http://deb.debian.org/debian"


def rootfs_key(mirror: str, suite: str) -> str:
    inputs = {"format": ROOTFS_FORMAT, "mirror": mirror, "suite": suite, "variant": "minbase",
              "packages": sorted(PACKAGES), "arch": os.uname().machine}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def debootstrap_rootfs(cache_dir: Path, mirror: str, suite: str = SUITE) -> Path:
    """A tarball of a minbase Debian root with PACKAGES, made once per set of inputs."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    tarball = cache_dir / f"rootfs-{suite}-{rootfs_key(mirror, suite)}.tar"
    if tarball.exists():
        return tarball
    if shutil.which("debootstrap") is None:
        raise SystemExit("debootstrap is not installed (apt-get install debootstrap)")
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix="debootstrap-") as work:
        target = Path(work) / "root"
        subprocess.run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", suite,
                        str(target), mirror], check=True, stdout=subprocess.DEVNULL)
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for entry in (target / leftover).glob("*"):
                if entry.is_file():
                    entry.unlink()
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "--numeric-owner", "--xattrs", "-C", str(target), "-cf", str(partial), "."],
                       check=True)
        partial.rename(tarball)
    return tarball


def unpack_wheel(wheel: Path, dest: Path) -> None:
    """Unpack a wheel as pip would (files and their modes); the runner has no pip."""
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            target = dest / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            mode = (info.external_attr >> 16) & 0o777
            target.chmod(mode or 0o644)


def build_runner(wheel: Path, *, store: pybuildah.Store | None = None, tag: str = DEFAULT_TAG,
                 cache_dir: Path = DEFAULT_CACHE, mirror: str | None = None, suite: str = SUITE) -> pybuildah.Image:
    """Build the runner image into ``store`` and return it."""
    rootfs = debootstrap_rootfs(cache_dir, mirror or apt_mirror(), suite)
    with tempfile.TemporaryDirectory(prefix="runner-") as work:
        files = Path(work)
        unpack_wheel(wheel, files / "site")
        (files / "pybuildah").write_text(ENTRY_POINT)
        (files / "pybuildah").chmod(0o755)
        (files / "storage.conf").write_text(STORAGE_CONF)
        with pybuildah.Builder("scratch", store=store) as b:
            b.add(rootfs, "/")  # a local tar archive: extracted with owners and modes
            b.copy(files / "site", SITE_PACKAGES + "/")
            b.copy(files / "pybuildah", "/usr/local/bin/pybuildah", chmod="0755")
            b.copy(files / "storage.conf", "/etc/containers/storage.conf", chmod="0644")
            b.run(["/bin/sh", "-c", "mkdir -p /var/lib/shared /var/lib/containers/storage /workspace"
                                    " && python3 -c 'import pybuildah, cffi' && test -x /usr/lib/podman/netavark"])
            b.set_env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            b.set_env("BUILDAH_ISOLATION", "chroot")
            b.set_env("LANG", "C.UTF-8")
            b.set_entrypoint(["pybuildah"])
            b.set_cmd(["--help"])
            b.set_workdir("/workspace")
            b.set_label("org.opencontainers.image.title", "pybuildah runner")
            b.set_label("org.opencontainers.image.description",
                        "Debian minbase, Python 3, pybuildah, netavark; chroot isolation; run privileged as root")
            b.set_created_by("deploy/build_runner.py")
            return b.commit(tag)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, required=True, help="the pybuildah wheel to install")
    parser.add_argument("--tag", default=DEFAULT_TAG)
    parser.add_argument("--root", type=Path, help="storage root (default: the default store)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--mirror", help="Debian archive URL (default: this machine's apt source)")
    parser.add_argument("--suite", default=SUITE)
    parser.add_argument("--rootfs-only", action="store_true", help="only make (or find) the debootstrap tarball")
    args = parser.parse_args(argv)
    if args.rootfs_only:
        print(debootstrap_rootfs(args.cache_dir, args.mirror or apt_mirror(), args.suite))
        return 0
    store = pybuildah.Store(root=args.root, driver="overlay") if args.root else None
    try:
        image = build_runner(args.wheel, store=store, tag=args.tag, cache_dir=args.cache_dir,
                             mirror=args.mirror, suite=args.suite)
    finally:
        if store is not None:
            store.close()
    print(image.id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
