"""Theorem 1 on trained GANs (THEORY.md §5): exact metrics of trained 1-D generators and the capacity floor.

* :func:`exact_metrics` -- for every model of a :class:`~lsgan_theory.ensemble.TrainResult` whose generator is a 1-D
  piecewise-linear MLP (ReLU / leaky ReLU, 1-D noise): ∫|p − q̂| and W1(p, q̂) by quadrature of the *exact*
  pushforward density (:mod:`lsgan_theory.ensemble.pushforward`; no histogram, no sample noise, an ``abserr``),
  the essential infimum of p/q̂ where q̂ > 0 (Theorem 1 (i): ≥ λ/(1+λ) at the equilibrium), and q̂'s mass outside
  the support of p.
* :func:`capacity_floor` -- the same generator architecture fitted *directly* to the target, with no adversary: the
  monotone transport map T(z) = F_p⁻¹(Φ(z)) regressed on the N(0, 1) quantiles, matching values *and* log-slopes
  (q̂(G(z)) = φ(z)/G′(z), so the log-slope term is the log-density error at corresponding points; a value-only
  least-squares fit reached ∫|p − q̂| ≈ 0.03–0.08 on a target the network represents exactly).  Its ∫|p − q̂| is what this architecture reaches without a discriminator;
  a GAN error at or below it cannot test a bound, so the λ sweep calls the bound *not testable* there.
* :func:`lambda_sweep` -- Theorem 1 on trained LS-GANs for one target: λ × seeds × data regimes (``n_data = 0``:
  fresh target samples at every step, the population regime the theorem is stated in; ``n_data = m``: a fixed data
  set) in one ensemble, with the training settings of :data:`THEOREM1_TRAINING`; :func:`read_bound` reads (ii)
  ∫|p − q̂| ≤ 2/λ per λ (trivial / not testable / consistent / violated / inconclusive), the verdict per target and
  regime (violated names the λ) and the trend (Spearman ρ(λ, error) with a bootstrap interval over seeds);
  :func:`read_ratio` reports (i) p ≥ λ/(1+λ)·q̂ (ess inf p/q̂ over q̂'s mass) and q̂'s mass outside supp p.
* :func:`read_lambda_store` -- the same readings of a sweep store (``lsgan-theory sweep experiments/lambda.toml``;
  ``lsgan-theory theorem1 OUT`` writes them as CSV, JSON and a figure).

How L ≥ 0 is enforced: L(x) = softplus(a(x)) of the loss network's raw output a (``TrainConfig.loss_output =
"softplus"``).  The λ ↔ (γ, τ) mapping to the public code (guojunq/lsgan): it minimises S/λ = mean hinge + γ·mean
L(x) with γ = 1/λ (its ``gamma``; γ = 0 is λ = ∞) and margin τ‖x − z‖₁ (its option named ``lambda`` is our τ).
Reference: G.-J. Qi, "Loss-Sensitive Generative Adversarial Networks on Lipschitz Densities", IJCV 2019, Theorem 1;
THEORY.md §5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.special import ndtri

from .. import densities as _densities
from .. import divergences as _divergences
from ..ensemble import mlp as _mlp
from ..ensemble import optim as _optim
from ..ensemble import rng as _rng
from ..ensemble.pushforward import PIECEWISE_LINEAR, exact_density, l1_distance
from .stats import spearman_bootstrap, t_interval

__all__ = ["GeneratorMetrics", "exact_metrics", "generator_metrics", "CapacityFloor", "capacity_floor",
           "density_ratio_infimum", "BoundRow", "BoundReading", "read_bound", "RatioRow", "read_ratio",
           "LambdaSweep", "lambda_sweep", "regime_name", "read_lambda_store", "THEOREM1_TARGETS", "THEOREM1_TRAINING", "ASSUMPTION1",
           "CertifiedSweep", "certified_lambda_sweep"]


@dataclass
class GeneratorMetrics:
    """Exact metrics of one trained generator against its target (1-D)."""

    l1: float                 # ∫|p − q̂| (atoms included)
    l1_abserr: float
    w1: float                 # W1(p, q̂) = ∫|F_p − F_q̂|
    w1_abserr: float
    ratio_inf: float          # ess inf of p/q̂ over {q̂ > 0} ∩ the central 1 − 2·1e-6 of q̂'s mass
    mass_outside: float       # q̂'s mass outside supp(p) (0 when p has unbounded support)
    atom_mass: float          # mass of flat pieces (point masses) of q̂
    pieces: int


def density_ratio_infimum(p: _densities.Density, qhat, *, tail: float = 1e-6, grid: int = 20001) -> float:
    """min p(x)/q̂(x) over the points where q̂ > 0, restricted to q̂'s central 1 − 2·``tail`` of its mass.

    Theorem 1 (i) states p ≥ λ/(1+λ)·q̂ almost everywhere.  In the far tails of an unbounded target both densities
    underflow and their ratio is meaningless in float64, so the infimum is taken where q̂ carries its mass; the grid
    includes q̂'s breakpoints (q̂ jumps there) from both sides.
    """
    lo, hi = (float(v) for v in qhat.ppf(np.array([tail, 1.0 - tail])))
    x = np.linspace(lo, hi, grid)
    bps = np.asarray(qhat.breakpoints()[0], dtype=np.float64)
    bps = bps[(bps > lo) & (bps < hi)]
    eps = 1e-9 * max(1.0, hi - lo)
    x = np.sort(np.concatenate([x, bps - eps, bps + eps]))
    qx = qhat.pdf(x)
    px = p.pdf(x)
    on = qx > 0
    if not on.any():
        return math.nan
    return float(np.min(px[on] / qx[on]))


def _support_mass_outside(p: _densities.Density, qhat) -> float:
    (lo, hi), = p.domain()
    if getattr(p, "bounded", None) is False or not _has_compact_support(p):
        return 0.0
    return float(qhat.cdf(np.array([lo]))[0] + (1.0 - qhat.cdf(np.array([hi]))[0]))


def _has_compact_support(p) -> bool:
    return isinstance(p, (_densities.Beta, _densities.Triangular, _densities.Uniform))


def generator_metrics(p: _densities.Density, qhat) -> GeneratorMetrics:
    """All of :class:`GeneratorMetrics` for one exact pushforward density ``qhat``."""
    l1, l1_err = l1_distance(p, qhat)
    w = _divergences.w1(p, qhat)
    return GeneratorMetrics(l1, l1_err, float(w.value), float(w.abserr), density_ratio_infimum(p, qhat),
                            _support_mass_outside(p, qhat), qhat.atom_mass, int(qhat.alpha.size))


def exact_metrics(result, target: str | _densities.Density | None = None) -> list[GeneratorMetrics | None]:
    """Exact metrics of every model of a trained ensemble (``None`` for a diverged model).

    Requires ``noise_dim = 1``, a 1-D target and a piecewise-linear activation (``relu`` or ``leaky_relu``).
    """
    cfg = result.config
    p = _densities.parse(target) if isinstance(target, str) else (target or _densities.parse(cfg.target))
    if p.dim != 1 or cfg.noise_dim != 1:
        raise ValueError(f"target: exact metrics need a 1-D target and noise_dim = 1, got dim {p.dim}, noise_dim "
                         f"{cfg.noise_dim}")
    if cfg.activation not in PIECEWISE_LINEAR:
        raise ValueError(f"activation: exact metrics need {sorted(PIECEWISE_LINEAR)}, got {cfg.activation!r}")
    out = []
    for e in range(cfg.n_models):
        if result.diverged[e]:
            out.append(None)
            continue
        out.append(generator_metrics(p, exact_density(result.g_params, cfg.activation, model=e)))
    return out


# ------------------------------------------------------------------------------------------------ capacity floor
@dataclass
class CapacityFloor:
    """Result of :func:`capacity_floor`: per fitted network, its exact metrics; ``floor`` = the best ∫|p − q̂|."""

    target: str
    hidden: tuple
    activation: str
    steps: int
    metrics: list = field(repr=False)
    fit_mse: np.ndarray = field(repr=False)  # final value+slope loss of the quantile fit, per network
    slope_weight: tuple = ()                  # the slope weight w each network was fitted with

    @property
    def l1(self) -> np.ndarray:
        return np.array([m.l1 for m in self.metrics])

    @property
    def floor(self) -> float:
        return float(self.l1.min())


def capacity_floor(target: str | _densities.Density, hidden=(64, 64), activation: str = "relu", *,
                   n_models: int = 4, steps: int = 3000, lr: float = 1e-2, n_z: int = 2048, seed: int = 0,
                   slope_weights=(0.0, 1.0)) -> CapacityFloor:
    """Fit ``n_models`` generators 1 → hidden → 1 to the target's transport map T(z) = F_p⁻¹(Φ(z)), no adversary.

    Loss, over the n_z N(0,1) quantiles z_i = Φ⁻¹((i + ½)/n_z):  mean (G(z_i) − T(z_i))² / Var T  +
    w · mean (log|G′(z_i)| − log T′(z_i))²  with T′(z) = φ(z)/p(T(z)) -- the first term is the squared W2 distance of
    the monotone coupling (scaled), the second the log-density error at corresponding points.  ``n_models`` networks
    are fitted for every weight w in ``slope_weights`` (measured: the slope term lowers ∫|p − q̂| on smooth unimodal
    targets, e.g. 0.03–0.08 → 0.008–0.06 on an exactly representable one, but stalls on a well-separated mixture,
    whose T′ is huge in the gap: 1.27 vs 0.09 without it), and the floor is the best of all of them.  Full batch
    Adam (β = (0.9, 0.999)) in float64 for ``steps`` steps; initialisation as the trainer's generators.  Returns each network's exact
    ∫|p − q̂| and W1; :attr:`CapacityFloor.floor` is the smallest ∫|p − q̂| reached.
    """
    p = _densities.parse(target) if isinstance(target, str) else target
    if p.dim != 1:
        raise ValueError(f"target: the capacity floor is computed for 1-D targets, got dim {p.dim}")
    for name, v in (("n_models", n_models), ("steps", steps), ("n_z", n_z)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr: must be a finite number > 0, got {lr!r}")
    hidden = tuple(int(h) for h in hidden)
    u = (np.arange(n_z) + 0.5) / n_z
    z = ndtri(u)
    t = p.ppf(u)
    with np.errstate(divide="ignore"):
        log_tprime = -0.5 * z * z - 0.5 * math.log(2 * math.pi) - p.logpdf(t)
    keep = np.isfinite(log_tprime)
    weights = tuple(slope_weights)
    if not weights or not all(isinstance(w, (int, float)) and math.isfinite(w) and w >= 0 for w in weights):
        raise ValueError(f"slope_weights: must be a non-empty sequence of finite numbers >= 0, got {slope_weights!r}")
    sw = torch.tensor(np.repeat(weights, n_models), dtype=torch.float64)
    n_fit = n_models
    n_models = n_models * len(weights)
    dt = torch.float64
    spec = _mlp.MLPSpec((1, *hidden, 1), activation)
    ids = torch.arange(n_models, dtype=torch.int64)
    params = _mlp.init_mlp(spec, seed, ids, _rng.STREAMS["init_g"], dtype=dt)
    zt = torch.tensor(z, dtype=dt).expand(n_models, n_z)[..., None]
    tt = torch.tensor(t, dtype=dt).expand(n_models, n_z)
    lt = torch.tensor(np.where(keep, log_tprime, 0.0), dtype=dt)
    kt = torch.tensor(keep, dtype=dt)
    var_t = float(np.var(t)) or 1.0
    opt = _optim.adam(lr, 0.9, 0.999)
    state = opt.init(params)
    for _ in range(steps):
        ps = tuple(x.detach().requires_grad_(True) for x in params)
        zg = zt.detach().requires_grad_(True)
        g = _mlp.mlp_forward(ps, zg, activation)[..., 0]
        loss = (g - tt).pow(2).mean(-1) / var_t
        if bool((sw > 0).any()):
            (gp,) = torch.autograd.grad(g.sum(), zg, create_graph=True)
            log_gp = torch.log(gp[..., 0].abs().clamp_min(1e-12))
            loss = loss + sw * ((log_gp - lt).pow(2) * kt).sum(-1) / kt.sum()
        grads = torch.autograd.grad(loss.sum(), ps)
        ups, state = opt.update(grads, state, params)
        params = _optim.apply_updates(params, ups)
    with torch.no_grad():
        mse = (_mlp.mlp_forward(params, zt, activation)[..., 0] - tt).pow(2).mean(-1).numpy()
    metrics = [generator_metrics(p, exact_density(params, activation, model=e)) for e in range(n_models)]
    return CapacityFloor(p.spec, hidden, activation, steps, metrics, mse, tuple(np.repeat(weights, n_fit)))


# ------------------------------------------------------------------------------------------------ the λ-sweep reading
TRIVIAL, NOT_TESTABLE, CONSISTENT, VIOLATED, INCONCLUSIVE = ("trivial", "not testable", "consistent", "violated",
                                                            "inconclusive")


@dataclass
class BoundRow:
    """One λ of a Theorem 1 sweep: ∫|p − q̂| over seeds against 2/λ and the floors."""

    lam: float
    bound: float              # 2/λ
    mean: float               # mean over seeds of ∫|p − q̂|
    ci: tuple                 # 95 % t-interval of the mean over seeds (NaN ends with fewer than 2 seeds)
    seeds: int                # finite (non-diverged) seeds
    floor: float              # max(capacity floor, estimator floor)
    status: str               # "trivial", "not testable", "consistent", "violated", "inconclusive"
    median: float = math.nan  # median over seeds (robust to a few runaway seeds)
    sharp_bound: float = math.nan   # 2/(1+λ): the sharp form (derived, THEORY.md §5), attained
    sharp_status: str = ""          # the same reading against 2/(1+λ)


@dataclass
class BoundReading:
    """Theorem 1 (ii) read from a λ sweep of one target (:func:`read_bound`)."""

    rows: list
    verdict: str              # "consistent" | "violated" | "inconclusive" | "not testable"
    violated_at: list         # λ values where the lower CI end exceeds 2/λ while 2/λ is above the floor
    trend_rho: float          # Spearman ρ(λ, ∫|p − q̂|) over all (λ, seed) pairs
    trend_ci: tuple           # bootstrap 95 % CI over seeds (resampling seeds within each λ)
    trend: str = ""           # "falls with λ" | "rises with λ" | "no trend detected" (from trend_ci)
    floor: float = math.nan   # the floor the statuses used: max(capacity floor, estimator floor)
    sharp_verdict: str = ""   # the same verdict against the sharp bound 2/(1+λ) (derived; THEORY.md §5)
    sharp_violated_at: list = field(default_factory=list)

    def summary(self) -> str:
        """One line: the verdict against 2/λ (paper) and 2/(1+λ) (sharp), with the violating λ, and the trend."""
        def at(v):
            return f" at λ = {', '.join(f'{x:g}' for x in v)}" if v else ""
        return (f"{self.verdict}{at(self.violated_at)} (paper's 2/λ); {self.sharp_verdict}"
                f"{at(self.sharp_violated_at)} (sharp 2/(1+λ)); trend: {self.trend} (Spearman ρ(λ, error) = "
                f"{self.trend_rho:.2f}, 95 % bootstrap CI over seeds [{self.trend_ci[0]:.2f}, {self.trend_ci[1]:.2f}])")


def read_bound(lams, l1, floor: float, *, estimator_floor: float = 0.0, n_boot: int = 2000, seed: int = 0
               ) -> BoundReading:
    """Read Theorem 1 (ii), ∫|p − q̂| ≤ 2/λ, from measured errors ``l1`` of shape (n_λ, n_seeds) (NaN = diverged).

    Per λ: the mean over seeds with a 95 % Student-t interval (the spread is over seeds: initialisation, data and
    noise streams).  Status: *trivial* when 2/λ ≥ 2 (∫|p − q| ≤ 2 always); *not testable* when 2/λ is at or below the
    floor (the larger of the capacity floor -- the same generator fitted without an adversary -- and the estimator
    floor, 0 for exact densities up to the quadrature's ``abserr``): no trained network of this class can be
    expected below it; *violated* when the lower end of the interval exceeds 2/λ; *consistent* when its upper end is
    at or below 2/λ (the measurement resolves the error below the bound, so it could have shown a violation); else
    *inconclusive* (the interval straddles 2/λ).  The target's verdict is *violated* if any λ is (``violated_at``
    lists them); else *consistent* if at least one λ is; else *inconclusive* if a testable λ exists; else *not
    testable*.  The same reading against the sharp bound 2/(1+λ) (derived, attained: THEORY.md §5) fills
    ``sharp_status``, ``sharp_verdict`` and ``sharp_violated_at`` (never *trivial*: 2/(1+λ) < 2 for every λ > 0).

    The trend is Spearman's ρ between λ and the error over all finite (λ, seed) pairs, with a 95 % percentile
    bootstrap interval (seeds resampled with replacement within each λ, ``n_boot`` times:
    :func:`lsgan_theory.studies.stats.spearman_bootstrap`): *falls with λ* when the interval lies below 0, *rises
    with λ* when above, else *no trend detected*.
    """
    lams = np.asarray(lams, dtype=np.float64)
    l1 = np.asarray(l1, dtype=np.float64)
    if l1.ndim != 2 or l1.shape[0] != lams.size:
        raise ValueError(f"l1: expected shape (len(lams), seeds) = ({lams.size}, ·), got {l1.shape}")
    if not (np.all(np.isfinite(lams)) and np.all(lams > 0)):
        raise ValueError(f"lams: every λ must be finite and > 0, got {lams.tolist()}")
    for name, v in (("floor", floor), ("estimator_floor", estimator_floor)):
        if not (isinstance(v, (int, float, np.floating)) and math.isfinite(v) and v >= 0):
            raise ValueError(f"{name}: must be a finite number >= 0, got {v!r}")
    fl = max(float(floor), float(estimator_floor))
    rows, violated, sharp_violated = [], [], []
    for lam, vals in zip(lams, l1):
        v = vals[np.isfinite(vals)]
        k = v.size
        mean, lo, hi = t_interval(v)
        ci = (lo, hi)
        bound, sharp = 2.0 / lam, 2.0 / (1.0 + lam)
        status, sharp_status = _bound_status(bound, fl, k, ci), _bound_status(sharp, fl, k, ci)
        if status == VIOLATED:
            violated.append(float(lam))
        if sharp_status == VIOLATED:
            sharp_violated.append(float(lam))
        rows.append(BoundRow(float(lam), bound, mean, ci, int(k), fl, status,
                             float(np.median(v)) if k else math.nan, sharp, sharp_status))
    r0, trend_ci = spearman_bootstrap(lams, l1, n_boot, seed)
    trend = ("falls with λ" if trend_ci[1] < 0 else "rises with λ" if trend_ci[0] > 0 else "no trend detected")
    return BoundReading(rows, _target_verdict([r.status for r in rows]), violated, r0, trend_ci, trend, fl,
                        _target_verdict([r.sharp_status for r in rows]), sharp_violated)


def _bound_status(bound: float, fl: float, k: int, ci: tuple) -> str:
    """One λ's status against ``bound`` (see :func:`read_bound`)."""
    if bound >= 2.0:
        return TRIVIAL
    if bound <= fl:
        return NOT_TESTABLE
    if k and ci[0] > bound:
        return VIOLATED
    if k and ci[1] <= bound:
        return CONSISTENT
    return INCONCLUSIVE


