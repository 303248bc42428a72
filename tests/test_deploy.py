"""deploy/: the manifests pass their engines' own validation, and the runner image builds and pushes in a
simulated pod (a private mount namespace with the pod's volumes, chroot into the runner's root file system)."""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from distribution import BUSYBOX, CACHE, REPO, distribution, prune_cache
from registry import Registry, auth_registry, skopeo  # fixtures are imported by name

import pybuildah

__all__ = ["auth_registry"]

DEPLOY = REPO / "deploy"
JOB = DEPLOY / "kubernetes" / "job.yaml"
TASK = DEPLOY / "tekton" / "task.yaml"
PIPELINE = DEPLOY / "tekton" / "pipeline.yaml"
KUBERNETES_VERSION = "1.33.0"


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict)
    return document


# Kubernetes Job: kubernetes-validate (the API's OpenAPI schemas) ---------------------------------


def k8s_errors(document: dict[str, Any]) -> str | None:
    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return str(exc)
    return None


def test_job_is_a_valid_kubernetes_job() -> None:
    job = load(JOB)
    assert k8s_errors(job) is None
    pod = job["spec"]["template"]["spec"]
    [container] = pod["containers"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/var/lib/containers"]["name"]]
    assert "emptyDir" in volumes[mounts["/var/tmp"]["name"]]
    assert mounts["/var/lib/shared"]["readOnly"] is True
    assert "secret" in volumes[mounts["/run/secrets/registry"]["name"]]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["REGISTRY_AUTH_FILE"].startswith("/run/secrets/registry/")
    assert container["securityContext"]["privileged"] is True


def test_kubernetes_validation_rejects_broken_jobs() -> None:
    job = load(JOB)
    unknown_field = copy.deepcopy(job)
    unknown_field["spec"]["template"]["spec"]["containers"][0]["volumeMount"] = []
    wrong_type = copy.deepcopy(job)
    wrong_type["spec"]["backoffLimit"] = "none"
    no_containers = copy.deepcopy(job)
    del no_containers["spec"]["template"]["spec"]["containers"]
    for broken in (unknown_field, wrong_type, no_containers):
        assert k8s_errors(broken) is not None


# Tekton Task and Pipeline: Tekton's own Go types (deploy/validate) ---------------------------------


@pytest.fixture(scope="session")
def tekton_validator() -> Path:
    """deploy/validate built once per change of its sources (it links Tekton and Kubernetes: minutes)."""
    here = DEPLOY / "validate"
    sources = [*sorted(here.glob("*.go")), here / "go.mod", here / "go.sum"]
    key = hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in sources)).hexdigest()[:16]
    binary = CACHE / "tekton-validate" / key / "validate"
    if not binary.exists():
        binary.parent.mkdir(parents=True, exist_ok=True)
        go = shutil.which("go") or "/usr/local/go/bin/go"
        env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=readonly -buildvcs=false", CGO_ENABLED="0")
        partial = binary.with_suffix(".partial")
        subprocess.run([go, "build", "-trimpath", "-o", str(partial), "."], cwd=DEPLOY / "validate", env=env,
                       check=True, timeout=1800)
        partial.rename(binary)
    return binary


def tekton(validator: Path, *documents: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump_all(documents))
    return subprocess.run([str(validator), str(path)], capture_output=True, text=True, timeout=60)


