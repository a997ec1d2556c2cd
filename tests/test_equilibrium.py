"""The LS-GAN game on a grid (issue 29, THEORY.md §5 "What 'at the equilibrium' means"): the largest ∫|p − q| over
the equilibrium set against the sharp bound 2/(1 + λ) and the paper's 2/λ; the certificate checker against an
independent LP (nonparametric.solve_general_lp); the exact MILP search of the whole equilibrium set; negative controls
(a wrong λ, a term of S removed) under which the set and its maximum change."""

from __future__ import annotations

import numpy as np
import pytest

from lsgan_theory import densities
from lsgan_theory import equilibrium as eq
from lsgan_theory.nonparametric import solve_general_lp

TARGETS = ("normal(0,1)", "beta(2,2)", "triangular(-1,0,1)", "mixture(normal(-2,0.5),normal(2,0.5);0.5,0.5)")
LAMS = (1.0, 3.0, 10.0, 100.0)
DOMAINS = {"normal(0,1)": (-3, 3), "mixture(normal(-2,0.5),normal(2,0.5);0.5,0.5)": (-3.5, 3.5)}


def _grid(spec: str, K: int):
    lo, hi = DOMAINS.get(spec, (None, None))
    return eq.discretise(densities.parse(spec), K, lo=lo, hi=hi)


@pytest.mark.parametrize("spec", TARGETS)
@pytest.mark.parametrize("lam", LAMS)
def test_largest_l1_over_equilibria_is_below_and_near_the_sharp_bound(spec, lam):
    # max over {q ≤ (1+λ)/λ·p} of Σ|p − q| = 2 max_B [min(1, c p(B)) − p(B)] ≤ 2/(1+λ), and the greedy subset shows
    # it is ≥ 2/(1+λ) − 2 max_i p_i/(1+λ) (≤ max_i p_i for λ ≥ 1).  Two independent exact methods agree.
    x, p = _grid(spec, 20)
    g = eq.grid_game(x, p, lam)
    r = eq.max_l1_zero_loss(g, method="enumerate")
    m = eq.max_l1_zero_loss(g, method="milp")
    sharp = eq.sharp_bound(lam)
    assert r.l1 <= sharp + 1e-12
    assert r.l1 >= sharp - 2 * p.max() / (1 + lam) - 1e-12
    assert sharp - r.l1 <= p.max()
    assert m.l1 == pytest.approx(r.l1, abs=1e-9)
    # the maximiser is in the set (Theorem 1 (i) at equality on its subset) and certified an equilibrium with L = 0
    assert np.all(lam * r.q <= (1 + lam) * p + 1e-15)
    cert = eq.certify(g, np.zeros(g.K), r.q)
    assert cert.is_equilibrium(1e-9), cert


@pytest.mark.parametrize("lam,K", [(1.0, 12), (3.0, 12), (5.0, 12), (11.0, 12), (2.0, 9), (7.0, 16)])
def test_sharp_bound_is_attained_on_a_uniform_grid(lam, K):
    # uniform p on K points with Kλ/(1+λ) an integer: a set of p-mass exactly λ/(1+λ) exists, and the largest
    # Σ|p − q| equals 2/(1+λ); the paper's 2/λ is not attained (strictly above)
    assert (K * lam / (1 + lam)).is_integer()
    g = eq.grid_game(np.arange(K, dtype=float), np.full(K, 1.0 / K), lam)
    r = eq.max_l1_zero_loss(g)
    assert r.l1 == pytest.approx(eq.sharp_bound(lam), abs=1e-9)
    assert r.subset.sum() == round(K * lam / (1 + lam))
    assert eq.paper_bound(lam) - r.l1 > 0.5 * (eq.paper_bound(lam) - eq.sharp_bound(lam))


def test_best_response_matches_the_package_general_lp():
    # independent implementation: nonparametric.solve_general_lp with real = fake = the grid, weights p and q
    rng = np.random.default_rng(3)
    x, p = _grid("beta(2,2)", 9)
    for lam in (0.5, 3.0, 20.0):
        q = rng.dirichlet(np.ones(9))
        g = eq.grid_game(x, p, lam, kappa=1.5, tau=0.7)
        L, S = eq.best_response(g, q)
        _, ref = solve_general_lp(x, x, lam, 1.5, tau=0.7, real_weights=p, fake_weights=q)
        assert S == pytest.approx(ref, rel=1e-8, abs=1e-10)
        assert eq.objective(g, L, q) == pytest.approx(S, abs=1e-12)


def test_certificate_detects_non_equilibria():
    x, p = _grid("normal(0,1)", 10)
    g = eq.grid_game(x, p, 3.0)
    # a generator frozen at a shifted density: far outside {q ≤ (4/3) p}; L = 0 is not the critic's best response
    q = np.roll(p, 3)
    c = eq.certify(g, np.zeros(10), q)
    assert c.critic_gap > 1e-3 and not c.is_equilibrium(1e-6)
    # the best response to it, with q left where it is: the generator is not on argmin L
    L, _ = eq.best_response(g, q)
    c2 = eq.certify(g, L, q)
    assert c2.critic_gap <= 1e-9 and c2.generator_gap > 1e-3
    # an infeasible L (steeper than κ) is flagged
    assert eq.certify(g, 10 * np.abs(x), p).infeasibility > 0


