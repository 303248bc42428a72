"""Random file trees copied into a builder come back byte for byte, with their modes, after a commit."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pybuildah

NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789._- ", min_size=1, max_size=12).filter(
    lambda n: n not in (".", "..") and n.strip() == n)
FILE_MODES = st.sampled_from([0o644, 0o600, 0o755, 0o700, 0o444, 0o640, 0o750, 0o000, 0o777, 0o4755, 0o2755])
DIR_MODES = st.sampled_from([0o755, 0o700, 0o750, 0o775, 0o1777])
# small random files, and big ones made by repeating a random seed to a random size (cheap to generate)
CONTENT = st.one_of(
    st.binary(max_size=64),
    st.builds(lambda seed, size: (seed * (size // len(seed) + 1))[:size],
              st.binary(min_size=1, max_size=16), st.integers(min_value=4096, max_value=300_000)),
)


@st.composite
def trees(draw: st.DrawFn) -> list[tuple[str, str, object, int]]:
    """Entries (relative path, kind, payload, mode), parents before children."""
    entries: list[tuple[str, str, object, int]] = []
    dirs = [""]
    used: set[str] = set()
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        parent = draw(st.sampled_from(dirs))
        name = draw(NAMES)
        path = f"{parent}/{name}" if parent else name
        if path.lower() in used:
            continue
        used.add(path.lower())
        kind = draw(st.sampled_from(["file", "file", "dir", "symlink"]))
        if kind == "file":
            entries.append((path, kind, draw(CONTENT), draw(FILE_MODES)))
        elif kind == "dir":
            entries.append((path, kind, None, draw(DIR_MODES)))
            dirs.append(path)
        else:
            target = draw(st.one_of(NAMES, st.sampled_from(sorted(used)), st.just("../outside/target")))
            entries.append((path, kind, target, 0o777))
    return entries


def make_tree(root: Path, entries: list[tuple[str, str, object, int]]) -> None:
    for path, kind, payload, _ in entries:
        full = root / path
        if kind == "file":
            full.write_bytes(payload)  # type: ignore[arg-type]
        elif kind == "dir":
            full.mkdir()
        else:
            full.symlink_to(str(payload))
    for path, kind, _, mode in reversed(entries):  # children first, so that 0o000 dirs come last
        if kind != "symlink":
            os.chmod(root / path, mode)


def snapshot(root: Path) -> dict[str, tuple[str, int, bytes | str]]:
    out: dict[str, tuple[str, int, bytes | str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            info = full.lstat()
            rel = str(full.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                out[rel] = ("symlink", 0, os.readlink(full))
            elif stat.S_ISDIR(info.st_mode):
                out[rel] = ("dir", stat.S_IMODE(info.st_mode), b"")
            else:
                out[rel] = ("file", stat.S_IMODE(info.st_mode), full.read_bytes())
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=trees())
def test_file_trees_round_trip_through_commit(store: pybuildah.Store, busybox: str,
                                              entries: list[tuple[str, str, object, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "tree"
        source.mkdir()
        make_tree(source, entries)
        expected = snapshot(source)
        with pybuildah.Builder(busybox, store=store) as b:
            b.copy(source, "/data/")
            image = b.commit()
        with pybuildah.Builder(image.id, store=store) as again, again.mount() as root:
            assert snapshot(root / "data") == expected
