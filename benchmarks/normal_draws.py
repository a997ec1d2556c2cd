"""What a normal draw costs on this CPU: the engine's step draw against the alternatives (issue 28's noise target).

The engine draws each model's noise with :func:`lsgan_theory.ensemble.rng.step_normal` (one ``manual_seed`` of a
torch Mersenne-twister generator per (seed, model, stream, step), then torch's ``normal_``).  This prints, side by
side in one process, nanoseconds per float32 normal for one model's ring draw (512 × 256, the batch of Mao's ring)
and, as ratios to the engine's draw:

* ``torch.randn`` with the global generator (what a plain loop uses: no seeding);
* torch's uniform ``uniform_`` from the same generator (the cost of the bits alone, no normal transform);
* numpy's ``standard_normal`` (ziggurat) into a float32 buffer with the PCG64, SFC64 and Philox bit generators, a
  fresh generator per draw (as the engine seeds one per draw);
* numpy's SFC64 raw 32-bit words alone, and those words turned into normals by Box–Muller with numpy's vectorised
  float32 ``log``/``sqrt``/``cos``/``sin`` (a faster bit generator than the Mersenne twister with a SIMD transform:
  the cheapest route to normals outside torch that needs no compiler);
* with ``--compiled``: ``torch.compile`` of ``torch.randn`` (inductor generates the kernel and its own counter-based
  random numbers: the "compiled generator" route; needs a C++ compiler, and its compile time is printed apart, not
  timed with the draws).  If compilation fails the row says why.

The rounds are interleaved across the draws and the minimum over rounds is kept (contention from other processes
only adds time).  Usage::

    python benchmarks/normal_draws.py [--rounds 7] [--shape 512 256] [--compiled]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from lsgan_theory.ensemble import rng


def _best(fn, rounds: int, reps: int = 50) -> float:
    fn()
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7, help="timed rounds per draw, ≥ 1 (default 7)")
    ap.add_argument("--shape", type=int, nargs=2, default=(512, 256), help="draw shape, two sizes ≥ 1")
    ap.add_argument("--compiled", action="store_true", help="also time torch.compile(torch.randn) (inductor)")
    a = ap.parse_args()
    if a.rounds < 1 or min(a.shape) < 1:
        ap.error("--rounds and --shape must be ≥ 1")
    if a.shape[0] * a.shape[1] > 1 << 24:  # two float32 buffers of this size, timed 50 times per round
        ap.error(f"--shape: at most {1 << 24} numbers per draw (16M, 64 MB a buffer), got {a.shape[0] * a.shape[1]}")
    torch.set_num_threads(1)
    shape = tuple(a.shape)
    n = shape[0] * shape[1]
    out = torch.empty((1, *shape))
    buf = torch.empty(shape).numpy()
    ids = [3]
    g = torch.Generator()
    step = [0]

    def engine():
        step[0] += 1
        rng.step_normal(1234, ids, 0, step[0], shape, out=out, generator=g)

    cases = {"engine step_normal (seed + normal_)": engine,
             "torch.randn (global generator)": lambda: torch.randn(shape),
             "torch uniform_ (same generator, bits only)": lambda: (g.manual_seed(step[0]), out.uniform_(generator=g)),
             **{f"numpy {bg.__name__} standard_normal": (lambda bg=bg: np.random.Generator(bg(7)).standard_normal(
                 out=buf, dtype=np.float32)) for bg in (np.random.PCG64, np.random.SFC64, np.random.Philox)},
             "numpy SFC64 bits only (random_raw)": lambda: np.random.SFC64(7).random_raw((n + 1) // 2),
             "numpy SFC64 bits + numpy Box-Muller": lambda: _box_muller(np.random.SFC64(7), buf.reshape(-1))}
    notes = []
    if a.compiled:
        compiled, note = _compiled_randn(shape)
        notes.append(note)
        if compiled is not None:
            cases["torch.compile(torch.randn) (inductor kernel)"] = compiled
    times = dict.fromkeys(cases, float("inf"))
    for _ in range(a.rounds):  # rounds interleaved across the draws, so a burst of load hits all of them alike
        for name, fn in cases.items():
            times[name] = min(times[name], _best(fn, 1))
    base = times["engine step_normal (seed + normal_)"]
    print(f"torch {torch.__version__}, numpy {np.__version__}, 1 thread, draw {shape[0]} × {shape[1]} float32, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'draw':45s} {'ns/number':>10s} {'/ engine':>9s}")
    for name, t in times.items():
        print(f"{name:45s} {t / n * 1e9:10.2f} {t / base:8.2f}×")
    for note in notes:
        print(note)


def _box_muller(bitgen, out: np.ndarray) -> np.ndarray:
    """Normals into ``out`` (1-D float32) from a numpy bit generator's raw 32-bit words and numpy's
    vectorised float32 ``log``/``sqrt``/``cos``/``sin``: z = sqrt(-2 log u1) (cos, sin)(2π u2) with 24-bit uniforms
    u1 in (0, 1], u2 in [0, 1) -- a faster bit generator than torch's Mersenne twister, with a SIMD transform."""
    half = (out.size + 1) // 2
    top24 = (bitgen.random_raw(half).view(np.uint32) >> 8).view(np.int32)  # 2·half words, 24 bits each
    r, theta = top24[:half].astype(np.float32), top24[half:].astype(np.float32)
    r += 1.0
    r *= np.float32(2.0**-24)
    np.log(r, out=r)
    r *= -2.0
    np.sqrt(r, out=r)
    theta *= np.float32(2.0 * np.pi * 2.0**-24)
    np.multiply(r, np.cos(theta), out=out[:half])
    out[half:] = (r * np.sin(theta))[: out.size - half]
    return out


def _compiled_randn(shape):
    """(the compiled draw, or None; a line saying what compiling cost or why it failed)."""
    t0 = time.perf_counter()
    try:
        fn = torch.compile(lambda: torch.randn(shape))
        fn()
    except Exception as e:  # noqa: BLE001 -- any compiler failure is a result to print, not a crash
        return None, f"torch.compile(torch.randn): not available here ({type(e).__name__}: {str(e)[:120]})"
    return fn, f"torch.compile(torch.randn): compiled in {time.perf_counter() - t0:.1f} s (not in the times above)"


if __name__ == "__main__":
    main()
