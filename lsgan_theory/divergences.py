"""Ground-truth divergences between known densities, by adaptive quadrature with an error bound.

Conventions (THEORY.md §0; natural logarithms):

===================  ==================================  =====================
function             definition                          range
===================  ==================================  =====================
``kl``               ∫ p log(p/q)                        [0, ∞]
``reverse_kl``       ∫ q log(q/p) = KL(Q‖P)               [0, ∞]
``js``               ½KL(P‖M) + ½KL(Q‖M), M = (P+Q)/2    [0, log 2]
``pearson_chi2``     ∫ (p − q)²/q                        [0, ∞]
``neyman_chi2``      ∫ (p − q)²/p                        [0, ∞]
``hellinger2``       ∫ (√p − √q)²                        [0, 2]
``tv``               ½ ∫ |p − q|                         [0, 1]
``triangular``       ∫ (p − q)²/(p + q)  (Vincze–Le Cam)  [0, 2]
``w1``               inf E‖X − Y‖;  1-D: ∫ |F_P − F_Q|   [0, ∞)
===================  ==================================  =====================

``f_divergence(p, q, f)`` = ∫ q f(p/q) for a convex f with f(1) = 0; ``integrate_pointwise(fn, p, q)`` = ∫ fn(p, q).

Every function returns an :class:`Estimate` ``(value, abserr)``.  ``abserr`` bounds the quadrature error (the
difference between a Gauss–Legendre rule on each cell and on its children, summed over cells — the children's
value is returned, so the bound is conservative) plus the neglected tail mass.  Integrands are evaluated from
``logpdf`` so that underflowing densities give no ``log(0)`` and no NaN.  A divergent integral (an integrand that
does not decay in the tails, or mass of P where q = 0) returns ``inf`` with ``abserr = 0``.

Densities are objects of :mod:`lsgan_theory.densities` (1-D or 2-D, both of the same dimension).  The 2-D ``w1``
is an exact discrete optimal-transport cost between the two densities binned on a grid, with the binning bound
(see :func:`w1`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import optimize

from .densities import Density

__all__ = [
    "Estimate", "kl", "reverse_kl", "js", "pearson_chi2", "neyman_chi2", "hellinger2", "tv", "triangular", "w1",
    "f_divergence", "integrate_pointwise", "by_name", "NAMES",
]

DEFAULT_ATOL = {1: 1e-9, 2: 1e-6}
DEFAULT_RTOL = 1e-10  # tolerance = max(atol, rtol·|value|): large χ² values are resolved relatively
_EPS = np.finfo(float).eps


@dataclass(frozen=True)
class Estimate:
    """A value with an absolute error bound."""

    value: float
    abserr: float

    def __float__(self) -> float:
        return self.value

    def __iter__(self):  # allows ``value, err = kl(p, q)``
        return iter((self.value, self.abserr))


# ------------------------------------------------------------------------------------------ adaptive cubature
_GL_ORDER = {1: 20, 2: 12}


def _rule(f, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Tensor Gauss–Legendre on each cell [lo, hi] (shape (C, d)); returns (C,) integrals."""
    C, d = lo.shape
    x, w = np.polynomial.legendre.leggauss(_GL_ORDER[d])
    half = (hi - lo) / 2
    mid = (hi + lo) / 2
    if d == 1:
        pts = mid[:, None, 0] + half[:, None, 0] * x[None, :]  # (C, N)
        vals = f(pts[..., None])
        return (vals * w).sum(-1) * half[:, 0]
    X, Y = np.meshgrid(x, x, indexing="ij")
    W = np.outer(w, w).ravel()
    nodes = np.stack([X.ravel(), Y.ravel()], axis=-1)  # (N², 2)
    out = np.empty(C)
    chunk = 512  # cells per evaluation: bounds the memory of mixtures with many modes
    for s in range(0, C, chunk):
        pts = mid[s:s + chunk, None, :] + half[s:s + chunk, None, :] * nodes[None, :, :]
        out[s:s + chunk] = (f(pts) * W).sum(-1) * half[s:s + chunk, 0] * half[s:s + chunk, 1]
    return out


