"""The contract between Go and Python is declared once (in Go) and checked here.

A misspelt error kind or wire field would otherwise fail silently: the
error would arrive as a bare BuildahError, the field as its default.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

import pybuildah
from pybuildah import _ffi, errors
from pybuildah._records import ContainerConfig, ContainerInfo, PruneReport, RemovalReport, RunResult
from pybuildah.build import BuildOptions
from pybuildah.manifest import ManifestEntry, ManifestList
from pybuildah.options import RegistryAccess, RegistryOptions
from pybuildah.progress import ProgressEvent

pytestmark = pytest.mark.fast  # ./dev check's quick tier

PACKAGE = Path(pybuildah.__file__).resolve().parent
# Raised by Python alone: never sent by Go.
PYTHON_ONLY = {"ForkError", "InvalidType"}


def _contract() -> dict[str, object]:
    contract: dict[str, object] = _ffi.call("Contract")
    return contract


def test_every_go_error_kind_has_its_exception_class() -> None:
    kinds = set(_contract()["error_kinds"])  # type: ignore[call-overload]
    classes = {name for name, obj in vars(errors).items()
               if inspect.isclass(obj) and issubclass(obj, errors.BuildahError)}
    assert kinds <= classes, f"Go kinds without a Python class: {kinds - classes}"
    assert classes - PYTHON_ONLY <= kinds, f"Python classes Go never sends: {classes - PYTHON_ONLY - kinds}"
    for kind in kinds:
        assert type(errors.from_wire({"kind": kind, "message": "m"})).__name__ == kind


def test_kinds_that_carry_an_errno_are_os_errors_and_receive_it() -> None:
    errno_kinds = set(_contract()["errno_kinds"])  # type: ignore[call-overload]
    assert errno_kinds == {"StoreError"}
    for kind in errno_kinds:
        exc = errors.from_wire({"kind": kind, "message": "m", "errno": 28})
        assert isinstance(exc, OSError) and exc.errno == 28 and str(exc) == "m"


def test_wire_records_match_the_python_dataclasses() -> None:
    records = _contract()["records"]
    assert isinstance(records, dict)
    for cls in (ContainerConfig, ContainerInfo, RunResult, RemovalReport, PruneReport, ProgressEvent, ManifestList,
                ManifestEntry):
        assert set(records[cls.__name__]) == {f.name for f in fields(cls)}, cls.__name__


def test_configure_accepts_exactly_the_config_fields_plus_history_notes() -> None:
    accepted = set(_contract()["records"]["ConfigChange"])  # type: ignore[index]
    assert accepted == {f.name for f in fields(ContainerConfig)} | {"created_by", "history_comment"}
    docstring = " ".join((pybuildah.Builder.configure.__doc__ or "").split())
    for name in accepted:
        assert name in docstring, f"configure() does not document {name}"


def test_registry_keywords_are_the_fields_of_registry_options() -> None:
    assert set(RegistryAccess.__annotations__) == {f.name for f in fields(RegistryOptions)}


def test_build_overloads_take_exactly_the_keywords_of_build() -> None:
    # The overloads that type build()'s result spell its keywords once, as BuildOptions.
    keywords = {name: param for name, param in inspect.signature(pybuildah.build).parameters.items()
                if param.kind is inspect.Parameter.KEYWORD_ONLY and name != "manifest"}
    typed = {name: getattr(hint, "__forward_arg__", hint) for name, hint in BuildOptions.__annotations__.items()}
    assert set(typed) == set(keywords) | set(RegistryAccess.__annotations__)
    assert {name: typed[name] for name in keywords} == {name: p.annotation for name, p in keywords.items()}


def test_buildah_version_is_the_pinned_module() -> None:
    go_mod = (PACKAGE.parent / "go" / "go.mod").read_text()
    assert f"go.podman.io/buildah v{pybuildah.buildah_version()}" in go_mod


def _imports(path: Path, modules: set[str]) -> tuple[set[str], list[str]]:
    """The package modules a module imports at any level, and the imports made inside functions.

    ``from . import x`` imports the submodule x, or, when x is a name and not a module, the
    package's own ``__init__``; ``importlib.import_module`` of the package's modules counts as
    a nested import, since it hides an edge from this graph.
    """
    tree = ast.parse(path.read_text())
    package = "pybuildah" + ("" if path.parent == PACKAGE else "." + path.parent.name)
    found: set[str] = set()
    nested: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            if node.module:
                found.add(f"{base}.{node.module}")
            else:  # from . import x: the submodule x, or a name defined in the package itself
                found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names)
        elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith("import_module"):
            target = node.args[0] if node.args else None
            if not (isinstance(target, ast.Constant) and not str(target.value).startswith(("pybuildah", "."))):
                nested.append(ast.unparse(node))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            nested += [ast.unparse(n) for n in ast.walk(node)
                       if isinstance(n, ast.ImportFrom) and n.level]
    return found, nested


def test_the_package_has_no_import_cycle_and_no_function_level_imports() -> None:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(part for part in relative.parts if part != "__init__")
        modules[name] = path
    graph = {}
    for name, path in modules.items():
        imported, nested = _imports(path, set(modules))
        assert not nested, f"{name} imports inside a function: {nested}"
        graph[name] = {m for m in imported if m in modules and m != name}
    # pybuildah/__init__ re-exports everything; it may import anything, nothing may import it.
    for name, targets in graph.items():
        assert "pybuildah" not in targets, name
    graph.pop("pybuildah")
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join([*trail, node, nxt])
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


def test_cli_version_names_both_versions() -> None:
    out = subprocess.run([sys.executable, "-m", "pybuildah", "--version"], capture_output=True, text=True,
                         check=True, timeout=60).stdout.strip()
    assert out == f"pybuildah {pybuildah.__version__} (Buildah {pybuildah.buildah_version()})"
    assert pybuildah.__version__ != "0+unknown"
