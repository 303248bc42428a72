"""pybuildah against Buildah's own CLI at the pinned version, given the same inputs.

With fixed timestamps an image is a pure function of its inputs, so the strongest check
is the image ID: the CLI and pybuildah, each in its own store from the same base
archive, must write the very same image.  Where there is no image (an ``--output``
tree, a RUN's view of its own process), the files and the output are compared.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from registry import Registry, plain_registry

import pybuildah

__all__ = ["plain_registry"]

EPOCH = 1_700_000_000
BASE = "localhost/busybox:latest"


@dataclass
class PinnedCLI:
    """Buildah's CLI on a store of its own (chroot isolation, as pybuildah's default)."""

    path: Path
    root: Path
    env: dict[str, str]

    def __call__(self, *args: str, stdin: str | None = None) -> str:
        command = [str(self.path), "--root", str(self.root / "root"), "--runroot", str(self.root / "run"),
                   "--storage-driver", "overlay", *args]
        done = subprocess.run(command, input=stdin, capture_output=True, text=True, env=self.env, timeout=300)
        assert done.returncode == 0, f"{command}: {done.stderr}"
        return done.stdout.strip()


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory, pinned_buildah: Path,
        busybox_exports: dict[str, Path]) -> Iterator[PinnedCLI]:
    peers = importlib.import_module("peers")  # bench/peers.py, on sys.path through pinned_buildah
    tool = PinnedCLI(pinned_buildah, tmp_path_factory.mktemp("cli-store"), peers.peer_env(str(pinned_buildah)))
    image_id = tool("pull", "-q", f"oci-archive:{busybox_exports['oci-archive']}")
    tool("tag", image_id, BASE)
    yield tool
    tool("rm", "--all")


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory, busybox_exports: dict[str, Path]) -> Iterator[pybuildah.Store]:
    with pybuildah.Store(root=tmp_path_factory.mktemp("our-store") / "root", driver="overlay") as store:
        pybuildah.pull(f"oci-archive:{busybox_exports['oci-archive']}", store=store).tag(BASE)
        yield store


def _context(tmp_path: Path) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "app.txt").write_text("the app\n")
    (ctx / "run.sh").write_text("#!/bin/sh\necho run\n")
    (ctx / "run.sh").chmod(0o755)
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "extra.txt").write_text("from another context\n")
    (tmp_path / "token").write_text("s3cr3t-token\n")
    return ctx


# Containerfile, then the same build's extra options as build() keywords and as CLI flags.
VARIANTS: dict[str, tuple[str, dict[str, object], list[str]]] = {
    "steps": (
        f"FROM {BASE}\nRUN echo hi > /hi && mkdir -p /d && echo x > /d/x\nCOPY app.txt run.sh /app/\n"
        "ENV MODE=prod\nEXPOSE 8080\nUSER 1001\nCMD [\"/app/run.sh\"]\n",
        {"labels": {"version": "1.0.0"}}, ["--label", "version=1.0.0"],
    ),
    "secret": (
        f"FROM {BASE}\nRUN --mount=type=secret,id=tok,required sha256sum /run/secrets/tok > /tokhash\n",
        {"secrets": {"tok": "{tmp}/token"}}, ["--secret", "id=tok,src={tmp}/token"],
    ),
    "build-context": (
        f"FROM {BASE}\nCOPY --from=extra extra.txt /extra.txt\n",
        {"build_contexts": {"extra": "{tmp}/extra"}}, ["--build-context", "extra={tmp}/extra"],
    ),
    "build-args-and-target": (
        f"FROM {BASE} AS first\nARG GREETING=hello\nRUN echo $GREETING > /greeting\n"
        f"FROM {BASE} AS second\nCOPY --from=first /greeting /copied\nFROM second\nRUN false\n",
        {"build_args": {"GREETING": "bonjour"}, "target": "second"},
        ["--build-arg", "GREETING=bonjour", "--target", "second"],
    ),
}


def _filled(value: object, tmp: Path) -> object:
    if isinstance(value, str):
        return value.replace("{tmp}", str(tmp))
    if isinstance(value, dict):
        return {k: _filled(v, tmp) for k, v in value.items()}
    return value


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_build_writes_the_same_image_as_buildah_build(
    variant: str, cli: PinnedCLI, ours: pybuildah.Store, tmp_path: Path
) -> None:
    containerfile, keywords, flags = VARIANTS[variant]
    ctx = _context(tmp_path)
    (ctx / "Containerfile").write_text(containerfile)
    tag = f"localhost/parity-{variant}:1"
    theirs = cli("build", "-q", "--isolation", "chroot", "--source-date-epoch", str(EPOCH), "--rewrite-timestamp",
                 "-t", tag, *[str(_filled(f, tmp_path)) for f in flags], str(ctx)).splitlines()[-1]
    options: dict[str, Any] = {k: _filled(v, tmp_path) for k, v in keywords.items()}
    image = pybuildah.build(ctx, tag=tag, store=ours, source_date_epoch=EPOCH, rewrite_timestamp=True,
                            log=lambda line: None, **options)
    assert image.id == theirs, f"{variant}: pybuildah wrote {image.id}, buildah build {theirs}"
    assert "s3cr3t" not in str(image.history)


def test_containerfile_text_matches_buildah_build_from_stdin(cli: PinnedCLI, ours: pybuildah.Store,
                                                             tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    text = f"FROM {BASE}\nCOPY app.txt /\nRUN cat /app.txt > /copy\n"
    theirs = cli("build", "-q", "--isolation", "chroot", "--source-date-epoch", str(EPOCH), "--rewrite-timestamp",
                 "-f", "-", str(ctx), stdin=text).splitlines()[-1]
    image = pybuildah.build(ctx, containerfile=io.StringIO(text), store=ours, source_date_epoch=EPOCH,
                            rewrite_timestamp=True, log=lambda line: None)
    assert image.id == theirs


def _tree(root: Path) -> dict[str, tuple[int, bytes | str]]:
    """Every path below root: its mode and its content (or a symlink's target)."""
    out: dict[str, tuple[int, bytes | str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                out[str(path.relative_to(root))] = (info.st_mode, os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                out[str(path.relative_to(root))] = (info.st_mode, path.read_bytes())
            else:
                out[str(path.relative_to(root))] = (info.st_mode, b"")
    return out


def test_output_local_writes_the_same_tree_as_buildah_build(cli: PinnedCLI, ours: pybuildah.Store,
                                                            tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    (ctx / "Containerfile").write_text(f"FROM {BASE} AS b\nRUN mkdir /out && echo built > /out/artifact\n"
                                       "FROM scratch\nCOPY --from=b /out /\nCOPY run.sh /bin/\n")
    cli("build", "-q", "--isolation", "chroot", "--output", f"type=local,dest={tmp_path / 'theirs'}", str(ctx))
    pybuildah.build(ctx, store=ours, output=f"type=local,dest={tmp_path / 'ours'}", log=lambda line: None)
    theirs = _tree(tmp_path / "theirs")
    assert theirs and _tree(tmp_path / "ours") == theirs


def test_step_by_step_commit_writes_the_same_image_as_the_cli_steps(cli: PinnedCLI, ours: pybuildah.Store,
                                                                     tmp_path: Path) -> None:
    # The book's step-by-step flow, once with buildah's commands and once with a Builder.
    ctx = _context(tmp_path)
    script = "grep ^Cap /proc/self/status; hostname; cat /data/extra.txt; echo $GREETING"
    container = cli("from", "-q", BASE)
    cli("copy", "--chown", "1001:1001", container, str(ctx / "run.sh"), "/app/run.sh")
    their_run = cli("run", "--isolation", "chroot", "--cap-add", "CAP_NET_RAW", "--cap-drop", "CAP_CHOWN",
                    "--hostname", "app", "-v", f"{tmp_path / 'extra'}:/data:ro", "--env", "GREETING=hi",
                    container, "--", "/bin/sh", "-c", script)
    cli("config", "--cmd", '["/app/run.sh"]', "--port", "8080/tcp", "--user", "1001:1001", "--env", "MODE=prod",
        "--label", "version=1.0.0", "--workingdir", "/app", container)
    theirs = cli("commit", "-q", "--timestamp", str(EPOCH), container, "localhost/steps-cli:1.0.0")
    cli("rm", container)
    with pybuildah.Builder(BASE, store=ours) as b:
        b.copy(str(ctx / "run.sh"), "/app/run.sh", chown="1001:1001")
        our_run = b.run(["/bin/sh", "-c", script], cap_add=["CAP_NET_RAW"], cap_drop=["CAP_CHOWN"], hostname="app",
                        volumes=[f"{tmp_path / 'extra'}:/data:ro"], env={"GREETING": "hi"})
        b.configure(cmd=["/app/run.sh"], ports=["8080/tcp"], user="1001:1001", env={"MODE": "prod"},
                    labels={"version": "1.0.0"}, workdir="/app")  # one call for buildah config's flags
        image = b.commit("localhost/steps-ours:1.0.0", timestamp=EPOCH)
    assert our_run.stdout.strip() == their_run
    assert "CapEff" in their_run and "app\nfrom another context\nhi" in their_run
    assert image.id == theirs


# buildah config's flags in two calls (set, then unset and the rest), and the same with a Builder's setters.
CONFIG_FIRST = ["--port", "80", "--port", "81/udp", "--volume", "/v", "--volume", "/w", "--annotation", "a=1",
                "--label", "l=1", "--env", "E=1", "--env", "F=2"]
CONFIG_THEN = ["--port", "80-", "--volume", "/v-", "--unsetannotation", "a", "--unsetlabel", "l", "--env", "E-",
               "--entrypoint", "exec /app/run.sh", "--cmd", '/app/run.sh --flag "two words"', "--shell", "/bin/sh -ec",
               "--healthcheck", "CMD-SHELL wget -q -O- http://localhost/", "--healthcheck-interval", "5s",
               "--healthcheck-retries", "2", "--healthcheck-start-period", "1m", "--healthcheck-timeout", "3s",
               "--healthcheck-start-interval", "2s", "--onbuild", "RUN make", "--onbuild", "COPY . /src",
               "--domainname", "example.org"]


def _config_with_setters(b: pybuildah.Builder) -> None:
    b.set_port(80)
    b.set_port("81/udp")
    b.add_volume("/v")
    b.add_volume("/w")
    b.configure(annotations={"a": "1"}, labels={"l": "1"}, env={"E": "1", "F": "2"})
    b.unset_port(80)
    b.remove_volume("/v")
    b.unset_annotation("a")
    b.unset_label("l")
    b.unset_env("E")
    b.set_entrypoint("exec /app/run.sh")
    b.set_cmd('/app/run.sh --flag "two words"')
    b.set_shell("/bin/sh -ec")
    b.set_healthcheck("CMD-SHELL wget -q -O- http://localhost/", interval="5s", retries=2,
                      start_period=timedelta(minutes=1), timeout="3s", start_interval="2s")
    b.add_onbuild("RUN make")
    b.add_onbuild("COPY . /src")
    b.set_domainname("example.org")


@pytest.mark.parametrize("fmt", ["docker", "oci"])
def test_config_setters_write_the_same_image_as_buildah_config(cli: PinnedCLI, ours: pybuildah.Store,
                                                               fmt: str) -> None:
    container = cli("from", "-q", "--format", fmt, BASE)
    cli("config", *CONFIG_FIRST, container)
    cli("config", *CONFIG_THEN, container)
    theirs = cli("commit", "-q", "--format", fmt, "--timestamp", str(EPOCH), container, f"localhost/config-cli:{fmt}")
    cli("rm", container)
    with pybuildah.Builder(BASE, store=ours, format=fmt) as b:
        _config_with_setters(b)
        config = b.config
        image = b.commit(f"localhost/config-ours:{fmt}", timestamp=EPOCH)
    assert config.cmd == ["/app/run.sh", "--flag", "two words"]
    assert config.entrypoint == ["/bin/sh", "-c", "exec /app/run.sh"]
    assert config.ports == ["81/udp"] and config.volumes == ["/w"] and "E" not in config.env
    assert config.healthcheck == {"test": ["CMD-SHELL", "wget", "-q", "-O-", "http://localhost/"], "interval": 5,
                                  "timeout": 3, "start_period": 60, "start_interval": 2, "retries": 2}
    assert config.onbuild == ["RUN make", "COPY . /src"] and config.domainname == "example.org"
    assert image.id == theirs


@pytest.mark.parametrize(("flags", "call"), [
    (["--healthcheck", "NONE"], lambda b: b.set_healthcheck(["NONE"])),
    (["--healthcheck", ""], lambda b: b.set_healthcheck(None)),
    (["--cmd", '["/bin/echo", "json list"]', "--entrypoint", ""],
     lambda b: b.configure(cmd='["/bin/echo", "json list"]', entrypoint="")),
], ids=["none", "removed", "json-cmd"])
def test_healthcheck_none_and_removal_and_json_cmd_match_buildah_config(
        cli: PinnedCLI, ours: pybuildah.Store, flags: list[str], call: Any) -> None:
    # Each starts from an image with a healthcheck and an entrypoint, as a base image may have.
    first = ["--healthcheck", "CMD true", "--entrypoint", '["/bin/sh"]']
    container = cli("from", "-q", "--format", "docker", BASE)
    cli("config", *first, container)
    cli("config", *flags, container)
    theirs = cli("commit", "-q", "--format", "docker", "--timestamp", str(EPOCH), container, "localhost/hc-cli:1")
    cli("rm", container)
    with pybuildah.Builder(BASE, store=ours, format="docker") as b:
        b.set_healthcheck(["CMD", "true"])
        b.set_entrypoint(["/bin/sh"])
        call(b)
        image = b.commit("localhost/hc-ours:1", timestamp=EPOCH)
    assert image.id == theirs


# A shell script written for buildah: the same steps, verbs and flags run with `pybuildah` in its place.
SCRIPT = r"""
set -eu
B="$1"; ctx="$2"; tag="$3"
c=$($B from --pull=never --format docker --name "script-$tag" localhost/busybox:latest)
test "$c" = "script-$tag"
$B run $c -- sh -c 'echo hi > /hi && mkdir -p /d'
$B run --user 1001 --workingdir /d --env GREETING=bonjour -v "$ctx/../extra:/data:ro" $c -- \
    sh -c 'echo $GREETING $(id -u) $(pwd); cat /data/extra.txt'
$B copy --chown 1001:1001 --chmod 0640 $c "$ctx/app.txt" /app/app.txt > /dev/null
$B add $c "$ctx/../app.tar" /opt/ > /dev/null
other=$($B from --pull=never localhost/busybox:latest)
$B run $other -- sh -c 'echo from-the-other > /other'
$B copy --from $other $c /other /copied > /dev/null
$B rm $other > /dev/null
mnt=$($B mount $c)
echo written-through-the-mount > "$mnt/mounted"
$B umount $c > /dev/null
$B config --entrypoint '["/bin/sh", "-c"]' --cmd '/app/run.sh --flag' --port 8080/tcp --user 1001:1001 \
    --env MODE=prod --env 'PATH=$PATH:/app' --env 'GREETING=$MODE-mode' --label version=1.0.0 \
    --annotation org.example.note=hi --author someone --workingdir /app $c
$B config --port 9090 --volume /scratch --label gone=1 --annotation gone=1 $c
$B config --port 9090- --volume /scratch- --unsetlabel gone --unsetannotation gone --domainname example.org \
    --onbuild 'RUN make' --healthcheck 'CMD-SHELL wget -q -O- localhost:8080' --healthcheck-interval 5s \
    --healthcheck-retries 2 --shell '/bin/sh -ec' $c
id=$($B commit --format docker --timestamp 0 --rm $c "localhost/script-$tag:1")
echo "ID $id"
"""


def test_a_buildah_shell_script_runs_with_pybuildah_in_its_place(cli: PinnedCLI, ours: pybuildah.Store,
                                                                   tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    subprocess.run(["tar", "-cf", str(tmp_path / "app.tar"), "-C", str(ctx), "app.txt", "--mtime=@0",
                    "--owner=0", "--group=0"], check=True)
    store_flags = f"--root {cli.root / 'root'} --runroot {cli.root / 'run'} --storage-driver overlay"
    commands = {"buildah": f"{cli.path} {store_flags}",
                "pybuildah": f"{sys.executable} -m pybuildah --root {ours.root} --storage-driver overlay"}
    outputs = {}
    for tool, command in commands.items():
        done = subprocess.run(["sh", "-c", SCRIPT, "sh", command, str(ctx), tool], capture_output=True, text=True,
                              env={**cli.env, "BUILDAH_ISOLATION": "chroot"} if tool == "buildah" else None,
                              timeout=600)  # as CI scripts set it for buildah; chroot is pybuildah's default
        assert done.returncode == 0, f"{tool}: {done.stdout}{done.stderr}"
        outputs[tool] = done.stdout.splitlines()
    assert outputs["buildah"][0] == outputs["pybuildah"][0] == "bonjour 1001 /d"
    assert outputs["buildah"][1] == outputs["pybuildah"][1] == "from another context"
    theirs, ours_id = (outputs[tool][-1].removeprefix("ID ") for tool in ("buildah", "pybuildah"))
    image = ours.image("localhost/script-pybuildah:1")
    assert image.id == ours_id == theirs
    assert image.config.entrypoint == ["/bin/sh", "-c"] and image.config.cmd == ["/app/run.sh", "--flag"]
    assert image.config.env["PATH"].endswith(":/app") and image.config.env["GREETING"] == "prod-mode"
    assert image.created == datetime.fromtimestamp(0, UTC)
    assert not any(p.startswith("9090") for p in image.config.ports) and "gone" not in image.config.labels
    assert not ours.containers(filters=["name=script-pybuildah"])


@pytest.mark.parametrize("writer", ["cli", "pybuildah"])
def test_remote_cache_is_shared_with_buildah_build(
    writer: str, cli: PinnedCLI, ours: pybuildah.Store, tmp_path: Path, plain_registry: Registry
) -> None:
    # One tool fills the registry cache, the other (in a store without those layers) uses it.
    marker = os.urandom(6).hex()
    ctx = _context(tmp_path)
    (ctx / "Containerfile").write_text(f"FROM {BASE}\nRUN echo {marker} > /marker && echo RAN-{marker}\n"
                                       "COPY app.txt /app.txt\n")
    cache = plain_registry.ref(f"cache-{writer}")
    flags = ["--isolation", "chroot", "--layers", "--tls-verify=false"]
    log: list[str] = []
    if writer == "cli":
        cli("build", *flags, "--cache-to", cache, "-t", f"cached-{marker}", str(ctx))
        image = pybuildah.build(ctx, store=ours, layers=True, tls_verify=False, cache_from=cache, log=log.append)
        assert f"RAN-{marker}" not in log and any("Using cache" in line for line in log)
    else:
        image = pybuildah.build(ctx, store=ours, layers=True, tls_verify=False, cache_to=cache, log=log.append)
        assert f"RAN-{marker}" in log
        output = cli("build", *flags, "--cache-from", cache, "-t", f"cached-{marker}", str(ctx))
        assert f"RAN-{marker}" not in output.splitlines() and "Cache pulled from remote" in output
    theirs = json.loads(cli("inspect", "--format", "{{json .OCIv1.RootFS.DiffIDs}}", f"cached-{marker}"))
    base_layers = ours.image(BASE).layers
    assert image.layers == theirs and theirs[:-2] == base_layers  # the base's, then the RUN's and the COPY's


def test_pinned_cli_is_the_pinned_module(cli: PinnedCLI) -> None:
    # The comparison means something only if both sides are the same Buildah.
    assert cli("--version").split()[2] == pybuildah.buildah_version()
    assert sys.platform == "linux"


def test_cached_rebuild_and_a_late_miss_match_buildah_build(cli: PinnedCLI, ours: pybuildah.Store,
                                                            tmp_path: Path) -> None:
    # A run of cache hits (config steps, RUN, COPY, a stage copied from) moves to each cached image
    # without a working container until a step needs one; a miss after them must build on the last hit.
    marker = os.urandom(6).hex()
    containerfile = (
        f"FROM {BASE} AS deps\nWORKDIR /deps\nENV MARK={marker}\nRUN echo dep-$MARK > dep.txt\nLABEL stage=deps\n"
        f"FROM {BASE}\nWORKDIR /app\nCOPY app.txt ./\nENV B=2\nRUN echo one > one.txt\nLABEL x=y\n"
        "COPY --from=deps /deps/dep.txt ./\nRUN cat one.txt dep.txt app.txt > all.txt{extra}\nEXPOSE 8080\n"
        "USER 1001\nCMD [\"cat\", \"all.txt\"]\n"
    )
    ctx = _context(tmp_path)
    flags = ["build", "--isolation", "chroot", "--layers", "--source-date-epoch", str(EPOCH), "--rewrite-timestamp"]
    built: list[pybuildah.Image] = []
    for extra in ("", "", " && echo changed >> all.txt"):
        (ctx / "Containerfile").write_text(containerfile.format(extra=extra))
        log: list[str] = []
        image = pybuildah.build(ctx, store=ours, layers=True, source_date_epoch=EPOCH, rewrite_timestamp=True,
                                log=log.append)
        theirs = cli(*flags, "-q", str(ctx)).splitlines()[-1]
        assert image.id == theirs, log
        built.append(image)
        hits = sum("Using cache" in line for line in log)
        assert hits == (0, 14, 10)[len(built) - 1], log  # the non-FROM steps, then up to the changed RUN
    first, cached, changed = built
    assert cached.id == first.id
    assert changed.layers[:-1] == first.layers[:-1] and changed.layers[-1] != first.layers[-1]
    with pybuildah.Builder(changed.id, store=ours, pull="never") as b:
        assert b.run(["cat", "all.txt"]).stdout == f"one\ndep-{marker}\nthe app\nchanged\n"
        assert b.run(["pwd"]).stdout == "/app\n"
    assert not ours.containers()


def test_changed_copy_sources_miss_where_buildah_build_misses(cli: PinnedCLI, ours: pybuildah.Store,
                                                             tmp_path: Path) -> None:
    # A COPY after cache hits is looked up by the digest of its sources alone, without copying them
    # into a container.  A changed content, mode or a new file must miss at the very step where the
    # CLI misses, and every step must use the same cached image as the CLI's, to the same final image.
    # An ARG is looked up before its stage's container is used; a changed argument misses at the RUN.
    marker = os.urandom(6).hex()
    (tmp_path / "Containerfile").write_text(
        f"FROM {BASE} AS src\nWORKDIR /s{marker}\nCOPY tree/ ./tree/\nRUN echo {marker} > m.txt\n"
        f"FROM {BASE}\nARG V=1\nWORKDIR /app{marker}\nCOPY tree/ ./\nCOPY app.txt run.sh ./\n"
        "COPY --chown=1:1 app.txt owned.txt\n"
        f"COPY --from=src /s{marker} /from-src\nCOPY --from=src /s{marker}/m.txt /s{marker}/tree ./copied/\n"
        "RUN ls -lnR . /from-src > /listing.txt\n")
    ctx = _context(tmp_path)
    tree = ctx / "tree"
    (tree / "sub").mkdir(parents=True)
    for i in range(20):
        (tree / "sub" / f"f{i}.txt").write_text(f"file {i}\n")
    flags = ["build", "--isolation", "chroot", "--layers", "--source-date-epoch", str(EPOCH), "--rewrite-timestamp",
             "-f", str(tmp_path / "Containerfile"), "--iidfile", str(tmp_path / "iid")]
    changes: dict[str, Callable[[], object]] = {
        "first": lambda: None,
        "unchanged": lambda: None,
        "content": lambda: (tree / "sub" / "f3.txt").write_text("file 3, changed\n"),
        "mode": lambda: (ctx / "run.sh").chmod(0o700),
        "new file": lambda: (tree / "sub" / "new.txt").write_text("new\n"),
        "build arg": lambda: None,
        "ARG line": lambda: (tmp_path / "Containerfile").write_text(
            (tmp_path / "Containerfile").read_text().replace("ARG V=1", "ARG V=3")),
    }
    ids: dict[str, str] = {}
    for name, change in changes.items():
        change()
        log: list[str] = []
        args = {"V": "2"} if name == "build arg" else {}
        image = pybuildah.build(ctx, containerfile=tmp_path / "Containerfile", store=ours, layers=True,
                                source_date_epoch=EPOCH, rewrite_timestamp=True, build_args=args, log=log.append)
        output = cli(*flags, *(f"--build-arg={k}={v}" for k, v in args.items()), str(ctx))
        assert image.id == (tmp_path / "iid").read_text().strip().removeprefix("sha256:"), (name, log)
        ours_hits = [line.split()[-1] for line in log if "Using cache" in line]
        theirs_hits = [line.split()[-1] for line in output.splitlines() if "Using cache" in line]
        assert ours_hits == theirs_hits, name
        hits = len(ours_hits)
        expected = {"first": 0, "unchanged": 11, "content": 3, "mode": 6, "new file": 3, "build arg": 10,
                    "ARG line": 10}
        assert hits == expected[name], (name, log)
        ids[name] = image.id
    assert ids["unchanged"] == ids["first"]
    assert len({ids["first"], ids["content"], ids["mode"], ids["new file"], ids["build arg"]}) == 5
    with pybuildah.Builder(image.id, store=ours, pull="never") as b:
        listing = b.run(["cat", "/listing.txt"]).stdout
        assert "new.txt" in listing and "-rwx------" in listing
        assert b.run(["cat", "sub/f3.txt"]).stdout == "file 3, changed\n"
    assert not ours.containers()
