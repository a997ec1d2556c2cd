"""Mode collapse (THEORY.md §9, issue 17): the tables and figures of an experiment, and two claims.

:func:`modes_report` turns a :class:`lsgan_theory.studies.modes.ModesResult` into tidy CSV files, Markdown tables
(each row next to PacGAN Table 1's GAN row; Mao's "collapse from about step 15k" read off the trajectories; the
stability table when the grid varies the optimiser and batch normalisation) and figures (sample snapshots per loss,
metrics over training).  Every sentence about agreement is computed from the measured numbers.

Claims (quick variants of ``experiments/mode_collapse/mao_ring.toml`` and ``pacgan.toml``):

* ``modes-mao-ring``: least squares (−1, 1, 0) covers at least as many ring modes as the non-saturating GAN;
* ``modes-pacgan-packing``: packing k = 2 covers at least as many grid modes as k = 1 for the GAN.

Both read the 95 % Welch interval [lo, hi] of the difference of mean modes covered over independent seeds:
hi < 0 (the claim's side significantly worse) fails; lo > 0 rejects the alternative "no difference" and passes;
an interval straddling 0 is inconclusive. Both are about generators that have learnt the modes: unless at least one
compared generator has a high-quality fraction ≥ ``TRAINED_HQ`` (0.5), the verdict is *hypothesis not met*
(:func:`trained_hypothesis`), whatever the interval.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from pathlib import Path

import numpy as np

from ..claims import Check, Context, Evidence, claim, interval_relation
from ..output import write_json, write_text
from ..studies.stats import welch_test

__all__ = ["modes_report", "difference_check", "published_comparison", "mao_collapse_text", "size_to_decide_text",
           "decided_reading_text", "trained_hypothesis", "TRAINED_HQ"]

# shipped in the package (package data) so `verify` works from an installed wheel; experiments/mode_collapse/*.toml
# in the repository are links to these files
_EXPERIMENTS = Path(__file__).resolve().parents[1] / "specs" / "mode_collapse"


# ---------------------------------------------------------------------------------------------------- statistics
def difference_check(name: str, lo: float, hi: float, n_a: int, n_b: int, what: str) -> Check:
    """The terms of "A ≥ B" from the interval [lo, hi] of mean(A) − mean(B) (see the module docstring)."""
    stat = max(-hi, 0.0) if not math.isnan(hi) else math.nan
    alt = max(lo, 0.0) if not math.isnan(lo) else math.nan
    basis = (f"tolerance 0: the 95 % Welch interval of the difference of mean {what} over independent seeds "
             f"({n_a} vs {n_b}; randomness: initialisation, data set, noise) must not lie wholly below 0; the "
             f"claim's only test, so no multiple-comparison correction applies (a claim with several tests "
             f"Holm-adjusts them: lsgan_theory.studies.multitest)")
    return Check(name, stat, 0.0, basis, "no difference (rejected when the lower end > 0)", alt,
                 shown=f"mean {what} difference {interval_relation(lo, hi, 0.0)}")


def size_to_decide_text(a, b, names: tuple[str, str], check: Check, hq: tuple[float, float], steps: int,
                        n_modes: int, where: str = "") -> str:
    """For an undecided difference check of mean modes (A − B): why it is undecided, from the measured numbers
    (the high-quality fractions at the end, the seeds' spread), and the seeds per setting that would put the 95 %
    Welch interval wholly on the side of the measured difference with 80 % power if the difference and the SDs were
    the measured ones (:func:`lsgan_theory.studies.stats.seeds_for_power` with sd = √(s_A² + s_B²): seeds per
    setting).  Empty when the check decided."""
    from ..studies.stats import seeds_for_power

    if check.status != "inconclusive":
        return ""
    a, b = np.asarray(a, float), np.asarray(b, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    d = float(a.mean() - b.mean()) if a.size and b.size else math.nan
    sa = float(a.std(ddof=1)) if a.size >= 2 else math.nan
    sb = float(b.std(ddof=1)) if b.size >= 2 else math.nan
    sd = math.sqrt(sa ** 2 + sb ** 2) if math.isfinite(sa) and math.isfinite(sb) else math.nan
    if math.isfinite(d) and d != 0 and sd > 0:
        n = seeds_for_power(d, sd)
        side = "above" if d > 0 else "below"
        verdict = "pass" if d > 0 else "fail"
        size = (f"{n} seeds per setting (now {a.size} and {b.size}) would put the 95 % interval wholly {side} 0 "
                f"with 80 % power if the difference were the measured {d:+.2f} and the SDs the measured {sa:.2f} "
                f"and {sb:.2f}, at this same budget (the claim would then {verdict} at this budget)"
                if n != math.inf else "no number of seeds at this budget")
    else:
        size = (f"no number of seeds at this budget: the measured difference is {d:+.2f} with SDs {sa:.2f} and "
                f"{sb:.2f} (no measured effect to power a test on)")
    hq_txt = (f"the fraction of high-quality samples (within 3σ of a mode) at the end is {hq[0]:.3f} ({names[0]}) "
              f"and {hq[1]:.3f} ({names[1]})")
    if not np.nanmax(hq) >= TRAINED_HQ:  # the comparison's hypothesis is not met: no number of seeds decides it
        return (f"*Hypothesis not met at this size.* At {steps} steps most samples lie away from every mode: "
                f"{hq_txt}, so the one-sample count of the {n_modes} modes measures how far the few near-mode samples "
                f"spread, not which modes the generators have learnt; more seeds at this budget would not change "
                f"that (the mode counts differ by {d:+.2f}, per-seed SDs {sa:.2f} and {sb:.2f}); a budget at which "
                f"a generator reaches a high-quality fraction of {TRAINED_HQ} would." + (f" {where}" if where else ""))
    why = f"at {steps} steps {hq_txt}; the seeds' spread is large against the difference"
    return (f"*Not decided at this size.* Why: {why}; the mode counts differ by {d:+.2f} between settings with "
            f"per-seed SDs {sa:.2f} and {sb:.2f}. Size that would decide (`lsgan_theory.studies.stats."
            f"seeds_for_power`, noncentral t, from this run's own spread): {size}." + (f" {where}" if where else ""))


def decided_reading_text(check: Check, hq: tuple[float, float], names: tuple[str, str], steps: int,
                         n_modes: int, where: str = "") -> str:
    """For a *decided* difference check of mean modes at a budget where no generator resolves the modes (both mean
    high-quality fractions ``hq`` below 0.5): what the verdict is about, from the measured numbers -- the one-sample
    count of the ``n_modes`` modes at ``steps`` steps, i.e. how much of the target the samples reach at that budget,
    not modes the generators have learnt.  Empty when the check is undecided (:func:`size_to_decide_text` says why)
    or when the generators do resolve the modes.  ``where``: a sentence appended (a pointer to a larger run)."""
    if check.status not in ("pass", "fail") or np.nanmax(hq) >= TRAINED_HQ:
        return ""
    return (f"*The one-sample counts differ at this size ({check.status} on the statistic alone), but the "
            f"comparison's hypothesis is not met.* At {steps} steps the fraction of high-quality samples "
            f"(within 3σ of a mode) is {hq[0]:.3f} ({names[0]}) and {hq[1]:.3f} ({names[1]}): no generator resolves "
            f"the modes yet, so the verdict compares how many of the {n_modes} modes the samples reach at this "
            f"budget (PacGAN's count), not which modes the generators have learnt; the claim is stated at the "
            f"experiment's training budget, and a larger budget is a different experiment." + (f" {where}" if where else ""))


#: the claims of Mao and PacGAN are about generators that have learnt the target: PacGAN's trained GAN puts 98.2 %
#: of its samples within 3σ of a mode. Below half, no compared generator has found the modes, and a mode count
#: measures how far its samples spread at that budget (issue 32), so the comparison's hypothesis is not met.
TRAINED_HQ = 0.5


def trained_hypothesis(check: Check, hq: tuple[float, float], names: tuple[str, str]) -> Check:
    """``check`` with its hypothesis measured: at least one compared generator has learnt the modes (mean
    high-quality fraction ≥ :data:`TRAINED_HQ`). One trained and one not is a real difference between the losses
    and is decided; neither trained is *hypothesis not met*, with the measured fractions, whatever the statistic."""
    return dataclasses.replace(
        check, hypothesis_met=bool(np.nanmax(hq) >= TRAINED_HQ),
        hypothesis=(f"a generator has learnt the modes: high-quality fraction {hq[0]:.3f} ({names[0]}), {hq[1]:.3f} "
                    f"({names[1]}); needs ≥ {TRAINED_HQ} for at least one (PacGAN's trained GAN: 0.982)"))


# ---------------------------------------------------------------------------------------------------- tables
def _fmt_ci(m, lo, hi, digits=2, bounds=(-math.inf, math.inf)) -> str:
    """``m [lo, hi]``; the interval is clipped to the quantity's possible range ``bounds`` (t-intervals of counts
    near 0 or K reach past it)."""
    if not math.isfinite(m):
        return "—"
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return f"{m:.{digits}f}"
    lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    return f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def _kind(target_spec: str) -> str | None:
    if target_spec.startswith("ring(8,1,0.01)"):
        return "ring"
    if target_spec.startswith("grid(5,2,0.05)"):
        return "grid"
    return None


def published_comparison(summary_row: dict, kind: str, published_setup: bool,
                         difference: str = "scaled-down set-up") -> str:
    """One sentence comparing a measured final row with PacGAN Table 1's GAN row, written from the numbers: the
    measured 95 % interval of modes covered against published mean ± 2 SE -- only for PacGAN's own set-up
    (``published_setup``); otherwise no comparison is made and ``difference`` names how the set-up differs."""
    from ..studies.modes import PUBLISHED

    pub = PUBLISHED[kind]
    m, lo, hi = summary_row["modes"], summary_row["modes_lo"], summary_row["modes_hi"]
    pm, pse = pub["modes"]
    if not math.isfinite(m):
        return "no finished seed"
    if not published_setup:  # issue 32: an "agrees with" across different set-ups compares incomparable numbers
        return f"not compared: {difference}"
    overlap = math.isfinite(lo) and lo <= pm + 2 * pse and hi >= pm - 2 * pse
    rel = "agrees with" if overlap else ("more modes than" if m > pm else "fewer modes than")
    return f"{rel} PacGAN's {pm} ± {pse}"


def _final_rows(summary, steps):
    return [r for r in summary if r["step"] == steps]


def _setting_label(row: dict, grid_keys) -> str:
    return ", ".join(f"{k}={row[k]}" for k in grid_keys) or "—"


# PacGAN's 2-D runs: 400 epochs over 100 000 points at batch 100 (THEORY.md §9)
PACGAN_ITERATIONS = 400_000


def setup_difference(spec) -> str:
    """How a mode-collapse experiment's set-up differs from PacGAN Table 1's (the published row beside it)."""
    if spec.name.startswith("pacgan"):
        if spec.variant in (None, "full"):
            return "PacGAN's set-up"
        epochs = 400 * spec.steps / PACGAN_ITERATIONS
        nets = ("PacGAN's networks" if list(spec.train.get("g_hidden", ())) == [400] * 4
                else "narrower networks than PacGAN's")
        return (f"scaled-down set-up: {spec.steps} steps = {epochs:.3g} of PacGAN's 400 epochs "
                f"({PACGAN_ITERATIONS} iterations at batch 100), {nets}")
    size = "" if spec.variant in (None, "full", "mao") else ", scaled down"
    return (f"Mao's networks, optimiser and {spec.steps} steps at batch {spec.train.get('batch')}{size}, not "
            f"PacGAN's networks and 400 epochs")


def final_table(summary, mre_rows, spec, published_setup: bool) -> list[str]:
    """Markdown: per setting and loss at the last step: modes, HQ, rKL, collapsed fraction, MRE; the published row."""
    from ..studies.modes import PUBLISHED, t_interval

    K = len(spec.target().centres)
    kind = _kind(spec.target().spec)
    keys = list(spec.grid)
    mre_by = {}
    for r in mre_rows:
        mre_by.setdefault((_setting_label(r, keys), r["loss"]), []).append(r["mre"])
    lines = [f"| setting | loss | modes (of {K}; ≥ 1 sample, PacGAN) | modes (≥ 20 samples) | high quality | "
             f"reverse KL | its basis: seeds; high-quality samples per seed (min / median) | seeds with no "
             f"high-quality sample | collapsed (< {spec.collapse_below or K} modes) | MRE | vs PacGAN Table 1 GAN |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in _final_rows(summary, spec.steps):
        lab = _setting_label(r, keys)
        mre = t_interval(mre_by.get((lab, r["loss"]), []))
        cmp = (published_comparison(r, kind, published_setup, setup_difference(spec))
               if kind and r["loss"] == "gan_ns" else "")
        lines.append(f"| {lab} | {r['loss']} | {_fmt_ci(r['modes'], r['modes_lo'], r['modes_hi'], 2, (0, K))} | "
                     + (_fmt_ci(r['modes_20'], r['modes_20_lo'], r['modes_20_hi'], 2, (0, K)) if "modes_20" in r
                        else "—") + " | "
                     f"{_fmt_ci(r['high_quality'], r['high_quality_lo'], r['high_quality_hi'], 3, (0, 1))} | "
                     f"{_fmt_ci(r['reverse_kl'], r['reverse_kl_lo'], r['reverse_kl_hi'], 2, (0, math.log(K)))} | "
                     f"{_rkl_basis(r)} | {_no_hq(r)} | "
                     f"{r['n_collapsed']}/{r['seeds']} [{r['collapsed_lo']:.2f}, {r['collapsed_hi']:.2f}] | "
                     f"{_fmt_ci(*mre, 4, (0, math.inf))} | {cmp} |")
    if kind:
        p = PUBLISHED[kind]
        lines.append(f"| PacGAN Table 1 (published, 10 trials) | GAN | {p['modes'][0]} ± {p['modes'][1]} | | "
                     f"{100 * p['high_quality'][0]:.1f} % | {p['reverse_kl'][0]} ± {p['reverse_kl'][1]} | | | | | |")
    return lines


def _rkl_basis(r: dict) -> str:
    """"n seeds; min / median high-quality samples" behind a reverse-KL mean (— when no seed has any)."""
    n = r.get("reverse_kl_seeds")
    if n is None:
        return "—"
    if not n:
        return "0 seeds"
    return f"{n} seed{'s' if n != 1 else ''}; {r['n_hq_min']:.0f} / {r['n_hq_median']:.0f}"


def _no_hq(r: dict) -> str:
    """The replicas with no high-quality sample (their reverse KL is undefined: listed, not averaged), and the
    frozen (diverged) seeds."""
    reps = r.get("no_hq_replicas")
    if reps is None:
        return "—"
    txt = f"{len(reps)}" + (f" (replicas {', '.join(map(str, reps))})" if reps else "")
    return txt + (f"; {r['frozen']} frozen" if r.get("frozen") else "")


def step_table(summary, spec, cell) -> list[str]:
    """Markdown: one row per setting and loss, one column per evaluation step, ``cell(summary_row)`` in each."""
    keys = list(spec.grid)
    steps = spec.eval_steps()
    lines = ["| setting | loss | " + " | ".join(f"step {s}" for s in steps) + " |", "|---|---|" + "---|" * len(steps)]
    by = {}
    for r in summary:
        by.setdefault((_setting_label(r, keys), r["loss"]), {})[r["step"]] = r
    for (lab, loss), rs in by.items():
        lines.append(f"| {lab} | {loss} | " + " | ".join(cell(rs[s]) if s in rs else "—" for s in steps) + " |")
    return lines


def trajectory_table(summary, spec) -> list[str]:
    """Markdown: modes covered (mean [95 % CI]) at every evaluation step, per setting and loss."""
    K = len(spec.target().centres)
    return step_table(summary, spec, lambda r: _fmt_ci(r["modes"], r["modes_lo"], r["modes_hi"], 1, (0, K)))


def mao_collapse_text(collapse_rows, spec, losses=("gan", "gan_ns", "ls_011", "ls_m110")) -> list[str]:
    """Mao's "the GAN collapses onto few modes from about step 15k" (and "LSGAN covers all") read off the
    trajectories, per setting: for each of ``losses``, how many seeds covered all K modes at some evaluation and then
    lost one (and at which step), how many never covered all, how many kept all to the end."""
    K = len(spec.target().centres)
    thr = spec.collapse_below or K
    scale = spec.steps / 35000
    keys = list(spec.grid)
    out = []
    for setting in spec.settings():
        for loss in losses:
            line = _collapse_line(collapse_rows, setting, loss, thr, scale)
            if line:
                out.append(f"- {_setting_label(setting, keys) + ', ' if setting else ''}{line}")
    return out


def _collapse_line(collapse_rows, setting: dict, loss: str, thr: int, scale: float) -> str:
    rs = [r for r in collapse_rows if r["loss"] == loss
          and all(r.get(k) == (list(v) if isinstance(v, tuple) else v) for k, v in setting.items())]
    if not rs:
        return ""
    steps = [r["collapse_step"] for r in rs if isinstance(r["collapse_step"], int)]
    never = sum(1 for r in rs if r["collapse_step"] == "start")
    kept = sum(1 for r in rs if r["collapse_step"] is None)
    when = ", ".join(str(s) for s in sorted(steps)) or "none"
    return (f"{loss}: {len(rs)} seeds: {len(steps)} reached ≥ {thr} modes and later dropped below (first evaluation "
            f"below: {when}; Mao's 15k corresponds to step {round(15000 * scale)} here), {never} never reached "
            f"{thr}, {kept} kept ≥ {thr} to the end.")


def collapse_fraction_table(summary, spec) -> list[str]:
    """Markdown: per setting and loss at every evaluation step, the seeds that cover fewer than ``collapse_below``
    modes (one-sample count; frozen seeds count as collapsed) and the mean number of modes with ≥ 20 samples."""

    def cell(r):
        m20 = r.get("modes_20", math.nan)
        return f"{r['n_collapsed']}/{r['seeds']}" + (f"; {m20:.1f}" if math.isfinite(m20) else "")

    return step_table(summary, spec, cell)


def stability_table(summary, spec) -> list[str]:
    """Markdown: optimiser × batch norm × loss at the last step: fraction of seeds collapsed (Wilson 95 %) and modes
    covered (t 95 %)."""
    K = len(spec.target().centres)
    lines = [f"| optimiser | BN | loss | collapsed (< {spec.collapse_below or K} modes) | modes covered |",
             "|---|---|---|---|---|"]
    for r in _final_rows(summary, spec.steps):
        bn = "G and D" if r.get("d_batchnorm") else ("G" if spec.train.get("g_batchnorm") else "none")
        lines.append(f"| {r.get('optimizer', spec.train.get('optimizer', 'adam'))} | {bn} | {r['loss']} | "
                     f"{r['n_collapsed']}/{r['seeds']} = {r['collapsed']:.2f} [{r['collapsed_lo']:.2f}, "
                     f"{r['collapsed_hi']:.2f}] | {_fmt_ci(r['modes'], r['modes_lo'], r['modes_hi'], 2, (0, K))} |")
    return lines


# ---------------------------------------------------------------------------------------------------- report
def _write_csv(path: Path, rows: list[dict]) -> None:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys)
    w.writeheader()
    for r in rows:
        w.writerow({k: json.dumps(v) if isinstance(v, (list, tuple, dict)) else v for k, v in r.items()})
    write_text(path, buf.getvalue(), what="--out")  # the package's one atomic writer


def modes_report(result, out, *, published_setup: bool | None = None, figures: bool = True) -> dict:
    """Write ``metrics.csv`` (run × step), ``summary.csv`` (setting × loss × step, 95 % intervals), ``mre.csv``,
    ``collapse.csv``, ``tables.md`` and the figures (``figures/snapshots_*.png``, ``figures/trajectories_*.png``)
    to ``out``; returns ``{"tables": [lines], "files": [paths], "summary": rows}``."""
    from .. import plots
    from ..studies.modes import collapse_step, summarize_modes

    spec = result.spec
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    target = spec.target()
    K = len(target.centres)
    if published_setup is None:  # PacGAN's Table 1 is a reproduction target only for PacGAN's own set-up
        published_setup = spec.name.startswith("pacgan") and spec.variant in (None, "full")
    summary = summarize_modes(result.metrics, K, spec.collapse_below)
    collapse = collapse_step(result.metrics, K, spec.collapse_below)
    files = []
    for name, rows in (("metrics", result.metrics), ("summary", summary), ("mre", result.mre),
                       ("collapse", collapse)):
        if rows:
            _write_csv(out / f"{name}.csv", rows)
            files.append(out / f"{name}.csv")
    lines = [f"# {spec.name} ({spec.variant or 'base'} variant): {spec.description}", "",
             f"{spec.seeds} seeds per loss, {spec.steps} steps, {spec.n_eval} generated samples per evaluation; a mode "
             f"is covered when at least one sample lies within 3σ of it (PacGAN's count; beside it, VEEGAN's count "
             f"of modes with at least 20 such samples — at a low high-quality fraction the one-sample count measures "
             f"how far samples spread, not coverage); intervals are 95 % Student-t over seeds, clipped to the "
             f"quantity's range ([0, K] modes, [0, 1] high quality, [0, log K] reverse KL); the reverse KL exists "
             f"only for a seed with at least one high-quality sample: its mean is over those seeds, the table gives "
             f"how many and how many high-quality samples each rests on, and lists the seeds with none; "
             f"collapse fractions with Wilson 95 % intervals.", "", "## Last step", ""]
    lines += final_table(summary, result.mre, spec, published_setup)
    if result.mre:
        r0 = result.mre[0]
        lines += ["", f"MRE: mean over {r0['mre_points']} held-out target points of min_z ‖x − G(z)‖², searched by "
                      f"Adam from {r0['mre_restarts']} restarts × {r0['mre_steps']} steps (lr {r0['mre_lr']})."]
    lines += ["", "## Modes covered over training", ""] + trajectory_table(summary, spec)
    lines += ["", f"## Collapse over training (seeds covering < {spec.collapse_below or K} modes; mean modes with "
                  f"≥ 20 samples)", ""] + collapse_fraction_table(summary, spec)
    mao = mao_collapse_text(collapse, spec)
    if mao and _kind(target.spec) == "ring" and "pack" not in spec.grid:
        lines += ["", "## Mao's \"collapse from about step 15k\" on the trajectories, per seed", ""] + mao
    if "optimizer" in spec.grid and "d_batchnorm" in spec.grid:
        lines += ["", "## Stability (optimiser × batch normalisation × loss)", ""] + stability_table(summary, spec)
    write_text(out / "tables.md", "\n".join(lines) + "\n", what="--out")
    files.append(out / "tables.md")
    if figures:
        keys = list(spec.grid)
        for setting in spec.settings():
            tag = "_".join(f"{k}{_short(v)}" for k, v in setting.items()) or "all"
            sk = json.dumps({k: list(v) if isinstance(v, tuple) else v for k, v in setting.items()}, sort_keys=True)
            snaps = {(k[1], int(k[2])): v for k, v in result.snapshots.items() if k[0] == sk}
            rows = [r for r in summary if all(r.get(k) == (list(v) if isinstance(v, tuple) else v)
                                              for k, v in setting.items())]
            fin = {r["loss"]: r for r in _final_rows(rows, spec.steps)}
            cap = ("Replica 0 of each loss; red: mode centres and 3σ circles. Modes covered at the last step "
                   "(mean over seeds): " + ", ".join(f"{l} {r['modes']:.1f}" for l, r in fin.items()) + ".")
            title = f"{spec.name} ({spec.variant or 'base'})" + (f", {_setting_label(setting, keys)}" if setting else "")
            if snaps:
                files += plots.mode_snapshots_figure(snaps, target.centres, target.std,
                                                     out / "figures" / f"snapshots_{tag}", cap, title)
            cap2 = (f"Mean over {spec.seeds} seeds with 95 % t-intervals; last step: "
                    + ", ".join(f"{l} {r['modes']:.1f} modes, HQ {r['high_quality']:.2f}" for l, r in fin.items())
                    + ".")
            files += plots.mode_trajectories_figure(rows, K, out / "figures" / f"trajectories_{tag}", cap2, title)

    write_json(out / "meta.json", {**result.meta, "spec_text": spec.text}, indent=1, what="--out")
    files.append(out / "meta.json")
    return {"tables": lines, "files": [str(f) for f in files], "summary": summary}


def _demote(lines: list[str]) -> str:
    """The report's tables inside a claim's evidence: its ``##`` headings become ``####`` (below the claim's)."""
    return "\n".join("####" + ln[2:] if ln.startswith("## ") else ln for ln in lines)


