"""Packaging (issue 27): one version source, a typed package, a licence in the current metadata form."""

from __future__ import annotations

import tomllib
from pathlib import Path

import lsgan_theory

ROOT = Path(__file__).resolve().parents[1]


def test_the_version_is_written_once_in_the_package_and_read_by_the_build():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in meta["project"] and "version" in meta["project"]["dynamic"]
    assert meta["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "lsgan_theory.__version__"}
    assert lsgan_theory.__version__.count(".") == 2


def test_the_package_is_marked_typed_and_ships_the_marker():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert (ROOT / "lsgan_theory" / "py.typed").is_file()
    assert "py.typed" in meta["tool"]["setuptools"]["package-data"]["lsgan_theory"]


def test_the_licence_is_an_spdx_expression_not_a_deprecated_table():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "MIT"
    assert any(r.startswith("setuptools>=77") for r in meta["build-system"]["requires"])  # SPDX strings need 77+
