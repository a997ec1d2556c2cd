"""Target densities with vectorised ``pdf``, ``logpdf``, ``cdf`` (1-D), sampling and Lipschitz constants.

Conventions (THEORY.md §0, §5 Assumption 1):

* A 1-D density takes ``x`` of any shape ``(...)``; a 2-D density takes ``x`` of shape ``(..., 2)``; both return
  arrays of shape ``(...)`` in float64.
* ``sample(n, rng)`` returns ``(n,)`` in 1-D and ``(n, 2)`` in 2-D; ``rng`` is a ``numpy.random.Generator``
  (or an int seed).
* ``lipschitz_constant()`` is  sup_x ‖∇p(x)‖₂  (the Lipschitz constant of the density w.r.t. the Euclidean
  distance, which in 1-D is also the L1 distance).  ``lipschitz_exact`` says whether it is the exact supremum (a
  closed form) or a certified upper bound (mixtures: Σ wᵢ Lᵢ by the triangle inequality).  Densities that jump
  (``Uniform``, ``Beta`` with a < 2 or b < 2 other than smooth cases, a triangular with mode at an end point) are
  *not* Lipschitz: ``is_lipschitz`` is False and the constant is ``inf``.
* ``domain()`` is a box ``((lo, hi),)`` per dimension outside which the density (and every divergence integrand
  built from it) is negligible (for unbounded supports: ±``TAIL_SIGMAS`` standard deviations, where a Gaussian's
  pdf is below 1e-80 of its peak); ``breakpoints()`` lists, per dimension, points where the density has a kink or
  where its mass concentrates (used to seed adaptive quadrature).
"""

from __future__ import annotations

import itertools
import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import special

from . import validate
from .resources import check_memory

__all__ = [
    "Density", "Normal", "Normal2D", "Mixture", "Beta", "Triangular", "Uniform", "Ring", "Grid", "parse",
    "as_rng", "bisect_level", "IsotropicNormal",
]

TAIL_SIGMAS = 20.0  # exp(-20²/2) ≈ 1.4e-87 of the peak
_LOG_2PI = math.log(2 * math.pi)


def as_rng(rng) -> np.random.Generator:
    """A numpy Generator from a Generator, an int seed or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, (bool, np.bool_))):
        return np.random.default_rng(rng)
    raise TypeError(f"rng: expected a numpy.random.Generator or an int seed, got {type(rng).__name__}")


def bisect_level(f, level, lo, hi, iterations: int = 80) -> np.ndarray:
    """x in [lo, hi] with f(x) = level for a non-decreasing vectorised f, by bisection (arrays broadcast).

    After ``iterations`` halvings the bracket is (hi − lo)·2^−iterations wide; the midpoint is returned.  Used by
    :meth:`Density.ppf` and by the exact W1 of :mod:`lsgan_theory.metrics`.
    """
    iterations = validate.integer("iterations", iterations, minimum=1, maximum=2000)
    level = np.asarray(level, dtype=np.float64)
    lo = np.broadcast_to(np.asarray(lo, dtype=np.float64), level.shape).copy()
    hi = np.broadcast_to(np.asarray(hi, dtype=np.float64), level.shape).copy()
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        below = f(mid) < level
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


_SAMPLE_COPIES = 4  # arrays of the sample's size alive at once while sampling (mixtures: draw, gather, permute)


def _check_n(n, dim: int = 1) -> int:
    """The sample size ``n`` (an integer >= 0), refused before allocating when ``n × dim`` float64 values (times the
    copies a sampler holds at once) would not fit in memory."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n: the number of samples must be an integer >= 0, got {n!r}")
    check_memory(8.0 * _SAMPLE_COPIES * float(min(n, 10**30)) * dim, f"drawing {n} samples in dimension {dim}", "n")
    return int(n)


