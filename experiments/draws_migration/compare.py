"""The committed experiments retrained with the engine's step draws, compared cell by cell with their runs under the
earlier counter-based draws (issue 28: "results of existing sweeps unchanged or migrated").

    python experiments/draws_migration/compare.py            # writes experiments/draws_migration/comparison.md
    python experiments/draws_migration/compare.py --check    # exit 1 when comparison.md is not this output

A run id names a configuration, not its draws: a retrained experiment has the same cells (configurations) and seeds,
and each seed's numbers are new draws of the same distribution -- if the engine change kept what it promised.  A seed
keeps its initialisation and, where the data set is fixed, its data (keyed draws, unchanged); only the per-step draws
are new.  So a seed's old and new runs are a pair (their statistics correlate: 0.97 over the λ sweep's 700 runs), and
under "same distribution" the difference new − old of a seed has mean 0 given its initialisation.  This script tests
that, per experiment and per cell (one configuration, its seeds): the paired t-test of new − old over the seeds
(``scipy.stats.ttest_rel``), Holm-adjusted over the cells of the experiment
(``lsgan_theory.studies.multitest.holm``), "differs" when the adjusted p ≤ 0.05.  A cell whose seeds all give the
same difference (every seed at 0 modes, say) is counted apart: equal when that difference is 0, differing otherwise.

**Power, in the same run.** Each experiment is also compared with a nearby wrong answer: every old cell against the
new cell one step along the experiment's ordered parameter (the next λ, the next data size, the evaluation before the
last), with the same test and correction.  Where the statistic moves along that parameter the control must show it;
the number of control cells that differ is printed beside the migration's.

The old per-seed values are in ``old/`` beside this script, extracted once from the last commit that carried the
earlier runs (``--extract REV``); the new ones are read from the committed experiment folders.
"""

from __future__ import annotations

import argparse
import io
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OLD_REV = "afbf9f3"

# name: (file, cell keys, statistic, ordered parameter, label)
SPECS = {
    "theorem1": ("experiments/theorem1/theorem1_runs.csv", ["target", "n_data", "lam"], "l1_exact", "lam",
                 "λ sweep (Theorem 1): exact ∫|p − q̂| per run, 5 targets × 2 regimes × 7 λ, 10 seeds"),
    "mao_ring_hour": ("experiments/mode_collapse/mao_ring_hour/metrics.csv", ["loss"], "modes", "step",
                      "Mao's ring, hour variant: modes covered at the last step, 8 losses, 10 seeds"),
    "mao_ring_hour_hq": ("experiments/mode_collapse/mao_ring_hour/metrics.csv", ["loss"], "high_quality", "step",
                         "Mao's ring, hour variant: high-quality fraction at the last step"),
    "stability_hour": ("experiments/mode_collapse/stability_hour/metrics.csv", ["optimizer", "d_batchnorm", "loss"],
                       "modes", "step", "stability, hour variant: modes covered at the last step, 8 cells, 10 seeds"),
    "critic_generalisation": ("experiments/sample_complexity/critic_generalisation/results.csv",
                              ["d_hidden", "n_data"], "abs_gap", "n_data",
                              "critic generalisation: |S_m − S| per run, 3 widths × 8 sizes, 10 seeds"),
    "data_generalisation": ("experiments/sample_complexity/data_generalisation/results.csv", ["target", "n_data"],
                            "w1_exact", "n_data", "data generalisation: exact W1(p, q̂), 2 targets × 6 sizes, 10 seeds"),
    "gls_nu": ("experiments/sample_complexity/gls_nu/results.csv",
               ["target", "family", "nu", "spectral_norm", "lam"], "l1_exact", "nu",
               "GLS-GAN family: exact ∫|p − q̂|, 4 targets × 7 objectives × 2 (SN), 5 seeds"),
    "mixture_2d": ("experiments/sample_complexity/mixture_2d/results.csv", ["lam", "n_data"], "w1", "lam",
                   "2-D mixture: W1 of 1000 samples, 4 λ × 4 sizes, 4 seeds"),
}
MODE_FILES = {"mao_ring_hour", "mao_ring_hour_hq", "stability_hour"}


def _columns(name: str) -> list[str]:
    _, key, stat, order, _ = SPECS[name]
    cols = list(dict.fromkeys(key + [order, stat, "replica"]))
    return cols


def load(name: str, text: str | None = None) -> pd.DataFrame:
    """The per-seed rows of ``name`` with its keys, ordered parameter, statistic and replica: from ``text`` (a CSV's
    contents) or the committed file; finished runs only."""
    path = ROOT / SPECS[name][0]
    df = pd.read_csv(io.StringIO(text) if text is not None else path)
    if "status" in df.columns:
        df = df[df["status"] == "done"]
    return df[_columns(name)].reset_index(drop=True)


