"""The exact pushforward density of a 1-D piecewise-linear generator (issue 16): against a hand-built map with a
closed form, against a large-sample histogram/KS of the same network, and through the quadrature of ``divergences``."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from lsgan_theory import densities
from lsgan_theory.ensemble import mlp
from lsgan_theory.ensemble.pushforward import exact_density, l1_distance, piecewise_linear_map


def _hand_built():
    # G(z) = 2·relu(z) − 0.5·relu(−z) + 1:  2z + 1 for z > 0,  0.5z + 1 for z < 0  (1 → 2 → 1, ReLU)
    W0 = np.array([[1.0, -1.0]])
    b0 = np.zeros((1, 2))
    W1 = np.array([[2.0], [-0.5]])
    b1 = np.array([[1.0]])
    return (W0, b0, W1, b1)


def test_pieces_of_a_hand_built_map():
    knots, alpha, beta = piecewise_linear_map(_hand_built())
    assert knots.tolist() == [-np.inf, 0.0, np.inf]
    assert alpha.tolist() == [0.5, 2.0] and beta.tolist() == [1.0, 1.0]


def test_density_of_a_hand_built_map_equals_its_closed_form():
    # x > 1: q(x) = φ((x − 1)/2)/2;  x < 1: q(x) = φ((x − 1)/0.5)/0.5  (change of variables)
    q = exact_density(_hand_built())
    x = np.linspace(-3, 6, 901)
    expect = np.where(x >= 1, stats.norm.pdf((x - 1) / 2) / 2, stats.norm.pdf((x - 1) / 0.5) / 0.5)
    np.testing.assert_allclose(q.pdf(x), expect, rtol=1e-13, atol=1e-300)
    expect_cdf = np.where(x >= 1, stats.norm.cdf((x - 1) / 2), stats.norm.cdf((x - 1) / 0.5))
    np.testing.assert_allclose(q.cdf(x), expect_cdf, rtol=1e-12, atol=1e-15)
    assert q.atoms == () and q.atom_mass == 0.0


def test_folded_map_sums_both_branches():
    # G(z) = |z| (relu(z) + relu(−z)): q(x) = 2φ(x) for x > 0, the half-normal; a non-monotone map
    params = (np.array([[1.0, -1.0]]), np.zeros((1, 2)), np.array([[1.0], [1.0]]), np.zeros((1, 1)))
    q = exact_density(params)
    x = np.linspace(0.01, 5, 200)
    np.testing.assert_allclose(q.pdf(x), 2 * stats.norm.pdf(x), rtol=1e-13)
    np.testing.assert_allclose(q.pdf(-x), 0.0)
    np.testing.assert_allclose(q.cdf(x), 2 * stats.norm.cdf(x) - 1, rtol=1e-12, atol=1e-15)


def test_flat_piece_becomes_an_atom():
    # G(z) = relu(z): half the mass sits at 0
    params = (np.array([[1.0]]), np.zeros((1, 1)), np.array([[1.0]]), np.zeros((1, 1)))
    q = exact_density(params)
    assert q.atoms == ((0.0, 0.5),)
    assert q.cdf(np.array([-1e-9, 0.0]))[0] == 0.0 and q.cdf(np.array([0.0]))[0] == pytest.approx(0.5, abs=1e-15)
    v, err = l1_distance(densities.Normal(0, 1), q)
    # ∫|φ − q_ac| = ∫_{x<0} φ + ∫_{x>0} |φ − φ| = 0.5, plus the atom 0.5
    assert v == pytest.approx(1.0, abs=10 * err + 1e-9)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_random_network_density_matches_its_own_samples(activation):
    # A random 1 → 32 → 32 → 1 network: the exact CDF against 200 000 samples of the network itself (KS), and the
    # pdf integrating to 1 − atom mass.  Negative control: the CDF of a slightly perturbed network is rejected by the
    # same KS test on the same samples.  Mutations that fail this test (tried): leaky slope 0.1 instead of the
    # network's 0.2; φ/α instead of φ/|α| (decreasing pieces); dropping the zero crossings above z = 0.5.
    spec = mlp.MLPSpec((1, 32, 32, 1), activation)
    params = mlp.init_mlp(spec, 3, torch.arange(2), 7, dtype=torch.float64)
    q = exact_density(params, activation, model=1)
    z = torch.randn(1, 200_000, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    one = tuple(t[1:2] for t in params)
    x = mlp.mlp_forward(one, z, activation)[0, :, 0].numpy()
    assert stats.kstest(x, q.cdf).pvalue > 1e-3
    np.testing.assert_allclose(q.sample(5, 0), q.sample(5, 0))  # sampling goes through the same pieces
    from lsgan_theory import divergences
    mass = divergences.integrate_pointwise(lambda a, b: b, densities.Normal(0, 1), q)
    assert mass.value + q.atom_mass == pytest.approx(1.0, abs=10 * mass.abserr + 1e-9)
    wrong = tuple(t * 1.05 if k == 2 else t for k, t in enumerate(params))  # 5 % larger second-layer weights
    q_wrong = exact_density(wrong, activation, model=1)
    assert stats.kstest(x, q_wrong.cdf).pvalue < 1e-6


def test_pushforward_is_a_density_for_the_quadrature():
    # the hand-built q against its own closed form through divergences: KL(q‖q) = 0, TV to N(1, 1) by a second route
    q = exact_density(_hand_built())
    from lsgan_theory import divergences
    assert divergences.kl(q, q).value == pytest.approx(0.0, abs=1e-9)
    ref = densities.Normal(1.0, 1.0)
    tv = divergences.tv(ref, q)
    # independent: scipy quad on the two branches
    from scipy.integrate import quad
    left = quad(lambda t: abs(stats.norm.pdf(t, 1, 1) - stats.norm.pdf((t - 1) / 0.5) / 0.5), -12, 1, limit=200)[0]
    right = quad(lambda t: abs(stats.norm.pdf(t, 1, 1) - stats.norm.pdf((t - 1) / 2) / 2), 1, 25, limit=200)[0]
    assert tv.value == pytest.approx(0.5 * (left + right), abs=1e-7)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="activation"):
        exact_density(_hand_built(), "tanh")
    two_d = (np.ones((2, 3)), np.zeros((1, 3)), np.ones((3, 1)), np.zeros((1, 1)))
    with pytest.raises(ValueError, match="1-D noise"):
        exact_density(two_d)
