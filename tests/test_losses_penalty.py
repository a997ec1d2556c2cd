"""Gradient penalties (lsgan_theory.losses): per-sample norms, batched critics, closed forms, the batch-norm bug.

Float64.  The per-sample loop and the vectorised penalty evaluate the same gradients with different reduction
orders over <= a few hundred O(1) terms; rounding is < 1e-12, so rtol = atol = 1e-10 (see tests/test_losses.py).
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lsgan_theory import losses as L

DT = torch.float64
TOL = dict(rtol=1e-10, atol=1e-10)


def conv_critic(seed: int, C: int = 2):
    """A tiny conv net (B, C, H, W) -> (B, 1) with no batch mixing, float64."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Conv2d(C, 3, 3, padding=1), torch.nn.Tanh(), torch.nn.Flatten(),
                              torch.nn.LazyLinear(1)).to(DT)
    net(torch.zeros(1, C, 5, 4, dtype=DT))  # materialise the lazy layer
    return net


def per_sample_loop(critic, xr, xf, eps, weight=10.0):
    """Reference: one sample at a time, gradient of a scalar output, norm over all of that sample's entries."""
    terms = []
    for i in range(xr.shape[0]):
        xh = (eps[i] * xr[i] + (1 - eps[i]) * xf[i]).unsqueeze(0).requires_grad_(True)
        (g,) = torch.autograd.grad(critic(xh).sum(), xh, create_graph=True)
        terms.append((g.flatten().norm() - 1) ** 2)
    return weight * torch.stack(terms).mean()


@given(st.integers(0, 1000), st.integers(1, 6))
def test_gradient_penalty_on_images_equals_a_per_sample_loop(seed, B):
    net = conv_critic(seed)
    g = torch.Generator().manual_seed(seed)
    xr, xf = torch.randn(B, 2, 5, 4, generator=g, dtype=DT), torch.randn(B, 2, 5, 4, generator=g, dtype=DT)
    eps = torch.rand(B, generator=g, dtype=DT)
    got = L.gradient_penalty(net, xr, xf, eps=eps)  # event_dims defaults to 3 = all non-batch dims
    ref = per_sample_loop(net, xr, xf, eps)
    torch.testing.assert_close(got, ref, **TOL)
    # the penalty is differentiable w.r.t. the critic's parameters, with the loop's gradient
    params = list(net.parameters())[:-1]  # the final bias does not affect input gradients
    for a, b in zip(torch.autograd.grad(got, params, retain_graph=True), torch.autograd.grad(ref, params)):
        torch.testing.assert_close(a, b, **TOL)


def test_batch_level_or_single_axis_norm_gives_a_different_penalty():
    # negative control: the two known bugs evaluated on the same inputs and ε differ from the per-sample penalty
    net = conv_critic(3)
    g = torch.Generator().manual_seed(3)
    xr, xf = torch.randn(6, 2, 5, 4, generator=g, dtype=DT), torch.randn(6, 2, 5, 4, generator=g, dtype=DT)
    eps = torch.rand(6, generator=g, dtype=DT)
    right = L.gradient_penalty(net, xr, xf, eps=eps)
    xh = (eps.view(-1, 1, 1, 1) * xr + (1 - eps.view(-1, 1, 1, 1)) * xf).requires_grad_(True)
    (grad,) = torch.autograd.grad(net(xh).sum(), xh)
    batch_norm_bug = 10.0 * (grad.norm() - 1) ** 2  # one norm over the whole batch
    dim1_bug = 10.0 * ((grad.norm(2, dim=1) - 1) ** 2).mean()  # norm over channels only (public LS-GAN-GP code)
    assert (right - batch_norm_bug).abs().item() > 1e-3 * right.item()
    assert (right - dim1_bug).abs().item() > 1e-3 * right.item()


