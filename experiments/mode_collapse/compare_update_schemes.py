"""Mao's ring at Mao's size: simultaneous against alternating updates, per loss, from the two committed runs.

Reads ``mao_ring_mao/metrics.csv`` (simultaneous, every loss) and ``mao_ring_mao_alternating/metrics.csv``
(alternating, the losses it trained) and writes ``mao_ring_mao_alternating/schemes.md``: for every loss in both, at
the last evaluation step, the per-seed values and means of the modes covered (≥ 1 sample, PacGAN's count; ≥ 20
samples), the high-quality fraction, and the difference alternating − simultaneous with a Welch interval at the
Bonferroni level 1 − 0.05/m (m = the losses × metrics compared that have spread; simultaneous coverage) and the
Welch p-value Holm-adjusted over the same m (``lsgan_theory.studies.multitest.holm``), which decides "differs".
A metric with no spread on either side (e.g. 0 modes in every seed) has no Welch statistic: it is shown, not
decided.  A frozen (diverged) seed's NaN is left out and counted.  With 3 seeds a side, only large differences are resolved.
Usage (from the repository root)::

    python experiments/mode_collapse/compare_update_schemes.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from lsgan_theory.output import write_text
from lsgan_theory.studies.multitest import holm

HERE = Path(__file__).resolve().parent
SIM, ALT = HERE / "mao_ring_mao", HERE / "mao_ring_mao_alternating"
METRICS = {"modes": "modes (≥ 1 sample)", "modes_20": "modes (≥ 20 samples)", "high_quality": "high quality"}
LABELS = {"gan": "GAN (minimax)", "gan_ns": "GAN (non-saturating)", "ls_m110": "least squares (−1, 1, 0)",
          "ls_011": "least squares (0, 1, 1)", "loss_sensitive": "LS-GAN (loss-sensitive)", "glsgan": "GLS-GAN",
          "wgan_gp": "WGAN-GP", "hinge": "hinge"}


def welch(a: np.ndarray, b: np.ndarray, level: float) -> tuple[float, float, float, float]:
    """Mean difference b − a, its Welch interval at ``level`` and the two-sided Welch p-value (scipy's
    ``ttest_ind(equal_var=False)``).  Both samples constant: no spread to scale by, the interval is the point and p
    is 1 when the means agree, else 0."""
    d = float(b.mean() - a.mean())
    if a.var() == 0 and b.var() == 0:
        return d, d, d, 1.0 if d == 0 else 0.0
    res = stats.ttest_ind(b, a, equal_var=False)
    ci = res.confidence_interval(level)
    return d, float(ci.low), float(ci.high), float(res.pvalue)


def compare(pairs) -> tuple[int, float, list[str]]:
    """The comparison rows of ``pairs`` = ``[(cells, a, b), ...]`` (``cells``: the row's leading Markdown cells; a, b:
    the per-seed values of the two sides): per row the finite values of each side and their means, b − a with its
    Welch interval at the Bonferroni level 1 − 0.05/m and the Welch p-value Holm-adjusted over the m rows with spread
    ("differs" when ≤ 0.05); a row with no spread on either side is shown, not decided; non-finite values (a frozen
    seed, a reverse KL without a high-quality sample) are left out and counted.  Returns (m, level, rows)."""
    rows = []
    for cells, a, b in pairs:
        fa, fb = a[np.isfinite(a)], b[np.isfinite(b)]
        rows.append(dict(cells=cells, a=fa, b=fb, left=len(a) + len(b) - len(fa) - len(fb),
                         spread=len(fa) > 1 and len(fb) > 1 and (fa.var() > 0 or fb.var() > 0)))
    tested = [r for r in rows if r["spread"]]
    m = max(1, len(tested))
    level = 1 - 0.05 / m
    for r, q in zip(tested, holm([welch(r["a"], r["b"], level)[3] for r in tested])):
        r["p_holm"] = float(q)
    out = []
    for r in rows:
        d, lo, hi, _ = welch(r["a"], r["b"], level)
        if r["spread"]:
            diff, p = f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}]", f"{r['p_holm']:.3g}"
            verdict = "yes" if r["p_holm"] <= 0.05 else "no"
        else:
            diff, p, verdict = f"{d:+.3f} (no spread)", "—", "not decided (no spread on either side)"
        left = f" ({r['left']} seed value(s) not finite, left out)" if r["left"] else ""
        a_seeds, b_seeds = (", ".join(f"{v:.3g}" for v in r[k]) for k in ("a", "b"))
        out.append(f"| {' | '.join(r['cells'])}{left} | {a_seeds} | {r['a'].mean():.3f} | {b_seeds} | "
                   f"{r['b'].mean():.3f} | {diff} | {p} | {verdict} |")
    return m, level, out


def main() -> None:
    sim, alt = pd.read_csv(SIM / "metrics.csv"), pd.read_csv(ALT / "metrics.csv")
    last = int(sim["step"].max())
    if int(alt["step"].max()) != last:
        raise SystemExit(f"the runs end at different steps ({last}, {int(alt['step'].max())})")
    pairs = []
    for loss in [x for x in alt["loss"].unique() if x in set(sim["loss"])]:
        for metric, label in METRICS.items():
            a, b = (df[(df.loss == loss) & (df.step == last)].sort_values("replica")[metric].to_numpy(float)
                    for df in (sim, alt))
            if len(a) != len(b):
                raise SystemExit(f"{loss}: {len(a)} simultaneous seeds against {len(b)} alternating")
            pairs.append(([LABELS.get(loss, loss), label], a, b))
    m, level, rows = compare(pairs)
    lines = ["# Mao's ring at Mao's size: simultaneous vs alternating updates", "",
             f"Generated by `experiments/mode_collapse/compare_update_schemes.py` from `mao_ring_mao/metrics.csv` "
             f"(simultaneous) and `mao_ring_mao_alternating/metrics.csv` (alternating), at step {last}. Per-seed "
             f"values in replica order; difference = alternating − simultaneous with its Welch interval at the "
             f"Bonferroni level {level:.4f} (m = {m}: the comparisons with spread); \"differs\" when the Welch "
             f"p-value, Holm-adjusted over the same {m}, is ≤ 0.05. Different schemes give different model ids, "
             f"so the seeds are independent, not paired.", "",
             "| loss | metric | simultaneous (per seed) | mean | alternating (per seed) | mean | difference "
             "[Bonferroni interval] | Holm-adjusted p | differs |", "|---|---|---|---|---|---|---|---|---|", *rows]
    write_text(ALT / "schemes.md", "\n".join(lines) + "\n", what="schemes.md")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
