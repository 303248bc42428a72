"""The benchmark page (bench/page.py, `./dev bench`) is made in its --quick mode, so it cannot rot."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIDES = ("pybuildah", "buildah v1", "Debian buildah")


def table_rows(page: str, heading: str) -> list[list[str]]:
    """The data rows of the first table under ``heading``."""
    section = page.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def test_bench_page_quick(tmp_path: Path, pinned_buildah: Path) -> None:
    assert pinned_buildah.exists()
    result = subprocess.run([sys.executable, str(REPO / "bench" / "page.py"), "--quick", "--out", str(tmp_path)],
                            cwd=REPO, capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "", "the page goes to files; progress to stderr"
    page = (tmp_path / "benchmarks.md").read_text()
    plot = (tmp_path / "benchmarks.png").read_bytes()
    assert plot.startswith(b"\x89PNG\r\n\x1a\n") and len(plot) > 10_000
    assert "](benchmarks.png)" in page
    assert "--quick" in page  # a quick page says that its figures are not for comparison
    assert f"{os.cpu_count()} logical cores" in page

    header = page.split("## Step by step\n", 1)[1].split("\n| --- ")[0].splitlines()[-1]
    assert all(side in header for side in SIDES), header
    steps = {row[0]: row for row in table_rows(page, "Step by step")}
    assert {"one COPY", "one config call", "commit", "whole step script"} <= set(steps)
    for label, row in steps.items():
        times = [float(cell) for cell in row[1:4]]
        assert all(t > 0 for t in times), (label, row)
        ratios = [float(cell.rstrip("x")) for cell in row[4:6]]
        # a ratio comes from the unrounded times: equal to the cells' up to their rounding
        assert all(abs(r - t / times[0]) <= 0.06 + 0.1 * r for r, t in zip(ratios, times[1:], strict=True)), row

    builds = {row[0]: float(row[1]) for row in table_rows(page, "Containerfile build")}
    assert len(builds) == 3 and all(seconds > 0 for seconds in builds.values()), builds
    cached = re.search(r"first build took ([\d.]+) s and a fully cached rebuild ([\d.]+) s", page)
    assert cached and float(cached[1]) > float(cached[2]) > 0, page
