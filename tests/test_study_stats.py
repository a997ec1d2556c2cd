"""studies.stats (the interval estimates every study and claim share) against independent computations."""

import math
import statistics

import numpy as np
import pytest
from scipy import stats

from lsgan_theory.studies.stats import (spearman_bootstrap, spearman_rows, t_half_width, t_interval, welch_test,
                                       wilson_interval)


def test_welch_test_is_the_textbook_welch_interval_and_test():
    # second method: the textbook formulas from the statistics module (mean, sample variance) and the t quantile
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 7), rng.normal(0.5, 3, 11)
    w = welch_test(np.append(a, [np.nan, np.inf]), b, level=0.9)  # non-finite values dropped
    va, vb = statistics.variance(a) / 7, statistics.variance(b) / 11
    se = math.sqrt(va + vb)
    dof = (va + vb) ** 2 / (va ** 2 / 6 + vb ** 2 / 10)
    d = statistics.mean(a) - statistics.mean(b)
    half = stats.t.ppf(0.95, dof) * se
    assert (w.difference, w.se, w.dof, w.statistic) == pytest.approx((d, se, dof, d / se), rel=1e-12)
    assert (w.lo, w.hi) == pytest.approx((d - half, d + half), rel=1e-12)
    assert w.pvalue == pytest.approx(2 * stats.t.sf(abs(d) / se, dof), rel=1e-10)
    assert (w.n_a, w.n_b) == (7, 11)
    # negative control: the pooled (equal-variance) test gives a different statistic on these samples
    assert abs(w.statistic - stats.ttest_ind(a, b).statistic) > 1e-3


def test_welch_test_small_samples_are_answered_as_documented():
    nan = math.nan
    empty = welch_test([], [1.0, 2.0])
    assert all(math.isnan(getattr(empty, f)) for f in ("difference", "se", "dof", "statistic", "pvalue", "lo", "hi"))
    one = welch_test([3.0, nan], [1.0, 2.0])  # one value: a difference, no interval (every difference compatible)
    assert one.difference == 1.5 and (one.lo, one.hi) == (-math.inf, math.inf) and math.isnan(one.pvalue)
    flat = welch_test([2.0, 2.0], [1.0, 1.0, 1.0])  # no spread: a zero-width interval, t = +inf, p = 0
    assert (flat.difference, flat.se, flat.dof, flat.statistic, flat.pvalue, flat.lo, flat.hi) == (
        1.0, 0.0, 3.0, math.inf, 0.0, 1.0, 1.0)
    same = welch_test([2.0, 2.0], [2.0, 2.0])
    assert (same.statistic, same.pvalue, same.lo, same.hi) == (0.0, 1.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="level"):
        welch_test([1.0, 2.0], [1.0, 3.0], level=1.0)


def test_t_interval_matches_scipy_and_handles_small_samples():
    v = np.array([1.0, 2.5, 0.5, 3.0, np.nan])
    m, lo, hi = t_interval(v)
    ref = stats.t.interval(0.95, 3, loc=1.75, scale=stats.sem(v[:4]))
    assert (m, lo, hi) == pytest.approx((1.75, *ref), rel=1e-12)
    # a second method: scipy's one-sample t-test's interval
    ci = stats.ttest_1samp(v[:4], 0.0).confidence_interval(0.95)
    assert (lo, hi) == pytest.approx((ci.low, ci.high), rel=1e-12)
    # small n: no value -> NaN everywhere; one value -> the value without an interval (NaN ends, not ±inf)
    assert all(math.isnan(x) for x in t_interval([]))
    assert all(math.isnan(x) for x in t_interval([math.nan, math.nan]))
    m1, lo1, hi1 = t_interval([2.0, math.nan])
    assert m1 == 2.0 and math.isnan(lo1) and math.isnan(hi1)
    assert t_half_width([2.0])[0] == 2.0 and math.isnan(t_half_width([2.0])[1])
    assert t_half_width([3.0, 3.0]) == (3.0, 0.0)  # no spread: a zero-width interval


