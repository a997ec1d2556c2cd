"""`lsgan-theory train`: a small grid as one ensemble, a results folder, one-line errors."""

from __future__ import annotations

import csv
import json

import pytest

from lsgan_theory.cli import main
from lsgan_theory.studies.runs import grid_config


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def test_train_writes_results_curves_meta_and_figures(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["train", "--lam", "1", "4", "--seeds", "2", "--steps", "6", "--batch", "8", "--width", "8",
               "--n-data", "32", "--eval-samples", "64", "--device", "cpu", "--out", str(out)])
    assert rc == 0
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert [float(r["lam"]) for r in rows] == [1.0, 1.0, 4.0, 4.0] and [r["replica"] for r in rows] == list("0101")
    assert {"w1", "ks", "l1", "l1_noise_floor", "diverged_step"} <= set(rows[0])
    meta = json.loads((out / "meta.json").read_text())
    assert meta["config"]["n_models"] == 4 and meta["version"] and meta["git"] and meta["seed"] == 0
    assert (out / "training_curves.png").exists() and (out / "training_curves.pdf").exists()
    assert len(list(csv.DictReader(open(out / "curves.csv")))) == 4 * 6
    assert "results:" in capsys.readouterr().out


def test_train_rejects_bad_values_with_one_line_and_status_2(capsys):
    assert main(["train", "--lam", "-1", "--steps", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lam" in err


def test_grid_points_are_independent_models_with_their_own_streams():
    # (tau: a parameter both families use; λ of a glsgan model is refused since glsgan ignores it -- issue 13)
    cfg, rows = grid_config({"tau": [0.5, 2.0], "family": ["loss_sensitive", "glsgan"]}, seeds=3, steps=1)
    assert cfg.n_models == 12 and len(set(cfg.ids())) == 12
    assert cfg.per_model("tau")[:6] == (0.5,) * 6 and rows[0] == {"tau": 0.5, "family": "loss_sensitive", "replica": 0}


def test_train_cli_shows_progress_and_an_interrupted_run_resumes_to_the_same_results(tmp_path, capsys, monkeypatch):
    from lsgan_theory.ensemble import trainer

    args = ["train", "--lam", "1", "4", "--steps", "40", "--batch", "8", "--width", "8", "--n-data", "32",
            "--eval-samples", "64", "--device", "cpu", "--dtype", "float64", "--checkpoint-every", "10"]
    ref = tmp_path / "ref"
    assert main(args + ["--out", str(ref)]) == 0
    err = capsys.readouterr().err
    assert "train: step 40/40 (100 %)" in err and "0/2 frozen" in err

    # interrupt the second run after its checkpoint at step 20 (Ctrl-C inside the training loop)
    real_save = trainer.save_state
    calls = []

    def save_then_interrupt(path, run, state):
        real_save(path, run, state)
        calls.append(state.step - 1)
        if state.step - 1 == 19 and calls.count(19) == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(trainer, "save_state", save_then_interrupt)
    out = tmp_path / "run"
    assert main(args + ["--out", str(out)]) == 130
    # [9, 19] from the schedule, then the interrupt handler saves the same completed state (step 19) once more
    assert not (out / "results.csv").exists() and calls[:2] == [9, 19] and set(calls) == {9, 19}
    monkeypatch.setattr(trainer, "save_state", real_save)
    capsys.readouterr()
    assert main(args + ["--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "resuming from" in err and "(20/40 steps done)" in err
    a = list(csv.DictReader(open(ref / "results.csv")))
    b = list(csv.DictReader(open(out / "results.csv")))
    assert [(r["final_loss_d"], r["w1"]) for r in a] == [(r["final_loss_d"], r["w1"]) for r in b]
    assert open(ref / "curves.csv").read() == open(out / "curves.csv").read()


def test_grid_by_family_leaves_out_the_parameters_a_family_ignores():
    # gan ignores lam and nu, loss_sensitive ignores nu, glsgan ignores lam: 1 + 2 + 2 models, not 3 x 2 x 2 = 12
    cfg, rows = grid_config({"family": ["gan", "loss_sensitive", "glsgan"], "lam": [0.5, 2.0], "nu": [0.0, -1.0]},
                            by_family=True, steps=1)
    assert cfg.n_models == 5
    assert [(r["family"], r["lam"], r["nu"]) for r in rows] == [
        ("gan", None, None), ("loss_sensitive", 0.5, None), ("loss_sensitive", 2.0, None),
        ("glsgan", None, 0.0), ("glsgan", None, -1.0)]
    assert cfg.per_model("lam") == (1.0, 0.5, 2.0, 1.0, 1.0)  # the default where the family does not use it
    # negative control: without by_family the product keeps every combination
    # without by_family the full product would give gan models a λ they ignore: TrainConfig refuses it by name
    with pytest.raises(ValueError, match="lam: family 'gan' does not use lam"):
        grid_config({"family": ["gan", "loss_sensitive"], "lam": [0.5, 2.0]}, steps=1)
