"""Progress events of image copies: pull, push, commit, save and load."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class ProgressEvent:
    """One report about one blob (a layer or the config) being copied.

    ``event`` is "new" when the copy of the blob starts, "read" as bytes flow
    (about once a second), "done" when it is complete and "skipped" when the
    destination already had it.  ``size`` is -1 when unknown.  Commit reports
    only "new" and "done", without byte counts.
    """

    event: str
    digest: str
    kind: str = "blob"
    size: int = -1
    offset: int = 0
    media_type: str = ""

    @property
    def fraction(self) -> float | None:
        """How much of the blob has been copied (0.0 to 1.0), when the size is known."""
        if self.event in ("done", "skipped"):
            return 1.0
        if self.size <= 0:
            return None
        return min(1.0, self.offset / self.size)

    @classmethod
    def _from_payload(cls, payload: dict[str, Any]) -> ProgressEvent:
        return cls(
            event=str(payload.get("event", "")),
            digest=str(payload.get("digest", "")),
            kind=str(payload.get("kind") or "blob"),
            size=int(payload.get("size", -1)),
            offset=int(payload.get("offset", 0)),
            media_type=str(payload.get("media_type") or ""),
        )


ProgressCallback = Callable[[ProgressEvent], None]

# What ``progress=`` takes in pull, push, Image.push and Builder.commit: a callback, None for no
# progress at all, or "auto" (their default): bars or log records, chosen by pybuildah._notebook.
AUTO: Literal["auto"] = "auto"
ProgressOption = ProgressCallback | Literal["auto"] | None


def handler(progress: ProgressCallback | None) -> Callable[[str, Any], None] | None:
    """An _ffi event handler that hands "progress" events to progress as ProgressEvents."""
    if progress is None:
        return None

    def on_event(kind: str, payload: Any) -> None:
        if kind == "progress" and isinstance(payload, dict):
            progress(ProgressEvent._from_payload(payload))

    return on_event
