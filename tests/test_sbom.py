"""SBOMs from commit(sbom=...) and build(sbom=...), against the syft CLI and third-party validators.

The oracle is the syft CLI built from the syft version that go/sbomscan/go.mod pins
(once per machine, into the tests' cache), run with the same cataloger selection
(``--override-default-catalogers image``) on the same mounted root file systems:
a debootstrap Debian root, busybox, a Go binary, a Python venv, an npm tree and an apk database.
The SPDX documents are checked with spdx-tools, the CycloneDX ones with
cyclonedx-python-lib.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import venv
from pathlib import Path
from typing import Any

import pytest
from conftest import descendants
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from registry import Registry, plain_registry
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

import pybuildah
from pybuildah import _sbom, aio, attestations, bases
from pybuildah.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pybuildah-tests"
Package = tuple[str, str, str]
__all__ = ["plain_registry"]  # a fixture, used by name


def syft_version() -> str:
    sys.path.insert(0, str(ROOT / "go"))
    try:
        build = importlib.import_module("build")
    finally:
        sys.path.remove(str(ROOT / "go"))
    version: str = build.scanner_syft_version()
    return version


@pytest.fixture(scope="session")
def syft_cli() -> Path:
    """The syft CLI at the scanner's syft version, built once (same flags, so it shares the Go build cache)."""
    version = syft_version()
    home = CACHE / f"syft-{version}"
    cli = home / "syft"
    if not cli.exists():
        env = dict(os.environ, GOBIN=str(home), GOFLAGS="-modcacherw -buildvcs=false", GOTOOLCHAIN="local")
        subprocess.run(["nice", "-n", "10", "go", "install", "-trimpath", "-ldflags", "-s -w",
                        f"github.com/anchore/syft/cmd/syft@{version}"], env=env, check=True, timeout=3000)
    return cli


def oracle(cli: Path, root: Path, fmt: str = "spdx-json") -> dict[str, Any]:
    """What the syft CLI says about root, with the image catalogers and symlinks kept inside root."""
    env = dict(os.environ, SYFT_CHECK_FOR_APP_UPDATE="false")
    done = subprocess.run([str(cli), "scan", f"dir:{root}", "--base-path", str(root),
                           "--override-default-catalogers", "image", "-q", "-o", fmt],
                          env=env, capture_output=True, text=True, check=True)
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def purl_type(purl: str) -> str:
    return purl.removeprefix("pkg:").split("/", 1)[0]


def spdx_packages(document: dict[str, Any]) -> set[Package]:
    """(purl type, name, version) of an SPDX document's packages, the scanned root itself left out."""
    found = set()
    for package in document["packages"]:
        if package["SPDXID"].startswith("SPDXRef-DocumentRoot"):
            continue
        purls = [ref["referenceLocator"] for ref in package.get("externalRefs", [])
                 if ref["referenceType"] == "purl"]
        found.add((purl_type(purls[0]) if purls else "", package["name"], package.get("versionInfo", "")))
    return found


def cyclonedx_packages(document: dict[str, Any]) -> set[Package]:
    return {(purl_type(c.get("purl", "")), c["name"], c.get("version", ""))
            for c in document.get("components", []) if c.get("type") != "operating-system"}


def validate_spdx(path: Path) -> None:
    document = parse_file(str(path))
    assert document.creation_info.spdx_version == "SPDX-2.3"
    messages = validate_full_spdx_document(document)
    assert messages == [], [m.validation_message for m in messages[:5]]


def validate_cyclonedx(text: str) -> None:
    version = json.loads(text)["specVersion"]
    schema = SchemaVersion.from_version(version)
    assert JsonStrictValidator(schema).validate_str(text) is None


@pytest.fixture(scope="session")
def debian_rootfs() -> Path:
    """The minbase Debian root that deploy/ makes with debootstrap (a cached tarball)."""
    sys.path.insert(0, str(ROOT / "deploy"))
    try:
        build_runner = importlib.import_module("build_runner")
    finally:
        sys.path.remove(str(ROOT / "deploy"))
    tarball: Path = build_runner.debootstrap_rootfs(CACHE / "runner", build_runner.apt_mirror(), build_runner.SUITE)
    return tarball


