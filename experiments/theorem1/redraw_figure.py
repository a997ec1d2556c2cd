"""Redraw theorem1_lambda_sweep.png/.pdf of the one-hour λ sweep from its saved tables (issue 29: every λ figure draws
the paper's 2/λ and the sharp 2/(1+λ)).  The store of that run is not kept; the figure is the same code path as
``lsgan-theory theorem1`` (:func:`lsgan_theory.plots.theorem1_figure`) fed from theorem1_summary.csv and
theorem1_verdicts.json beside this script.

    python experiments/theorem1/redraw_figure.py
"""

from __future__ import annotations

import json
from pathlib import Path


def main() -> int:
    import pandas as pd

    from lsgan_theory import plots

    here = Path(__file__).resolve().parent
    summary = pd.read_csv(here / "theorem1_summary.csv")
    verdicts = json.loads((here / "theorem1_verdicts.json").read_text())["verdicts"]
    figdata = {}
    for v in verdicts:
        rows = summary[(summary["target"] == v["target"]) & (summary["n_data"] == v["n_data"])].sort_values("lam")
        d = figdata.setdefault(v["target"], {"lams": rows["lam"].tolist(), "floor": v["capacity_floor"],
                                             "regimes": {}})
        d["regimes"][v["regime"]] = {"mean": rows["l1_mean"].tolist(), "lo": rows["l1_ci_lo"].tolist(),
                                     "hi": rows["l1_ci_hi"].tolist(), "verdict": v["verdict"]}
    for f in plots.theorem1_figure(figdata, here / "theorem1_lambda_sweep"):
        print(f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
