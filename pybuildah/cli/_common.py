"""What the command modules share: the store the global options name, common flags, output helpers."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from typing import Any

from ..errors import InvalidArgument, SourceNotFound
from ..store import Store


def open_store(args: argparse.Namespace) -> Store | None:
    """The store that the global --root/--runroot/--storage-driver options name (None: the default)."""
    if args.root is None and args.runroot is None and args.storage_driver is None:
        return None  # an empty --root "" is given, and refused by Store
    return Store(root=args.root, runroot=args.runroot, driver=args.storage_driver)


def format_flag(p: argparse.ArgumentParser) -> None:
    """--format {text,json}, which every listing command takes."""
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format")


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Rows (the first one the header) in left-aligned columns, as buildah prints them."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def boolean(text: str) -> bool:
    """A command-line boolean, as buildah reads one (true/false, 1/0, yes/no, on/off)."""
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, not {text!r}")


def registry_flags(p: argparse.ArgumentParser) -> None:
    """--tls-verify, --cert-dir, --authfile and --quiet, which every command that reaches a registry takes."""
    p.add_argument("--tls-verify", type=boolean, nargs="?", const=True, default=True, metavar="BOOL",
                   help="verify the registry's certificate (default true)")
    p.add_argument("--cert-dir", help="directory of CA certificates (*.crt) for the registry")
    p.add_argument("--authfile", help="auth file (default: REGISTRY_AUTH_FILE or the standard places)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")


def policy_flag(p: argparse.ArgumentParser) -> None:
    """--signature-policy, as buildah's: a policy.json for this command instead of the host's."""
    p.add_argument("--signature-policy", metavar="PATH",
                   help="policy.json to check the image's signatures against (default: the host's)")


def signing_flags(p: argparse.ArgumentParser) -> None:
    """buildah push's signing flags; the passphrase comes from a file, never from an argument."""
    p.add_argument("--sign-by-sigstore-private-key", metavar="PATH", help="sign with this sigstore private key")
    p.add_argument("--sign-passphrase-file", metavar="PATH", help="read the key's passphrase from this file")
    p.add_argument("--sign-by", metavar="FINGERPRINT", help="sign with this GPG key (not supported by this build)")


def signing(args: argparse.Namespace) -> dict[str, Any]:
    """The signing keywords of push from signing_flags (the passphrase file's first line)."""
    passphrase = None
    if args.sign_passphrase_file:
        if not args.sign_by_sigstore_private_key:
            raise InvalidArgument("--sign-passphrase-file needs --sign-by-sigstore-private-key")
        try:
            with open(args.sign_passphrase_file, encoding="utf-8") as file:
                passphrase = file.readline().rstrip("\r\n")
        except OSError as exc:
            raise SourceNotFound(f"--sign-passphrase-file: {exc.strerror}: {args.sign_passphrase_file}") from None
    return {"sign_by": args.sign_by, "sign_by_sigstore_key": args.sign_by_sigstore_private_key,
            "sign_passphrase": passphrase}


def sbom_flags(p: argparse.ArgumentParser) -> None:
    """buildah's --sbom flags (build, commit): scan the image and write the SBOM to the host or into it."""
    p.add_argument("--sbom", metavar="FORMAT",
                   help="make an SBOM: spdx or cyclonedx (buildah's syft, syft-spdx, syft-cyclonedx also work)")
    p.add_argument("--sbom-output", metavar="FILE", help="write the SBOM to FILE")
    p.add_argument("--sbom-image-output", metavar="PATH", help="add the SBOM to the image at PATH")
    p.add_argument("--sbom-purl-output", metavar="FILE", help="write the packages' purls to FILE, one a line")


def sbom(args: argparse.Namespace) -> dict[str, Any]:
    """The sbom keywords of build() and commit() from sbom_flags."""
    if args.sbom is None:
        given = [flag for flag in ("sbom_output", "sbom_image_output", "sbom_purl_output") if getattr(args, flag)]
        if given:
            raise InvalidArgument(f"--{given[0].replace('_', '-')} needs --sbom (spdx or cyclonedx)")
    return {"sbom": args.sbom, "sbom_output": args.sbom_output, "sbom_image_output": args.sbom_image_output,
            "sbom_purl_output": args.sbom_purl_output}


def force_compression_flag(p: argparse.ArgumentParser) -> None:
    """--force-compression, as buildah's: on by default whenever --compression-format is given."""
    p.add_argument("--force-compression", type=boolean, nargs="?", const=True, default=None, metavar="BOOL",
                   help="recompress blobs the destination has in another compression (default: with a format)")


def pairs(values: list[str], what: str, *, from_env: bool = False) -> dict[str, str]:
    """Parse K=V options; with from_env a bare K takes its value from the environment, as buildah does."""
    out: dict[str, str] = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not key:
            raise InvalidArgument(f"{what} {value!r}: expected K=V")
        if sep:
            out[key] = val
        elif from_env:
            if key in os.environ:
                out[key] = os.environ[key]
        else:
            out[key] = ""
    return out
