"""``lsgan-theory verify --quick`` as a user runs it: wall time, CPU time and verdict counts (issue 32's target:
≤ 5 minutes on 2 cores with ≤ 2 inconclusive claims).

Runs the installed command in a subprocess (one torch thread per process, as ``make report`` does) with ``--jobs N``
for each N given, into a temporary folder, and prints per run: the process's wall time, its CPU time and that of its
workers (``getrusage`` of the children), the sum of the claims' own wall seconds (what one process would need, less
its start-up), the longest claim (the floor for any number of workers), the verdict counts and the load average
before and after.  ``--jobs 1`` beside ``--jobs 2`` gives the one-process baseline in the same run (about twice as
long).  Usage::

    python benchmarks/verify_quick.py                 # --jobs 2
    python benchmarks/verify_quick.py --jobs 1 2      # the one-process run too
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path


def _run(jobs: int, out: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "lsgan_theory", "verify", "--quick", "--quiet", "--jobs", str(jobs),
                           "--out", str(out)], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"verify --jobs {jobs} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    doc = json.loads((out / "claims.json").read_text())
    ran = [c for c in doc["claims"] if c["status"] != "skipped"]
    longest = max(ran, key=lambda c: c["seconds"])
    return {"jobs": jobs, "wall": wall, "cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
            "claims_wall": sum(c["seconds"] for c in ran), "claims_cpu": sum(c["cpu_seconds"] for c in ran),
            "longest": (longest["id"], longest["seconds"]), "counts": Counter(c["status"] for c in doc["claims"]),
            "load": (load0, os.getloadavg()), "git": doc["meta"]["git"], "device": doc["meta"]["device"]}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", nargs="+", type=int, default=[2], help="worker processes, one run each (default 2)")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for j in args.jobs:
            rows.append(_run(j, Path(tmp) / f"jobs{j}"))
    r0 = rows[0]
    print(f"# benchmarks/verify_quick.py --jobs {' '.join(map(str, args.jobs))}, git {r0['git']}, "
          f"{time.strftime('%Y-%m-%d')}, {r0['device']}, one torch thread per process")
    print(f"{'jobs':>4}  {'wall s':>7}  {'CPU s':>7}  {'Σ claim wall s':>14}  {'Σ claim CPU s':>13}  longest claim (s)"
          f"{'':24}  load avg before → after   verdicts")
    for r in rows:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(r["counts"].items(), key=lambda kv: -kv[1]))
        lid, ls = r["longest"]
        print(f"{r['jobs']:>4}  {r['wall']:7.1f}  {r['cpu']:7.1f}  {r['claims_wall']:14.1f}  {r['claims_cpu']:13.1f}  "
              f"{lid} ({ls:.1f}){'':{max(0, 34 - len(lid))}}  {r['load'][0][0]:.2f} → {r['load'][1][0]:.2f}"
              f"{'':12}{counts}")
    print("target (issue 32): wall ≤ 300 s on 2 cores, ≤ 2 inconclusive claims")


if __name__ == "__main__":
    main()
