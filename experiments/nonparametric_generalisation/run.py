"""The extended non-parametric generalisation study (issue 20): d = 1 to n = 2¹³, d = 2 to 2¹¹, d = 3 to 2¹⁰.

    OMP_NUM_THREADS=1 PYTHONPATH=. python experiments/nonparametric_generalisation/run.py            # all three
    OMP_NUM_THREADS=1 PYTHONPATH=. python experiments/nonparametric_generalisation/run.py --dims 1   # one of them
    PYTHONPATH=. python experiments/nonparametric_generalisation/run.py --dims 2 3 --recheck 2        # re-solve some

Every finished LP (the population value on its grid and on the halved grid, each (n, seed) optimum) is appended to
``checkpoint/gaps_d=K.jsonl`` in this folder with its configuration, seconds, package version and git revision; the
command killed at any point and started again resumes at the first unfinished LP (it never repeats or loses one).
Progress goes to stderr, one line per LP.  When every LP of the requested dimensions is recorded it writes
``generalisation_d123.md`` (the table, the claim's checks and their terms; ``_d1``, ``_d23`` … for other ``--dims``,
``_seedK`` appended for ``--seed K`` ≠ 0), ``.json`` (the results and the run's provenance) and the figure beside
this file.  Table, figure and checks are those of the claim ``nonparametric-generalisation`` (``lsgan-theory verify
--full``), which runs the default sizes; this script runs ``generalisation_study(extended=True)``.  The slope
intervals are bootstraps drawn from one generator across the dimensions, so ``--dims 2`` alone draws other
resamples than ``--dims 1 2 3`` (same data, intervals equal up to bootstrap noise).  ``--recheck K`` solves nothing
new: it re-solves the population value and seeds 0..K−1 at the largest n of each dimension with the code at hand and
prints the relative differences to the recorded optima (a record made by other code is checked this way).
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
    def count(text):
        k = int(text) if text.lstrip("+").isdigit() else -1
        if k < 0:
            raise argparse.ArgumentTypeError(f"{text!r}: a whole number >= 0")
        return k

    ap.add_argument("--recheck", type=count, default=0, metavar="K",
                    help="re-solve S* and K seeds at the largest n per dimension and compare with the records")
    args = ap.parse_args(argv)
    if args.recheck:
        return recheck(args.dims, args.seed, args.recheck)
    from lsgan_theory._claims.nonparametric import generalisation_checks, generalisation_report
    from lsgan_theory.claims import combine
    from lsgan_theory.provenance import provenance
    from lsgan_theory.studies.nonparametric import generalisation_study

    t0, load0 = time.time(), os.getloadavg()
    res = generalisation_study(seed=args.seed, dims=tuple(args.dims), extended=True,
                               checkpoint_dir=HERE / "checkpoint",
                               progress=lambda line: print(line, file=sys.stderr, flush=True))
    stem = "generalisation_d" + "".join(map(str, args.dims)) + (f"_seed{args.seed}" if args.seed else "")
    text, figs, data = generalisation_report(res, HERE / stem)
    checks = generalisation_checks(res)
    meta = {"command": " ".join(["python experiments/nonparametric_generalisation/run.py", *(argv or sys.argv[1:])]),
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


def recheck(dims, seed: int, k: int) -> int:
    """Re-solve recorded LPs (S* and seeds 0..k−1 at the largest n) and print the relative differences."""
    import numpy as np

    from lsgan_theory import nonparametric as npm
    from lsgan_theory.studies.nonparametric import generalisation_config

    cfg = generalisation_config(extended=True)
    worst, checked = 0.0, 0
    for d in dims:
        P, Q, margin, ns, _, grid = cfg[f"d={d}"]
        path = HERE / "checkpoint" / f"gaps_d={d}.jsonl"
        recs = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        recs = [r for r in recs if r["config"]["seed"] == seed and r["config"]["grid"] == grid]
        pick = [r for r in recs if r["what"] == "population"] + [r for r in recs if r["n"] == ns[-1] and r["s"] < k]
        for r in pick:
            if r["what"] == "population":
                v = npm.population_solution(P, Q, r["config"]["lam"], r["config"]["kappa"], margin, size=grid).objective
            else:
                rng = np.random.default_rng([seed, r["n"], r["s"]])
                v = npm.solve(P.sample(r["n"], rng), Q.sample(r["n"], rng), r["config"]["lam"], r["config"]["kappa"],
                              margin).objective
            rel = abs(v - r["objective"]) / abs(r["objective"])
            worst, checked = max(worst, rel), checked + 1
            print(f"d = {d} {r['what']} n = {r['n']} seed {r['s']} (recorded by git {r['provenance']['git']}): "
                  f"{r['objective']!r} recorded, {v!r} now, relative difference {rel:.1e}", flush=True)
    if not checked:
        print(f"recheck: no records for seed {seed} of d = {', '.join(map(str, dims))} in {HERE / 'checkpoint'}",
              file=sys.stderr)
        return 2
    print(f"worst relative difference {worst:.1e} over {checked} LPs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