@pytest.mark.parametrize("lam", [1.0, 3.0, 10.0])
def test_milp_search_finds_no_equilibrium_beyond_the_zero_loss_set(lam):
    # [derived] at every equilibrium L* = 0 where p > 0 and q ≤ (1+λ)/λ·p, so the whole equilibrium set reaches no
    # further than the L* = 0 set; the MILP searches it exactly (KKT + binaries) and its optimum is re-certified
    x, p = _grid("triangular(-1,0,1)", 7)
    g = eq.grid_game(x, p, lam, tau=0.5)
    s = eq.equilibrium_milp(g, "l1")
    z = eq.max_l1_zero_loss(g)
    assert s.value == pytest.approx(z.l1, abs=1e-5)  # HiGHS MILP tolerances (~1e-6 on q, times big-M)
    assert s.certificate.is_equilibrium(1e-4), s.certificate
    assert s.value <= eq.sharp_bound(lam) + 1e-5
    loss = eq.equilibrium_milp(g, "loss")
    assert loss.value <= 1e-6  # p > 0 on every grid point: no equilibrium with L* ≠ 0


def test_equilibria_with_nonzero_loss_live_where_p_vanishes():
    # a grid wider than the support: L* ≠ 0 is possible exactly on p = 0 points, q = 0 there, and the max Σ|p − q| is
    # that of the L* = 0 set
    x = np.linspace(-1.5, 1.5, 8)
    p = np.where(np.abs(x) < 1, 1.0, 0.0)
    p /= p.sum()
    g = eq.grid_game(x, p, 3.0, tau=0.5)
    s = eq.equilibrium_milp(g, "loss")
    assert s.value > 0.5
    assert np.all(s.L[p > 0] <= 1e-6) and np.all(s.q[p == 0] <= 1e-9)
    assert s.certificate.is_equilibrium(1e-6)
    assert eq.equilibrium_milp(g, "l1").value == pytest.approx(eq.max_l1_zero_loss(g).l1, abs=1e-5)


def test_wrong_lambda_changes_the_set_and_its_maximum():
    # negative control: the set built with λ' = λ/3 admits q that the λ-game rejects, and its maximum exceeds 2/(1+λ)
    K, lam = 12, 3.0
    g = eq.grid_game(np.arange(K, dtype=float), np.full(K, 1.0 / K), lam)
    wrong = eq.grid_game(g.x, g.p, lam / 3)
    r = eq.max_l1_zero_loss(wrong)
    assert r.l1 > eq.sharp_bound(lam) + 0.1
    assert not eq.certify(g, np.zeros(K), r.q).is_equilibrium(1e-6)
    assert eq.certify(wrong, np.zeros(K), r.q).is_equilibrium(1e-9)


def test_removing_a_term_of_s_changes_the_set_and_its_maximum():
    K, lam = 12, 3.0
    x, p = np.arange(K, dtype=float), np.full(K, 1.0 / K)
    # without E_p L: the L = 0 equilibria are {q = p} (λ(p − q) ≥ 0 and both sum to 1): maximum 0
    no_data = eq.grid_game(x, p, lam, data_term=False)
    assert eq.max_l1_zero_loss(no_data).l1 == pytest.approx(0.0, abs=1e-12)
    # without the hinge: every q is an equilibrium with L = 0, maximum 2 − 2 min p > 2/(1+λ) -- a planted violation
    no_hinge = eq.grid_game(x, p, lam, hinge_term=False)
    r = eq.max_l1_zero_loss(no_hinge)
    assert r.l1 == pytest.approx(2 - 2 / K, abs=1e-12) and r.l1 > eq.sharp_bound(lam)
    assert eq.certify(no_hinge, np.zeros(K), r.q).is_equilibrium(1e-9)
    assert not eq.certify(eq.grid_game(x, p, lam), np.zeros(K), r.q).is_equilibrium(1e-6)
    # the MILP sees the same change (KKT of the modified game)
    small = eq.grid_game(np.arange(6.0), np.full(6, 1 / 6), lam, tau=0.5, hinge_term=False)
    assert eq.equilibrium_milp(small, "l1").value == pytest.approx(2 - 2 / 6, abs=1e-5)


@pytest.mark.parametrize("kwargs,match", [
    (dict(x=[0, 1], p=[0.5, 0.5], lam=0), "lam"),
    (dict(x=[0, 1], p=[0.5, 0.6], lam=1), "p:"),
    (dict(x=[1, 0], p=[0.5, 0.5], lam=1), "x:"),
    (dict(x=[0, 1], p=[0.5, 0.5], lam=1, kappa=-1), "kappa"),
    (dict(x=[0, 1], p=[1.0], lam=1), "p:"),
])
def test_bad_input_names_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        eq.grid_game(**kwargs)


def test_bad_q_and_method_are_rejected():
    g = eq.grid_game([0.0, 1.0], [0.5, 0.5], 1.0)
    with pytest.raises(ValueError, match="q:"):
        eq.certify(g, [0.0, 0.0], [0.7, 0.7])
    with pytest.raises(ValueError, match="method"):
        eq.max_l1_zero_loss(g, method="brute")
    with pytest.raises(ValueError, match="data_term, hinge_term"):
        eq.grid_game([0.0, 1.0], [0.5, 0.5], 1.0, data_term=False, hinge_term=False)
