"""Every verdict states its terms, and feeding a claim its alternative turns it to FAIL (issue 14).

The verdict functions of the statistical claims take study results; here they are fed results built from the
nearby wrong answer (a shifted q, a perturbed κ or λ, a starved generator signal, the rival rate's slope) and must
return fail, while the right answer passes.  Mutation notes: making ``Check.status`` return "pass" when the
alternative is not rejected fails test_check_status_is_inconclusive_without_power; replacing the SE (spread/√E) by
the spread in ``critic_statistics`` makes the 0.3σ-shifted critic pass and fails
test_critic_check_fails_when_fed_the_optimum_of_a_shifted_q.
"""

from __future__ import annotations

import numpy as np
import pytest

from lsgan_theory import densities as Dn
from lsgan_theory import nonparametric as npm
from lsgan_theory.claims import Check, Evidence, combine, status_of
from lsgan_theory.studies.critic import (LossSensitiveCriticCheck, closed_form_critic, critic_statistics,
                                         hinge_clipped_fraction)

P, Q = "normal(0,1)", "normal(1.5,1)"


def _status(checks):
    return combine(checks)


# ------------------------------------------------------------------------------------------ structure
def test_check_status_pass_fail_inconclusive():
    assert Check("s", 0.1, 0.2, "b", "a", 0.3).status == "pass"
    assert Check("s", 0.3, 0.2, "b", "a", 0.9).status == "fail"
    assert Check("s", float("nan"), 0.2, "b", "a", 0.9).status == "fail"


def test_check_status_is_inconclusive_without_power():
    assert Check("s", 0.1, 0.2, "b", "a", 0.15).status == "inconclusive"
    assert Check("s", 0.1, 0.2, "b", "a", float("nan")).status == "inconclusive"
    assert combine([Check("s", 0, 1, "b", "a", 2), Check("s", 0, 1, "b", "a", 0.5)]) == "inconclusive"
    assert combine([Check("s", 3, 1, "b", "a", 2), Check("s", 0, 1, "b", "a", 0.5)]) == "fail"


@pytest.mark.parametrize("field", ["name", "tolerance_basis", "alternative"])
def test_check_refuses_missing_terms(field):
    kw = dict(name="s", statistic=0.0, tolerance=1.0, tolerance_basis="b", alternative="a", alternative_statistic=2.0)
    kw[field] = " "
    with pytest.raises(ValueError, match=field):
        Check(**kw)


def test_a_non_symbolic_claim_without_terms_is_an_error_not_a_pass():
    with pytest.raises(ValueError, match="terms"):
        status_of(Evidence(True, "looks fine"), "statistical")
    assert status_of(Evidence(True, "identity"), "symbolic") == "pass"
    assert status_of(Evidence("t", checks=[Check("s", 0, 1, "b", "a", 2)], passed=False), "numerical") == "fail"


# ------------------------------------------------------------------------------------------ critics
def _grid(n=201):
    return np.linspace(-3.5, 5.0, n)


def _noisy(d, E=16, sd=0.01, seed=0):
    return d[None, :] + np.random.default_rng(seed).normal(0, sd, (E, d.size))


@pytest.mark.parametrize("family", ["gan", "least_squares"])
def test_critic_check_passes_at_the_optimum(family):
    from lsgan_theory._claims.ensemble import critic_checks  # private: the claim's checks (terms)

    x = _grid()
    d = closed_form_critic(family, Dn.parse(P).pdf(x), Dn.parse(Q).pdf(x))
    assert _status(critic_checks(critic_statistics(family, x, _noisy(d), P, Q))) == "pass"


@pytest.mark.parametrize("family", ["gan", "least_squares"])
def test_critic_check_fails_when_fed_the_optimum_of_a_shifted_q(family):
    from lsgan_theory._claims.ensemble import critic_checks  # private: the claim's checks (terms)

    x = _grid()
    wrong = closed_form_critic(family, Dn.parse(P).pdf(x), Dn.parse(Q).pdf(x - 0.3))  # q shifted by 0.3σ
    assert _status(critic_checks(critic_statistics(family, x, _noisy(wrong), P, Q))) == "fail"


