"""The optimal-critic checks: train critics against a *fixed* generator and compare with the exact optimum.

With the generator density q held fixed and data density p, the pointwise minimisers of the discriminator
objectives are (THEORY.md §1–§3):

* classic GAN (``gan``, D = sigmoid of the network output):  D*(x) = p / (p + q);
* least squares (``least_squares``, labels a fake, b real):  D*(x) = (b p + a q) / (p + q);
* hinge (``hinge``):                                          D*(x) = sign(p − q)  (any value in [−1, 1] where p = q).

:func:`optimal_critic` trains E independent discriminators (own seeds, own data set of size ``n_data`` from p, fresh
draws from q each step by inverse CDF) and :func:`critic_statistics` compares their mean D̄ with D*:

* ``gan``, ``least_squares``: statistic ‖D̄ − D*‖, the (p+q)/2-weighted RMS over a grid; its standard error
  ‖SE‖ with SE(x) = s(x)/√E, s the seed-to-seed standard deviation (randomness: each seed's data set,
  initialisation and generator draws).  Tolerance 2‖SE‖ (E‖noise‖² = ‖SE‖² when D̄ is unbiased).
* ``hinge``: D* is a step, which a continuous network can only approximate; what is identified is the decision
  boundary.  Statistic |x̂₀ − x₀|, where x₀ is the point where p = q (between the modes) and x̂₀ the point where D̄
  crosses 0; tolerance 2·SE(x̂₀), SE from the per-seed crossings (sd/√E).
* power: the same statistic against the optimum for q shifted by ±``shift``·σ_q (σ_q from q's quartiles; the
  smaller of the two distances is reported).  A check whose alternative lies within the tolerance cannot tell
  the two apart (inconclusive).

No exclusion zone and no widening: a bias of several SE is a FAIL unless explained by a measured bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .. import densities as _densities
from .. import families as _families
from .. import losses as _losses
from ..ensemble import TrainConfig, TrainResult, train
from ..resources import torch_threads

__all__ = ["CriticCheck", "LossSensitiveCriticCheck", "closed_form_critic", "critic_statistics", "custom_critic",
           "hinge_clipped_fraction", "loss_sensitive_critic", "optimal_critic"]


def closed_form_critic(family: str, p: np.ndarray, q: np.ndarray, a: float = -1.0, b: float = 1.0) -> np.ndarray:
    """D*(x) from density values p(x), q(x) (arrays of equal shape) for ``gan``, ``least_squares``, ``hinge``."""
    fam = _families.canonical(family)
    if fam not in ("gan", "gan_ns", "least_squares", "hinge"):
        raise ValueError(f"family: the closed-form critic is known for 'gan', 'least_squares', 'hinge', got {family!r}")
    params = {"ls_a": a, "ls_b": b} if fam == "least_squares" else {}
    d = _families.d_star(fam, p, q, **params)
    return np.nan_to_num(d, nan=0.0) if fam == "hinge" else d  # hinge: any value in [−1, 1] is optimal at p = q


@dataclass
class CriticCheck:
    """Result of :func:`critic_statistics` / :func:`optimal_critic`; arrays are on the evaluation grid ``x`` (G,).

    ``statistic``: ‖D̄ − D*‖ (weighted RMS; ``gan``, ``least_squares``) or |x̂₀ − x₀| (``hinge``);
    ``standard_error``: its standard error over the E seeds; ``tolerance`` = 2 × ``standard_error``;
    ``alternatives``: name -> the same statistic against a nearby wrong optimum (q shifted by ±shift·σ_q);
    ``noise``: the single-model spread ‖s‖ (for reference; the tolerance uses ‖s‖/√E);
    ``boundary``: for the hinge, x0 (p = q), x0_hat (D̄ = 0), per-model crossings, and the crossings of the
    alternatives' optima; ``value_error``: ‖D̄ − D*‖ for every family (for the hinge: reported, not a verdict).
    """

    family: str
    p: str
    q: str
    x: np.ndarray = field(repr=False)
    d_star: np.ndarray = field(repr=False)
    d_models: np.ndarray = field(repr=False)  # (E, G)
    weight: np.ndarray = field(repr=False)
    statistic: float = 0.0
    standard_error: float = 0.0
    alternatives: dict = field(default_factory=dict)
    noise: float = 0.0
    value_error: float = 0.0
    shift: float = 0.1
    boundary: dict = field(default_factory=dict)
    result: TrainResult | None = field(default=None, repr=False)

    @property
    def tolerance(self) -> float:
        return 2.0 * self.standard_error

    @property
    def n_models(self) -> int:
        return int(self.d_models.shape[0])

    @property
    def power(self) -> bool:
        return all(v > self.tolerance for v in self.alternatives.values())

    @property
    def d_mean(self) -> np.ndarray:
        return self.d_models.mean(0)


def _wrms(v: np.ndarray, w: np.ndarray) -> float:
    return float(np.sqrt(np.sum(w * v * v) / np.sum(w)))


def _sigma(P) -> float:
    """Scale of a 1-D density from its quartiles (= σ for a normal)."""
    q1, q3 = P.ppf(np.array([0.25, 0.75]))
    return float((q3 - q1) / 1.3489795003921634)


def _crossing(x: np.ndarray, f: np.ndarray, near: float, level: float = 0.0) -> float:
    """The level crossing of f (sampled on x) closest to ``near`` (linear interpolation); NaN when none."""
    s = f - level
    k = np.nonzero(np.sign(s[:-1]) * np.sign(s[1:]) <= 0)[0]
    k = k[~((s[k] == 0) & (s[k + 1] == 0))]
    if k.size == 0:
        return float("nan")
    roots = x[k] - s[k] * (x[k + 1] - x[k]) / np.where(s[k + 1] != s[k], s[k + 1] - s[k], 1.0)
    return float(roots[np.argmin(np.abs(roots - near))])


def critic_statistics(family: str, x, d_models, p, q, *, shift: float = 0.1, a: float = -1.0, b: float = 1.0,
                      d_star=None, piecewise: bool = False) -> CriticCheck:
    """Compare trained critics ``d_models`` (E, G) on the grid ``x`` (G,) with the optimum D* for densities p, q.

    Parameters
    ----------
    family : {"gan", "least_squares", "hinge"}
    x : (G,) grid; d_models : (E, G) the critics' outputs D_e(x) (probabilities for ``gan``), E >= 2
    p, q : density specs or :class:`lsgan_theory.densities.Density` (1-D)
    shift : the alternative is q shifted by ±shift·σ_q
    a, b : least-squares labels
    d_star : callable (p values, q values) -> D* values, optional
        Required for ``family="custom"`` (e.g. lambdified from :func:`lsgan_theory.symbolic.derive_custom`).
    piecewise : bool
        ``custom`` only: D* is piecewise constant (a step where p = q, like the hinge); the boundary statistic is
        used, with the level halfway between D*'s two values.

    Returns
    -------
    CriticCheck (without ``result``); see the module docstring for the statistic and tolerance.
    """
    fam = _families.canonical(family)
    if fam == "custom":
        if not callable(d_star):
            raise TypeError("d_star: family 'custom' needs D* as a callable (p values, q values) -> D* values")

        user_d_star = d_star

        def optimum(px, qx):
            return np.asarray(user_d_star(px, qx), dtype=np.float64) * np.ones(np.broadcast(px, qx).shape)
    else:
        closed_form_critic(fam, np.ones(1), np.ones(1))

        def optimum(px, qx):
            return closed_form_critic(fam, px, qx, a, b)
    boundary_stat = fam == "hinge" or (fam == "custom" and piecewise)
    level = 0.0
    if fam == "custom" and piecewise:
        level = 0.5 * float(optimum(np.array([2.0]), np.array([1.0]))[0] + optimum(np.array([1.0]), np.array([2.0]))[0])
    P = p if isinstance(p, _densities.Density) else _densities.parse(p)
    Q = q if isinstance(q, _densities.Density) else _densities.parse(q)
    x = np.asarray(x, dtype=np.float64)
    d = np.asarray(d_models, dtype=np.float64)
    if d.ndim != 2 or d.shape[1] != x.size or d.shape[0] < 2:
        raise ValueError(f"d_models: expected shape (E >= 2, {x.size}), got {d.shape}")
    if not (isinstance(shift, (int, float)) and shift > 0):
        raise ValueError(f"shift: must be a number > 0, got {shift!r}")
    E = d.shape[0]
    px, qx = P.pdf(x), Q.pdf(x)
    w = 0.5 * (px + qx)
    d_star = optimum(px, qx)
    if boundary_stat:
        d_star = np.nan_to_num(d_star, nan=level)
    d_mean = d.mean(0)
    noise = _wrms(d.std(0, ddof=1), w)
    value_error = _wrms(d_mean - d_star, w)
    sig = _sigma(Q)
    alt_q = {f"q shifted by {sgn}{shift:g}σ": Q.pdf(x - (1 if sgn == "+" else -1) * shift * sig) for sgn in "+−"}
    if not boundary_stat:
        stat, se = value_error, noise / np.sqrt(E)
        alts = {k: _wrms(d_mean - optimum(px, v), w) for k, v in alt_q.items()}
        boundary = {}
    else:
        # where p = q between the modes: the crossing of p − q nearest the midpoint of the two medians
        mid = 0.5 * float(P.ppf(np.array([0.5]))[0] + Q.ppf(np.array([0.5]))[0])
        x0 = _crossing(x, px - qx, mid)
        per = np.array([_crossing(x, d[e], x0, level) for e in range(E)])
        x0_hat = _crossing(x, d_mean, x0, level)
        ok = np.isfinite(per)
        se = float(per[ok].std(ddof=1) / np.sqrt(ok.sum())) if ok.sum() >= 2 else float("nan")
        stat = abs(x0_hat - x0)
        alt_x0 = {k: _crossing(x, px - v, mid) for k, v in alt_q.items()}
        alts = {k: abs(x0_hat - v) for k, v in alt_x0.items()}
        boundary = {"x0": x0, "x0_hat": x0_hat, "crossings": per, "models_without_crossing": int((~ok).sum()),
                    "alternative_x0": alt_x0}
    return CriticCheck(fam, P.spec, Q.spec, x, d_star, d, w, float(stat), float(se), alts, noise, value_error,
                       float(shift), boundary)


def optimal_critic(family: str, p: str = "normal(0,1)", q: str = "normal(1.5,1)", *, n_models: int = 16,
                   steps: int = 600, batch: int = 128, n_data: int = 8192, width: int = 32, lr: float = 2e-3,
                   seed: int = 0, device: str = "auto", grid: int = 201, shift: float = 0.1) -> CriticCheck:
    """Train ``n_models`` discriminators of ``family`` against the fixed generator density ``q`` (data ``p``) and
    compare them with D* (:func:`critic_statistics`).

    Parameters
    ----------
    family : {"gan", "least_squares", "hinge"}
    p, q : density specs (1-D)
    n_models, steps, batch, n_data, width, lr, seed, device
        Ensemble size, D updates, batch size, data-set size per model, hidden width (two hidden layers, ReLU),
        Adam learning rate (β = (0.5, 0.999)), seed, device.
    grid : evaluation points over the central 99.9 % of (p + q)/2
    shift : the alternative optimum uses q shifted by ±shift·σ_q

    Returns
    -------
    CriticCheck
        ``statistic``, ``tolerance`` and ``alternatives`` are the evidence; the claims decide the verdict
        (:func:`lsgan_theory._claims.ensemble.critic_checks`).
    """
    closed_form_critic(family, np.ones(1), np.ones(1))
    P, Q = _densities.parse(p), _densities.parse(q)
    cfg, res, x, out = _trained_on_grid(P, Q, dict(family=family), n_models=n_models, steps=steps, batch=batch,
                                        n_data=n_data, width=width, lr=lr, seed=seed, device=device, grid=grid)
    out = out.numpy()
    d = 1.0 / (1.0 + np.exp(-out)) if _families.canonical(family) in ("gan", "gan_ns") else out
    chk = critic_statistics(family, x, d, P, Q, shift=shift, a=cfg.ls_a, b=cfg.ls_b)
    chk.result = res
    return chk


def custom_critic(real: str, fake: str, sense: str = "max", generator: str | None = None, p: str = "normal(0,1)",
                  q: str = "normal(1.5,1)", *, n_models: int = 16, steps: int = 600, batch: int = 128,
                  n_data: int = 8192, width: int = 32, lr: float = 2e-3, seed: int = 0, device: str = "auto",
                  grid: int = 201, shift: float = 0.1, derivation=None) -> CriticCheck:
    """Train ``n_models`` discriminators of a loss given by formulas (``family="custom"``) against the fixed
    generator density ``q`` and compare them with the D* derived by :func:`lsgan_theory.symbolic.derive_custom`.

    The same statistic, tolerance and power as :func:`optimal_critic` (module docstring); the trained D is read as
    the compiled loss reads it (D = σ(output) for a loss that needs D in (0, 1), else the output;
    :func:`lsgan_theory.losses.compile_custom_loss`).  D* is lambdified from the derived sympy expression (never from
    text).  A piecewise-constant D* (a step at p = q) is compared by its decision boundary.  ``derivation``: a
    :class:`lsgan_theory.symbolic.CustomDerivation` already computed for these formulas (else derived here).

    Returns
    -------
    CriticCheck
        ``family == "custom"``; its verdict is read in the report layer (``lsgan-theory analyse``:
        :func:`lsgan_theory._claims.analysis.critic_verdict`).

    Raises
    ------
    ValueError
        Bad formulas, or a loss without a pointwise optimum (nothing to compare with).
    """
    from ..symbolic import derive_custom
    from ..symbolic import p as sym_p
    from ..symbolic import q as sym_q
    from ..symbolic.numeric import lambdify_pq

    der = derivation if derivation is not None else derive_custom(real, fake, sense=sense, generator=generator)
    free = der.d_star.free_symbols - {sym_p, sym_q}
    if free:
        raise ValueError(f"real/fake: D* = {der.d_star} has free parameters {sorted(map(str, free))}; write numbers")
    dfn = lambdify_pq(der.d_star)
    loss = _losses.compile_custom_loss(real, fake, sense, generator)
    P, Q = _densities.parse(p), _densities.parse(q)
    family = dict(family="custom", custom_real=real, custom_fake=fake, custom_sense=sense, custom_generator=generator)
    _, res, x, out = _trained_on_grid(P, Q, family, n_models=n_models, steps=steps, batch=batch, n_data=n_data,
                                      width=width, lr=lr, seed=seed, device=device, grid=grid)
    with torch.no_grad():
        d = loss.discriminator(out).numpy()
    import sympy as _sp
    piecewise = bool(der.d_star.has(_sp.Piecewise))
    chk = critic_statistics("custom", x, d, P, Q, shift=shift, d_star=dfn, piecewise=piecewise)
    chk.result = res
    return chk


def _qtile(P, u: float) -> np.ndarray:
    return P.ppf(np.array([u]))


def _trained_on_grid(P, Q, family: dict, *, n_models: int, steps: int, batch: int, n_data: int, width: int,
                     lr: float, seed: int, device: str, grid: int):
    """Train ``n_models`` discriminators of ``family`` (the TrainConfig fields of the loss) against the fixed
    generator density Q (data P), two hidden layers of ``width``; returns ``(config, result, x, out)`` with ``x`` the
    ``grid`` evaluation points over the central 99.9 % of (p + q)/2 and ``out`` (E, grid) the raw outputs there
    (float64 tensor, no gradient)."""
    cfg = TrainConfig(target=P.spec, fixed_generator=Q.spec, **family, n_models=n_models, seed=seed, steps=steps,
                      batch=batch, n_data=n_data, d_hidden=(width, width), g_hidden=(1,), lr_d=lr,
                      train_generator=False, record_every=max(1, steps // 20), device=device)
    with torch_threads(1):  # tiny networks (see resources.torch_threads)
        res = train(cfg)
    # grid over the central region where (p+q)/2 carries 99.9 % of the mass (quantiles of both densities)
    lo = min(float(np.min(_qtile(P, 5e-4))), float(np.min(_qtile(Q, 5e-4))))
    hi = max(float(np.max(_qtile(P, 1 - 5e-4))), float(np.max(_qtile(Q, 1 - 5e-4))))
    x = np.linspace(lo, hi, grid)
    xt = torch.tensor(np.broadcast_to(x[None, :, None], (n_models, grid, 1)).copy())
    with torch.no_grad():
        out = res.discriminator()(xt).double()
    return cfg, res, x, out


# ------------------------------------------------------------------------------------------------ loss-sensitive
@dataclass
class LossSensitiveCriticCheck:
    """Result of :func:`loss_sensitive_critic`; grid arrays have shape (G,), per-model arrays (E, ...).

    ``s_models[e]``: the empirical objective S_{n,m} of trained network e at its non-negative part max(L_e, 0) on
    the fixed samples; ``s_trace`` (E, K): the same at the steps ``trace_steps`` (convergence);
    ``kappa_models[e]``: its largest slope on the sorted evaluation points (samples ∪ grid); ``s_star``: the exact
    LP optimum over F_κ; ``s_star_relaxed``: the LP optimum over F_{κ_max}, κ_max = max_e kappa_models[e] (a
    certified lower bound for every s_models[e], Theorem 2); ``clipped_fraction``: the fraction of the n·m pairs
    whose hinge argument Δ + l*_i − l*_j is < 0 at the LP optimum (clipped by (·)_+; 0 for κ ≤ 1, THEORY.md §5);
    ``objective_se``: sd(s_models)/√E, the standard error of the ensemble mean objective over the E seeds on the
    *same* sample (training noise); ``lp_error``: the LP's numerical error bound on S*;
    ``alternatives``: name -> S* of a perturbed LP (κ·(1 − δ), λ·(1 + δ)); ``band_*``: the ensemble-mean curve
    against [L⁻, L⁺] (weighted RMS distance, its SE ‖s‖/√E, and the distance from the perturbed LPs' bands);
    ``sampling_sd``: the sd of S*_{n,m} over fresh samples (reported for contrast; not a tolerance here).
    """

    p: str
    q: str
    n: int
    m: int
    lam: float
    kappa: float
    real: np.ndarray = field(repr=False)
    fake: np.ndarray = field(repr=False)
    x: np.ndarray = field(repr=False)
    lower: np.ndarray = field(repr=False)
    upper: np.ndarray = field(repr=False)
    l_models: np.ndarray = field(repr=False)  # (E, G)
    weight: np.ndarray = field(repr=False)
    s_star: float = 0.0
    s_star_relaxed: float = 0.0
    s_models: np.ndarray = field(default=None, repr=False)
    kappa_models: np.ndarray = field(default=None, repr=False)
    clipped_fraction: float = 0.0
    active_fraction: float = 0.0
    objective_se: float = 0.0
    lp_error: float = 0.0
    alternatives: dict = field(default_factory=dict)  # name -> S* of the perturbed LP
    band_error: float = 0.0  # ‖dist(L̄, [L⁻, L⁺])‖ (weighted RMS)
    band_noise: float = 0.0  # ‖s‖ of the trained curves (single model)
    band_scale: float = 0.0  # ‖L⁺ − L⁻‖, the width of the band itself
    band_alternatives: dict = field(default_factory=dict)  # name -> ‖dist(L̄, band of the perturbed LP)‖
    sampling_sd: float = float("nan")
    trace_steps: np.ndarray = field(default=None, repr=False)
    s_trace: np.ndarray = field(default=None, repr=False)  # (E, K)
    probe_grad: np.ndarray | None = field(default=None, repr=False)  # (E, k): dL_e/dx at the ``probe`` points

    @property
    def n_models(self) -> int:
        return int(self.l_models.shape[0])

    @property
    def objective_error(self) -> float:
        return float(abs(np.mean(self.s_models) - self.s_star))

    @property
    def objective_tolerance(self) -> float:
        return 2.0 * self.objective_se + self.lp_error

    def objective_distance(self, name: str) -> float:
        """|mean_e S(L_e) − S*(alternative)|."""
        return float(abs(np.mean(self.s_models) - self.alternatives[name]))

    @property
    def band_se(self) -> float:
        return self.band_noise / np.sqrt(self.n_models)

    @property
    def band_tolerance(self) -> float:
        return 2.0 * self.band_se

    @property
    def lower_bound_holds(self) -> bool:
        # S(max(L_e, 0)) >= S*(κ_max): exact up to the LP's feasibility tolerance
        return bool(np.all(self.s_models >= self.s_star_relaxed - self.lp_error))

    def resolved(self) -> dict:
        """name -> whether the perturbed LP's optimum lies outside the objective tolerance."""
        return {k: self.objective_distance(k) > self.objective_tolerance for k in self.alternatives}


def _fit(steps, trace_at, trace_steps, s_trace, params, state, opt, total, s_exact, decay):
    """Full-batch Adam on ``total`` (summed over models), cosine-decayed if ``decay``; records S at ``trace_at``."""
    from ..ensemble import optim as _optim

    for it in range(1, steps + 1):
        ps = tuple(t.detach().requires_grad_(True) for t in params)
        grads = torch.autograd.grad(total(ps).sum(), ps)
        ups, state = opt.update(grads, state, params)
        if decay:  # cosine learning-rate decay to 0: removes the Adam oscillation around the optimum
            f = 0.5 * (1.0 + np.cos(np.pi * it / steps))
            ups = tuple(u * f for u in ups)
        params = _optim.apply_updates(params, ups)
        if it in trace_at:
            trace_steps.append(it)
            s_trace.append(s_exact(params))
    return params, state


def _band_distance(curve: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.maximum(lo - curve, 0.0) + np.maximum(curve - hi, 0.0)


def hinge_clipped_fraction(real, fake, l, lam_unused=None, margin_kind: str = "l1", atol: float = 1e-9) -> float:
    """Fraction of the n·m pairs whose LS-GAN hinge argument Δ(x_i, z_j) + l_i − l_j is below −atol (clipped)."""
    from .. import nonparametric as npm

    real, fake, l = np.asarray(real), np.asarray(fake), np.asarray(l)
    n = real.shape[0]
    arg = npm.margin_matrix(real, fake, margin_kind) + l[:n, None] - l[None, n:]
    return float(np.mean(arg < -atol))


_DELTAS = (0.02, 0.05, 0.1, 0.2)


def loss_sensitive_critic(p: str = "normal(0,1)", q: str = "normal(1.5,1)", *, n: int = 64, m: int = 64,
                          lam: float = 1.0, kappa: float = 2.0, n_models: int = 8, steps: int = 3000,
                          width: int = 32, lr: float = 3e-3, penalty: float = 300.0, seed: int = 0,
                          sampling_reps: int = 0, grid: int = 241, decay: bool = True,
                          samples=None, probe=None) -> LossSensitiveCriticCheck:
    """Train LS-GAN loss networks on one fixed real and generated sample and compare them with the exact LP.

    The non-parametric optimum over F_κ (κ-Lipschitz, non-negative losses; THEORY.md §5) is the LP solved by
    :func:`lsgan_theory.nonparametric.solve`; its cones L⁻ ≤ L⁺ contain every optimal loss (Corollary 2).  Here
    ``n_models`` MLPs L_θ (1 → width → width → 1, ReLU, float64, own initialisation streams) minimise, full batch
    with Adam, S_{n,m}(L_θ) = mean L(x) + λ mean_{i,j} (|x_i − z_j| + L(x_i) − L(z_j))_+ plus the soft constraints
    ``penalty``·(mean (slope − κ)_+² over consecutive sorted evaluation points + mean (−L)_+²).

    The default κ = 2 puts the hinge in its active regime (THEORY.md §5 "hinge inactivity": for κ ≤ 1 no pair is
    clipped and S is linear); ``clipped_fraction`` reports it.  The randomness of the E networks is their
    initialisation only (same sample), so the tolerance on the objective is 2·sd(S_e)/√E + the LP error, and its
    power is measured against the LPs with κ·(1 − δ) and λ·(1 + δ), δ ∈ {0.02, 0.05, 0.1, 0.2}.

    ``samples=(real, fake)`` replaces the draws from p and q (then n, m are their sizes); ``probe`` (k,) points at
    which the trained networks' derivatives dL_e/dx are returned (``probe_grad``).

    Returns
    -------
    LossSensitiveCriticCheck
    """
    from .. import nonparametric as npm

    P, Q = _densities.parse(p), _densities.parse(q)
    real, fake = _ls_samples(P, Q, n, m, n_models, steps, sampling_reps, seed, samples)
    n, m = real.size, fake.size
    sol = npm.solve(real, fake, lam, kappa)
    clipped = hinge_clipped_fraction(real, fake, sol.l)
    sampling_sd = _sampling_sd(P, Q, n, m, lam, kappa, seed, sampling_reps)

    lo_x = float(min(real.min(), fake.min())) - 0.5
    hi_x = float(max(real.max(), fake.max())) + 0.5
    x = np.linspace(lo_x, hi_x, grid)
    pts = np.sort(np.concatenate([real, fake, x]))
    fit = _fit_loss_networks(real, fake, pts, lam=lam, kappa=kappa, n_models=n_models, steps=steps, width=width,
                             lr=lr, penalty=penalty, seed=seed, decay=decay)
    params, s_models, E = fit["params"], fit["s_models"], n_models
    with torch.no_grad():
        ls_ = _mlp_values(params, pts)
        lx = _mlp_values(params, x)
    probe_grad = None if probe is None else _probe_gradient(params, probe)
    kappa_models = (np.abs(np.diff(np.maximum(ls_, 0.0), axis=-1)) / np.diff(pts)).max(-1)
    relaxed = npm.solve(real, fake, lam, max(kappa, float(kappa_models.max()))).objective
    # LP numerical error: HiGHS' feasibility/optimality tolerances (1e-9 per value) on O(1) values, times a safety
    # factor 100; the audit found relative gaps <= 3e-14 against independent solvers.
    lp_error = 1e-7 * max(1.0, abs(sol.objective))

    w = 0.5 * (P.pdf(x) + Q.pdf(x))
    lower, upper = sol.lower(x), sol.upper(x)
    l_mean = lx.mean(0)
    band_error = _wrms(_band_distance(l_mean, lower, upper), w)
    band_noise = _wrms(lx.std(0, ddof=1), w)
    alternatives, band_alt = _perturbed_lps(real, fake, lam, kappa, l_mean, x, w)
    return LossSensitiveCriticCheck(P.spec, Q.spec, n, m, float(lam), float(kappa), real, fake, x, lower, upper, lx, w,
                                    float(sol.objective), float(relaxed), s_models, kappa_models, clipped,
                                    float(sol.active.mean()), float(s_models.std(ddof=1) / np.sqrt(E)), lp_error,
                                    alternatives, band_error, band_noise, _wrms(upper - lower, w), band_alt,
                                    sampling_sd, np.array(fit["trace_steps"]), np.stack(fit["s_trace"], 1),
                                    probe_grad)


def _ls_samples(P, Q, n, m, n_models, steps, sampling_reps, seed, samples) -> tuple[np.ndarray, np.ndarray]:
    """The arguments of :func:`loss_sensitive_critic` checked, and its real and generated samples (1-D float64)."""
    if P.dim != 1 or Q.dim != 1:
        raise ValueError(f"p, q: the loss-sensitive critic check is 1-D, got dimensions {P.dim} and {Q.dim}")
    for name, v in (("n", n), ("m", m), ("n_models", n_models), ("steps", steps)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 2:
            raise ValueError(f"{name}: must be an integer >= 2, got {v!r}")
    if not isinstance(sampling_reps, int) or isinstance(sampling_reps, bool) or sampling_reps < 0:
        raise ValueError(f"sampling_reps: must be an integer >= 0, got {sampling_reps!r}")
    rng = np.random.default_rng([seed, 61])
    if samples is None:
        return P.sample(n, rng), Q.sample(m, rng)
    real, fake = (np.asarray(v, dtype=np.float64).reshape(-1) for v in samples)
    if real.size < 2 or fake.size < 2:
        raise ValueError(f"samples: need >= 2 real and >= 2 generated 1-D points, got {real.size} and {fake.size}")
    return real, fake


def _sampling_sd(P, Q, n: int, m: int, lam: float, kappa: float, seed: int, reps: int) -> float:
    """Standard deviation of the LP optimum over ``reps`` fresh (n, m) samples (NaN for fewer than 2)."""
    from .. import nonparametric as npm

    if reps < 2:
        return float("nan")
    objectives = []
    for r in range(reps):
        rr = np.random.default_rng([seed, 62, r])
        objectives.append(npm.solve(P.sample(n, rr), Q.sample(m, rr), lam, kappa).objective)
    return float(np.std(objectives, ddof=1))


def _mlp_values(params, pts: np.ndarray) -> np.ndarray:
    """(E, k) values of the E loss networks at the points ``pts`` (k,)."""
    from ..ensemble import mlp as _mlp

    E = params[0].shape[0]
    xs = torch.tensor(pts, dtype=torch.float64).expand(E, pts.size)[..., None]
    return _mlp.mlp_forward(params, xs)[..., 0].numpy()


def _probe_gradient(params, probe) -> np.ndarray:
    """dL_e/dx at the probe points (autograd), (E, k)."""
    from ..ensemble import mlp as _mlp

    E = params[0].shape[0]
    pt = torch.tensor(np.asarray(probe, dtype=np.float64).reshape(-1), dtype=torch.float64)
    xp = pt.expand(E, pt.numel())[..., None].clone().requires_grad_(True)
    (gp,) = torch.autograd.grad(_mlp.mlp_forward(tuple(t.detach() for t in params), xp)[..., 0].sum(), xp)
    return gp[..., 0].numpy()


def _fit_loss_networks(real, fake, pts, *, lam, kappa, n_models, steps, width, lr, penalty, seed, decay) -> dict:
    """Train ``n_models`` loss networks on S_{n,m} plus the soft constraints of F_κ (evaluated on ``pts``); returns
    the parameters, S at max(L, 0) per model (``s_models``) and its trace over training (``trace_steps``,
    ``s_trace``: S at a quarter, half, three quarters and the end)."""
    from .. import nonparametric as npm
    from ..ensemble import mlp as _mlp, optim as _optim, rng as _rng

    dt = torch.float64
    n, m, E = real.size, fake.size, n_models
    ids = torch.arange(n_models, dtype=torch.int64)
    spec = _mlp.MLPSpec((1, width, width, 1), "relu")
    params = _mlp.init_mlp(spec, seed, ids, _rng.STREAMS["init_d"], dtype=dt)
    opt = _optim.adam(lr, 0.5, 0.999)
    state = opt.init(params)
    xr = torch.tensor(real, dtype=dt).expand(E, n)[..., None]
    xf = torch.tensor(fake, dtype=dt).expand(E, m)[..., None]
    xs = torch.tensor(pts, dtype=dt).expand(E, pts.size)[..., None]
    gaps = torch.tensor(np.diff(pts), dtype=dt).clamp_min(1e-12)
    margin = _losses.margin_matrix(xr, xf, margin_kind="l1", tau=1.0)  # (E, n, m)

    def total(ps):
        Lr, Lf = _mlp.mlp_forward(ps, xr)[..., 0], _mlp.mlp_forward(ps, xf)[..., 0]
        S = _losses.loss_sensitive_objective(Lr, Lf, margin, lam)
        Ls = _mlp.mlp_forward(ps, xs)[..., 0]
        slope = (Ls[..., 1:] - Ls[..., :-1]).abs() / gaps
        pen = torch.relu(slope - kappa).pow(2).mean(-1) + torch.relu(-Ls).pow(2).mean(-1)
        return S + penalty * pen

    def s_exact(ps):  # S at max(L, 0), the quantity compared with the LP
        with torch.no_grad():
            lr_ = _mlp.mlp_forward(ps, xr)[..., 0].clamp_min(0).numpy()
            lf_ = _mlp.mlp_forward(ps, xf)[..., 0].clamp_min(0).numpy()
        return np.array([npm.objective(lr_[e], lf_[e], real, fake, lam) for e in range(E)])

    trace_at = sorted({steps // 4, steps // 2, (3 * steps) // 4})
    trace_steps, s_trace = [], []
    with torch_threads(1):
        params, state = _fit(steps, trace_at, trace_steps, s_trace, params, state, opt, total, s_exact, decay)
    s_models = s_exact(params)
    trace_steps.append(steps)
    s_trace.append(s_models)
    return {"params": params, "s_models": s_models, "trace_steps": trace_steps, "s_trace": s_trace}


def _perturbed_lps(real, fake, lam, kappa, l_mean, x, w) -> tuple[dict, dict]:
    """The power: the LP optimum with κ·(1 − δ) and λ·(1 + δ), δ in :data:`_DELTAS`, and the band distance of
    the networks' mean ``l_mean`` (on ``x``) from each perturbed LP's cones."""
    from .. import nonparametric as npm

    alternatives, band_alt = {}, {}
    for dl in _DELTAS:
        for name, (lm, kp) in {f"κ·{1 - dl:g}": (lam, kappa * (1 - dl)),
                               f"λ·{1 + dl:g}": (lam * (1 + dl), kappa)}.items():
            wrong = npm.solve(real, fake, lm, kp)
            alternatives[name] = float(wrong.objective)
            band_alt[name] = _wrms(_band_distance(l_mean, wrong.lower(x), wrong.upper(x)), w)
    return alternatives, band_alt
