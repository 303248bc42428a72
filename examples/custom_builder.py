#!/usr/bin/env python3
"""A custom builder, step by step: a base image, a script added to it, a command, a commit."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pybuildah
from pybuildah import bases

BASE = "localhost/busybox:latest"
SCRIPT = """#!/bin/sh
echo "Hello from a custom-built image, running as $(id -un) on $(uname -m)"
"""


def main() -> int:
    store = pybuildah.default_store()
    try:
        store.image(BASE)
    except pybuildah.ImageNotFound:
        bases.busybox(store, BASE)  # made offline from Debian's busybox-static

    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "greet.sh"
        script.write_text(SCRIPT)
        with pybuildah.Builder(BASE, store=store) as b:
            b.add(script, "/usr/local/bin/greet.sh", chmod="0755")
            b.set_cmd(["/usr/local/bin/greet.sh"])
            b.set_label("org.opencontainers.image.title", "custom-builder")
            check = b.run(["/usr/local/bin/greet.sh"]).stdout.strip()
            image = b.commit("custom-builder:latest")
    print(check)
    print(f"Image built! {image.id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
