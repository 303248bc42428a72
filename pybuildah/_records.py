"""Plain records that Go returns: their field names are the wire's (see tests/test_contract.py)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from .display import RichRepr, to_text

R = TypeVar("R")


def from_wire(cls: type[R], raw: dict[str, Any]) -> R:
    """Build a record from Go's JSON object, by field name; null becomes the field's default."""
    values = {f.name: raw[f.name] for f in fields(cls) if raw.get(f.name) is not None}  # type: ignore[arg-type]
    return cls(**values)


def env_dict(pairs: list[str]) -> dict[str, str]:
    """Turn ["K=V", ...] into {"K": "V", ...}."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        out[key] = value
    return out


@dataclass(frozen=True)
class ContainerInfo:
    """A working container as listed by pybuildah.containers()."""

    id: str
    name: str
    from_image: str
    image_id: str


@dataclass(frozen=True)
class ContainerConfig:
    """The configuration a working container will commit, read back from Buildah."""

    cmd: list[str] = field(default_factory=list)
    entrypoint: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    ports: list[str] = field(default_factory=list)
    user: str = ""
    workdir: str = ""
    volumes: list[str] = field(default_factory=list)
    shell: list[str] = field(default_factory=list)
    stop_signal: str = ""
    author: str = ""
    architecture: str = ""
    os: str = ""
    onbuild: list[str] = field(default_factory=list)
    domainname: str = ""
    #: test, interval, timeout, start_period, start_interval (seconds) and retries; None: no healthcheck.
    healthcheck: dict[str, Any] | None = None

    @classmethod
    def _from_wire(cls, raw: dict[str, Any]) -> ContainerConfig:
        return from_wire(cls, {**raw, "env": env_dict(raw.get("env") or [])})


@dataclass(frozen=True)
class RunResult(RichRepr):
    """The outcome of Builder.run(), like subprocess.CompletedProcess.

    exit_code is the command's exit status, or -N when signal N killed it.
    stdout_bytes and stderr_bytes are the raw output; stdout and stderr are
    the same decoded as UTF-8 (undecodable bytes become U+FFFD).
    """

    exit_code: int
    stdout_bytes: bytes
    stderr_bytes: bytes

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode("utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_bytes.decode("utf-8", errors="replace")

    @classmethod
    def _from_wire(cls, raw: dict[str, Any]) -> RunResult:
        """Raw output arrives base64-encoded (JSON carries no bytes); null is empty."""
        return cls(exit_code=int(raw["exit_code"]),
                   stdout_bytes=base64.b64decode(raw.get("stdout_bytes") or ""),
                   stderr_bytes=base64.b64decode(raw.get("stderr_bytes") or ""))


@dataclass(frozen=True)
class RemovalReport:
    """What remove_image did to one image: names removed, and whether the image is gone."""

    id: str
    untagged: list[str]
    removed: bool


@dataclass(frozen=True)
class PruneReport:
    """What Store.prune() removed: the working containers' IDs and the dangling images' IDs."""

    containers: list[str]
    images: list[str]


@dataclass(frozen=True)
class Change:
    """One path a working container changed against its image (Builder.diff()), as podman diff lists it.

    kind is "A" (added), "C" (changed: content, metadata, or a directory whose
    entries changed) or "D" (deleted).
    """

    path: str
    kind: str


@dataclass(frozen=True)
class ImageConfig:
    """The runtime configuration recorded in an image (from the OCI config)."""

    cmd: list[str] = field(default_factory=list)
    entrypoint: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    ports: list[str] = field(default_factory=list)
    user: str = ""
    workdir: str = ""
    volumes: list[str] = field(default_factory=list)
    stop_signal: str = ""

    @classmethod
    def _from_oci(cls, config: dict[str, Any]) -> ImageConfig:
        return cls(
            cmd=list(config.get("Cmd") or []),
            entrypoint=list(config.get("Entrypoint") or []),
            env=env_dict(config.get("Env") or []),
            labels=dict(config.get("Labels") or {}),
            ports=sorted(config.get("ExposedPorts") or {}),
            user=config.get("User") or "",
            workdir=config.get("WorkingDir") or "",
            volumes=sorted(config.get("Volumes") or {}),
            stop_signal=config.get("StopSignal") or "",
        )


@dataclass(frozen=True)
class StepRecord:
    """One step of a Builder (copy, add or run), as the step cache saw it.

    outcome is "hit" (taken from the cache: nothing ran), "miss" (ran, and
    its result was kept), "uncached" (ran; reason says why it could not be
    cached) or "failed" (raised).  For a miss, reason names the first input
    that differs from the nearest earlier entry.  duration is in seconds.
    """

    index: int
    kind: str
    summary: str
    outcome: str
    duration: float
    reason: str = ""
    key: str = ""

    @property
    def hit(self) -> bool:
        return self.outcome == "hit"


class StepReport(list[StepRecord], RichRepr):
    """The steps of a Builder in order (Builder.steps); an HTML table in Jupyter."""

    @property
    def hits(self) -> int:
        return sum(1 for step in self if step.hit)

    def __str__(self) -> str:
        """The report as a text table (what print() shows)."""
        return to_text(self)
