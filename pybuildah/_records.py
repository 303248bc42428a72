"""Plain records that Go returns: their field names are the wire's (see tests/test_contract.py)."""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field, fields
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
    """One step of a Builder (copy, add or run) or of a build() (a Containerfile instruction).

    outcome is "hit" (taken from the cache: nothing ran), "miss" (ran, and
    its result was kept), "uncached" (ran; reason says why it could not be
    cached) or "failed" (raised).  For a Builder's miss, reason names the
    first input that differs from the nearest earlier entry.  duration is in
    seconds.

    build() fills the rest from what Buildah measured: the stage (its name,
    or its index as text) and stage_index, step as the log's STEP lines
    number it (1 is the stage's FROM), the instruction as written, the
    image the step committed or reused, the layer it added (layer_digest is
    its diff ID, as in Image.layers; layer_size its uncompressed bytes) and
    the resource use of the child processes that ended during the step
    (user_time and system_time in seconds, read_bytes and written_bytes).
    Fields a flow does not fill are "" or None.
    """

    index: int
    kind: str
    summary: str
    outcome: str
    duration: float
    reason: str = ""
    key: str = ""
    stage: str = ""
    stage_index: int | None = None
    step: int | None = None
    instruction: str = ""
    image: str = ""
    layer_digest: str = ""
    layer_size: int | None = None
    user_time: float | None = None
    system_time: float | None = None
    read_bytes: int | None = None
    written_bytes: int | None = None

    @property
    def hit(self) -> bool:
        return self.outcome == "hit"

    @property
    def cpu_time(self) -> float | None:
        """user_time + system_time, or None where not measured."""
        if self.user_time is None or self.system_time is None:
            return None
        return self.user_time + self.system_time

    @classmethod
    def _from_build(cls, index: int, raw: dict[str, Any], cached: str) -> StepRecord:
        """A record from Go's BuildStep; cached is "" when the build looked up its cache, else why not."""
        kind, instruction = str(raw.get("kind") or ""), str(raw.get("instruction") or "")
        if kind == "from":
            outcome, reason = "uncached", "a stage's base image"
        elif cached:
            outcome, reason = "uncached", cached
        else:
            outcome, reason = ("hit" if raw.get("cache_hit") else "miss"), ""
        words = instruction.split(None, 1)
        return cls(index=index, kind=kind, summary=words[1] if len(words) > 1 else "", outcome=outcome,
                   duration=float(raw.get("duration") or 0.0), reason=reason, stage=str(raw.get("stage") or ""),
                   stage_index=int(raw.get("stage_index") or 0), step=int(raw.get("step") or 0),
                   instruction=instruction, image=str(raw.get("image") or ""),
                   layer_digest=str(raw.get("layer_digest") or ""),
                   layer_size=None if raw.get("layer_size") is None else int(raw["layer_size"]),
                   user_time=float(raw.get("user_time") or 0.0), system_time=float(raw.get("system_time") or 0.0),
                   read_bytes=int(raw.get("read_bytes") or 0), written_bytes=int(raw.get("written_bytes") or 0))


class StepReport(list[StepRecord], RichRepr):
    """Steps in order: Builder.steps, or Image.build_steps after build(); an HTML table in Jupyter."""

    @property
    def hits(self) -> int:
        return sum(1 for step in self if step.hit)

    @property
    def duration(self) -> float:
        """The steps' durations added up, in seconds."""
        return sum(step.duration for step in self)

    def to_records(self) -> list[dict[str, Any]]:
        """The steps as plain dicts (str, int, float, None): ``pandas.DataFrame(report.to_records())``."""
        return [asdict(step) for step in self]

    def __str__(self) -> str:
        """The report as a text table (what print() shows)."""
        return to_text(self)
