"""Push, pull, login and logout against real local registries (Debian's docker-registry)."""

from __future__ import annotations

import _thread
import base64
import contextlib
import hashlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from registry import (  # fixtures are imported by name
    PASSWORD,
    USERNAME,
    Registry,
    auth_registry,
    file_tree,
    free_port,
    make_image,
    plain_registry,
    skopeo,
    tls_registry,
)

import pybuildah

__all__ = ["auth_registry", "plain_registry", "tls_registry"]


def test_push_remove_pull_round_trip_and_skopeo_agrees(
    store: pybuildah.Store, busybox: str, tmp_path: Path, plain_registry: Registry
) -> None:
    image = make_image(store, busybox, tmp_path, "localhost/round-trip:1")
    tree = file_tree(store, image.id)
    assert tree["/notes"] == ("link", "/data/notes.txt")
    dest = plain_registry.ref("round-trip:1")
    pushed: list[pybuildah.ProgressEvent] = []
    digest = image.push(dest, tls_verify=False, compression="gzip", progress=pushed.append)
    assert digest.startswith("sha256:")

    # skopeo reads what we pushed and agrees on the digest and the config.
    raw_manifest = skopeo("inspect", "--tls-verify=false", "--raw", f"docker://{dest}")
    assert "sha256:" + hashlib.sha256(raw_manifest).hexdigest() == digest
    manifest = json.loads(raw_manifest)
    assert manifest["config"]["digest"] == "sha256:" + image.id
    assert all(layer["mediaType"].endswith("tar+gzip") for layer in manifest["layers"])
    summary = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{dest}"))
    assert summary["Digest"] == digest
    assert summary["Labels"] == {"org.example.kind": "round-trip"}
    raw_config = skopeo("inspect", "--tls-verify=false", "--config", "--raw", f"docker://{dest}")
    assert hashlib.sha256(raw_config).hexdigest() == image.id
    config = json.loads(raw_config)
    assert config["config"]["Cmd"] == ["/data/run.sh"]
    assert "MODE=test" in config["config"]["Env"]
    assert [d for d in config["rootfs"]["diff_ids"]] == image.layers

    # Progress: every layer and the config started and finished.
    started = {e.digest for e in pushed if e.event == "new"}
    finished = {e.digest for e in pushed if e.event in ("done", "skipped")}
    assert "sha256:" + image.id in started & finished
    assert len(started) == len(manifest["layers"]) + 1
    assert started == finished

    image.remove()
    with pytest.raises(pybuildah.ImageNotFound):
        store.image("localhost/round-trip:1")

    pulled_events: list[pybuildah.ProgressEvent] = []
    pulled = pybuildah.pull(dest, store=store, tls_verify=False, progress=pulled_events.append)
    assert pulled.id == image.id
    assert pulled.digest == digest
    assert pulled.layers == image.layers
    assert pulled.config == image.config
    assert dest in pulled.names
    assert file_tree(store, pulled.id) == tree
    assert {e.digest for e in pulled_events if e.event == "done"} >= {"sha256:" + image.id}