def _target_verdict(statuses: list) -> str:
    if VIOLATED in statuses:
        return VIOLATED
    if CONSISTENT in statuses:
        return CONSISTENT
    if INCONCLUSIVE in statuses:
        return INCONCLUSIVE
    return NOT_TESTABLE


@dataclass
class RatioRow:
    """Theorem 1 (i) at one λ: ess inf p/q̂ (over q̂'s mass) against η = λ/(1+λ), and q̂'s mass outside supp p."""

    lam: float
    eta: float                # λ/(1+λ)
    median_ratio: float       # median over seeds of ess inf p/q̂
    holds: int                # seeds with ess inf p/q̂ ≥ η
    seeds: int
    mass_outside: float       # mean over seeds of q̂'s mass outside supp p
    mass_outside_ci: tuple    # its 95 % t-interval


def read_ratio(lams, ratio_inf, mass_outside) -> list[RatioRow]:
    """Theorem 1 (i), P_data ≥ λ/(1+λ)·P_G a.e., per λ from measured ``ratio_inf`` and ``mass_outside`` of shape
    (n_λ, n_seeds) (NaN = diverged).  Reported, not turned into a verdict: a generator G(z) with Gaussian z and a
    piecewise-linear G that is not flat at both ends has support R, so for a target with compact support p/q̂ = 0
    somewhere and (i) fails for every such network; the mass outside supp p says by how much."""
    lams = np.asarray(lams, dtype=np.float64)
    ratio_inf = np.asarray(ratio_inf, dtype=np.float64)
    mass_outside = np.asarray(mass_outside, dtype=np.float64)
    if ratio_inf.shape != mass_outside.shape or ratio_inf.ndim != 2 or ratio_inf.shape[0] != lams.size:
        raise ValueError(f"ratio_inf, mass_outside: expected equal shapes (len(lams), seeds), got {ratio_inf.shape} "
                         f"and {mass_outside.shape}")
    out = []
    for lam, r, m in zip(lams, ratio_inf, mass_outside):
        ok = np.isfinite(r)
        eta = lam / (1 + lam)
        mo, lo, hi = t_interval(m[np.isfinite(m)])
        ci = (lo, hi)
        out.append(RatioRow(float(lam), float(eta), float(np.median(r[ok])) if ok.any() else math.nan,
                            int(np.sum(r[ok] >= eta)), int(ok.sum()), mo, ci))
    return out


