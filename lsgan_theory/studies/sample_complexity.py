"""Sample complexity on trained GANs and the GLS-GAN family (THEORY.md §5 "Generalisation", §6; issue 16, items 2–5).

Four experiments, each a sweep spec in ``experiments/`` run through the sweeps machinery (store, packs, resume) with
the executor of this module, which trains a pack with :func:`lsgan_theory.ensemble.train` (:func:`train_probed`: its
observer probes the hinge-active fraction at every recorded step) and measures what the experiment needs:

* **critic generalisation** (``fixed_generator`` set, no generator training): an LS-GAN loss network L_θ̂ trained on m
  real samples against a fixed generator q.  Which gap (THEORY.md §5 asks to say): the *train–test gap of the
  learned loss at its trained parameters*, ``optimism`` = S(θ̂_m) − S_m(θ̂_m), and its absolute value ``abs_gap``,
  where S_m averages g_θ(x) = L(x) + λ E_z (τ|x − z| + L(x) − L(z))_+ over the m training points and S over p;
  the expectation over z ~ q is the same K-node quantile rule in both, so the gap is the real-sample part alone.
  S(θ̂) is a J-node quantile rule on p (its error = the difference to the J/2 rule, carried into intervals);
  ``fresh_gap`` = |S'_m(θ̂) − S(θ̂)| on an independent m-sample is the pure sampling noise at fixed θ (the
  same-size floor: what |gap| would be with no fitting at all).  Both |S_m − S| at θ̂ and S*_m − S* are bounded by
  sup_θ |S_m(θ) − S(θ)|, the quantity of the paper's bound.
* **data generalisation** (1-D, piecewise-linear generator): exact W1(p, q̂) and ∫|p − q̂| (pushforward density),
  next to ``w1_data`` = W1(p, p̂_m) of the m samples the model trained on and ``w1_gen_data`` = W1(q̂, p̂_m).
* **GLS-GAN family** (1-D): the exact metrics plus the hinge-active fraction over training (:func:`hinge_active`).
* **2-D mixture**: sample W1 and MMD² to fresh target samples with their same-size floors (two independent target
  samples of the same size), mode statistics, and W1 of the training data to a fresh sample of the same size.

The readers (:func:`read_critic_gap`, :func:`read_data_generalisation`, :func:`read_gls_family`,
:func:`read_mixture_2d`) turn the results table into slopes with bootstrap intervals over seeds (:func:`fit_power`)
and per-setting means with Student-t intervals; claims (``lsgan_theory._claims.sample_complexity``) turn those into
verdicts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import densities as _densities
from .. import metrics as _metrics
from ..ensemble import TrainResult, mlp as _mlp, rng as _rng
from ..ensemble import trainer as _trainer
from ..ensemble.pushforward import PIECEWISE_LINEAR, exact_density
from .stats import PowerFit, fit_power, spearman_bootstrap, t_interval, wilson_interval
from .theorem1 import generator_metrics

__all__ = ["EXPERIMENTS", "PROBE_STREAM", "train_probed", "hinge_active", "critic_objectives", "model_metrics",
           "SampleComplexityExecutor", "run_experiment", "PowerFit", "fit_power", "rate_check",
           "CriticGapReading", "read_critic_gap", "DataGeneralisationReading", "read_data_generalisation",
           "GLSReading", "read_gls_family", "Mixture2DReading", "read_mixture_2d", "critic_parameter_count",
           "QUAD_NODES", "train_exact_l1", "train_measured", "grid_lipschitz"]

#: experiment name (the spec's ``[sweep] name``) -> its spec file under ``experiments/``
EXPERIMENTS = {"critic_generalisation": "critic_generalisation.toml",
               "data_generalisation": "data_generalisation.toml",
               "gls_nu": "gls_nu.toml",
               "mixture_2d": "mixture_2d.toml",
               "critic_capacity": "critic_capacity.toml"}
PROBE_STREAM = 1001   # noise / data stream of the hinge probe (never used by training)
_FRESH_STREAM = 1002  # the independent same-size samples (fresh floors)
QUAD_NODES = 4096     # J and K of the quantile rules of the critic objectives


# ------------------------------------------------------------------------------------------------ training
def _loss_of(family: str, out: torch.Tensor, loss_output: str) -> torch.Tensor:
    """The loss L(x) a family's network output stands for: LS-GAN → ``loss_output`` map (softplus: L ≥ 0);
    GLS-GAN → the output itself; a WGAN critic f → L = −f (THEORY.md §6: ν = 1 is the WGAN problem for f = −L)."""
    if family == "loss_sensitive":
        return _trainer.LOSS_OUTPUTS[loss_output](out)
    if family == "wgan":
        return -out
    return out


def hinge_active(d_out_real: torch.Tensor, d_out_fake: torch.Tensor, x: torch.Tensor, fake: torch.Tensor, families,
                 tau, loss_output: str = "softplus") -> np.ndarray:
    """Fraction of (x, z) pairs whose cost argument a = τ|x − z|₁ + L(x) − L(z) is > 0, per model, (E,).

    For ν = 0 (and LS-GAN) these are exactly the pairs whose hinge contributes (C(a) = a there, 0 elsewhere); for
    other ν they are the pairs on the identity branch of C_ν(a) = max(a, νa).  THEORY.md §5 "Hinge inactivity": with
    L κ-Lipschitz, κ ≤ 1 (in units of τ), every pair is active and LS-GAN is WGAN-like.  Inputs: network outputs
    (E, n) and (E, m), samples (E, n, d), (E, m, d); ``families``, ``tau``: per model.
    """
    out = np.empty(len(families))
    with torch.no_grad():
        for e, fam in enumerate(families):
            lr = _loss_of(fam, d_out_real[e], loss_output)
            lf = _loss_of(fam, d_out_fake[e], loss_output)
            margin = float(tau[e]) * (x[e][:, None, :] - fake[e][None, :, :]).abs().sum(-1)
            a = margin + lr[:, None] - lf[None, :]
            out[e] = float((a > 0).double().mean())
    return out


def _probe(run, state, px: torch.Tensor, pz: torch.Tensor) -> np.ndarray:
    c = run.config
    fams = c.per_model("family")
    with torch.no_grad():
        weights = _mlp.spectral_normalize(state.d_params, state.sn_u, run.sn_on)[0] if run.use_sn else None
        if run.fixed_g is not None:
            fake = pz
        else:
            fake = _mlp.mlp_forward(state.g_params, pz, c.activation)
        dr = _mlp.mlp_forward(state.d_params, px, c.activation, weights=weights).squeeze(-1)
        df = _mlp.mlp_forward(state.d_params, fake, c.activation, weights=weights).squeeze(-1)
    frac = hinge_active(dr, df, px, fake, fams, c.per_model("tau"), c.loss_output)
    return np.where(state.active.cpu().numpy(), frac, np.nan)


def train_probed(config, *, probe: int = 128, checkpoint=None, checkpoint_every: int | None = None):
    """Train ``config`` with :func:`lsgan_theory.ensemble.train` (the one training loop: resume, Ctrl-C save and
    freezing are its own) and probe the hinge-active fraction at every recorded step, through its observer.

    The probe: ``probe`` fresh target samples and ``probe`` generated samples per model (fixed over training, stream
    :data:`PROBE_STREAM`; for a fixed generator, its quantiles), all pairs (:func:`hinge_active`).  ``checkpoint``,
    ``checkpoint_every``: as in :func:`~lsgan_theory.ensemble.train` (the probe's records are checkpointed too).

    Returns
    -------
    result : TrainResult
    setup : the trainer's Setup (its ``data``: each model's data set)
    hinge : array (E, S), the fraction at the recorded steps ``result.steps`` (NaN once a model is frozen)
    """
    run = _trainer.setup(config)
    c = config
    E, d = c.n_models, run.data.shape[-1]
    target = _densities.parse(c.target)
    px = np.stack([target.sample(probe, np.random.default_rng([c.seed, mid, PROBE_STREAM])).reshape(probe, d)
                   for mid in c.ids()])
    px = torch.tensor(px, dtype=run.dtype, device=run.device)
    if run.fixed_g is not None:
        u = (np.arange(probe) + 0.5) / probe
        pz = torch.tensor(np.broadcast_to(run.fixed_g.ppf(u)[None, :, None], (E, probe, 1)).copy(), dtype=run.dtype,
                          device=run.device)
    else:
        pz = _rng.normal(c.seed, run.ids, PROBE_STREAM, 0, (probe, c.noise_dim), dtype=run.dtype)

    def observe(obs: _trainer.Observation) -> dict:
        return {"hinge": torch.as_tensor(_probe(obs.run, obs.state, px, pz))}

    res = _trainer.train(config, checkpoint=checkpoint, checkpoint_every=checkpoint_every, observe=observe)
    return res, run, np.stack([rec["hinge"].numpy() for _, rec in res.observed], axis=1)


# ------------------------------------------------------------------------------------------------ measurements
def critic_parameter_count(d_hidden, dim: int = 1) -> int:
    """N = Σ_l (d_l + 1) d_{l+1} of the loss network dim → d_hidden → 1."""
    return _mlp.MLPSpec((dim, *[int(w) for w in d_hidden], 1)).n_params()


def _quantile_nodes(p: _densities.Density, n: int) -> np.ndarray:
    return p.ppf((np.arange(n) + 0.5) / n)


def critic_objectives(loss_fn, p, q, train_x, lam: float, tau: float, *, nodes: int | None = None,
                      fresh_x=None) -> dict:
    """The LS-GAN objective of one fixed loss function on the training sample and on the population (1-D).

    g(x) = L(x) + λ · (1/K) Σ_k (τ|x − z_k| + L(x) − L(z_k))_+ with z_k = F_q⁻¹((k + ½)/K), K = ``nodes``;
    S_m = mean of g over ``train_x``; S = mean of g over x_j = F_p⁻¹((j + ½)/J), J = ``nodes``, with the error
    estimate |S(J) − S(J/2)|; S'_m on ``fresh_x`` when given.  ``loss_fn``: array (n,) → L (n,) (float64).

    Returns ``{"s_emp", "s_pop", "s_pop_err", "s_fresh", "g_sd"}`` (``g_sd``: the standard deviation of g under p,
    so that σ/√m is the sampling scale of S_m at fixed θ).  ``nodes`` defaults to :data:`QUAD_NODES`.
    """
    nodes = QUAD_NODES if nodes is None else int(nodes)
    if nodes < 2:
        raise ValueError(f"nodes: the quantile rules need at least 2 nodes, got {nodes!r}")
    z = _quantile_nodes(q, nodes)
    lz = loss_fn(z)

    def g(x):
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        lx = loss_fn(x)
        out = np.empty_like(x)
        for i in range(0, x.size, 512):
            a = tau * np.abs(x[i:i + 512, None] - z[None, :]) + lx[i:i + 512, None] - lz[None, :]
            out[i:i + 512] = np.maximum(a, 0.0).mean(1)
        return lx + lam * out

    gp = g(_quantile_nodes(p, nodes))
    gp2 = g(_quantile_nodes(p, nodes // 2))
    res = {"s_emp": float(g(train_x).mean()), "s_pop": float(gp.mean()),
           "s_pop_err": float(abs(gp.mean() - gp2.mean())), "g_sd": float(gp.std())}
    res["s_fresh"] = float(g(fresh_x).mean()) if fresh_x is not None else math.nan
    return res


def grid_lipschitz(loss_fn, p, q, points: int = 4001) -> float:
    """max |L(x_{k+1}) − L(x_k)| / (x_{k+1} − x_k) on ``points`` equally spaced x covering both densities' 1e-4 … 1 − 1e-4
    quantiles: the loss's Lipschitz constant where the objective reads it (a lower bound on the global one; for a
    ReLU network, piecewise linear, exact up to the pieces narrower than the grid step)."""
    lo = min(float(p.ppf(1e-4)), float(q.ppf(1e-4)))
    hi = max(float(p.ppf(1 - 1e-4)), float(q.ppf(1 - 1e-4)))
    x = np.linspace(lo, hi, int(points))
    return float(np.max(np.abs(np.diff(loss_fn(x)))) / (x[1] - x[0]))


def _critic_fn(result: TrainResult, e: int):
    """L of model ``e`` as a function array (n,) → (n,) (float64).  A plain loss network (no batch norm, whose
    statistics would mix the rows) is applied to model e's parameters alone (one model of the ensemble, not all E
    on zero-padded inputs: at m = 16384 that was most of a run's cost)."""
    fam = result.config.per_model("family")[e]
    spec = result.config.d_spec()
    if spec.batchnorm:
        D = result.discriminator()

        def L(x):
            xt = torch.zeros((result.config.n_models, len(x), 1), dtype=torch.float64)
            xt[e, :, 0] = torch.as_tensor(np.asarray(x, dtype=np.float64))
            with torch.no_grad():
                out = D(xt)[e].double()
            return _loss_of(fam, out, result.config.loss_output).numpy()

        return L
    params = tuple(p[e:e + 1] for p in result.d_params)
    eff = result.extra.get("d_weights_eff")
    weights = None if eff is None else tuple(w[e:e + 1] for w in eff)

    def L(x):
        xt = torch.as_tensor(np.asarray(x, dtype=np.float64)).reshape(1, -1, 1).to(params[0].dtype)
        with torch.no_grad():
            out = _mlp.net_forward(params, xt, spec, weights=weights).squeeze(-1)[0].double()
        return _loss_of(fam, out, result.config.loss_output).numpy()

    return L


