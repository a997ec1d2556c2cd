"""The derived off-equilibrium form of Theorem 1 (ii) on the grid game: Σ|p − q| ≤ 2/(1 + λ) + 2λm/(1 + λ) for any
q against its exact best response (equilibrium.off_equilibrium_bound; THEORY.md §5).  A theorem of the grid game, so
it is checked on many generators q, with negative controls showing the check can fail: without the slack, and with
the bound of a wrong λ, the same draws exceed it."""

import numpy as np
import pytest

from lsgan_theory import densities
from lsgan_theory.equilibrium import (best_response, discretise, equilibrium_milp, grid_game, max_l1_zero_loss,
                                      off_equilibrium_bound)

TOL = 1e-7  # the LP's (HiGHS) feasibility/optimality tolerance 1e-9, scaled by sums over ≤ 24 points, with margin


def _targets(K):
    out = []
    for spec in ("normal(0,1)", "beta(2,2)", "mixture(normal(-2,0.5),normal(2,0.5);0.5,0.5)"):
        x, p = discretise(densities.parse(spec), K)
        out.append((spec, x, p))
    return out


def _draws(rng, p, n):
    """Generators q: Dirichlet draws, q's concentrated on a few points, and perturbations of p."""
    K = p.size
    qs = [rng.dirichlet(np.full(K, a)) for a in (0.1, 1.0, 10.0) for _ in range(n)]
    for _ in range(n):
        q = np.zeros(K)
        q[rng.choice(K, size=rng.integers(1, 4), replace=False)] = 1.0
        qs.append(q / q.sum())
    qs += [np.abs(p + rng.normal(0, 0.5 * p.max(), K)) for _ in range(n)]
    qs += [p * rng.uniform(0.8, 1.25, K) for _ in range(n)]  # near p: ratios q_i/p_i around (1 + λ)/λ
    return [q / q.sum() for q in qs]


@pytest.mark.parametrize("lam", [0.5, 1.0, 3.0, 10.0])
@pytest.mark.parametrize("kappa", [0.5, 2.0])
def test_the_bound_holds_for_every_generator_and_the_checks_can_fail(lam, kappa):
    rng = np.random.default_rng(int(lam * 10 + kappa))
    exceed_no_slack = wrong_lam_broken = free_points = 0
    for _, x, p in _targets(16):
        game = grid_game(x, p, lam, kappa=kappa, tau=1.0)
        for q in _draws(rng, p, 4):
            L, _ = best_response(game, q)
            b = off_equilibrium_bound(game, q, L)
            # the lemma: Theorem 1 (i) at every free point, for any q
            f = b.free
            free_points += int(f.sum())
            assert np.all(lam * q[f] <= (1 + lam) * p[f] + TOL), (lam, kappa, q, p, L)
            wrong_lam_broken += int(np.any(3 * lam * q[f] > (1 + 3 * lam) * p[f] + TOL))
            # the bound
            assert b.l1 <= b.bound + TOL, (lam, kappa, b)
            assert 0.0 <= b.off_mass <= 1.0 + 1e-12
            exceed_no_slack += b.l1 > b.sharp + TOL
    # negative controls: the lemma read with a wrong λ' = 3λ fails at free points of the same draws, and Σ|p − q|
    # does exceed 2/(1+λ) off the equilibrium (the slack is needed) -- neither check above is vacuous
    assert free_points > 0 and wrong_lam_broken > 0
    assert exceed_no_slack > 0


def test_at_an_equilibrium_the_off_mass_is_zero_and_the_sharp_bound_is_attained():
    # uniform p on 8 points, λ = 3: the L* = 0 equilibrium q = (1+λ)/λ·p on 6 points reaches 2/(1+λ) exactly.  (The
    # best response to that q is not unique: the LP may return a steeper L* that ties with 0; m is read at the
    # equilibrium's own critic, on whose argmin q sits.)
    x, p = np.arange(8.0), np.full(8, 1 / 8)
    game = grid_game(x, p, 3.0, kappa=1.0, tau=1.0)
    best = max_l1_zero_loss(game)
    b = off_equilibrium_bound(game, best.q, np.zeros(8))  # the equilibrium's critic L* = 0
    assert b.off_mass == 0.0 and abs(b.l1 - 0.5) < 1e-9 and b.bound == b.sharp
    # the exact MILP search of the equilibrium set: every equilibrium it returns has m = 0
    search = equilibrium_milp(game)
    assert off_equilibrium_bound(game, search.q, search.L).off_mass == 0.0


def test_a_generator_off_the_support_of_p_needs_the_slack():
    # q on the two end points, where p = 0: far from any equilibrium; it exceeds the sharp bound, its mass off the
    # free points is positive, and it stays within 2/(1+λ) + 2λm/(1+λ)
    x = np.arange(6.0)
    p = np.array([0.0, 0.2, 0.3, 0.3, 0.2, 0.0])
    q = np.array([0.5, 0.0, 0.0, 0.0, 0.0, 0.5])
    game = grid_game(x, p, 10.0, kappa=1.0, tau=1.0)
    b = off_equilibrium_bound(game, q)
    assert b.l1 > b.sharp and b.off_mass > 0 and b.l1 <= b.bound + TOL


def test_bad_input():
    x, p = np.arange(4.0), np.full(4, 0.25)
    with pytest.raises(ValueError, match="game"):
        off_equilibrium_bound(grid_game(x, p, 1.0, data_term=False), p)
    with pytest.raises(ValueError, match="tol"):
        off_equilibrium_bound(grid_game(x, p, 1.0), p, tol=-1.0)
