"""Sample-based metrics against closed forms and independent implementations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from lsgan_theory import densities as dens
from lsgan_theory import divergences, metrics


def _w1_point_to_normal(x0, mu, s):
    # E|X − x0| for X ~ N(μ, σ²): σ(2φ(d) + d(2Φ(d) − 1)), d = (x0 − μ)/σ
    d = (x0 - mu) / s
    return s * (2 * stats.norm.pdf(d) + d * (2 * stats.norm.cdf(d) - 1))


@given(x0=st.floats(-5, 5), mu=st.floats(-2, 2), s=st.floats(0.2, 3))
def test_w1_of_one_point_to_a_normal_is_the_mean_absolute_deviation(x0, mu, s):
    got = metrics.w1_to_cdf(np.array([x0]), dens.Normal(mu, s))
    # quadrature of a smooth CDF on ≥ 512 cells with 16-point Gauss–Legendre: error ≲ 1e-12 relative
    assert got == pytest.approx(_w1_point_to_normal(x0, mu, s), rel=1e-9, abs=1e-11)


@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_w1_to_uniform_equals_the_quantile_formula(xs):
    # Independent route: W1 = ∫_0^1 |Q_n(u) − u| du with Q_n(u) = x_(k) on ((k−1)/n, k/n]; closed form per piece.
    x = np.sort(np.array(xs))
    n = len(x)
    total = 0.0
    for k in range(1, n + 1):
        a, b, c = (k - 1) / n, k / n, x[k - 1]
        if c <= a:
            total += ((b - c) ** 2 - (a - c) ** 2) / 2
        elif c >= b:
            total += ((c - a) ** 2 - (c - b) ** 2) / 2
        else:
            total += ((c - a) ** 2 + (b - c) ** 2) / 2
    assert metrics.w1_to_cdf(x, dens.Uniform(0, 1)) == pytest.approx(total, rel=1e-9, abs=1e-12)


def test_w1_to_cdf_converges_at_the_root_n_rate_and_detects_a_shift():
    p = dens.Normal(0, 1)
    rng = np.random.default_rng(0)
    x = p.sample(4000, rng)
    w_same = metrics.w1_to_cdf(x, p)
    w_shift = metrics.w1_to_cdf(x + 0.5, p)
    # E W1(P̂_n, P) ≈ c/√n with c ≈ 0.8 for N(0,1) (del Barrio et al. 1999): at n = 4000 below 0.05 with margin
    assert w_same < 0.05
    # triangle inequality: |W1(shifted) − 0.5| ≤ W1(P̂_n, P)
    assert abs(w_shift - 0.5) <= w_same + 1e-9


@given(st.lists(st.floats(-4, 4), min_size=1, max_size=50), st.floats(-1, 1), st.floats(0.3, 2))
def test_ks_equals_scipy_kstest(xs, mu, s):
    x = np.array(xs)
    ref = stats.kstest(x, stats.norm(mu, s).cdf).statistic
    assert metrics.ks_to_cdf(x, dens.Normal(mu, s)) == pytest.approx(ref, abs=1e-12)


def test_l1_of_data_samples_sits_at_its_noise_floor_and_a_shift_is_detected():
    p = dens.Normal(0, 1)
    rng = np.random.default_rng(1)
    n = 2000
    est_same = metrics.l1_to_pdf(p.sample(n, rng), p, rng=rng, repeats=8)
    # same distribution: the value is one more draw of the floor's distribution: within 5 std of its mean
    assert abs(est_same.value - est_same.noise_floor) < 5 * est_same.noise_floor_std + 1e-12
    q = dens.Normal(1.0, 1.0)
    est_q = metrics.l1_to_pdf(q.sample(n, rng), p, rng=rng, repeats=8)
    true_l1 = 2 * divergences.tv(p, q).value
    # triangle inequality: |∫|p̂_q − p| − ∫|q − p|| ≤ ∫|p̂_q − q|, whose size is the floor of the same estimator on
    # q (equal to p's floor for a translated density) — allow 2× for the spread of one draw
    assert abs(est_q.value - true_l1) <= 2 * est_same.noise_floor
    assert est_q.value > est_q.noise_floor + 5 * est_q.noise_floor_std
    assert est_q.tv == pytest.approx(est_q.value / 2)


def test_mmd_equals_a_double_loop_and_its_mean_matches_the_gaussian_closed_form():
    rng = np.random.default_rng(2)
    x, y = rng.normal(0, 1, (30, 2)), rng.normal(0.5, 1, (25, 2))
    h = 0.8
    k = lambda a, b: math.exp(-np.sum((a - b) ** 2) / (2 * h * h))  # noqa: E731
    kxx = sum(k(x[i], x[j]) for i in range(30) for j in range(30) if i != j) / (30 * 29)
    kyy = sum(k(y[i], y[j]) for i in range(25) for j in range(25) if i != j) / (25 * 24)
    kxy = sum(k(x[i], y[j]) for i in range(30) for j in range(25)) / (30 * 25)
    assert metrics.mmd2(x, y, h) == pytest.approx(kxx + kyy - 2 * kxy, rel=1e-10)
    # 1-D N(0, s²) vs N(Δ, s²): MMD² = 2 h/√(h² + 2s²) (1 − exp(−Δ²/(2(h² + 2s²)))) (Gaussian convolution)
    s, delta = 1.0, 0.7
    truth = 2 * h / math.sqrt(h * h + 2 * s * s) * (1 - math.exp(-delta**2 / (2 * (h * h + 2 * s * s))))
    vals = [metrics.mmd2(rng.normal(0, s, 300), rng.normal(delta, s, 300), h) for _ in range(40)]
    # the estimator is unbiased: the mean of 40 draws is within 4 standard errors of the truth
    assert abs(np.mean(vals) - truth) < 4 * np.std(vals, ddof=1) / math.sqrt(40)


def test_w1_samples_matches_scipy_in_1d_and_translation_in_2d():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 40), rng.exponential(1, 40)
    assert metrics.w1_samples(a, b) == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-10)
    c = rng.normal(0, 1, 27)  # unequal sizes: transport LP
    assert metrics.w1_samples(a, c) == pytest.approx(stats.wasserstein_distance(a, c), rel=1e-7, abs=1e-9)
    x = rng.normal(0, 1, (50, 2))
    v = np.array([0.3, -0.4])
    # W1(X, X + v) = ‖v‖: the identity coupling costs ‖v‖ and W1 ≥ ‖E X − E Y‖ = ‖v‖
    assert metrics.w1_samples(x, x + v) == pytest.approx(0.5, rel=1e-10)


def test_mode_statistics_on_exact_ring_samples_and_a_collapsed_generator():
    ring = dens.Ring(8, 1.0, 0.01)
    rng = np.random.default_rng(4)
    full = metrics.mode_statistics(ring.sample(2500, rng), ring.centres, ring.std)
    assert full.modes == 8
    # P(‖N(0, σ²I₂)‖ < 3σ) = 1 − e^{−9/2} = 0.98889; binomial std at n = 2500 is 0.0021 → 5 std = 0.011
    assert abs(full.high_quality - (1 - math.exp(-4.5))) < 0.011
    # multinomial counts around 1/8: E rKL ≈ (K − 1)/(2 n_hq) = 0.0014; allow 10×
    assert full.reverse_kl < 0.014
    collapsed = ring.centres[rng.integers(0, 3, 2500)] + rng.normal(0, 0.01, (2500, 2))
    st_c = metrics.mode_statistics(collapsed, ring.centres, ring.std)
    assert st_c.modes == 3
    assert st_c.reverse_kl == pytest.approx(math.log(8 / 3), abs=0.02)  # uniform on 3 of 8 modes: log(8/3)
    far = metrics.mode_statistics(np.full((100, 2), 5.0), ring.centres, ring.std)
    assert far.modes == 0 and far.high_quality == 0 and math.isinf(far.reverse_kl)


def test_mre_of_a_linear_generator_equals_the_distance_to_its_line():
    # G(z) = (z, 0) in R²: min_z ‖x − G(z)‖² = x₂²; with a convex inner problem Adam reaches it
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1, (20, 2))
    G = lambda z: torch.cat([z, torch.zeros_like(z)], -1)  # noqa: E731
    res = metrics.mre(G, x, 1, restarts=2, steps=600, lr=0.1)
    assert res.value == pytest.approx(np.mean(x[:, 1] ** 2), abs=1e-6)
    # negative control: no search budget leaves the error of the random starting points, much larger
    res0 = metrics.mre(G, x, 1, restarts=1, steps=0)
    assert res0.value > res.value + 0.1
    assert (res.restarts, res.steps) == (2, 600)


def test_generalisation_gap_is_zero_for_identical_samples_and_matches_a_direct_sum():
    rng = np.random.default_rng(6)
    r, f = rng.normal(0, 1, (15, 1)), rng.normal(1, 1, (12, 1))
    L = lambda x: 0.3 * x[:, 0] ** 2  # noqa: E731
    g = metrics.generalisation_gap(L, r, f, r, f, lam=2.0, tau=0.5)
    with pytest.raises(TypeError, match="margin_scale"):  # one name: tau (no deprecated alias)
        metrics.generalisation_gap(L, r, f, r, f, lam=2.0, margin_scale=0.5)
    assert g.gap == 0.0
    Lr, Lf = 0.3 * r[:, 0] ** 2, 0.3 * f[:, 0] ** 2
    direct = Lr.mean() + 2.0 * np.mean(np.maximum(0.5 * np.abs(r - f.T) + Lr[:, None] - Lf[None, :], 0))
    assert g.s_train == pytest.approx(direct, rel=1e-12)


@pytest.mark.parametrize("call", [
    lambda: metrics.w1_to_cdf([], dens.Normal()),
    lambda: metrics.w1_to_cdf([np.nan], dens.Normal()),
    lambda: metrics.w1_to_cdf([0.0], dens.Ring()),
    lambda: metrics.mmd2(np.zeros((3, 2)), np.zeros((3, 1))),
    lambda: metrics.mmd2(np.zeros(3), np.ones(3), bandwidth=-1.0),
    lambda: metrics.l1_to_pdf([0.0, 1.0], dens.Normal(), repeats=1),
    lambda: metrics.mode_statistics(np.zeros((3, 2)), np.zeros((2, 3)), 0.1),
    lambda: metrics.mre(lambda z: z, np.zeros((2, 1)), 1, restarts=0),
])
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
