"""Property tests for your own GAN loss with lsgan_theory.testing — copy this file into your project's tests/.

The loss here is the alpha-GAN with alpha = 2 (Kurri et al. 2021): the discriminator maximises
E_p 2(sqrt(D) - 1) + E_q 2(sqrt(1 - D) - 1).  Replace REAL, FAKE (and D_STAR) with your own loss; run with pytest.
"""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lsgan_theory import testing as lt
from lsgan_theory.losses import compile_custom_loss
from lsgan_theory.symbolic import derive_custom

REAL, FAKE = "2*(sqrt(D) - 1)", "2*(sqrt(1 - D) - 1)"
DERIVED = derive_custom(REAL, FAKE)          # D*, the value at D*, its divergence, verdicts (sympy)
LOSS = compile_custom_loss(REAL, FAKE)       # the same formulas as a torch loss (D = sigmoid(network output))


def D_STAR(p, q):
    """The optimum you claim for your loss (here the paper's p^2/(p^2 + q^2))."""
    return p**2 / (p**2 + q**2)


def test_derivation_finds_the_claimed_optimum_and_a_proper_objective():
    p, q = np.array([0.3, 1.0, 2.0]), np.array([1.0, 1.0, 0.5])
    from lsgan_theory.symbolic.numeric import lambdify_pq
    assert np.allclose(lambdify_pq(DERIVED.d_star)(p, q), D_STAR(p, q), rtol=1e-12)
    assert DERIVED.is_proper is True           # minimised exactly at q = p


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(0.01, 10.0), min_size=4, max_size=4), st.lists(st.floats(0.01, 10.0), min_size=4, max_size=4))
def test_trained_loss_is_minimised_at_the_claimed_optimum(p, q):
    lt.assert_optimal_discriminator(LOSS.d_loss, D_STAR, p, q, to_d=torch.sigmoid)


@settings(max_examples=5, deadline=None)
@given(lt.density_pairs(dim=1))
def test_generator_objective_is_a_divergence_up_to_its_constant(pq):
    lt.assert_divergence(DERIVED, *pq, subtract_constant=True)


@settings(max_examples=10, deadline=None)
@given(lt.loss_values(), lt.loss_values())
def test_zero_sum_generator_loss_is_the_fake_term(out_real, out_fake):
    # the generator of the zero-sum game minimises E_q fake(D); an independent hand-written version
    def by_hand(f):
        return (2 * (torch.sqrt(1 - torch.sigmoid(f)) - 1)).mean(-1)
    lt.assert_reduces_to(LOSS.g_loss, by_hand, (out_fake,), rtol=1e-9, atol=1e-9)
