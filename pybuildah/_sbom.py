"""SBOMs of a working container's root file system (commit(sbom=...), build(sbom=...)).

The scanner is our own executable, pybuildah-sbomscan (go/sbomscan): syft's
image catalogers from syft's Go module, run over the mounted root as a
directory.  It runs as a child process, so a scan never shares the host
interpreter's memory or signals; Ctrl-C, a signal handler's exception or a
cancelled pybuildah.aio task kills it at once.
docs/design.md, "SBOMs", says why it is not Buildah's scanner-image path.
"""

from __future__ import annotations

import logging
import os
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from . import _api, _checks, _ffi
from ._checks import PathLike
from .errors import InvalidArgument, SBOMError

LOGGER = logging.getLogger("pybuildah.sbom")
SCANNER_PATH = Path(os.environ.get("PYBUILDAH_SBOMSCAN",
                                   Path(__file__).resolve().parent / "_native" / "pybuildah-sbomscan"))
# sbom= values: our two names, and Buildah's syft presets (buildah build --sbom syft...).
FORMATS = {"spdx": "spdx-json", "cyclonedx": "cyclonedx-json",
           "syft": "spdx-json", "syft-spdx": "spdx-json", "syft-cyclonedx": "cyclonedx-json"}


class Scannable(Protocol):
    """What apply() needs of a Builder (builder imports this module, not the other way round)."""

    name: str

    def mount(self) -> AbstractContextManager[Path]: ...

    def copy(self, src: str, dest: str, *, chmod: str | int | None = None, cache: bool = True) -> None: ...


@dataclass(frozen=True)
class Request:
    """What to scan for and where the results go."""

    format: str  # the scanner's -format
    output: Path | None  # a host file
    image_output: str | None  # an absolute path inside the image
    purl_output: Path | None  # a host file: one purl a line


def request(sbom: Any, output: Any = None, image_output: Any = None, purl_output: Any = None) -> Request | None:
    """Check the sbom options (None: no SBOM asked for)."""
    given = {"sbom_output": output, "sbom_image_output": image_output, "sbom_purl_output": purl_output}
    if sbom is None:
        named = [name for name, value in given.items() if value is not None]
        if named:
            raise InvalidArgument(f"{', '.join(named)} given without sbom= (\"spdx\" or \"cyclonedx\")")
        return None
    kind = _checks.text(sbom, "sbom")
    if kind not in FORMATS:
        raise InvalidArgument(f"unknown sbom {kind!r}: use one of {', '.join(sorted(FORMATS))}")
    host = _checks.optional_path(output, "sbom_output")
    inside = _checks.optional_text(image_output, "sbom_image_output")
    purls = _checks.optional_path(purl_output, "sbom_purl_output")
    if host is None and inside is None:
        raise InvalidArgument("sbom= needs sbom_output= (a host file) or sbom_image_output= (a path in the image)")
    if inside is not None and not inside.startswith("/"):
        raise InvalidArgument(f"sbom_image_output must be an absolute path in the image, not {inside!r}")
    return Request(FORMATS[kind], Path(host) if host else None, inside, Path(purls) if purls else None)


def scan(root: PathLike, format: str, output: Path, purl_output: Path | None = None, name: str = "") -> None:
    """Run the scanner over root; its SBOM goes to output (and its purls to purl_output)."""
    if not SCANNER_PATH.exists():
        raise SBOMError(f"the SBOM scanner {SCANNER_PATH.name} is missing: reinstall pybuildah")
    argv = [str(SCANNER_PATH), "-root", os.fspath(root), "-format", format, "-output", str(output), "-name", name]
    if purl_output is not None:
        argv += ["-purl-output", str(purl_output)]
    LOGGER.info("Scanning %s for an SBOM (%s)", name or root, format)
    what = name or os.fspath(root)
    returncode, stderr = _run_scanner(argv, what=what)
    if returncode != 0:
        raise SBOMError(f"SBOM scan of {what} failed: {stderr.strip()[-500:]}")


def _run_scanner(argv: list[str], *, what: str) -> tuple[int, str]:
    """Run the scanner, waiting in short steps: an exception or a cancelled aio task kills it first."""
    import subprocess  # here, not at import: only an SBOM scan needs it

    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
    try:
        while True:
            try:
                _, stderr = child.communicate(timeout=0.05)
                return child.returncode, stderr
            except subprocess.TimeoutExpired:
                if _ffi.cancel_requested():
                    raise SBOMError(f"SBOM scan of {what} was cancelled") from None
    finally:
        if child.returncode is None:  # interrupted or cancelled: no scanner outlives the call
            child.kill()
            child.communicate()


def _publish(source: Path, target: Path) -> None:
    """Copy a finished file to where the caller asked, replacing it in one step."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    import shutil

    shutil.copyfile(source, partial)
    os.replace(partial, target)


def keep(store: int, image: str, document: str) -> None:
    """Keep the SBOM with the image in the store, for push(attach=["sbom"])."""
    _api.image_attachment(store=store, image=image, kind="sbom", data=document)


def apply(builder: Scannable, req: Request) -> str:
    """Scan builder's root file system; write the host outputs and copy the SBOM into the image; the SBOM."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="pybuildah-sbom-") as work:
        out, purls = Path(work) / "sbom.json", Path(work) / "purls.txt"
        with builder.mount() as root:
            scan(root, req.format, out, purls if req.purl_output else None, name=builder.name)
        document = out.read_text()
        if req.output is not None:
            _publish(out, req.output)
        if req.purl_output is not None:
            _publish(purls, req.purl_output)
        if req.image_output is not None:
            parent, leaf = req.image_output.rstrip("/").rsplit("/", 1)
            named = Path(work) / leaf
            out.rename(named)
            builder.copy(str(named), (parent or "/") + "/", chmod=0o644, cache=False)
    return document

