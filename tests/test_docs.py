"""The docs site builds with `mkdocs build --strict`, and every Python example in the tutorials runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from registry import Registry, auth_registry, skopeo  # fixtures are imported by name

import pybuildah

__all__ = ["auth_registry"]

REPO = Path(__file__).resolve().parent.parent
TUTORIALS = sorted((REPO / "docs" / "tutorials").glob("*.md"))
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
PENDING: set[str] = set()  # pages whose examples cannot run here yet


def python_blocks(page: Path) -> list[str]:
    return PYTHON_BLOCK.findall(page.read_text())


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                            cwd=REPO, capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    for page in TUTORIALS:
        assert (site / "tutorials" / page.stem / "index.html").is_file(), page.name
    reference = (site / "reference" / "index.html").read_text()
    # mkdocstrings rendered the public API from the docstrings
    for name in ("pybuildah.Builder", "pybuildah.Store", "pybuildah.build.build", "pybuildah.BuildError",
                 "pybuildah.bases.busybox"):
        assert f'id="{name}"' in reference, name
    first_line = (pybuildah.Builder.run.__doc__ or "").strip().splitlines()[0]
    assert first_line.split("(")[0] in reference


def test_every_tutorial_has_runnable_examples() -> None:
    assert len(TUTORIALS) == 10
    for page in TUTORIALS:
        if page.name not in PENDING:
            assert python_blocks(page), f"{page.name} has no python example"


@pytest.mark.parametrize("page", [p for p in TUTORIALS if p.name not in PENDING], ids=lambda p: p.stem)
def test_tutorial_examples_run(page: Path, tmp_path: Path, auth_registry: Registry) -> None:
    """A page's python blocks, in order, as one script: what a reader pasting them would run."""
    assert auth_registry.username and auth_registry.password
    authfile = tmp_path / "auth.json"
    pybuildah.login(auth_registry.host, auth_registry.username, auth_registry.password,
                    authfile=authfile, tls_verify=False)
    script = tmp_path / f"{page.stem}.py"
    script.write_text("\n\n".join(python_blocks(page)))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = dict(os.environ, TMPDIR=str(scratch), REGISTRY=auth_registry.host, REGISTRY_AUTH_FILE=str(authfile),
               TLS_VERIFY="false")
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, f"{page.name}\n{result.stdout}\n{result.stderr}"
    if page.stem == "supply-chain":  # each refusal happened, and only those
        assert result.stdout.count("refused:") == 2 and "verified True" in result.stdout, result.stdout
        assert "the build refused its unsigned base" in result.stdout and "images stored: 1" in result.stdout
        assert "SPDX-2.3 [('pip', '" in result.stdout and "pkg:pypi/pip@" in result.stdout, result.stdout
    if page.stem == "ci-kubernetes-tekton":
        digest = result.stdout.split("pushed ", 1)[1].split()[1]
        remote = json.loads(skopeo("inspect", "--tls-verify=false", "--authfile", str(authfile),
                                   f"docker://{auth_registry.host}/tutorial/app:1.0"))
        assert remote["Digest"] == digest