def test_push_formats_and_zstd(store: pybuildah.Store, busybox: str, tmp_path: Path, plain_registry: Registry) -> None:
    image = make_image(store, busybox, tmp_path, "localhost/formats:1")
    zstd_dest = plain_registry.ref("formats:zstd")
    digest = pybuildah.push(image.names[0], zstd_dest, store=store, tls_verify=False, compression="zstd")
    manifest = json.loads(skopeo("inspect", "--tls-verify=false", "--raw", f"docker://{zstd_dest}"))
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert {layer["mediaType"] for layer in manifest["layers"]} == {"application/vnd.oci.image.layer.v1.tar+zstd"}
    pulled = pybuildah.pull(zstd_dest, store=store, tls_verify=False)
    assert pulled.id == image.id
    assert digest in pulled.digests and zstd_dest in pulled.names

    docker_dest = plain_registry.ref("formats:docker")
    image.push(docker_dest, tls_verify=False, format="docker")
    manifest = json.loads(skopeo("inspect", "--tls-verify=false", "--raw", f"docker://{docker_dest}"))
    assert manifest["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    docker_image = pybuildah.pull(docker_dest, store=store, tls_verify=False)
    assert docker_image.layers == image.layers
    assert docker_image.config.cmd == image.config.cmd

    with pytest.raises(pybuildah.InvalidArgument):
        image.push(docker_dest, tls_verify=False, compression="bzip9")
    with pytest.raises(pybuildah.InvalidArgument):
        image.push(docker_dest, tls_verify=False, format="v1")


def test_missing_tag_and_repository_raise_image_not_found(store: pybuildah.Store, plain_registry: Registry) -> None:
    for ref in (plain_registry.ref("never-pushed:1"), plain_registry.ref("round-trip:no-such-tag")):
        with pytest.raises(pybuildah.ImageNotFound, match="manifest unknown"):
            pybuildah.pull(ref, store=store, tls_verify=False)
    with pytest.raises(pybuildah.ImageNotFound):
        pybuildah.Builder("docker://" + plain_registry.ref("never-pushed:1"), store=store, tls_verify=False)


def test_unreachable_registry_is_a_registry_error(store: pybuildah.Store, busybox: str) -> None:
    dest = f"127.0.0.1:{free_port()}/nobody-listens:1"
    with pytest.raises(pybuildah.RegistryError) as caught:
        pybuildah.pull(dest, store=store, tls_verify=False, retries=0)
    assert type(caught.value) is pybuildah.RegistryError
    assert "connection refused" in str(caught.value)
    with pytest.raises(pybuildah.RegistryError) as caught:
        pybuildah.push(busybox, dest, store=store, tls_verify=False, retries=0)
    assert type(caught.value) is pybuildah.RegistryError


def test_builder_and_commit_use_registries(store: pybuildah.Store, busybox: str, plain_registry: Registry) -> None:
    dest = plain_registry.ref("committed:1")
    events: list[pybuildah.ProgressEvent] = []
    with pybuildah.Builder(busybox, store=store) as b:
        b.run("echo committed > /stamp")
        committed = b.commit("docker://" + dest, tls_verify=False, progress=events.append)
    assert {e.event for e in events} == {"new", "done"}
    assert {e.digest for e in events if e.event == "new"} == {e.digest for e in events if e.event == "done"}
    assert "sha256:" + committed.id in {e.digest for e in events}
    assert json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{dest}"))["Digest"] == committed.digest
    with pybuildah.Builder("docker://" + dest, store=store, tls_verify=False) as b:
        assert b.run(["cat", "/stamp"]).stdout == "committed\n"


def test_auth_registry_login_push_pull_logout(
    store: pybuildah.Store, busybox: str, tmp_path: Path, auth_registry: Registry
) -> None:
    dest = auth_registry.ref("private:1")
    authfile = tmp_path / "auth" / "auth.json"
    with pytest.raises(pybuildah.AuthenticationError):
        pybuildah.push(busybox, dest, store=store, tls_verify=False, authfile=authfile)
    with pytest.raises(pybuildah.AuthenticationError):
        pybuildah.login(auth_registry.host, USERNAME, PASSWORD + "x", authfile=authfile, tls_verify=False)
    assert not authfile.exists()

    pybuildah.login(auth_registry.host, USERNAME, PASSWORD, authfile=authfile, tls_verify=False)
    assert stat.S_IMODE(authfile.stat().st_mode) == 0o600
    stored = json.loads(authfile.read_text())["auths"][auth_registry.host]["auth"]
    assert base64.b64decode(stored).decode() == f"{USERNAME}:{PASSWORD}"

    digest = pybuildah.push(busybox, dest, store=store, tls_verify=False, authfile=authfile)
    assert digest in pybuildah.pull(dest, store=store, tls_verify=False, creds=(USERNAME, PASSWORD)).digests
    assert digest in pybuildah.pull(dest, store=store, tls_verify=False, creds=f"{USERNAME}:{PASSWORD}").digests
    with pytest.raises(pybuildah.AuthenticationError):
        pybuildah.pull(dest, store=store, tls_verify=False, creds=(USERNAME, "wrong"))

    assert pybuildah.logout(auth_registry.host, authfile=authfile) is True
    assert pybuildah.logout(auth_registry.host, authfile=authfile) is False
    with pytest.raises(pybuildah.AuthenticationError):
        pybuildah.pull(dest, store=store, tls_verify=False, authfile=authfile)
    with pytest.raises(pybuildah.InvalidArgument):
        pybuildah.pull(dest, store=store, tls_verify=False, creds="no-colon")


def test_standard_auth_file_locations(
    store: pybuildah.Store, busybox: str, tmp_path: Path, auth_registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = auth_registry.ref("env-auth:1")
    env_file = tmp_path / "registry-auth.json"
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(env_file))
    pybuildah.login(auth_registry.host, USERNAME, PASSWORD, tls_verify=False)
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert auth_registry.host in json.loads(env_file.read_text())["auths"]
    pybuildah.push(busybox, dest, store=store, tls_verify=False)

    # Without REGISTRY_AUTH_FILE: ${XDG_RUNTIME_DIR}/containers/auth.json.
    monkeypatch.delenv("REGISTRY_AUTH_FILE")
    runtime_dir = tmp_path / "xdg-runtime"
    runtime_dir.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime_dir))
    with pytest.raises(pybuildah.AuthenticationError):
        pybuildah.pull(dest, store=store, tls_verify=False)
    pybuildah.login(auth_registry.host, USERNAME, PASSWORD, tls_verify=False)
    xdg_file = runtime_dir / "containers" / "auth.json"
    assert stat.S_IMODE(xdg_file.stat().st_mode) == 0o600
    assert dest in pybuildah.pull(dest, store=store, tls_verify=False).names
    assert pybuildah.logout(auth_registry.host) is True


