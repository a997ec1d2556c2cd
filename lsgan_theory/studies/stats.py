"""Interval estimates over independent seeds, written once for every study and claim.

* :func:`t_interval` -- Student-t interval of a mean (NaN dropped; ±inf for n < 2).
* :func:`wilson_interval` -- Wilson's score interval of a binomial proportion (E. B. Wilson 1927).
* :func:`welch` -- the Welch difference of two means: (difference, standard error, Welch–Satterthwaite dof).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["t_interval", "wilson_interval", "welch"]


def _finite(values) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    return v[np.isfinite(v)]


def t_interval(values, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, lo, hi): the Student-t interval of the mean over independent replicates (NaN dropped; (m, −inf, inf)
    for one value, NaNs for none)."""
    from scipy import stats

    v = _finite(values)
    if v.size == 0:
        return math.nan, math.nan, math.nan
    m = float(v.mean())
    if v.size < 2:
        return m, -math.inf, math.inf
    half = float(stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
    return m, m - half, m + half


def wilson_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float, float]:
    """(k/n, lo, hi): Wilson's score interval for a binomial proportion ((nan, 0, 1) for n = 0)."""
    from scipy import stats

    if n == 0:
        return math.nan, 0.0, 1.0
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return p, max(0.0, mid - half), min(1.0, mid + half)


def welch(a, b) -> tuple[float, float, float]:
    """(mean(a) − mean(b), SE, dof) for independent samples (NaN dropped): SE² = s_a²/n_a + s_b²/n_b and the
    Welch–Satterthwaite degrees of freedom.  SE = NaN with fewer than 2 values on a side; dof = n_a + n_b − 2 when
    SE = 0; the difference is NaN when a side is empty."""
    a, b = _finite(a), _finite(b)
    if a.size == 0 or b.size == 0:
        return math.nan, math.nan, math.nan
    d = float(a.mean() - b.mean())
    if a.size < 2 or b.size < 2:
        return d, math.nan, math.nan
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    if se == 0:
        return d, 0.0, float(a.size + b.size - 2)
    return d, se, (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
