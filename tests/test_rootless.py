"""Rootless pybuildah: an ordinary user's program calls init_reexec() and does everything.

The session fixture makes two real users (idempotently, as CI runs as root):
pbtest with subordinate ranges and pbnosub without.  Each flow runs as that
user (runuser) in a subprocess with a timeout, in its default store
(~/.local/share/containers/storage), which Debian's buildah, run as the same
user, must see too.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import os
import pwd
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import termios
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import nbformat
import pytest
from conftest import BUSYBOX, processes_running
from jupyter_client.kernelspec import KernelSpecManager
from registry import PASSWORD, USERNAME, Registry, auth_registry, plain_registry  # fixtures are imported by name

from pybuildah import _ffi, _userns, bases

__all__ = ["auth_registry", "plain_registry"]

REPO = Path(__file__).resolve().parent.parent
SUBIDS = "200000-265535"
TIMEOUT = 600


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    home: Path
    runtime_dir: Path

    def env(self) -> dict[str, str]:
        return {"HOME": str(self.home), "USER": self.name, "LOGNAME": self.name, "SHELL": "/bin/sh",
                "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "XDG_RUNTIME_DIR": str(self.runtime_dir), "PYTHONPATH": str(REPO),
                "PYBUILDAH_PROGRESS": "off", "LANG": "C.UTF-8"}

    def run(self, *argv: str, timeout: float = TIMEOUT, env: dict[str, str] | None = None,
            cwd: Path | None = None, unset: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
        """Run argv as this user (runuser), with a clean environment."""
        variables = {k: v for k, v in {**self.env(), **(env or {})}.items() if k not in unset}
        return subprocess.run(["runuser", "-u", self.name, "--", "env", "-i",
                               *(f"{k}={v}" for k, v in variables.items()), *argv],
                              capture_output=True, text=True, timeout=timeout, cwd=cwd or self.home, check=False)


def _strip_subids(name: str) -> None:
    for path in ("/etc/subuid", "/etc/subgid"):
        lines = Path(path).read_text().splitlines(keepends=True) if os.path.exists(path) else []
        kept = [line for line in lines if line.split(":")[0] != name]
        if kept != lines:
            Path(path).write_text("".join(kept))


def make_user(name: str, subids: bool) -> User:
    """Create (or reuse) a user with a home, a runtime dir and, if asked, subordinate ranges."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", name], check=True)
        entry = pwd.getpwnam(name)
    _strip_subids(name)
    if subids:
        subprocess.run(["usermod", "--add-subuids", SUBIDS, "--add-subgids", SUBIDS, name], check=True)
    runtime_dir = Path(f"/run/user/{entry.pw_uid}")
    runtime_dir.mkdir(parents=True, exist_ok=True)
    os.chown(runtime_dir, entry.pw_uid, entry.pw_gid)
    runtime_dir.chmod(0o700)
    return User(name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir), runtime_dir)


def let_others_reach(path: Path) -> dict[Path, int]:
    """Give 'others' search permission on every directory above path; returns the modes it changed."""
    changed = {}
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
            changed[parent] = stat.S_IMODE(mode)
            parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
    return changed


class OpenedDirectories:
    """The directories opened for the test users (/root, say), shared by overlapping pytest sessions.

    Sessions hold a shared lock on a file that records the original modes, and
    the last one out restores them, so one session finishing doesn't close
    /root under another still running.  Within a process the lock is taken
    once: modules that import the ``users`` fixture each get their own copy.
    """

    RECORD = Path(tempfile.gettempdir()) / "pybuildah-rootless-opened.json"

    def __init__(self) -> None:
        self.holders = 0
        self.lock: IO[str] | None = None

    def enter(self, paths: list[Path]) -> None:
        if self.holders == 0:
            self.lock = open(f"{self.RECORD}.lock", "a")  # noqa: SIM115 (held until leave())
            fcntl.flock(self.lock, fcntl.LOCK_EX)
            recorded = json.loads(self.RECORD.read_text()) if self.RECORD.exists() else {}
            for path in paths:
                recorded |= {str(p): m for p, m in let_others_reach(path).items() if str(p) not in recorded}
            self.RECORD.write_text(json.dumps(recorded))
            fcntl.flock(self.lock, fcntl.LOCK_SH)
        self.holders += 1

    def leave(self) -> None:
        self.holders -= 1
        if self.holders or self.lock is None:
            return
        lock, self.lock = self.lock, None
        with lock:
            fcntl.flock(lock, fcntl.LOCK_UN)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # another session still uses the opened directories: it restores them
            for directory, mode in json.loads(self.RECORD.read_text()).items():
                Path(directory).chmod(mode)
            self.RECORD.unlink()


OPENED = OpenedDirectories()


@pytest.fixture(scope="session")
def users() -> Iterator[dict[str, User]]:
    """pbtest (with subordinate ranges) and pbnosub (without); the interpreter and repo reachable by them."""
    assert os.geteuid() == 0, "the rootless tests create users: run the suite as root (CI does)"
    OPENED.enter([Path(os.path.realpath(sys.executable)), Path(sys.prefix), REPO, _ffi.NATIVE_DIR])
    try:
        yield {"pbtest": make_user("pbtest", subids=True), "pbnosub": make_user("pbnosub", subids=False)}
    finally:
        OPENED.leave()


