"""The optimal-critic check: train discriminators against a *fixed* generator and compare with the closed-form D*.

With the generator density q held fixed and data density p, the pointwise minimisers of the discriminator
objectives are (THEORY.md §1–§3):

* classic GAN (``gan``, D = sigmoid of the network output):  D*(x) = p / (p + q);
* least squares (``least_squares``, labels a fake, b real):  D*(x) = (b p + a q) / (p + q);
* hinge (``hinge``):                                          D*(x) = sign(p − q)  (any value in [−1, 1] where p = q).

:func:`optimal_critic` trains E independent discriminators (own seeds, own data set of size m from p, fresh draws
from q each step by inverse CDF) and compares their mean D̄ with D* on a grid, in the (p+q)/2-weighted RMS norm.

Tolerance (derived from the sampling noise, not tuned): each model is an estimator built from finite samples; its
seed-to-seed spread s(x) (standard deviation over the E models) measures that noise.  The check passes when the
ensemble mean is within that spread of D*:  ‖D̄ − D*‖ ≤ 2 ‖s‖  (weighted RMS over the grid).  A negative control
evaluates the same criterion against the D* of the *other* families / of a wrong density, which must fail.
For the hinge, the comparison excludes the transition zone |p − q| < 0.3 (p + q), where D* is not unique and a
continuous network must interpolate between −1 and +1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .. import densities as _densities
from .. import families as _families
from ..ensemble import TrainConfig, TrainResult, train

__all__ = ["CriticCheck", "LossSensitiveCriticCheck", "closed_form_critic", "loss_sensitive_critic", "optimal_critic"]


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
    """Result of :func:`optimal_critic`; arrays are on the evaluation grid ``x`` (G,)."""

    family: str
    p: str
    q: str
    x: np.ndarray = field(repr=False)
    d_star: np.ndarray = field(repr=False)
    d_models: np.ndarray = field(repr=False)  # (E, G)
    weight: np.ndarray = field(repr=False)
    error: float = 0.0  # ‖D̄ − D*‖ (weighted RMS)
    noise: float = 0.0  # ‖s‖, the seed-to-seed spread
    controls: dict = field(default_factory=dict)  # name -> ‖D̄ − D_wrong‖
    result: TrainResult | None = field(default=None, repr=False)

    @property
    def tolerance(self) -> float:
        return 2.0 * self.noise

    @property
    def passed(self) -> bool:
        return self.error <= self.tolerance and all(v > self.tolerance for v in self.controls.values())

    @property
    def d_mean(self) -> np.ndarray:
        return self.d_models.mean(0)


def _wrms(v: np.ndarray, w: np.ndarray) -> float:
    return float(np.sqrt(np.sum(w * v * v) / np.sum(w)))


def optimal_critic(family: str, p: str = "normal(0,1)", q: str = "normal(1.5,1)", *, n_models: int = 16,
                   steps: int = 600, batch: int = 128, n_data: int = 8192, width: int = 32, lr: float = 2e-3,
                   seed: int = 0, device: str = "auto", grid: int = 201) -> CriticCheck:
    """Train ``n_models`` discriminators of ``family`` against the fixed generator density ``q`` (data ``p``).

    Parameters
    ----------
    family : {"gan", "least_squares", "hinge"}
    p, q : density specs (1-D)
    n_models, steps, batch, n_data, width, lr, seed, device
        Ensemble size, D updates, batch size, data-set size per model, hidden width (two hidden layers, ReLU),
        Adam learning rate (β = (0.5, 0.999)), seed, device.

    Returns
    -------
    CriticCheck
        ``passed`` is the verdict; ``error``, ``tolerance`` and ``controls`` the evidence.
    """
    closed_form_critic(family, np.ones(1), np.ones(1))
    P, Q = _densities.parse(p), _densities.parse(q)
    cfg = TrainConfig(target=P.spec, fixed_generator=Q.spec, family=family, n_models=n_models, seed=seed, steps=steps,
                      batch=batch, n_data=n_data, d_hidden=(width, width), g_hidden=(1,), lr_d=lr,
                      train_generator=False, record_every=max(1, steps // 20), device=device)
    res = train(cfg)
    # grid over the central region where (p+q)/2 carries 99.9 % of the mass (quantiles of both densities)
    lo = min(float(np.min(_qtile(P, 5e-4))), float(np.min(_qtile(Q, 5e-4))))
    hi = max(float(np.max(_qtile(P, 1 - 5e-4))), float(np.max(_qtile(Q, 1 - 5e-4))))
    x = np.linspace(lo, hi, grid)
    px, qx = P.pdf(x), Q.pdf(x)
    w = 0.5 * (px + qx)
    xt = torch.tensor(np.broadcast_to(x[None, :, None], (n_models, grid, 1)).copy())
    with torch.no_grad():
        out = res.discriminator()(xt).double().numpy()
    d = 1.0 / (1.0 + np.exp(-out)) if family in ("gan", "gan_ns") else out
    d_star = closed_form_critic(family, px, qx, cfg.ls_a, cfg.ls_b)
    if family == "hinge":
        w = np.where(np.abs(px - qx) >= 0.3 * (px + qx), w, 0.0)
    d_mean = d.mean(0)
    error = _wrms(d_mean - d_star, w)
    noise = _wrms(d.std(0, ddof=1), w)
    controls = {}
    for other in ("gan", "least_squares", "hinge"):
        if other != family and not (family == "gan_ns" and other == "gan"):
            controls[f"D* of {other}"] = _wrms(d_mean - closed_form_critic(other, px, qx), w)
    # a wrong generator density: q shifted by 1 (one standard deviation of the default densities)
    q_wrong = Q.pdf(x - 1.0)
    controls["D* with q shifted by 1"] = _wrms(d_mean - closed_form_critic(family, px, q_wrong), w)
    return CriticCheck(family, P.spec, Q.spec, x, d_star, d, w, error, noise, controls, res)


def _qtile(P, u: float) -> np.ndarray:
    return P.ppf(np.array([u]))


# ------------------------------------------------------------------------------------------------ loss-sensitive
@dataclass
class LossSensitiveCriticCheck:
    """Result of :func:`loss_sensitive_critic`; grid arrays have shape (G,), per-model arrays (E, ...).

    ``s_models[e]`` is the empirical objective S_{n,m} of trained network e evaluated at its non-negative part
    max(L_e, 0) on the fixed samples; ``kappa_models[e]`` its largest slope on the sorted evaluation points
    (samples ∪ grid); ``s_star`` the exact LP optimum over F_κ and ``s_star_relaxed`` the LP optimum over
    F_{κ_max} with κ_max = max_e kappa_models[e] (a certified lower bound for every s_models[e], Theorem 2).
    ``sampling_sd`` is the standard deviation of S*_{n,m} over fresh samples of the same sizes (the sampling noise).
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
    sampling_sd: float = 0.0
    band_error: float = 0.0  # ‖dist(L̄, [L⁻, L⁺])‖ (weighted RMS)
    band_noise: float = 0.0  # ‖s‖ of the trained curves
    band_scale: float = 0.0  # ‖L⁺ − L⁻‖, the width of the band itself
    controls: dict = field(default_factory=dict)  # name -> (objective difference, band distance) of a wrong LP

    @property
    def objective_error(self) -> float:
        return float(abs(np.mean(self.s_models) - self.s_star))

    @property
    def band_tolerance(self) -> float:
        return 2.0 * self.band_noise

    @property
    def lower_bound_holds(self) -> bool:
        # S(max(L_e, 0)) >= S*(κ_max): exact up to the LP's feasibility tolerance (1e-9 per value)
        return bool(np.all(self.s_models >= self.s_star_relaxed - 1e-7 * max(1.0, abs(self.s_star_relaxed))))

    @property
    def passed(self) -> bool:
        ok = (self.objective_error <= self.sampling_sd and self.band_error <= self.band_tolerance
              and self.lower_bound_holds)
        return ok and all(ds > self.sampling_sd and db > self.band_tolerance for ds, db in self.controls.values())


