"""The ``pybuildah`` command line: ``pybuildah build``, ``pybuildah images``, ...

Each module named in COMMANDS adds its subcommands through ``register(subparsers)``;
a subcommand's handler takes the parsed arguments and returns an exit status.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from .. import _userns
from .._version import buildah_version, version
from ..errors import BuildahError
from . import build, containers, images, kernel, manifest, steps, unshare

COMMANDS = (build, steps, images, containers, manifest, unshare, kernel)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr, as every other error of the command."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"Error: {self.prog}: {message} (see --help)\n")


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="pybuildah", description="Build and manage container images with Buildah.")
    top.add_argument("--version", action=_ShowVersion, nargs=0,
                     help="show pybuildah's version and the embedded Buildah's, and exit")
    top.add_argument("--root", help="storage root directory (default: storage.conf's)")
    top.add_argument("--runroot", help="storage run-time directory")
    top.add_argument("--storage-driver", help="storage driver, e.g. overlay or vfs")
    top.add_argument("--log-level", default="warning", type=str.lower,
                     choices=["debug", "info", "warning", "error", "critical"],
                     help="log level for Buildah's own messages (default: warning)")
    subparsers = top.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        command.register(subparsers)
    return top


class _ShowVersion(argparse.Action):
    """--version: the embedded Buildah's version needs the library, so it is read only when asked."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"pybuildah {version()} (Buildah {buildah_version()})")
        parser.exit()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every error is one line on stderr and a non-zero status, never a traceback."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(message)s")
    try:
        if getattr(args, "userns", True):
            _userns.enter()  # as the buildah command: rootless, the command runs in the user namespace
        status: int = args.handler(args)
    except BuildahError as exc:
        return _fail(str(exc))
    except OSError as exc:  # a file the command reads or writes (--digestfile, a Containerfile, ...)
        if isinstance(exc, BrokenPipeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        return _fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
    except KeyboardInterrupt:
        print("Interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one line, with what it was
        return _fail(f"internal error ({type(exc).__name__}): {exc}")
    return status


def _fail(message: str) -> int:
    print("Error: " + " ".join(message.split("\n")).strip(), file=sys.stderr)
    return 1
