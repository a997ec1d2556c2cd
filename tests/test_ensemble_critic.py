"""The optimal-critic check: trained discriminators against a fixed generator match the closed-form D*."""

from __future__ import annotations

import numpy as np
import pytest

from lsgan_theory.studies.critic import closed_form_critic, optimal_critic


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.mark.parametrize("family", ["gan", "least_squares", "hinge"])
def test_trained_discriminator_matches_closed_form_optimum_within_sampling_noise(family):
    # Tolerance: 2 × the seed-to-seed spread of the trained critics (their sampling noise); the negative controls
    # (other families' D*, a shifted q) must lie outside it, so the check can fail.
    chk = optimal_critic(family, n_models=6, steps=300, batch=64, device="cpu")
    assert chk.error <= chk.tolerance, (chk.error, chk.tolerance)
    assert all(v > chk.tolerance for v in chk.controls.values()), chk.controls
    assert chk.passed and not chk.result.diverged.any()


def test_closed_form_critics():
    p, q = np.array([1.0, 0.2, 0.5]), np.array([0.2, 1.0, 0.5])
    np.testing.assert_allclose(closed_form_critic("gan", p, q), [1 / 1.2, 0.2 / 1.2, 0.5])
    np.testing.assert_allclose(closed_form_critic("least_squares", p, q, a=-1, b=1), [0.8 / 1.2, -0.8 / 1.2, 0.0])
    np.testing.assert_allclose(closed_form_critic("hinge", p, q), [1, -1, 0])
    with pytest.raises(ValueError, match="family"):
        closed_form_critic("wgan", p, q)


def test_trained_loss_sensitive_networks_reach_the_lp_optimum_and_lie_in_its_bounds():
    # Theorem 2 / Corollary 2: the exact LP optimum S*_{n,m} is what a κ-Lipschitz, non-negative loss network can
    # reach on these samples, and every minimiser lies in [L⁻, L⁺]. Tolerances: the sampling sd of S*_{n,m} (fresh
    # samples) for the objective, twice the seed-to-seed spread for the curves; the LPs with κ/2 and with 4λ are the
    # negative controls and must fall outside both.
    from lsgan_theory.studies.critic import loss_sensitive_critic

    c = loss_sensitive_critic(n_models=6, steps=2000, sampling_reps=10)
    assert c.lower_bound_holds, (c.s_models, c.s_star_relaxed)
    assert c.objective_error <= c.sampling_sd, (c.s_models, c.s_star, c.sampling_sd)
    assert c.band_error <= c.band_tolerance, (c.band_error, c.band_tolerance)
    for name, (ds, db) in c.controls.items():
        assert ds > c.sampling_sd and db > c.band_tolerance, (name, ds, db)
    assert c.passed
    # the interpolation property of the bounds themselves, at the sample points (L⁻ = L⁺ = l* there)
    pts = np.concatenate([c.real, c.fake])
    from lsgan_theory import nonparametric as npm

    sol = npm.solve(c.real, c.fake, c.lam, c.kappa)
    np.testing.assert_allclose(sol.lower(pts), sol.upper(pts), atol=1e-8)


@pytest.mark.parametrize("kw,match", [({"p": "normal2d(0,0,1)"}, "p, q"), ({"n": 1}, "n:"), ({"steps": 0}, "steps")])
def test_loss_sensitive_critic_rejects_bad_input(kw, match):
    from lsgan_theory.studies.critic import loss_sensitive_critic

    with pytest.raises(ValueError, match=match):
        loss_sensitive_critic(**kw)