def _split(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Children (2^d per cell, cell-major) of each cell."""
    C, d = lo.shape
    mid = (lo + hi) / 2
    los, his = [], []
    for corner in range(2**d):
        bits = [(corner >> k) & 1 for k in range(d)]
        clo = np.where(bits, mid, lo)
        chi = np.where(bits, hi, mid)
        los.append(clo)
        his.append(chi)
    return np.stack(los, 1).reshape(-1, d), np.stack(his, 1).reshape(-1, d)


def _cubature(f, edges: list[np.ndarray], atol: float, rtol: float, max_cells: int) -> tuple[float, float]:
    """Adaptive integral of vectorised ``f`` (points (..., d) → values (...)) over the grid of cells ``edges``."""
    d = len(edges)
    if d == 1:
        e = edges[0]
        lo, hi = e[:-1, None], e[1:, None]
    else:
        ex, ey = edges
        LX, LY = np.meshgrid(ex[:-1], ey[:-1], indexing="ij")
        HX, HY = np.meshgrid(ex[1:], ey[1:], indexing="ij")
        lo = np.stack([LX.ravel(), LY.ravel()], -1)
        hi = np.stack([HX.ravel(), HY.ravel()], -1)
    parent = _rule(f, lo, hi)
    if not np.all(np.isfinite(parent)):
        return (math.inf, 0.0) if np.all(parent[~np.isfinite(parent)] > 0) else (math.nan, math.inf)
    done_val, done_err, done_abs = 0.0, 0.0, 0.0
    while True:
        clo, chi = _split(lo, hi)
        cvals = _rule(f, clo, chi).reshape(len(lo), -1)
        if not np.all(np.isfinite(cvals)):
            return math.inf, 0.0
        csum = cvals.sum(1)
        err = np.abs(parent - csum)
        total = done_val + csum.sum()
        total_err = done_err + err.sum()
        tol = max(atol, rtol * abs(total))
        if total_err <= tol or len(clo) > max_cells:
            if total_err > tol:
                warnings.warn(f"quadrature stopped at {len(clo)} cells with error {total_err:.2g} > tolerance "
                              f"{tol:.2g}; the returned abserr says so", RuntimeWarning, stacklevel=4)
            rounding = 50 * _EPS * (done_abs + np.abs(cvals).sum())
            return float(total), float(total_err + rounding)
        # accept the cells with the smallest errors while they use at most half of the remaining budget
        budget = max(tol - done_err, 0.0)
        order = np.argsort(err)
        accept = np.zeros(len(err), bool)
        accept[order[np.cumsum(err[order]) <= 0.5 * budget]] = True
        done_val += csum[accept].sum()
        done_err += err[accept].sum()
        done_abs += np.abs(cvals[accept]).sum()
        keep = np.repeat(~accept, 2**d)
        lo, hi = clo[keep], chi[keep]
        parent = cvals[~accept].ravel()


def _edges_1d(lo: float, hi: float, bps, extra=(), pieces: int = 16) -> np.ndarray:
    pts = [b for b in list(bps) + list(extra) if lo < b < hi]
    e = np.unique(np.concatenate([[lo, hi], pts]))
    # no initial cell wider than 1/pieces of the domain
    out = [e[0]]
    for a, b in zip(e[:-1], e[1:]):
        k = max(1, int(math.ceil((b - a) / ((hi - lo) / pieces))))
        out.extend(np.linspace(a, b, k + 1)[1:])
    return np.asarray(out)


def _check_pair(p: Density, q: Density) -> None:
    for name, d in (("p", p), ("q", q)):
        if not isinstance(d, Density):
            raise TypeError(f"{name}: expected a lsgan_theory.densities.Density, got {type(d).__name__}")
    if p.dim != q.dim:
        raise ValueError(f"q: dimension mismatch, p has dim {p.dim} and q has dim {q.dim}")
    if p.dim not in (1, 2):
        raise ValueError(f"p: only 1-D and 2-D densities are supported, got dim {p.dim}")


def _crossings(p: Density, q: Density, lo: float, hi: float, n: int = 2001) -> list[float]:
    """Points where p − q changes sign in 1-D (kinks of |p − q| and of |F_P − F_Q|' ), refined by brentq."""
    x = np.linspace(lo, hi, n)
    diff = p.pdf(x) - q.pdf(x)
    s = np.sign(diff)
    out = []
    for i in np.nonzero(s[:-1] * s[1:] < 0)[0]:
        try:
            out.append(optimize.brentq(lambda t: float(p.pdf(t) - q.pdf(t)), x[i], x[i + 1], xtol=1e-14))
        except ValueError:
            pass
    return out


def _integrate(g: Callable[[np.ndarray], np.ndarray], p: Density, q: Density, atol, rtol, kinks_at_crossings=True,
               max_cells: int | None = None) -> Estimate:
    """∫ g(x) dx over R^d with g built from p and q; domain = union of both domains, grown while the tails matter."""
    _check_pair(p, q)
    raw = g

    def g(x):  # integrands treat ±inf and 0·log 0 explicitly; silence numpy's intermediate warnings
        with np.errstate(all="ignore"):
            return raw(x)

    d = p.dim
    atol = DEFAULT_ATOL[d] if atol is None else float(atol)
    if not atol > 0:
        raise ValueError(f"atol: must be > 0, got {atol!r}")
    rtol = DEFAULT_RTOL if rtol is None else float(rtol)
    max_cells = max_cells or (2_000_000 if d == 1 else 60_000)
    dom = [(min(a[0], b[0]), max(a[1], b[1])) for a, b in zip(p.domain(), q.domain())]
    bps = [tuple(p.breakpoints()[i]) + tuple(q.breakpoints()[i]) for i in range(d)]

    # tails: the integrand must be negligible on the boundary of the domain; grow it (×2) while it is not.
    tail_err = 0.0
    for _ in range(8):
        edge_vals = _boundary_values(g, dom)
        width = math.prod(b - a for a, b in dom)
        bound = float(np.max(np.abs(edge_vals))) * width  # ≥ the mass of a decaying tail beyond the box
        if not np.all(np.isfinite(edge_vals)):
            return Estimate(math.inf, 0.0)
        if bound <= 1e-3 * atol:
            tail_err = bound
            break
        bigger = [((a + b) / 2 - (b - a), (a + b) / 2 + (b - a)) for a, b in dom]
        if float(np.max(np.abs(_boundary_values(g, bigger)))) >= float(np.max(np.abs(edge_vals))):
            return Estimate(math.inf, 0.0)  # does not decay: a divergent integral
        dom = bigger
    else:
        return Estimate(math.inf, 0.0)

    extra = [()] * d
    if d == 1 and kinks_at_crossings:
        extra = [tuple(_crossings(p, q, *dom[0]))]
    edges = [_edges_1d(dom[i][0], dom[i][1], bps[i], extra[i], pieces=16 if d == 1 else 8) for i in range(d)]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        val, err = _cubature(g, edges, atol=0.5 * atol, rtol=rtol, max_cells=max_cells)
    if math.isnan(val):
        raise FloatingPointError("the integrand produced NaN; please report the densities used")
    if math.isinf(val):
        return Estimate(math.inf, 0.0)
    # floor: every integrand is computed from p and q with a relative rounding error of a few eps, and ∫(p + q) = 2
    return Estimate(val, err + tail_err + 64 * _EPS)


def _boundary_values(g, dom) -> np.ndarray:
    if len(dom) == 1:
        (a, b), = dom
        return g(np.array([[a], [b]]))
    (a, b), (c, e) = dom
    t = np.linspace(0, 1, 257)
    xs = np.concatenate([a + (b - a) * t, a + (b - a) * t, np.full_like(t, a), np.full_like(t, b)])
    ys = np.concatenate([np.full_like(t, c), np.full_like(t, e), c + (e - c) * t, c + (e - c) * t])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        return g(np.stack([xs, ys], -1))


def _logs(p: Density, q: Density):
    def at(x):
        xx = x[..., 0] if p.dim == 1 else x
        return p.logpdf(xx), q.logpdf(xx)
    return at


def _xlogy_exp(la: np.ndarray, lb: np.ndarray) -> np.ndarray:
    """a·log(a/b) from logs: 0 where a = 0, +inf where a > 0 = b."""
    with np.errstate(invalid="ignore", over="ignore"):
        a = np.exp(la)
        out = a * (la - lb)
    out = np.where(np.isneginf(la), 0.0, out)
    return np.where(np.isneginf(lb) & ~np.isneginf(la), np.inf, out)


def _log_abs_ratio_minus_1(dl: np.ndarray) -> np.ndarray:
    """log|e^dl − 1| without overflow or cancellation."""
    pos = dl > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(pos, dl + np.log(-np.expm1(-np.abs(dl))), np.log(-np.expm1(-np.abs(dl))))


def _chi2_integrand(la, lb):
    """(a − b)²/b from logs; 0 where both vanish, inf where b = 0 < a."""
    dl = la - lb
    out = np.exp(lb + 2 * _log_abs_ratio_minus_1(dl))
    both0 = np.isneginf(la) & np.isneginf(lb)
    out = np.where(both0, 0.0, out)
    out = np.where(np.isneginf(lb) & ~np.isneginf(la), np.inf, out)
    return np.where(np.isneginf(la) & ~np.isneginf(lb), np.exp(lb), out)


# ------------------------------------------------------------------------------------------ divergences
def kl(p: Density, q: Density, atol: float | None = None, rtol: float | None = None) -> Estimate:
    """KL(P‖Q) = ∫ p log(p/q)  (inf when P has mass where q = 0)."""
    L = _logs(p, q)
    return _integrate(lambda x: _xlogy_exp(*L(x)), p, q, atol, rtol)


def reverse_kl(p: Density, q: Density, atol: float | None = None, rtol: float | None = None) -> Estimate:
    """Reverse KL = KL(Q‖P) = ∫ q log(q/p)."""
    L = _logs(p, q)
    return _integrate(lambda x: _xlogy_exp(*L(x)[::-1]), p, q, atol, rtol)


def js(p: Density, q: Density, atol: float | None = None, rtol: float | None = None) -> Estimate:
    """JSD(P‖Q) = ½KL(P‖M) + ½KL(Q‖M), M = (P + Q)/2; always in [0, log 2]."""
    L = _logs(p, q)

    def g(x):
        lp, lq = L(x)
        lm = np.logaddexp(lp, lq) - math.log(2)
        return 0.5 * (_xlogy_exp(lp, lm) + _xlogy_exp(lq, lm))

    return _integrate(g, p, q, atol, rtol)


def pearson_chi2(p: Density, q: Density, atol: float | None = None, rtol: float | None = None) -> Estimate:
    """Pearson χ²(P‖Q) = ∫ (p − q)²/q  (inf when it diverges, e.g. Gaussians with σ_q² ≤ σ_p²/2)."""
    L = _logs(p, q)
    return _integrate(lambda x: _chi2_integrand(*L(x)), p, q, atol, rtol)


def neyman_chi2(p: Density, q: Density, atol: float | None = None, rtol: float | None = None) -> Estimate:
    """Neyman χ²(P‖Q) = ∫ (p − q)²/p = Pearson χ²(Q‖P)."""
    L = _logs(p, q)
    return _integrate(lambda x: _chi2_integrand(*L(x)[::-1]), p, q, atol, rtol)


def hellinger2(p: Density, q: Density, atol: float | None = None, rtol: float | None = None) -> Estimate:
    """Squared Hellinger H²(P‖Q) = ∫ (√p − √q)²  (range [0, 2]; f(u) = (√u − 1)²)."""
    L = _logs(p, q)

    def g(x):
        lp, lq = L(x)
        return (np.exp(0.5 * lp) - np.exp(0.5 * lq)) ** 2

    return _integrate(g, p, q, atol, rtol)


def tv(p: Density, q: Density, atol: float | None = None, rtol: float | None = None) -> Estimate:
    """Total variation TV(P, Q) = ½ ∫ |p − q|  (range [0, 1]; the L1 distance is 2·TV)."""
    L = _logs(p, q)

    def g(x):
        lp, lq = L(x)
        return 0.5 * np.abs(np.exp(lp) - np.exp(lq))

    return _integrate(g, p, q, atol, rtol)


def triangular(p: Density, q: Density, atol: float | None = None, rtol: float | None = None) -> Estimate:
    """Triangular discrimination Δ_LC(P, Q) = ∫ (p − q)²/(p + q)  (range [0, 2]) = 2·χ²(Q‖(P+Q)/2)."""
    L = _logs(p, q)

    def g(x):
        lp, lq = L(x)
        ls = np.logaddexp(lp, lq)
        out = np.exp(ls) * np.tanh(0.5 * (lp - lq)) ** 2
        return np.where(np.isneginf(ls), 0.0, np.where(np.isneginf(lp) | np.isneginf(lq), np.exp(ls), out))

    return _integrate(g, p, q, atol, rtol)


def f_divergence(p: Density, q: Density, f: Callable[[np.ndarray], np.ndarray], atol: float | None = None,
                 rtol: float | None = None, f_prime_inf: float | None = None) -> Estimate:
    """D_f(P‖Q) = ∫ q f(p/q) for a convex ``f`` with f(1) = 0, vectorised over numpy arrays of u = p/q ≥ 0.

    Where q = 0 < p the integrand is p·f'(∞) with f'(∞) = lim_{u→∞} f(u)/u (``f_prime_inf``; by default
    estimated as f(u)/u at u = 1e12, inf if that is not finite).  Where p = 0 < q it is q·f(0).
    """
    if not callable(f):
        raise TypeError(f"f: expected a callable f(u), got {type(f).__name__}")
    L = _logs(p, q)
    with np.errstate(all="ignore"):
        fpi = f_prime_inf if f_prime_inf is not None else float(f(np.array(1e12)) / 1e12)
        f0 = float(f(np.array(0.0)))
    if not math.isfinite(fpi):
        fpi = math.inf

    def g(x):
        lp, lq = L(x)
        with np.errstate(all="ignore"):
            u = np.exp(lp - lq)
            out = np.exp(lq) * f(u)
            qz = np.isneginf(lq) & ~np.isneginf(lp)
            pz = np.isneginf(lp) & ~np.isneginf(lq)
            out = np.where(qz, np.exp(lp) * fpi if math.isfinite(fpi) else np.inf, out)
            out = np.where(pz, np.exp(lq) * f0, out)
            return np.where(np.isneginf(lp) & np.isneginf(lq), 0.0, out)

    return _integrate(g, p, q, atol, rtol)


def integrate_pointwise(fn: Callable[[np.ndarray, np.ndarray], np.ndarray], p: Density, q: Density,
                        atol: float | None = None, rtol: float | None = None) -> Estimate:
    """∫ fn(p(x), q(x)) dx for a vectorised ``fn`` of the two density values (e.g. a lambdified sympy integrand)."""
    if not callable(fn):
        raise TypeError(f"fn: expected a callable fn(p, q), got {type(fn).__name__}")
    L = _logs(p, q)

    def g(x):
        lp, lq = L(x)
        return np.asarray(fn(np.exp(lp), np.exp(lq)), dtype=float) * np.ones_like(lp)

    return _integrate(g, p, q, atol, rtol)


def w1(p: Density, q: Density, atol: float | None = None, rtol: float | None = None, grid: int = 32,
       stencil: int = 4) -> Estimate:
    """Wasserstein-1 distance (Euclidean ground metric).

    1-D: W1 = ∫ |F_P(x) − F_Q(x)| dx by adaptive quadrature (kinks at the crossings of p and q); ``abserr`` as for
    the other divergences.

    2-D: an exact min-cost flow between the two densities binned on a ``grid × grid`` lattice (cell masses by
    Gauss–Legendre quadrature, each placed at its cell centre), on the lattice graph whose edges are the primitive
    integer steps (a, b) with max(|a|, |b|) ≤ ``stencil`` (cost: Euclidean length).  Two error sources, both
    bounded and summed into ``abserr`` (a rigorous but not tight bound; ``atol``/``rtol`` are not used in 2-D):

    * graph metric: d_E ≤ d_G ≤ d_E / cos(θ/2), θ the largest angle between neighbouring stencil directions, so
      W1 of the binned measures lies in [W_G cos(θ/2), W_G]; the midpoint is returned and the half-width counted;
    * binning: W1(P, P_binned) ≤ E_P |X − centre(X)| (computed by quadrature), same for Q (triangle inequality),
      plus the mass outside the lattice times its diameter.
    """
    _check_pair(p, q)
    if p.dim == 1:
        def g(x):
            t = x[..., 0]
            return np.abs(p.cdf(t) - q.cdf(t))
        return _integrate(g, p, q, atol, rtol)
    if not (isinstance(grid, (int, np.integer)) and 8 <= grid <= 256):
        raise ValueError(f"grid: lattice size must be an integer in [8, 256], got {grid!r}")
    if not (isinstance(stencil, (int, np.integer)) and 1 <= stencil <= 8):
        raise ValueError(f"stencil: must be an integer in [1, 8], got {stencil!r}")
    return _w1_2d(p, q, int(grid), int(stencil))


def _w1_2d(p: Density, q: Density, grid: int, stencil: int) -> Estimate:
    from scipy import sparse

    # the lattice box: where either density exceeds 1e-14 of its peak on a probe grid over both domains
    box = [(min(p.domain()[i][0], q.domain()[i][0]), max(p.domain()[i][1], q.domain()[i][1])) for i in range(2)]
    probe = 513
    xs, ys = np.linspace(*box[0], probe), np.linspace(*box[1], probe)
    X, Y = np.meshgrid(xs, ys, indexing="ij")
    dens = np.exp(np.logaddexp(p.logpdf(np.stack([X, Y], -1)), q.logpdf(np.stack([X, Y], -1))))
    keep = dens > 1e-14 * dens.max()
    ix, iy = np.nonzero(keep.any(1))[0], np.nonzero(keep.any(0))[0]
    lo = np.array([xs[max(ix[0] - 1, 0)], ys[max(iy[0] - 1, 0)]])
    hi = np.array([xs[min(ix[-1] + 1, probe - 1)], ys[min(iy[-1] + 1, probe - 1)]])
    side = float(max(hi - lo))
    h = side / grid
    origin = (lo + hi) / 2 - side / 2
    gx, gw = np.polynomial.legendre.leggauss(8)
    u = (gx + 1) / 2  # nodes in [0, 1]

    def masses_and_spread(d: Density):
        px = (origin[0] + h * (np.arange(grid)[:, None] + u[None, :])).ravel()
        py = (origin[1] + h * (np.arange(grid)[:, None] + u[None, :])).ravel()
        XX, YY = np.meshgrid(px, py, indexing="ij")
        v = np.exp(d.logpdf(np.stack([XX, YY], -1))).reshape(grid, 8, grid, 8)
        wts = np.outer(gw, gw) * (h / 2) ** 2
        m = np.einsum("aibj,ij->ab", v, wts)
        dist = np.hypot((u[:, None] - 0.5) * h, (u[None, :] - 0.5) * h)  # |x − centre| at the nodes
        spread = float(np.einsum("aibj,ij->", v, wts * dist))
        return m, spread

    mp, sp = masses_and_spread(p)
    mq, sq = masses_and_spread(q)
    lost = abs(1 - mp.sum()) + abs(1 - mq.sum())
    mp, mq = np.clip(mp, 0, None), np.clip(mq, 0, None)
    supply = (mp / mp.sum() - mq / mq.sum()).ravel()
    # primitive stencil directions
    dirs = [(a, b) for a in range(-stencil, stencil + 1) for b in range(-stencil, stencil + 1)
            if (a, b) != (0, 0) and math.gcd(abs(a), abs(b)) == 1]
    ang = np.sort(np.arctan2([b for a, b in dirs], [a for a, b in dirs]))
    theta = float(np.max(np.diff(np.concatenate([ang, [ang[0] + 2 * np.pi]]))))
    idx = np.arange(grid * grid).reshape(grid, grid)
    tails, heads, costs = [], [], []
    for a, b in dirs:
        src = idx[max(0, -a):grid - max(0, a), max(0, -b):grid - max(0, b)].ravel()
        tails.append(src)
        heads.append(src + a * grid + b)
        costs.append(np.full(src.size, h * math.hypot(a, b)))
    tails, heads, costs = map(np.concatenate, (tails, heads, costs))
    E = tails.size
    # flow conservation: out − in = supply at every node
    A = sparse.csr_matrix((np.concatenate([np.ones(E), -np.ones(E)]),
                           (np.concatenate([tails, heads]), np.concatenate([np.arange(E), np.arange(E)]))),
                          shape=(grid * grid, E))
    res = optimize.linprog(costs, A_eq=A, b_eq=supply, bounds=(0, None), method="highs")
    if res.status != 0:
        raise FloatingPointError(f"2-D W1 flow LP failed: {res.message}")
    wg = float(res.fun)
    c = math.cos(theta / 2)
    mid = wg * (1 + c) / 2
    return Estimate(mid, wg * (1 - c) / 2 + sp + sq + lost * side * math.sqrt(2) + 1e-9)


NAMES = {
    "kl": kl, "reverse_kl": reverse_kl, "js": js, "jsd": js, "pearson_chi2": pearson_chi2, "chi2": pearson_chi2,
    "neyman_chi2": neyman_chi2, "hellinger2": hellinger2, "tv": tv, "triangular": triangular, "w1": w1,
}


def by_name(name: str):
    """The divergence function called ``name`` (see ``NAMES``)."""
    try:
        return NAMES[name.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"name: unknown divergence {name!r}; accepted: {sorted(NAMES)}") from None