def go_binary(out: Path) -> Path:
    """tests/go_hello built statically: its module build info names example.com/hello and the Go version."""
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-buildvcs=false", GOTOOLCHAIN="local")
    subprocess.run(["go", "build", "-o", str(out / "hello"), "."], cwd=ROOT / "tests" / "go_hello", env=env,
                   check=True)
    return out / "hello"


# An Alpine package database (apk's text format, as `apk add` writes it) with two packages.
APK_INSTALLED = """\
C:Q1sxNbv1NmcvqwGW5Gr0xWgR1Zb6o=
P:musl
V:1.2.5-r0
A:x86_64
S:411034
I:662528
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Alpine <alpine@example.org>
t:1711986000
c:9e6e2ac7e7be3ff0c1efb03cf1e6e2b6bc4b9e3c
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1CDSrvmXn4/BfBRvvcMzQn53UUUU=

C:Q1IkSRTq3+ea7RnGbVPi7lR5zNfU8=
P:zlib
V:1.3.1-r0
A:x86_64
S:53212
I:104568
T:A compression/decompression Library
U:https://zlib.net/
L:Zlib
o:zlib
m:Alpine <alpine@example.org>
t:1711986000
c:3c4bdb1e2bd95c4c2e3c8b5b2c4d0a7e5b1e2f3a
D:so:libc.musl-x86_64.so.1
p:so:libz.so.1=1.3.1
F:lib
R:libz.so.1.3.1
a:0:0:755
Z:Q1Tvs8XUQQnN7m4V1KlaVd3gYmlkQ=

"""


@pytest.fixture
def apps(tmp_path: Path) -> Path:
    """A tree for /opt: a Python venv (pip's dist-info), npm's installed node_modules and a Go binary."""
    opt = tmp_path / "opt"
    venv.EnvBuilder(with_pip=True, symlinks=False).create(opt / "venv")
    shutil.copytree("/usr/lib/node_modules/npm", opt / "node" / "node_modules" / "npm", symlinks=True)
    go_binary(opt)
    return opt


def test_apps_match_the_syft_cli_and_validate(store: pybuildah.Store, busybox: str, apps: Path, tmp_path: Path,
                                              syft_cli: Path) -> None:
    out, purls = tmp_path / "sbom.spdx.json", tmp_path / "purls.txt"
    apk_db = tmp_path / "installed"
    apk_db.write_text(APK_INSTALLED)
    with pybuildah.Builder(busybox, store=store) as b:
        b.copy(str(apps), "/opt")
        b.copy(str(apk_db), "/lib/apk/db/installed")
        image = b.commit("apps:1", sbom="spdx", sbom_output=out, sbom_purl_output=purls,
                         sbom_image_output="/usr/share/sbom/apps.spdx.json")
        with b.mount() as root:
            expected = spdx_packages(oracle(syft_cli, root))
            inside = json.loads((root / "usr/share/sbom/apps.spdx.json").read_text())
    document = json.loads(out.read_text())
    ours = spdx_packages(document)
    assert ours == expected
    kinds = {kind for kind, _, _ in ours}
    assert {"pypi", "npm", "golang", "generic", "apk"} <= kinds, kinds  # generic: busybox's binary classifier
    assert {("apk", "musl", "1.2.5-r0"), ("apk", "zlib", "1.3.1-r0")} <= ours
    pip = next((apps / "venv").glob("lib/python*/site-packages/pip-*.dist-info"))  # ensurepip's, not ours
    assert ("pypi", "pip", pip.name.removeprefix("pip-").removesuffix(".dist-info")) in ours
    assert any(name == "example.com/hello" for _, name, _ in ours)
    assert ("npm", "npm", json.loads(Path("/usr/lib/node_modules/npm/package.json").read_text())["version"]) in ours
    assert inside["packages"] and spdx_packages(inside) == ours  # the copy in the image is the same scan
    assert sorted(purls.read_text().split()) == sorted(
        ref["referenceLocator"] for p in document["packages"] for ref in p.get("externalRefs", [])
        if ref["referenceType"] == "purl")
    validate_spdx(out)
    assert image.names == ["localhost/apps:1"]


