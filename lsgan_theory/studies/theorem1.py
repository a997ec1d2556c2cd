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

__all__ = ["GeneratorMetrics", "exact_metrics", "generator_metrics", "CapacityFloor", "capacity_floor",
           "density_ratio_infimum", "BoundRow", "BoundReading", "read_bound", "LambdaSweep", "lambda_sweep",
           "THEOREM1_TARGETS"]


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
@dataclass
class BoundRow:
    """One λ of a Theorem 1 sweep: ∫|p − q̂| over seeds against 2/λ and the floors."""

    lam: float
    bound: float              # 2/λ
    mean: float               # mean over seeds of ∫|p − q̂|
    ci: tuple                 # 95 % t-interval of the mean over seeds
    seeds: int
    floor: float              # max(capacity floor, estimator floor)
    status: str               # "trivial", "not testable", "consistent", "violated", "inconclusive"


@dataclass
class BoundReading:
    """Theorem 1 (ii) read from a λ sweep of one target (:func:`read_bound`)."""

    rows: list
    verdict: str              # "consistent" | "violated" | "inconclusive" | "not testable"
    violated_at: list         # λ values where the lower CI end exceeds 2/λ while 2/λ is above the floor
    trend_rho: float          # Spearman ρ(λ, ∫|p − q̂|) over all (λ, seed) pairs
    trend_ci: tuple           # bootstrap 95 % CI over seeds (resampling seeds within each λ)


def read_bound(lams, l1, floor: float, *, estimator_floor: float = 0.0, n_boot: int = 2000, seed: int = 0
               ) -> BoundReading:
    """Read Theorem 1 (ii), ∫|p − q̂| ≤ 2/λ, from measured errors ``l1`` of shape (n_λ, n_seeds) (NaN = diverged).

    Per λ: the mean over seeds with a 95 % Student-t interval (the spread is over seeds: initialisation, data and
    noise streams).  Status: *trivial* when 2/λ ≥ 2 (∫|p − q| ≤ 2 always); *not testable* when 2/λ is at or below the
    floor (the larger of the capacity floor -- the same generator fitted without an adversary -- and the estimator
    floor, 0 for exact densities): no trained network of this class can be expected below it; *violated* when the
    lower end of the interval exceeds 2/λ; *consistent* when its upper end is at or below 2/λ (the measurement
    resolves the error below the bound, so it could have shown a violation); else *inconclusive* (the interval
    straddles 2/λ).  The target's verdict is *violated* if any λ is; else *consistent* if at least one λ is;
    else *inconclusive* if a testable λ exists; else *not testable*.  The trend is Spearman's
    ρ between λ and the error, with a bootstrap interval over seeds.
    """
    from scipy import stats

    lams = np.asarray(lams, dtype=np.float64)
    l1 = np.asarray(l1, dtype=np.float64)
    if l1.ndim != 2 or l1.shape[0] != lams.size:
        raise ValueError(f"l1: expected shape (len(lams), seeds) = ({lams.size}, ·), got {l1.shape}")
    if not (np.all(np.isfinite(lams)) and np.all(lams > 0)):
        raise ValueError(f"lams: every λ must be finite and > 0, got {lams.tolist()}")
    fl = max(float(floor), float(estimator_floor))
    rows, violated = [], []
    for lam, vals in zip(lams, l1):
        v = vals[np.isfinite(vals)]
        k = v.size
        mean = float(v.mean()) if k else math.nan
        half = float(stats.t.ppf(0.975, k - 1) * v.std(ddof=1) / math.sqrt(k)) if k > 1 else math.inf
        ci = (mean - half, mean + half)
        bound = 2.0 / lam
        if bound >= 2.0:
            status = "trivial"
        elif bound <= fl:
            status = "not testable"
        elif k and ci[0] > bound:
            status = "violated"
            violated.append(float(lam))
        elif k and ci[1] <= bound:
            status = "consistent"
        else:
            status = "inconclusive"
        rows.append(BoundRow(float(lam), bound, mean, ci, int(k), fl, status))
    if violated:
        verdict = "violated"
    elif any(r.status == "consistent" for r in rows):
        verdict = "consistent"
    elif any(r.status == "inconclusive" for r in rows):
        verdict = "inconclusive"
    else:
        verdict = "not testable"
    rng = np.random.default_rng(seed)
    lam_rep = np.repeat(lams, l1.shape[1])

    def rho(mat):
        ok = np.isfinite(mat.ravel())
        return float(stats.spearmanr(lam_rep[ok], mat.ravel()[ok]).statistic) if ok.sum() > 2 else math.nan

    r0 = rho(l1)
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, l1.shape[1], size=l1.shape)
        r = rho(np.take_along_axis(l1, idx, axis=1))
        if np.isfinite(r):
            boots.append(r)
    trend_ci = (float(np.quantile(boots, 0.025)), float(np.quantile(boots, 0.975))) if boots else (math.nan, math.nan)
    return BoundReading(rows, verdict, violated, r0, trend_ci)


