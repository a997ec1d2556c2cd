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


def _shipped(rel: str, globs: list[str]) -> bool:
    from fnmatch import fnmatch

    return any(fnmatch(rel, g) for g in globs)


def test_every_data_file_of_the_package_is_listed_as_package_data():
    # issue 31: statement data moved out of the code (proofs/statements.toml); a file the package reads at run time
    # but the wheel leaves out works in a checkout and fails after `pip install`
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["lsgan_theory"]
    pkg = ROOT / "lsgan_theory"
    data = [f.relative_to(pkg).as_posix() for f in pkg.rglob("*") if f.is_file() and f.suffix not in (".py", ".pyc")
            and "__pycache__" not in f.parts]
    assert "proofs/statements.toml" in data
    assert [f for f in data if not _shipped(f, globs)] == []
    assert not _shipped("proofs/statements.json", globs)  # negative control: the check is not vacuous
