"""Cost of the loss zoo's input validation and of all-pairs hinges, measured side by side in one run.

Run: ``.venv/bin/python benchmarks/losses.py``.  Prints, for ensemble-shaped inputs (E models, n real, m fake), the
time per call of ``glsgan_objective`` / ``loss_sensitive_objective`` (validated: shape checks, margin >= 0, per-model
hyperparameter range) next to the same formula written inline without checks, and all-pairs next to one-to-one.
The ratios are what matter; absolute times depend on the (shared, noisy) machine.
"""

from __future__ import annotations

import time

import torch

from lsgan_theory import losses as L


def interleaved(fns, repeat: int = 15, number: int = 5) -> list[float]:
    """Best-of-``repeat`` time per call of each fn, the fns timed in alternation so that load bursts hit all."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            best[i] = min(best[i], (time.perf_counter() - t0) / number)
    return best


def main() -> None:
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32, CPU")
    print(f"{'E':>4} {'n=m':>5} | {'gls (validated)':>16} {'gls inline':>11} {'ratio':>6} | "
          f"{'S all-pairs':>12} {'S one-to-one':>13} {'ratio':>6}")
    for E, n in ((1, 64), (16, 64), (64, 128)):
        lr, lf = torch.randn(E, n), torch.randn(E, n)
        margin = torch.rand(E, n, n)
        nu, lam = torch.rand(E) * 2 - 1, torch.rand(E) + 0.5

        def inline():
            a = margin + lr[..., :, None] - lf[..., None, :]
            return torch.where(a > 0, a, nu[:, None, None] * a).mean((-2, -1))

        t_val, t_inl, t_all, t_one = interleaved([
            lambda: L.glsgan_objective(lr, lf, margin, nu), inline,
            lambda: L.loss_sensitive_objective(lr, lf, margin, lam),
            lambda: L.loss_sensitive_objective(lr, lf, margin, lam, pairing="one_to_one")])
        print(f"{E:>4} {n:>5} | {t_val * 1e6:>13.1f} µs {t_inl * 1e6:>8.1f} µs {t_val / t_inl:>6.2f} | "
              f"{t_all * 1e6:>9.1f} µs {t_one * 1e6:>10.1f} µs {t_all / t_one:>6.1f}")


if __name__ == "__main__":
    main()
