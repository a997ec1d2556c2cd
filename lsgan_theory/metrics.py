"""Sample-based metrics of a trained generator (and of a learned loss), each against a known target.

All functions take numpy arrays (float64) of samples: 1-D samples as ``(n,)`` (or ``(n, 1)``), 2-D samples as
``(n, 2)``; densities are :mod:`lsgan_theory.densities` objects.

=========================  =====================================================================================
:func:`w1_to_cdf`           W1(P̂_n, P) = ∫ |F_n − F| dx, exact in the empirical CDF (1-D)
:func:`ks_to_cdf`           Kolmogorov–Smirnov sup_x |F_n − F| (1-D)
:func:`l1_to_pdf`           ∫ |p̂ − p| with a histogram p̂, with its noise floor (the same estimator on fresh data)
:func:`mmd2`                unbiased squared MMD with a Gaussian kernel (any d)
:func:`w1_samples`          exact W1 between two sample sets (optimal assignment / transport LP, any d)
:func:`mode_statistics`     PacGAN's modes covered, high-quality fraction and reverse KL on the mode histogram
:func:`mre`                 minimum reconstruction error of a generator, with its search budget (THEORY.md §9)
:func:`generalisation_gap`  S on the training sample minus S on a large fresh sample (THEORY.md §5)
=========================  =====================================================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from . import validate
from .densities import Density, as_rng, bisect_level
from .resources import check_memory

__all__ = ["w1_to_cdf", "ks_to_cdf", "l1_to_pdf", "L1Estimate", "mmd2", "median_bandwidth", "w1_samples",
           "mode_statistics", "ModeStatistics", "PACGAN_MIN_COUNT", "VEEGAN_MIN_COUNT", "mre", "MREResult", "generalisation_gap", "GapResult"]

_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)


def _samples_1d(name: str, x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D sample of shape (n,) or (n, 1), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name}: contains NaN or inf")
    return x


def _samples_nd(name: str, x) -> np.ndarray:
    return validate.points(name, x)


def _density_1d(name: str, p) -> Density:
    if not isinstance(p, Density):
        raise TypeError(f"{name}: expected a lsgan_theory.densities.Density, got {type(p).__name__}")
    if p.dim != 1:
        raise ValueError(f"{name}: needs a 1-D density, got {p.spec} with dim {p.dim}")
    return p


def _gl_integral(f, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """∫_a^b f for arrays of intervals, 16-point Gauss–Legendre (exact for polynomials of degree ≤ 31)."""
    mid, half = 0.5 * (a + b), 0.5 * (b - a)
    x = mid[..., None] + half[..., None] * _GL_X
    return half * (f(x) @ _GL_W)


def _partition_1d(p: Density, points: np.ndarray, n_grid: int = 512) -> np.ndarray:
    """Sorted cell edges covering the domain and the points: the points, p's breakpoints and a uniform grid."""
    (lo, hi), = p.domain()
    lo, hi = min(lo, points.min()), max(hi, points.max())
    edges = np.concatenate([points, np.linspace(lo, hi, n_grid), np.asarray(p.breakpoints()[0], dtype=np.float64)])
    return np.unique(edges[(edges >= lo) & (edges <= hi)])


def w1_to_cdf(samples, p: Density) -> float:
    r"""Wasserstein-1 distance between the empirical distribution of ``samples`` and the 1-D density ``p``.

    .. math:: W_1(\hat P_n, P) = \int |F_n(x) - F(x)|\, dx

    Computed exactly in the empirical CDF: the line is cut at every sample, at p's breakpoints, on a 512-point grid
    of p's domain and at the points where F crosses the level of F_n (found by bisection to machine precision); on
    each cell F − F_n has one sign, so ∫|F_n − F| = |∫(F − F_n)|, and ∫F over a cell is a 16-point Gauss–Legendre
    rule on a smooth function (error far below 1e-12 for the densities of this package).

    Parameters
    ----------
    samples : array (n,) or (n, 1)
    p : Density (1-D)

    Returns
    -------
    float

    References
    ----------
    S. Vallender, "Calculation of the Wasserstein distance between probability distributions on the line" (1974).
    """
    x = np.sort(_samples_1d("samples", samples))
    p = _density_1d("p", p)
    n = x.size
    edges = _partition_1d(p, x)
    a, b = edges[:-1], edges[1:]
    level = np.searchsorted(x, 0.5 * (a + b), side="right") / n  # F_n on each cell
    Fa, Fb = p.cdf(a), p.cdf(b)
    # crossing of F with the level inside a cell (F monotone): bisection, else split point = an end
    cross = (Fa < level) & (Fb > level)
    lv = level[cross]
    t = bisect_level(p.cdf, lv, a[cross], b[cross], iterations=60)
    A = np.concatenate([a[~cross], a[cross], t])
    Bb = np.concatenate([b[~cross], t, b[cross]])
    L = np.concatenate([level[~cross], lv, lv])
    intF = _gl_integral(p.cdf, A, Bb)
    return float(np.abs(intF - L * (Bb - A)).sum())


