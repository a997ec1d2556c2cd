"""Theorem 1 helpers (issue 16): the capacity floor reaches the truth on a target the generator can represent exactly,
and not with a network that cannot (negative control); the density-ratio infimum against closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lsgan_theory import densities
from lsgan_theory.ensemble.pushforward import exact_density
from lsgan_theory.studies.theorem1 import capacity_floor, density_ratio_infimum


def _two_slope_target():
    # q = G#N(0,1) with G(z) = 2z + 1 (z > 0), 0.5z + 1 (z < 0): a piecewise-linear quantile function
    params = (np.array([[1.0, -1.0]]), np.zeros((1, 2)), np.array([[2.0], [-0.5]]), np.array([[1.0]]))
    return exact_density(params, label="two_slope")


def test_capacity_floor_reaches_a_representable_target():
    # A 1 → 16 → 16 → 1 ReLU network can represent T(z) = G(z) exactly (two ReLU units suffice), so the fitted ∫|p − q̂|
    # must approach 0; a 1 → 1 → 1 network (one ReLU unit: slope 0 on one side, an atom of mass ≈ ½) cannot -- the
    # negative control keeps the first assertion from passing for a fit that ignores the target.
    torch.set_num_threads(1)
    target = _two_slope_target()
    good = capacity_floor(target, hidden=(16, 16), n_models=2, steps=800, n_z=256, seed=1)
    bad = capacity_floor(target, hidden=(1,), n_models=2, steps=800, n_z=256, seed=1)
    assert good.floor < 0.03, good.l1
    assert bad.floor > 0.3, bad.l1  # one unit: a flat half line (atom ≈ 0.5) or a single slope
    assert good.fit_mse.min() < 1e-3


def test_density_ratio_infimum_of_scaled_normals():
    # p = N(0, 1), q̂ = N(0, 2²) realised as G(z) = 2z: p/q̂ = 2 exp(−3x²/8) is smallest at the edges of q̂'s central
    # mass window; the window's edge x* = 2 Φ⁻¹(1 − 1e-6) gives the closed form.
    from scipy.special import ndtri
    q = exact_density((np.array([[2.0]]), np.zeros((1, 1))), label="scaled")
    x_edge = 2 * ndtri(1 - 1e-6)
    expect = 2 * np.exp(-3 * x_edge**2 / 8)
    assert density_ratio_infimum(densities.Normal(0, 1), q) == pytest.approx(expect, rel=1e-6)
    # q̂ = N(0, 0.5²): p/q̂ = 0.5 exp(1.5 x²), smallest at x = 0 (a grid point): 0.5
    q2 = exact_density((np.array([[0.5]]), np.zeros((1, 1))), label="narrow")
    assert density_ratio_infimum(densities.Normal(0, 1), q2) == pytest.approx(0.5, rel=1e-12)


def test_read_bound_statuses_from_synthetic_errors():
    # λ = 0.5: trivial (2/λ = 4); λ = 1000: 2/λ = 0.002 below the floor 0.01 -> not testable; λ = 10 (bound 0.2):
    # errors around 0.05 -> consistent.  Feeding the alternative (errors around 0.4 at λ = 10, above 2/λ by many
    # standard errors) turns the verdict to violated at λ = 10.
    from lsgan_theory.studies.theorem1 import read_bound
    rng = np.random.default_rng(0)
    lams = [0.5, 10.0, 1000.0]
    ok = np.stack([rng.normal(1.0, 0.05, 8), rng.normal(0.05, 0.01, 8), rng.normal(0.02, 0.005, 8)])
    r = read_bound(lams, ok, floor=0.01)
    assert [row.status for row in r.rows] == ["trivial", "consistent", "not testable"]
    assert r.verdict == "consistent" and r.violated_at == []
    assert r.trend_rho < 0 and r.trend_ci[1] < 0  # the error falls with λ
    bad = ok.copy()
    bad[1] = rng.normal(0.4, 0.01, 8)
    rb = read_bound(lams, bad, floor=0.01)
    assert rb.verdict == "violated" and rb.violated_at == [10.0]
    # a floor above every testable bound leaves nothing testable
    assert read_bound(lams, ok, floor=0.5).verdict == "not testable"
    # two seeds with a wide spread straddling 2/λ: the interval cannot tell -> inconclusive, never consistent
    wide = np.array([[1.0, 1.0], [0.05, 0.5], [0.02, 0.02]])
    assert read_bound(lams, wide, floor=0.01).rows[1].status == "inconclusive"


def test_theorem1_claim_check_fails_on_a_violation_and_states_power():
    # The claim's check from read_bound's reading: errors well below 2/λ pass (and a 4× tighter bound, 0.5/λ, is
    # rejected in the same numbers: power); errors above 2/λ at a testable λ fail; nothing testable -> inconclusive.
    from lsgan_theory._claims.theorem1 import _bound_check
    from lsgan_theory.studies.theorem1 import read_bound
    rng = np.random.default_rng(1)
    lams = np.array([1.0, 3.0, 10.0])
    good = np.stack([rng.normal(0.5, 0.01, 6), rng.normal(0.3, 0.01, 6), rng.normal(0.08, 0.005, 6)])
    c = _bound_check("t", read_bound(lams, good, floor=0.01), lams)
    assert c.status == "pass" and c.statistic == 0.0 and c.alternative_statistic > 0
    bad = good.copy()
    bad[2] = rng.normal(0.6, 0.01, 6)  # 3× the bound 0.2 at λ = 10
    assert _bound_check("t", read_bound(lams, bad, floor=0.01), lams).status == "fail"
    assert _bound_check("t", read_bound(lams, good, floor=5.0), lams).status == "inconclusive"
