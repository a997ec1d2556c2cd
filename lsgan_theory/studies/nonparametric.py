"""Studies of the non-parametric LS-GAN (Loss-Sensitive GAN, THEORY.md §5): allocation on demand, the saturated
sigmoid discriminator used as a baseline, and the generalisation study.  Functions return data; the claims in
``lsgan_theory._claims.nonparametric`` turn them into verdicts and ``lsgan_theory.plots`` draws them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import densities
from .. import nonparametric as npm
from .. import output as _output
from .stats import fit_power, percentile_bootstrap, spearman_bootstrap, t_half_width

__all__ = ["allocation_on_demand", "GeneratorAllocation", "generator_allocation", "quartile_ratio",
           "train_sigmoid_discriminator", "candidate_slope", "generalisation_config",
           "generalisation_study", "recorded_generalisation_gaps"]


def allocation_on_demand(real, fake, lam, kappa, margin_kind="l1", rng=None, n_boot=1000):
    """Per generated point: active-pair fraction and distance to the data; Spearman ρ with a bootstrap 95 % CI.

    Returns (dist, frac, ρ, (lo, hi)).  Each generated point is one random unit carrying both measurements, so the
    interval resamples the (distance, fraction) pairs jointly (:func:`lsgan_theory.studies.stats.spearman_bootstrap`
    with ``resample="pairs"``; resamples with an undefined ρ left out).  ``rng``: the bootstrap's generator
    (default ``numpy.random.default_rng(0)``)."""
    sol = npm.solve(real, fake, lam, kappa, margin_kind)
    frac = sol.active_fraction()
    dist = npm.nearest_distance(fake, real, margin_kind)
    rng = np.random.default_rng(0) if rng is None else rng
    rho, ci = spearman_bootstrap(dist, frac[:, None], n_boot, rng, resample="pairs")
    return dist, frac, rho, ci


def quartile_ratio(dist, values, rng=None, n_boot=2000) -> tuple[float, tuple[float, float]]:
    """mean(values over the farthest quartile of ``dist``) / mean(values over the nearest quartile), with a
    percentile bootstrap 95 % CI (:func:`lsgan_theory.studies.stats.percentile_bootstrap`, stratified: the points of
    each quartile resampled within it, the quartiles being fixed by the design of distances).  NaN where the near
    mean is 0 (such resamples are left out of the interval)."""
    dist, values = np.asarray(dist, float), np.asarray(values, float)
    near = values[dist <= np.quantile(dist, 0.25)]
    far = values[dist >= np.quantile(dist, 0.75)]
    rng = np.random.default_rng(0) if rng is None else rng

    def ratio(a, b):
        ma, mb = a.mean(axis=-1), b.mean(axis=-1)
        with np.errstate(all="ignore"):
            return np.where(ma != 0, mb / np.where(ma != 0, ma, 1.0), np.nan)

    return percentile_bootstrap([near, far], ratio, n_boot=n_boot, seed=rng)


@dataclass
class GeneratorAllocation:
    """Result of :func:`generator_allocation`.

    ``dist`` (m,): distance of each generated point to its nearest real point; ``grad[name]`` (m,): the generator's
    per-sample signal |∂ₓL(G(z))| (for the sigmoid GAN |∂ₓ log(1 − D(G(z)))|), for trained ensembles the mean over
    models of the per-model absolute value; ``move[name]`` (m,): the component toward the nearest real point of one
    per-sample generator step x ← x − η ∂ₓ(generator loss) (negative: away from the data); ``ratio[name]``, ``ratio_ci[name]``: far/near quartile
    ratio of ``grad`` with its bootstrap 95 % CI; ``move_ratio``/``move_ratio_ci`` the same for ``move``;
    ``model_ratios[name]``: the per-model ratios of a trained ensemble.
    """

    real: np.ndarray = field(repr=False)
    fake: np.ndarray = field(repr=False)
    lam: float
    kappa: float
    eta: float
    dist: np.ndarray = field(repr=False)
    grad: dict = field(default_factory=dict, repr=False)
    move: dict = field(default_factory=dict, repr=False)
    ratio: dict = field(default_factory=dict)
    ratio_ci: dict = field(default_factory=dict)
    move_ratio: dict = field(default_factory=dict)
    move_ratio_ci: dict = field(default_factory=dict)
    model_ratios: dict = field(default_factory=dict)
    near_far: dict = field(default_factory=dict)  # name -> (mean over near quartile, mean over far quartile)


def generator_allocation(real, fake, lam: float, kappa: float, *, n_models: int = 4, steps: int = 1500,
                         gan_steps: int = 1500, eta: float = 0.01, seed: int = 0, n_boot: int = 2000,
                         h: float = 1e-7) -> GeneratorAllocation:
    """Allocation on demand, generator side (THEORY.md §5): the generator's per-sample signal at generated points
    against their distance to the data, for the non-parametric LS-GAN bounds, trained LS-GAN loss networks and a
    saturated sigmoid GAN, all on the same fixed 1-D samples.

    Models: L⁺, L⁻ and the midpoint (L⁺ + L⁻)/2 of the exact LP (derivatives by central differences with step
    ``h``: exact for piecewise-linear functions away from kinks; at a kink the central difference is the mean of the
    one-sided slopes, i.e. the element of the subdifferential a symmetric smoothing sees); ``n_models`` LS-GAN loss
    networks trained to the LP objective on the samples (:func:`lsgan_theory.studies.critic.loss_sensitive_critic`,
    autograd derivatives); ``n_models`` sigmoid discriminators trained with BCE to saturation
    (:func:`train_sigmoid_discriminator`, generator loss log(1 − D)).

    Returns
    -------
    GeneratorAllocation
    """
    from .critic import loss_sensitive_critic

    real = np.asarray(real, dtype=np.float64).reshape(-1)
    fake = np.asarray(fake, dtype=np.float64).reshape(-1)
    for name, v in (("eta", eta), ("h", h)):
        if not (isinstance(v, (int, float)) and v > 0):
            raise ValueError(f"{name}: must be a number > 0, got {v!r}")
    rng = np.random.default_rng([seed, 58])
    sol = npm.solve(real, fake, lam, kappa)
    dist = npm.nearest_distance(fake, real)
    srt = np.sort(real)
    k = np.clip(np.searchsorted(srt, fake), 1, srt.size - 1)
    nearest = np.where(np.abs(srt[k - 1] - fake) <= np.abs(srt[k] - fake), srt[k - 1], srt[k])
    toward = np.sign(nearest - fake)  # unit direction from each generated point to its nearest real point
    funcs = {"L⁺ (LP upper bound)": sol.upper, "L⁻ (LP lower bound)": sol.lower,
             "midpoint (L⁺ + L⁻)/2": lambda x: 0.5 * (sol.upper(x) + sol.lower(x))}
    signed = {k: (f(fake + h) - f(fake - h)) / (2 * h) for k, f in funcs.items()}
    per_model = {}
    ls = loss_sensitive_critic(samples=(real, fake), lam=lam, kappa=kappa, n_models=n_models, steps=steps,
                               seed=seed, probe=fake, grid=121)
    per_model["trained LS-GAN loss networks"] = ls.probe_grad
    gan = np.stack([train_sigmoid_discriminator(real, fake, steps=gan_steps, seed=seed + e)(fake)[1]
                    for e in range(n_models)])
    per_model["saturated sigmoid GAN (log(1 − D))"] = gan
    res = GeneratorAllocation(real, fake, float(lam), float(kappa), float(eta), dist)

    def add(name, g_signed_models):
        g = np.abs(g_signed_models).mean(0)
        moves = (-eta * np.asarray(g_signed_models) * toward[None, :]).mean(0)
        res.grad[name], res.move[name] = g, moves
        res.ratio[name], res.ratio_ci[name] = quartile_ratio(dist, g, rng, n_boot)
        res.move_ratio[name], res.move_ratio_ci[name] = quartile_ratio(dist, moves, rng, n_boot)
        near = dist <= np.quantile(dist, 0.25)
        far = dist >= np.quantile(dist, 0.75)
        res.near_far[name] = (float(g[near].mean()), float(g[far].mean()))
        if g_signed_models.shape[0] > 1:
            res.model_ratios[name] = [quartile_ratio(dist, np.abs(gm), rng, 1)[0] for gm in g_signed_models]

    for name, gs in signed.items():
        add(name, gs[None, :])
    for name, gs in per_model.items():
        add(name, np.asarray(gs))
    return res


def train_sigmoid_discriminator(real, fake, steps=3000, seed=0, hidden=32, lr=1e-2):
    """Train a 1-D sigmoid discriminator (BCE, Adam) on fixed samples until it saturates; return a function giving
    D(x) and the saturating generator gradient d/dx log(1 − D(x)) on a grid."""
    import torch

    from ..resources import torch_threads

    g = torch.Generator().manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(1, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, hidden),
                              torch.nn.Tanh(), torch.nn.Linear(hidden, 1)).double()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.5)
    xr = torch.as_tensor(np.asarray(real), dtype=torch.float64)[:, None]
    xf = torch.as_tensor(np.asarray(fake), dtype=torch.float64)[:, None]
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    with torch_threads(1):
        for _ in range(steps):
            opt.zero_grad()
            loss = bce(net(xr), torch.ones_like(xr)) + bce(net(xf), torch.zeros_like(xf))
            loss.backward()
            opt.step()

    def evaluate(x):
        xt = torch.as_tensor(np.asarray(x), dtype=torch.float64)[:, None].requires_grad_(True)
        a = net(xt)
        gen = torch.nn.functional.logsigmoid(-a).sum()  # Σ log(1 − D(x)), D = σ(a)
        (grad,) = torch.autograd.grad(gen, xt)
        return torch.sigmoid(a).detach().numpy()[:, 0], grad.numpy()[:, 0]

    return evaluate


#: candidate rates of the gap (THEORY.md §5, Generalisation): name -> function of n
RATES = {"n^(-1/2)": lambda n: n ** -0.5, "n^(-1/2) log n": lambda n: n ** -0.5 * np.log(n),
         "n^(-1/3)": lambda n: n ** (-1 / 3)}


def candidate_slope(ns, rate) -> float:
    """The least-squares log-log slope of a candidate rate over the same ``ns`` as the measurement (THEORY.md §5:
    compare rates by fitted slopes over the same range, not by asymptotic exponents).  ``rate``: a name of
    :data:`RATES` or a function of n."""
    f = RATES[rate] if isinstance(rate, str) else rate
    n = np.asarray(ns, float)
    return float(np.polyfit(np.log(n), np.log(f(n)), 1)[0])


# extended study (issue 20): largest n = 2^top and the population grid per dimension
EXTENDED = {"d=1": (13, 1000), "d=2": (11, 40), "d=3": (10, 12)}


def recorded_generalisation_gaps(P, Q, lam, kappa, ns, seeds, *, checkpoint=None, progress=None, margin_kind="l1",
                                 tau: float = 1.0, grid: int = 200, seed: int = 0) -> dict:
    """:func:`lsgan_theory.nonparametric.generalisation_gaps` with every finished LP kept in a file.

    ``checkpoint``: a JSON-lines file.  Every finished LP (the two population values, each (n, seed) optimum) is
    appended, flushed and fsynced with its configuration, seconds, UTC time and
    :func:`lsgan_theory.provenance.provenance`; a call with the same file skips the LPs already recorded for the same
    configuration — a run killed at any point (SIGKILL included) resumes without losing or repeating a finished solve
    (a record cut short by the kill is removed and its LP solved again).  Records match on the configuration
    (densities by their ``spec``, λ, κ, margin, τ, seed; the population values also on their grid size, so changing
    ``grid`` re-solves only them), not on the package version: the LP optimum is exact, and each record keeps the
    provenance it was solved with.  Records of another configuration are kept and ignored.  One writer per file.
    ``progress``: called with a one-line ``str`` after every LP solved.  Without ``checkpoint`` nothing is written.
    """
    import json
    import os
    import time

    from ..provenance import provenance

    config = {"P": P.spec, "Q": Q.spec, "lam": float(lam), "kappa": float(kappa), "margin_kind": margin_kind,
              "tau": float(tau), "grid": int(grid), "seed": np.asarray(seed).tolist()}
    common = {k: v for k, v in config.items() if k != "grid"}  # what an empirical optimum depends on
    known = {}
    if checkpoint is not None:
        checkpoint = os.fspath(checkpoint)
        if os.path.isdir(checkpoint):
            raise ValueError(f"checkpoint = {checkpoint!r}: a folder; give the path of a file (JSON lines)")
        if os.path.exists(checkpoint):
            with open(checkpoint, "rb") as f:
                data = f.read()
            if data and not data.endswith(b"\n"):  # a record cut short by a kill: removed, its LP solved again
                with open(checkpoint, "rb+") as f:
                    f.truncate(data.rfind(b"\n") + 1)
            for line in data[: data.rfind(b"\n") + 1].decode("utf-8").splitlines():
                try:
                    rec = _output.loads(line)
                except ValueError:  # not a record (damaged by hand): ignored, its LP solved again
                    continue
                if not isinstance(rec, dict) or not isinstance(rec.get("config"), dict):
                    continue
                rc = rec["config"]
                same = {k: v for k, v in rc.items() if k != "grid"} == common
                if same and (rec.get("what") == "empirical" or rc.get("grid") == config["grid"]):
                    known[(rec["what"], rec["n"], rec["s"])] = rec
        try:  # a path that cannot be written fails before any solve
            with open(checkpoint, "a", encoding="utf-8"):
                pass
        except OSError as e:
            raise ValueError(f"checkpoint = {checkpoint!r}: cannot be written ({e.strerror})") from None
    prov = provenance() if checkpoint is not None else None

    def solved(what, n, s, value, seconds, k, total):
        if checkpoint is not None:
            rec = {"what": what, "n": n, "s": s, "objective": value, "seconds": seconds,
                   "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "config": config, "provenance": prov}
            with open(checkpoint, "a", encoding="utf-8") as f:
                f.write(_output.dumps(rec, indent=None) + "\n")  # standard JSON: NaN -> null, listed
                f.flush()
                os.fsync(f.fileno())
        if progress is not None:
            label = f"n = {n}, seed {s}" if what == "empirical" else what
            progress(f"{k}/{total} {P.spec} vs {Q.spec}: {label}: S = {value:.8g} in {seconds:.1f} s")

    return npm.generalisation_gaps(P, Q, lam, kappa, ns, seeds, margin_kind=margin_kind, tau=tau, grid=grid,
                                   seed=seed, known=known, on_solved=solved)


def generalisation_config(quick: bool = False, extended: bool = False) -> dict:
    """The set-up of :func:`generalisation_study`: ``{"d=K": (P, Q, margin_kind, ns, seeds, grid)}``."""
    cfg = {
        "d=1": (densities.Beta(2, 3), densities.Beta(3, 2), "l1",
                [16, 32, 64, 128] if quick else [16, 32, 64, 128, 256, 512], 4 if quick else 12, 100 if quick else 300),
        "d=2": (densities.Normal2D(loc=(0, 0), scale=1), densities.Normal2D(loc=(1, 0), scale=1), "l2",
                [8, 16, 32, 64] if quick else [8, 16, 32, 64, 128, 256], 4 if quick else 12, 14 if quick else 22),
        "d=3": (densities.IsotropicNormal((0, 0, 0)), densities.IsotropicNormal((1, 0, 0)), "l2",
                [8, 16, 32] if quick else [8, 16, 32, 64, 128, 256], 4 if quick else 12, 6 if quick else 10),
    }
    if extended:
        for k, (top, grid) in EXTENDED.items():
            P, Q, margin_kind, ns, _, _ = cfg[k]
            cfg[k] = (P, Q, margin_kind, [2 ** e for e in range(int(np.log2(ns[0])), top + 1)], 8, grid)
    return cfg


def generalisation_study(quick: bool = False, seed: int = 0, dims=(1, 2, 3), *, lam: float = 1.0,
                         kappa: float = 2.0, extended: bool = False, checkpoint_dir=None, progress=None) -> dict:
    """The gap between S*_{n,n} and S* vs n (THEORY.md §5, Generalisation) for d = 1 (Beta(2,3) vs Beta(3,2), L1),
    d = 2 (N(0, I) vs N((1,0), I), L2) and d = 3 (N(0, I) vs N((1,0,0), I), L2).

    S* is the LP on a density-weighted quadrature grid; its error is bounded by e = |S*(grid) − S*(grid/2)| (the
    population value converges monotonically with O(h) steps, so the halved grid's difference over-covers).  Per d:
    ``gap_kind``: "optimism" (S* − S*_n) when at least 95 % of the empirical optima lie below S* − e, else
    "absolute" (|S*_n − S*|: S*_n lands on both sides, the signed mean is no rate); ``mean`` / ``lo`` / ``hi``: the
    mean of that gap over seeds with a 95 % interval that adds ±e to the Student-t 95 % half-width
    (:func:`lsgan_theory.studies.stats.t_half_width`); ``optimism_mean``, ``abs_mean``: both
    means, reported; ``below``: share of empirical optima below S* − e; ``slope``, ``slope_ci``: fitted slope with a bootstrap CI (:func:`lsgan_theory.studies.stats.fit_power`: the
    seeds of each n resampled within that n -- every (n, seed) sample is an independent draw), widened to the union of the CIs with
    the gaps shifted by ±e (population error propagated); ``candidates``: name -> the candidate rate's fitted slope
    over the same n.

    ``extended=True`` (full runs only, hours on 2 cores): n = 2⁴..2¹³ in d = 1, 2³..2¹¹ in d = 2 and 2³..2¹⁰ in
    d = 3 with 8 seeds, and finer population grids (1000, 40, 12 points per dimension) so that the population error e
    stays below the gaps at the largest n; ``quick`` is ignored then.  ``checkpoint_dir``: a folder where every
    finished LP is recorded (``gaps_d=1.jsonl`` …, see :func:`recorded_generalisation_gaps`), so
    a killed run resumes where it stopped; ``progress``: called with a line after every LP.
    """
    rng = np.random.default_rng([seed, 57])
    cfg = generalisation_config(quick, extended)
    cfg = {k: v for k, v in cfg.items() if int(k[2:]) in dims}
    res = {}
    for label, (P, Q, margin_kind, ns, seeds, grid) in cfg.items():
        ck = None
        if checkpoint_dir is not None:
            from pathlib import Path

            Path(checkpoint_dir).mkdir(parents=True, exist_ok=True)
            ck = Path(checkpoint_dir) / f"gaps_{label}.jsonl"
        r = recorded_generalisation_gaps(P, Q, lam, kappa, ns, seeds, margin_kind=margin_kind, grid=grid, seed=seed,
                                         checkpoint=ck, progress=progress)
        e = float(r["population_error"])
        below = float(np.mean(r["empirical"] < r["population"] - e))
        # which gap: the optimism S* − S*_n when (nearly) every empirical optimum lies below S* − e, else the
        # two-sided |S*_n − S*| (then S*_n falls on both sides and the signed mean is not a rate)
        kind = "optimism" if below >= 0.95 else "absolute"
        gaps = r["population"] - r["empirical"] if kind == "optimism" else r["gaps"]
        half = np.array([t_half_width(g)[1] for g in gaps])  # Student-t 95 % half-width over seeds, per n
        fit = fit_power(ns, gaps, seed=rng)
        slope, ci = fit.slope, fit.ci
        cis = [ci] + [fit_power(ns, gaps, seed=rng, offset=o).ci for o in (-e, e) if np.all(gaps.mean(1) + o > 0)]
        slope_ci = (min(c[0] for c in cis), max(c[1] for c in cis))
        if not np.all(gaps.mean(1) - e > 0):  # a shifted mean gap at or below 0: the slope is unbounded below
            slope_ci = (-np.inf, slope_ci[1])
        res[label] = {"n": ns, "gap_kind": kind, "mean": gaps.mean(1), "lo": gaps.mean(1) - half - e,
                      "hi": gaps.mean(1) + half + e, "optimism_mean": (r["population"] - r["empirical"]).mean(1),
                      "abs_mean": r["gaps"].mean(1), "below": below,
                      "slope": slope, "slope_ci": slope_ci, "slope_ci_sampling": ci,
                      "candidates": {k: candidate_slope(ns, k) for k in RATES},
                      "population": r["population"], "population_error": e, "seconds": r["seconds"],
                      "spec": f"{P.spec} vs {Q.spec}", "margin_kind": margin_kind, "seeds": seeds, "grid": grid}
    return res