def test_tls_registry_needs_its_certificate(store: pybuildah.Store, busybox: str, tls_registry: Registry) -> None:
    dest = tls_registry.ref("secure:1")
    with pytest.raises(pybuildah.TLSError, match="certificate"):
        pybuildah.push(busybox, dest, store=store)
    digest = pybuildah.push(busybox, dest, store=store, cert_dir=tls_registry.cert_dir)
    with pytest.raises(pybuildah.TLSError):
        pybuildah.pull(dest, store=store)
    with pytest.raises(pybuildah.TLSError):
        pybuildah.Builder("docker://" + dest, store=store, pull="always")
    assert digest in pybuildah.pull(dest, store=store, cert_dir=tls_registry.cert_dir).digests
    assert digest in pybuildah.pull(dest, store=store, tls_verify=False).digests
    with pybuildah.Builder("docker://" + dest, store=store, cert_dir=tls_registry.cert_dir, pull="always") as b:
        assert b.run("echo ok").stdout == "ok\n"


SECRET_CHILD = textwrap.dedent(
    """
    import json, logging, sys, traceback
    import pybuildah

    host, user, root, base, authfile, log_path = sys.argv[1:7]
    password = sys.stdin.read()
    handler = logging.FileHandler(log_path)
    handler.setLevel(logging.DEBUG)
    logger = logging.getLogger("pybuildah")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    failures = []

    def expect_auth_error(fn):
        try:
            fn()
        except pybuildah.AuthenticationError as exc:
            failures.append([str(exc), repr(exc), traceback.format_exc()])
        else:
            raise SystemExit("no AuthenticationError")

    with pybuildah.Store(root=root, driver="overlay", additional_image_stores=[base]) as store:
        with pybuildah.Builder("localhost/busybox:latest", store=store) as b:
            b.run("echo secret-test > /stamp")
            image = b.commit("localhost/secret-test:1")
        ref = host + "/secret-test:1"
        expect_auth_error(lambda: pybuildah.login(host, user, password + "!", authfile=authfile, tls_verify=False))
        expect_auth_error(lambda: image.push(ref, tls_verify=False, creds=(user, password[:-1])))
        expect_auth_error(lambda: pybuildah.pull(ref, store=store, tls_verify=False, creds=user + ":" + password[1:]))
        pybuildah.login(host, user, password, authfile=authfile, tls_verify=False)
        image.push(ref, tls_verify=False, authfile=authfile)
        image.push(ref, tls_verify=False, creds=(user, password))
        pulled = pybuildah.pull(ref, store=store, tls_verify=False, creds=user + ":" + password)
        with pybuildah.Builder("docker://" + ref, store=store, tls_verify=False, creds=(user, password)) as b:
            b.run("cat /stamp")
            b.commit("docker://" + host + "/secret-test:2", tls_verify=False, creds=(user, password))
        print(json.dumps({"failures": failures, "pulled": repr(pulled), "image": repr(image)}))
    """
)


