"""``pybuildah images | pull | push | tag | rmi | inspect | login | logout``.

Every command prints for people by default and JSON with ``--format json``.
Passwords are read from stdin or a prompt, never from the command line.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from .. import registry
from .. import store as stores
from ..errors import InvalidArgument, SourceNotFound
from ..image import Image
from ..progress import ProgressEvent
from ._common import (
    boolean,
    force_compression_flag,
    format_flag,
    open_store,
    policy_flag,
    print_json,
    print_table,
    registry_flags,
    signing,
    signing_flags,
)


def register(subparsers: Any) -> None:
    """Add the image and registry subcommands."""
    p = subparsers.add_parser("images", help="list images in local storage")
    p.add_argument("--all", "-a", action="store_true",
                   help="also list intermediate images (unnamed images that other images build on)")
    p.add_argument("--filter", "-f", action="append", default=[], metavar="KEY=VALUE",
                   help="as buildah images --filter: dangling=true, reference=PATTERN, label=K[=V], before=IMAGE, ...")
    format_flag(p)
    p.set_defaults(handler=cmd_images)

    p = subparsers.add_parser("pull", help="pull an image from a registry or an archive")
    p.add_argument("image", help="reference: [docker://]host/repo:tag, oci-archive:/x.tar, docker-archive:, oci:, dir:")
    p.add_argument("--all-tags", "-a", action="store_true", help="pull every tag of the repository")
    p.add_argument("--policy", default="always", choices=("always", "missing", "newer", "never"))
    p.add_argument("--platform", metavar="OS/ARCH[/VARIANT]", help="pull this platform's image of a manifest list")
    p.add_argument("--all-platforms", action="store_true", help="pull a manifest list and every image in it")
    registry_flags(p)
    policy_flag(p)
    format_flag(p)
    p.set_defaults(handler=cmd_pull)

    p = subparsers.add_parser("push", help="push an image to a registry or an archive")
    p.add_argument("image", help="local image name or ID")
    p.add_argument("destination", nargs="?", help="where to push (default: the image's name)")
    p.add_argument("--image-format", choices=("oci", "docker"), help="manifest type to write (default: keep)")
    p.add_argument("--compression-format", choices=("gzip", "zstd", "zstd:chunked"), help="layer compression")
    force_compression_flag(p)
    p.add_argument("--digestfile", help="also write the pushed manifest digest to this file")
    p.add_argument("--attach", action="append", default=[], metavar="KIND",
                   help="also push the image's stored attachment (provenance, sbom) as an OCI artifact")
    registry_flags(p)
    signing_flags(p)
    format_flag(p)
    p.set_defaults(handler=cmd_push)

    p = subparsers.add_parser("tag", help="add names to an image")
    p.add_argument("image")
    p.add_argument("names", nargs="+")
    format_flag(p)
    p.set_defaults(handler=cmd_tag)

    p = subparsers.add_parser("rmi", help="remove images")
    p.add_argument("images", nargs="+")
    p.add_argument("--force", "-f", action="store_true", help="also remove working containers that use them")
    format_flag(p)
    p.set_defaults(handler=cmd_rmi)

    p = subparsers.add_parser("inspect", help="show an image's configuration")
    p.add_argument("image", help="local image name or ID, or a transport reference")
    format_flag(p)
    p.set_defaults(handler=cmd_inspect)

    p = subparsers.add_parser("login", help="log in to a registry (the password comes from stdin or a prompt)")
    p.add_argument("registry")
    p.add_argument("--username", "-u", help="user name (default: prompt)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument("--authfile", help="auth file to write (default: REGISTRY_AUTH_FILE or the standard place)")
    p.add_argument("--tls-verify", type=boolean, nargs="?", const=True, default=True, metavar="BOOL")
    p.add_argument("--cert-dir", help="directory of CA certificates (*.crt) for the registry")
    format_flag(p)
    p.set_defaults(handler=cmd_login)

    p = subparsers.add_parser("logout", help="remove stored credentials")
    p.add_argument("registry", nargs="?")
    p.add_argument("--all", "-a", action="store_true", help="log out of every registry")
    p.add_argument("--authfile")
    format_flag(p)
    p.set_defaults(handler=cmd_logout)



def _summary(image: Image) -> dict[str, Any]:
    return {
        "id": image.id,
        "names": image.names,
        "digest": image.digest,
        "size": image.size,
        "created": image.created.isoformat() if image.created else None,
    }


class ProgressPrinter:
    """Shows copy progress on stderr: one updating bar on a terminal, one line per blob otherwise."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.blobs: dict[str, tuple[int, int]] = {}  # digest -> (size, offset)
        self.finished: set[str] = set()

    def __call__(self, event: ProgressEvent) -> None:
        short = event.digest.split(":")[-1][:12]
        if event.event in ("done", "skipped"):
            self.finished.add(event.digest)
        self.blobs[event.digest] = (max(event.size, 0), event.offset if event.event == "read" else
                                    (max(event.size, 0) if event.digest in self.finished else 0))
        if self.tty:
            self._bar()
            return
        if event.event == "new":
            print(f"Copying {event.kind} {short}", file=self.stream)
        elif event.event == "done":
            print(f"Copying {event.kind} {short} done", file=self.stream)
        elif event.event == "skipped":
            print(f"Copying {event.kind} {short} skipped: already exists", file=self.stream)

    def _bar(self) -> None:
        total = sum(size for size, _ in self.blobs.values())
        done = sum(offset for _, offset in self.blobs.values())
        width = 30
        filled = int(width * done / total) if total else 0
        text = (f"\rCopying {len(self.finished)}/{len(self.blobs)} blobs "
                f"[{'=' * filled}{' ' * (width - filled)}] {size_text(done)} / {size_text(total)}")
        print(text, end="", file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty and self.blobs:
            print(file=self.stream)


def size_text(n: float) -> str:
    """A size as buildah prints it: decimal units, three significant digits ("4.45 MB")."""
    units = ("B", "kB", "MB", "GB", "TB", "PB")
    step = 0
    while n >= 1000 and step < len(units) - 1:
        n /= 1000
        step += 1
    return f"{n:.3g} {units[step]}"


def age_text(seconds: float) -> str:
    """How long ago, as buildah images prints it (go-units' HumanDuration): "3 minutes", "56 years"."""
    whole = int(seconds)
    if whole < 1:
        return "Less than a second"
    if whole < 60:
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes = int(seconds / 60)
    if minutes < 60:
        return "About a minute" if minutes == 1 else f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def _age(created: datetime | None) -> str:
    if created is None:
        return "unknown"
    return age_text((datetime.now(UTC) - created).total_seconds()) + " ago"


def _progress(args: argparse.Namespace) -> ProgressPrinter | None:
    return None if args.quiet or args.format == "json" else ProgressPrinter()


def cmd_images(args: argparse.Namespace) -> int:
    filters = args.filter if args.all else [*args.filter, "intermediate=false"]  # as buildah images hides them
    images = sorted(stores.resolve(open_store(args)).images(filters=filters),
                    key=lambda i: i.created or datetime.min.replace(tzinfo=UTC), reverse=True)
    if args.format == "json":
        print_json([_summary(image) for image in images])
        return 0
    rows = [("REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE")]
    for image in images:
        for name in image.names or ["<none>:<none>"]:
            repository, _, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "<none>")
            rows.append((repository, tag, image.short_id, _age(image.created), size_text(image.size)))
    print_table(rows)
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    printer = _progress(args)
    try:
        image = registry.pull(args.image, store=open_store(args), tls_verify=args.tls_verify, cert_dir=args.cert_dir,
                              authfile=args.authfile, all_tags=args.all_tags, policy=args.policy, progress=printer,
                              platform=args.platform, all_platforms=args.all_platforms,
                              signature_policy=args.signature_policy)
    finally:
        if printer:
            printer.close()
    if args.format == "json":
        print_json(_summary(image))
    else:
        print(image.id)
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    if args.digestfile and not os.path.isdir(os.path.dirname(os.path.abspath(args.digestfile))):
        raise SourceNotFound(f"--digestfile {args.digestfile}: its directory does not exist (nothing was pushed)")
    printer = _progress(args)
    destination = args.destination or args.image
    try:
        digest = registry.push(args.image, destination, store=open_store(args), tls_verify=args.tls_verify,
                               cert_dir=args.cert_dir, authfile=args.authfile, format=args.image_format,
                               compression=args.compression_format, force_compression=args.force_compression,
                               attach=args.attach, progress=printer, **signing(args))
    finally:
        if printer:
            printer.close()
    if args.digestfile:
        with open(args.digestfile, "w") as out:
            out.write(digest)
    if args.format == "json":
        print_json({"destination": destination, "digest": digest})
    else:
        print(digest)
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    names = stores.tag(args.image, args.names, store=open_store(args))
    if args.format == "json":
        print_json({"names": names})
    return 0


