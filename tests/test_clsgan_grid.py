"""The pre-registered CLS-GAN grid (issue 32, lsgan_theory.studies.clsgan_grid, experiments/clsgan_grid.py): the
validation split is carved from the training images only, disjoint and stratified; the selection reads validation
accuracies only (a planted grid whose test accuracies disagree, a split whose test part cannot be read); the report's
lines are the result object's numbers; bad input is refused by name; the committed report ran the command's defaults.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from lsgan_theory import output
from lsgan_theory.studies import clsgan as S
from lsgan_theory.studies import clsgan_grid as G

pytestmark = pytest.mark.usefixtures("one_torch_thread")
sklearn = pytest.importorskip("sklearn", reason="the digits extra (scikit-learn) is not installed")

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "experiments" / "clsgan_grid.py"


def _script():
    spec = importlib.util.spec_from_file_location("clsgan_grid_script", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _tiny(**over) -> dict:
    d = {"split": {"validation_fraction": 0.25, "split_seed": 0},
         "training": {"labels_per_class": 2, "steps": 3, "noise_dim": 2, "hidden": 4, "batch": 8, "seed": 0},
         "grid": {"lam": [1.0], "tau": [0.125], "gamma_ul": [1.0], "lr": [3e-4, 1e-3]},
         "baseline": {"lr": [1e-3], "logreg_c": [1.0]},
         "seeds": {"selection": [0, 1], "test": [5, 6]},
         "rule": {"selection": G.RULE}}
    for key, value in over.items():
        section, name = key.split("__")
        d[section][name] = value
    return d


# ------------------------------------------------------------------------------------------------ the split
def test_the_validation_split_is_carved_from_the_training_images_disjoint_and_stratified():
    v, d = S.digits_validation_split(), S.digits_split()
    fit, val, test = (set(a.tolist()) for a in (v.fit_index, v.val_index, v.test_index))
    assert not fit & val and not fit & test and not val & test
    assert len(fit | val | test) == 1797 and (len(fit), len(val), len(test)) == (898, 300, 599)
    # the test split is digits_split's, untouched; validation and fit together are its training images
    assert np.array_equal(v.x_test, d.x_test) and np.array_equal(v.y_test, d.y_test)
    x, y = S.load_digits_data()
    assert np.array_equal(x[v.val_index], v.x_val) and np.array_equal(y[v.fit_index], v.y_fit)
    assert sorted(map(tuple, np.r_[v.x_fit, v.x_val].tolist())) == sorted(map(tuple, d.x_train.tolist()))
    # stratified: each class's validation count is its share of the training images, to within one
    share = np.bincount(d.y_train, minlength=10) / d.y_train.size
    assert np.all(np.abs(np.bincount(v.y_val, minlength=10) - 300 * share) <= 1)
    assert not np.array_equal(v.val_index, S.digits_validation_split(seed=1).val_index)  # the seed matters
    with pytest.raises(ValueError, match="validation_fraction"):
        S.digits_validation_split(1.5)


# ------------------------------------------------------------------------------------------------ selection
def test_selection_picks_by_validation_where_a_planted_test_accuracy_disagrees():
    rows = [{"lam": 1.0, "val_accuracy": 0.80, "test_accuracy": 0.60}, {"lam": 1.0, "val_accuracy": 0.82,
                                                                         "test_accuracy": 0.62},
            {"lam": 3.0, "val_accuracy": 0.70, "test_accuracy": 0.95}, {"lam": 3.0, "val_accuracy": 0.72,
                                                                         "test_accuracy": 0.97}]
    assert G.select_setting(rows, ("lam",)) == ({"lam": 1.0}, pytest.approx(0.81))
    # negative control: the same rule fed the test accuracies would pick the other setting
    as_test = [dict(r, val_accuracy=r["test_accuracy"]) for r in rows]
    assert G.select_setting(as_test, ("lam",))[0] == {"lam": 3.0}
    # ties go to the first in row order; a setting with a diverged seed (NaN) is never preferred
    tie = [{"lam": 2.0, "val_accuracy": 0.5}, {"lam": 1.0, "val_accuracy": 0.5}]
    assert G.select_setting(tie, ("lam",))[0] == {"lam": 2.0}
    nan = [{"lam": 2.0, "val_accuracy": math.nan}, {"lam": 2.0, "val_accuracy": 0.99},
           {"lam": 1.0, "val_accuracy": 0.1}]
    assert G.select_setting(nan, ("lam",))[0] == {"lam": 1.0}


class _NoTestSplit:
    """A split whose test part cannot be read: the selection stage must never touch it."""

    def __init__(self, sp):
        for name in ("x_fit", "y_fit", "x_val", "y_val"):
            setattr(self, name, getattr(sp, name))

    @property
    def x_test(self):
        raise AssertionError("the test split was read")

    y_test = x_test


def test_the_selection_stage_reads_no_test_image_and_the_labels_come_from_the_fit_part():
    spec = G.spec_from_dict(_tiny())
    split = S.digits_validation_split()
    sel = G.run_selection(spec, _NoTestSplit(split))
    assert all("test_accuracy" not in r for r in sel["rows"])
    assert {r["method"] for r in sel["rows"]} == {"clsgan", "supervised", "logreg"}
    assert len(sel["rows"]) == 2 * 2 + 1 * 2 + 1 * 2
    assert all(r["n_labelled"] == 20 for r in sel["rows"])  # 2 labels x 10 classes, drawn from the fit part
    assert sel["chosen"]["clsgan"]["setting"]["lr"] in (3e-4, 1e-3)
    with pytest.raises(AssertionError, match="test split was read"):  # negative control: the guard works
        G.run_test(spec, _NoTestSplit(split), sel["chosen"])


def test_a_finished_stage_is_resumed_from_its_record(tmp_path, monkeypatch):
    spec = G.spec_from_dict(_tiny())
    first = G.run_grid(spec, checkpoint_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.json")) == ["selection.json", "test.json"]

    def refuse(*a, **k):
        raise AssertionError("a finished stage was run again")

    monkeypatch.setattr(G, "run_selection", refuse)
    monkeypatch.setattr(G, "run_test", refuse)
    again = G.run_grid(spec, checkpoint_dir=tmp_path)
    assert again.test["summary"] == json.loads(json.dumps(first.test["summary"]))
    # --report-only: the records alone; without the test record the report says the test stage has not finished
    (tmp_path / "test.json").unlink()
    partial = G.run_grid(spec, checkpoint_dir=tmp_path, train=False)
    assert partial.test is None and "Not finished yet" in G.report_markdown(partial)
    with pytest.raises(ValueError, match="^checkpoint: no finished selection stage"):
        G.run_grid(spec, checkpoint_dir=tmp_path / "empty", train=False)
    # another spec is another run: its stage is not taken from the record (negative control)
    with pytest.raises(AssertionError, match="run again"):
        G.run_grid(G.spec_from_dict(_tiny(training__steps=4)), checkpoint_dir=tmp_path)


# ------------------------------------------------------------------------------------------------ the report
def _fake() -> G.GridResult:
    spec = asdict(G.spec_from_dict(_tiny()))
    cls = [(3e-4, 0, 0.5), (3e-4, 1, 0.7), (1e-3, 0, 0.8), (1e-3, 1, 0.6)]
    rows = [dict(method="clsgan", lam=1.0, tau=0.125, gamma_ul=1.0, lr=lr, seed=s, val_accuracy=a, diverged=False)
            for lr, s, a in cls]
    rows += [dict(method="supervised", lam=0.0, tau=0.125, gamma_ul=0.0, lr=1e-3, seed=s, val_accuracy=a,
                  diverged=s == 1) for s, a in ((0, 0.55), (1, 0.65))]
    rows += [dict(method="logreg", c=1.0, seed=s, val_accuracy=a, diverged=False) for s, a in ((0, 0.9), (1, 0.8))]
    chosen = {"clsgan": {"setting": {"lam": 1.0, "tau": 0.125, "gamma_ul": 1.0, "lr": 1e-3}, "val_mean": 0.7},
              "supervised": {"setting": {"lr": 1e-3}, "val_mean": 0.6}, "logreg": {"setting": {"c": 1.0},
                                                                                   "val_mean": 0.85}}
    prov = {"version": "9.9", "git": "abc1234"}
    sel = {"rows": rows, "chosen": chosen, "seconds": 10.0, "cpu_seconds": 7.0, "provenance": prov}
    test_rows = [dict(method=m, seed=s, test_accuracy=a, diverged=False) for m, vals in
                 (("clsgan", (0.81, 0.83)), ("supervised", (0.8, 0.8)), ("logreg", (0.85, 0.87)))
                 for s, a in zip((5, 6), vals)]
    summary = [{"method": "clsgan", "mean": 0.8123, "ci": [0.7001, 0.9246], "seeds": 2},
               {"method": "supervised", "mean": 0.8, "ci": [0.8, 0.8], "seeds": 2},
               {"method": "logreg", "mean": 0.86, "ci": [0.733, 0.987], "seeds": 2}]
    paired = [{"versus": "supervised", "mean_diff": 0.0123, "ci": [0.0051, 0.0196]},
              {"versus": "logreg", "mean_diff": -0.05, "ci": [-0.0801, -0.0204]}]
    test = {"rows": test_rows, "summary": summary, "paired": paired, "seconds": 5.0, "cpu_seconds": 4.0,
            "provenance": prov}
    return G.GridResult(spec, "0123456789abcdef", {"fit": 898, "validation": 300, "test": 599}, sel, test,
                        {"device": "a test machine"})


def test_the_report_writes_the_numbers_of_the_result_object():
    md = G.report_markdown(_fake()).splitlines()
    for line in ("| 1 | 0.125 | 1 | 0.0003 | 0.500 | 0.700 | 0.600 | 0 |",
                 "| 1 | 0.125 | 1 | 0.001 | 0.800 | 0.600 | **0.700** | 0 |",
                 "| 0.001 | 0.550 | 0.650 | **0.600** | 1 |",
                 "| 1 | 0.900 | 0.800 | **0.850** | 0 |",
                 "| CLS-GAN (selected) | 0.812 [0.700, 0.925] | 2 |",
                 "| CLS-GAN − labels-only | +0.012 [+0.005, +0.020] | lies wholly above 0 |",
                 "| CLS-GAN − LogisticRegression | -0.050 [-0.080, -0.020] | lies wholly below 0 |",
                 "| CLS-GAN (selected) | 0.810 | 0.830 |"):
        assert line in md, line
    text = "\n".join(md)
    assert "digest `0123456789abcdef`" in text and "git abc1234" in text and "CPU time 11 s" in text
    assert "not regenerated by this command" in text
    # negative control: another number in the object, another line
    other = _fake()
    other.test["paired"][0] = {"versus": "supervised", "mean_diff": 0.0, "ci": [-0.01, 0.01]}
    md2 = G.report_markdown(other)
    assert "| CLS-GAN − labels-only | +0.000 [-0.010, +0.010] | contains 0 |" in md2
    assert "+0.012 [+0.005, +0.020]" not in md2


def test_write_report_writes_the_three_files_and_names_a_bad_out(tmp_path):
    paths = G.write_report(_fake(), tmp_path / "out")
    assert sorted(p.name for p in paths) == ["clsgan.md", "clsgan_grid.csv", "clsgan_grid.json"]
    csv_lines = (tmp_path / "out" / "clsgan_grid.csv").read_text().splitlines()
    assert len(csv_lines) == 1 + 8 + 6 and csv_lines[0].startswith("stage,method,seed")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match=r"^out: .*not a folder"):
        G.write_report(_fake(), tmp_path / "file")


# ------------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("over, name", [
    ({"grid__lam": [-1.0]}, r"\[grid\]\.lam: must be a non-empty list"),
    ({"grid__lr": []}, r"\[grid\]\.lr"),
    ({"training__steps": 0}, r"\[training\]\.steps: must be an integer in \[1, "),
    ({"training__steps": True}, r"\[training\]\.steps"),
    ({"split__validation_fraction": 0.9}, r"\[split\]\.validation_fraction: must be a float in \[0.05, 0.5\]"),
    ({"seeds__test": [0, 7]}, r"\[seeds\]\.test: must not share a seed"),
    ({"seeds__test": [7]}, r"\[seeds\]\.test: a t-interval"),
    ({"rule__selection": "highest test accuracy"}, r"\[rule\]\.selection"),
    ({"grid__beta": [1.0]}, r"\[grid\]\.beta: unknown key"),
])
def test_a_bad_spec_value_is_refused_by_its_key(over, name):
    with pytest.raises(ValueError, match=name):
        G.spec_from_dict(_tiny(**over))


def test_a_missing_section_and_an_unknown_one_are_named():
    d = _tiny()
    del d["baseline"]
    with pytest.raises(ValueError, match=r"\[baseline\]: missing section"):
        G.spec_from_dict(d)
    with pytest.raises(ValueError, match=r"unknown section \[extra\]"):
        G.spec_from_dict(dict(_tiny(), extra={}))


def test_the_command_refuses_bad_input_in_one_line_naming_the_argument(tmp_path, capsys, monkeypatch):
    main = _script().main
    assert main(["--spec", str(tmp_path / "none.toml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("clsgan_grid.py: error: --spec: no such file")
    bad = tmp_path / "bad.toml"
    bad.write_text((ROOT / "experiments/studies/clsgan_grid.toml").read_text().replace("lam = [0.1, 1.0]",
                                                                                       "lam = [0.1, -1.0]"))
    assert main(["--spec", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--spec" in err[0] and "[grid].lam: must be" in err[0]
    bad.write_text("[split\n")
    assert main(["--spec", str(bad)]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["--steps", "5"])
    assert exc.value.code == 2 and "--steps" in capsys.readouterr().err
    # an output folder that cannot be written is refused before any training (run_grid must not be reached)
    monkeypatch.setattr(G, "run_grid", lambda *a, **k: pytest.fail("trained before checking --out"))
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    for flag in ("--out", "--checkpoint"):
        assert main([flag, str(not_a_folder)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"clsgan_grid.py: error: {flag}: ") and "not a folder" in err[0]


# ------------------------------------------------------------------------------------------------ the committed run
def test_the_committed_report_ran_the_commands_defaults():
    default = G.load_spec(_script().DEFAULT_SPEC)
    assert _script().DEFAULT_SPEC == ROOT / "experiments" / "studies" / "clsgan_grid.toml"
    rec = output.loads((ROOT / "experiments" / "clsgan_grid.json").read_text(encoding="utf-8"))
    assert rec["spec"] == json.loads(json.dumps(asdict(default)))
    assert rec["spec_digest"] == default.digest()
    md = (ROOT / "experiments" / "clsgan.md").read_text(encoding="utf-8")
    assert f"spec digest `{default.digest()}`" in md and "`experiments/studies/clsgan_grid.toml`" in md
    # the report is what the generator writes from the committed record (nothing edited by hand)
    res = G.GridResult(**rec)
    assert md == G.report_markdown(res)
    # the spec's stated size: at least 3 000 steps, the test seeds disjoint from the selection seeds
    assert default.steps >= 3000 and not set(default.selection_seeds) & set(default.test_seeds)
    changed = copy.deepcopy(asdict(default))
    changed["steps"] = 1
    assert rec["spec"] != json.loads(json.dumps(changed))  # negative control
