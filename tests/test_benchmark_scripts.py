"""The benchmark scripts run and refuse bad input (their figures are measured, never asserted: benchmarks/)."""

from __future__ import annotations

import re
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
    assert len(rows) == 8 and rows[0].startswith("engine step_normal") and rows[0].endswith(" 1.00×")
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
    assert len(rows) == (9 if compiled else 8) and (not compiled or rows[-1].startswith("torch.compile"))


# ---------------------------------------------------------------------------------------------------- step_floor.py
def _floor_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location("step_floor", ROOT / "benchmarks" / "step_floor.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", ["ring512", "ring64", "ls1d"])
def test_step_floor_lists_exactly_the_steps_matrix_products(name):
    # two counts of one step's MLP FLOPs against a closed form written out here, f = 2 Σ d_l d_{l+1} per row:
    # D update: G forward (B rows), D forward + weight gradients + input gradients of layers ≥ 1 (2B rows);
    # G update: G forward + weight gradients + input gradients of layers ≥ 1, D forward + input gradients (B rows)
    m = _floor_module()
    cfg = m.config(name, 3)
    g, d, B = cfg.g_spec().sizes, cfg.d_spec().sizes, cfg.batch

    def f(sizes):
        return 2 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))

    fg, fd = f(g), f(d)
    closed = (B * fg + 2 * B * (3 * fd - 2 * d[0] * d[1])) + (B * (3 * fg - 2 * g[0] * g[1]) + 2 * B * fd)
    products = m.gemm_list(3, B, g, d)
    assert m.gemm_flops(products) / 3 == closed == m.bench.flops_per_model_step(cfg)
    if name == "ring512":  # the figure by hand: 512·98816 + 1024·(3·33536 − 512) + 512·(3·98816 − 65536) + 1024·33536
        assert closed == 305_659_904
    floor = m.Floor(products, m.torch.device("cpu"))
    assert [(tuple(a.shape), tuple(b.shape)) for a, b in floor.pairs] == [((E, n, k), (E, k, m_)) for E, n, k, m_, _ in
                                                                          products]
    # the weight gradients are products with a transposed (non-contiguous) activation, as autograd computes them
    assert {not a.is_contiguous() for a, _ in floor.pairs if a.shape[1] > 1 and a.shape[2] > 1} == {True, False}


@pytest.mark.parametrize("name", ["ring64", "ls1d"])
def test_step_floor_lists_the_steps_activation_passes(name):
    # hidden widths h (G and D alike here): forward passes on B (G, D update) + 2B (D) + B (G) + B (D) rows, backward
    # passes on all but the D update's generator rows: 5B·Σh and 4B·Σh elements per model
    m = _floor_module()
    cfg = m.config(name, 2)
    g, d, B = cfg.g_spec().sizes, cfg.d_spec().sizes, cfg.batch
    acts = m.activation_list(2, B, g, d)
    assert g[1:-1] == d[1:-1]
    h = sum(g[1:-1])
    assert sum(E * n * w for E, n, w, _ in acts) == 2 * 5 * B * h
    assert sum(E * n * w for E, n, w, bwd in acts if bwd) == 2 * 4 * B * h
    timer = m.Activations(acts, cfg.activation, m.torch.device("cpu"))
    assert timer.seconds(1) > 0
    with pytest.raises(ValueError, match="activation: step_floor times tanh and relu, got 'elu'"):
        m.Activations(acts, "elu", m.torch.device("cpu"))


def _floor_run(*args, timeout=300):
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "step_floor.py"), *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


def test_step_floor_prints_plain_ensemble_floor_and_bounds_for_a_config():
    r = _floor_run("--configs", "ls1d", "--E", "2", "--rounds", "1", "--seconds", "0.05", "--plain-models", "1")
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines() if line.startswith("ls1d") or "free" in line]
    assert len(rows) == 3 and rows[0][:2] == ["ls1d", "2"] and rows[0][-1] == "≥5×"
    assert "(thin products free)" in " ".join(rows[1]) and "(thin free + margins)" in " ".join(rows[2])
    # each bound is plain / (a sum of positive times): each added term makes it smaller (arithmetic, not timing)
    first, thin = ([float(x.rstrip("×")) for x in row if x.endswith("×") and not x.startswith("≥")] for row in rows[:2])
    assert first[1] > first[2] > first[3] and thin[0] > thin[1] > thin[2]
    assert "single-thread torch.bmm peak" in r.stdout and "torch.compile" not in r.stdout