def ks_to_cdf(samples, p: Density) -> float:
    r"""Kolmogorov–Smirnov statistic :math:`\sup_x |F_n(x) - F(x)| = \max_k \max(k/n - F(x_{(k)}), F(x_{(k)}) - (k-1)/n)`."""
    x = np.sort(_samples_1d("samples", samples))
    p = _density_1d("p", p)
    n = x.size
    F = p.cdf(x)
    k = np.arange(1, n + 1)
    return float(max(np.max(k / n - F), np.max(F - (k - 1) / n)))


@dataclass(frozen=True)
class L1Estimate:
    """∫|p̂ − p| of the samples (``value``), and the same estimator on fresh samples of p of equal size.

    ``noise_floor`` is the mean over ``repeats`` fresh data samples, ``noise_floor_std`` their standard deviation;
    ``tv = value / 2``.  A generator is indistinguishable from p by this estimator when ``value`` is within a few
    ``noise_floor_std`` of ``noise_floor``.
    """

    value: float
    noise_floor: float
    noise_floor_std: float
    bins: int
    n: int
    repeats: int

    @property
    def tv(self) -> float:
        return 0.5 * self.value


def _fd_bins(x: np.ndarray) -> int:
    """Freedman–Diaconis bin count: width 2·IQR·n^(−1/3) (at least 1, at most n)."""
    q75, q25 = np.percentile(x, [75, 25])
    width = 2 * (q75 - q25) * x.size ** (-1 / 3)
    if width <= 0:
        return 1
    return int(min(max(1, math.ceil((x.max() - x.min()) / width)), x.size))


def _l1_hist(x: np.ndarray, p: Density, bins: int) -> float:
    counts, edges = np.histogram(x, bins=bins)
    h = counts / (x.size * np.diff(edges))
    # ∫ over each bin of |h − p|: 8 sub-cells × 16 Gauss–Legendre nodes (the kink of |·| at p = h costs O(cell²))
    sub = np.linspace(0, 1, 9)
    a = edges[:-1, None] + np.diff(edges)[:, None] * sub[None, :-1]
    b = edges[:-1, None] + np.diff(edges)[:, None] * sub[None, 1:]
    inside = np.zeros(a.shape)
    for j in range(bins):
        inside[j] = _gl_integral(lambda t, hj=h[j]: np.abs(hj - p.pdf(t)), a[j], b[j])
    outside = float(p.cdf(edges[0]) + 1.0 - p.cdf(edges[-1]))
    return float(inside.sum() + outside)


def l1_to_pdf(samples, p: Density, *, bins: int | None = None, repeats: int = 5, rng=None) -> L1Estimate:
    r"""L1 distance :math:`\int |\hat p - p|\,dx` of a histogram of ``samples`` to the 1-D density ``p``, with noise floor.

    The histogram p̂ has ``bins`` equal bins over the sample range (default: Freedman–Diaconis); the integral is
    computed by Gauss–Legendre inside each bin plus the mass of p outside the histogram's range.  Because even a
    perfect generator gives a positive value at finite n, the estimator is repeated on ``repeats`` fresh samples of
    size n drawn from p itself (THEORY.md §5: "the same estimator applied to a fresh data sample of equal size").

    Parameters
    ----------
    samples : array (n,)
    p : Density (1-D)
    bins : int, optional
        Fixed bin count, used for the samples and for the noise floor alike.
    repeats : int
        Fresh samples for the noise floor (>= 2 for a standard deviation).
    rng : numpy Generator or int, optional

    Returns
    -------
    L1Estimate
    """
    x = _samples_1d("samples", samples)
    p = _density_1d("p", p)
    repeats = validate.integer("repeats", repeats, minimum=2, maximum=10_000)
    if bins is not None:
        bins = validate.integer("bins", bins, minimum=1)
        check_memory(8.0 * bins * 60, f"a histogram of {bins} bins (8 sub-cells × 16 nodes each)", "bins")
    rng = as_rng(rng)
    k = bins or _fd_bins(x)
    value = _l1_hist(x, p, k)
    floors = []
    for _ in range(repeats):
        y = p.sample(x.size, rng)
        floors.append(_l1_hist(y, p, bins or _fd_bins(y)))
    return L1Estimate(value, float(np.mean(floors)), float(np.std(floors, ddof=1)), k, x.size, repeats)


