"""Buildah's step verbs: ``pybuildah from | run | copy | add | config | commit | mount | umount``.

Working containers live in the store, so each verb reattaches by name or ID
(``Builder.open``) and a shell script written for ``buildah`` runs with
``pybuildah`` in its place: ``c=$(pybuildah from busybox)``, ``pybuildah run
$c -- cmd``, ``pybuildah commit $c app:1``.  Output matches buildah's: ``from``
prints the container's name, ``commit`` the image ID.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any

from .. import store as stores
from .._version import engine_versions, version
from ..bases import host_arch
from ..builder import Builder
from ..errors import ContainerNotFound, InvalidArgument
from ..store import Store
from ._common import (
    force_compression_flag,
    format_flag,
    open_store,
    pairs,
    policy_flag,
    print_json,
    registry_flags,
    sbom,
    sbom_flags,
)

_PULL = {"true": "always", "false": "missing", "ifmissing": "missing", "ifnewer": "newer"}


def register(subparsers: Any) -> None:
    """Add the step verbs."""
    p = subparsers.add_parser("from", help="make a working container from an image (buildah from)")
    p.add_argument("image", help='an image name or ID, a transport reference, or "scratch"')
    p.add_argument("--name", help="the container's name (default: IMAGE-working-container)")
    p.add_argument("--pull", nargs="?", const="always", default="missing", metavar="POLICY",
                   type=lambda v: _PULL.get(v.lower(), v.lower()),
                   help="always, missing (the default), newer or never; --pull alone means always")
    p.add_argument("--format", "-f", dest="image_format", default="oci", choices=("oci", "docker"),
                   help="the format of images committed from it")
    p.add_argument("--platform", metavar="OS/ARCH[/VARIANT]", help="this platform's image of a manifest list")
    p.add_argument("--isolation", default="chroot", help="how RUN steps are isolated (default chroot)")
    registry_flags(p)
    policy_flag(p)
    p.set_defaults(handler=cmd_from)

    p = subparsers.add_parser("run", help="run a command in a working container (buildah run)")
    p.add_argument("--env", "-e", action="append", default=[], metavar="K=V", help="a variable for the command")
    p.add_argument("--user", help="USER[:GROUP] to run as")
    p.add_argument("--workingdir", help="the command's working directory")
    p.add_argument("-v", "--volume", action="append", default=[], metavar="HOST:CONTAINER[:OPTS]",
                   help="bind-mount a host path (repeatable)")
    p.add_argument("--mount", action="append", default=[], metavar="type=bind|tmpfs,...", help="as buildah run --mount")
    p.add_argument("--cap-add", action="append", default=[], metavar="CAP")
    p.add_argument("--cap-drop", action="append", default=[], metavar="CAP")
    p.add_argument("--hostname")
    p.add_argument("--network", "--net", help="none, host or private")
    p.add_argument("--isolation", help="accepted for buildah's scripts; the container's own isolation applies")
    p.add_argument("container")
    p.add_argument("command", nargs=argparse.REMAINDER, help="[--] COMMAND [ARGS...]")
    p.set_defaults(handler=cmd_run)

    for verb, what in (("copy", "copy files into a working container (buildah copy)"),
                       ("add", "add files, URLs or extracted archives to a working container (buildah add)")):
        p = subparsers.add_parser(verb, help=what)
        p.add_argument("--chown", metavar="USER[:GROUP]")
        p.add_argument("--chmod", metavar="MODE")
        p.add_argument("--from", dest="from_", metavar="CONTAINER|IMAGE",
                       help="take the sources from this working container or image")
        p.add_argument("--exclude", action="append", default=[], metavar="PATTERN")
        p.add_argument("--quiet", "-q", action="store_true", help="accepted for buildah's scripts")
        p.add_argument("container")
        p.add_argument("paths", nargs="+", metavar="SRC [SRC...] DEST")
        p.set_defaults(handler=cmd_copy, extract=verb == "add")

    p = subparsers.add_parser("config", help="change a working container's image configuration (buildah config)")
    p.add_argument("--cmd", help='the default command: a JSON list, or words (\'["/app"]\' or "/app -v")')
    p.add_argument("--entrypoint", help="the entry point: a JSON list, or a command for /bin/sh -c")
    p.add_argument("--env", "-e", action="append", default=[], metavar="K=V|K-",
                   help="set (K=V, $VAR expanded from the image's variables) or remove (K-) a variable")
    p.add_argument("--label", "-l", action="append", default=[], metavar="K=V|K-")
    p.add_argument("--annotation", "-a", action="append", default=[], metavar="K=V|K-")
    p.add_argument("--port", "-p", action="append", default=[], metavar="PORT[/PROTO]")
    p.add_argument("--volume", "-v", action="append", default=[], metavar="PATH")
    p.add_argument("--user", "-u")
    p.add_argument("--workingdir")
    p.add_argument("--author")
    p.add_argument("--created-by")
    p.add_argument("--shell", help="the shell for shell-form commands, as words")
    p.add_argument("--stop-signal")
    p.add_argument("--arch")
    p.add_argument("--os")
    p.add_argument("--domainname")
    p.add_argument("--onbuild", action="append", default=[], metavar="INSTRUCTION", help="an ONBUILD trigger")
    p.add_argument("--unsetlabel", action="append", default=[], metavar="KEY")
    p.add_argument("--unsetannotation", action="append", default=[], metavar="KEY")
    p.add_argument("--healthcheck", help="the test, as words (CMD ..., CMD-SHELL ..., NONE); empty removes it")
    for field in _HEALTH_DURATIONS:
        p.add_argument(f"--healthcheck-{field.replace('_', '-')}", metavar="DURATION", help='e.g. "30s"')
    p.add_argument("--healthcheck-retries", type=int)
    p.add_argument("container")
    p.set_defaults(handler=cmd_config)

    p = subparsers.add_parser("commit", help="write a working container as an image (buildah commit)")
    p.add_argument("container")
    p.add_argument("image", nargs="?", help="the image's name or a transport reference (default: no name)")
    p.add_argument("--format", "-f", dest="image_format", choices=("oci", "docker"),
                   help="manifest type (default: the container's)")
    p.add_argument("--timestamp", type=int, metavar="SECONDS", help="created time, for reproducible images")
    p.add_argument("--rm", action="store_true", help="remove the working container afterwards")
    p.add_argument("--squash", action="store_true", help="one layer for the whole image")
    p.add_argument("--disable-compression", "-D", action="store_true", help="accepted for buildah's scripts")
    p.add_argument("--compression-format", choices=("gzip", "zstd", "zstd:chunked"))
    force_compression_flag(p)
    sbom_flags(p)
    registry_flags(p)
    p.set_defaults(handler=cmd_commit)

    p = subparsers.add_parser("mount", help="mount working containers' root file systems and print the paths")
    p.add_argument("containers", nargs="+", metavar="CONTAINER")
    p.set_defaults(handler=cmd_mount)

    p = subparsers.add_parser("umount", aliases=["unmount"], help="unmount working containers")
    p.add_argument("containers", nargs="*", metavar="CONTAINER")
    p.add_argument("--all", "-a", action="store_true", help="every working container")
    p.set_defaults(handler=cmd_umount)

    p = subparsers.add_parser("version", help="print the versions of pybuildah and the Buildah it embeds")
    p.add_argument("--json", action="store_true", help="as JSON")
    format_flag(p)
    p.set_defaults(handler=cmd_version, userns=False)


def _store(args: argparse.Namespace) -> Store:
    return stores.resolve(open_store(args))


def cmd_from(args: argparse.Namespace) -> int:
    builder = Builder(args.image, store=open_store(args), name=args.name, pull=args.pull, format=args.image_format,
                      platform=args.platform, isolation=args.isolation, tls_verify=args.tls_verify,
                      cert_dir=args.cert_dir, authfile=args.authfile, signature_policy=args.signature_policy)
    print(builder.name)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        raise InvalidArgument("name the command to run: pybuildah run CONTAINER -- COMMAND [ARGS...]")
    builder = Builder.open(args.container, store=open_store(args))
    result = builder.run(command, env=pairs(args.env, "--env", from_env=True), workdir=args.workingdir,
                         user=args.user, volumes=args.volume, mounts=args.mount, cap_add=args.cap_add,
                         cap_drop=args.cap_drop, hostname=args.hostname, network=args.network, check=False)
    sys.stdout.flush()
    sys.stdout.buffer.write(result.stdout_bytes)
    sys.stdout.buffer.flush()
    sys.stderr.buffer.write(result.stderr_bytes)
    sys.stderr.buffer.flush()
    return result.exit_code if result.exit_code >= 0 else 128 - result.exit_code


def cmd_copy(args: argparse.Namespace) -> int:
    if len(args.paths) < 2:
        raise InvalidArgument(f"name the sources and the destination: pybuildah {args.command} CONTAINER SRC... DEST")
    store = _store(args)
    builder = Builder.open(args.container, store=store)
    *sources, dest = args.paths
    source: Builder | str | None = args.from_
    if args.from_ is not None:
        try:  # as buildah: a working container of that name first, else an image
            source = Builder.open(args.from_, store=store)
        except ContainerNotFound:
            source = args.from_
    options: dict[str, Any] = {"chown": args.chown, "chmod": args.chmod, "exclude": args.exclude or None}
    if args.extract:
        if source is not None:
            raise InvalidArgument("add --from is not supported; use copy --from")
        builder.add(sources, dest, **options)
    else:
        builder.copy(sources, dest, from_=source, **options)
    return 0


def _settings(values: list[str], expand: dict[str, str] | None = None) -> dict[str, str | None]:
    """K=V sets, K- removes (None), K alone sets "" (labels) or the host's value (env, when expand is given)."""
    out: dict[str, str | None] = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not key:
            raise InvalidArgument(f"{value!r}: expected K=V or K-")
        if sep:
            if expand is not None:
                val = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: expand.get(m.group(1) or m.group(2), ""), val)
            out[key] = val
        elif key.endswith("-"):
            out[key[:-1]] = None
        elif expand is not None:
            if not os.environ.get(key):
                raise InvalidArgument(f"setting env {key!r}: no value given")
            out[key] = os.environ[key]
        else:
            out[key] = ""
    return out


