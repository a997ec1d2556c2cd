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
does not decay in the tails, mass of P where q = 0, or a non-integrable end-point singularity) returns ``inf`` with
``abserr = 0``; an integrand that is NaN anywhere raises ``ValueError``.

End-point singularities (1-D): where p or q is infinite at a break point (Beta with a < 1 or b < 1 at 0 or 1), the
local exponent α of |g(e ± r)| ≈ C r^−α is measured at r = δ, 16δ (δ = 4 ulp of e); α ≥ 0.999 is treated as a
divergent integral (inf); otherwise the adjacent cells are integrated in t with x = e ± L t^k, k = ⌈2/(1 − α)⌉ in
[2, 8] (so g·dx/dt ~ t^{k(1−α)−1} is bounded), and the part within δ of e, which float64 cannot resolve, is bounded
by the power-law remainder C δ^{1−α}/(1 − α) and added (twice) to ``abserr``.  This bound is what limits the
accuracy: for Beta(0.5, 0.5) about 1e-8·C at x = 1, for Beta(0.1, ·) about 1e-2 (1.5 % of its mass lies within
4.4e-16 of 1); the returned ``abserr`` says so.

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

from . import validate
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


def _cubature(f, edges: list[np.ndarray], atol: float, rtol: float, max_cells: int,
              unresolvable=None) -> tuple[float, float]:
    """Adaptive integral of vectorised ``f`` (points (..., d) → values (...)) over the grid of cells ``edges``.

    ``unresolvable(lo, hi)``, optional, marks cells that cannot be refined further (they span a few ulp next to an
    end-point singularity): they are accepted at once and their error estimate is added to the returned error
    without being charged to the tolerance budget of the other cells."""
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
        return _non_finite(parent, lo, hi)
    done_val, done_err, done_abs, forced_err = 0.0, 0.0, 0.0, 0.0
    while True:
        clo, chi = _split(lo, hi)
        cvals = _rule(f, clo, chi).reshape(len(lo), -1)
        if not np.all(np.isfinite(cvals)):
            return _non_finite(cvals.ravel(), clo, chi)
        csum = cvals.sum(1)
        err = np.abs(parent - csum)
        forced = unresolvable(lo, hi) if unresolvable is not None else np.zeros(len(lo), bool)
        total = done_val + csum.sum()
        total_err = done_err + err[~forced].sum()
        tol = max(atol, rtol * abs(total))
        if total_err <= tol or len(clo) > max_cells:
            if total_err > tol:
                warnings.warn(f"quadrature stopped at {len(clo)} cells with error {total_err:.2g} > tolerance "
                              f"{tol:.2g}; the returned abserr says so", RuntimeWarning, stacklevel=4)
            rounding = 50 * _EPS * (done_abs + np.abs(cvals).sum())
            return float(total), float(total_err + forced_err + err[forced].sum() + rounding)
        # accept the cells with the smallest errors while they use at most half of the remaining budget
        budget = max(tol - done_err, 0.0)
        order = np.argsort(np.where(forced, np.inf, err))
        accept = np.zeros(len(err), bool)
        accept[order[np.cumsum(np.where(forced, 0.0, err)[order]) <= 0.5 * budget]] = True
        accept &= ~forced
        forced_err += err[forced].sum()
        done_val += csum[forced].sum()
        done_abs += np.abs(cvals[forced]).sum()
        done_val += csum[accept].sum()
        done_err += err[accept].sum()
        done_abs += np.abs(cvals[accept]).sum()
        keep = np.repeat(~(accept | forced), 2**d)
        lo, hi = clo[keep], chi[keep]
        parent = cvals[~(accept | forced)].ravel()
        if len(lo) == 0:
            return float(done_val), float(done_err + forced_err + 50 * _EPS * done_abs)


class _NaNIntegrand(ValueError):
    """The integrand returned NaN (raised with the cell where it happened)."""


