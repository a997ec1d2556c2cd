"""Sweep specifications: a TOML file → validated, canonical run configurations with stable ids.

A spec file has the tables ``[sweep]`` (name, description, seeds, n_eval, pack_size, device), ``[base]`` (training
configuration fields shared by every run), ``[grid]`` (lists whose Cartesian product, times ``seeds`` replicas, are
the runs, at most :data:`MAX_RUNS` of them: a spec that expands to more is refused with its count before any run
is built) and the optional overrides ``[quick]`` / ``[full]`` (applied for ``--quick`` / ``--full``: a scalar replaces
the ``[base]`` value, a list replaces the ``[grid]`` list of that key; ``seeds``, ``n_eval`` and ``pack_size`` may be
overridden too).  Training fields are those of :class:`lsgan_theory.ensemble.TrainConfig` except ``n_models``,
``model_ids`` and ``device`` (set by the sweep), under their field names (the glossary's: ``tau`` for the margin
scale).

Every value is checked before anything runs; the first problem raises :class:`SpecError` (a ``ValueError``) naming
the file, the table and key, the value and what is accepted.

A run's *canonical configuration* is a JSON object with every training field filled in (defaults included), floats
as floats (``1`` and ``1.0`` are the same), family names canonical (aliases resolved), density specs in their
canonical spelling, the family-specific parameters that the run's family does not use removed (``lam`` of an LSGAN
run means nothing), plus ``replica``, ``n_eval`` and the schema version :data:`SCHEMA_VERSION`.  The run id is the
first 16 hex digits of the SHA-256 of its sorted, compact JSON: the same configuration has the same id in every
process and on every machine; package version and git revision are recorded beside a result, not hashed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .. import densities as _densities
from .. import families as _families
from .. import validate as _validate
from ..ensemble import PER_MODEL, TrainConfig

__all__ = ["SCHEMA_VERSION", "MAX_RUNS", "SpecError", "Spec", "Run", "load_spec", "parse_spec", "canonical_config", "run_id",
           "reference_expression",
           "stream_id", "TRAIN_KEYS"]

SCHEMA_VERSION = 2  # 2: TrainConfig.loss_output (L >= 0 for LS-GAN)

# Fields the sweep sets itself (never in a spec).
_MANAGED = ("n_models", "model_ids", "device")
_SWEEP_KEYS = {"name": str, "description": str, "seeds": int, "n_eval": int, "pack_size": int, "device": str}
_VARIANT_SWEEP_KEYS = ("seeds", "n_eval", "pack_size")
_TABLES = ("sweep", "base", "grid", "quick", "full", "figure")
_FIGURE_KEYS = ("name", "x", "y", "hue", "facet", "logx", "logy", "reference", "reference_label", "title")
_DEFAULT_N_EVAL = 2000
# TrainConfig's architecture fields (pack, maxout pieces, batch norm, initialisation) and their defaults
_ARCH_DEFAULTS = {"pack": 1, "d_pieces": 1, "g_batchnorm": False, "d_batchnorm": False, "init": "uniform",
                  "init_std": 0.02, "init_gain": 1.0, "update": "alternating"}


class SpecError(ValueError):
    """A malformed sweep specification (the message names file, key, value and what is accepted)."""


def _scalar_type(annotation) -> tuple[type, bool]:
    """(element type, is_list) of a TrainConfig annotation such as ``'float | tuple[float, ...]'``."""
    a = str(annotation).replace(" ", "")
    first = a.split("|")[0]
    if first.startswith("tuple["):
        inner = first[len("tuple["):].split(",")[0]
        return {"int": int, "float": float, "str": str, "bool": bool}[inner], True
    return {"int": int, "float": float, "str": str, "bool": bool}[first], False


def _train_types() -> dict[str, tuple[type, bool, object]]:
    """canonical key -> (element type, is a list, default) for every spec-settable training field."""
    out = {}
    for f in dataclasses.fields(TrainConfig):
        if f.name in _MANAGED:
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        out[f.name] = (*_scalar_type(f.type), default)
    return out


TRAIN_KEYS = tuple(_train_types())
_PER_MODEL_KEYS = PER_MODEL
# Parameters that belong to particular loss families (lam, tau, nu, ls_a, ...): dropped from a run whose family
# does not use them.
# (lsgan_theory.families.parameters: the registry's, as the trainer's TrainConfig fields were built from it)
_ALL_FAMILY_PARAMS = tuple(_families.parameters())


def _fmt(value) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (str, list, dict)) else repr(value)


def _type_name(t: type, is_list: bool) -> str:
    base = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}[t]
    return f"a list of {base.split(' ', 1)[1]}s" if is_list else base


def _coerce(value, t: type, is_list: bool):
    """Value converted to the field's canonical Python type, or raise TypeError."""
    if is_list:
        if not isinstance(value, list) or not value:
            raise TypeError
        return [_coerce(v, t, False) for v in value]
    if t is bool:
        if isinstance(value, bool):
            return value
        raise TypeError
    if isinstance(value, bool):
        raise TypeError
    if t is float:
        if isinstance(value, (int, float)):
            return float(value)
        raise TypeError
    if t is int:
        if isinstance(value, int):
            return value
        raise TypeError
    if t is str and isinstance(value, str):
        return value
    raise TypeError