# A density's scale must be resolvable at its location in float64: the quadrature and the samplers work on x, whose
# spacing near |loc| is 2.2e-16·|loc|.  Below RESOLUTION·|loc| (≈ 4500 representable points per σ at the limit) the
# mass collapses onto a few floats and an integral silently misses it (found: kl(normal(1e17,1) || normal(0,1))
# returned 0 instead of 5e33).
RESOLUTION = 1e-12


# Absolute limits of every parameter (issue 30): locations and end points within ±MAGNITUDE, scales, widths, standard
# deviations, radii and spacings in [1/MAGNITUDE, MAGNITUDE], Beta shapes in SHAPE_RANGE.  Beyond them float64
# quadrature loses the density: a subnormal scale (normal(0,1e-320)) makes the peak 1/(σ√2π) overflow and the
# integrals return 0 instead of ≈ 736; a scale of 1e300 overflows the quadrature domain loc ± 40σ; beta(1e-3, 2) puts
# its mass below x = e^{-1000}.  Inside them every divergence agrees with its closed form (tests/test_bad_input_core.py).
MAGNITUDE = 1e100
SHAPE_RANGE = (1e-2, 1e8)


def _bounded(name: str, value, lo: float, hi: float) -> float:
    try:
        return validate.real(name, value, minimum=lo, maximum=hi)
    except ValueError as exc:
        raise ValueError(f"{exc} (beyond it the density is below float64 resolution or overflows: subnormal or "
                         f"near-overflow values make quadrature lose it)") from None


def _loc(name: str, value) -> float:
    """A location or end point: a finite real in [-MAGNITUDE, MAGNITUDE]."""
    return _bounded(name, value, -MAGNITUDE, MAGNITUDE)


def _scale(name: str, value) -> float:
    """A scale, width, standard deviation, radius or spacing: a finite real in [1/MAGNITUDE, MAGNITUDE]."""
    validate.positive(name, value)
    return _bounded(name, value, 1.0 / MAGNITUDE, MAGNITUDE)


def _check_resolvable(scale_name: str, scale: float, **at) -> None:
    big = max(abs(v) for v in at.values())
    if scale < RESOLUTION * big:
        where = ", ".join(f"{k}={v!r}" for k, v in at.items())
        raise ValueError(f"{scale_name}: {scale!r} is below the float64 resolution at {where} (need {scale_name} >= "
                         f"{RESOLUTION:g}·{big:.3g}); shift the densities towards 0")