def _non_finite(vals: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[float, float]:
    """A rule gave a non-finite cell value: +inf (a divergent integral, e.g. mass of P where q = 0) gives (inf, 0);
    NaN or −inf raises :class:`_NaNIntegrand` naming the first such cell."""
    bad = ~np.isfinite(vals)
    if np.all(vals[bad] > 0):
        return math.inf, 0.0
    k = int(np.nonzero(bad & ~(vals > 0))[0][0])
    kind = "NaN" if math.isnan(vals[k]) else "-inf"
    raise _NaNIntegrand(f"the integrand is {kind} in the cell [{lo[k].tolist()}, {hi[k].tolist()}]")


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
    with np.errstate(invalid="ignore"):  # inf − inf at a common singular end point: no crossing there
        diff = p.pdf(x) - q.pdf(x)
    s = np.sign(diff)
    out = []
    for i in np.nonzero(s[:-1] * s[1:] < 0)[0]:
        try:
            out.append(optimize.brentq(lambda t: float(p.pdf(t) - q.pdf(t)), x[i], x[i + 1], xtol=1e-14))
        except ValueError:
            pass
        except RuntimeError:  # no convergence (scales far apart): the bracket's midpoint is a breakpoint hint too
            out.append(0.5 * (x[i] + x[i + 1]))
    return out


_MASS_LEVELS = np.array([1e-9, 1e-4, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1 - 1e-4, 1 - 1e-9])


def _mass_points(d: Density) -> tuple:
    """Quantiles of a 1-D density at ``_MASS_LEVELS`` (where its ``ppf`` is defined): initial break points that put
    every region holding mass into a cell of its own scale."""
    try:
        x = np.asarray(d.ppf(_MASS_LEVELS), dtype=float)
    except (NotImplementedError, ValueError, AttributeError, TypeError):
        return ()
    return tuple(float(v) for v in x[np.isfinite(x)])


def _integrate(g: Callable[[np.ndarray], np.ndarray], p: Density, q: Density, atol, rtol, kinks_at_crossings=True,
               max_cells: int | None = None, name: str = "integrand") -> Estimate:
    """∫ g(x) dx over R^d with g built from p and q; domain = union of both domains, grown while the tails matter.

    1-D end-point singularities (a point where p or q is infinite, e.g. Beta with a < 1): see :func:`_singular_ends`.
    A NaN (or −inf) value of the integrand raises ``ValueError`` naming ``name``.
    """
    _check_pair(p, q)
    raw = g

    def g(x):  # integrands treat ±inf and 0·log 0 explicitly; silence numpy's intermediate warnings
        with np.errstate(all="ignore"):
            return raw(x)

    d = p.dim
    atol = DEFAULT_ATOL[d] if atol is None else validate.positive("atol", atol)
    rtol = DEFAULT_RTOL if rtol is None else validate.real("rtol", rtol, minimum=0.0, maximum=1.0)
    max_cells = max_cells or (2_000_000 if d == 1 else 60_000)
    dom = [(min(a[0], b[0]), max(a[1], b[1])) for a, b in zip(p.domain(), q.domain())]
    bps = [tuple(p.breakpoints()[i]) + tuple(q.breakpoints()[i]) for i in range(d)]
    try:
        singular = _singular_points(g, dom[0], bps[0]) if d == 1 else []

        # tails: the integrand must be negligible on the boundary of the domain; grow it (×2) while it is not.
        tail_err = 0.0
        for _ in range(8):
            edge_vals = _boundary_values(g, dom, singular)
            width = math.prod(b - a for a, b in dom)
            if not np.all(np.isfinite(edge_vals)):
                _raise_if_nan(edge_vals, "at the boundary of the domain")
                return Estimate(math.inf, 0.0)
            bound = float(np.max(np.abs(edge_vals))) * width  # ≥ the mass of a decaying tail beyond the box
            if bound <= 1e-3 * atol:
                tail_err = bound
                break
            bigger = [((a + b) / 2 - (b - a), (a + b) / 2 + (b - a)) for a, b in dom]
            if float(np.max(np.abs(_boundary_values(g, bigger, singular)))) >= float(np.max(np.abs(edge_vals))):
                return Estimate(math.inf, 0.0)  # does not decay: a divergent integral
            dom = bigger
        else:
            return Estimate(math.inf, 0.0)

        extra = [()] * d
        if d == 1:
            # seed the mass of both densities: with far-apart narrow densities (normal(1e9,1) vs normal(0,1)) the
            # initial cells (1/16 of the domain) are ~1e8 wide and an estimate that misses the mass in a cell
            # understates its error (measured: error 1.1e8 against abserr 5e7 without these points)
            extra = [_mass_points(p) + _mass_points(q)]
        if d == 1 and kinks_at_crossings:
            extra = [extra[0] + tuple(_crossings(p, q, *dom[0]))]
        edges = [_edges_1d(dom[i][0], dom[i][1], bps[i], extra[i], pieces=16 if d == 1 else 8) for i in range(d)]
        end_err = 0.0
        f, unresolvable = g, None
        if singular:
            ends = _singular_ends(g, singular, dom[0])
            if ends is None:
                return Estimate(math.inf, 0.0)  # a non-integrable end-point singularity: the integral diverges
            f, edges[0], end_err, unresolvable = _substituted(g, edges[0], ends)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            val, err = _cubature(f, edges, atol=0.5 * atol, rtol=rtol, max_cells=max_cells, unresolvable=unresolvable)
    except _NaNIntegrand as exc:
        raise ValueError(f"{name}: {exc}, so the integral is undefined (p = {p.spec}, q = {q.spec})") from None
    if math.isinf(val):
        return Estimate(math.inf, 0.0)
    # floor: every integrand is computed from p and q with a relative rounding error of a few eps, and ∫(p + q) = 2
    return Estimate(val, err + tail_err + end_err + 64 * _EPS)


def _raise_if_nan(vals: np.ndarray, where: str) -> None:
    bad = ~np.isfinite(vals) & ~(vals > 0)
    if bad.any():
        raise _NaNIntegrand(f"the integrand is {'NaN' if np.isnan(vals[bad]).any() else '-inf'} {where}")


# ------------------------------------------------------------------------------------------ end-point singularities
_SING_PROBES = 4.0 ** np.arange(8)  # probe distances from a singular point, in units of its δ
_SING_MAX_ALPHA = 0.999  # a local exponent |g| ~ r^-α with α above this is treated as non-integrable


def _delta(e: float) -> float:
    """The closest distance from ``e`` at which the integrand is evaluated: 4 ulp of e (at least 1e-280)."""
    return max(4 * float(np.spacing(abs(e))), 1e-280)


def _singular_points(g, dom: tuple[float, float], bps) -> list[float]:
    """Break points and domain ends (1-D) at which the integrand is not finite (p or q infinite there, e.g. Beta
    with a < 1 at 0; or mass of P where q = 0 starts)."""
    lo, hi = dom
    cands = np.unique(np.asarray([lo, hi, *[b for b in bps if lo <= b <= hi]], dtype=np.float64))
    vals = g(cands[:, None])
    return [float(c) for c, v in zip(cands, vals) if not np.isfinite(v)]


def _singular_ends(g, singular, dom):
    """For each singular point e and each side, a power-law model |g(e ± r)| ≈ C r^−α fitted at r = δ and 16δ.

    Returns a list of ``(e, side, alpha, remainder)``; ``remainder`` = |g(e ± δ)|·δ/(1 − α) bounds ∫ |g| over the
    δ next to e that float64 cannot resolve (assuming the power law), or ``None`` when some side is non-integrable
    (g infinite next to e, or α ≥ 0.999): then the integral diverges.  NaN next to e raises.
    """
    out = []
    lo, hi = dom
    for e in singular:
        dl = _delta(e)
        for side in (-1, 1):
            if (side < 0 and e <= lo) or (side > 0 and e >= hi):
                continue
            r = dl * _SING_PROBES
            v = g((e + side * r)[:, None])
            if not np.all(np.isfinite(v)):
                _raise_if_nan(v, f"next to x = {e:g}")
                return None
            a = np.abs(v)
            if a[0] == 0 and a[2] == 0:
                out.append((e, side, 0.0, 0.0))
                continue
            alpha = -math.log(max(a[2], 1e-300) / max(a[0], 1e-300)) / math.log(_SING_PROBES[2])
            if alpha >= _SING_MAX_ALPHA:
                return None
            out.append((e, side, alpha, float(a[0]) * dl / (1 - max(alpha, 0.0))))
    return out


def _substituted(g, edges: np.ndarray, ends):
    """The integrand in a variable s with x = e ± L·((s − e)/L)^k on each cell of length L next to a singular point
    e (identity elsewhere; same cell edges in s as in x), so that g(x)·dx/ds ~ t^{k(1−α)−1} is bounded and smooth
    enough for Gauss–Legendre; nodes closer to e than δ are evaluated at e ± δ (the part of the integral within δ
    of e is the returned bound, twice the power-law remainder).  Returns ``(f, edges, end_err, unresolvable)``."""
    sing = sorted({e for e, *_ in ends})
    # edges hugging a singular point (a sign change of p − q found at the jump to inf) would leave a cell too narrow
    # for float64 next to it: drop them
    near = 1e-9 * (edges[-1] - edges[0])
    edges = np.asarray([x for x in edges if x in sing or all(abs(x - pt) > near for pt in sing)])
    # a cell with singular points at both ends is split in two
    e = list(edges)
    for a, b in zip(edges[:-1], edges[1:]):
        if a in sing and b in sing:
            e.append(0.5 * (a + b))
    edges = np.unique(np.asarray(e))
    maps = []  # (cell lo, cell hi, e, side of e the cell is on, k, δ)
    for (pt, side, alpha, _) in ends:
        i = int(np.searchsorted(edges, pt))
        if side > 0 and i + 1 < len(edges):
            a, b = edges[i], edges[i + 1]
        elif side < 0 and i >= 1:
            a, b = edges[i - 1], edges[i]
        else:
            continue
        k = int(min(8, max(2, math.ceil(2.0 / (1.0 - max(alpha, 0.0))))))
        maps.append((a, b, pt, side, k, _delta(pt)))
    end_err = 2.0 * sum(rem for *_, rem in ends)

    def f(xs):
        s_ = xs[..., 0]
        x = s_.copy()
        jac = np.ones_like(s_)
        for a, b, pt, side, k, dl in maps:
            m = (s_ > a) & (s_ < b)
            if not m.any():
                continue
            L = b - a
            t = (s_[m] - a) / L if side > 0 else (b - s_[m]) / L
            jac[m] = k * t ** (k - 1)
            x[m] = np.maximum(pt + L * t**k, pt + dl) if side > 0 else np.minimum(pt - L * t**k, pt - dl)
        return g(x[..., None]) * jac

    def unresolvable(lo, hi):
        # a cell next to e whose image in x spans less than 64 δ: float64 resolves nothing more inside it
        out = np.zeros(len(lo), bool)
        a_, b_ = lo[:, 0], hi[:, 0]
        for a, b, pt, side, k, dl in maps:
            m = (a_ >= a) & (b_ <= b)
            if not m.any():
                continue
            L = b - a
            t_near = (a_[m] - a) / L if side > 0 else (b - b_[m]) / L
            t_far = (b_[m] - a) / L if side > 0 else (b - a_[m]) / L
            out[m] = L * (t_far**k - t_near**k) < 64 * dl
        return out

    return f, edges, end_err, unresolvable


def _boundary_values(g, dom, singular=()) -> np.ndarray:
    if len(dom) == 1:
        (a, b), = dom
        # a singular end point is no tail: look just outside it
        a = a - _delta(a) if a in singular else a
        b = b + _delta(b) if b in singular else b
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
    if f_prime_inf is not None and not (isinstance(f_prime_inf, float) and f_prime_inf == math.inf):
        f_prime_inf = validate.real("f_prime_inf", f_prime_inf)  # a finite number, or +inf
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

    return _integrate(g, p, q, atol, rtol, name="f")


def integrate_pointwise(fn: Callable[[np.ndarray, np.ndarray], np.ndarray], p: Density, q: Density,
                        atol: float | None = None, rtol: float | None = None) -> Estimate:
    """∫ fn(p(x), q(x)) dx for a vectorised ``fn`` of the two density values (e.g. a lambdified sympy integrand)."""
    if not callable(fn):
        raise TypeError(f"fn: expected a callable fn(p, q), got {type(fn).__name__}")
    L = _logs(p, q)

    def g(x):
        lp, lq = L(x)
        return np.asarray(fn(np.exp(lp), np.exp(lq)), dtype=float) * np.ones_like(lp)

    return _integrate(g, p, q, atol, rtol, name="fn")


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
    if atol is not None:
        validate.positive("atol", atol)
    if rtol is not None:
        validate.real("rtol", rtol, minimum=0.0, maximum=1.0)
    if isinstance(grid, bool) or not (isinstance(grid, (int, np.integer)) and 8 <= grid <= 256):
        raise ValueError(f"grid: lattice size must be an integer in [8, 256], got {grid!r}")
    if isinstance(stencil, bool) or not (isinstance(stencil, (int, np.integer)) and 1 <= stencil <= 8):
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