def test_busybox_cyclonedx_in_the_image(store: pybuildah.Store, busybox: str, tmp_path: Path,
                                        syft_cli: Path) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        b.commit("bb:sbom", sbom="cyclonedx", sbom_image_output="/sbom.cdx.json")
    with pybuildah.Builder("bb:sbom", store=store) as check, check.mount() as root:
        text = (root / "sbom.cdx.json").read_text()
        (root / "sbom.cdx.json").unlink()  # the oracle scans what was scanned
        expected = cyclonedx_packages(oracle(syft_cli, root, "cyclonedx-json"))
    ours = cyclonedx_packages(json.loads(text))
    assert ours == expected
    assert any(name == "busybox" for _, name, _ in ours), ours
    validate_cyclonedx(text)


def test_debian_root_matches_the_syft_cli_and_costs(store: pybuildah.Store, debian_rootfs: Path, tmp_path: Path,
                                                     syft_cli: Path, record_property: Any) -> None:
    out = tmp_path / "debian.spdx.json"
    with pybuildah.Builder(store=store) as b:
        b.add(str(debian_rootfs), "/")
        base = b.commit("debian:base")
        with b.mount() as root:
            start = time.perf_counter()
            _sbom.scan(root, "spdx-json", out)
            ours_seconds = time.perf_counter() - start
            start = time.perf_counter()
            expected = spdx_packages(oracle(syft_cli, root))
            cli_seconds = time.perf_counter() - start
    ours = spdx_packages(json.loads(out.read_text()))
    assert ours == expected
    debs = {name for kind, name, _ in ours if kind == "deb"}
    assert {"dpkg", "libc6", "python3"} <= debs and len(debs) > 80, len(debs)
    validate_spdx(out)
    # The cost of sbom= on a build of that root, against the same build without it, in one run.
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Containerfile").write_text(f"FROM {base.id}\nRUN echo built > /built\n")
    start = time.perf_counter()
    pybuildah.build(context, store=store, tag="plain")
    plain = time.perf_counter() - start
    start = time.perf_counter()
    pybuildah.build(context, store=store, tag="scanned", sbom="spdx", sbom_output=tmp_path / "b.json")
    scanned = time.perf_counter() - start
    figures = {"scan_s": round(ours_seconds, 2), "syft_cli_s": round(cli_seconds, 2),
               "build_s": round(plain, 2), "build_with_sbom_s": round(scanned, 2)}
    record_property("sbom_figures", figures)
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "sbom-figures.json").write_text(json.dumps(figures))
    assert ours_seconds < 3 * cli_seconds + 5, figures  # the same catalogers: no slower than the CLI, give or take


