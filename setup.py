"""Builds the Go shim (a c-shared library and its re-exec helper) into the package.

The Go toolchain work lives in go/build.py; this file only hooks it into
setuptools, so that `pip install .`, `pip install -e .` and `pip wheel .`
all produce pybuildah/_native/{libpybuildah.so,pybuildah-helper}.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def _go_build_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("_pybuildah_go_build", ROOT / "go" / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NATIVE_FILES = ("libpybuildah.so", "pybuildah-helper", "pybuildah-light-helper", "pybuildah-sbomscan", "_ffi_types.py")


class GoSharedLibrary(Extension):
    """A placeholder extension so that wheels are tagged as platform wheels."""

    def __init__(self) -> None:
        super().__init__("pybuildah._native.libpybuildah", sources=[])


class BuildGo(build_ext):
    """Run go/build.py instead of compiling C sources."""

    def run(self) -> None:
        for ext in self.extensions:
            target = Path(self.get_ext_fullpath(ext.name)).resolve().parent
            _go_build_module().build(target)

    def get_outputs(self) -> list[str]:
        outputs = []
        for ext in self.extensions:
            target = Path(self.get_ext_fullpath(ext.name)).parent
            outputs += [str(target / name) for name in NATIVE_FILES]
        return outputs


class PlatformWheel(bdist_wheel):
    """Tag wheels py3-none-<platform>: the Go library is loaded with cffi's dlopen, not
    as a CPython extension, so one wheel serves every Python 3.11+ on the platform."""

    def get_tag(self) -> tuple[str, str, str]:
        return "py3", "none", super().get_tag()[2]


setup(ext_modules=[GoSharedLibrary()], cmdclass={"build_ext": BuildGo, "bdist_wheel": PlatformWheel})
