"""Images: what commit and build return, with enough inspection to check them."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import _ffi
from .progress import ProgressCallback, handler
from .store import Store

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class ImageConfig:
    """The runtime configuration recorded in an image."""

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


def env_dict(pairs: list[str]) -> dict[str, str]:
    """Turn ["K=V", ...] into {"K": "V", ...}."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        out[key] = value
    return out


@dataclass(frozen=True)
class Image:
    """An image in a store, or at a transport reference such as oci-archive:/x.tar."""

    store: Store = field(repr=False, compare=False)
    id: str
    names: list[str]
    digest: str
    size: int
    created: datetime | None
    config: ImageConfig
    history: list[dict[str, Any]] = field(repr=False)
    layers: list[str] = field(repr=False)
    os: str = field(repr=False)
    architecture: str = field(repr=False)
    annotations: dict[str, str] = field(repr=False)
    _raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_info(cls, store: Store, info: dict[str, Any], reference: str | None = None) -> Image:
        if reference:
            info = {**info, "reference": reference}
        return cls(
            store=store,
            id=info["id"],
            names=list(info.get("names") or []),
            digest=info.get("digest") or "",
            size=int(info.get("size", -1)),
            created=_parse_time(info.get("created")),
            config=ImageConfig._from_oci(info.get("config") or {}),
            history=list(info.get("history") or []),
            layers=list(info.get("layers") or []),
            os=info.get("os") or "",
            architecture=info.get("architecture") or "",
            annotations=dict(info.get("annotations") or {}),
            _raw=info,
        )

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
        return str(self._raw.get("reference") or self.id)

    def inspect(self) -> dict[str, Any]:
        """The full record, with the top-level keys that `buildah inspect --type image` prints."""
        info: dict[str, Any] = _ffi.call("InspectBuildInfo", store=self.store.handle, ref=self.reference,
                                         **self._raw.get("access", {}))
        return info

    def reload(self) -> Image:
        """Read the image again from the store (or from its transport)."""
        if "reference" in self._raw:
            return self.store.image(self.reference, **_access_kwargs(self._raw.get("access", {})))
        return Image._from_info(self.store, _ffi.call("InspectImage", store=self.store.handle, ref=self.id))

    # Life cycle ------------------------------------------------------------------

    def tag(self, name: str) -> None:
        """Add a name ("app:1.0" becomes localhost/app:1.0); names is updated."""
        names = _ffi.call("TagImage", store=self.store.handle, ref=self.id, names=[name])
        object.__setattr__(self, "names", list(names or []))

    def untag(self, name: str) -> None:
        """Remove one name; the image stays.  Raises ImageNotFound if it has no such name."""
        names = _ffi.call("UntagImage", store=self.store.handle, ref=self.id, names=[name])
        object.__setattr__(self, "names", list(names or []))

    def remove(self, force: bool = False) -> None:
        """Remove the image from its store.

        An image with several names, or one that working containers use,
        raises ImageInUse unless force (which also deletes those containers).
        """
        _ffi.call("RemoveImage", store=self.store.handle, ref=self.id, force=force)

    def save(self, path: PathLike, format: str = "oci-archive",
             progress: ProgressCallback | None = None) -> None:
        """Write the image to path: "oci-archive" or "docker-archive" (a tar file), "oci" or "dir" (a directory)."""
        ref = self.names[0] if self.names else self.id
        with _ffi.events(handler(progress)) as stream:
            _ffi.call("SaveImage", store=self.store.handle, ref=ref, path=_abspath(path),
                      format=format, stream=stream)

    def push(
        self,
        dest: str,
        *,
        tls_verify: bool = True,
        cert_dir: PathLike | None = None,
        authfile: PathLike | None = None,
        creds: str | tuple[str, str] | None = None,
        format: str | None = None,
        compression: str | None = None,
        compression_level: int | None = None,
        progress: ProgressCallback | None = None,
        retries: int | None = None,
    ) -> str:
        """Push to a registry (or any transport) and return the pushed manifest digest; see pybuildah.push."""
        from .registry import push

        return push(self.id, dest, store=self.store, tls_verify=tls_verify, cert_dir=cert_dir, authfile=authfile,
                    creds=creds, format=format, compression=compression, compression_level=compression_level,
                    progress=progress, retries=retries)


def _parse_time(value: str | None) -> datetime | None:
    """Parse Go's RFC 3339 time (up to nine fractional digits) into a datetime."""
    if not value or value.startswith("0001-01-01"):
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.replace("Z", "+00:00"))
    return datetime.fromisoformat(text)


def _abspath(path: PathLike) -> str:
    return os.path.abspath(os.fspath(path))


def _access_kwargs(access: dict[str, Any]) -> dict[str, Any]:
    """Turn stored registry options back into keyword arguments of Store.image."""
    return {
        "tls_verify": access.get("tls_verify") is not False,
        "cert_dir": access.get("cert_dir") or None,
        "authfile": access.get("authfile") or None,
    }
