"""Benchmark: the non-parametric LS-GAN (Loss-Sensitive GAN) LP — ``nonparametric.solve`` vs the general LP.

Prints, side by side in one run, the wall time of the package's solver, optionally of an older version of the module
(``--baseline FILE``, e.g. ``git show fe25bfa:lsgan_theory/nonparametric.py > /tmp/old.py``), of the same solver
with cold-started box LPs (``--cold``: every box LP from scratch through ``scipy.optimize.linprog``) and of the
fully written-out LP (HiGHS, all n·m hinge variables and all Lipschitz pairs) for growing n = m, the ratios, the
relative difference of the optima, and the fitted scaling exponent t ∝ n^a of each over the whole range.  The target
size of each dimension is then solved on ``--target-seeds`` data sets, each in a fresh process that reports its wall
time and its peak memory (growth of the peak resident size VmHWM, reset through /proc/self/clear_refs, over the
resident size before the call; it counts HiGHS' own allocations), and the worst is compared with the target.  The
general LP is skipped once one of its runs exceeds ``--general-budget`` seconds or n exceeds ``--general-max-n``;
the baseline and the solver once a run exceeds ``--budget``.  The machine's load average is printed at the start and
the end (timings on a shared machine are only comparable within one run); the target runs also report their CPU
time (the solver is single-threaded, so on a loaded machine CPU time is the closer estimate of an idle wall time).

    python benchmarks/nonparametric.py                                  # d = 1, 2, 3, default sizes and targets
    python benchmarks/nonparametric.py --dims 1 --ns 500 1000 2000 --target-seeds 0
    python benchmarks/nonparametric.py --baseline /tmp/old.py --dims 2 --ns 250 500

Targets from issue #20 (2 CPU cores): 1-D n = m = 10⁴ in ≤ 60 s and ≤ 4 GiB; 2-D n = m = 2000 (L2) in ≤ 60 s;
3-D n = m = 1000 (L2) in ≤ 60 s; the worst of five data sets.
Data: real N(0, I), generated N(1, 1.5² I); λ = 1, κ = 2, margin L1 (1-D) / L2 (d ≥ 2).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time

import numpy as np

from lsgan_theory import nonparametric as npm

TARGETS = {1: (10_000, 60.0, 4 * 2**30), 2: (2000, 60.0, None), 3: (1000, 60.0, None)}
# the solver before the box-LP cap (commit 622ec93), wall time at the target size measured under load (2 cores
# shared): printed beside the targets for reference only
BEFORE = {1: "499-630 s", 2: "177 s", 3: "98 s"}
DEFAULT_NS = {1: [250, 500, 1000, 2000, 4000], 2: [125, 250, 500, 1000], 3: [125, 250, 500]}
LAM, KAPPA = 1.0, 2.0

_ONE = """
import json, sys, time
import numpy as np
sys.path[:0] = [{root!r}, {here!r}]
from nonparametric import _data
from lsgan_theory import nonparametric as npm
def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key))
real, fake = _data({n}, {d}, {seed})
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak resident size VmHWM (ru_maxrss would carry the parent's size over exec)
before = status("VmRSS:")
t0, c0 = time.perf_counter(), time.process_time()
sol = npm.solve(real, fake, {lam}, {kappa}, {margin_kind!r}, max_memory={max_memory})
t, cpu = time.perf_counter() - t0, time.process_time() - c0
peak = status("VmHWM:")
print(json.dumps({{"seconds": t, "cpu_seconds": cpu, "peak_growth": peak - before, "objective": sol.objective,
                   "rounds": sol.stats["rounds"], "explicit_pairs": sol.stats["explicit_pairs"],
                   "estimate": npm.estimate_memory({n}, {n}, {d})}}))
"""


def _data(n, d, seed):
    rng = np.random.default_rng([seed, n, d])
    shp = (n,) if d == 1 else (n, d)
    return rng.normal(size=shp), rng.normal(size=shp) * 1.5 + 1.0


def _fit(ns, ts):
    ok = [(n, t) for n, t in zip(ns, ts) if t is not None and t > 0.05]
    if len(ok) < 2:
        return float("nan")
    a, _ = np.polyfit(np.log([n for n, _ in ok]), np.log([t for _, t in ok]), 1)
    return float(a)


def _load(path):
    spec = importlib.util.spec_from_file_location("nonparametric_baseline", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _one_process(n, d, seed, max_memory):
    """Solve one instance in a fresh process: wall time and peak memory growth of that solve alone."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = _ONE.format(root=root, here=os.path.dirname(os.path.abspath(__file__)), n=n, d=d, seed=seed, lam=LAM,
                       kappa=KAPPA, margin_kind="l1" if d == 1 else "l2", max_memory=max_memory)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1])
    return json.loads(out.stdout)


