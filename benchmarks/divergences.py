"""Time per divergence (issue #2 targets): 1-D mixtures at 1e-9 (< 20 ms each), 2-D densities at 1e-6 (< 1 s).

Run: .venv/bin/python benchmarks/divergences.py
Prints the median of several runs per divergence together with the value and its abserr.
"""

import statistics
import time

from lsgan_theory import densities as D
from lsgan_theory import divergences as V

NAMES = ["kl", "reverse_kl", "js", "pearson_chi2", "neyman_chi2", "hellinger2", "tv", "triangular", "w1"]


def bench(p, q, names, atol, repeat):
    rows = []
    for n in names:
        f = V.by_name(n)
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            e = f(p, q, atol=atol)
            times.append(time.perf_counter() - t0)
        rows.append((n, statistics.median(times), e))
    return rows


def show(title, rows, target):
    print(f"\n{title}")
    print(f"{'divergence':14s} {'median time':>12s} {'value':>20s} {'abserr':>10s}  target")
    for n, t, e in rows:
        ok = "ok" if t < target else "SLOW"
        print(f"{n:14s} {t * 1e3:10.2f}ms {e.value:20.12g} {e.abserr:10.2g}  < {target * 1e3:.0f} ms {ok}")


if __name__ == "__main__":
    p = D.parse("mixture(normal(-2,0.5),normal(1,0.8);0.3,0.7)")
    q = D.parse("mixture(normal(-1,0.6),normal(1.5,0.9),normal(3,0.4);0.4,0.4,0.2)")
    show(f"1-D: {p.spec} vs {q.spec}, atol 1e-9", bench(p, q, NAMES, 1e-9, 7), 0.020)
    a = D.Mixture([D.Normal2D((0, 0), 1.0), D.Normal2D((2, 1), 0.6)], [0.6, 0.4])
    b = D.Normal2D((0.5, 0.3), 1.2)
    show(f"2-D: {a.spec} vs {b.spec}, atol 1e-6", bench(a, b, NAMES, 1e-6, 3), 1.0)
    r, r2 = D.Ring(), D.Ring(radius=1.1)
    show(f"2-D (narrow modes): {r.spec} vs {r2.spec}, atol 1e-6",
         bench(r, r2, ["kl", "js", "hellinger2", "tv", "triangular", "w1"], 1e-6, 1), 1.0)