def _short(v) -> str:
    return "-".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v).lower()


# ---------------------------------------------------------------------------------------------------- claims
def _run_quick(name: str, ctx: Context):
    from ..studies.modes import load_modes_spec, run_modes

    spec = load_modes_spec(_EXPERIMENTS / f"{name}.toml", "quick" if ctx.quick else "full")
    return spec, run_modes(spec, threads=1)


def _at_least_as_many_modes(ctx: Context, spec, res, folder: str, modes: dict, short: tuple, long: tuple,
                            setup: str, hq: tuple, n_modes: int, where: str = "") -> Evidence:
    """Evidence for "A covers at least as many modes as B" from the final modes of each seed (``modes``: {key of A:
    list, key of B: list}): the 95 % Welch interval of mean(A) − mean(B) (−inf, inf with < 2 seeds on a side),
    its check, why it is undecided and the size that would decide (:func:`size_to_decide_text`, from the mean
    high-quality fractions ``hq`` of A and B), the report tables in ``ctx.out / folder``; ``short``/``long``: the
    names of A and B in the check and in the text; ``setup``: the run's settings as the text shows them."""
    a, b = modes.values()
    w = welch_test(a, b)
    d, lo, hi = w.difference, w.lo, w.hi
    rep = modes_report(res, ctx.out / folder)
    check = difference_check(f"(−upper CI end of modes({short[0]}) − modes({short[1]}))_+", lo, hi, len(a), len(b),
                             "modes covered")
    why = (size_to_decide_text(a, b, long, check, hq, spec.steps, n_modes, where)
           or decided_reading_text(check, hq, long, spec.steps, n_modes, where))
    check = trained_hypothesis(check, hq, long)
    text = (f"{spec.name} {spec.variant} variant ({setup}, {spec.seeds} seeds): modes covered at the end, "
            f"{long[0]}: {np.mean(a):.2f}, {long[1]}: {np.mean(b):.2f}; difference {d:+.2f} [{lo:+.2f}, "
            f"{hi:+.2f}].\n\n")
    text += (why + "\n\n" if why else "") + _demote(rep["tables"][6:])
    figs = [f for f in rep["files"] if f.endswith(".png")]
    return Evidence(text, figs, {"difference": [d, lo, hi], **modes}, checks=[check])