def test_critic_check_is_inconclusive_when_the_noise_hides_a_tenth_of_sigma():
    from lsgan_theory._claims.ensemble import critic_checks  # private: the claim's checks (terms)

    x = _grid()
    d = closed_form_critic("gan", Dn.parse(P).pdf(x), Dn.parse(Q).pdf(x))
    assert _status(critic_checks(critic_statistics("gan", x, _noisy(d, E=4, sd=0.2), P, Q))) == "inconclusive"


@pytest.mark.parametrize("x0,expected", [(0.75, "pass"), (0.75 + 0.15, "fail")])
def test_hinge_check_locates_the_decision_boundary(x0, expected):
    # p = q at x = 0.75 for N(0,1) vs N(1.5,1); a boundary moved by 0.15 (q shifted by 0.3σ) must fail
    from lsgan_theory._claims.ensemble import critic_checks  # private: the claim's checks (terms)

    x = _grid(401)
    rng = np.random.default_rng(1)
    d = np.tanh(4 * (x0 + rng.normal(0, 0.01, (16, 1)) - x[None, :]))
    chk = critic_statistics("hinge", x, d, P, Q)
    assert abs(chk.boundary["x0"] - 0.75) < 1e-3
    assert _status(critic_checks(chk)) == expected


# ------------------------------------------------------------------------------------------ loss-sensitive critic
def _ls_result(s_value, *, kappa=2.0, lam=1.0, E=8, se=1e-4, seed=0):
    rng = np.random.default_rng(seed)
    real, fake = rng.normal(size=40), rng.normal(size=40) + 1.5
    sol = npm.solve(real, fake, lam, kappa)
    x = np.linspace(-3, 4.5, 121)
    lower, upper = sol.lower(x), sol.upper(x)
    alts, band_alt = {}, {}
    for name, (lm, kp) in {"κ·0.9": (lam, 0.9 * kappa), "λ·1.1": (1.1 * lam, kappa)}.items():
        w = npm.solve(real, fake, lm, kp)
        alts[name] = w.objective
        band_alt[name] = float(np.sqrt(np.mean(np.maximum(w.lower(x) - 0.5 * (lower + upper), 0) ** 2
                                               + np.maximum(0.5 * (lower + upper) - w.upper(x), 0) ** 2)))
    s_models = s_value(sol, alts) + rng.normal(0, se, E)
    return LossSensitiveCriticCheck(
        P, Q, 40, 40, lam, kappa, real, fake, x, lower, upper, np.tile(0.5 * (lower + upper), (E, 1))
        + rng.normal(0, 1e-3, (E, x.size)), np.ones_like(x), sol.objective, sol.objective - 1e-3, s_models,
        np.full(E, kappa), hinge_clipped_fraction(real, fake, sol.l), 0.5, float(s_models.std(ddof=1) / np.sqrt(E)),
        1e-7 * max(1, sol.objective), alts, 0.0, 1e-3, 0.1, band_alt)


@pytest.mark.parametrize("which,expected", [("optimum", "pass"), ("κ·0.9", "fail"), ("λ·1.1", "fail")])
def test_loss_sensitive_check_fails_when_fed_a_perturbed_lp(which, expected):
    from lsgan_theory._claims.ensemble import loss_sensitive_checks  # private: the claim's checks (terms)

    c = _ls_result(lambda sol, alts: sol.objective if which == "optimum" else alts[which])
    assert c.clipped_fraction >= 0.2  # κ = 2: the hinge clips (THEORY.md §5)
    k1 = hinge_clipped_fraction(c.real, c.fake, npm.solve(c.real, c.fake, 1.0, 1.0).l)
    assert k1 == 0.0  # κ = 1: hinge inactivity
    assert _status(loss_sensitive_checks(c, k1)) == expected