def _band_distance(curve: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.maximum(lo - curve, 0.0) + np.maximum(curve - hi, 0.0)


def loss_sensitive_critic(p: str = "normal(0,1)", q: str = "normal(1.5,1)", *, n: int = 64, m: int = 64,
                          lam: float = 1.0, kappa: float = 1.0, n_models: int = 8, steps: int = 3000,
                          width: int = 32, lr: float = 3e-3, penalty: float = 300.0, seed: int = 0,
                          sampling_reps: int = 16, grid: int = 241) -> LossSensitiveCriticCheck:
    """Train LS-GAN loss networks on a fixed real and generated sample and compare them with the exact LP.

    The non-parametric optimum over F_κ (κ-Lipschitz, non-negative losses; THEORY.md §5) is the LP solved by
    :func:`lsgan_theory.nonparametric.solve`; its cones L⁻ ≤ L⁺ contain every optimal loss (Corollary 2).  Here
    ``n_models`` MLPs L_θ (1 → width → width → 1, ReLU, float64, own initialisation streams) minimise, full batch
    with Adam, S_{n,m}(L_θ) = mean L(x) + λ mean_{i,j} (|x_i − z_j| + L(x_i) − L(z_j))_+ plus the soft constraints
    ``penalty``·(mean (slope − κ)_+² over consecutive sorted evaluation points + mean (−L)_+²).

    Verdict (all must hold):

    * objective: |mean_e S_{n,m}(L_e) − S*| ≤ sd of S*_{n,m} over fresh samples (the optimisation error is below the
      sampling noise of the quantity itself);
    * certified lower bound: S_{n,m}(max(L_e, 0)) ≥ S*(κ_max) for every model (the trained net is feasible for the LP
      with its own measured Lipschitz constant κ_max; a violation would mean the LP optimum is not optimal);
    * bounds: the (p+q)/2-weighted RMS distance of the ensemble-mean curve from the band [L⁻, L⁺] is within twice
      the seed-to-seed spread of the curves;
    * negative controls: the LP with κ/2 and the LP with 4λ must *fail* both the objective and the band criterion.

    Returns
    -------
    LossSensitiveCriticCheck
    """
    from .. import nonparametric as npm

    P, Q = _densities.parse(p), _densities.parse(q)
    if P.dim != 1 or Q.dim != 1:
        raise ValueError(f"p, q: the loss-sensitive critic check is 1-D, got dimensions {P.dim} and {Q.dim}")
    for name, v in (("n", n), ("m", m), ("n_models", n_models), ("steps", steps), ("sampling_reps", sampling_reps)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 2:
            raise ValueError(f"{name}: must be an integer >= 2, got {v!r}")
    rng = np.random.default_rng([seed, 61])
    real, fake = P.sample(n, rng), Q.sample(m, rng)
    sol = npm.solve(real, fake, lam, kappa)
    reps = []
    for r in range(sampling_reps):
        rr = np.random.default_rng([seed, 62, r])
        reps.append(npm.solve(P.sample(n, rr), Q.sample(m, rr), lam, kappa).objective)
    sampling_sd = float(np.std(reps, ddof=1))

    lo_x = float(min(real.min(), fake.min())) - 0.5
    hi_x = float(max(real.max(), fake.max())) + 0.5
    x = np.linspace(lo_x, hi_x, grid)
    pts = np.sort(np.concatenate([real, fake, x]))
    dt = torch.float64
    ids = torch.arange(n_models, dtype=torch.int64)
    from ..ensemble import mlp as _mlp, optim as _optim, rng as _rng

    spec = _mlp.MLPSpec((1, width, width, 1), "relu")
    params = _mlp.init_mlp(spec, seed, ids, _rng.STREAMS["init_d"], dtype=dt)
    opt = _optim.adam(lr, 0.5, 0.999)
    state = opt.init(params)
    E = n_models
    xr = torch.tensor(real, dtype=dt).expand(E, n)[..., None]
    xf = torch.tensor(fake, dtype=dt).expand(E, m)[..., None]
    xs = torch.tensor(pts, dtype=dt).expand(E, pts.size)[..., None]
    gaps = torch.tensor(np.diff(pts), dtype=dt).clamp_min(1e-12)
    margin = (xr - xf.transpose(1, 2)).abs()  # (E, n, m)

    def total(ps):
        Lr, Lf = _mlp.mlp_forward(ps, xr)[..., 0], _mlp.mlp_forward(ps, xf)[..., 0]
        S = Lr.mean(-1) + lam * torch.relu(margin + Lr[..., :, None] - Lf[..., None, :]).mean((-2, -1))
        Ls = _mlp.mlp_forward(ps, xs)[..., 0]
        slope = (Ls[..., 1:] - Ls[..., :-1]).abs() / gaps
        pen = torch.relu(slope - kappa).pow(2).mean(-1) + torch.relu(-Ls).pow(2).mean(-1)
        return S + penalty * pen

    for _ in range(steps):
        ps = tuple(t.detach().requires_grad_(True) for t in params)
        grads = torch.autograd.grad(total(ps).sum(), ps)
        ups, state = opt.update(grads, state, params)
        params = _optim.apply_updates(params, ups)

    with torch.no_grad():
        lr_ = _mlp.mlp_forward(params, xr)[..., 0].clamp_min(0).numpy()
        lf_ = _mlp.mlp_forward(params, xf)[..., 0].clamp_min(0).numpy()
        ls_ = _mlp.mlp_forward(params, xs)[..., 0].numpy()
        lx = _mlp.mlp_forward(params, torch.tensor(x, dtype=dt).expand(E, grid)[..., None])[..., 0].numpy()
    s_models = np.array([npm.objective(lr_[e], lf_[e], real, fake, lam) for e in range(E)])
    kappa_models = (np.abs(np.diff(np.maximum(ls_, 0.0), axis=-1)) / np.diff(pts)).max(-1)
    relaxed = npm.solve(real, fake, lam, max(kappa, float(kappa_models.max()))).objective

    w = 0.5 * (P.pdf(x) + Q.pdf(x))
    lower, upper = sol.lower(x), sol.upper(x)
    l_mean = lx.mean(0)
    band_error = _wrms(_band_distance(l_mean, lower, upper), w)
    band_noise = _wrms(lx.std(0, ddof=1), w)
    controls = {}
    for name, (lm, kp) in {"LP with κ/2": (lam, kappa / 2), "LP with 4λ": (4 * lam, kappa)}.items():
        wrong = npm.solve(real, fake, lm, kp)
        controls[name] = (float(abs(np.mean(s_models) - wrong.objective)),
                          _wrms(_band_distance(l_mean, wrong.lower(x), wrong.upper(x)), w))
    return LossSensitiveCriticCheck(P.spec, Q.spec, n, m, float(lam), float(kappa), real, fake, x, lower, upper, lx, w,
                                    float(sol.objective), float(relaxed), s_models, kappa_models, sampling_sd,
                                    band_error, band_noise, _wrms(upper - lower, w), controls)
