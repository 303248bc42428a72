"""``pybuildah kernel install | uninstall``: a Jupyter kernel that runs in the user namespace.

A notebook kernel cannot re-execute itself (init_reexec() refuses), so for an
ordinary user the kernel is started under ``pybuildah unshare``: its argv is
``python -m pybuildah unshare -- python -m ipykernel_launcher -f {connection_file}``.
The kernelspec is written with jupyter_client, so it lands where Jupyter looks.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

DEFAULT_NAME = "pybuildah"


def register(subparsers: Any) -> None:
    """Add the kernel subcommands."""
    p = subparsers.add_parser("kernel", help="install or remove a Jupyter kernel that runs in the user namespace")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    install = actions.add_parser("install", help="install the kernelspec")
    install.add_argument("--name", default=DEFAULT_NAME, help=f"kernel name (default: {DEFAULT_NAME})")
    install.add_argument("--display-name", help="name shown in Jupyter (default: 'Python 3 (pybuildah)')")
    where = install.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="install for the current user only")
    where.add_argument("--prefix", help="install under PREFIX/share/jupyter/kernels (e.g. a virtualenv)")
    install.set_defaults(handler=cmd_install, userns=False)
    uninstall = actions.add_parser("uninstall", help="remove the kernelspec")
    uninstall.add_argument("--name", default=DEFAULT_NAME, help=f"kernel name (default: {DEFAULT_NAME})")
    uninstall.set_defaults(handler=cmd_uninstall, userns=False)


def kernel_argv(python: str = sys.executable) -> list[str]:
    """The kernel's command line: ipykernel under ``pybuildah unshare``."""
    return [python, "-m", "pybuildah", "unshare", "--", python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


def _manager() -> Any:
    try:
        kernelspec = importlib.import_module("jupyter_client.kernelspec")
    except ImportError as exc:
        raise SystemExit("Error: jupyter_client is not installed; pip install 'pybuildah[notebook]'") from exc
    return kernelspec.KernelSpecManager()


def cmd_install(args: argparse.Namespace) -> int:
    spec = {"argv": kernel_argv(), "display_name": args.display_name or "Python 3 (pybuildah)",
            "language": "python", "interrupt_mode": "signal", "metadata": {"debugger": False}}
    with tempfile.TemporaryDirectory() as source:
        (Path(source) / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
        path = _manager().install_kernel_spec(source, args.name, user=args.user, prefix=args.prefix)
    print(f"Installed kernelspec {args.name} in {path}")
    return 0


def cmd_uninstall(args: argparse.Namespace) -> int:
    manager = _manager()
    try:
        path = manager.get_kernel_spec(args.name).resource_dir
        manager.remove_kernel_spec(args.name)
    except KeyError:
        print(f"Error: no kernelspec named {args.name}", file=sys.stderr)
        return 1
    print(f"Removed {path}")
    return 0