class Density(ABC):
    """A probability density on R (dim 1) or R² (dim 2)."""

    dim: int = 1
    lipschitz_exact: bool = True
    is_lipschitz: bool = True

    # -- evaluation ---------------------------------------------------------------------------------------------
    def _x(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self.dim == 2 and (x.ndim == 0 or x.shape[-1] != 2):
            raise ValueError(f"x: a 2-D density needs points of shape (..., 2), got shape {x.shape}")
        if np.isnan(x).any():
            raise ValueError("x: contains NaN")
        return x

    @abstractmethod
    def logpdf(self, x) -> np.ndarray: ...

    def pdf(self, x) -> np.ndarray:
        return np.exp(self.logpdf(x))

    def cdf(self, x) -> np.ndarray:
        raise ValueError(f"cdf: only defined for 1-D densities; {self.spec} has dim {self.dim}")

    def ppf(self, u) -> np.ndarray:
        """Inverse CDF (quantile function) of a 1-D density: x with F(x) = u, u ∈ [0, 1], by bisection on the
        quadrature domain to ~1e-12 relative in x (80 halvings)."""
        if self.dim != 1:
            raise ValueError(f"ppf: only defined for 1-D densities; {self.spec} has dim {self.dim}")
        u = np.asarray(u, dtype=np.float64)
        if np.isnan(u).any() or (u < 0).any() or (u > 1).any():
            raise ValueError("u: probabilities must lie in [0, 1]")
        (lo, hi), = self.domain()
        return bisect_level(self.cdf, u, lo, hi)

    # -- sampling -----------------------------------------------------------------------------------------------
    @abstractmethod
    def sample(self, n: int, rng=None) -> np.ndarray: ...

    # -- geometry -----------------------------------------------------------------------------------------------
    @abstractmethod
    def lipschitz_constant(self) -> float: ...

    @abstractmethod
    def domain(self) -> tuple[tuple[float, float], ...]: ...

    def breakpoints(self) -> tuple[tuple[float, ...], ...]:
        return tuple(() for _ in range(self.dim))

    @property
    @abstractmethod
    def spec(self) -> str: ...

    def __repr__(self) -> str:
        return self.spec

    def __eq__(self, other) -> bool:
        return isinstance(other, Density) and other.spec == self.spec

    def __hash__(self) -> int:
        return hash(self.spec)


# ---------------------------------------------------------------------------------------------------- 1-D
@dataclass(frozen=True, eq=False)
class Normal(Density):
    """N(loc, scale²) on R.  Lipschitz constant (exact): max|p'| = e^{-1/2} / (√(2π) σ²), at x = loc ± σ."""

    loc: float = 0.0
    scale: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "loc", _loc("loc", self.loc))
        object.__setattr__(self, "scale", _scale("scale", self.scale))
        _check_resolvable("scale", self.scale, loc=self.loc)

    def logpdf(self, x):
        z = (self._x(x) - self.loc) / self.scale
        return -0.5 * z * z - math.log(self.scale) - 0.5 * _LOG_2PI

    def cdf(self, x):
        return special.ndtr((self._x(x) - self.loc) / self.scale)

    def sample(self, n, rng=None):
        return as_rng(rng).normal(self.loc, self.scale, size=_check_n(n))

    def lipschitz_constant(self):
        return math.exp(-0.5) / (math.sqrt(2 * math.pi) * self.scale**2)

    def domain(self):
        return ((self.loc - TAIL_SIGMAS * self.scale, self.loc + TAIL_SIGMAS * self.scale),)

    def breakpoints(self):
        s = self.scale
        return (tuple(self.loc + k * s for k in (-8, -4, -2, 0, 2, 4, 8)),)

    @property
    def spec(self):
        return f"normal({self.loc:g},{self.scale:g})"


@dataclass(frozen=True, eq=False)
class Uniform(Density):
    """U(lo, hi).  **Not Lipschitz** (the density jumps at lo and hi): ``lipschitz_constant()`` is inf."""

    lo: float = 0.0
    hi: float = 1.0
    is_lipschitz = False

    def __post_init__(self):
        lo, hi = _loc("lo", self.lo), _loc("hi", self.hi)
        if not hi > lo:
            raise ValueError(f"hi: must be > lo, got lo={lo!r}, hi={hi!r}")
        _scale("hi - lo", hi - lo)
        _check_resolvable("hi - lo", hi - lo, lo=lo, hi=hi)
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    def logpdf(self, x):
        x = self._x(x)
        inside = (x >= self.lo) & (x <= self.hi)
        return np.where(inside, -math.log(self.hi - self.lo), -np.inf)

    def cdf(self, x):
        return np.clip((self._x(x) - self.lo) / (self.hi - self.lo), 0.0, 1.0)

    def sample(self, n, rng=None):
        return as_rng(rng).uniform(self.lo, self.hi, size=_check_n(n))

    def lipschitz_constant(self):
        return math.inf

    def domain(self):
        return ((self.lo, self.hi),)

    def breakpoints(self):
        return ((self.lo, self.hi),)

    @property
    def spec(self):
        return f"uniform({self.lo:g},{self.hi:g})"


