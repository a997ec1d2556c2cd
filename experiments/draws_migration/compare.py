"""The committed experiments retrained with the engine's step draws, compared cell by cell with their runs under the
earlier counter-based draws (issue 28: "results of existing sweeps unchanged or migrated").

    python experiments/draws_migration/compare.py            # writes experiments/draws_migration/comparison.md
    python experiments/draws_migration/compare.py --check    # exit 1 when comparison.md is not this output

A run id names a configuration, not its draws: a retrained experiment has the same cells (configurations) and seeds,
and each seed's numbers are new draws of the same distribution -- if the engine change kept what it promised.  A seed
keeps its initialisation and, where the data set is fixed, its data (keyed draws, unchanged); only the per-step draws
are new.  So a seed's old and new runs are a pair (the median within-cell correlation of old and new is printed per
experiment), and under "same distribution" the difference new − old of a seed has mean 0 given its initialisation.
This script tests that, per experiment and per cell (one configuration, its seeds): the paired t-test of new − old
over the seeds (``scipy.stats.ttest_rel``; differences within ``ROUNDING`` are 0), Holm-adjusted over the cells of
the experiment (``lsgan_theory.studies.multitest.holm``), "differs" when the adjusted p ≤ 0.05; over the tested
cells, the omnibus scores Σz² (χ²_m) and Σz/√m (Stouffer), z the signed normal score of each cell's p.  Cells where
no seed moved, or only one did, are counted apart; a seed finite on one side only is counted, never dropped silently.

**Power.** Beside each experiment: the systematic shift (in standard deviations of a seed's new − old) that the
Stouffer score detects with 80 % power at these cell sizes (:func:`detectable_shift`, simulated from the noncentral
t); ``tests/test_draws_migration.py`` plants shifts in a synthetic retraining and checks they are rejected.  A
sanity check in the same run: every old cell against the new cell one step along the experiment's ordered parameter
(the next λ or data size, the evaluation before the last).  That neighbour has other run ids (other initialisation
and data), so the comparison is effectively unpaired and weak; it rejects only where the statistic moves a lot with
the parameter, and it is not the power evidence.

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
    """Write old/NAME.csv from the files as they were at ``rev``; ``ValueError`` (nothing written) when a file is not
    in that commit of this clone."""
    texts = {}
    for name, spec in SPECS.items():  # read every file first: a bad REV writes nothing
        got = subprocess.run(["git", "show", f"{rev}:{spec[0]}"], cwd=ROOT, capture_output=True, text=True)
        if got.returncode != 0:
            raise ValueError(f"--extract: {spec[0]} is not in commit {rev!r} of this clone "
                             f"({got.stderr.strip().splitlines()[-1] if got.stderr.strip() else 'git show failed'})")
        texts[name] = got.stdout
    (HERE / "old").mkdir(exist_ok=True)
    for name, text in texts.items():
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


#: a seed's |new − old| at or below this is 0: a saturated statistic (∫|p − q̂| = 2 when the supports separate)
#: differs between the two runs only by quadrature rounding (about 1e-14)
ROUNDING = 1e-9


class Paired:
    """The paired t-test of new − old over a cell's seeds (matched by replica): ``difference`` (mean), its 95 %
    interval [``lo``, ``hi``], ``statistic``, two-sided ``pvalue``, ``n`` pairs and ``dropped`` pairs (a side not
    finite: a seed that diverged under one draw scheme only is counted, not hidden); ``corr``: the correlation of old
    and new over the seeds (what pairing gains).  Differences within ``ROUNDING`` are 0.  ``kind``: "tested" (two or
    more seeds differ), "equal" (no seed differs), "few" (one seed differs: t would be ±1 whatever its size, so the
    cell is shown, not tested), "constant" (every seed moved by the same non-zero amount: differs, p = 0)."""

    def __init__(self, old: pd.Series, new: pd.Series):
        from scipy import stats

        a, b = old.align(new, join="inner")
        a, b = a.to_numpy(np.float64), b.to_numpy(np.float64)
        fa, fb = np.isfinite(a), np.isfinite(b)
        self.dropped = int(np.sum(fa != fb))
        a, b = a[fa & fb], b[fa & fb]
        d = np.where(np.abs(b - a) <= ROUNDING, 0.0, b - a)
        self.n, self.difference = d.size, float(d.mean()) if d.size else float("nan")
        self.corr = float(np.corrcoef(a, b)[0, 1]) if d.size > 2 and a.std() > 0 and b.std() > 0 else float("nan")
        moved = int(np.count_nonzero(d))
        self.statistic = self.pvalue = self.lo = self.hi = float("nan")
        if d.size < 2:
            self.kind = "few"
        elif moved == 0:
            self.kind, self.statistic, self.pvalue, self.lo, self.hi = "equal", 0.0, 1.0, 0.0, 0.0
        elif moved == d.size and np.all(d == d[0]):
            self.kind, self.statistic, self.pvalue = "constant", math.copysign(math.inf, d[0]), 0.0
            self.lo = self.hi = float(d[0])
        elif moved < 2:
            self.kind = "few"
        else:
            res = stats.ttest_rel(b, a)
            ci = res.confidence_interval(0.95)
            self.kind, self.statistic, self.pvalue = "tested", float(res.statistic), float(res.pvalue)
            self.lo, self.hi = float(ci.low), float(ci.high)


def test(rows: list, power: bool = True) -> dict:
    """The paired test per cell, Holm over the tested cells, and the omnibus scores (with the detectable shift when
    ``power``)."""
    from lsgan_theory.studies.multitest import holm

    missing = sum(b is None for _, _, b in rows)
    rows = [(c, a, b) for c, a, b in rows if b is not None]
    tests = [Paired(a, b) for _, a, b in rows]
    tested = np.array([t.kind == "tested" for t in tests])
    adj = holm(np.where(tested, [t.pvalue for t in tests], np.nan))
    differs = [(rows[k][0], tests[k], float(adj[k])) for k in np.flatnonzero(tested) if adj[k] <= 0.05]
    differs += [(rows[k][0], t, 0.0) for k, t in enumerate(tests) if t.kind == "constant"]
    corr = [t.corr for t in tests if math.isfinite(t.corr)]
    return dict(cells=len(rows), missing=missing, tested=int(tested.sum()),
                flat=sum(t.kind == "equal" for t in tests), few=sum(t.kind == "few" for t in tests),
                dropped=sum(t.dropped for t in tests), differs=differs,
                corr=float(np.median(corr)) if corr else float("nan"),
                min_p=float(np.nanmin(adj)) if tested.any() else float("nan"),
                **omnibus([tests[k] for k in np.flatnonzero(tested)], power))


def _z(t, p):
    """The signed normal score of a two-sided p-value: sign(t)·Φ⁻¹(1 − p/2)."""
    from scipy import stats

    return np.sign(t) * stats.norm.isf(np.maximum(p, 1e-300) / 2)


def detectable_shift(ns, power: float = 0.8, alpha: float = 0.05, sims: int = 4000) -> float:
    """The shift δ, in standard deviations of a seed's new − old (the same δ in every cell), that the Stouffer test
    Σz/√m over cells of ``ns`` pairs each detects with probability ``power`` at level ``alpha``.  Simulated, because
    a t-statistic's p turned into a normal score shrinks it at small n: t_i = (Z + δ√n_i)/√(V/(n_i − 1)), Z normal,
    V chi-squared -- the noncentral t of the paired test --, the same draws for every δ (seeded, so the number is
    reproducible), and δ found by bisection."""
    from scipy import stats

    ns = np.asarray(ns, dtype=np.float64)
    rng = np.random.default_rng(20261207)
    zn = rng.standard_normal((sims, ns.size))
    v = rng.chisquare(ns - 1, size=(sims, ns.size))
    crit = stats.norm.isf(alpha / 2)

    def power_at(delta):
        t = (zn + delta * np.sqrt(ns)) / np.sqrt(v / (ns - 1))
        z = _z(t, 2 * stats.t.sf(np.abs(t), ns - 1))
        return float(np.mean(np.abs(z.sum(axis=1)) / np.sqrt(ns.size) > crit))

    lo, hi = 0.0, 4.0
    for _ in range(16):  # δ to 4/2¹⁶
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if power_at(mid) < power else (lo, mid)
    return hi


def omnibus(tests: list, power: bool = True) -> dict:
    """Over the m tested cells (independent of each other: each cell's runs have their own ids and draws): each
    paired test as a signed normal score z; Σ z² ~ χ²_m (shifts of either sign, cell by cell) and Σ z / √m ~ N(0, 1)
    (one systematic shift); their p-values, and the systematic shift the second detects with 80 % power."""
    from scipy import stats

    if not tests:
        return dict(chi2_p=float("nan"), stouffer_p=float("nan"), mds=float("nan"))
    z = np.array([_z(t.statistic, t.pvalue) for t in tests])
    return dict(chi2_p=float(stats.chi2.sf(float(z @ z), z.size)),
                stouffer_p=float(2 * stats.norm.sf(abs(z.sum()) / np.sqrt(z.size))),
                mds=detectable_shift([t.n for t in tests]) if power else float("nan"))


def _fmt_cell(name: str, c: tuple) -> str:
    return ", ".join(f"{k} = {v}" for k, v in zip(SPECS[name][1], c))


def report() -> str:
    lines = ["# Old draws against new: the committed experiments retrained with the engine's step draws", "",
             "Written by `python experiments/draws_migration/compare.py` (the method is in its docstring): per",
             "experiment, each cell's per-seed statistic under the earlier counter-based draws (`old/`, extracted",
             f"from commit {OLD_REV}) against the retrained run committed now, seed by seed (a seed keeps its",
             "initialisation and data: only the per-step draws are new): the paired t-test of new − old, Holm over",
             "the tested cells, \"differs\" at adjusted p ≤ 0.05; over the tested cells Σz² (χ²_m: shifts of either",
             "sign) and Σz/√m (one systematic shift), z the signed normal score of each cell's p; the systematic",
             "shift (in standard deviations of a seed's new − old) that Σz/√m detects with 80 % power (simulated,",
             "noncentral t). Sanity check, not the power evidence: the old cells against the new cell one step along",
             "the ordered parameter (other run ids, so effectively unpaired).", "",
             "| experiment | statistic | cells | tested | no seed moved | one seed moved (shown, not tested) "
             "| non-finite on one side | old–new correlation (median in a cell) | differ (Holm ≤ 0.05) "
             "| smallest Holm p | Σz² p | Σz/√m p | shift Σz/√m detects (80 %) | neighbour: tested | neighbour: differ "
             "| neighbour: Σz² p | neighbour: Σz/√m p |",
             "|" + "---|" * 17]
    details = []
    for name, spec in SPECS.items():
        old = pd.read_csv(HERE / "old" / f"{name}.csv")
        new = load(name)
        res, ctl = test(pairs(name, old, new, False)), test(pairs(name, old, new, True), power=False)
        if res["missing"]:
            raise SystemExit(f"{name}: {res['missing']} old cells have no new counterpart (configurations changed)")
        lines.append(f"| {name} | {spec[2]} | {res['cells']} | {res['tested']} | {res['flat']} | {res['few']} | "
                     f"{res['dropped']} | {res['corr']:.2f} | {len(res['differs'])} | {res['min_p']:.3g} | "
                     f"{res['chi2_p']:.3g} | {res['stouffer_p']:.3g} | {res['mds']:.2f} SD | {ctl['tested']} | "
                     f"{len(ctl['differs'])} | {ctl['chi2_p']:.3g} | {ctl['stouffer_p']:.3g} |")
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
        try:
            extract(args.extract)
        except ValueError as e:
            print(f"compare.py: {e}", file=sys.stderr)
            return 2
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
