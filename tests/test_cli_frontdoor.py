"""A new user's first minutes with the CLI (issue 27): help without heavy imports, formulas that start with a minus."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys

import pytest

from lsgan_theory.cli import build_parser, main

# private: argparse has no public list of its subcommands
_SUBCOMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)  # noqa: SLF001


@pytest.mark.parametrize("argv", [[], *[[c] for c in _SUBCOMMANDS], ["derive", "custom"]])
def test_help_imports_neither_torch_nor_sympy_nor_matplotlib(argv):
    # `--help` is answered from argparse alone (was 2.3 s idle, 6-7 s loaded: `sweep` imported torch at start-up).
    # No timing assertion: what makes help slow is importing these libraries, so that is what is checked.
    code = ("import sys\nfrom lsgan_theory.cli import main\nrc = main(%r)\n"
            "print(sorted(m for m in ('torch', 'sympy', 'matplotlib', 'scipy', 'pandas') if m in sys.modules))"
            % (argv + ["--help"]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout[-300:]


def test_the_subcommand_list_is_not_empty():
    assert {"verify", "derive", "train", "sweep", "results", "theorem1"} <= set(_SUBCOMMANDS)


@pytest.mark.parametrize("real,fake", [("-exp(-D)", "-exp(D)"), ("-D", "D - D**2/4")])
def test_a_formula_that_starts_with_a_minus_is_a_value_not_a_flag(real, fake):
    # before: "argument --real: expected one argument" unless written --real='-exp(-D)'
    args = build_parser().parse_args(["derive", "custom", "--real", real, "--fake", fake])
    assert (args.real, args.fake) == (real, fake)


def test_derive_custom_with_leading_minus_runs_and_reads_clearly():
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["derive", "custom", "--real", "-exp(-D)", "--fake", "-exp(D)"])
    text = buf.getvalue()
    assert rc == 0
    assert "+ -" not in text  # "+ -1·(u − 1)" is written "− 1·(u − 1)"
    assert "− 1·(u − 1)" in text and "hellinger" in text.lower()
    assert "divergence when: True" not in text.replace("(its scale > 0) when: True", "")


def test_an_unknown_single_dash_flag_is_still_refused_in_one_line():
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = main(["train", "-x"])
    assert rc == 2 and len(err.getvalue().strip().splitlines()) == 1


def test_long_commands_print_a_line_per_stage_and_quiet_silences_them(tmp_path):
    # issue 27: a command that can run over 5 s shows progress (prove ≈ 7 s, analyse ≈ 6 s on an idle 2-core machine)
    import shutil

    from lsgan_theory.symbolic.proofcheck import proofs_dir

    shutil.copy(proofs_dir() / "gls_costs.md", tmp_path / "gls_costs.md")
    for quiet in ([], ["--quiet"]):
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            assert main(["prove", "--dir", str(tmp_path), *quiet]) == 0
        assert ("prove: 1/1 gls_costs.md" in err.getvalue()) == (not quiet)
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            assert main(["analyse", "--real", "log(D)", "--fake", "log(1 - D)", "--steps", "5", "--models", "2",
                         "--out", str(tmp_path / "an"), *quiet]) == 0
        lines = [ln for ln in err.getvalue().splitlines() if ln.startswith("analyse: ")]
        assert len(lines) == (0 if quiet else 3), err.getvalue()
