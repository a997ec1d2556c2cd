"""The sweep store: a SIGKILLed sweep resumes to exactly the table of an uninterrupted one (bitwise), a result that
arrives twice is stored once, a second process on the folder is refused, and ``results`` prints what is stored."""

from __future__ import annotations

import io
import json
import math
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from lsgan_theory.sweeps import Store, SweepLock, SweepLocked, load, load_curves, load_spec, sweep
from lsgan_theory.sweeps.execute import train_pack

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

TINY = """
[sweep]
name = "tiny"
seeds = 2
n_eval = 200
pack_size = 2
[base]
steps = {steps}
batch = 16
n_data = 128
g_hidden = [{width}, {width}]
d_hidden = [{width}, {width}]
record_every = 5
[grid]
lam = {lams}
"""

METRICS = ["w1", "ks", "l1", "l1_noise_floor", "final_loss_d", "final_loss_g"]


def _spec(tmp_path, steps=20, lams="[0.5, 2.0, 8.0]", name="tiny.toml", width=8):
    p = tmp_path / name
    p.write_text(TINY.format(steps=steps, lams=lams, width=width))
    return p


def _assert_same_tables(a: Path, b: Path):
    """Every run exactly once in both, same configuration, metric columns and curves bitwise equal."""
    da, db = load(a).set_index("id").sort_index(), load(b).set_index("id").sort_index()
    assert da.index.is_unique and db.index.is_unique
    assert list(da.index) == list(db.index)
    assert (da["status"] == db["status"]).all()
    for m in METRICS:
        x, y = da[m].to_numpy(float), db[m].to_numpy(float)
        assert np.array_equal(x, y, equal_nan=True), m
    ca = load_curves(a).sort_values(["id", "name", "step"]).reset_index(drop=True)
    cb = load_curves(b).sort_values(["id", "name", "step"]).reset_index(drop=True)
    assert len(ca) == len(cb) and len(ca) > 0
    assert (ca[["id", "name", "step"]] == cb[["id", "name", "step"]]).all().all()
    assert np.array_equal(ca["value"].to_numpy(float), cb["value"].to_numpy(float), equal_nan=True)


