"""Sweeps on Dask distributed: a LocalCluster of two worker processes gives the in-process table bitwise (same packs,
one torch thread each), and a worker killed mid-sweep loses no run and duplicates none."""

from __future__ import annotations

import os
import signal
import time

import pytest

pytest.importorskip("distributed")

from lsgan_theory.sweeps import Store, sweep  # noqa: E402
from lsgan_theory.sweeps.execute import DaskExecutor  # noqa: E402

from test_sweeps_store import _assert_same_tables, _spec  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    ex = DaskExecutor(workers=2)
    yield ex
    ex.close()


def test_dask_local_cluster_gives_the_in_process_table_bitwise(tmp_path, cluster):
    spec = _spec(tmp_path, steps=30, width=32)  # width 32: pack companions matter in float32 (see test_sweeps_store)
    sweep(spec, tmp_path / "local")
    s = sweep(spec, tmp_path / "dask", executor=cluster)
    assert s["trained"] == s["runs"] == 6 and s["executor"] == "dask"
    _assert_same_tables(tmp_path / "dask", tmp_path / "local")
    workers = set(Store(tmp_path / "dask").db.execute("SELECT worker FROM runs").fetchall())
    assert all(w[0].startswith("tcp://") for w in workers)


def _sigkill_self_soon():
    """Run on a worker: SIGKILL its own process 50 ms from now (after this call has answered)."""
    import threading

    threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGKILL)).start()


class _KillOneWorker(DaskExecutor):
    """Passes the cluster's results through, but after the first one SIGKILLs a worker that is running a pack."""

    def __init__(self, inner: DaskExecutor):
        self.__dict__.update(inner.__dict__)
        self.killed = None

    def map(self, tasks):
        for item in super().map(tasks):
            if self.killed is None:
                busy = [w for w, keys in self.client.processing().items() if keys]
                if busy:
                    self.killed = busy[0]
                    self.client.run(_sigkill_self_soon, workers=[busy[0]])
            yield item

    def close(self):
        pass


def test_a_worker_killed_mid_sweep_loses_no_run_and_duplicates_none(tmp_path, cluster):
    spec = _spec(tmp_path, steps=60, lams="[0.25, 0.5, 1.0, 2.0, 4.0, 8.0]", width=32)  # 6 packs
    sweep(spec, tmp_path / "local")
    ex = _KillOneWorker(cluster)
    s = sweep(spec, tmp_path / "dask", executor=ex)
    assert ex.killed is not None, "no worker was busy after the first result: the kill did not happen"
    # it did die: the scheduler drops it (its nanny starts a new worker); the deadline is a hang guard, not a timing
    # requirement (the drop takes well under a second here)
    deadline = time.time() + 600
    while ex.killed in cluster.client.scheduler_info()["workers"] and time.time() < deadline:
        time.sleep(0.1)
    assert ex.killed not in cluster.client.scheduler_info()["workers"]
    assert s["failed"] == 0 and s["trained"] == 12
    _assert_same_tables(tmp_path / "dask", tmp_path / "local")


def test_a_study_body_runs_on_dask_and_gives_the_in_process_table_bitwise(tmp_path):
    # issue 28: the Dask executor ran the default body only; the sample-complexity study (train_probed: the hinge
    # probe as the engine's observer, then model_metrics) now runs on workers too, into the same store, bitwise.
    # Control: the default body's table lacks the study's columns and curves, so "same table" is not vacuous.
    import numpy as np

    from lsgan_theory.studies import sample_complexity as sc
    from lsgan_theory.sweeps.results import load, load_curves

    from test_sample_complexity import _spec as sc_spec

    spec = sc_spec(tmp_path, "gls_dask", 'target = "normal(0,1)"\nn_data = 256', 'family = ["glsgan", "wgan"]')
    local, _, _ = sc.run_experiment(spec, tmp_path / "local")
    df, curves, summ = sc.run_experiment(spec, tmp_path / "dask", executor="dask", workers=1)  # beside the fixture's
    assert summ["executor"] == "dask" and summ["trained"] == 6
    a, b = local.set_index("id").sort_index(), df.set_index("id").sort_index()
    assert list(a.index) == list(b.index) and "hinge_active_final" in b.columns
    cols = [c for c in a.columns if a[c].dtype.kind == "f" and c not in ("seconds", "started", "finished")]
    assert {"final_loss_d", "hinge_active_final", "hinge_active_mean"} <= set(cols) and len(cols) > 5
    for col in cols:
        assert np.array_equal(a[col].to_numpy(float), b[col].to_numpy(float), equal_nan=True), col
    assert "hinge_active" in set(load_curves(tmp_path / "dask")["name"])
    assert all(w[0].startswith("tcp://") for w in Store(tmp_path / "dask").db.execute(
        "SELECT DISTINCT worker FROM runs").fetchall())
    plain = sweep(spec, tmp_path / "default", executor="local")
    assert plain["trained"] == 6 and "hinge_active_final" not in load(tmp_path / "default").columns
