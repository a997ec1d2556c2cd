"""studies.stats (the interval estimates every study and claim share) against independent computations."""

import math

import numpy as np
import pytest
from scipy import stats

from lsgan_theory.studies.stats import t_interval, welch, wilson_interval


def test_welch_matches_scipy_ttest_ind_unequal_variances():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 7), rng.normal(0.5, 3, 11)
    d, se, dof = welch(a, b)
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert d / se == pytest.approx(ref.statistic, rel=1e-12)
    assert dof == pytest.approx(ref.df, rel=1e-12)
    # negative control: the pooled (equal-variance) test gives a different statistic on these samples
    assert abs(d / se - stats.ttest_ind(a, b).statistic) > 1e-3


def test_t_interval_matches_scipy_and_handles_small_samples():
    v = np.array([1.0, 2.5, 0.5, 3.0, np.nan])
    m, lo, hi = t_interval(v)
    ref = stats.t.interval(0.95, 3, loc=1.75, scale=stats.sem(v[:4]))
    assert (m, lo, hi) == pytest.approx((1.75, *ref), rel=1e-12)
    assert t_interval([2.0]) == (2.0, -math.inf, math.inf)
    assert all(math.isnan(x) for x in t_interval([]))


def test_wilson_interval_closed_form_values():
    # k = 0 of n = 10: upper end z²/(n + z²) in closed form; k = n mirrors it
    z = stats.norm.ppf(0.975)
    p, lo, hi = wilson_interval(0, 10)
    assert (p, lo) == (0.0, 0.0) and hi == pytest.approx(z * z / (10 + z * z), rel=1e-12)
    assert wilson_interval(10, 10)[1] == pytest.approx(1 - hi, rel=1e-12)
    p, lo, hi = wilson_interval(5, 10)
    assert lo == pytest.approx(1 - hi, rel=1e-12) and lo < 0.5 < hi
