"""Optimal discriminators of the loss zoo over a *tabular* D (one free value per grid point), THEORY.md §1-§3.

Set-up: two known 1-D densities p, q; Gauss-Legendre nodes x_k with weights w_k on their joint quadrature domain.
The population discriminator loss E_p A(D) + E_q B(D) becomes Σ_k w_k (p_k A(D_k) + q_k B(D_k)), separable in the
D_k.  A and B are evaluated with the package's own loss functions, one grid point per *model* (leading axis K, one
sample each): A(D) + B(0) = loss(d_real = D, d_fake = 0) and A(0) + B(D) = loss(d_real = 0, d_fake = D); the added
constants do not move the minimiser.  Each D_k is convex in its own term, so bisection on the sign of the autograd
derivative finds the minimiser to float64 resolution, independently of any closed form.

Tolerances.  Bisection: halvings until the bracket is < 1e-16 wide (below one ulp of the O(1) roots); the
remaining error is the rounding of the derivative, whose terms have relative error ~ eps, moving the root by
~ eps · |b - a| (least squares, hinge) or by ~ eps in logit units (classic GAN): atol 1e-12 on D is 4000 ulps of
slack.  Values at the optimum: the 600-node Gauss-Legendre rule (for the hinge: a 200-node rule on each piece
between the crossings of p and q, where its integrand min(p, q) has kinks) on a domain whose tails hold < 1e-30 of
the mass integrates these smooth integrands to ~1e-13 (the rule is exact for polynomials of degree 1199); we allow
1e-9 plus the quadrature abserr reported by lsgan_theory.divergences.  Negative controls: the 0-1 coding is not a
divergence, the sigmoid-before-squares bug moves D*.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lsgan_theory import densities as Dn
from lsgan_theory import divergences as dv
from lsgan_theory import losses as L

DT = torch.float64
P = Dn.Mixture([Dn.Normal(-1.0, 0.6), Dn.Normal(1.5, 0.8)], [0.4, 0.6])
Q = Dn.Normal(0.5, 1.2)


def crossings(p, q, lo, hi):
    """The points where p = q (sign changes of p - q on a fine scan, refined by Brent's method)."""
    from scipy.optimize import brentq

    xs = np.linspace(lo, hi, 20001)
    d = p.pdf(xs) - q.pdf(xs)
    idx = np.nonzero(np.sign(d[:-1]) * np.sign(d[1:]) < 0)[0]
    return [brentq(lambda t: p.pdf(t) - q.pdf(t), xs[i], xs[i + 1], xtol=1e-15) for i in idx]


def grid(p=P, q=Q, n=600, split_at_crossings=False):
    """Gauss-Legendre nodes and the weights w·p(x), w·q(x); optionally one rule per piece between crossings of
    p and q, so that integrands with a kink where p = q (hinge: min(p, q)) are smooth on every piece."""
    lo = min(p.domain()[0][0], q.domain()[0][0])
    hi = max(p.domain()[0][1], q.domain()[0][1])
    cuts = [lo, *(crossings(p, q, lo, hi) if split_at_crossings else []), hi]
    t, w0 = np.polynomial.legendre.leggauss(n)
    xs, ws = [], []
    for a, b in zip(cuts[:-1], cuts[1:]):
        xs.append(0.5 * (b - a) * t + 0.5 * (b + a))
        ws.append(0.5 * (b - a) * w0)
    x, w = np.concatenate(xs), np.concatenate(ws)
    return (torch.tensor(x, dtype=DT), torch.tensor(w * p.pdf(x), dtype=DT), torch.tensor(w * q.pdf(x), dtype=DT))


def tabular_minimiser(loss, wp, wq, lo=-10.0, hi=10.0):
    return L.tabular_minimiser(loss, wp, wq, lo=lo, hi=hi)


def test_tabular_grid_integrates_both_densities_to_one():
    # sanity of the quadrature the other tests rely on
    _, wp, wq = grid()
    assert abs(wp.sum().item() - 1) < 1e-12 and abs(wq.sum().item() - 1) < 1e-12


@pytest.mark.parametrize("abc", [(-1.0, 1.0, 0.0), (0.0, 1.0, 1.0)])
def test_least_squares_tabular_minimiser_is_closed_form_d_star(abc):
    # D*(x) = (b p + a q)/(p + q)   (THEORY.md §2)
    a, b, c = abc
    x, wp, wq = grid()
    D = tabular_minimiser(lambda r, f: L.least_squares_discriminator_loss(r, f, a, b), wp, wq)
    p, q = torch.tensor(P.pdf(x.numpy())), torch.tensor(Q.pdf(x.numpy()))
    torch.testing.assert_close(D, (b * p + a * q) / (p + q), rtol=0, atol=1e-12)


def test_least_squares_generator_value_at_d_star_is_the_triangular_discrimination():
    # (a, b, c) = (-1, 1, 0): 2 C(G) = 2[½ E_p (D* - c)² + ½ E_q (D* - c)²] = ∫ (p - q)²/(p + q)
    x, wp, wq = grid()
    D = tabular_minimiser(lambda r, f: L.least_squares_discriminator_loss(r, f, -1.0, 1.0), wp, wq)
    per_point = L.least_squares_generator_loss(D[:, None], 0.0)  # ½ (D_k - c)², one point per model
    two_c = 2 * ((wp + wq) * per_point).sum().item()
    ref = dv.triangular(P, Q)
    assert abs(two_c - ref.value) <= 1e-9 + ref.abserr


def test_zero_one_coding_generator_value_is_not_a_divergence():
    # (a, b, c) = (0, 1, 1): 2 C(G) = ∫ q²/(p + q) [derived], which is 1/2 > 0 at q = p (negative control)
    for p in (P, Q):
        x, wp, wq = grid(p, Q)
        D = tabular_minimiser(lambda r, f: L.least_squares_discriminator_loss(r, f, 0.0, 1.0), wp, wq)
        two_c = 2 * ((wp + wq) * L.least_squares_generator_loss(D[:, None], 1.0)).sum().item()
        ref = dv.integrate_pointwise(lambda pp, qq: qq ** 2 / (pp + qq), p, Q)
        assert abs(two_c - ref.value) <= 1e-9 + ref.abserr
    assert abs(two_c - 0.5) < 1e-9  # last p is Q itself: ∫ q²/(2q) = 1/2, not 0


def test_sigmoid_before_squares_moves_the_optimum():
    # negative control: the public-code bug (sigmoid on D before the squared loss) cannot reach D* < 0 for a = -1
    x, wp, wq = grid()
    D = tabular_minimiser(lambda r, f: L.least_squares_discriminator_loss(torch.sigmoid(r), torch.sigmoid(f)),
                          wp, wq, lo=-50.0, hi=50.0)
    p, q = torch.tensor(P.pdf(x.numpy())), torch.tensor(Q.pdf(x.numpy()))
    d_star = (p - q) / (p + q)
    assert (torch.sigmoid(D) - d_star).abs().max().item() > 0.5


def test_gan_tabular_minimiser_is_p_over_p_plus_q_and_value_is_jsd():
    # D*(x) = p/(p + q) with D = σ(logit); V(D*, G) = -log 4 + 2 JSD(p‖q)   (THEORY.md §1)
    x, wp, wq = grid()
    logit = tabular_minimiser(L.gan_discriminator_loss, wp, wq, lo=-400.0, hi=400.0)  # |log p/q| < 300 here
    p, q = torch.tensor(P.pdf(x.numpy())), torch.tensor(Q.pdf(x.numpy()))
    # compared on D, not on logits: in the far tails (p, q ~ 1e-200) the derivative underflows and the logit is
    # loose, but there D* = σ(logit) is within 1e-12 of 0 or 1 on both sides anyway
    torch.testing.assert_close(torch.sigmoid(logit), p / (p + q), rtol=0, atol=1e-12)
    zero = torch.zeros(len(x), 1, dtype=DT)
    # split the loss into its real and fake halves: A(ℓ) = loss(ℓ, -∞-ish) is not available, so use exact offsets:
    # loss(ℓ, 0) = A(ℓ) + log 2 and loss(0, ℓ) = log 2 + B(ℓ)
    A = L.gan_discriminator_loss(logit[:, None], zero) - math.log(2)
    B = L.gan_discriminator_loss(zero, logit[:, None]) - math.log(2)
    value = -(wp * A + wq * B).sum().item()
    ref = dv.js(P, Q)
    assert abs(value - (-math.log(4) + 2 * ref.value)) <= 1e-9 + 2 * ref.abserr


def test_hinge_tabular_minimiser_is_sign_of_p_minus_q_and_value_is_two_minus_l1():
    # D* = +1 where p > q, -1 where p < q; min L_D = 2(1 - TV)   (THEORY.md §3)
    x, wp, wq = grid(n=200, split_at_crossings=True)  # min(p, q) has kinks at the crossings: split there
    D = tabular_minimiser(L.hinge_discriminator_loss, wp, wq, lo=-3.0, hi=2.5)
    p, q = P.pdf(x.numpy()), Q.pdf(x.numpy())
    keep = torch.tensor(np.abs(p - q) > 1e-12 * (p + q))  # the kink is unresolvable only where p = q exactly
    torch.testing.assert_close(D[keep], torch.tensor(np.sign(p - q), dtype=DT)[keep], rtol=0, atol=1e-12)
    zero = torch.zeros(len(x), 1, dtype=DT)
    A = L.hinge_discriminator_loss(D[:, None], zero) - 1.0  # loss(D, 0) = (1 - D)_+ + 1
    B = L.hinge_discriminator_loss(zero, D[:, None]) - 1.0
    value = (wp * A + wq * B).sum().item()
    ref = dv.tv(P, Q)
    assert abs(value - 2 * (1 - ref.value)) <= 1e-9 + 2 * ref.abserr


def test_tabular_minimiser_rejects_bad_weights_and_brackets():
    w = torch.ones(3, dtype=DT)
    with pytest.raises(ValueError, match="w_real"):
        L.tabular_minimiser(L.hinge_discriminator_loss, -w, w)
    with pytest.raises(ValueError, match="w_real"):
        L.tabular_minimiser(L.hinge_discriminator_loss, w, torch.ones(4, dtype=DT))
    with pytest.raises(ValueError, match="lo must be < hi"):
        L.tabular_minimiser(L.hinge_discriminator_loss, w, w, lo=1.0, hi=-1.0)
