"""Interval estimates over independent seeds, written once for every study and claim.

* :func:`t_interval` -- Student-t interval of a mean (NaN dropped; a NaN interval for n < 2), and
  :func:`t_half_width`, its half-width: the one implementation every study, claim and sweep table uses.
* :func:`wilson_interval` -- Wilson's score interval of a binomial proportion (E. B. Wilson 1927).
* :func:`welch_test` -- Welch's t-test and interval of a difference of two means (``scipy.stats.ttest_ind``),
  with its answers for samples too small for scipy stated.
* :func:`t_relevel` -- the same Student-t interval at another level, from its mean, ends and number of values.
* :func:`percentile_bootstrap` -- the one bootstrap of the package (``scipy.stats.bootstrap``, percentile
  method): resampling within independent samples, or jointly over paired ones.
* :func:`spearman_bootstrap` -- Spearman's ρ between a level (e.g. λ) and replicated measurements, with a percentile
  bootstrap interval over the replicates (resampled within each level, or as (level, value) pairs).
* :func:`fit_power` -- the log-log slope of a mean against x with a bootstrap interval over seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["t_interval", "t_half_width", "t_relevel", "wilson_interval", "Welch", "welch_test", "percentile_bootstrap",
           "spearman_bootstrap", "spearman_rows", "PowerFit", "fit_power"]


def _finite(values) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    return v[np.isfinite(v)]


def t_half_width(values, level: float = 0.95) -> tuple[float, float]:
    """(mean, half-width) of the two-sided ``level`` Student-t interval of the mean over independent replicates.

    half-width = t_{(1+level)/2, n−1} · s / √n, with s the sample standard deviation (ddof = 1) of the n values
    left after dropping NaN (NaN = a missing or diverged replicate).  Small n: n = 0 gives (NaN, NaN); n = 1 gives
    (the value, NaN) -- with no spread to estimate there is no interval (as ``scipy.stats.ttest_1samp``).  An
    infinite value is kept: the mean is then ±inf (or NaN) and the half-width NaN.  ``ValueError`` unless
    0 < level < 1.
    """
    from scipy import stats

    if not 0 < level < 1:
        raise ValueError(f"level: must be in (0, 1), got {level!r}")
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[~np.isnan(v)]
    n = v.size
    if n == 0:
        return math.nan, math.nan
    m = float(v.mean())
    if n < 2:
        return m, math.nan
    with np.errstate(invalid="ignore"):  # an infinite value: s = NaN
        return m, float(stats.t.ppf((1 + level) / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))


def t_interval(values, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, lo, hi): the two-sided ``level`` Student-t interval of the mean over independent replicates, mean ∓
    :func:`t_half_width` (NaN dropped; (NaN, NaN, NaN) for no value, (m, NaN, NaN) for one)."""
    m, h = t_half_width(values, level)
    return m, m - h, m + h


def t_relevel(mean: float, ci, n: int, level: float, from_level: float = 0.95) -> tuple[float, float]:
    """(lo, hi): the two-sided ``level`` Student-t interval of a mean over ``n`` replicates, from the same interval
    at ``from_level`` (mean ∓ h): SE = h / t_{(1+from_level)/2, n−1}, then mean ∓ t_{(1+level)/2, n−1} · SE (e.g. a
    Bonferroni level 1 − 0.05/k from a stored 95 % interval).  ``ci`` is returned unchanged when ``level`` equals
    ``from_level``, an end is not finite, or n < 2 (no interval to rescale).  ``ValueError`` unless both levels lie
    in (0, 1)."""
    from scipy import stats

    for name, v in (("level", level), ("from_level", from_level)):
        if not 0 < v < 1:
            raise ValueError(f"{name}: must be in (0, 1), got {v!r}")
    lo, hi = ci
    if level == from_level or not (math.isfinite(lo) and math.isfinite(hi)) or n < 2:
        return lo, hi
    se = (hi - lo) / 2 / float(stats.t.ppf((1 + from_level) / 2, n - 1))
    h = float(stats.t.ppf((1 + level) / 2, n - 1)) * se
    return mean - h, mean + h


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


