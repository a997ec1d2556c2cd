"""Benchmark: the non-parametric LS-GAN (Loss-Sensitive GAN) LP — ``nonparametric.solve`` vs the general LP.

Prints, side by side in one run, the wall time of the package's solver, of the same solver with cold-started box LPs
(``warm=False``: every box LP from scratch through ``scipy.optimize.linprog``) and of the fully written-out LP (HiGHS,
all n·m hinge variables and all Lipschitz pairs) for growing n = m, the ratios, the relative difference of the optima,
and the fitted scaling exponent t ∝ n^a of each.  The target size is then timed on ``--target-seeds`` further
data sets (instances differ by up to 2× in time).  The general LP is skipped once one of its runs exceeds
``--general-budget`` seconds (it only gets slower); the package's solver once it exceeds ``--budget``.

    python benchmarks/nonparametric.py                 # 1-D and 2-D, default sizes
    python benchmarks/nonparametric.py --dims 1 --ns 250 500 1000 2000

Targets from issue #5 (2 CPU cores): 1-D n = m = 2000 in ≤ 10 s; 2-D n = m = 500 in ≤ 60 s.
Data: real N(0, I), generated N(1, 1.5² I); λ = 1, κ = 2, margin L1 (1-D) / L2 (2-D).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from lsgan_theory import nonparametric as npm

TARGETS = {1: (2000, 10.0), 2: (500, 60.0)}


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


def run(dims, ns_by_dim, budget, general_budget, seed, lam=1.0, kappa=2.0, cold=True, target_seeds=4):
    for d in dims:
        margin = "l1" if d == 1 else "l2"
        ns = ns_by_dim[d]
        print(f"\n== d = {d}, margin {margin}, λ = {lam}, κ = {kappa}; n = m ==")
        print(f"{'n':>6} {'solve [s]':>10} {'cold [s]':>9} {'cold/warm':>9} {'general LP [s]':>15} {'ratio':>8} "
              f"{'rel diff':>9} {'rounds':>6} {'explicit pairs':>15} {'active %':>8}")
        t_s, t_g, t_c, skip_g, skip_s = [], [], [], False, False
        for n in ns:
            real, fake = _data(n, d, seed)
            if skip_s:
                t_s.append(None)
                t_g.append(None)
                print(f"{n:>6} {'skipped':>10}")
                continue
            t0 = time.perf_counter()
            sol = npm.solve(real, fake, lam, kappa, margin)
            ts = time.perf_counter() - t0
            t_s.append(ts)
            tc = None
            if cold:
                t0 = time.perf_counter()
                sc = npm.solve(real, fake, lam, kappa, margin, warm=False)
                tc = time.perf_counter() - t0
                assert abs(sc.objective - sol.objective) <= 1e-9 * abs(sol.objective), "warm and cold optima differ"
            t_c.append(tc)
            tg, rel = None, None
            if not skip_g:
                t0 = time.perf_counter()
                _, ref = npm.solve_general_lp(real, fake, lam, kappa, margin)
                tg = time.perf_counter() - t0
                rel = abs(sol.objective - ref) / abs(ref)
                skip_g = tg > general_budget
            t_g.append(tg)
            print(f"{n:>6} {ts:>10.2f} {('%.2f' % tc) if tc is not None else '':>9} "
                  f"{('%.1f' % (tc / ts)) if tc is not None else '':>9} "
                  f"{('%.2f' % tg) if tg is not None else 'skipped':>15} "
                  f"{('%.1f' % (tg / ts)) if tg is not None else '':>8} {('%.0e' % rel) if rel is not None else '':>9} "
                  f"{sol.stats['rounds']:>6} {sol.stats['explicit_pairs']:>15} {100 * sol.active.mean():>8.1f}",
                  flush=True)
            skip_s = ts > budget
        print(f"fitted exponent t ∝ n^a: solve a = {_fit(ns, t_s):.2f}, cold = {_fit(ns, t_c):.2f}, "
              f"general LP a = {_fit(ns, t_g):.2f}")
        tn, tt = TARGETS[d]
        if tn in ns and t_s[ns.index(tn)] is not None:
            got = [t_s[ns.index(tn)]]
            for s in range(1, target_seeds + 1):
                real, fake = _data(tn, d, seed + s)
                t0 = time.perf_counter()
                npm.solve(real, fake, lam, kappa, margin)
                got.append(time.perf_counter() - t0)
            print(f"target n = {tn}: {' / '.join('%.1f' % g for g in got)} s on {len(got)} data sets (seeds "
                  f"{seed}..{seed + target_seeds}), worst {max(got):.1f} s vs ≤ {tt:.0f} s required -> "
                  f"{'met' if max(got) <= tt else 'NOT met'}")
        else:
            print(f"target n = {tn} (≤ {tt:.0f} s): not measured in this run")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dims", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--ns", type=int, nargs="+", default=None, help="sizes n = m (default per dimension)")
    ap.add_argument("--budget", type=float, default=120.0, help="stop growing n after a solve slower than this")
    ap.add_argument("--general-budget", type=float, default=30.0, help="stop running the general LP after this")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-start (warm=False) column")
    ap.add_argument("--target-seeds", type=int, default=4, help="further data sets timed at the target size")
    a = ap.parse_args(argv)
    default = {1: [100, 200, 400, 800, 1200, 2000], 2: [50, 100, 200, 350, 500]}
    ns_by_dim = {d: (a.ns if a.ns else default[d]) for d in a.dims}
    run(a.dims, ns_by_dim, a.budget, a.general_budget, a.seed, cold=not a.no_cold, target_seeds=a.target_seeds)


if __name__ == "__main__":
    main()
