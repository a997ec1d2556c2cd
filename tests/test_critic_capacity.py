"""The N-dependence of the uniform bound (issue 32, ``sample-complexity-capacity``): the parameter count, the exponent
fit on synthetic data with a known exponent (and flat data, the negative control), the claim's reading on planted
results (pass / fail / inconclusive), the LP class's gaps against their own definitions, and a tiny end-to-end run."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lsgan_theory import claims, densities
from lsgan_theory import nonparametric as npm
from lsgan_theory._claims.capacity import capacity_checks, capacity_report  # private: the claim's reading (no public face)
from lsgan_theory.studies import critic_capacity as cc
from lsgan_theory.studies import sample_complexity as sc
from lsgan_theory.studies.stats import fit_power

ROOT = Path(__file__).resolve().parents[1]
WIDTHS = (8, 32, 100, 316)


# ------------------------------------------------------------------------------------------------ parameter count
def test_parameter_count_closed_form_matches_the_network_spec():
    # N = w² + 4w + 1 for 1 → w → w → 1 (weights and biases), the engine's own count, and the spec's N values
    for w in WIDTHS:
        assert cc.mlp_parameter_count(w) == w * w + 4 * w + 1 == sc.critic_parameter_count([w, w])
    assert [cc.mlp_parameter_count(w) for w in WIDTHS] == [97, 1153, 10401, 101121]
    assert cc.mlp_parameter_count(5, depth=1) == sc.critic_parameter_count([5]) == 16
    assert cc.mlp_parameter_count(6, depth=3, dim=2) == sc.critic_parameter_count([6, 6, 6], dim=2)
    assert cc.mlp_parameter_count(8) != 8 * 8 + 3 * 8 + 1  # negative control: w² + 3w + 1 forgets a bias layer


@pytest.mark.parametrize("kw, name", [({"width": 0}, "width"), ({"width": 4, "depth": 0}, "depth"),
                                      ({"width": 4, "dim": 1.5}, "dim")])
def test_parameter_count_refuses_bad_input_by_name(kw, name):
    with pytest.raises((ValueError, TypeError), match=name):
        cc.mlp_parameter_count(**kw)


# ------------------------------------------------------------------------------------------------ exponent fit
def _gaps(exponent, rng, seeds=12, noise=0.3):
    n = np.array([cc.mlp_parameter_count(w) for w in WIDTHS], float)
    return n, 0.05 * n[:, None] ** exponent * rng.lognormal(0.0, noise, size=(n.size, seeds))


def test_exponent_fit_recovers_a_known_exponent_in_n():
    # 20 synthetic sets with exponent 1/2 (the bound's shape) and 30 % log-normal noise over 12 seeds: the 95 %
    # interval covers 1/2 in ≥ 16 of 20 (binomial(20, 0.95) < 16 with probability 0.3 %); with the alternative 0
    # (flat) rejected in every one
    rng = np.random.default_rng(3)
    cover = reject = 0
    for _ in range(20):
        n, y = _gaps(0.5, rng)
        f = fit_power(n, y, n_boot=300, seed=1)
        cover += f.ci[0] <= 0.5 <= f.ci[1]
        reject += not (f.ci[0] <= 0.0 <= f.ci[1])
    assert cover >= 16 and reject == 20


@pytest.mark.parametrize("exponent, expect", [(0.0, "pass"), (0.5, "inconclusive"), (1.0, "fail")])
def test_exponent_check_terms_read_flat_sqrt_and_linear_growth(exponent, expect):
    # flat (the negative control: noise independent of N) rejects the √N shape; exponent 1 lies above 1/2
    n, y = _gaps(exponent, np.random.default_rng(4), seeds=40, noise=0.1)
    stat, alt = cc.exponent_check_terms(fit_power(n, y, n_boot=500))
    status = "fail" if stat > 0 else "pass" if alt > 0 else "inconclusive"
    assert status == expect, (stat, alt)


def test_exponent_check_terms_without_an_interval_are_nan():
    f = fit_power(np.array([1.0, 2.0]), np.ones((2, 2)), n_boot=20)
    f.ci = (math.nan, 1.0)
    assert all(math.isnan(v) for v in cc.exponent_check_terms(f))


# ------------------------------------------------------------------------------------------------ the claim's reading
def _planted(exponent, fitting, rng, seeds=12, ms=(16, 64)):
    rows = []
    for m in ms:
        for w in WIDTHS:
            n = cc.mlp_parameter_count(w)
            for s in range(seeds):
                gap = 0.05 * n ** exponent * rng.lognormal(0.0, 0.1) * (16 / m) ** 0.5
                s_emp = 1.0
                rows.append({"status": "done", "d_hidden": [w, w], "n_params": float(n), "n_data": m, "replica": s,
                             "optimism": gap, "abs_gap": gap, "fresh_gap": 0.5 * gap, "s_emp": s_emp,
                             "s_fresh": s_emp + fitting + rng.normal(0.0, 0.05), "s_pop_err": 1e-4, "g_sd": 1.0,
                             "lip_grid": 1.0 + w / 100})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("exponent, fitting, statuses", [
    (0.0, 0.3, ["pass", "pass", "pass"]),              # flat in N, fitting visible: √N rejected
    (1.0, 0.3, ["fail", "fail", "pass"]),              # faster than √N: the shape is contradicted
    (0.5, 0.3, ["inconclusive", "inconclusive", "pass"]),  # exactly √N: consistent, alternative not rejected
    (0.0, 0.0, ["pass", "pass", "inconclusive"]),      # no fitting: the fresh sample's control is not rejected
])
def test_capacity_checks_on_planted_results(exponent, fitting, statuses):
    r = cc.read_capacity(_planted(exponent, fitting, np.random.default_rng(5)), level=1 - 0.05 / 3, n_boot=500)
    checks, fits = capacity_checks(r, 12)
    assert [c.status for c in checks] == statuses, [(c.name, c.statistic, c.alternative_statistic) for c in checks]
    assert set(fits) == {16, 64}
    assert claims.combine(checks) == ("fail" if "fail" in statuses else "inconclusive" if "inconclusive" in statuses
                                      else "pass")


def test_read_capacity_refuses_a_single_width_and_an_empty_table():
    df = _planted(0.0, 0.3, np.random.default_rng(6))
    with pytest.raises(ValueError, match="2 widths"):
        cc.read_capacity(df[df["n_params"] == 97.0])
    with pytest.raises(ValueError, match="no finished run"):
        cc.read_capacity(df.assign(status="failed"))


# ------------------------------------------------------------------------------------------------ the LP class
@pytest.fixture(scope="module")
def lp_small():
    return cc.lp_class_gaps([16], 3, 2.0, nodes=64)


def test_lp_class_gaps_match_their_definitions(lp_small):
    res = lp_small
    # S_m at the minimisers L⁺ and L⁻ is the LP optimum S*_m (they minimise S_m; the quadrature of z differs: 64
    # nodes in the LP, 4096 in critic_objectives, so agreement to the z-rule's error, not to rounding)
    p, q = densities.parse("normal(0,1)"), densities.parse("normal(1.5,1)")
    for s in range(3):
        x = p.sample(16, np.random.default_rng([0, 16, s, cc.LP_STREAM])).reshape(-1)
        z = q.ppf((np.arange(64) + 0.5) / 64)
        sol = npm.solve(x, z, 1.0, 2.0)
        assert res["s_emp_opt"][0, s] == pytest.approx(sol.objective, abs=1e-9)
        o = sc.critic_objectives(sol.upper, p, q, x, 1.0, 1.0, nodes=512)
        assert o["s_emp"] == pytest.approx(sol.objective, abs=0.02)
    # the population optimum lies below the population value of any κ-Lipschitz L (here L⁺ and L⁻), up to errors
    assert np.all(res["opt_upper"][0] + res["s_emp_opt"][0] >= res["s_star"] - 0.02)
    assert np.allclose(res["opt_min"], res["s_star"] - res["s_emp_opt"])
    assert res["s_star_err"] < 0.05


def test_lp_class_gaps_refuse_bad_input_by_name():
    with pytest.raises(ValueError, match="ms"):
        cc.lp_class_gaps([1], 3, 2.0)
    with pytest.raises(ValueError, match="seeds"):
        cc.lp_class_gaps([16], 1, 2.0)
    with pytest.raises(ValueError, match="kappa"):
        cc.lp_class_gaps([16], 3, -1.0)


# ------------------------------------------------------------------------------------------------ end to end
def test_tiny_capacity_run_end_to_end(tmp_path, monkeypatch, lp_small):
    # the spec's [quick] variant (3 seeds, 60 steps, two widths) through the sweeps, read and reported
    monkeypatch.setattr(sc, "QUAD_NODES", 512)  # the population rule's nodes (4096 in the study): speed only
    spec = ROOT / "experiments" / "critic_capacity.toml"
    df, _, summ = sc.run_experiment(spec, tmp_path / "runs", variant="quick")
    assert summ["counts"] == {"done": 6}
    assert {"lip_grid", "optimism", "abs_gap", "fresh_gap", "s_fresh"} <= set(df.columns)
    assert np.all(df["lip_grid"] > 0)
    assert set(df["n_params"]) == {97.0, 1153.0}
    rep = capacity_report(df, {2.0: lp_small}, tmp_path / "fig")
    assert len(rep["checks"]) == 2 and all(c.status in claims.STATUSES for c in rep["checks"])
    assert "κ = 2, m = 16" in rep["text"] and (tmp_path / "fig" / "critic_capacity.png").is_file()
    assert rep["data"]["n_params"] == [97, 1153]


def test_the_claim_is_registered_full_only_with_a_cost_entry():
    c = claims.registry()["sample-complexity-capacity"]
    assert c.full_only and "§5" in c.ref
    assert "sample-complexity-capacity" in claims.VERIFY_COST


def test_the_claim_function_runs_the_spec_and_the_lp_and_states_its_terms(tmp_path, monkeypatch):
    # the registered function end to end at the spec's [quick] size (ctx.quick selects it; verify itself skips this
    # full-only claim in --quick); one κ, 64 LP nodes and the 512-node population rule: speed only
    from lsgan_theory._claims import capacity  # private: the claim module's κ list and LP size, shortened for speed

    monkeypatch.setattr(capacity, "KAPPAS", (2.0,))  # private: as above
    monkeypatch.setattr(capacity, "LP_NODES", 64)  # private: as above
    monkeypatch.setattr(sc, "QUAD_NODES", 512)
    ev = claims.registry()["sample-complexity-capacity"].fn(claims.Context(out=tmp_path, quick=True))
    assert len(ev.checks) == 2 and "critic_capacity.toml` [quick]: 6 runs" in ev.evidence
    assert ev.data["lp"]["2"]["m"] == [16] and (tmp_path / "figures" / "critic_capacity.png").is_file()
    assert claims.status_of(ev, "statistical") in claims.STATUSES


def test_grid_lipschitz_reads_a_known_slope():
    # |slope| 3 with a kink inside the range: 3 (to the grid's rounding); a constant: 0 (negative control); the range
    # covers both densities (a kink at x = 4.5, inside N(1.5, 1)'s quantile range only, still counts)
    p, q = densities.parse("normal(0,1)"), densities.parse("normal(1.5,1)")
    assert sc.grid_lipschitz(lambda x: 3.0 * np.abs(x - 0.2), p, q) == pytest.approx(3.0, rel=1e-9)
    assert sc.grid_lipschitz(lambda x: np.full_like(x, 2.0), p, q) == 0.0
    assert sc.grid_lipschitz(lambda x: 5.0 * np.maximum(x - 4.5, 0.0), p, q) == pytest.approx(5.0, rel=1e-9)
