"""A new user's first minutes with the CLI (issue 27): help without heavy imports, formulas that start with a minus."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys

import pytest

from lsgan_theory.cli import build_parser, main

_SUBCOMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)  # noqa: SLF001 (argparse has no API)


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
