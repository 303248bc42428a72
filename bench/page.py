#!/usr/bin/env python3
"""The benchmark page: docs/benchmarks.md and its plot, from one run of the step script and
the Containerfile build against the peers (bench/peers.py).

The figures come from bench_steps.measure() and bench_build.measure(), the same functions
that bench/bench_steps.py and bench/bench_build.py print from.  ``./dev bench`` runs this.
--quick (the test's mode) does one round of a shortened step script and one build of a
small Containerfile: it checks that the page can be made, its figures mean little.

Usage: PYTHONPATH=. python bench/page.py [--rounds 3] [--runs 5] [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_build
import bench_steps
import peers

ROOT = Path(__file__).resolve().parent.parent
PLOT = "benchmarks.png"
STEP_ROWS = [("from", "new container (from)"), ("copy", "one COPY"), ("config", "one config call"),
             ("run", "RUN of a small script"), ("run_true", "RUN of `true`"), ("commit", "commit"),
             ("total", "whole step script")]
QUICK_CONTAINERFILE = """\
FROM localhost/busybox:latest AS first
RUN echo first > /first.txt

FROM localhost/busybox:latest
COPY --from=first /first.txt /
COPY app/app.sh /
RUN cat /first.txt
"""


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    os_name = next((line.split("=", 1)[1].strip().strip('"') for line in Path("/etc/os-release").read_text()
                    .splitlines() if line.startswith("PRETTY_NAME=")), "Linux")
    load = os.getloadavg()
    return {
        "CPU": f"{cpu}, {os.cpu_count()} logical cores",
        "Memory": f"{mem_kb / 1024 / 1024:.0f} GiB",
        "System": f"{os_name}, kernel {platform.release()}",
        "Python": platform.python_version(),
        "Load average at start (1, 5, 15 min)": ", ".join(f"{value:.2f}" for value in load),
        "Storage": "overlay driver, chroot isolation, one temporary store per side",
        "Date": datetime.date.today().isoformat(),
    }


def plot(path: Path, steps: dict[str, dict[str, float]], builds: dict[str, float]) -> None:
    """Per-step latency (log scale) and the Containerfile build, one bar per side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sides = list(steps)
    rows = [(key, label) for key, label in STEP_ROWS if all(key in steps[side] for side in sides)]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5), width_ratios=[3, 1])
    height = 0.8 / len(sides)
    for i, side in enumerate(sides):
        ys = [r + i * height for r in range(len(rows))]
        left.barh(ys, [steps[side][key] * 1000 for key, _ in rows], height=height, label=side)
    left.set_yticks([r + height * (len(sides) - 1) / 2 for r in range(len(rows))], [label for _, label in rows])
    left.invert_yaxis()
    left.set_xscale("log")
    left.set_xlabel("milliseconds (log scale; shorter is faster)")
    left.set_title("Step by step: one call per step")
    left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=len(sides), frameon=False)
    right.bar(range(len(builds)), list(builds.values()), color=[f"C{i}" for i in range(len(builds))])
    right.set_xticks(range(len(builds)), [side.replace(" ", "\n", 1) for side in builds], fontsize=8)
    right.set_ylabel("seconds")
    right.set_title("Multi-stage Containerfile")
    fig.suptitle(f"pybuildah and Buildah's CLI, medians; {machine()['CPU']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _ms(seconds: float, key: str) -> str:
    # a config call takes a few hundredths of a millisecond: three decimals keep two significant digits
    return f"{seconds * 1000:.3f}" if key == "config" else f"{seconds * 1000:.1f}"


def render(info: dict[str, str], steps: dict[str, dict[str, float]], build: dict[str, Any],
           rounds: int, runs: int, quick: bool) -> str:
    """The page's Markdown."""
    sides = list(steps)
    peer_names = sides[1:]
    lines = ["# Benchmarks", ""]
    if quick:
        lines += ["!!! warning", "    Made with `--quick`: a shortened run that checks the page can be made. "
                  "These figures are not for comparison.", ""]
    lines += [
        "Per-step latency of pybuildah against Buildah's own CLI, at the version pybuildah pins and at "
        "the version Debian ships, measured in one run on one machine, with the sides interleaved so that "
        "all see the same load. Every figure is a median. `./dev bench` makes this page again "
        "(`bench/page.py`; the figures come from `bench/bench_steps.py` and `bench/bench_build.py`).",
        "",
        f"![Per-step latency and Containerfile build time]({PLOT})",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        *[f"| {key} | {value} |" for key, value in info.items()],
        "",
        "## Step by step",
        "",
        f"One container from a local busybox image, {bench_steps.COPIES} COPYs of small files, "
        f"{len(bench_steps.CONFIG_STEPS)} config changes, one RUN, a commit: pybuildah in one Python process "
        "(its start-up and `import` count in the whole), each CLI called once per step from a shell script. "
        f"Medians of {rounds} round{'s' if rounds != 1 else ''}, in milliseconds; a ratio is how many times "
        "longer the CLI takes.",
        "",
        "| step | " + " | ".join(sides) + " | " + " | ".join(f"{name} / pybuildah" for name in peer_names) + " |",
        "| --- | " + " | ".join("---:" for _ in sides) + " | " + " | ".join("---:" for _ in peer_names) + " |",
    ]
    for key, label in STEP_ROWS:
        if not all(key in steps[side] for side in sides):
            continue
        py = steps[sides[0]][key]
        cells = [_ms(steps[side][key], key) for side in sides]
        ratios = [f"{steps[name][key] / py:.1f}x" if py else "-" for name in peer_names]
        lines.append(f"| {label} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    medians = {name: statistics.median(times) for name, times in build["build"].items()}
    lines += [
        "",
        "## Containerfile build",
        "",
        f"A {build['instructions']}-instruction multi-stage Containerfile (RUN steps, COPY from the context and "
        "from other stages), built without the layer cache, `jobs=1` on every side; "
        f"{'no' if quick else 'one untimed'} warm-up build each, then the median of {runs} "
        f"build{'s' if runs != 1 else ''}, in seconds.",
        "",
        "| side | median | runs | pybuildah / side |",
        "| --- | ---: | --- | ---: |",
    ]
    for name, times in build["build"].items():
        lines.append(f"| {name} | {medians[name]:.2f} | {' '.join(f'{t:.2f}' for t in times)} | "
                     f"{medians['pybuildah'] / medians[name]:.2f}x |")
    if "cached" in build:
        first, cached = statistics.median(build["first"]), statistics.median(build["cached"])
        lines += [
            "",
            "With `layers=True`, from a store holding only the base image: the first build took "
            f"{first:.2f} s and a fully cached rebuild {cached:.2f} s "
            f"({cached / build['instructions'] * 1000:.0f} ms per instruction), {first / cached:.1f}x faster.",
        ]
    lines += [
        "",
        "## Method",
        "",
        "- Every side has its own temporary store with the overlay driver, holding the same busybox image "
        "(same image ID); RUN uses chroot isolation.",
        "- The pinned CLI is Buildah's `cmd/buildah` built from the module version in `go/go.mod`, with "
        "pybuildah's build tags and none of its patches (`bench/peers.py`).",
        "- The machine is shared: the load average above says how busy it was. Ratios from one run are "
        "comparable; absolute figures vary with load.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the step script")
    parser.add_argument("--runs", type=int, default=5, help="timed Containerfile builds per side")
    parser.add_argument("--quick", action="store_true", help="a short run that only checks the page can be made")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="directory for benchmarks.md and the plot")
    args = parser.parse_args(argv)
    info = machine()
    clis = peers.peers()
    if not clis:
        sys.exit("no peer CLI: install Debian's buildah or let the pinned one build")
    containerfile = bench_build.CONTAINERFILE
    if args.quick:
        args.rounds, args.runs = 1, 1
        bench_steps.COPIES = 3
        bench_steps.CONFIG_STEPS = bench_steps.CONFIG_STEPS[:12]  # the environment variables the side checks
        containerfile = QUICK_CONTAINERFILE
    print(f"step script: {args.rounds} rounds ...", file=sys.stderr, flush=True)
    py, cli = bench_steps.measure(args.rounds, "overlay", clis)
    steps = {"pybuildah": py, **cli}
    print(f"Containerfile build: {args.runs} runs ...", file=sys.stderr, flush=True)
    build = bench_build.measure(args.runs, clis, containerfile, warmup=not args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    plot(args.out / PLOT, steps, {name: statistics.median(times) for name, times in build["build"].items()})
    page = args.out / "benchmarks.md"
    page.write_text(render(info, steps, build, args.rounds, args.runs, args.quick))
    print(f"wrote {page} and {args.out / PLOT}", file=sys.stderr)


if __name__ == "__main__":
    main()