def _single_params(params, e):
    return tuple(p[e:e + 1] for p in params)


def model_metrics(result: TrainResult, run, e: int, *, n_eval: int = 2000, stream: int = 0) -> dict:
    """The final metrics of model ``e`` for its experiment (decided by its configuration; see the module docstring).

    ``run``: the trainer's Setup (its ``data[e, :n_data[e]]`` is the model's training sample).  A diverged model
    gets only ``n_params`` (its metrics are missing)."""
    c = result.config
    p = _densities.parse(c.target)
    m = int(c.per_model("n_data")[e])
    data = run.data[e, :m].double().cpu().numpy()
    out = {"n_params": float(critic_parameter_count(c.d_hidden, p.dim)), "n_data_used": float(m)}
    if result.diverged[e]:
        return out
    rng = np.random.default_rng([c.seed, stream, _FRESH_STREAM])
    if c.fixed_generator is not None:
        q = _densities.parse(c.fixed_generator)
        fresh = p.sample(m, rng).reshape(-1)
        loss = _critic_fn(result, e)
        obj = critic_objectives(loss, p, q, data[:, 0], float(c.per_model("lam")[e]),
                                float(c.per_model("tau")[e]), fresh_x=fresh)
        out.update(obj, optimism=obj["s_pop"] - obj["s_emp"], abs_gap=abs(obj["s_emp"] - obj["s_pop"]),
                   fresh_gap=abs(obj["s_fresh"] - obj["s_pop"]), lip_grid=grid_lipschitz(loss, p, q))
        return out
    if p.dim == 1 and c.noise_dim == 1 and c.activation in PIECEWISE_LINEAR:
        qhat = exact_density(_single_params(result.g_params, e), c.activation, model=0)
        gm = generator_metrics(p, qhat)
        out.update(l1_exact=gm.l1, l1_exact_abserr=gm.l1_abserr, w1_exact=gm.w1, ratio_inf=gm.ratio_inf,
                   mass_outside=gm.mass_outside, atom_mass=gm.atom_mass,
                   w1_data=_metrics.w1_to_cdf(data[:, 0], p), w1_gen_data=_metrics.w1_to_cdf(data[:, 0], qhat))
        return out
    # 2-D (or any generator without an exact density): samples, same-size floors
    k = min(n_eval, 1000)
    gen = result.sample(k)[e]
    ref, ref2 = p.sample(k, rng), p.sample(k, rng)
    out.update(w1=_metrics.w1_samples(gen, ref), w1_floor=_metrics.w1_samples(ref2, ref),
               mmd2=_metrics.mmd2(gen, ref), mmd2_floor=_metrics.mmd2(ref2, ref))
    kd = min(m, k)
    sub = data[rng.choice(m, kd, replace=False)] if kd < m else data
    refd = p.sample(kd, rng)
    out.update(w1_data_k=_metrics.w1_samples(sub, refd), w1_gen_k=_metrics.w1_samples(gen[:kd], refd),
               w1_floor_k=_metrics.w1_samples(p.sample(kd, rng), refd), k_data=float(kd))
    if hasattr(p, "centres"):
        ms = _metrics.mode_statistics(result.sample(max(n_eval, 2000))[e], p.centres, p.std)
        out.update(modes=ms.modes, high_quality=ms.high_quality, reverse_kl=ms.reverse_kl)
    return out


