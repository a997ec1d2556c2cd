"""A new loss is declared in one place (issue 31): a toy family's registry entry -- name, one parameter with its
default and range, its D and G objectives -- is all it takes to train it through ``train()``, the ``train`` CLI
(its ``--toy-weight`` flag) and a sweep spec (its ``toy_weight`` key), per model.

The trainer builds TrainConfig from the registry when :mod:`lsgan_theory.ensemble` is first imported, so the toy
family is registered in a fresh interpreter (a subprocess) before that import; nothing else in the package is
edited, and the registry of this test process is untouched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The one declaration: D minimises w·E(D(x) − 1)² + E D(G(z))², G minimises E(D(G(z)) − 1)² (a least-squares GAN
# with labels (0, 1) and a weight w on the real term).  The D objective also keeps its inputs for the hand check.
SCRIPT = textwrap.dedent('''
    import json, sys
    import torch
    from lsgan_theory import families

    SEEN = []

    def toy_d(out_real, out_fake, real, fake, h):
        SEEN.append((out_real.detach().clone(), out_fake.detach().clone(), h["toy_weight"].clone()))
        return h["toy_weight"] * ((out_real - 1) ** 2).mean(-1) + (out_fake ** 2).mean(-1)

    def toy_g(out_fake, h):
        return ((out_fake - 1) ** 2).mean(-1)

    families.register(families.Family(
        "toy", "toy weighted least squares", "tests/test_new_family.py",
        parameters=(families.Param("toy_weight", 1.0, "w, weight of the toy loss's real term", lo=0.0, lo_open=True),),
        d_loss=toy_d, g_loss=toy_g))

    from lsgan_theory.cli import main
    from lsgan_theory.ensemble import PER_MODEL, TrainConfig, train
    from lsgan_theory.sweeps.spec import TRAIN_KEYS, load_spec, to_train_config

    out = {"per_model": "toy_weight" in PER_MODEL, "spec_key": "toy_weight" in TRAIN_KEYS}
    small = dict(steps=2, batch=8, n_data=32, g_hidden=(4,), d_hidden=(4,), device="cpu", record_every=1)
    res = train(TrainConfig(family="toy", n_models=2, toy_weight=(1.0, 2.5), **small))
    r, f, w = SEEN[0]  # the first D update of both models
    out["loss_d"] = res.loss_d[:, 0].tolist()
    out["outputs"] = {"real": r.tolist(), "fake": f.tolist(), "weight": w.tolist()}
    for bad in (0.0, -1.0):
        try:
            TrainConfig(family="toy", toy_weight=bad)
        except ValueError as exc:
            out.setdefault("refused", []).append(str(exc))
    try:
        TrainConfig(family="gan", toy_weight=2.0)
    except ValueError as exc:
        out["other_family"] = str(exc)

    tmp = sys.argv[1]
    out["cli"] = main(["train", "--family", "toy", "--toy-weight", "0.5", "2", "--steps", "2", "--batch", "8",
                       "--width", "4", "--n-data", "32", "--device", "cpu", "--out", tmp + "/cli", "--quiet",
                       "--json"])
    out["cli_wrong_family"] = main(["train", "--family", "gan", "--toy-weight", "2", "--out", tmp + "/no"])
    spec = tmp + "/toy.toml"
    open(spec, "w").write('[sweep]\\nname = "toy"\\nseeds = 1\\n\\n[base]\\nfamily = "toy"\\nsteps = 2\\nbatch = 8\\n'
                          'n_data = 32\\ng_hidden = [4]\\nd_hidden = [4]\\n\\n[grid]\\ntoy_weight = [0.5, 3.0]\\n')
    cfg = to_train_config(list(load_spec(spec).runs), "cpu")
    out["spec_weights"] = list(cfg.per_model("toy_weight"))
    out["spec_finite"] = bool(torch.isfinite(torch.as_tensor(train(cfg).loss_d)).all())
    print("RESULT " + json.dumps(out))
''')


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("toy")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "OMP_NUM_THREADS": "1"}
    p = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp)], cwd=tmp, env=env, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    line = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):]), tmp, p.stderr


def _hand(real, fake, w):
    """w·mean((r − 1)²) + mean(f²) of one model's outputs, in plain Python."""
    return w * sum((x - 1) ** 2 for x in real) / len(real) + sum(x * x for x in fake) / len(fake)


