"""Executors: train packs in-process (default) or as tasks on Dask distributed; the caller stays the only writer.

A *task* is a plain dict (picklable, no torch objects): ``{"pack", "runs": [{"id", "config", "grid"}], "device",
"threads"}`` (torch CPU threads while it trains; the sweep's default is 1: parallelism comes from batching and
from workers, and one thread per process is fastest on a shared machine).  :func:`train_pack` turns it into one batched :class:`~lsgan_theory.ensemble.TrainConfig` (model e =
run e, with the run's own random stream), trains it, evaluates every model *on its own* (so a run's metrics never
depend on its evaluation neighbours) and returns one record per run for :meth:`Store.write`.

Executors yield ``(task, records, error)`` as packs finish.  :class:`DaskExecutor` submits one task per pack
(``retries`` for a task that raised; a task lost with its worker is rescheduled by the scheduler itself), so the same
pack may finish twice: the store keeps the first result.
"""

from __future__ import annotations

import os
import socket
import time
import traceback

import numpy as np

from .. import __version__
from ..ensemble import TrainResult, train
from ..provenance import git_revision
from ..resources import torch_threads
from ..studies.runs import evaluate
from .spec import Run, to_train_config

__all__ = ["train_pack", "run_pack", "LocalExecutor", "DaskExecutor", "executor"]


def _single(result: TrainResult, e: int) -> TrainResult:
    """Model e of a batched result as a one-model result (same stream id, same parameters)."""
    return TrainResult(config=result.config.select([e]), steps=result.steps, loss_d=result.loss_d[e:e + 1],
                       loss_g=result.loss_g[e:e + 1], diverged_step=result.diverged_step[e:e + 1],
                       g_params=tuple(p[e:e + 1] for p in result.g_params),
                       d_params=tuple(p[e:e + 1] for p in result.d_params), seconds=result.seconds,
                       device=result.device, version=result.version, git=result.git,
                       extra={k: tuple(t[e:e + 1] for t in v) for k, v in result.extra.items()})


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except Exception:
        return f"{socket.gethostname()}:{os.getpid()}"


def train_pack(task: dict) -> list[dict]:
    """Train one pack and return one record per run (see :meth:`lsgan_theory.sweeps.store.Store.write`)."""
    return run_pack(task, _train_pack)


def run_pack(task: dict, body) -> list[dict]:
    """The frame every pack runs in: the task's torch threads (restored after), its runs and batched config, then
    ``body(runs, cfg) -> (records, device)`` (train and measure; one record per run with ``id``, ``status``,
    ``diverged_step``, ``final``, ``steps``, ``curves``), stamped with timing and provenance.  A study with its own
    measurements passes its own ``body`` (e.g. :class:`lsgan_theory.studies.sample_complexity.SampleComplexityExecutor`)."""
    with torch_threads(task.get("threads")):
        runs = [Run(r["id"], r["config"], r["grid"]) for r in task["runs"]]
        cfg = to_train_config(runs, task.get("device", "auto"))
        started = time.time()
        records, device = body(runs, cfg)
        finished = time.time()
        host, worker = socket.gethostname(), _worker_name()
        for r in records:
            r.update(started=started, finished=finished, seconds=finished - started, version=__version__,
                     git=git_revision(), device=device, host=host, worker=worker)
        return records


def _train_pack(runs, cfg) -> tuple[list[dict], str]:
    res = train(cfg)
    records = []
    for e, run in enumerate(runs):
        one = _single(res, e)
        ev = evaluate(one, n_eval=run.config["n_eval"], seed=run.stream)[0]
        final = {"final_loss_d": float(res.loss_d[e, -1]), "final_loss_g": float(res.loss_g[e, -1]),
                 **{k: float(v) for k, v in ev.items()}}
        records.append({"id": run.id, "status": "diverged" if res.diverged_step[e] >= 0 else "done",
                        "diverged_step": int(res.diverged_step[e]), "final": final,
                        "steps": np.asarray(res.steps), "curves": {"loss_d": res.loss_d[e], "loss_g": res.loss_g[e]}})
    return records, res.device


def _error_text(exc: BaseException) -> str:
    from ..resources import ALLOCATOR_MESSAGE, is_allocator_error

    if is_allocator_error(exc):  # never the allocator's own text (issue 30)
        return ALLOCATOR_MESSAGE
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return " ".join(last.split())[:2000]


class LocalExecutor:
    """Packs one after the other in this process; ``pack(task) -> records`` trains one (default :func:`train_pack`;
    a study passes its own, built on :func:`run_pack`)."""

    name = "local"

    def __init__(self, pack=None):
        self.pack = train_pack if pack is None else pack

    def map(self, tasks):
        for task in tasks:
            try:
                yield task, self.pack(task), None
            except Exception as exc:  # a failed pack is recorded, the sweep goes on
                yield task, None, _error_text(exc)

    def close(self) -> None:
        pass


class DaskExecutor:
    """Packs as Dask tasks: ``workers=N`` starts a ``LocalCluster`` of N single-threaded worker processes;
    ``scheduler="tcp://HOST:PORT"`` joins an existing cluster.  ``pack(task) -> records`` trains one pack on a worker
    (default :func:`train_pack`; a study passes its own, built on :func:`run_pack`, as for :class:`LocalExecutor`: a
    module-level function, which Dask sends to the workers by reference).  Needs the ``distributed`` extra."""

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None, retries: int = 2, pack=None):
        self.pack = train_pack if pack is None else pack
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ValueError("--executor dask: needs Dask distributed; install the extra: "
                             "pip install 'lsgan-theory[distributed]'") from None
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise ValueError(f"workers: must be an integer >= 1, got {workers!r}")
        self.retries = retries
        self._cluster = None
        if scheduler is not None:
            try:
                self.client = Client(scheduler, timeout="30s")
            except (OSError, TimeoutError) as exc:
                raise ValueError(f"--scheduler: cannot reach the Dask scheduler at {scheduler!r} "
                                 f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); start `dask scheduler` "
                                 f"there or use --workers N for a local cluster") from None
            self.threads = None  # the task's own setting
        else:
            self._cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=50)
            self.client = Client(self._cluster)
            self.threads = 1

    def map(self, tasks):
        from distributed import as_completed

        futures = {}
        for task in tasks:
            task = dict(task, threads=self.threads or task.get("threads"))
            fut = self.client.submit(self.pack, task, pure=False, retries=self.retries)
            futures[fut] = task
        for fut in as_completed(futures):
            task = futures[fut]
            try:
                yield task, fut.result(), None
            except Exception as exc:
                yield task, None, _error_text(exc)

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def executor(name: str = "local", workers: int | None = None, scheduler: str | None = None, pack=None):
    """``"local"`` or ``"dask"`` (see :class:`DaskExecutor`), training each pack with ``pack`` (default
    :func:`train_pack`)."""
    if name == "local":
        if workers is not None or scheduler is not None:
            raise ValueError("--workers/--scheduler: only with --executor dask")
        return LocalExecutor(pack)
    if name == "dask":
        return DaskExecutor(workers=workers, scheduler=scheduler, pack=pack)
    raise ValueError(f"executor: must be 'local' or 'dask', got {name!r}")