def _check_value(key: str, value, where: str) -> object:
    """Type-check and value-check one training value (a single model's value); return it in canonical form."""
    types = _train_types()
    t, is_list, _ = types[key]
    try:
        v = _coerce(value, t, is_list)
    except TypeError:
        raise SpecError(f"{where} = {_fmt(value)}: expected {_type_name(t, is_list)}") from None
    if t is float and not math.isfinite(v):
        raise SpecError(f"{where} = {_fmt(value)}: must be finite")
    if key in ("target", "fixed_generator"):
        try:
            v = _densities.parse(v).spec
        except (ValueError, TypeError) as exc:
            raise SpecError(f"{where} = {_fmt(value)}: not a density spec ({' '.join(str(exc).split())}); "
                            f"accepted e.g. 'normal(0,1)', 'mixture(normal(-2,0.5),normal(2,0.5);0.5,0.5)', "
                            f"'ring(8,1,0.01)'") from None
    if key == "family":
        try:
            v = _families.canonical(v)
        except ValueError as exc:
            raise SpecError(f"{where} = {_fmt(value)}: {' '.join(str(exc).split())}") from None
        if v not in _families.TRAINABLE:
            raise SpecError(f"{where} = {_fmt(value)}: the trainer trains {', '.join(_families.TRAINABLE)}")
    # every other constraint: the trainer's own validation of this one field (fixed_generator is checked against
    # the target once the runs are expanded)
    if key == "fixed_generator":
        return v
    # a family's own parameter (its range: the registry's Param) is checked on a model of a family that uses it (the
    # trainer refuses it elsewhere); the family's parameters that must be given take the registry's examples
    owner = next(iter(_families.owners(key)), None)
    extra = {"family": owner} if owner is not None and key != "family" else {}
    family = v if key == "family" else owner
    if family is not None:
        extra.update({p.name: p.example for p in _families.get(family).parameters
                      if p.example is not None and p.name != key})
    try:
        TrainConfig(**{**extra, key: tuple(v) if is_list else v, "device": "cpu"})
    except (ValueError, TypeError) as exc:
        raise SpecError(f"{where} = {_fmt(value)}: {' '.join(str(exc).split())}") from None
    return v


@dataclass(frozen=True)
class Run:
    """One run: its id, canonical configuration (JSON-able dict), and its grid values (for tables)."""

    id: str
    config: dict
    grid: dict

    @property
    def stream(self) -> int:
        return stream_id(self.id)


