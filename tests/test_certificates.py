"""Equilibrium certificates and the verdict vocabulary of issue 29: an exact equilibrium is certified and reads
consistent at its λ, violated against a wrong λ; a generator frozen at a shifted density is *hypothesis not met*,
never violated; the certificate agrees with the exact grid game; a check whose hypothesis is not met carries that
status through the claim machinery and the report."""

from __future__ import annotations

import numpy as np
import pytest

from lsgan_theory import densities
from lsgan_theory import equilibrium as eq
from lsgan_theory.claims import HYPOTHESIS_NOT_MET, Check, combine
from lsgan_theory.studies.certificates import pair_certificate, read_certified


def _zero(x):
    return np.zeros_like(np.asarray(x, dtype=float))


@pytest.mark.parametrize("lam", [1.0, 3.0, 10.0])
def test_exact_equilibrium_is_certified_and_the_verdict_fails_both_ways(lam):
    # q = (1+λ)/λ·p on [0, λ/(1+λ)], L = 0: an exact equilibrium with ∫|p − q| = 2/(1+λ) (the sharp bound's attainment)
    p, q = densities.parse("uniform(0,1)"), densities.parse(f"uniform(0,{lam / (1 + lam)})")
    c = pair_certificate(p, q, _zero, lam, 0.1, 10.0, nodes=64)
    assert c.certified and c.critic_gap <= c.eps_critic
    l1 = 2 / (1 + lam)
    assert read_certified(lam, [l1], [1e-12], [c]).status == "consistent"
    assert read_certified(lam, [l1], [1e-12], [c], sharp=False).status == "consistent"
    # planted violation: the same certified pair checked against a wrong λ' = 3λ
    wrong = read_certified(3 * lam, [l1], [1e-12], [c])
    assert wrong.status == "violated" and wrong.excess_sharp == pytest.approx(l1 - 2 / (1 + 3 * lam), abs=1e-9)


def test_frozen_shifted_generator_is_hypothesis_not_met_never_violated():
    # ∫|p − q| = 2(2Φ(1/2) − 1) ≈ 0.77 > 2/(1+λ) = 0.5: a reading that ignored the certificates would say violated
    p, q = densities.parse("normal(0,1)"), densities.parse("normal(1,1)")
    for L in (_zero, lambda x: 0.05 * np.abs(np.asarray(x, float) - 1.0)):
        c = pair_certificate(p, q, L, 3.0, 0.1, 10.0, nodes=64)
        assert not c.certified
        r = read_certified(3.0, [0.766], [1e-12], [c])
        assert r.status == "hypothesis not met"
        assert "generator gap" in r.hypothesis or "critic gap" in r.hypothesis
        assert "ε" in r.hypothesis


def test_certificate_critic_gap_matches_the_exact_grid_game():
    # independent implementation: on a common grid, the critic gap of (L, q) is that of the grid game's certify
    # (its own dense LP) -- the certificate discretises exactly as the grid game does
    p, q = densities.parse("normal(0,1)"), densities.parse("normal(0.5,1.3)")

    def L(x):
        return 0.02 * np.abs(np.asarray(x, float))

    c = pair_certificate(p, q, L, 5.0, 0.2, 5.0, nodes=32, tail=1e-4)
    lo = float(min(p.ppf(np.array([1e-4]))[0], q.ppf(np.array([1e-4]))[0]))
    hi = float(max(p.ppf(np.array([1 - 1e-4]))[0], q.ppf(np.array([1 - 1e-4]))[0]))
    edges = np.linspace(lo, hi, 33)
    x = 0.5 * (edges[1:] + edges[:-1])
    masses = []
    for d in (p, q):
        F = d.cdf(edges)
        m = np.diff(F)
        m[0] += F[0]
        m[-1] += 1 - F[-1]
        masses.append(m / m.sum())
    g = eq.grid_game(x, masses[0], 5.0, kappa=5.0, tau=0.2)
    ref = eq.certify(g, L(x), masses[1])
    assert c.S_hat == pytest.approx(ref.S, rel=1e-10)
    assert c.critic_gap == pytest.approx(ref.critic_gap, abs=1e-7)


def test_bad_certificate_input_is_rejected():
    p = densities.parse("normal(0,1)")
    with pytest.raises(ValueError, match="lam"):
        pair_certificate(p, p, _zero, 0.0, 0.1, 10.0)
    with pytest.raises(ValueError, match="nodes"):
        pair_certificate(p, p, _zero, 1.0, 0.1, 10.0, nodes=4)
    with pytest.raises(ValueError, match="certificates"):
        read_certified(1.0, [0.1, 0.2], [0.0, 0.0], [None])


