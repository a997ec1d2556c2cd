"""The mode-collapse report compares with PacGAN Table 1 only on PacGAN's own set-up, names the difference
otherwise, and reads Mao's collapse per setting and seed (issue 32)."""

from pathlib import Path

# private: the report layer's table builders, tested alone because the report they feed needs a 35k-step run
from lsgan_theory._claims.modes import (collapse_fraction_table, mao_collapse_text, published_comparison,
                                        setup_difference)
from lsgan_theory.studies.modes import load_modes_spec

EXP = Path(__file__).resolve().parents[1] / "experiments" / "mode_collapse"
ROW = {"modes": 6.2, "modes_lo": 5.8, "modes_hi": 6.6}


def test_comparison_only_on_pacgans_set_up():
    assert published_comparison(ROW, "ring", True) == "agrees with PacGAN's 6.3 ± 0.5"
    assert published_comparison({**ROW, "modes": 3.0, "modes_lo": 2.0, "modes_hi": 4.0}, "ring", True) \
        == "fewer modes than PacGAN's 6.3 ± 0.5"  # control: the comparison can disagree
    mao = load_modes_spec(EXP / "mao_ring.toml", "mao")
    diff = setup_difference(mao)
    assert "Mao's networks" in diff and "35000 steps at batch 512" in diff and "scaled" not in diff
    assert published_comparison(ROW, "ring", False, diff) == f"not compared: {diff}"
    assert "scaled down" in setup_difference(load_modes_spec(EXP / "mao_ring.toml", "hour"))
    quick = setup_difference(load_modes_spec(EXP / "pacgan.toml", "quick"))
    assert quick == ("scaled-down set-up: 140 steps = 0.14 of PacGAN's 400 epochs (400000 iterations at batch 100), "
                     "narrower networks than PacGAN's")
    for f in ("pacgan.toml", "pacgan_ring.toml"):  # issue 32: the packing run is labelled with its share of 400 epochs
        packing = load_modes_spec(EXP / f, "packing")
        assert (packing.steps, packing.seeds, packing.losses, packing.grid["pack"]) == (20000, 5, ("gan_ns",), [1, 2])
        assert setup_difference(packing).startswith("scaled-down set-up: 20000 steps = 20 of PacGAN's 400 epochs")
        assert setup_difference(packing).endswith(", PacGAN's networks")
    assert setup_difference(load_modes_spec(EXP / "pacgan.toml")) == "PacGAN's set-up"  # control: the full size


def _rows(setting, loss, trajectory):
    return [{**setting, "loss": loss, "replica": 0, "model_id": hash((loss, str(setting))) & 0xFFFF, "step": s,
             "frozen": False, "modes": m} for s, m in trajectory]


def test_mao_collapse_is_read_per_setting_and_loss():
    from lsgan_theory.studies.modes import collapse_step

    spec = load_modes_spec(EXP / "mao_ring.toml", "mao")
    rows = (_rows({"update": "simultaneous"}, "gan_ns", [(0, 0), (2500, 8), (15000, 8), (17500, 5), (35000, 4)])
            + _rows({"update": "alternating"}, "gan_ns", [(0, 0), (2500, 8), (35000, 8)])
            + _rows({"update": "alternating"}, "ls_011", [(0, 0), (2500, 3), (35000, 6)]))
    text = mao_collapse_text(collapse_step(rows, 8), spec)
    assert any(t.startswith("- update=simultaneous, gan_ns: 1 seeds: 1 reached ≥ 8 modes and later dropped below "
                            "(first evaluation below: 17500") for t in text)
    assert any(t.startswith("- update=alternating, gan_ns: 1 seeds: 0 reached") and "1 kept ≥ 8 to the end" in t
               for t in text)
    assert any(t.startswith("- update=alternating, ls_011: 1 seeds: 0 reached") and "1 never reached 8" in t
               for t in text)


def test_collapse_fraction_table_counts_seeds_per_step():
    spec = load_modes_spec(EXP / "mao_ring.toml", "quick")
    summary = [{"loss": "gan_ns", "step": s, "n_collapsed": c, "seeds": 4, "modes_20": m20}
               for s, c, m20 in zip(spec.eval_steps(), (4, 3, 1, 0, 2), (0.0, 1.5, 6.0, 8.0, 5.25))]
    lines = collapse_fraction_table(summary, spec)
    assert lines[2] == "| — | gan_ns | 4/4; 0.0 | 3/4; 1.5 | 1/4; 6.0 | 0/4; 8.0 | 2/4; 5.2 |"