def extract(rev: str) -> None:
    """Write old/NAME.csv from the files as they were at ``rev``."""
    (HERE / "old").mkdir(exist_ok=True)
    for name, spec in SPECS.items():
        text = subprocess.run(["git", "show", f"{rev}:{spec[0]}"], cwd=ROOT, check=True, capture_output=True,
                              text=True).stdout
        load(name, text).to_csv(HERE / "old" / f"{name}.csv", index=False)


def _cells(df: pd.DataFrame, key: list[str], stat: str) -> dict:
    """{cell: per-seed values}; a missing key value (ν of a non-GLS objective) is the cell value "—"."""
    df = df.assign(**{k: df[k].astype(object).where(df[k].notna(), "—") for k in key})
    return {k if isinstance(k, tuple) else (k,): g.set_index("replica")[stat].astype(np.float64)
            for k, g in df.groupby(key, dropna=False, sort=True)}


def pairs(name: str, old: pd.DataFrame, new: pd.DataFrame, control: bool) -> list:
    """[(cell, old values, new values)]: the same cell on both sides, or (``control``) the old cell against the new
    cell one step along the ordered parameter (the next value, or the previous one at the last)."""
    _, key, stat, order, _ = SPECS[name]
    if name in MODE_FILES:  # the last evaluation; the control: the evaluation before it
        steps = sorted(new["step"].unique())
        old = old[old["step"] == old["step"].max()]
        new = new[new["step"] == (steps[-2] if control else steps[-1])]
        return [(c, a, _cells(new, key, stat).get(c)) for c, a in _cells(old, key, stat).items()]
    a_cells, b_cells = _cells(old, key, stat), _cells(new, key, stat)
    if not control:
        return [(c, a, b_cells.get(c)) for c, a in a_cells.items()]
    i = key.index(order)
    out = []
    for c, a in a_cells.items():
        vals = sorted({k[i] for k in b_cells if k[:i] + k[i + 1:] == c[:i] + c[i + 1:] and k[i] != "—"})
        if c[i] == "—" or len(vals) < 2 or c[i] not in vals:  # no ordered neighbour (ν of a non-GLS objective)
            continue
        j = vals.index(c[i])
        nb = vals[j + 1] if j + 1 < len(vals) else vals[j - 1]
        out.append((c, a, b_cells.get(c[:i] + (nb,) + c[i + 1:])))
    return out


class Paired:
    """The paired t-test of new − old over a cell's seeds (matched by replica): ``difference`` (mean), its 95 %
    interval [``lo``, ``hi``], ``statistic``, two-sided ``pvalue`` and ``n`` pairs; ``flat`` when every pair has the
    same difference (no spread: p = 1 if it is 0, else p = 0)."""

    def __init__(self, old: pd.Series, new: pd.Series):
        from scipy import stats

        a, b = old.align(new, join="inner")
        ok = np.isfinite(a.to_numpy()) & np.isfinite(b.to_numpy())
        a, b = a.to_numpy()[ok], b.to_numpy()[ok]
        d = b - a
        self.n, self.difference = d.size, float(d.mean()) if d.size else float("nan")
        self.flat = d.size >= 2 and bool(np.all(d == d[0]))
        if d.size < 2:
            self.statistic = self.pvalue = self.lo = self.hi = float("nan")
        elif self.flat:
            self.statistic = 0.0 if d[0] == 0 else math.copysign(math.inf, d[0])
            self.pvalue, self.lo, self.hi = (1.0 if d[0] == 0 else 0.0), float(d[0]), float(d[0])
        else:
            res = stats.ttest_rel(b, a)
            ci = res.confidence_interval(0.95)
            self.statistic, self.pvalue = float(res.statistic), float(res.pvalue)
            self.lo, self.hi = float(ci.low), float(ci.high)


def test(rows: list) -> dict:
    """The paired test per cell, Holm over the cells with spread, and the omnibus scores."""
    from lsgan_theory.studies.multitest import holm

    missing = sum(b is None for _, _, b in rows)
    rows = [(c, a, b) for c, a, b in rows if b is not None]
    tests = [Paired(a, b) for _, a, b in rows]
    spread = np.array([not t.flat and math.isfinite(t.pvalue) for t in tests])
    adj = holm(np.where(spread, [t.pvalue for t in tests], np.nan))
    differs = [(rows[k][0], tests[k], float(adj[k])) for k in np.flatnonzero(spread) if adj[k] <= 0.05]
    differs += [(rows[k][0], t, 0.0) for k, t in enumerate(tests) if t.flat and t.pvalue == 0.0]
    return dict(cells=len(rows), missing=missing, tested=int(spread.sum()),
                flat=sum(t.flat and t.pvalue == 1.0 for t in tests), differs=differs,
                min_p=float(np.nanmin(adj)) if spread.any() else float("nan"),
                **omnibus([tests[k] for k in np.flatnonzero(spread)]))


