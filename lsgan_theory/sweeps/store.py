"""The results store of a sweep: one SQLite file ``OUT/results.sqlite`` (standard-library ``sqlite3``, WAL mode).

Schema (``SCHEMA``):

* ``meta(key, value)`` -- sweep name, spec file and text, variant, grid keys, schema version, runs digest;
* ``runs`` -- one row per run: ``id`` (hash of the canonical configuration), ``seq`` (position in the expansion),
  ``pack``/``slot`` (the batched ensemble it trains in and its position there, planned once and stored),
  ``config`` and ``grid`` (JSON), ``status`` (pending / running / done / failed / diverged), ``started``,
  ``finished`` (Unix seconds), ``seconds`` (wall time of its pack), ``pack_size``, ``version``, ``git``, ``device``,
  ``host``, ``worker``, ``attempts``, ``diverged_step``, ``error``;
* ``final(run_id, name, value)`` -- the final evaluation metrics and objectives of each run;
* ``metrics(run_id, step, name, value)`` -- the recorded training curves (long format).

Durability: every finished run is written in one transaction (its ``final`` and ``metrics`` rows and its status
together), so after a crash -- SIGKILL included -- a run is either wholly in the store or not at all.  WAL with
``synchronous=NORMAL`` is durable against a killed process (the WAL is in the OS's hands once a transaction commits);
against power loss the last transactions may be lost, never corrupted.  A run already ``done`` is never written
again: a result that arrives twice (a retried Dask task) is stored once.

One writer per folder: :class:`SweepLock` (an ``fcntl`` lock on ``OUT/.sweep.lock``, released by the kernel when the
process dies) refuses a second sweep process.  Readers (``load``) need no lock.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import time
from pathlib import Path

__all__ = ["Store", "SweepLock", "SweepLocked", "STORE_NAME", "SCHEMA", "FINISHED"]

STORE_NAME = "results.sqlite"
FINISHED = ("done", "diverged")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, pack INTEGER NOT NULL, slot INTEGER NOT NULL,
    config TEXT NOT NULL, grid TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'done', 'failed', 'diverged')),
    started REAL, finished REAL, seconds REAL, pack_size INTEGER, version TEXT, git TEXT, device TEXT, host TEXT,
    worker TEXT, attempts INTEGER NOT NULL DEFAULT 0, diverged_step INTEGER, error TEXT);
CREATE INDEX IF NOT EXISTS runs_pack ON runs (pack, slot);
CREATE TABLE IF NOT EXISTS final (run_id TEXT NOT NULL REFERENCES runs (id), name TEXT NOT NULL, value REAL,
    PRIMARY KEY (run_id, name));
CREATE TABLE IF NOT EXISTS metrics (run_id TEXT NOT NULL REFERENCES runs (id), step INTEGER NOT NULL,
    name TEXT NOT NULL, value REAL, PRIMARY KEY (run_id, name, step)) WITHOUT ROWID;
"""


class SweepLocked(RuntimeError):
    """Another sweep process holds the folder."""


