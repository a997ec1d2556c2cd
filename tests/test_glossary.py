"""The glossary of docs/modules.md is the one vocabulary (issue 31): every public signature and dataclass field, every
CLI flag and every spec key calls the margin scale τ ``tau`` and the norm of the margin ``margin_kind`` -- one name
each, no aliases; ``margin`` names only the Δ tensor (an equivalence margin is ``delta``); and every name of the
glossary is in use somewhere in those places, so a stale row fails.  The negative controls feed the checkers a
straggler of each kind."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import lsgan_theory

ROOT = Path(lsgan_theory.__file__).resolve().parents[1]
NORMS = ("l1", "l2")
#: modules where a parameter called ``scale`` is another quantity than τ (and why)
OTHER_SCALE = {"lsgan_theory.densities": "the standard deviation σ of a normal density",
               "lsgan_theory.symbolic": "the factor of a derivation's identified divergence"}


def glossary() -> dict[str, str]:
    """name -> meaning, from the table under '### Glossary' of docs/modules.md."""
    text = (ROOT / "docs" / "modules.md").read_text(encoding="utf-8")
    section = text.split("### Glossary", 1)[1].split("\n## ", 1)[0]
    out = {}
    for names, meaning in re.findall(r"^\| (`[^|]+`) \| ([^|]+) \|$", section, flags=re.M):
        for name in re.findall(r"`([^`]+)`", names):
            out[name] = meaning.strip()
    return out


def _public_objects():
    """(module name, qualified name, object) of every function and class in the ``__all__`` of every public module
    (the root's modules and their public submodules, recursively)."""
    mods = {}
    todo = [getattr(lsgan_theory, n) for n in lsgan_theory.__all__ if inspect.ismodule(getattr(lsgan_theory, n, None))]
    while todo:
        m = todo.pop()
        if m.__name__ in mods:
            continue
        mods[m.__name__] = m
        if hasattr(m, "__path__"):
            todo += [importlib.import_module(f"{m.__name__}.{s.name}") for s in pkgutil.iter_modules(m.__path__)
                     if not s.name.startswith("_")]
    seen = set()
    for name, m in sorted(mods.items()):
        for n in getattr(m, "__all__", ()):
            obj = getattr(m, n, None)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and id(obj) not in seen:
                seen.add(id(obj))
                yield name, f"{name}.{n}", obj


def _parameters(obj) -> list[tuple[str, object, object]]:
    """(name, annotation, default) of a callable's parameters and a dataclass's fields."""
    out = []
    if inspect.isclass(obj) and dataclasses.is_dataclass(obj):
        out += [(f.name, f.type, f.default) for f in dataclasses.fields(obj)]
    try:
        out += [(p.name, p.annotation, p.default) for p in inspect.signature(obj).parameters.values()]
    except (TypeError, ValueError):  # a builtin without a signature
        pass
    return out


def stragglers(module: str, qualname: str, params) -> list[str]:
    """The parameters that name τ or the margin's norm otherwise than the glossary."""
    out = []
    for name, ann, default in params:
        where = f"{qualname}({name}=)"
        if name == "margin_scale" or (name == "scale" and not any(module.startswith(m) for m in OTHER_SCALE)):
            out.append(f"{where}: the margin scale is called tau")
        if name == "margin" and (ann in (str, "str") or isinstance(default, str)):
            out.append(f"{where}: a norm; 'margin' is the Δ tensor, the norm is called margin_kind")
        elif name == "margin" and not _is_tensor(ann):
            out.append(f"{where}: annotated {ann!r}; 'margin' is only the Δ tensor (an equivalence margin is delta)")
        if isinstance(default, str) and default in NORMS and name != "margin_kind":
            out.append(f"{where}: defaults to a norm, so it is called margin_kind")
    return out


def _is_tensor(ann) -> bool:
    """Whether an annotation names a tensor or an array (the Δ of ``margin``)."""
    text = ann if isinstance(ann, str) else getattr(ann, "__name__", repr(ann))
    return ann is not inspect.Parameter.empty and any(k in text for k in ("Tensor", "ndarray", "ArrayLike"))


def unused_rows(names: dict, used: set) -> list[str]:
    """The glossary names that no public signature, dataclass field, CLI flag (its dest) or spec key uses."""
    return sorted(n for n in names if n not in used)


def _used_names() -> set:
    """Every parameter/field name of the public walk, every CLI option's dest and every sweep-spec train key."""
    from lsgan_theory.cli import build_parser
    from lsgan_theory.sweeps.spec import TRAIN_KEYS

    used = {n for _, _, obj in _public_objects() for n, _, _ in _parameters(obj)}
    used |= {a.dest for _, a in _options(build_parser())}
    return used | set(TRAIN_KEYS)


def _options(parser: argparse.ArgumentParser, path=()):
    """(command path, option action) of every option of ``parser`` and its subcommands."""
    for a in parser._actions:  # private: argparse lists its actions only here
        if isinstance(a, argparse._SubParsersAction):  # private: the class of a subcommand action
            for name, sub in a.choices.items():
                yield from _options(sub, path + (name,))
        elif a.option_strings:
            yield path, a


def flag_stragglers(parser) -> list[str]:
    out = []
    for path, a in _options(parser):
        where = f"{' '.join(path)} {'/'.join(a.option_strings)}"
        longs = [o for o in a.option_strings if o.startswith("--")]
        if {"--scale", "--margin", "--margin-scale"} & set(longs):
            out.append(f"{where}: the glossary's flags are --tau and --margin-kind")
        if a.choices is not None and set(NORMS) <= set(a.choices) and (longs != ["--margin-kind"]
                                                                        or a.dest != "margin_kind"):
            out.append(f"{where}: a norm of the margin is given as --margin-kind")
        if "margin scale" in (a.help or "") and (longs != ["--tau"] or a.dest != "tau"):
            out.append(f"{where}: the margin scale is given as --tau")
    return out


def test_the_glossary_defines_one_name_for_the_margin_scale_and_one_for_its_norm():
    g = glossary()
    assert "margin scale" in g["tau"] and "norm of the margin" in g["margin_kind"] and "Δ" in g["margin"]
    assert not [n for n in g if n in ("scale", "margin_scale")]


def test_public_signatures_and_dataclass_fields_use_the_glossary_names():
    objs = list(_public_objects())
    names = {q for _, q, _ in objs}
    # the walk reaches the places the margin lives (else the test could pass vacuously)
    assert {"lsgan_theory.nonparametric.solve", "lsgan_theory.losses.margin_matrix", "lsgan_theory.ensemble.TrainConfig",
            "lsgan_theory.nonparametric.Solution", "lsgan_theory.studies.allocation_on_demand"} <= names
    bad = [s for mod, q, obj in objs for s in stragglers(mod, q, _parameters(obj))]
    assert bad == []
    uses = {(q, n) for _, q, obj in objs for n, _, _ in _parameters(obj) if n in ("tau", "margin_kind")}
    assert len(uses) > 20  # the names are in use, not merely absent under other spellings


def test_cli_flags_use_the_glossary_names():
    from lsgan_theory.cli import build_parser

    parser = build_parser()
    assert flag_stragglers(parser) == []
    flags = {(p, o) for p, a in _options(parser) for o in a.option_strings}
    assert {(("train",), "--tau"), (("bounds",), "--tau"), (("bounds",), "--margin-kind")} <= flags


def test_spec_keys_use_the_glossary_names():
    from lsgan_theory.ensemble import TrainConfig
    from lsgan_theory.sweeps.spec import TRAIN_KEYS

    assert "tau" in TRAIN_KEYS and not {"scale", "margin_scale", "margin"} & set(TRAIN_KEYS)
    assert set(TRAIN_KEYS) <= {f.name for f in dataclasses.fields(TrainConfig)}  # spec keys are the field names


def test_every_glossary_name_is_in_use():
    g = glossary()
    assert len(g) >= 20 and {"n", "m", "delta", "margin"} <= set(g)  # the table was read
    assert unused_rows(g, _used_names()) == []


def test_margin_names_only_the_delta_tensor():
    objs = list(_public_objects())
    uses = [(q, ann) for _, q, obj in objs for n, ann, _ in _parameters(obj) if n == "margin"]
    assert len(uses) >= 5 and all(_is_tensor(a) for _, a in uses)  # in use, and only as Δ
    from lsgan_theory.studies.stats import tost

    assert "delta" in inspect.signature(tost).parameters


def test_negative_controls_a_stale_row_and_a_scalar_margin_are_found():
    assert unused_rows({"lam": "λ", "n_real": "stale"}, {"lam", "tau"}) == ["n_real"]

    def tost_old(values, margin: float, alpha: float = 0.05):
        return values

    def equiv(values, margin=0.1):
        return values

    for f in (tost_old, equiv):
        found = stragglers("lsgan_theory.studies.stats", f.__name__, _parameters(f))
        assert len(found) == 1 and "delta" in found[0]


def test_negative_controls_each_kind_of_straggler_is_found():
    def old(x, margin="l1", scale=1.0, margin_scale=2.0, norm="l2"):
        return x

    found = stragglers("lsgan_theory.nonparametric", "old", _parameters(old))
    assert len(found) == 5 and all(s.startswith("old(") for s in found)
    assert stragglers("lsgan_theory.densities", "Normal", [("scale", float, 1.0)]) == []  # σ, listed
    assert stragglers("lsgan_theory.losses", "f", [("margin", "Tensor", inspect.Parameter.empty)]) == []  # Δ

    p = argparse.ArgumentParser()
    sub = p.add_subparsers()
    b = sub.add_parser("bounds")
    b.add_argument("--margin", choices=["l1", "l2"])
    b.add_argument("--scale", help="margin scale tau")
    b.add_argument("--tau", help="margin scale tau")
    got = flag_stragglers(p)
    assert len(got) == 4 and all(s.startswith("bounds --") for s in got)


@pytest.mark.parametrize("old,value", [("--margin-scale", "1"), ("--scale", "1"), ("--margin", "l2"),
                                       ("--margin-k", "l2")])
def test_old_and_partial_flag_spellings_are_refused(old, value, capsys):
    # --margin and --margin-k would be accepted as prefixes of --margin-kind if argparse's abbreviations were on
    from lsgan_theory.cli import main

    bounds = ["bounds", "--real", "normal(0,1)", "--fake", "normal(1,1)", "-n", "2", "-m", "2", "--lam", "1",
              "--kappa", "1", "--quiet"]
    cmd = ["train", old, value] if old == "--margin-scale" else bounds + [old, value]
    assert main(cmd) == 2
    assert f"unrecognized arguments: {old} {value}" in capsys.readouterr().err
    if old != "--margin-scale":  # negative control: the full spelling is accepted
        assert main(bounds + ["--margin-kind" if "margin" in old else "--tau", value]) == 0