def train_exact_l1(config) -> np.ndarray:
    """Train ``config`` (a :class:`~lsgan_theory.ensemble.TrainConfig` of 1-D piecewise-linear generators) with the
    engine and return each model's exact ∫|p − q̂| (pushforward density, quadrature), NaN where a model diverged.
    With the ``model_ids`` of other runs, the models train on those runs' draws (data, batches, noise and
    initialisation are pure functions of the seed and the model id): paired comparisons with common draws."""
    p = _densities.parse(config.target)
    if p.dim != 1 or config.noise_dim != 1 or config.activation not in PIECEWISE_LINEAR:
        raise ValueError(f"config: needs a 1-D target, 1-D noise and a piecewise-linear activation for the exact "
                         f"density, got target {config.target!r}, noise_dim {config.noise_dim}, activation "
                         f"{config.activation!r}")
    res = _trainer.train(config)
    out = np.full(config.n_models, math.nan)
    for e in range(config.n_models):
        if not res.diverged[e]:
            qhat = exact_density(_single_params(res.g_params, e), config.activation, model=0)
            out[e] = generator_metrics(p, qhat).l1
    return out


def train_measured(config, n_eval: int) -> list[dict]:
    """Train ``config`` as the experiments' executor does (:func:`train_probed`) and return each model's final
    metrics (:func:`model_metrics`, its fresh samples drawn from the model's own stream id).  With the
    ``model_ids`` of other runs, the models train on those runs' draws: the partner runs of a paired comparison with
    common draws (the same initialisation, noise and batches, another setting)."""
    res, run, _ = train_probed(config)
    return [model_metrics(res, run, e, n_eval=n_eval, stream=int(config.ids()[e])) for e in range(config.n_models)]