def test_password_appears_in_no_argv_log_or_exception(
    base_store_root: Path, tmp_path: Path, auth_registry: Registry
) -> None:
    trace = tmp_path / "execve.trace"
    log = tmp_path / "pybuildah.log"
    env = {**os.environ, "PYBUILDAH_LOG_LEVEL": "debug",
           "PYTHONPATH": str(Path(pybuildah.__file__).resolve().parent.parent)}
    result = subprocess.run(
        ["strace", "-f", "--seccomp-bpf", "-qq", "-e", "trace=execve", "-s", "100000", "-xx", "-o", str(trace),
         sys.executable, "-c", SECRET_CHILD, auth_registry.host, USERNAME, str(tmp_path / "root"),
         str(base_store_root), str(tmp_path / "auth.json"), str(log)],
        input=PASSWORD.encode(), capture_output=True, env=env, timeout=240,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-3000:]
    report = json.loads(result.stdout.decode().strip().splitlines()[-1])

    secrets = [PASSWORD, base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()]
    # Sub-strings that a partial leak would still show (the distinctive ASCII runs).
    secrets += ["p@ss:w0rd", "`id`'\"\\%s&|<>"]

    def hexed(text: str) -> str:
        return "".join(f"\\x{byte:02x}" for byte in text.encode())

    traced = trace.read_text()
    assert traced.count("execve(") >= 3  # python, the re-exec helper for RUN, storage re-execs
    assert hexed("pybuildah-light-helper") in traced  # RUN's chroot runtime runs in the light helper
    logged = log.read_text()
    assert logged.strip(), "the debug log should not be empty"
    failures = report["failures"]
    assert len(failures) == 3
    assert any("invalid username/password" in text or "unauthorized" in text
               for failure in failures for text in failure)
    for secret in secrets:
        assert hexed(secret) not in traced
        assert secret not in logged
        assert secret not in result.stderr.decode(errors="replace")
        for failure in failures:
            for text in failure:
                assert secret not in text
        assert secret not in report["pulled"] and secret not in report["image"]


@given(user=st.text(min_size=1).filter(lambda u: ":" not in u), password=st.text())
def test_creds_tuple_and_string_send_the_same_text(user: str, password: str) -> None:
    """Go parses creds (splitting at the first colon; see go/internal unit tests): both spellings reach it alike."""
    as_text = pybuildah.RegistryOptions(creds=f"{user}:{password}")
    as_tuple = pybuildah.RegistryOptions(creds=(user, password))
    assert as_text._wire()["creds"] == as_tuple._wire()["creds"] == f"{user}:{password}"
    assert repr(as_tuple) == repr(as_text) == "RegistryOptions(creds=<hidden>)"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00*"), min_size=8))
def test_rejected_passwords_never_reach_the_message(auth_registry: Registry, password: str) -> None:
    with pytest.raises(pybuildah.AuthenticationError) as caught:
        pybuildah.login(auth_registry.host, USERNAME, password + "#", tls_verify=False,
                        authfile="/nonexistent-dir/never-written.json")
    assert password not in str(caught.value) and password not in repr(caught.value)


