"""Symbolic engine: derivations against closed forms, pointwise numerical optimisation, and quadrature."""

import math

import numpy as np
import pytest
import sympy as sp

from lsgan_theory import testing as lt
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from lsgan_theory import densities as ds
from lsgan_theory.symbolic import (FAMILIES, D, SymbolicTimeout, a, b, c, derive, least_squares_classification,
                                   limited, p, q)
from lsgan_theory.symbolic.numeric import check_against_quadrature, lambdify_pq, lambdify_pqd

# Density pairs with finite values of every divergence in the table (tails of comparable weight both ways);
# the last three are non-Gaussian.
PAIRS = [
    (ds.Normal(0, 1), ds.Normal(0.7, 1)),
    (ds.Mixture([ds.Normal(-1, 0.6), ds.Normal(1.2, 0.6)], [0.4, 0.6]), ds.Normal(0.3, 0.6)),
    (ds.Beta(2, 3), ds.Beta(3, 2)),
    (ds.Triangular(0, 0.3, 1), ds.Beta(2, 2)),
]
NUMERIC_FAMILIES = [f for f in FAMILIES if f != "least_squares"]
LS_TRIPLES = [(-1, 1, 0), (0, 1, 1), (0, 1, 0.5), (2, -1, 3)]


def test_gan_optimal_discriminator_is_p_over_p_plus_q():
    # Goodfellow et al. 2014, Prop. 1: D* = p/(p + q); C(G) = −log 4 + 2 JSD.
    d = derive("gan")
    assert sp.simplify(d.d_star - p / (p + q)) == 0
    assert d.named == "js" and d.scale == 2 and sp.simplify(d.constant + sp.log(4)) == 0


def test_least_squares_optimal_discriminator_and_published_triangular_identity():
    # Mao et al. 2017: D* = (bp + aq)/(p + q); with (a, b, c) = (−1, 1, 0): 2C(G) = Δ_LC.
    d = derive("least_squares")
    assert sp.simplify(d.d_star - (b * p + a * q) / (p + q)) == 0
    d2 = derive("least_squares", a=-1, b=1, c=0)
    assert d2.named == "triangular" and 2 * d2.scale == 1 and d2.constant == 0 and d2.objective_is_divergence


def test_least_squares_objective_is_scaled_triangular_plus_constant():
    # Derived: C(G) = (b − a)²/8 · Δ_LC + (a + b − 2c)²/4.  Independent check: pointwise,
    # value − (b − a)²/8·(p − q)²/(p + q) − (a + b − 2c)²/4·q must be k·(p − q) (it integrates to 0).
    d = derive("least_squares")
    resid = sp.factor(sp.simplify(d.value_at_optimum - (b - a) ** 2 / 8 * (p - q) ** 2 / (p + q)
                                  - (a + b - 2 * c) ** 2 / 4 * q))
    assert sp.simplify(resid.subs(p, q)) == 0 and sp.simplify(sp.diff(resid, p, 2)) == 0
    assert sp.simplify(sp.diff(resid, q, 2)) == 0


def test_least_squares_classification_contains_published_pair_and_rejects_01_coding():
    cl = least_squares_classification()
    assert cl.cases["published (a, b, c) = (-1, 1, 0)"][1] == sp.true
    assert cl.cases["published family b - c = 1, b - a = 2"][1] == sp.true
    assert cl.cases["0-1 coding (0, 1, 1)"][1] == sp.false
    # 0-1 coding: 2C(G) = ∫ q²/(p + q) = 1/2 + Δ_LC/4 (THEORY.md §2)
    delta = sp.Symbol("Delta_LC", nonnegative=True)
    assert sp.simplify(2 * cl.cases["0-1 coding (0, 1, 1)"][2] - (sp.Rational(1, 2) + delta / 4)) == 0


def test_hinge_optimum_at_kinks_gives_total_variation():
    # min_D L_D = 2 min(p, q): the generator's zero-sum value is 2 TV − 2.
    d = derive("hinge")
    assert d.named == "tv" and d.scale == 2 and d.constant == -2
    fn = lambdify_pq(d.value_at_optimum)
    pv, qv = np.array([0.1, 2.0, 1.0]), np.array([0.5, 0.3, 1.0])
    np.testing.assert_allclose(fn(pv, qv), -2 * np.minimum(pv, qv), rtol=0, atol=1e-15)


