"""Mode collapse, measured (issue 17, THEORY.md §9): Mao's ring and PacGAN's grid/ring across the loss zoo.

An *experiment* is a TOML file (``experiments/mode_collapse/*.toml``) with the tables

* ``[experiment]``: ``name``, ``description``, ``seeds``, ``losses`` (names of :data:`LOSSES`), ``n_eval`` (generated
  samples per evaluation, PacGAN: 2500), ``eval_at`` (evaluation points in units of ``steps / eval_of``: Mao's
  0, 5k, 15k, 25k, 35k of 35k are ``eval_at = [0, 5, 15, 25, 35]``, ``eval_of = 35``), ``mre_points``,
  ``mre_restarts``, ``mre_steps``, ``mre_lr`` (the MRE search budget; ``mre_points = 0`` skips it),
  ``collapse_below`` (a seed *collapses* when it covers fewer modes than this; default: all K);
* ``[train]``: :class:`~lsgan_theory.ensemble.TrainConfig` fields shared by every run (no ``family`` nor the
  family parameters: those come from the loss);
* ``[grid]`` (optional): lists of TrainConfig fields whose Cartesian product are the *settings* (e.g. ``pack``,
  ``optimizer``, ``d_batchnorm``); every setting is trained with every loss and seed;
* ``[quick]``, ``[full]``, ``[hour]``, ``[mao]``: overrides of any key above for that variant (a list replaces a grid
  list); a sub-table ``[VARIANT.grid]`` adds grid keys for that variant only (e.g. ``update`` under ``[mao.grid]``).

The runs of one setting (losses × seeds, every model with its own stream) train as ONE batched ensemble with
:func:`lsgan_theory.ensemble.train` (the one training loop); at every evaluation step its observer has the
generators (batch norm in inference mode, with each model's population statistics) map a fixed noise sample of
``n_eval`` points, and :func:`lsgan_theory.metrics.mode_statistics` computes PacGAN's metrics.  The engine's
checkpoint (state and the evaluations so far) is written atomically every ``checkpoint_every`` steps and on Ctrl-C:
an interrupted run (SIGKILL included) resumes from the last checkpoint and ends bitwise equal to an uninterrupted
one (draws keyed by seed, model, stream and step).  The MRE of the final generators is the observer's last record, so
a finished setting's checkpoint holds its whole result: a rerun of a finished run loads it and trains nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from .. import densities as _densities
from .. import metrics as _metrics
from .. import validate as _validate
from ..ensemble import TrainConfig
from ..ensemble import mlp as _mlp
from ..ensemble import rng as _rng
from ..ensemble import trainer as _trainer
from ..provenance import git_revision
from ..resources import torch_threads
from .stats import t_interval, wilson_interval  # noqa: F401  (public here too: studies.modes.t_interval)

__all__ = ["LOSSES", "ModesSpec", "ModesResult", "load_modes_spec", "parse_modes_spec", "run_modes", "merge_results",
           "summarize_modes",
           "collapse_step", "wilson_interval", "t_interval", "PUBLISHED", "EVAL_STREAM"]

# The loss zoo (issue 17): name -> TrainConfig fields.  Least squares (a, b, c) = (fake, real, generator target).
LOSSES = {
    "gan": {"family": "gan"},  # minimax G loss, THEORY.md §1
    "gan_ns": {"family": "gan_ns"},  # non-saturating G loss (PacGAN's and Mao's "GAN")
    "ls_m110": {"family": "least_squares", "ls_a": -1.0, "ls_b": 1.0, "ls_c": 0.0},  # Mao (a, b, c) = (−1, 1, 0)
    "ls_011": {"family": "least_squares", "ls_a": 0.0, "ls_b": 1.0, "ls_c": 1.0},  # Mao (a, b, c) = (0, 1, 1)
    "loss_sensitive": {"family": "loss_sensitive", "lam": 1.0, "tau": 1.0},  # Qi's LS-GAN, THEORY.md §5
    "glsgan": {"family": "glsgan", "nu": 0.5, "tau": 1.0},  # GLS-GAN ν = 0.5, THEORY.md §6
    "wgan_gp": {"family": "wgan", "gp_weight": 10.0},  # WGAN-GP γ = 10, THEORY.md §4
    "hinge": {"family": "hinge"},  # THEORY.md §3
}

# PacGAN Table 1, GAN row (THEORY.md §9): mean ± standard error over 10 trials (modes, high-quality %, reverse KL).
PUBLISHED = {
    "ring": {"K": 8, "modes": (6.3, 0.5), "high_quality": (0.982, None), "reverse_kl": (0.45, 0.09)},
    "grid": {"K": 25, "modes": (17.3, 0.8), "high_quality": (0.948, None), "reverse_kl": (0.70, 0.07)},
}
EVAL_STREAM = 1000  # noise stream of the evaluation samples (never used in training; TrainResult.sample's)
_EXPERIMENT_KEYS = {"name": str, "description": str, "seeds": int, "losses": list, "n_eval": int, "eval_at": list,
                    "eval_of": (int, float), "mre_points": int, "mre_restarts": int, "mre_steps": int,
                    "mre_lr": (int, float), "collapse_below": int, "checkpoint_every": int}
_VARIANTS = ("quick", "full", "hour", "mao", "packing")
_TRAIN_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)} - {"n_models", "model_ids", "device", "family"}
_LOSS_FIELDS = {k for v in LOSSES.values() for k in v}


# ---------------------------------------------------------------------------------------------------- spec
@dataclass(frozen=True)
class ModesSpec:
    """A validated experiment with one variant applied (see the module docstring)."""

    path: str
    name: str
    description: str
    variant: str | None
    seeds: int
    losses: tuple[str, ...]
    train: dict
    grid: dict
    n_eval: int = 2500
    eval_at: tuple[float, ...] = (0, 5, 15, 25, 35)
    eval_of: float = 35.0
    mre_points: int = 0
    mre_restarts: int = 4
    mre_steps: int = 100
    mre_lr: float = 0.05
    collapse_below: int | None = None
    checkpoint_every: int = 500
    text: str = field(default="", repr=False)

    @property
    def steps(self) -> int:
        return int(self.train.get("steps", 1000))

    def eval_steps(self) -> tuple[int, ...]:
        """The evaluation steps (number of completed training steps), scaled to ``steps``."""
        return tuple(sorted({int(round(e * self.steps / self.eval_of)) for e in self.eval_at}))

    def settings(self) -> list[dict]:
        """The grid points (dicts of TrainConfig fields), in file order; ``[{}]`` without a grid."""
        keys = list(self.grid)
        return [dict(zip(keys, v)) for v in itertools.product(*(self.grid[k] for k in keys))] or [{}]

    def target(self):
        return _densities.parse(self.train["target"])

    def restrict(self, settings, argument: str = "setting") -> "ModesSpec":
        """The spec with its grid cut to the points where KEY equals VALUE for every ``"KEY=VALUE"`` of
        ``settings`` (the values compared as written in the file: ``update=alternating``, ``pack=2``).  The kept
        settings, their model ids and their state files are those of the whole grid, so processes or machines that
        each train a part into one ``out`` folder leave a state that the unrestricted run then collects.  Errors name
        ``argument`` (the CLI passes ``--setting``)."""
        grid = {k: list(v) for k, v in self.grid.items()}
        for item in settings:
            key, sep, value = str(item).partition("=")
            if not sep or key not in grid:
                raise ValueError(f"{argument}: {item!r}: expected KEY=VALUE with KEY a grid key of {self.path} "
                                 f"({', '.join(grid) if grid else 'the file has no grid for this variant'})")
            keep = [v for v in grid[key] if _written(v) == value.strip()]
            if not keep:
                raise ValueError(f"{argument}: {item!r}: {key} takes {', '.join(_written(v) for v in grid[key])} in "
                                 f"{self.path}")
            grid[key] = keep
        return dataclasses.replace(self, grid=grid)

    def restrict_losses(self, losses, argument: str = "losses") -> "ModesSpec":
        """The spec with only the losses ``losses`` (a subset of its own, kept in the file's order).  A model's id
        depends on (experiment name, setting, loss, replica), not on which other losses train beside it, so each kept
        model draws the same numbers as in the whole run; its state file differs (the ensemble does).  Errors name
        ``argument`` (the CLI passes ``--losses``)."""
        wanted = list(dict.fromkeys(str(x) for x in losses))
        unknown = [x for x in wanted if x not in self.losses]
        if not wanted or unknown:
            raise ValueError(f"{argument}: {', '.join(map(repr, unknown)) or 'nothing given'}: expected one or more "
                             f"of the losses of {self.path}{f' [{self.variant}]' if self.variant else ''}: "
                             f"{', '.join(self.losses)}")
        return dataclasses.replace(self, losses=tuple(x for x in self.losses if x in wanted))


def _written(v) -> str:
    """A grid value as a user writes it on the command line (TOML's spelling: true/false, numbers, bare strings)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, tuple):
        return ",".join(map(_written, v))
    return str(v)


class ModesSpecError(ValueError):
    """A malformed experiment file (the message names the file, table, key, value and what is accepted)."""


def _check_experiment_key(path, table, key, value):
    if key not in _EXPERIMENT_KEYS:
        raise ModesSpecError(f"{path}: [{table}] {key}: unknown key; accepted: {', '.join(_EXPERIMENT_KEYS)}")
    t = _EXPERIMENT_KEYS[key]
    if isinstance(value, bool) or not isinstance(value, t):
        raise ModesSpecError(f"{path}: [{table}] {key} = {value!r}: expected {getattr(t, '__name__', 'a number')}")
    if key == "losses":
        bad = [v for v in value if v not in LOSSES]
        if bad or not value or len(set(value)) != len(value):
            raise ModesSpecError(f"{path}: [{table}] losses = {value!r}: a non-empty list of distinct names from "
                                 f"{', '.join(LOSSES)}")
    if key == "eval_at" and (not value or any(isinstance(v, bool) or not isinstance(v, (int, float))
                                              or not 0 <= v < math.inf for v in value)):
        raise ModesSpecError(f"{path}: [{table}] eval_at = {value!r}: a non-empty list of finite numbers >= 0")
    if key in ("eval_of", "mre_lr") and not math.isfinite(value):
        raise ModesSpecError(f"{path}: [{table}] {key} = {value!r}: must be a finite number > 0")
    if key == "name":
        try:
            _validate.name(f"{path}: [{table}] name", value)  # it becomes part of the output folder's path
        except ValueError as exc:
            raise ModesSpecError(str(exc)) from None
    if key in ("seeds", "n_eval", "mre_restarts", "checkpoint_every", "collapse_below") and value < 1:
        raise ModesSpecError(f"{path}: [{table}] {key} = {value!r}: must be >= 1")
    if key in ("mre_points", "mre_steps") and value < 0:
        raise ModesSpecError(f"{path}: [{table}] {key} = {value!r}: must be >= 0")
    if key in ("eval_of", "mre_lr") and not value > 0:
        raise ModesSpecError(f"{path}: [{table}] {key} = {value!r}: must be > 0")
    return value


def _check_train_key(path, table, key, value):
    if key not in _TRAIN_FIELDS:
        hint = " (the loss sets it: choose losses)" if key in _LOSS_FIELDS | {"family"} else ""
        raise ModesSpecError(f"{path}: [{table}] {key}: not a training field{hint}; accepted: "
                             f"{', '.join(sorted(_TRAIN_FIELDS))}")
    return tuple(value) if isinstance(value, list) and key in ("g_hidden", "d_hidden") else value


def parse_modes_spec(text: str, path: str = "<experiment>", variant: str | None = None) -> ModesSpec:
    """Validate an experiment given as TOML text with ``variant`` (None or one of :data:`_VARIANTS`) applied."""
    if variant not in (None, *_VARIANTS):
        raise ValueError(f"variant: must be None or one of {', '.join(_VARIANTS)}, got {variant!r}")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModesSpecError(f"{path}: not valid TOML ({exc})") from None
    for key in doc:
        if key not in ("experiment", "train", "grid", *_VARIANTS):
            raise ModesSpecError(f"{path}: [{key}]: unknown table; accepted: [experiment], [train], [grid], "
                                 + ", ".join(f"[{v}]" for v in _VARIANTS))
    exp = {k: _check_experiment_key(path, "experiment", k, v) for k, v in doc.get("experiment", {}).items()}
    if "name" not in exp or "losses" not in exp:
        raise ModesSpecError(f"{path}: [experiment] needs name and losses")
    train = {k: _check_train_key(path, "train", k, v) for k, v in doc.get("train", {}).items()}
    grid = {}
    for k, v in doc.get("grid", {}).items():
        _check_train_key(path, "grid", k, v[0] if isinstance(v, list) and v else v)
        if not isinstance(v, list) or not v or k in train:
            raise ModesSpecError(f"{path}: [grid] {k} = {v!r}: a non-empty list of values, not also in [train]")
        grid[k] = [tuple(x) if isinstance(x, list) else x for x in v]
    if variant is not None and variant not in doc and variant != "full":  # [full] may be empty: the published set-up
        raise ModesSpecError(f"{path}: variant {variant!r}: the file has no [{variant}] table; its variants: "
                             + ", ".join(v for v in _VARIANTS if v in doc or v == "full"))
    if variant is not None:
        for k, v in doc.get(variant, {}).items():
            if k == "grid":
                if not isinstance(v, dict):
                    raise ModesSpecError(f"{path}: [{variant}] grid = {v!r}: a table [{variant}.grid] of lists")
                for gk, gv in v.items():
                    _check_train_key(path, f"{variant}.grid", gk, gv[0] if isinstance(gv, list) and gv else gv)
                    if not isinstance(gv, list) or not gv:
                        raise ModesSpecError(f"{path}: [{variant}.grid] {gk} = {gv!r}: a non-empty list of values")
                    grid[gk] = [tuple(x) if isinstance(x, list) else x for x in gv]
                    train.pop(gk, None)
            elif k in _EXPERIMENT_KEYS:
                exp[k] = _check_experiment_key(path, variant, k, v)
            elif k in grid:
                if not isinstance(v, list) or not v:
                    raise ModesSpecError(f"{path}: [{variant}] {k} = {v!r}: a grid key; give a non-empty list")
                grid[k] = [tuple(x) if isinstance(x, list) else x for x in v]
            else:
                train[k] = _check_train_key(path, variant, k, v)
    if "target" not in train:
        raise ModesSpecError(f"{path}: [train] target: missing (e.g. \"ring(8,1,0.01)\")")
    spec = ModesSpec(path=path, name=exp["name"], description=exp.get("description", ""), variant=variant,
                     seeds=exp.get("seeds", 10), losses=tuple(exp["losses"]), train=train, grid=grid,
                     n_eval=exp.get("n_eval", 2500), eval_at=tuple(float(e) for e in exp.get("eval_at", (0, 5, 15, 25, 35))),
                     eval_of=float(exp.get("eval_of", max(exp.get("eval_at", [35])) or 1)),
                     mre_points=exp.get("mre_points", 0), mre_restarts=exp.get("mre_restarts", 4),
                     mre_steps=exp.get("mre_steps", 100), mre_lr=float(exp.get("mre_lr", 0.05)),
                     collapse_below=exp.get("collapse_below"), checkpoint_every=exp.get("checkpoint_every", 500),
                     text=text)
    if any(e > spec.eval_of for e in spec.eval_at):
        raise ModesSpecError(f"{path}: eval_at = {list(spec.eval_at)!r}: evaluation points must be <= eval_of = "
                             f"{spec.eval_of:g} (they are in units of steps / eval_of)")
    try:  # counted before any setting is built: losses × seeds × the grid, against the package's cap
        _validate.expansion(f"{path}: losses × seeds × [grid]", {"losses": len(spec.losses), "seeds": spec.seeds,
                                                                 **{f"{k} values": len(v) for k, v in grid.items()}})
    except ValueError as exc:
        raise ModesSpecError(str(exc)) from None
    target = spec.target()
    if not hasattr(target, "centres"):
        raise ModesSpecError(f"{path}: [train] target = {train['target']!r}: needs a mixture with known centres "
                             f"(ring(...) or grid(...))")
    for setting in spec.settings():  # every TrainConfig must validate before anything runs
        try:
            ensemble_config(spec, setting)
        except (ValueError, TypeError) as exc:
            raise ModesSpecError(f"{path}: setting {setting}: {' '.join(str(exc).split())}") from None
    return spec


def load_modes_spec(path, variant: str | None = None) -> ModesSpec:
    """Read and validate the experiment file at ``path`` (:func:`parse_modes_spec`)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModesSpecError(f"{path}: cannot read the experiment file ({exc})") from None
    return parse_modes_spec(text, str(path), variant)


def _model_id(spec_name: str, setting: dict, loss: str, replica: int) -> int:
    key = json.dumps([spec_name, setting, loss, replica], sort_keys=True, default=list)
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) & 0x7FFFFFFF


def ensemble_runs(spec: ModesSpec, setting: dict) -> list[dict]:
    """The runs of one setting, in ensemble order: one dict per (loss, replica) with its stream id."""
    return [{"loss": loss, "replica": r, "model_id": _model_id(spec.name, setting, loss, r)}
            for loss in spec.losses for r in range(spec.seeds)]


def ensemble_config(spec: ModesSpec, setting: dict, device: str = "cpu") -> TrainConfig:
    """The batched TrainConfig of one setting: model e = run e of :func:`ensemble_runs`."""
    runs = ensemble_runs(spec, setting)
    per_model = {}
    for name in sorted(_LOSS_FIELDS):
        default = next(f.default for f in dataclasses.fields(TrainConfig) if f.name == name)
        per_model[name] = tuple(LOSSES[r["loss"]].get(name, default) for r in runs)
    return TrainConfig(**{**spec.train, **setting}, **per_model, n_models=len(runs),
                       model_ids=tuple(r["model_id"] for r in runs), device=device)


# ---------------------------------------------------------------------------------------------------- evaluation
def _generated(run, state, n: int) -> np.ndarray:
    """(E, n, d) float64 samples of every generator in inference mode, from the fixed evaluation noise."""
    c = run.config
    z = _rng.normal(c.seed, run.ids, EVAL_STREAM, 0, (n, c.noise_dim), dtype=run.dtype)
    with torch.no_grad():
        x = _mlp.net_forward(state.g_params, z, run.g_spec, running=state.bn_g)
    return x.double().cpu().numpy()


def _evaluate(spec: ModesSpec, run, state, step: int, setting: dict, runs: list[dict]) -> tuple[list[dict], np.ndarray]:
    target = spec.target()
    x = _generated(run, state, spec.n_eval)
    active = state.active.cpu().numpy()
    rows = []
    for e, r in enumerate(runs):
        row = {**{k: _plain(v) for k, v in setting.items()}, "loss": r["loss"], "replica": r["replica"],
               "model_id": r["model_id"], "step": step, "frozen": bool(not active[e])}
        ok = active[e] and np.isfinite(x[e]).all()
        if ok:
            ms = _metrics.mode_statistics(x[e], target.centres, target.std, min_count=_metrics.PACGAN_MIN_COUNT)
            row.update(modes=ms.modes, modes_20=int((ms.counts >= 20).sum()), high_quality=ms.high_quality,
                       reverse_kl=ms.reverse_kl, n_hq=int(ms.counts.sum()))
        else:
            row.update(modes=math.nan, modes_20=math.nan, high_quality=math.nan, reverse_kl=math.nan, n_hq=math.nan)
        rows.append(row)
    return rows, x


def _plain(v):
    return list(v) if isinstance(v, tuple) else v


def _mre_rows(spec: ModesSpec, cfg: TrainConfig, g_params, bn, diverged_step, setting: dict,
              runs: list[dict]) -> list[dict]:
    """MRE of every final generator (parameters ``g_params``, batch-norm statistics ``bn``; a model with
    ``diverged_step`` >= 0 is frozen: NaN) on ``mre_points`` held-out target points (THEORY.md §9), its budget."""
    if spec.mre_points == 0:
        return []
    target = spec.target()
    x_test = target.sample(spec.mre_points, np.random.default_rng([cfg.seed, 17, 9]))
    rows = []
    active = np.asarray(torch.as_tensor(diverged_step).cpu()) < 0
    g_spec = cfg.g_spec()
    for e, r in enumerate(runs):
        row = {**{k: _plain(v) for k, v in setting.items()}, "loss": r["loss"], "replica": r["replica"],
               "model_id": r["model_id"], "mre_points": spec.mre_points, "mre_restarts": spec.mre_restarts,
               "mre_steps": spec.mre_steps, "mre_lr": spec.mre_lr}
        if not active[e]:
            rows.append({**row, "mre": math.nan})
            continue
        params = tuple(p[e:e + 1].detach().double().cpu() for p in g_params)  # metrics.mre runs on the CPU
        running = None if bn is None else tuple(t[e:e + 1].detach().double().cpu() for t in bn)

        def G(z, params=params, running=running):
            R, n, k = z.shape
            return _mlp.net_forward(params, z.reshape(1, R * n, k), g_spec, running=running).reshape(R, n, -1)

        m = _metrics.mre(G, x_test, cfg.noise_dim, restarts=spec.mre_restarts, steps=spec.mre_steps,
                         lr=spec.mre_lr, seed=r["replica"])
        rows.append({**row, "mre": m.value})
    return rows


# ---------------------------------------------------------------------------------------------------- running
@dataclass
class ModesResult:
    """Tidy rows of an experiment: ``metrics`` (one per run × evaluation step), ``mre`` (one per run), the
    evaluation samples of replica 0 of every (setting, loss) at every evaluation step (``snapshots``:
    key ``(setting json, loss, step)`` → (n_eval, d) array), and provenance (``meta``)."""

    spec: ModesSpec
    metrics: list[dict]
    mre: list[dict]
    snapshots: dict
    meta: dict


def merge_results(spec: ModesSpec, parts) -> ModesResult:
    """One result for ``spec`` from results of runs that each trained a part of its losses (``modes --losses``:
    processes on separate cores or machines, each with its own ``out``).  Every part must be ``spec`` restricted to
    its losses (same file, variant, grid and settings) and the parts' losses must split ``spec``'s exactly; a model's
    id and streams do not depend on the other losses in its ensemble, so the merged rows are the models' own.  Rows
    are ordered as one run orders them (setting, step, loss in the file's order, replica); ``meta`` holds each part's
    meta (with its losses) under ``"parts"`` and, at the top, the values the parts agree on (a value that differs,
    e.g. the git revision of parts trained at different commits, reads ``"differs between parts"``).  Errors name
    ``parts``."""
    parts = list(parts)
    seen: list[str] = []
    for i, part in enumerate(parts):
        if not isinstance(part, ModesResult) or part.spec != spec.restrict_losses(part.spec.losses):
            raise ValueError(f"parts[{i}]: not a result of {spec.path} [{spec.variant}] restricted to some of its "
                             f"losses (same file, variant, settings)")
        seen += part.spec.losses
    if sorted(seen) != sorted(spec.losses):
        raise ValueError(f"parts: their losses ({', '.join(seen) or 'none'}) must split {spec.path}'s "
                         f"({', '.join(spec.losses)}) exactly once each")
    settings = [_setting_key(s) for s in spec.settings()]
    loss_at = {loss: i for i, loss in enumerate(spec.losses)}

    def order(row):
        key = _setting_key({k: row[k] for k in spec.grid})
        return settings.index(key), row.get("step", 0), loss_at[row["loss"]], row["replica"]

    keys = dict.fromkeys(k for p in parts for k in p.meta)
    meta = {k: (parts[0].meta.get(k) if all(p.meta.get(k) == parts[0].meta.get(k) for p in parts)
                else "differs between parts") for k in keys}
    meta["parts"] = [p.meta | {"losses": list(p.spec.losses)} for p in parts]
    return ModesResult(spec, sorted((r for p in parts for r in p.metrics), key=order),
                       sorted((r for p in parts for r in p.mre), key=order),
                       dict(sorted(((k, v) for p in parts for k, v in p.snapshots.items()),
                                   key=lambda kv: (settings.index(kv[0][0]), int(kv[0][2]), loss_at[kv[0][1]]))), meta)


def _setting_key(setting: dict) -> str:
    return json.dumps({k: _plain(v) for k, v in setting.items()}, sort_keys=True)


def run_modes(spec: ModesSpec, out=None, *, device: str = "cpu", threads: int | None = None,
              progress=None, finished_only: bool = False) -> ModesResult:
    """Train and evaluate every setting of ``spec`` (resumable in ``out``; see the module docstring).

    Parameters
    ----------
    out : path, optional
        Folder for the engine's checkpoints, one per setting (``<setting hash>.pt``: the state and the
        evaluations so far; finished, the whole result); without it nothing is written and an interruption loses the
        run.
    threads : int, optional
        torch CPU threads while training (the caller's setting is restored).
    progress : callable, optional
        ``progress(setting_index, n_settings, step, steps)`` after every evaluation.
    finished_only : bool
        Load finished checkpoints and train nothing: a setting whose checkpoint in ``out`` is missing or has not
        reached the last step is a ``ValueError`` (naming the setting and its step), raised before any setting trains.
    """
    if finished_only and out is None:
        raise ValueError("finished_only: needs out, the folder of the checkpoints to load")
    with torch_threads(threads):
        return _run_modes(spec, None if out is None else Path(out), device, progress, finished_only)


def _checkpoint_key(spec: ModesSpec, cfg: TrainConfig) -> str:
    """A setting's checkpoint name in ``out``: a hash of its config and evaluation plan."""
    return hashlib.sha256(json.dumps([dataclasses.asdict(cfg), spec.n_eval, spec.eval_steps(), spec.mre_points,
                                      spec.mre_restarts, spec.mre_steps, spec.mre_lr],
                                     sort_keys=True, default=list).encode()).hexdigest()[:16]


def _check_finished(spec: ModesSpec, out: Path, device: str) -> None:
    for setting in spec.settings():
        cfg = ensemble_config(spec, setting, device)
        ck = out / f"{_checkpoint_key(spec, cfg)}.pt"
        where = f"{spec.path}{f' [{spec.variant}]' if spec.variant else ''} setting {setting or 'the only one'}"
        if not ck.is_file():
            raise ValueError(f"{where}: no checkpoint for it in {out} (not trained there, or trained with another "
                             f"variant, setting or losses)")
        try:
            done = int(torch.load(ck, map_location="cpu", weights_only=True, mmap=True)["step"]) + 1  # step only
        except Exception as exc:  # a foreign or corrupt file: say which one
            raise ValueError(f"{where}: {ck} is not a readable training checkpoint ({exc})") from exc
        if done < cfg.steps:
            raise ValueError(f"{where}: not finished ({done} of {cfg.steps} steps in {ck.name}); run its command to "
                             f"the end first")


def _run_modes(spec: ModesSpec, out: Path | None, device: str, progress, finished_only: bool = False) -> ModesResult:
    t0 = time.time()
    metrics, mres, snaps = [], [], {}
    settings = spec.settings()
    if finished_only:
        _check_finished(spec, out, device)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    evals = spec.eval_steps()
    from .runs import check_fits

    for setting in settings:  # every setting's device and memory checked before the first one trains (issue 30)
        check_fits(ensemble_config(spec, setting, device), spec.n_eval, where=f"{spec.path}: setting {setting}")
    for si, setting in enumerate(settings):
        cfg = ensemble_config(spec, setting, device)
        runs = ensemble_runs(spec, setting)
        ck = None if out is None else out / f"{_checkpoint_key(spec, cfg)}.pt"
        part = _train_setting(spec, cfg, setting, runs, evals, ck, si, len(settings), progress)
        metrics += part["metrics"]
        mres += part.get("mre", [])
        for k, v in part["snapshots"].items():
            snaps[(_setting_key(setting), *k.split("|"))] = np.asarray(v)
    meta = {"spec": spec.path, "variant": spec.variant, "version": __version__, "git": git_revision(),
            "seconds": time.time() - t0, "threads": torch.get_num_threads(), "device": device}
    return ModesResult(spec, metrics, mres, snaps, meta)


def _train_setting(spec, cfg, setting, runs, evals, ck, si, n_settings, progress) -> dict:
    """Train one setting with :func:`lsgan_theory.ensemble.train` (the one loop: its checkpoint, resume, Ctrl-C
    save and freezing).  Its observer evaluates at ``evals`` and, after the last step, computes the MRE of the final
    generators; both are engine records, checkpointed with the state, so a finished setting's checkpoint is its whole
    result (a rerun loads it and trains nothing) and the study keeps no store of its own."""
    first = {r["loss"]: e for e, r in enumerate(runs) if r["replica"] == 0}

    def observe(obs: _trainer.Observation) -> dict:
        rec = {}
        if obs.step in evals:
            rows, x = _evaluate(spec, obs.run, obs.state, obs.step, setting, runs)
            rec |= {"metrics": rows,
                    "snapshots": {f"{loss}|{obs.step}": x[e].astype(np.float32).round(5).tolist()
                                  for loss, e in first.items()}}
        if obs.step == cfg.steps:
            rec["mre"] = _mre_rows(spec, cfg, obs.state.g_params, obs.state.bn_g, obs.state.diverged_step, setting,
                                   runs)
        if progress is not None and obs.step in evals:
            progress(si, n_settings, obs.step, cfg.steps)
        return rec

    res = _trainer.train(cfg, checkpoint=ck, checkpoint_every=spec.checkpoint_every, observe=observe,
                         observe_at=sorted(set(evals) | {cfg.steps}))
    recs = [rec for _, rec in res.observed]
    mre = [row for rec in recs for row in rec.get("mre", [])]
    if not mre and not any("mre" in rec for rec in recs):  # a checkpoint finished before the MRE was a record
        mre = _mre_rows(spec, cfg, res.g_params, res.extra.get("g_bn"), res.diverged_step, setting, runs)
    return {"metrics": [row for rec in recs for row in rec.get("metrics", [])],
            "snapshots": {k: v for rec in recs for k, v in rec.get("snapshots", {}).items()}, "mre": mre}


# ---------------------------------------------------------------------------------------------------- summaries






#: the metrics of an evaluation row and what summarize_modes reads from it
_METRICS = ("modes", "modes_20", "high_quality", "reverse_kl", "n_hq")


def summarize_modes(rows: list[dict], K: int, collapse_below: int | None = None) -> list[dict]:
    """Per (setting, loss, step): mean and 95 % interval over seeds of modes covered (≥ 1 and ≥ 20 high-quality
    samples), the high-quality fraction and the reverse KL, and the fraction of seeds that *collapsed* (covering
    fewer than ``collapse_below`` modes, default K, frozen seeds counted as collapsed) with its Wilson interval.

    Intervals respect each quantity's range: Student-t over seeds, clipped to [0, K] (modes), [0, 1] (high
    quality), [0, log K] (reverse KL) — a t-interval of a mean of bounded values can reach past the bound, the mean
    itself cannot.  The reverse KL exists only for a seed with at least one high-quality sample: its mean is over
    those seeds (``reverse_kl_seeds``); the seeds with none are listed by replica in ``no_hq_replicas`` (never
    dropped silently), and the numbers of high-quality samples it rests on are ``n_hq_min`` / ``n_hq_median`` /
    ``n_hq_max`` (over the seeds it is computed on).  Frozen (diverged) seeds count in ``frozen``."""
    thr = K if collapse_below is None else collapse_below
    bounds = {"modes": (0.0, float(K)), "modes_20": (0.0, float(K)), "high_quality": (0.0, 1.0),
              "reverse_kl": (0.0, math.log(K)) if K > 1 else (0.0, 0.0)}
    groups: dict = {}
    for r in rows:
        key = tuple((k, json.dumps(v)) for k, v in r.items()
                    if k not in ("replica", "model_id", "frozen") + _METRICS)
        groups.setdefault(key, []).append(r)
    out = []
    for key, rs in groups.items():
        row = {k: json.loads(v) for k, v in key}
        row["seeds"] = len(rs)
        live = [r for r in rs if not r.get("frozen") and math.isfinite(r["modes"])]
        row["frozen"] = len(rs) - len(live)
        with_hq = [r for r in live if math.isfinite(r["reverse_kl"])]
        for m, (lo_b, hi_b) in bounds.items():
            mean, lo, hi = t_interval([r[m] for r in (with_hq if m == "reverse_kl" else rs)])
            if math.isfinite(mean):
                lo, hi = max(lo, lo_b), min(hi, hi_b)
            row.update({m: mean, f"{m}_lo": lo, f"{m}_hi": hi})
        nh = [float(r["n_hq"]) for r in with_hq if "n_hq" in r and math.isfinite(r["n_hq"])]
        row.update(reverse_kl_seeds=len(with_hq),
                   no_hq_replicas=sorted(r["replica"] for r in live if not math.isfinite(r["reverse_kl"])),
                   n_hq_min=min(nh) if nh else math.nan, n_hq_median=float(np.median(nh)) if nh else math.nan,
                   n_hq_max=max(nh) if nh else math.nan)
        n_col = sum(1 for r in rs if not (r["modes"] >= thr))  # NaN (frozen) counts as collapsed
        p, lo, hi = wilson_interval(n_col, len(rs))
        row.update(collapsed=p, collapsed_lo=lo, collapsed_hi=hi, n_collapsed=n_col)
        out.append(row)
    return out


def collapse_step(rows: list[dict], K: int, collapse_below: int | None = None) -> list[dict]:
    """Per run: the first evaluation step at which it covers fewer than ``collapse_below`` (default K) modes after
    having covered at least that many earlier (``None`` when it never collapsed; ``"start"`` when it never covered
    them), for checking Mao's "collapse from about step 15k" on the trajectories."""
    thr = K if collapse_below is None else collapse_below
    by: dict = {}
    for r in rows:
        by.setdefault(r["model_id"], []).append(r)
    out = []
    for mid, rs in by.items():
        rs = sorted(rs, key=lambda r: r["step"])
        covered, first = False, None
        for r in rs:
            if r["modes"] >= thr:
                covered = True
            elif covered and first is None:
                first = r["step"]
        out.append({k: v for k, v in rs[-1].items() if k not in ("step", "frozen") + _METRICS}
                   | {"collapse_step": first if covered else "start", "final_modes": rs[-1]["modes"]})
    return out
