"""The extended non-parametric generalisation study (issue 20): d = 1 to n = 2¹³, d = 2 to 2¹¹, d = 3 to 2¹⁰.

    OMP_NUM_THREADS=1 PYTHONPATH=. python experiments/nonparametric_generalisation/run.py            # all three
    OMP_NUM_THREADS=1 PYTHONPATH=. python experiments/nonparametric_generalisation/run.py --dims 1   # one of them

Every finished LP (the population value on its grid and on the halved grid, each (n, seed) optimum) is appended to
``checkpoint/gaps_d=K.jsonl`` in this folder with its configuration, seconds, package version and git revision; the
command killed at any point and started again resumes at the first unfinished LP (it never repeats or loses one).
Progress goes to stderr, one line per LP.  When every LP of the requested dimensions is recorded it writes
``reading.md`` (the table, the claim's checks and their terms), ``results.json`` and the figure beside this file —
the same table, figure and checks as ``lsgan-theory verify --full --only nonparametric-generalisation`` at the
default sizes (``lsgan_theory.studies.nonparametric.generalisation_study(extended=True)``).
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dims", type=int, nargs="+", choices=(1, 2, 3), default=[1, 2, 3])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    from lsgan_theory._claims.nonparametric import generalisation_checks, generalisation_report
    from lsgan_theory.claims import combine
    from lsgan_theory.provenance import provenance
    from lsgan_theory.studies.nonparametric import generalisation_study

    t0, load0 = time.time(), os.getloadavg()
    res = generalisation_study(seed=args.seed, dims=tuple(args.dims), extended=True,
                               checkpoint_dir=HERE / "checkpoint",
                               progress=lambda line: print(line, file=sys.stderr, flush=True))
    stem = "generalisation_d" + "".join(map(str, args.dims))
    text, figs, data = generalisation_report(res, HERE / stem)
    checks = generalisation_checks(res)
    meta = {"command": "python experiments/nonparametric_generalisation/run.py " + " ".join(argv or sys.argv[1:]),
            "seed": args.seed, "dims": args.dims, "wall_seconds_this_call": time.time() - t0,
            "loadavg_start": load0, "loadavg_end": os.getloadavg(), "cores": os.cpu_count(),
            "cpu": platform.processor() or platform.machine(), **provenance()}
    (HERE / f"{stem}.json").write_text(json.dumps({"meta": meta, "results": data}, indent=1, default=str))
    terms = ["", f"**Checks** (verdict on these data: {combine(checks)}; pass: statistic ≤ tolerance < alternative "
             "statistic):", "", "| check | statistic | tolerance | tolerance basis | alternative | alternative "
             "statistic | status |", "|---|---|---|---|---|---|---|", *[c.row() for c in checks]]
    (HERE / f"{stem}.md").write_text(text + "\n" + "\n".join(terms) + "\n")
    print(f"wrote {HERE / stem}.md, .json and {', '.join(Path(f).name for f in figs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