_HEALTH_DURATIONS = ("interval", "timeout", "start_period", "start_interval")


def _removals(values: list[str]) -> tuple[list[str], list[str]]:
    """buildah's --port/--volume values: (added, removed), a trailing "-" removing."""
    return [v for v in values if not v.endswith("-")], [v[:-1] for v in values if v.endswith("-")]


def _healthcheck(args: argparse.Namespace) -> dict[str, Any] | None:
    """The healthcheck change that --healthcheck and --healthcheck-* ask for, if any."""
    change: dict[str, Any] = {}
    if args.healthcheck is not None:
        change["test"] = args.healthcheck
    for field in _HEALTH_DURATIONS:
        if getattr(args, f"healthcheck_{field}") is not None:
            change[field] = getattr(args, f"healthcheck_{field}")
    if args.healthcheck_retries is not None:
        change["retries"] = args.healthcheck_retries
    return change or None


def cmd_config(args: argparse.Namespace) -> int:
    builder = Builder.open(args.container, store=open_store(args))
    # --cmd, --entrypoint and --shell go as strings: configure() parses them as buildah config does.
    if args.entrypoint is not None:  # before cmd, as buildah applies them
        builder.configure(entrypoint=args.entrypoint)
    changes: dict[str, Any] = {}
    if args.cmd is not None:
        changes["cmd"] = args.cmd
    for setting in args.env:  # one at a time, as buildah: the variables keep the flags' order, $VAR sees earlier ones
        builder.configure(env=_settings([setting], expand=builder.config.env))
    if args.label:
        changes["labels"] = _settings(args.label)
    if args.annotation:
        changes["annotations"] = _settings(args.annotation)
    for flag, added, removed in (("port", "ports", "unset_ports"), ("volume", "volumes", "unset_volumes")):
        adds, removes = _removals(getattr(args, flag))
        changes.update({k: v for k, v in ((added, adds), (removed, removes)) if v})
    for flag, field in (("unsetlabel", "labels"), ("unsetannotation", "annotations")):
        if getattr(args, flag):
            changes[field] = {**changes.get(field, {}), **dict.fromkeys(getattr(args, flag))}
    if args.onbuild:
        changes["onbuild"] = args.onbuild
    if args.domainname is not None:
        changes["domainname"] = args.domainname
    if (health := _healthcheck(args)) is not None:
        changes["healthcheck"] = health
    if args.shell is not None:
        changes["shell"] = args.shell
    for option, field in (("user", "user"), ("workingdir", "workdir"), ("author", "author"),
                          ("created_by", "created_by"), ("stop_signal", "stop_signal"), ("arch", "architecture"),
                          ("os", "os")):
        if getattr(args, option) is not None:
            changes[field] = getattr(args, option)
    if changes:
        builder.configure(**changes)
    return 0


