"""Does a loss that can be steeper than the margin bring gradient-trained LS-GANs to a certified equilibrium?
(issue 29, step 5, the second route)

The measured degenerate regime (THEORY.md §5): with L = softplus(a) under spectral normalisation the trained loss ends
flatter than the margin (Lip(L̂)/τ ≪ 1), the hinge never clips and the critic gap stays large.  Here the same
gradient-trained LS-GAN (:func:`lsgan_theory.studies.theorem1.certified_lambda_sweep`: width 32, lr 1e-3, batch 64,
fresh data, τ = 0.1, 2000 steps) is run with three loss parameterisations -- softplus under spectral normalisation
(the λ sweep's), |a| under spectral normalisation (L = 0 reachable at a = 0 without saturating), and |a| without
spectral normalisation (L may be steeper than the margin; the LP's class is then κ = max(Lip(L̂), τ)/τ measured) --
on the five targets × λ ∈ {1, 10, 100} × 2 seeds, and the equilibrium certificates (128 cells) are read.  Writes
``steeper_loss/steeper_loss_runs.csv`` and ``steeper_loss/steeper_loss_summary.md`` beside this script.

    OMP_NUM_THREADS=1 python experiments/theorem1/steeper_loss.py
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import numpy as np

TARGETS = ("normal(0,1)", "mixture(normal(-2,0.5),normal(2,0.5);0.5,0.5)", "beta(2,2)", "triangular(-1,0,1)",
           "uniform(-1,1)")
LAMS = (1.0, 10.0, 100.0)
VARIANTS = (("softplus, spectral norm", dict(loss_output="softplus", spectral_norm=True)),
            ("|a|, spectral norm", dict(loss_output="abs", spectral_norm=True)),
            ("|a|, no spectral norm", dict(loss_output="abs", spectral_norm=False)))


def main() -> int:
    import pandas as pd

    from lsgan_theory.studies.theorem1 import certified_lambda_sweep

    dest = Path(__file__).resolve().parent / "steeper_loss"
    dest.mkdir(exist_ok=True)
    t0, started = time.time(), time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    rows = []
    for name, opts in VARIANTS:
        for target in TARGETS:
            r = certified_lambda_sweep(target, lams=LAMS, seeds=2, budgets=(2000,), width=32, lr=1e-3, nodes=128,
                                       **opts)
            for i, lam in enumerate(r.lams):
                for s in range(2):
                    c = r.certificates[-1][i][s]
                    row = {"variant": name, "target": target, "lam": float(lam), "seed": s,
                           "l1_exact": float(r.l1[-1, i, s])}
                    if c is not None:
                        row.update({k: v for k, v in c.as_dict().items() if k not in ("lam", "tau")})
                    rows.append(row)
            print(f"{name} {target}: {r.seconds:.1f} s", flush=True)
    seconds = time.time() - t0
    df = pd.DataFrame(rows)
    df.to_csv(dest / "steeper_loss_runs.csv", index=False)
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                         cwd=Path(__file__).parent).stdout.strip()
    out = [f"# Loss parameterisation vs the equilibrium certificates (2000 steps, 2 seeds; wall {seconds:.0f} s, "
           f"started {started}, git {git})", "",
           "Medians over the 5 targets × 2 seeds per λ (128 cells); certified = pairs certified of 10.", "",
           "| loss | λ | ∫\\|p − q̂\\| | critic gap | generator gap vs L̂ | vs LP critic | ε (LP pair) | Lip(L̂)/τ | "
           "clipping | κ | certified |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for (name, lam), g in df.groupby(["variant", "lam"], sort=False):
        out.append(f"| {name.replace('|', chr(92) + '|')} | {lam:g} | {g['l1_exact'].median():.3f} | {g['critic_gap'].median():.3g} | "
                   f"{g['gen_gap'].median():.3g} | {g['gen_gap_lp'].median():.3g} | {g['eps_gen_lp'].median():.2g} | "
                   f"{g['lip_ratio'].median():.3g} | {g['clip_fraction'].median():.3g} | {g['kappa'].median():.3g} | "
                   f"{int(g['certified'].sum())}/{len(g)} |")
    out += ["", f"Certified pairs in all: {int(df['certified'].sum())} of {len(df)}; largest Lip(L̂)/τ: "
            f"{df['lip_ratio'].max():.3g}; largest clipping fraction: {df['clip_fraction'].max():.3g}.", ""]
    (dest / "steeper_loss_summary.md").write_text("\n".join(out))
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
