"""The host process dies with SIGKILL in the middle of things: the store stays
consistent, earlier images stay intact, and the next process that opens a
store removes what the dead one left behind (RUN bundles hold secrets)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import processes_running

import pybuildah

MAKE_EARLIER = """
import os, sys, pybuildah
root, data = sys.argv[1], sys.argv[2]
with open(data, "wb") as f:
    f.write(os.urandom(48 * 1024 * 1024))
with pybuildah.Store(root=root, driver="overlay") as store, pybuildah.Builder("scratch", store=store) as b:
    b.copy(data, "/payload.bin")
    for i in range(2):
        b.set_label("n", str(i))
        b.commit(f"localhost/earlier:{i}")
"""

COMMIT_LOOP = """
import sys, pybuildah
root, data = sys.argv[1], sys.argv[2]
with pybuildah.Store(root=root, driver="overlay") as store, pybuildah.Builder("scratch", store=store) as b:
    b.copy(data, "/payload.bin")
    print("ready", flush=True)
    i = 0
    while True:
        b.set_label("n", str(i))
        b.commit(f"localhost/loop:{i}", squash=True)
        i += 1
"""

RUN_SECRET = """
import sys, pybuildah
root, secret = sys.argv[1], sys.argv[2]
with pybuildah.Store(root=root, driver="overlay", additional_image_stores=[sys.argv[3]]) as store, \\
        pybuildah.Builder("localhost/busybox:latest", store=store) as b:
    print("ready", flush=True)
    b.run("echo started > /started; sleep 30", env={"SECRET": secret})
"""

CHECK = """
import hashlib, json, sys, pybuildah
root = sys.argv[1]
with pybuildah.Store(root=root, driver="overlay") as store:
    images = {name: image for image in store.images() for name in image.names}
    containers = store.containers()
    out = {"names": sorted(images), "containers": len(containers), "payload": {}}
    for name in ("localhost/earlier:0", "localhost/earlier:1"):
        image = store.image(name)
        assert image.layers and image.config.labels["n"] == name[-1]
        with pybuildah.Builder(image.id, store=store, pull="never") as b, b.mount() as mnt:
            out["payload"][name] = hashlib.sha256((mnt / "payload.bin").read_bytes()).hexdigest()
    for image in store.images():  # whatever a killed commit left, every listed image inspects
        image.inspect()
    print(json.dumps(out))
