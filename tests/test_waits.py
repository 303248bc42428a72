"""Nothing waits forever, and every wait stops on Ctrl-C.

Real parts: a TCP server on 127.0.0.1 that stalls (accepts and never
answers, or answers as a registry serving the busybox image and then stops
in the middle of its layer, or stops reading an upload), and a second
process that holds the store's lock files with fcntl, as containers/storage
does.  Ctrl-C is a SIGINT the child interpreter sends itself from a timer.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import pybuildah

TIMEOUT = 2.0  # the idle timeout these tests ask for
SLACK = 3.0  # set-up before the stall (ping, manifest, config) and a loaded machine


class StallingServer:
    """HTTP on 127.0.0.1 that stalls: "silent" accepts and never answers; "registry" serves the
    busybox image from an OCI layout, then stops in the middle of its layer blob, stops reading
    uploads, and stops in the middle of /file (an ADD URL)."""

    def __init__(self, mode: str, layout: Path | None = None) -> None:
        self.mode = mode
        self.blobs: dict[str, bytes] = {}
        self.manifest = b""
        self.manifest_type = ""
        self.layers: set[str] = set()
        if layout is not None:
            index = json.loads((layout / "index.json").read_text())
            entry = index["manifests"][0]
            self.manifest = self._blob(layout, entry["digest"])
            self.manifest_type = entry["mediaType"]
            parsed = json.loads(self.manifest)
            self.blobs[parsed["config"]["digest"]] = self._blob(layout, parsed["config"]["digest"])
            for layer in parsed["layers"]:
                self.blobs[layer["digest"]] = self._blob(layout, layer["digest"])
                self.layers.add(layer["digest"])
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.server.settimeout(0.2)
        self.held: list[socket.socket] = []
        self.stop = threading.Event()
        self.stalls = 0  # requests this server stopped answering
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.getsockname()[1]}"

    @staticmethod
    def _blob(layout: Path, digest: str) -> bytes:
        return (layout / "blobs" / digest.replace(":", "/")).read_bytes()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self.held.append(conn)
            if self.mode != "silent":
                threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        try:
            while not self.stop.is_set():
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk or buffer + chunk[:1] == b"\x16":  # a TLS hello: plain HTTP only
                        conn.close()
                        return
                    buffer += chunk
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                method, path = head.split(b"\r\n")[0].decode().split(" ")[:2]
                if not self._answer(conn, method, path.split("?")[0]):
                    self.stalls += 1
                    return  # stalled: keep the connection open, read nothing more
        except OSError:
            return

    def _answer(self, conn: socket.socket, method: str, path: str) -> bool:
        """Answer one request; False when this server stalls instead."""
        def send(status: str, body: bytes = b"", headers: dict[str, str] | None = None,
                 length: int | None = None) -> None:
            fields = {"Content-Length": str(len(body) if length is None else length), **(headers or {})}
            text = "".join(f"{k}: {v}\r\n" for k, v in fields.items())
            conn.sendall(f"HTTP/1.1 {status}\r\n{text}\r\n".encode() + (b"" if method == "HEAD" else body))

        if path == "/file":
            send("200 OK", b"x" * 1000, length=1_000_000)  # then nothing
            return False
        if path == "/v2/":
            send("200 OK", b"{}", {"Content-Type": "application/json"})
            return True
        manifest = re.fullmatch(r"/v2/(.+)/manifests/([^/]+)", path)
        if manifest and self.manifest:
            digest = "sha256:" + hashlib.sha256(self.manifest).hexdigest()
            send("200 OK", self.manifest, {"Content-Type": self.manifest_type, "Docker-Content-Digest": digest})
            return True
        blob = re.fullmatch(r"/v2/(.+)/blobs/(sha256:[0-9a-f]{64})", path)
        if blob and method == "GET" and blob.group(2) in self.blobs:
            data = self.blobs[blob.group(2)]
            if blob.group(2) in self.layers:
                send("200 OK", data[: len(data) // 2], length=len(data))  # half a layer, then nothing
                return False
            send("200 OK", data)
            return True
        if blob:
            send("404 Not Found", b'{"errors":[{"code":"BLOB_UNKNOWN","message":"unknown"}]}',
                 {"Content-Type": "application/json"})
            return True
        upload = re.fullmatch(r"/v2/(.+)/blobs/uploads/", path)
        if upload and method == "POST":
            send("202 Accepted", b"", {"Location": f"/v2/{upload.group(1)}/blobs/uploads/u1",
                                       "Docker-Upload-UUID": "u1", "Range": "0-0"})
            return True
        return False  # an upload's data (PATCH/PUT), or anything else: never read, never answered

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        for conn in self.held:
            conn.close()
        self.server.close()


@pytest.fixture
def silent() -> Iterator[StallingServer]:
    server = StallingServer("silent")
    yield server
    server.close()


@pytest.fixture
def stalling_registry(busybox_exports: dict[str, Path]) -> Iterator[StallingServer]:
    server = StallingServer("registry", busybox_exports["oci"])
    yield server
    server.close()


def timed(call: Callable[[], object]) -> tuple[BaseException, float]:
    start = time.monotonic()
    with pytest.raises(pybuildah.RegistryTimeout) as caught:
        call()
    return caught.value, time.monotonic() - start


def assert_bounded(error: BaseException, took: float) -> None:
    assert isinstance(error, pybuildah.RegistryError) and isinstance(error, TimeoutError)
    assert TIMEOUT - 0.2 <= took < TIMEOUT + SLACK, took


# A stalled server is a typed error in bounded time --------------------------------------

def test_login_to_a_silent_server_times_out(silent: StallingServer, tmp_path: Path) -> None:
    error, took = timed(lambda: pybuildah.login(silent.address, "u", "hunter2-secret",
                                                timeout=TIMEOUT, authfile=tmp_path / "auth.json"))
    assert_bounded(error, took)
    assert "hunter2" not in str(error)
    assert not (tmp_path / "auth.json").exists()


def test_inspecting_an_image_on_a_silent_server_times_out(silent: StallingServer,
                                                          store: pybuildah.Store) -> None:
    assert_bounded(*timed(lambda: store.image(f"docker://{silent.address}/x:1", retries=0, timeout=TIMEOUT)))


@pytest.mark.parametrize("server", ["silent", "stalling_registry"])
def test_pull_times_out_before_and_in_the_middle_of_a_layer(server: str, request: pytest.FixtureRequest,
                                                           store: pybuildah.Store) -> None:
    stalling: StallingServer = request.getfixturevalue(server)
    # A plain-HTTP registry needs tls_verify=False; the silent one gets one (https) attempt.
    options = pybuildah.RegistryOptions(tls_verify=server == "silent", retries=0, timeout=TIMEOUT)
    assert_bounded(*timed(lambda: pybuildah.pull(f"{stalling.address}/busybox:latest", store=store,
                                                 registry=options, progress=None)))
    if server == "stalling_registry":
        assert stalling.stalls >= 1  # it stopped in the middle of a layer, after the manifest and config
    assert not store.exists(f"{stalling.address}/busybox:latest")


@pytest.mark.parametrize("server", ["silent", "stalling_registry"])
def test_push_times_out_when_the_registry_stops_reading(server: str, request: pytest.FixtureRequest,
                                                        store: pybuildah.Store, busybox: str) -> None:
    stalling: StallingServer = request.getfixturevalue(server)
    assert_bounded(*timed(lambda: pybuildah.push(busybox, f"docker://{stalling.address}/pushed:1", store=store,
                                                 tls_verify=server == "silent", retries=0, timeout=TIMEOUT,
                                                 progress=None)))
    if server == "stalling_registry":
        assert stalling.stalls >= 1  # the upload itself stalled


@pytest.mark.parametrize("path", ["", "/file"])
def test_add_of_a_url_times_out_before_and_in_the_middle_of_the_body(
        path: str, silent: StallingServer, stalling_registry: StallingServer,
        store: pybuildah.Store, busybox: str) -> None:
    server = stalling_registry if path else silent
    with pybuildah.Builder(busybox, store=store) as builder:
        assert_bounded(*timed(lambda: builder.add(f"http://{server.address}{path or '/x'}", "/x",
                                                  timeout=TIMEOUT)))
        assert builder.run("echo ok").stdout == "ok\n"  # the builder still works
        # With a checksum the download is verified before it is written, so nothing lands.
        assert_bounded(*timed(lambda: builder.add(f"http://{server.address}{path or '/x'}", "/y",
                                                  timeout=TIMEOUT, checksum="sha256:" + "0" * 64)))
        assert builder.run(["ls", "/y"], check=False).exit_code != 0


def test_build_from_a_stalling_registry_times_out(stalling_registry: StallingServer, store: pybuildah.Store,
                                                  tmp_path: Path) -> None:
    error, took = timed(lambda: pybuildah.build(
        tmp_path, containerfile=io.StringIO(f"FROM {stalling_registry.address}/busybox:latest\nRUN true\n"),
        store=store, tls_verify=False, retries=0, timeout=TIMEOUT, log=lambda line: None))
    assert_bounded(error, took)
    assert store.containers() == []


def test_timeout_values_are_checked_and_the_default_is_kept() -> None:
    for bad in (0, -1, float("nan"), float("inf")):  # Go checks values, before any connection
        with pytest.raises(pybuildah.InvalidArgument, match="timeout"):
            pybuildah.login("127.0.0.1:9", "u", "p", timeout=bad)
    with pytest.raises(pybuildah.InvalidType):
        pybuildah.RegistryOptions(timeout="2")._wire()  # type: ignore[arg-type]
    assert pybuildah.RegistryOptions()._wire()["timeout"] is None  # Go's default applies
    assert "timeout=2" in repr(pybuildah.RegistryOptions(timeout=2))


# Ctrl-C stops every network wait ---------------------------------------------------------

CHILD = """
import io, json, os, signal, sys, threading, time
import pybuildah

