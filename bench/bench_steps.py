#!/usr/bin/env python3
"""Step-by-step build: pybuildah in one process against Buildah's CLI, one call per step.

Peers (bench/peers.py): Buildah's CLI at the version pybuildah pins (built once
into ~/.cache/pybuildah-bench, never committed) and Debian's buildah.  Every side
starts from the same local busybox image, then does 20 COPYs of small files (one
call each), 40 config calls, one RUN and a commit, with the same storage driver,
each in its own temporary store; rounds interleave the sides, so all see the same
machine load.  The pybuildah side runs in a fresh Python process, so the Go
runtime's start-up is part of its total, and so is ``import pybuildah``.
It imports from bytecode caches, as an installed pybuildah does (pip
compiles them at install; Python writes them on an editable tree's first
import): the caches go to a directory of the run (PYTHONPYCACHEPREFIX),
made before the first round, so PYTHONDONTWRITEBYTECODE in the environment
cannot make every round compile pybuildah's sources (~40 ms).
--no-bytecode-cache measures that case.  --tree measures another checkout's
pybuildah (e.g. main) against the same peers; given more than once, every
tree runs in each round, for before/after figures from one run.

Usage: python bench/bench_steps.py [--rounds N] [--driver overlay|vfs] [--no-pinned] [--no-bytecode-cache]
                                   [--tree PATH ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402

COPIES = 20
CONFIGS = 40

# 40 config changes: (pybuildah method, args, buildah config flag)
ConfigStep = tuple[str, tuple[str, ...], list[str]]
CONFIG_STEPS: list[ConfigStep] = []
CONFIG_STEPS += [("set_env", (f"BENCH_ENV_{i}", f"value{i}"), ["--env", f"BENCH_ENV_{i}=value{i}"]) for i in range(12)]
CONFIG_STEPS += [("set_label", (f"org.example.l{i}", f"v{i}"), ["--label", f"org.example.l{i}=v{i}"])
                 for i in range(12)]
CONFIG_STEPS += [("set_annotation", (f"org.example.a{i}", f"v{i}"), ["--annotation", f"org.example.a{i}=v{i}"])
                 for i in range(8)]
CONFIG_STEPS += [("set_port", (f"{8000 + i}/tcp",), ["--port", f"{8000 + i}/tcp"]) for i in range(4)]
CONFIG_STEPS += [("set_workdir", ("/files",), ["--workingdir", "/files"]),
                 ("set_user", ("0",), ["--user", "0"]),
                 ("set_entrypoint", ('["/bin/sh", "-c"]',), ["--entrypoint", '["/bin/sh", "-c"]']),
                 ("set_cmd", ('["ls /files"]',), ["--cmd", '["ls /files"]'])]
assert len(CONFIG_STEPS) == CONFIGS
RUN_SCRIPT = "ls /files | wc -l > /count && cat /count"

PYBUILDAH_SIDE = r"""
import json, sys, time
t0 = time.perf_counter()
import pybuildah
times = {"copy": [], "config": [], "import": time.perf_counter() - t0}
store_root, files_dir, base, driver = sys.argv[1:5]
steps = json.loads(sys.argv[5])
copies, run_script = int(sys.argv[6]), sys.argv[7]
t = time.perf_counter()
with pybuildah.Store(root=store_root, driver=driver) as store:
    times["open"] = time.perf_counter() - t
    t = time.perf_counter()
    b = pybuildah.Builder(base, store=store)
    times["from"] = time.perf_counter() - t
    for i in range(copies):
        t = time.perf_counter()
        b.copy(f"{files_dir}/file{i}.txt", "/files/")
        times["copy"].append(time.perf_counter() - t)
    for method, args in steps:
        if method in ("set_entrypoint", "set_cmd"):
            args = [json.loads(args[0])]
        t = time.perf_counter()
        getattr(b, method)(*args)
        times["config"].append(time.perf_counter() - t)
    t = time.perf_counter()
    out = b.run(["/bin/sh", "-c", run_script]).stdout.strip()
    times["run"] = time.perf_counter() - t
    t = time.perf_counter()
    b.run(["true"])
    times["run_true"] = time.perf_counter() - t
    assert out == str(copies), out
    t = time.perf_counter()
    image = b.commit("localhost/bench:1")
    times["commit"] = time.perf_counter() - t
    t = time.perf_counter()
    b.delete()
    times["delete"] = time.perf_counter() - t
    assert image.config.env["BENCH_ENV_11"] == "value11"