@dataclass(frozen=True)
class Spec:
    """A validated sweep specification with one variant (``None``, ``"quick"`` or ``"full"``) applied."""

    path: str
    name: str
    description: str
    variant: str | None
    seeds: int
    n_eval: int
    pack_size: int | None
    device: str
    base: dict
    grid: dict
    text: str = ""
    runs: tuple[Run, ...] = field(default=(), repr=False)
    figures: tuple[dict, ...] = ()

    @property
    def grid_keys(self) -> tuple[str, ...]:
        return tuple(self.grid)


def canonical_config(train: dict, replica: int, n_eval: int) -> dict:
    """The canonical configuration of one run (see the module docstring); ``train`` holds canonical spec keys."""
    types = _train_types()
    cfg = {}
    for key, (_, _, default) in types.items():
        v = train.get(key, default)
        if isinstance(v, tuple):
            v = list(v)
        if key in ("target", "fixed_generator") and v is not None:
            v = _densities.parse(v).spec
        if key == "family":
            v = _families.canonical(v)
        if types[key][0] is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        cfg[key] = v
    for key, default in _ARCH_DEFAULTS.items():  # the architecture fields at their defaults are left out, so that
        if cfg.get(key) == default:               # the ids of runs written before they existed do not change
            cfg.pop(key, None)
    used = dict(_families.get(cfg["family"]).params)
    for p in _ALL_FAMILY_PARAMS:
        if p not in used:
            cfg.pop(p, None)
    cfg.update(replica=int(replica), n_eval=int(n_eval), schema=SCHEMA_VERSION)
    return cfg


def run_id(config: dict) -> str:
    """16 hex digits of SHA-256 over the sorted, compact JSON of a canonical configuration."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stream_id(rid: str) -> int:
    """The trainer's random-stream id (model id) of a run: its id's first 31 bits, so a run draws the same
    initialisation, data and noise whatever pack it trains in."""
    return int(rid[:8], 16) & 0x7FFFFFFF


def _check_table(path: str, name: str, table, allowed_sweep=()) -> dict:
    if not isinstance(table, dict):
        raise SpecError(f"{path}: [{name}] must be a table, got {_fmt(table)}")
    out = {}
    types = _train_types()
    for key, value in table.items():
        where = f"{path}: [{name}] {key}"
        if key in allowed_sweep:
            out[key] = _check_sweep_key(path, name, key, value)
            continue
        if key not in types:
            accepted = ", ".join(TRAIN_KEYS + tuple(allowed_sweep))
            raise SpecError(f"{where} = {_fmt(value)}: unknown key; accepted keys: {accepted}")
        out[key] = value
    return out


def _check_sweep_key(path: str, table: str, key: str, value):
    where = f"{path}: [{table}] {key}"
    t = _SWEEP_KEYS[key]
    if not isinstance(value, t) or isinstance(value, bool):
        raise SpecError(f"{where} = {_fmt(value)}: expected {_type_name(t, False)}")
    if key in ("seeds", "n_eval", "pack_size") and value < 1:
        raise SpecError(f"{where} = {_fmt(value)}: must be an integer >= 1")
    if key == "n_eval" and value < 10:
        raise SpecError(f"{where} = {_fmt(value)}: must be >= 10 samples")
    if key == "name" and not re.fullmatch(_validate.NAME_PATTERN, value):
        raise SpecError(f"{where} = {_fmt(value)}: a folder-safe name (letters, digits, '_', '-', '.'; "
                        f"at most 64 characters)")
    if key == "device" and value not in ("auto", "cpu", "cuda") and not re.fullmatch(r"cuda:\d+", value):
        raise SpecError(f"{where} = {_fmt(value)}: 'auto', 'cpu', 'cuda' or 'cuda:N'")
    return value


def parse_spec(text: str, path: str = "<spec>", variant: str | None = None, *, expand: bool = True) -> Spec:
    """Validate a spec given as TOML text; see :func:`load_spec`."""
    if variant not in (None, "quick", "full"):
        raise ValueError(f"variant: must be None, 'quick' or 'full', got {variant!r}")
    doc = _read_toml(text, path)
    sw = _check_sweep_table(path, doc)
    settings = {"seeds": sw.get("seeds", 1), "n_eval": sw.get("n_eval", _DEFAULT_N_EVAL),
                "pack_size": sw.get("pack_size")}

    base = _check_table(path, "base", doc.get("base", {}))
    grid_raw = _check_table(path, "grid", doc.get("grid", {}))
    # the size of the expansion, counted before any value is checked or any run built (a grid of 10^7 runs or 10^9
    # seeds is refused at once with its count)
    _check_expansion(path, {k: (len(v) if isinstance(v, list) else 1) for k, v in grid_raw.items()},
                     settings["seeds"])
    variants = {v: _check_table(path, v, doc.get(v, {}), _VARIANT_SWEEP_KEYS) for v in ("quick", "full")}

    for key, value in base.items():
        base[key] = _check_value(key, value, f"{path}: [base] {key}")
    grid = _check_grid_values(path, grid_raw, base)
    for vname, table in variants.items():
        _check_variant_values(path, vname, table, grid)
    if variant is not None:
        for key, value in variants[variant].items():
            if key in _VARIANT_SWEEP_KEYS:
                settings[key] = value
            elif key in grid:
                grid[key] = value
            else:
                base[key] = value

    _check_expansion(path, {k: len(v) for k, v in grid.items()}, settings["seeds"], variant)
    _check_family_params(path, base, grid)
    figures = _check_figures(path, doc.get("figure", []), grid)
    spec = Spec(path=path, name=sw["name"], description=sw.get("description", ""), variant=variant,
                seeds=settings["seeds"], n_eval=settings["n_eval"], pack_size=settings["pack_size"],
                device=sw.get("device", "auto"), base=base, grid=grid, text=text, figures=figures)
    if expand:
        spec = dataclasses.replace(spec, runs=tuple(_expand(spec)))
    return spec


def _read_toml(text: str, path: str) -> dict:
    """The TOML document, its top-level tables checked against :data:`_TABLES`."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({exc})") from None
    for key, value in doc.items():
        if key not in _TABLES:
            raise SpecError(f"{path}: [{key}] = {_fmt(value) if not isinstance(value, dict) else 'table'}: unknown "
                            f"table; accepted tables: {', '.join('[' + t + ']' for t in _TABLES)}")
    return doc