@dataclass(frozen=True, eq=False)
class Triangular(Density):
    """Triangular density on [lo, hi] with its peak 2/(hi − lo) at ``mode``.

    Lipschitz constant (exact): the larger slope, 2/((hi − lo)(mode − lo)) or 2/((hi − lo)(hi − mode)).
    With the mode at an end point the density jumps there and is not Lipschitz.
    """

    lo: float = -1.0
    mode: float = 0.0
    hi: float = 1.0

    def __post_init__(self):
        lo, mode, hi = _loc("lo", self.lo), _loc("mode", self.mode), _loc("hi", self.hi)
        if not (lo <= mode <= hi and hi > lo):
            raise ValueError(f"mode: need lo <= mode <= hi with lo < hi, got lo={lo!r}, mode={mode!r}, hi={hi!r}")
        _scale("hi - lo", hi - lo)
        _check_resolvable("hi - lo", hi - lo, lo=lo, hi=hi)
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "hi", hi)
        object.__setattr__(self, "is_lipschitz", lo < mode < hi)

    def pdf(self, x):
        x = self._x(x)
        lo, c, hi = self.lo, self.mode, self.hi
        h = 2.0 / (hi - lo)
        with np.errstate(divide="ignore", invalid="ignore"):
            left = h * (x - lo) / (c - lo) if c > lo else np.full_like(x, h)
            right = h * (hi - x) / (hi - c) if hi > c else np.full_like(x, h)
        out = np.where(x < c, left, right)
        return np.where((x >= lo) & (x <= hi), np.maximum(out, 0.0), 0.0)

    def logpdf(self, x):
        with np.errstate(divide="ignore"):
            return np.log(self.pdf(x))

    def cdf(self, x):
        x = self._x(x)
        lo, c, hi = self.lo, self.mode, self.hi
        with np.errstate(divide="ignore", invalid="ignore"):
            left = (x - lo) ** 2 / ((hi - lo) * (c - lo)) if c > lo else np.zeros_like(x)
            right = 1 - (hi - x) ** 2 / ((hi - lo) * (hi - c)) if hi > c else np.ones_like(x)
        out = np.where(x < c, left, right)
        return np.where(x <= lo, 0.0, np.where(x >= hi, 1.0, out))

    def sample(self, n, rng=None):
        return as_rng(rng).triangular(self.lo, self.mode, self.hi, size=_check_n(n))

    def lipschitz_constant(self):
        if not self.is_lipschitz:
            return math.inf
        w = self.hi - self.lo
        return max(2 / (w * (self.mode - self.lo)), 2 / (w * (self.hi - self.mode)))

    def domain(self):
        return ((self.lo, self.hi),)

    def breakpoints(self):
        return ((self.lo, self.mode, self.hi),)

    @property
    def spec(self):
        return f"triangular({self.lo:g},{self.mode:g},{self.hi:g})"


