#!/usr/bin/env python3
"""The step cache (Builder(cache=True)): an unchanged re-run against an uncached run, in one run.

The script has 20 steps: 19 COPYs of small source trees and one RUN that takes
a second; a second script adds a config change (set_env) after each COPY.  Each round uses a
fresh store with a local busybox base and measures, in this order:
- "uncached": Builder(cache=False), the script, the commit;
- "cold": Builder(cache=True) on the empty cache (every step a miss, kept);
- "rerun": Builder(cache=True) again, nothing changed (every step a hit).
"steps" is the time from Builder() to the end of the last step; "total" adds
the commit (never skipped; after the re-run's chain of hits it is made on the
last entry's image, without a container) and the Builder's deletion.
Target: the re-run, commit included ("rerun_speedup_total"), >= 20x faster
than the uncached run; the steps-only ratio and the cold overhead are reported.

Usage: python bench/bench_stepcache.py [--rounds N] [--driver overlay|vfs]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pybuildah
from pybuildah import bases

STEPS = 20
RUN_AT = 10  # the one RUN, a second long


def make_sources(work: Path) -> Path:
    src = work / "src"
    for i in range(STEPS):
        tree = src / f"part{i}"
        tree.mkdir(parents=True)
        for j in range(5):
            (tree / f"module{j}.py").write_text(f"# part {i} module {j}\n" * (10 + j))
    return src


def script(b: pybuildah.Builder, src: Path, config: bool) -> None:
    for i in range(STEPS):
        if i == RUN_AT:
            b.run("sleep 1; ls -R /app | wc -l > /count")
        else:
            b.copy(str(src / f"part{i}"), f"/app/part{i}/")
            if config:
                b.set_env(f"PART_{i}", str(i))


def measure(store: pybuildah.Store, src: Path, cache: bool, config: bool) -> dict[str, float]:
    t0 = time.perf_counter()
    with pybuildah.Builder("localhost/busybox:latest", store=store, cache=cache) as b:
        script(b, src, config)
        steps = time.perf_counter() - t0
        b.commit("localhost/bench-stepcache:1")
        report = b.steps
    total = time.perf_counter() - t0
    return {"steps": steps, "total": total, "hits": float(report.hits)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--driver", default="overlay", choices=["overlay", "vfs"])
    args = parser.parse_args()
    summary: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="pybuildah-bench-") as tmp:
        work = Path(tmp)
        src = make_sources(work)
        for config in (False, True):
            results: dict[str, list[dict[str, float]]] = {"uncached": [], "cold": [], "rerun": []}
            for round_ in range(args.rounds):
                with pybuildah.Store(root=work / f"store{int(config)}{round_}", driver=args.driver) as store:
                    bases.busybox(store)
                    for name, cache in (("uncached", False), ("cold", True), ("rerun", True)):
                        results[name].append(measure(store, src, cache, config))
                    store.prune()
            summary["with_config" if config else "steps_only"] = figures(results)
    print(json.dumps({"rounds": args.rounds, **summary}, indent=2))
    if float(summary["steps_only"]["rerun_speedup_total"]) < 20:  # type: ignore[arg-type]
        sys.exit("target missed: an unchanged re-run, commit included, should be at least 20x faster "
                 "than the uncached run")


def figures(results: dict[str, list[dict[str, float]]]) -> dict[str, object]:
    """Medians over the rounds, and the ratios the targets are about."""
    med = {name: {k: statistics.median(r[k] for r in rs) for k in ("steps", "total", "hits")}
           for name, rs in results.items()}
    assert med["rerun"]["hits"] == STEPS and med["cold"]["hits"] == 0, med
    return {
        "seconds": {name: {k: round(v, 3) for k, v in m.items() if k != "hits"} for name, m in med.items()},
        "rerun_speedup_steps": round(med["uncached"]["steps"] / med["rerun"]["steps"], 1),
        "rerun_speedup_total": round(med["uncached"]["total"] / med["rerun"]["total"], 1),
        "cold_overhead_steps": round(med["cold"]["steps"] / med["uncached"]["steps"], 2),
        "cold_overhead_total": round(med["cold"]["total"] / med["uncached"]["total"], 2),
    }


if __name__ == "__main__":
    main()
