"""The N-dependence of the uniform bound at small m (issue 32): train, solve the LP class, report.

    OMP_NUM_THREADS=1 PYTHONPATH=. python experiments/sample_complexity/capacity.py train    # resumable
    OMP_NUM_THREADS=1 PYTHONPATH=. python experiments/sample_complexity/capacity.py lp       # the κ-Lipschitz class
    PYTHONPATH=. python experiments/sample_complexity/capacity.py report                    # tables + figure

``train`` runs the default variant of experiments/critic_capacity.toml with one torch thread into
runs/critic_capacity (a SQLite store, not committed; killed and started again it resumes); ``lp`` solves the LP class
at the same m and seeds for κ ∈ lsgan_theory._claims.capacity.KAPPAS and writes lp.csv and lp.json here; ``report``
writes results.csv (one row per trained run), reading.md (tables and the claim's checks, the same code as
``verify --full --only sample-complexity-capacity``), the figure and data.json into critic_capacity/.  Each stage
adds its CPU and wall seconds to critic_capacity/timing.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = HERE / "critic_capacity"
RUNS = ROOT / "runs" / "critic_capacity"


def _log(stage: str, t0: float, c0: float, **extra) -> None:
    from lsgan_theory.output import loads, write_json

    path = OUT / "timing.json"
    timing = loads(path.read_text()) if path.exists() else {}
    timing[stage] = {"start_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)), "wall_s": time.time() - t0,
                     "cpu_s": time.process_time() - c0, "loadavg_end": os.getloadavg(), **extra}
    write_json(path, timing)


def _lp(seeds: int, ms: list) -> None:
    import numpy as np

    from lsgan_theory._claims.capacity import KAPPAS, LP_NODES
    from lsgan_theory.output import write_json, write_text
    from lsgan_theory.studies.critic_capacity import lp_class_gaps

    rows, meta = ["kappa,m,replica,s_star,s_star_err,s_emp_opt,opt_min,opt_upper,opt_lower"], {}
    for k in KAPPAS:
        res = lp_class_gaps(ms, seeds, k, nodes=LP_NODES)
        meta[f"{k:g}"] = {"s_star": res["s_star"], "s_star_err": res["s_star_err"], "quad_err": res["quad_err"],
                          "cpu_s": res["seconds"],
                          "nodes": res["nodes"], "lam": res["lam"], "tau": res["tau"]}
        for i, m in enumerate(res["m"]):
            for s in range(seeds):
                vals = [res[c][i, s] for c in ("s_emp_opt", "opt_min", "opt_upper", "opt_lower")]
                rows.append(f"{k:g},{int(m)},{s},{res['s_star']:.10g},{res['s_star_err']:.4g},"
                            + ",".join(f"{float(v):.10g}" for v in np.asarray(vals)))
    write_text(OUT / "lp.csv", "\n".join(rows) + "\n")
    write_json(OUT / "lp.json", meta)


def _load_lp() -> dict:
    import numpy as np
    import pandas as pd

    from lsgan_theory.output import loads

    tab = pd.read_csv(OUT / "lp.csv")
    meta = loads((OUT / "lp.json").read_text())
    lp = {}
    for k, g in tab.groupby("kappa"):
        ms = sorted(int(m) for m in g["m"].unique())
        res = {"m": np.asarray(ms), **{c: meta[f"{k:g}"][c] for c in ("s_star", "s_star_err", "quad_err")}}
        for c in ("s_emp_opt", "opt_min", "opt_upper", "opt_lower"):
            res[c] = np.stack([g[g["m"] == m].sort_values("replica")[c].to_numpy(float) for m in ms])
        lp[float(k)] = res
    return lp


def _report() -> None:
    from lsgan_theory._claims.capacity import capacity_report
    from lsgan_theory.claims import combine
    from lsgan_theory.output import write_json, write_text
    from lsgan_theory.sweeps.results import load

    df = load(RUNS)
    write_text(OUT / "results.csv", df.drop(columns=[c for c in ("host", "worker") if c in df]).to_csv(index=False))
    rep = capacity_report(df, _load_lp(), OUT)
    terms = ["", f"**Checks** (verdict of the claim on these data: {combine(rep['checks'])}; pass: statistic ≤ "
             f"tolerance < alternative statistic):", "",
             "| check | statistic | tolerance | tolerance basis | alternative | alternative statistic | status |",
             "|---|---|---|---|---|---|---|", *[c.row() for c in rep["checks"]]]
    write_text(OUT / "reading.md", rep["text"] + "\n" + "\n".join(terms) + "\n")
    write_json(OUT / "data.json", rep["data"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("stage", choices=("train", "lp", "report"))
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    t0, c0 = time.time(), time.process_time()
    if args.stage == "train":
        from lsgan_theory.studies.sample_complexity import run_experiment

        _, _, summ = run_experiment("critic_capacity", RUNS, quiet=False)
        _log("train", t0, c0, counts=summ["counts"], git=summ["git"], torch_threads=1)
    elif args.stage == "lp":
        from lsgan_theory.sweeps.results import load

        df = load(RUNS)
        _lp(int(df["replica"].nunique()), sorted(int(m) for m in df["n_data"].unique()))
        _log("lp", t0, c0)
    else:
        _report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