def test_loss_sensitive_check_fails_in_the_inactive_regime():
    from lsgan_theory._claims.ensemble import loss_sensitive_checks  # private: the claim's checks (terms)

    c = _ls_result(lambda sol, alts: sol.objective, kappa=1.0)
    assert c.clipped_fraction == 0.0
    assert _status(loss_sensitive_checks(c, 0.0)) == "fail"


# ------------------------------------------------------------------------------------------ allocation
@pytest.mark.parametrize("rho,ci,expected", [(0.5, (0.4, 0.6), "pass"), (-0.8, (-0.85, -0.74), "fail"),
                                             (0.02, (-0.1, 0.15), "inconclusive")])
def test_critic_side_allocation_verdict(rho, ci, expected):
    from lsgan_theory._claims.nonparametric import allocation_critic_checks  # private: the claim's checks (terms)

    assert _status(allocation_critic_checks(rho, ci)) == expected


def _gen_alloc(ls_ratio):
    from lsgan_theory.studies.nonparametric import GeneratorAllocation

    r = GeneratorAllocation(np.zeros(2), np.zeros(2), 1.0, 2.0, 0.01, np.zeros(2))
    r.ratio = {"L⁺ (LP upper bound)": ls_ratio, "saturated sigmoid GAN (log(1 − D))": 0.02}
    r.ratio_ci = {"L⁺ (LP upper bound)": (ls_ratio * 0.9, ls_ratio * 1.1),
                  "saturated sigmoid GAN (log(1 − D))": (0.01, 0.04)}
    return r


@pytest.mark.parametrize("ratio,expected", [(1.0, "pass"), (0.02, "fail"), (0.5, "fail")])
def test_generator_side_allocation_fails_when_the_ls_signal_is_starved(ratio, expected):
    from lsgan_theory._claims.nonparametric import allocation_generator_checks  # private: the claim's checks (terms)

    assert _status(allocation_generator_checks(_gen_alloc(ratio))) == expected


@pytest.mark.slow
def test_generator_allocation_measures_the_cone_slope_and_a_saturated_gan():
    # small, real run: L⁺ is not starved far away (ratio >= 1 within its CI), the sigmoid GAN is (ratio < 0.2)
    from lsgan_theory.studies.nonparametric import generator_allocation

    rng = np.random.default_rng(3)
    real = rng.normal(size=60)
    fake = np.concatenate([rng.normal(size=30), rng.normal(size=30) * 1.5 + 2.5])
    r = generator_allocation(real, fake, 1.0, 2.0, n_models=2, steps=150, gan_steps=800, n_boot=200)
    assert r.ratio_ci["L⁺ (LP upper bound)"][1] >= 1.0
    assert r.ratio["saturated sigmoid GAN (log(1 − D))"] < 0.2
    assert r.near_far["L⁺ (LP upper bound)"][1] == pytest.approx(2.0, abs=0.2)  # far points: |∇L⁺| ≈ κ


# ------------------------------------------------------------------------------------------ generalisation
def test_candidate_slopes_are_fitted_over_the_same_n():
    from lsgan_theory.studies.nonparametric import candidate_slope

    ns = [8, 16, 32, 64, 128]
    assert candidate_slope(ns, "n^(-1/2)") == pytest.approx(-0.5)
    assert candidate_slope(ns, "n^(-1/2) log n") == pytest.approx(-0.197, abs=2e-3)  # issue 14: ≈ −0.20


@pytest.mark.parametrize("slope,expected", [(-0.20, "pass"), (-0.41, "fail")])
def test_generalisation_check_fails_when_fed_the_rival_rate(slope, expected):
    from lsgan_theory._claims.nonparametric import generalisation_checks  # private: the claim's checks (terms)
    from lsgan_theory.studies.nonparametric import RATES, candidate_slope

    ns = [8, 16, 32, 64, 128]
    res = {"d=2": {"n": ns, "slope": slope, "slope_ci": (slope - 0.05, slope + 0.05),
                   "candidates": {k: candidate_slope(ns, k) for k in RATES}}}
    assert _status(generalisation_checks(res)) == expected