# ------------------------------------------------------------------------------------------------ the λ sweep
THEOREM1_TARGETS = ("normal(0,1)", "mixture(normal(-2,0.5),normal(2,0.5);0.5,0.5)", "beta(2,2)",
                    "triangular(-1,0,1)", "uniform(-1,1)")
# Uniform violates Assumption 1 (a jump in p): the control; the others satisfy it (the normal only approximately:
# unbounded support).
ASSUMPTION1 = {"normal(0,1)": "holds (approximately: unbounded support)",
               "mixture(normal(-2,0.5),normal(2,0.5);0.5,0.5)": "holds (approximately: unbounded support)",
               "beta(2,2)": "holds", "triangular(-1,0,1)": "holds", "uniform(-1,1)": "violated (control: p jumps)"}

# The training settings of the λ sweep (the paper's parameterisation, THEORY.md §5), shared by lambda_sweep, the
# claim and experiments/lambda.toml:
#  * L ≥ 0 by L(x) = softplus(a(x)) of the loss network's raw output a (TrainConfig.loss_output = "softplus");
#  * L Lipschitz -- the class Theorem 1 is stated for -- by spectral normalisation of the loss network (Lipschitz
#    constant ≤ 1 in |·|; softplus is 1-Lipschitz), with margin Δ = τ|x − z|, τ = 0.1 < 1 so the hinge can clip
#    (THEORY.md "hinge inactivity": with κ ≤ τ it never clips).  Measured (normal target, λ = 10, 3 seeds, 3000
#    steps, fresh data): without spectral normalisation and τ = 1 the generators ran off into the region where
#    softplus(a) ≈ 0 and got no gradient (∫|p − q̂| 1.1–2.0, frozen); with it, 0.10–0.27;
#  * Adam, lr 1e-3 for both networks, β = (0.5, 0.999), one loss-network update per generator update, batch 64 with
#    all 64·64 pairs in the hinge; ReLU MLPs 1 → width → width → 1 for both networks, 1-D N(0, 1) noise.
# Mapping to the public code (guojunq/lsgan, lsgan.lua): it minimises S/λ = hinge mean + γ·mean L(x) with γ = 1/λ
# (its `gamma`, default 0 = λ = ∞), margin τ‖x − z‖₁ (its `lambda` = our τ, 2e-4 on 64×64×3 images), L ≥ 0 by a
# final ReLU, one-to-one pairs, Adam lr 1e-4, β₁ = 0.5.  Adam is invariant to the objective's scale, so S and S/λ
# give the same updates (up to Adam's ε).
THEOREM1_TRAINING = dict(tau=0.1, spectral_norm=True, loss_output="softplus", lr=1e-3, beta1=0.5, n_critic=1,
                         batch=64)