# ------------------------------------------------------------------------------------------------ the executor
def _probed_pack(runs, cfg) -> tuple[list[dict], str]:
    """A pack's body for :func:`lsgan_theory.sweeps.execute.run_pack`: :func:`train_probed`, then
    :func:`model_metrics` per model; the records carry the curves ``loss_d``, ``loss_g`` and ``hinge_active``."""
    res, run, hinge = train_probed(cfg)
    records = []
    for e, r in enumerate(runs):
        final = {"final_loss_d": float(res.loss_d[e, -1]), "final_loss_g": float(res.loss_g[e, -1]),
                 "hinge_active_final": float(hinge[e, -1]),
                 "hinge_active_mean": float(np.nanmean(hinge[e])) if np.isfinite(hinge[e]).any() else math.nan,
                 **model_metrics(res, run, e, n_eval=r.config["n_eval"], stream=r.stream)}
        records.append({"id": r.id, "status": "diverged" if res.diverged_step[e] >= 0 else "done",
                        "diverged_step": int(res.diverged_step[e]), "final": final,
                        "steps": np.asarray(res.steps),
                        "curves": {"loss_d": res.loss_d[e], "loss_g": res.loss_g[e], "hinge_active": hinge[e]}})
    return records, res.device


def _probed_task(task: dict) -> list[dict]:
    from ..sweeps.execute import run_pack

    return run_pack(task, _probed_pack)