times["total"] = time.perf_counter() - t0
print(json.dumps(times))
"""


def make_base(work: Path) -> Path:
    """Make the busybox base image once and save it as an oci-archive both sides load."""
    archive = work / "busybox.tar"
    script = (
        "import sys, pybuildah\n"
        "from pybuildah import bases\n"
        "with pybuildah.Store(root=sys.argv[1], driver='vfs') as s:\n"
        "    img = bases.busybox(s)\n"
        "    with pybuildah.Builder(img.id, store=s) as b:\n"
        "        b.commit('oci-archive:' + sys.argv[2])\n"
    )
    subprocess.run([sys.executable, "-c", script, str(work / "base-store"), str(archive)],
                   check=True, env=_py_env(), cwd=TREE)
    shutil.rmtree(work / "base-store", ignore_errors=True)
    return archive


TREE = ROOT  # the checkout whose pybuildah is measured (--tree); `python -c` also runs there,
# since its first import path is the working directory
PYCACHE: Path | None = None  # where the pybuildah side's bytecode caches go (None: as the environment says)


def _py_env(tree: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree or TREE), env.get("PYTHONPATH")]))
    if PYCACHE is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def compile_trees(work: Path, trees: list[Path]) -> None:
    """Make the bytecode caches each tree's pybuildah side imports from (not timed), as pip does at install."""
    global PYCACHE
    PYCACHE = work / "pycache"
    for tree in trees:
        subprocess.run([sys.executable, "-c", "import pybuildah"], check=True, env=_py_env(tree), cwd=tree)


def load_base(archive: Path, root: Path, driver: str) -> None:
    """Put the base image into a fresh store as localhost/busybox:latest (not timed)."""
    script = (
        "import sys, pybuildah\n"
        "with pybuildah.Store(root=sys.argv[1], driver=sys.argv[3]) as s:\n"
        "    with pybuildah.Builder('oci-archive:' + sys.argv[2], store=s) as b:\n"
        "        b.commit('localhost/busybox:latest')\n"
    )
    subprocess.run([sys.executable, "-c", script, str(root), str(archive), driver], check=True, env=_py_env(),
                   cwd=TREE)


def make_files(work: Path) -> Path:
    files = work / "files"
    files.mkdir(exist_ok=True)
    for i in range(COPIES):
        (files / f"file{i}.txt").write_text(f"small file {i}\n" * (i + 1))
    return files


def pybuildah_round(work: Path, files: Path, archive: Path, driver: str, tree: Path) -> dict[str, Any]:
    root = work / "py-store"
    load_base(archive, root, driver)
    steps = [(method, args) for method, args, _ in CONFIG_STEPS]
    out = subprocess.run(
        [sys.executable, "-c", PYBUILDAH_SIDE, str(root), str(files), "localhost/busybox:latest", driver,
         json.dumps(steps), str(COPIES), RUN_SCRIPT],
        check=True, capture_output=True, text=True, env=_py_env(tree), cwd=tree,
    ).stdout
    shutil.rmtree(root, ignore_errors=True)
    return dict(json.loads(out.strip().splitlines()[-1]))


def cli_script(buildah: str, root: Path, files: Path, driver: str) -> str:
    """A shell script calling the CLI once per step, timing each with $EPOCHREALTIME."""
    b = f"{shlex.quote(buildah)} --root {shlex.quote(str(root))} --runroot {shlex.quote(str(root / 'runroot'))}" \
        f" --storage-driver {driver}"
    lines = [
        "set -euo pipefail",
        f"B=({b})",
        'step() { local kind=$1; shift; local t=$EPOCHREALTIME; "$@" >/dev/null 2>>"$STEPLOG"; '
        'echo "$kind $t $EPOCHREALTIME" >&3; }',
        "t0=$EPOCHREALTIME",
        's=$EPOCHREALTIME; ctr=$("${B[@]}" from --isolation chroot localhost/busybox:latest); '
        'echo "from $s $EPOCHREALTIME" >&3',
    ]
    for i in range(COPIES):
        lines.append(f'step copy "${{B[@]}}" copy "$ctr" {shlex.quote(str(files / f"file{i}.txt"))} /files/')
    for _, _, flags in CONFIG_STEPS:
        lines.append('step config "${B[@]}" config ' + " ".join(map(shlex.quote, flags)) + ' "$ctr"')
    lines.append(f'step run "${{B[@]}}" run --isolation chroot "$ctr" -- /bin/sh -c {shlex.quote(RUN_SCRIPT)}')
    lines.append('step run_true "${B[@]}" run --isolation chroot "$ctr" -- true')
    lines.append('step commit "${B[@]}" commit -q "$ctr" localhost/bench:1')
    lines.append('step rm "${B[@]}" rm "$ctr"')
    lines.append('echo "total $t0 $EPOCHREALTIME" >&3')
    return "\n".join(lines) + "\n"


