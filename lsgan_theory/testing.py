"""Hypothesis strategies and assertions for property tests of GAN losses — the kit this package's own tests use.

Like :mod:`hypothesis.extra.numpy`: import the strategies into your own test-suite and combine them with
``@given``; the assertions raise ``AssertionError`` with the measured numbers, so a failing example is readable.
Requires ``hypothesis`` (``pip install lsgan-theory[dev]`` or ``pip install hypothesis``).

Strategies
----------
:func:`densities`            a :class:`lsgan_theory.densities.Density` (1-D or 2-D, Lipschitz or not, compact support
                             or not)
:func:`density_pairs`        a pair (P, Q) of distinct densities of one dimension
:func:`sample_sets`          a pair (real (n, d), fake (m, d)) of float64 sample arrays
:func:`margin_matrices`      (real, fake, margin) with margin[i, j] = τ‖x_i − z_j‖ (l1 or l2), as torch tensors
:func:`loss_values`          a float64 tensor of network outputs (logits, scores or loss values), shape (E, n)
:func:`abc_codings`          an LSGAN label coding (a, b, c), chosen by property (proper / divergence, THEORY.md §2)
:func:`networks`             an ensemble of E small batched MLPs (:class:`Networks`) with parameters requiring grad

Assertions
----------
:func:`assert_divergence`             non-negative, zero at P = Q and positive at P ≠ Q, by quadrature
:func:`assert_reduces_to`             two losses agree in value (or up to a constant) and in gradient
:func:`assert_optimal_discriminator`  a loss's pointwise minimiser over a tabular D equals a claimed D*

Example (``examples/test_my_loss.py`` in the repository is this file, runnable with pytest)::

    from hypothesis import given, settings
    from lsgan_theory import testing as lt
    from lsgan_theory.losses import compile_custom_loss
    from lsgan_theory.symbolic import derive_custom

    REAL, FAKE = "2*(sqrt(D) - 1)", "2*(sqrt(1 - D) - 1)"          # the alpha-GAN, alpha = 2

    @settings(max_examples=10, deadline=None)
    @given(lt.density_pairs(dim=1))
    def test_my_loss_generator_objective_is_a_divergence(pq):
        lt.assert_divergence(derive_custom(REAL, FAKE), *pq, subtract_constant=True)

Conventions
-----------
Losses are callables ``loss(out_real (E, n), out_fake (E, m)) -> (E,)`` to *minimise* (the signature of
:mod:`lsgan_theory.losses`).  Tolerances are stated in each docstring: quadrature checks use the error bounds the
quadrature returns; value/gradient comparisons use float64 rounding bounds (default rtol = atol = 1e-10).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

try:
    from hypothesis import strategies as st
    from hypothesis.errors import InvalidArgument
except ImportError as exc:  # pragma: no cover - hypothesis is a dev dependency
    raise ImportError("lsgan_theory.testing needs hypothesis: pip install hypothesis "
                      "(or pip install 'lsgan-theory[dev]')") from exc

from . import densities as _densities
from . import divergences as _divergences
from . import losses as _losses
from .ensemble import mlp as _mlp

__all__ = ["densities", "density_pairs", "sample_sets", "margin_matrices", "loss_values", "abc_codings",
           "networks", "Networks", "assert_divergence", "assert_reduces_to", "assert_optimal_discriminator"]

_LOC = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)
_SCALE = st.floats(0.3, 2.0, allow_nan=False, allow_infinity=False)


def _r(x: float, digits: int = 3) -> float:
    """Round a drawn number so that densities have short, reproducible specs."""
    return float(round(x, digits))


# ---------------------------------------------------------------------------------------------------- densities
@st.composite
def _normal_mixture_1d(draw):
    k = draw(st.integers(1, 3))
    comps = [_densities.Normal(_r(draw(_LOC)), _r(draw(_SCALE))) for _ in range(k)]
    if k == 1:
        return comps[0]
    w = np.array([_r(draw(st.floats(0.1, 1.0))) for _ in range(k)])
    return _densities.Mixture(comps, (w / w.sum()).tolist())


@st.composite
def _compact_lipschitz_1d(draw):
    if draw(st.booleans()):
        return _densities.Beta(_r(draw(st.floats(2.0, 6.0))), _r(draw(st.floats(2.0, 6.0))))
    lo = _r(draw(st.floats(-3.0, 1.0)))
    width = _r(draw(st.floats(0.5, 3.0)))
    mode = _r(lo + width * draw(st.floats(0.1, 0.9)))
    return _densities.Triangular(lo, mode, lo + width)


@st.composite
def _compact_jump_1d(draw):
    if draw(st.booleans()):
        lo = _r(draw(st.floats(-3.0, 1.0)))
        return _densities.Uniform(lo, _r(lo + draw(st.floats(0.5, 3.0))))
    return _densities.Beta(_r(draw(st.floats(1.2, 1.9))), _r(draw(st.floats(2.0, 5.0))))  # p ~ x^(a-1): p' → ∞


@st.composite
def _open_jump_1d(draw):
    lo = _r(draw(st.floats(-2.0, 1.0)))
    u = _densities.Uniform(lo, _r(lo + draw(st.floats(0.5, 2.0))))
    n = _densities.Normal(_r(draw(_LOC)), _r(draw(_SCALE)))
    w = _r(draw(st.floats(0.2, 0.8)))
    return _densities.Mixture([u, n], [w, 1 - w])


@st.composite
def _gaussian_2d(draw):
    kind = draw(st.sampled_from(["normal", "mixture", "ring"]))
    if kind == "ring":
        return _densities.Ring(draw(st.integers(3, 8)), _r(draw(st.floats(0.5, 2.0))), _r(draw(st.floats(0.1, 0.5))))
    k = 1 if kind == "normal" else draw(st.integers(2, 3))
    comps = [_densities.Normal2D((_r(draw(_LOC)), _r(draw(_LOC))), _r(draw(_SCALE))) for _ in range(k)]
    return comps[0] if k == 1 else _densities.Mixture(comps, [1.0 / k] * k)


def densities(dim: int = 1, *, lipschitz: bool | None = None, compact: bool | None = None):
    """A strategy for densities of :mod:`lsgan_theory.densities`.

    Parameters
    ----------
    dim : 1 or 2
    lipschitz : bool, optional
        True: Lipschitz densities (normals, normal mixtures, Beta(a, b) with a, b ≥ 2, triangular — Assumption 1 of
        THEORY.md §5); False: not Lipschitz (uniform, Beta with 1 < a < 2, a uniform–normal mixture); None: either.
    compact : bool, optional
        True: compact support (uniform, Beta, triangular); False: unbounded support (normals, mixtures with a
        normal component); None: either.

    Every 2-D density here is a Gaussian (mixture): 2-D with ``lipschitz=False`` or ``compact=True`` raises
    ``hypothesis.errors.InvalidArgument``.  Parameters are rounded to 3 decimals (short specs in failure reports).
    """
    if dim not in (1, 2):
        raise InvalidArgument(f"dim: must be 1 or 2, got {dim!r}")
    for name, v in (("lipschitz", lipschitz), ("compact", compact)):
        if v not in (None, True, False):
            raise InvalidArgument(f"{name}: must be True, False or None, got {v!r}")
    if dim == 2:
        if lipschitz is False or compact is True:
            raise InvalidArgument("dim=2: the package's 2-D densities are Gaussian mixtures (Lipschitz, unbounded "
                                  f"support); got lipschitz={lipschitz!r}, compact={compact!r}")
        return _gaussian_2d()
    table = {(True, False): _normal_mixture_1d(), (True, True): _compact_lipschitz_1d(),
             (False, True): _compact_jump_1d(), (False, False): _open_jump_1d()}
    chosen = [s for (lip, cpt), s in table.items() if lipschitz in (None, lip) and compact in (None, cpt)]
    return st.one_of(*chosen)


def density_pairs(dim: int = 1, *, lipschitz: bool | None = None, compact: bool | None = None,
                  min_tv: float = 1e-3):
    """A strategy for pairs (P, Q) of densities of one dimension (each drawn by :func:`densities`) whose total
    variation distance is at least ``min_tv`` (1-D: checked by quadrature; 2-D: distinct specs), so that a divergence
    must be resolvably positive on them.

    Parameters
    ----------
    dim, lipschitz, compact
        As :func:`densities` (both P and Q are drawn with them).
    min_tv : float
        Least TV(P, Q) − its quadrature error bound (1-D only; default 1e-3).
    """

    def far_enough(pq):
        P, Q = pq
        if P.spec == Q.spec:
            return False
        if dim == 2:
            return True
        tv = _divergences.tv(P, Q)
        return tv.value - tv.abserr >= min_tv

    d = densities(dim, lipschitz=lipschitz, compact=compact)
    return st.tuples(d, d).filter(far_enough)


# ---------------------------------------------------------------------------------------------------- samples
def _arrays(n: int, d: int, lo: float, hi: float):
    return st.lists(st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=64), min_size=n * d,
                    max_size=n * d).map(lambda v: np.asarray(v, dtype=np.float64).reshape(n, d))


def sample_sets(dim: int = 1, *, n=st.integers(1, 8), m=st.integers(1, 8), bound: float = 10.0):
    """A strategy for a pair (real (n, dim), fake (m, dim)) of float64 numpy sample arrays.

    Parameters
    ----------
    dim : int
        Dimension of a sample point (default 1).
    n, m : int or strategy of int
        Numbers of real and generated points (default: drawn in [1, 8]).
    bound : float
        Entries lie in [−bound, bound] (finite, no NaN; default 10).
    """
    n_s = n if isinstance(n, st.SearchStrategy) else st.just(int(n))
    m_s = m if isinstance(m, st.SearchStrategy) else st.just(int(m))
    return st.tuples(n_s, m_s).flatmap(lambda nm: st.tuples(_arrays(nm[0], dim, -bound, bound),
                                                            _arrays(nm[1], dim, -bound, bound)))


def margin_matrices(dim: int = 1, *, n=st.integers(1, 8), m=st.integers(1, 8), margin_kind=None, tau=None):
    """A strategy for (real (n, dim), fake (m, dim), margin (n, m)) float64 tensors with
    margin[i, j] = τ‖x_i − z_j‖ (:func:`lsgan_theory.losses.margin_matrix`).

    Parameters
    ----------
    dim, n, m
        As :func:`sample_sets` (entries in [−10, 10]).
    margin_kind : {"l1", "l2"} or None
        The norm of the margin; None: either.
    tau : float or None
        The margin scale τ; None: drawn in [0.01, 5].
    """
    kinds = st.sampled_from(["l1", "l2"]) if margin_kind is None else st.just(margin_kind)
    taus = st.floats(0.01, 5.0) if tau is None else st.just(float(tau))

    def build(args):
        (xr, xf), kind, t = args
        r, f = torch.tensor(xr), torch.tensor(xf)
        return r, f, _losses.margin_matrix(r, f, margin_kind=kind, tau=t)

    return st.tuples(sample_sets(dim, n=n, m=m), kinds, taus).map(build)


def loss_values(n_models=st.integers(1, 4), n=st.integers(1, 8), *, bound: float = 20.0):
    """A strategy for a float64 tensor of network outputs (logits, scores or loss values), shape (E, n),
    ``requires_grad=True``.

    Parameters
    ----------
    n_models : int or strategy of int
        E, the number of models (default: drawn in [1, 4]).
    n : int or strategy of int
        Outputs per model (default: drawn in [1, 8]).
    bound : float
        Entries lie in [−bound, bound] (finite, no NaN; default 20).
    """
    e_s = n_models if isinstance(n_models, st.SearchStrategy) else st.just(int(n_models))
    n_s = n if isinstance(n, st.SearchStrategy) else st.just(int(n))
    return st.tuples(e_s, n_s).flatmap(
        lambda en: _arrays(en[0], en[1], -bound, bound).map(lambda a: torch.tensor(a).requires_grad_(True)))


def abc_codings(*, proper: bool | None = None, divergence: bool | None = None, bound: int = 4):
    """A strategy for LSGAN codings (a, b, c) (labels of fakes, reals, and the generator's target), by property
    (THEORY.md §2; :func:`lsgan_theory.symbolic.least_squares_classification`):

    * proper (C(G) minimised exactly at q = p) iff a ≠ b;
    * divergence (C(G) ≥ 0 with equality iff q = p) iff a ≠ b and a + b = 2c.

    Values are halves in [−bound, bound] (exact in binary floating point); ``proper=False`` with
    ``divergence=True`` is impossible (InvalidArgument).
    """
    if proper is False and divergence is True:
        raise InvalidArgument("abc_codings: a divergence is always proper; proper=False, divergence=True is empty")
    half = st.integers(-2 * bound, 2 * bound).map(lambda k: k / 2)

    def ok(abc):
        a, b, c = abc
        pr, dv = a != b, a != b and a + b == 2 * c
        return (proper is None or pr == proper) and (divergence is None or dv == divergence)

    if proper is False:  # build directly: a = b (a filter keeps 1 draw in 17 and fails hypothesis' health check)
        return st.tuples(half, half).map(lambda ac: (ac[0], ac[0], ac[1]))
    if divergence is True:  # build directly: c = (a + b)/2 (a + b is a multiple of 1/2, c of 1/4: still exact)
        return st.tuples(half, half).filter(lambda ab: ab[0] != ab[1]).map(lambda ab: (ab[0], ab[1],
                                                                                      (ab[0] + ab[1]) / 2))
    return st.tuples(half, half, half).filter(ok)


@dataclass
class Networks:
    """E small MLPs R^dim → R as one batched ensemble (:mod:`lsgan_theory.ensemble.mlp`).

    ``params``: the stacked parameters (float64, ``requires_grad=True``); ``__call__(x)`` maps x (E, n, dim) or
    (n, dim) (shared by every model) to outputs (E, n)."""

    params: tuple
    activation: str
    n_models: int
    dim: int

    def __call__(self, x) -> torch.Tensor:
        x = torch.as_tensor(x, dtype=torch.float64)
        if x.ndim == 2:
            x = x.expand(self.n_models, *x.shape)
        return _mlp.mlp_forward(self.params, x, self.activation).squeeze(-1)


def networks(dim: int = 1, *, n_models=st.integers(1, 3), width=st.integers(1, 8), depth=st.integers(1, 2),
             activation=st.sampled_from(["tanh", "relu", "leaky_relu"])):
    """A strategy for :class:`Networks`: E MLPs R^dim → R, initialised like ``torch.nn.Linear`` from a drawn seed
    (so a failing example is reproducible), float64 parameters with ``requires_grad=True``.

    Parameters
    ----------
    dim : int
        Input dimension (default 1).
    n_models : int or strategy of int
        E, the number of networks (default: drawn in [1, 3]).
    width : int or strategy of int
        Units per hidden layer (default: drawn in [1, 8]).
    depth : int or strategy of int
        Number of hidden layers (default: drawn in [1, 2]).
    activation : str or strategy of str
        Hidden activation (default: one of tanh, relu, leaky_relu).
    """

    def s(v):
        return v if isinstance(v, st.SearchStrategy) else st.just(v)

    def build(args):
        E, w, k, act, seed = args
        spec = _mlp.MLPSpec((dim, *([w] * k), 1), act)
        params = _mlp.init_mlp(spec, seed, torch.arange(E), 0, dtype=torch.float64)
        return Networks(tuple(p.detach().requires_grad_(True) for p in params), act, E, dim)

    return st.tuples(s(n_models), s(width), s(depth), s(activation), st.integers(0, 2**31 - 1)).map(build)


# ---------------------------------------------------------------------------------------------------- assertions
def _pointwise(fn_or_derivation):
    """(callable (P, Q) -> (value, abserr), constant at P = Q) from a callable or a symbolic Derivation."""
    from .symbolic import Derivation
    from .symbolic.custom import value_function

    if isinstance(fn_or_derivation, Derivation):
        g = value_function(fn_or_derivation)

        def f(P, Q):
            e = _divergences.integrate_pointwise(g, P, Q)
            return e.value, e.abserr
        return f
    if not callable(fn_or_derivation):
        raise TypeError(f"fn: expected a callable fn(P, Q) or a Derivation, got {type(fn_or_derivation).__name__}")

    def f(P, Q):
        v = fn_or_derivation(P, Q)
        if isinstance(v, _divergences.Estimate):
            return float(v.value), float(v.abserr)
        return float(v), 0.0
    return f


def assert_divergence(fn, P, Q, *, atol: float = 1e-9, subtract_constant: bool = False) -> dict:
    """Assert that ``fn`` behaves as a divergence on (P, Q): D(P, P) = 0, D(Q, Q) = 0, D(P, Q) ≥ 0 and, when P ≠ Q,
    D(P, Q) > 0 — each checked against the quadrature error bound.

    Parameters
    ----------
    fn : callable (P, Q) -> float or :class:`lsgan_theory.divergences.Estimate`, or a symbolic
        :class:`lsgan_theory.symbolic.Derivation` (its ``value_at_optimum`` integrated by quadrature,
        :func:`lsgan_theory.divergences.integrate_pointwise`).
    P, Q : densities of one dimension with P ≠ Q (e.g. from :func:`density_pairs`).
    atol : float
        Added to the quadrature error bound (rounding of the integrand; default 1e-9).
    subtract_constant : bool
        Check ``fn − fn(P, P)`` instead (a *proper* objective such as the GAN's −log 4 + 2 JSD: minimised exactly at
        P = Q but not zero there).  The constant must then be the same at (Q, Q) (within the tolerances).

    Statistic and tolerance: zero means |D(P, P)| ≤ abserr + atol; positive means D(P, Q) − c > abserr + atol (c the
    constant).  Returns the measured values.
    """
    f = _pointwise(fn)
    vpp, epp = f(P, P)
    vqq, eqq = f(Q, Q)
    vpq, epq = f(P, Q)
    c = vpp if subtract_constant else 0.0
    out = {"D(P,P)": vpp, "D(Q,Q)": vqq, "D(P,Q)": vpq, "constant": c}
    what = " − D(P,P)" if subtract_constant else ""
    assert abs(vpp - c) <= epp + atol, f"not zero at P = Q: D(P,P) = {vpp:.6g} (P = {P.spec}; tolerance {epp + atol:.3g})"
    assert abs(vqq - c) <= eqq + epp + atol, (f"not {'constant' if subtract_constant else 'zero'} at P = Q: "
                                             f"D(Q,Q){what} = {vqq - c:.6g} (Q = {Q.spec}; tolerance "
                                             f"{eqq + epp + atol:.3g})")
    assert vpq - c >= -(epq + epp + atol), f"negative: D(P,Q){what} = {vpq - c:.6g} for P = {P.spec}, Q = {Q.spec}"
    assert vpq - c > epq + epp + atol, (f"not positive at P ≠ Q: D(P,Q){what} = {vpq - c:.6g} ≤ tolerance "
                                        f"{epq + epp + atol:.3g} for P = {P.spec}, Q = {Q.spec}")
    return out


def _grads(value: torch.Tensor, params) -> list:
    g = torch.autograd.grad(value.sum(), list(params), allow_unused=True, retain_graph=True)
    return [torch.zeros_like(p) if x is None else x for p, x in zip(params, g)]


def assert_reduces_to(loss: Callable, other: Callable, inputs, params=None, *, up_to_constant: bool = False,
                      rtol: float = 1e-10, atol: float = 1e-10) -> None:
    """Assert that ``loss(*inputs)`` equals ``other(*inputs)`` in value and in gradient.

    Parameters
    ----------
    loss, other : callables of the same inputs returning per-model values (any shape, compared elementwise).
    inputs : tuple of tensors (e.g. network outputs from :func:`loss_values`, or samples fed to a network).
    params : sequence of tensors, optional
        What the gradients are taken with respect to (e.g. :class:`Networks` ``.params``); default the inputs that
        require grad.
    up_to_constant : bool
        Values may differ by a constant that does not depend on ``params`` (e.g. GLS-GAN at ν = 1 and WGAN differ
        by E Δ): only gradients are compared, and the difference of values must have zero gradient.
    rtol, atol : float
        ``torch.testing.assert_close`` tolerances (float64 rounding of sums of O(1) terms: default 1e-10).
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    params = [t for t in inputs if isinstance(t, torch.Tensor) and t.requires_grad] if params is None else list(params)
    if not params:
        raise ValueError("params: nothing requires grad; pass params= or inputs with requires_grad=True")
    a, b = loss(*inputs), other(*inputs)
    if not up_to_constant:
        torch.testing.assert_close(a, b, rtol=rtol, atol=atol, msg=lambda m: f"values differ: {m}")
    ga, gb = _grads(a, params), _grads(b, params)
    for k, (x, y) in enumerate(zip(ga, gb)):
        torch.testing.assert_close(x, y, rtol=rtol, atol=atol, msg=lambda m, k=k: f"gradients w.r.t. params[{k}] "
                                                                                 f"differ: {m}")


def assert_optimal_discriminator(loss: Callable, d_star: Callable, p_values, q_values, *, lo: float = -30.0,
                                 hi: float = 30.0, to_d: Callable | None = None, atol: float = 1e-6) -> np.ndarray:
    """Assert that the pointwise minimiser of a separable discriminator loss is ``d_star(p, q)``.

    The population loss over a *tabular* D with weights p_k, q_k is Σ_k p_k A(D_k) + q_k B(D_k) (A, B the loss's
    per-sample terms on real and generated points); it is minimised numerically per point by bisection on the sign
    of the autograd derivative (:func:`lsgan_theory.losses.tabular_minimiser`, no closed form used) and compared with
    the claimed optimum.

    Parameters
    ----------
    loss : callable (out_real (K, 1), out_fake (K, 1)) -> (K,), convex in the output per point (to minimise).
    d_star : callable (p (K,), q (K,)) -> (K,) numpy arrays, the claimed optimum (in D's own units).
    p_values, q_values : positive density values (K,) (e.g. drawn with ``st.floats(0.01, 10)``).
    lo, hi : bracket of the network output searched (logits: wider than max |log p/q|).
    to_d : callable, optional
        Maps the network output to D (``torch.sigmoid`` for a loss on logits); default identity.
    atol : float
        Tolerance on |D_min − D*|: the bisection bracket is 1e-12 wide, so 1e-6 allows for a flat loss (the
        minimiser of a nearly flat term is ill-conditioned); a wrong D* is off by O(0.01) or more.

    Returns the numerical minimiser (in D's units).
    """
    p = torch.as_tensor(np.asarray(p_values, dtype=np.float64))
    q = torch.as_tensor(np.asarray(q_values, dtype=np.float64))
    if p.ndim != 1 or p.shape != q.shape or bool((p <= 0).any() | (q <= 0).any()):
        raise ValueError(f"p_values, q_values: need positive vectors of equal length, got shapes {tuple(p.shape)}, "
                         f"{tuple(q.shape)}")
    a = _losses.tabular_minimiser(loss, p, q, lo=lo, hi=hi, xtol=1e-12)
    with torch.no_grad():
        d_num = (to_d(a) if to_d is not None else a).numpy()
    want = np.asarray(d_star(p.numpy(), q.numpy()), dtype=np.float64) * np.ones(p.shape)
    err = np.abs(d_num - want)
    k = int(np.argmax(err))
    assert err[k] <= atol, (f"the loss's pointwise minimiser is not D*: at (p, q) = ({float(p[k]):.6g}, "
                            f"{float(q[k]):.6g}) it is {d_num[k]:.8g}, D* = {want[k]:.8g} (|diff| = {err[k]:.3g} > "
                            f"{atol:g})")
    return d_num