def _final_modes(result, loss: str, key: str = "modes", **setting) -> list[float]:
    steps = result.spec.steps
    return [r[key] for r in result.metrics
            if r["step"] == steps and r["loss"] == loss and all(r.get(k) == v for k, v in setting.items())]


@claim("modes-mao-ring", ref="THEORY.md §9 (Mao's ring)",
       statement="On Mao's ring (8 modes, σ = 0.01) with Mao's optimiser, least squares (a, b, c) = (−1, 1, 0) covers at "
                 "least as many modes as the non-saturating GAN at the end of the experiment's training budget "
                 "(Mao et al. 2017: the GAN collapses onto few modes, LSGAN covers all)")
def _mao_ring(ctx: Context) -> Evidence:
    spec, res = _run_quick("mao_ring", ctx)
    ls, gan = _final_modes(res, "ls_m110"), _final_modes(res, "gan_ns")
    hq = (float(np.nanmean(_final_modes(res, "ls_m110", "high_quality"))),
          float(np.nanmean(_final_modes(res, "gan_ns", "high_quality"))))
    return _at_least_as_many_modes(ctx, spec, res, "modes_mao_ring", {"ls": ls, "gan": gan}, ("LS", "GAN"),
                                   ("least squares", "GAN"),
                                   f"{spec.steps} steps, batch {spec.train.get('batch')}", hq, 8,
                                   "Mao's own size (batch 512, 35 000 steps, Mao's networks and optimiser) is the run "
                                   "`experiments/mode_collapse/mao_ring_mao/` (committed, issue 32); this claim "
                                   "does not read it." if ctx.quick else "")


