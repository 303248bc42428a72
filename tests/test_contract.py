"""The contract between Go and Python is declared once (in Go) and checked here.

A misspelt error kind or wire field would otherwise fail silently: the
error would arrive as a bare BuildahError, the field as its default.
"""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any, get_args, get_type_hints

import pytest

import pybuildah
from pybuildah import _api, _buildopts, _ffi, errors
from pybuildah._records import Change, ContainerConfig, ContainerInfo, PruneReport, RemovalReport, RunResult
from pybuildah.build import BuildOptions
from pybuildah.manifest import ManifestEntry, ManifestList
from pybuildah.options import RegistryAccess, RegistryOptions
from pybuildah.progress import ProgressEvent

pytestmark = pytest.mark.fast  # ./dev check's quick tier

PACKAGE = Path(pybuildah.__file__).resolve().parent
# Raised by Python alone: never sent by Go.
PYTHON_ONLY = {"ForkError", "InvalidType", "SBOMError"}  # SBOMError: the scanner runs from Python


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
                ManifestEntry, Change):
        assert set(records[cls.__name__]) == {f.name for f in fields(cls)}, cls.__name__


def test_build_steps_from_the_wire_fill_step_records() -> None:
    sent = set(_contract()["records"]["BuildStep"])  # type: ignore[index]
    assert sent - {f.name for f in fields(pybuildah.StepRecord)} == {"cache_hit"}  # read as outcome
    source = inspect.getsource(pybuildah.StepRecord._from_build)
    assert all(f'"{name}"' in source for name in sent), "a BuildStep field that _from_build does not read"


def test_configure_accepts_exactly_the_config_fields_plus_history_notes_and_removals() -> None:
    accepted = set(_contract()["records"]["ConfigChange"])  # type: ignore[index]
    assert accepted == {f.name for f in fields(ContainerConfig)} | {"created_by", "history_comment", "unset_ports",
                                                                      "unset_volumes"}
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
            # _ffi loads the FFI types go/build.py generates (_native) with the library: a tree never
            # built has none, which the first call reports.  That module imports nothing of ours.
            nested += [ast.unparse(n) for n in ast.walk(node)
                       if isinstance(n, ast.ImportFrom) and n.level and n.module != "_native"]
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


def _snake(export: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", export).lower()


# Keywords of _api functions that shape the call, not the request.
_CALL_ONLY = {"should_cancel", "cancellable"}


def _request_keywords(function: Any) -> set[str]:
    """The request fields a pybuildah._api function takes: its keywords, **access/**changes spread out."""
    hints = get_type_hints(function, include_extras=True)
    names = set()
    for name, param in inspect.signature(function).parameters.items():
        if param.kind is inspect.Parameter.KEYWORD_ONLY and name not in _CALL_ONLY:
            names.add(name)
        elif param.kind is inspect.Parameter.VAR_KEYWORD:
            (typed_dict,) = get_args(hints[name])  # Unpack[SomeTypedDict]
            names |= set(typed_dict.__annotations__)
    return names


def test_every_export_has_exactly_one_api_function_taking_its_request_fields() -> None:
    requests = _contract()["requests"]
    assert isinstance(requests, dict)
    assert set(requests) == set(_ffi.EXPORTS)
    functions = {name for name, obj in vars(_api).items()
                 if inspect.isfunction(obj) and not name.startswith("_") and obj.__module__.startswith("pybuildah.")}
    assert functions == {_snake(export) for export in _ffi.EXPORTS}
    for export, names in requests.items():
        function = getattr(_api, _snake(export))
        if export == "Cancel":  # names another call: its id is the request
            assert _request_keywords(function) == set(names) == {"call_id"}
            continue
        assert _request_keywords(function) == set(names) - {"call_id"}, export  # call_cancellable supplies it
        # A request with a call id is cancellable: its function must go through call_cancellable.
        assert ("call_id" in names) == ("call_cancellable" in function.__code__.co_names), export


def test_go_names_the_fields_it_knows_when_refusing_an_unknown_one() -> None:
    # The contract's request fields are what each export really decodes: every
    # export refuses an unknown key (before doing anything) and lists the fields
    # it knows, which must be the contract's.
    requests = _contract()["requests"]
    assert isinstance(requests, dict)
    for export in _ffi.EXPORTS:
        with pytest.raises(errors.InvalidArgument, match=r"unknown .*zz_not_a_field") as caught:
            _ffi.call(export, zz_not_a_field=1)
        message = str(caught.value)
        known = message.partition("known: ")[2]
        if export == "Configure":  # its fields are config fields; the builder handle is not listed
            assert known.split(", ") == [f for f in requests[export] if f != "builder"]
        elif requests[export]:
            assert known.split(", ") == requests[export], export
        else:
            assert "takes none" in message, export


def test_no_model_builds_a_request_by_hand() -> None:
    # Only _api (and _ffi, for loading, cancelling and releasing) names exports.
    exports = "|".join(_ffi.EXPORTS)
    pattern = re.compile(rf"""(_ffi\.call(_cancellable)?|registry_call)\(\s*["']({exports})["']""")
    for path in PACKAGE.rglob("*.py"):
        if path.name in ("_api.py", "_ffi.py"):
            continue
        assert not pattern.search(path.read_text()), path


def test_build_keywords_are_encoded_once_into_exactly_the_go_request() -> None:
    # build()'s options are spelt in its signature (BuildOptions is held to it above);
    # _buildopts.ENCODING is the one map to the Build request, and the Go wire struct
    # (the contract) must take exactly what it, the process and the call send.
    keywords = set(inspect.signature(pybuildah.build).parameters) - {"store", "log", "registry", "access"}
    sbom = {"sbom", "sbom_output", "sbom_image_output", "sbom_purl_output"}  # scanned in Python after the build
    assert set(_buildopts.ENCODING) == keywords - sbom
    sent = {field for field, _ in _buildopts.ENCODING.values()} | set(_buildopts.FROM_PROCESS)
    sent |= set(_api.RegistryWire.__annotations__) | {"store", "stream", "call_id"}
    assert sent == set(_contract()["requests"]["Build"])  # type: ignore[index]
    # ... and the API reference documents every keyword.
    api_md = (PACKAGE.parent / "docs" / "api.md").read_text()
    table = api_md[api_md.index("### `build("):api_md.index("Before the first step runs")]
    documented = set(re.findall(r"`(\w+)`", table.partition("| Parameter |")[2]))
    assert keywords | {"log", "registry"} <= documented, keywords | {"log", "registry"} - documented
