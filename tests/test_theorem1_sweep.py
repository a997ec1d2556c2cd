"""The λ sweep through the sweeps machinery (issue 16, experiment 1): a tiny store read by
``read_lambda_store`` / ``lsgan-theory theorem1``, and ``[[figure]]`` facets (one panel per value of a grid key)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lsgan_theory.cli import main
from lsgan_theory.sweeps.spec import SpecError, parse_spec

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py

SPEC = """
[sweep]
name = "tiny-lambda"
seeds = 2
n_eval = 50
[base]
family = "loss_sensitive"
steps = 10
noise_dim = 1
g_hidden = [4, 4]
d_hidden = [4, 4]
spectral_norm = true
tau = 0.1
[grid]
target = ["beta(2,2)"]
lam = [1, 10]
n_data = [0, 32]
[[figure]]
name = "l1"
x = "lam"
y = "l1_exact"
hue = "target"
facet = "n_data"
logx = true
reference = "2/lam"
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("lam")
    (d / "tiny.toml").write_text(SPEC)
    assert main(["sweep", str(d / "tiny.toml"), "--out", str(d / "out"), "--quiet"]) == 0
    return d / "out"


def test_theorem1_command_reads_the_store_into_verdicts_tables_and_a_figure(store, capsys):
    from lsgan_theory import output
    from lsgan_theory.studies.theorem1 import read_bound
    from lsgan_theory.sweeps import load

    capsys.readouterr()
    assert main(["theorem1", str(store), "--capacity-steps", "10", "--json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    # issue 27: a line per stage on stderr (before: two minutes without output), none on stdout (JSON stays clean)
    assert "theorem1: target 1/1 beta(2,2): capacity floor" in captured.err
    dest = store / "theorem1"
    assert {v["regime"] for v in out["verdicts"]} == {"fresh", "n=32"}
    runs = pd.read_csv(dest / "theorem1_runs.csv")
    summary = pd.read_csv(dest / "theorem1_summary.csv")
    text = (dest / "theorem1_verdicts.json").read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in theorem1_verdicts.json (not RFC 8259)"))
    saved = output.loads(text)  # the package's JSON: non-finite values listed under "nonfinite" (issue 30)
    assert len(runs) == 8 and len(summary) == 4 and len(saved["verdicts"]) == 2
    assert all(open(f, "rb").read(4) in (b"\x89PNG", b"%PDF") for f in out["figures"])
    # the summary is read_bound of the store's own numbers, recomputed here from the store
    df = load(store)
    floor = saved["capacity_floor"]["beta(2,2)"]
    for v in saved["verdicts"]:
        g = df[df["n_data"] == v["n_data"]].sort_values(["lam", "replica"])
        l1 = g["l1_exact"].to_numpy().reshape(2, 2)
        est = float(g["l1_exact_abserr"].max())
        rd = read_bound([1.0, 10.0], l1, floor, estimator_floor=est)
        assert v["verdict"] == rd.verdict and v["trend_rho"] == pytest.approx(rd.trend_rho, nan_ok=True)
        rows = summary[summary["n_data"] == v["n_data"]].sort_values("lam")
        np.testing.assert_allclose(rows["l1_mean"], l1.mean(axis=1), rtol=1e-12)
        assert list(rows["status"]) == [r.status for r in rd.rows]
        assert list(rows["sharp_status"]) == [r.sharp_status for r in rd.rows]
        # issue 29: every run carries its equilibrium certificates; ten steps certify nothing, so Theorem 1 at
        # certified equilibria reads "hypothesis not met" -- never "violated"
        assert g["critic_gap"].notna().all() and g["certified"].isin([0.0, 1.0]).all()
        assert v["at_equilibrium_sharp"] == v["at_equilibrium_paper"] == "hypothesis not met"
        assert (rows["certified"] == 0).all() and set(rows["at_equilibrium_sharp"]) == {"hypothesis not met"}
    assert "critic_gap" in runs.columns and "lip_ratio" in runs.columns


def test_theorem1_command_refuses_a_folder_without_a_store(tmp_path, capsys):
    assert main(["theorem1", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "results.sqlite" in err


def test_plot_draws_one_panel_per_facet_value(store, capsys):
    from lsgan_theory.sweeps import figure_tables

    (fig, table), = figure_tables(store)
    assert fig["facet"] == "n_data" and sorted(set(table["n_data"])) == [0, 32] and (table["n"] == 2).all()
    capsys.readouterr()
    assert main(["plot", str(store), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["figures"]) == 2


@pytest.mark.parametrize("extra, needle", [
    ('facet = "steps"\n', "not a [grid] key"),
    ('facet = "lam"\n', "different grid keys"),
])
def test_bad_facet_is_refused_naming_the_key(extra, needle):
    base = SPEC.split("[[figure]]")[0] + '[[figure]]\nname = "a"\nx = "lam"\ny = "w1"\n'
    with pytest.raises(SpecError, match="figure") as info:
        parse_spec(base + extra, "s.toml", expand=False)
    assert needle in str(info.value)


def test_store_reading_at_certified_runs_can_fail_both_ways():
    """The store's reading at certified runs (issue 29) on planted rows: a certified run above 2/(1+λ) reads violated,
    certified runs below it consistent, uncertified runs hypothesis not met whatever their error."""
    # private: the reading on planted rows (public only behind a store and a trained capacity floor)
    from lsgan_theory.studies.theorem1 import _at_equilibrium

    def rows(l1, certified, off_mass=0.0):
        n = len(l1)
        return pd.DataFrame({"l1_exact": l1, "l1_exact_abserr": [1e-9] * n, "certified": certified,
                             "off_mass": [off_mass] * n,
                             **{k: [0.01] * n for k in ("critic_gap", "critic_gap_err", "gen_gap", "gen_gap_lp",
                                                        "lip_ratio", "clip_fraction")}})

    lam = 3.0  # 2/(1+λ) = 0.5, 2/λ = 0.667
    above = _at_equilibrium(lam, rows([0.6, 0.1], [1.0, 0.0]))
    assert above["at_equilibrium_sharp"] == "violated" and above["at_equilibrium_paper"] == "consistent"
    assert above["certified"] == 1 and above["certificates_read"] == 2
    below = _at_equilibrium(lam, rows([0.4, 1.9], [1.0, 0.0]))
    assert below["at_equilibrium_sharp"] == below["at_equilibrium_paper"] == "consistent"
    none = _at_equilibrium(lam, rows([1.9, 1.9], [0.0, 0.0]))
    assert none["at_equilibrium_sharp"] == none["at_equilibrium_paper"] == "hypothesis not met"
    assert _at_equilibrium(lam, rows([0.4], [np.nan])) == {}  # no certificates read: nothing said
    # the derived slack 2λm/(1+λ) (THEORY.md §5, "Theorem 1 off the equilibrium"): with m = 0.1 the sharp reading
    # allows 0.5 + 0.15, so 0.6 is consistent and 0.7 violated; an unmeasured m allows the largest slack
    assert _at_equilibrium(lam, rows([0.6], [1.0], 0.1))["at_equilibrium_sharp"] == "consistent"
    assert _at_equilibrium(lam, rows([0.7], [1.0], 0.1))["at_equilibrium_sharp"] == "violated"
    assert _at_equilibrium(lam, rows([0.6], [1.0], np.nan))["at_equilibrium_sharp"] == "consistent"


def test_a_store_that_is_not_a_lambda_sweep_is_refused_before_any_training(tmp_path, monkeypatch, capsys):
    # a sweep of another family stores no λ (NaN): refused in one line before the capacity floor trains generators
    # (it used to train for minutes and then fail inside with "lams: every λ must be finite")
    import lsgan_theory.studies.theorem1 as T
    import lsgan_theory.sweeps as S

    df = pd.DataFrame({"id": ["a", "b"], "status": ["done", "done"], "target": ["normal(0,1)"] * 2, "lam": [np.nan] * 2,
                       "n_data": [0, 0], "replica": [0, 1], "l1_exact": [0.1, 0.2], "g_hidden": [(8,), (8,)],
                       "activation": ["relu", "relu"]})
    monkeypatch.setattr(S, "load", lambda out: df)

    def trains(*a, **k):
        raise AssertionError("the capacity floor was trained before the store was refused")

    monkeypatch.setattr(T, "capacity_floor", trains)
    with pytest.raises(ValueError, match=r"not a λ sweep.*2 of its 2 runs have no finite λ"):
        T.read_lambda_store(tmp_path)
    # control: the same rows with a λ pass the check and reach the capacity floor
    df["lam"] = [1.0, 10.0]
    with pytest.raises(AssertionError, match="capacity floor"):
        T.read_lambda_store(tmp_path)