def median_bandwidth(x, y) -> float:
    """Median heuristic: the median of the pairwise Euclidean distances in the pooled sample (first 1000 points)."""
    z = np.concatenate([_samples_nd("x", x), _samples_nd("y", y)])[:1000]
    d = np.sqrt(((z[:, None, :] - z[None, :, :]) ** 2).sum(-1))
    med = float(np.median(d[np.triu_indices(len(z), 1)]))
    return med if med > 0 else 1.0


def mmd2(x, y, bandwidth: float | None = None) -> float:
    r"""Unbiased squared maximum mean discrepancy with the Gaussian kernel :math:`k(u,v) = e^{-\|u-v\|^2/(2h^2)}`.

    .. math:: \widehat{MMD}^2_u = \frac{1}{n(n-1)}\sum_{i\ne j} k(x_i,x_j) + \frac{1}{m(m-1)}\sum_{i\ne j} k(y_i,y_j)
              - \frac{2}{nm}\sum_{i,j} k(x_i, y_j)

    (Gretton et al., JMLR 2012, eq. 3).  Unbiased, so it can be slightly negative when P = Q.
    ``x`` (n, d), ``y`` (m, d), n, m >= 2; ``bandwidth`` h > 0 (default :func:`median_bandwidth`).
    """
    x, y = _samples_nd("x", x), _samples_nd("y", y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"y: dimension {y.shape[1]} differs from x's {x.shape[1]}")
    if len(x) < 2 or len(y) < 2:
        raise ValueError(f"x, y: need at least 2 samples each, got {len(x)} and {len(y)}")
    n, m = len(x), len(y)
    # k(x, x), k(y, y), k(x, y) kept at once, each with a same-size temporary: 2·8·(n² + m² + nm) bytes
    check_memory(16.0 * (n * n + m * m + n * m), f"the kernel matrices of n = {n} and m = {m} samples", "x, y")
    h = median_bandwidth(x, y) if bandwidth is None else validate.positive("bandwidth", bandwidth)

    def k(a, b):
        d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
        return np.exp(-np.maximum(d2, 0) / (2 * h * h))

    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    return float((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                 - 2 * kxy.mean())


def w1_samples(x, y) -> float:
    r"""Exact Wasserstein-1 distance (Euclidean ground cost) between the empirical distributions of two samples.

    Equal sizes: the optimal coupling of two uniform empirical measures of n atoms is a permutation (Birkhoff), found
    by the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``), W1 = (1/n) Σ ‖x_i − y_σ(i)‖.
    Unequal sizes: the transport LP (n·m variables, HiGHS) — keep n·m below a few 10⁵.

    ``x`` (n, d), ``y`` (m, d).
    """
    x, y = _samples_nd("x", x), _samples_nd("y", y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"y: dimension {y.shape[1]} differs from x's {x.shape[1]}")
    n, m = len(x), len(y)
    if n != m and n * m > 4_000_000:
        raise ValueError(f"x, y: the transport LP with n·m = {n * m} variables is too large (limit 4e6); "
                         "use equal sample sizes (assignment) instead")
    # the (n, m, d) coordinate differences, their squares and the (n, m) cost matrix (plus the assignment's copy)
    check_memory(8.0 * n * m * (2 * x.shape[1] + 2), f"the ({n}, {m}) cost matrix in dimension {x.shape[1]}", "x, y")
    C = np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1))
    if n == m:
        r, c = optimize.linear_sum_assignment(C)
        return float(C[r, c].mean())
    import scipy.sparse as sp

    rows_a = sp.kron(sp.eye(n), np.ones((1, m)))
    rows_b = sp.kron(np.ones((1, n)), sp.eye(m))
    A = sp.vstack([rows_a, rows_b]).tocsr()
    b = np.concatenate([np.full(n, 1 / n), np.full(m, 1 / m)])
    res = optimize.linprog(C.ravel(), A_eq=A, b_eq=b, bounds=(0, None), method="highs")
    if res.status != 0:
        raise ValueError(f"x, y: the transport LP failed: {res.message}")
    return float(res.fun)


