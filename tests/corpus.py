"""The Containerfile corpus under tests/containerfiles/ and helpers to check build results.

Each case is a directory: its build context, with a Containerfile and a case.toml that
says how to build it (``[build]``) and what the result must be (``[config]``,
``[docker_config]``, ``[annotations]``, ``[files]``, ``absent``).  ``cli`` gives the
reason when Debian's buildah 1.28 cannot build the case.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pybuildah

CASES_DIR = Path(__file__).resolve().parent / "containerfiles"
BUILDAH = "/usr/bin/buildah"


@dataclass
class Case:
    name: str
    path: Path
    spec: dict[str, Any] = field(repr=False)

    @property
    def build(self) -> dict[str, Any]:
        return dict(self.spec.get("build", {}))

    @property
    def format(self) -> str:
        return str(self.build.get("format", "oci"))

    def build_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for pybuildah.build()."""
        return self.build

    def cli_flags(self) -> list[str]:
        """The same options as flags of `buildah build`."""
        flags: list[str] = []
        opts = self.build
        if "target" in opts:
            flags += ["--target", opts["target"]]
        for key, value in opts.get("build_args", {}).items():
            flags += ["--build-arg", f"{key}={value}"]
        for key, value in opts.get("labels", {}).items():
            flags += ["--label", f"{key}={value}"]
        for key, value in opts.get("annotations", {}).items():
            flags += ["--annotation", f"{key}={value}"]
        flags += ["--format", self.format]
        return flags


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(CASES_DIR.iterdir()):
        if (path / "case.toml").is_file():
            cases.append(Case(path.name, path, tomllib.loads((path / "case.toml").read_text())))
    return cases


def entry(root: Path, path: str) -> dict[str, Any] | None:
    """What one path in a mounted image is: type, mode, owner, and content or link target."""
    full = root / path.lstrip("/")
    try:
        st = os.lstat(full)
    except FileNotFoundError:
        return None
    out: dict[str, Any] = {"mode": f"{stat.S_IMODE(st.st_mode):04o}", "owner": f"{st.st_uid}:{st.st_gid}"}
    if stat.S_ISLNK(st.st_mode):
        out.update(type="symlink", target=os.readlink(full))
    elif stat.S_ISDIR(st.st_mode):
        out["type"] = "dir"
    elif stat.S_ISREG(st.st_mode):
        data = full.read_bytes()
        out.update(type="file", size=len(data), sha256=hashlib.sha256(data).hexdigest())
        with contextlib.suppress(UnicodeDecodeError):
            out["content"] = data.decode()
    else:
        out["type"] = "other"
    return out


def tree(root: Path) -> dict[str, dict[str, Any]]:
    """Every path under root (a mounted image) with entry()'s description, minus the text content."""
    out: dict[str, dict[str, Any]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            rel = "/" + str(full.relative_to(root))
            described = entry(root, rel)
            if described is not None:
                described.pop("content", None)
                out[rel] = described
    return out


def config_of(image: pybuildah.Image) -> dict[str, Any]:
    """The image's config section as stored (Docker-format fields included)."""
    blob = json.loads(image.inspect()["Config"])
    return dict((blob if isinstance(blob, dict) else json.loads(blob)).get("config") or {})


def check(case: Case, image: pybuildah.Image, root: Path) -> list[str]:
    """Compare a built image with the case's expectations; return the differences."""
    problems: list[str] = []
    expected = case.spec.get("config", {})
    actual = image.config
    for key, want in expected.items():
        if key == "env":
            for name, value in want.items():
                if actual.env.get(name) != value:
                    problems.append(f"env {name}: {actual.env.get(name)!r} != {value!r}")
        elif key == "env_absent":
            problems += [f"env {name} should be absent" for name in want if name in actual.env]
        elif key == "labels":
            for name, value in want.items():
                if actual.labels.get(name) != value:
                    problems.append(f"label {name}: {actual.labels.get(name)!r} != {value!r}")
        elif getattr(actual, key) != want:
            problems.append(f"config {key}: {getattr(actual, key)!r} != {want!r}")
    raw = config_of(image)
    for key, want in case.spec.get("docker_config", {}).items():
        if raw.get(key) != want:
            problems.append(f"config {key}: {raw.get(key)!r} != {want!r}")
    for key, want in case.spec.get("annotations", {}).items():
        if image.annotations.get(key) != want:
            problems.append(f"annotation {key}: {image.annotations.get(key)!r} != {want!r}")
    for path, want in case.spec.get("files", {}).items():
        got = entry(root, path)
        if got is None:
            problems.append(f"{path} is missing")
            continue
        want = {"type": "file", **want}
        for key, value in want.items():
            if got.get(key) != value:
                problems.append(f"{path} {key}: {got.get(key)!r} != {value!r}")
    for path in case.spec.get("absent", []):
        if entry(root, path) is not None:
            problems.append(f"{path} should not exist")
    return problems


class BuildahCLI:
    """Debian's buildah CLI on a store of its own."""

    def __init__(self, root: Path, ulimits: list[str]) -> None:
        self.root = root
        self.base = [BUILDAH, "--root", str(root / "root"), "--runroot", str(root / "run"),
                     "--storage-driver", "overlay"]
        self.ulimits = ulimits

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.base, *args], capture_output=True, text=True, check=check,
                              env={**os.environ, "TMPDIR": str(self.root / "tmp")}, stdin=subprocess.DEVNULL)

    def build(self, context: Path, flags: list[str]) -> str:
        result = self(
            "build", "--isolation", "chroot", "--quiet", *[f"--ulimit={u}" for u in self.ulimits], *flags,
            str(context), check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"buildah build failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result.stdout.strip().splitlines()[-1]

    def inspect(self, image_id: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self("inspect", "--type", "image", image_id).stdout)
        return data

    def tree(self, image_id: str) -> dict[str, dict[str, Any]]:
        container = self("from", "--pull-never", image_id).stdout.strip().splitlines()[-1]
        try:
            mountpoint = Path(self("mount", container).stdout.strip())
            return tree(mountpoint)
        finally:
            self("rm", container, check=False)