@dataclass(frozen=True, eq=False)
class Beta(Density):
    """Beta(a, b) on [0, 1].

    Lipschitz as a density on R (continuous at 0 and 1 with a bounded derivative) exactly when a ≥ 2 and b ≥ 2.
    The constant is exact: the maximum of |p'| over the inflection points (roots of the quadratic factor of p'')
    and the one-sided end-point slopes (non-zero only for a = 2 or b = 2).
    """

    a: float = 2.0
    b: float = 2.0

    def __post_init__(self):
        object.__setattr__(self, "a", _bounded("a", validate.positive("a", self.a), *SHAPE_RANGE))
        object.__setattr__(self, "b", _bounded("b", validate.positive("b", self.b), *SHAPE_RANGE))
        object.__setattr__(self, "is_lipschitz", self.a >= 2 and self.b >= 2)

    def logpdf(self, x):
        x = self._x(x)
        a, b = self.a, self.b
        inside = (x > 0) & (x < 1)
        xc = np.clip(x, 1e-300, 1 - 1e-16)
        with np.errstate(divide="ignore", invalid="ignore"):
            val = (a - 1) * np.log(xc) + (b - 1) * np.log1p(-xc) - special.betaln(a, b)
        # end points: p(0) = 0 when a > 1, 1/B when a == 1 (same for 1 and b)
        at0 = np.where(a > 1, -np.inf, np.where(a == 1, -special.betaln(a, b), np.inf))
        at1 = np.where(b > 1, -np.inf, np.where(b == 1, -special.betaln(a, b), np.inf))
        out = np.where(inside, val, -np.inf)
        out = np.where(x == 0, at0, out)
        return np.where(x == 1, at1, out)

    def cdf(self, x):
        return special.betainc(self.a, self.b, np.clip(self._x(x), 0.0, 1.0))

    def sample(self, n, rng=None):
        return as_rng(rng).beta(self.a, self.b, size=_check_n(n))

    def _dpdf(self, x):
        a, b = self.a, self.b
        x = np.asarray(x, dtype=float)
        return self.pdf(x) * ((a - 1) / x - (b - 1) / (1 - x))

    def lipschitz_constant(self):
        if not self.is_lipschitz:
            return math.inf
        a, b = self.a, self.b
        cands = []
        # p''(x) ∝ x^{a-3}(1-x)^{b-3} [(a-1)(a-2)(1-x)² − 2(a-1)(b-1)x(1-x) + (b-1)(b-2)x²]
        A, B, C = (a - 1) * (a - 2), (a - 1) * (b - 1), (b - 1) * (b - 2)
        # expand in x: A(1 − 2x + x²) − 2B(x − x²) + C x²
        roots = np.roots([A + 2 * B + C, -2 * A - 2 * B, A])
        for r in roots:
            if abs(r.imag) < 1e-12 and 0 < r.real < 1:
                cands.append(abs(float(self._dpdf(r.real))))
        inv_b = math.exp(-special.betaln(a, b))
        cands.append(inv_b if a == 2 else 0.0)  # one-sided slope at 0: x^{a-2} → 1 iff a == 2
        cands.append(inv_b if b == 2 else 0.0)
        return max(cands)

    def domain(self):
        return ((0.0, 1.0),)

    def breakpoints(self):
        m = (self.a - 1) / (self.a + self.b - 2) if self.a + self.b > 2 else 0.5
        return ((0.0, float(np.clip(m, 0, 1)), 1.0),)

    @property
    def spec(self):
        return f"beta({self.a:g},{self.b:g})"


# ---------------------------------------------------------------------------------------------------- 2-D
@dataclass(frozen=True, eq=False)
class Normal2D(Density):
    """Isotropic N(loc, scale² I) on R².  Lipschitz constant (exact): sup‖∇p‖ = e^{-1/2} / (2π σ³), at ‖x − loc‖ = σ."""

    loc: tuple = (0.0, 0.0)
    scale: float = 1.0
    dim = 2

    def __post_init__(self):
        loc = tuple(self.loc) if np.ndim(self.loc) else None
        if loc is None or len(loc) != 2:
            raise ValueError(f"loc: a 2-D normal needs a location of length 2, got {self.loc!r}")
        object.__setattr__(self, "loc", (_loc("loc[0]", loc[0]), _loc("loc[1]", loc[1])))
        object.__setattr__(self, "scale", _scale("scale", self.scale))
        _check_resolvable("scale", self.scale, **{"loc[0]": self.loc[0], "loc[1]": self.loc[1]})

    def logpdf(self, x):
        d = (self._x(x) - np.asarray(self.loc)) / self.scale
        return -0.5 * np.sum(d * d, axis=-1) - 2 * math.log(self.scale) - _LOG_2PI

    def sample(self, n, rng=None):
        return as_rng(rng).normal(self.loc, self.scale, size=(_check_n(n, 2), 2))

    def lipschitz_constant(self):
        return math.exp(-0.5) / (2 * math.pi * self.scale**3)

    def domain(self):
        return tuple((c - TAIL_SIGMAS * self.scale, c + TAIL_SIGMAS * self.scale) for c in self.loc)

    def breakpoints(self):
        return tuple(tuple(c + k * self.scale for k in (-4, 0, 4)) for c in self.loc)

    @property
    def spec(self):
        return f"normal2d({self.loc[0]:g},{self.loc[1]:g},{self.scale:g})"


