"""``lsgan-theory bounds``: the CLI reproduces ``nonparametric.solve`` on the documented samples, and bad input is one
line on stderr with exit status 2."""

import json

import numpy as np
import pytest

from lsgan_theory import densities, nonparametric
from lsgan_theory.cli import main


def test_bounds_json_matches_solve_on_the_same_samples(capsys):
    rc = main(["bounds", "--real", "normal(0,1)", "--fake", "normal(2,1)", "-n", "20", "-m", "15", "--lam", "1.5",
               "--kappa", "2", "--seed", "3", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    rng = np.random.default_rng(3)  # documented: real samples first, then generated, from default_rng(seed)
    real = densities.parse("normal(0,1)").sample(20, rng)
    fake = densities.parse("normal(2,1)").sample(15, rng)
    np.testing.assert_array_equal(out["real"], real)
    ref = nonparametric.solve_general_lp(real, fake, 1.5, 2.0)[1]
    assert out["objective"] == pytest.approx(ref, rel=1e-7)
    assert len(out["l"]) == 35
    assert 0 <= out["active_fraction"] <= 1


def test_bounds_plot_writes_png_and_pdf(tmp_path, capsys):
    stem = tmp_path / "b"
    assert main(["bounds", "--real", "normal(0,1)", "--fake", "normal(2,1)", "-n", "10", "-m", "10", "--lam", "1",
                 "--kappa", "2", "--plot", str(stem)]) == 0
    assert (tmp_path / "b.png").stat().st_size > 0 and (tmp_path / "b.pdf").stat().st_size > 0
    assert "S*_{n,m}" in capsys.readouterr().out


@pytest.mark.parametrize("extra,needle", [(["--kappa", "0"], "kappa"), (["--kappa", "1", "--lam", "-1"], "lam")])
def test_bounds_bad_input_is_one_line_and_exit_2(capsys, extra, needle):
    args = ["bounds", "--real", "normal(0,1)", "--fake", "normal(2,1)", "-n", "5", "-m", "5", "--lam", "1"] + extra
    if "--kappa" not in extra:
        args += ["--kappa", "1"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err
