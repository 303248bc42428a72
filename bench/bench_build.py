#!/usr/bin/env python3
"""Benchmark: a multi-stage Containerfile built with pybuildah.build() and with `buildah build`.

Both use the overlay driver, chroot isolation and separate temporary stores that hold
the same busybox base image (same image ID).  Each tool gets one untimed warm-up
build, then RUNS timed builds; the script prints the medians and the ratio
(pybuildah / CLI; the target is <= 1.0).  It also prints the first-build to
cached-rebuild ratio of pybuildah with layers=True.

Usage: PYTHONPATH=. python3 bench/bench_build.py [--runs 5]
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

BUILDAH = "/usr/bin/buildah"

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
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pybuildah-bench-"))
    try:
        ctx = make_context(work)
        instructions = [line for line in CONTAINERFILE.splitlines() if line and not line.startswith("#")]
        stages = sum(line.startswith("FROM") for line in instructions)
        print(f"Containerfile: {stages} stages, {len(instructions)} instructions, "
              f"{sum(line.startswith('RUN') for line in instructions)} RUN steps")

        ours_root = work / "pybuildah-store"
        store = pybuildah.Store(root=ours_root, driver="overlay")
        bases.busybox(store)
        cli_root = work / "cli-store"
        cli = [BUILDAH, "--root", str(cli_root / "root"), "--runroot", str(cli_root / "run"), "--storage-driver",
               "overlay"]
        subprocess.run(["skopeo", "copy", "-q",
                        f"containers-storage:[overlay@{ours_root}+{ours_root / 'runroot'}]localhost/busybox:latest",
                        f"containers-storage:[overlay@{cli_root / 'root'}+{cli_root / 'run'}]localhost/busybox:latest"],
                       check=True)

        def ours() -> None:
            pybuildah.build(ctx, store=store, log=lambda line: None)

        def theirs() -> None:
            subprocess.run([*cli, "build", "--isolation", "chroot", "--quiet", str(ctx)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)

        ours()  # warm-up: starts the Go runtime, fills the page cache
        theirs()
        ours_times, cli_times = [], []
        for _ in range(args.runs):  # interleaved, so both see the same machine load
            ours_times.append(timed(ours))
            cli_times.append(timed(theirs))
        ours_median, cli_median = statistics.median(ours_times), statistics.median(cli_times)
        print(f"pybuildah.build   median {ours_median:6.2f} s  runs {' '.join(f'{t:.2f}' for t in ours_times)}")
        print(f"buildah build CLI median {cli_median:6.2f} s  runs {' '.join(f'{t:.2f}' for t in cli_times)}")
        print(f"ratio pybuildah/CLI: {ours_median / cli_median:.2f}x (target <= 1.0x)")

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
        subprocess.run(["umount", str(work / "cli-store" / "root" / "overlay")], stderr=subprocess.DEVNULL,
                       check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
