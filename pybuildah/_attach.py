"""Writing an image's stored attachments next to it in a registry (push(attach=...)).

The public side, listing and fetching them back, is pybuildah.attestations.
An attachment kind is one entry of ``KINDS``: SBOMs and signatures are
added the same way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _api, _checks, _provenance
from .errors import InvalidArgument

LOGGER = logging.getLogger("pybuildah.attestations")


@dataclass(frozen=True)
class AttachmentKind:
    """How one kind of attachment is stored as an artifact."""

    artifact_type: str
    media_type: str
    annotations: Mapping[str, str] = field(default_factory=dict)


KINDS: dict[str, AttachmentKind] = {
    "provenance": AttachmentKind(_provenance.MEDIA_TYPE, _provenance.MEDIA_TYPE,
                                 {"in-toto.io/predicate-type": _provenance.PREDICATE_TYPE}),
    # commit(sbom=...)'s document; a CycloneDX one is pushed as CYCLONEDX instead
    "sbom": AttachmentKind("application/spdx+json", "application/spdx+json"),
}
CYCLONEDX = AttachmentKind("application/vnd.cyclonedx+json", "application/vnd.cyclonedx+json")

@dataclass(frozen=True)
class Referrer:
    """An artifact that names an image as its subject."""

    ref: str  # repository@digest of the artifact
    digest: str
    artifact_type: str
    size: int
    annotations: dict[str, str]


_NOT_REGISTRIES = ("oci", "oci-archive", "docker-archive", "dir", "containers-storage", "docker-daemon")


def repository(dest: str) -> str:
    """The repository of a registry reference (docker:// optional), without tag or digest."""
    name = dest.removeprefix("docker://")
    if "://" in name or name.partition(":")[0] in _NOT_REGISTRIES:
        raise InvalidArgument(f"{dest}: attachments go to a registry (a docker:// reference)")
    name = name.partition("@")[0]
    if ":" in name.rpartition("/")[2]:
        name = name[: name.rindex(":")]
    return name


def check(store: int, image: str, dest: str, kinds: Any) -> list[str]:
    """attach= values: known kinds, a registry destination, and attachments the image has; before any push."""
    names = _checks.optional_strings(kinds, "attach")
    for name in names:
        if name not in KINDS:
            raise InvalidArgument(f"attach: unknown kind {name!r} (expected one of {', '.join(sorted(KINDS))})")
    if names:
        repository(dest)
    for name in names:
        if _api.image_attachment(store=store, image=image, kind=name) is None:
            given = "sbom=\"spdx\" and an output" if name == "sbom" else f"{name}=True"
            raise InvalidArgument(f"attach: {image} has no {name} (build or commit it with {given})")
    return names


def push(store: int, image: str, dest: str, digest: str, kinds: list[str],
         access: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Attach each stored attachment of image to the image pushed to dest with digest; their descriptors."""
    if not kinds:
        return []
    repo = repository(dest)
    out = []
    for kind in kinds:
        data = _api.image_attachment(store=store, image=image, kind=kind)
        assert data is not None  # check() ran before the push
        if kind == "provenance":  # its subject becomes the pushed manifest
            statement = json.loads(data)
            statement["subject"] = [{"name": repo, "digest": _provenance.digest_map(digest)}]
            data = _provenance.dumps(statement).decode()
        spec = KINDS[kind]
        if kind == "sbom" and "bomFormat" in json.loads(data):
            spec = CYCLONEDX
        desc = _api.attach_push(store=store, ref=f"{repo}@{digest}", artifact_type=spec.artifact_type,
                                media_type=spec.media_type, data=data, annotations=dict(spec.annotations),
                                **access)
        LOGGER.info("Attached %s to %s@%s: %s", kind, repo, digest, desc["digest"])
        out.append(desc)
    return out


def by_digest(store: int, ref: str, access: Mapping[str, Any]) -> str:
    """ref as repository@digest, asking the registry for a tag's digest."""
    ref = _checks.text(ref, "ref").removeprefix("docker://")
    if "@" in ref:
        return ref
    found = _api.inspect_image(store=store, ref=f"docker://{ref}", **access)
    return f"{repository(ref)}@{found['digest']}"


def referrers(store: int, ref: str, artifact_type: str | None, access: Mapping[str, Any]) -> list[Referrer]:
    """The artifacts naming the image at ref as their subject (access: the registry fields of one call)."""
    subject = by_digest(store, ref, access)
    repo = repository(subject)
    return [Referrer(ref=f"{repo}@{desc['digest']}", digest=str(desc["digest"]),
                     artifact_type=str(desc.get("artifactType") or ""), size=int(desc.get("size", 0)),
                     annotations=dict(desc.get("annotations") or {}))
            for desc in _api.referrers(store=store, ref=subject, artifact_type=artifact_type, **access)]