@dataclass(frozen=True)
class Welch:
    """Welch's test of mean(a) − mean(b): ``difference``, its standard error ``se`` = √(s_a²/n_a + s_b²/n_b), the
    Welch–Satterthwaite ``dof``, ``statistic`` t = difference / se, the two-sided ``pvalue``, the interval
    [``lo``, ``hi``] at the requested ``level``, and the numbers of finite values ``n_a``, ``n_b``.  ``critical``:
    the two-sided critical value t_{(1+level)/2, dof} (|statistic| > critical ⇔ the interval excludes 0)."""

    difference: float
    se: float
    dof: float
    statistic: float
    pvalue: float
    lo: float
    hi: float
    n_a: int
    n_b: int
    level: float = 0.95

    @property
    def critical(self) -> float:
        """t_{(1+level)/2, dof}; where ``dof`` is NaN (a side with one value) its dof → ∞ limit, the normal
        quantile z_{(1+level)/2}, so that a threshold is always a number."""
        from scipy import stats

        q = (1 + self.level) / 2
        return float(stats.t.ppf(q, self.dof)) if math.isfinite(self.dof) else float(stats.norm.ppf(q))


def welch_test(a, b, level: float = 0.95) -> Welch:
    """Welch's unequal-variance t-test and two-sided ``level`` interval of mean(a) − mean(b) for independent samples:
    ``scipy.stats.ttest_ind(a, b, equal_var=False)`` and its ``confidence_interval(level)``, after dropping the
    non-finite values (NaN = a missing or diverged replicate).  The one Welch implementation of the package.

    Small samples, where scipy would warn and return NaN, are answered as follows:

    * a side with no finite value: every field NaN;
    * a side with one value (no spread to estimate): the difference, NaN ``se``/``dof``/``statistic``/``pvalue``,
      and the interval (−inf, inf) -- every difference is compatible with the data;
    * no spread on either side (se = 0): ``dof`` = n_a + n_b − 2, t = 0 and p = 1 when the means agree, else t =
      ±inf and p = 0, and the zero-width interval [d, d].

    ``ValueError`` unless 0 < level < 1.
    """
    from scipy import stats

    if not 0 < level < 1:
        raise ValueError(f"level: must be in (0, 1), got {level!r}")
    a, b = _finite(a), _finite(b)
    na, nb, nan = a.size, b.size, math.nan
    if na == 0 or nb == 0:
        return Welch(nan, nan, nan, nan, nan, nan, nan, na, nb, level)
    d = float(a.mean() - b.mean())
    if na < 2 or nb < 2:
        return Welch(d, nan, nan, nan, nan, -math.inf, math.inf, na, nb, level)
    se = math.sqrt(a.var(ddof=1) / na + b.var(ddof=1) / nb)
    if se == 0:
        t, p = (0.0, 1.0) if d == 0 else (math.copysign(math.inf, d), 0.0)
        return Welch(d, 0.0, float(na + nb - 2), t, p, d, d, na, nb, level)
    res = stats.ttest_ind(a, b, equal_var=False)
    ci = res.confidence_interval(level)
    return Welch(d, se, float(res.df), float(res.statistic), float(res.pvalue), float(ci.low), float(ci.high), na, nb,
                 level)


