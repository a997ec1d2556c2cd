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

__all__ = ["Store", "StoreError", "store_error", "SweepLock", "SweepLocked", "STORE_NAME", "SCHEMA", "FINISHED"]

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


class StoreError(ValueError):
    """The store file cannot be used: foreign, corrupt, read-only for a writer, on a full disk, ... (the message names
    the file; a ``ValueError``, so the CLI prints one line and exits 2)."""


def _expected_columns() -> dict[str, tuple[str, ...]]:
    """table -> column names of :data:`SCHEMA` (read from an in-memory database built from it)."""
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(SCHEMA)
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: tuple(r[1] for r in db.execute(f"PRAGMA table_info({t})")) for t in tables}
    finally:
        db.close()


_COLUMNS = _expected_columns()


#: what reading or writing the store can raise besides StoreError: SQLite's errors, and text in a damaged file that is
#: not UTF-8 (sqlite3 decodes TEXT values as it returns them)
_ERRORS = (sqlite3.Error, UnicodeDecodeError)


def store_error(path, exc: BaseException, doing: str = "") -> StoreError:
    """One line for an ``sqlite3`` error on the store at ``path``: what happened, in words, and what to do."""
    code = getattr(exc, "sqlite_errorname", "") or ""
    text = " ".join(str(exc).split())
    low = text.lower()
    if code.startswith("SQLITE_FULL") or "disk is full" in low:
        what = ("the disk is full; free space and rerun the same command (finished runs are kept, the last write "
                "was rolled back)")
    elif code.startswith("SQLITE_READONLY") or "readonly" in low or "read-only" in low:
        what = ("the store is read-only; `lsgan-theory results` and `plot` read it, but resuming needs write access "
                "to the file and its folder (copy the folder, or use another --out)")
    elif (code.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in low or "not a database" in low
          or isinstance(exc, UnicodeDecodeError) or "decode to utf-8" in low):  # damaged text: not UTF-8
        what = "not a readable sweep store (corrupt, or not a database); move it aside or use another --out"
    elif code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in low:
        what = "the store is locked by another process; wait for it or use another --out"
    elif code.startswith("SQLITE_CANTOPEN") or "unable to open" in low:
        what = "cannot open the store file (missing, a folder, or its folder is not accessible)"
    elif code.startswith("SQLITE_IOERR") or "disk i/o" in low:
        what = "an I/O error on the store file (disk, permissions or a removed file); check the disk and rerun"
    else:
        what = "the store could not be used"
    return StoreError(f"OUT: {str(path)!r}: {what} [{doing + ': ' if doing else ''}{code or type(exc).__name__}: "
                      f"{text[:200]}]")


