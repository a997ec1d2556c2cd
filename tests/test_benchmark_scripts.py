"""The benchmark scripts run and refuse bad input (their figures are measured, never asserted: benchmarks/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args):
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "normal_draws.py"), *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def test_normal_draws_prints_every_draw_as_a_ratio_to_the_engines():
    r = _run("--rounds", "1", "--shape", "8", "16")
    assert r.returncode == 0, r.stderr
    rows = [line for line in r.stdout.splitlines() if line.endswith("×")]
    assert len(rows) == 6 and rows[0].startswith("engine step_normal") and rows[0].endswith(" 1.00×")
    assert "draw 8 × 16 float32" in r.stdout


def test_normal_draws_refuses_a_round_count_below_one_with_exit_2_naming_the_arguments():
    r = _run("--rounds", "0")
    assert r.returncode == 2 and "--rounds and --shape must be ≥ 1" in r.stderr and "Traceback" not in r.stderr


def test_normal_draws_refuses_a_draw_too_large_to_time_before_allocating_it():
    r = _run("--shape", "100000", "100000")
    assert r.returncode == 2 and "--shape: at most 16777216 numbers per draw" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_normal_draws_times_the_compiled_generator_or_says_why_not():
    # --compiled adds a torch.compile(torch.randn) row where inductor can compile (a C++ compiler), else one line
    # naming the failure; never a traceback (compiling takes 5-30 s: slow-marked)
    r = _run("--rounds", "1", "--shape", "8", "16", "--compiled")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    rows = [line for line in r.stdout.splitlines() if line.endswith("×")]
    compiled = "torch.compile(torch.randn): compiled in" in r.stdout
    assert compiled or "torch.compile(torch.randn): not available here" in r.stdout
    assert len(rows) == (7 if compiled else 6) and (not compiled or rows[-1].startswith("torch.compile"))