@pytest.mark.parametrize("args, said", [(["--E", "0"], "--E: ensemble sizes must be in [1, 256]"),
                                        (["--E", "5000"], "--E: ensemble sizes must be in [1, 256]"),
                                        (["--rounds", "0"], "--rounds must be in [1, 100], got 0"),
                                        (["--seconds", "-1"], "--seconds must be in [0.001, 60], got -1.0"),
                                        (["--seconds", "nan"], "--seconds must be in [0.001, 60], got nan"),
                                        (["--plain-models", "0"], "--plain-models must be in [1, 64], got 0"),
                                        (["--configs", "ring"], "invalid choice")])
def test_step_floor_refuses_bad_options_in_one_line_with_exit_2(args, said):
    r = _floor_run(*args, timeout=60)
    assert r.returncode == 2 and said in r.stderr and "Traceback" not in r.stderr, r.stderr


@pytest.mark.slow
def test_step_floor_times_the_compiled_passes_or_says_why_not():
    r = _floor_run("--configs", "ring64", "--E", "2", "--rounds", "1", "--seconds", "0.05", "--plain-models", "1",
                   "--compiled", timeout=600)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    line = [x for x in r.stdout.splitlines() if x.startswith("torch.compile of the network passes, ring64 E = 2")]
    assert len(line) == 1 and ("compiled in" in line[0] or "not available here" in line[0])


def test_normal_draws_box_muller_row_times_real_standard_normals():
    # the row "numpy SFC64 bits + numpy Box-Muller" is only a fair competitor if it draws N(0, 1): KS against the
    # normal CDF on 200 001 numbers (odd length: the last sine half is cut), the two halves uncorrelated; negative
    # control: the same test rejects the uniforms it starts from
    import importlib.util

    import numpy as np
    from scipy import stats
    spec = importlib.util.spec_from_file_location("normal_draws", ROOT / "benchmarks" / "normal_draws.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = np.empty(200_001, np.float32)
    z = mod._box_muller(np.random.SFC64(11), out)  # private: the benchmark's own draw, checked for what it times
    assert z is out and np.isfinite(z).all()
    assert stats.kstest(z, "norm").pvalue > 1e-4
    assert abs(stats.pearsonr(z[:100_000], z[100_001:])[0]) < 5 / np.sqrt(100_000)
    assert stats.kstest(np.random.default_rng(11).random(200_001), "norm").pvalue < 1e-10


# ---------------------------------------------------------------------------------------------------- gpu_check.sh
def _gpu_check(env_extra, timeout=300):
    import os
    env = {**os.environ, "PYTHON": sys.executable, **env_extra}  # the interpreter running the tests
    return subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh")], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env)


def test_gpu_check_refuses_without_cuda_and_without_a_python_before_running_anything():
    import torch
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is visible: the refusal is for machines without one")
    r = _gpu_check({"GPU_CHECK_DRY": "0"})
    assert r.returncode == 2 and "no CUDA device visible to torch" in r.stderr and "nothing was run" in r.stderr
    assert "===" not in r.stdout and "paste into a note" not in r.stdout
    r = _gpu_check({"PYTHON": "/nonexistent/python"})
    assert r.returncode == 2 and "gpu_check: no Python at /nonexistent/python" in r.stderr


def test_gpu_check_dry_run_runs_every_step_and_prints_the_block_to_paste():
    # the one-call GPU check is only ready if its plumbing runs: GPU_CHECK_DRY=1 does the benchmark and the claim on
    # the CPU at toy sizes (about 20 s); each step must exit 0 and the block must carry the benchmark rows and verdict
    r = _gpu_check({"GPU_CHECK_DRY": "1"})
    assert r.returncode == 0, r.stderr
    block = r.stdout.split("----- paste into a note (issue 28 GPU check) -----")[1]
    assert "DRY RUN (GPU_CHECK_DRY=1)" in block and "gpu-tests: skipped" in block
    assert re.search(r"benchmark: exit 0 in \d+ s", block) and re.search(r"claim: exit 0 in \d+ s", block)
    assert re.search(r"^  ls1d +4 ", block, re.M) and "pass               optimal-critic-least_squares" in block
