"""Figures declared by a sweep spec ([[figure]]) and `lsgan-theory plot OUT` (issue 15)."""

from __future__ import annotations

import json

import pytest

from lsgan_theory.cli import main
from lsgan_theory.sweeps.spec import SpecError, parse_spec

SPEC = """
[sweep]
name = "tiny"
seeds = 2
n_eval = 200
[base]
family = "loss_sensitive"
steps = 20
g_hidden = [8, 8]
d_hidden = [8, 8]
n_data = 256
[grid]
lam = [1, 10]
[[figure]]
name = "l1"
x = "lam"
y = "l1_exact"
logx = true
reference = "2/lam"
"""


def test_plot_draws_the_declared_figures_from_the_store(tmp_path, capsys):
    spec = tmp_path / "tiny.toml"
    spec.write_text(SPEC)
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["plot", str(out), "--json"]) == 0
    files = json.loads(capsys.readouterr().out)["figures"]
    assert sorted(f.rsplit(".", 1)[1] for f in files) == ["pdf", "png"]
    for f in files:
        assert (out / "figures").exists() and open(f, "rb").read(4) in (b"\x89PNG", b"%PDF")
    from lsgan_theory.sweeps import figure_tables
    (fig, table), = figure_tables(out)
    assert fig["reference"] == "2/lam" and list(table["lam"]) == [1.0, 10.0] and (table["n"] == 2).all()
    # issue 27: the axes carry the report's names (∫|p − q̂| dx, λ), not the stored column names
    from lsgan_theory import plots
    seen = []
    real_save = plots.save

    def keep(fig, stem, caption, **kw):
        ax = fig.axes[0]
        seen.append((ax.get_xlabel(), ax.get_ylabel(), caption))
        return real_save(fig, stem, caption, **kw)

    plots.save = keep
    try:
        plots.sweep_figure(fig, table, tmp_path / "again")
    finally:
        plots.save = real_save
    (xl, yl, caption), = seen
    assert (xl, yl) == ("λ", "∫|p − q̂| dx") and "l1_exact" not in caption and "lam" not in caption


@pytest.mark.parametrize("extra, needle", [
    ('[[figure]]\nname = "a"\nx = "steps"\ny = "w1"\n', "not a [grid] key"),          # x must vary in the grid
    ('[[figure]]\nname = "a"\nx = "lam"\ny = "accuracy"\n', "not a final metric"),
    ('[[figure]]\nname = "a"\nx = "lam"\ny = "w1"\nreference = "__import__(\'os\')"\n', "reference"),  # no eval
    ('[[figure]]\nname = "a"\nx = "lam"\ny = "w1"\ncolour = "red"\n', "unknown key"),
    ('[[figure]]\nname = "a/b"\nx = "lam"\ny = "w1"\n', "file-name-safe"),
])
def test_bad_figure_declarations_are_refused_naming_the_key(extra, needle):
    base = SPEC.split("[[figure]]")[0]
    with pytest.raises(SpecError, match="figure") as info:
        parse_spec(base + extra, "s.toml", expand=False)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_plot_of_a_folder_without_a_store_is_one_line_exit_2(tmp_path, capsys):
    assert main(["plot", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "results.sqlite" in err


@pytest.mark.parametrize("command", ["results", "plot", "sweep"])
def test_a_corrupt_store_is_one_line_exit_2(tmp_path, capsys, command):
    # review finding: a results.sqlite that is not a database gave a sqlite3.DatabaseError traceback
    out = tmp_path / "corrupt"
    out.mkdir()
    (out / "results.sqlite").write_text("garbage")
    spec = tmp_path / "tiny.toml"
    spec.write_text(SPEC)
    argv = {"results": ["results", str(out)], "plot": ["plot", str(out)],
            "sweep": ["sweep", str(spec), "--out", str(out), "--quiet"]}[command]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a readable sweep store" in err and "Traceback" not in err