def cli_round(work: Path, files: Path, archive: Path, driver: str, buildah: str) -> dict[str, Any]:
    root = work / "cli-store"
    B = [buildah, "--root", str(root), "--runroot", str(root / "runroot"), "--storage-driver", driver]
    image_id = subprocess.run([*B, "pull", "-q", f"oci-archive:{archive}"], check=True, capture_output=True,
                              text=True, env=peers.peer_env(buildah)).stdout.strip().splitlines()[-1]
    subprocess.run([*B, "tag", image_id, "localhost/busybox:latest"], check=True)
    script = work / "steps.sh"
    script.write_text(cli_script(buildah, root, files, driver))
    timing = work / "timing.txt"
    done = subprocess.run(["bash", "-c", 'exec 3>"$1"; STEPLOG="$3"; . "$2"', "bench", str(timing), str(script),
                           str(work / "cli-stderr.log")], env=peers.peer_env(buildah))
    if done.returncode:
        sys.exit(f"{buildah} failed:\n{(work / 'cli-stderr.log').read_text()[-3000:]}")
    times: dict[str, Any] = {"copy": [], "config": []}
    for line in timing.read_text().splitlines():
        kind, start, end = line.split()
        seconds = float(end) - float(start)
        if kind in ("copy", "config"):
            times[kind].append(seconds)
        else:
            times[kind] = seconds
    # pybuildah's total includes deleting the container; so does the CLI's ("rm").
    subprocess.run([*B, "rmi", "-a", "-f"], capture_output=True)
    subprocess.run(["umount", str(root / "overlay")], capture_output=True)
    shutil.rmtree(root, ignore_errors=True)
    return times


def import_cost() -> tuple[float, float, float]:
    """Seconds for `import pybuildah`, RSS (MB) after it, RSS after the Go runtime started."""
    probe = (
        "import time, json\n"
        "t = time.perf_counter()\n"
        "import pybuildah\n"
        "dt = time.perf_counter() - t\n"
        "def rss():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmRSS:'):\n"
        "            return int(line.split()[1]) / 1024\n"
        "a = rss()\n"
        "pybuildah.init_reexec()\n"
        "print(json.dumps([dt, a, rss()]))\n"
    )
    samples = []
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", probe], check=True,
                             capture_output=True, text=True, env=_py_env(), cwd=TREE).stdout
        samples.append(json.loads(out))
    return (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples),
            statistics.median(s[2] for s in samples))


def summarize(rounds: list[dict[str, Any]]) -> dict[str, float]:
    def med(values: list[float]) -> float:
        return statistics.median(values)
    return {
        "copy": med([statistics.mean(r["copy"]) for r in rounds]),
        "copy_median": med([statistics.median(r["copy"]) for r in rounds]),
        "config": med([statistics.mean(r["config"]) for r in rounds]),
        "from": med([r["from"] for r in rounds]),
        "run": med([r["run"] for r in rounds]),
        "run_true": med([r["run_true"] for r in rounds]),
        "commit": med([r["commit"] for r in rounds]),
        "total": med([r["total"] for r in rounds]),
        # pybuildah's side only: the parts of its total that the CLI's steps have no column for
        **{key: med([r[key] for r in rounds]) for key in ("import", "open", "delete") if all(key in r for r in rounds)},
    }