# ------------------------------------------------------------------------------------------------ the λ sweep
THEOREM1_TARGETS = ("normal(0,1)", "mixture(normal(-2,0.5),normal(2,0.5);0.5,0.5)", "beta(2,2)",
                    "triangular(-1,0,1)", "uniform(-1,1)")


@dataclass
class LambdaSweep:
    """Result of :func:`lambda_sweep` for one target: exact errors per (λ, seed) and their reading."""

    target: str
    lams: np.ndarray
    l1: np.ndarray            # (n_λ, seeds) ∫|p − q̂|, NaN for a diverged model
    w1: np.ndarray            # (n_λ, seeds)
    ratio_inf: np.ndarray     # (n_λ, seeds) ess inf p/q̂ (Theorem 1 (i) says ≥ λ/(1+λ))
    mass_outside: np.ndarray  # (n_λ, seeds)
    capacity: CapacityFloor
    reading: BoundReading
    config: dict
    seconds: float
    provenance: dict


def lambda_sweep(target: str, lams=(0.3, 1.0, 3.0, 10.0, 30.0, 100.0), *, seeds: int = 5, steps: int = 2000,
                 batch: int = 64, width: int = 32, n_data: int | None = None, tau: float = 1.0, lr: float = 1e-3,
                 seed: int = 0, capacity_steps: int = 1500, device: str = "cpu", **train_options) -> LambdaSweep:
    """Theorem 1 on trained LS-GANs (paper parameterisation, THEORY.md §5) for one 1-D target.

    Trains ``len(lams) × seeds`` LS-GANs (``family="loss_sensitive"``: S = E L(x) + λ E (Δ + L(x) − L(G(z)))_+ over
    all batch pairs, Δ = τ|x − z|) as one ensemble, generators and loss networks 1 → width → width → 1 with ReLU and
    1-D noise, so every generator's density is exact (:mod:`lsgan_theory.ensemble.pushforward`).  ``n_data=None``
    draws a large data set (2²⁰ points per model: the population regime to within 1e-3 in W1); an integer gives the
    finite-data regime.  Returns exact ∫|p − q̂|, W1, ess inf p/q̂ and q̂'s mass outside supp(p) per (λ, seed), the
    capacity floor of the same generator architecture, and :func:`read_bound`'s reading.
    """
    import time as _time
    from dataclasses import asdict

    from ..ensemble import train
    from ..provenance import provenance
    from .critic import one_torch_thread
    from .runs import grid_config

    t0 = _time.perf_counter()
    lams = np.asarray(lams, dtype=np.float64)
    fixed = dict(target=target, family="loss_sensitive", seed=seed, steps=steps, batch=batch, noise_dim=1,
                 g_hidden=(width, width), d_hidden=(width, width), activation="relu", lr_d=lr, lr_g=lr,
                 n_data=2**20 if n_data is None else int(n_data), record_every=max(1, steps // 50), device=device,
                 tau=tau, **train_options)
    cfg, rows = grid_config({"lam": [float(v) for v in lams]}, seeds=seeds, **fixed)
    with one_torch_thread():  # tiny networks: a second intra-op thread only adds barrier waits on a small machine
        res = train(cfg)
        cap = capacity_floor(target, hidden=(width, width), steps=capacity_steps, seed=seed)
    mets = exact_metrics(res)
    shape = (lams.size, seeds)

    def grid(attr):
        return np.array([math.nan if m is None else getattr(m, attr) for m in mets]).reshape(shape)

    l1 = grid("l1")
    reading = read_bound(lams, l1, cap.floor)
    return LambdaSweep(_densities.parse(target).spec, lams, l1, grid("w1"), grid("ratio_inf"), grid("mass_outside"),
                       cap, reading, asdict(cfg), _time.perf_counter() - t0, provenance(device))
