#!/usr/bin/env python3
"""Push and pull a ~200 MB image to a local registry: pybuildah against skopeo copy.

The image holds 100 MB of random bytes (incompressible) and 100 MB of log-like
text (compressible).  Both tools push it from the same overlay store to a
fresh docker-registry with gzip, and pull it back into a fresh store.  Each
measurement is repeated and the median is reported; ratio = pybuildah / skopeo
(below 1.0 means pybuildah is faster).

Usage: PYTHONPATH=. python3 bench/bench_registry.py [--mb 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from registry import start_registry, stop_registry

import pybuildah


def make_content(directory: Path, megabytes: int) -> None:
    """Half random bytes, half compressible text, in 10 MB files."""
    directory.mkdir(parents=True)
    half = megabytes // 2
    for i in range(max(1, half // 10)):
        (directory / f"random-{i}.bin").write_bytes(os.urandom(10 * 1024 * 1024))
    line_no = 0
    for i in range(max(1, half // 10)):
        lines = []
        size = 0
        while size < 10 * 1024 * 1024:
            line = f"2024-05-01T12:00:{line_no % 60:02d}Z INFO request {line_no} served in {line_no % 997} ms\n"
            lines.append(line)
            size += len(line)
            line_no += 1
        (directory / f"log-{i}.txt").write_text("".join(lines))


def storage_ref(root: Path, name: str) -> str:
    return f"containers-storage:[overlay@{root}+{root / 'runroot'}]{name}"


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def skopeo(*args: str) -> None:
    subprocess.run(["skopeo", *args], check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=200, help="image size in MB (default 200)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per measurement (default 3)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-registry-"))
    registries = []
    try:
        make_content(work / "content", args.mb)
        source_root = work / "source"
        with pybuildah.Store(root=source_root, driver="overlay") as store:
            with pybuildah.Builder("scratch", store=store) as b:
                b.copy(work / "content", "/content")
                image = b.commit("localhost/bench:1")
            print(f"image {image.short_id}: {image.size / 1e6:.0f} MB uncompressed, {len(image.layers)} layer(s)")

            push: dict[str, list[float]] = {"pybuildah": [], "skopeo": []}
            pull: dict[str, list[float]] = {"pybuildah": [], "skopeo": []}
            for n in range(args.repeat):
                for tool in ("pybuildah", "skopeo") if n % 2 == 0 else ("skopeo", "pybuildah"):
                    registry = start_registry(work / f"registry-{tool}-{n}")  # empty: no blob can be reused
                    registries.append(registry)
                    dest = registry.ref("bench:1")
                    if tool == "pybuildah":
                        seconds = timed(functools.partial(image.push, dest, tls_verify=False, compression="gzip"))
                    else:
                        seconds = timed(functools.partial(
                            skopeo, "copy", "--dest-tls-verify=false", "--dest-compress-format", "gzip",
                            storage_ref(source_root, "localhost/bench:1"), f"docker://{dest}"))
                    push[tool].append(seconds)

                    target = work / f"pull-{tool}-{n}"
                    if tool == "pybuildah":
                        with pybuildah.Store(root=target, driver="overlay") as fresh:
                            seconds = timed(functools.partial(pybuildah.pull, dest, store=fresh, tls_verify=False))
                    else:
                        seconds = timed(functools.partial(
                            skopeo, "copy", "--src-tls-verify=false", f"docker://{dest}",
                            storage_ref(target, "localhost/bench:1")))
                    pull[tool].append(seconds)
                    stop_registry(registry.process)
                    shutil.rmtree(registry.root, ignore_errors=True)

        print(f"{'':10} {'pybuildah':>10} {'skopeo':>10} {'ratio':>7}   (median of {args.repeat}, seconds)")
        for label, results in (("push gzip", push), ("pull", pull)):
            ours, theirs = statistics.median(results["pybuildah"]), statistics.median(results["skopeo"])
            print(f"{label:10} {ours:10.2f} {theirs:10.2f} {ours / theirs:6.2f}x")
        return 0
    finally:
        for registry in registries:
            stop_registry(registry.process)
        subprocess.run(["umount", "-R", "-l", str(work)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
