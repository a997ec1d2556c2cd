"""Sweep specs: every malformed case fails before anything runs with one message naming file, key, value and what is
accepted; run ids are a stable hash of the canonical configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lsgan_theory.sweeps import SpecError, load_spec, parse_spec, run_id
from lsgan_theory.sweeps.plan import plan_packs
from lsgan_theory.sweeps.spec import SCHEMA_VERSION, canonical_config, to_train_config

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

GOOD = """
[sweep]
name = "t"
seeds = 2
[base]
steps = 10
family = "loss_sensitive"
[grid]
lam = [0.5, 2]
target = ["normal(0,1)", "normal(1,2)"]
[quick]
steps = 5
lam = [1]
[full]
seeds = 3
"""


def test_good_spec_expands_to_the_grid_product_times_seeds():
    s = parse_spec(GOOD, "good.toml")
    assert len(s.runs) == 2 * 2 * 2
    assert len({r.id for r in s.runs}) == len(s.runs)
    assert [r.grid for r in s.runs[:2]] == [{"lam": 0.5, "target": "normal(0,1)", "replica": 0},
                                            {"lam": 0.5, "target": "normal(0,1)", "replica": 1}]
    q = parse_spec(GOOD, "good.toml", "quick")
    assert len(q.runs) == 1 * 2 * 2 and all(r.config["steps"] == 5 and r.config["lam"] == 1.0 for r in q.runs)
    assert len(parse_spec(GOOD, "good.toml", "full").runs) == 2 * 2 * 3


# (spec text, substrings the one-line message must contain: the key, the value, what is accepted)
BAD = {
    "unknown key in base": ('[sweep]\nname="t"\n[base]\nstepz = 10\n', ["[base] stepz", "10", "unknown key", "steps"]),
    "unknown key in sweep": ('[sweep]\nname="t"\nseed_count = 3\n', ["[sweep] seed_count", "3", "accepted keys"]),
    "unknown table": ('[sweep]\nname="t"\n[grids]\nlam=[1]\n', ["[grids]", "unknown table", "[grid]"]),
    "string for an integer": ('[sweep]\nname="t"\n[base]\nsteps = "300"\n', ['[base] steps', '"300"', "an integer"]),
    "float for an integer": ('[sweep]\nname="t"\n[base]\nsteps = 300.5\n', ["[base] steps", "300.5", "an integer"]),
    "string for a number": ('[sweep]\nname="t"\n[grid]\nlam = ["1"]\n', ['[grid] lam[0]', '"1"', "a number"]),
    "bool for a number": ('[sweep]\nname="t"\n[base]\nlr_d = true\n', ["[base] lr_d", "True", "a number"]),
    "grid value not a list": ('[sweep]\nname="t"\n[grid]\nlam = 1.0\n', ["[grid] lam", "1.0", "a list"]),
    "empty grid": ('[sweep]\nname="t"\n[grid]\nlam = []\n', ["[grid] lam", "[]", "at least one value"]),
    "lambda zero": ('[sweep]\nname="t"\n[grid]\nlam = [1, 0]\n', ["[grid] lam[1]", "0", "> 0"]),
    "lambda negative in base": ('[sweep]\nname="t"\n[base]\nlam = -2.5\n', ["[base] lam", "-2.5", "> 0"]),
    "nu above one": ('[sweep]\nname="t"\n[base]\nfamily = "glsgan"\n[grid]\nnu = [0.5, 1.5]\n',
                     ["[grid] nu[1]", "1.5", "<= 1"]),
    "unparsable density": ('[sweep]\nname="t"\n[base]\ntarget = "normal(0"\n',
                           ["[base] target", '"normal(0"', "density spec", "normal(0,1)"]),
    "unknown density": ('[sweep]\nname="t"\n[grid]\ntarget = ["cauchy(0,1)"]\n',
                        ["[grid] target[0]", "cauchy", "density spec"]),
    "unknown family": ('[sweep]\nname="t"\n[base]\nfamily = "lsgan9"\n', ["[base] family", "lsgan9", "known"]),
    "negative seeds": ('[sweep]\nname="t"\nseeds = 0\n', ["[sweep] seeds", "0", ">= 1"]),
    "missing name": ('[sweep]\nseeds = 2\n', ["[sweep] name", "missing"]),
    "unsafe name": ('[sweep]\nname="../x"\n', ["[sweep] name", "../x", "folder-safe"]),
    "key in base and grid": ('[sweep]\nname="t"\n[base]\nlam = 1.0\n[grid]\nlam = [2.0]\n',
                             ["[grid] lam", "also set in [base]"]),
    "parameter of another family": ('[sweep]\nname="t"\n[base]\nfamily = "least_squares"\n[grid]\nlam = [1, 2]\n',
                                    ["[grid] lam", "least_squares", "loss_sensitive"]),
    "bad quick override": ('[sweep]\nname="t"\n[grid]\nlam=[1]\n[quick]\nlam = 3\n', ["[quick] lam", "3", "list"]),
    "unknown quick key": ('[sweep]\nname="t"\n[quick]\nstep = 3\n', ["[quick] step", "unknown key"]),
    "invalid toml": ('[sweep\nname="t"\n', ["not valid TOML"]),
    "trainer constraint": ('[sweep]\nname="t"\n[base]\nsteps = 0\n', ["[base] steps", "0", ">= 1"]),
    "repeated grid value": ('[sweep]\nname="t"\n[grid]\nlam = [1, 1.0]\n', ["[grid] lam", "repeated"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_spec_raises_one_error_naming_file_key_value_and_accepted(case, tmp_path):
    text, needles = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SpecError) as err:
        load_spec(path, "quick" if "quick" in case else None)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(str(path) + ":"), msg
    for n in needles:
        assert n in msg, (n, msg)


def test_spec_error_is_a_value_error_and_the_good_spec_is_not_rejected(tmp_path):
    # negative control for the parametrised cases: the validator accepts a well-formed spec with every table
    assert issubclass(SpecError, ValueError)
    p = tmp_path / "good.toml"
    p.write_text(GOOD)
    for v in (None, "quick", "full"):
        assert load_spec(p, v).runs


def test_bad_spec_on_the_cli_exits_2_with_one_line_and_runs_nothing(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[sweep]\nname="t"\n[grid]\nlam = [1, -1]\n')
    out = tmp_path / "out"
    r = subprocess.run([PY, "-m", "lsgan_theory", "sweep", str(bad), "--out", str(out)], capture_output=True,
                       text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert str(bad) in lines[0] and "lam[1]" in lines[0] and "-1" in lines[0]
    assert not (out / "results.sqlite").exists()


# ---------------------------------------------------------------------------------------------------- run ids
def _ids(text, variant=None):
    return [r.id for r in parse_spec(text, "x.toml", variant).runs]


def test_run_id_is_the_same_in_another_process():
    ids = _ids(GOOD)
    code = ("import json; from lsgan_theory.sweeps import parse_spec; "
            f"print(json.dumps([r.id for r in parse_spec({GOOD!r}, 'x.toml').runs]))")
    r = subprocess.run([PY, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "12345"})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == ids


def test_run_id_golden_value():
    # Guards the canonical form: a changed default, field name (e.g. margin_scale -> tau), float formatting or key
    # order changes this id, and every stored sweep would stop resuming.  Update only with SCHEMA_VERSION.
    cfg = canonical_config({"lam": 2, "target": "normal(0, 1)"}, replica=0, n_eval=2000)
    assert cfg["schema"] == SCHEMA_VERSION == 2
    assert "tau" in cfg and "margin_scale" not in cfg
    assert run_id(cfg) == GOLDEN_ID


GOLDEN_ID = "535c9f424a533ed0"


def test_integer_and_float_spellings_aliases_defaults_and_density_spacing_give_the_same_id():
    a = '[sweep]\nname="t"\n[base]\nfamily="loss_sensitive"\n[grid]\nlam=[1, 10]\ntarget=["normal(0,1)"]\n'
    b = ('[sweep]\nname="t"\n[base]\nfamily="qi"\nsteps=1000\ntau=1\n'
         '[grid]\nlam=[1.0, 10.0]\ntarget=["normal(0, 1.0)"]\n')
    assert _ids(a) == _ids(b)


def test_every_changed_field_changes_the_id():
    # power: each field of the canonical configuration, perturbed alone, must give a new id
    base = canonical_config({}, replica=0, n_eval=2000)
    rid = run_id(base)
    changed = {}
    for k, v in base.items():
        if isinstance(v, bool):
            nv = not v
        elif isinstance(v, (int, float)):
            nv = v + 1
        elif isinstance(v, str):
            nv = v + "x"
        elif isinstance(v, list):
            nv = v + [1]
        else:
            nv = "x"
        changed[k] = run_id({**base, k: nv})
    assert all(v != rid for v in changed.values()), [k for k, v in changed.items() if v == rid]
    assert len(set(changed.values())) == len(changed)
    assert run_id({**base, "lam": 1.0 + 1e-12}) != rid


def test_unused_family_parameters_are_dropped_so_equal_runs_share_one_id():
    text = '[sweep]\nname="t"\n[grid]\nfamily=["least_squares","loss_sensitive"]\nlam=[1,2]\n'
    runs = parse_spec(text, "x.toml").runs
    fams = [r.config["family"] for r in runs]
    assert fams.count("least_squares") == 1 and fams.count("loss_sensitive") == 2  # 2 x 2 grid, one duplicate
    ls = next(r for r in runs if r.config["family"] == "least_squares")
    assert "lam" not in ls.config and ls.grid["lam"] is None


def test_packs_group_shared_settings_respect_the_cap_and_are_deterministic():
    s = parse_spec(GOOD.replace("seeds = 2", "seeds = 5\npack_size = 4"), "x.toml")
    packs = plan_packs(s.runs, s.pack_size)
    assert sorted(r.id for p in packs for r in p) == sorted(r.id for r in s.runs)
    assert all(len(p) <= 4 for p in packs)
    assert all(len({r.config["target"] for r in p}) == 1 for p in packs)  # target is shared within a pack
    assert [len(p) for p in packs] == [4, 3, 3, 4, 3, 3]  # 10 runs per target -> 3 near-equal packs
    again = plan_packs(parse_spec(GOOD.replace("seeds = 2", "seeds = 5\npack_size = 4"), "x.toml").runs, 4)
    assert [[r.id for r in p] for p in packs] == [[r.id for r in p] for p in again]
    cfg = to_train_config(packs[0], "cpu")
    assert cfg.n_models == 4 and cfg.model_ids == tuple(r.stream for r in packs[0])
    assert cfg.per_model("lam") == tuple(r.config["lam"] for r in packs[0])


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "experiments").glob("*.toml")))
def test_shipped_experiment_specs_are_valid_in_every_variant(name):
    for v in (None, "quick", "full"):
        assert load_spec(ROOT / "experiments" / name, v).runs


def test_tau_in_a_spec_reaches_the_trainer():
    # specs and run ids say tau, the one name of the margin scale: the old spelling margin_scale is an unknown key
    s = parse_spec('[sweep]\nname="t"\n[grid]\ntau=[0.5, 2]\n', "x.toml")
    assert to_train_config(list(s.runs), "cpu").per_model("tau") == (0.5, 2.0)
    with pytest.raises(SpecError, match="margin_scale = 1.0: unknown key"):
        parse_spec('[sweep]\nname="t"\n[base]\nmargin_scale = 1.0\n', "x.toml")