@claim("modes-pacgan-packing", ref="THEORY.md §9 (PacGAN Table 1)",
       statement="On PacGAN's grid (25 modes, σ = 0.05) with PacGAN's networks (BN generator, maxout discriminator), "
                 "packing k = 2 covers at least as many modes as k = 1 for the non-saturating GAN at the end of the "
                 "experiment's training budget (Lin et al. 2018)")
def _pacgan_packing(ctx: Context) -> Evidence:
    spec, res = _run_quick("pacgan", ctx)
    k2, k1 = _final_modes(res, "gan_ns", pack=2), _final_modes(res, "gan_ns", pack=1)
    hq = (float(np.nanmean(_final_modes(res, "gan_ns", "high_quality", pack=2))),
          float(np.nanmean(_final_modes(res, "gan_ns", "high_quality", pack=1))))
    return _at_least_as_many_modes(ctx, spec, res, "modes_pacgan", {"k2": k2, "k1": k1}, ("k=2", "k=1"),
                                   ("k = 2", "k = 1"), f"{spec.steps} steps, G {spec.train.get('g_hidden')}, D "
                                   f"{spec.train.get('d_hidden')} × {spec.train.get('d_pieces')} pieces", hq, 25,
                                   "Larger budgets at these nets, measured for issue 32 (`experiments/mode_collapse/"
                                   "pacgan.toml`, the [quick] comment: 280 and 420 steps), show no packing effect "
                                   "that a quick-sized run could resolve either; PacGAN's own size (400-wide nets, "
                                   "400k steps) is the full variant, for a GPU." if ctx.quick else "")