def cmd_rmi(args: argparse.Namespace) -> int:
    target = stores.resolve(open_store(args))
    reports = []
    for ref in args.images:
        reports.extend(target.remove_image(ref, force=args.force))
    if args.format == "json":
        print_json([{"id": r.id, "untagged": r.untagged, "removed": r.removed} for r in reports])
        return 0
    for report in reports:
        for name in report.untagged:
            print(f"untagged: {name}")
        if report.removed:
            print(report.id)
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    image = stores.resolve(open_store(args)).image(args.image)
    if args.format == "json":
        print_json(image.inspect())
        return 0
    config = image.config
    lines = [
        ("ID", image.id),
        ("Names", ", ".join(image.names) or "<none>"),
        ("Digest", image.digest),
        ("Created", image.created.isoformat() if image.created else "unknown"),
        ("Size", size_text(image.size) if image.size >= 0 else "unknown"),
        ("Platform", f"{image.os}/{image.architecture}"),
        ("Cmd", json.dumps(config.cmd)),
        ("Entrypoint", json.dumps(config.entrypoint)),
        ("Env", ", ".join(f"{k}={v}" for k, v in config.env.items())),
        ("Labels", ", ".join(f"{k}={v}" for k, v in config.labels.items())),
        ("Ports", ", ".join(config.ports)),
        ("User", config.user),
        ("WorkingDir", config.workdir),
        ("Volumes", ", ".join(config.volumes)),
        ("Layers", str(len(image.layers))),
    ]
    for key, value in lines:
        print(f"{key + ':':<12} {value}")
    return 0


def cmd_login(args: argparse.Namespace) -> int:
    username = args.username
    if args.password_stdin:
        if not username:
            raise InvalidArgument("--password-stdin needs --username")
        password = sys.stdin.read().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise InvalidArgument("no terminal to prompt for the password on; use --password-stdin")
        username = username or input("Username: ")
        password = getpass.getpass("Password: ")
    registry.login(args.registry, username, password, authfile=args.authfile, tls_verify=args.tls_verify,
                   cert_dir=args.cert_dir, store=open_store(args))
    if args.format == "json":
        print_json({"registry": args.registry, "logged_in": True})
    else:
        print("Login Succeeded!")
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    if not args.registry and not args.all:
        raise InvalidArgument("name a registry or use --all")
    removed = registry.logout(args.registry, authfile=args.authfile, all=args.all, store=open_store(args))
    if args.format == "json":
        print_json({"registry": args.registry, "removed": removed})
    elif removed:
        print(f"Removed login credentials for {args.registry or 'all registries'}")
    else:
        print(f"Not logged in to {args.registry}")
    return 0
