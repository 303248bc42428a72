"""The step cache of Builder(cache=True): the chain of step keys, hits, misses and the report.

Go computes each key (hashing the local files a step reads) and keeps the
entries as unnamed images in the store; this module carries the chain from
one step to the next and decides what cannot be cached.  See docs/design.md,
"The step cache".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from . import _api, _checks
from ._records import StepRecord, StepReport
from .errors import BuildahError
from .options import RegistryOptions
from .registry import pull
from .store import Store

LOGGER = logging.getLogger("pybuildah")


@dataclass
class Step:
    """A step being made: its key (when cacheable) and what the lookup found."""

    kind: str
    summary: str
    started: float = field(default_factory=time.monotonic)
    outcome: str = "uncached"
    reason: str = ""
    key: str = ""
    result: dict[str, Any] | None = None  # a run's stored RunResult, for a hit

    @property
    def hit(self) -> bool:
        return self.outcome == "hit"


class StepCache:
    """The cache state of one Builder: the last step's key and the image its content is in."""

    def __init__(self, base_image_id: str, store: Store | None = None, *, cache_from: Sequence[str] = (),
                 cache_to: Sequence[str] = (), registry: RegistryOptions | None = None) -> None:
        self.base = base_image_id or "scratch"
        self.store = store
        self.cache_from, self.cache_to = list(cache_from), list(cache_to)  # registry repositories
        self.registry = registry or RegistryOptions()
        self.key = ""  # the last step's key; "" before the first step
        self.broken = ""  # why later steps cannot be cached; "" while they can
        self.pending: str | None = None  # image to rebase the container on before it is next used
        self.config: list[dict[str, Any]] = []  # config changes since the last step
        self.missed = False  # the last step missed
        self.steps = StepReport()

    @property
    def chain_key(self) -> str | None:
        """What a copy from this Builder depends on: the last key, or None when it can't be known."""
        if self.broken:
            return None
        return self.key or "base:" + self.base

    def begin(self, handle: int, kind: str, summary: str, args: dict[str, Any], *,
              sources: Sequence[str] = (), parents: bool = False, why_not: str = "") -> Step:
        """Look the step up; a hit means the caller does nothing."""
        step = Step(kind, summary)
        why_not = why_not or self.broken
        if why_not:
            step.reason = why_not
            return step
        raw = _api.step_lookup(
            builder=handle, parent=self.key or None, base=self.base, kind=kind,
            args={**args, "config": self.config}, sources=[_checks.wire_path(s) for s in sources],
            parents=parents,
        )
        step.key = raw["key"]
        if not raw["hit"] and self.cache_from:
            raw = self._pull(handle, step.key) or raw
        if raw["hit"]:
            step.outcome, step.result = "hit", raw.get("result")
            self._advance(step.key, raw["hit"], missed=False)
            self.record(step)
        else:
            step.outcome = "miss"
            step.reason = "parent step missed" if self.missed else raw["reason"]
        return step

    def finish(self, handle: int, step: Step, result: dict[str, Any] | None = None) -> None:
        """After a step ran: keep a miss's result under its key, record the step."""
        if step.outcome == "miss":
            try:
                image = _api.step_save(builder=handle, key=step.key, result=result,
                                       created_by=f"pybuildah step: {step.kind} {step.summary}")
            except BaseException as error:  # the step itself succeeded: go on without the cache
                step.outcome, step.reason = "uncached", f"could not keep it: {type(error).__name__}"
                self.broken = "an earlier step could not be kept"
                if not isinstance(error, BuildahError):  # Ctrl-C: the chain ends here, then stop
                    self.record(step)
                    raise
                LOGGER.warning("step cache: could not keep step %d (%s): %s", len(self.steps) + 1,
                               step.summary, error)
            else:
                self._advance(step.key, image, missed=True)
                self._push(image, step.key)
        else:
            self.broken = self.broken or "parent step not cached"
        self.record(step)

    def failed(self, step: Step, error: BaseException) -> None:
        """The step raised: what the container holds is unknown, so the chain ends here."""
        why_not = f" ({step.reason})" if step.outcome == "uncached" and step.reason else ""
        step.outcome, step.reason = "failed", type(error).__name__ + why_not
        self.broken = "an earlier step failed"
        self.record(step)

    def touched(self, how: str) -> None:
        """The file system may have changed outside a step (mount())."""
        self.broken = self.broken or f"not cacheable after {how}"

    def _pull(self, handle: int, key: str) -> dict[str, Any] | None:
        """The entry for key from the first cache_from repository that has it, adopted into the store."""
        assert self.store is not None
        for repo in self.cache_from:
            try:
                image = pull(f"{repo}:{key}", store=self.store, progress=None, registry=self.registry)
            except BuildahError as error:  # not there (or unreachable): a miss, as without cache_from
                LOGGER.debug("step cache: %s:%s not pulled: %s", repo, key, error)
                continue
            found = _api.step_adopt(builder=handle, image=image.id, key=key)
            image.untag(f"{repo}:{key}")  # an entry, reclaimed by prune like the others
            return found
        return None

    def _push(self, image: str, key: str) -> None:
        """Push a new entry to every cache_to repository, tagged with its key."""
        for repo in self.cache_to:
            assert self.store is not None
            self.store.image(image).push(f"{repo}:{key}", progress=None, registry=self.registry)

    def _advance(self, key: str, image: str, *, missed: bool) -> None:
        self.key, self.pending, self.missed = key, image, missed
        self.config = []

    def record(self, step: Step) -> None:
        self.steps.append(StepRecord(index=len(self.steps) + 1, kind=step.kind, summary=step.summary,
                                     outcome=step.outcome, duration=time.monotonic() - step.started,
                                     reason=step.reason, key=step.key))


def summary(text: str, limit: int = 60) -> str:
    """text shortened to limit characters for the report."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_args(argv: list[str], env: dict[str, str | None], input_data: bytes | None, **options: Any) -> dict[str, Any]:
    """A run's key arguments: the command, its environment and options, the digest of its input."""
    import hashlib  # here, not at import: OpenSSL's hashlib takes milliseconds to load

    return {"command": argv, "env": sorted(f"{k}={v}" for k, v in env.items()),
            "input": hashlib.sha256(input_data).hexdigest() if input_data is not None else None, **options}


def run_uncacheable(volumes: Sequence[str] | None, mounts: Sequence[str] | None, cache: bool, streamed: bool) -> str:
    """Why a run cannot be cached ("" if it can): its inputs are outside what the key sees."""
    if not cache:
        return "not cacheable: cache=False"
    if streamed:
        return "not cacheable: input= is a stream"
    if volumes:
        return "not cacheable: volumes="
    for spec in mounts or ():
        fields = dict(part.partition("=")[::2] for part in spec.split(","))
        if fields.get("type") != "tmpfs":
            return f"not cacheable: {fields.get('type') or 'bind'} mounts="
    return ""