def spearman_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman's ρ between ``x`` and ``y`` along their last axis: ``x`` (N,) against each row of ``y`` (B, N), or
    any two arrays (..., N) that broadcast (row by row).  Pearson's correlation of the average ranks (ties share
    their mean rank, as in ``scipy.stats.spearmanr``); NaN where a row is constant."""
    from scipy.stats import rankdata

    rx = rankdata(x, axis=-1)
    ry = rankdata(y, axis=-1)
    rx = rx - rx.mean(axis=-1, keepdims=True)
    ry = ry - ry.mean(axis=-1, keepdims=True)
    den = np.sqrt((rx * rx).sum(axis=-1) * (ry * ry).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (ry * rx).sum(axis=-1) / den, math.nan)


def _check_boot(n_boot, level) -> None:
    if not isinstance(n_boot, (int, np.integer)) or isinstance(n_boot, bool) or n_boot < 1:
        raise ValueError(f"n_boot: must be an integer >= 1, got {n_boot!r}")
    if not 0 < level < 1:
        raise ValueError(f"level: must be in (0, 1), got {level!r}")


def percentile_bootstrap(samples, statistic, *, paired: bool = False, n_boot: int = 2000, seed=0,
                         level: float = 0.95) -> tuple[float, tuple[float, float]]:
    """(statistic(*samples), (lo, hi)): a statistic and its two-sided ``level`` percentile bootstrap interval -- the
    one bootstrap of the package, drawn by ``scipy.stats.bootstrap(method="percentile")``.

    ``samples``: a sequence of 1-D arrays; ``statistic(*samples)`` must be vectorised over leading axes (each
    sample arrives as (..., size), the answer has shape (...)).  The resampling scheme follows the data:

    * ``paired=False`` (stratified): each sample is resampled with replacement within itself, at its own size --
      independent groups whose design is fixed (the replicates at each level of λ or n, the two quartiles of a
      ratio).  A sample of size ≤ 1 is kept as it is (resampling it could only return it; scipy refuses it).
    * ``paired=True``: the samples have one length and every resample draws one set of indices for all of them --
      the unit is the index (a point with its (distance, value) pair).

    Resamples whose statistic is not finite (undefined, e.g. ρ of constant values) are left out of the 100·(1 −
    level)/2 and 100·(1 + level)/2 percentiles (``numpy.quantile``, linear); none left gives (NaN, NaN).
    ``seed``: anything ``numpy.random.default_rng`` takes (an int, a sequence, a Generator, which is advanced).
    ``ValueError`` for n_boot < 1, level ∉ (0, 1) or paired samples of different lengths.
    """
    from scipy import stats

    _check_boot(n_boot, level)
    samples = [np.asarray(v, dtype=np.float64).ravel() for v in samples]
    if paired and len({v.size for v in samples}) > 1:
        raise ValueError(f"samples: paired samples need one length, got {[v.size for v in samples]}")
    with np.errstate(all="ignore"):
        est = float(statistic(*samples))
    free = [i for i, v in enumerate(samples) if v.size >= 2]
    rng = np.random.default_rng(seed)
    if not free:  # nothing to resample: every resample is the data
        dist = np.full(1, est)
    else:
        def stat(*drawn, axis=-1):
            args = list(samples)
            for i, d in zip(free, drawn):
                args[i] = d
            shape = np.broadcast_shapes(*[d.shape[:-1] for d in drawn])
            args = [a if i in free else np.broadcast_to(a, shape + a.shape) for i, a in enumerate(args)]
            return statistic(*args)

        import warnings

        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # undefined resamples: left out below
            res = stats.bootstrap([samples[i] for i in free], stat, n_resamples=n_boot, paired=paired,
                                  vectorized=True, method="percentile", confidence_level=level, rng=rng)
        dist = np.asarray(res.bootstrap_distribution, dtype=np.float64).ravel()
    dist = dist[np.isfinite(dist)]
    a = (1.0 - level) / 2.0
    ci = (float(np.quantile(dist, a)), float(np.quantile(dist, 1.0 - a))) if dist.size else (math.nan, math.nan)
    return est, ci


def spearman_bootstrap(levels, values, n_boot: int = 2000, seed=0, level: float = 0.95, *,
                       resample: str = "within") -> tuple[float, tuple[float, float]]:
    """(ρ, (lo, hi)): Spearman's ρ between the level and the measurement over every finite (level, value) pair, and
    its percentile bootstrap interval at two-sided ``level`` (default 95 %) by :func:`percentile_bootstrap`.

    ``levels`` (L,) and ``values`` (L, S): row i holds the S values measured at ``levels[i]``; non-finite entries
    (NaN = missing or diverged) are dropped *before* resampling.  ``resample`` names what is random:

    * ``"within"`` (default): the levels are a fixed design (λ chosen by the study) and the replicates (seeds) are
      the randomness: each resample draws, within each level, as many replicates (with replacement) as that level
      has finite values (a stratified bootstrap);
    * ``"pairs"``: every (level, value) pair is one random unit -- both coordinates are measured (a generated point's
      distance to the data and its active-pair fraction, ``values`` of shape (L, 1)): the pairs are resampled
      jointly.

    Resamples whose ρ is undefined (all drawn values equal) are left out of the percentiles.  ``seed``: anything
    ``numpy.random.default_rng`` takes.  Returns (NaN, (NaN, NaN)) with at most 2 finite pairs or a single level,
    and a NaN interval when no resample has a ρ.
    """
    if resample not in ("within", "pairs"):
        raise ValueError(f"resample: must be 'within' or 'pairs', got {resample!r}")
    _check_boot(n_boot, level)
    levels = np.asarray(levels, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] != levels.size:
        raise ValueError(f"values: expected shape (len(levels), replicates) = ({levels.size}, ·), got {values.shape}")
    vals = [row[np.isfinite(row)] for row in values]
    x = np.concatenate([np.full(v.size, lev) for v, lev in zip(vals, levels)])
    y = np.concatenate(vals)
    if y.size <= 2 or np.ptp(x) == 0:
        return math.nan, (math.nan, math.nan)
    if resample == "pairs":
        return percentile_bootstrap([x, y], spearman_rows, paired=True, n_boot=n_boot, seed=seed, level=level)
    groups = [v for v in vals if v.size]
    return percentile_bootstrap(groups, lambda *g: spearman_rows(x, np.concatenate(g, axis=-1)), n_boot=n_boot,
                                seed=seed, level=level)


@dataclass
class PowerFit:
    """Least-squares slope of log(mean y) on log x, with a percentile bootstrap interval over seeds."""

    slope: float
    ci: tuple
    intercept: float
    x: np.ndarray = field(repr=False)
    mean: np.ndarray = field(repr=False)
    n_boot: int = 0


def fit_power(x, y, *, n_boot: int = 2000, seed=0, offset: float = 0.0, level: float = 0.95) -> PowerFit:
    """Fit mean_s y[i, s] ≈ c · x_i^slope: the least-squares slope of log(mean over seeds of y + ``offset``) on log x.

    ``y`` (n_x, seeds), NaN = missing (a diverged run; dropped).  The interval is :func:`percentile_bootstrap`'s
    stratified scheme: the finite seeds of each x are resampled with replacement, independently per x (the runs at
    different x are independent -- their own random streams), two-sided ``level`` (e.g. 1 − 0.05/k for a Bonferroni
    family of k intervals); a resample with a mean (+ offset) ≤ 0 has no slope and is left out.  ``offset`` shifts
    every mean (used to carry an error of a reference value).  ``seed``: anything ``numpy.random.default_rng``
    takes.  A mean ≤ 0 (or no finite value at some x) has no logarithm: ``ValueError``.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 2 or y.shape[0] != x.size or x.size < 2:
        raise ValueError(f"y: expected shape (len(x) >= 2, seeds), got {y.shape} for {x.size} x values")
    if not np.all(x > 0):
        raise ValueError(f"x: every value must be > 0 (log-log fit), got {x.tolist()}")
    _check_boot(n_boot, level)
    rows = [r[np.isfinite(r)] for r in y]
    m0 = np.array([r.mean() if r.size else math.nan for r in rows]) + offset
    if not np.all(m0 > 0):
        raise ValueError(f"y: every mean (+ offset) must be > 0 for a log-log fit, got {m0.tolist()}")
    lx = np.log(x)
    cx = lx - lx.mean()

    def slope(*r):
        m = np.stack(np.broadcast_arrays(*[v.mean(axis=-1) for v in r]), axis=-1) + offset
        with np.errstate(all="ignore"):
            ly = np.where(m > 0, np.log(np.where(m > 0, m, 1.0)), math.nan)
        return (ly * cx).sum(axis=-1) / (cx * cx).sum()

    _, ci = percentile_bootstrap(rows, slope, n_boot=n_boot, seed=seed, level=level)
    b, a = np.polyfit(lx, np.log(m0), 1)
    return PowerFit(float(b), ci, float(a), x, m0, n_boot)


