#!/usr/bin/env python3
"""Benchmark: build() with and without its per-step records (Image.build_steps).

The records come from Buildah's own per-step measurements (the StepResults hook of
patches/buildah-imagebuildah-step-results.patch) plus one store lookup of each
committed image's top layer; they are always on.  This script switches them off
through the internal switch PYBUILDAH_STEP_RECORDS=off (read by Go at each build)
and compares the medians of interleaved builds of bench_build.py's 4-stage
Containerfile, in one run: layers=False (the default), layers=True with no_cache=True
(every step commits, so every step is looked up) and a fully cached layers=True
rebuild (the steps are cheapest, so the records' share is largest).  The target:
the difference of the medians is within the runs' spread (no measurable cost).

Usage: PYTHONPATH=. python3 bench/bench_step_records.py [--runs 9]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pybuildah
from pybuildah import _api, bases

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import make_context


def records(on: bool) -> None:
    """Switch the step records on or off for the next builds (the Go side reads the variable per build)."""
    _api.sync_env(env={"PYBUILDAH_STEP_RECORDS": None if on else "off"})


def quiet(line: str) -> None:
    pass


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pybuildah-bench-records-"))
    ctx = make_context(work)
    modes: dict[str, dict[str, Any]] = {
        "layers=False": {},
        "layers=True, cached": {"layers": True},
        "layers=True, no_cache=True": {"layers": True, "no_cache": True},
    }
    try:
        for number, (name, options) in enumerate(modes.items()):
            # A store per mode: no_cache=True piles up images, which slows every cache lookup after it.
            with pybuildah.Store(root=work / f"root-{number}", driver="overlay") as store:
                bases.busybox(store)
                # Warm-up (and, for the cached mode, the cache).
                steps = pybuildah.build(ctx, store=store, log=quiet, **options).build_steps
                times: dict[bool, list[float]] = {True: [], False: []}
                for run in range(args.runs):
                    for on in (run % 2 == 0, run % 2 == 1):  # alternate which goes first
                        records(on)
                        times[on].append(timed(partial(pybuildah.build, ctx, store=store, log=quiet, **options)))
                records(True)
            with_, without = statistics.median(times[True]), statistics.median(times[False])
            quartiles = statistics.quantiles(times[False], n=4)
            print(f"{name} ({len(steps)} steps): with {with_:.3f} s, without {without:.3f} s, "
                  f"difference {with_ - without:+.3f} s ({(with_ / without - 1) * 100:+.1f}%); "
                  f"without's interquartile range {quartiles[2] - quartiles[0]:.3f} s")
            print(f"  with    {' '.join(f'{t:.2f}' for t in times[True])}")
            print(f"  without {' '.join(f'{t:.2f}' for t in times[False])}")
            subprocess.run(["umount", str(work / f"root-{number}" / "overlay")], stderr=subprocess.DEVNULL,
                           check=False)
    finally:
        records(True)
        shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    main()