"""


# Where Buildah keeps temporary files here (no TMPDIR: containers.conf's image_copy_tmp_dir, /var/tmp).
TEMP = Path(os.environ.get("TMPDIR") or "/var/tmp")


def _start(code: str, *args: str) -> subprocess.Popen[str]:
    # A session of its own, so that what the killed process leaves running can be found and ended.
    process = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True,
                               start_new_session=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def _kill(process: subprocess.Popen[str]) -> None:
    """SIGKILL the Python process only (as a crash would), then end its orphans (its session)."""
    process.kill()
    process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def test_kill_during_commit_leaves_the_store_consistent(tmp_path: Path) -> None:
    root, data = tmp_path / "root", tmp_path / "payload.bin"
    subprocess.run([sys.executable, "-c", MAKE_EARLIER, str(root), str(data)], check=True, timeout=600)
    expected = hashlib.sha256(data.read_bytes()).hexdigest()
    rng = random.Random()
    for _ in range(4):
        process = _start(COMMIT_LOOP, str(root), str(data))
        time.sleep(rng.uniform(0.5, 6.0))
        assert process.poll() is None, "the commit loop ended by itself"
        _kill(process)
    result = subprocess.run([sys.executable, "-c", CHECK, str(root)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"localhost/earlier:0", "localhost/earlier:1"} <= set(report["names"])
    assert report["payload"] == {"localhost/earlier:0": expected, "localhost/earlier:1": expected}
    assert report["containers"] >= 4  # the killed processes' working containers are still there to reopen


def _grep(secret: bytes, *roots: Path) -> list[str]:
    found = []
    for top in roots:
        for dirpath, _, filenames in os.walk(top):
            for name in filenames:
                path = Path(dirpath) / name
                try:
                    if path.is_symlink() or not path.is_file() or path.stat().st_size > 1024 * 1024:
                        continue
                    if secret in path.read_bytes():
                        found.append(str(path))
                except OSError:
                    continue
    return found


def test_kill_during_run_leaves_no_secret_behind(tmp_path: Path, base_store_root: Path) -> None:
    root = tmp_path / "root"
    secret = "s3cret-" + os.urandom(12).hex()
    process = _start(RUN_SECRET, str(root), secret, str(base_store_root))
    deadline = time.monotonic() + 60
    bundles: list[str] = []
    while time.monotonic() < deadline and not bundles:  # wait until the command runs
        time.sleep(0.3)
        bundles = _grep(secret.encode(), TEMP)
    assert bundles, "the RUN step never started"
    _kill(process)
    leftovers = _grep(secret.encode(), TEMP, root)
    assert leftovers  # the crash left the secret on disk...
    check = "import sys, pybuildah\npybuildah.Store(root=sys.argv[1], driver='overlay').close()\n"
    subprocess.run([sys.executable, "-c", check, str(root)], check=True, timeout=120)
    assert _grep(secret.encode(), TEMP, root) == []  # ...and it is gone
    with pybuildah.Store(root=root, driver="overlay", additional_image_stores=[base_store_root]) as store:
        assert len(store.containers()) == 1


@pytest.mark.parametrize("name", ["pybuildah-1-99999999999", "pybuildah-999999999-5"])
def test_scratch_of_a_dead_process_is_removed_on_open(tmp_path: Path, name: str) -> None:
    stale = TEMP / name
    (stale / "buildah-bundle").mkdir(parents=True, exist_ok=True)
    code = "import sys, pybuildah\npybuildah.Store(root=sys.argv[1], driver='vfs').close()\n"
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "root")], check=True, timeout=120)
    assert not stale.exists()


BUILD_SECRET = """
import io, sys, pybuildah
root, secret, base, context, seconds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
with pybuildah.Store(root=root, driver="overlay", additional_image_stores=[base]) as store:
    print("ready", flush=True)
    pybuildah.build(context, store=store, secrets={"tok": secret.encode()}, containerfile=io.StringIO(
        "FROM localhost/busybox:latest\\n# containerfile-" + secret + "\\n"
        "RUN --mount=type=secret,id=tok sleep " + seconds + "\\n"))
"""


def test_kill_during_build_leaves_its_files_only_in_the_scratch_directory(
        tmp_path: Path, base_store_root: Path) -> None:
    """A build's secret and text Containerfile live in the process's scratch directory, never loose in /tmp."""
    root, context = tmp_path / "root", tmp_path / "context"
    context.mkdir()
    secret = "s3cret-" + os.urandom(12).hex()
    loose = Path(tempfile.gettempdir())
    sleep = f"sleep {random.randrange(30000, 40000)}"  # this run's own RUN step, not an earlier one's
    process = _start(BUILD_SECRET, str(root), secret, str(base_store_root), str(context), sleep.split()[1])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not processes_running(sleep):
        time.sleep(0.3)
    assert processes_running(sleep), "the RUN step never started"
    _kill(process)
    scratch = [p for p in TEMP.glob(f"pybuildah-{process.pid}-*") if p.is_dir()]
    assert len(scratch) == 1
    left = {Path(p).name.split("-")[0] for p in _grep(secret.encode(), scratch[0])}
    assert left >= {"secret", "Containerfile"}, left  # the crash left both, in the dead process's scratch
    assert _grep(secret.encode(), *loose.glob("pybuildah-*"), *(TEMP.glob("pybuildah-secrets-*"))) == []
    check = "import sys, pybuildah\npybuildah.Store(root=sys.argv[1], driver='overlay').close()\n"
    subprocess.run([sys.executable, "-c", check, str(root)], check=True, timeout=120)
    leftovers = [str(p) for p in scratch[0].rglob("*")] if scratch[0].exists() else []
    assert not scratch[0].exists(), leftovers  # the next open removed them