def test_tekton_task_and_pipeline_are_valid(tekton_validator: Path) -> None:
    result = subprocess.run([str(tekton_validator), str(TASK), str(PIPELINE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{TASK}: 1 valid", f"{PIPELINE}: 1 valid"]
    pipeline = load(PIPELINE)
    assert pipeline["spec"]["tasks"][0]["taskRef"]["name"] == load(TASK)["metadata"]["name"]


def test_tekton_validation_rejects_broken_manifests(tekton_validator: Path, tmp_path: Path) -> None:
    task, pipeline = load(TASK), load(PIPELINE)
    undeclared_param = copy.deepcopy(task)
    undeclared_param["spec"]["steps"][0]["env"][0]["value"] = "$(params.NO_SUCH_PARAM)"
    unknown_field = copy.deepcopy(task)
    unknown_field["spec"]["stepz"] = unknown_field["spec"].pop("steps")
    duplicate_step = copy.deepcopy(task)
    duplicate_step["spec"]["steps"].append(duplicate_step["spec"]["steps"][0])
    missing_workspace = copy.deepcopy(pipeline)
    missing_workspace["spec"]["workspaces"] = missing_workspace["spec"]["workspaces"][:1]
    not_a_task = copy.deepcopy(task)
    not_a_task["kind"] = "Tusk"
    cases = {"NO_SUCH_PARAM": undeclared_param, "stepz": unknown_field, "steps[1].name": duplicate_step,
             "registry-auth": missing_workspace, "Tusk": not_a_task}
    for expected, broken in cases.items():
        result = tekton(tekton_validator, broken, tmp_path=tmp_path)
        assert result.returncode == 1, (expected, result.stdout)
        assert expected in result.stderr, result.stderr
    both = tekton(tekton_validator, task, missing_workspace, tmp_path=tmp_path)  # one bad document of two
    assert both.returncode == 1 and "document 2 (Pipeline)" in both.stderr


# The runner image and a simulated pod ---------------------------------------------------------------

MAKE_SHARED = """
import sys, pybuildah
from pybuildah import bases
with pybuildah.Store(root=sys.argv[1], driver="overlay") as store:
    bases.busybox(store, "localhost/busybox:latest", busybox=sys.argv[2])
"""


@pytest.fixture(scope="session")
def runner_store() -> Iterator[tuple[pybuildah.Store, str]]:
    """A store holding the runner image, built (in another process) once per wheel and build script."""
    wheel = distribution().repaired
    sys.path.insert(0, str(DEPLOY))
    try:
        build_runner = importlib.import_module("build_runner")  # deploy/build_runner.py, a script
    finally:
        sys.path.remove(str(DEPLOY))
    inputs = [hashlib.sha256(wheel.read_bytes()).hexdigest(), hashlib.sha256(
        (DEPLOY / "build_runner.py").read_bytes()).hexdigest(), build_runner.rootfs_key(build_runner.apt_mirror(),
                                                                                          build_runner.SUITE)]
    home = CACHE / "runner" / ("store-" + hashlib.sha256("".join(inputs).encode()).hexdigest()[:16])
    if not (home / "done").exists():
        shutil.rmtree(home, ignore_errors=True)
        subprocess.run([sys.executable, str(DEPLOY / "build_runner.py"), "--wheel", str(wheel), "--root",
                        str(home / "root"), "--cache-dir", str(CACHE / "runner")], check=True, timeout=1200)
        (home / "done").write_text(wheel.name)
    prune_cache(CACHE / "runner", "store-*", keep=home)
    with pybuildah.Store(root=home / "root", driver="overlay") as store:
        yield store, build_runner.DEFAULT_TAG


def tree_state(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under root: (size, mtime_ns, sha256)."""
    state = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            st = path.stat()
            state[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns,
                                                  hashlib.sha256(path.read_bytes()).hexdigest())
    return state


def test_runner_image(runner_store: tuple[pybuildah.Store, str]) -> None:
    store, tag = runner_store
    image = store.image(tag)
    assert image.config.entrypoint == ["pybuildah"]
    assert image.config.env["BUILDAH_ISOLATION"] == "chroot"
    assert 100e6 < image.size < 600e6, image.size
    print(f"runner image: {image.size / 1e6:.0f} MB")


def test_job_builds_and_pushes_in_a_simulated_pod(runner_store: tuple[pybuildah.Store, str], tmp_path: Path,
                                                 auth_registry: Registry) -> None:
    """The Job's own container spec (command, env, volume mounts) run in the runner's root file system."""
    store, tag = runner_store
    assert auth_registry.username and auth_registry.password
    job = load(JOB)
    pod = job["spec"]["template"]["spec"]
    [container] = pod["containers"]

    # The pod's volumes, as the kubelet would provide them.
    shared = tmp_path / "shared-images"
    subprocess.run([sys.executable, "-c", MAKE_SHARED, str(shared), BUSYBOX], check=True)
    secret = tmp_path / "registry-auth"
    [item] = next(v for v in pod["volumes"] if v["name"] == "registry-auth")["secret"]["items"]
    pybuildah.login(auth_registry.host, auth_registry.username, auth_registry.password,
                    authfile=secret / item["path"], tls_verify=False)
    source = tmp_path / "source"
    source.mkdir()
    (source / "Containerfile").write_text(
        "FROM localhost/busybox:latest\nRUN echo built-in-the-pod > /stamp\nCMD [\"cat\", \"/stamp\"]\n")
    host_dirs = {"build-store": tmp_path / "build-store", "tmp": tmp_path / "tmp", "shared-images": shared,
                 "registry-auth": secret, "source": source}
    for path in host_dirs.values():
        path.mkdir(exist_ok=True)
    assert {v["name"] for v in pod["volumes"]} == set(host_dirs)
    shared_before = tree_state(shared)
    assert any(name.startswith("overlay-images/") for name in shared_before)

    dest = auth_registry.ref("deploy/app:1.0.0")
    env = {e["name"]: e["value"] for e in container["env"]}
    env.update(IMAGE=dest, TLS_VERIFY="false", PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               HOME="/root")
    command = [*container["command"], *container["args"]]

    with pybuildah.Builder(tag, store=store, pull="never") as runner, runner.mount() as rootfs:
        lines = ["set -eu"]
        for mount in container["volumeMounts"]:
            target = f"{rootfs}{mount['mountPath']}"
            lines.append(f"mkdir -p {shlex.quote(target)}")
            lines.append(f"mount --bind {shlex.quote(str(host_dirs[mount['name']]))} {shlex.quote(target)}")
            if mount.get("readOnly"):
                lines.append(f"mount -o remount,bind,ro {shlex.quote(target)}")
        lines += [f"mount -t proc proc {rootfs}/proc", f"mount --rbind /dev {rootfs}/dev",
                  f"mount --rbind /sys {rootfs}/sys",
                  # prove the shared store really is read-only in there
                  f"! touch {rootfs}/var/lib/shared/written 2>/dev/null",
                  "exec chroot " + shlex.quote(str(rootfs)) + " /usr/bin/env -i "
                  + " ".join(shlex.quote(f"{k}={v}") for k, v in env.items()) + " "
                  + " ".join(shlex.quote(word) for word in command)]
        started = time.monotonic()
        result = subprocess.run(["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", "\n".join(lines)],
                                capture_output=True, text=True, timeout=600)
        elapsed = time.monotonic() - started
    print(f"simulated pod: build and push in {elapsed:.1f} s")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"pushed {dest}@sha256:" in result.stdout
    digest = result.stdout.strip().splitlines()[-1].split("@", 1)[1]

    authfile = str(secret / item["path"])
    remote = json.loads(skopeo("inspect", "--tls-verify=false", "--authfile", authfile, f"docker://{dest}"))
    assert remote["Digest"] == digest
    config = json.loads(skopeo("inspect", "--config", "--tls-verify=false", "--authfile", authfile,
                               f"docker://{dest}"))
    assert config["config"]["Cmd"] == ["cat", "/stamp"]
    assert tree_state(shared) == shared_before  # the shared store was only read
    assert list((tmp_path / "build-store").iterdir()) == []  # the per-build store is gone
    assert auth_registry.password not in result.stdout + result.stderr
