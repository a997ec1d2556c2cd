"""Every proof in proofs/ is machine-checked; corrupting a step makes the check fail."""

import re
import shutil

import pytest

from lsgan_theory.symbolic.proofcheck import check_all, check_proof, check_text, proofs_dir, render_latex, \
    render_markdown

PROOFS = sorted(f for f in proofs_dir().glob("*.md") if f.name != "README.md")


def test_there_is_a_proof_for_every_result():
    names = {f.stem for f in PROOFS}
    expected = {"gan_jsd", "least_squares", "hinge_tv", "gls_costs", "lemma4_theorem1", "hinge_inactivity",
                *(f"fgan_{k}" for k in ("kl", "reverse_kl", "pearson_chi2", "neyman_chi2", "hellinger2", "js", "gan",
                                         "tv"))}
    assert expected <= names


@pytest.mark.parametrize("path", PROOFS, ids=lambda p: p.stem)
def test_proof_steps_all_check(path):
    res = check_proof(path)
    assert res.passed, [(c.line, c.source, c.message) for c in res.checks if not c.passed] or res.error
    assert len(res.checks) >= 3


def _first_identity(lines):
    for i, line in enumerate(lines):
        s = line.split("#", 1)[0].strip()
        if " == " in s and not s.startswith(("let ", "symbols ")):
            return i
    raise AssertionError("no identity step")


@pytest.mark.parametrize("path", PROOFS, ids=lambda p: p.stem)
def test_corrupting_one_step_fails_the_check(path, tmp_path):
    # Copy the proof, add "+ 1" to the right side of its first identity step (an identity between two
    # expressions cannot survive adding 1 to one side), and check the copy.
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    lines = copy.read_text().splitlines()
    i = _first_identity(lines)
    lines[i] = re.sub(r" == (.*?)(\s+given .*)?$", lambda m: f" == ({m.group(1)}) + 1{m.group(2) or ''}", lines[i])
    copy.write_text("\n".join(lines) + "\n")
    res = check_proof(copy)
    assert not res.passed
    failed = [c.line for c in res.checks if not c.passed]
    assert failed == [i + 1]


@pytest.mark.parametrize("false_step", [
    "Max(x, nu*x) == x given x >= 0",                    # needs ν ≤ 1
    "Abs(p - q) == p - q",
    "p*Max(0, 1 - D) + q*Max(0, 1 + D) >= 2*Max(p, q)",
    "integral 2*p - q == 0",
    "p*log(p) >= 0",                                     # undecidable sign: fails, no numeric fallback
    "Max(q - p, 0) <= (1 - eta)*q given eta <= 1",       # drops the hypothesis p ≥ ηq
    "1 - x > 0 given x >= 0; x <= 1",                    # false at the end point x = 1 (not "by continuity")
    "1/(1 - x) >= 1 given x >= 0; x <= 1",               # pole at the end point x = 1
])
def test_checker_rejects_false_steps(false_step):
    text = ("```check\nsymbols p, q: nonnegative\nsymbols eta: positive\nsymbols x, nu, D: real\n"
            f"{false_step}\n```\n")
    res = check_text(text)
    assert not res.passed and len(res.checks) == 1


def test_checker_reports_unparseable_and_empty_proofs():
    assert not check_text("```check\nsymbols x: real\nx === 1\n```\n").passed
    assert check_text("no checks here").error == "no check steps found"
    assert check_text("```check\nsymbols x: real\nx == x\n").error.startswith("unterminated")


def test_rendering_marks_every_step():
    res = check_proof(PROOFS[0])
    md = render_markdown(PROOFS[0], res)
    assert md.count("✓ checked") == len(res.checks)
    tex = render_latex(PROOFS[0], res)
    assert tex.count(r"\checkmark") == len(res.checks) and tex.startswith(r"\documentclass")


def test_check_all_covers_the_folder():
    assert len(check_all()) == len(PROOFS)