@dataclass(frozen=True)
class ModeStatistics:
    """PacGAN / VEEGAN mode metrics of a generated sample on a mixture with known centres."""

    modes: int
    high_quality: float
    reverse_kl: float
    counts: np.ndarray = field(repr=False)
    n: int = 0


# PacGAN's definition of a covered mode: at least ONE of the (2500) generated samples lies within 3σ of it (their
# code, synthetic_data_experiments/PacGAN/pacgan/extensions.py, MetricLogger: "mode coverage" = number of modes with
# a nonzero count).  VEEGAN (Srivastava et al. 2017) asks for at least 20 of 2500 instead.
PACGAN_MIN_COUNT = 1
VEEGAN_MIN_COUNT = 20


def mode_statistics(samples, centres, std: float, *, min_count: int = 20, sigmas: float = 3.0) -> ModeStatistics:
    r"""Modes covered, fraction of high-quality samples and reverse KL on the mode histogram (PacGAN Table 1).

    Each sample is assigned to its nearest centre; it is *high quality* if that distance is below ``sigmas``·std
    (3σ, Srivastava et al. 2017 "VEEGAN"); a mode is *covered* if at least ``min_count`` high-quality samples fall
    in it.  The default 20 is VEEGAN's threshold (:data:`VEEGAN_MIN_COUNT`); PacGAN's code counts a mode as covered
    when any sample lies within 3σ of it: ``min_count = PACGAN_MIN_COUNT`` (= 1), with 2500 samples.  With q_k the
    fraction of the high-quality samples in mode k and the uniform target 1/K,

    .. math:: \mathrm{rKL} = \sum_{k: q_k > 0} q_k \log(K q_k).

    Parameters
    ----------
    samples : array (n, d)
    centres : array (K, d) (e.g. ``Ring(...).centres``)
    std : float
        Standard deviation per coordinate of each mode.

    References
    ----------
    Z. Lin, A. Khetan, G. Fanti, S. Oh, "PacGAN: The power of two samples in GANs", NeurIPS 2018, §5 and Table 1.
    """
    x = _samples_nd("samples", samples)
    c = np.asarray(centres, dtype=np.float64)
    if c.ndim != 2 or c.shape[1] != x.shape[1]:
        raise ValueError(f"centres: expected shape (K, {x.shape[1]}), got {c.shape}")
    if c.shape[0] < 1 or not np.all(np.isfinite(c)):
        raise ValueError(f"centres: need at least one centre, all finite, got shape {c.shape}")
    std = validate.positive("std", std)
    min_count = validate.integer("min_count", min_count, minimum=1)
    sigmas = validate.positive("sigmas", sigmas)
    check_memory(8.0 * len(x) * len(c) * (2 * x.shape[1] + 2), f"the distances of {len(x)} samples to {len(c)} centres",
                 "samples")
    d = np.sqrt(((x[:, None, :] - c[None, :, :]) ** 2).sum(-1))
    nearest = d.argmin(1)
    hq = d[np.arange(len(x)), nearest] < sigmas * std
    counts = np.bincount(nearest[hq], minlength=len(c))
    K = len(c)
    if hq.sum() == 0:
        rkl = float("inf")
    else:
        q = counts / counts.sum()
        nz = q > 0
        rkl = float((q[nz] * np.log(K * q[nz])).sum())
    return ModeStatistics(int((counts >= min_count).sum()), float(hq.mean()), rkl, counts, len(x))


@dataclass(frozen=True)
class MREResult:
    """MRE = mean over test points of min_z ‖x − G(z)‖²; ``per_point`` (n,), and the search budget."""

    value: float
    per_point: np.ndarray = field(repr=False)
    restarts: int = 0
    steps: int = 0
    lr: float = 0.0


