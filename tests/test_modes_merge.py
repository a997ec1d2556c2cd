"""Runs that each trained a part of a spec's losses merge into the whole run's result (issue 32: the alternating
Mao-size run split its losses over two processes)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pandas as pd
import pytest
import torch

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
    assert [r["mre"] for r in merged.mre] == [r["mre"] for r in whole.mre]
    assert list(merged.snapshots) == list(whole.snapshots)  # the figures' rows in the file's order
    assert all((merged.snapshots[k] == whole.snapshots[k]).all() for k in whole.snapshots)
    assert [p["losses"] for p in merged.meta["parts"]] == [["ls_011"], ["gan_ns", "hinge"]]
    assert merged.meta["git"] == whole.meta["git"] and merged.meta["seconds"] == "differs between parts"
    # negative controls: a missing loss, a loss twice, a part of another experiment
    with pytest.raises(ValueError, match=r"parts: their losses \(gan_ns, hinge\) must split"):
        S.merge_results(spec, [a])
    with pytest.raises(ValueError, match="exactly once each"):
        S.merge_results(spec, [a, b, b])
    other = S.run_modes(S.parse_modes_spec(_SPEC.replace("steps = 6", "steps = 3")).restrict_losses(["ls_011"]))
    with pytest.raises(ValueError, match=r"parts\[1\]: not a result of"):
        S.merge_results(spec, [a, other])


def test_collect_parts_writes_the_whole_report_from_finished_parts_and_refuses_unfinished_missing_or_foreign_ones(tmp_path, capsys):
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
    # a part stopped between evaluations (checkpoint at step 4 of 6, not an evaluation step of this spec), a part
    # never trained and a part of another spec are each refused in one line, and nothing is trained or written
    part_c, part_d = tmp_path / "c", tmp_path / "d"
    assert cli(["modes", str(spec_file), "--losses", "hinge", "--out", str(part_c), "--quiet"]) == 0
    assert cli(["modes", str(spec_file), "--losses", "ls_011", "--out", str(part_d), "--quiet"]) == 0
    ck = next((part_c / "state").glob("*.pt"))
    saved = torch.load(ck, weights_only=True)
    saved["step"] = 3  # the state after 4 steps, as a run killed after its step-4 checkpoint leaves it
    torch.save(saved, ck)
    before = ck.read_bytes()
    for parts, msg in (([part_c, "hinge"], "not finished (4 of 6 steps in"),
                       ([tmp_path / "none", "hinge"], "expected a part's --out folder (with state/)"),
                       ([tmp_path / "a", "hinge"], "no checkpoint for it in")):
        capsys.readouterr()
        rc = mod.main([str(spec_file), "--out", str(tmp_path / "m2"), "--part", str(tmp_path / "a"), "gan_ns",
                       "--part", str(part_d), "ls_011", "--part", *map(str, parts)])
        err = capsys.readouterr().err
        assert rc == 2 and err.count("\n") == 1 and msg in err and "Traceback" not in err, err
    assert ck.read_bytes() == before and not (tmp_path / "m2").exists()
    # a forgotten part (the file's hinge missing) is refused: the report would be of part of the file
    rc = mod.main([str(spec_file), "--out", str(tmp_path / "m3"), "--part", str(tmp_path / "a"), "gan_ns",
                   "--part", str(part_d), "ls_011"])
    assert rc == 2 and "must split" in capsys.readouterr().err and not (tmp_path / "m3").exists()
    (tmp_path / "file").write_text("")
    rc = mod.main([str(spec_file), "--out", str(tmp_path / "file"), "--part", str(tmp_path / "a"), "gan_ns"])
    assert rc == 2 and "--out" in capsys.readouterr().err