class Store:
    """The SQLite results store of one sweep folder (see the module docstring for the schema).

    Opened in one place (:meth:`__init__`): the file's tables must be those of :data:`SCHEMA` (a foreign database is
    refused before anything is written to it), and every ``sqlite3`` error -- on opening or on any later read or
    write -- becomes one :class:`StoreError` naming the file (:func:`store_error`).  ``readonly=True`` opens the file
    with SQLite's ``mode=ro`` (a finished store in a read-only file or folder can be read; nothing is written); a
    writer switches the file back to a rollback journal when it closes, so a finished store is one self-contained
    file.
    """

    def __init__(self, out, *, readonly: bool = False):
        self.out = Path(out)
        self.path = self.out / STORE_NAME
        self.readonly = readonly
        self.db = None
        try:
            self._open(readonly)
        except _ERRORS as exc:  # a corrupt, foreign, read-only or unreachable file: one line naming it
            self._close_quietly()
            raise store_error(self.path, exc, "opening") from None
        except StoreError:
            self._close_quietly()
            raise

    def _open(self, readonly: bool) -> None:
        if readonly:
            if not self.path.exists():
                raise StoreError(f"OUT: {str(self.out)!r} holds no sweep results ({STORE_NAME} not found)")
            if not self.path.is_file():
                raise StoreError(f"OUT: {str(self.path)!r} is not a file (a sweep store is one SQLite file)")
            uri = self.path.absolute().as_uri()
            self.db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=60, isolation_level=None)
            try:
                self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError:
                # a WAL-mode store in a read-only folder with no -shm file: with no -wal file either, nothing is
                # pending and no writer can be active (it would need the -wal file), so the file is read as is
                if Path(f"{self.path}-wal").exists():
                    raise
                self.db.close()
                self.db = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None)
            self._check_schema(allow_empty=False)
        else:
            if self.path.exists() and not self.path.is_file():
                raise StoreError(f"OUT: {str(self.path)!r} is not a file (a sweep store is one SQLite file); move it "
                                 f"aside or use another --out")
            self.out.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self._check_schema(allow_empty=True)  # before anything is written to a foreign file
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        self.db.execute("PRAGMA foreign_keys=ON")

    def _check_schema(self, allow_empty: bool) -> None:
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables and allow_empty:
            return
        problems = []
        for table, columns in _COLUMNS.items():
            if table not in tables:
                problems.append(f"no table {table}")
                continue
            have = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
            missing = [c for c in columns if c not in have]
            if missing:
                problems.append(f"table {table} lacks {', '.join(missing[:4])}{', ...' if len(missing) > 4 else ''}")
        if problems:
            raise StoreError(f"OUT: {str(self.path)!r} is not a sweep store written by lsgan-theory "
                             f"({'; '.join(problems[:3])}); move it aside or use another --out")

    def _close_quietly(self) -> None:
        if self.db is not None:
            try:
                self.db.close()
            except sqlite3.Error:
                pass
            self.db = None

    def _guard(self, doing: str):
        """A context that turns an ``sqlite3`` error into one :class:`StoreError` naming the file."""
        path = self.path

        class _G:
            def __enter__(self_):
                return self_

            def __exit__(self_, et, ev, tb):
                if et is not None and issubclass(et, _ERRORS):
                    raise store_error(path, ev, doing) from None
                return False

        return _G()

    def query(self, sql: str, params=()) -> list[tuple]:
        """All rows of a read query (an ``sqlite3`` error becomes a :class:`StoreError` naming the file)."""
        with self._guard("reading"):
            return self.db.execute(sql, params).fetchall()

    def close(self) -> None:
        """Close; a writer first switches the file back to a rollback journal (``journal_mode=DELETE``, skipped
        while another process reads it), so that a finished store is a single file, readable with ``mode=ro``."""
        if self.db is None:
            return
        if not self.readonly:
            try:
                self.db.execute("PRAGMA busy_timeout=0")
                self.db.execute("PRAGMA journal_mode=DELETE")
            except sqlite3.Error:
                pass
        self._close_quietly()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------------------------------------ meta, plan
    def meta(self) -> dict:
        out = {}
        for k, v in self.query("SELECT key, value FROM meta"):
            try:
                out[k] = json.loads(v)
            except (TypeError, ValueError):
                raise StoreError(f"OUT: {str(self.path)!r}: meta value of {str(k)[:40]!r} is not JSON "
                                 f"({str(v)[:40]!r}); not a store written by lsgan-theory, or damaged") from None
        return out

    @staticmethod
    def digest(run_ids) -> str:
        return hashlib.sha256("\n".join(sorted(run_ids)).encode()).hexdigest()[:16]

    def set_meta(self, key: str, value) -> None:
        """Store one meta value (JSON) in its own transaction."""
        with self._tx():
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def plan(self, meta: dict, packs: list[list]) -> None:
        """Store the sweep's runs and packs once (one transaction); ``packs`` is a list of lists of runs
        (objects with ``id``, ``config``, ``grid``).  A store that already holds a plan must hold the same runs."""
        ids = [r.id for pack in packs for r in pack]
        digest = self.digest(ids)
        old = self.meta().get("runs_digest")
        if old is None and self.query("SELECT 1 FROM runs LIMIT 1"):
            raise StoreError(f"OUT: {str(self.path)!r} holds runs but no plan (meta runs_digest); not a store written "
                             f"by lsgan-theory, or damaged; move it aside or use another --out")
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
        for pid, rid, cfg, grid, status in self.query(
                "SELECT pack, id, config, grid, status FROM runs ORDER BY pack, slot"):
            try:
                out.setdefault(pid, []).append({"id": rid, "config": json.loads(cfg), "grid": json.loads(grid),
                                                "status": status})
            except (TypeError, ValueError):
                raise StoreError(f"OUT: {str(self.path)!r}: run {str(rid)[:20]!r} has a configuration that is not "
                                 f"JSON; the store is damaged; move it aside or use another --out") from None
        return list(out.items())

    def counts(self) -> dict:
        return dict(self.query("SELECT status, COUNT(*) FROM runs GROUP BY status"))

    # ------------------------------------------------------------------------------------------------ writes
    def _tx(self, doing: str = "writing"):
        """One transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``; ``ROLLBACK`` on any error); an ``sqlite3`` error
        inside it, or on committing (a full disk), becomes one :class:`StoreError` naming the file."""
        db, path = self.db, self.path

        class _T:
            def __enter__(self_):
                try:
                    db.execute("BEGIN IMMEDIATE")
                except sqlite3.Error as exc:
                    raise store_error(path, exc, doing) from None

            def __exit__(self_, et, ev, tb):
                if et is None:
                    try:
                        db.execute("COMMIT")
                        return False
                    except sqlite3.Error as exc:
                        et, ev = type(exc), exc
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # SQLite may have rolled back already (a full disk, an I/O error)
                if issubclass(et, _ERRORS):
                    raise store_error(path, ev, doing) from None
                return False

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
