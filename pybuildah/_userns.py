"""Rootless use: re-executing the program inside a user namespace.

This is Buildah's ``unshare.MaybeReexecUsingUserNamespace`` (what the
``buildah`` command does before its first step) done from Python, because in
a Python process ``/proc/self/exe`` is the interpreter and the Go runtime
must not be running yet when the namespace is made (``unshare(CLONE_NEWUSER)``
refuses a process with more than one thread).

The parent starts ``sys.executable`` with the interpreter's original
arguments (``sys.orig_argv``, so ``-m``, ``-c`` and interpreter options are
kept) and two pipes.  The child, when the program calls ``init_reexec()``
again, unshares its user namespace and says so; the parent gives it the
user's ranges from /etc/subuid and /etc/subgid with newuidmap/newgidmap (or,
without ranges, a single-ID map, with a warning) and lets it go on.  The
child becomes UID 0 in the namespace, unshares a mount namespace and runs the
program with the environment that containers/storage and Buildah read to
pick their rootless defaults.  The parent forwards SIGINT, SIGTERM and SIGHUP,
waits, and exits with the child's status: the one place where pybuildah ends
a process, and only because the program asked for it at its start.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import sys
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import _api, _ffi, errors

if TYPE_CHECKING:  # ctypes and subprocess serve the rootless re-exec only: imported there
    import ctypes
    import subprocess

PIPES_ENV = "_PYBUILDAH_USERNS_PIPES"  # "ready_fd,continue_fd,parent_pid", for the child only
USERNS_ENV = "_CONTAINERS_USERNS_CONFIGURED"  # what containers/storage and Buildah read
ROOTLESS_UID_ENV = "_CONTAINERS_ROOTLESS_UID"
ROOTLESS_GID_ENV = "_CONTAINERS_ROOTLESS_GID"
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
PR_SET_PDEATHSIG = 1
WAITED_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD}
SI_KERNEL = 0x80  # siginfo's si_code for a signal the kernel sent, e.g. the terminal's Ctrl-C
START_UNDER = "start it under `pybuildah unshare` (for Jupyter: `pybuildah kernel install`)"



@dataclass(frozen=True)
class IDRange:
    """One line of a uid_map/gid_map: size IDs from host_id appear from ns_id on."""

    ns_id: int
    host_id: int
    size: int

    def line(self) -> str:
        return f"{self.ns_id} {self.host_id} {self.size}"


def in_user_namespace() -> bool:
    """Whether this process runs in the user namespace that init_reexec() or `pybuildah unshare` made."""
    return os.environ.get(USERNS_ENV) == "done" and os.geteuid() == 0


def init_reexec() -> bool:
    """See pybuildah.init_reexec()."""
    enter()
    _ffi._load()
    if in_user_namespace() and "XDG_RUNTIME_DIR" not in os.environ:
        # as the buildah command: rootless, the auth file and the run root live there
        runtime_dir = _api.runtime_dir()
        if runtime_dir:
            os.environ["XDG_RUNTIME_DIR"] = runtime_dir
    return False


def enter() -> None:
    """The namespace half of init_reexec(), without starting the Go runtime (what `pybuildah unshare` needs)."""
    if PIPES_ENV in os.environ:
        _enter_namespace()
    elif os.geteuid() != 0:
        _reexec_in_namespace()  # never returns


def subordinate_ranges(path: str, user: str, uid: int) -> list[tuple[int, int]]:
    """The (start, count) ranges of /etc/subuid or /etc/subgid that belong to user (by name or ID)."""
    ranges = []
    try:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                fields = line.strip().split(":")
                if len(fields) != 3 or fields[0] not in (user, str(uid)):
                    continue
                with contextlib.suppress(ValueError):
                    start, count = int(fields[1]), int(fields[2])
                    if count > 0:
                        ranges.append((start, count))
    except OSError:
        return []
    return ranges


def id_map(own_id: int, ranges: list[tuple[int, int]]) -> list[IDRange]:
    """Own ID as 0, then the subordinate ranges one after another from 1 (as Buildah maps them)."""
    mapping = [IDRange(0, own_id, 1)]
    next_id = 1
    for start, count in ranges:
        mapping.append(IDRange(next_id, start, count))
        next_id += count
    return mapping


def reexec_argv() -> list[str]:
    """The command line that runs this program again, or a UserNamespaceError saying why there is none."""
    if hasattr(sys, "ps1") or sys.flags.interactive:
        raise errors.UserNamespaceError(
            "pybuildah.init_reexec() cannot re-execute an interactive interpreter in a user namespace; "
            + START_UNDER)
    if "ipykernel" in sys.modules:
        raise errors.UserNamespaceError(
            "pybuildah.init_reexec() cannot re-execute a running Jupyter kernel in a user namespace; "
            "install a kernel that starts there with `pybuildah kernel install --user` and choose it, "
            "or start Jupyter under `pybuildah unshare`")
    orig = list(getattr(sys, "orig_argv", []))
    if not sys.executable or not orig or not sys.argv or sys.argv[0] in ("", "-"):
        raise errors.UserNamespaceError(
            "pybuildah.init_reexec() cannot re-execute this program in a user namespace "
            "(it was read from standard input or the interpreter is embedded); " + START_UNDER)
    return [sys.executable, *orig[1:]]


def _libc() -> ctypes.CDLL:
    import ctypes
    import ctypes.util

    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _unshare(libc: ctypes.CDLL, flags: int, what: str) -> None:
    if libc.unshare(flags) != 0:
        import ctypes

        err = ctypes.get_errno()
        hint = ("" if flags & CLONE_NEWUSER == 0 else
                "; are unprivileged user namespaces enabled (/proc/sys/user/max_user_namespaces, "
                "/proc/sys/kernel/unprivileged_userns_clone)?")
        raise errors.UserNamespaceError(f"unshare({what}): {os.strerror(err)}{hint}")


def _threads() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 1


def _enter_namespace() -> None:
    """In the child: unshare, wait for the parent to write the ID maps, become root in the namespace."""
    ready_fd, continue_fd, parent = (int(part) for part in os.environ.pop(PIPES_ENV).split(","))
    libc = _libc()
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # as Buildah: never outlive the parent
    if os.getppid() != parent:
        os._exit(1)  # the parent is gone already; nobody waits for this program
    try:
        if _threads() != 1:
            raise errors.UserNamespaceError(
                "pybuildah.init_reexec() must run before the program starts threads (or uses pybuildah): "
                "the kernel makes a user namespace only for a single-threaded process")
        _unshare(libc, CLONE_NEWUSER, "CLONE_NEWUSER")
        os.write(ready_fd, b"1")
    finally:
        os.close(ready_fd)
    with os.fdopen(continue_fd, "rb") as answer:
        problem = answer.read().decode(errors="replace")
    if problem:
        raise errors.UserNamespaceError(f"setting up the user namespace: {problem}")
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)
    _unshare(libc, CLONE_NEWNS, "CLONE_NEWNS")


def _write_maps(pid: int, uid: int, gid: int, user: str) -> None:
    """Give the child its ID maps: the user's subordinate ranges, else a single ID (with a warning)."""
    import subprocess

    uids = subordinate_ranges("/etc/subuid", user, uid)
    gids = subordinate_ranges("/etc/subgid", user, gid)
    problem = ""
    mapped: list[str] = []  # a map is written once: after newgidmap worked, only the UID map may fall back
    if uids and gids:
        for tool, mapping in (("newgidmap", id_map(gid, gids)), ("newuidmap", id_map(uid, uids))):
            args = [tool, str(pid)] + [str(n) for r in mapping for n in (r.ns_id, r.host_id, r.size)]
            try:
                done = subprocess.run(args, capture_output=True, text=True, check=False)
            except OSError as exc:
                problem = f"{tool}: {exc}"
                break
            if done.returncode != 0:
                problem = f"{tool}: {(done.stderr or done.stdout).strip()}"
                break
            mapped.append(tool)
        else:
            return
    else:
        problem = f"no subordinate ranges for user {user!r} in /etc/subuid and /etc/subgid"
    # A warning, not a log record: the "pybuildah" logger is silent unless the program configures
    # logging, and a program without ranges must still be told why its chowns will fail.
    warnings.warn(
        f"pybuildah: {problem}; falling back to a single-ID user namespace (UID {uid} and GID {gid} as 0): files "
        "can belong to no other user or group, so chown to other IDs and images with such files fail. "
        f"Give the user ranges with `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user}`.",
        RuntimeWarning, stacklevel=2)
    if "newgidmap" not in mapped:
        with open(f"/proc/{pid}/setgroups", "w", encoding="ascii") as setgroups:
            setgroups.write("deny")
        with open(f"/proc/{pid}/gid_map", "w", encoding="ascii") as gid_map:
            gid_map.write(IDRange(0, gid, 1).line() + "\n")
    with open(f"/proc/{pid}/uid_map", "w", encoding="ascii") as uid_map:
        uid_map.write(IDRange(0, uid, 1).line() + "\n")


