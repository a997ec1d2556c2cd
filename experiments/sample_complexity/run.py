"""The long CPU run of the sample-complexity experiments (issue 16, items 2–5) and its committed tables and figures.

    OMP_NUM_THREADS=1 PYTHONPATH=. python experiments/sample_complexity/run.py train   # resumable (sweeps store)
    PYTHONPATH=. python experiments/sample_complexity/run.py report                    # CSV + figures + summary

``train`` runs the default variant of the four specs (experiments/{critic_generalisation,data_generalisation,gls_nu,
mixture_2d}.toml) with one torch thread into runs/sample_complexity/NAME (SQLite stores, not committed); killed and
started again it resumes at the first unfinished pack.  ``report`` writes, per experiment, results.csv (one row per
run: configuration, status, final metrics), curves.csv (the recorded curves, long format, every 5th recorded step and the last) and the figures and
readings into this folder (lsgan_theory._claims.sample_complexity.report_experiment).  ``--variant quick|full``
selects a spec variant (``full``: a GPU or a long CPU run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NAMES = ("critic_generalisation", "data_generalisation", "gls_nu", "mixture_2d")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("stage", choices=("train", "report"))
    ap.add_argument("--variant", choices=("quick", "full"), default=None)
    ap.add_argument("--only", nargs="+", choices=NAMES, default=list(NAMES))
    ap.add_argument("--runs", default=str(ROOT / "runs" / "sample_complexity"))
    ap.add_argument("--max-packs", type=int, default=None, help="stop after this many packs (resume later)")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from lsgan_theory.studies.sample_complexity import run_experiment

    suffix = f"-{args.variant}" if args.variant else ""
    log = HERE / f"timing{suffix}.json"
    timing = json.loads(log.read_text()) if log.exists() else {}
    for name in args.only:
        out = Path(args.runs) / f"{name}{suffix}"
        if args.stage == "train":
            t0, load0 = time.time(), os.getloadavg()
            _, _, summ = run_experiment(name, out, variant=args.variant, quiet=False, max_packs=args.max_packs)
            entry = timing.setdefault(name, {"wall_s": 0.0, "segments": []})
            entry["segments"].append({"start_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)),
                                      "wall_s": time.time() - t0, "loadavg_start": load0,
                                      "loadavg_end": os.getloadavg(), "trained": summ["trained"],
                                      "counts": summ["counts"], "git": summ["git"]})
            entry["wall_s"] = sum(s["wall_s"] for s in entry["segments"])
            entry.update(host=platform.node(), cpu=platform.processor() or platform.machine(),
                         cores=os.cpu_count(), torch_threads=1, python=platform.python_version(),
                         torch=torch.__version__)
            log.write_text(json.dumps(timing, indent=2))
            print(f"{name}: {summ['counts']} in {time.time() - t0:.0f} s", flush=True)
        else:
            from lsgan_theory._claims.sample_complexity import report_experiment
            from lsgan_theory.sweeps.results import load, load_curves

            df, curves = load(out), load_curves(out)
            folder = HERE / f"{name}{suffix}"
            folder.mkdir(exist_ok=True)
            df.drop(columns=[c for c in ("host", "worker") if c in df]).to_csv(folder / "results.csv", index=False)
            steps = sorted(curves["step"].unique())
            keep = set(steps[4::5]) | {steps[-1]} if steps else set()  # every 5th recorded step and the last
            curves[curves["step"].isin(keep)].to_csv(folder / "curves.csv", index=False, float_format="%.5g")
            rep = report_experiment(name, df, curves, folder)
            from lsgan_theory.claims import combine

            terms = ["", f"**Checks** (verdict of the claim on these data: {combine(rep['checks'])}; pass: statistic ≤ "
                     f"tolerance < alternative statistic):", "",
                     "| check | statistic | tolerance | tolerance basis | alternative | alternative statistic | status |",
                     "|---|---|---|---|---|---|---|", *[c.row() for c in rep["checks"]]]
            (folder / "reading.md").write_text(rep["text"] + "\n" + "\n".join(terms) + "\n")
            print(f"{name}: {folder}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
