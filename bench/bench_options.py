#!/usr/bin/env python3
"""Benchmark: the build-parity options (issue 12) against Buildah's CLI at the pinned version.

Three measurements, each interleaved with the peer so both see the same machine load,
with medians and ratios (pybuildah / CLI; below 1 is faster):

- a build that uses a secret, an extra build context, a local output and reproducible
  timestamps (``buildah build --secret --build-context --output --source-date-epoch
  --rewrite-timestamp``);
- ``run(input=...)`` of 16 MiB into ``wc -c`` against ``buildah run`` reading it from stdin,
  as bytes and streamed from an open file and from a pipe fed by a thread;
- ``run(..., network="none", timeout=...)`` against a plain ``buildah run``: the CLI refuses
  ``--network`` other than host with chroot isolation, so this shows what the two options cost.

Both sides use overlay, chroot isolation and separate temporary stores holding the same
busybox image.  Debian's buildah 1.28 has no --rewrite-timestamp, so it is not a peer here.

Usage: PYTHONPATH=. python3 bench/bench_options.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pybuildah
from pybuildah import bases

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers

CONTAINERFILE = """\
FROM localhost/busybox:latest AS build
RUN --mount=type=secret,id=token,required sha256sum /run/secrets/token > /token.sha
COPY --from=assets . /assets/
RUN find /assets -type f | sort > /assets.txt
FROM scratch
COPY --from=build /token.sha /assets.txt /
"""
INPUT = b"0123456789abcdef" * (1024 * 1024)  # 16 MiB


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def report(name: str, ours: list[float], theirs: list[float], peer: str) -> None:
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"{name:<34} pybuildah {a * 1000:8.1f} ms   {peer} {b * 1000:8.1f} ms   ratio {a / b:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cli_path = str(peers.build_pinned_cli())
    peer = f"buildah {peers.pinned_version()}"
    env = peers.peer_env(cli_path)
    work = Path(tempfile.mkdtemp(prefix="pybuildah-bench-options-"))
    ours_root, cli_root = work / "ours", work / "cli"
    cli = [cli_path, "--root", str(cli_root / "root"), "--runroot", str(cli_root / "run"),
           "--storage-driver", "overlay"]
    try:
        ctx, assets = work / "ctx", work / "assets"
        ctx.mkdir()
        (ctx / "Containerfile").write_text(CONTAINERFILE)
        assets.mkdir()
        for i in range(100):
            (assets / f"asset{i}.txt").write_text(f"asset {i}\n" * 50)
        (work / "token").write_text("not-a-real-token\n")
        (work / "input.bin").write_bytes(INPUT)
        store = pybuildah.Store(root=ours_root, driver="overlay")
        bases.busybox(store)
        subprocess.run(["skopeo", "copy", "-q",
                        f"containers-storage:[overlay@{ours_root}+{ours_root / 'runroot'}]localhost/busybox:latest",
                        f"containers-storage:[overlay@{cli_root / 'root'}+{cli_root / 'run'}]localhost/busybox:latest"],
                       check=True)

        def cli_run(*argv: str, stdin: Path | None = None) -> str:
            with open(stdin or "/dev/null", "rb") as source:
                return subprocess.run([*cli, *argv], check=True, stdin=source, capture_output=True, text=True,
                                      env=env).stdout

        def ours_build() -> None:
            pybuildah.build(ctx, store=store, secrets={"token": work / "token"}, build_contexts={"assets": assets},
                            output=f"type=local,dest={work / 'out-ours'}", source_date_epoch=1_700_000_000,
                            rewrite_timestamp=True, log=lambda line: None)

        def cli_build() -> None:
            cli_run("build", "--quiet", "--isolation", "chroot", "--secret", f"id=token,src={work / 'token'}",
                    "--build-context", f"assets={assets}", "--output", f"type=local,dest={work / 'out-cli'}",
                    "--source-date-epoch", "1700000000", "--rewrite-timestamp", str(ctx))

        builder = pybuildah.Builder("localhost/busybox:latest", store=store)
        container = cli_run("from", "--quiet", "localhost/busybox:latest").strip()

        def ours_input() -> None:
            assert builder.run(["wc", "-c"], input=INPUT).stdout.strip() == str(len(INPUT))

        def cli_input() -> None:
            out = cli_run("run", "--isolation", "chroot", container, "--", "wc", "-c", stdin=work / "input.bin")
            assert out.strip() == str(len(INPUT))

        def ours_file() -> None:
            with open(work / "input.bin", "rb") as file:
                assert builder.run(["wc", "-c"], input=file).stdout.strip() == str(len(INPUT))

        def ours_pipe() -> None:
            read_end, write_end = os.pipe()

            def feed() -> None:
                with open(write_end, "wb") as pipe:
                    pipe.write(INPUT)

            feeder = threading.Thread(target=feed)
            feeder.start()
            with open(read_end, "rb") as pipe:
                assert builder.run(["wc", "-c"], input=pipe).stdout.strip() == str(len(INPUT))
            feeder.join()

        def ours_none() -> None:
            builder.run(["true"], network="none", timeout=30)

        def cli_none() -> None:
            cli_run("run", "--isolation", "chroot", container, "--", "true")  # no --network: refused with chroot

        pairs = {"build: secret, context, output, epoch": (ours_build, cli_build),
                 "run(input=16 MiB) | wc -c": (ours_input, cli_input),
                 "run(input=open file, 16 MiB) | wc -c": (ours_file, cli_input),
                 "run(input=pipe, 16 MiB) | wc -c": (ours_pipe, cli_input),
                 "run(network=none, timeout=)": (ours_none, cli_none)}
        for ours, theirs in pairs.values():  # warm-up
            ours()
            theirs()
        times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in pairs}
        for _ in range(args.runs):
            for name, (ours, theirs) in pairs.items():
                times[name][0].append(timed(ours))
                times[name][1].append(timed(theirs))
        for name, (ours_times, cli_times) in times.items():
            report(name, ours_times, cli_times, peer)
        builder.delete()
        cli_run("rm", container)
        store.close()
    finally:
        for root in (ours_root, cli_root / "root"):
            subprocess.run(["umount", str(root / "overlay")], stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