def cmd_commit(args: argparse.Namespace) -> int:
    builder = Builder.open(args.container, store=open_store(args))
    image = builder.commit(args.image, format=args.image_format, squash=args.squash, timestamp=args.timestamp,
                           compression=args.compression_format, force_compression=args.force_compression,
                           progress=None if args.quiet else "auto",
                           tls_verify=args.tls_verify, cert_dir=args.cert_dir, authfile=args.authfile, **sbom(args))
    if args.rm:
        builder.delete()
    print(image.id)
    return 0


def cmd_mount(args: argparse.Namespace) -> int:
    store = _store(args)
    builders = [Builder.open(name, store=store) for name in args.containers]  # every name exists before any mounts
    for builder in builders:
        path = builder.mount_root()
        print(path if len(builders) == 1 else f"{builder.name} {path}")
    return 0


def cmd_umount(args: argparse.Namespace) -> int:
    if args.all == bool(args.containers):
        raise InvalidArgument("name the containers to unmount, or use --all (not both)")
    store = _store(args)
    names = [c.id for c in store.containers()] if args.all else args.containers
    for builder in [Builder.open(name, store=store) for name in names]:
        if builder.unmount():
            print(builder.id)
    return 0


def cmd_version(args: argparse.Namespace) -> int:
    versions = {"pybuildah": version(), **engine_versions(), "os_arch": f"linux/{host_arch()}"}
    if args.json or args.format == "json":
        print_json(versions)
        return 0
    for label, key in (("pybuildah:", "pybuildah"), ("Version:", "buildah"), ("Go Version:", "go"),
                       ("Storage Version:", "storage"), ("OS/Arch:", "os_arch")):
        print(f"{label:<16} {versions[key]}")
    return 0