# ---------------------------------------------------------------------------------------- the size that would decide
# * t_interval_power and seeds_for_power -- the probability that a Student-t interval over n seeds lies wholly on one
#   side of a reference, and the smallest n for which it reaches a stated power (noncentral t; a power calculation
#   from a run's own mean and spread);
# * tost -- two one-sided tests (Schuirmann 1987): equivalence of a mean to 0 within a stated margin δ.
__all__ += ["t_interval_power", "seeds_for_power", "tost"]


def t_interval_power(effect: float, sd: float, n: int, level: float = 0.95) -> float:
    """Probability that the two-sided ``level`` Student-t interval of a mean over ``n`` independent replicates lies
    wholly on the side of 0 where the true mean ``effect`` lies, when the replicates are normal with mean
    ``effect`` and standard deviation ``sd``.

    The interval excludes 0 on that side iff T = x̄ √n / s > t_{(1+level)/2, n−1} (``effect`` > 0; mirrored for
    ``effect`` < 0), and T is noncentral t with n − 1 degrees of freedom and noncentrality |effect| √n / sd, so the
    probability is ``scipy.stats.nct.sf(t_crit, n − 1, |effect| √n / sd)`` (exact under normality).  ``effect`` = 0
    gives the one-sided error rate (1 − level)/2.  ``ValueError`` for sd ≤ 0 or non-finite, n < 2, level ∉ (0, 1).
    """
    from scipy import stats

    _power_args(effect, sd, level)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n: must be an integer >= 2 (an interval needs a spread), got {n!r}")
    crit = float(stats.t.ppf((1 + level) / 2, n - 1))
    return float(stats.nct.sf(crit, n - 1, abs(effect) * math.sqrt(n) / sd))