def report(tree: Path, py: dict[str, float], cli: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    """Print one tree's table against the peers of the same run."""
    print(f"step-by-step build, driver={args.driver}, {args.rounds} rounds (medians), pybuildah from {tree}")
    header = f"{'step':<22}{'pybuildah':>11}" + "".join(f"{name:>24}{'ratio':>8}" for name in cli)
    print(header)
    rows = [("from (new container)", "from"), ("per COPY (mean)", "copy"), ("per COPY (median)", "copy_median"),
            ("per config call", "config"),
            ("RUN (script)", "run"), ("RUN true", "run_true"), ("commit", "commit"), ("whole build", "total")]
    for label, key in rows:
        digits = 3 if key == "config" else 1
        line = f"{label:<22}{py[key] * 1000:>9.{digits}f}ms"
        for name in cli:
            ratio = cli[name][key] / py[key] if py[key] else float("inf")
            line += f"{cli[name][key] * 1000:>22.1f}ms{ratio:>7.1f}x"
        print(line)
    parts = [f"{label} {py[key] * 1000:.1f} ms" for label, key in
             (("import pybuildah", "import"), ("Store open", "open"), ("delete", "delete")) if key in py]
    if parts:
        print("pybuildah's whole build also holds: " + ", ".join(parts))
    for name in cli:
        print(f"overall: pybuildah is {cli[name]['total'] / py['total']:.1f}x faster than {name}")
    print()


def main() -> None:
    global TREE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--driver", default="overlay", choices=["overlay", "vfs"])
    parser.add_argument("--buildah", default=peers.DEBIAN_BUILDAH, help="Debian's buildah")
    parser.add_argument("--no-pinned", action="store_true", help="skip Buildah's CLI at the pinned version")
    parser.add_argument("--tree", type=Path, action="append",
                        help="checkout whose pybuildah is measured (default: this one); repeat to compare")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="import pybuildah as the environment says (PYTHONDONTWRITEBYTECODE: from source)")
    args = parser.parse_args()
    trees = [tree.resolve() for tree in args.tree or [ROOT]]
    TREE = trees[0]
    clis = peers.peers(include_pinned=not args.no_pinned, debian=args.buildah)
    if not clis:
        sys.exit("no peer CLI: install Debian's buildah or let the pinned one build")
    with tempfile.TemporaryDirectory(prefix="pybuildah-bench-") as tmp:
        work = Path(tmp)
        if not args.no_bytecode_cache:
            compile_trees(work, trees)
        archive = make_base(work)
        files = make_files(work)
        py_rounds: dict[Path, list[dict[str, Any]]] = {tree: [] for tree in trees}
        cli_rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in clis}
        for _ in range(args.rounds):
            for tree in trees:
                py_rounds[tree].append(pybuildah_round(work, files, archive, args.driver, tree))
            for name, path in clis.items():
                cli_rounds[name].append(cli_round(work, files, archive, args.driver, path))
        import_s, rss_import, rss_loaded = import_cost()  # from the run's bytecode caches
    cli = {name: summarize(rounds) for name, rounds in cli_rounds.items()}
    for tree in reversed(trees):  # the first tree (the one measured for the targets) last
        report(tree, summarize(py_rounds[tree]), cli, args)
    py = summarize(py_rounds[TREE])
    print(f"targets: per COPY {py['copy'] * 1000:.1f} ms (<= 5; median {py['copy_median'] * 1000:.1f} ms),"
          f" RUN true {py['run_true'] * 1000:.1f} ms (<= 40),"
          f" config {py['config'] * 1000:.3f} ms (<= 0.1), whole >= 8x the same-version CLI")
    print(f"import pybuildah: {import_s * 1000:.1f} ms; RSS after import {rss_import:.1f} MB;"
          f" after the Go runtime started {rss_loaded:.1f} MB")


def measure(rounds: int, driver: str, clis: dict[str, str]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """The step script, ``rounds`` times on each side, interleaved: (pybuildah's summary, {peer: summary}).
    The benchmark page (bench/page.py) calls this; main() prints the same figures."""
    with tempfile.TemporaryDirectory(prefix="pybuildah-bench-") as tmp:
        work = Path(tmp)
        compile_trees(work, [TREE])
        archive = make_base(work)
        files = make_files(work)
        py_rounds: list[dict[str, Any]] = []
        cli_rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in clis}
        for _ in range(rounds):
            py_rounds.append(pybuildah_round(work, files, archive, driver, TREE))
            for name, path in clis.items():
                cli_rounds[name].append(cli_round(work, files, archive, driver, path))
    return summarize(py_rounds), {name: summarize(r) for name, r in cli_rounds.items()}


if __name__ == "__main__":
    main()