class SweepLock:
    """An exclusive, non-blocking ``fcntl.flock`` on ``OUT/.sweep.lock`` for the life of a sweep process.

    The kernel drops the lock when the process exits or is killed, so a SIGKILLed sweep never leaves a stale lock.
    """

    def __init__(self, out):
        self.path = Path(out) / ".sweep.lock"
        self._fd = None

    def acquire(self) -> "SweepLock":
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            try:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            finally:
                os.close(fd)
            raise SweepLocked(f"{self.path.parent}: another sweep process (pid {holder}) is running on this folder; "
                              f"wait for it to finish or use another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def _real(v):
    """A float for SQLite; NaN becomes NULL (SQLite has no NaN; ±inf are stored as they are)."""
    v = float(v)
    return None if math.isnan(v) else v


class Store:
    """The SQLite results store of one sweep folder (see the module docstring for the schema)."""

    def __init__(self, out, *, readonly: bool = False):
        self.out = Path(out)
        self.path = self.out / STORE_NAME
        try:
            self._open(readonly)
        except sqlite3.DatabaseError as exc:  # a corrupt or foreign file: one clear error, never a traceback
            raise ValueError(f"OUT: {str(self.path)!r} is not a readable sweep store ({exc}); move it aside or use "
                             f"another --out") from None

    def _open(self, readonly: bool) -> None:
        if readonly:
            if not self.path.exists():
                raise ValueError(f"OUT: {str(self.out)!r} holds no sweep results ({STORE_NAME} not found)")
            # read-write mode without creating anything: a read-only WAL connection would need the -shm file
            self.db = sqlite3.connect(f"file:{self.path}?mode=rw", uri=True, timeout=60, isolation_level=None)
        else:
            self.out.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("SELECT count(*) FROM meta").fetchone()  # a file that is not our store fails here

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------------------------------------ meta, plan
    def meta(self) -> dict:
        return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM meta")}

    @staticmethod
    def digest(run_ids) -> str:
        return hashlib.sha256("\n".join(sorted(run_ids)).encode()).hexdigest()[:16]

    def plan(self, meta: dict, packs: list[list]) -> None:
        """Store the sweep's runs and packs once (one transaction); ``packs`` is a list of lists of runs
        (objects with ``id``, ``config``, ``grid``).  A store that already holds a plan must hold the same runs."""
        ids = [r.id for pack in packs for r in pack]
        digest = self.digest(ids)
        old = self.meta().get("runs_digest")
        if old is not None:
            if old != digest:
                raise ValueError(f"OUT: {str(self.out)!r} holds the results of a different sweep (the spec, its "
                                 f"variant or the package's canonical configuration changed); use --restart to "
                                 f"discard them or another --out")
            return
        with self._tx():
            for k, v in {**meta, "runs_digest": digest, "n_runs": len(ids)}.items():
                self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (k, json.dumps(v)))
            seq = 0
            for p, pack in enumerate(packs):
                for slot, r in enumerate(pack):
                    self.db.execute("INSERT INTO runs (id, seq, pack, slot, config, grid, pack_size) "
                                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                                    (r.id, seq, p, slot, json.dumps(r.config, sort_keys=True), json.dumps(r.grid),
                                     len(pack)))
                    seq += 1

    def packs(self) -> list[tuple[int, list[dict]]]:
        """Every pack in order: (pack, [{id, config, grid, status}] in slot order)."""
        out: dict[int, list] = {}
        for pid, rid, cfg, grid, status in self.db.execute(
                "SELECT pack, id, config, grid, status FROM runs ORDER BY pack, slot"):
            out.setdefault(pid, []).append({"id": rid, "config": json.loads(cfg), "grid": json.loads(grid),
                                            "status": status})
        return list(out.items())

    def counts(self) -> dict:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM runs GROUP BY status"))

    # ------------------------------------------------------------------------------------------------ writes
    def _tx(self):
        db = self.db

        class _T:
            def __enter__(self_):
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self_, et, ev, tb):
                db.execute("COMMIT" if et is None else "ROLLBACK")

        return _T()

    def mark(self, run_ids, status: str, *, worker: str | None = None, error: str | None = None) -> None:
        """Set the status of unfinished runs (``running`` counts an attempt); finished runs are left alone."""
        with self._tx():
            for rid in run_ids:
                self.db.execute(
                    "UPDATE runs SET status = ?, worker = COALESCE(?, worker), error = ?, "
                    "attempts = attempts + (? = 'running'), started = CASE WHEN ? = 'running' THEN ? ELSE started END "
                    "WHERE id = ? AND status NOT IN ('done', 'diverged')",
                    (status, worker, error, status, status, time.time(), rid))

    def write(self, rec: dict) -> bool:
        """Store one finished run in one transaction; ``False`` (and nothing written) if it is already finished.

        ``rec``: ``id``, ``status`` (done / diverged), ``started``, ``finished``, ``seconds``, ``version``, ``git``,
        ``device``, ``host``, ``worker``, ``diverged_step``, ``final`` ({name: value}), ``steps`` (S,) and
        ``curves`` ({name: (S,) values})."""
        rid = rec["id"]
        with self._tx():
            row = self.db.execute("SELECT status FROM runs WHERE id = ?", (rid,)).fetchone()
            if row is None:
                raise ValueError(f"run: {rid!r} is not a run of this sweep")
            if row[0] in FINISHED:
                return False
            self.db.executemany("INSERT INTO final VALUES (?, ?, ?)",
                                [(rid, k, _real(v)) for k, v in rec["final"].items()])
            steps = [int(s) for s in rec["steps"]]
            for name, vals in rec["curves"].items():
                self.db.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?)",
                                    [(rid, s, name, _real(v)) for s, v in zip(steps, vals)])
            self.db.execute(
                "UPDATE runs SET status = ?, started = ?, finished = ?, seconds = ?, version = ?, git = ?, "
                "device = ?, host = ?, worker = ?, diverged_step = ?, error = NULL WHERE id = ?",
                (rec["status"], rec["started"], rec["finished"], rec["seconds"], rec["version"], rec["git"],
                 rec["device"], rec["host"], rec["worker"], int(rec["diverged_step"]), rid))
        return True