@pytest.fixture(scope="session")
def scripts() -> Iterator[Path]:
    """A directory the test users can read, for the scripts they run.

    Not under pytest's temp dir: every pytest session resets that to mode 0700.
    """
    path = Path(tempfile.mkdtemp(prefix="pybuildah-rootless-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


FLOW = r'''
import json, os, sys
print("started as", os.getuid(), flush=True)   # printed twice: before and after the re-exec
import pybuildah
from pybuildah import bases
pybuildah.init_reexec()
tag, registry, work = sys.argv[1], sys.argv[2], sys.argv[3]
out = {"uid_in_namespace": os.getuid(), "uid_map": open("/proc/self/uid_map").read().split()}
os.makedirs(work, exist_ok=True)
with open(os.path.join(work, "data.txt"), "w") as f:
    f.write("rootless\n")
with pybuildah.default_store() as store:
    out["store"] = {"root": str(store.root), "runroot": str(store.runroot), "driver": store.driver}
    base = bases.busybox(store, f"localhost/pbrootless-busybox:{tag}", busybox=sys.argv[4])
    with pybuildah.Builder("scratch", store=store) as scratch:
        scratch.copy(os.path.join(work, "data.txt"), "/data.txt", chown="1001:1001")
        out["scratch_image"] = scratch.commit(f"localhost/pbrootless-scratch:{tag}").id
    with pybuildah.Builder(base.id, store=store) as b:
        b.copy(os.path.join(work, "data.txt"), "/app/data.txt", chown="1001:1001")
        out["run"] = b.run("stat -c %u:%g /app/data.txt && id -u").stdout.split()
        with b.mount() as root:
            st = (root / "app" / "data.txt").stat()
            out["mounted_owner"] = [st.st_uid, st.st_gid, (root / "app" / "data.txt").read_text()]
        image = b.commit(f"localhost/pbrootless:{tag}")
    with open(os.path.join(work, "Containerfile"), "w") as f:
        f.write(f"FROM localhost/pbrootless-busybox:{tag} AS stage\n"
                "RUN echo built > /built.txt && chown 1002:1002 /built.txt\n"
                f"FROM localhost/pbrootless-busybox:{tag}\n"
                "COPY --from=stage /built.txt /built.txt\n"
                "RUN stat -c %u:%g /built.txt > /owner.txt\n")
    built = pybuildah.build(work, tag=f"localhost/pbrootless-built:{tag}", store=store, log=lambda line: None)
    with pybuildah.Builder(built.id, store=store) as check:
        out["built"] = check.run("cat /built.txt /owner.txt").stdout.split()
    dest = f"{registry}/pbrootless:{tag}"
    out["pushed"] = image.push(dest, tls_verify=False)
    image.save(os.path.join(work, "image.tar"))
    image.remove(force=True)
    out["pulled"] = pybuildah.pull(dest, store=store, tls_verify=False).id
    out["loaded"] = pybuildah.load(os.path.join(work, "image.tar"), store=store).id
    out["image"] = image.id
print("RESULT " + json.dumps(out), flush=True)
'''


def _result(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1, done.stdout + done.stderr
    result: dict[str, object] = json.loads(lines[0].removeprefix("RESULT "))
    return result


def test_rootless_flow_and_buildah_sees_the_image(users: dict[str, User], scripts: Path,
                                                  plain_registry: Registry) -> None:
    user = users["pbtest"]
    (scripts / "flow.py").write_text(FLOW)
    tag = uuid.uuid4().hex[:12]
    work = user.home / f"work-{tag}"
    done = user.run(sys.executable, str(scripts / "flow.py"), tag, plain_registry.host, str(work), BUSYBOX)
    out = _result(done)
    # the program ran twice up to init_reexec(): as the user, then as root in the namespace
    assert done.stdout.count("started as") == 2 and f"started as {user.uid}" in done.stdout
    assert out["uid_in_namespace"] == 0
    uid_map = out["uid_map"]
    assert isinstance(uid_map, list) and uid_map[:6] == ["0", str(user.uid), "1", "1", "200000", "65536"]
    store = out["store"]
    assert isinstance(store, dict)
    assert store["root"] == str(user.home / ".local/share/containers/storage")
    assert store["runroot"].startswith(str(user.runtime_dir))
    assert store["driver"] == "overlay"  # kernel overlay works in a user namespace here
    assert out["run"] == ["1001:1001", "0"]
    assert out["mounted_owner"] == [1001, 1001, "rootless\n"]
    assert out["built"] == ["built", "1002:1002"]
    assert str(out["pushed"]).startswith("sha256:")
    assert out["loaded"] == out["image"]
    # on disk, the copied file belongs to the user's subordinate ID 1001 -> 200000 + 1000
    layers = user.home / ".local/share/containers/storage/overlay"
    owned = [p for p in layers.glob("*/diff/app/data.txt")]
    assert owned and all(p.stat().st_uid == 200000 + 1000 for p in owned)
    # the store is the one the rootless buildah command uses.  Debian 12's buildah 1.28 predates
    # storage picking kernel overlay in a user namespace by itself (it would make a second, vfs
    # store in the same directory), so it is told the driver, as ~/.config/containers/storage.conf would.
    (scripts / "storage.conf").write_text('[storage]\ndriver = "overlay"\n')
    conf = {"CONTAINERS_STORAGE_CONF": str(scripts / "storage.conf")}
    listed = user.run("buildah", "images", "--format", "{{.Name}}:{{.Tag}} {{.ID}}", timeout=120, env=conf)
    assert listed.returncode == 0, listed.stderr
    assert f"localhost/pbrootless:{tag}" in listed.stdout
    assert f"localhost/pbrootless-built:{tag}" in listed.stdout
    assert str(out["image"]).removeprefix("sha256:")[:12] in listed.stdout
    cleanup = user.run("buildah", "rmi", "-f", f"localhost/pbrootless:{tag}", f"localhost/pbrootless-built:{tag}",
                       f"localhost/pbrootless-scratch:{tag}", f"localhost/pbrootless-busybox:{tag}",
                       f"{plain_registry.host}/pbrootless:{tag}", timeout=120, env=conf)
    assert cleanup.returncode == 0, cleanup.stderr
    subprocess.run(["rm", "-rf", str(work)], check=True)


DRIVER_PROBE = r'''
import json, sys
import pybuildah
from pybuildah import bases
pybuildah.init_reexec()
try:
    with pybuildah.Store() as store:
        out = {"driver": store.driver, "root": str(store.root)}
        if len(sys.argv) > 1:
            out["image"] = bases.busybox(store, "localhost/debian-first:1", busybox=sys.argv[1]).id
except pybuildah.StoreError as exc:
    out = {"error": str(exc)}
print("RESULT " + json.dumps(out), flush=True)
'''


def test_a_store_first_touched_by_debians_buildah_names_the_ways_out(users: dict[str, User], scripts: Path) -> None:
    # A new user runs Debian's buildah first (it picks vfs), then pybuildah (overlay): from then on
    # the store holds two drivers.  The error names pybuildah's ways out, and the storage.conf line
    # that the README gives makes both tools share the store.
    user = users["pbtest"]
    name = f"debian-first-{uuid.uuid4().hex[:8]}"
    home, runtime = user.home / name, user.runtime_dir / name
    for directory in (home, runtime):
        directory.mkdir(mode=0o700)
        os.chown(directory, user.uid, user.gid)
    env = {"HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)}
    storage = home / ".local/share/containers/storage"
    (scripts / "probe.py").write_text(DRIVER_PROBE)
    try:
        debian = user.run("/usr/bin/buildah", "images", env=env, timeout=120)
        assert debian.returncode == 0, debian.stderr
        assert (storage / "vfs").is_dir() and not (storage / "overlay").exists()
        first = _result(user.run(sys.executable, str(scripts / "probe.py"), env=env, timeout=120))
        assert first == {"driver": "overlay", "root": str(storage)}  # vfs alone is never picked by itself
        error = str(_result(user.run(sys.executable, str(scripts / "probe.py"), env=env, timeout=120))["error"])
        assert "contains several valid graphdrivers" in error and "-s <DRIVER>" not in error
        for way_out in ('pybuildah.Store(driver="overlay")', "pybuildah --storage-driver overlay",
                        'driver = "overlay"', str(home / ".config/containers/storage.conf")):
            assert way_out in error, error
        cli = user.run(sys.executable, "-m", "pybuildah", "--storage-driver", "overlay", "images", "--format", "json",
                       env=env, timeout=120)
        assert cli.returncode == 0 and json.loads(cli.stdout) == [], cli.stderr
        # The README's fix: one line in the user's storage.conf, read by every tool.
        user.run("mkdir", "-p", str(home / ".config/containers"), env=env)
        user.run("sh", "-c", f"printf '[storage]\\ndriver = \"overlay\"\\n' > {home}/.config/containers/storage.conf",
                 env=env)
        built = _result(user.run(sys.executable, str(scripts / "probe.py"), BUSYBOX, env=env, timeout=300))
        assert built["driver"] == "overlay" and len(str(built["image"])) == 64, built
        listed = user.run("/usr/bin/buildah", "images", "--format", "{{.Name}}:{{.Tag}} {{.ID}}", env=env, timeout=120)
        assert listed.returncode == 0, listed.stderr
        assert ["localhost/debian-first:1", str(built["image"])[:12]] in [line.split() for line in
                                                                        listed.stdout.splitlines()], listed.stdout
    finally:
        subprocess.run(["rm", "-rf", str(home), str(runtime)], check=False)


SINGLE_ID = r'''
import os, sys
import pybuildah
pybuildah.init_reexec()
with open(os.path.join(sys.argv[1], "f.txt"), "w") as f:
    f.write("x")
with pybuildah.Builder("scratch") as b:
    b.copy(os.path.join(sys.argv[1], "f.txt"), "/as-root.txt", chown="0:0")
    try:
        b.copy(os.path.join(sys.argv[1], "f.txt"), "/f.txt", chown="1001:1001")
    except ValueError as exc:
        print("REFUSED", type(exc).__name__, exc, flush=True)
'''


def test_without_subordinate_ranges_a_single_id_and_a_clear_chown_error(users: dict[str, User],
                                                                         scripts: Path) -> None:
    user = users["pbnosub"]
    (scripts / "single.py").write_text(SINGLE_ID)
    done = user.run(sys.executable, str(scripts / "single.py"), str(user.home), timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no subordinate ranges for user 'pbnosub'" in done.stderr
    assert "single-ID user namespace" in done.stderr
    refused = [line for line in done.stdout.splitlines() if line.startswith("REFUSED")]
    assert len(refused) == 1, done.stdout + done.stderr
    assert "InvalidArgument" in refused[0] and "UID 1001 does not exist" in refused[0]
    assert "/etc/subuid" in refused[0]


def test_unshare_runs_the_command_as_root_in_the_namespace(users: dict[str, User]) -> None:
    user = users["pbtest"]
    done = user.run(sys.executable, "-m", "pybuildah", "unshare", "--", "sh", "-c",
                    "id -u; cat /proc/self/uid_map; exit 7", timeout=120)
    assert done.returncode == 7, done.stderr  # the command's status is the program's
    words = done.stdout.split()
    assert words[0] == "0" and words[1:4] == ["0", str(user.uid), "1"] and "200000" in words


def test_reexec_of_python_c_keeps_the_code_and_the_exit_status(users: dict[str, User]) -> None:
    code = "import os, sys, pybuildah; pybuildah.init_reexec(); print('uid', os.getuid()); sys.exit(3)"
    done = users["pbtest"].run(sys.executable, "-c", code, timeout=120)
    assert done.returncode == 3, done.stderr
    assert done.stdout.split() == ["uid", "0"]


def test_reexec_refuses_a_program_read_from_stdin(users: dict[str, User]) -> None:
    user = users["pbtest"]
    done = subprocess.run(
        ["runuser", "-u", user.name, "--", "env", "-i", *(f"{k}={v}" for k, v in user.env().items()),
         sys.executable, "-"],
        input="import pybuildah\ntry:\n    pybuildah.init_reexec()\nexcept RuntimeError as e:\n"
              "    print(type(e).__name__, e)\n",
        capture_output=True, text=True, timeout=120, cwd=user.home, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("UserNamespaceError") and "pybuildah unshare" in done.stdout


def test_as_root_init_reexec_is_a_no_op() -> None:
    code = "import os, pybuildah; print(pybuildah.init_reexec(), os.getpid())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split()[0] == "False"


def test_kernel_install_and_uninstall(tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    run = [sys.executable, "-m", "pybuildah", "kernel"]
    done = subprocess.run([*run, "install", "--prefix", str(prefix), "--name", "pb-test"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    manager = KernelSpecManager(data_dir=str(tmp_path / "nothing"))
    manager.kernel_dirs = [str(prefix / "share/jupyter/kernels")]
    spec = manager.get_kernel_spec("pb-test")
    assert spec.argv[:5] == [sys.executable, "-m", "pybuildah", "unshare", "--"]
    assert spec.argv[5:] == [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    env = {**os.environ, "JUPYTER_PATH": str(prefix / "share/jupyter")}
    done = subprocess.run([*run, "uninstall", "--name", "pb-test"], capture_output=True, text=True, timeout=120,
                          check=False, env=env)
    assert done.returncode == 0, done.stderr
    assert not (prefix / "share/jupyter/kernels/pb-test").exists()
    again = subprocess.run([*run, "uninstall", "--name", "pb-test"], capture_output=True, text=True,
                           timeout=120, check=False, env=env)
    assert again.returncode == 1 and "no kernelspec named pb-test" in again.stderr


SLEEPER = r'''
import os, sys, time
import pybuildah
pybuildah.init_reexec()
print(os.getppid(), os.getpid(), flush=True)
time.sleep(120)
'''


def test_the_waiting_parent_forwards_sigterm_and_exits_with_the_childs_status(users: dict[str, User],
                                                                              scripts: Path) -> None:
    user = users["pbtest"]
    (scripts / "sleeper.py").write_text(SLEEPER)
    argv = ["runuser", "-u", user.name, "--", "env", "-i", *(f"{k}={v}" for k, v in user.env().items()),
            sys.executable, str(scripts / "sleeper.py")]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=user.home) as proc:
        assert proc.stdout is not None
        parent, child = (int(word) for word in proc.stdout.readline().split())
        os.kill(parent, signal.SIGTERM)
        assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    assert not Path(f"/proc/{child}").exists()


def test_the_child_dies_with_a_killed_parent(users: dict[str, User], scripts: Path) -> None:
    user = users["pbtest"]
    (scripts / "sleeper.py").write_text(SLEEPER)
    argv = ["runuser", "-u", user.name, "--", "env", "-i", *(f"{k}={v}" for k, v in user.env().items()),
            sys.executable, str(scripts / "sleeper.py")]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=user.home) as proc:
        assert proc.stdout is not None
        parent, child = (int(word) for word in proc.stdout.readline().split())
        os.kill(parent, signal.SIGKILL)
        proc.wait(timeout=60)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert not Path(f"/proc/{child}").exists()


CELL = r'''
import sys
import nbformat
from nbclient import NotebookClient
nb = nbformat.v4.new_notebook()
nb.cells.append(nbformat.v4.new_code_cell(
    "import os, pybuildah\n"
    "with pybuildah.Builder('scratch') as b:\n"
    "    b.set_label('made', 'in a notebook')\n"
    "    image = b.commit('localhost/pbrootless-notebook:latest')\n"
    "print('uid', os.getuid(), 'label', image.config.labels['made'])\n"
    "image.remove()"))
NotebookClient(nb, kernel_name=sys.argv[1], timeout=240).execute()
print("".join(output.get("text", "") for output in nb.cells[0].outputs))  # a warning may come first
'''


def test_a_notebook_cell_builds_rootless_under_the_installed_kernel(users: dict[str, User], scripts: Path) -> None:
    user = users["pbtest"]
    prefix = scripts / "jupyter-prefix"
    done = subprocess.run([sys.executable, "-m", "pybuildah", "kernel", "install", "--prefix", str(prefix),
                           "--name", "pb-rootless"], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    subprocess.run(["chmod", "-R", "o+rX", str(prefix)], check=True)
    (scripts / "cell.py").write_text(CELL)
    ran = user.run(sys.executable, str(scripts / "cell.py"), "pb-rootless", timeout=300,
                   env={"JUPYTER_PATH": str(prefix / "share/jupyter")})
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "uid 0 label in a notebook" in ran.stdout


def test_a_running_kernel_is_told_to_start_under_unshare(users: dict[str, User]) -> None:
    code = ("import ipykernel, pybuildah\ntry:\n    pybuildah.init_reexec()\n"
            "except pybuildah.UserNamespaceError as exc:\n    print(exc)\n")
    done = users["pbtest"].run(sys.executable, "-c", code, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Jupyter kernel" in done.stdout and "pybuildah kernel install" in done.stdout


def test_the_command_line_runs_rootless_like_buildahs(users: dict[str, User]) -> None:
    done = users["pbtest"].run(sys.executable, "-m", "pybuildah", "images", "--format", "json", timeout=120)
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout), list)


def test_without_xdg_runtime_dir_it_is_set_as_the_buildah_command_sets_it(users: dict[str, User]) -> None:
    code = ("import os, pybuildah; pybuildah.init_reexec()\n"
            "with pybuildah.default_store() as s: print(os.environ['XDG_RUNTIME_DIR'], s.runroot)")
    user = users["pbtest"]
    done = user.run(sys.executable, "-c", code, timeout=120, unset=("XDG_RUNTIME_DIR",))
    assert done.returncode == 0, done.stderr
    runtime_dir, runroot = done.stdout.split()
    assert runtime_dir == str(user.runtime_dir)  # /run/user/UID, owned by the user with mode 0700
    assert runroot.startswith(runtime_dir + "/")


def test_rootless_login_saves_the_auth_file_in_the_runtime_dir(users: dict[str, User],
                                                               auth_registry: Registry) -> None:
    user = users["pbtest"]
    auth = user.runtime_dir / "containers" / "auth.json"
    auth.unlink(missing_ok=True)
    code = ("import sys, pybuildah; pybuildah.init_reexec()\n"
            "pybuildah.login(sys.argv[1], sys.argv[2], sys.stdin.read(), tls_verify=False)")
    argv = ["runuser", "-u", user.name, "--", "env", "-i", *(f"{k}={v}" for k, v in user.env().items()),
            sys.executable, "-c", code, auth_registry.host, USERNAME]
    done = subprocess.run(argv, input=PASSWORD, capture_output=True, text=True, timeout=120, cwd=user.home,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert auth_registry.host in json.loads(auth.read_text())["auths"]
    assert auth.stat().st_uid == user.uid and stat.S_IMODE(auth.stat().st_mode) == 0o600
    auth.unlink()


CTRL_C = r'''
import os, signal, time
import pybuildah
pybuildah.init_reexec()
signal.signal(signal.SIGINT, lambda signum, frame: None)
wake_r, wake_w = os.pipe()
os.set_blocking(wake_w, False)
signal.set_wakeup_fd(wake_w)  # one byte per delivery, even when Python runs the handler once for two
print("ready", flush=True)
deadline = time.monotonic() + 3
while time.monotonic() < deadline:
    time.sleep(0.05)
os.set_blocking(wake_r, False)
print("SIGINTs", len(os.read(wake_r, 100)), flush=True)
'''


def _read_until(master: int, text: str, timeout: float = 60) -> str:
    seen = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                seen += os.read(master, 4096)
            except OSError:
                break
    return seen.decode(errors="replace")


def test_ctrl_c_on_the_terminal_reaches_the_program_once(users: dict[str, User], scripts: Path) -> None:
    user = users["pbtest"]
    (scripts / "ctrl_c.py").write_text(CTRL_C)
    master, slave = os.openpty()
    with subprocess.Popen(
        [sys.executable, str(scripts / "ctrl_c.py")], user=user.uid, group=user.gid, extra_groups=[],
        env=user.env(), cwd=user.home, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    ) as proc:
        os.close(slave)
        try:
            assert "ready" in _read_until(master, "ready")
            os.write(master, b"\x03")  # the terminal sends SIGINT to the whole foreground group
            output = _read_until(master, "SIGINTs")
            assert proc.wait(timeout=60) == 0, output
        finally:
            os.close(master)
    assert "SIGINTs 1" in output, output


def test_without_init_reexec_an_ordinary_user_is_told_what_to_do(users: dict[str, User], scripts: Path) -> None:
    code = ("import pybuildah, sys\n"
            "for attempt in (lambda: pybuildah.Builder('scratch'), lambda: pybuildah.Store(root=sys.argv[1])):\n"
            "    try:\n        attempt()\n"
            "    except RuntimeError as exc:\n        print(type(exc).__name__, exc)\n")
    user = users["pbtest"]
    done = user.run(sys.executable, "-c", code, str(user.home / "store"), timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2, done.stdout + done.stderr
    for line in lines:
        assert line.startswith("UserNamespaceError pybuildah runs as UID 1") and "init_reexec()" in line
        assert "netavark" not in line


def test_subordinate_ranges_and_the_map_layout(tmp_path: Path) -> None:
    subuid = tmp_path / "subuid"
    subuid.write_text("other:100000:65536\npbtest:200000:65536\n1001:300000:10\nbroken line\npbtest:x:1\n"
                      "pbtest:400000:0\n")
    ranges = _userns.subordinate_ranges(str(subuid), "pbtest", 1001)
    assert ranges == [(200000, 65536), (300000, 10)]  # by name and by number; bad and empty ones skipped
    assert _userns.subordinate_ranges(str(tmp_path / "absent"), "pbtest", 1001) == []
    assert [r.line() for r in _userns.id_map(1001, ranges)] == ["0 1001 1", "1 200000 65536", "65537 300000 10"]


EXAMPLE_RUNNER = r'''
import sys
import nbformat
from nbclient import NotebookClient
notebook, kernel, cwd, executed = sys.argv[1:5]
nb = nbformat.read(notebook, as_version=4)
NotebookClient(nb, kernel_name=kernel, timeout=600, resources={"metadata": {"path": cwd}}).execute()
nbformat.write(nb, executed)
'''

STORE_CHECK = r'''
import sys, pybuildah
pybuildah.init_reexec()
with pybuildah.Store(root=sys.argv[1], driver="overlay") as store:
    image = store.image("localhost/hello-world:1.0.0")
    print("image", image.id, image.config.cmd, len(store.containers()))
'''


@pytest.fixture(scope="session")
def rootless_kernel(users: dict[str, User], scripts: Path) -> Iterator[tuple[str, Path]]:
    """The pybuildah kernelspec, installed the documented way into a prefix the test user can read."""
    prefix = scripts / "kernel-prefix"
    done = subprocess.run([sys.executable, "-m", "pybuildah", "kernel", "install", "--prefix", str(prefix),
                           "--name", "pb-rootless-session"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    subprocess.run(["chmod", "-R", "o+rX", str(prefix)], check=True)
    yield "pb-rootless-session", prefix / "share" / "jupyter"


def test_the_example_notebook_runs_as_an_ordinary_user_under_the_installed_kernel(
        users: dict[str, User], scripts: Path, rootless_kernel: tuple[str, Path]) -> None:
    """examples/notebook.ipynb, executed by nbclient as pbtest: HTML reprs, the image, the server's answer."""
    user = users["pbtest"]
    kernel, jupyter_path = rootless_kernel
    work = user.home / f"example-{uuid.uuid4().hex[:8]}"
    subprocess.run(["runuser", "-u", user.name, "--", "mkdir", "-p", str(work)], check=True)
    (scripts / "example_runner.py").write_text(EXAMPLE_RUNNER)
    (scripts / "store_check.py").write_text(STORE_CHECK)
    executed = work / "executed.ipynb"
    store_root = work / "store"
    try:
        ran = user.run(sys.executable, str(scripts / "example_runner.py"), str(REPO / "examples" / "notebook.ipynb"),
                       kernel, str(REPO / "examples"), str(executed), timeout=900,
                       env={"JUPYTER_PATH": str(jupyter_path), "HELLO_STORE": str(store_root)})
        assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
        nb = nbformat.read(executed, as_version=4)
        code = [cell for cell in nb.cells if cell.cell_type == "code"]
        html = "".join(str(out.get("data", {}).get("text/html", "")) for cell in code for out in cell.outputs)
        printed = "".join(out.get("text", "") for cell in code for out in cell.outputs if out.output_type == "stream")
        assert "localhost/hello-world:1.0.0" in html
        assert "answered: Hello, World!" in printed
        checked = user.run(sys.executable, str(scripts / "store_check.py"), str(store_root), timeout=300)
        assert checked.returncode == 0, checked.stderr
        image_id = checked.stdout.split()[1]
        assert image_id in html  # the repr shown in the notebook is the image in the user's store
        assert checked.stdout.strip().endswith("['/usr/local/bin/hello'] 0")  # no working container left
    finally:
        user.run("rm", "-rf", str(work), timeout=300)
        user.run(sys.executable, "-m", "pybuildah", "unshare", "--", "rm", "-rf", str(work), timeout=300)


INTERRUPTER = r'''
import sys, time
from pathlib import Path
from jupyter_client.manager import start_new_kernel

def sleepers():
    found = []
    for entry in Path("/proc").iterdir():
        try:
            data = (entry / "cmdline").read_bytes() if entry.name.isdigit() else b""
            if b"sleep" in data and data.endswith(b"\x0061\x00"):
                found.append(entry.name)
        except OSError:
            pass
    return found

km, kc = start_new_kernel(kernel_name=sys.argv[1])
try:
    setup = ("import pybuildah\nfrom pybuildah import bases\n"
             f"store = pybuildah.Store(root={sys.argv[2]!r}, driver='overlay')\n"
             f"base = bases.busybox(store, busybox={sys.argv[3]!r})\n")
    reply = kc.execute_interactive(setup, timeout=300)
    assert reply["content"]["status"] == "ok", reply["content"]
    msg_id = kc.execute("with pybuildah.Builder(base.id, store=store) as b:\n    b.run(['sleep', '61'])")
    deadline = time.monotonic() + 60
    while not sleepers() and time.monotonic() < deadline:
        time.sleep(0.05)
    print("running", bool(sleepers()))
    started = time.monotonic()
    km.interrupt_kernel()
    while True:
        reply = kc.get_shell_msg(timeout=30)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    took = round(time.monotonic() - started, 2)
    print("interrupted", reply["content"]["status"], reply["content"].get("ename"), took)
    print("evalue", repr(reply["content"].get("evalue")))
    time.sleep(0.5)
    print("sleepers", len(sleepers()))
    outputs = []
    reply = kc.execute_interactive("print('containers', len(store.containers()))", timeout=60,
                                   output_hook=lambda msg: outputs.append(msg["content"].get("text", "")))
    print("".join(outputs).strip())
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
'''


def test_interrupt_kernel_during_run_raises_keyboard_interrupt_and_leaves_nothing(
        users: dict[str, User], scripts: Path, rootless_kernel: tuple[str, Path]) -> None:
    """Jupyter's "interrupt kernel" during Builder.run, under the pybuildah kernel as an ordinary user."""
    user = users["pbtest"]
    kernel, jupyter_path = rootless_kernel
    work = user.home / f"interrupt-{uuid.uuid4().hex[:8]}"
    (scripts / "interrupter.py").write_text(INTERRUPTER)
    try:
        ran = user.run(sys.executable, str(scripts / "interrupter.py"), kernel, str(work / "store"), BUSYBOX,
                       timeout=600, env={"JUPYTER_PATH": str(jupyter_path)})
        assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
        lines = dict(line.split(" ", 1) for line in ran.stdout.splitlines() if " " in line)
        assert lines["running"] == "True", ran.stdout + ran.stderr[-2000:]
        status, ename, seconds = lines["interrupted"].split()
        assert (status, ename) == ("error", "KeyboardInterrupt"), lines.get("evalue")
        assert float(seconds) < 2.0
        assert lines["sleepers"] == "0"
        assert lines["containers"] == "0"
    finally:
        user.run(sys.executable, "-m", "pybuildah", "unshare", "--", "rm", "-rf", str(work), timeout=300)


RUN_OPTIONS = r'''
import json, os, sys, tempfile
import pybuildah
from pybuildah import bases
pybuildah.init_reexec()
port, busybox = sys.argv[1], sys.argv[2]
out = {}
with tempfile.TemporaryDirectory(dir=os.environ["HOME"]) as tmp, \
        pybuildah.Store(root=os.path.join(tmp, "root"), driver="vfs") as store:
    base = bases.busybox(store, "localhost/pbrootless-run:1", busybox=busybox)
    with pybuildah.Builder(base.id, store=store) as b:
        connect = f"nc 127.0.0.1 {port} </dev/null"
        out["host"] = b.run(connect, network="host", check=False).stdout
        cut = b.run(connect, network="none", check=False)
        out["none"] = [cut.exit_code, cut.stdout]
        out["links"] = b.run(["ip", "-o", "link", "show"], network="none").stdout.splitlines()
        out["input"] = b.run(["wc", "-c"], input=b"x" * 3_000_000).stdout.strip()
        try:
            b.run(["sleep", "271828"], timeout=1)
        except pybuildah.RunTimeout as exc:
            out["timeout"] = isinstance(exc, TimeoutError)
        out["after"] = b.run(["echo", "ok"]).stdout
print("RESULT " + json.dumps(out), flush=True)
'''


def test_run_options_rootless(users: dict[str, User], scripts: Path, listener: int) -> None:
    (scripts / "run_options.py").write_text(RUN_OPTIONS)
    out = _result(users["pbtest"].run(sys.executable, str(scripts / "run_options.py"), str(listener), BUSYBOX))
    assert out["host"] == "hello from the host\n"
    none = out["none"]
    assert isinstance(none, list) and none[0] != 0 and none[1] == ""
    links = out["links"]
    assert isinstance(links, list) and len(links) == 1 and ",UP" in links[0]
    assert out["input"] == "3000000"
    assert out["timeout"] is True
    assert out["after"] == "ok\n"
    assert processes_running("sleep 271828") == []


# build() parity options as an ordinary user ------------------------------------------

PARITY = r'''
import hashlib, io, json, os, sys, time, uuid
import pybuildah
from pybuildah import bases
pybuildah.init_reexec()
flow, base, work = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(work, exist_ok=True)
out = {}
quiet = lambda line: None

def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)

with pybuildah.default_store() as store:
    if flow == "base":
        out["id"] = bases.busybox(store, base, busybox=sys.argv[4]).id
    elif flow == "remove":
        store.image(base).remove(force=True)
    elif flow == "secret":
        write(os.path.join(work, "secret.txt"), os.environ["PB_FILE_SECRET"])
        text = (f"FROM {base}\n"
                "RUN --mount=type=secret,id=env sha256sum /run/secrets/env | cut -c1-64 > /env.sum\n"
                "RUN --mount=type=secret,id=file sha256sum /run/secrets/file | cut -c1-64 > /file.sum\n")
        image = pybuildah.build(work, containerfile=io.StringIO(text), store=store, log=quiet,
                                secrets={"env": "env:PB_ENV_SECRET", "file": os.path.join(work, "secret.txt")})
        with pybuildah.Builder(image.id, store=store, pull="never") as b:
            out["sums"] = b.run("cat /env.sum /file.sum").stdout.split()
        out["pushed"] = image.push(f"oci:{work}/layout:latest")
        out["inspect"] = repr(image.inspect())
        image.remove(force=True)
    elif flow == "context":
        write(os.path.join(work, "extra", "data.txt"), "from the extra context\n")
        write(os.path.join(work, "ctx", "Containerfile"),
              f"FROM {base}\nCOPY --from=extra data.txt /data.txt\nRUN echo ran > /ran && chown 1001:1001 /ran\n")
        image = pybuildah.build(os.path.join(work, "ctx"), store=store, log=quiet,
                                build_contexts={"extra": os.path.join(work, "extra")},
                                output=f"type=local,dest={work}/out")
        out["image_kept"] = image.id in {i.id for i in store.images()}
        image.remove(force=True)
    elif flow == "epoch":
        write(os.path.join(work, "ctx", "hello.txt"), "hello\n")
        write(os.path.join(work, "ctx", "Containerfile"),
              f"FROM {base}\nCOPY hello.txt /hello.txt\nRUN echo ran > /ran && mkdir -p /made/here\n")
        epoch, built = 1_700_000_000, []
        for via_env in (False, True):
            if via_env:
                time.sleep(1.1)
                os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
                os.utime(os.path.join(work, "ctx", "hello.txt"))  # newer: rewrite_timestamp clamps it
            image = pybuildah.build(os.path.join(work, "ctx"), store=store, log=quiet, rewrite_timestamp=True,
                                    source_date_epoch=None if via_env else epoch)
            built.append([image.id, image.digest, int(image.created.timestamp())])
            image.remove(force=True)  # the second build makes it anew
        out["built"] = built
    elif flow == "manifest":
        with pybuildah.Builder(base, store=store, pull="never") as b:
            b.run("echo second > /second")
            second = b.commit(f"{base}-second")
        listed = pybuildah.Manifest.create(f"{base}-list", store=store)
        out["digests"] = [listed.add(base), listed.add(second.id, arch="arm64", variant="v8")]
        out["images"] = [store.image(base).digest, second.digest]
        info = listed.inspect()
        out["platforms"] = info.platforms
        out["entries"] = [e.digest for e in info.entries]
        out["raw_entries"] = [m["digest"] for m in info.json()["manifests"]]
        listed.delete()
        second.remove(force=True)
    elif flow == "keep-failed":
        write(os.path.join(work, "ctx", "Containerfile"),
              f"FROM {base}\nWORKDIR /w\nRUN echo partial > f && chown 1001:1001 f && rm /bin/ls && false\n")
        try:
            pybuildah.build(os.path.join(work, "ctx"), store=store, log=quiet, keep_failed=True)
        except pybuildah.BuildError as error:
            with error.builder as kept:
                out["read"] = kept.run("cat f; stat -c %u f").stdout.split()
                out["diff"] = [[c.path, c.kind] for c in kept.diff() if c.path in ("/w/f", "/bin/ls")]
        out["left"] = [c.id for c in store.containers()]
    elif flow == "layers":
        token = uuid.uuid4().hex  # this run's cache only: the user's store outlives a run
        write(os.path.join(work, "ctx", "data", "a.txt"), f"{token}\n")
        write(os.path.join(work, "ctx", "Containerfile"),
              f"FROM {base}\nARG V={token}\nCOPY data/ /data/\n"
              "RUN cat /data/a.txt > /copied && chown 1001:1001 /copied\n")
        ctx = os.path.join(work, "ctx")
        first = pybuildah.build(ctx, store=store, log=quiet, layers=True)
        again = pybuildah.build(ctx, store=store, log=quiet, layers=True)
        write(os.path.join(work, "ctx", "data", "a.txt"), "changed\n")
        changed = pybuildah.build(ctx, store=store, log=quiet, layers=True)
        out["ids"] = [first.id, again.id, changed.id]
        out["outcomes"] = [[r.instruction.split()[0], r.outcome] for r in again.build_steps[1:]]
        out["changed_outcomes"] = [r.outcome for r in changed.build_steps[1:]]
        with pybuildah.Builder(changed.id, store=store, pull="never") as b:
            out["copied"] = b.run("cat /copied; stat -c %u /copied").stdout.split()
        for image in {first.id, changed.id}:
            store.image(image).remove(force=True)
        out["left"] = [c.id for c in store.containers()]
    elif flow == "supply-chain":
        import asyncio
        from pybuildah import aio
        host = os.environ["PB_REGISTRY"]
        keys = pybuildah.generate_sigstore_key_pair(work, "pw")
        write(os.path.join(work, "ctx", "Containerfile"),
              f"FROM {base}\nRUN echo made > /made && chown 1001:1001 /made\n")

        async def built():
            return (await aio.build(os.path.join(work, "ctx"), store=aio.Store.of(store), log=quiet,
                                    provenance=True, sbom="spdx", sbom_output=os.path.join(work, "sbom.json"))).sync

        image = asyncio.run(built())
        with open(os.path.join(work, "sbom.json")) as f:
            out["sbom_packages"] = sorted(p["name"] for p in json.load(f)["packages"])
        out["provenance_subject"] = image.provenance["subject"][0]["digest"]["sha256"]
        dest = f"docker://{host}/pbrootless-signed:{uuid.uuid4().hex[:8]}"
        out["digest"] = image.push(dest, tls_verify=False, sign_by_sigstore_key=keys.private_key,
                                   sign_passphrase="pw", attach=["sbom", "provenance"])
        out["referrers"] = sorted(r.artifact_type for r in pybuildah.referrers(dest, store=store, tls_verify=False))
        unsigned = f"docker://{host}/pbrootless-unsigned:{uuid.uuid4().hex[:8]}"
        image.push(unsigned, tls_verify=False)
        policy = {"default": [{"type": "reject"}], "transports": {"docker": {host: [
            {"type": "sigstoreSigned", "keyPath": str(keys.public_key),
             "signedIdentity": {"type": "matchRepository"}}]}}}
        image.remove(force=True)
        out["pulled"] = pybuildah.pull(dest, store=store, tls_verify=False, signature_policy=policy).id
        out["image"], out["image_digest"] = image.id, image.digest
        try:
            pybuildah.pull(unsigned, store=store, tls_verify=False, signature_policy=policy)
        except pybuildah.SignatureError as error:
            out["refused"] = type(error).__name__
        store.image(image.id).remove(force=True)
print("RESULT " + json.dumps(out), flush=True)
'''


@pytest.fixture(scope="session")
def rootless_base(users: dict[str, User], scripts: Path) -> Iterator[str]:
    """A busybox image in pbtest's default store, made once for the build() option tests."""
    user = users["pbtest"]
    (scripts / "parity.py").write_text(PARITY)
    base = f"localhost/pbrootless-parity:{uuid.uuid4().hex[:12]}"
    _result(user.run(sys.executable, str(scripts / "parity.py"), "base", base, str(user.home), BUSYBOX))
    yield base
    _result(user.run(sys.executable, str(scripts / "parity.py"), "remove", base, str(user.home)))


def _parity(user: User, scripts: Path, flow: str, base: str,
            env: dict[str, str] | None = None) -> tuple[dict[str, object], Path]:
    """Run one flow of PARITY as user in a fresh work directory; its result and the directory."""
    work = user.home / f"parity-{flow}-{uuid.uuid4().hex[:8]}"
    return _result(user.run(sys.executable, str(scripts / "parity.py"), flow, base, str(work), env=env)), work


def test_rootless_build_secret_reaches_run_and_no_layer(users: dict[str, User], scripts: Path,
                                                        rootless_base: str) -> None:
    values = {"env": f"env-{uuid.uuid4().hex}", "file": f"file-{uuid.uuid4().hex}"}
    out, work = _parity(users["pbtest"], scripts, "secret", rootless_base,
                        env={"PB_ENV_SECRET": values["env"], "PB_FILE_SECRET": values["file"]})
    try:
        assert out["sums"] == [hashlib.sha256(values[name].encode()).hexdigest() for name in ("env", "file")]
        assert str(out["pushed"]).startswith("sha256:")
        blobs = [blob.read_bytes() for blob in (work / "layout" / "blobs" / "sha256").iterdir()]
        haystacks = [gzip.decompress(b) if b[:2] == b"\x1f\x8b" else b for b in blobs]
        haystacks.append(str(out["inspect"]).encode())
        assert len(haystacks) >= 4  # index, manifest, config and the layers
        for value in values.values():
            assert not any(value.encode() in haystack for haystack in haystacks)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_rootless_build_contexts_and_local_output(users: dict[str, User], scripts: Path,
                                                  rootless_base: str) -> None:
    user = users["pbtest"]
    out, work = _parity(user, scripts, "context", rootless_base)
    try:
        assert out["image_kept"] is True
        assert (work / "out" / "data.txt").read_text() == "from the extra context\n"
        assert (work / "out" / "ran").read_text() == "ran\n"
        assert (work / "out" / "bin" / "busybox").is_file()
        # the exported tree belongs to the user, not to IDs of the namespace
        assert (work / "out" / "data.txt").stat().st_uid == user.uid
    finally:
        subprocess.run(["rm", "-rf", str(work)], check=True)


def test_rootless_source_date_epoch_gives_the_same_image_twice(users: dict[str, User], scripts: Path,
                                                               rootless_base: str) -> None:
    out, work = _parity(users["pbtest"], scripts, "epoch", rootless_base)
    try:
        built = out["built"]
        assert isinstance(built, list) and len(built) == 2
        assert built[0] == built[1]
        assert built[0][2] == 1_700_000_000
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_rootless_manifest_create_add_inspect(users: dict[str, User], scripts: Path, rootless_base: str) -> None:
    out, work = _parity(users["pbtest"], scripts, "manifest", rootless_base)
    shutil.rmtree(work, ignore_errors=True)
    assert out["digests"] == out["images"]
    assert out["entries"] == out["raw_entries"] == out["digests"]
    assert out["platforms"] == [f"linux/{bases.host_arch()}", "linux/arm64/v8"]


def test_rootless_keep_failed_and_diff(users: dict[str, User], scripts: Path, rootless_base: str) -> None:
    out, work = _parity(users["pbtest"], scripts, "keep-failed", rootless_base)
    try:
        assert out["read"] == ["partial", "1001"]  # the failed step's write, owner as in the namespace
        assert out["diff"] == [["/bin/ls", "D"], ["/w/f", "A"]]
        assert out["left"] == []  # the Builder's block removed the kept container
    finally:
        subprocess.run(["rm", "-rf", str(work)], check=True)


def test_rootless_supply_chain_sign_attach_verify(users: dict[str, User], scripts: Path, rootless_base: str,
                                                  plain_registry: Registry) -> None:
    # In the user namespace: an aio build with an SBOM (the scanner runs inside the namespace too) and
    # provenance, a signed push with both attached, and a pull that a sigstore policy lets through.
    out, work = _parity(users["pbtest"], scripts, "supply-chain", rootless_base,
                        env={"PB_REGISTRY": plain_registry.host})
    try:
        packages = out["sbom_packages"]
        assert isinstance(packages, list) and "busybox" in packages, packages
        assert out["provenance_subject"] == str(out["image_digest"]).removeprefix("sha256:")
        assert str(out["digest"]).startswith("sha256:")
        assert out["referrers"] == ["application/spdx+json", "application/vnd.in-toto+json"], out["referrers"]
        assert out["pulled"] == out["image"]
        assert out["refused"] == "SignatureError"
    finally:
        subprocess.run(["rm", "-rf", str(work)], check=True)


def test_rootless_cached_rebuild_hits_on_the_copy_digest(users: dict[str, User], scripts: Path,
                                                         rootless_base: str) -> None:
    # In the user namespace, a cached COPY is looked up by the digest of its sources, without a container.
    out, work = _parity(users["pbtest"], scripts, "layers", rootless_base)
    try:
        ids = out["ids"]
        assert isinstance(ids, list) and len(ids) == 3, ids
        first, again, changed = ids
        assert again == first and changed != first
        assert out["outcomes"] == [["ARG", "hit"], ["COPY", "hit"], ["RUN", "hit"]], out["outcomes"]
        assert out["changed_outcomes"] == ["hit", "miss", "miss"], out["changed_outcomes"]
        assert out["copied"] == ["changed", "1001"]
        assert out["left"] == []
    finally:
        subprocess.run(["rm", "-rf", str(work)], check=True)