def test_hypothesis_not_met_status_in_the_claim_machinery():
    unmet = Check("s", 5.0, 0.0, "b", "a", 1.0, hypothesis_met=False, hypothesis="critic gap 0.2 > ε 0.01")
    assert unmet.status == HYPOTHESIS_NOT_MET  # not "fail", whatever the statistic
    assert "critic gap" in unmet.row()
    ok = Check("s", 0.0, 0.1, "b", "a", 1.0)
    bad = Check("s", 1.0, 0.1, "b", "a", 2.0)
    assert combine([unmet]) == HYPOTHESIS_NOT_MET
    assert combine([unmet, ok]) == "pass"
    assert combine([unmet, bad]) == "fail"
    with pytest.raises(ValueError, match="hypothesis"):
        Check("s", 0.0, 0.1, "b", "a", 1.0, hypothesis_met=False)


def test_report_shows_the_new_verdict_words(tmp_path):
    from lsgan_theory.claims import Context, Verdict, write_report

    ctx = Context(tmp_path)
    chk = Check("gap", 1.0, 0.0, "b", "a", 1.0, hypothesis_met=False, hypothesis="critic gap 0.2 > ε 0.01")
    v = Verdict("theorem1-certified-equilibrium", "THEORY.md §5", "stmt", HYPOTHESIS_NOT_MET, "text", [], 0.1, {},
                "statistical", [dict(vars(chk), status=chk.status)])
    html = write_report([v], ctx).read_text()
    md = (tmp_path / "report.md").read_text()
    assert "hypothesis not met" in md and "HYPOTHESIS NOT MET" in html


def test_verdict_controls_and_sharp_bound_claims_pass(tmp_path):
    from lsgan_theory.claims import Context, run_claims

    vs = run_claims(Context(tmp_path), only=["theorem1-verdict-controls", "theorem1-sharp-bound-attained"])
    assert {v.id: v.status for v in vs} == {"theorem1-verdict-controls": "pass",
                                             "theorem1-sharp-bound-attained": "pass"}


def test_certified_sweep_reads_only_certified_pairs():
    # a short run is far from the equilibrium: every reading is "hypothesis not met" (never "violated"), budgets are
    # prefixes of one run, and every certificate is finite
    import torch

    from lsgan_theory.studies.theorem1 import certified_lambda_sweep

    torch.set_num_threads(1)
    r = certified_lambda_sweep("normal(0,1)", lams=(10.0,), seeds=2, budgets=(20, 40), width=8, nodes=16)
    assert r.l1.shape == (2, 1, 2) and np.isfinite(r.l1).all()
    assert np.isfinite(r.gaps("critic_gap")).all() and np.isfinite(r.gaps("gen_gap_lp")).all()
    assert all(x.status == "hypothesis not met" for x in r.readings + r.readings_paper)
    assert len(r.tidy()) == 4 and "critic_gap" in r.tidy()[0]


def test_a_certified_pair_is_read_against_the_bound_plus_its_derived_slack():
    # Theorem 1 off the equilibrium (THEORY.md §5): Σ|p − q̂| ≤ 2/(1+λ) + 2λm/(1+λ); read_certified allows the slack
    # of each certified pair and no more -- a reading just inside it is consistent, just outside it violated, and an
    # unmeasured m (NaN) gets the largest slack 2λ/(1+λ)
    import dataclasses

    lam = 3.0
    p, q = densities.parse("uniform(0,1)"), densities.parse(f"uniform(0,{lam / (1 + lam)})")
    c = pair_certificate(p, q, _zero, lam, 0.1, 10.0, nodes=64)
    assert c.certified and c.off_mass == 0.0 and c.slack() == 0.0
    c1 = dataclasses.replace(c, off_mass=0.1)
    s = c1.slack()
    assert s == pytest.approx(2 * lam * 0.1 / (1 + lam))
    sharp = 2 / (1 + lam)
    assert read_certified(lam, [sharp + 0.5 * s], [1e-12], [c1]).status == "consistent"
    assert read_certified(lam, [sharp + 1.5 * s], [1e-12], [c1]).status == "violated"
    assert read_certified(lam, [sharp + 1.5 * s], [1e-12], [c]).status == "violated"
    cn = dataclasses.replace(c, off_mass=float("nan"))
    assert read_certified(lam, [1.9], [1e-12], [cn]).status == "consistent"
