"""How far issue 28's speed targets are from what this machine's kernels allow: the step's matrix products alone.

For each configuration of ``benchmarks/ensemble.py`` (ring512, ring64, ls1d) and each E, one process times side by
side, in interleaved rounds (the minimum of each is kept; contention only adds time):

* **plain**: the per-model loop a user would write (``ensemble.plain_seconds_per_model_step``);
* **ensemble**: the engine's step (``ensemble.Engine``);
* **bmm floor**: every matrix product of one step and nothing else -- the forward products of G and D, D's
  weight and input gradients, G's weight and input gradients, at the step's shapes for E models, each one
  ``torch.bmm`` (D on real and fake rows as one product of 2B rows, the favourable layout) -- per model.  No noise,
  activation, loss, margin, optimiser or bookkeeping: any implementation whose products are torch's ``bmm`` takes
  at least this long, so ``plain / floor`` is the most such an implementation can gain over the plain loop;
* for ls1d also the floor of its **wide products only** (the 64×64 layers): the layers of width 1 (the 1-D input
  and output) treated as free, the floor of an implementation that does them as broadcasts at no cost;
* the **peak bound**: the step's FLOPs at the measured single-thread ``bmm`` peak (``ensemble.bmm_peak``), the
  floor of any implementation on this core.

With ``--compiled`` it also times ``torch.compile`` (inductor) of the step's network passes (forward and backward,
the losses replaced by sums: ``ensemble.network_passes``) against the same passes eager, as a speed-up
factor: the fused/compiled-kernel route (needs a C++ compiler; compile time is not timed).

The matrix products listed are exactly the step's MLP FLOPs (``gemm_list``; ``tests/test_benchmark_scripts.py``
checks them against a closed form).  Usage::

    python benchmarks/step_floor.py                     # E = 16 64, every configuration, 3 rounds
    python benchmarks/step_floor.py --configs ls1d --E 64 --compiled
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ensemble as bench  # noqa: E402  (benchmarks/ensemble.py: its configurations, plain loop and engine timer)

THIN = 2  # a product with a dimension of at most this is "thin" (the 1-D or 2-D inputs and outputs)
TARGETS = {"ring512": "≥1.5× (50% peak)", "ring64": "≥3×", "ls1d": "≥5×"}


def gemm_list(E: int, batch: int, g_sizes, d_sizes) -> list[tuple[int, int, int, int, bool]]:
    """The matrix products of one step, ``(E, n, k, m, transposed_a)`` for ``(E, n, k) @ (E, k, m)``.

    G forward on 2B rows as one product: the D update's fakes and the G update's samples (G does not change in
    between with one D update per step, the configurations' setting), the favourable layout.  D update: D forward
    on 2B rows (real and fake as one product), D's input gradients for layers ≥ 1 and its weight gradients (hᵀδ,
    the transposed activation).  G update: D forward on B rows, D's input gradients for every layer (the gradient
    reaches G's output), G's weight gradients and its input gradients for layers ≥ 1 on B rows.
    """
    def products(sizes, n, *, forward=True, input_from=None, weights=False):
        out = []
        for l, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            if forward:
                out.append((E, n, a, b, False))
            if input_from is not None and l >= input_from:
                out.append((E, n, b, a, False))
            if weights:
                out.append((E, a, n, b, True))
        return out

    B = batch
    g_forward = products(g_sizes, 2 * B)
    d_update = products(d_sizes, 2 * B, input_from=1, weights=True)
    g_update = products(d_sizes, B, input_from=0) + products(g_sizes, B, forward=False, input_from=1, weights=True)
    return g_forward + d_update + g_update


def activation_list(E: int, batch: int, g_sizes, d_sizes) -> list[tuple[int, int, int, bool]]:
    """The hidden activations of one step, ``(E, n, width, with_backward)``: G's on B rows without gradient and D's
    on 2B rows with it (D update), then G's and D's on B rows, both with gradient (G update)."""
    def acts(sizes, n, backward):
        return [(E, n, w, backward) for w in sizes[1:-1]]

    B = batch
    return acts(g_sizes, B, False) + acts(d_sizes, 2 * B, True) + acts(g_sizes, B, True) + acts(d_sizes, B, True)


def config(name: str, E: int):
    """The ``TrainConfig`` of configuration ``name`` for E models on the CPU (``benchmarks/ensemble.py``'s)."""
    return bench._config(name, E, "cpu")


def gemm_flops(products) -> int:
    return sum(2 * E * n * k * m for E, n, k, m, _ in products)


class Floor:
    """The step's products held as tensors; ``seconds()`` runs them all once (one ``torch.bmm`` each)."""

    def __init__(self, products, device):
        gen = torch.Generator(device=device).manual_seed(0)
        self.pairs = []
        for E, n, k, m, trans in products:
            a = torch.randn(E, k, n, generator=gen, device=device).transpose(1, 2) if trans else \
                torch.randn(E, n, k, generator=gen, device=device)
            self.pairs.append((a, torch.randn(E, k, m, generator=gen, device=device)))
        self.device = device

    def run(self):
        for a, b in self.pairs:
            torch.bmm(a, b)

    def seconds(self, reps: int) -> float:
        return bench.timed(self.run, reps, self.device)


class Activations(Floor):
    """The step's activation passes alone: forward (``tanh`` / ``relu``) and, where gradients flow, the backward op
    autograd calls (``tanh_backward`` / ``threshold_backward``), each into a preallocated output (the faster form:
    no allocation, so the bound stays generous)."""

    def __init__(self, shapes, activation: str, device):
        if activation not in ("tanh", "relu"):
            raise ValueError(f"activation: step_floor times tanh and relu, got {activation!r}")
        gen = torch.Generator(device=device).manual_seed(0)
        self.items = []
        for E, n, w, bwd in shapes:
            x = torch.randn(E, n, w, generator=gen, device=device)
            self.items.append((x, torch.empty_like(x), torch.empty_like(x) if bwd else None))
        self.tanh = activation == "tanh"
        self.device = device

    def run(self):
        aten = torch.ops.aten
        for x, y, dx in self.items:
            torch.tanh(x, out=y) if self.tanh else torch.clamp_min(x, 0.0, out=y)
            if dx is not None:  # x stands in for the incoming gradient
                aten.tanh_backward.grad_input(x, y, grad_input=dx) if self.tanh else \
                    aten.threshold_backward.grad_input(x, y, 0, grad_input=dx)


def compiled_speedup(engine, reps: int, rounds: int) -> tuple[float, float, float]:
    """(eager s, compiled s, compile s) of the step's network passes (``ensemble.network_passes``: forward and
    backward, losses replaced by sums), eager and under ``torch.compile``, in interleaved rounds."""
    eager, compiled = bench.network_passes(engine), bench.network_passes(engine, wrap=torch.compile)
    t0 = time.perf_counter()
    compiled()
    t_compile = time.perf_counter() - t0
    dev = engine.run.device
    best = {"eager": float("inf"), "compiled": float("inf")}
    for _ in range(rounds):
        for key, fn in (("eager", eager), ("compiled", compiled)):
            best[key] = min(best[key], bench.timed(fn, reps, dev))
    return best["eager"], best["compiled"], t_compile


def _reps(seconds_once: float, budget: float) -> int:
    return max(2, int(budget / max(seconds_once, 1e-5)))


def measure(name: str, E: int, a, peak: float) -> dict:
    """One row: plain, ensemble, the floors and the bounds (seconds per model-step)."""
    cfg = config(name, E)
    eng = bench.Engine(cfg)
    g_sizes, d_sizes = cfg.g_spec().sizes, cfg.d_spec().sizes
    products = gemm_list(E, cfg.batch, g_sizes, d_sizes)
    floor = Floor(products, torch.device("cpu"))
    wide = Floor([p for p in products if min(p[1:4]) > THIN], torch.device("cpu"))
    acts = Activations(activation_list(E, cfg.batch, g_sizes, d_sizes), cfg.activation, torch.device("cpu"))
    probe = eng.seconds_per_step(1)
    steps = _reps(probe, a.seconds)
    plain_steps = max(2, int(a.seconds / (4 * max(probe / E, 1e-4) * a.plain_models)))
    reps_f = _reps(floor.seconds(1), a.seconds)
    t = {"plain": [], "ensemble": [], "floor": [], "wide": [], "draws": [], "optimiser": [], "loss": [], "acts": []}
    for _ in range(a.rounds):
        t["ensemble"].append(eng.seconds_per_step(steps) / E)
        parts = bench.split_ls1d(eng, max(2, steps // 2))
        for k, v in (("draws", parts["draws"]), ("optimiser", parts["optimiser"]), ("loss", parts["margins"])):
            t[k].append(v / E)
        t["floor"].append(floor.seconds(reps_f) / E)
        t["acts"].append(acts.seconds(reps_f) / E)
        t["wide"].append(wide.seconds(reps_f) / E)
        t["plain"].append(bench.plain_seconds_per_model_step(cfg, a.plain_models, plain_steps))
    row = {k: min(v) if v else float("nan") for k, v in t.items()}
    row["flops"] = gemm_flops(products) / E
    row["peak_s"] = row["flops"] / peak
    if a.compiled:
        try:
            row["compiled"] = compiled_speedup(eng, max(2, steps // 4), a.rounds)
        except Exception as exc:  # noqa: BLE001 -- inductor's failures are many (no compiler, unsupported op)
            row["compiled"] = f"not available here ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})"
    return row


def _print_row(name: str, E: int, r: dict, peak: float) -> None:
    p, kernels = r["plain"], r["draws"] + r["optimiser"]
    print(f"{name:8} {E:>4} {p * 1e3:>9.3f} {r['ensemble'] * 1e3:>9.3f} {p / r['ensemble']:>8.2f}× "
          f"{r['floor'] * 1e3:>10.3f} {100 * r['flops'] / r['floor'] / peak:>7.1f}% {p / r['floor']:>11.2f}× "
          f"{p / (r['floor'] + kernels):>10.2f}× {p / (r['floor'] + kernels + r['acts']):>7.2f}× "
          f"{p / r['peak_s']:>10.2f}× {r['draws'] * 1e3:>6.3f} "
          f"{100 * r['draws'] / r['ensemble']:>6.1f}% {100 * r['draws'] * bench.TARGET_RATIO[name] / p:>8.1f}% "
          f"{TARGETS[name]:>17}", flush=True)
    blank = f"{'':8} {'':>4} {'':>9} {'':>9} {'':>9}"
    print(f"{blank} {r['wide'] * 1e3:>10.3f} {'':>8} {p / r['wide']:>11.2f}× {p / (r['wide'] + kernels):>10.2f}× "
          f"{p / (r['wide'] + kernels + r['acts']):>7.2f}× {'':>10} {'':>6} {'':>7} {'':>9} {'(thin products free)':>20}",
          flush=True)
    if name == "ls1d":  # its all-pairs margins are real work (the rings' loss is a few passes over B numbers)
        print(f"{blank} {'':>10} {'':>8} {'':>11}  {p / (r['wide'] + kernels + r['loss']):>10.2f}× "
              f"{p / (r['wide'] + kernels + r['loss'] + r['acts']):>7.2f}× {'':>10} {'':>6} {'':>7} {'':>9} "
              f"{'(thin free + margins)':>20}", flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--configs", nargs="+", default=list(bench.CONFIGS), choices=list(bench.CONFIGS))
    ap.add_argument("--E", dest="models", nargs="+", type=int, default=[16, 64], help="ensemble sizes, 1 to 256")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds, 1 to 100 (default 3)")
    ap.add_argument("--seconds", type=float, default=1.0, help="about how long each timing lasts, in [0.001, 60]")
    ap.add_argument("--plain-models", type=int, default=2, help="models timed in the plain loop per round, 1 to 64")
    ap.add_argument("--compiled", action="store_true", help="also time torch.compile of the network passes")
    a = ap.parse_args(argv)
    if any(not 1 <= E <= 256 for E in a.models):
        ap.error(f"--E: ensemble sizes must be in [1, 256], got {a.models}")
    if not 1 <= a.rounds <= 100:
        ap.error(f"--rounds must be in [1, 100], got {a.rounds}")
    if not 0.001 <= a.seconds <= 60:  # also refuses nan
        ap.error(f"--seconds must be in [0.001, 60], got {a.seconds}")
    if not 1 <= a.plain_models <= 64:
        ap.error(f"--plain-models must be in [1, 64], got {a.plain_models}")
    torch.set_num_threads(1)
    load = os.getloadavg()
    peak = bench.bmm_peak(torch.device("cpu"))
    print(f"torch {torch.__version__}, 1 thread, CPU; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at "
          f"the start; single-thread torch.bmm peak {peak / 1e9:.1f} GFLOP/s\nms per model-step; bmm floor = the "
          f"step's matrix products alone (torch.bmm); plain = the per-model loop (the same code at every E: the minimum over "
          f"all its rounds, shared by the configuration's rows); plain/floor = the most a step built on them can gain; "
          f"+draws+opt = plain / (floor + the step's draws + its fused Adam, each timed alone); +acts = the same with "
          f"the step's activation passes (forward, and backward where gradients flow) added; plain/peak = plain / "
          f"(the step's FLOPs at the bmm peak); draws = the step's random draws (ms), their share of the ensemble "
          f"step and their share of a step that would meet the target (plain / target ratio)\n")
    head = (f"{'config':8} {'E':>4} {'plain':>9} {'ensemble':>9} {'ens/plain':>9} {'bmm floor':>10} {'% peak':>8} "
            f"{'plain/floor':>12} {'+draws+opt':>11} {'+acts':>8} {'plain/peak':>11} {'draws':>6} {'share':>7} {'@target':>9} "
            f"{'target':>17}")
    print(head + "\n" + "-" * len(head))
    compiled = []
    for name in a.configs:
        rows = {E: measure(name, E, a, peak) for E in a.models}
        plain = min(r["plain"] for r in rows.values())  # the same per-model code for every E: one figure
        for E, r in rows.items():
            _print_row(name, E, {**r, "plain": plain}, peak)
            if "compiled" in r:
                compiled.append((name, E, r["compiled"]))
    for name, E, c in compiled:
        text = c if isinstance(c, str) else (f"eager {c[0] * 1e3:.2f} ms, compiled {c[1] * 1e3:.2f} ms per step: "
                                              f"{c[0] / c[1]:.2f}× (compiled in {c[2]:.1f} s, not timed)")
        print(f"torch.compile of the network passes, {name} E = {E}: {text}")
    load = os.getloadavg()
    print(f"\nload average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