@pytest.mark.parametrize("family", FAMILIES)
def test_value_at_optimum_equals_numerical_pointwise_optimum(family):
    # Independent check of D* and the value: optimise the integrand over D numerically at random (p, q).
    params = {"a": -1, "b": 1, "c": 0} if family == "least_squares" else {}
    d = derive(family, **params)
    phi = lambdify_pqd(d.integrand)
    val = lambdify_pq(d.value_at_optimum)
    rng = np.random.default_rng(0)
    for pv, qv in rng.uniform(0.5, 2.5, size=(6, 2)):  # p/q in [0.2, 5]: T* inside [-50, 50]
        if d.conjugate is not None:
            lo, hi = (float(d.conjugate.domain.inf), float(d.conjugate.domain.sup))
        else:
            lo, hi = (1e-12, 1 - 1e-12) if family in ("gan", "non_saturating") else (-5.0, 5.0)
        lo, hi = max(lo, -50.0), min(hi, 50.0)
        hi = hi - 1e-9 if d.conjugate is not None and d.conjugate.domain.right_open else hi
        sgn = -1.0 if d.sense == "max" else 1.0
        res = optimize.minimize_scalar(lambda x: sgn * float(phi(pv, qv, x)), bounds=(lo, hi), method="bounded",
                                       options={"xatol": 1e-12})
        best = sgn * res.fun
        if family == "non_saturating":
            best = -qv * math.log(res.x)  # the generator's loss at the numerically optimal D
        elif family == "hinge":
            best = -best
        elif family == "least_squares":
            best = 0.5 * (pv + qv) * (res.x - 0) ** 2
        # bounded Brent on a smooth function: |x − x*| ≲ 1e-6 ⇒ value error ≲ curvature·1e-12; 1e-7 leaves room
        # for the flat directions of the piecewise-linear ones (exact kinks are inside the bracket)
        assert abs(best - float(val(pv, qv))) < 1e-7, (family, pv, qv, best, float(val(pv, qv)))


@pytest.mark.parametrize("P,Q", PAIRS, ids=lambda x: x.spec)
@pytest.mark.parametrize("family", NUMERIC_FAMILIES)
def test_symbolic_identity_agrees_with_quadrature(family, P, Q):
    r = check_against_quadrature(derive(family), P, Q)
    assert math.isfinite(r.symbolic)
    assert r.agrees, (r.symbolic, r.reference, r.difference, r.tolerance)


@pytest.mark.parametrize("P,Q", PAIRS, ids=lambda x: x.spec)
@pytest.mark.parametrize("triple", LS_TRIPLES)
def test_least_squares_identity_agrees_with_quadrature(triple, P, Q):
    A, B, C = triple
    r = check_against_quadrature(derive("least_squares", a=A, b=B, c=C), P, Q)
    assert r.agrees, (r.symbolic, r.reference, r.difference, r.tolerance)


def test_quadrature_check_detects_a_wrong_identity():
    # Negative control: the GAN value against the JSD with the wrong scale (1 instead of 2) must not agree.
    import dataclasses
    d = dataclasses.replace(derive("gan"), scale=sp.Integer(1))
    r = check_against_quadrature(d, *PAIRS[0])
    assert not r.agrees


_reals = st.integers(-6, 6).map(lambda k: sp.Rational(k, 2))


def _mixture(draw_w, locs):
    return ds.Mixture([ds.Normal(m, 0.8) for m in locs], draw_w)


@settings(max_examples=8, deadline=None)
@given(abc=lt.abc_codings(divergence=True, bound=3), pq=lt.density_pairs(lipschitz=True, compact=False))
def test_admissible_triples_give_divergence(abc, pq):
    # a + b = 2c, a ≠ b: zero at q = p, positive for q ≠ p (random normal mixtures; the testing kit's strategies and
    # assert_divergence, which checks both by quadrature against its error bound)
    A, B, C = abc
    d = derive("least_squares", a=A, b=B, c=C)
    assert d.objective_is_divergence
    lt.assert_divergence(d, *pq)


@settings(max_examples=8)
@given(A=_reals, B=_reals, C=_reals, locs=st.lists(st.integers(-3, 3), min_size=2, max_size=2),
       w=st.floats(0.2, 0.8))