@given(st.integers(0, 1000), st.integers(1, 4), st.integers(1, 7), st.integers(1, 3))
def test_gradient_penalty_of_a_batched_critic_equals_a_loop_over_models(seed, E, n, d):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(E, d, 5, generator=g, dtype=DT, requires_grad=True)
    v = torch.randn(E, 5, generator=g, dtype=DT, requires_grad=True)

    def batched(x):  # (E, n, d) -> (E, n)
        return torch.einsum("enh,eh->en", torch.tanh(torch.einsum("end,edh->enh", x, W)), v)

    xr, xf = torch.randn(E, n, d, generator=g, dtype=DT), torch.randn(E, n, d, generator=g, dtype=DT)
    weight = torch.rand(E, generator=g, dtype=DT) * 10
    gens = [torch.Generator().manual_seed(100 + e) for e in range(E)]
    got = L.gradient_penalty(batched, xr, xf, gp_weight=weight, generator=gens, event_dims=1)
    assert got.shape == (E,)
    for e in range(E):
        # one stream per model: model e's ε comes from its own generator, independent of E
        eps_e = torch.rand(n, generator=torch.Generator().manual_seed(100 + e), dtype=DT)
        single = L.gradient_penalty(lambda x, e=e: torch.tanh(x @ W[e]) @ v[e], xr[e], xf[e],
                                    gp_weight=weight[e].item(), eps=eps_e)
        torch.testing.assert_close(got[e], single, **TOL)
    # independent per-model gradients
    (gW,) = torch.autograd.grad(got[0], W, retain_graph=True)
    assert bool((gW[1:] == 0).all())


@given(st.integers(0, 1000), st.integers(1, 8), st.integers(1, 4), st.floats(0.0, 3.0))
def test_gradient_penalty_of_a_linear_critic_is_the_weight_times_norm_gap_squared(seed, n, d, target):
    # f(x) = w·x has ∇f = w everywhere: penalty = weight·(||w|| - t)² for any ε (closed form)
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(d, generator=g, dtype=DT)
    xr, xf = torch.randn(n, d, generator=g, dtype=DT), torch.randn(n, d, generator=g, dtype=DT)
    got = L.gradient_penalty(lambda x: x @ w, xr, xf, gp_weight=2.5, target=target, generator=g)
    assert got.item() == pytest.approx(2.5 * (w.norm().item() - target) ** 2, rel=1e-12, abs=1e-12)


@given(st.integers(0, 1000), st.integers(1, 8), st.integers(1, 4))
def test_gradient_penalty_of_a_quadratic_critic_matches_its_closed_form(seed, n, d):
    # f(x) = ½||x||² has ∇f(x̂) = x̂, so the penalty is weight · mean_i (||ε_i x_i + (1-ε_i) x̃_i|| - 1)²
    g = torch.Generator().manual_seed(seed)
    xr, xf = torch.randn(n, d, generator=g, dtype=DT), torch.randn(n, d, generator=g, dtype=DT)
    eps = torch.rand(n, generator=g, dtype=DT)
    got = L.gradient_penalty(lambda x: 0.5 * (x ** 2).sum(-1), xr, xf, eps=eps)
    xh = eps[:, None] * xr + (1 - eps[:, None]) * xf
    torch.testing.assert_close(got, 10.0 * ((xh.norm(dim=-1) - 1) ** 2).mean(), **TOL)


def test_gradient_penalty_draws_one_weight_per_sample_from_the_generator():
    xr, xf = torch.zeros(5, 1, dtype=DT), torch.ones(5, 1, dtype=DT)
    seen = []

    def critic(x):
        seen.append(x.detach().clone())
        return 0.5 * (x ** 2).sum(-1)

    L.gradient_penalty(critic, xr, xf, generator=torch.Generator().manual_seed(0))
    # x̂ = ε·0 + (1 - ε)·1 = 1 - ε with ε ~ U[0,1] drawn per sample: five different values
    eps = 1 - seen[0][:, 0]
    ref = torch.rand(5, generator=torch.Generator().manual_seed(0), dtype=DT)
    torch.testing.assert_close(eps, ref, rtol=0, atol=1e-15)
    assert len(set(eps.tolist())) == 5


def test_gradient_penalty_input_validation():
    x = torch.zeros(4, 2, dtype=DT)
    with pytest.raises(ValueError, match="generator"):
        L.gradient_penalty(lambda t: t.sum(-1), x, x)
    with pytest.raises(ValueError, match="same shape"):
        L.gradient_penalty(lambda t: t.sum(-1), x, torch.zeros(3, 2, dtype=DT), eps=torch.zeros(4, dtype=DT))
    with pytest.raises(ValueError, match="eps"):
        L.gradient_penalty(lambda t: t.sum(-1), x, x, eps=torch.full((4,), 1.5, dtype=DT))
    with pytest.raises(ValueError, match="gp_weight"):
        L.gradient_penalty(lambda t: t.sum(-1), x, x, eps=torch.zeros(4, dtype=DT), gp_weight=-1.0)
    with pytest.raises(ValueError, match="critic"):
        L.gradient_penalty(lambda t: t.sum(), x, x, eps=torch.zeros(4, dtype=DT))
    with pytest.raises(ValueError, match="event_dims"):
        L.gradient_penalty(lambda t: t.sum(-1), x, x, eps=torch.zeros(4, dtype=DT), event_dims=2)
    with pytest.raises(ValueError, match="generator"):
        L.gradient_penalty(lambda t: t.sum(-1), torch.zeros(3, 4, 2, dtype=DT), torch.zeros(3, 4, 2, dtype=DT),
                           generator=[torch.Generator()] * 2, event_dims=1)