def _power_args(effect, sd, level) -> None:
    if not math.isfinite(effect):
        raise ValueError(f"effect: must be a finite number, got {effect!r}")
    if not (math.isfinite(sd) and sd > 0):
        raise ValueError(f"sd: must be a finite number > 0, got {sd!r}")
    if not 0 < level < 1:
        raise ValueError(f"level: must be in (0, 1), got {level!r}")


def seeds_for_power(effect: float, sd: float, *, level: float = 0.95, power: float = 0.8,
                    n_max: int = 10 ** 7) -> float:
    """The smallest number of independent replicates (seeds) n ≥ 2 for which the two-sided ``level`` Student-t
    interval of the mean lies wholly on the side of 0 where ``effect`` lies with probability ≥ ``power``
    (:func:`t_interval_power`): the size that would decide "the mean differs from 0" when the true mean is
    ``effect`` and the per-replicate standard deviation ``sd`` (both usually a pilot run's own estimates).

    A distance to any other reference r is the same question with ``effect`` = mean − r.  For a TOST equivalence
    (:func:`tost`) at level α with equivalence margin δ, the nearer bound decides: ``effect`` = δ − |mean|, ``level`` = 1 − 2α.
    For a quantity known only through a standard error SE at n₀ replicates (a bootstrap slope), ``sd`` = SE·√n₀.
    For a difference of two independent groups of n each (a Welch comparison), ``sd`` = √(s₁² + s₂²) gives n per
    group (with n − 1 rather than Welch's ≈ 2n − 2 degrees of freedom: conservative by at most a few replicates).

    Returns ``math.inf`` when ``effect`` = 0 (no size decides a zero effect) or when more than ``n_max`` replicates
    would be needed.  The power is increasing in n, so the search doubles n and then bisects.
    """
    _power_args(effect, sd, level)
    if not 0 < power < 1:
        raise ValueError(f"power: must be in (0, 1), got {power!r}")
    if effect == 0:
        return math.inf
    if t_interval_power(effect, sd, 2, level) >= power:
        return 2
    lo, hi = 2, 4
    while t_interval_power(effect, sd, hi, level) < power:
        lo, hi = hi, hi * 2
        if hi > n_max:
            return math.inf if t_interval_power(effect, sd, n_max, level) < power else _bisect(effect, sd, level,
                                                                                               power, lo, n_max)
    return _bisect(effect, sd, level, power, lo, hi)


def _bisect(effect, sd, level, power, lo, hi) -> int:
    """Smallest n in (lo, hi] with power ≥ ``power`` (power(lo) < power ≤ power(hi))."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if t_interval_power(effect, sd, mid, level) >= power:
            hi = mid
        else:
            lo = mid
    return hi


def tost(values, delta: float, alpha: float = 0.05) -> tuple[float, tuple[float, float], float]:
    """Two one-sided tests (D. J. Schuirmann 1987) of "the mean of ``values`` lies within (−δ, δ)", ``delta`` = δ the
    equivalence margin (glossary: ``delta``; ``margin`` names only the Δ tensor).

    ``values``: independent replicates of a difference (e.g. paired differences of two settings over seeds; NaN
    dropped).  H₀⁻: μ ≤ −δ and H₀⁺: μ ≥ δ are each tested one-sided with Student t at level ``alpha``;
    equivalence is declared when both are rejected, i.e. p = max(p⁻, p⁺) ≤ ``alpha`` -- equivalently when the
    two-sided (1 − 2α) t-interval lies inside (−δ, δ).  Returns (mean, (lo, hi) that interval, p);
    p = NaN with fewer than 2 values.  ``ValueError`` for delta ≤ 0 or alpha ∉ (0, 0.5).
    """
    from scipy import stats

    if not (math.isfinite(delta) and delta > 0):
        raise ValueError(f"delta: must be a finite number > 0, got {delta!r}")
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha: must be in (0, 0.5), got {alpha!r}")
    v = _finite(values)
    m, lo, hi = t_interval(v, 1 - 2 * alpha)
    if v.size < 2:
        return m, (lo, hi), math.nan
    se = float(v.std(ddof=1) / math.sqrt(v.size))
    if se == 0:
        return m, (lo, hi), (0.0 if abs(m) < delta else 1.0)
    p_lower = float(stats.t.sf((m + delta) / se, v.size - 1))   # H₀⁻: μ ≤ −δ
    p_upper = float(stats.t.cdf((m - delta) / se, v.size - 1))  # H₀⁺: μ ≥ δ
    return m, (lo, hi), max(p_lower, p_upper)