@dataclass
class LambdaSweep:
    """Result of :func:`lambda_sweep` for one target: exact metrics per (data regime, λ, seed) and their readings.

    Arrays have shape (n_regimes, n_λ, seeds); regime r is ``n_data[r]`` (0 = fresh samples every step).
    """

    target: str
    lams: np.ndarray
    n_data: tuple             # the data regimes: 0 = fresh data every step (population), m = a data set of m points
    l1: np.ndarray            # ∫|p − q̂|, NaN for a diverged model
    l1_abserr: np.ndarray
    w1: np.ndarray
    ratio_inf: np.ndarray     # ess inf p/q̂ (Theorem 1 (i) says ≥ λ/(1+λ))
    mass_outside: np.ndarray
    capacity: CapacityFloor
    readings: tuple           # one BoundReading per regime
    ratios: tuple             # one list of RatioRow per regime
    config: dict
    seconds: float
    provenance: dict

    @property
    def reading(self) -> BoundReading:
        """The reading of the first regime."""
        return self.readings[0]

    def tidy(self) -> list[dict]:
        """One row per (regime, λ, seed) with every exact metric."""
        rows = []
        for r, m in enumerate(self.n_data):
            for i, lam in enumerate(self.lams):
                for s in range(self.l1.shape[2]):
                    rows.append({"target": self.target, "n_data": int(m), "regime": regime_name(m),
                                 "lam": float(lam), "replica": s, "l1_exact": float(self.l1[r, i, s]),
                                 "l1_exact_abserr": float(self.l1_abserr[r, i, s]), "w1_exact": float(self.w1[r, i, s]),
                                 "ratio_inf": float(self.ratio_inf[r, i, s]),
                                 "mass_outside": float(self.mass_outside[r, i, s])})
        return rows


