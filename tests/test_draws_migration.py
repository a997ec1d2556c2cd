"""The committed experiments retrained with the engine's step draws (issue 28: "results of existing sweeps unchanged or
migrated"): experiments/draws_migration/comparison.md is what its script writes from the committed runs, every old
cell (configuration) and seed has its retrained counterpart, the retrained files are new runs (not the old ones), and
the comparison has power (a shift it must reject, in the same functions)."""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "experiments" / "draws_migration"


@pytest.fixture(scope="module")
def mod():
    spec = importlib.util.spec_from_file_location("draws_migration_compare", HERE / "compare.py")
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def test_the_committed_comparison_is_what_the_script_writes(mod, capsys):
    assert mod.main(["--check"]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("name", ["theorem1", "mao_ring_hour", "mao_ring_hour_hq", "stability_hour",
                                  "critic_generalisation", "data_generalisation", "gls_nu", "mixture_2d"])
def test_every_old_cell_and_seed_was_retrained_and_the_values_are_new(mod, name):
    old, new = pd.read_csv(HERE / "old" / f"{name}.csv"), mod.load(name)
    key = mod.SPECS[name][1] + ["replica"] + (["step"] if name in mod.MODE_FILES else [])
    as_set = lambda df: set(map(tuple, df[key].astype(str).to_numpy()))  # noqa: E731
    assert as_set(old) == as_set(new) and len(old) == len(new)
    # the retrained file is a new run: a copy of the old file (or one edited value) would make the comparison
    # vacuous; the retrained runs differ from the old ones in 48-100 % of the seeds (at the last evaluation for the
    # mode counts: the evaluation at step 0, before training, is the same in both)
    stat = mod.SPECS[name][2]
    if name in mod.MODE_FILES:
        old, new = old[old["step"] == old["step"].max()], new[new["step"] == new["step"].max()]
    merged = old.merge(new, on=key, suffixes=("_old", "_new"))
    a, b = merged[f"{stat}_old"].to_numpy(float), merged[f"{stat}_new"].to_numpy(float)
    assert np.mean(~np.isclose(a, b, rtol=0, atol=mod.ROUNDING, equal_nan=True)) >= 0.4


def test_the_old_values_are_those_of_the_commit_they_name(mod):
    # old/ is an extract of the committed files at OLD_REV; checked where the clone has that history
    import subprocess

    for name, spec in mod.SPECS.items():
        got = subprocess.run(["git", "show", f"{mod.OLD_REV}:{spec[0]}"], cwd=ROOT, capture_output=True, text=True)
        if got.returncode != 0:
            pytest.skip(f"this clone has no commit {mod.OLD_REV} (a shallow clone): old/ cannot be re-extracted")
        pd.testing.assert_frame_equal(mod.load(name, got.stdout), pd.read_csv(HERE / "old" / f"{name}.csv"),
                                      check_dtype=False)


def test_the_comparison_rejects_a_shift_it_should_and_not_a_copy(mod):
    old = pd.read_csv(HERE / "old" / "theorem1.csv")
    same = mod.test(mod.pairs("theorem1", old, old, False), power=False)
    assert same["differs"] == [] and same["flat"] == 70 and same["tested"] == 0  # a copy: every difference is 0
    # a synthetic retraining: each seed's value plus independent noise (fixed seed: deterministic), no shift; then
    # the same with every cell shifted by half the noise's SD, and with one cell moved by 20 SD
    rng = np.random.default_rng(0)
    sd = old.groupby(["target", "n_data", "lam"])["l1_exact"].transform("std").fillna(0) + 1e-3
    noisy = old.assign(l1_exact=old["l1_exact"] + sd * rng.standard_normal(len(old)))
    null = mod.test(mod.pairs("theorem1", old, noisy, False), power=False)
    assert null["tested"] == 70 and null["differs"] == [] and null["stouffer_p"] > 0.05 and null["chi2_p"] > 0.05
    shifted = noisy.assign(l1_exact=noisy["l1_exact"] + 0.5 * sd)
    assert mod.test(mod.pairs("theorem1", old, shifted, False), power=False)["stouffer_p"] < 1e-6
    cell = old[(old["target"] == "normal(0,1)") & (old["n_data"] == 0) & (old["lam"] == 10)].index
    moved = noisy.copy()
    moved.loc[cell, "l1_exact"] += 20 * sd[cell]
    res = mod.test(mod.pairs("theorem1", old, moved, False), power=False)
    assert [c for c, _, _ in res["differs"]] == [("normal(0,1)", 0, 10.0)]
    # a seed that diverges under the new draws only is counted, not dropped silently
    nan = noisy.copy()
    nan.loc[cell[:1], "l1_exact"] = np.nan
    assert mod.test(mod.pairs("theorem1", old, nan, False), power=False)["dropped"] == 1


def test_the_neighbour_pairs_skip_what_has_no_order_and_the_mode_files_use_the_evaluation_before_the_last(mod):
    gls = pd.read_csv(HERE / "old" / "gls_nu.csv")
    rows = mod.pairs("gls_nu", gls, gls, True)
    assert len(rows) == 40 and all(c[2] != "—" for c, _, _ in rows)  # ν of WGAN / LS-GAN: no neighbour
    normal_nu0 = [r for r in rows if r[0][:4] == ("normal(0,1)", "glsgan", 0.0, False)][0]
    assert normal_nu0[2].equals(mod._cells(gls[gls["nu"] == 0.5], mod.SPECS["gls_nu"][1], "l1_exact")[
        ("normal(0,1)", "glsgan", 0.5, False, normal_nu0[0][4])])  # private: the cell grouping the pairs use
    ring = pd.read_csv(HERE / "old" / "mao_ring_hour.csv")
    steps = sorted(ring["step"].unique())
    (cell, a, b), *_ = mod.pairs("mao_ring_hour", ring, ring, True)
    last, before = ring[ring["step"] == steps[-1]], ring[ring["step"] == steps[-2]]
    assert list(a) == list(last[last["loss"] == cell[0]].sort_values("replica")["modes"])
    assert list(b) == list(before[before["loss"] == cell[0]].sort_values("replica")["modes"])


def test_the_paired_test_and_the_omnibus_scores_by_hand(mod):
    old = pd.Series([1.0, 2.0, 3.0, 4.0], index=[0, 1, 2, 3])
    new = pd.Series([2.5, 2.0, 4.5, 4.0], index=[3, 1, 2, 0])  # aligned by replica, not by position
    t = mod.Paired(old, new)
    d = np.array([4.0 - 1.0, 2.0 - 2.0, 4.5 - 3.0, 2.5 - 4.0])  # replicas 0..3
    tt = d.mean() / (d.std(ddof=1) / 2)
    assert t.kind == "tested" and t.n == 4 and t.difference == pytest.approx(d.mean())
    assert t.statistic == pytest.approx(tt) and t.pvalue == pytest.approx(2 * stats.t.sf(abs(tt), 3))
    assert mod.Paired(old, old + 1.0).kind == "constant" and mod.Paired(old, old + 1.0).pvalue == 0.0
    assert mod.Paired(old, old + 1e-14).kind == "equal"  # rounding of a saturated statistic is no difference
    assert mod.Paired(old, old.where(old.index != 2, 9.0)).kind == "few"  # one seed moved: t = ±1, not tested
    z = math.copysign(stats.norm.isf(t.pvalue / 2), t.statistic)
    out = mod.omnibus([t, t], power=False)
    assert out["chi2_p"] == pytest.approx(stats.chi2.sf(2 * z * z, 2))
    assert out["stouffer_p"] == pytest.approx(2 * stats.norm.sf(2 * abs(z) / math.sqrt(2)))


@pytest.mark.parametrize("ns", [[4] * 16, [10] * 6, [5] * 56])
def test_the_detectable_shift_has_its_power_in_an_independent_simulation(mod, ns):
    # scipy's noncentral t (another generator, another seed) at the reported shift: power 0.80 within 4 standard
    # errors of 8000 runs; and more than the normal approximation (z_.975 + z_.8)·√(1/(n·m)) at small n
    delta = mod.detectable_shift(ns)
    n, m = ns[0], len(ns)
    t = stats.nct.rvs(n - 1, delta * math.sqrt(n), size=(8000, m), random_state=np.random.default_rng(1))
    z = np.sign(t) * stats.norm.isf(2 * stats.t.sf(np.abs(t), n - 1) / 2)
    power = np.mean(np.abs(z.sum(axis=1)) / math.sqrt(m) > stats.norm.isf(0.025))
    assert power == pytest.approx(0.8, abs=4 * math.sqrt(0.16 / 8000) + 0.005)
    assert delta > (1.959964 + 0.841621) / math.sqrt(n * m)


def test_the_scripts_refuse_bad_input_with_one_line_and_exit_2_before_any_work(tmp_path):
    import subprocess
    import sys

    before = {p.name: p.read_bytes() for p in (HERE / "old").iterdir()}
    r = subprocess.run([sys.executable, str(HERE / "compare.py"), "--extract", "no-such-rev"], capture_output=True,
                       text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert "--extract: experiments/theorem1/theorem1_runs.csv is not in commit 'no-such-rev'" in r.stderr
    assert {p.name: p.read_bytes() for p in (HERE / "old").iterdir()} == before  # nothing written
    # the verify_quick driver takes no options: an unknown one is refused before any claim runs
    vq = ROOT / "experiments" / "theorem1" / "verify_quick"
    stamp = (vq / "times.json").read_bytes()
    r = subprocess.run([sys.executable, str(vq / "run.py"), "--quick"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "unrecognized arguments: --quick" in r.stderr and "Traceback" not in r.stderr
    assert (vq / "times.json").read_bytes() == stamp
