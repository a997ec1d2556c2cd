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


@pytest.mark.parametrize("name", ["theorem1", "mao_ring_hour", "stability_hour", "critic_generalisation",
                                  "data_generalisation", "gls_nu", "mixture_2d"])
def test_every_old_cell_and_seed_was_retrained_and_the_values_are_new(mod, name):
    old, new = pd.read_csv(HERE / "old" / f"{name}.csv"), mod.load(name)
    key = mod.SPECS[name][1] + ["replica"] + (["step"] if name in mod.MODE_FILES else [])
    as_set = lambda df: set(map(tuple, df[key].astype(str).to_numpy()))  # noqa: E731
    assert as_set(old) == as_set(new) and len(old) == len(new)
    # the retrained file is a new run: some seed's statistic differs (a copy of the old file would make every
    # comparison vacuous, p = 1 everywhere)
    stat = mod.SPECS[name][2]
    merged = old.merge(new, on=key, suffixes=("_old", "_new"))
    a, b = merged[f"{stat}_old"].to_numpy(float), merged[f"{stat}_new"].to_numpy(float)
    assert np.any(~np.isclose(a, b, equal_nan=True))


def test_the_comparison_rejects_a_shift_it_should_and_not_a_copy(mod):
    old = pd.read_csv(HERE / "old" / "theorem1.csv")
    same = mod.test(mod.pairs("theorem1", old, old, False))
    assert same["differs"] == [] and same["flat"] == 70 and same["tested"] == 0  # a copy: every difference is 0
    # a synthetic retraining: each seed's value plus independent noise (fixed seed: deterministic), no shift; then
    # the same with every cell shifted by half the noise's SD, and with one cell moved by 20 SD
    rng = np.random.default_rng(0)
    sd = old.groupby(["target", "n_data", "lam"])["l1_exact"].transform("std").fillna(0) + 1e-3
    noisy = old.assign(l1_exact=old["l1_exact"] + sd * rng.standard_normal(len(old)))
    null = mod.test(mod.pairs("theorem1", old, noisy, False))
    assert null["tested"] == 70 and null["differs"] == [] and null["stouffer_p"] > 0.05 and null["chi2_p"] > 0.05
    shifted = noisy.assign(l1_exact=noisy["l1_exact"] + 0.5 * sd)
    res = mod.test(mod.pairs("theorem1", old, shifted, False))
    assert res["stouffer_p"] < 1e-6 and res["mds"] < 0.5
    cell = old[(old["target"] == "normal(0,1)") & (old["n_data"] == 0) & (old["lam"] == 10)].index
    moved = noisy.copy()
    moved.loc[cell, "l1_exact"] += 20 * sd[cell]
    res = mod.test(mod.pairs("theorem1", old, moved, False))
    assert [c for c, _, _ in res["differs"]] == [("normal(0,1)", 0, 10.0)]


def test_the_paired_test_and_the_omnibus_scores_by_hand(mod):
    old = pd.Series([1.0, 2.0, 3.0, 4.0], index=[0, 1, 2, 3])
    new = pd.Series([2.5, 2.0, 4.5, 4.0], index=[3, 1, 2, 0])  # aligned by replica, not by position
    t = mod.Paired(old, new)
    d = np.array([4.0 - 1.0, 2.0 - 2.0, 4.5 - 3.0, 2.5 - 4.0])  # replicas 0..3
    tt = d.mean() / (d.std(ddof=1) / 2)
    assert t.n == 4 and t.difference == pytest.approx(d.mean()) and t.statistic == pytest.approx(tt)
    assert t.pvalue == pytest.approx(2 * stats.t.sf(abs(tt), 3))
    flat = mod.Paired(old, old + 1.0)
    assert flat.flat and flat.pvalue == 0.0 and mod.Paired(old, old).pvalue == 1.0
    z = math.copysign(stats.norm.isf(t.pvalue / 2), t.statistic)
    out = mod.omnibus([t, t])
    assert out["chi2_p"] == pytest.approx(stats.chi2.sf(2 * z * z, 2))
    assert out["stouffer_p"] == pytest.approx(2 * stats.norm.sf(2 * abs(z) / math.sqrt(2)))
    # 80 % power at 5 %, two cells of 4 pairs: (1.95996 + 0.84162) · √((1/4) / 2)
    assert out["mds"] == pytest.approx((1.959964 + 0.841621) * math.sqrt(0.125), rel=1e-5)
