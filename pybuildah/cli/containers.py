"""``pybuildah containers | rm | prune``: working containers, and clearing a store out.

Output follows the other commands: a table (or IDs) for people, JSON with ``--format json``.
"""

from __future__ import annotations

import argparse
from typing import Any

from .. import store as stores
from ..builder import Builder
from ..errors import InvalidArgument
from ._common import format_flag, open_store, print_json, print_table


def register(subparsers: Any) -> None:
    """Add the container subcommands."""
    p = subparsers.add_parser("containers", help="list working containers")
    p.add_argument("--filter", "-f", action="append", default=[], metavar="KEY=VALUE",
                   help="id=PREFIX, name=PART or ancestor=IMAGE (repeatable; all must match)")
    p.add_argument("--quiet", "-q", action="store_true", help="print only container IDs")
    format_flag(p)
    p.set_defaults(handler=cmd_containers)

    p = subparsers.add_parser("rm", help="remove working containers")
    p.add_argument("containers", nargs="*", metavar="NAME", help="container names or IDs")
    p.add_argument("--all", "-a", action="store_true", help="remove every working container")
    format_flag(p)
    p.set_defaults(handler=cmd_rm)

    p = subparsers.add_parser("prune", help="remove every working container and every dangling image")
    format_flag(p)
    p.set_defaults(handler=cmd_prune)


def cmd_containers(args: argparse.Namespace) -> int:
    containers = stores.resolve(open_store(args)).containers(filters=args.filter)
    if args.format == "json":
        print_json([{"id": c.id, "name": c.name, "from_image": c.from_image, "image_id": c.image_id}
                    for c in containers])
        return 0
    if args.quiet:
        for container in containers:
            print(container.id)
        return 0
    rows = [("CONTAINER ID", "IMAGE ID", "IMAGE NAME", "CONTAINER NAME")]
    rows += [(c.id[:12], c.image_id[:12], c.from_image, c.name) for c in containers]
    print_table(rows)
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    if args.all == bool(args.containers):
        raise InvalidArgument("name the containers to remove, or use --all (not both)")
    target = stores.resolve(open_store(args))
    names = [c.id for c in target.containers()] if args.all else args.containers
    builders = [Builder.open(name, store=target) for name in names]  # every name must exist before any goes
    removed = []
    for builder in builders:
        builder.delete()
        removed.append(builder.id)
    if args.format == "json":
        print_json({"containers": removed})
    else:
        for container_id in removed:
            print(container_id)
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    report = stores.resolve(open_store(args)).prune()
    if args.format == "json":
        print_json({"containers": report.containers, "images": report.images})
    else:
        for removed in (*report.containers, *report.images):
            print(removed)
    return 0
