"""The step cache of Builder(cache=True), with real builds in temporary stores.

A hit must give exactly what a miss gives: the property test builds random
scripts with the cache warm and with cache=False from nothing and compares
the images' file trees and configs.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import BUSYBOX
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from registry import Registry, plain_registry
from test_rootless import User, scripts, users  # session fixtures: the rootless test users

import pybuildah

__all__ = ["plain_registry", "scripts", "users"]

Script = Callable[[pybuildah.Builder, Path], None]
SKIP = ("proc", "sys", "dev", "run", "etc/hosts", "etc/hostname", "etc/resolv.conf")


def image_tree(store: pybuildah.Store, image: str) -> dict[str, tuple[Any, ...]]:
    """Every path of image: type, mode, owner, and content or link target."""
    out: dict[str, tuple[Any, ...]] = {}
    with pybuildah.Builder(image, store=store) as b, b.mount() as root:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                path = Path(dirpath) / name
                rel = str(path.relative_to(root))
                if rel in SKIP or rel.startswith(tuple(p + "/" for p in SKIP)):
                    continue
                info = path.lstat()
                kind = stat.S_IFMT(info.st_mode)
                data: Any = None
                if stat.S_ISREG(info.st_mode):
                    data = path.read_bytes()
                elif stat.S_ISLNK(info.st_mode):
                    data = os.readlink(path)
                out[rel] = (kind, stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid, data)
    return out


def build(store: pybuildah.Store, base: str, script: Script, src: Path, *, cache: bool,
          name: str) -> tuple[pybuildah.Image, pybuildah.StepReport]:
    with pybuildah.Builder(base, store=store, cache=cache) as b:
        script(b, src)
        report = b.steps
        return b.commit(name), report


def write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


RECORD = "cat /proc/sys/kernel/random/uuid >> /runs-{0}"  # each execution leaves its own line


def five_steps(b: pybuildah.Builder, src: Path) -> None:
    b.copy(str(src / "a.txt"), "/data/")
    b.run(RECORD.format(1))
    b.set_env("STAGE", "two")
    b.copy(str(src / "app"), "/app/")
    b.run(RECORD.format(2) + ' && echo "$STAGE" > /stage')
    b.copy(str(src / "b.txt"), "/data/")


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    write(src / "a.txt", "a\n")
    write(src / "b.txt", "b\n")
    write(src / "app" / "main.py", "print('one')\n")
    write(src / "app" / "tool.sh", "echo tool\n", 0o755)
    os.symlink("main.py", src / "app" / "link.py")
    return src


def child_processes() -> dict[int, str]:
    """This process's children (a kept copier, a RUN runtime, ...) by PID, with their command lines."""
    out = {}
    for task in Path("/proc/self/task").iterdir():
        for pid in (task / "children").read_text().split():
            with contextlib.suppress(OSError):  # gone meanwhile
                out[int(pid)] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return out


def test_unchanged_rerun_is_all_hits_and_starts_nothing(store: pybuildah.Store, busybox: str,
                                                       sources: Path) -> None:
    first, report = build(store, busybox, five_steps, sources, cache=True, name="first")
    assert [s.outcome for s in report] == ["miss"] * 5
    assert report[0].reason == "no earlier entry"
    with pybuildah.Builder(busybox, store=store) as plain:  # the check below sees a step's children
        plain.copy(str(sources / "a.txt"), "/a.txt")
        assert any("buildah-copier" in command for command in child_processes().values())
    before = child_processes()  # other tests' servers (a registry) may be children too
    with pybuildah.Builder(busybox, store=store, cache=True) as b:
        container = b.id
        five_steps(b, sources)
        assert [s.outcome for s in b.steps] == ["hit"] * 5
        started = {pid: command for pid, command in child_processes().items() if pid not in before}
        assert started == {}  # no copier child, no RUN runtime
        assert "5 steps, 5 from the cache" in b._repr_html_()
        assert b.id == container  # a chain of hits made no container
        again = b.commit("again")
        assert b.id == container  # the commit was made on the last hit's image, without a container
        assert [c.id for c in store.containers()] == [container]
        assert b.commit("again-2").config == again.config and b.id == container  # again on the entry
        assert b.run("cat /stage").stdout == "two\n"  # the Builder goes on from the last hit
        assert b.id != container
    tree = image_tree(store, "again")
    assert tree == image_tree(store, "first")
    assert tree["stage"][4] == b"two\n"
    assert again.config.env["STAGE"] == "two"
    assert first.id != again.id


