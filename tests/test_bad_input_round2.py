"""Bad input, round two (issue 30): one test (or a few) per class of the issue, each able to fail.

1. spec values a spec accepted and then overflowed on (inf/nan, timeouts out of range);
2. what a spec expands to, counted and refused with its count before anything is built;
3. device and memory refused before any run starts (the estimate ``train`` uses), no allocator text;
4. the results store: foreign, non-JSON, corrupt, read-only, full disk -- one line naming the file; read-only reading;
5. names that would become paths;
6. densities at subnormal / near-overflow parameters: refused, and right at the edge of what is accepted;
7. output formats: RFC 8259 JSON with the "nonfinite" listing, full precision, ASCII terminals, one-line warnings;
8. ``results --no-timing``: two identical sweeps export identical files.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lsgan_theory import output, validate
from lsgan_theory.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}

TINY = """
[sweep]
name = "tiny"
seeds = {seeds}
n_eval = 50
pack_size = 2
[base]
steps = 6
batch = 8
n_data = 32
g_hidden = [4, 4]
d_hidden = [{width}, {width}]
record_every = 3
[grid]
lam = [0.5, 2.0]
"""


def cli(argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def one_line(result, *needles):
    """``result`` = (status, stdout, stderr) of :func:`cli`: exit 2 with one line on stderr containing ``needles``."""
    rc, _, err = result
    assert rc == 2, err
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("lsgan-theory"), err
    for n in needles:
        assert n in err, (n, err)


def strict_json(text: str):
    """json.loads that fails on NaN / Infinity / -Infinity (not RFC 8259)."""
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in JSON output"))


def spec_file(tmp_path, seeds=2, width=4, name="tiny.toml") -> Path:
    p = tmp_path / name
    p.write_text(TINY.format(seeds=seeds, width=width))
    return p


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("store")
    assert cli(["sweep", spec_file(d), "--out", d / "out", "--quiet"])[0] == 0
    return d / "out"


def copy_store(store: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "copy"
    dest.mkdir()
    shutil.copy(store / "results.sqlite", dest / "results.sqlite")
    return dest


# ---------------------------------------------------------------------------------------------------- 1. values
@pytest.mark.parametrize("raw", ["1e300", "1e-6", "nan", "inf", "-1", "0", "abc"])
def test_sympy_time_limit_outside_its_range_is_refused_naming_the_variable(raw, monkeypatch):
    # before: 1e300 -> OverflowError in setitimer, 1e-6 -> the alarm fired before the try (tracebacks)
    from lsgan_theory.symbolic import default_seconds

    monkeypatch.setenv("LSGAN_SYMPY_TIMEOUT", raw)
    with pytest.raises(ValueError, match=r"LSGAN_SYMPY_TIMEOUT.*\[0\.01, 1e\+06\]"):
        default_seconds()
    one_line(cli(["derive", "gan"]), "LSGAN_SYMPY_TIMEOUT")


def test_sympy_time_limit_at_the_ends_of_its_range_is_accepted(monkeypatch):  # negative control
    from lsgan_theory.symbolic import SymbolicTimeout, default_seconds, limited

    for raw, v in (("0.01", 0.01), ("1e6", 1e6), ("7.5", 7.5)):
        monkeypatch.setenv("LSGAN_SYMPY_TIMEOUT", raw)
        assert default_seconds() == v
    # the shortest limit on a long call is a SymbolicTimeout, never an escaped alarm
    def spin():  # Python bytecode, so the alarm interrupts it (a C loop such as sum(range(...)) would not be)
        while True:
            pass

    with pytest.raises(SymbolicTimeout):
        limited(spin, seconds=0.01)


@pytest.mark.parametrize("line,needle", [("eval_at = [0, inf]", "eval_at"), ("eval_at = [0, nan]", "eval_at"),
                                         ("eval_of = nan", "eval_of"), ("eval_of = inf", "eval_of"),
                                         ("mre_lr = inf", "mre_lr"), ("eval_at = [0, 70]", "eval_of")])
def test_modes_spec_refuses_non_finite_evaluation_steps(line, needle, tmp_path):
    from lsgan_theory.studies.modes import ModesSpecError, parse_modes_spec

    src = (ROOT / "experiments/mode_collapse/mao_ring.toml").read_text()
    key = line.split(" =")[0]
    lines = [ln for ln in src.splitlines() if not ln.startswith(key + " ")]
    i = lines.index("[experiment]")
    text = "\n".join(lines[:i + 1] + [line] + lines[i + 1:])
    with pytest.raises(ModesSpecError, match=needle):
        parse_modes_spec(text, "x.toml", "quick")
    parse_modes_spec(src, "x.toml", "quick")  # negative control: the file as shipped is accepted


@pytest.mark.parametrize("line", ["steps = inf", "steps = nan", "batch = 1e9", "n_data = -1", "lr_d = inf",
                                  "beta1 = nan"])
def test_sweep_spec_refuses_non_finite_or_non_integer_values(line):
    from lsgan_theory.sweeps import SpecError, parse_spec

    key = line.split(" =")[0]
    text = "\n".join(ln for ln in TINY.format(seeds=1, width=4).splitlines() if not ln.startswith(key + " "))
    with pytest.raises(SpecError, match=key):
        parse_spec(text.replace("[base]\n", f"[base]\n{line}\n"))
    parse_spec(text)  # negative control: the same spec without the bad line


# ---------------------------------------------------------------------------------------------------- 2. counts
def test_expansion_is_the_exact_product_and_refused_above_the_cap():
    assert validate.expansion("x", {"a": 7, "b": 10, "seeds": 3}) == 210
    assert validate.expansion("x", {"a": validate.MAX_RUNS}) == validate.MAX_RUNS  # at the cap: accepted
    with pytest.raises(ValueError, match=f"{validate.MAX_RUNS + 1:,} runs"):
        validate.expansion("x", {"a": validate.MAX_RUNS + 1})
    with pytest.raises(ValueError, match="1,000,000,000,000,000,000,000,000,000,000"):  # exact, no overflow
        validate.expansion("x", {"a": 10**15, "b": 10**15, "c": 10**6})


@pytest.mark.parametrize("seeds,lists,count", [(10**9, "", "2,000,000,000"),
                                               (1, "lr_d = [{a}]\nlr_g = [{a}]\nbeta1 = [{b}]", "20,000,000")])
def test_a_spec_expanding_past_the_cap_is_refused_with_its_count_at_once(seeds, lists, count, tmp_path):
    # before: 10^9 seeds or a 10^7-run grid hung with no output
    a = ", ".join(f"{1e-4 * (i + 1):g}" for i in range(100))
    b = ", ".join(f"{0.001 * i:g}" for i in range(1000))
    text = TINY.format(seeds=seeds, width=4) + lists.format(a=a, b=b) + "\n"
    (tmp_path / "big.toml").write_text(text)
    rc, _, err = cli(["sweep", tmp_path / "big.toml", "--out", tmp_path / "out", "--quiet"])
    one_line((rc, "", err), "big.toml", count, f"{validate.MAX_RUNS:,}")
    assert not (tmp_path / "out").exists()  # refused before the folder, the lock or the store


def test_train_seeds_past_the_cap_are_refused_before_any_model_is_built(tmp_path):
    # before: --seeds 10^9 ran 97 s into an out-of-memory
    one_line(cli(["train", "--seeds", "1000000000", "--steps", "1", "--out", tmp_path / "t", "--quiet"]),
             "--seeds", "1,000,000,000 models")
    assert not (tmp_path / "t").exists()


def test_modes_seeds_past_the_cap_are_refused():
    from lsgan_theory.studies.modes import ModesSpecError, parse_modes_spec

    src = (ROOT / "experiments/mode_collapse/mao_ring.toml").read_text().replace("seeds = 10", "seeds = 1000000000", 1)
    with pytest.raises(ModesSpecError, match="8,000,000,000 runs"):  # 8 losses × 10^9 seeds
        parse_modes_spec(src, "x.toml")


# ---------------------------------------------------------------------------------------------------- 3. up front
def test_sweep_too_large_for_memory_is_refused_before_any_run_with_the_estimate(tmp_path):
    # before: every pack "failed" inside the run and the command exited 1
    rc, _, err = cli(["sweep", spec_file(tmp_path, width=100000), "--out", tmp_path / "out", "--quiet"])
    one_line((rc, "", err), "memory", "GiB", "parameters", "width 100000")
    assert not (tmp_path / "out").exists()


def test_modes_too_large_for_memory_is_refused_before_the_first_step(tmp_path):
    src = (ROOT / "experiments/mode_collapse/mao_ring.toml").read_text().replace("n_eval = 1000", "n_eval = 10000000000")
    (tmp_path / "m.toml").write_text(src)
    rc, _, err = cli(["modes", tmp_path / "m.toml", "--variant", "quick", "--out", tmp_path / "m", "--quiet"])
    one_line((rc, "", err), "memory", "evaluation", "eval samples 10000000000")
    assert not list((tmp_path / "m").rglob("*.pt")) and not list((tmp_path / "m").rglob("*.json"))


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="a CUDA device is present")
def test_an_absent_cuda_device_is_one_line_before_any_pack(tmp_path):
    rc, _, err = cli(["sweep", spec_file(tmp_path), "--out", tmp_path / "out", "--device", "cuda", "--quiet"])
    one_line((rc, "", err), "cuda", "not available")
    assert not (tmp_path / "out").exists()
    src = (ROOT / "experiments/mode_collapse/mao_ring.toml").read_text()
    (tmp_path / "m.toml").write_text(src)
    one_line(cli(["modes", tmp_path / "m.toml", "--variant", "quick", "--device", "cuda", "--out", tmp_path / "m"]),
             "cuda")


def test_an_allocator_failure_never_shows_the_allocator_text(tmp_path, monkeypatch):
    from lsgan_theory import divergences
    from lsgan_theory.resources import ALLOCATOR_MESSAGE
    from lsgan_theory.sweeps import execute, load

    text = "[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory: you tried to allocate 1"

    def boom(*a, **k):
        raise RuntimeError(text)

    monkeypatch.setattr(divergences, "by_name", lambda name: boom)
    rc, _, err = cli(["divergence", "kl", "normal(0,1)", "normal(1,1)"])
    one_line((rc, "", err), "out of memory")
    assert "alloc_cpu" not in err and "enforce" not in err
    monkeypatch.setattr(execute, "_train_pack", boom)  # private: a fault injected where a pack trains
    rc, _, err = cli(["sweep", spec_file(tmp_path), "--out", tmp_path / "out"])
    assert rc == 1 and "alloc_cpu" not in err and ALLOCATOR_MESSAGE in err
    assert set(load(tmp_path / "out")["error"]) == {ALLOCATOR_MESSAGE}
    # negative control: any other RuntimeError is a bug and is not dressed up as memory
    monkeypatch.setattr(divergences, "by_name", lambda name: (_ for _ in ()).throw(RuntimeError("a bug")))
    with pytest.raises(RuntimeError, match="a bug"):
        main(["divergence", "kl", "normal(0,1)", "normal(1,1)"])


# ---------------------------------------------------------------------------------------------------- 4. the store
@pytest.mark.parametrize("cmd", ["results", "plot", "theorem1", "sweep"])
def test_a_foreign_database_is_one_line_naming_the_file_and_is_left_unchanged(cmd, tmp_path):
    out = tmp_path / "foreign"
    out.mkdir()
    db = sqlite3.connect(out / "results.sqlite")
    db.execute("CREATE TABLE meta (a, b)")
    db.execute("CREATE TABLE runs (x)")
    db.commit()
    db.close()
    before = (out / "results.sqlite").read_bytes()
    argv = [cmd, out] if cmd != "sweep" else [cmd, spec_file(tmp_path), "--out", out, "--quiet"]
    one_line(cli(argv), str(out / "results.sqlite"), "not a sweep store")
    assert (out / "results.sqlite").read_bytes() == before  # nothing written to someone else's database


def test_a_meta_value_that_is_not_json_names_the_file_and_the_key(store, tmp_path):
    out = copy_store(store, tmp_path)
    db = sqlite3.connect(out / "results.sqlite")
    db.execute("UPDATE meta SET value = 'not json{' WHERE key = 'name'")
    db.commit()
    db.close()
    for cmd in ("results", "plot", "theorem1"):
        one_line(cli([cmd, out]), str(out / "results.sqlite"), "'name'", "not JSON")


def test_corrupt_pages_of_the_same_size_are_one_line_naming_the_file(store, tmp_path):
    out = copy_store(store, tmp_path)
    p = out / "results.sqlite"
    data = bytearray(p.read_bytes())
    size = len(data)
    for i in range(4096, size, 61):  # every page after the first, header of the file intact
        data[i] ^= 0x5A
    p.write_bytes(bytes(data))
    assert p.stat().st_size == size
    for cmd in ("results", "plot"):
        one_line(cli([cmd, out]), str(p))


def test_text_that_is_not_utf8_is_one_line_naming_the_file(store, tmp_path):
    # found by test_fuzz_round2 (slow): one flipped byte inside a text value made sqlite3 raise UnicodeDecodeError,
    # which is no sqlite3.Error, so the line named no file ("'utf-8' codec can't decode byte 0xe6 ...")
    out = copy_store(store, tmp_path)
    with sqlite3.connect(out / "results.sqlite") as db:
        db.execute("UPDATE runs SET config = CAST(X'7BE6' AS TEXT)")
    db.close()
    for cmd in ("results", "plot"):
        one_line(cli([cmd, out]), "results.sqlite", "not a readable sweep store")
    (tmp_path / "intact").mkdir()
    assert cli(["results", copy_store(store, tmp_path / "intact")])[0] == 0  # negative control


def test_readers_open_the_store_read_only(store, tmp_path):
    # as root too: SQLite itself refuses a write on a mode=ro connection, whatever the file permissions
    from lsgan_theory.sweeps import Store

    out = copy_store(store, tmp_path)
    before = (out / "results.sqlite").read_bytes()
    with Store(out, readonly=True) as st:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            st.db.execute("INSERT INTO meta VALUES ('x', '1')")
        assert st.meta()["name"] == "tiny"
    with Store(out) as st:  # negative control: a writer can
        st.db.execute("INSERT INTO meta VALUES ('x', '1')")
        st.db.execute("DELETE FROM meta WHERE key = 'x'")
    os.chmod(out / "results.sqlite", 0o444)
    try:
        rc, text, err = cli(["results", out, "--format", "csv"])
        assert rc == 0 and text.count("\n") == 5, err
    finally:
        os.chmod(out / "results.sqlite", 0o644)
    assert sorted(p.name for p in out.iterdir()) == ["results.sqlite"] and before


def test_a_finished_store_is_a_single_file(store):
    # the writer leaves a rollback-journal store: no -wal/-shm beside it, readable in a read-only folder
    assert sorted(p.name for p in store.iterdir() if p.name.startswith("results")) == ["results.sqlite"]
    with sqlite3.connect(store / "results.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes read-only folders regardless")
def test_results_and_plot_read_a_store_in_a_read_only_folder(store, tmp_path):  # pragma: no cover - not as root
    out = copy_store(store, tmp_path)
    os.chmod(out, 0o555)
    try:
        rc, text, err = cli(["results", out, "--format", "csv"])
        assert rc == 0, err
        one_line(cli(["sweep", spec_file(tmp_path), "--out", out, "--quiet"]), "results.sqlite")
    finally:
        os.chmod(out, 0o755)


def test_a_full_disk_is_one_line_naming_the_file_and_loses_nothing(store, tmp_path):
    from lsgan_theory.sweeps import Store, StoreError

    out = copy_store(store, tmp_path)
    with Store(out) as st:
        rid = st.query("SELECT id FROM runs LIMIT 1")[0][0]
        st.db.execute("UPDATE runs SET status = 'pending' WHERE id = ?", (rid,))
        st.db.execute("DELETE FROM final WHERE run_id = ?", (rid,))
        st.db.execute("DELETE FROM metrics WHERE run_id = ?", (rid,))
        pages = st.db.execute("PRAGMA page_count").fetchone()[0]
        st.db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from now on
        rec = {"id": rid, "status": "done", "started": 0.0, "finished": 1.0, "seconds": 1.0, "version": "v",
               "git": "g", "device": "cpu", "host": "h", "worker": "w", "diverged_step": -1,
               "final": {f"m{i}": float(i) for i in range(2000)}, "steps": list(range(2000)),
               "curves": {"loss_d": [0.5] * 2000, "loss_g": [0.5] * 2000}}
        with pytest.raises(StoreError, match=r"results\.sqlite.*disk is full"):
            st.write(rec)
        # rolled back as one transaction: the run is not half-written
        assert st.query("SELECT status FROM runs WHERE id = ?", (rid,)) == [("pending",)]
        assert st.query("SELECT COUNT(*) FROM final WHERE run_id = ?", (rid,)) == [(0,)]


def test_a_full_disk_while_modes_saves_leaves_no_temporary_file_and_names_the_path(tmp_path, monkeypatch):
    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output.os, "replace", full)
    target = tmp_path / "state.json"
    with pytest.raises(ValueError, match=r"state\.json.*No space left"):
        output.write_json(target, {"a": math.nan})
    assert list(tmp_path.iterdir()) == []  # neither the file nor a *.tmp-<pid>
    src = (ROOT / "experiments/mode_collapse/mao_ring.toml").read_text().replace("steps = 210", "steps = 4")
    (tmp_path / "m.toml").write_text(src)
    rc, _, err = cli(["modes", tmp_path / "m.toml", "--variant", "quick", "--out", tmp_path / "m", "--quiet"])
    one_line((rc, "", err), str(tmp_path / "m" / "state"), "No space left")
    assert not [p for p in (tmp_path / "m").rglob("*") if ".tmp-" in p.name]


# ---------------------------------------------------------------------------------------------------- 5. names
@pytest.mark.parametrize("bad", ["../../../x", "..", ".hidden", "a/b", "/abs", "", "x" * 65, "a b", "é"])
def test_names_that_would_become_paths_are_refused(bad, tmp_path):
    from lsgan_theory.studies.modes import ModesSpecError, parse_modes_spec
    from lsgan_theory.sweeps import SpecError, parse_spec

    with pytest.raises(ValueError, match="folder-safe"):
        validate.name("name", bad)
    src = (ROOT / "experiments/mode_collapse/mao_ring.toml").read_text().replace('name = "mao_ring"',
                                                                                 f"name = {json.dumps(bad)}")
    with pytest.raises(ModesSpecError, match="name"):
        parse_modes_spec(src, "x.toml", "quick")
    with pytest.raises(SpecError, match="name"):
        parse_spec(TINY.format(seeds=1, width=4).replace('name = "tiny"', f"name = {json.dumps(bad)}"))


def test_a_modes_name_never_writes_outside_the_results_folder(tmp_path, monkeypatch):
    src = (ROOT / "experiments/mode_collapse/mao_ring.toml").read_text().replace('name = "mao_ring"',
                                                                                 'name = "../../../x"')
    (tmp_path / "m.toml").write_text(src)
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    one_line(cli(["modes", tmp_path / "m.toml", "--variant", "quick", "--quiet"]), "name", "folder-safe")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b", "m.toml"]


def test_safe_names_are_accepted():  # negative control
    for ok in ("lambda", "lambda-quick.v2", "A_1", "9"):
        assert validate.name("name", ok) == ok


# ---------------------------------------------------------------------------------------------------- 6. densities
def test_subnormal_scale_is_refused_naming_the_argument_instead_of_kl_zero():
    # before: kl(normal(0,1e-320) || normal(0,1)) printed 0 with 90 overflow notes; the closed form is ≈ 736
    rc, out, err = cli(["divergence", "kl", "normal(0,1e-320)", "normal(0,1)"])
    one_line((rc, "", err), "scale", "1e-320", "1e-100")
    assert out == ""


@pytest.mark.parametrize("s", [1e-100, 1e-50, 1e-10, 1e10, 1e50, 1e100])
def test_kl_at_the_edges_of_the_accepted_scales_matches_the_closed_form(s):
    # KL(N(0,s²) || N(0,1)) = -log s + s²/2 - 1/2 (closed form; float64 s² overflows nowhere here)
    from lsgan_theory import densities, divergences

    est = divergences.kl(densities.Normal(0, s), densities.Normal(0, 1))
    exact = -math.log(s) + s * s / 2 - 0.5
    assert abs(est.value - exact) <= max(est.abserr, 1e-12 * abs(exact)) + 1e-9 * abs(exact), (s, est, exact)


@pytest.mark.parametrize("spec,arg", [("normal(0,1e300)", "scale"), ("normal(1e200,1e190)", "loc"),
                                      ("uniform(0,1e-320)", "hi - lo"), ("beta(0.001,2)", "a"),
                                      ("beta(2,1e12)", "b"), ("ring(8,1,1e-320)", "std"), ("grid(2,1e300,1)", "spacing"),
                                      ("normal2d(0,0,1e-200)", "scale"), ("triangular(0,1e-310,1e-300)", "hi - lo")])
def test_near_overflow_or_subnormal_parameters_are_one_line_naming_the_argument(spec, arg):
    q = "normal2d(0,0,1)" if spec.startswith(("ring", "grid", "normal2d")) else "normal(0,1)"
    rc, _, err = cli(["divergence", "tv", spec, q])
    assert rc == 2 and err.count("\n") == 1 and f"{arg}:" in err and "Traceback" not in err, err


def test_huge_mixture_weights_are_refused_without_a_numpy_warning():
    rc, _, err = cli(["divergence", "kl", "mixture(normal(0,1),normal(1,1);1e308,1e308)", "normal(0,1)"])
    one_line((rc, "", err), "weights", "sum")
    assert "overflow" not in err and "note:" not in err


# ---------------------------------------------------------------------------------------------------- 7. formats
def test_the_json_writer_is_rfc_8259_lists_nonfinite_values_and_round_trips():
    obj = {"a": [1.0, math.nan, 0.1 + 0.2], "b/c": {"x": math.inf}, "d": np.float32(1.5), "e": -np.inf}
    text = output.dumps(obj)
    doc = strict_json(text)
    assert doc["nonfinite"] == {"/a/1": "NaN", "/b~1c/x": "Infinity", "/e": "-Infinity"}
    assert doc["a"][2] == 0.30000000000000004  # every digit (repr), not 10 significant digits
    back = output.loads(text)
    assert math.isnan(back["a"][1]) and back["b/c"]["x"] == math.inf and back["e"] == -math.inf
    assert "nonfinite" not in back and back["a"][0] == 1.0
    assert output.loads(output.dumps([1.0, math.inf])) == {"items": [1.0, math.inf]}  # a wrapped list
    # the one document a wrapped list could be confused with reads back as itself
    assert output.loads(output.dumps({"items": [math.nan, 2.0]}))["items"][1] == 2.0
    with pytest.raises(ValueError, match="reserved"):
        output.dumps({"nonfinite": 1})


def test_results_json_is_standard_lists_nonfinite_and_keeps_every_digit_the_csv_keeps(store, tmp_path):
    out = copy_store(store, tmp_path)
    with sqlite3.connect(out / "results.sqlite") as db:  # one metric infinite, as a diverged run could leave it
        db.execute("UPDATE final SET value = 1e999 WHERE name = 'w1' AND run_id = "
                   "(SELECT id FROM runs ORDER BY seq LIMIT 1)")
    rc, text, err = cli(["results", out, "--format", "json"])
    assert rc == 0, err
    doc = strict_json(text)
    assert doc["nonfinite"] == {"/runs/0/w1": "Infinity"} and doc["runs"][0]["w1"] is None
    rc, csv_text, _ = cli(["results", out, "--format", "csv"])
    import pandas as pd

    csv = pd.read_csv(io.StringIO(csv_text), float_precision="round_trip")
    for i, rec in enumerate(doc["runs"]):
        for m in ("ks", "l1", "final_loss_d", "seconds"):
            assert rec[m] == csv[m][i], (m, rec[m], csv[m][i])  # bitwise equal floats


def test_an_ascii_terminal_gets_escapes_not_a_crash(tmp_path):
    # before: PYTHONIOENCODING=ascii crashed on "φ"
    r = subprocess.run([sys.executable, "-m", "lsgan_theory", "derive", "kl"], cwd=tmp_path, capture_output=True,
                       env={**ENV, "PYTHONIOENCODING": "ascii"}, timeout=120)
    assert r.returncode == 0, r.stderr
    assert b"\\u03c6" in r.stdout and r.stderr == b""
    r = subprocess.run([sys.executable, "-m", "lsgan_theory", "derive", "kl"], cwd=tmp_path, capture_output=True,
                       env={**ENV, "PYTHONIOENCODING": "utf-8"}, timeout=120)
    assert "φ".encode() in r.stdout  # negative control: a UTF-8 terminal gets the character


def test_warnings_are_one_line_notes_without_a_source_line(monkeypatch):
    import warnings

    from lsgan_theory import divergences

    real = divergences.by_name

    def noisy(name):
        fn = real(name)

        def wrapped(*a, **k):
            np.float64(1e308) * np.float64(10)  # numpy's RuntimeWarning: overflow encountered in scalar multiply
            warnings.warn("something odd", UserWarning)
            return fn(*a, **k)

        return wrapped

    monkeypatch.setattr(divergences, "by_name", noisy)
    with warnings.catch_warnings():
        rc, out, err = cli(["divergence", "kl", "normal(0,1)", "normal(1,1)"])
    assert rc == 0, err
    lines = err.splitlines()
    assert "note: something odd" in lines and all(ln.startswith("note: ") for ln in lines), err
    assert "np.float64" not in err and ".py:" not in err


# ---------------------------------------------------------------------------------------------------- 8. repeatable
def test_two_identical_sweeps_export_identical_files_with_no_timing(store, tmp_path):
    spec = spec_file(tmp_path)
    assert cli(["sweep", spec, "--out", tmp_path / "again", "--quiet"])[0] == 0
    for fmt in ("json", "csv"):
        a = cli(["results", store, "--format", fmt, "--no-timing"])[1]
        b = cli(["results", tmp_path / "again", "--format", fmt, "--no-timing"])[1]
        assert a == b and len(a) > 500
        # negative control: with the timing columns the two exports differ
        assert cli(["results", store, "--format", fmt])[1] != cli(["results", tmp_path / "again", "--format", fmt])[1]
    doc = strict_json(cli(["results", store, "--format", "json", "--no-timing"])[1])
    assert not {"started", "finished", "seconds", "worker", "attempts"} & set(doc["runs"][0])
