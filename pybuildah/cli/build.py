"""``pybuildah build``: build a Containerfile, stream the log, print the image ID."""

from __future__ import annotations

import argparse
import os
import sys

from ..build import build
from ..errors import BuildError, InvalidArgument
from . import open_store


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser("build", help="build an image from a Containerfile",
                                description="Build an image from a Containerfile with Buildah's own front end.")
    cmd.add_argument("-t", "--tag", action="append", default=[], metavar="TAG", help="name the image (repeatable)")
    cmd.add_argument("-f", "--file", action="append", default=[], metavar="FILE",
                     help="the Containerfile (default: Containerfile, then Dockerfile, in CONTEXT)")
    cmd.add_argument("--target", help="build up to this stage")
    cmd.add_argument("--build-arg", action="append", default=[], metavar="K=V", help="a build argument (repeatable)")
    cmd.add_argument("--label", action="append", default=[], metavar="K=V", help="a label for the image (repeatable)")
    cmd.add_argument("--layers", action="store_true", help="cache intermediate layers")
    cmd.add_argument("--no-cache", action="store_true", help="do not use cached layers")
    cmd.add_argument("--pull", default="missing", choices=["missing", "always", "never", "newer"])
    cmd.add_argument("--format", default="oci", choices=["oci", "docker"])
    cmd.add_argument("--squash", action="store_true", help="squash the new layers into one")
    cmd.add_argument("--jobs", type=int, default=1, help="how many stages to build in parallel")
    cmd.add_argument("--platform", action="append", default=[], metavar="OS/ARCH[,...]",
                     help="build for these platforms (comma-separated or repeated), e.g. linux/amd64,linux/arm64")
    cmd.add_argument("--manifest", help="add the images to this manifest list (made if missing)")
    cmd.add_argument("-q", "--quiet", action="store_true", help="print only the image ID")
    cmd.add_argument("context", nargs="?", default=".", metavar="CONTEXT", help="the build context directory")
    cmd.set_defaults(handler=run)


def _pairs(values: list[str], what: str, *, from_env: bool = False) -> dict[str, str]:
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


def run(args: argparse.Namespace) -> int:
    def show(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    platforms = [p for value in args.platform for p in value.split(",") if p]
    store = open_store(args)
    try:
        result = build(
            args.context,
            containerfile=args.file or None,
            tag=args.tag or None,
            target=args.target,
            build_args=_pairs(args.build_arg, "--build-arg", from_env=True),
            labels=_pairs(args.label, "--label"),
            layers=args.layers,
            no_cache=args.no_cache,
            pull=args.pull,
            squash=args.squash,
            format=args.format,
            jobs=args.jobs,
            store=store,
            log=(lambda line: None) if args.quiet else show,
            platforms=platforms or None,
            manifest=args.manifest,
        )
        print(result.id)
    except BuildError as exc:
        print(f"Error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 1
    finally:
        if store is not None:
            store.close()
    return 0
