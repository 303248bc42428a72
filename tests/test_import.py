"""What `import pybuildah` loads, checked structurally in fresh interpreters (no timings here:
the figures are bench/bench_steps.py's).  The C declarations come from the module go/build.py
generated (nothing parses C at run time), the version is read when first asked for, and modules
only rare paths need are imported on those paths."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import pybuildah
from pybuildah import _cdef, _ffi

pytestmark = pytest.mark.fast  # ./dev check's quick tier

PACKAGE = Path(pybuildah.__file__).resolve().parent
# Loaded by `import pybuildah` only for a reason it no longer has: C parsing (pycparser, cffi's
# parser), package metadata (importlib.metadata, email), the rootless re-exec (ctypes,
# subprocess), SBOM scans and build scratch files (tempfile, shutil), digests (hashlib) and
# Jupyter's HTML (html).  cffi's backend is loaded with the library, on the first call.
NOT_AT_IMPORT = ("pycparser", "cffi", "_cffi_backend", "importlib.metadata", "email", "ctypes", "subprocess",
                 "tempfile", "shutil", "hashlib", "html")


def env_without_overrides() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PYBUILDAH_")}


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running code (then printing sys.modules)."""
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
                         check=True, capture_output=True, text=True, env=env_without_overrides(), timeout=120).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_import_parses_no_c_reads_no_metadata_and_skips_rare_paths_modules() -> None:
    started_with = modules_after("")  # what the interpreter (site, sitecustomize) loads by itself
    loaded = modules_after("import pybuildah") - started_with
    assert "pybuildah.builder" in loaded  # the probe does see pybuildah's own imports
    unwanted = sorted(m for m in loaded if m in NOT_AT_IMPORT or m.startswith(tuple(f"{n}." for n in NOT_AT_IMPORT)))
    assert unwanted == []


def test_the_version_is_read_on_first_access() -> None:
    loaded = modules_after("import pybuildah\nassert pybuildah.__version__")
    assert "importlib.metadata" in loaded
    assert pybuildah.__version__ == metadata.version("pybuildah")
    assert "__version__" in dir(pybuildah)
    from pybuildah import __version__
    from pybuildah._version import __version__ as same

    assert __version__ == same == pybuildah.__version__
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        pybuildah.no_such_name  # type: ignore[attr-defined]  # noqa: B018


def test_the_generated_types_are_made_from_this_trees_declarations() -> None:
    from pybuildah._native import _ffi_types

    assert _ffi_types.CDEF == _cdef.CDEF
    assert Path(_ffi_types.__file__).resolve() == _ffi.TYPES_PATH
    assert pybuildah.buildah_version()  # calls work through them, events too (test_logging)


def copy_of_package(tmp_path: Path, *, types: str | None) -> Path:
    """A copy of the package whose _native links to the real library and helpers, with types= as _ffi_types.py."""
    copy = tmp_path / "pybuildah"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("_native", "__pycache__"))
    (copy / "_native").mkdir()
    for name in ("libpybuildah.so", "pybuildah-helper", "pybuildah-light-helper"):
        (copy / "_native" / name).symlink_to(PACKAGE / "_native" / name)
    if types is not None:
        (copy / "_native" / "_ffi_types.py").write_text(types)
    return tmp_path


def first_call_error(tree: Path) -> str:
    probe = ("import pybuildah\n"
             f"assert pybuildah.__file__.startswith({str(tree)!r}), pybuildah.__file__\n"
             "try:\n"
             "    pybuildah.buildah_version()\n"
             "except pybuildah.BuildahError as error:\n"
             "    print(type(error).__name__, error)\n")
    env = dict(env_without_overrides(), PYTHONPATH=str(tree))
    return subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True, cwd=tree,
                          env=env, timeout=120).stdout


def test_a_tree_without_the_generated_types_says_its_native_parts_are_missing(tmp_path: Path) -> None:
    said = first_call_error(copy_of_package(tmp_path, types=None))
    assert said.startswith("BuildahError pybuildah's native parts are missing (_ffi_types.py in ")
    assert "pip install ." in said


def test_types_made_from_other_declarations_are_refused(tmp_path: Path) -> None:
    generated = _ffi.TYPES_PATH.read_text()
    older = _cdef.CDEF.replace("char *PyBuildahVersion(char *options);\n", "")
    assert older != _cdef.CDEF
    stale = generated.replace(f"CDEF = {_cdef.CDEF!r}", f"CDEF = {older!r}")
    assert stale != generated
    said = first_call_error(copy_of_package(tmp_path, types=stale))
    assert said.startswith("BuildahError pybuildah's native parts are out of date (_ffi_types.py in ")