@pytest.mark.parametrize("level", [0.5, 0.9, 0.95, 0.99])
@pytest.mark.parametrize("n", [2, 3, 7, 40])
def test_t_half_width_is_the_textbook_formula(level, n):
    # independent computation: the statistics module's mean and sample standard deviation and the t quantile
    v = list(np.random.default_rng(n).normal(1.0, 2.0, n))
    m, h = t_half_width(v, level)
    expect = stats.t.ppf((1 + level) / 2, n - 1) * statistics.stdev(v) / math.sqrt(n)
    assert m == pytest.approx(statistics.mean(v), rel=1e-13, abs=1e-15)
    assert h == pytest.approx(expect, rel=1e-12)
    assert t_interval(v, level) == (m, m - h, m + h)
    # negative control: the normal quantile (a z-interval) is measurably narrower at these n
    assert h > stats.norm.ppf((1 + level) / 2) * statistics.stdev(v) / math.sqrt(n) * (1 + 1e-4)


def test_t_half_width_is_bitwise_the_formula_the_sweep_tables_used():
    # results.summarize's half-width was t_{(1+level)/2, n-1} · s / √n in this order; the stored tables must not move
    v = np.random.default_rng(5).lognormal(0.0, 1.0, 9)
    old = float(stats.t.ppf((1 + 0.95) / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    assert t_half_width(v) == (float(v.mean()), old)


def test_t_interval_keeps_infinite_values_and_checks_the_level():
    m, h = t_half_width([1.0, math.inf, 2.0])
    assert m == math.inf and math.isnan(h)  # an infinite measurement is not dropped: the mean is infinite
    for level in (0.0, 1.0, -0.5, 95):
        with pytest.raises(ValueError, match="level"):
            t_interval([1.0, 2.0], level)


def test_spearman_bootstrap_rho_matches_scipy_and_its_interval_scipy_bootstrap():
    # ρ against scipy.stats.spearmanr; the interval against scipy.stats.bootstrap (percentile, one sample per level,
    # resampled independently within each level), which draws the same resamples from the same seed
    rng = np.random.default_rng(3)
    lams = np.array([0.5, 1.0, 2.0, 4.0])
    vals = rng.normal(0, 1, (4, 6)) + np.array([3.0, 2.0, 1.5, 1.0])[:, None]
    vals[1, 2] = np.nan
    r0, (lo, hi) = spearman_bootstrap(lams, vals, 500, 7)
    rows = [v[np.isfinite(v)] for v in vals]
    x = np.concatenate([np.full(v.size, lam) for v, lam in zip(rows, lams)])
    assert r0 == pytest.approx(stats.spearmanr(x, np.concatenate(rows)).statistic, rel=1e-12)
    ref = stats.bootstrap(tuple(rows), lambda *s, axis=-1: spearman_rows(x, np.concatenate(s, axis=-1)),
                          vectorized=True, n_resamples=500, method="percentile", rng=np.random.default_rng(7))
    assert (lo, hi) == pytest.approx((ref.confidence_interval.low, ref.confidence_interval.high), rel=1e-12)
    assert lo < r0 < hi < 0


def test_spearman_bootstrap_drops_missing_values_before_resampling():
    # NaN (a diverged seed) is left out before resampling: where the NaN sits in its row does not matter, and a
    # missing value is not a draw.  Negative control: keeping the NaN as a resampled entry changes the interval.
    lams = np.array([1.0, 2.0, 3.0])
    a = np.array([[3.0, 2.5, np.nan, 2.9], [2.0, 2.2, 1.1, 1.9], [1.0, 1.7, 0.6, 1.2]])
    b = np.array([[np.nan, 3.0, 2.5, 2.9], [2.0, 2.2, 1.1, 1.9], [1.0, 1.7, 0.6, 1.2]])
    assert spearman_bootstrap(lams, a, 400, 1) == spearman_bootstrap(lams, b, 400, 1)
    rng = np.random.default_rng(1)  # the resampling that keeps NaN entries (the old sample-complexity copy)
    rep = np.repeat(lams, 4)
    kept = []
    for _ in range(400):
        m = np.take_along_axis(a, rng.integers(0, 4, size=a.shape), axis=1).ravel()
        ok = np.isfinite(m)
        kept.append(stats.spearmanr(rep[ok], m[ok]).statistic)
    assert spearman_bootstrap(lams, a, 400, 1)[1] != (np.quantile(kept, 0.025), np.quantile(kept, 0.975))


def test_spearman_bootstrap_small_and_degenerate_inputs():
    same = lambda r: all(math.isnan(x) for x in (r[0], *r[1]))  # noqa: E731
    assert same(spearman_bootstrap([1.0, 2.0], [[1.0, np.nan], [2.0, np.nan]], 10))  # 2 pairs: no ρ
    assert same(spearman_bootstrap([1.0, 1.0], [[1.0, 3.0], [2.0, 5.0]], 10))  # one level only
    # a level with a single finite seed is allowed (it is drawn every time); constant resamples leave the percentiles
    r0, ci = spearman_bootstrap([1.0, 2.0, 3.0], [[3.0, np.nan], [2.0, 2.5], [1.0, 0.5]], 200, 0)
    assert r0 == pytest.approx(stats.spearmanr([1, 2, 2, 3, 3], [3.0, 2.0, 2.5, 1.0, 0.5]).statistic, rel=1e-12)
    assert all(np.isfinite(ci)) and ci[0] <= r0 <= ci[1]
    with pytest.raises(ValueError, match="n_boot"):
        spearman_bootstrap([1.0, 2.0, 3.0], np.ones((3, 2)), 0)
    with pytest.raises(ValueError, match="shape"):
        spearman_bootstrap([1.0, 2.0], np.ones((3, 2)), 10)
    assert not same(spearman_bootstrap([1.0, 2.0, 3.0], [[3.0, 2.0], [2.0, 1.5], [1.0, 0.5]], 10))  # control


def test_wilson_interval_closed_form_values():
    # k = 0 of n = 10: upper end z²/(n + z²) in closed form; k = n mirrors it
    z = stats.norm.ppf(0.975)
    p, lo, hi = wilson_interval(0, 10)
    assert (p, lo) == (0.0, 0.0) and hi == pytest.approx(z * z / (10 + z * z), rel=1e-12)
    assert wilson_interval(10, 10)[1] == pytest.approx(1 - hi, rel=1e-12)
    p, lo, hi = wilson_interval(5, 10)
    assert lo == pytest.approx(1 - hi, rel=1e-12) and lo < 0.5 < hi


# ---------------------------------------------------------------------------------------- the size that would decide
from lsgan_theory.studies.stats import seeds_for_power, t_interval_power, tost  # noqa: E402


@pytest.mark.parametrize("level,power", [(0.95, 0.8), (0.9833, 0.8), (0.95, 0.9)])
@pytest.mark.parametrize("effect_over_sd", [0.2, 0.5, 1.0])
def test_seeds_for_power_is_the_normal_closed_form_plus_the_t_correction(effect_over_sd, level, power):
    # known σ (a z-interval): n_z = ((z_{(1+level)/2} + z_power) σ/δ)²; the t-interval estimates σ, so it needs a few
    # more seeds -- never fewer, and (for these sizes) at most 4 more
    n = seeds_for_power(effect_over_sd, 1.0, level=level, power=power)
    n_z = ((stats.norm.ppf((1 + level) / 2) + stats.norm.ppf(power)) / effect_over_sd) ** 2
    assert math.ceil(n_z) <= n <= math.ceil(n_z) + 4
    # it is the smallest such n, and the sign of the effect and the scale do not matter
    assert t_interval_power(effect_over_sd, 1.0, n, level) >= power > t_interval_power(effect_over_sd, 1.0, n - 1,
                                                                                        level)
    assert seeds_for_power(-3 * effect_over_sd, 3.0, level=level, power=power) == n


def test_t_interval_power_matches_a_simulation_of_the_interval():
    # independent computation: draw 20 000 pilot runs of n normal seeds and count intervals lying wholly above 0
    rng = np.random.default_rng(3)
    for effect, sd, n in ((0.4, 1.0, 12), (1.0, 2.0, 5), (0.0, 1.0, 8)):
        x = rng.normal(effect, sd, size=(20000, n))
        m, s = x.mean(1), x.std(1, ddof=1)
        lo = m - stats.t.ppf(0.975, n - 1) * s / math.sqrt(n)
        sim = float((lo > 0).mean())
        assert t_interval_power(effect, sd, n) == pytest.approx(sim, abs=4 * math.sqrt(0.25 / 20000))
    # zero effect: the one-sided error rate (1 − level)/2; a negative control: a larger effect has more power
    assert t_interval_power(0.0, 1.0, 10) == pytest.approx(0.025, rel=1e-9)
    assert t_interval_power(0.8, 1.0, 10) > t_interval_power(0.4, 1.0, 10)


def test_seeds_for_power_edge_cases_and_bad_input():
    assert seeds_for_power(0.0, 1.0) == math.inf            # no size decides a zero effect
    assert seeds_for_power(1e-4, 1.0, n_max=1000) == math.inf
    assert seeds_for_power(100.0, 1.0) == 2                  # huge effect: the smallest interval decides
    for kw in ({"sd": 0.0}, {"sd": math.nan}, {"level": 1.0}, {"power": 0.0}):
        args = {"effect": 1.0, "sd": 1.0, **kw}
        with pytest.raises(ValueError, match=next(iter(kw))):
            seeds_for_power(args.pop("effect"), args.pop("sd"), **args)
    with pytest.raises(ValueError, match="n"):
        t_interval_power(1.0, 1.0, 1)


def test_tost_is_two_one_sided_scipy_t_tests():
    rng = np.random.default_rng(7)
    d = rng.normal(0.05, 0.2, 9)
    m, (lo, hi), p = tost(d, 0.2)
    p_lo = stats.ttest_1samp(d, -0.2, alternative="greater").pvalue
    p_hi = stats.ttest_1samp(d, 0.2, alternative="less").pvalue
    assert p == pytest.approx(max(p_lo, p_hi), rel=1e-10)
    ci = stats.ttest_1samp(d, 0.0).confidence_interval(0.90)
    assert (lo, hi) == pytest.approx((ci.low, ci.high), rel=1e-12)
    # the interval rule: p ≤ α exactly when the 90 % interval lies inside (−δ, δ)
    for delta in (0.05, 0.1, 0.15, 0.2, 0.3):
        _, (lo, hi), p = tost(d, delta)
        assert (p <= 0.05) == (-delta < lo and hi < delta)
    # negative control: a true difference well outside the margin is not declared equivalent
    assert tost(rng.normal(0.5, 0.2, 9), 0.2)[2] > 0.05
    with pytest.raises(ValueError, match="delta"):
        tost(d, 0.0)
    with pytest.raises(ValueError, match="alpha"):
        tost(d, 0.1, alpha=0.5)
    assert math.isnan(tost([0.1], 0.2)[2])


# ------------------------------------------------------------------ one bootstrap, one interval rescaling (issue 31)
from lsgan_theory.studies.stats import fit_power, percentile_bootstrap, t_relevel  # noqa: E402


def test_percentile_bootstrap_of_a_mean_agrees_with_the_t_interval():
    # a second method: for n = 400 normal values the percentile bootstrap of the mean is the t-interval to ~5 %
    x = np.random.default_rng(0).normal(2.0, 1.5, 400)
    m, (lo, hi) = percentile_bootstrap([x], lambda v: v.mean(axis=-1), n_boot=4000, seed=1)
    _, tlo, thi = t_interval(x)
    assert m == pytest.approx(x.mean(), rel=1e-12)
    assert (hi - lo) == pytest.approx(thi - tlo, rel=0.08) and lo < m < hi
    assert abs((lo + hi) / 2 - m) < 0.1 * (thi - tlo)


def test_percentile_bootstrap_paired_keeps_pairs_and_stratified_does_not():
    # y = x exactly: resampling the pairs jointly keeps ρ = 1 in every resample; resampling the two samples
    # independently (negative control) breaks the pairs and spreads ρ
    x = np.random.default_rng(2).normal(size=30)
    r, ci = percentile_bootstrap([x, x], spearman_rows, paired=True, n_boot=200, seed=0)
    assert r == pytest.approx(1.0) and ci == pytest.approx((1.0, 1.0))
    _, ci2 = percentile_bootstrap([x, x], spearman_rows, paired=False, n_boot=200, seed=0)
    assert ci2[1] - ci2[0] > 0.3


def test_percentile_bootstrap_fixed_samples_undefined_resamples_and_bad_input():
    # a one-value sample is not resampled (it could only be drawn as it is); a sample of size 2 is
    r, ci = percentile_bootstrap([[5.0], [1.0, 3.0]], lambda a, b: a.mean(-1) - b.mean(-1), n_boot=300, seed=0)
    assert r == 3.0 and ci[0] == pytest.approx(2.0) and ci[1] == pytest.approx(4.0)
    # undefined resamples (0/0) are left out; all undefined: a NaN interval
    r, ci = percentile_bootstrap([[0.0, 1.0]], lambda v: 1.0 / v.mean(-1), n_boot=300, seed=0)
    assert np.isfinite(ci).all()
    _, ci = percentile_bootstrap([[0.0, 0.0]], lambda v: v.mean(-1) / v.mean(-1), n_boot=50, seed=0)
    assert all(math.isnan(c) for c in ci)
    for kw, name in (({"n_boot": 0}, "n_boot"), ({"level": 1.0}, "level"), ({"paired": True}, "one length")):
        with pytest.raises(ValueError, match=name):
            percentile_bootstrap([[1.0, 2.0], [1.0, 2.0, 3.0]], lambda a, b: a.mean(-1), **kw)


def test_spearman_bootstrap_pairs_resamples_units_and_within_would_not():
    rng = np.random.default_rng(4)
    d = rng.uniform(0, 1, 60)
    f = d + rng.normal(0, 0.3, 60)
    r, (lo, hi) = spearman_bootstrap(d, f[:, None], 500, 0, resample="pairs")
    assert r == pytest.approx(stats.spearmanr(d, f).statistic, rel=1e-12) and lo < r < hi and hi - lo > 0.05
    # negative control: one value per level resampled "within" its level is the data every time
    r2, ci2 = spearman_bootstrap(d, f[:, None], 50, 0)
    assert r2 == pytest.approx(r) and ci2 == pytest.approx((r, r))
    with pytest.raises(ValueError, match="resample"):
        spearman_bootstrap(d, f[:, None], 10, resample="columns")


@pytest.mark.parametrize("level", [0.9, 1 - 0.05 / 7])
def test_t_relevel_is_the_t_interval_at_the_other_level(level):
    x = np.random.default_rng(5).normal(1.0, 2.0, 7)
    m, lo, hi = t_interval(x)
    ref = stats.ttest_1samp(x, 0.0).confidence_interval(level)
    assert t_relevel(m, (lo, hi), x.size, level) == pytest.approx((ref.low, ref.high), rel=1e-12)
    assert t_relevel(m, (lo, hi), x.size, 0.95) == (lo, hi)
    assert t_relevel(m, (math.nan, math.nan), 7, level)[0] != t_relevel(m, (lo, hi), 7, level)[0]  # control
    with pytest.raises(ValueError, match="level"):
        t_relevel(m, (lo, hi), 7, 1.5)


def test_welch_critical_is_the_student_t_quantile_of_its_dof():
    rng = np.random.default_rng(6)
    a, b = rng.normal(0, 1, 8), rng.normal(0.3, 2, 11)
    for level in (0.95, 0.99):
        w = welch_test(a, b, level)
        assert w.critical == pytest.approx(stats.t.ppf((1 + level) / 2, w.dof), rel=1e-12)
        assert w.hi - w.difference == pytest.approx(w.critical * w.se, rel=1e-9)
    assert welch_test([1.0], b).critical == pytest.approx(stats.norm.ppf(0.975))  # dof NaN: the z limit


def test_fit_power_resamples_within_each_x():
    # rows constant over seeds: every resample is the data, so the interval is the slope itself
    x = np.array([1.0, 2.0, 4.0, 8.0])
    y = np.tile((3 * x ** -0.5)[:, None], (1, 5))
    f = fit_power(x, y, n_boot=100, seed=np.random.default_rng(0))
    assert f.slope == pytest.approx(-0.5) and f.ci == pytest.approx((-0.5, -0.5))
    # each seed scales every x alike: resampling seed columns jointly across x (the old fit_slope's scheme) keeps
    # the slope at exactly -0.5 (zero width, the negative control below); the runs at different x are independent,
    # so fit_power resamples within each x and the means move independently: a real spread
    yy = 3 * x[:, None] ** -0.5 * np.array([0.5, 1.5])[None, :]
    g = fit_power(x, yy, n_boot=400, seed=1)
    assert g.slope == pytest.approx(-0.5) and g.ci[1] - g.ci[0] > 0.1
    cols = np.random.default_rng(1).integers(0, 2, (400, 2))
    joint = [np.polyfit(np.log(x), np.log(yy[:, c].mean(1)), 1)[0] for c in cols]
    assert np.ptp(joint) == pytest.approx(0.0, abs=1e-12)
