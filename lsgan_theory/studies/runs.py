"""One configuration or a small grid as one ensemble: build it, train it, evaluate it, write a results folder.

Used by ``lsgan-theory train``.  A grid is the Cartesian product of per-model values (e.g. λ ∈ {0.5, 2, 8} ×
3 seeds = 9 models); every grid point is one model of a single batched run, with stream id = its position, so adding
a grid point never changes the others.

Files written to ``out``: ``results.csv`` (one row per model: its hyperparameters, final objectives, divergence and
the evaluation metrics), ``curves.csv`` (tidy per-step objectives), ``meta.json`` (config, seed, version, git
revision, device, seconds) and ``checkpoint.pt`` (the full training state, for
resuming an interrupted run).
"""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import numpy as np

from .. import densities as _densities
from .. import metrics as _metrics
from ..ensemble import PER_MODEL, TrainConfig, TrainResult, train

__all__ = ["grid_config", "evaluate", "run_and_write"]


def grid_config(grid: dict, seeds: int = 1, **fixed) -> tuple[TrainConfig, list[dict]]:
    """A :class:`TrainConfig` with one model per point of ``grid`` × ``seeds`` replicas.

    ``grid`` maps names of ``PER_MODEL`` fields to lists of values; ``fixed`` are the other TrainConfig fields.
    Replica r of a grid point differs only by its stream id (hence its initialisation, noise and data).
    Returns the config and, per model, the dict of its grid values (plus ``replica``).
    """
    for k in grid:
        if k not in PER_MODEL:
            raise ValueError(f"grid: {k!r} cannot vary per model; per-model fields are {PER_MODEL}")
    if not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds: must be an integer >= 1, got {seeds!r}")
    keys = list(grid)
    points = [dict(zip(keys, vals)) for vals in itertools.product(*(list(grid[k]) for k in keys))]
    rows = [dict(p, replica=r) for p in points for r in range(seeds)]
    per_model = {k: tuple(row[k] for row in rows) for k in keys}
    return TrainConfig(n_models=len(rows), **per_model, **fixed), rows


def evaluate(result: TrainResult, n_eval: int = 2000, seed: int = 0) -> list[dict]:
    """Metrics of each model's final generator against the target (n_eval generated samples per model).

    1-D: W1 to the target CDF, KS, L1 to the pdf with its noise floor.  2-D: exact W1 between n_eval (≤ 1000)
    generated and target samples, MMD², and for Ring/Grid targets PacGAN's modes / high-quality / reverse KL.
    Frozen (diverged) models get NaN.
    """
    target = _densities.parse(result.config.target)
    x = result.sample(n_eval)
    rng = np.random.default_rng([seed, 12345])
    rows = []
    for e in range(x.shape[0]):
        row: dict = {}
        if result.diverged[e] or not np.isfinite(x[e]).all():
            rows.append(row)
            continue
        if target.dim == 1:
            s = x[e, :, 0]
            l1 = _metrics.l1_to_pdf(s, target, rng=rng)
            row.update(w1=_metrics.w1_to_cdf(s, target), ks=_metrics.ks_to_cdf(s, target), l1=l1.value,
                       l1_noise_floor=l1.noise_floor, l1_noise_floor_std=l1.noise_floor_std)
        else:
            k = min(n_eval, 1000)
            ref = target.sample(k, rng)
            row.update(w1=_metrics.w1_samples(x[e, :k], ref), mmd2=_metrics.mmd2(x[e, :k], ref))
            if hasattr(target, "centres"):
                ms = _metrics.mode_statistics(x[e], target.centres, target.std)
                row.update(modes=ms.modes, high_quality=ms.high_quality, reverse_kl=ms.reverse_kl)
        rows.append(row)
    return rows


def run_and_write(config: TrainConfig, grid_rows: list[dict], out: Path, n_eval: int = 2000, *,
                  callback=None, checkpoint_every: int | None = None, resume: bool = True) -> dict:
    """Train ``config``, evaluate every model, write the results folder; return a JSON-able summary.

    Training state goes to ``out/checkpoint.pt`` (every ``checkpoint_every`` steps, default ~5 % of the run); an
    interrupted run started again with the same config and ``out`` resumes there, bitwise identical to an
    uninterrupted one (``resume=False`` deletes the checkpoint first).  Results files are written only at the end.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ck = out / "checkpoint.pt"
    if not resume and ck.exists():
        ck.unlink()
    res = train(config, callback=callback, checkpoint=ck, checkpoint_every=checkpoint_every)
    evals = evaluate(res, n_eval=n_eval, seed=config.seed)
    ids = config.ids()
    table = []
    for e, (g, ev) in enumerate(zip(grid_rows, evals)):
        row = {"model": e, "model_id": ids[e], **{k: config.per_model(k)[e] for k in PER_MODEL}, **g,
               "final_loss_d": float(res.loss_d[e, -1]), "final_loss_g": float(res.loss_g[e, -1]),
               "diverged_step": int(res.diverged_step[e])}
        row.update({k: ev.get(k, float("nan")) for k in _metric_keys(evals)})
        table.append(row)
    _write_csv(out / "results.csv", table)
    _write_csv(out / "curves.csv", res.tidy())
    meta = res.meta()
    (out / "meta.json").write_text(json.dumps(meta, indent=2, default=str))
    return {"out": str(out), "results": table, "meta": meta, "result": res}


def _metric_keys(evals: list[dict]) -> list[str]:
    keys: list[str] = []
    for ev in evals:
        for k in ev:
            if k not in keys:
                keys.append(k)
    return keys


def _write_csv(path: Path, rows: list[dict]) -> None:
    if not rows:
        path.write_text("")
        return
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