def omnibus(tests: list) -> dict:
    """Over the m cells with spread (independent of each other): each paired test as a signed normal score
    z = sign(t)·Φ⁻¹(1 − p/2); Σ z² ~ χ²_m (any shift, either sign, cell by cell) and Σ z / √m ~ N(0, 1) (one
    systematic shift); their p-values."""
    from scipy import stats

    if not tests:
        return dict(chi2_p=float("nan"), stouffer_p=float("nan"), mds=float("nan"))
    z = np.array([np.sign(t.statistic) * stats.norm.isf(max(t.pvalue, 1e-300) / 2) for t in tests])
    # the systematic shift, in units of the standard deviation of a seed's new − old, that Σz/√m detects with 80 %
    # power at 5 %: a shift δ makes each z ≈ δ √n, so Σz/√m ≈ √m δ / √(mean(1/n))
    inv = float(np.mean([1 / t.n for t in tests]))
    mds = (stats.norm.isf(0.025) + stats.norm.isf(0.2)) * np.sqrt(inv / z.size)
    return dict(chi2_p=float(stats.chi2.sf(float(z @ z), z.size)),
                stouffer_p=float(2 * stats.norm.sf(abs(z.sum()) / np.sqrt(z.size))), mds=float(mds))


def _fmt_cell(name: str, c: tuple) -> str:
    return ", ".join(f"{k} = {v}" for k, v in zip(SPECS[name][1], c))


def report() -> str:
    lines = ["# Old draws against new: the committed experiments retrained with the engine's step draws", "",
             "Written by `python experiments/draws_migration/compare.py` (the method is in its docstring): per",
             "experiment, each cell's per-seed statistic under the earlier counter-based draws (`old/`, extracted",
             f"from commit {OLD_REV}) against the retrained run committed now, seed by seed (a seed keeps its",
             "initialisation and data: only the per-step draws are new); the paired t-test of new − old, Holm over the cells",
             "with spread, \"differs\" at adjusted p ≤ 0.05; over all tested cells, Σz² (χ²_m: shifts of either",
             "sign) and Σz/√m (one systematic shift), z the signed normal score of each cell's paired p, with the",
             "systematic shift (in standard deviations of a seed's new − old) that Σz/√m detects with 80 % power. Control: the same old cells against the new cell one",
             "step along the ordered parameter (a nearby wrong answer the test should reject where the statistic",
             "moves with that parameter).", "",
             "| experiment | statistic | cells | tested (spread) | every seed equal | differ (Holm ≤ 0.05) "
             "| smallest Holm p | Σz² p | Σz/√m p | shift Σz/√m detects (80 %) | control: tested | control: differ | control: Σz² p "
             "| control: Σz/√m p |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    details = []
    for name, spec in SPECS.items():
        old = pd.read_csv(HERE / "old" / f"{name}.csv")
        new = load(name)
        res, ctl = test(pairs(name, old, new, False)), test(pairs(name, old, new, True))
        if res["missing"]:
            raise SystemExit(f"{name}: {res['missing']} old cells have no new counterpart (configurations changed)")
        lines.append(f"| {name} | {spec[2]} | {res['cells']} | {res['tested']} | {res['flat']} | "
                     f"{len(res['differs'])} | {res['min_p']:.3g} | {res['chi2_p']:.3g} | {res['stouffer_p']:.3g} | "
                     f"{res['mds']:.2f} SD | {ctl['tested']} | {len(ctl['differs'])} | {ctl['chi2_p']:.3g} | {ctl['stouffer_p']:.3g} |")
        for c, t, q in res["differs"]:
            details.append(f"- {name}: {_fmt_cell(name, c)}: new − old = {t.difference:+.4g} "
                           f"[{t.lo:+.4g}, {t.hi:+.4g}] (95 %, {t.n} seeds), paired t = {t.statistic:.2f}, "
                           f"Holm p = {q:.3g}")
    lines += ["", "Experiments: " + "; ".join(f"`{n}`: {s[4]}" for n, s in SPECS.items()) + ".", ""]
    lines += ["## Cells that differ", ""] + (details or ["None."]) + [""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--extract", metavar="REV", help="write old/ from the committed files at REV (done once)")
    ap.add_argument("--check", action="store_true", help="exit 1 when comparison.md differs from this output")
    args = ap.parse_args(argv)
    if args.extract:
        extract(args.extract)
        return 0
    text = report()
    dest = HERE / "comparison.md"
    if args.check:
        same = dest.exists() and dest.read_text() == text
        print("comparison.md is current" if same else "comparison.md differs from the script's output")
        return 0 if same else 1
    dest.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