def _check_sweep_table(path: str, doc: dict) -> dict:
    """The [sweep] table, present, with known keys of the right types and a name."""
    if "sweep" not in doc:
        raise SpecError(f"{path}: [sweep]: missing; it needs at least name = \"...\"")
    sw = doc["sweep"]
    if not isinstance(sw, dict):
        raise SpecError(f"{path}: [sweep] must be a table, got {_fmt(sw)}")
    for key, value in sw.items():
        if key not in _SWEEP_KEYS:
            raise SpecError(f"{path}: [sweep] {key} = {_fmt(value)}: unknown key; accepted keys: "
                            f"{', '.join(_SWEEP_KEYS)}")
        _check_sweep_key(path, "sweep", key, value)
    if "name" not in sw:
        raise SpecError(f"{path}: [sweep] name: missing; a folder-safe name such as \"lambda\"")
    return sw


def _check_grid_values(path: str, grid_raw: dict, base: dict) -> dict:
    """The [grid] lists checked value by value: non-empty, not also in [base], no value repeated."""
    grid = {}
    for key, values in grid_raw.items():
        where = f"{path}: [grid] {key}"
        if not isinstance(values, list):
            raise SpecError(f"{where} = {_fmt(values)}: expected a list of values, e.g. {key} = [{_fmt(values)}]")
        if not values:
            raise SpecError(f"{where} = []: an empty grid has no runs; give at least one value")
        if key in base:
            raise SpecError(f"{where}: also set in [base]; give it in one place")
        grid[key] = [_check_value(key, v, f"{where}[{i}]") for i, v in enumerate(values)]
        if len(set(map(json.dumps, grid[key]))) != len(grid[key]):
            raise SpecError(f"{where} = {_fmt(values)}: repeated values; list each value once")
    return grid