def run(dims, ns_by_dim, budget, general_budget, seed, baseline=None, cold=False, target_seeds=5, max_memory=None,
        general_max_n=250):
    old = _load(baseline) if baseline else None
    print(f"load average at start: {' '.join('%.2f' % v for v in os.getloadavg())} on {os.cpu_count()} CPUs")
    for d in dims:
        margin = "l1" if d == 1 else "l2"
        ns = ns_by_dim[d]
        print(f"\n== d = {d}, margin {margin}, λ = {LAM}, κ = {KAPPA}; n = m ==")
        print(f"{'n':>6} {'solve [s]':>10} {'baseline [s]':>12} {'base/solve':>10} {'cold [s]':>9} "
              f"{'general LP [s]':>15} {'LP/solve':>8} {'rel diff':>9} {'rounds':>6} {'explicit':>9} {'active %':>8}")
        t_s, t_b, t_c, t_g = [], [], [], []
        skip = {"s": False, "b": old is None, "c": not cold, "g": False}
        for n in ns:
            real, fake = _data(n, d, seed)
            if skip["s"]:
                t_s.append(None), t_b.append(None), t_c.append(None), t_g.append(None)
                print(f"{n:>6} {'skipped':>10}")
                continue
            ts, sol = _timed(lambda: npm.solve(real, fake, LAM, KAPPA, margin, max_memory=max_memory))
            refs = [sol.objective]
            tb = tc = tg = None
            if not skip["b"]:
                tb, sb = _timed(lambda: old.solve(real, fake, LAM, KAPPA, margin, max_memory=max_memory))
                refs.append(sb.objective)
                skip["b"] = tb > budget
            if not skip["c"]:
                tc, sc = _timed(lambda: npm.solve(real, fake, LAM, KAPPA, margin, warm=False, max_memory=max_memory))
                refs.append(sc.objective)
                skip["c"] = tc > budget
            if not skip["g"] and n <= general_max_n:
                tg, (_, ref) = _timed(lambda: npm.solve_general_lp(real, fake, LAM, KAPPA, margin))
                refs.append(ref)
                skip["g"] = tg > general_budget
            rel = (max(refs) - min(refs)) / abs(refs[-1])
            t_s.append(ts), t_b.append(tb), t_c.append(tc), t_g.append(tg)

            def f(v, w):
                return ("%.2f" % v if v is not None else "-").rjust(w)

            print(f"{n:>6} {f(ts, 10)} {f(tb, 12)} {f(tb / ts if tb else None, 10)} {f(tc, 9)} {f(tg, 15)} "
                  f"{f(tg / ts if tg else None, 8)} {rel:>9.0e} {sol.stats['rounds']:>6} "
                  f"{sol.stats['explicit_pairs']:>9} {100 * sol.active.mean():>8.1f}", flush=True)
            skip["s"] = ts > budget
        print(f"fitted exponent t ∝ n^a over n = {ns[0]}..{ns[-1]}: solve a = {_fit(ns, t_s):.2f}, "
              f"baseline a = {_fit(ns, t_b):.2f}, cold a = {_fit(ns, t_c):.2f}, general LP a = {_fit(ns, t_g):.2f}")
        tn, tt, tm = TARGETS[d]
        if target_seeds > 0:
            got = []
            for s in range(seed, seed + target_seeds):
                r = _one_process(tn, d, s, max_memory)
                got.append(r)
                print(f"target n = {tn}, seed {s}: {r['seconds']:.1f} s (CPU {r['cpu_seconds']:.1f} s), peak memory growth "
                      f"{r['peak_growth'] / 2**30:.2f} GiB (estimate {r['estimate'] / 2**30:.2f} GiB), "
                      f"{r['rounds']} rounds, {r['explicit_pairs']} explicit pairs", flush=True)
            med = float(np.median([r["seconds"] for r in got]))
            print(f"fitted exponent t ∝ n^a over the whole range n = {ns[0]}..{tn} (the sizes above and the median "
                  f"of the target runs, {med:.1f} s): a = {_fit(list(ns) + [tn], t_s + [med]):.2f}")
            worst_t = max(r["seconds"] for r in got)
            worst_c = max(r["cpu_seconds"] for r in got)
            worst_m = max(r["peak_growth"] for r in got)
            ok = worst_t <= tt and (tm is None or worst_m <= tm)
            print(f"target n = {tn}: worst of {len(got)} data sets {worst_t:.1f} s wall, {worst_c:.1f} s CPU "
                  f"(≤ {tt:.0f} s required; before the cap: {BEFORE[d]} wall under load)"
                  + (f", {worst_m / 2**30:.2f} GiB (≤ {tm / 2**30:.0f} GiB required)" if tm else "")
                  + f" -> {'met' if ok else 'NOT met'}")
    print(f"\nload average at end: {' '.join('%.2f' % v for v in os.getloadavg())}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dims", type=int, nargs="+", default=[1, 2, 3], choices=[1, 2, 3])
    ap.add_argument("--ns", type=int, nargs="+", default=None, help="sizes n = m (default per dimension)")
    ap.add_argument("--budget", type=float, default=120.0, help="stop growing n after a solve slower than this")
    ap.add_argument("--general-budget", type=float, default=30.0, help="stop running the general LP after this")
    ap.add_argument("--general-max-n", type=int, default=250, help="largest n given to the general LP (its N² rows)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--baseline", default=None, help="path of an older nonparametric.py to time beside this one")
    ap.add_argument("--cold", action="store_true", help="also time warm=False (every box LP through linprog)")
    ap.add_argument("--target-seeds", type=int, default=5, help="data sets solved at the target size (0: none)")
    ap.add_argument("--max-memory", type=float, default=None, help="max_memory passed to solve (bytes)")
    a = ap.parse_args(argv)
    ns_by_dim = {d: (a.ns if a.ns else DEFAULT_NS[d]) for d in a.dims}
    run(a.dims, ns_by_dim, a.budget, a.general_budget, a.seed, baseline=a.baseline, cold=a.cold,
        target_seeds=a.target_seeds, max_memory=a.max_memory, general_max_n=a.general_max_n)


if __name__ == "__main__":
    main()
