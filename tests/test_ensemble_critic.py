"""The optimal-critic check: trained discriminators against a fixed generator match the closed-form D*."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lsgan_theory.ensemble.critic import closed_form_critic, optimal_critic


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    # These models are tiny: one thread is as fast as two, and OpenMP barriers on a 2-core machine shared with other
    # test processes can slow multi-threaded small kernels down by an order of magnitude.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


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
