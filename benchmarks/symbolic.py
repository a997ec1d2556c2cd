"""Benchmark: time to derive every family from a cold start (fresh interpreter), and the cache speed-up.

Run: ``.venv/bin/python benchmarks/symbolic.py``.  Each family is derived once in a fresh subprocess (cold: imports
excluded, cache empty) and then again in the same process (cached); the table prints both side by side and the
total for the whole table (target: under 30 s on 2 CPU cores).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from lsgan_theory.symbolic import FAMILIES, derive
t_import = time.perf_counter() - t0
out = {"import": t_import, "cold": {}, "cached": {}}
for fam in FAMILIES:
    t = time.perf_counter(); derive(fam); out["cold"][fam] = time.perf_counter() - t
for fam in FAMILIES:
    t = time.perf_counter(); derive(fam); out["cached"][fam] = time.perf_counter() - t
t = time.perf_counter()
from lsgan_theory.symbolic.proofcheck import check_all
res = check_all()
out["proofs"] = time.perf_counter() - t
out["proofs_ok"] = all(r.passed for r in res)
print(json.dumps(out))
"""


def main() -> int:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"{'family':16s} {'cold (s)':>9s} {'cached (s)':>11s} {'speed-up':>9s}")
    for fam, tc in r["cold"].items():
        tw = r["cached"][fam]
        print(f"{fam:16s} {tc:9.3f} {tw:11.2e} {tc / max(tw, 1e-9):9.0f}x")
    total = sum(r["cold"].values())
    print(f"import lsgan_theory.symbolic: {r['import']:.2f} s")
    print(f"whole table, cold: {total:.2f} s (+ import {r['import']:.2f} s); fresh-process wall time {wall:.2f} s; "
          f"target < 30 s: {'met' if wall < 30 else 'NOT met'}")
    print(f"check all proofs: {r['proofs']:.2f} s, all pass: {r['proofs_ok']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