def test_changed_file_reruns_from_the_copy_that_reads_it(store: pybuildah.Store, busybox: str,
                                                         sources: Path) -> None:
    build(store, busybox, five_steps, sources, cache=True, name="first")
    write(sources / "app" / "main.py", "print('two')\n")
    _, report = build(store, busybox, five_steps, sources, cache=True, name="second")
    assert [s.outcome for s in report] == ["hit", "hit", "miss", "miss", "miss"]
    assert report[2].reason == "content of app/main.py changed"
    assert report[3].reason == report[4].reason == "parent step missed"
    first, second = image_tree(store, "first"), image_tree(store, "second")
    assert first["runs-1"] == second["runs-1"]  # the first run did not run again
    assert first["runs-2"] != second["runs-2"]  # the second did
    assert second["app/main.py"][4] == b"print('two')\n"


def test_reasons_and_uncacheable_steps(store: pybuildah.Store, busybox: str, sources: Path,
                                       tmp_path: Path) -> None:
    def script(command: str, mode: int) -> Script:
        def run(b: pybuildah.Builder, src: Path) -> None:
            b.copy(str(src / "app"), "/app/")
            b.run(command)
            b.run(RECORD.format(3), volumes=[f"{tmp_path}:/host:ro"])
            b.run("true")
            b.run(RECORD.format(4), cache=False)
        (sources / "app" / "tool.sh").chmod(mode)
        return run

    build(store, busybox, script("echo one", 0o755), sources, cache=True, name="x")
    _, report = build(store, busybox, script("echo two", 0o755), sources, cache=True, name="y")
    assert [s.outcome for s in report] == ["hit", "miss", "uncached", "uncached", "uncached"]
    assert report[1].reason == "command changed"
    assert report[2].reason == "not cacheable: volumes="
    assert report[3].reason == "parent step not cached"
    _, report = build(store, busybox, script("echo two", 0o700), sources, cache=True, name="z")
    assert report[0].reason == "mode of app/tool.sh changed"
    html = report._repr_html_()
    assert "mode of app/tool.sh changed" in html and "<table" in html


def test_run_result_and_config_changes(store: pybuildah.Store, busybox: str, sources: Path) -> None:
    def script(value: str) -> Script:
        def run(b: pybuildah.Builder, src: Path) -> None:
            b.set_env("V", value)
            result = b.run('echo "out $V"; echo err >&2; exit 3', check=False)
            assert (result.exit_code, result.stdout, result.stderr) == (3, f"out {value}\n", "err\n")
        return run

    build(store, busybox, script("1"), sources, cache=True, name="x")
    lines: list[str] = []
    with pybuildah.Builder(busybox, store=store, cache=True) as b:
        b.set_env("V", "1")
        assert b.run('echo "out $V"; echo err >&2; exit 3', check=False, log=lines.append).stdout == "out 1\n"
        assert b.steps[0].hit and lines == ["out 1", "err"]
    _, report = build(store, busybox, script("2"), sources, cache=True, name="y")
    assert report[0].outcome == "miss" and report[0].reason == "config changed"


def test_new_config_setters_are_part_of_the_step_key(store: pybuildah.Store, busybox: str, sources: Path) -> None:
    def script(interval: str) -> Script:
        def run(b: pybuildah.Builder, src: Path) -> None:
            b.set_healthcheck("CMD-SHELL true", interval=interval)
            b.add_onbuild("RUN make")
            b.unset_port(80)
            b.run("echo x > /x")
        return run

    build(store, busybox, script("5s"), sources, cache=True, name="x")
    _, report = build(store, busybox, script("5s"), sources, cache=True, name="y")
    assert report[0].outcome == "hit"
    _, report = build(store, busybox, script("6s"), sources, cache=True, name="z")
    assert report[0].outcome == "miss" and report[0].reason == "config changed"


def test_new_base_misses(store: pybuildah.Store, busybox: str, sources: Path) -> None:
    def script(b: pybuildah.Builder, src: Path) -> None:
        b.copy(str(src / "a.txt"), "/a.txt")

    build(store, busybox, script, sources, cache=True, name="x")
    with pybuildah.Builder(busybox, store=store) as b:
        b.set_label("new", "base")
        b.commit("newbase")
    _, report = build(store, "newbase", script, sources, cache=True, name="y")
    assert report[0].outcome == "miss" and report[0].reason.startswith("base image changed (sha256:")