# ---------------------------------------------------------------------------------------------------- mixtures
class Mixture(Density):
    """Σ wₖ pₖ of components of equal dimension (1-D or 2-D).

    Lipschitz constant: the certified upper bound Σ wₖ Lₖ (triangle inequality); exact for one component.
    """

    def __init__(self, components: Sequence[Density], weights: Sequence[float] | None = None):
        comps = list(components)
        if not comps:
            raise ValueError("components: a mixture needs at least one component")
        for c in comps:
            if not isinstance(c, Density):
                raise TypeError(f"components: expected Density objects, got {type(c).__name__}")
        dims = {c.dim for c in comps}
        if len(dims) != 1:
            raise ValueError(f"components: all components must have the same dimension, got dims {sorted(dims)}")
        if weights is None:
            weights = [1.0 / len(comps)] * len(comps)
        w = np.asarray(weights, dtype=float)
        if w.shape != (len(comps),):
            raise ValueError(f"weights: need one weight per component ({len(comps)}), got {len(w)}")
        if np.isnan(w).any() or (w < 0).any():
            raise ValueError(f"weights: must be non-negative numbers, got {list(weights)}")
        with np.errstate(over="ignore"):  # weights near 1e308: their sum is inf, refused below without a warning
            total = float(w.sum())
        if not abs(total - 1.0) <= 1e-9:
            raise ValueError(f"weights: must sum to 1 (within 1e-9), got sum {total!r}")
        self.components = tuple(comps)
        self.weights = w / w.sum()
        self.dim = comps[0].dim
        self.is_lipschitz = all(c.is_lipschitz for c in comps)
        self.lipschitz_exact = len(comps) == 1 and comps[0].lipschitz_exact

    def logpdf(self, x):
        x = self._x(x)
        with np.errstate(divide="ignore"):
            terms = [np.log(w) + c.logpdf(x) for w, c in zip(self.weights, self.components) if w > 0]
        return special.logsumexp(np.stack(terms), axis=0)

    def cdf(self, x):
        if self.dim != 1:
            return super().cdf(x)
        return sum(w * c.cdf(x) for w, c in zip(self.weights, self.components))

    def sample(self, n, rng=None):
        rng = as_rng(rng)
        n = _check_n(n, self.dim)
        counts = rng.multinomial(n, self.weights)
        parts = [c.sample(k, rng) for c, k in zip(self.components, counts)]
        out = np.concatenate(parts, axis=0)
        return out[rng.permutation(n)]

    def lipschitz_constant(self):
        return float(sum(w * c.lipschitz_constant() for w, c in zip(self.weights, self.components) if w > 0))

    def domain(self):
        doms = [c.domain() for c in self.components]
        return tuple((min(d[i][0] for d in doms), max(d[i][1] for d in doms)) for i in range(self.dim))

    def breakpoints(self):
        return tuple(tuple(sorted({b for c in self.components for b in c.breakpoints()[i]})) for i in range(self.dim))

    @property
    def spec(self):
        return ("mixture(" + ",".join(c.spec for c in self.components) + ";"
                + ",".join(f"{w:g}" for w in self.weights) + ")")