def _n_done(out: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{out / 'results.sqlite'}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("SELECT COUNT(*) FROM runs WHERE status IN ('done', 'diverged')").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def test_sigkilled_sweep_resumes_to_the_uninterrupted_table_bitwise(tmp_path):
    # 12 runs, 6 packs of 2.  Width 32: there a run trained alone differs from the same run in its pack by ~1e-7
    # (float32 today; width 8 happens to agree bitwise), so the bitwise comparison also checks that the resumed
    # sweep keeps the stored packs.  Mutation that fails this test: train each remaining run alone on resume.
    spec = _spec(tmp_path, steps=60, lams="[0.25, 0.5, 1.0, 2.0, 4.0, 8.0]", width=32)
    ref = tmp_path / "ref"
    s = sweep(spec, ref)
    assert s["trained"] == s["runs"] == 12

    out = tmp_path / "killed"
    cmd = [PY, "-m", "lsgan_theory", "sweep", str(spec), "--out", str(out), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 600
    while _n_done(out) == 0 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_at_kill = _n_done(out)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    assert 0 < done_at_kill < 12, f"the kill must land mid-sweep (done {done_at_kill} of 12)"
    with Store(out) as st:  # what SIGKILL left: finished runs complete, the rest pending or running
        counts = st.counts()
        assert counts.get("done", 0) + counts.get("diverged", 0) == done_at_kill
        rows = st.db.execute("SELECT r.status, COUNT(f.name) FROM runs r LEFT JOIN final f ON f.run_id = r.id "
                             "GROUP BY r.id").fetchall()
        assert all((n > 0) == (status in ("done", "diverged")) for status, n in rows)  # no half-written run

    r = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    _assert_same_tables(out, ref)
    with Store(out) as st:
        assert st.db.execute("SELECT COUNT(*) FROM final").fetchone() == \
            sqlite3.connect(ref / "results.sqlite").execute("SELECT COUNT(*) FROM final").fetchone()


def test_a_result_submitted_twice_is_stored_once_and_a_rerun_trains_nothing(tmp_path):
    spec = _spec(tmp_path)
    out = tmp_path / "out"
    s1 = sweep(spec, out)
    assert s1["trained"] == 6
    with Store(out) as st:
        n_final = st.db.execute("SELECT COUNT(*) FROM final").fetchone()[0]
        n_metrics = st.db.execute("SELECT COUNT(*) FROM metrics").fetchone()[0]
        pid, runs = st.packs()[0]
        task = {"pack": pid, "runs": [{k: r[k] for k in ("id", "config", "grid")} for r in runs], "device": "cpu",
                "threads": 1}
        records = train_pack(task)
        assert [st.write(rec) for rec in records] == [False, False]  # already finished: nothing written
        assert st.db.execute("SELECT COUNT(*) FROM final").fetchone()[0] == n_final
        assert st.db.execute("SELECT COUNT(*) FROM metrics").fetchone()[0] == n_metrics
        # negative control: the same records do get written into a run that is not finished yet
        st.db.execute("DELETE FROM final WHERE run_id = ?", (runs[0]["id"],))
        st.db.execute("DELETE FROM metrics WHERE run_id = ?", (runs[0]["id"],))
        st.db.execute("UPDATE runs SET status = 'pending' WHERE id = ?", (runs[0]["id"],))
        assert st.write(records[0]) is True
        assert st.db.execute("SELECT COUNT(*) FROM final").fetchone()[0] == n_final
    s2 = sweep(spec, out)
    assert s2["trained"] == 0 and s2["counts"] == s1["counts"]
    assert sweep(spec, out, restart=True)["trained"] == 6


def test_a_changed_spec_is_refused_on_an_existing_folder(tmp_path):
    out = tmp_path / "out"
    sweep(_spec(tmp_path), out, max_packs=1)
    other = _spec(tmp_path, lams="[0.5, 3.0]", name="other.toml")
    with pytest.raises(ValueError, match="different sweep"):
        sweep(other, out)


def test_a_second_sweep_process_on_the_same_folder_is_refused(tmp_path):
    spec = _spec(tmp_path)
    out = tmp_path / "out"
    holder = subprocess.Popen([PY, "-c", "import sys, time; from lsgan_theory.sweeps import SweepLock; "
                                         f"SweepLock({str(out)!r}).acquire(); print('locked', flush=True); "
                                         "time.sleep(600)"],
                              cwd=ROOT, env=ENV, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        r = subprocess.run([PY, "-m", "lsgan_theory", "sweep", str(spec), "--out", str(out), "--quiet"],
                           cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
        assert r.returncode == 3
        assert "another sweep process" in r.stderr and f"pid {holder.pid}" in r.stderr
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
        with pytest.raises(SweepLocked):
            SweepLock(out).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # the kernel released the killed holder's lock: no stale lock, the sweep now runs
    with SweepLock(out):
        pass
    assert sweep(spec, out, max_packs=1)["trained"] == 2


def test_results_table_prints_mean_and_student_t_ci_over_seeds(tmp_path):
    from scipy import stats

    from lsgan_theory.cli import main

    spec = _spec(tmp_path)
    out = tmp_path / "out"
    sweep(spec, out)
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(["results", str(out), "--metric", "w1", "l1"]) == 0
    lines = buf.getvalue().splitlines()
    assert lines[1].split() == ["lam", "n", "diverged", "w1", "l1"]
    # independent computation straight from SQLite with the standard library
    db = sqlite3.connect(out / "results.sqlite")
    for line, lam in zip(lines[2:], (0.5, 2.0, 8.0)):
        vals = [v for (v,) in db.execute(
            "SELECT f.value FROM final f JOIN runs r ON r.id = f.run_id WHERE f.name = 'w1' AND r.status = 'done' "
            "AND json_extract(r.config, '$.lam') = ?", (lam,))]
        assert len(vals) == 2
        mean = statistics.fmean(vals)
        ci = stats.t.ppf(0.975, 1) * statistics.stdev(vals) / math.sqrt(2)
        cells = line.split()
        assert float(cells[0]) == lam and cells[1] == "2"
        assert cells[3] == f"{mean:.4g}" and cells[5] == f"{ci:.2g}", (line, mean, ci)
    # the default table (no --metric) shows what its help says: every final metric with a value but the error columns
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(["results", str(out)]) == 0
    stored = {n for (n,) in db.execute("SELECT DISTINCT name FROM final WHERE value IS NOT NULL")}
    head = buf.getvalue().splitlines()[1].split()
    assert set(head[3:]) == stored - {"l1_exact_abserr", "l1_noise_floor_std", "critic_gap_err", "gen_gap_err",
                                      "gen_gap_lp_err"}, (head, stored)
    for fmt in ("csv", "json"):
        buf = io.StringIO()
        with redirect_stdout(buf):
            assert main(["results", str(out), "--format", fmt]) == 0
        if fmt == "json":
            recs = json.loads(buf.getvalue())["runs"]
            assert len(recs) == 6 and {"id", "lam", "w1", "version", "git", "seed", "replica"} <= set(recs[0])
        else:
            assert buf.getvalue().count("\n") == 7


def test_every_result_records_config_seed_version_git_device_and_host(tmp_path):
    from lsgan_theory import __version__
    from lsgan_theory.provenance import git_revision

    out = tmp_path / "out"
    sweep(_spec(tmp_path), out)
    df = load(out)
    assert len(df) == 6 and (df["status"] == "done").all()
    assert (df["version"] == __version__).all() and (df["git"] == git_revision()).all()
    assert df["device"].eq("cpu").all() and df["host"].notna().all() and df["seed"].eq(0).all()
    assert sorted(df["replica"]) == [0, 0, 0, 1, 1, 1]
    spec = load_spec(_spec(tmp_path))
    assert sorted(df["id"]) == sorted(r.id for r in spec.runs)
    assert df.attrs["grid_keys"] == ["lam"]


def test_results_of_a_folder_without_a_store_is_one_line_exit_2(tmp_path):
    r = subprocess.run([PY, "-m", "lsgan_theory", "results", str(tmp_path / "nothing")], cwd=ROOT, env=ENV,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "holds no sweep results" in r.stderr and "Traceback" not in r.stderr


def test_a_pack_cut_between_its_run_transactions_is_retrained_whole_and_completed_bitwise(tmp_path):
    # SIGKILL can land between the per-run transactions of one pack: one run of the pack stored, its companion not.
    # The resumed sweep must retrain the whole pack (same companions) and store only the missing run.
    # Mutation that fails this test: train only the unfinished runs of a pack (the run then trains alone and its
    # float32 trajectory differs at width 32).
    spec = _spec(tmp_path, steps=30, width=32)
    ref, out = tmp_path / "ref", tmp_path / "cut"
    sweep(spec, ref)
    sweep(spec, out)
    with Store(out) as st:
        pid, runs = st.packs()[1]
        cut = runs[1]["id"]
        st.db.execute("BEGIN IMMEDIATE")  # the state a kill leaves, written as plain SQL in one transaction
        st.db.execute("DELETE FROM final WHERE run_id = ?", (cut,))
        st.db.execute("DELETE FROM metrics WHERE run_id = ?", (cut,))
        st.db.execute("UPDATE runs SET status = 'running' WHERE id = ?", (cut,))
        st.db.execute("COMMIT")
    s = sweep(spec, out)
    assert s["trained"] == 1
    _assert_same_tables(out, ref)


def test_progress_bar_on_stderr_quiet_silences_it_and_json_summarises(tmp_path, capsys):
    from lsgan_theory.cli import main

    spec = _spec(tmp_path)
    assert main(["sweep", str(spec), "--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert "6/6" in err and "run" in err  # tqdm: runs done / total
    assert main(["sweep", str(spec), "--out", str(tmp_path / "b"), "--quiet", "--json"]) == 0
    cap = capsys.readouterr()
    assert cap.err == ""
    s = json.loads(cap.out)
    assert s["runs"] == 6 and s["trained"] == 6 and s["counts"] == {"done": 6} and s["executor"] == "local"
    assert main(["sweep", str(spec), "--out", str(tmp_path / "b"), "--quiet", "--json"]) == 0  # resumed: nothing
    assert json.loads(capsys.readouterr().out)["trained"] == 0


def test_every_metric_a_run_stores_has_its_place_in_the_results_order():
    # results.METRIC_ORDER names the certificates by hand (it must not import the torch-side studies.runs): a
    # certificate added there and not here would land, unordered, at the end of every table
    from lsgan_theory.studies.runs import CERTIFICATE_METRICS
    from lsgan_theory.sweeps.results import METRIC_ORDER, TABLE_METRICS, UNCERTAINTY_METRICS

    assert set(CERTIFICATE_METRICS) <= set(METRIC_ORDER)
    assert set(TABLE_METRICS) | set(UNCERTAINTY_METRICS) == set(METRIC_ORDER)


def test_a_store_trained_with_other_draws_is_not_resumed(tmp_path):
    # a run id names a configuration, not the random draws: resuming a store whose finished runs used another draw
    # scheme (the counter-based hash before per-step generators: no "draws" in its meta) would mix two schemes in
    # one table -- refused in one line naming OUT; the store of this version resumes (control)
    from lsgan_theory.ensemble.trainer import DRAWS

    spec = _spec(tmp_path)
    out = tmp_path / "out"
    sweep(spec, out)
    with Store(out) as st:
        assert st.meta()["draws"] == DRAWS
    assert sweep(spec, out)["trained"] == 0  # control: same draws, nothing to redo
    db = sqlite3.connect(out / "results.sqlite")
    db.execute("DELETE FROM meta WHERE key = 'draws'")
    db.commit()
    db.close()
    with pytest.raises(ValueError, match=r"OUT: .*other random draws.*--restart"):
        sweep(spec, out)
    assert sweep(spec, out, restart=True)["trained"] == 6  # --restart discards them and trains again
