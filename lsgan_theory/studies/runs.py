"""One configuration or a small grid as one ensemble: build it, train it, evaluate it, write a results folder.

Used by ``lsgan-theory train``.  A grid is the Cartesian product of per-model values (e.g. λ ∈ {0.5, 2, 8} ×
3 seeds = 9 models); every grid point is one model of a single batched run, with stream id = its position, so adding
a grid point never changes the others.

Files written to ``out``: ``results.csv`` (one row per model: its hyperparameters, final objectives, divergence and
the evaluation metrics), ``curves.csv`` (tidy per-step objectives), ``meta.json`` (config, seed, version, git
revision, device, seconds) and ``checkpoint.pt`` (the full training state, for resuming an interrupted run).

Output-folder rules (:func:`prepare_output`): every results file is written atomically (``NAME.tmp-<pid>`` then a
rename); temporary files ``*.tmp-<pid>`` of processes that no longer run are removed when a run starts; a *fresh*
start (``resume=False``, or no checkpoint to resume) first moves the previous run's files (:data:`RESULT_FILES`,
``training_curves.*`` and the checkpoint, the checkpoint last) into ``out/.previous-<UTC time>/``, so that a killed
fresh start never leaves old results beside a new checkpoint.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import os
import time
from pathlib import Path

import numpy as np

from .. import densities as _densities
from .. import families as _families
from .. import metrics as _metrics
from .. import output as _output
from .. import resources as _resources
from .. import validate as _validate
from ..ensemble.pushforward import PIECEWISE_LINEAR, exact_density
from .theorem1 import generator_metrics
from ..ensemble import PER_MODEL, TrainConfig, TrainResult, train

__all__ = ["grid_config", "evaluate", "run_and_write", "metric_names", "prepare_output", "checkpoint_step",
           "estimate_memory", "check_fits", "RESULT_FILES", "FIGURE_STEMS", "family_ignores"]

# Files of one run, moved aside together by a fresh start (the checkpoint is moved last, see prepare_output).
RESULT_FILES = ("results.csv", "curves.csv", "meta.json")
FIGURE_STEMS = ("training_curves",)


def grid_config(grid: dict, seeds: int = 1, *, by_family: bool = False, **fixed) -> tuple[TrainConfig, list[dict]]:
    """A :class:`TrainConfig` with one model per point of ``grid`` × ``seeds`` replicas.

    ``grid`` maps names of ``PER_MODEL`` fields to lists of values; ``fixed`` are the other TrainConfig fields.
    Replica r of a grid point differs only by its stream id (hence its initialisation, noise and data).
    With ``by_family=True`` a family's grid leaves out the parameters it ignores (:func:`family_ignores`): e.g.
    ``{"family": ["gan", "loss_sensitive"], "lam": [0.1, 10]}`` gives 3 points (gan; loss_sensitive × 2 λ), not 4,
    and the gan row's ``lam`` is ``None`` (its model gets the TrainConfig default, which it does not use).
    Returns the config and, per model, the dict of its grid values (plus ``replica``).
    """
    for k in grid:
        if k not in PER_MODEL:
            raise ValueError(f"grid: {k!r} cannot vary per model; per-model fields are {PER_MODEL}")
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise ValueError(f"seeds: must be an integer >= 1, got {seeds!r}")
    # counted before any model is built (train --seeds 10**9 must be refused at once, not after minutes)
    _validate.expansion("seeds/grid (--seeds and the per-model lists)",
                        {**{k: len(v) for k, v in grid.items()}, "seeds": seeds}, what="models")
    keys = list(grid)
    if by_family and "family" in grid:
        points = []
        for fam in grid["family"]:
            ignored = set(family_ignores(_families.canonical(fam)))
            ks = [k for k in keys if k != "family" and k not in ignored]
            for vals in itertools.product(*(list(grid[k]) for k in ks)):
                vals = dict(zip(ks, vals))
                points.append({k: fam if k == "family" else vals.get(k) for k in keys})
    else:
        points = [dict(zip(keys, vals)) for vals in itertools.product(*(list(grid[k]) for k in keys))]
    rows = [dict(p, replica=r) for p in points for r in range(seeds)]
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    per_model = {k: tuple(defaults[k] if row[k] is None else row[k] for row in rows) for k in keys}
    return TrainConfig(n_models=len(rows), **per_model, **fixed), rows


def family_ignores(family: str) -> tuple[str, ...]:
    """Trainer fields that are some family's own parameter but not ``family``'s (e.g. ``lam`` for ``gan``).

    From the registry :data:`lsgan_theory.families.FAMILIES` (``Family.params``).  Options of any critic
    (``gp_weight``, ``clip``, ``spectral_norm``, learning rates) are never in this set.
    """
    own = {p for p, _ in _families.get(family).params}
    every = {p for f in _families.FAMILIES.values() for p, _ in f.params}
    return tuple(sorted(every - own))


EXACT_METRICS = ("l1_exact", "l1_exact_abserr", "w1_exact", "ratio_inf", "mass_outside", "atom_mass")
# issue 29: the equilibrium certificates of an LS-GAN pair with an exact generator density
# (:func:`lsgan_theory.studies.certificates.model_certificates`, 64 grid cells); ``certified`` is 1.0 or 0.0
CERTIFICATE_METRICS = ("critic_gap", "critic_gap_err", "gen_gap", "gen_gap_err", "gen_gap_lp", "gen_gap_lp_err",
                       "lip_ratio", "clip_fraction", "off_mass", "certified")
CERTIFICATE_NODES = 64


def metric_names(target, config: TrainConfig | None = None) -> tuple[str, ...]:
    """The metric columns :func:`evaluate` produces for a target density (spec string or Density).

    Decided by the target (and, for the exact metrics, the generator's architecture in ``config``) alone (1-D: w1,
    ks, l1 with its noise floor, plus :data:`EXACT_METRICS` for a piecewise-linear generator with 1-D noise; 2-D:
    w1, mmd2 and, for targets with mode ``centres``, PacGAN's modes / high_quality / reverse_kl), so that the columns
    exist even when every model diverged.
    """
    t = _densities.parse(target) if isinstance(target, str) else target
    if t.dim == 1:
        base = ("w1", "ks", "l1", "l1_noise_floor", "l1_noise_floor_std")
        if config is not None and _exact_possible(t, config):
            base += EXACT_METRICS
            if set(config.per_model("family")) == {"loss_sensitive"}:
                base += CERTIFICATE_METRICS
        return base
    return ("w1", "mmd2") + (("modes", "high_quality", "reverse_kl") if hasattr(t, "centres") else ())


def _exact_possible(target, config: TrainConfig) -> bool:
    return target.dim == 1 and config.noise_dim == 1 and config.activation in PIECEWISE_LINEAR


def evaluate(result: TrainResult, n_eval: int = 2000, seed: int = 0) -> list[dict]:
    """Metrics of each model's final generator against the target (n_eval generated samples per model).

    1-D: W1 to the target CDF, KS, L1 to the pdf with its noise floor; and when the generator is a piecewise-linear
    MLP with 1-D noise (``relu`` / ``leaky_relu``, ``noise_dim = 1``), the *exact* metrics of its pushforward density
    (:func:`lsgan_theory.studies.theorem1.generator_metrics`): ``l1_exact`` (∫|p − q̂|, atoms included) with
    ``l1_exact_abserr``, ``w1_exact``, ``ratio_inf`` (ess inf p/q̂ on q̂'s mass, Theorem 1 (i)), ``mass_outside``
    (q̂'s mass outside a compact support of p) and ``atom_mass``; for an LS-GAN (``family = "loss_sensitive"``) also
    the equilibrium certificates :data:`CERTIFICATE_METRICS` (:mod:`lsgan_theory.studies.certificates`: critic gap,
    generator gaps against L̂ and the LP critic with their halving errors, Lip(L̂)/τ, clipping fraction, certified).  2-D: exact W1 between n_eval (≤ 1000)
    generated and target samples, MMD², and for Ring/Grid targets PacGAN's modes / high-quality / reverse KL.
    Frozen (diverged) models get an empty dict (their metrics are missing, written as empty cells).
    """
    target = _densities.parse(result.config.target)
    exact = _exact_possible(target, result.config)
    certs = None
    if exact and set(result.config.per_model("family")) == {"loss_sensitive"}:
        from .certificates import model_certificates

        certs = model_certificates(result, nodes=CERTIFICATE_NODES)
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
            if exact:
                m = generator_metrics(target, exact_density(result.g_params, result.config.activation, model=e))
                row.update(l1_exact=m.l1, l1_exact_abserr=m.l1_abserr, w1_exact=m.w1, ratio_inf=m.ratio_inf,
                           mass_outside=m.mass_outside, atom_mass=m.atom_mass)
            if certs is not None and certs[e] is not None:
                c = certs[e].as_dict()
                row.update({k: float(c[k]) for k in CERTIFICATE_METRICS})
        else:
            k = min(n_eval, 1000)
            ref = target.sample(k, rng)
            row.update(w1=_metrics.w1_samples(x[e, :k], ref), mmd2=_metrics.mmd2(x[e, :k], ref))
            if hasattr(target, "centres"):
                ms = _metrics.mode_statistics(x[e], target.centres, target.std)
                row.update(modes=ms.modes, high_quality=ms.high_quality, reverse_kl=ms.reverse_kl)
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------------- memory
def estimate_memory(config: TrainConfig, n_eval: int = 2000) -> dict:
    """Bytes a run of ``config`` plus :func:`evaluate` with ``n_eval`` samples needs, by part (an upper estimate).

    The training parts are :meth:`TrainConfig.estimate_memory` (data, parameters, activations, margins); to them
    ``evaluation`` adds E·n_eval·(z + 2W + d)·8 bytes (the float64 generator pass over the evaluation noise, with E
    models, noise dimension z, widest hidden layer W and data dimension d).  Returns a dict of the parts and ``total``.
    """
    parts = {k: v for k, v in config.estimate_memory().items() if k != "total"}
    d = _densities.parse(config.target).dim
    W = max(list(config.g_hidden) + list(config.d_hidden))
    parts["evaluation"] = config.n_models * n_eval * (config.noise_dim + 2 * W + d) * 8
    parts["total"] = sum(parts.values())
    return parts


def check_fits(config: TrainConfig, n_eval: int = 2000, max_memory: int | None = None, where: str = "") -> None:
    """Refuse, before any work, a run that cannot start or would not fit (issue 30): its device must exist
    (:func:`~lsgan_theory.ensemble.resolve_device`: ``cuda`` without a CUDA device is a ``ValueError``) and
    :func:`estimate_memory` (``TrainConfig.estimate_memory`` plus the evaluation) must stay below half the memory
    available on that device (or ``max_memory`` bytes).  ``where`` prefixes the message (e.g. the spec file and
    setting).  Used by ``train``, ``sweep`` (every pack) and ``modes`` (every setting) before the first step."""
    from ..ensemble import resolve_device

    try:
        device = resolve_device(config.device)
        _check_memory(config, n_eval, max_memory, device)
    except ValueError as exc:
        raise type(exc)(f"{where}{': ' if where else ''}{exc}") from None


def _check_memory(config: TrainConfig, n_eval: int, max_memory: int | None, device=None) -> None:
    if not isinstance(n_eval, int) or isinstance(n_eval, bool) or n_eval < 2:
        raise ValueError(f"n_eval (--eval-samples): the number of evaluation samples must be an integer >= 2 (the "
                         f"two-sample metrics need two), got {n_eval!r}")
    need = estimate_memory(config, n_eval)
    if max_memory is None:
        limit = int(0.5 * _resources.available_memory(device if getattr(device, "type", "cpu") == "cuda" else None))
    else:
        limit = int(max_memory)
    if need["total"] > limit:
        parts = ", ".join(f"{k} {_gib(v)}" for k, v in need.items() if k != "total")
        raise ValueError(f"memory: this run needs about {_gib(need['total'])} ({parts}; "
                         f"{config.n_models} models, batch {config.batch}, width {max(config.d_hidden + config.g_hidden)}"
                         f", n_data {max(config.per_model('n_data'))}, eval samples {n_eval}), more than the allowed "
                         f"{_gib(limit)} (half the available memory); use smaller sizes")


def _gib(n: int) -> str:
    return f"{n / 2**30:.3g} GiB" if n >= 2**30 else f"{n / 2**20:.3g} MiB"


# ---------------------------------------------------------------------------------------------------- the folder
def _atomic_write(path: Path, text: str) -> None:
    from ..output import write_text

    write_text(path, text, what="--out")  # the package's atomic writer: no temporary file left on any error


def checkpoint_step(path) -> int | None:
    """The last completed step recorded in a training checkpoint, or ``None`` when ``path`` does not exist.

    Raises ``ValueError`` naming the path when it is a folder, unreadable, truncated or not a training checkpoint
    (``torch.load`` with ``weights_only=True``: a foreign pickle is refused, never executed).
    """
    import torch

    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return None
    if path.is_dir():
        raise ValueError(f"checkpoint: {str(path)!r} is a folder, not a training checkpoint; move it away or use "
                         f"--restart")
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt, truncated, foreign, unreadable: one message naming the file
        msg = " ".join(str(exc).split()).split(". ")[0][:160]
        raise ValueError(f"checkpoint: {str(path)!r} is not a readable training checkpoint ({type(exc).__name__}: "
                         f"{msg}); delete it or use --restart") from None
    step = ck.get("step") if isinstance(ck, dict) else None
    if not isinstance(step, int) or "config" not in ck:
        raise ValueError(f"checkpoint: {str(path)!r} is not a training checkpoint (no step/config); delete it or use "
                         f"--restart")
    return step


def prepare_output(out, *, resume: bool = True, checkpoint_name: str = "checkpoint.pt", what: str = "out") -> dict:
    """Make ``out`` ready for a run; return ``{"removed_tmp": [...], "previous": path or None, "resume_step": k}``.

    1. ``out`` is created; an existing non-folder, or a folder that cannot be written, raises ``ValueError``
       naming ``what`` (the argument: ``out``, the CLI's ``--out``) and the path (before any training;
       :func:`lsgan_theory.output.writable_folder`).
    2. ``*.tmp-<pid>`` files whose process no longer runs are removed (left by a run killed mid-write;
       :func:`lsgan_theory.output.remove_stale_temporaries`).
    3. With ``resume`` and a valid checkpoint, nothing else changes (``resume_step`` = its last completed step); a
       corrupt checkpoint raises ``ValueError``.  Otherwise (``resume=False``, or no checkpoint) the previous run's
       files are moved, each by one rename, into ``out/.previous-<UTC time>/``, the checkpoint last: at every instant
       the folder holds either the old checkpoint or none of the old results beside a new one.
    """
    out = _output.writable_folder(out, what=what)
    removed = _output.remove_stale_temporaries(out)
    ck = out / checkpoint_name
    step = checkpoint_step(ck) if resume else None
    previous = None
    if step is None:
        names = [n for n in RESULT_FILES if (out / n).exists()]
        names += sorted(f.name for stem in FIGURE_STEMS for f in out.glob(f"{stem}.*") if not _output.is_temporary(f.name))
        if ck.exists() or ck.is_symlink():
            names.append(checkpoint_name)  # last
        if names:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            previous = out / f".previous-{stamp}"
            k = 1
            while previous.exists():
                k += 1
                previous = out / f".previous-{stamp}-{k}"
            previous.mkdir()
            for n in names:
                os.replace(out / n, previous / n)
    return {"removed_tmp": removed, "previous": None if previous is None else str(previous), "resume_step": step}


def run_and_write(config: TrainConfig, grid_rows: list[dict], out: Path, n_eval: int = 2000, *,
                  callback=None, checkpoint_every: int | None = None, resume: bool = True, announce=None,
                  max_memory: int | None = None, what: str = "out") -> dict:
    """Train ``config``, evaluate every model, write the results folder; return a JSON-able summary.

    Before anything else the memory the run needs (:func:`estimate_memory`) is compared with half the available
    memory (or ``max_memory`` bytes) and a larger run is refused with ``ValueError`` giving the estimate; then
    :func:`prepare_output` readies ``out`` (an error names ``what``; ``announce(message)``, if given, is told about a resumed checkpoint or
    previous results moved aside).  Training state goes to ``out/checkpoint.pt`` (every ``checkpoint_every`` steps,
    default ~5 % of the run); an interrupted run started again with the same config and ``out`` resumes there,
    bitwise identical to an uninterrupted one (``resume=False`` moves the old checkpoint and results aside first).
    Results files are written only at the end, each atomically.  Metric columns are those of :func:`metric_names`
    (empty cells for diverged models); a model's cell of a parameter its family ignores (``family_ignores``) is empty.
    """
    out = Path(out)
    check_fits(config, n_eval, max_memory)
    prep = prepare_output(out, resume=resume, what=what)
    if announce is not None:
        if prep["resume_step"] is not None:
            announce(f"resuming from {out / 'checkpoint.pt'} ({prep['resume_step'] + 1}/{config.steps} steps done)")
        if prep["previous"] is not None:
            announce(f"previous results moved to {prep['previous']}")
        for f in prep["removed_tmp"]:
            announce(f"removed stale temporary file {f}")
    res = train(config, callback=callback, checkpoint=out / "checkpoint.pt", checkpoint_every=checkpoint_every)
    evals = evaluate(res, n_eval=n_eval, seed=config.seed)
    ids = config.ids()
    metrics = metric_names(config.target, config)
    fams = config.per_model("family")
    table = []
    for e, (g, ev) in enumerate(zip(grid_rows, evals)):
        row = {"model": e, "model_id": ids[e], **{k: config.per_model(k)[e] for k in PER_MODEL}, **g,
               "final_loss_d": float(res.loss_d[e, -1]), "final_loss_g": float(res.loss_g[e, -1]),
               "diverged_step": int(res.diverged_step[e])}
        for k in family_ignores(fams[e]):
            if k in row:
                row[k] = None
        row.update({k: ev.get(k) for k in metrics})
        table.append(row)
    _write_csv(out / "results.csv", table)
    _write_csv(out / "curves.csv", res.tidy())
    meta = res.meta()
    _atomic_write(out / "meta.json", _output.dumps(meta) + "\n")
    return {"out": str(out), "results": table, "meta": meta, "result": res, "moved_previous": prep["previous"]}


def _write_csv(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)  # None (a metric of a diverged model, an ignored parameter) -> empty cell
    _atomic_write(path, buf.getvalue())
