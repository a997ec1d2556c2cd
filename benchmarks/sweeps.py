"""Sweep machinery vs. calling the batched trainer directly; store throughput; Dask dispatch per task.

Measured side by side in one process (issue #15):

* **overhead**: the same N runs (one pack: LS-GAN on normal(0,1), MLPs 1→32→32→1, 300 steps) trained and evaluated
  by a direct ``train`` + ``evaluate`` call, then by ``sweeps.sweep`` (spec expansion, planning, store, progress)
  into a fresh folder; the ratio sweep / direct − 1 is the sweep's overhead (target ≤ 10 %);
* **store**: ``Store.write`` of K synthetic runs, each with S recorded steps of two curves and 6 final metrics, one
  transaction per run: runs/s and metric rows/s;
* **dask**: per-task dispatch time of a no-op task on a ``LocalCluster`` of 2 workers (submit → result, 200 tasks),
  skipped without the ``distributed`` extra.

Usage::

    python benchmarks/sweeps.py                 # N = 16 runs, K = 500 runs × S = 200 steps
    python benchmarks/sweeps.py --runs 64 --steps 1000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from lsgan_theory.ensemble import train
from lsgan_theory.studies.runs import evaluate
from lsgan_theory.sweeps import Store, parse_spec, sweep
from lsgan_theory.sweeps.execute import _single
from lsgan_theory.sweeps.plan import plan_packs
from lsgan_theory.sweeps.spec import to_train_config

SPEC = """
[sweep]
name = "bench"
n_eval = 1000
[base]
steps = {steps}
g_hidden = [32, 32]
d_hidden = [32, 32]
[grid]
lam = {lams}
"""


def overhead(n_runs: int, steps: int) -> None:
    lams = [float(2.0 ** k) for k in range(-n_runs // 2, n_runs - n_runs // 2)]
    spec = parse_spec(SPEC.format(steps=steps, lams=lams), "bench.toml")
    packs = plan_packs(spec.runs, spec.pack_size)
    assert len(packs) == 1
    torch.set_num_threads(1)
    directs, throughs = [], []
    for _ in range(2):  # interleaved, best of two each (a shared machine's load comes and goes)
        t = time.perf_counter()
        cfg = to_train_config(packs[0], "cpu")
        res = train(cfg)
        for e, r in enumerate(packs[0]):
            evaluate(_single(res, e), n_eval=1000, seed=r.stream)
        directs.append(time.perf_counter() - t)
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            sweep(spec, Path(d) / "out", device="cpu", quiet=True)
            throughs.append(time.perf_counter() - t)
    direct, through = min(directs), min(throughs)
    print(f"overhead: {n_runs} runs x {steps} steps, one pack, best of 2 interleaved: direct train+evaluate "
          f"{direct:.2f} s, sweep "
          f"{through:.2f} s, ratio {through / direct:.3f} (overhead {100 * (through / direct - 1):+.1f} %)")


def store_throughput(k: int, s: int) -> None:
    spec = parse_spec(SPEC.format(steps=s, lams=[float(i + 1) for i in range(k)]), "bench.toml")
    steps = np.arange(s)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as d:
        st = Store(Path(d))
        st.plan({"name": "bench", "grid_keys": ["lam"]}, plan_packs(spec.runs, 64))
        t = time.perf_counter()
        for r in spec.runs:
            st.write({"id": r.id, "status": "done", "diverged_step": -1, "started": 0.0, "finished": 0.0,
                      "seconds": 0.0, "version": "bench", "git": "bench", "device": "cpu", "host": "h", "worker": "w",
                      "final": {f"m{i}": float(i) for i in range(6)}, "steps": steps,
                      "curves": {"loss_d": rng.normal(size=s), "loss_g": rng.normal(size=s)}})
        dt = time.perf_counter() - t
        st.close()
    rows = k * (2 * s + 6)
    print(f"store: {k} runs x {2 * s} curve rows, one transaction per run: {k / dt:.0f} runs/s, "
          f"{rows / dt:.3g} metric rows/s ({dt:.2f} s)")


def dask_dispatch(n: int = 200) -> None:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        print("dask: skipped (pip install 'lsgan-theory[distributed]')")
        return
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=50) as cluster, Client(cluster) as client:
        client.submit(int, 0).result()  # warm
        t = time.perf_counter()
        futs = [client.submit(int, i, pure=False) for i in range(n)]
        client.gather(futs)
        batch = time.perf_counter() - t
        t = time.perf_counter()
        for i in range(20):
            client.submit(int, i, pure=False).result()
        one = (time.perf_counter() - t) / 20
    print(f"dask: LocalCluster(2): {n} no-op tasks in {batch:.2f} s ({1e3 * batch / n:.2f} ms/task submitted "
          f"together), {1e3 * one:.1f} ms round trip for one task")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--store-runs", type=int, default=500)
    ap.add_argument("--store-steps", type=int, default=200)
    a = ap.parse_args()
    overhead(a.runs, a.steps)
    store_throughput(a.store_runs, a.store_steps)
    dask_dispatch()


if __name__ == "__main__":
    main()