def test_prune_reclaims_unreachable_entries(store: pybuildah.Store, busybox: str, sources: Path) -> None:
    def script(b: pybuildah.Builder, src: Path) -> None:
        b.copy(str(src / "a.txt"), "/a.txt")
        b.run("true")

    with pybuildah.Builder(busybox, store=store, cache=True) as b:
        script(b, sources)  # no commit: the entries are reachable from nothing
    assert len(store.images(filters=["dangling=true"])) == 1
    assert len(store.prune().images) == 2
    _, report = build(store, busybox, script, sources, cache=True, name="kept")
    assert [s.outcome for s in report] == ["miss", "miss"]
    store.prune()
    _, report = build(store, busybox, script, sources, cache=True, name="kept")
    assert [s.outcome for s in report] == ["hit", "hit"]  # entries under a named image stay


CONCURRENT = """
import sys, pybuildah
root, extra, src = sys.argv[1:4]
with pybuildah.Store(root=root, driver="overlay", additional_image_stores=[extra]) as store:
    with pybuildah.Builder("localhost/busybox:latest", store=store, cache=True) as b:
        b.copy(src + "/app", "/app/")
        b.run("cat /proc/sys/kernel/random/uuid > /id; sleep 0.5")
        b.copy(src + "/a.txt", "/a.txt")
        b.commit("same-" + sys.argv[4])
        print([s.outcome for s in b.steps])
"""


def test_two_processes_build_the_same_script(tmp_path: Path, sources: Path, base_store_root: Path) -> None:
    args = [str(tmp_path / "shared"), str(base_store_root), str(sources)]
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, *args, str(i)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    third = subprocess.run([sys.executable, "-c", CONCURRENT, *args, "3"], capture_output=True, text=True,
                           check=True)
    assert third.stdout.strip() == "['hit', 'hit', 'hit']"


ROOTLESS = """
import json, os, sys
import pybuildah
from pybuildah import bases
pybuildah.init_reexec()
tag, work, busybox = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
with open(os.path.join(work, "data.txt"), "w") as f:
    f.write(f"rootless {tag}\\n")  # the base image is the same every run: new content must miss
outcomes = []
with pybuildah.default_store() as store:
    bases.busybox(store, f"localhost/pbstepcache:{tag}", busybox=busybox)
    for _ in range(2):
        with pybuildah.Builder(f"localhost/pbstepcache:{tag}", store=store, cache=True) as b:
            b.copy(os.path.join(work, "data.txt"), "/data.txt", chown="1001:1001")
            owner = b.run("stat -c %u:%g /data.txt").stdout.strip()
            outcomes.append([s.outcome for s in b.steps] + [owner])
            b.commit(f"localhost/pbstepcache-out:{tag}")
    store.remove_image(f"localhost/pbstepcache-out:{tag}")
    store.remove_image(f"localhost/pbstepcache:{tag}")
print("RESULT " + json.dumps(outcomes), flush=True)
"""


def test_rootless_smoke(users: dict[str, User], scripts: Path) -> None:
    user = users["pbtest"]
    (scripts / "stepcache.py").write_text(ROOTLESS)
    tag = os.urandom(6).hex()
    done = user.run(sys.executable, str(scripts / "stepcache.py"), tag, str(user.home / f"sc-{tag}"), BUSYBOX)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stdout + done.stderr
    assert json.loads(lines[0][7:]) == [["miss", "miss", "1001:1001"], ["hit", "hit", "1001:1001"]]


# The property: a warm cache gives what a cold build without it gives ----------------

names = st.sampled_from(["a", "b", "c.txt", "dir"])
files = st.dictionaries(
    st.tuples(st.sampled_from(["", "sub/"]), names).map("".join),
    st.tuples(st.one_of(st.binary(max_size=20), st.sampled_from(["->a", "->sub"])),
              st.sampled_from([0o644, 0o755, 0o600, 0o4755])),
    min_size=1, max_size=5)
steps = st.lists(st.one_of(
    st.tuples(st.just("copy"), st.sampled_from(["t1", "t2"]), st.sampled_from(["/x/", "/y/"]),
              st.sampled_from([None, "1:2", "0:0"]), st.sampled_from([None, "0640"]),
              st.sampled_from([None, "**/a"])),
    st.tuples(st.just("run"), st.sampled_from(["/x", "/y", "/z"]), st.sampled_from(["p", "q"])),
    st.tuples(st.just("env"), st.sampled_from(["E", "F"]), st.sampled_from(["1", "2"])),
), min_size=1, max_size=5)
edits = st.lists(st.one_of(
    st.tuples(st.just("content"), st.sampled_from(["t1", "t2"]), st.binary(max_size=8)),
    st.tuples(st.just("mode"), st.sampled_from(["t1", "t2"]), st.sampled_from([0o600, 0o755])),
    st.tuples(st.just("step"), st.integers(0, 4), st.sampled_from(["env", "command", "chown", "exclude"])),
), max_size=2)