class SampleComplexityExecutor:
    """The sweeps' executor (``"local"``: :class:`lsgan_theory.sweeps.execute.LocalExecutor`; ``"dask"`` with
    ``workers`` or ``scheduler``: :class:`~lsgan_theory.sweeps.execute.DaskExecutor`) with this module's pack:
    each pack is trained with :func:`train_probed` (ensemble.train with the hinge probe as its observer) and
    measured with :func:`model_metrics`; the records carry the curves ``loss_d``, ``loss_g`` and
    ``hinge_active``.  (A thin wrapper: the sweeps layer is imported when it is built, not at import time.)"""

    def __init__(self, executor: str = "local", workers: int | None = None, scheduler: str | None = None):
        from ..sweeps.execute import executor as make

        self._inner = make(executor, workers, scheduler, pack=_probed_task)
        self.name = self._inner.name

    def map(self, tasks):
        return self._inner.map(tasks)

    def close(self) -> None:
        self._inner.close()


def run_experiment(spec, out=None, *, variant: str | None = None, restart: bool = False, quiet: bool = True,
                   threads: int | None = 1, max_packs: int | None = None, executor: str = "local",
                   workers: int | None = None, scheduler: str | None = None):
    """Run (or resume) an experiment spec with :class:`SampleComplexityExecutor` through
    :func:`lsgan_theory.sweeps.sweep`; return ``(results DataFrame, curves DataFrame, summary)``.  ``executor="dask"``
    with ``workers`` (a local cluster of that many processes) or ``scheduler`` (an address) trains the packs on
    Dask workers, with the same body and into the same store.

    ``spec``: a path, a :class:`~lsgan_theory.sweeps.Spec`, or a name of :data:`EXPERIMENTS` (the file in the
    repository's ``experiments/``).  Finished runs in ``out`` are kept (resumable after SIGKILL: a pack is written
    in one transaction); ``out`` defaults to ``runs/NAME[-variant]``."""
    from ..sweeps.results import load, load_curves
    from ..sweeps.run import sweep

    if isinstance(spec, str) and spec in EXPERIMENTS:
        spec = Path(__file__).resolve().parents[2] / "experiments" / EXPERIMENTS[spec]
    ex = SampleComplexityExecutor(executor, workers, scheduler)
    try:
        summary = sweep(spec, out, variant=variant, executor=ex, restart=restart, quiet=quiet, threads=threads,
                        max_packs=max_packs)
    finally:
        ex.close()
    return load(summary["out"]), load_curves(summary["out"]), summary