def test_inadmissible_triples_have_counterexample(A, B, C, locs, w):
    d = derive("least_squares", a=A, b=B, c=C)
    if A + B == 2 * C and A != B:
        assert d.objective_is_divergence
        return
    assert d.objective_is_divergence is False
    from lsgan_theory import divergences
    fn = lambdify_pq(d.value_at_optimum)
    P = _mixture([w, 1 - w], [locs[0] - 1, locs[1] + 1])
    if A + B != 2 * C:
        # counterexample: q = p but the objective is (a + b − 2c)²/4 ≠ 0
        same = divergences.integrate_pointwise(fn, P, P)
        assert abs(same.value - float((A + B - 2 * C) ** 2 / 4)) <= same.abserr + 1e-12
        assert abs(same.value) > same.abserr
    else:
        # a = b: the objective is 0 for every q, also for q ≠ p
        Q = ds.Normal(3.0, 0.5)
        other = divergences.integrate_pointwise(fn, P, Q)
        assert abs(other.value) <= other.abserr + 1e-14


def test_derivations_are_cached():
    assert derive("least_squares", a=-1, b=1, c=0) is derive("least_squares", a=-1.0, b=1, c="0")


@pytest.mark.parametrize("bad,err", [({"family": "wgan"}, ValueError), ({"family": 3}, TypeError),
                                     ({"family": "gan", "a": 1}, ValueError),
                                     ({"family": "least_squares", "a": float("nan")}, ValueError),
                                     ({"family": "least_squares", "a": "I"}, ValueError),
                                     ({"family": "least_squares", "b": "oo"}, ValueError),
                                     ({"family": "least_squares", "c": "nan"}, ValueError)])
def test_bad_input_names_the_argument(bad, err):
    kw = dict(bad)
    fam = kw.pop("family")
    with pytest.raises(err) as exc:
        derive(fam, **kw)
    assert any(f"{k}:" in str(exc.value) for k in ("family", "params", "a", "b", "c"))


def test_time_limit_raises_clear_message():
    import time
    with pytest.raises(SymbolicTimeout, match="time limit of 0.2 s"):
        limited(time.sleep, 2, what="integrate (test)", seconds=0.2)


def test_time_limit_in_worker_thread():
    import threading
    import time
    out = {}

    def work():
        try:
            limited(time.sleep, 1, what="solve (thread)", seconds=0.1)
        except SymbolicTimeout as exc:
            out["msg"] = str(exc)

    th = threading.Thread(target=work)
    th.start()
    th.join()
    assert "solve (thread)" in out["msg"]


def test_steps_render_plain_and_latex():
    d = derive("gan")
    assert "D* = p/(p + q)" in d.plain()
    assert r"\begin{enumerate}" in d.latex() and r"\frac{p}{p + q}" in d.latex()
    assert d.to_dict()["named"] == "js"


def test_fgan_conjugates_agree_with_table_except_documented_rows():
    # Natural domain (Nowozin's convention): every f* formula agrees; Neyman's f* is also finite at t = 1
    # (sup_u 1·u − (1 − u)²/u = lim 2 − 1/u = 2), so its domain is t ≤ 1, not t < 1.
    # Restricted to u ≥ 0: Pearson gets f* = −1 for t ≤ −2 and TV gets max(t, −1/2) on t ≤ 1/2.
    from lsgan_theory.symbolic.fgan import FGAN_ROWS, compare_with_table
    for key in FGAN_ROWS:
        nat = compare_with_table(key)
        assert nat.conjugate_agrees, key
        assert nat.domain_agrees == (key != "neyman_chi2"), key
        nonneg = compare_with_table(key, restrict_to_nonnegative=True)
        assert nonneg.agrees == (key not in ("pearson_chi2", "neyman_chi2", "tv")), key
    assert compare_with_table("neyman_chi2").derived.domain == sp.Interval(-sp.oo, 1)


def test_fgan_table_comparison_flags_a_wrong_entry(monkeypatch):
    # Negative control: a table with KL's conjugate printed as e^t (missing the −1) must be reported.
    import dataclasses

    from lsgan_theory.symbolic import fgan
    from lsgan_theory.symbolic.core import t
    wrong = dataclasses.replace(fgan.FGAN_ROWS["kl"], table_conjugate=sp.exp(t))
    monkeypatch.setitem(fgan.FGAN_ROWS, "kl", wrong)
    fgan.compare_with_table.cache_clear()
    try:
        assert not fgan.compare_with_table("kl").agrees
    finally:
        monkeypatch.undo()
        fgan.compare_with_table.cache_clear()
