"""CLI: `lsgan-theory derive` and `lsgan-theory prove`."""

import json

from lsgan_theory.cli import main


def test_derive_json_published_least_squares_is_half_triangular(capsys):
    assert main(["derive", "least_squares", "--a", "-1", "--b", "1", "--c", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["named"] == "triangular" and out["scale"] == "1/2" and out["objective_is_divergence"] is True


def test_derive_latex_and_plain(capsys):
    assert main(["derive", "hinge", "--latex"]) == 0
    assert r"\begin{enumerate}" in capsys.readouterr().out
    assert main(["derive", "gan"]) == 0
    assert "D* = p/(p + q)" in capsys.readouterr().out


def test_derive_bad_family_is_one_line_exit_2(capsys):
    assert main(["derive", "wgan"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "family" in err


def test_derive_complex_or_infinite_label_is_one_line_exit_2(capsys):
    # I, oo, nan are not names the whitelist parser knows (refused by name); sqrt(-1), log(0) parse but are not
    # finite reals
    for bad in ("I", "oo", "nan"):
        assert main(["derive", "least_squares", "--a", bad]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"a: cannot parse {bad!r}: unknown name {bad!r}" in err
    for bad in ("sqrt(-1)", "log(0)", "1 + sqrt(-4)"):
        assert main(["derive", "least_squares", "--a", bad]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "a: must be a finite real" in err


def test_derive_rejects_parameters_for_other_families(capsys):
    assert main(["derive", "gan", "--a", "1"]) == 2
    assert "params" in capsys.readouterr().err


def test_prove_checks_all_and_writes_renderings(tmp_path, capsys):
    assert main(["prove", "--latex", "--out", str(tmp_path)]) == 0
    assert "FAIL" not in capsys.readouterr().out
    assert (tmp_path / "gan_jsd.md").exists() and (tmp_path / "gan_jsd.tex").exists()


def test_prove_fails_on_a_corrupted_folder(tmp_path, capsys):
    (tmp_path / "bad.md").write_text("```check\nsymbols x: real\nMax(x, 0) == x\n```\n")
    assert main(["prove", "--dir", str(tmp_path)]) == 1
    assert "FAIL" in capsys.readouterr().out
