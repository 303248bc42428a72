#!/usr/bin/env python3
"""Build a Containerfile and push it, the way a CI job or a Kubernetes/Tekton step does.

- Storage lives on a volume (--volume), and every build gets a fresh store
  inside it, removed afterwards: builds never see each other's leftovers.
- Base images come from shared, read-only image stores (--base-store), mounted
  into the pod, so their layers are neither pulled nor copied.
- Registry credentials come from an auth file mounted from a secret
  (--authfile or $REGISTRY_AUTH_FILE), never from the command line.

Usage:
  python examples/ci_build.py CONTEXT --dest REGISTRY/REPO:TAG \\
      [--volume DIR] [--base-store DIR]... [--authfile FILE] [--cert-dir DIR] [--no-tls-verify]
Prints the pushed manifest digest on the last line.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import pybuildah


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("context", type=Path)
    parser.add_argument("--dest", required=True, help="where to push, e.g. registry.example.com/team/app:1.4.2")
    parser.add_argument("--volume", type=Path, default=Path(os.environ.get("BUILD_VOLUME", tempfile.gettempdir())))
    parser.add_argument("--base-store", type=Path, action="append", default=[], help="read-only image store")
    parser.add_argument("--driver", default="overlay")
    parser.add_argument("--authfile", type=Path, default=os.environ.get("REGISTRY_AUTH_FILE"))
    parser.add_argument("--cert-dir", type=Path)
    parser.add_argument("--no-tls-verify", dest="tls_verify", action="store_false")
    args = parser.parse_args(argv)

    args.volume.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(dir=args.volume, prefix="build-") as work,
        pybuildah.Store(root=Path(work) / "storage", driver=args.driver,
                        additional_image_stores=args.base_store) as store,
    ):
        image = pybuildah.build(args.context, tag=args.dest, layers=True, store=store,
                                log=lambda line: print(f"| {line}", flush=True))
        print(f"built {image.short_id}", flush=True)
        digest = image.push(f"docker://{args.dest}", authfile=args.authfile, cert_dir=args.cert_dir,
                            tls_verify=args.tls_verify)
    print(digest)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except pybuildah.BuildahError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