def test_all_tags_and_pull_policies(store: pybuildah.Store, busybox: str, plain_registry: Registry) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        b.run("echo one > /which")
        first = b.commit("localhost/tags:one")
    with pybuildah.Builder(busybox, store=store) as b:
        b.run("echo two > /which")
        second = b.commit("localhost/tags:two")
    for image, tag in ((first, "one"), (second, "two")):
        image.push(plain_registry.ref(f"tags:{tag}"), tls_verify=False)
    first.remove()
    second.remove()
    pybuildah.pull(plain_registry.ref("tags"), store=store, tls_verify=False, all_tags=True)
    assert store.image(plain_registry.ref("tags:one")).id == first.id
    assert store.image(plain_registry.ref("tags:two")).id == second.id

    # "missing" and "never" use the local copy without asking the (now unreachable) registry.
    gone = f"127.0.0.1:{free_port()}/tags:one"
    store.image(first.id).tag(gone)
    assert pybuildah.pull(gone, store=store, policy="missing", retries=0).id == first.id
    assert pybuildah.pull(gone, store=store, policy="never").id == first.id
    with pytest.raises(pybuildah.RegistryError):
        pybuildah.pull(gone, store=store, policy="always", tls_verify=False, retries=0)
    with pytest.raises(pybuildah.ImageNotFound):
        pybuildah.pull(f"127.0.0.1:{free_port()}/absent:1", store=store, policy="never")
    with pytest.raises(pybuildah.InvalidArgument):
        pybuildah.pull(gone, store=store, policy="sometimes")


def test_pushing_a_manifest_list_honours_compression_and_reports_progress(
        store: pybuildah.Store, busybox: str, tmp_path: Path, plain_registry: Registry) -> None:
    # push() of a list once dropped compression, compression_level and the progress stream.
    image = make_image(store, busybox, tmp_path, "localhost/list-member:1")
    listed = pybuildah.Manifest.create("localhost/zstd-list:1", store=store)
    member = listed.add(image.id)
    dest = plain_registry.ref("zstd-list:1")
    events: list[pybuildah.ProgressEvent] = []
    digest = pybuildah.push("localhost/zstd-list:1", dest, store=store, tls_verify=False, compression="zstd",
                            compression_level=5, progress=events.append)
    raw_list = skopeo("inspect", "--tls-verify=false", "--raw", f"docker://{dest}")
    assert "sha256:" + hashlib.sha256(raw_list).hexdigest() == digest
    entries = json.loads(raw_list)["manifests"]
    assert len(entries) == 1
    pushed = json.loads(skopeo("inspect", "--tls-verify=false", "--raw",
                               f"docker://{plain_registry.ref('zstd-list')}@{entries[0]['digest']}"))
    assert {layer["mediaType"] for layer in pushed["layers"]} == {"application/vnd.oci.image.layer.v1.tar+zstd"}
    assert entries[0]["digest"] != member  # recompressed, so the entry's manifest changed
    started = {e.digest for e in events if e.event == "new"}
    finished = {e.digest for e in events if e.event in ("done", "skipped")}
    # Every layer and the config started and finished (events name the source blobs).
    assert pushed["config"]["digest"] in started
    assert len(started) == len(pushed["layers"]) + 1
    assert started == finished
    # Manifest.push takes the same path: a bad compression is refused before anything is sent.
    with pytest.raises(pybuildah.InvalidArgument):
        pybuildah.push("localhost/zstd-list:1", dest, store=store, tls_verify=False, compression="bzip9")


@pytest.mark.parametrize("how", ["sigint", "interrupt_main"])
def test_ctrl_c_stops_inspecting_a_registry_that_never_answers(how: str, store: pybuildah.Store) -> None:
    # A server that accepts and never answers: Store.image("docker://...") and
    # Image.inspect()/reload() used to drop the call id, so nothing could stop them.
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):  # closed at the end
            while True:
                held.append(server.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    ref = f"docker://127.0.0.1:{server.getsockname()[1]}/stalled:1"
    fire = (lambda: os.kill(os.getpid(), signal.SIGINT)) if how == "sigint" else _thread.interrupt_main

    def hang_up() -> None:  # should Ctrl-C not stop the call, it ends here (late: the test fails, never hangs)
        server.close()
        for conn in held:
            conn.close()

    watchdog = threading.Timer(20, hang_up)
    watchdog.start()
    try:
        for look in (lambda: store.image(ref, tls_verify=False),
                     lambda: pybuildah.Image(store, {"id": "0" * 64}, reference=ref).inspect()):
            timer = threading.Timer(1.0, fire)
            start = time.monotonic()
            timer.start()
            with pytest.raises(KeyboardInterrupt):
                look()
            took = time.monotonic() - start
            timer.join()
            assert 1.0 <= took < 1.0 + 2, took
            assert held, "the request never reached the server"
    finally:
        watchdog.cancel()
        hang_up()
