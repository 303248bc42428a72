"""examples/ci_build.py end to end: fresh store on a volume, read-only base store, mounted auth file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from registry import Registry, auth_registry, skopeo  # fixtures are imported by name

import pybuildah

__all__ = ["auth_registry"]

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "ci_build.py"


def test_ci_build_pushes_with_mounted_auth_file(tmp_path: Path, base_store_root: Path,
                                                auth_registry: Registry) -> None:
    assert auth_registry.username and auth_registry.password
    authfile = tmp_path / "secret" / "auth.json"
    pybuildah.login(auth_registry.host, auth_registry.username, auth_registry.password,
                    authfile=authfile, tls_verify=False)
    context = tmp_path / "context"
    context.mkdir()
    (context / "Containerfile").write_text(
        "FROM localhost/busybox:latest\nRUN echo from-ci > /stamp\nCMD [\"cat\", \"/stamp\"]\n")
    volume = tmp_path / "volume"
    dest = auth_registry.ref("ci/app:1.4.2")
    env = dict(os.environ, PYTHONPATH=str(Path(pybuildah.__file__).parent.parent))
    env.pop("REGISTRY_AUTH_FILE", None)
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), str(context), "--dest", dest, "--volume", str(volume),
         "--base-store", str(base_store_root), "--authfile", str(authfile), "--no-tls-verify"],
        capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    digest = result.stdout.strip().splitlines()[-1]
    assert any(line.startswith("| ") and "RUN echo from-ci" in line for line in result.stdout.splitlines())
    remote = json.loads(skopeo("inspect", "--tls-verify=false", "--authfile", str(authfile), f"docker://{dest}"))
    assert remote["Digest"] == digest
    config = json.loads(skopeo("inspect", "--config", "--tls-verify=false", "--authfile", str(authfile),
                               f"docker://{dest}"))
    assert config["config"]["Cmd"] == ["cat", "/stamp"]
    assert list(volume.iterdir()) == []  # the per-build store was removed
    assert auth_registry.password not in result.stdout + result.stderr


def test_ci_build_without_credentials_fails_cleanly(tmp_path: Path, base_store_root: Path,
                                                    auth_registry: Registry) -> None:
    context = tmp_path / "context"
    context.mkdir()
    (context / "Containerfile").write_text("FROM localhost/busybox:latest\n")
    empty_auth = tmp_path / "auth.json"
    empty_auth.write_text("{}")
    env = dict(os.environ, PYTHONPATH=str(Path(pybuildah.__file__).parent.parent))
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), str(context), "--dest", auth_registry.ref("ci/denied:1"),
         "--volume", str(tmp_path / "volume"), "--base-store", str(base_store_root),
         "--authfile", str(empty_auth), "--no-tls-verify"],
        capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert "authentication" in result.stderr.lower() or "unauthorized" in result.stderr.lower()