class _GaussianModes(Mixture):
    """Equal-weight mixture of isotropic 2-D Gaussians at ``centres`` with common ``std``."""

    def __init__(self, centres: np.ndarray, std: float):
        std = _scale("std", std)
        self.centres = np.asarray(centres, dtype=float)
        self.std = std
        super().__init__([Normal2D(tuple(c), std) for c in self.centres])

    def logpdf(self, x):  # vectorised over modes (faster than the generic mixture for many modes)
        x = self._x(x)
        K = len(self.centres)
        flat = x.reshape(-1, 2)
        out = np.empty(flat.shape[0])
        step = max(1, _LOGPDF_CHUNK // K)  # points per chunk: the (points, K, 2) difference array stays bounded
        for s in range(0, flat.shape[0], step):
            d2 = np.sum((flat[s:s + step, None, :] - self.centres) ** 2, axis=-1) / self.std**2
            out[s:s + step] = special.logsumexp(-0.5 * d2, axis=-1)
        return (out - math.log(K) - 2 * math.log(self.std) - _LOG_2PI).reshape(x.shape[:-1])

    def sample(self, n, rng=None):
        rng = as_rng(rng)
        n = _check_n(n, 2)
        idx = rng.integers(len(self.centres), size=n)
        return self.centres[idx] + self.std * rng.standard_normal((n, 2))


_LOGPDF_CHUNK = 2**20  # (point, mode) pairs per chunk of _GaussianModes.logpdf: 16 MiB per work array
_BYTES_PER_MODE = 400  # a Normal2D component object, its centre and weight (measured ≈ 265 B with tracemalloc)


_MAX_MODES = 100_000  # every evaluation costs O(modes) per point: beyond this a divergence would run for hours


def _check_modes(k: float, argument: str) -> None:
    check_memory(_BYTES_PER_MODE * float(k), f"a mixture of {k:.4g} Gaussian modes", argument)
    if k > _MAX_MODES:
        raise ValueError(f"{argument}: {k:.4g} modes, more than the limit {_MAX_MODES} (each density evaluation "
                         "costs one Gaussian per mode)")


class Ring(_GaussianModes):
    """``k`` Gaussian modes of std ``std`` on a circle of ``radius``, centres at angles 2πj/k (j = 0..k−1).

    (The official LSGAN code uses linspace(0, 2π, 9), which duplicates a mode; this class does not.)
    """

    def __init__(self, k: int = 8, radius: float = 1.0, std: float = 0.01):
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k: the number of modes must be an integer >= 1, got {k!r}")
        radius = _scale("radius", radius)
        _scale("std", std)
        _check_modes(float(min(k, 10**30)), "k")
        ang = 2 * np.pi * np.arange(k) / k
        self.k, self.radius = int(k), radius
        super().__init__(radius * np.stack([np.cos(ang), np.sin(ang)], axis=1), std)

    @property
    def spec(self):
        return f"ring({self.k},{self.radius:g},{self.std:g})"


class Grid(_GaussianModes):
    """``n × n`` Gaussian modes of std ``std`` at {−(n−1)/2, …, (n−1)/2}·spacing in each coordinate.

    The default is PacGAN's 25-mode grid at {−4, −2, 0, 2, 4}² with σ = 0.05.
    """

    def __init__(self, n: int = 5, spacing: float = 2.0, std: float = 0.05):
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n: modes per side must be an integer >= 1, got {n!r}")
        spacing = _scale("spacing", spacing)
        _scale("std", std)
        _check_modes(float(min(n, 10**30)) ** 2, "n")
        g = (np.arange(n) - (n - 1) / 2) * spacing
        self.n, self.spacing = int(n), spacing
        super().__init__(np.array([(a, b) for a in g for b in g]), std)

    @property
    def spec(self):
        return f"grid({self.n},{self.spacing:g},{self.std:g})"


# ---------------------------------------------------------------------------------------------------- parse
class IsotropicNormal:
    """N(loc, scale² I) in any dimension d ≥ 1, with the interface the population LP needs (``dim``, ``pdf``,
    ``sample``, ``domain``, ``spec``).  Not a :class:`Density` subclass (those are 1-D and 2-D with the full
    interface); the d = 3 generalisation study uses it."""

    def __init__(self, loc, scale=1.0):
        self.loc = np.asarray(loc, dtype=np.float64).reshape(-1)
        if self.loc.size < 1 or not np.all(np.isfinite(self.loc)) or np.abs(self.loc).max() > MAGNITUDE:
            raise ValueError(f"loc: a finite location vector with entries in [-{MAGNITUDE:g}, {MAGNITUDE:g}] is "
                             f"required, got {loc!r}")
        self.scale = _scale("scale", scale)
        self.dim = self.loc.size

    def pdf(self, x):
        x = np.asarray(x, dtype=np.float64)
        if self.dim == 1 and (x.ndim == 0 or x.shape[-1] != 1):
            x = x[..., None]  # 1-D points may come as shape (k,)
        if x.shape[-1] != self.dim:
            raise ValueError(f"x: points of shape (..., {self.dim}) required, got shape {x.shape}")
        z = (x - self.loc) / self.scale
        return np.exp(-0.5 * np.sum(z * z, axis=-1)) / (2 * np.pi * self.scale**2) ** (self.dim / 2)

    def sample(self, n, rng=None):
        return as_rng(rng).normal(self.loc, self.scale, size=(_check_n(n, self.dim), self.dim))

    def domain(self):
        return tuple((c - 20 * self.scale, c + 20 * self.scale) for c in self.loc)

    @property
    def spec(self):
        return f"normal{self.dim}d(({','.join(f'{c:g}' for c in self.loc)}),{self.scale:g})"


_CONSTRUCTORS = {
    "normal": Normal, "gaussian": Normal, "n": Normal, "normal2d": None, "beta": Beta, "triangular": Triangular,
    "uniform": Uniform, "ring": Ring, "grid": Grid, "mixture": None,
}


def _split_top(s: str, sep: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


_SPEC_LENGTH = 10_000  # characters of a spec string
_SPEC_DEPTH = 20  # nesting of parentheses (mixtures of mixtures)


def parse(spec: str) -> Density:
    """Build a density from a spec string.

    Grammar: ``normal(loc,scale)``, ``normal2d(x,y,scale)``, ``beta(a,b)``, ``triangular(lo,mode,hi)``,
    ``uniform(lo,hi)``, ``ring(k,radius,std)``, ``grid(n,spacing,std)`` (trailing arguments optional for ring/grid),
    ``mixture(c1,c2,...;w1,w2,...)`` (weights optional: equal).  Example:
    ``parse("mixture(normal(-2,0.5),normal(1,0.8);0.3,0.7)")``.
    """
    if not isinstance(spec, str):
        raise TypeError(f"spec: expected a string, got {type(spec).__name__}")
    if len(spec) > _SPEC_LENGTH:
        raise ValueError(f"spec: {len(spec)} characters, more than the limit {_SPEC_LENGTH}")
    depth = max(itertools.accumulate((ch == "(") - (ch == ")") for ch in spec), default=0)
    if depth > _SPEC_DEPTH:
        raise ValueError(f"spec: nested {depth} levels deep, more than the limit {_SPEC_DEPTH}")
    s = spec.replace(" ", "").lower()
    m = re.fullmatch(r"([a-z0-9_]+)\((.*)\)", s)
    if not m or m.group(1) not in _CONSTRUCTORS:
        raise ValueError(f"spec: cannot parse {spec!r}; expected one of {sorted(k for k in _CONSTRUCTORS if len(k) > 1)}"
                         " like 'normal(0,1)' or 'mixture(normal(-2,0.5),normal(1,0.8);0.3,0.7)'")
    name, body = m.group(1), m.group(2)
    if name == "mixture":
        parts = _split_top(body, ";")
        if len(parts) > 2:
            raise ValueError(f"spec: a mixture has at most one ';' (components;weights), got {spec!r}")
        comps = [parse(c) for c in _split_top(parts[0], ",") if c]
        weights = None
        if len(parts) == 2:
            weights = [_num(w, spec) for w in parts[1].split(",")]
        return Mixture(comps, weights)
    args = [_num(a, spec) for a in body.split(",")] if body else []
    try:
        if name == "normal2d":
            if len(args) != 3:
                raise ValueError(f"spec: normal2d takes (x, y, scale), got {spec!r}")
            return Normal2D((args[0], args[1]), args[2])
        if name in ("ring", "grid"):
            if args:
                args[0] = int(args[0]) if float(args[0]).is_integer() else args[0]
        return _CONSTRUCTORS[name](*args)
    except TypeError as exc:
        raise ValueError(f"spec: wrong number of arguments in {spec!r} ({exc})") from None


def _num(tok: str, spec: str) -> float:
    try:
        return float(tok)
    except ValueError:
        raise ValueError(f"spec: {tok!r} is not a number in {spec!r}") from None
