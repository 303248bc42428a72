#!/usr/bin/env python3
"""Benchmark: a multi-stage Containerfile built with pybuildah.build() and with `buildah build`.

Peers (bench/peers.py): Buildah's CLI at the version pybuildah pins (built once into
~/.cache/pybuildah-bench) and Debian's buildah.  All use the overlay driver, chroot
isolation and separate temporary stores that hold the same busybox base image (same
image ID).  Each tool gets one untimed warm-up build, then RUNS timed builds,
interleaved; the script prints the medians and the ratios (pybuildah / CLI; the
target is <= 0.5 against the same-version CLI).  It also prints the first-build to
cached-rebuild ratio of pybuildah with layers=True.

Usage: PYTHONPATH=. python3 bench/bench_build.py [--runs 5] [--no-pinned] [--no-layers]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pybuildah
from pybuildah import bases

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers

CONTAINERFILE = """\
ARG BASE=localhost/busybox:latest
FROM $BASE AS deps
WORKDIR /deps
RUN mkdir -p lib && for i in $(seq 1 200); do echo "dependency $i" > lib/dep$i.txt; done
RUN tar -cf /deps.tar lib
ENV DEPS=/deps

FROM $BASE AS build
ARG VERSION=1.0
WORKDIR /src
COPY app/ ./
COPY --from=deps /deps.tar /tmp/deps.tar
RUN tar -xf /tmp/deps.tar -C /src && rm /tmp/deps.tar
RUN sed -i "s/@VERSION@/$VERSION/" app.sh && chmod 0755 app.sh
RUN find /src -type f | sort > /src/manifest.txt
RUN wc -l < /src/manifest.txt > /src/count.txt

FROM $BASE AS test
COPY --from=build /src /src
RUN /src/app.sh > /test-output.txt
RUN grep -q "version" /test-output.txt

FROM $BASE
LABEL org.example.bench=yes
ENV APP_HOME=/app
WORKDIR /app
COPY --from=build /src/app.sh /src/manifest.txt /src/count.txt ./
COPY --from=test /test-output.txt ./
RUN echo 'app:x:1001:1001::/app:/bin/sh' >> /etc/passwd && chown -R 1001 /app
USER 1001
EXPOSE 8080
CMD ["/app/app.sh"]
"""


def make_context(directory: Path) -> Path:
    ctx = directory / "context"
    (ctx / "app").mkdir(parents=True)
    (ctx / "Containerfile").write_text(CONTAINERFILE)
    (ctx / "app" / "app.sh").write_text("#!/bin/sh\necho \"bench app, version @VERSION@\"\n")
    for i in range(50):
        (ctx / "app" / f"data{i}.txt").write_text(f"data file {i}\n" * 100)
    return ctx


def timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-pinned", action="store_true", help="skip Buildah's CLI at the pinned version")
    parser.add_argument("--no-layers", action="store_true", help="skip the layers=True cache measurement")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pybuildah-bench-"))
    cli_roots: list[Path] = []
    try:
        ctx = make_context(work)
        instructions = [line for line in CONTAINERFILE.splitlines() if line and not line.startswith("#")]
        stages = sum(line.startswith("FROM") for line in instructions)
        print(f"Containerfile: {stages} stages, {len(instructions)} instructions, "
              f"{sum(line.startswith('RUN') for line in instructions)} RUN steps")

        ours_root = work / "pybuildah-store"
        store = pybuildah.Store(root=ours_root, driver="overlay")
        bases.busybox(store)
        clis = peers.peers(include_pinned=not args.no_pinned)

        def ours() -> None:
            pybuildah.build(ctx, store=store, log=lambda line: None)

        def cli_build(name: str, path: str) -> tuple[str, object]:
            cli_root = work / f"cli-store-{len(name)}-{abs(hash(name))}"
            cli = [path, "--root", str(cli_root / "root"), "--runroot", str(cli_root / "run"), "--storage-driver",
                   "overlay"]
            subprocess.run(["skopeo", "copy", "-q",
                            f"containers-storage:[overlay@{ours_root}+{ours_root / 'runroot'}]localhost/busybox:latest",
                            f"containers-storage:[overlay@{cli_root / 'root'}+{cli_root / 'run'}]"
                            "localhost/busybox:latest"], check=True)
            cli_roots.append(cli_root)

            def theirs() -> None:
                subprocess.run([*cli, "build", "--isolation", "chroot", "--quiet", str(ctx)], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                               env=peers.peer_env(path))
            return name, theirs

        runners = dict(cli_build(name, path) for name, path in clis.items())
        ours()  # warm-up: starts the Go runtime, fills the page cache
        for theirs in runners.values():
            theirs()  # type: ignore[operator]
        ours_times: list[float] = []
        cli_times: dict[str, list[float]] = {name: [] for name in runners}
        for _ in range(args.runs):  # interleaved, so all see the same machine load
            ours_times.append(timed(ours))
            for name, theirs in runners.items():
                cli_times[name].append(timed(theirs))
        ours_median = statistics.median(ours_times)
        print(f"{'pybuildah.build':<28} median {ours_median:6.2f} s  runs {' '.join(f'{t:.2f}' for t in ours_times)}")
        for name, times in cli_times.items():
            print(f"{name + ' build':<28} median {statistics.median(times):6.2f} s  runs "
                  f"{' '.join(f'{t:.2f}' for t in times)}")
        for name, times in cli_times.items():
            print(f"ratio pybuildah/{name}: {ours_median / statistics.median(times):.2f}x")
        print("target: <= 0.5x the same-version CLI")
        if args.no_layers:
            store.close()
            return

        # Layer cache: each round starts from a fresh store (holding only busybox), so the
        # first build really is a first build and the cache lookups see only this build's images.
        firsts, cached = [], []
        for i in range(args.runs):
            root = work / f"layers-{i}"
            subprocess.run(["skopeo", "copy", "-q",
                            f"containers-storage:[overlay@{ours_root}+{ours_root / 'runroot'}]localhost/busybox:latest",
                            f"containers-storage:[overlay@{root}+{root / 'runroot'}]localhost/busybox:latest"],
                           check=True)
            with pybuildah.Store(root=root, driver="overlay") as fresh:
                firsts.append(timed(lambda: pybuildah.build(ctx, store=fresh, layers=True, log=lambda line: None)))
                cached.append(timed(lambda: pybuildah.build(ctx, store=fresh, layers=True, log=lambda line: None)))
            subprocess.run(["umount", str(root / "overlay")], stderr=subprocess.DEVNULL, check=False)
        first_median, cached_median = statistics.median(firsts), statistics.median(cached)
        print(f"layers=True: first build median {first_median:.2f} s, cached rebuild median {cached_median:.2f} s, "
              f"ratio {first_median / cached_median:.1f}x")
        store.close()
    finally:
        subprocess.run(["umount", str(work / "pybuildah-store" / "overlay")], stderr=subprocess.DEVNULL, check=False)
        for cli_root in cli_roots:
            subprocess.run(["umount", str(cli_root / "root" / "overlay")], stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
