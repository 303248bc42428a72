"""Manifest lists (image indexes): one name for an image per platform, as `buildah manifest`.

A Manifest names a list in a store.  ``build(platforms=[...], manifest=...)``
makes one; ``Manifest.create`` makes an empty one to ``add`` images to.
Wherever Buildah takes an image, a list's name works too: ``Builder(name)``
starts from the entry for this machine's platform (or ``platform=``'s).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Unpack

from . import _api, _attach, _checks, _transfer, display
from ._checks import PathLike
from ._records import from_wire
from ._storecore import LiveHandle
from .errors import ImageNotFound, InvalidArgument
from .image import Image
from .options import RegistryAccess, RegistryOptions, registry_options, signing_wire
from .store import Store, resolve

__all__ = ["Manifest", "ManifestEntry", "ManifestList"]


@dataclass(frozen=True)
class ManifestEntry:
    """One image of a manifest list: its manifest digest and the platform it is for."""

    digest: str
    media_type: str = ""
    size: int = 0
    os: str = ""
    architecture: str = ""
    variant: str = ""
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def platform(self) -> str:
        """The platform as os/arch[/variant], e.g. "linux/arm64"."""
        return "/".join(part for part in (self.os, self.architecture, self.variant) if part)


@dataclass(frozen=True)
class ManifestList(display.RichRepr):
    """What Manifest.inspect() returns.  ``raw`` is the JSON `buildah manifest inspect` prints."""

    id: str
    name: str = ""
    media_type: str = ""
    schema_version: int = 2
    annotations: dict[str, str] = field(default_factory=dict)
    entries: list[ManifestEntry] = field(default_factory=list)
    raw: str = ""

    @classmethod
    def _from_wire(cls, info: dict[str, Any]) -> ManifestList:
        entries = [from_wire(ManifestEntry, entry) for entry in info.get("entries") or []]
        raw = json.dumps(info.get("raw"))
        return from_wire(cls, {**info, "entries": entries, "raw": raw})

    @property
    def platforms(self) -> list[str]:
        """The platforms of the entries, in list order."""
        return [entry.platform for entry in self.entries]

    def json(self) -> Any:
        """The raw manifest list, parsed."""
        return json.loads(self.raw)

    def entry(self, platform: str) -> ManifestEntry:
        """The entry for a platform ("linux/arm64"); raises LookupError (ImageNotFound)."""
        for entry in self.entries:
            if entry.platform == platform:
                return entry
        raise ImageNotFound(f"manifest list {self.name or self.id} has no entry for {platform}")


class Manifest(LiveHandle, display.RichRepr):
    """A manifest list in a store, by name (or ID); a docker:// reference can be inspected only."""

    _REOPEN = "its name, and use Manifest(name) there"

    def __init__(self, name: str, *, store: Store | None = None) -> None:
        self.name = _checks.text(name, "name")
        self.store = resolve(store)

    @classmethod
    def create(cls, name: str, *, store: Store | None = None) -> Manifest:
        """Make an empty manifest list named name (buildah manifest create); raises InvalidArgument if taken."""
        self = cls(name, store=store)
        _api.manifest_create(store=self.store.handle, list=self.name)
        return self

    def __repr__(self) -> str:
        return f"<pybuildah.Manifest {self.name!r}>"

    @property
    def id(self) -> str:
        """The ID of the list's image in the store."""
        return str(_api.manifest_inspect(store=self.store.handle, list=self.name)["id"])

    def inspect(self, *, registry: RegistryOptions | None = None, **access: Unpack[RegistryAccess]) -> ManifestList:
        """The list's entries and platforms (buildah manifest inspect)."""
        with _transfer.registry_access(registry_options(registry, access)) as (wire, _):
            info = _api.manifest_inspect(store=self.store.handle, list=self.name, **wire)
        return ManifestList._from_wire(info)

    @property
    def entries(self) -> list[ManifestEntry]:
        return self.inspect().entries

    def add(
        self,
        image: str,
        *,
        all: bool = False,
        os: str | None = None,
        arch: str | None = None,
        variant: str | None = None,
        annotations: Mapping[str, str] | None = None,
        registry: RegistryOptions | None = None,
        **access: Unpack[RegistryAccess],
    ) -> str:
        """Add an image (local name or ID, or any transport reference) and return its digest.

        The entry's platform is the image's own; os, arch and variant
        override it.  With all=True and a list to add, every image it lists
        is added (buildah manifest add --all).
        """
        with _transfer.registry_access(registry_options(registry, access)) as (wire, _):
            result = _api.manifest_add(
                store=self.store.handle, list=self.name, image=_checks.text(image, "image"),
                all=_checks.flag(all, "all"), **_entry_platform(os, arch, variant, annotations), **wire,
            )
        return str(result["digest"])

    def annotate(
        self,
        instance: str | None = None,
        *,
        os: str | None = None,
        arch: str | None = None,
        variant: str | None = None,
        annotations: Mapping[str, str] | None = None,
    ) -> None:
        """Set an entry's platform or annotations; without instance, annotate the list itself (--index).

        instance is an entry's digest or a local image that is in the list.
        """
        _api.manifest_annotate(store=self.store.handle, list=self.name,
                               instance=_checks.optional_text(instance, "instance"),
                               **_entry_platform(os, arch, variant, annotations))

    def remove(self, instance: str) -> None:
        """Take an entry (a digest, or a local image in the list) out of the list."""
        _api.manifest_remove(store=self.store.handle, list=self.name, instance=_checks.text(instance, "instance"))

    def push(
        self,
        dest: str,
        *,
        all: bool = True,
        format: str | None = None,
        compression: str | None = None,
        compression_level: int | None = None,
        force_compression: bool | None = None,
        sign_by: str | None = None,
        sign_by_sigstore_key: PathLike | None = None,
        sign_passphrase: str | bytes | None = None,
        attach: Sequence[str] | None = None,
        registry: RegistryOptions | None = None,
        **access: Unpack[RegistryAccess],
    ) -> str:
        """Push the list and, with all (the default), every image in it; returns the list's digest.

        dest is a registry reference (with or without docker://) or any
        transport (oci:, oci-archive:, dir:).  With all=False only the
        list and this machine's entry are copied (buildah manifest push).
        compression and force_compression are pybuildah.push's.
        sign_by_sigstore_key and sign_passphrase sign the list and every
        image pushed with it (see pybuildah.push).  attach (["provenance"])
        attaches each entry's stored attachment to the entry pushed for the
        same platform (with all=True).
        """
        if attach and not all:
            raise InvalidArgument("attach= needs all=True: every entry is pushed with what is attached to it")
        instances = self._instances() if attach else []
        kinds: list[str] = []
        for _, image in instances:  # each entry's image has each attachment, checked before the push
            kinds = _attach.check(self.store.handle, image.id, dest, attach)
        with _transfer.registry_access(registry_options(registry, access)) as (wire, _):
            result = _api.manifest_push(store=self.store.handle, list=self.name, dest=_checks.text(dest, "dest"),
                                        all=_checks.flag(all, "all"), format=_checks.optional_text(format, "format"),
                                        compression=_checks.optional_text(compression, "compression"),
                                        compression_level=_checks.optional_integer(compression_level,
                                                                                   "compression_level"),
                                        force_compression=_checks.optional_flag(force_compression,
                                                                                "force_compression"),
                                        **signing_wire(sign_by, sign_by_sigstore_key, sign_passphrase), **wire)
            if kinds:
                pushed = ManifestList._from_wire(_api.manifest_inspect(
                    store=self.store.handle, list=f"docker://{_attach.repository(dest)}@{result['digest']}", **wire))
                for entry, image in instances:
                    _attach.push(self.store.handle, image.id, dest, pushed.entry(entry.platform).digest, kinds, wire)
        return str(result["digest"])

    def images(self) -> list[Image]:
        """The image of each entry, in list order (entries whose image is not in the store are left out)."""
        return [image for _, image in self._instances()]

    def _instances(self) -> list[tuple[ManifestEntry, Image]]:
        stored = self.store.images()
        return [(entry, image) for entry in self.entries for image in stored if entry.digest in image.digests]

    def delete(self) -> None:
        """Remove the list from the store; the images it lists stay (buildah manifest rm)."""
        _api.manifest_delete(store=self.store.handle, list=self.name)


def _entry_platform(os: str | None, arch: str | None, variant: str | None,
                    annotations: Mapping[str, str] | None) -> dict[str, Any]:
    """An entry's platform overrides and annotations, for Go's wire.EntryPlatform."""
    return {"os": _checks.optional_text(os, "os"), "arch": _checks.optional_text(arch, "arch"),
            "variant": _checks.optional_text(variant, "variant"),
            "annotations": _checks.string_map(annotations, "annotations")}
