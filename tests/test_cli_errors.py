"""Every CLI error is one line on stderr and a non-zero status, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

MAKE_STORE = """
import sys, pybuildah
with pybuildah.Store(root=sys.argv[1], driver="vfs") as store, pybuildah.Builder("scratch", store=store) as b:
    b.set_label("made-for", "cli-errors")
    b.commit("localhost/cli-bad:1")
"""

IMAGE = "localhost/cli-bad:1"


@pytest.fixture(scope="module")
def cli_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-errors") / "root"
    subprocess.run([sys.executable, "-c", MAKE_STORE, str(root)], check=True, timeout=300)
    return root


def _bad_invocations(root: Path, tmp: Path) -> list[list[str]]:
    store = ["--root", str(root), "--storage-driver", "vfs"]
    return [
        [],
        ["--bogus-flag", "images"],
        ["nosuchcommand"],
        ["images", "--nosuch"],
        ["push"],
        ["pull", "--policy", "sometimes", IMAGE],
        ["build", "--jobs", "many", str(tmp)],
        ["--log-level", "loud", "images"],
        ["--root", "", "images"],
        ["--storage-driver", "", "images"],
        [*store, "push", "--digestfile", "/no/such/dir/digest", IMAGE, f"oci:{tmp}/pushed"],
        [*store, "push", IMAGE, "bogus://x"],
        [*store, "push", "localhost/no-such:1", f"oci:{tmp}/x"],
        [*store, "pull", f"oci-archive:{tmp}/no-such.tar"],
        [*store, "pull", ""],
        [*store, "inspect", "localhost/no-such:1"],
        [*store, "rmi", "localhost/no-such:1"],
        [*store, "tag", IMAGE, ""],
        [*store, "tag", IMAGE, "Not::A//Ref"],
        [*store, "build", "-f", str(tmp / "no-such-Containerfile"), str(tmp)],
        [*store, "build", "-f", str(tmp), str(tmp)],  # a directory where a file is needed
        [*store, "build", str(tmp / "no-such-context")],
        [*store, "build", "--label", "=x", str(tmp)],  # a label without a name
        ["login", "--password-stdin", "127.0.0.1:1"],  # no --username
        ["login", "--username", "u", "--password-stdin", "--authfile", "/no/such/dir/auth.json", "127.0.0.1:1"],
        ["logout", "--authfile", str(tmp / "auth.json")],  # neither a registry nor --all
        ["logout", "--authfile", "", "127.0.0.1:1"],
    ]


def test_bad_invocations_fail_in_one_line(cli_root: Path, tmp_path: Path) -> None:
    (tmp_path / "Containerfile").write_text("FROM scratch\n")
    invocations = _bad_invocations(cli_root, tmp_path)
    assert len(invocations) >= 25
    failures = []
    for args in invocations:
        result = subprocess.run([sys.executable, "-m", "pybuildah", *args], capture_output=True, text=True,
                                input="password\n", timeout=120)
        lines = result.stderr.strip().splitlines()
        one_line = len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in result.stderr
        if result.returncode == 0 or not one_line:
            failures.append((args, result.returncode, result.stderr[-800:]))
    assert not failures, "\n".join(f"{args}: status {code}: {err!r}" for args, code, err in failures)
    assert not (tmp_path / "pushed").exists()  # the bad --digestfile stopped the push before it started