def mre(generator, x_test, noise_dim: int, *, restarts: int = 8, steps: int = 300, lr: float = 0.05,
        seed: int = 0) -> MREResult:
    r"""Minimum reconstruction error :math:`\frac1n\sum_i \min_z \|x_i - G(z)\|_2^2` (Qi 2017; THEORY.md §9).

    The inner minimum is searched by Adam on z from ``restarts`` starting points z ~ N(0, I) per test point
    (``steps`` steps, learning rate ``lr``); the best restart counts.  The search budget is part of the result: the
    value is an upper bound on the true MRE that decreases with the budget.

    Parameters
    ----------
    generator : callable
        Torch function mapping z of shape (R, n, noise_dim) to samples (R, n, d) (a batched generator; models must
        treat rows independently).
    x_test : array (n, d)
    noise_dim : int
    """
    x = _samples_nd("x_test", x_test)
    restarts = validate.integer("restarts", restarts, minimum=1)
    steps = validate.integer("steps", steps, minimum=0)
    noise_dim = validate.integer("noise_dim", noise_dim, minimum=1)
    lr = validate.positive("lr", lr)
    seed = validate.integer("seed", seed, minimum=0)
    # z, its gradient, Adam's two moments and the generator's output and error, per (restart, point)
    check_memory(8.0 * restarts * len(x) * (6 * noise_dim + 4 * x.shape[1]),
                 f"the search over {restarts} restarts × {len(x)} points (noise_dim = {noise_dim})",
                 "restarts, x_test")
    import torch

    g = torch.Generator().manual_seed(int(seed))
    xt = torch.tensor(x, dtype=torch.float64)
    z = torch.randn(restarts, len(x), noise_dim, generator=g, dtype=torch.float64).requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)

    def err(z_):
        out = generator(z_).to(torch.float64)
        return ((out - xt[None]) ** 2).sum(-1)  # (R, n)

    for _ in range(steps):
        opt.zero_grad()
        err(z).sum().backward()
        opt.step()
    with torch.no_grad():
        best = err(z).min(0).values.numpy()
    return MREResult(float(best.mean()), best, restarts, steps, lr)


@dataclass(frozen=True)
class GapResult:
    """S_train (objective on the training sample), S_fresh (on a large fresh sample) and gap = S_fresh − S_train."""

    s_train: float
    s_fresh: float

    @property
    def gap(self) -> float:
        return self.s_fresh - self.s_train


def generalisation_gap(loss_fn, real_train, fake_train, real_fresh, fake_fresh, lam: float,
                       tau: float = 1.0) -> GapResult:
    r"""Generalisation gap of a learned LS-GAN loss L: S on the training sample vs S on a large fresh sample.

    .. math:: S_{n,m} = \frac1n\sum_i L(x_i) + \frac{\lambda}{nm}\sum_{i,j}(\Delta(x_i, z_j) + L(x_i) - L(z_j))_+,
              \quad \Delta = \tau\|x - z\|_1

    (THEORY.md §5, all pairs; computed by :func:`lsgan_theory.losses.loss_sensitive_objective`).  The population S is
    approximated by the fresh samples, whose own Monte Carlo error is O(1/√n_fresh).

    Parameters
    ----------
    loss_fn : callable
        Torch function x (n, d) -> L(x) (n,).
    real_train, fake_train, real_fresh, fake_fresh : arrays (·, d)
    lam : float
        λ > 0.
    tau : float
        τ > 0, the margin scale.
    """
    import torch

    from . import losses

    lam = validate.positive("lam", lam)
    tau = validate.positive("tau", tau)

    def S(r, f):
        r, f = _samples_nd("real", r), _samples_nd("fake", f)
        check_memory(8.0 * len(r) * len(f) * (r.shape[1] + 3), f"the ({len(r)}, {len(f)}) margin and hinge matrices",
                     "real_fresh, fake_fresh")
        r = torch.tensor(r, dtype=torch.float64)
        f = torch.tensor(f, dtype=torch.float64)
        with torch.no_grad():
            Lr, Lf = loss_fn(r).reshape(-1).double(), loss_fn(f).reshape(-1).double()
            delta = losses.margin_matrix(r, f, margin_kind="l1", tau=tau)
            return float(losses.loss_sensitive_objective(Lr, Lf, delta, lam))

    return GapResult(S(real_train, fake_train), S(real_fresh, fake_fresh))
