"""Benchmark peers: Debian's buildah and Buildah's own CLI at the version pybuildah pins.

The pinned CLI is built here, never committed: a temporary module requires
go.podman.io/buildah at the pinned version with pybuildah's own requirements
(go/go.mod, go/go.sum), and ``go build go.podman.io/buildah/cmd/buildah`` runs
with the same build tags as pybuildah (go/build.py TAGS), into a cache
directory (~/.cache/pybuildah-bench/buildah-<version>).  The build uses the
module as published: none of pybuildah's patches or overlays.

Where this process cannot raise RLIMIT_NOFILE/NPROC (no CAP_SYS_RESOURCE),
Buildah's RUN asks for 1048576 of each and fails; pybuildah then keeps the
hard limits, and ``peer_env`` gives the pinned CLI the same through a
containers.conf (CONTAINERS_CONF) whose default_ulimits are the hard limits.
"""

from __future__ import annotations

import importlib.util
import os
import re
import resource
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GO_DIR = ROOT / "go"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pybuildah-bench"
DEBIAN_BUILDAH = "/usr/bin/buildah"


def pinned_version() -> str:
    match = re.search(r"^\s*go\.podman\.io/buildah (v\S+)", (GO_DIR / "go.mod").read_text(), re.M)
    if not match:
        sys.exit("go/go.mod does not require go.podman.io/buildah")
    return match.group(1)


def _go_build_script() -> Any:
    """go/build.py as a module (find_go, go_env, TAGS), under a name that cannot meet PyPI's "build"."""
    spec = importlib.util.spec_from_file_location("pybuildah_go_build", GO_DIR / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_pinned_cli(go: str | None = None) -> Path:
    """The pinned Buildah CLI, built once into the cache directory."""
    gobuild = _go_build_script()
    version = pinned_version()
    out = CACHE / f"buildah-{version}"
    if out.exists():
        return out
    go = gobuild.find_go(go)
    module = CACHE / f"buildah-{version}-module"
    shutil.rmtree(module, ignore_errors=True)
    module.mkdir(parents=True)
    gomod = (GO_DIR / "go.mod").read_text().replace("module pybuildah.dev/shim", "module pybuildah.dev/bench-cli")
    (module / "go.mod").write_text(gomod)
    shutil.copyfile(GO_DIR / "go.sum", module / "go.sum")
    (module / "tools.go").write_text(  # keeps cmd/buildah's own requirements in the module graph
        '//go:build tools\n\npackage tools\n\nimport _ "go.podman.io/buildah/cmd/buildah"\n')
    env = dict(gobuild.go_env(go), GOFLAGS="-modcacherw -buildvcs=false -mod=mod")
    print(f"building Buildah's CLI {version} into {out} (once) ...", file=sys.stderr, flush=True)
    tmp = out.with_suffix(".tmp")
    subprocess.run([go, "build", "-tags", gobuild.TAGS, "-ldflags", "-s -w", "-o", str(tmp),
                    "go.podman.io/buildah/cmd/buildah"], cwd=module, env=env, check=True)
    tmp.rename(out)
    shutil.rmtree(module, ignore_errors=True)
    return out


def limits_conf() -> Path:
    """A containers.conf whose default_ulimits are this process's hard limits."""
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[1]

    def fmt(value: int) -> str:
        return "-1" if value == resource.RLIM_INFINITY else str(value)

    conf = CACHE / "containers-ulimits.conf"
    CACHE.mkdir(parents=True, exist_ok=True)
    conf.write_text('[containers]\ndefault_ulimits = [\n'
                    f'  "nofile={fmt(nofile)}:{fmt(nofile)}",\n  "nproc={fmt(nproc)}:{fmt(nproc)}",\n]\n')
    return conf


def can_raise_limits() -> bool:
    """Whether this process may raise its hard limits (CAP_SYS_RESOURCE)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) & (1 << 24))
    return False


def peer_env(cli: str) -> dict[str, str]:
    """The environment for a peer CLI.  Only the new CLI needs the limits file: Debian's 1.28
    does not raise the limits itself, and a file naming the hard limits makes it fail."""
    env = dict(os.environ)
    if cli != DEBIAN_BUILDAH and not can_raise_limits():
        env["CONTAINERS_CONF"] = str(limits_conf())
    return env


def peers(include_pinned: bool = True, debian: str = DEBIAN_BUILDAH) -> dict[str, str]:
    """name -> path of each available peer CLI."""
    found = {}
    if include_pinned:
        found[f"buildah {pinned_version()}"] = str(build_pinned_cli())
    if Path(debian).exists():
        version = subprocess.run([debian, "--version"], capture_output=True, text=True).stdout.split()
        found[f"Debian buildah {version[2] if len(version) > 2 else '?'}"] = debian
    return found
