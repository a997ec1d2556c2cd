"""Runs that each trained a part of a spec's losses merge into the whole run's result (issue 32: the alternating
Mao-size run split its losses over two processes)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pandas as pd
import pytest

from lsgan_theory.cli import main as cli
from lsgan_theory.studies import modes as S

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "mode_collapse" / "collect_parts.py"

_SPEC = """
[experiment]
name = "t"
seeds = 2
losses = ["gan_ns", "ls_011", "hinge"]
n_eval = 200
eval_at = [0, 1, 2]
eval_of = 2
mre_points = 5
mre_restarts = 1
mre_steps = 3
checkpoint_every = 3
[train]
target = "ring(8,1,0.05)"
steps = 6
batch = 16
n_data = 256
noise_dim = 2
g_hidden = [8]
d_hidden = [8]
[grid]
pack = [1, 2]
"""


def _same(r, s):
    return r.keys() == s.keys() and all(r[k] == s[k] or (isinstance(r[k], float) and math.isnan(r[k])
                                                         and math.isnan(s[k])) for k in r)


def test_parts_merge_into_the_whole_runs_rows_in_its_order():
    spec = S.parse_modes_spec(_SPEC)
    whole = S.run_modes(spec)
    a = S.run_modes(spec.restrict_losses(["hinge", "gan_ns"]))
    b = S.run_modes(spec.restrict_losses(["ls_011"]))
    merged = S.merge_results(spec, [b, a])  # the parts' order does not matter
    assert len(merged.metrics) == len(whole.metrics) == 2 * 3 * 2 * 3
    # each model has its own id and streams, so its rows are those it has in the whole run, in the whole run's order
    assert all(_same(r, s) for r, s in zip(merged.metrics, whole.metrics))
    assert [(r["loss"], r["replica"], r["pack"]) for r in merged.mre] == \
        [(r["loss"], r["replica"], r["pack"]) for r in whole.mre]
    assert [r["mre"] for r in merged.mre] == pytest.approx([r["mre"] for r in whole.mre], rel=1e-6)
    assert merged.snapshots.keys() == whole.snapshots.keys()
    assert [p["losses"] for p in merged.meta["parts"]] == [["ls_011"], ["gan_ns", "hinge"]]
    # negative controls: a missing loss, a loss twice, a part of another experiment
    with pytest.raises(ValueError, match=r"parts: their losses \(gan_ns, hinge\) must split"):
        S.merge_results(spec, [a])
    with pytest.raises(ValueError, match="exactly once each"):
        S.merge_results(spec, [a, b, b])
    other = S.run_modes(S.parse_modes_spec(_SPEC.replace("steps = 6", "steps = 3")).restrict_losses(["ls_011"]))
    with pytest.raises(ValueError, match=r"parts\[1\]: not a result of"):
        S.merge_results(spec, [a, other])


def test_collect_parts_writes_the_whole_report_from_finished_parts_and_refuses_an_unfinished_one(tmp_path, capsys):
    spec_file = tmp_path / "t.toml"
    spec_file.write_text(_SPEC)
    assert cli(["modes", str(spec_file), "--out", str(tmp_path / "whole"), "--quiet"]) == 0
    assert cli(["modes", str(spec_file), "--losses", "gan_ns", "--out", str(tmp_path / "a"), "--quiet"]) == 0
    assert cli(["modes", str(spec_file), "--losses", "ls_011", "hinge", "--out", str(tmp_path / "b"), "--quiet"]) == 0
    mod = importlib.util.module_from_spec(spec := importlib.util.spec_from_file_location("collect_parts", SCRIPT))
    spec.loader.exec_module(mod)
    capsys.readouterr()
    rc = mod.main([str(spec_file), "--out", str(tmp_path / "merged"), "--part", str(tmp_path / "a"), "gan_ns",
                   "--part", str(tmp_path / "b"), "ls_011", "hinge"])
    assert rc == 0
    for name in ("metrics.csv", "summary.csv", "collapse.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "merged" / name), pd.read_csv(tmp_path / "whole" / name))
    # a part that has not reached its last step is refused in one line before it trains
    assert cli(["modes", str(spec_file), "--losses", "hinge", "--out", str(tmp_path / "c"), "--quiet"]) == 0
    ck = next((tmp_path / "c" / "state").glob("*.pt"))
    ck.unlink()
    capsys.readouterr()
    rc = mod.main([str(spec_file), "--out", str(tmp_path / "m2"), "--part", str(tmp_path / "a"), "gan_ns",
                   "--part", str(tmp_path / "c"), "hinge"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "not finished (would train from step 0)" in err
    assert not (tmp_path / "m2").exists()  # refused at the step-0 evaluation, before the first training step
