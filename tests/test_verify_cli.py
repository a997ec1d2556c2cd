"""``lsgan-theory verify`` flags of issue 21: --require-gpu, the --full duration line, --only listing the ids,
--quiet and strict --json.  The GPU is simulated (torch's ``cuda.is_available`` / ``cuda.get_device_name`` patched) so these run the same on
any machine."""

from __future__ import annotations

import contextlib
import io
import json
import math
import re

import pytest

from lsgan_theory import claims
from lsgan_theory.cli import main

CHEAP = "symbolic-gls-costs"  # ~0.4 CPU s, no quick/full difference


def run(argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def strict_json(text):
    def refuse(token):
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def no_gpu(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def fake_gpu(monkeypatch, name: str) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: name)


@pytest.fixture
def ran(monkeypatch):
    """Record whether run_claims was called (and return no verdicts)."""
    calls = []
    monkeypatch.setattr(claims, "run_claims", lambda *a, **k: calls.append(k.get("only")) or [])
    return calls


def test_require_gpu_without_a_gpu_is_one_line_exit_2_before_any_claim_runs(no_gpu, ran, tmp_path):
    rc, out, err = run(["verify", "--require-gpu", "--only", CHEAP, "--out", tmp_path])
    assert rc == 2 and out == "" and ran == []
    assert err.count("\n") == 1 and err.startswith("lsgan-theory verify: error: --require-gpu") and "GPU" in err, err


def test_a_broken_cuda_set_up_reads_as_no_gpu(monkeypatch, ran, tmp_path):
    # verify asks provenance.gpu_name, the one GPU probe (the report's device line asks it too): a CUDA set-up that
    # raises reads as no GPU, so --require-gpu refuses in one line (before: verify's own probe let the error escape)
    import torch

    def broken():
        raise RuntimeError("CUDA driver initialization failed")

    monkeypatch.setattr(torch.cuda, "is_available", broken)
    rc, out, err = run(["verify", "--require-gpu", "--only", CHEAP, "--out", tmp_path])
    assert rc == 2 and out == "" and ran == []
    assert err.count("\n") == 1 and err.startswith("lsgan-theory verify: error: --require-gpu"), err


def test_require_gpu_with_a_gpu_proceeds(monkeypatch, ran, tmp_path):
    # negative control: the refusal depends on the GPU, not on the flag alone
    fake_gpu(monkeypatch, "Fake GPU 9000")
    rc, _, err = run(["verify", "--require-gpu", "--only", CHEAP, "--out", tmp_path, "--quiet"])
    assert rc == 0 and ran == [[CHEAP]], err


def test_full_prints_the_expected_duration_and_the_no_gpu_warning_then_runs(no_gpu, tmp_path):
    rc, out, err = run(["verify", "--full", "--only", CHEAP, "--out", tmp_path, "--quiet"])
    assert rc == 0, err
    lines = err.splitlines()
    assert len(lines) == 2, err  # --quiet: the duration line and the warning only
    assert lines[0].startswith("lsgan-theory verify --full: expect about") and "1 claim(s)" in lines[0]
    assert "no GPU" in lines[0] and "basis: 1 from the cost table" in lines[0], lines[0]
    assert "warning: no GPU" in lines[1]
    assert re.search(rf"^pass +{CHEAP} ", out, re.M) and (tmp_path / "report.html").exists()
    # a second run takes the CPU seconds recorded by the first (a full run: factor 1) as its basis
    _, _, err2 = run(["verify", "--full", "--only", CHEAP, "--out", tmp_path, "--quiet"])
    assert "claims.json" in err2.splitlines()[0] and "(a full run)" in err2.splitlines()[0], err2


def test_quick_prints_no_duration_line_nor_gpu_warning(no_gpu, ran, tmp_path):
    rc, _, err = run(["verify", "--only", CHEAP, "--out", tmp_path, "--quiet"])
    assert rc == 0 and err == "", err


def test_full_estimate_scales_a_previous_quick_run_by_the_claims_factor(tmp_path):
    # A quick run's CPU seconds × the documented factor; a full run's as they are; no file: the table.
    cid = "optimal-critic-gan"
    quick_s, factor = claims.VERIFY_COST[cid]
    assert factor > 1  # the premise: quick and full differ for this claim
    total, basis = claims.full_estimate([cid], tmp_path)
    assert math.isclose(total, quick_s * factor) and "cost table" in basis
    for quick, expected in ((True, 2.0 * factor), (False, 2.0)):
        (tmp_path / "claims.json").write_text(json.dumps(
            {"meta": {"quick": quick}, "claims": [{"id": cid, "status": "pass", "cpu_seconds": 2.0}]}))
        total, basis = claims.full_estimate([cid], tmp_path)
        assert math.isclose(total, expected) and "claims.json" in basis, (quick, total, basis)
    (tmp_path / "claims.json").write_text("{not json")
    assert math.isclose(claims.full_estimate([cid], tmp_path)[0], quick_s * factor)  # a corrupt file is ignored


def test_every_registered_claim_has_a_cost_entry_and_no_entry_is_stale():
    # a claim added without an entry would be left out of the --full estimate (the line would say so)
    ids = set(claims.registry())
    assert set(claims.VERIFY_COST) == ids
    assert all(s > 0 and f >= 1 for s, f in claims.VERIFY_COST.values())


def test_unknown_only_id_lists_every_valid_id_on_one_line(ran, tmp_path):
    rc, out, err = run(["verify", "--only", CHEAP, "no-such-claim", "--out", tmp_path])
    assert rc == 2 and out == "" and ran == [] and err.count("\n") == 1, err
    assert "'no-such-claim'" in err and "valid ids:" in err
    listed = err.split("valid ids:")[1].split()
    assert listed == list(claims.registry()), listed


def test_quiet_prints_no_progress_and_without_it_the_bar_names_the_claim(no_gpu, tmp_path):
    rc, _, err = run(["verify", "--only", CHEAP, "--out", tmp_path / "a", "--quiet"])
    assert rc == 0 and err == "", err
    rc, _, err = run(["verify", "--only", CHEAP, "--out", tmp_path / "b"])
    assert rc == 0 and CHEAP in err and "1/1" in err, err  # negative control: the bar is there without --quiet


def test_json_is_strict_with_non_finite_values_as_null_and_listed(no_gpu, monkeypatch, tmp_path):
    rc, out, err = run(["verify", "--only", CHEAP, "--json", "--out", tmp_path, "--quiet"])
    assert rc == 0, err
    doc = strict_json(out)
    assert [c["id"] for c in doc["claims"]] == [CHEAP] and doc["claims"][0]["status"] == "pass"
    # a verdict carrying NaN / inf: null in the output, listed in "nonfinite" (json.dumps would write NaN)
    v = claims.Verdict("x", "THEORY.md §0", "s", "pass", "e", [], 0.1, {"a": math.nan, "b": [1.0, math.inf]})
    monkeypatch.setattr(claims, "run_claims", lambda *a, **k: [v])
    rc, out, _ = run(["verify", "--only", CHEAP, "--json", "--out", tmp_path / "n", "--quiet"])
    doc = strict_json(out)
    assert doc["claims"][0]["data"] == {"a": None, "b": [1.0, None]}
    assert doc["nonfinite"] == {"/claims/0/data/a": "NaN", "/claims/0/data/b/1": "Infinity"}


def test_report_folder_holds_report_html_report_md_and_claims_json_and_no_readme(no_gpu, tmp_path):
    # report.md is the Markdown report's name (issue 21); a README.md written by an older version (same title) is
    # removed so that no stale report sits beside the new one; a README.md of the user's is kept (negative control).
    old = tmp_path / "old"
    old.mkdir()
    (old / "README.md").write_text("# lsgan-theory verification report\n\nstale\n")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "README.md").write_text("# my notes\n")
    for out in (old, mine):
        rc, stdout, err = run(["verify", "--only", CHEAP, "--out", out, "--quiet"])
        assert rc == 0, err
        assert stdout.splitlines()[-1] == f"report: {out / 'report.html'}"
        md = (out / "report.md").read_text()
        assert md.startswith("# lsgan-theory verification report\n") and f"## {CHEAP}" in md
        assert (out / "report.html").stat().st_size > 0 and (out / "claims.json").stat().st_size > 0
    assert not (old / "README.md").exists()
    assert (mine / "README.md").read_text() == "# my notes\n"