def _scanner_pid(timeout: float = 120.0) -> int:
    """Wait for this process's SBOM scanner child to start; its pid."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid, command in descendants().items():
            if _sbom.SCANNER_PATH.name in command:
                return pid
        time.sleep(0.01)
    raise AssertionError("the SBOM scanner never started")


def test_a_cancelled_task_or_ctrl_c_stops_the_scan_at_once(store: pybuildah.Store, debian_rootfs: Path,
                                                            tmp_path: Path) -> None:
    # Scanning this root takes seconds (test_debian_root_matches_the_syft_cli_and_costs records how many):
    # each stop below comes well within the first second, and leaves no scanner and nothing committed.
    with pybuildah.Builder(store=store) as b:
        b.add(str(debian_rootfs), "/")
        debian = b.commit("debian:cancel")
    output = tmp_path / "never.spdx.json"

    async def cancelled() -> tuple[int, float]:
        async with aio.Builder(debian.id, store=store) as b:
            task = asyncio.create_task(b.commit("never:1", sbom="spdx", sbom_output=output))
            pid = await asyncio.to_thread(_scanner_pid)
            task.cancel()
            start = time.monotonic()
            with pytest.raises(asyncio.CancelledError):
                await task
            return pid, time.monotonic() - start

    pid, took = asyncio.run(cancelled())
    assert took < 1.0 and pid not in descendants(), (took, pid)

    main_thread = threading.get_ident()
    interrupted: list[tuple[int, float]] = []

    def ctrl_c() -> None:
        interrupted.append((_scanner_pid(), time.monotonic()))
        signal.pthread_kill(main_thread, signal.SIGINT)

    with pybuildah.Builder(debian.id, store=store) as b:
        threading.Thread(target=ctrl_c, daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            b.commit("never:2", sbom="spdx", sbom_output=output)
        took = time.monotonic() - interrupted[0][1]
    assert took < 1.0 and interrupted[0][0] not in descendants(), (took, interrupted)
    assert not store.exists("never:1") and not store.exists("never:2") and not output.exists()
    assert store.containers() == []


def test_build_sbom_image_output_adds_a_layer_that_takes_the_names(store: pybuildah.Store, busybox: str,
                                                                   apps: Path, tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    shutil.copytree(apps, context / "opt", symlinks=True)
    (context / "Containerfile").write_text(f"FROM {busybox}\nCOPY opt /opt\n")
    image = pybuildah.build(context, store=store, tag="built:1", sbom="syft-cyclonedx",
                            sbom_image_output="/sbom/cdx.json", sbom_purl_output=tmp_path / "purls")
    assert image.names == ["localhost/built:1"]
    purls = (tmp_path / "purls").read_text().split()
    assert any(p.startswith("pkg:pypi/pip@") for p in purls), purls
    with pybuildah.Builder("built:1", store=store) as b, b.mount() as root:
        text = (root / "sbom/cdx.json").read_text()
    validate_cyclonedx(text)
    assert {p for p in purls} <= {c.get("purl") for c in json.loads(text)["components"]}


def test_foreign_architecture_image_is_scanned(store: pybuildah.Store, tmp_path: Path) -> None:
    # Decided: the scan reads files only, so another architecture's image works as a native one.
    arch = "arm64" if bases.host_arch() != "arm64" else "amd64"
    env = dict(os.environ, CGO_ENABLED="0", GOARCH=arch, GOFLAGS="-buildvcs=false", GOTOOLCHAIN="local")
    subprocess.run(["go", "build", "-o", str(tmp_path / "hello"), "."], cwd=ROOT / "tests" / "go_hello", env=env,
                   check=True)
    out = tmp_path / "sbom.json"
    with pybuildah.Builder(store=store) as b:
        b.configure(architecture=arch, os="linux")
        b.copy(str(tmp_path / "hello"), "/usr/local/bin/hello")
        image = b.commit(sbom="cyclonedx", sbom_output=out, sbom_image_output="/sbom.json")
    assert image.architecture == arch
    document = json.loads(out.read_text())
    hello = [c for c in document["components"] if c["name"] == "example.com/hello"]
    assert hello, cyclonedx_packages(document)
    properties = {p["name"]: p["value"] for p in hello[0].get("properties", [])}
    # the Go cataloger read the foreign binary's build info
    assert arch in {v for k, v in properties.items() if "rchitecture" in k or "GOARCH" in k}, properties


def test_cli_build_and_commit_take_buildahs_sbom_flags(tmp_path: Path, busybox_exports: dict[str, Path],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    ctx, root = tmp_path / "ctx", tmp_path / "cli-root"
    ctx.mkdir()
    shutil.copyfile(busybox_exports["oci-archive"], ctx / "busybox.tar")  # Buildah reads archives in the context
    (ctx / "Containerfile").write_text("FROM oci-archive:busybox.tar\nRUN echo built > /built\n")
    common = ["--root", str(root), "--storage-driver", "overlay"]
    sbom_file, purls = tmp_path / "built.cdx.json", tmp_path / "purls.txt"
    assert cli_main([*common, "build", "-q", "-t", "cli-sbom:1", "--sbom", "cyclonedx", "--sbom-output",
                     str(sbom_file), "--sbom-purl-output", str(purls), str(ctx)]) == 0
    text = sbom_file.read_text()
    validate_cyclonedx(text)
    assert "busybox" in {name for _, name, _ in cyclonedx_packages(json.loads(text))}
    assert any(line.startswith("pkg:") and "busybox" in line for line in purls.read_text().splitlines())
    assert cli_main([*common, "from", "--name", "cli-sbom", "cli-sbom:1"]) == 0
    assert cli_main([*common, "commit", "-q", "--sbom", "syft-spdx", "--sbom-image-output", "/sbom.spdx.json",
                     "--rm", "cli-sbom", "cli-sbom:2"]) == 0
    capsys.readouterr()
    with pybuildah.Store(root=root, driver="overlay") as cli_store, \
            pybuildah.Builder("cli-sbom:2", store=cli_store) as check:
        inside = json.loads(check.run("cat /sbom.spdx.json").stdout)
    assert "busybox" in {name for _, name, _ in spdx_packages(inside)}
    # An output without --sbom is refused before anything is built.
    assert cli_main([*common, "build", "-q", "-t", "cli-sbom:3", "--sbom-output", str(tmp_path / "x"), str(ctx)]) != 0
    assert "--sbom-output needs --sbom" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    with pybuildah.Store(root=root, driver="overlay") as cli_store:
        assert not cli_store.exists("cli-sbom:3")


def test_bad_sbom_options_fail_before_anything_is_written(store: pybuildah.Store, busybox: str,
                                                          tmp_path: Path) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        with pytest.raises(pybuildah.InvalidArgument, match="unknown sbom 'trivy'"):
            b.commit("x", sbom="trivy", sbom_output=tmp_path / "s.json")
        with pytest.raises(pybuildah.InvalidArgument, match="sbom_output="):
            b.commit("x", sbom="spdx")
        with pytest.raises(pybuildah.InvalidArgument, match="without sbom="):
            b.commit("x", sbom_output=tmp_path / "s.json")
        with pytest.raises(ValueError, match="absolute"):
            b.commit("x", sbom="spdx", sbom_image_output="sbom.json")
        with pytest.raises(TypeError):
            b.commit("x", sbom=1, sbom_output=tmp_path / "s.json")  # type: ignore[arg-type]
    with pytest.raises(pybuildah.InvalidArgument, match="one platform"):
        pybuildah.build(tmp_path, store=store, platforms=["linux/amd64", "linux/arm64"], sbom="spdx",
                        sbom_output=tmp_path / "s.json")
    assert not (tmp_path / "s.json").exists()
    assert not any("localhost/x:latest" in i.names for i in store.images())


def test_a_failing_scan_raises_sbom_error_and_commits_nothing(store: pybuildah.Store, busybox: str,
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    # A scanner that cannot write its output (a directory stands where the file goes).
    blocked = tmp_path / "blocked"
    with pybuildah.Builder(busybox, store=store) as b:
        before = {i.id for i in store.images()}
        monkeypatch.setattr(_sbom, "_publish", lambda source, target: None)
        monkeypatch.setattr(_sbom, "scan", _failing_scan(blocked))
        with pytest.raises(pybuildah.SBOMError, match="failed") as raised:
            b.commit("never", sbom="spdx", sbom_output=tmp_path / "s.json")
        assert isinstance(raised.value, RuntimeError)
        assert {i.id for i in store.images()} == before


def _failing_scan(blocked: Path) -> Any:
    real = _sbom.scan

    def scan(root: Any, format: str, output: Path, purl_output: Path | None = None, name: str = "") -> None:
        blocked.mkdir(exist_ok=True)
        real(root, format, blocked, purl_output, name)  # the scanner itself fails: its output is a directory

    return scan



def test_sbom_is_attached_through_the_referrers_tag_and_fetched_back(
        store: pybuildah.Store, busybox: str, tmp_path: Path, plain_registry: Registry) -> None:
    with pybuildah.Builder(busybox, store=store) as b:
        spdx = b.commit("spdx:1", sbom="spdx", sbom_output=tmp_path / "s.json", progress=None)
        cdx = b.commit("cdx:1", sbom="cyclonedx", sbom_output=tmp_path / "c.json", progress=None)
    pushed = {}
    for image, name in ((spdx, "spdx:1"), (cdx, "cdx:1")):
        dest = plain_registry.ref(name)
        digest = image.push(dest, tls_verify=False, attach=["sbom"], progress=None)
        [found] = pybuildah.referrers(dest, store=store, tls_verify=False)
        pushed[name] = found.artifact_type
        data = attestations.fetch(found, subject=f"{plain_registry.ref(name.split(':')[0])}@{digest}",
                                            store=store, tls_verify=False)
        local = (tmp_path / ("s.json" if name == "spdx:1" else "c.json")).read_bytes()
        assert data == local
    assert pushed == {"spdx:1": "application/spdx+json", "cdx:1": "application/vnd.cyclonedx+json"}