def _check_variant_values(path: str, vname: str, table: dict, grid: dict) -> None:
    """A [quick] / [full] table's values checked in place: a [grid] key takes a non-empty list."""
    for key, value in table.items():
        where = f"{path}: [{vname}] {key}"
        if key in _VARIANT_SWEEP_KEYS:
            continue
        if key in grid:
            if not isinstance(value, list) or not value:
                raise SpecError(f"{where} = {_fmt(value)}: {key} is a [grid] key; give a non-empty list")
            table[key] = [_check_value(key, v, f"{where}[{i}]") for i, v in enumerate(value)]
        else:
            table[key] = _check_value(key, value, where)


def _check_family_params(path: str, base: dict, grid: dict) -> None:
    """A family's parameter (``nu``, ``ls_a``, ...) is refused where no family of the spec uses it."""
    families = set(grid.get("family", [base.get("family", "loss_sensitive")]))
    families = {_families.canonical(f) for f in families}
    for key in list(grid) + list(base):
        if key in _ALL_FAMILY_PARAMS and not any(key in dict(_families.get(f).params) for f in families):
            table = "grid" if key in grid else "base"
            raise SpecError(_families.unused_parameter(
                key, sorted(families), argument=f"{path}: [{table}] {key} = {_fmt(grid.get(key, base.get(key)))}"))


def _check_expansion(path: str, sizes: dict, seeds: int, variant: str | None = None) -> int:
    """The number of runs (the product of the grid lists × seeds), refused above :data:`MAX_RUNS`."""
    where = f"{path}: [grid] × seeds" + (f" (with [{variant}])" if variant else "")
    try:
        return _validate.expansion(where, {**{f"{k} values": n for k, n in sizes.items()}, "seeds": seeds})
    except ValueError as exc:
        raise SpecError(str(exc)) from None


MAX_RUNS = _validate.MAX_RUNS


def reference_expression(text: str, x: str, where: str = "reference"):
    """The sympy expression of a figure's reference curve in the variable named ``x`` (e.g. ``"2/lam"``), parsed by
    the whitelist parser of :mod:`lsgan_theory.symbolic.parse` (no ``eval``)."""
    import sympy

    from ..symbolic.parse import parse_expression

    sym = sympy.Symbol(x, positive=True)
    return sym, parse_expression(text, name=where, symbols={x: sym})


