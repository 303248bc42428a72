"""``pybuildah manifest create | add | annotate | remove | inspect | push | rm``, as `buildah manifest`."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import InvalidArgument
from ..manifest import Manifest
from ._common import boolean, force_compression_flag, open_store, registry_flags, signing, signing_flags


def register(subparsers: Any) -> None:
    top = subparsers.add_parser("manifest", help="manipulate manifest lists (one image per platform)",
                                description="Create, change, inspect and push manifest lists, as `buildah manifest`.")
    commands = top.add_subparsers(dest="manifest_command", required=True, metavar="SUBCOMMAND")

    p = commands.add_parser("create", help="make an empty manifest list (and add images to it)")
    p.add_argument("list", help="the list's name")
    p.add_argument("images", nargs="*", help="images to add (local names or IDs, or transport references)")
    p.add_argument("--all", action="store_true", help="add every image of lists being added")
    p.set_defaults(handler=cmd_create)

    p = commands.add_parser("add", help="add an image to a manifest list")
    p.add_argument("list")
    p.add_argument("image", help="a local image name or ID, or a transport reference (docker://...)")
    _entry_flags(p)
    p.add_argument("--all", action="store_true", help="add every image of a list being added")
    registry_flags(p)
    p.set_defaults(handler=cmd_add)

    p = commands.add_parser("annotate", help="set an entry's platform or annotations (or the list's, with --index)")
    p.add_argument("list")
    p.add_argument("instance", nargs="?", help="the entry: its digest, or a local image in the list")
    _entry_flags(p)
    p.add_argument("--index", action="store_true", help="annotate the list itself")
    p.set_defaults(handler=cmd_annotate)

    p = commands.add_parser("remove", help="take an entry out of a manifest list")
    p.add_argument("list")
    p.add_argument("instance", help="the entry: its digest, or a local image in the list")
    p.set_defaults(handler=cmd_remove)

    p = commands.add_parser("inspect", help="print a manifest list (local, or docker://...)")
    p.add_argument("list")
    p.add_argument("--tls-verify", type=boolean, nargs="?", const=True, default=True, metavar="BOOL")
    p.add_argument("--authfile")
    p.set_defaults(handler=cmd_inspect)

    p = commands.add_parser("push", help="push a manifest list and its images")
    p.add_argument("list")
    p.add_argument("destination", nargs="?", help="where to push (default: the list's name)")
    p.add_argument("--all", type=boolean, nargs="?", const=True, default=True, metavar="BOOL",
                   help="push the images too, not only the list (default true)")
    p.add_argument("--format", dest="image_format", choices=("oci", "docker"), help="manifest type to write")
    p.add_argument("--digestfile", help="also write the pushed list's digest to this file")
    p.add_argument("--compression-format", choices=("gzip", "zstd", "zstd:chunked"), help="layer compression")
    force_compression_flag(p)
    registry_flags(p)
    signing_flags(p)
    p.set_defaults(handler=cmd_push)

    p = commands.add_parser("rm", help="remove manifest lists (not the images they list)")
    p.add_argument("lists", nargs="+")
    p.set_defaults(handler=cmd_rm)


def _entry_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--os", help="the entry's operating system (default: the image's)")
    p.add_argument("--arch", help="the entry's architecture (default: the image's)")
    p.add_argument("--variant", help="the entry's architecture variant, e.g. v8")
    p.add_argument("--annotation", action="append", default=[], metavar="K=V", help="an annotation (repeatable)")


def _annotations(values: list[str]) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep:
            raise InvalidArgument(f'no "=" in annotation {value!r}')
        out[key] = val
    return out


def cmd_create(args: argparse.Namespace) -> int:
    manifest = Manifest.create(args.list, store=open_store(args))
    for image in args.images:
        manifest.add(image, all=args.all)
    print(manifest.id)
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    manifest = Manifest(args.list, store=open_store(args))
    digest = manifest.add(args.image, all=args.all, os=args.os, arch=args.arch, variant=args.variant,
                          annotations=_annotations(args.annotation), tls_verify=args.tls_verify,
                          cert_dir=args.cert_dir, authfile=args.authfile)
    print(f"{manifest.id}: {digest}")
    return 0


def cmd_annotate(args: argparse.Namespace) -> int:
    if args.index == bool(args.instance):
        raise InvalidArgument("name an entry (digest or image), or give --index for the list itself")
    manifest = Manifest(args.list, store=open_store(args))
    manifest.annotate(args.instance, os=args.os, arch=args.arch, variant=args.variant,
                      annotations=_annotations(args.annotation))
    print(manifest.id)
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    manifest = Manifest(args.list, store=open_store(args))
    manifest.remove(args.instance)
    print(f"{manifest.id}: {args.instance}")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    listed = Manifest(args.list, store=open_store(args)).inspect(tls_verify=args.tls_verify, authfile=args.authfile)
    print(json.dumps(listed.json(), indent=4))
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    manifest = Manifest(args.list, store=open_store(args))
    digest = manifest.push(args.destination or args.list, all=args.all, format=args.image_format,
                           compression=args.compression_format, force_compression=args.force_compression,
                           tls_verify=args.tls_verify, cert_dir=args.cert_dir, authfile=args.authfile,
                           **signing(args))
    if args.digestfile:
        with open(args.digestfile, "w") as out:
            out.write(digest)
    print(digest)
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    store = open_store(args)
    for name in args.lists:
        manifest = Manifest(name, store=store)
        list_id = manifest.id
        manifest.delete()
        print(list_id)
    return 0