def test_toy_family_declared_once_trains_per_model_with_the_hand_computed_loss(toy):
    out, _, _ = toy
    assert out["per_model"] and out["spec_key"]
    o = out["outputs"]
    assert o["weight"] == [1.0, 2.5]  # the per-model tuple reaches the objective, model by model
    for e, w in enumerate((1.0, 2.5)):
        assert out["loss_d"][e] == pytest.approx(_hand(o["real"][e], o["fake"][e], w), rel=1e-5)
    # negative control: the other model's weight gives another value (the check can fail)
    assert out["loss_d"][1] != pytest.approx(_hand(o["real"][1], o["fake"][1], 1.0), rel=1e-5)


def test_toy_parameter_range_and_ownership_come_from_its_declaration(toy):
    out, _, _ = toy
    assert len(out["refused"]) == 2 and all("toy_weight" in m and "> 0" in m for m in out["refused"])
    assert "toy_weight: family 'gan' does not use toy_weight" in out["other_family"]


def test_toy_family_trains_through_the_cli_flag_and_a_sweep_spec(toy):
    out, tmp, stderr = toy
    assert out["cli"] == 0 and out["cli_wrong_family"] == 2
    assert "--toy-weight: family 'gan' does not use toy_weight" in stderr  # families.unused_parameter
    rows = (tmp / "cli" / "results.csv").read_text().splitlines()
    assert len(rows) == 3 and "toy_weight" in rows[0]
    assert out["spec_weights"] == [0.5, 3.0] and out["spec_finite"]


def test_every_registered_parameter_has_its_glossary_name_and_its_flag():
    # the registry's parameter names are the glossary's, and each per-model number is a `train` flag
    from test_glossary import glossary

    from lsgan_theory import families
    from lsgan_theory.cli import build_parser

    names = {p.name: p for f in families.TRAINABLE for p in families.get(f).parameters}
    assert {"lam", "tau", "nu", "ls_a", "custom_real"} <= set(names)  # the walk reaches them (not vacuous)
    assert sorted(set(names) - set(glossary())) == []
    # private: argparse has no public way to reach a subcommand's parser and list its options
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    flags = {o for a in train._actions for o in a.option_strings}  # private: argparse's options, as above
    assert {f"--{n.replace('_', '-')}" for n, p in names.items() if p.per_model} <= flags
    assert "--custom-real" not in flags  # one formula per ensemble: a spec key, not a per-model flag


def test_registering_checks_the_declaration_and_a_late_family_is_refused_by_name():
    # in this process the trainer is already imported: a family with a new parameter registered now cannot get its
    # TrainConfig field, and TrainConfig says so (instead of ignoring the parameter); unregister removes it again
    from lsgan_theory import families
    from lsgan_theory.ensemble import TrainConfig

    gan = families.get("gan")
    late = families.Family("late_toy", "late", "tests", parameters=(families.Param("late_w", 1.0, "w"),),
                           d_loss=gan.d_loss, g_loss=gan.g_loss)
    families.register(late)
    try:
        assert "late_toy" in families.TRAINABLE and families.canonical("late-toy") == "late_toy"
        with pytest.raises(ValueError, match="registered after lsgan_theory.ensemble was imported"):
            TrainConfig(family="late_toy")
        with pytest.raises(ValueError, match="already registered"):
            families.register(late)
    finally:
        families.unregister("late_toy")
    assert "late_toy" not in families.FAMILIES and "late_toy" not in families.TRAINABLE
    with pytest.raises(ValueError, match="declared differently"):  # one name, one quantity
        families.register(families.Family("tau_again", "t", "tests", parameters=(families.Param("tau", 2.0, "τ"),),
                                          d_loss=gan.d_loss, g_loss=gan.g_loss))
    with pytest.raises(ValueError, match="lacks d_loss or g_loss"):
        families.register(families.Family("no_loss", "n", "tests"))
    assert "tau_again" not in families.FAMILIES and "no_loss" not in families.FAMILIES