def make_trees(base: Path, trees: dict[str, dict[str, tuple[bytes | str, int]]]) -> None:
    for tree, entries in trees.items():
        root = base / tree
        root.mkdir(parents=True)
        (root / "sub").mkdir()
        for name, (data, mode) in entries.items():
            path = root / name
            if path.exists():
                continue
            if isinstance(data, str):
                os.symlink(data[2:], path)
            else:
                path.write_bytes(data)
                path.chmod(mode)
                os.chown(path, len(data) % 3, 7)  # host owners: they must not matter


def script_of(plan: list[tuple[Any, ...]]) -> Script:
    def run(b: pybuildah.Builder, src: Path) -> None:
        for step in plan:
            if step[0] == "copy":
                b.copy(str(src / step[1]), step[2], chown=step[3], chmod=step[4],
                       exclude=[step[5]] if step[5] else None)
            elif step[0] == "run":
                b.run(f"mkdir -p {step[1]} && echo {step[2]} >> {step[1]}/out && ls -R /x /y > /listing 2>&1; true")
            else:
                b.set_env(step[1], step[2])
    return run


def apply_edit(src: Path, plan: list[tuple[Any, ...]], edit: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    kind = edit[0]
    if kind in ("content", "mode"):
        regular = sorted(p for p in (src / edit[1]).rglob("*") if p.is_file() and not p.is_symlink())
        if regular:
            if kind == "content":
                regular[0].write_bytes(edit[2])
            else:
                regular[0].chmod(edit[2])
        return plan
    plan = list(plan)
    index = edit[1] % len(plan)
    step = plan[index]
    if step[0] == "env" and edit[2] == "env":
        plan[index] = (step[0], step[1], step[2] + "x")
    elif step[0] == "run" and edit[2] == "command":
        plan[index] = (step[0], step[1], step[2] + "r")
    elif step[0] == "copy" and edit[2] == "chown":
        plan[index] = (*step[:3], "3:3" if step[3] != "3:3" else None, *step[4:])
    elif step[0] == "copy" and edit[2] == "exclude":
        plan[index] = (*step[:5], None if step[5] else "**/a")
    return plan


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(trees=st.fixed_dictionaries({"t1": files, "t2": files}), plan=steps, edit_list=edits)
def test_warm_cache_gives_what_no_cache_gives(store: pybuildah.Store, busybox: str, tmp_path_factory: Any,
                                              trees: Any, plan: Any, edit_list: Any) -> None:
    src = tmp_path_factory.mktemp("prop")
    make_trees(src, trees)
    build(store, busybox, script_of(plan), src, cache=True, name="warm-up")
    for edit in edit_list:
        plan = apply_edit(src, plan, edit)
    cached, report = build(store, busybox, script_of(plan), src, cache=True, name="cached")
    plain, _ = build(store, busybox, script_of(plan), src, cache=False, name="plain")
    assert image_tree(store, "cached") == image_tree(store, "plain"), [(s.outcome, s.reason) for s in report]
    assert cached.config == plain.config
    if not edit_list:
        assert all(s.hit for s in report)
    if all(s.hit for s in report) and report:  # the commit made on the last entry is the container's image
        ids = [commit_after_hits(store, busybox, script_of(plan), src, materialise=m, timestamp=1_700_000_000)
               for m in (False, True)]
        assert ids[0] == ids[1]


def commit_after_hits(store: pybuildah.Store, base: str, script: Script, src: Path, *, materialise: bool,
                      **options: Any) -> str:
    """Run script (all hits) and commit, first making the container from the last hit if materialise."""
    with pybuildah.Builder(base, store=store, cache=True) as b:
        container = b.id
        script(b, src)
        if materialise:
            b._materialise()  # the path every commit after hits took before the entry commit
        image = b.commit(None, **options)
        assert (b.id != container) == materialise
        return image.id


def test_entry_removed_before_use(store: pybuildah.Store, busybox: str, sources: Path) -> None:
    with pybuildah.Builder(busybox, store=store, cache=True) as b:
        b.copy(str(sources / "a.txt"), "/a.txt")
    with pybuildah.Builder(busybox, store=store, cache=True) as b:
        b.copy(str(sources / "a.txt"), "/a.txt")
        assert b.steps[0].hit
        (entry,) = store.images(filters=["dangling=true"])
        store.remove_image(entry.id)
        with pytest.raises(pybuildah.ImageNotFound, match="step cache's entry"):
            b.commit("gone")


def test_cache_through_a_registry(store: pybuildah.Store, busybox: str, sources: Path, tmp_path: Path,
                                  base_store_root: Path, plain_registry: Registry) -> None:
    repo = f"{plain_registry.host}/stepcache/{os.urandom(4).hex()}"

    def script(b: pybuildah.Builder, src: Path) -> None:
        b.copy(str(src / "app"), "/app/")
        assert b.run("echo ran; " + RECORD.format(5)).stdout == "ran\n"

    with pybuildah.Builder(busybox, store=store, cache=True, cache_to=repo, tls_verify=False) as b:
        script(b, sources)
        b.commit("pushed")
    with pybuildah.Store(root=tmp_path / "other", driver="overlay",
                         additional_image_stores=[base_store_root]) as other:
        with pybuildah.Builder(busybox, store=other, cache=True, cache_from=[repo], tls_verify=False) as b:
            script(b, sources)
            assert [s.outcome for s in b.steps] == ["hit", "hit"]
            b.commit("pulled")
        assert image_tree(other, "pulled") == image_tree(store, "pushed")
        with pytest.raises(pybuildah.InvalidArgument, match="cache=True"):
            pybuildah.Builder(busybox, store=other, cache_from=repo)
        assert other.containers() == []


def test_copy_from_a_cached_builder_and_an_image(store: pybuildah.Store, busybox: str, sources: Path) -> None:
    def two_stages(tag: str) -> tuple[list[str], list[str], list[str]]:
        with pybuildah.Builder(busybox, store=store, cache=True) as build_stage, \
                pybuildah.Builder(busybox, store=store, cache=True) as final:
            build_stage.copy(str(sources / "app"), "/src/")
            build_stage.run("mkdir /out && cat /src/main.py /src/tool.sh > /out/bundle")
            final.copy("/out/bundle", "/bundle", from_=build_stage)
            final.copy("/bin/busybox", "/bin/tool", from_=busybox)
            final.commit(tag)
            return ([s.outcome for s in build_stage.steps], [s.outcome for s in final.steps],
                    [s.reason for s in final.steps])

    assert two_stages("one")[1] == ["miss", "miss"]
    assert two_stages("two")[:2] == (["hit", "hit"], ["hit", "hit"])
    assert image_tree(store, "two") == image_tree(store, "one")
    write(sources / "app" / "main.py", "print('three')\n")
    stage, final, reasons = two_stages("three")
    assert stage == ["miss", "miss"] and final == ["miss", "miss"]
    assert reasons == ["from changed", "parent step missed"]
    assert image_tree(store, "three")["bundle"][4].startswith(b"print('three')\n")


def test_without_cache_nothing_is_kept(store: pybuildah.Store, busybox: str, sources: Path) -> None:
    before = {image.id for image in store.images()}
    with pybuildah.Builder(busybox, store=store) as b:
        b.copy(str(sources / "a.txt"), "/a.txt")
        b.run("true")
        assert list(b.steps) == []
    assert {image.id for image in store.images()} == before


def test_cache_key_vouches_for_a_step(store: pybuildah.Store, busybox: str, sources: Path,
                                      tmp_path: Path) -> None:

    with pybuildah.Builder(busybox, store=store, cache=True) as b:
        b.run("cp /host/a.txt /copied", volumes=[f"{sources}:/host:ro"], cache_key="v1")
        b.copy(str(sources / "a.txt"), "/x")
    with pybuildah.Builder(busybox, store=store, cache=True) as b:
        b.run("cp /host/a.txt /copied", volumes=[f"{sources}:/host:ro"], cache_key="v1")
        with pytest.raises(pybuildah.BuildahError):
            b.add("http://127.0.0.1:9/never.tgz", "/x")  # no checksum, no cache_key: fetched, and fails
        assert [s.outcome for s in b.steps] == ["hit", "failed"]
        assert b.steps[1].reason.endswith("(not cacheable: URL without checksum=)")
    with pybuildah.Builder(busybox, store=store, cache=True) as b:
        b.run("cp /host/a.txt /copied", volumes=[f"{sources}:/host:ro"], cache_key="v2")
        assert b.steps[0].outcome == "miss" and b.steps[0].reason == "cache_key changed"


def test_a_streamed_input_is_not_cached_but_bytes_are(store: pybuildah.Store, busybox: str) -> None:
    reports = []
    for _ in range(2):
        with pybuildah.Builder(busybox, store=store, cache=True) as b:
            b.run("cat > /from-bytes", input=b"same bytes")
            b.run("cat > /from-stream", input=io.BytesIO(b"streamed"))
            assert b.run("cat /from-stream").stdout == "streamed"
            reports.append(b.steps)
    second = reports[1]
    assert [step.hit for step in second][:2] == [True, False]
    assert "input= is a stream" in (second[1].reason or "")


def after_last_step(b: pybuildah.Builder) -> None:
    """Config changes after the last step: they apply at the commit, never in an entry."""
    b.set_label("stage", "final")
    b.set_env("LATE", "1")
    b.configure(annotations={"org.example.note": "late"}, created_by="pybuildah test", history_comment="why")


def config_without_times(image: pybuildah.Image) -> dict[str, Any]:
    oci = dict(image.inspect()["OCIv1"])
    oci.pop("created")
    oci["history"] = [{k: v for k, v in h.items() if k != "created"} for h in oci["history"]]
    return oci


@pytest.mark.parametrize(("format", "squash", "timestamp", "named"), [
    ("oci", False, 1_700_000_000, True), ("oci", False, None, True), ("oci", False, 1_700_000_000, False),
    ("docker", False, 1_700_000_000, True), ("docker", False, None, True), ("oci", True, 1_700_000_000, True),
])
def test_commit_after_hits_is_the_image_a_container_gives(store: pybuildah.Store, busybox: str, sources: Path,
                                                          format: str, squash: bool, timestamp: int | None,
                                                          named: bool) -> None:
    """The commit after a chain of hits (made on the entry, without a container, where covered)
    gives the image that committing a container made from the entry gives."""
    with pybuildah.Builder(busybox, store=store, cache=True, format=format) as b:  # entries in this format
        five_steps(b, sources)
    images, containers_made = [], []
    for materialise in (False, True):
        with pybuildah.Builder(busybox, store=store, cache=True, format=format) as b:
            container = b.id
            five_steps(b, sources)
            after_last_step(b)
            if materialise:
                b._materialise()  # the path every case took before: a container from the last hit
            name = f"after-hits-{int(materialise)}" if named else None
            images.append(b.commit(name, squash=squash, timestamp=timestamp))
            containers_made.append(b.id != container)
            assert all(s.hit for s in b.steps)
    fast, slow = images
    covered = not squash and (format == "oci" or timestamp is not None)  # Docker's config names the container
    assert containers_made == [not covered, True]
    fast_info, slow_info = fast.inspect(), slow.inspect()
    assert config_without_times(fast) == config_without_times(slow)
    assert fast_info["OCIv1"]["rootfs"] == slow_info["OCIv1"]["rootfs"]
    assert json.loads(fast_info["Manifest"])["layers"] == json.loads(slow_info["Manifest"])["layers"]
    assert fast.manifest_type == slow.manifest_type
    if timestamp is not None:  # reproducible: the very same image, with one manifest
        assert fast.id == slow.id
        assert len(slow.reload().digests) == 1
    assert [n for n in fast.reload().names if "tmp" in n] == []
    assert fast.config.labels["stage"] == "final" and fast.config.env["LATE"] == "1"
    assert json.loads(fast_info["Manifest"]).get("annotations", {}).get("org.example.note") == (
        "late" if format == "oci" else None)
    assert fast_info["OCIv1"]["history"][-1]["created_by"] == "pybuildah test"
    assert image_tree(store, fast.id) == image_tree(store, slow.id)


def test_commit_after_hits_squashed_is_the_uncached_image(store: pybuildah.Store, busybox: str,
                                                          sources: Path) -> None:
    """Squashed with a fixed timestamp, a warm re-run's image is the one a build without the cache makes."""
    def script(b: pybuildah.Builder, src: Path) -> None:
        b.copy(str(src / "app"), "/app/")
        b.run("echo built > /built")
        after_last_step(b)

    def commit(cache: bool, name: str) -> pybuildah.Image:
        with pybuildah.Builder(busybox, store=store, cache=cache) as b:
            script(b, sources)
            return b.commit(name, squash=True, timestamp=1_700_000_000)

    commit(True, "squash-warm-up")
    warm, plain = commit(True, "squash-warm"), commit(False, "squash-plain")
    assert warm.id == plain.id