def interrupt_after(seconds):
    timer = threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    return timer

def measure(what, call, after=0.5):
    timer = interrupt_after(after)
    start = time.monotonic()
    try:
        call()
        outcome = "returned"
    except KeyboardInterrupt:
        outcome = "KeyboardInterrupt"
    except BaseException as exc:
        outcome = type(exc).__name__ + ": " + str(exc)
    timer.cancel()
    print(json.dumps({"what": what, "outcome": outcome, "after_interrupt": time.monotonic() - start - after}),
          flush=True)
"""


def run_child(body: str, *args: str, timeout: float = 60) -> dict[str, dict[str, object]]:
    """Run CHILD + body in another interpreter; its measurements, by name."""
    try:
        done = subprocess.run([sys.executable, "-c", CHILD + textwrap.dedent(body), *args],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the child hung: {exc.stdout!r} {exc.stderr!r}")
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {str(r["what"]): r for r in results}


def assert_interrupted(results: dict[str, dict[str, object]], names: list[str]) -> None:
    assert sorted(results) == sorted(names)
    for name, result in results.items():
        assert result["outcome"] == "KeyboardInterrupt", (name, result)
        assert float(str(result["after_interrupt"])) < 1.0, (name, result)


def test_ctrl_c_stops_every_network_wait(silent: StallingServer, stalling_registry: StallingServer,
                                         tmp_path: Path, base_store_root: Path) -> None:
    results = run_child("""
        quiet, stalling = sys.argv[3], sys.argv[4]
        slow = dict(tls_verify=False, retries=0, timeout=60)  # far longer than the test
        os.makedirs(sys.argv[1] + ".ctx")
        with pybuildah.Store(root=sys.argv[1], driver="overlay", additional_image_stores=[sys.argv[2]]) as store:
            measure("login", lambda: pybuildah.login(quiet, "u", "p", tls_verify=False, timeout=60,
                                                     authfile=sys.argv[1] + ".auth"))
            measure("inspect", lambda: store.image("docker://" + quiet + "/x:1", **slow))
            measure("pull_layer", lambda: pybuildah.pull(stalling + "/busybox:latest", store=store,
                                                         progress=None, **slow))
            measure("push_layer", lambda: pybuildah.push("localhost/busybox:latest", "docker://" + stalling + "/p:1",
                                                         store=store, progress=None, **slow))
            measure("build_from", lambda: pybuildah.build(sys.argv[1] + ".ctx", store=store, log=lambda line: None,
                                                          containerfile=io.StringIO("FROM " + stalling + "/busybox"),
                                                          **slow))
            with pybuildah.Builder("localhost/busybox:latest", store=store) as builder:
                measure("add_url", lambda: builder.add("http://" + stalling + "/file", "/x", timeout=60))
                print(json.dumps({"what": "after", "outcome": builder.run("echo ok").stdout}))
    """, str(tmp_path / "root"), str(base_store_root), silent.address, stalling_registry.address)
    after = results.pop("after")
    assert after["outcome"] == "ok\n"
    assert_interrupted(results, ["login", "inspect", "pull_layer", "push_layer", "build_from", "add_url"])


# Store locks held by another process ---------------------------------------------------

HOLDER = """
import fcntl, os, sys
held = []
for path in sys.argv[1:]:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.lockf(fd, fcntl.LOCK_EX)  # fcntl(F_SETLKW, F_WRLCK) on the whole file, as containers/storage locks
    held.append(fd)