def regime_name(n_data: int) -> str:
    """``"fresh"`` for n_data = 0 (a new sample every step), else ``"n=<m>"``."""
    return "fresh" if int(n_data) == 0 else f"n={int(n_data)}"


def lambda_sweep(target: str, lams=(0.1, 1.0, 10.0, 100.0, 1000.0), *, seeds: int = 5, steps: int = 2000,
                 n_data=(0, 256), width: int = 32, seed: int = 0, capacity_steps: int = 1500,
                 capacity_n_z: int = 2048, capacity_models: int = 4, n_boot: int = 2000, device: str = "cpu",
                 **train_options) -> LambdaSweep:
    """Theorem 1 on trained LS-GANs (paper parameterisation, THEORY.md §5) for one 1-D target.

    Trains ``len(n_data) × len(lams) × seeds`` LS-GANs (``family="loss_sensitive"``: S = E L(x) + λ E(Δ + L(x) −
    L(G(z)))_+ over all batch pairs, Δ = τ|x − z|, L = softplus(a) ≥ 0) as one ensemble, generators and loss networks
    1 → width → width → 1 with ReLU and 1-D noise, so every generator's density is exact
    (:mod:`lsgan_theory.ensemble.pushforward`).  ``n_data`` lists the data regimes: ``0`` = fresh target samples at
    every step (the population regime the theorem is stated in), ``m`` = a fixed data set of m points per model.
    Other settings: :data:`THEOREM1_TRAINING` (``lr`` sets both learning rates), overridable through
    ``train_options``.  Returns exact ∫|p − q̂| (with its quadrature ``abserr``), W1, ess inf p/q̂ and q̂'s mass outside
    supp(p) per (regime, λ, seed), the capacity floor of the same generator architecture and, per regime,
    :func:`read_bound`'s reading (estimator floor: the largest quadrature ``abserr``; ``n_boot`` bootstrap
    resamples for the trend) and :func:`read_ratio`'s.
    """
    import time as _time
    from dataclasses import asdict

    from ..ensemble import train
    from ..provenance import provenance
    from ..resources import torch_threads
    from .runs import grid_config

    t0 = _time.perf_counter()
    lams = np.asarray(lams, dtype=np.float64)
    regimes = tuple(int(m) for m in (n_data if isinstance(n_data, (list, tuple)) else (n_data,)))
    if not regimes or len(set(regimes)) != len(regimes):
        raise ValueError(f"n_data: must be a non-empty sequence of distinct data-set sizes (0 = fresh), got {n_data!r}")
    opts = dict(THEOREM1_TRAINING, **train_options)
    lr = opts.pop("lr")
    fixed = dict(target=target, family="loss_sensitive", seed=seed, steps=steps, noise_dim=1,
                 g_hidden=(width, width), d_hidden=(width, width), activation="relu", lr_d=lr, lr_g=lr,
                 record_every=max(1, steps // 50), device=device, **opts)
    cfg, rows = grid_config({"n_data": list(regimes), "lam": [float(v) for v in lams]}, seeds=seeds, **fixed)
    with torch_threads(1):  # tiny networks: a second intra-op thread only adds barrier waits on a small machine
        res = train(cfg)
        cap = capacity_floor(target, hidden=(width, width), n_models=capacity_models, steps=capacity_steps,
                             n_z=capacity_n_z, seed=seed)
    mets = exact_metrics(res)
    shape = (len(regimes), lams.size, seeds)

    def grid(attr):
        return np.array([math.nan if m is None else getattr(m, attr) for m in mets]).reshape(shape)

    l1, err = grid("l1"), grid("l1_abserr")
    ratio, outside = grid("ratio_inf"), grid("mass_outside")
    est_floor = float(np.nanmax(err)) if np.isfinite(err).any() else 0.0
    readings = tuple(read_bound(lams, l1[r], cap.floor, estimator_floor=est_floor, n_boot=n_boot, seed=seed)
                     for r in range(len(regimes)))
    ratios = tuple(read_ratio(lams, ratio[r], outside[r]) for r in range(len(regimes)))
    return LambdaSweep(_densities.parse(target).spec, lams, regimes, l1, err, grid("w1"), ratio, outside, cap,
                       readings, ratios, asdict(cfg), _time.perf_counter() - t0, provenance(device))


# ------------------------------------------------------------------------------------------------ a sweep store
_TIDY_COLUMNS = ("id", "target", "n_data", "regime", "lam", "replica", "status", "steps", "l1_exact", "l1_exact_abserr",
                 "w1_exact", "ratio_inf", "mass_outside", "atom_mass", "critic_gap", "critic_gap_err", "gen_gap",
                 "gen_gap_err", "gen_gap_lp", "gen_gap_lp_err", "lip_ratio", "clip_fraction", "off_mass", "certified",
                 "w1", "seconds", "version", "git", "device")


def _at_equilibrium(lam: float, g) -> dict:
    """Theorem 1 at certified pairs from a store's rows ``g`` of one (target, regime, λ) (issue 29): the number of
    certified finished runs, the medians of the certificates and the reading against 2/(1+λ) and 2/λ --
    *hypothesis not met* when no run is certified, else *violated* when a certified run's ∫|p − q̂| − abserr exceeds
    the bound plus its derived slack 2λm/(1+λ) (``off_mass`` m; the largest slack 2λ/(1+λ) where it was not stored),
    else *consistent*.  Empty when the store has no certificate columns (an older sweep)."""
    if "certified" not in g or not g["certified"].notna().any():
        return {}
    g = g[g["certified"].notna()]
    cert = g[g["certified"] > 0.5]
    out = {"certified": int(len(cert)), "certificates_read": int(len(g))}
    for k in ("critic_gap", "critic_gap_err", "gen_gap", "gen_gap_lp", "lip_ratio", "clip_fraction"):
        out[f"{k}_median"] = float(g[k].median())
    for name, bound in (("sharp", 2.0 / (1.0 + lam)), ("paper", 2.0 / lam)):
        if not len(cert):
            st = "hypothesis not met"
        else:
            m = cert["off_mass"] if "off_mass" in cert else np.nan
            slack = (2.0 * lam * np.asarray(m, dtype=np.float64) / (1.0 + lam)) * np.ones(len(cert))
            slack = np.where(np.isfinite(slack), slack, 2.0 * lam / (1.0 + lam))
            excess = (cert["l1_exact"] - cert["l1_exact_abserr"]).to_numpy(dtype=np.float64) - bound - slack
            st = "violated" if float(excess.max()) > 0 else "consistent"
        out[f"at_equilibrium_{name}"] = st
    return out


def read_lambda_store(out, *, capacity_steps: int = 1500, capacity_n_z: int = 2048, capacity_models: int = 4,
                      seed: int = 0, progress=None) -> dict:
    """Theorem 1 readings of a finished (or partly finished) λ sweep in the store ``out`` (``lsgan-theory sweep
    experiments/lambda.toml``).

    Groups the runs by (target, n_data); per group builds the (λ × replica) matrix of the exact ∫|p − q̂| (NaN for a
    diverged or unfinished run), computes the capacity floor of the runs' generator architecture once per target
    (:func:`capacity_floor`) and applies :func:`read_bound` (estimator floor: the largest quadrature ``abserr`` of
    the group) and :func:`read_ratio`.  When the runs carry equilibrium certificates (sweeps of this version: the
    columns of :data:`lsgan_theory.studies.runs.CERTIFICATE_METRICS`), every summary row and verdict also reads
    Theorem 1 at certified runs only (``certified``, ``at_equilibrium_sharp`` / ``_paper``: consistent, violated or
    hypothesis not met, and the certificates' medians).  Returns ``{"tidy": DataFrame (one row per run), "summary": [dict per
    (target, regime, λ)], "verdicts": [dict per (target, regime)], "capacity": {target: floor}, "meta": {...}}``.
    """
    import pandas as pd

    df = _lambda_sweep_frame(out)
    ok = df["status"] == "done"
    summary, verdicts, capacity = [], [], {}
    targets = list(dict.fromkeys(df["target"]))
    for i, target in enumerate(targets, 1):
        dt = df[df["target"] == target]
        hidden = tuple(dt["g_hidden"].iloc[0])
        act = dt["activation"].iloc[0]
        if progress is not None:  # a line per stage: the capacity floor trains networks (≈ 20-40 s per target)
            progress(f"target {i}/{len(targets)} {target}: capacity floor ({capacity_models} generators × "
                     f"{capacity_steps} steps), then the verdicts of {len(dt)} runs")
        cap = capacity_floor(target, hidden=hidden, activation=act, n_models=capacity_models, steps=capacity_steps,
                             n_z=capacity_n_z, seed=seed)
        capacity[target] = cap.floor
        for m in sorted(dict.fromkeys(dt["n_data"])):
            rows, verdict = _read_regime(target, m, dt[dt["n_data"] == m], ok, cap.floor, seed)
            summary += rows
            verdicts.append(verdict)
    cols = [c for c in _TIDY_COLUMNS if c in df.columns]
    meta = {k: df.attrs.get(k) for k in ("name", "variant", "created_version", "created_git")}
    meta["seconds_total"] = float(df["seconds"].dropna().groupby(df["pack"]).first().sum()) if "pack" in df else None
    return {"tidy": pd.DataFrame(df[cols]), "summary": summary, "verdicts": verdicts, "capacity": capacity,
            "meta": meta}


def _lambda_sweep_frame(out):
    """The store's runs (:func:`lsgan_theory.sweeps.load`) with a ``regime`` column, refused (ValueError naming
    ``out``) unless it is a λ sweep of LS-GANs with exact metrics -- before the capacity floor trains anything."""
    import pandas as pd

    from ..sweeps import load

    df = load(out)
    need = ("target", "lam", "n_data", "replica", "l1_exact")
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValueError(f"out: {str(out)!r} is not a λ sweep with exact metrics (missing columns {missing}; the spec "
                         f"needs a 1-D target, noise_dim = 1, a relu/leaky_relu generator and grid keys target, lam, "
                         f"n_data)")
    lam = pd.to_numeric(df["lam"], errors="coerce").to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(lam) & (lam > 0)):  # before the capacity floor trains anything
        raise ValueError(f"out: {str(out)!r} is not a λ sweep of LS-GANs: {int((~(np.isfinite(lam) & (lam > 0))).sum())}"
                         f" of its {lam.size} runs have no finite λ > 0 (a sweep of another family has no λ)")
    df = df.copy()
    df["regime"] = [regime_name(m) for m in df["n_data"]]
    return df


def _read_regime(target: str, m, g, ok, floor: float, seed: int) -> tuple[list[dict], dict]:
    """The summary rows (one per λ) and the verdict of one (target, n_data = ``m``) group ``g`` of a store's runs;
    ``ok``: the finished runs (a boolean Series over the whole store)."""
    lams = np.array(sorted(dict.fromkeys(g["lam"].astype(float))))
    reps = sorted(dict.fromkeys(g["replica"]))
    mats = {k: np.full((lams.size, len(reps)), math.nan) for k in ("l1_exact", "ratio_inf", "mass_outside",
                                                                    "l1_exact_abserr")}
    for _, row in g[ok.loc[g.index]].iterrows():
        i, j = int(np.searchsorted(lams, float(row["lam"]))), reps.index(row["replica"])
        for k in mats:
            mats[k][i, j] = float(row[k])
    err = mats["l1_exact_abserr"]
    est = float(np.nanmax(err)) if np.isfinite(err).any() else 0.0
    rd = read_bound(lams, mats["l1_exact"], floor, estimator_floor=est, seed=seed)
    rr = read_ratio(lams, mats["ratio_inf"], mats["mass_outside"])
    eq_rows = {}
    for b in rd.rows:
        sel = g[ok.loc[g.index] & (g["lam"].astype(float) == b.lam)]
        eq_rows[b.lam] = _at_equilibrium(b.lam, sel)
    summary = []
    for b, r in zip(rd.rows, rr):
        summary.append({**eq_rows[b.lam], "target": target, "n_data": int(m), "regime": regime_name(m), "lam": b.lam,
                        "bound": b.bound, "seeds": b.seeds, "l1_mean": b.mean, "l1_ci_lo": b.ci[0],
                        "l1_ci_hi": b.ci[1], "l1_median": b.median, "capacity_floor": floor,
                        "estimator_floor": est, "status": b.status, "sharp_bound": b.sharp_bound,
                        "sharp_status": b.sharp_status, "eta": r.eta,
                        "ratio_inf_median": r.median_ratio, "ratio_holds": r.holds,
                        "mass_outside_mean": r.mass_outside, "mass_outside_ci_lo": r.mass_outside_ci[0],
                        "mass_outside_ci_hi": r.mass_outside_ci[1]})
    verdict = {**_combine_at_equilibrium(eq_rows), "target": target,
               "assumption1": ASSUMPTION1.get(target, "not stated"), "n_data": int(m),
               "regime": regime_name(m), "verdict": rd.verdict, "violated_at": rd.violated_at,
               "sharp_verdict": rd.sharp_verdict, "sharp_violated_at": rd.sharp_violated_at,
               "trend": rd.trend, "trend_rho": rd.trend_rho, "trend_ci": list(rd.trend_ci),
               "capacity_floor": floor, "runs": int(len(g)), "finished": int(ok.loc[g.index].sum()),
               "summary": rd.summary()}
    return summary, verdict


def _combine_at_equilibrium(eq_rows: dict) -> dict:
    """A regime's reading at certified runs from its per-λ readings (:func:`_at_equilibrium`): violated when any λ
    is, else consistent when any is, else hypothesis not met; empty when no λ read certificates."""
    eqs = [e for e in eq_rows.values() if e]
    at_eq = {}
    if eqs:
        for name in ("sharp", "paper"):
            sts = [e[f"at_equilibrium_{name}"] for e in eqs]
            at_eq[f"at_equilibrium_{name}"] = ("violated" if "violated" in sts else "consistent" if
                                               "consistent" in sts else "hypothesis not met")
        at_eq["certified"] = int(sum(e["certified"] for e in eqs))
    return at_eq


# ------------------------------------------------------------------------------------------------ at the hypothesis
@dataclass
class CertifiedSweep:
    """Result of :func:`certified_lambda_sweep` for one target: per (budget, λ, seed) the exact ∫|p − q̂| and the
    equilibrium certificates (:mod:`lsgan_theory.studies.certificates`), and per λ the reading at the final budget."""

    target: str
    lams: np.ndarray
    budgets: tuple            # training steps of each budget (the last one is read)
    l1: np.ndarray            # (n_budgets, n_λ, seeds), NaN for a diverged model
    l1_abserr: np.ndarray
    certificates: list        # [budget][λ][seed]: PairCertificate or None
    readings: list            # per λ: CertifiedReading against 2/(1+λ) (sharp) at the final budget
    readings_paper: list      # per λ: the same against the paper's 2/λ
    assumption1: str
    config: dict
    seconds: float

    def gaps(self, attr: str) -> np.ndarray:
        """Certificate field ``attr`` as an array (n_budgets, n_λ, seeds) (NaN for a diverged model)."""
        return np.array([[[math.nan if c is None else float(getattr(c, attr)) for c in row] for row in b]
                         for b in self.certificates])

    def tidy(self) -> list[dict]:
        """One row per (budget, λ, seed): ∫|p − q̂| and every certificate."""
        rows = []
        for b, steps in enumerate(self.budgets):
            for i, lam in enumerate(self.lams):
                for s in range(self.l1.shape[2]):
                    c = self.certificates[b][i][s]
                    row = {"target": self.target, "steps": int(steps), "lam": float(lam), "replica": s,
                           "l1_exact": float(self.l1[b, i, s]), "l1_exact_abserr": float(self.l1_abserr[b, i, s])}
                    if c is not None:
                        row.update({k: v for k, v in c.as_dict().items() if k not in ("lam", "tau")})
                    rows.append(row)
        return rows


def certified_lambda_sweep(target: str, lams=(1.0, 10.0, 1000.0), *, seeds: int = 3, budgets=(500, 1000, 2000),
                           width: int = 16, seed: int = 0, nodes: int = 64, device: str = "cpu",
                           **train_options) -> CertifiedSweep:
    """Theorem 1 at its hypothesis for one 1-D target: train ``len(lams) × seeds`` LS-GANs with the settings of
    :data:`THEOREM1_TRAINING` (fresh target samples every step) for each step budget in ``budgets``, compute the exact
    ∫|p − q̂| and the equilibrium certificates of every trained pair (:func:`~lsgan_theory.studies.certificates.
    model_certificates`, ``nodes`` grid cells), and read the bound only where a pair is certified
    (:func:`~lsgan_theory.studies.certificates.read_certified`, at the final budget, against 2/(1+λ) and 2/λ).

    Every draw is keyed by (seed, model, stream, step) (keyed draws and step draws, docs/engine.md), so a shorter
    budget is exactly the beginning of a longer run: the budgets show the error and the gaps against training steps
    (is anything still moving?).
    """
    import time as _time
    from dataclasses import asdict

    from ..ensemble import train
    from .certificates import model_certificates, read_certified
    from ..resources import torch_threads
    from .runs import grid_config

    t0 = _time.perf_counter()
    lams = np.asarray(lams, dtype=np.float64)
    budgets = tuple(int(b) for b in budgets)
    if not budgets or any(b < 1 for b in budgets) or list(budgets) != sorted(set(budgets)):
        raise ValueError(f"budgets: must be increasing step counts >= 1, got {budgets!r}")
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise ValueError(f"seeds: must be an integer >= 1, got {seeds!r}")
    opts = dict(THEOREM1_TRAINING, **train_options)
    lr = opts.pop("lr")
    shape = (lams.size, seeds)
    l1s, errs, certs, cfg = [], [], [], None
    for steps in budgets:
        fixed = dict(target=target, family="loss_sensitive", seed=seed, steps=steps, noise_dim=1, n_data=0,
                     g_hidden=(width, width), d_hidden=(width, width), activation="relu", lr_d=lr, lr_g=lr,
                     record_every=max(1, steps // 10), device=device, **opts)
        cfg, _ = grid_config({"lam": [float(v) for v in lams]}, seeds=seeds, **fixed)
        with torch_threads(1):
            res = train(cfg)
        mets = exact_metrics(res)
        cs = model_certificates(res, nodes=nodes)
        l1s.append(np.array([math.nan if m is None else m.l1 for m in mets]).reshape(shape))
        errs.append(np.array([math.nan if m is None else m.l1_abserr for m in mets]).reshape(shape))
        certs.append([[cs[i * seeds + s] for s in range(seeds)] for i in range(lams.size)])
    l1, err = np.stack(l1s), np.stack(errs)
    sharp = [read_certified(lam, l1[-1, i], err[-1, i], certs[-1][i], sharp=True) for i, lam in enumerate(lams)]
    paper = [read_certified(lam, l1[-1, i], err[-1, i], certs[-1][i], sharp=False) for i, lam in enumerate(lams)]
    spec = _densities.parse(target).spec
    return CertifiedSweep(spec, lams, budgets, l1, err, certs, sharp, paper, ASSUMPTION1.get(spec, "not stated"),
                          asdict(cfg), _time.perf_counter() - t0)
