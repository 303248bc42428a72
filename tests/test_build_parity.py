"""build() options that mirror `buildah build` flags: registry access, text Containerfiles,
secrets, extra build contexts, outputs and reproducible timestamps."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import secrets as token
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BUSYBOX
from registry import PASSWORD, USERNAME, Registry, auth_registry, plain_registry

import pybuildah
from pybuildah.cli import main

__all__ = ["auth_registry", "plain_registry"]


def context_with(tmp_path: Path, containerfile: str, **files: str) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir(parents=True)
    (ctx / "Containerfile").write_text(containerfile)
    for name, text in files.items():
        (ctx / name).write_text(text)
    return ctx


def read_file(store: pybuildah.Store, image: str, path: str) -> bytes:
    with pybuildah.Builder(image, store=store, pull="never") as b, b.mount() as root:
        return (Path(root) / path.lstrip("/")).read_bytes()


@pytest.fixture
def fresh_store(tmp_path: Path) -> Iterator[pybuildah.Store]:
    """A store with no images at all, not even the base images."""
    with pybuildah.Store(root=tmp_path / "fresh-root", driver="overlay") as s:
        yield s


# 1. Registry options -----------------------------------------------------------------


def test_build_pulls_a_private_base_with_credentials_given_only_as_arguments(
    store: pybuildah.Store, busybox: str, tmp_path: Path, auth_registry: Registry,
    fresh_store: pybuildah.Store, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No auth file anywhere: the only credentials are the arguments.
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "no-such-auth.json"))
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    base = auth_registry.ref("private-base:1")
    with pybuildah.Builder(busybox, store=store) as b:
        b.run("echo private > /marker")
        pushed = b.commit("localhost/private-base:1")
    pybuildah.push(pushed.id, base, store=store, tls_verify=False, creds=(USERNAME, PASSWORD))
    ctx = context_with(tmp_path, f"FROM {base}\nRUN cat /marker > /copied\n")

    with pytest.raises(pybuildah.AuthenticationError):
        pybuildah.build(ctx, store=fresh_store, tls_verify=False, log=lambda line: None)
    with pytest.raises(pybuildah.AuthenticationError) as wrong:
        pybuildah.build(ctx, store=fresh_store, tls_verify=False, creds=(USERNAME, "not-" + PASSWORD),
                        log=lambda line: None)
    assert "not-" + PASSWORD not in str(wrong.value)

    image = pybuildah.build(ctx, store=fresh_store, log=lambda line: None,
                            registry=pybuildah.RegistryOptions(tls_verify=False, creds=f"{USERNAME}:{PASSWORD}"))
    assert read_file(fresh_store, image.id, "/copied") == b"private\n"


# 2. A Containerfile as text ----------------------------------------------------------


def test_containerfile_as_text_object(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    ctx = context_with(tmp_path, "FROM scratch\nLABEL from=the-file\n", **{"hello.txt": "hello\n"})
    before = set(os.listdir(tempfile.gettempdir()))
    image = pybuildah.build(ctx, store=store, log=lambda line: None,
                            containerfile=io.StringIO(f"FROM {busybox}\nCOPY hello.txt /hello.txt\nLABEL from=text\n"))
    assert image.labels["from"] == "text"
    assert read_file(store, image.id, "/hello.txt") == b"hello\n"
    left = {n for n in set(os.listdir(tempfile.gettempdir())) - before if n.startswith("pybuildah-containerfile-")}
    assert not left
    with pytest.raises(pybuildah.InvalidType):
        pybuildah.build(ctx, store=store, containerfile=io.BytesIO(b"FROM scratch\n"))  # type: ignore[call-overload]


def test_cli_reads_the_containerfile_from_stdin(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = context_with(tmp_path, "FROM scratch\nLABEL from=the-file\n", **{"hello.txt": "hello\n"})
    monkeypatch.setattr("sys.stdin", io.StringIO("FROM scratch\nCOPY hello.txt /hello.txt\nLABEL from=stdin\n"))
    root = tmp_path / "root"
    status = main(["--root", str(root), "--storage-driver", "overlay", "build", "-q", "-f", "-", str(ctx)])
    out, err = capsys.readouterr()
    assert status == 0, err
    with pybuildah.Store(root=root, driver="overlay") as s:
        assert s.image(out.strip()).labels["from"] == "stdin"


# 3. Secrets --------------------------------------------------------------------------


def layer_bytes(layout: Path) -> Iterator[bytes]:
    """Every blob of an OCI layout, gzip-decompressed where it is gzip."""
    for blob in (layout / "blobs" / "sha256").iterdir():
        data = blob.read_bytes()
        yield gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def test_secrets_reach_run_steps_and_nothing_else(
    store: pybuildah.Store, busybox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {name: f"{name}-{token.token_hex(16)}" for name in ("file", "env", "bytes")}
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(values["file"])
    monkeypatch.setenv("PARITY_SECRET", values["env"])
    ctx = context_with(tmp_path, f"FROM {busybox}\n" + "".join(
        f"RUN --mount=type=secret,id={name} sha256sum /run/secrets/{name} | cut -c1-64 > /{name}.sum\n"
        for name in values
    ))
    before = set(os.listdir(tempfile.gettempdir()))
    log: list[str] = []
    image = pybuildah.build(ctx, store=store, log=log.append, layers=True, tag="localhost/secret-user:1",
                            secrets={"file": secret_file, "env": "env:PARITY_SECRET",
                                     "bytes": values["bytes"].encode()})
    served = {name: read_file(store, image.id, f"/{name}.sum").decode().strip() for name in values}
    assert served == {name: hashlib.sha256(value.encode()).hexdigest() for name, value in values.items()}
    left = {n for n in set(os.listdir(tempfile.gettempdir())) - before if n.startswith("pybuildah-secrets-")}
    assert not left

    layout = tmp_path / "layout"
    pybuildah.push(image.id, f"oci:{layout}:latest", store=store)
    haystacks = [*layer_bytes(layout), "\n".join(log).encode(), repr(image.inspect()).encode()]
    for value in values.values():
        for haystack in haystacks:
            assert value.encode() not in haystack

    # A failing step that uses (but does not print) a secret: the error does not name it.
    ctx2 = context_with(tmp_path / "fail",
                        f"FROM {busybox}\nRUN --mount=type=secret,id=bytes test -s /run/secrets/bytes && exit 3\n")
    with pytest.raises(pybuildah.BuildError) as failed:
        pybuildah.build(ctx2, store=store, log=log.append, secrets={"bytes": values["bytes"].encode()})
    assert failed.value.exit_code == 3  # the secret was there
    assert values["bytes"] not in str(failed.value) and values["bytes"] not in "\n".join(log)
    with pytest.raises(pybuildah.InvalidArgument):
        pybuildah.build(ctx2, store=store, secrets={"x": tmp_path / "missing"})


# 4. Extra build contexts ---------------------------------------------------------------


def test_build_contexts_serve_copy_from(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "data.txt").write_text("from the extra context\n")
    ctx = context_with(tmp_path, "FROM scratch\nCOPY --from=extra data.txt /data.txt\n"
                                 "COPY --from=base /bin/busybox /busybox\n")
    image = pybuildah.build(ctx, store=store, log=lambda line: None,
                            build_contexts={"extra": extra, "base": f"docker-image://{busybox}"})
    assert read_file(store, image.id, "/data.txt") == b"from the extra context\n"
    assert read_file(store, image.id, "/busybox") == Path(BUSYBOX).read_bytes()
    with pytest.raises(pybuildah.ContextError):
        pybuildah.build(ctx, store=store, build_contexts={"extra": tmp_path / "missing"})


def test_cli_build_context_secret_and_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "data.txt").write_text("extra\n")
    (extra / "bin").mkdir()
    shutil.copy(BUSYBOX, extra / "bin" / "busybox")
    (tmp_path / "token").write_text("t0ken")
    ctx = context_with(tmp_path, "FROM scratch\nCOPY --from=extra data.txt /data.txt\n"
                                 "COPY --from=extra bin/busybox /bin/busybox\n"
                                 'RUN --mount=type=secret,id=tok ["/bin/busybox", "cp", "/run/secrets/tok", "/tok"]\n')
    out_dir = tmp_path / "out"
    status = main(["--root", str(tmp_path / "root"), "--storage-driver", "overlay", "build", "-q",
                   "--build-context", "extra=" + str(extra),
                   "--secret", f"id=tok,src={tmp_path / 'token'}", "--output", f"type=local,dest={out_dir}",
                   str(ctx)])
    out, err = capsys.readouterr()
    assert status == 0, err
    with pybuildah.Store(root=tmp_path / "root", driver="overlay") as s:
        assert s.image(out.strip()).id == out.strip()  # the image is still made
    assert (out_dir / "data.txt").read_text() == "extra\n"
    assert (out_dir / "tok").read_text() == "t0ken"


# 5. Outputs ----------------------------------------------------------------------------


def test_output_local_directory_and_tar(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    ctx = context_with(tmp_path, f"FROM {busybox}\nCOPY hello.txt /hello.txt\nRUN echo ran > /ran\n",
                       **{"hello.txt": "hello\n"})
    out_dir, out_tar = tmp_path / "out", tmp_path / "out.tar"
    image = pybuildah.build(ctx, store=store, log=lambda line: None, tag="localhost/with-output:1",
                            output=[f"type=local,dest={out_dir}", f"type=tar,dest={out_tar}"])
    assert image.id in {i.id for i in store.images()}
    assert (out_dir / "hello.txt").read_text() == "hello\n"
    assert (out_dir / "ran").read_text() == "ran\n"
    assert (out_dir / "bin" / "busybox").is_file()
    with tarfile.open(out_tar) as tar:
        names = {n.lstrip("./") for n in tar.getnames()}
        member = tar.extractfile(next(m for m in tar.getmembers() if m.name.lstrip("./") == "ran"))
        assert member is not None and member.read() == b"ran\n"
    assert {"hello.txt", "ran", "bin/busybox"} <= names
    with pytest.raises(pybuildah.InvalidArgument):
        pybuildah.build(ctx, store=store, output="type=nonsense,dest=/tmp/x")


# 6. Reproducible builds ----------------------------------------------------------------


def test_source_date_epoch_gives_the_same_image_at_different_times(
    tmp_path: Path, base_store_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = context_with(tmp_path, "FROM localhost/busybox:latest\nCOPY hello.txt /hello.txt\n"
                                 "RUN echo ran > /ran && mkdir -p /made/here\n", **{"hello.txt": "hello\n"})
    os.utime(ctx / "hello.txt", (time.time(), time.time()))
    epoch = 1_700_000_000
    digests = []
    for index, via_env in enumerate([False, True]):
        if via_env:
            time.sleep(1.1)
            monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
            (ctx / "hello.txt").touch()  # a newer mtime: rewrite_timestamp clamps it
        with pybuildah.Store(root=tmp_path / f"root{index}", driver="overlay",
                             additional_image_stores=[base_store_root]) as s:
            image = pybuildah.build(ctx, store=s, log=lambda line: None, rewrite_timestamp=True,
                                    source_date_epoch=None if via_env else epoch)
            assert image.created is not None and int(image.created.timestamp()) == epoch
            digests.append((image.id, image.digest))
            with pytest.raises(pybuildah.InvalidArgument):
                pybuildah.build(ctx, store=s, source_date_epoch=-1)
            if via_env:
                monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
                with pytest.raises(pybuildah.InvalidArgument):
                    pybuildah.build(ctx, store=s)
    assert digests[0] == digests[1]


# 9. Registry flags on the command line -------------------------------------------------


def test_cli_creds_stdin_and_creds_flag(
    store: pybuildah.Store, busybox: str, tmp_path: Path, auth_registry: Registry,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "no-such-auth.json"))
    base = auth_registry.ref("cli-private:1")
    pybuildah.push(busybox, base, store=store, tls_verify=False, creds=(USERNAME, PASSWORD))
    ctx = context_with(tmp_path, f"FROM {base}\nLABEL via=cli\n")
    argv = ["--root", str(tmp_path / "root"), "--storage-driver", "overlay", "build", "-q", "--tls-verify=false"]

    monkeypatch.setattr("sys.stdin", io.StringIO(f"{USERNAME}:{PASSWORD}\n"))
    status = main([*argv, "--creds-stdin", str(ctx)])
    out, err = capsys.readouterr()
    assert status == 0, err
    with pybuildah.Store(root=tmp_path / "root", driver="overlay") as s:
        assert s.image(out.strip()).labels["via"] == "cli"

    # Without a password and without a terminal to prompt on: refused, nothing pulled.
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main([*argv, "--pull", "always", "--creds", USERNAME, str(ctx)]) != 0
    assert "terminal" in capsys.readouterr().err
    status = main([*argv, "--pull", "always", "--creds", f"{USERNAME}:wrong-{PASSWORD}", str(ctx)])
    out, err = capsys.readouterr()
    assert status != 0 and PASSWORD not in err and PASSWORD not in out


# 8. RUN options for build steps --------------------------------------------------------


def test_run_options_for_build_steps(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "in.txt").write_text("from the host\n")
    ctx = context_with(tmp_path, f"FROM {busybox}\n"
                                 "RUN grep CapEff /proc/self/status > /caps\n"
                                 "RUN cat /mnt/shared/in.txt > /from-volume\n"
                                 "RUN ulimit -n > /nofile\n"
                                 "RUN (grep build-host.example /etc/hosts || echo no-hosts-file) > /hosts\n")
    plain = pybuildah.build(ctx, store=store, log=lambda line: None, volumes=[f"{shared}:/mnt/shared:ro"],
                            add_hosts=["build-host.example:10.1.2.3"])
    image = pybuildah.build(ctx, store=store, log=lambda line: None, network="none", cap_drop=["CAP_CHOWN"],
                            volumes=[f"{shared}:/mnt/shared:ro"], ulimits=["nofile=512:512"],
                            add_hosts=["build-host.example:10.1.2.3"], env={"STAGE": "parity"})

    def caps(of: pybuildah.Image) -> int:
        return int(read_file(store, of.id, "/caps").decode().split()[1], 16)

    chown = 1 << 0
    assert caps(plain) & chown and not caps(image) & chown
    assert read_file(store, image.id, "/from-volume") == b"from the host\n"
    assert read_file(store, image.id, "/nofile") == b"512\n"
    assert read_file(store, image.id, "/nofile") != read_file(store, plain.id, "/nofile")
    assert read_file(store, plain.id, "/hosts").split() == [b"10.1.2.3", b"build-host.example"]
    assert read_file(store, image.id, "/hosts") == b"no-hosts-file\n"  # network="none": buildah writes none
    assert image.config.env.get("STAGE") == "parity" and "STAGE" not in plain.config.env
    assert not (shared / "caps").exists()  # the volume was read-only and nothing leaked into it
    for bad in ({"network": str(tmp_path / "no-such-netns")}, {"ulimits": ["nofile=lots"]}, {"add_hosts": ["nohost"]},
                {"volumes": ["relative:/x"]}, {"env": {"": "x"}}):
        with pytest.raises(pybuildah.InvalidArgument):
            pybuildah.build(ctx, store=store, **bad)


# 10. Remote layer cache ----------------------------------------------------------------


def test_cache_to_a_registry_and_from_it_in_a_fresh_store(
    tmp_path: Path, base_store_root: Path, plain_registry: Registry
) -> None:
    marker = token.token_hex(8)
    ctx = context_with(tmp_path, f"FROM localhost/busybox:latest\nRUN echo {marker} > /marker && echo RAN-{marker}\n"
                                 "COPY hello.txt /hello.txt\n", **{"hello.txt": "hello\n"})
    cache = plain_registry.ref("build-cache")
    results = []
    for index, options in enumerate([{"cache_to": cache}, {"cache_from": [cache]}]):
        log: list[str] = []
        with pybuildah.Store(root=tmp_path / f"root{index}", driver="overlay",
                             additional_image_stores=[base_store_root]) as s:
            image = pybuildah.build(ctx, store=s, layers=True, tls_verify=False, log=log.append,
                                    **options)  # type: ignore[arg-type]
            results.append((image.layers, log))
            if index == 1:
                with pytest.raises(pybuildah.InvalidReference):
                    pybuildah.build(ctx, store=s, layers=True, cache_from="Not A Repo")
    (first_layers, first_log), (second_layers, second_log) = results
    assert f"RAN-{marker}" in first_log
    assert f"RAN-{marker}" not in second_log and any("Using cache" in line for line in second_log)
    assert first_layers == second_layers


# 7. SSH agent forwarding ---------------------------------------------------------------


@pytest.fixture
def ssh_agent(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A real ssh-agent holding a fresh test key: (socket path, the key's fingerprint)."""
    sock, key = str(tmp_path / "agent.sock"), tmp_path / "id_test"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "parity-test", "-f", str(key)], check=True)
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", sock], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        env = dict(os.environ, SSH_AUTH_SOCK=sock)
        subprocess.run(["ssh-add", "-q", str(key)], check=True, env=env, timeout=30)
        fingerprint = subprocess.run(["ssh-keygen", "-lf", f"{key}.pub"], check=True, capture_output=True,
                                     text=True).stdout.split()[1]
        yield sock, fingerprint
    finally:
        agent.terminate()
        agent.wait(timeout=10)