# ---------------------------------------------------------------------------------------------- LS-GAN penalties
@given(st.integers(0, 1000), st.integers(1, 6), st.integers(1, 4))
def test_gradient_norm_penalty_equals_mean_squared_input_gradient(seed, n, d):
    # f(x) = sin(a·x) has ∇f = a cos(a·x); ||∇f||² = ||a||² cos²(a·x)
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(d, generator=g, dtype=DT)
    x = torch.randn(n, d, generator=g, dtype=DT)
    got2 = L.gradient_norm_penalty(lambda t: torch.sin(t @ a), x, gp_weight=0.3)
    got1 = L.gradient_norm_penalty(lambda t: torch.sin(t @ a), x, gp_weight=0.3, power=1)
    c = torch.cos(x @ a)
    torch.testing.assert_close(got2, 0.3 * (a.norm() ** 2 * c ** 2).mean(), **TOL)
    torch.testing.assert_close(got1, 0.3 * (a.norm() * c.abs()).mean(), **TOL)


@given(st.integers(0, 1000), st.integers(1, 6), st.integers(1, 4))
def test_slope_penalty_of_a_linear_loss_is_the_directional_slope(seed, n, d):
    # L(x) = w·x: the slope between two points of the segment x_i -> x̃_i is |w·u_i|, u_i = (x_i - x̃_i)/||x_i - x̃_i||
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(d, generator=g, dtype=DT)
    xr, xf = torch.randn(n, d, generator=g, dtype=DT), torch.randn(n, d, generator=g, dtype=DT)
    got = L.slope_penalty(lambda t: t @ w, xr, xf, generator=g)
    u = (xr - xf) / (xr - xf).norm(dim=-1, keepdim=True)
    torch.testing.assert_close(got, 10.0 * (((u @ w).abs() - 1) ** 2).mean(), **TOL)


def test_slope_penalty_of_a_curved_loss_depends_on_per_sample_weights():
    # L(x) = ½||x||²: slope between t1, t2 on the segment depends on where the points are, so per-sample ε matter;
    # check against a hand loop with the given ε pairs
    g = torch.Generator().manual_seed(2)
    xr, xf = torch.randn(5, 3, generator=g, dtype=DT), torch.randn(5, 3, generator=g, dtype=DT)
    eps = torch.rand(2, 5, generator=g, dtype=DT)
    got = L.slope_penalty(lambda t: 0.5 * (t ** 2).sum(-1), xr, xf, eps=eps, gp_weight=1.0)
    terms = []
    for i in range(5):
        p1 = eps[0, i] * xr[i] + (1 - eps[0, i]) * xf[i]
        p2 = eps[1, i] * xr[i] + (1 - eps[1, i]) * xf[i]
        s = abs(0.5 * (p1 ** 2).sum() - 0.5 * (p2 ** 2).sum()) / (p1 - p2).norm()
        terms.append((s - 1) ** 2)
    torch.testing.assert_close(got, torch.stack(terms).mean(), **TOL)
    # the public code's single ε pair for the whole batch gives a different value
    one = L.slope_penalty(lambda t: 0.5 * (t ** 2).sum(-1), xr, xf, eps=torch.stack(
        [eps[0, :1].expand(5), eps[1, :1].expand(5)]), gp_weight=1.0)
    assert (one - got).abs().item() > 1e-3


def test_slope_penalty_rejects_coinciding_interpolates():
    x = torch.zeros(2, 2, dtype=DT)
    with pytest.raises(ValueError, match="coincides"):
        L.slope_penalty(lambda t: t.sum(-1), x, x + 1, eps=torch.full((2, 2), 0.5, dtype=DT))
    assert math.isfinite(L.slope_penalty(lambda t: t.sum(-1), x, x + 1,
                                         eps=torch.tensor([[0.1, 0.2], [0.7, 0.9]], dtype=DT)).item())