# ------------------------------------------------------------------------------------------------ statistics
def rate_check(fit: PowerFit, predicted: float, alternative: float) -> tuple[float, float]:
    """(statistic, alternative statistic) for "the fitted slope is ``predicted``": how far ``predicted`` lies outside
    the slope's 95 % interval (0 inside), and the same for ``alternative`` (> 0: rejected in this run).
    NaN interval → NaN (never a pass)."""
    lo, hi = fit.ci

    def dist(v):
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return math.nan
        return float(max(lo - v, v - hi, 0.0))

    return dist(predicted), dist(alternative)


def _pivot(df, index: str, value: str, by: dict | None = None):
    """(sorted index values, array (n_index, seeds)) of ``value`` for the rows matching ``by``; NaN pads."""
    sub = df
    for k, v in (by or {}).items():
        sub = sub[sub[k] == v]
    xs = sorted(sub[index].dropna().unique())
    cols = []
    for x in xs:
        cols.append(sub[sub[index] == x].sort_values("replica")[value].astype(float).to_numpy())
    k = max((len(c) for c in cols), default=0)
    mat = np.full((len(xs), k), np.nan)
    for i, c in enumerate(cols):
        mat[i, :len(c)] = c
    return np.asarray(xs, dtype=np.float64), mat


# ------------------------------------------------------------------------------------------------ readers
@dataclass
class CriticGapReading:
    """Experiment 2: per width, the gaps vs m with slopes; per m, the exponent in the parameter count N."""

    widths: list
    n_params: dict            # width -> N
    m: np.ndarray
    optimism: dict            # width -> (n_m, seeds)
    abs_gap: dict
    fresh_gap: dict
    s_pop_err: float          # largest quadrature error of S(θ̂) over all runs
    slope_abs: dict           # width -> PowerFit of |S_m(θ̂) − S(θ̂)| in m
    slope_opt: dict           # width -> PowerFit of the optimism (None where a mean is ≤ 0)
    slope_fresh: dict         # width -> PowerFit of the fresh (no-fitting) gap in m
    n_exponent: dict          # m -> PowerFit of the optimism in N (None where a mean is ≤ 0)
    n_exponent_abs: dict      # m -> PowerFit of |gap| in N


