#!/usr/bin/env python3
"""Rootless against root: bench_steps.py's step loop as root and as an ordinary user.

Both sides run the same script (bench_steps.PYBUILDAH_SIDE: a container from
busybox, 20 COPYs, 40 config calls, one RUN, a commit) in a fresh Python
process and a fresh store with the same driver; the script starts with
pybuildah.init_reexec(), a no-op as root and the re-exec into a user namespace
for the user.  The per-step figures are timed inside the process; "re-exec"
is the wall time of a program that only calls init_reexec(), so the cost of
starting twice shows on its own.  Run as root: the user (default pbtest) is
made if missing, with subordinate ranges, as tests/test_rootless.py makes it.

Usage: python bench/bench_rootless.py [--rounds N] [--driver overlay|vfs] [--user NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_steps

ROOT = bench_steps.ROOT
PRELUDE = "import pybuildah\npybuildah.init_reexec()\n"
LOAD_BASE = PRELUDE + (
    "import sys\n"
    "with pybuildah.Store(root=sys.argv[1], driver=sys.argv[3]) as s:\n"
    "    with pybuildah.Builder('oci-archive:' + sys.argv[2], store=s) as b:\n"
    "        b.commit('localhost/busybox:latest')\n"
)


def ensure_user(name: str) -> pwd.struct_passwd:
    """The benchmark user, with a home, subordinate ranges and a runtime dir (made if missing)."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", name], check=True)
        subprocess.run(["usermod", "--add-subuids", "200000-265535", "--add-subgids", "200000-265535", name],
                       check=True)
        entry = pwd.getpwnam(name)
    runtime_dir = Path(f"/run/user/{entry.pw_uid}")
    runtime_dir.mkdir(parents=True, exist_ok=True)
    os.chown(runtime_dir, entry.pw_uid, entry.pw_gid)
    runtime_dir.chmod(0o700)
    return entry


def command(user: pwd.struct_passwd | None, argv: list[str]) -> list[str]:
    """argv as root, or as the user with a clean login-like environment."""
    env = {"PYTHONPATH": str(ROOT), "PYBUILDAH_PROGRESS": "off", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    if user is None:
        return ["env", *(f"{k}={v}" for k, v in env.items()), *argv]
    env |= {"HOME": user.pw_dir, "USER": user.pw_name, "XDG_RUNTIME_DIR": f"/run/user/{user.pw_uid}"}
    return ["runuser", "-u", user.pw_name, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()), *argv]


def one_round(user: pwd.struct_passwd | None, work: Path, files: Path, archive: Path, driver: str) -> dict[str, Any]:
    side = work / ("user" if user else "root")
    side.mkdir()
    if user:
        os.chown(side, user.pw_uid, user.pw_gid)
    store = side / "store"
    subprocess.run(command(user, [sys.executable, "-c", LOAD_BASE, str(store), str(archive), driver]), check=True)
    steps = [(method, args) for method, args, _ in bench_steps.CONFIG_STEPS]
    out = subprocess.run(
        command(user, [sys.executable, "-c", PRELUDE + bench_steps.PYBUILDAH_SIDE, str(store), str(files),
                       "localhost/busybox:latest", driver, json.dumps(steps), str(bench_steps.COPIES),
                       bench_steps.RUN_SCRIPT]),
        check=True, capture_output=True, text=True).stdout
    times = dict(json.loads(out.strip().splitlines()[-1]))
    started = time.perf_counter()
    subprocess.run(command(user, [sys.executable, "-c", PRELUDE]), check=True)
    times["reexec"] = time.perf_counter() - started
    subprocess.run(["umount", "-R", str(store / "overlay")], capture_output=True, check=False)
    shutil.rmtree(side, ignore_errors=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--driver", default="overlay", choices=["overlay", "vfs"])
    parser.add_argument("--user", default="pbtest", help="the ordinary user (made if missing)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: the benchmark measures both sides and may create the user")
    user = ensure_user(args.user)
    with tempfile.TemporaryDirectory(prefix="pybuildah-bench-rootless-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)
        archive = bench_steps.make_base(work)
        archive.chmod(0o644)
        files = bench_steps.make_files(work)
        rounds: dict[str, list[dict[str, Any]]] = {"root": [], "rootless": []}
        for _ in range(args.rounds):  # interleaved, so both see the same machine load
            rounds["root"].append(one_round(None, work, files, archive, args.driver))
            rounds["rootless"].append(one_round(user, work, files, archive, args.driver))
    result = {side: bench_steps.summarize(r) | {"reexec": statistics.median(x["reexec"] for x in r)}
              for side, r in rounds.items()}
    print(f"rootless ({args.user}) against root, driver={args.driver}, {args.rounds} rounds (medians)")
    print(f"{'step':<26}{'root':>11}{'rootless':>12}{'ratio':>8}")
    rows = [("from (new container)", "from"), ("per COPY", "copy"), ("per config call", "config"),
            ("RUN", "run"), ("commit", "commit"), ("whole build (in process)", "total"),
            ("init_reexec() program", "reexec")]
    for label, key in rows:
        root, rootless = result["root"][key], result["rootless"][key]
        print(f"{label:<26}{root * 1000:>9.1f}ms{rootless * 1000:>10.1f}ms{rootless / root:>7.2f}x")


if __name__ == "__main__":
    main()
