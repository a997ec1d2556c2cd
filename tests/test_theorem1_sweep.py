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
    out = json.loads(capsys.readouterr().out)
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
