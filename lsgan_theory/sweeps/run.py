"""Run a sweep: spec → runs → packs (planned once, stored) → executor → store, with a progress bar on stderr."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from .. import __version__
from ..provenance import git_revision
from .execute import executor as _make_executor
from .plan import plan_packs
from .spec import Spec, load_spec
from .store import FINISHED, STORE_NAME, Store, SweepLock

__all__ = ["sweep", "default_out", "check_packs"]


def default_out(spec: Spec) -> Path:
    """``runs/NAME`` (``runs/NAME-quick``, ``runs/NAME-full`` for the variants)."""
    return Path("runs") / (spec.name + (f"-{spec.variant}" if spec.variant else ""))


def _remove_store(out: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        p = out / (STORE_NAME + suffix)
        if p.exists():
            p.unlink()


def _check_draws(store, draws: str) -> None:
    """Refuse to resume a store whose finished runs were trained with another random-draw scheme (its meta
    ``draws``, absent in stores written before the per-step generators): a run id names a configuration, not the
    draws, so the resumed table would mix two schemes."""
    meta = store.meta()
    if "runs_digest" not in meta or meta.get("draws") == draws:
        return
    finished = store.query("SELECT COUNT(*) FROM runs WHERE status IN ('done', 'diverged')")[0][0]
    if finished:
        raise ValueError(f"OUT: {str(store.out)!r} holds {finished} runs trained with other random draws "
                         f"({meta.get('draws', 'the counter-based hash, before per-step generators')}; this version "
                         f"draws {draws}); use --restart to discard them or another --out")
    store.set_meta("draws", draws)  # nothing finished yet: the runs to come are this scheme's


def sweep(spec, out=None, *, variant: str | None = None, executor="local", workers: int | None = None,
          scheduler: str | None = None, restart: bool = False, quiet: bool = True, device: str | None = None,
          threads: int | None = 1, max_packs: int | None = None) -> dict:
    """Run (or resume) the sweep ``spec`` (a path or a :class:`Spec`) into ``out`` and return a summary dict.

    ``executor``: ``"local"``, ``"dask"`` (with ``workers`` or ``scheduler``) or an executor object (``map(tasks)``
    yielding ``(task, records, error)``, and ``close()``; see :mod:`lsgan_theory.sweeps.execute`).  Finished runs in ``out/results.sqlite`` are skipped, so calling it again after an interruption resumes;
    ``restart=True`` discards the store first.  A second process on the same ``out`` raises
    :class:`~lsgan_theory.sweeps.store.SweepLocked`.  ``threads``: torch CPU threads while a pack trains (default 1; ``None`` leaves torch's setting);
    ``max_packs`` stops after that many packs (tests, smoke runs).

    Returns ``{"out", "store", "name", "variant", "runs", "counts", "trained", "failed", "seconds",
    "models_per_second", "executor", "version", "git"}``.
    """
    if threads is not None and (not isinstance(threads, int) or isinstance(threads, bool) or threads < 1):
        raise ValueError(f"threads: must be an integer >= 1 or None, got {threads!r}")
    if not isinstance(spec, Spec):
        spec = load_spec(spec, variant)
    out = Path(out) if out is not None else default_out(spec)
    device = device or spec.device
    packs_planned = plan_packs(spec.runs, spec.pack_size)
    check_packs(spec, packs_planned, device)  # before the lock, the store and any training
    t0 = time.perf_counter()
    lock = SweepLock(out).acquire()
    try:
        if restart:
            _remove_store(out)
        store = Store(out)
        try:
            from ..ensemble.trainer import DRAWS

            _check_draws(store, DRAWS)  # before a resumed sweep mixes runs of two draw schemes in one table
            meta = {"name": spec.name, "description": spec.description, "variant": spec.variant,
                    "spec_path": os.path.abspath(spec.path), "spec_text": spec.text, "grid_keys": list(spec.grid),
                    "seeds": spec.seeds, "schema": 1, "created_version": __version__, "created_git": git_revision(),
                    "draws": DRAWS}
            store.plan(meta, packs_planned)
            packs = store.packs()
            total = sum(len(p) for _, p in packs)
            done0 = sum(r["status"] in FINISHED for _, p in packs for r in p)
            tasks = [{"pack": pid, "runs": [{k: r[k] for k in ("id", "config", "grid")} for r in runs],
                      "device": device, "threads": threads}
                     for pid, runs in packs if any(r["status"] not in FINISHED for r in runs)]
            if max_packs is not None:
                tasks = tasks[:max_packs]
            summary = _execute(store, tasks, total, done0, executor, workers, scheduler, quiet)
            counts = store.counts()
        finally:
            store.close()
    finally:
        lock.release()
    seconds = time.perf_counter() - t0
    return {"out": str(out), "store": str(out / STORE_NAME), "name": spec.name, "variant": spec.variant,
            "runs": total, "counts": counts, "trained": summary["trained"], "failed": summary["failed"],
            "seconds": seconds, "models_per_second": summary["trained"] / max(summary["train_seconds"], 1e-9),
            "executor": getattr(executor, "name", executor), "version": __version__, "git": git_revision()}


def check_packs(spec: Spec, packs: list, device: str) -> None:
    """Refuse a sweep whose packs cannot start or would not fit, before anything runs (issue 30): the device must
    exist (``cuda`` without a CUDA device is one line, exit 2, instead of every pack failing) and every distinct pack
    must pass :func:`lsgan_theory.studies.runs.check_fits` (the estimate ``train`` uses: ``TrainConfig.
    estimate_memory`` plus the evaluation of ``n_eval`` samples) on that device."""
    from ..studies.runs import check_fits
    from .plan import pack_key
    from .spec import to_train_config

    seen = set()
    for pack in packs:
        key = (pack_key(pack[0].config), len(pack), max(r.config.get("n_data", 0) for r in pack))
        if key in seen:
            continue
        seen.add(key)
        cfg = to_train_config(pack, device)
        n_eval = max(r.config["n_eval"] for r in pack)
        check_fits(cfg, n_eval, where=f"{spec.path}: a pack of {len(pack)} runs {json.dumps(pack[0].grid)}")


def _execute(store: Store, tasks, total: int, done0: int, executor: str, workers, scheduler, quiet: bool) -> dict:
    from tqdm import tqdm

    bar = tqdm(total=total, initial=done0, unit="run", file=sys.stderr, disable=quiet, dynamic_ncols=True,
               desc=store.meta().get("name", "sweep"))
    trained = failed = 0
    t0 = time.perf_counter()
    if not tasks:
        ex = None
    elif isinstance(executor, str):
        ex = _make_executor(executor, workers, scheduler)
    else:
        ex = executor
    local = getattr(ex, "name", None) == "local"
    try:
        if ex is not None:
            if not local:  # submitted: running; local packs are marked as they start
                store.mark([r["id"] for task in tasks for r in task["runs"]], "running")
            for task, records, error in ex.map(_mark_as_started(store, tasks) if local else tasks):
                ids = [r["id"] for r in task["runs"]]
                if error is not None:
                    store.mark(ids, "failed", error=error)
                    failed += len(ids)
                    bar.write(f"sweep: pack {task['pack']} failed: {error}", file=sys.stderr)
                    continue
                new = sum(store.write(rec) for rec in records)
                trained += new
                bar.update(new)
                bar.set_postfix(models_per_s=f"{trained / max(time.perf_counter() - t0, 1e-9):.2f}")
    finally:
        if ex is not None and isinstance(executor, str):  # an executor object passed in stays the caller's
            ex.close()
        bar.close()
    return {"trained": trained, "failed": failed, "train_seconds": time.perf_counter() - t0}


def _mark_as_started(store: Store, tasks):
    for task in tasks:
        store.mark([r["id"] for r in task["runs"]], "running", worker=f"local:{os.getpid()}")
        yield task
