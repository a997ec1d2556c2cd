"""The best-response LS-GAN (issue 29, step 5): the critic extensions are best responses of the grid game (equal to
the LP's values at the cells, κτ-Lipschitz, between L⁻ and L⁺), the alternation reaches a certified equilibrium where
one is reachable (Beta(2,2), λ = 1), and the certificates refuse a pair that has not got there (negative control)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lsgan_theory.studies.best_response import CRITICS, best_response_train, critic_function
from lsgan_theory.studies.certificates import CONSISTENT, NOT_MET, read_certified

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def test_critic_extensions_agree_at_the_cells_are_lipschitz_and_lie_between_the_cone_bounds():
    rng = np.random.default_rng(3)
    x = np.sort(rng.uniform(-2, 2, 12))
    kappa, tau = 10.0, 0.1
    # cell values that are κτ-Lipschitz (a random walk with steps within the slope) and ≥ 0
    steps = rng.uniform(-1, 1, 11) * kappa * tau * np.diff(x)
    l = np.concatenate([[0.3], 0.3 + np.cumsum(steps)])
    l -= min(l.min(), 0.0)
    t = torch.linspace(-3, 3, 4001, dtype=torch.float64)
    up = critic_function(x, l, kappa, tau, "upper")(t).numpy()
    lo = critic_function(x, l, kappa, tau, "lower")(t).numpy()
    for c in CRITICS:
        f = critic_function(x, l, kappa, tau, c)
        np.testing.assert_allclose(f(torch.as_tensor(x)).numpy(), l, atol=1e-12)
        v = f(t).numpy()
        slope = np.abs(np.diff(v)) / np.diff(t.numpy())
        assert slope.max() <= kappa * tau * (1 + 1e-9)
        assert (v >= lo - 1e-12).all() and (v <= up + 1e-12).all() and (v >= 0).all()
    # L⁺ has its saw-tooth between cells even where l = 0; L⁻ and the interpolant are flat there
    z = np.zeros_like(l)
    mid = torch.as_tensor(0.5 * (x[:-1] + x[1:]))
    assert (critic_function(x, z, kappa, tau, "upper")(mid).numpy() > 0).all()
    assert (critic_function(x, z, kappa, tau, "linear")(mid).numpy() == 0).all()
    assert (critic_function(x, z, kappa, tau, "lower")(mid).numpy() == 0).all()


def test_best_response_reaches_a_certified_equilibrium_and_the_bound_reads_consistent():
    run = best_response_train("beta(2,2)", 1.0, rounds=40, gen_steps=10, record_every=20, seed=0)
    c = run.certificate
    assert c.certified and c.gen_gap_lp <= c.eps_gen_lp
    # at a certified pair of the grid game L* = 0 and q̂ ≤ (1+λ)/λ·p up to the certificate's resolution
    assert run.history[0]["round"] == 0 and run.history[-1]["round"] == 40
    assert run.history[-1]["gen_steps"] == 400
    rd = read_certified(1.0, [run.l1], [run.l1_abserr], [c])
    assert rd.status == CONSISTENT and rd.certified == 1
    assert run.l1 <= 2 / (1 + 1.0)
    # power: the same pair read against a wrong λ (whose sharp bound is below the measured error) is violated
    wrong = 2 / run.l1  # 2/(1 + λ_wrong) < ∫|p − q̂|
    assert read_certified(wrong, [run.l1], [run.l1_abserr], [c]).status == "violated"


def test_an_untrained_generator_is_not_certified_hypothesis_not_met():
    """Negative control: one round of a frozen generator (learning rate ~0) is far from the equilibrium."""
    run = best_response_train("beta(2,2)", 1.0, rounds=1, gen_steps=1, lr=1e-12, record_every=1, seed=0)
    c = run.certificate
    assert not c.certified and c.gen_gap_lp > 10 * c.eps_gen_lp
    rd = read_certified(1.0, [run.l1], [run.l1_abserr], [c])
    assert rd.status == NOT_MET and "generator gap" in rd.hypothesis


@pytest.mark.parametrize("kw, match", [
    (dict(lam=0.0), "lam"), (dict(lam=float("nan")), "lam"), (dict(tau=-1.0), "tau"), (dict(kappa=0.0), "kappa"),
    (dict(critic="cone"), "critic"), (dict(rounds=0), "rounds"), (dict(gen_steps=1.5), "gen_steps"),
    (dict(cells=2), "cells"), (dict(hidden=()), "hidden"), (dict(lr_final=0.0), "lr_final"),
    (dict(target="ring(4)"), "target"),
])
def test_bad_input_is_refused_naming_the_argument(kw, match):
    args = {"target": "beta(2,2)", "lam": 1.0, **kw}
    with pytest.raises(ValueError, match=match):
        best_response_train(args.pop("target"), args.pop("lam"), **args)
    if match == "critic":
        with pytest.raises(ValueError, match="critic"):
            critic_function([0.0, 1.0], [0.0, 0.0], 1.0, 1.0, "cone")


@pytest.mark.slow
def test_the_best_response_claim_reads_the_bound_only_at_certified_pairs(tmp_path):
    """The claim at its quick size (≈ 15 s CPU): every Lipschitz target gets its two checks (sharp, paper), a check
    whose hypothesis is met has certified pairs and a finite power statistic, Uniform carries no check."""
    from lsgan_theory.claims import Context, run_claims

    (v,) = run_claims(Context(tmp_path, quick=True), only=["theorem1-best-response-equilibrium"])
    assert v.status in ("pass", "fail", "hypothesis not met")
    names = [c["name"] for c in v.checks]
    assert len(names) == 8 and not any("uniform" in n for n in names)
    for c in v.checks:
        assert c["hypothesis_met"] == (c["hypothesis"] == "")
        if c["hypothesis_met"]:
            assert np.isfinite(c["alternative_statistic"]) and c["alternative_statistic"] > c["tolerance"]
    for t, d in v.data.items():
        for rd, cells in zip(d["readings"], d["l1_cells"]):
            if rd["status"] == "violated":
                assert max(cells) > rd["bound"]


@pytest.mark.parametrize("critic", CRITICS)
def test_every_critic_extension_trains_and_is_certified_along_the_way(critic):
    run = best_response_train("triangular(-1,0,1)", 3.0, critic=critic, rounds=2, gen_steps=2, record_every=1,
                              cells=16, nodes=16)
    assert [h["round"] for h in run.history] == [0, 1, 2] and run.critic == critic
    h = run.history[-1]
    assert h["l1_cells"] <= h["l1"] + 1e-9 and np.isfinite(h["gen_gap_lp"]) and h["gen_gap_lp"] >= 0
    assert run.certificate is not None and run.certificate.nodes == 16