def _child_env(uid: int, gid: int, pipes: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({PIPES_ENV: pipes, USERNS_ENV: "done", ROOTLESS_UID_ENV: str(uid), ROOTLESS_GID_ENV: str(gid)})
    return env


def _exit_status(status: int) -> int:
    return 128 - status if status < 0 else status  # killed by signal N: 128+N, as a shell reports it


def _reexec_in_namespace() -> None:
    """In the parent: run the program again in a user namespace, wait for it, exit with its status."""
    import subprocess

    argv = reexec_argv()
    if _threads() != 1:
        raise errors.UserNamespaceError(
            "pybuildah.init_reexec() must run before the program starts threads (or uses pybuildah): "
            "the kernel makes a user namespace only for a single-threaded process")
    uid, gid = os.getuid(), os.getgid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = str(uid)
    ready_r, ready_w = os.pipe()
    continue_r, continue_w = os.pipe()
    env = _child_env(uid, gid, f"{ready_w},{continue_r},{os.getpid()}")
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    # From here the parent takes its signals with sigwaitinfo(), never with Python handlers;
    # the child starts with the mask the program had.
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, WAITED_SIGNALS)
    try:
        child = subprocess.Popen(argv, env=env, pass_fds=(ready_w, continue_r),
                                 preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask))
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
        raise
    finally:
        os.close(ready_w)
        os.close(continue_r)
    with os.fdopen(ready_r, "rb") as ready, os.fdopen(continue_w, "wb") as proceed:
        if ready.read(1):  # empty: the child ended before it reached init_reexec()
            try:
                _write_maps(child.pid, uid, gid, user)
            except OSError as exc:
                proceed.write(f"writing the ID maps of process {child.pid}: {exc}".encode())
    status = _wait_forwarding(child)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(_exit_status(status))


def _wait_forwarding(child: subprocess.Popen[bytes]) -> int:
    """Wait for the child, passing on SIGINT, SIGTERM and SIGHUP that were sent to this process.

    A signal the terminal sent (Ctrl-C, a hang-up) reached the child too, as it is in the same
    process group; passing it on would deliver it twice.  Those carry si_code SI_KERNEL.
    """
    while True:
        status = child.poll()
        if status is not None:
            return status
        info = signal.sigwaitinfo(WAITED_SIGNALS)
        if info.si_signo != signal.SIGCHLD and info.si_code != SI_KERNEL:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(info.si_signo)
