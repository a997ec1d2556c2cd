"""The layering of docs/design.md is kept: every import of every module goes down (or sideways), never up, and never
reaches a private name of another unit.  The negative controls feed the checker an upward import and a private one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import lsgan_theory
from lsgan_theory.layers import LAYERS, UNIT_ALIASES, layer_of

ROOT = Path(lsgan_theory.__file__).parent


def _unit(module: str) -> str | None:
    """'lsgan_theory.ensemble.trainer' -> 'ensemble'; the root package -> None."""
    parts = module.split(".")
    if parts[0] != "lsgan_theory" or len(parts) == 1:
        return None
    return UNIT_ALIASES.get(parts[1], parts[1])


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def violations(module: str, source: str, is_pkg: bool = False) -> list[str]:
    """Every upward import and every use of another unit's private name in ``source`` (the code of ``module``)."""
    me = _unit(module)
    if me is None:  # the root package: the curated, lazy public face
        return []
    my_layer = layer_of(me)
    out = []
    aliases: dict[str, str] = {}  # local name -> lsgan_theory module it is bound to
    tree = ast.parse(source)

    def check_target(target: str, name: str | None, lineno: int):
        unit = _unit(target)
        if target == "lsgan_theory":
            if name is None or name == "__version__":
                return
            sub = UNIT_ALIASES.get(name, name)
            try:
                layer_of(sub)
            except KeyError:
                out.append(f"{module}:{lineno} imports {name!r} from the package root (use its module)")
                return
            unit, target = sub, f"lsgan_theory.{name}"
            name = None
        if unit is None:
            return
        try:
            their = layer_of(unit)
        except KeyError:
            out.append(f"{module}:{lineno} imports {target}, which is not in lsgan_theory.layers.LAYERS")
            return
        if their > my_layer:
            out.append(f"{module}:{lineno} ({LAYERS[my_layer][0]}) imports {target} ({LAYERS[their][0]}): upward")
        if unit != me:
            private_mod = any(p.startswith("_") and not p.startswith("__") for p in target.split(".")[2:])
            if private_mod or (name is not None and name.startswith("_") and not name.startswith("__")):
                out.append(f"{module}:{lineno} uses private {target}{'.' + name if name else ''} of unit {unit!r}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("lsgan_theory"):
                    check_target(a.name, None, node.lineno)
                    aliases[a.asname or a.name] = a.name
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_pkg, node)
            if not target.startswith("lsgan_theory"):
                continue
            for a in node.names:
                sub = f"{target}.{a.name}"
                is_module = (ROOT.parent / Path(*sub.split("."))).with_suffix(".py").exists() or \
                    (ROOT.parent / Path(*sub.split("."))).is_dir()
                if is_module:
                    check_target(sub, None, node.lineno)
                    aliases[a.asname or a.name] = sub
                else:
                    check_target(target, a.name, node.lineno)
    for node in ast.walk(tree):  # attribute access to a private name of another unit's module: mod._name
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            target = aliases[node.value.id]
            if node.attr.startswith("_") and not node.attr.startswith("__") and _unit(target) != me:
                out.append(f"{module}:{node.lineno} uses private {target}.{node.attr} of unit {_unit(target)!r}")
    return out


def _all_modules():
    for path in sorted(ROOT.rglob("*.py")):
        yield _module_name(path), path


def test_every_module_is_in_a_layer():
    units = {UNIT_ALIASES.get(n.split(".")[1], n.split(".")[1]) for n, _ in _all_modules() if n.count(".") >= 1}
    for u in units:
        layer_of(u)  # KeyError names a module missing from LAYERS


def test_no_module_imports_upward_or_a_private_name_of_another_unit():
    found = []
    for name, path in _all_modules():
        found += violations(name, path.read_text(), path.name == "__init__.py")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("source, expect", [
    ("from ..claims import git_revision", "upward"),                       # engine -> report
    ("from ..plots import save", "upward"),                                # engine -> report, relative
    ("import lsgan_theory.cli", "upward"),                                 # absolute form
    ("def f():\n    from ..studies import runs", "upward"),                # lazy import inside a function
    ("from .. import losses as L\nL._all_pairs_hinge_mean", "private"),  # attribute access to a private name
    ("from ..losses import _tensor", "private"),                           # private name imported
    ("from ..symbolic import _limits", "private"),                         # private module of another unit
])
def test_checker_rejects_upward_and_private_imports(source, expect):
    # negative control: the checker is not vacuous -- each of these, placed in the trainer, is reported
    found = violations("lsgan_theory.ensemble.trainer", source)
    assert found and expect in found[0], found


def test_checker_accepts_downward_and_internal_imports():
    ok = "from .. import densities\nfrom . import mlp as _mlp\n_mlp._private_helper\nfrom .. import __version__"
    assert violations("lsgan_theory.ensemble.trainer", ok) == []