print("held", flush=True)
sys.stdin.read()  # until the test lets go
"""


def test_ctrl_c_stops_waits_for_a_store_lock_held_by_another_process(tmp_path: Path,
                                                                     base_store_root: Path) -> None:
    results = run_child("""
        import subprocess
        root, base, holder = sys.argv[1], sys.argv[2], sys.argv[3]
        store = pybuildah.Store(root=root, driver="overlay", additional_image_stores=[base])
        fresh = root + "-fresh"  # a store this process has not opened: Store() must take its lock
        locks = [os.path.join(root, p) for p in ("storage.lock", "overlay-images/images.lock",
                                                 "overlay-containers/containers.lock")] + [fresh + "/storage.lock"]
        other = subprocess.Popen([sys.executable, "-c", holder, *locks], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        assert other.stdout.readline() == "held\\n"
        measure("Store", lambda: pybuildah.Store(root=fresh, driver="overlay"))
        measure("images", store.images)
        measure("Builder", lambda: pybuildah.Builder("localhost/busybox:latest", store=store))
        measure("Store_again", lambda: pybuildah.Store(root=fresh, driver="overlay"))
        other.stdin.close()
        other.wait()
        # The other process let go: the same calls work, and the cancelled Builder left nothing.
        with pybuildah.Store(root=fresh, driver="overlay") as opened:
            fresh_images = len(opened.images())
        with pybuildah.Builder("localhost/busybox:latest", store=store) as builder:
            ran = builder.run("echo ok").stdout
        deadline = time.monotonic() + 10
        while store.containers() and time.monotonic() < deadline:
            time.sleep(0.1)  # a cancelled call finishes on its own once the lock is free
        print(json.dumps({"what": "after", "outcome": [fresh_images, ran, len(store.images()),
                                                       len(store.containers())]}))
    """, str(tmp_path / "root"), str(base_store_root), HOLDER)
    after = results.pop("after")
    assert after["outcome"] == [0, "ok\n", 1, 0]
    assert_interrupted(results, ["Store", "images", "Builder", "Store_again"])
