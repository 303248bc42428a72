"""Images: what commit, build and pull return.

An Image is a live view of one image, named by its ID: tag() and untag()
update ``names`` in place, and reload() reads everything again.  Every
action (save, push, tag, remove) names the image by ID, never by a name
that may have moved to another image since.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Unpack

from . import _api, _attach, _checks, _ffi, _transfer, display
from ._attach import Referrer
from ._checks import PathLike
from ._records import ImageConfig, StepReport
from ._storecore import LiveHandle, StoreHandle
from .errors import ImageNotFound
from .options import RegistryAccess, RegistryOptions, registry_options, signing_wire
from .progress import AUTO, ProgressCallback, ProgressOption, handler


class Image(LiveHandle, display.RichRepr):
    """An image in a store, or at a transport reference such as oci-archive:/x.tar."""

    _REOPEN = "its ID or name, and look it up with Store.image() there"

    id: str
    names: list[str]
    digest: str
    size: int
    created: datetime | None
    config: ImageConfig
    history: list[dict[str, Any]]
    layers: list[str]
    os: str
    architecture: str
    annotations: dict[str, str]
    #: The steps of the build() that returned this Image (empty for any other Image).
    build_steps: StepReport

    def __init__(self, store: StoreHandle, info: dict[str, Any], reference: str | None = None,
                 registry: RegistryOptions | None = None) -> None:
        self.store = store
        self._reference = reference
        # How an external image was reached (never its credentials), for reload() and inspect().
        self._registry = RegistryOptions(tls_verify=registry.tls_verify, cert_dir=registry.cert_dir,
                                         authfile=registry.authfile) if registry else RegistryOptions()
        self.build_steps = StepReport()
        self._fill(info)

    def _fill(self, info: dict[str, Any]) -> None:
        self._raw = info
        self.id = info["id"]
        self.names = list(info.get("names") or [])
        self.digest = info.get("digest") or ""
        self.size = int(info.get("size", -1))
        self.created = _parse_time(info.get("created"))
        self.config = ImageConfig._from_oci(info.get("config") or {})
        self.history = list(info.get("history") or [])
        self.layers = list(info.get("layers") or [])
        self.os = info.get("os") or ""
        self.architecture = info.get("architecture") or ""
        self.annotations = dict(info.get("annotations") or {})

    def __repr__(self) -> str:
        return f"<pybuildah.Image {self.short_id} {self.names!r}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Image) and (other.id, other.reference) == (self.id, self.reference)

    def __hash__(self) -> int:
        return hash((self.id, self.reference))

    @property
    def labels(self) -> dict[str, str]:
        """The image's labels (the same as config.labels)."""
        return self.config.labels

    @property
    def digests(self) -> list[str]:
        """Every manifest digest the store knows for this image (local, pushed and pulled ones)."""
        return list(self._raw.get("digests") or ([self.digest] if self.digest else []))

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def manifest_type(self) -> str:
        """The manifest's media type: OCI (format="oci") or Docker schema 2 (format="docker")."""
        return str(self._raw.get("manifest_type") or "")

    @property
    def reference(self) -> str:
        """How to name this image in calls: a transport reference for external images, else the ID."""
        return self._reference or self.id

    @property
    def provenance(self) -> dict[str, Any] | None:
        """The SLSA provenance kept with the image (build or commit with provenance=True), else None."""
        if self._reference:
            return None
        data = _api.image_attachment(store=self.store.handle, image=self.id, kind="provenance")
        return None if data is None else dict(json.loads(data))

    def referrers(self, dest: str, *, artifact_type: str | None = None, registry: RegistryOptions | None = None,
                  **access: Unpack[RegistryAccess]) -> list[Referrer]:
        """The artifacts naming the image at dest (where it was pushed: repo:tag or repo@digest) as their subject."""
        with _transfer.registry_access(registry_options(registry, access)) as (wire, _):
            return _attach.referrers(self.store.handle, dest, _checks.optional_text(artifact_type, "artifact_type"),
                                     wire)

    def inspect(self) -> dict[str, Any]:
        """The full record, with the top-level keys that `buildah inspect --type image` prints."""
        with _transfer.registry_access(self._registry) as (access, _):
            return _api.inspect_build_info(store=self.store.handle, ref=self.reference, **access)

    def reload(self) -> Image:
        """Read the image again from the store (or from its transport); returns self."""
        with _transfer.registry_access(self._registry) as (access, _):
            self._fill(_api.inspect_image(store=self.store.handle, ref=self.reference, **access))
        return self

    # Life cycle ------------------------------------------------------------------

    def _stored_id(self, action: str) -> str:
        """The ID to act on; an image outside the store (an archive, a registry) cannot be acted on here."""
        if self._reference:
            raise ImageNotFound(f"cannot {action} {self._reference}: it is not in the store; "
                                "pybuildah.load() or pybuildah.pull() it first")
        return self.id

    def tag(self, name: str) -> None:
        """Add a name ("app:1.0" becomes localhost/app:1.0); names is updated."""
        self.names = _api.tag_image(store=self.store.handle, ref=self._stored_id("tag"),
                                    names=[_checks.text(name, "name")])

    def untag(self, name: str) -> None:
        """Remove one name; the image stays.  Raises ImageNotFound if it has no such name."""
        self.names = _api.untag_image(store=self.store.handle, ref=self._stored_id("untag"),
                                      names=[_checks.text(name, "name")])

    def remove(self, force: bool = False) -> None:
        """Remove the image from its store.

        An image with several names, or one that working containers use,
        raises ImageInUse unless force (which also deletes those containers).
        """
        _api.remove_image(store=self.store.handle, ref=self._stored_id("remove"), force=_checks.flag(force, "force"))

    def save(self, path: PathLike, format: str = "oci-archive",
             progress: ProgressCallback | None = None) -> None:
        """Write the image to path: "oci-archive" or "docker-archive" (a tar file), "oci" or "dir" (a directory)."""
        target = _checks.wire_path(_checks.absolute(path, "path"))
        with _ffi.events(handler(progress)) as stream:
            _api.save_image(store=self.store.handle, ref=self._stored_id("save"), path=target,
                            format=_checks.text(format, "format"), stream=stream)

    def push(
        self,
        dest: str,
        *,
        registry: RegistryOptions | None = None,
        format: str | None = None,
        compression: str | None = None,
        compression_level: int | None = None,
        force_compression: bool | None = None,
        attach: Sequence[str] | None = None,
        progress: ProgressOption = AUTO,
        sign_by: str | None = None,
        sign_by_sigstore_key: PathLike | None = None,
        sign_passphrase: str | bytes | None = None,
        **access: Unpack[RegistryAccess],
    ) -> str:
        """Push to a registry (or any transport) and return the pushed manifest digest; see pybuildah.push.

        sign_by_sigstore_key and sign_passphrase sign it (see pybuildah.push).
        """
        return _transfer.push(
            self.store.handle, self._stored_id("push"), _checks.text(dest, "dest"),
            registry_options(registry, access),
            format=_checks.optional_text(format, "format"),
            compression=_checks.optional_text(compression, "compression"),
            compression_level=_checks.optional_integer(compression_level, "compression_level"),
            force_compression=_checks.optional_flag(force_compression, "force_compression"),
            progress=progress, signing=signing_wire(sign_by, sign_by_sigstore_key, sign_passphrase),
            attach=attach,
        )


def _parse_time(value: str | None) -> datetime | None:
    """Parse Go's RFC 3339 time (up to nine fractional digits) into a datetime."""
    if not value or value.startswith("0001-01-01"):
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.replace("Z", "+00:00"))
    return datetime.fromisoformat(text)
