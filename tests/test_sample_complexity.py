"""Sample complexity and the GLS-GAN family on trained GANs (issue 16, items 2–5): the slope fits, the objectives,
the hinge probe, the verdict logic on planted inputs, and the study end to end at tiny size."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.special import ndtr

from lsgan_theory import densities
from lsgan_theory.claims import Check
from lsgan_theory.ensemble import TrainConfig, train
from lsgan_theory.studies import sample_complexity as sc
# private: the claims' verdict rules (claim code, no public face)
from lsgan_theory._claims.sample_complexity import decrease_check, equivalence_check, rate_terms


# ------------------------------------------------------------------------------------------------ slope fits
def _power_data(exponent, rng, xs=(32, 64, 128, 256, 512, 1024, 2048, 4096), seeds=10, noise=0.3):
    x = np.asarray(xs, float)
    return x, 2.0 * x[:, None] ** exponent * rng.lognormal(0.0, noise, size=(x.size, seeds))


def test_fit_power_recovers_a_known_exponent_and_rejects_a_nearby_one():
    # 20 synthetic data sets with exponent −1/2 and 30 % log-normal noise over 10 seeds: the 95 % interval covers
    # −1/2 in >= 16 of 20 (a binomial(20, 0.95) falls below 16 with probability 0.3 %), and excludes the
    # alternative −1/4 in every one (power).  Mutation: fitting log y on x instead of log x makes the slope ~ −1e-4
    # and the coverage 0.
    rng = np.random.default_rng(0)
    cover = reject = 0
    for _ in range(20):
        x, y = _power_data(-0.5, rng)
        f = sc.fit_power(x, y, n_boot=300, seed=1)
        cover += f.ci[0] <= -0.5 <= f.ci[1]
        reject += not (f.ci[0] <= -0.25 <= f.ci[1])
    assert cover >= 16
    assert reject == 20


def test_fit_power_negative_control_flat_data_has_slope_zero_not_minus_half():
    rng = np.random.default_rng(1)
    x, y = _power_data(0.0, rng)
    f = sc.fit_power(x, y, n_boot=500)
    stat, alt = sc.rate_check(f, -0.5, 0.0)
    assert stat > 0.3          # −1/2 is far outside the interval of a flat series
    assert alt == 0.0          # 0 is inside


def test_fit_power_uses_finite_entries_and_refuses_non_positive_means():
    x = np.array([1.0, 2.0, 4.0])
    y = np.array([[1.0, np.nan], [0.5, 0.5], [0.25, np.nan]])
    f = sc.fit_power(x, y, n_boot=50)
    assert f.slope == pytest.approx(-1.0, abs=1e-12)
    with pytest.raises(ValueError, match="y: every mean"):
        sc.fit_power(x, -np.abs(y), n_boot=10)
    with pytest.raises(ValueError, match="x: every value"):
        sc.fit_power(np.array([0.0, 1.0, 2.0]), np.ones((3, 2)))


# ------------------------------------------------------------------------------------------------ verdict logic
def _fit(slope, lo, hi):
    return sc.PowerFit(slope, (lo, hi), 0.0, np.ones(2), np.ones(2))


@pytest.mark.parametrize("ci,status", [((-0.6, -0.4), "pass"), ((-0.6, -0.2), "inconclusive"),
                                       ((-0.3, -0.1), "fail"), ((math.nan, math.nan), "fail")])
def test_rate_check_verdicts_on_planted_intervals(ci, status):
    c = rate_terms("planted", _fit(sum(ci) / 2, *ci), -0.5, -0.25, "planted interval")
    assert c.status == status


@pytest.mark.parametrize("ci,status", [((-0.5, -0.1), "pass"), ((-0.2, 0.1), "inconclusive"), ((0.1, 0.3), "fail")])
def test_decrease_check_verdicts_on_planted_intervals(ci, status):
    assert decrease_check("planted", sum(ci) / 2, ci, "planted").status == status


def test_equivalence_check_passes_equal_means_and_fails_a_planted_difference():
    rng = np.random.default_rng(3)
    a, b = rng.normal(1.0, 0.1, 20), rng.normal(1.0, 0.1, 20)
    far = rng.normal(2.0, 0.1, 20)
    assert equivalence_check("same", a, b, far, "planted", "far").status == "pass"
    assert equivalence_check("shifted", a, far, b, "planted", "b").status == "fail"
    # an alternative that equals the claim cannot be rejected: inconclusive, never pass
    assert equivalence_check("no power", a, b, b + 0.0, "planted", "b").status == "inconclusive"


# ------------------------------------------------------------------------------------------------ objectives
def _mean_abs_normal(mu, sigma):
    """E|N(μ, σ²)| (closed form)."""
    return sigma * math.sqrt(2 / math.pi) * math.exp(-mu * mu / (2 * sigma * sigma)) + mu * (1 - 2 * ndtr(-mu / sigma))


def test_critic_objectives_of_a_constant_loss_match_the_closed_form():
    # L ≡ c: g(x) = c + λτ E_z|x − z|, so S = c + λτ E|X − Z| with X − Z ~ N(−1.5, 2).  Mutation: dropping the
    # E L(x) term (g = λ·hinge) shifts S by c = 0.7 and fails.
    p, q = densities.parse("normal(0,1)"), densities.parse("normal(1.5,1)")
    c, lam, tau = 0.7, 3.0, 0.5
    r = sc.critic_objectives(lambda x: np.full(np.shape(x), c), p, q, np.array([0.0]), lam, tau, nodes=4096)
    exact = c + lam * tau * _mean_abs_normal(-1.5, math.sqrt(2.0))
    assert r["s_pop"] == pytest.approx(exact, abs=2e-3)
    assert abs(r["s_pop"] - exact) <= 5 * r["s_pop_err"] + 1e-4  # the error estimate is of the right size
    # the empirical objective at x = 0: c + λτ E|Z| (one point)
    assert r["s_emp"] == pytest.approx(c + lam * tau * _mean_abs_normal(1.5, 1.0), abs=2e-3)


def test_critic_objectives_hinge_clips_where_the_loss_separates():
    # L(x) = 10·1[x > 0.75]: pairs with x < 0.75 < z have argument τ|x − z| − 10 < 0 (clipped): the population
    # objective is below the unclipped value.
    p, q = densities.parse("normal(0,1)"), densities.parse("normal(1.5,1)")
    step = lambda x: 10.0 * (np.asarray(x) > 0.75)  # noqa: E731
    r = sc.critic_objectives(step, p, q, np.array([0.0]), 1.0, 1.0, nodes=2048)
    unclipped = sc.critic_objectives(lambda x: np.zeros(np.shape(x)), p, q, np.array([0.0]), 1.0, 1.0, nodes=2048)
    assert r["s_pop"] < unclipped["s_pop"] + 10 * (1 - p.cdf(np.array([0.75]))[0])


def test_hinge_active_counts_positive_arguments_and_reads_wgan_as_minus_f():
    x = torch.tensor([[[0.0], [1.0]]], dtype=torch.float64)
    z = torch.tensor([[[0.5], [2.0]]], dtype=torch.float64)
    zero = torch.zeros(1, 2, dtype=torch.float64)
    assert sc.hinge_active(zero, zero, x, z, ["glsgan"], [1.0])[0] == 1.0  # a = |x − z| > 0 for every pair
    big_fake = torch.full((1, 2), 10.0, dtype=torch.float64)
    assert sc.hinge_active(zero, big_fake, x, z, ["glsgan"], [1.0])[0] == 0.0  # L(z) ≫ L(x) + Δ: all clipped
    # WGAN: L = −f, so f(z) = −10 means L(z) = 10: all clipped as well
    assert sc.hinge_active(zero, -big_fake, x, z, ["wgan"], [1.0])[0] == 0.0
    # LS-GAN: L = softplus: softplus(−30) ≈ 0 for the reals, softplus(0) = log 2 for the fakes; the margins
    # |x − z| are 0.5, 2, 0.5, 1, so a = margin − log 2 > 0 for two pairs of four (the raw output would give 4/4)
    out_r = torch.full((1, 2), -30.0, dtype=torch.float64)
    assert sc.hinge_active(out_r, zero, x, z, ["loss_sensitive"], [1.0])[0] == pytest.approx(0.5)


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch thread (the sweeps' default): tiny ensembles only lose to a second thread's barriers."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_train_probed_trains_exactly_as_train():
    # the probe must not change training: same parameters bitwise (CPU, float32), LS-GAN and GLS-GAN in one pack.
    # Mutation: drawing the probe noise from the trainer's "noise_g" stream at the current step changes nothing (the
    # streams are counter-based), but calling g_step twice per step fails this test.
    cfg = TrainConfig(target="normal(0,1)", n_models=2, steps=25, family=("loss_sensitive", "glsgan"),
                      lam=(1.0, 1.0), nu=(0.0, 0.5), g_hidden=(8,), d_hidden=(8,), n_data=64, device="cpu",
                      record_every=5)
    ref = train(cfg)
    res, run, hinge = sc.train_probed(cfg, probe=16)
    for a, b in zip(ref.g_params + ref.d_params, res.g_params + res.d_params):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(ref.loss_d, res.loss_d)
    assert hinge.shape == (2, len(ref.steps)) and np.all((hinge >= 0) & (hinge <= 1))


def test_train_probed_resumes_and_saves_on_ctrl_c_through_the_engine(tmp_path, monkeypatch, python_sigint):
    # train_probed runs on ensemble.train (its observer is the probe): Ctrl-C in the middle (raised inside a D
    # update at step 12, a real SIGINT, held until the step ends) saves the completed steps with the probe records
    # so far; the resumed run's parameters and hinge curve equal an uninterrupted one's bitwise.
    import os
    import signal

    from lsgan_theory.ensemble import trainer as T

    cfg = TrainConfig(target="normal(0,1)", n_models=2, steps=25, family=("loss_sensitive", "glsgan"),
                      lam=(1.0, 1.0), nu=(0.0, 0.5), g_hidden=(8,), d_hidden=(8,), n_data=64, device="cpu",
                      record_every=5)
    ref, _, hinge_ref = sc.train_probed(cfg, probe=16)
    ck = tmp_path / "probe.pt"
    real = T.d_step

    def d_step(run, state, step, t):
        out = real(run, state, step, t)
        if step == 12:
            os.kill(os.getpid(), signal.SIGINT)
        return out

    monkeypatch.setattr(T, "d_step", d_step)
    with pytest.raises(KeyboardInterrupt):
        sc.train_probed(cfg, probe=16, checkpoint=ck, checkpoint_every=100)
    monkeypatch.setattr(T, "d_step", real)
    saved = torch.load(ck, weights_only=True)
    assert saved["step"] == 12 and [n for n, _ in saved["observed"]] == [5, 10]
    res, _, hinge = sc.train_probed(cfg, probe=16, checkpoint=ck)
    np.testing.assert_array_equal(hinge, hinge_ref)
    for a, b in zip(ref.g_params + ref.d_params, res.g_params + res.d_params):
        assert torch.equal(a, b)


def test_train_probed_freezes_a_diverging_model_through_the_engine():
    # A planted divergence (WGAN critic, lr_d = 1e76 in float64): the engine freezes it (diverged_step as in train),
    # its hinge fraction is NaN from then on and the other model's is untouched by it (equal to its run alone).
    kw = dict(target="normal(0,1)", fixed_generator="normal(1.5,1)", steps=20, batch=16, d_hidden=(8, 8), n_data=64,
              device="cpu", dtype="float64", record_every=2)
    cfg = TrainConfig(n_models=2, family="wgan", lr_d=(1e-3, 1e76), **kw)
    res, _, hinge = sc.train_probed(cfg, probe=16)
    k = int(res.diverged_step[1])
    assert res.diverged_step[0] == -1 and 0 <= k < 14
    np.testing.assert_array_equal(res.diverged_step, train(cfg).diverged_step)
    after = res.steps >= k
    assert np.isnan(hinge[1, after]).all() and np.isfinite(hinge[1, ~after]).all()
    alone, _, h0 = sc.train_probed(TrainConfig(n_models=1, family="wgan", lr_d=1e-3, **kw), probe=16)
    np.testing.assert_array_equal(hinge[0], h0[0])


# ------------------------------------------------------------------------------------------------ end to end
_TINY = """
[sweep]
name = "{name}"
seeds = 3
n_eval = 100
[base]
{base}
steps = 30
g_hidden = [8]
[grid]
{grid}
"""


def _spec(tmp_path, name, base, grid):
    p = tmp_path / f"{name}.toml"
    if "d_hidden" not in grid:
        base += "\nd_hidden = [8]"
    p.write_text(_TINY.format(name=name, base=base, grid=grid))
    return p


def test_critic_experiment_end_to_end_and_resumes(tmp_path, monkeypatch):
    monkeypatch.setattr(sc, "QUAD_NODES", 512)  # the population rule's nodes (4096 in the study): speed only
    spec = _spec(tmp_path, "critic_tiny", 'family = "loss_sensitive"\nfixed_generator = "normal(1.5,1)"',
                 "n_data = [16, 64]\nd_hidden = [[4], [8]]")
    df, curves, summ = sc.run_experiment(spec, tmp_path / "out")
    assert summ["counts"] == {"done": 12}
    assert {"optimism", "abs_gap", "fresh_gap", "s_pop_err", "n_params"} <= set(df.columns)
    np.testing.assert_allclose(df["abs_gap"], np.abs(df["optimism"]))
    assert set(df["n_params"]) == {4 * 2 + 5, 8 * 2 + 9}
    assert set(curves["name"]) == {"loss_d", "loss_g", "hinge_active"}
    r = sc.read_critic_gap(df, n_boot=50)
    assert r.widths == [4, 8] and set(r.n_exponent_abs) == {16.0, 64.0}
    again = sc.run_experiment(spec, tmp_path / "out")[2]
    assert again["trained"] == 0  # resumed: nothing retrained


def test_generator_experiment_measures_the_models_own_data(tmp_path):
    spec = _spec(tmp_path, "gen_tiny", 'family = "loss_sensitive"\ntarget = "normal(0,1)"', "n_data = [16, 64]")
    df, curves, _ = sc.run_experiment(spec, tmp_path / "out")
    ok = df[df["status"] == "done"]
    assert len(ok) >= 4
    # independent second computation of W1(p, p̂_m): the trainer's data stream (seed, model id, 'data' = 8)
    from lsgan_theory.ensemble.rng import STREAMS
    from lsgan_theory.metrics import w1_to_cdf
    from lsgan_theory.sweeps.spec import stream_id

    p = densities.parse("normal(0,1)")
    for _, row in ok.iterrows():
        data = p.sample(int(row["n_data"]), np.random.default_rng([0, stream_id(row["id"]), STREAMS["data"]]))
        # the trainer holds the data in its dtype (float32): equal to float32 rounding
        assert row["w1_data"] == pytest.approx(w1_to_cdf(data, p), rel=1e-6)
    reads = sc.read_data_generalisation(df, n_boot=50)
    assert list(reads) == ["normal(0,1)"] and [r["m"] for r in reads["normal(0,1)"].rows] == [16, 64]


def test_gls_reader_counts_divergence_and_groups_by_loss(tmp_path):
    spec = _spec(tmp_path, "gls_tiny", 'target = "normal(0,1)"\nn_data = 256',
                 'family = ["glsgan", "wgan"]\nnu = [0.0, 1.0]')
    df, curves, _ = sc.run_experiment(spec, tmp_path / "out")
    r = sc.read_gls_family(df, curves)
    labels = sorted(x["label"] for x in r.rows)
    assert labels == ["GLS ν=0", "GLS ν=1", "WGAN"]
    assert all(x["n"] == 3 for x in r.rows)
    assert r.curves  # hinge-active curves per loss


def test_mixture_2d_metrics_have_same_size_floors(tmp_path):
    spec = _spec(tmp_path, "mix_tiny", 'family = "loss_sensitive"\ntarget = "ring(4,1,0.1)"\nnoise_dim = 2',
                 "lam = [1.0, 10.0]\nn_data = [32, 128]")
    df, _, _ = sc.run_experiment(spec, tmp_path / "out")
    ok = df[df["status"] == "done"]
    assert {"w1", "w1_floor", "mmd2", "mmd2_floor", "w1_data_k", "w1_gen_k", "w1_floor_k", "modes"} <= set(df.columns)
    assert set(ok["k_data"]) <= {32.0, 100.0}
    r = sc.read_mixture_2d(df, n_boot=50)
    assert [x["m"] for x in r.m_rows] == [32, 128] and r.m_rows[0]["lam"] == 10.0


# ------------------------------------------------------------------------------------------------ the size that would decide
def test_size_to_decide_reads_the_interval_as_standard_errors_and_matches_a_simulation():
    from scipy import stats

    from lsgan_theory._claims.sample_complexity import size_to_decide  # private: the claims' size rule

    # a slope −0.45 whose 95 % interval at 6 seeds is ±0.3: SE = 0.3/1.96, per-seed SD = SE·√6; excluding −0.25
    est, half, n0 = -0.45, 0.3, 6
    n = size_to_decide(est, (est - half, est + half), 0.95, n0, -0.25)
    sd = half / stats.norm.ppf(0.975) * math.sqrt(n0)
    # independent check by simulation: n normal seeds with that mean and SD; the t-interval lies below −0.25 in
    # ≥ 80 % of 20 000 draws at n, and in fewer at n − 1 (allowing 4 binomial SEs)
    rng = np.random.default_rng(11)

    def sim(k):
        x = rng.normal(est, sd, size=(20000, k))
        hi = x.mean(1) + stats.t.ppf(0.975, k - 1) * x.std(1, ddof=1) / math.sqrt(k)
        return float((hi < -0.25).mean())

    tol = 4 * math.sqrt(0.16 / 20000)
    assert sim(n) >= 0.8 - tol and sim(n - 1) < 0.8 + tol
    # the closed form with known σ is a lower bound, a few seeds below
    n_z = ((stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * sd / 0.2) ** 2
    assert math.ceil(n_z) <= n <= math.ceil(n_z) + 3
    # no effect, or no interval: no size decides
    assert size_to_decide(-0.25, (-0.5, 0.0), 0.95, 6, -0.25) == math.inf
    assert size_to_decide(-0.4, (math.nan, 0.0), 0.95, 6, -0.25) == math.inf


def test_undecided_lines_say_why_and_how_many_seeds():
    from lsgan_theory._claims.sample_complexity import _budget_why, _decide_line  # private: the claims' wording

    line = _decide_line("slope of W1", -0.08, (-0.23, 0.05), 0.975, 5, 0.0, "no trend", "a measured reason.")
    assert "Not decided" in line and "seeds per setting (now 5)" in line and "a measured reason." in line
    # the budget reading names optimisation error only when the excess exceeds the data's fall
    assert "optimisation error dominates" in _budget_why(0.5, 0.18, 0.02, 32, 2048, "excess", "data")
    assert "optimisation error" not in _budget_why(0.05, 0.18, 0.02, 32, 2048, "excess", "data")


def test_modes_size_to_decide_text_only_for_undecided_checks():
    # private: the mode claims' verdict rule and wording (claim code, no public face)
    from lsgan_theory._claims.modes import difference_check, size_to_decide_text
    from lsgan_theory.studies.stats import welch_test

    a, b = [1.0, 2.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]
    w = welch_test(a, b)
    d, lo, hi = w.difference, w.lo, w.hi
    c = difference_check("x", lo, hi, 4, 4, "modes")
    assert c.status == "inconclusive"
    # no generator near the modes: the hypothesis is not met, and no number of seeds is named as deciding
    low = size_to_decide_text(a, b, ("A", "B"), c, (0.01, 0.02), 210, 8, "pointer.")
    assert "Hypothesis not met" in low and "most samples lie away from every mode" in low and low.endswith("pointer.")
    assert "seeds per setting" not in low and "would then" not in low
    txt = size_to_decide_text(a, b, ("A", "B"), c, (0.6, 0.02), 210, 8, "pointer.")  # one generator trained
    assert "Not decided at this size" in txt and "seeds per setting" in txt and txt.endswith("pointer.")
    # the seeds it names: the noncentral-t helper with sd = √(s_A² + s_B²)
    from lsgan_theory.studies.stats import seeds_for_power
    n = seeds_for_power(0.5, math.sqrt(np.var(a, ddof=1) + np.var(b, ddof=1)))
    assert f"{n} seeds per setting" in txt
    # a decided check gets no text
    wb = welch_test([8.0, 8, 7, 8], [1.0, 2, 1, 1])
    big = difference_check("x", wb.lo, wb.hi, 4, 4, "modes")
    assert big.status == "pass" and size_to_decide_text([8.0, 8, 7, 8], [1.0, 2, 1, 1], ("A", "B"), big,
                                                         (0.9, 0.9), 210, 8) == ""


def test_modes_decided_reading_says_what_a_low_quality_verdict_is_about():
    # private: the mode claims' wording beside a decided verdict (claim code, no public face)
    from lsgan_theory._claims.modes import decided_reading_text, difference_check, size_to_decide_text
    from lsgan_theory.studies.stats import welch_test

    ls, gan = [0.0, 0, 1, 0, 0, 0], [2.0, 1, 3, 2, 1, 2]
    w = welch_test(ls, gan)
    fail = difference_check("x", w.lo, w.hi, 6, 6, "modes")
    assert fail.status == "fail" and size_to_decide_text(ls, gan, ("LS", "GAN"), fail, (0.01, 0.003), 1050, 8) == ""
    txt = decided_reading_text(fail, (0.012, 0.003), ("LS", "GAN"), 1050, 8, "pointer.")
    assert "(fail on the statistic alone), but the comparison's hypothesis is not met" in txt and "0.012 (LS)" in txt and "0.003 (GAN)" in txt and txt.endswith("pointer.")
    # generators that resolve the modes: the verdict needs no reading; an undecided check gets none (it says why)
    assert decided_reading_text(fail, (0.9, 0.6), ("LS", "GAN"), 1050, 8) == ""
    wu = welch_test([1.0, 2, 1, 0], [0.0, 1, 0, 1])
    undecided = difference_check("x", wu.lo, wu.hi, 4, 4, "modes")
    assert undecided.status == "inconclusive" and decided_reading_text(undecided, (0.01, 0.01), ("A", "B"), 210, 8) == ""


def test_mode_comparisons_need_a_generator_that_has_learnt_the_modes():
    # private: the mode claims' hypothesis (claim code, no public face)
    from lsgan_theory._claims.modes import TRAINED_HQ, difference_check, trained_hypothesis
    from lsgan_theory.studies.stats import welch_test

    w = welch_test([0.0, 0, 1, 0, 0, 0], [2.0, 1, 3, 2, 1, 2])
    fail = difference_check("x", w.lo, w.hi, 6, 6, "modes")
    assert fail.status == "fail"
    low = trained_hypothesis(fail, (0.012, 0.003), ("LS", "GAN"))  # neither generator near the modes
    assert low.status == "hypothesis not met" and "0.012 (LS)" in low.hypothesis and "0.003 (GAN)" in low.hypothesis
    # control: one generator trained (the other not) is a difference between the losses, decided as measured
    assert trained_hypothesis(fail, (0.01, 0.9), ("LS", "GAN")).status == "fail"
    assert trained_hypothesis(fail, (TRAINED_HQ, 0.0), ("LS", "GAN")).status == "fail"  # the threshold itself
    wu = welch_test([1.0, 2, 1, 0], [0.0, 1, 0, 1])
    undecided = difference_check("x", wu.lo, wu.hi, 4, 4, "modes")
    assert trained_hypothesis(undecided, (0.9, 0.9), ("A", "B")).status == "inconclusive"
    assert trained_hypothesis(undecided, (0.1, 0.2), ("A", "B")).status == "hypothesis not met"


def test_quick_note_of_larger_designs_only_on_an_undecided_quick_run(monkeypatch, tmp_path):
    import pandas as pd

    import lsgan_theory.studies.sample_complexity as study
    from lsgan_theory._claims import sample_complexity as claim_sc  # private: the claim's runner, its I/O replaced
    from lsgan_theory.claims import Check, Context

    monkeypatch.setattr(study, "run_experiment", lambda *a, **k: (pd.DataFrame({"x": [1]}), None,
                                                                  {"counts": {"done": 1}, "seconds": 0.0}))
    stat = {"v": (0.0, 0.0)}  # (statistic, alternative statistic): (0, 0) inconclusive, (0, 1) pass

    def report(name, df, curves, folder):
        return {"text": "T", "figures": [], "data": {},
                "checks": [Check("c", stat["v"][0], 0.0, "basis", "no trend", stat["v"][1])]}

    monkeypatch.setattr(claim_sc, "report_experiment", report)
    cid = "sample-complexity-mixture-2d"
    assert "Larger designs" in claim_sc._run(Context(tmp_path, quick=True), cid).evidence  # private: as above
    assert "Larger designs" not in claim_sc._run(Context(tmp_path, quick=False), cid).evidence  # private: as above
    stat["v"] = (0.0, 1.0)
    assert "Larger designs" not in claim_sc._run(Context(tmp_path, quick=True), cid).evidence  # private: as above


def test_quick_mode_specs_train_what_their_claims_read():
    from pathlib import Path

    from lsgan_theory.studies.modes import load_modes_spec

    exp = Path(__file__).resolve().parents[1] / "experiments" / "mode_collapse"
    pac = load_modes_spec(exp / "pacgan.toml", "quick")
    assert "gan_ns" in pac.losses and pac.grid["pack"] == [1, 2]
    mao = load_modes_spec(exp / "mao_ring.toml", "quick")
    assert {"gan_ns", "ls_m110"} <= set(mao.losses)


def test_paired_m_check_trains_partners_on_the_small_m_runs_draws_and_reads_the_sign():
    import pandas as pd

    from lsgan_theory._claims.sample_complexity import _row_config, paired_m_check  # private: the claim's check
    from lsgan_theory.studies.sample_complexity import train_measured

    rows = []
    for m in (32, 256):
        for rep in range(3):
            rows.append({"id": f"{m:04x}{rep:04x}{(m * 31 + rep) * 7919:08x}", "status": "done",
                         "family": "loss_sensitive", "lam": 10.0, "tau": 0.3, "target": "normal(0,1)",
                         "replica": rep, "steps": 20, "batch": 32, "g_hidden": (8, 8), "d_hidden": (8, 8),
                         "n_data": m, "n_eval": 200, "lr_d": 1e-3, "lr_g": 1e-3, "w1_exact": 5.0})
    df = pd.DataFrame(rows)
    check, data, line = paired_m_check(df, "w1_exact", "W1(p, q̂)", 0.95)
    small = df[df["n_data"] == 32].sort_values("replica")
    again = train_measured(_row_config(df[df["n_data"] == 256].iloc[0], run_ids=small["id"]), 200)
    assert np.allclose(data["b"], [x["w1_exact"] for x in again])           # the partners, rebuilt independently
    assert data["a"] == [5.0] * 3 and np.allclose(data["d"], np.asarray(data["b"]) - 5.0)
    assert check.status == "pass" and line == ""                          # planted: the small m is far worse
    # negative control: planted small-m errors far below the partners' → the error rises with m: fail
    df["w1_exact"] = 0.0
    check2, data2, _ = paired_m_check(df, "w1_exact", "W1(p, q̂)", 0.95)
    assert data2["b"] == data["b"] and check2.status == "fail"


@pytest.mark.parametrize("spectral_norm", [False, True])
def test_critic_fn_of_one_model_equals_the_ensemble_forward(spectral_norm):
    # the loss network of model e applied alone (its parameter slice) against the whole ensemble's forward on inputs
    # that are zero for the other models: the same numbers (an independent path: TrainResult.discriminator)
    cfg = TrainConfig(family="loss_sensitive", target="normal(0,1)", fixed_generator="normal(1.5,1)", lam=1.0,
                      tau=1.0, steps=5, batch=32, n_data=64, d_hidden=(16, 16), n_models=5,
                      spectral_norm=spectral_norm)
    res = train(cfg)
    x = np.linspace(-3, 3, 257)
    D = res.discriminator()
    critic = sc._critic_fn  # private: the loss function critic_objectives reads (no public face)
    for e in (0, 2, 4):
        xt = torch.zeros((5, x.size, 1), dtype=torch.float64)
        xt[e, :, 0] = torch.as_tensor(x)
        with torch.no_grad():
            full = torch.nn.functional.softplus(D(xt)[e].double()).numpy()
        assert np.allclose(critic(res, e)(x), full, rtol=1e-6, atol=1e-7)
    # negative control: another model's loss network is another function
    assert not np.allclose(critic(res, 1)(x), critic(res, 2)(x), atol=1e-4)