def test_ssh_agent_reaches_run_mount_ssh(
    store: pybuildah.Store, busybox: str, tmp_path: Path, ssh_agent: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sock, fingerprint = ssh_agent
    ctx = context_with(tmp_path, f"FROM {busybox}\nCOPY sshroot/ /\n"
                                 "RUN --mount=type=ssh,id=default ssh-add -l > /keys\n")
    # The host's ssh-add and the libraries it needs, at the same paths.
    needed = ["/usr/bin/ssh-add", *(part for line in subprocess.run(
        ["ldd", "/usr/bin/ssh-add"], check=True, capture_output=True, text=True).stdout.splitlines()
        for part in line.split() if part.startswith("/"))]
    for path in needed:
        target = ctx / "sshroot" / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    monkeypatch.setenv("SSH_AUTH_SOCK", sock)
    image = pybuildah.build(ctx, store=store, log=lambda line: None, ssh=["default"])
    assert fingerprint in read_file(store, image.id, "/keys").decode()
    monkeypatch.delenv("SSH_AUTH_SOCK")
    other = pybuildah.build(ctx, store=store, log=lambda line: None, no_cache=True, ssh={"default": sock})
    assert fingerprint in read_file(store, other.id, "/keys").decode()
    with pytest.raises(pybuildah.InvalidArgument):
        pybuildah.build(ctx, store=store, ssh={"default": tmp_path / "no-such-socket"})


def test_output_to_stdout_writes_the_tar_to_sys_stdout_buffer(
    store: pybuildah.Store, busybox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = context_with(tmp_path, f"FROM {busybox}\nRUN echo ran > /ran\n")
    raw = io.BytesIO()
    text = io.TextIOWrapper(raw, write_through=True)
    monkeypatch.setattr(sys, "stdout", text)
    print("before", end="\n")
    for form in ("-", "dest=-,type=tar"):
        start = len(raw.getvalue())
        pybuildah.build(ctx, store=store, log=lambda line: None, output=form)
        data = raw.getvalue()[start:]
        if start == 0:
            assert data.startswith(b"before\n")  # printed text comes first, flushed
            data = data[len(b"before\n"):]
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            member = tar.extractfile(next(m for m in tar.getmembers() if m.name.lstrip("./") == "ran"))
            assert member is not None and member.read() == b"ran\n"
    # A failed build writes nothing; no file named "-" appears; a sys.stdout without .buffer is refused.
    failing = context_with(tmp_path / "failing", f"FROM {busybox}\nRUN false\n")
    size = len(raw.getvalue())
    with pytest.raises(pybuildah.BuildError):
        pybuildah.build(failing, store=store, log=lambda line: None, output="-")
    assert len(raw.getvalue()) == size and not (Path.cwd() / "-").exists()
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    with pytest.raises(pybuildah.InvalidArgument, match=r"sys\.stdout\.buffer"):
        pybuildah.build(ctx, store=store, output="-")
    with pytest.raises(pybuildah.InvalidArgument, match="once"):
        pybuildah.build(ctx, store=store, output=["-", "type=tar,dest=-"])


def test_cli_output_dash_pipes_the_tar_and_keeps_the_id_off_stdout(tmp_path: Path) -> None:
    ctx = context_with(tmp_path, "FROM scratch\nCOPY ran /ran\n", ran="ran\n")
    script = "import sys; from pybuildah.cli import main; sys.exit(main(sys.argv[1:]))"
    out = subprocess.run(
        [sys.executable, "-c", script, "--root", str(tmp_path / "root"), "--storage-driver", "overlay",
         "build", "-o", "-", str(ctx)], capture_output=True, timeout=300)
    assert out.returncode == 0, out.stderr.decode()
    with tarfile.open(fileobj=io.BytesIO(out.stdout)) as tar:
        assert "ran" in {n.lstrip("./") for n in tar.getnames()}
    assert out.stderr.decode().strip().splitlines()[-1].isalnum()  # the image ID went to stderr


def test_run_and_build_read_volume_specs_with_one_parser(store: pybuildah.Store, busybox: str, tmp_path: Path) -> None:
    """The same specs mean the same in run() and build(): accepted (and what the step sees), or refused alike."""
    host = tmp_path / "vol:host"  # a colon in the path, written \: in a spec
    host.mkdir()
    (host / "in.txt").write_text("seen\n")
    escaped = str(host).replace(":", "\\:")
    ctx = context_with(tmp_path, f"FROM {busybox}\nRUN cat /v/in.txt > /seen; touch /v/probe 2>/dev/null || true\n")
    specs: list[list[str]] = [
        [f"{escaped}:/v"], [f"{escaped}:/v:ro"], [f"{escaped}:/v:ro,rprivate"], [f"{escaped}:/v:rw,z"],
        ["relative:/v"], [f"{escaped}:relative"], [f"{escaped}:/v:rx"], [f"{escaped}:/v:ro,rw"],
        [f"{escaped}:/v:ro:z"], [f"{tmp_path}/missing:/v"], [f"{escaped}:/v", f"{escaped}:/v:ro"], [f"{escaped}"],
    ]
    with pybuildah.Builder(busybox, store=store) as b:
        for spec in specs:
            (host / "probe").unlink(missing_ok=True)
            outcomes = []
            for how in ("run", "build"):
                try:
                    if how == "run":
                        out = b.run("cat /v/in.txt; touch /v/probe 2>/dev/null || true", volumes=spec).stdout
                    else:
                        image = pybuildah.build(ctx, store=store, log=lambda line: None, volumes=spec)
                        out = read_file(store, image.id, "/seen").decode()
                    outcomes.append(("ok", out, (host / "probe").exists()))
                except pybuildah.BuildahError as exc:
                    outcomes.append((type(exc).__name__, "", False))
                (host / "probe").unlink(missing_ok=True)
            assert outcomes[0] == outcomes[1], (spec, outcomes)
            accepted = outcomes[0][0] == "ok"
            assert accepted == (spec in specs[:4]), (spec, outcomes)
            if accepted:
                read_only = "ro" in spec[0].rsplit(":", 1)[-1].split(",")
                assert outcomes[0][1] == "seen\n" and outcomes[0][2] == (not read_only), (spec, outcomes)
            else:
                assert outcomes[0][0] == ("SourceNotFound" if "missing" in spec[0] else "InvalidArgument"), spec
