"""Attestations in a registry: OCI 1.1 artifacts that name an image as their ``subject``.

``push(..., attach=["provenance"])`` writes the image's stored provenance
next to it; ``referrers(ref)`` lists what names an image as its subject,
``provenance(ref)`` fetches the SLSA provenance back.  Registries without
the OCI referrers API (most self-hosted ones) are served as cosign and
oras serve them: an index tagged ``sha256-<hex of the image's digest>``
lists the artifacts (the "referrers tag schema" of OCI distribution 1.1).
An attachment kind is one entry of ``KINDS``: SBOMs and signatures are
attached the same way.
"""

from __future__ import annotations

import json
from typing import Any, Unpack

from . import _api, _attach, _checks, _provenance
from ._attach import KINDS, AttachmentKind, Referrer
from ._provenance import dumps, tree_digest
from ._transfer import registry_access
from .errors import ChecksumMismatch
from .options import RegistryAccess, RegistryOptions, registry_options
from .store import Store, resolve

__all__ = ["KINDS", "AttachmentKind", "Referrer", "dumps", "fetch", "provenance", "referrers", "tree_digest"]


def referrers(ref: str, *, artifact_type: str | None = None, store: Store | None = None,
              registry: RegistryOptions | None = None, **access: Unpack[RegistryAccess]) -> list[Referrer]:
    """The artifacts in the registry that name the image at ref (repo:tag or repo@digest) as their subject."""
    target, options = resolve(store), registry_options(registry, access)
    with registry_access(options) as (wire, _):
        return _attach.referrers(target.handle, ref, _checks.optional_text(artifact_type, "artifact_type"), wire)


def fetch(referrer: Referrer, *, subject: str | None = None, store: Store | None = None,
          registry: RegistryOptions | None = None, **access: Unpack[RegistryAccess]) -> bytes:
    """An artifact's content, checked against its digest (and against subject, repository@digest, if given)."""
    target, options = resolve(store), registry_options(registry, access)
    subject_digest = subject.partition("@")[2] if subject else None
    with registry_access(options) as (wire, _):
        found = _api.fetch_attachment(store=target.handle, ref=referrer.ref, subject=subject_digest, **wire)
    return str(found["data"]).encode()


def provenance(ref: str, *, store: Store | None = None, registry: RegistryOptions | None = None,
               **access: Unpack[RegistryAccess]) -> dict[str, Any] | None:
    """The SLSA provenance attached to the image at ref, or None; the last one attached wins.

    The statement must name the image's digest as its subject, or
    ChecksumMismatch is raised.
    """
    target, options = resolve(store), registry_options(registry, access)
    with registry_access(options) as (wire, _):
        by_digest = _attach.by_digest(target.handle, ref, wire)
    spec = KINDS["provenance"]
    found = [r for r in referrers(by_digest, artifact_type=spec.artifact_type, store=target, registry=options)
             if r.annotations.get("in-toto.io/predicate-type") == _provenance.PREDICATE_TYPE]
    if not found:
        return None
    statement: dict[str, Any] = json.loads(fetch(found[-1], subject=by_digest, store=target, registry=options))
    digest = by_digest.partition("@")[2]
    if not any(s.get("digest") == _provenance.digest_map(digest) for s in statement.get("subject", [])):
        raise ChecksumMismatch(f"the provenance attached to {by_digest} names another subject")
    return statement
