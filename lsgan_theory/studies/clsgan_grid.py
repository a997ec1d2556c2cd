"""CLS-GAN given a fair chance (issue 32, THEORY.md §7): a pre-registered grid on 8×8 digits, chosen on validation.

The spec (``experiments/studies/clsgan_grid.toml``, read by :func:`load_spec`) fixes everything before a run:

* data -- :func:`~lsgan_theory.studies.clsgan.digits_validation_split`: the fixed 599-image test split, and a stratified
  validation part carved from the training images; labelled subsets and the unlabelled pool come from the rest;
* stage 1, :func:`run_selection` -- every CLS-GAN setting (λ × τ × γ_ul × lr) and the labels-only loss network
  (λ = 0, γ_ul = 0) at each of its own learning rates, in one ensemble, at the selection seeds, and
  LogisticRegression at each C, on the same labelled images per seed; *validation* accuracy only;
  :func:`select_setting` picks, per method, the highest mean validation accuracy (ties: the first in grid order);
* stage 2, :func:`run_test` -- the three selected methods at the test seeds (other label subsets), test accuracy,
  95 % Student-t intervals and paired differences CLS-GAN − other over the same seeds.

:func:`run_grid` runs both (each stage resumable: the engine's checkpoint mid-stage, a JSON record once done) and
returns a :class:`GridResult`; :func:`report_markdown` writes the report from it, :func:`write_report` the report,
the JSON and a CSV of every model.  The command is ``experiments/clsgan_grid.py``.  Studies measure; the reading of
an interval here is where it lies relative to 0, not a verdict.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import math
import os
import platform
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .. import output
from ..output import write_json, write_text
from ..ensemble import conditional as _cond
from ..provenance import device_description, provenance
from .clsgan import _sklearn, digits_validation_split
from .stats import t_interval

__all__ = ["GridSpec", "GridResult", "spec_from_dict", "load_spec", "select_setting", "run_selection", "run_test",
           "run_grid", "report_markdown", "write_report", "CLSGAN_KEYS"]

#: the hyperparameters of a CLS-GAN setting, in grid order
CLSGAN_KEYS = ("lam", "tau", "gamma_ul", "lr")
_SECTIONS = {"split": {"validation_fraction": float, "split_seed": int},
             "training": {"labels_per_class": int, "steps": int, "noise_dim": int, "hidden": int, "batch": int,
                          "seed": int},
             "grid": {"lam": list, "tau": list, "gamma_ul": list, "lr": list},
             "baseline": {"lr": list, "logreg_c": list},
             "seeds": {"selection": list, "test": list},
             "rule": {"selection": str}}
RULE = "highest mean validation accuracy"


@dataclass(frozen=True)
class GridSpec:
    """A validated pre-registered grid (the TOML spec's values; see ``experiments/studies/clsgan_grid.toml``)."""

    validation_fraction: float
    split_seed: int
    labels_per_class: int
    steps: int
    noise_dim: int
    hidden: int
    batch: int
    seed: int
    lam: tuple
    tau: tuple
    gamma_ul: tuple
    lr: tuple
    baseline_lr: tuple
    logreg_c: tuple
    selection_seeds: tuple
    test_seeds: tuple
    rule: str = RULE

    def settings(self) -> list[dict]:
        """The CLS-GAN settings in grid order (λ slowest, lr fastest)."""
        return [dict(zip(CLSGAN_KEYS, v)) for v in itertools.product(self.lam, self.tau, self.gamma_ul, self.lr)]

    def digest(self) -> str:
        """sha256 (16 hex digits) of the spec's values: the identity of a run and of its records."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


def _number_list(where: str, v, *, positive: bool, integer: bool = False, unique: bool = True) -> tuple:
    ok = isinstance(v, list) and len(v) >= 1 and all(
        not isinstance(x, bool) and isinstance(x, int if integer else (int, float)) and math.isfinite(x)
        and (x > 0 if positive else x >= 0) for x in v)
    if not ok or (unique and len(set(v)) != len(v)):
        kind = "integers" if integer else "finite numbers"
        raise ValueError(f"{where}: must be a non-empty list of distinct {kind} {'> 0' if positive else '>= 0'}, "
                         f"got {v!r}")
    return tuple(int(x) if integer else float(x) for x in v)


def _check_sections(d) -> None:
    if not isinstance(d, dict):
        raise ValueError(f"spec: must be a table of sections {sorted(_SECTIONS)}, got {type(d).__name__}")
    for name in d:
        if name not in _SECTIONS:
            raise ValueError(f"spec: unknown section [{name}] (accepted: {', '.join(sorted(_SECTIONS))})")
    for name, keys in _SECTIONS.items():
        sec = d.get(name)
        if not isinstance(sec, dict):
            raise ValueError(f"[{name}]: missing section (keys {', '.join(keys)})")
        for k in sec:
            if k not in keys:
                raise ValueError(f"[{name}].{k}: unknown key (accepted: {', '.join(keys)})")
        for k in keys:
            if k not in sec:
                raise ValueError(f"[{name}].{k}: missing")


def spec_from_dict(d: dict) -> GridSpec:
    """Check a spec table (the TOML's sections) and return a :class:`GridSpec`; ``ValueError`` names ``[section].key``
    and the accepted range of the first bad value."""
    _check_sections(d)
    sp, tr = d["split"], d["training"]
    vf = sp["validation_fraction"]
    if isinstance(vf, bool) or not isinstance(vf, float) or not 0.05 <= vf <= 0.5:
        raise ValueError(f"[split].validation_fraction: must be a float in [0.05, 0.5], got {vf!r}")
    ints = {"[split].split_seed": (sp["split_seed"], 0, 2**31 - 1),
            "[training].labels_per_class": (tr["labels_per_class"], 1, 50),
            "[training].steps": (tr["steps"], 1, 10**6), "[training].noise_dim": (tr["noise_dim"], 1, 1024),
            "[training].hidden": (tr["hidden"], 1, 4096), "[training].batch": (tr["batch"], 1, 4096),
            "[training].seed": (tr["seed"], 0, 2**32 - 1)}
    for where, (v, lo, hi) in ints.items():
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ValueError(f"{where}: must be an integer in [{lo}, {hi}], got {v!r}")
    g, b, s = d["grid"], d["baseline"], d["seeds"]
    sel = _number_list("[seeds].selection", s["selection"], positive=False, integer=True)
    test = _number_list("[seeds].test", s["test"], positive=False, integer=True)
    if len(test) < 2:
        raise ValueError(f"[seeds].test: a t-interval over seeds needs at least 2 seeds, got {s['test']!r}")
    if set(sel) & set(test):
        raise ValueError(f"[seeds].test: must not share a seed (a label subset) with [seeds].selection, shared: "
                         f"{sorted(set(sel) & set(test))}")
    if d["rule"]["selection"] != RULE:
        raise ValueError(f"[rule].selection: the one rule implemented is {RULE!r}, got {d['rule']['selection']!r}")
    return GridSpec(vf, sp["split_seed"], tr["labels_per_class"], tr["steps"], tr["noise_dim"], tr["hidden"],
                    tr["batch"], tr["seed"], _number_list("[grid].lam", g["lam"], positive=True),
                    _number_list("[grid].tau", g["tau"], positive=True),
                    _number_list("[grid].gamma_ul", g["gamma_ul"], positive=True),
                    _number_list("[grid].lr", g["lr"], positive=True),
                    _number_list("[baseline].lr", b["lr"], positive=True),
                    _number_list("[baseline].logreg_c", b["logreg_c"], positive=True), sel, test)


def load_spec(path) -> GridSpec:
    """Read and check a TOML spec; ``ValueError`` names the file (missing, unreadable, not TOML) or the bad key."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"spec: no such file: {str(path)!r}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"spec: cannot read {str(path)!r} ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"spec: {str(path)!r} is not valid TOML ({exc})") from None
    return spec_from_dict(doc)


# ------------------------------------------------------------------------------------------------ selection
def select_setting(rows: list[dict], keys: tuple) -> tuple[dict, float]:
    """The setting (the values of ``keys``) with the highest mean ``val_accuracy`` over its rows; ties and NaN means
    (every seed diverged) go to the first setting in row order.  Reads no other accuracy: a row's ``test_accuracy``,
    if any, is ignored.  Returns (setting, its mean validation accuracy)."""
    if not rows:
        raise ValueError("rows: need at least one row to select from")
    means: dict[tuple, list] = {}
    for r in rows:
        means.setdefault(tuple(r[k] for k in keys), []).append(r["val_accuracy"])
    best, best_mean = None, -math.inf
    for key, vals in means.items():
        m = float(np.mean(vals)) if np.all(np.isfinite(vals)) else math.nan
        if best is None or (math.isfinite(m) and m > best_mean):
            best, best_mean = key, (m if math.isfinite(m) else -math.inf)
    return dict(zip(keys, best)), (best_mean if math.isfinite(best_mean) else math.nan)


def _pack(spec: GridSpec, models: list[dict], model_ids=None) -> _cond.ConditionalConfig:
    """One ensemble of ``models`` (dicts with lam, tau, gamma_ul, lr, seed = label split)."""
    h = spec.hidden
    return _cond.ConditionalConfig(
        n_classes=10, data_dim=64, n_models=len(models), model_ids=model_ids, seed=spec.seed, steps=spec.steps,
        batch=spec.batch, batch_ul=spec.batch, noise_dim=spec.noise_dim, g_hidden=(h, h), d_hidden=(h, h),
        lr_d=tuple(m["lr"] for m in models), lr_g=tuple(m["lr"] for m in models),
        lam=tuple(m["lam"] for m in models), gamma_ul=tuple(m["gamma_ul"] for m in models),
        tau=tuple(m["tau"] for m in models), labels_per_class=spec.labels_per_class,
        label_split=tuple(m["seed"] for m in models), record_every=max(1, spec.steps // 20))


def _train(spec, split, models, model_ids, checkpoint, progress, stage):
    cfg = _pack(spec, models, model_ids)
    data = _cond.prepare_data(split.x_fit, split.y_fit, n_classes=10)
    every = max(1, spec.steps // 10)

    def callback(step, *_):  # step: the 0-based index of the step just done
        if progress is not None and (step + 1) % every == 0:
            progress(f"{stage}: step {step + 1}/{spec.steps} ({len(models)} models)")

    ckpt = None if checkpoint is None else Path(checkpoint)
    res = _cond.train_conditional(cfg, data, checkpoint=ckpt, callback=callback)
    return cfg, res


def _logreg(split, mask, c, x_eval, y_eval) -> float:
    LogisticRegression = _sklearn()[1]
    clf = LogisticRegression(C=c, max_iter=5000).fit(split.x_fit[mask], split.y_fit[mask])
    return float((clf.predict(x_eval) == y_eval).mean())


def run_selection(spec: GridSpec, split, *, checkpoint=None, progress=None) -> dict:
    """Stage 1: validation accuracies of every CLS-GAN setting, every labels-only lr and every C at the selection
    seeds (one ensemble for the networks); the selected setting of each method by :func:`select_setting`."""
    t0, c0 = time.perf_counter(), time.process_time()
    models = [dict(s, method="clsgan", seed=r) for s in spec.settings() for r in spec.selection_seeds]
    models += [dict(method="supervised", lam=0.0, tau=spec.tau[0], gamma_ul=0.0, lr=lr, seed=r)
               for lr in spec.baseline_lr for r in spec.selection_seeds]
    cfg, res = _train(spec, split, models, None, checkpoint, progress, "selection")
    acc = np.where(res.diverged, np.nan, (res.classify(split.x_val) == split.y_val[None]).mean(1))
    rows = [dict(m, val_accuracy=float(acc[e]), diverged=bool(res.diverged[e]),
                 n_labelled=int(res.labelled[e].sum())) for e, m in enumerate(models)]
    masks = {m["seed"]: res.labelled[e] for e, m in enumerate(models)}
    rows += [dict(method="logreg", c=c, seed=r, val_accuracy=_logreg(split, masks[r], c, split.x_val, split.y_val),
                  diverged=False, n_labelled=int(masks[r].sum())) for c in spec.logreg_c for r in spec.selection_seeds]
    chosen = {}
    for method, keys in (("clsgan", CLSGAN_KEYS), ("supervised", ("lr",)), ("logreg", ("c",))):
        setting, mean = select_setting([r for r in rows if r["method"] == method], keys)
        chosen[method] = {"setting": setting, "val_mean": mean}
    return {"rows": rows, "chosen": chosen, "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - c0, "config": asdict(cfg), "provenance": provenance("cpu")}


def run_test(spec: GridSpec, split, chosen: dict, *, checkpoint=None, progress=None) -> dict:
    """Stage 2: the selected CLS-GAN setting, labels-only lr and C at the test seeds; test (and validation) accuracy
    per seed, the 95 % t-interval per method and the paired differences CLS-GAN − other over the same seeds."""
    t0, c0 = time.perf_counter(), time.process_time()
    cs, lr_sup = chosen["clsgan"]["setting"], chosen["supervised"]["setting"]["lr"]
    models = []
    for r in spec.test_seeds:
        models += [dict(cs, method="clsgan", seed=r),
                   dict(method="supervised", lam=0.0, tau=spec.tau[0], gamma_ul=0.0, lr=lr_sup, seed=r)]
    # model ids of their own: no initialisation shared with stage 1's models
    cfg, res = _train(spec, split, models, tuple(10_000 + e for e in range(len(models))), checkpoint, progress,
                      "test")
    acc = {name: np.where(res.diverged, np.nan, (res.classify(x) == y[None]).mean(1))
           for name, x, y in (("test", split.x_test, split.y_test), ("val", split.x_val, split.y_val))}
    rows = [dict(m, test_accuracy=float(acc["test"][e]), val_accuracy=float(acc["val"][e]),
                 diverged=bool(res.diverged[e])) for e, m in enumerate(models)]
    c = chosen["logreg"]["setting"]["c"]
    for e, m in enumerate(models):
        if m["method"] == "clsgan":
            mask = res.labelled[e]
            rows.append(dict(method="logreg", c=c, seed=m["seed"], diverged=False,
                             test_accuracy=_logreg(split, mask, c, split.x_test, split.y_test),
                             val_accuracy=_logreg(split, mask, c, split.x_val, split.y_val)))
    summary, paired = _summarise(rows, spec.test_seeds)
    return {"rows": rows, "summary": summary, "paired": paired, "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - c0, "config": asdict(cfg), "provenance": provenance("cpu")}


def _summarise(rows, seeds):
    by = {m: np.array([next(r["test_accuracy"] for r in rows if r["method"] == m and r["seed"] == s) for s in seeds])
          for m in ("clsgan", "supervised", "logreg")}
    summary = []
    for m, v in by.items():
        mean, lo, hi = t_interval(v)
        summary.append({"method": m, "mean": mean, "ci": [lo, hi], "seeds": int(np.isfinite(v).sum())})
    paired = []
    for other in ("supervised", "logreg"):
        mean, lo, hi = t_interval(by["clsgan"] - by[other])
        paired.append({"versus": other, "mean_diff": mean, "ci": [lo, hi]})
    return summary, paired


# ------------------------------------------------------------------------------------------------ the whole run
@dataclass
class GridResult:
    """The spec, the split sizes, stage 1's record (``selection``) and stage 2's (``test``; None while it has not
    finished, in a report written with ``train=False``), the run's time and machine.  Plain data (dicts and lists): the JSON beside the report is ``asdict`` of it."""

    spec: dict
    spec_digest: str
    split: dict
    selection: dict
    test: dict | None
    machine: dict = field(default_factory=dict)
    theorem3: str = ""
    spec_path: str = "experiments/studies/clsgan_grid.toml"


def _stage(path, key: dict, compute):
    """A stage's record from ``path`` when its ``key`` matches (resume), else ``compute()`` written there (``compute``
    None: return None instead)."""
    if path is not None and Path(path).exists():
        rec = output.loads(Path(path).read_text(encoding="utf-8"))
        if rec.get("key") == key:
            return rec["record"]
    if compute is None:
        return None
    rec = compute()
    if path is not None:
        output.write_json(path, {"key": key, "record": rec}, what="checkpoint")
    return rec


def run_grid(spec: GridSpec, *, checkpoint_dir=None, progress=None, train: bool = True) -> GridResult:
    """Both stages of the pre-registered grid; with ``checkpoint_dir`` each stage resumes (the engine's checkpoint
    ``<stage>-<digest>.pt`` mid-stage, the finished stage's record ``<stage>.json`` when its spec digest matches).
    ``train=False``: train nothing, report the finished stages' records (``ValueError`` naming ``checkpoint`` when
    not even the selection stage has finished; ``test`` None when only it has)."""
    if not train and checkpoint_dir is None:
        raise ValueError("checkpoint: train=False reads the finished stages' records, so it needs checkpoint_dir")
    split = digits_validation_split(spec.validation_fraction, spec.split_seed)
    ck = None if checkpoint_dir is None else Path(output.writable_folder(checkpoint_dir, what="checkpoint"))
    key = {"spec": spec.digest()}

    def at(name):
        return None if ck is None else ck / name

    pt = f"-{spec.digest()}.pt"  # the engine's checkpoint of a stage under way, one per spec
    sel = _stage(at("selection.json"), key, (lambda: run_selection(
        spec, split, checkpoint=at("selection" + pt), progress=progress)) if train else None)
    if sel is None:
        raise ValueError(f"checkpoint: no finished selection stage of this spec (digest {spec.digest()}) in "
                         f"{str(ck)!r}; run without --report-only first")
    test = _stage(at("test.json"), dict(key, chosen=sel["chosen"]), (lambda: run_test(
        spec, split, sel["chosen"], checkpoint=at("test" + pt), progress=progress)) if train else None)
    sizes = {"fit": int(split.y_fit.size), "validation": int(split.y_val.size), "test": int(split.y_test.size)}
    machine = {"device": device_description(), "cpu": platform.processor() or platform.machine(),
               "loadavg_end": list(os.getloadavg()), "threads": 1}
    return GridResult(asdict(spec), spec.digest(), sizes, sel, test, machine)


# ------------------------------------------------------------------------------------------------ the report
COMMAND = "OMP_NUM_THREADS=1 PYTHONPATH=. python experiments/clsgan_grid.py"
THEOREM3_NOTE = (
    "## Theorem 3 (not regenerated by this command)\n\n"
    "The Theorem 3 measurements of issue 18 (per-class ∫|p(x|y) − q̂(x|y)| against 2/λ, 1-D and 2-D) were made with "
    "older code (before the engine's per-step draws and fused Adam, issue 28) and are kept, unchanged and marked as "
    "such, in `experiments/clsgan_issue18_theorem3.md`. With the current code they are reproduced by "
    "`lsgan_theory.studies.clsgan.theorem3_toy(seeds=5, steps=2000)` and `theorem3_toy_2d(seeds=5, steps=2000)` "
    "(arguments in `experiments/studies/clsgan_theorem3*.toml`); the checked claim at certified equilibria is "
    "`lsgan-theory verify --only clsgan-theorem3` (docs/experiments.md).\n")


def _ci(mean, ci, sign=False) -> str:
    f = "{:+.3f}" if sign else "{:.3f}"
    return f"{f.format(mean)} [{f.format(ci[0])}, {f.format(ci[1])}]"


def _where(ci) -> str:
    lo, hi = ci
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "has no interval (fewer than 2 finished seeds)"
    return "lies wholly above 0" if lo > 0 else "lies wholly below 0" if hi < 0 else "contains 0"


def _selection_tables(r: GridResult) -> list[str]:
    sel, spec = r.selection, r.spec
    seeds = spec["selection_seeds"]
    out = ["| λ | τ | γ_ul | lr | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | diverged |",
           "|---|---|---|---|" + "---|" * len(seeds) + "---|---|"]
    chosen = sel["chosen"]

    def line(method, keys, label):
        groups: dict[tuple, list] = {}
        for row in sel["rows"]:
            if row["method"] == method:
                groups.setdefault(tuple(row[k] for k in keys), []).append(row)
        lines = []
        for key, rows in groups.items():
            by_seed = {row["seed"]: row["val_accuracy"] for row in rows}
            vals = [by_seed[s] for s in seeds]
            mark = "**" if dict(zip(keys, key)) == chosen[method]["setting"] else ""
            lines.append(f"| {label(dict(zip(keys, key)))} | " + " | ".join(f"{v:.3f}" for v in vals)
                         + f" | {mark}{np.mean(vals):.3f}{mark} | {sum(row['diverged'] for row in rows)} |")
        return lines

    out += line("clsgan", CLSGAN_KEYS, lambda s: f"{s['lam']:g} | {s['tau']:g} | {s['gamma_ul']:g} | {s['lr']:g}")
    sup = ["| labels-only lr | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | diverged |",
           "|---|" + "---|" * len(seeds) + "---|---|", *line("supervised", ("lr",), lambda s: f"{s['lr']:g}")]
    lr_ = ["| LogisticRegression C | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | diverged |",
           "|---|" + "---|" * len(seeds) + "---|---|", *line("logreg", ("c",), lambda s: f"{s['c']:g}")]
    return [*out, "", *sup, "", *lr_]


def _test_lines(r: GridResult) -> list[str]:
    t, sp = r.test, r.spec
    names = {"clsgan": "CLS-GAN (selected)", "supervised": "labels-only loss network (tuned lr)",
             "logreg": "LogisticRegression (tuned C)"}
    rows = ["| method | test accuracy, mean [95 % t-interval] | seeds |", "|---|---|---|"]
    rows += [f"| {names[s['method']]} | {_ci(s['mean'], s['ci'])} | {s['seeds']} |" for s in t["summary"]]
    rows += ["", "| paired difference (same labels per seed) | mean [95 % t-interval] | the interval |",
             "|---|---|---|"]
    vs = {"supervised": "CLS-GAN − labels-only", "logreg": "CLS-GAN − LogisticRegression"}
    rows += [f"| {vs[p['versus']]} | {_ci(p['mean_diff'], p['ci'], True)} | {_where(p['ci'])} |"
             for p in t["paired"]]
    per_seed = ["| seed | " + " | ".join(str(s) for s in sp["test_seeds"]) + " |",
                "|---|" + "---|" * len(sp["test_seeds"])]
    for m in ("clsgan", "supervised", "logreg"):
        acc = {row["seed"]: row["test_accuracy"] for row in t["rows"] if row["method"] == m}
        per_seed.append(f"| {names[m]} | " + " | ".join(f"{acc[s]:.3f}" for s in sp["test_seeds"]) + " |")
    return [*rows, "", "Per test seed:", "", *per_seed]


def _fmt_setting(s: dict) -> str:
    return f"λ = {s['lam']:g}, τ = {s['tau']:g}, γ_ul = {s['gamma_ul']:g}, lr = {s['lr']:g}"


def _test_section(r: GridResult) -> list[str]:
    sp, sel, t = r.spec, r.selection, r.test
    if t is None:
        return [f"## Test split ({len(sp['test_seeds'])} seeds)", "",
                "**Not finished yet**: this report was written with `--report-only` from the selection stage's record; "
                "the test stage has not run to its end, so no test accuracy is reported. The command without "
                "`--report-only` resumes it."]
    pair = {p["versus"]: p for p in t["paired"]}
    return [
        f"## Test split ({len(sp['test_seeds'])} seeds)", "", *_test_lines(r), "",
        f"Reading: the 95 % interval of CLS-GAN − labels-only {_where(pair['supervised']['ci'])} "
        f"({_ci(pair['supervised']['mean_diff'], pair['supervised']['ci'], True)}); of CLS-GAN − LogisticRegression "
        f"{_where(pair['logreg']['ci'])} ({_ci(pair['logreg']['mean_diff'], pair['logreg']['ci'], True)}). "
        f"Diverged models: {sum(row['diverged'] for row in sel['rows'])} in selection, "
        f"{sum(row['diverged'] for row in t['rows'])} in test. The selection used {len(sp['selection_seeds'])} "
        "seed(s) per setting: settings whose validation means differ by less than the seed-to-seed spread in the "
        "table are not distinguished by it."]


def _header(r: GridResult) -> list[str]:
    sel, t = r.selection, r.test
    prov = sel["provenance"]
    t_cpu, t_wall = (t["cpu_seconds"], t["seconds"]) if t is not None else (0.0, 0.0)
    t_git = t["provenance"].get("git", "?") if t is not None else "not run"
    return [
        "# CLS-GAN given a fair chance: a pre-registered grid on 8×8 digits (issue 32)", "",
        f"Generated by `{COMMAND}` from the spec `{r.spec_path}` (spec digest `{r.spec_digest}`; the command's "
        "default `--spec` is `experiments/studies/clsgan_grid.toml`) -- do not edit by hand. Every model and setting "
        f"is in `clsgan_grid.json` and `clsgan_grid.csv` beside this file. Package {prov.get('version', '?')}, git "
        f"{prov.get('git', '?')} (selection stage), {t_git} (test stage); {r.machine.get('device', '?')}, one "
        f"thread, shared with other jobs (nice 15); CPU time {sel['cpu_seconds'] + t_cpu:.0f} s (selection "
        f"{sel['cpu_seconds']:.0f} s, test {t_cpu:.0f} s), wall {sel['seconds'] + t_wall:.0f} s."]


def report_markdown(r: GridResult) -> str:
    """``experiments/clsgan.md`` from a :class:`GridResult`: every number is read from ``r`` (nothing measured here)."""
    sp, ch = r.spec, r.selection["chosen"]
    n_set = len(sp["lam"]) * len(sp["tau"]) * len(sp["gamma_ul"]) * len(sp["lr"])
    text = [
        *_header(r), "",
        "## Design (declared before the run)", "",
        f"scikit-learn's 8×8 digits. Test split: the fixed stratified 1/3 (`digits_split`, random_state 0, "
        f"{r.split['test']} images), not read until the test stage. Validation split: stratified, "
        f"{sp['validation_fraction']:g} of the training images (random_state {sp['split_seed']}: "
        f"{r.split['validation']} images); the remaining {r.split['fit']} images are the fit part, from which each "
        f"seed draws {sp['labels_per_class']} labelled images per class (keyed by the seed, the same for every "
        f"method at that seed); the rest of the fit part is CLS-GAN's unlabelled pool. Networks: loss network 64 → "
        f"{sp['hidden']} → {sp['hidden']} → 10, generator {sp['noise_dim']} + 10 → {sp['hidden']} → {sp['hidden']} "
        f"→ 64 (ReLU), Adam β = (0.5, 0.999), batch {sp['batch']}, {sp['steps']} steps, float32, engine seed "
        f"{sp['seed']}; Δ = τ‖x − G(z, y)‖₁. The labels-only network is the same loss network with λ = 0, γ_ul = 0.",
        "",
        f"Grid: λ ∈ {list(sp['lam'])}, τ ∈ {list(sp['tau'])}, γ_ul ∈ {list(sp['gamma_ul'])}, lr ∈ {list(sp['lr'])} "
        f"({n_set} CLS-GAN settings); labels-only lr ∈ {list(sp['baseline_lr'])}; LogisticRegression C ∈ "
        f"{list(sp['logreg_c'])}. Selection seeds {list(sp['selection_seeds'])}, test seeds "
        f"{list(sp['test_seeds'])} (other label subsets). Rule, per method: {sp['rule']} over the selection seeds "
        "(ties: the first in grid order); test accuracy is not computed in the selection stage.", "",
        "## Selection (validation split)", "",
        "Validation accuracy per seed and its mean; the selected setting's mean in bold.", "",
        *_selection_tables(r), "",
        f"Selected: CLS-GAN {_fmt_setting(ch['clsgan']['setting'])} (validation mean "
        f"{ch['clsgan']['val_mean']:.3f}); labels-only lr = {ch['supervised']['setting']['lr']:g} "
        f"({ch['supervised']['val_mean']:.3f}); LogisticRegression C = {ch['logreg']['setting']['c']:g} "
        f"({ch['logreg']['val_mean']:.3f}).", "",
        *_test_section(r), "",
        r.theorem3 or THEOREM3_NOTE]
    return "\n".join(text).rstrip() + "\n"


_CSV_FIELDS = ("stage", "method", "seed", "lam", "tau", "gamma_ul", "lr", "c", "val_accuracy", "test_accuracy",
               "diverged")


def write_report(r: GridResult, out_dir) -> list[Path]:
    """``clsgan.md`` (:func:`report_markdown`), ``clsgan_grid.json`` (``asdict(r)``) and ``clsgan_grid.csv`` (one
    row per model and stage) in ``out_dir``, each through :func:`lsgan_theory.output.write_atomic`."""
    out = Path(output.writable_folder(out_dir, what="out"))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=_CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for stage in ("selection", "test"):
        for row in (getattr(r, stage) or {"rows": []})["rows"]:
            w.writerow(dict(row, stage=stage))
    return [write_text(out / "clsgan.md", report_markdown(r), what="out"),
            write_json(out / "clsgan_grid.json", asdict(r), what="out"),
            write_text(out / "clsgan_grid.csv", buf.getvalue(), what="out")]
