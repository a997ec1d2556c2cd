"""The N-dependence of the uniform bound at small m (THEORY.md §5 "Generalisation"; issue 32).

The paper's generalisation bound (like Arora et al. 2017) controls sup_θ |S_m(θ) − S(θ)| over a loss-network class
with N parameters by C·√(N/m) up to logarithms.  The m^(−1/2) rate of the gap at a trained θ̂ does not test it (the
central-limit rate of the fixed-θ noise, ``sample-complexity-critic-gap``); its own content is the growth in N at a
fixed m.  This module reads it off the experiment ``experiments/critic_capacity.toml`` (trained by
:func:`lsgan_theory.studies.sample_complexity.run_experiment`: LS-GAN loss networks 1 → w → w → 1 trained on m real
samples of N(0, 1) against a fixed generator N(1.5, 1)) and computes the same gap for the non-parametric class of all
κ-Lipschitz losses (the LP of Theorem 2, :func:`lsgan_theory.nonparametric.solve`) at the same m:

* :func:`mlp_parameter_count` -- N of a 1 → w → … → w → 1 network in closed form;
* :func:`lp_class_gaps` -- per (m, seed) the LP optimum on the m real samples against the generator's quantile nodes,
  the optimism of the minimum E[S* − S*_m], and the train–test gap S(L̂) − S_m(L̂) at the two extreme minimisers
  L⁺ and L⁻ (the cone bounds), with S by the quadrature of
  :func:`lsgan_theory.studies.sample_complexity.critic_objectives` (the networks' own);
* :func:`read_capacity` -- per m, the log-log exponent in N of the mean gap with bootstrap intervals over seeds
  (:func:`lsgan_theory.studies.stats.fit_power`), the fresh-sample control, the paired "fitting" difference and the
  LP comparison.

Which constraint each class has: the networks have N parameters and **no Lipschitz constraint** (no spectral
normalisation, no penalty; their Lipschitz constant on the data's range is measured, ``lip_grid``); the LP class has
**no parameter count** and the constraint |L(x) − L(y)| ≤ κτ|x − y| with L ≥ 0.  Neither bounds the other's gap.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .. import densities as _densities
from .. import validate
from .stats import PowerFit, fit_power, t_interval

__all__ = ["mlp_parameter_count", "lp_class_gaps", "LP_STREAM", "CapacityReading", "read_capacity",
           "exponent_check_terms"]

LP_STREAM = 1003  # the LP's real samples: (seed, m, replica, LP_STREAM), independent of the networks' draws


def mlp_parameter_count(width: int, depth: int = 2, dim: int = 1) -> int:
    """N of a fully connected dim → width (× ``depth`` hidden layers) → 1 network with biases:
    (dim + 1)·w + (depth − 1)·(w + 1)·w + (w + 1); for dim = 1, depth = 2: N = w² + 4w + 1."""
    w = validate.integer("width", width, minimum=1)
    depth = validate.integer("depth", depth, minimum=1)
    dim = validate.integer("dim", dim, minimum=1)
    return (dim + 1) * w + (depth - 1) * (w + 1) * w + (w + 1)


def _nodes(dist, k: int) -> np.ndarray:
    return dist.ppf((np.arange(k) + 0.5) / k)


def lp_class_gaps(ms, seeds: int, kappa: float, *, lam: float = 1.0, tau: float = 1.0, target: str = "normal(0,1)",
                  generator: str = "normal(1.5,1)", nodes: int = 512, seed: int = 0) -> dict:
    """The generalisation gaps of the class F_κ of all κ-Lipschitz losses L ≥ 0 (1-D, Δ = τ|x − z|) at the sample
    sizes ``ms``, ``seeds`` independent samples each, against a FIXED generator (as the networks are trained).

    The generator side is its ``nodes`` quantile nodes (the population expectation over z, in the LP and in S alike);
    the real side is m samples of ``target`` (stream ``[seed, m, replica, LP_STREAM]``).  S* = the LP on ``nodes``
    quantile nodes of the target, with the error estimate |S*(nodes) − S*(nodes/2)|.  Per (m, replica):
    ``s_emp_opt`` = S*_m (the LP optimum), ``opt_min`` = S* − S*_m (the optimism of the minimum), and at the extreme
    minimisers L⁺, L⁻ (:meth:`~lsgan_theory.nonparametric.Solution.upper` / ``lower``: every minimiser lies between)
    ``opt_upper`` / ``opt_lower`` = S(L̂) − S_m(L̂) with both S by
    :func:`~lsgan_theory.studies.sample_complexity.critic_objectives` (the quadrature the networks' gaps use).

    Returns a dict of arrays (len(ms), seeds) and scalars ``s_star``, ``s_star_err``, ``quad_err`` (the largest
    quadrature error of S(L̂), critic_objectives' ``s_pop_err``), ``seconds`` (CPU).
    """
    from .. import nonparametric as npm
    from .sample_complexity import critic_objectives

    ms = [validate.integer("ms", m, minimum=2) for m in ms]
    seeds = validate.integer("seeds", seeds, minimum=2)
    nodes = validate.integer("nodes", nodes, minimum=8)
    kappa, lam, tau = (validate.positive(k, v) for k, v in (("kappa", kappa), ("lam", lam), ("tau", tau)))
    p, q = _densities.parse(target), _densities.parse(generator)
    t0 = time.process_time()
    z = _nodes(q, nodes)
    s_star = npm.solve(_nodes(p, nodes), z, lam, kappa, tau=tau).objective
    s_half = npm.solve(_nodes(p, nodes // 2), z, lam, kappa, tau=tau).objective
    out = {k: np.full((len(ms), seeds), math.nan) for k in ("s_emp_opt", "opt_min", "opt_upper", "opt_lower")}
    quad_err = 0.0
    for i, m in enumerate(ms):
        for s in range(seeds):
            x = p.sample(m, np.random.default_rng([seed, m, s, LP_STREAM])).reshape(-1)
            sol = npm.solve(x, z, lam, kappa, tau=tau)
            out["s_emp_opt"][i, s] = sol.objective
            out["opt_min"][i, s] = s_star - sol.objective
            for key, fn in (("opt_upper", sol.upper), ("opt_lower", sol.lower)):
                o = critic_objectives(fn, p, q, x, lam, tau)
                out[key][i, s] = o["s_pop"] - o["s_emp"]
                quad_err = max(quad_err, o["s_pop_err"])
    out.update(m=np.asarray(ms), kappa=kappa, lam=lam, tau=tau, nodes=nodes, s_star=float(s_star),
               s_star_err=float(abs(s_star - s_half)), quad_err=float(quad_err), seconds=time.process_time() - t0)
    return out


@dataclass
class CapacityReading:
    """Per m (keys: int m): the gaps against N (rows: widths, columns: seeds) and their exponents in N."""

    widths: list
    n_params: list
    m: list
    optimism: dict          # m -> (n_N, seeds) S(θ̂) − S_m(θ̂)
    abs_gap: dict           # m -> |S_m(θ̂) − S(θ̂)|
    fresh_gap: dict         # m -> |S'_m(θ̂) − S(θ̂)|, an independent m-sample at the same θ̂ (fixed-θ noise)
    fitting: dict           # m -> S'_m(θ̂) − S_m(θ̂) per run: 0 in mean for a θ̂ that did not fit its sample
    lip: dict               # m -> measured Lipschitz constant of L̂ on the data's range
    exponent_abs: dict      # m -> PowerFit of mean |gap| in N
    exponent_opt: dict      # m -> PowerFit of the mean optimism in N (None where a mean is ≤ 0)
    exponent_fresh: dict    # m -> PowerFit of the mean fresh gap in N (the fixed-θ noise: the control)
    scaled: dict            # m -> |gap| in standard errors of the fixed-θ noise, |S_m − S| / (sd_p(g_θ̂)/√m)
    exponent_scaled: dict   # m -> PowerFit of the mean scaled gap in N
    exponent_lip: dict      # m -> PowerFit of the mean Lipschitz constant in N
    s_pop_err: float        # largest quadrature error of S(θ̂)
    level: float


def _by_width(df, m: int, col: str, widths) -> np.ndarray:
    rows = []
    for w in widths:
        sub = df[(df["n_data"] == m) & (df["width"] == w)].sort_values("replica")
        rows.append(sub[col].astype(float).to_numpy())
    k = max(len(r) for r in rows)
    mat = np.full((len(rows), k), np.nan)
    for i, r in enumerate(rows):
        mat[i, :len(r)] = r
    return mat


def read_capacity(df, *, level: float = 0.95, n_boot: int = 2000, seed: int = 0) -> CapacityReading:
    """Read the ``critic_capacity`` results table (:func:`lsgan_theory.sweeps.results.load`; runs with status
    "done"): per m, the exponents in N of the mean |gap|, optimism, fresh gap, the gap in standard errors of the
    fixed-θ noise (|S_m − S|·√m / sd_p(g_θ̂): growth of the gap beyond the growth of the sampling scale of a steeper
    loss) and the measured Lipschitz constant, with two-sided ``level`` percentile-bootstrap intervals over seeds
    (resampled within each N)."""
    df = df[df["status"] == "done"].copy()
    if df.empty:
        raise ValueError("df: no finished run to read")
    df["width"] = df["d_hidden"].map(lambda h: int(h[0]))
    widths = [int(w) for w in sorted(df["width"].unique())]
    if len(widths) < 2:
        raise ValueError(f"df: an exponent in N needs at least 2 widths, got {widths}")
    ns = [int(df[df["width"] == w]["n_params"].iloc[0]) for w in widths]
    df["fitting"] = df["s_fresh"].astype(float) - df["s_emp"].astype(float)
    df["scaled"] = df["abs_gap"].astype(float) / (df["g_sd"].astype(float) / np.sqrt(df["n_data"].astype(float)))
    ms = [int(m) for m in sorted(df["n_data"].unique())]
    tabs = {c: {m: _by_width(df, m, c, widths) for m in ms}
            for c in ("optimism", "abs_gap", "fresh_gap", "fitting", "lip_grid", "scaled")}
    x = np.asarray(ns, dtype=np.float64)
    kw = {"n_boot": n_boot, "seed": seed, "level": level}
    e_abs = {m: fit_power(x, tabs["abs_gap"][m], **kw) for m in ms}
    e_fresh = {m: fit_power(x, tabs["fresh_gap"][m], **kw) for m in ms}
    e_opt = {m: (fit_power(x, tabs["optimism"][m], **kw) if np.all(np.nanmean(tabs["optimism"][m], 1) > 0) else None)
             for m in ms}
    e_scaled = {m: fit_power(x, tabs["scaled"][m], **kw) for m in ms}
    e_lip = {m: fit_power(x, tabs["lip_grid"][m], **kw) for m in ms}
    return CapacityReading(widths, ns, ms, tabs["optimism"], tabs["abs_gap"], tabs["fresh_gap"], tabs["fitting"],
                           tabs["lip_grid"], e_abs, e_opt, e_fresh, tabs["scaled"], e_scaled, e_lip,
                           float(df["s_pop_err"].astype(float).max()), level)


def exponent_check_terms(fit: PowerFit, bound: float = 0.5) -> tuple[float, float]:
    """(statistic, alternative statistic) of "the gap grows in N no faster than the bound's N^``bound``": statistic
    = how far the exponent's interval lies above ``bound`` (max(lo − bound, 0): > 0 fails, the growth is measurably
    faster than the bound's shape); alternative "the bound's shape attained, exponent = ``bound``": max(bound − hi, 0)
    (> 0: the whole interval lies below it, the √N shape is rejected as a description of the gap).  NaN interval →
    NaN (never a pass)."""
    lo, hi = fit.ci
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return math.nan, math.nan
    return float(max(lo - bound, 0.0)), float(max(bound - hi, 0.0))


def paired_fitting(values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided ``level`` Student-t interval of S'_m(θ̂) − S_m(θ̂) over runs (the same θ̂, a fresh sample
    vs the training sample): mean 0 when θ̂ did not fit its training sample (the fresh sample is the negative
    control), > 0 when it did — the fitting the supremum over the class measures."""
    return t_interval(np.asarray(values, dtype=np.float64), level)


__all__ += ["paired_fitting"]