def _check_figures(path: str, figs, grid: dict) -> tuple[dict, ...]:
    """``[[figure]]`` tables: name, x (a grid key), y (a metric), optional hue (a grid key: one line per value) and
    facet (a grid key: one panel per value), logx/logy, a reference curve in x (an expression such as ``"2/lam"``),
    its label and a title."""
    from .results import METRIC_ORDER

    if isinstance(figs, dict):
        figs = [figs]
    if not isinstance(figs, list):
        raise SpecError(f"{path}: [figure] = {_fmt(figs)}: expected [[figure]] tables")
    out, names = [], set()
    for i, f in enumerate(figs):
        where = f"{path}: [[figure]] #{i + 1}"
        if not isinstance(f, dict):
            raise SpecError(f"{where} = {_fmt(f)}: expected a table")
        for key, value in f.items():
            if key not in _FIGURE_KEYS:
                raise SpecError(f"{where} {key} = {_fmt(value)}: unknown key; accepted keys: {', '.join(_FIGURE_KEYS)}")
        for key in ("name", "x", "y"):
            if not isinstance(f.get(key), str) or not f[key]:
                raise SpecError(f"{where} {key}: missing or not a string (name, x and y are required)")
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", f["name"]) or f["name"] in names:
            raise SpecError(f"{where} name = {_fmt(f['name'])}: must be a unique file-name-safe word")
        names.add(f["name"])
        for key in ("x", "hue", "facet"):
            if key in f and f[key] not in grid:
                raise SpecError(f"{where} {key} = {_fmt(f[key])}: not a [grid] key; grid keys: {', '.join(grid)}")
        used = [f[k] for k in ("x", "hue", "facet") if k in f]
        if len(set(used)) != len(used):
            raise SpecError(f"{where}: x, hue and facet must be different grid keys, got {', '.join(used)}")
        if f["y"] not in METRIC_ORDER:
            raise SpecError(f"{where} y = {_fmt(f['y'])}: not a final metric; accepted: {', '.join(METRIC_ORDER)}")
        for key in ("logx", "logy"):
            if key in f and not isinstance(f[key], bool):
                raise SpecError(f"{where} {key} = {_fmt(f[key])}: expected true or false")
        for key in ("reference_label", "title"):
            if key in f and not isinstance(f[key], str):
                raise SpecError(f"{where} {key} = {_fmt(f[key])}: expected a string")
        if "reference" in f:
            if not isinstance(f["reference"], str):
                raise SpecError(f"{where} reference = {_fmt(f['reference'])}: expected an expression string in x")
            try:
                reference_expression(f["reference"], f["x"], f"{where} reference")
            except ValueError as exc:
                raise SpecError(" ".join(str(exc).split())) from None
        out.append(dict(f))
    return tuple(out)


def _expand(spec: Spec) -> list[Run]:
    """The runs: the product of the grid lists (in file order) × replicas, deduplicated by id."""
    keys = list(spec.grid)
    runs: dict[str, Run] = {}
    for values in itertools.product(*(spec.grid[k] for k in keys)):
        point = dict(zip(keys, values))
        train = {**spec.base, **point}
        if "record_every" not in train:
            train["record_every"] = max(1, train.get("steps", _train_types()["steps"][2]) // 100)
        for r in range(spec.seeds):
            cfg = canonical_config(train, r, spec.n_eval)
            rid = run_id(cfg)
            if rid not in runs:
                grid = {k: cfg.get(k) for k in keys}
                runs[rid] = Run(rid, cfg, {**grid, "replica": r})
    # cross-field checks (fixed_generator against target, ...): one TrainConfig per distinct shared setting
    seen = set()
    for run in runs.values():
        shared = json.dumps({k: v for k, v in run.config.items() if k not in _PER_MODEL_KEYS}, sort_keys=True)
        if shared in seen:
            continue
        seen.add(shared)
        try:
            to_train_config([run], "cpu")
        except (ValueError, TypeError) as exc:
            raise SpecError(f"{spec.path}: run {json.dumps(run.grid)}: {' '.join(str(exc).split())}") from None
    return list(runs.values())


def to_train_config(runs: list[Run], device: str) -> TrainConfig:
    """The batched :class:`TrainConfig` of a pack of runs sharing every non-per-model field; model e = runs[e]
    with stream id ``runs[e].stream``."""
    first = runs[0].config
    kw = {}
    for key in _train_types():
        name = key
        if key in _PER_MODEL_KEYS:
            default = _train_types()[key][2]
            vals = tuple(r.config.get(key, default) for r in runs)
            kw[name] = vals if len(runs) > 1 else vals[0]
        else:
            v = first.get(key, _train_types()[key][2])   # a family's own field is absent from other families' runs
            kw[name] = tuple(v) if isinstance(v, list) else v
    return TrainConfig(n_models=len(runs), model_ids=tuple(r.stream for r in runs), device=device, **kw)


def load_spec(path, variant: str | None = None) -> Spec:
    """Read and validate the sweep spec at ``path`` with ``variant`` (``None``, ``"quick"``, ``"full"``) applied,
    and expand its runs.  Raises :class:`SpecError` (a ``ValueError``) naming the file, key, value and what is
    accepted."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the spec file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not a UTF-8 text file") from None
    return parse_spec(text, str(path), variant)