def read_critic_gap(df, *, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> CriticGapReading:
    """Slopes in m (per width) and exponents in N (per m) of the critic-generalisation results table, with
    two-sided bootstrap intervals at ``level``."""
    df = df[df["status"] == "done"].copy()
    df["width"] = df["d_hidden"].map(lambda h: int(h[0]))
    widths = [int(w) for w in sorted(df["width"].unique())]
    n_params = {w: int(df[df["width"] == w]["n_params"].iloc[0]) for w in widths}
    opt, ab, fr, s_abs, s_opt, s_fr = {}, {}, {}, {}, {}, {}
    m = None
    for w in widths:
        m, opt[w] = _pivot(df, "n_data", "optimism", {"width": w})
        _, ab[w] = _pivot(df, "n_data", "abs_gap", {"width": w})
        _, fr[w] = _pivot(df, "n_data", "fresh_gap", {"width": w})
        s_abs[w] = fit_power(m, ab[w], n_boot=n_boot, seed=seed, level=level)
        s_fr[w] = fit_power(m, fr[w], n_boot=n_boot, seed=seed, level=level)
        s_opt[w] = (fit_power(m, opt[w], n_boot=n_boot, seed=seed, level=level)
                    if np.all(np.nanmean(opt[w], 1) > 0) else None)
    n_exp, n_exp_abs = {}, {}
    ns = np.array([n_params[w] for w in widths], dtype=np.float64)
    if len(widths) >= 2:
        for i, mm in enumerate(m):
            k = min(opt[w].shape[1] for w in widths)
            mat = np.stack([opt[w][i, :k] for w in widths])
            mat_a = np.stack([ab[w][i, :k] for w in widths])
            n_exp[float(mm)] = (fit_power(ns, mat, n_boot=n_boot, seed=seed, level=level)
                                if np.all(np.nanmean(mat, 1) > 0) else None)
            n_exp_abs[float(mm)] = fit_power(ns, mat_a, n_boot=n_boot, seed=seed, level=level)
    return CriticGapReading(widths, n_params, m, opt, ab, fr, float(df["s_pop_err"].max()), s_abs, s_opt, s_fr,
                            n_exp, n_exp_abs)


@dataclass
class DataGeneralisationReading:
    """Experiment 3, per target: the generator's and the data's distances to p vs m, paired per run."""

    target: str
    m: np.ndarray
    w1_gen: np.ndarray        # (n_m, seeds) W1(p, q̂), exact
    l1_gen: np.ndarray        # ∫|p − q̂|, exact
    w1_data: np.ndarray       # W1(p, p̂_m) of the same runs' training samples
    w1_gen_data: np.ndarray   # W1(q̂, p̂_m)
    rows: list                # per m: dict with the paired difference and the reading
    slope_gen: PowerFit
    slope_l1: PowerFit
    slope_data: PowerFit
    diverged: int


def read_data_generalisation(df, *, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """Per target: slopes in m and, per m, the paired difference d = W1(p, q̂) − W1(p, p̂_m) over seeds with a
    Student-t 95 % interval: *beats* its data (interval below 0), *matches* (straddles 0), *worse* (above 0); and
    *memorises* when W1(q̂, p̂_m) < W1(p, p̂_m) (interval of the paired difference below 0: the generator is closer
    to its sample than the truth is) -- a generator that copied its sample sits at W1(q̂, p̂_m) ≈ 0.  ``level``: the
    two-sided level of the slopes' bootstrap intervals."""
    out = {}
    for target in sorted(df["target"].unique()):
        sub = df[df["target"] == target]
        ok = sub[sub["status"] == "done"]
        m, w1g = _pivot(ok, "n_data", "w1_exact")
        _, l1g = _pivot(ok, "n_data", "l1_exact")
        _, w1d = _pivot(ok, "n_data", "w1_data")
        _, w1gd = _pivot(ok, "n_data", "w1_gen_data")
        rows = []
        for i, mm in enumerate(m):
            d = w1g[i] - w1d[i]
            dm, dlo, dhi = t_interval(d)
            e = w1gd[i] - w1d[i]
            em, elo, ehi = t_interval(e)
            reading = "beats" if dhi < 0 else "worse" if dlo > 0 else "matches"
            rows.append({"m": int(mm), "w1_gen": t_interval(w1g[i]), "w1_data": t_interval(w1d[i]),
                         "w1_gen_data": t_interval(w1gd[i]), "l1_gen": t_interval(l1g[i]), "diff": (dm, dlo, dhi),
                         "reading": reading, "memorises": bool(ehi < 0), "mem_diff": (em, elo, ehi)})
        out[target] = DataGeneralisationReading(
            target, m, w1g, l1g, w1d, w1gd, rows, fit_power(m, w1g, n_boot=n_boot, seed=seed, level=level),
            fit_power(m, l1g, n_boot=n_boot, seed=seed, level=level),
            fit_power(m, w1d, n_boot=n_boot, seed=seed, level=level),
            int((sub["status"] == "diverged").sum()))
    return out


@dataclass
class GLSReading:
    """Experiment 4: per (target, variant) the final error, divergence and hinge-active fraction over seeds."""

    rows: list                # dicts: target, label, family, nu, spectral_norm, n, l1, w1, diverged, runaway, hinge
    curves: dict              # (target, label, spectral_norm) -> (steps, mean hinge fraction over seeds)


RUNAWAY = -10.0  # final loss-network objective below this: the objective is running away (see read_gls_family)


def _label(fam, nu, lam):
    if fam == "glsgan":
        return f"GLS ν={nu:g}"
    if fam == "loss_sensitive":
        return f"LS-GAN λ={lam:g}"
    return {"wgan": "WGAN"}.get(fam, fam)


def read_gls_family(df, curves=None) -> GLSReading:
    """Per (target, family/ν, spectral norm): mean ∫|p − q̂| and W1 (exact) with Student-t intervals over the runs
    that did not diverge, the divergence rate (non-finite values: the trainer froze the model) with a Wilson 95 %
    interval, the *runaway* rate (final objective < :data:`RUNAWAY`: for every ν ≤ 1 the objective of a 1-Lipschitz
    L is ≥ 0, since C_ν(a) ≥ a gives ≥ E Δ − W1 ≥ 0 for τ = 1, so a value far below 0 means |∇L| ≫ 1 and growing),
    and the hinge-active fraction (final, and its mean over training) with intervals."""
    rows, crv = [], {}
    df = df.copy()
    df["sn"] = df["spectral_norm"].astype(bool) if "spectral_norm" in df else False
    keys = ["target", "family", "nu", "lam", "sn"]
    for col in ("nu", "lam"):
        if col not in df:
            df[col] = np.nan
    for key, g in df.groupby(keys, dropna=False, sort=True):
        target, fam, nu, lam, sn = key
        n = len(g)
        div = int((g["status"] == "diverged").sum())
        ok = g[g["status"] == "done"]
        run = int((ok["final_loss_d"].astype(float) < RUNAWAY).sum())
        rows.append({"target": target, "label": _label(fam, nu, lam), "family": fam, "nu": nu, "lam": lam,
                     "spectral_norm": bool(sn), "n": n, "diverged": div, "diverged_ci": wilson_interval(div, n)[1:],
                     "runaway": run, "runaway_ci": wilson_interval(run + div, n)[1:],
                     "l1": t_interval(ok["l1_exact"]), "w1": t_interval(ok["w1_exact"]),
                     "l1_values": ok["l1_exact"].astype(float).to_numpy(),
                     "hinge_final": t_interval(ok["hinge_active_final"]),
                     "hinge_mean": t_interval(ok["hinge_active_mean"])})
        if curves is not None and len(curves):
            cs = curves[(curves["name"] == "hinge_active") & curves["id"].isin(g["id"])]
            if len(cs):
                piv = cs.pivot_table(index="step", columns="id", values="value")
                crv[(target, _label(fam, nu, lam), bool(sn))] = (piv.index.to_numpy(), piv.mean(axis=1).to_numpy())
    return GLSReading(rows, crv)





@dataclass
class Mixture2DReading:
    """Experiment 5: the 2-D target's λ sweep and m sweep, sample metrics with their same-size floors."""

    target: str
    lam_rows: list
    m_rows: list
    lam_rho: tuple            # Spearman ρ(λ, W1) and bootstrap CI over seeds
    m_slope_gen: PowerFit | None
    m_slope_data: PowerFit | None


def read_mixture_2d(df, *, n_boot: int = 2000, seed: int = 0, m_sweep_lam: float = 10.0,
                    level: float = 0.95) -> Mixture2DReading:
    """The λ sweep (runs with the largest ``n_data``) and the m sweep (at the λ nearest ``m_sweep_lam`` in log scale
    among those run at every n_data) of the 2-D experiment: means with intervals of W1, its floor, MMD², its floor, modes.
    ``level``: the two-sided level of the bootstrap intervals of the Spearman ρ and the slopes."""
    ok = df[df["status"] == "done"]
    target = str(df["target"].iloc[0])
    big = df["n_data"].max()
    lam_df = ok[ok["n_data"] == big]
    lams, w1l = _pivot(lam_df, "lam", "w1")
    lam_rows = []
    for i, lam in enumerate(lams):
        g = lam_df[lam_df["lam"] == lam]
        lam_rows.append({"lam": float(lam), "w1": t_interval(g["w1"]), "w1_floor": t_interval(g["w1_floor"]),
                         "mmd2": t_interval(g["mmd2"]), "mmd2_floor": t_interval(g["mmd2_floor"]),
                         "modes": t_interval(g["modes"]) if "modes" in g else (math.nan,) * 3,
                         "diverged": int(((df["n_data"] == big) & (df["lam"] == lam) & (df["status"] == "diverged"))
                                         .sum())})
    lam_rho = spearman_bootstrap(lams, w1l, n_boot, seed, level) if len(lams) > 2 else (math.nan, (math.nan, math.nan))
    counts = df.groupby("lam")["n_data"].nunique()
    full = counts[counts == counts.max()].index.to_numpy(dtype=float) if len(counts) else np.array([])
    m_lam = float(full[np.argmin(np.abs(np.log(full / m_sweep_lam)))]) if full.size else None
    m_df = ok[ok["lam"] == m_lam]
    ms, w1g = _pivot(m_df, "n_data", "w1_gen_k")
    _, w1d = _pivot(m_df, "n_data", "w1_data_k")
    m_rows = []
    for i, mm in enumerate(ms):
        g = m_df[m_df["n_data"] == mm]
        m_rows.append({"m": int(mm), "lam": float(m_lam), "k": int(g["k_data"].iloc[0]),
                       "w1_gen": t_interval(g["w1_gen_k"]), "w1_data": t_interval(g["w1_data_k"]),
                       "w1_floor": t_interval(g["w1_floor_k"]), "diff": t_interval(g["w1_gen_k"] - g["w1_data_k"])})
    fit_g = fit_power(ms, w1g, n_boot=n_boot, seed=seed, level=level) if len(ms) >= 2 else None
    fit_d = fit_power(ms, w1d, n_boot=n_boot, seed=seed, level=level) if len(ms) >= 2 else None
    return Mixture2DReading(target, lam_rows, m_rows, lam_rho, fit_g, fit_d)
