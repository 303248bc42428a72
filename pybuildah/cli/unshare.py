"""``pybuildah unshare [-- CMD ARGS...]``: run a command in the user's user namespace, as ``buildah unshare``.

The command line's own init_reexec() (see cli.main) has already put this process
in the namespace when the user is not root; the handler only replaces it with
the command, so the command's status becomes the re-executing parent's.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def register(subparsers: Any) -> None:
    """Add the unshare subcommand."""
    p = subparsers.add_parser(
        "unshare", help="run a command in the user namespace that rootless Buildah uses",
        description="Run CMD (default: $SHELL) as root in a user namespace with the user's subordinate ID "
                    "ranges mapped, where pybuildah, buildah and podman see the user's own store.  "
                    "As root the command just runs.")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD ARGS", help="the command and its arguments")
    p.set_defaults(handler=cmd_unshare)


def command_line(words: list[str]) -> list[str]:
    """The command to run: the words after an optional ``--``, else the user's shell."""
    if words[:1] == ["--"]:
        words = words[1:]
    return words or [os.environ.get("SHELL") or "/bin/sh"]


def cmd_unshare(args: argparse.Namespace) -> int:
    argv = command_line(list(args.command))
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        print(f"Error: {argv[0]}: {exc.strerror}", file=sys.stderr)
        return 127 if isinstance(exc, FileNotFoundError) else 126
    return 0  # not reached: execvp replaced this process
