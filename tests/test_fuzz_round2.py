"""Fuzz the classes of issue 30 (bad input, round two): spec values, what a spec expands to, up-front device and
memory refusals, damaged result stores, names that become paths, densities at subnormal / near-overflow parameters
and the JSON writer.  Each property is the issue's promise for its class:

* a bad value, an over-large expansion, a name that is not folder-safe: a ``ValueError`` naming the key (the CLI's
  one line, exit 2), before anything is built -- never another exception;
* an expansion past :data:`lsgan_theory.validate.MAX_RUNS` is refused with its exact count, one under it is built
  with exactly that many runs;
* a run too large for memory, or on an absent CUDA device: one line and exit 2, before the first step;
* a damaged store: ``results`` exits 0 or gives one line naming ``results.sqlite`` (exit 2), and reading never
  changes the file;
* a density at the edge: one line naming the argument, or a value that agrees with its closed form within its
  reported error bound; never a warning with a source line;
* the JSON writer: RFC 8259 (no bare NaN / Infinity), ASCII, every non-finite value listed, and read back exactly.

The default run draws a few dozen examples per class, derandomised (the same examples on every machine and run); the
``slow`` variants draw ten times more at random.  The CLI cases go through :func:`test_fuzz_cli.run_fuzzed` (in
process, no traceback, nothing written outside the output folder, a hang guard).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsgan_theory import output, validate
from lsgan_theory.cli import main
from lsgan_theory.studies.modes import parse_modes_spec
from lsgan_theory.sweeps.spec import SpecError, parse_spec
from test_fuzz_cli import run_fuzzed  # noqa: E402  (tests/ is on sys.path, as for test_sweeps_dask)

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py

ROOT = Path(__file__).resolve().parents[1]
MODES_SPEC = (ROOT / "experiments/mode_collapse/mao_ring.toml").read_text()

TINY = """[sweep]
name = "tiny"
seeds = 2
n_eval = 50
pack_size = 2
[base]
steps = 6
batch = 8
n_data = 32
g_hidden = [4, 4]
d_hidden = [4, 4]
record_every = 3
[grid]
lam = [0.5, 2.0]
"""


def _settings(n: int, slow: bool):
    return settings(max_examples=10 * n if slow else n, deadline=None, derandomize=not slow,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


def _set(text: str, table: str, key: str, value: str) -> str:
    """``text`` with ``key = value`` in ``[table]`` (replacing the key's line there, or added to the table)."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if re.match(rf"\[{table}\]\s*(#.*)?$", ln))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    for i in range(start + 1, end):
        if re.match(rf"{re.escape(key)}\s*=", lines[i]):
            lines[i] = f"{key} = {value}"
            break
    else:
        lines.insert(start + 1, f"{key} = {value}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------- 1. values
TOML_VALUES = st.one_of(
    st.sampled_from(["inf", "nan", "-inf", "+inf", "1e9", "1e300", "1e-320", "-1", "0", "1.5", "2", "-0.0",
                     "9223372036854775807", "-9223372036854775808", '"x"', '""', "true", "[]", "[1, inf]",
                     "[nan]", "[1e400]", "{a = 1}", "1979-05-27"]),
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
NONFINITE = {"inf", "nan", "-inf", "+inf", "[1, inf]", "[nan]", "[1e400]"}
SWEEP_KEYS = [("base", k) for k in ("steps", "batch", "n_data", "lr_d", "lr_g", "tau", "beta1", "noise_dim",
                                    "gp_weight", "record_every", "lam_start")] + \
             [("sweep", k) for k in ("seeds", "n_eval", "pack_size")]
MODES_KEYS = [("experiment", k) for k in ("eval_at", "eval_of", "mre_lr", "n_eval", "seeds", "mre_points",
                                          "mre_restarts", "mre_steps", "checkpoint_every")] + \
             [("train", k) for k in ("steps", "batch", "lr_d", "beta1", "record_every")]


def _is_nonfinite(value: str) -> bool:
    return value in NONFINITE or value.strip("+-") in ("inf", "nan")


def _spec_values(n: int, slow: bool):
    @_settings(n, slow)
    @given(st.sampled_from(SWEEP_KEYS), TOML_VALUES)
    def sweep(where, value):
        table, key = where
        text = _set(TINY, table, key, value)
        try:
            parse_spec(text, "fuzz.toml")
        except SpecError as exc:  # the one kind of refusal: it names the file and the key
            assert "fuzz.toml" in str(exc) and (key in str(exc) or "TOML" in str(exc)), (key, value, str(exc))
        else:
            assert not _is_nonfinite(value), (key, value, "a non-finite value was accepted")

    @_settings(n, slow)
    @given(st.sampled_from(MODES_KEYS), st.one_of(TOML_VALUES, st.sampled_from(["[0, inf]", "[0, nan]", "[0, 1e300]",
                                                                                 "[0, 5, 15, 25, 36]", "[-1, 0]"])))
    def modes(where, value):
        table, key = where
        text = _set(MODES_SPEC, table, key, value)
        try:
            parse_modes_spec(text, "fuzz.toml")
        except ValueError as exc:
            assert "fuzz.toml" in str(exc) and (key in str(exc) or "TOML" in str(exc)), (key, value, str(exc))
        else:
            # eval_at past eval_of (1e300 > 35) is refused; a large finite eval_of is a (coarse) scale, accepted
            assert not _is_nonfinite(value) and not (key == "eval_at" and "1e300" in value), (key, value, "accepted")

    sweep()
    modes()


def test_fuzz_spec_values():
    _spec_values(60, slow=False)


# ---------------------------------------------------------------------------------------------------- 2. counts
def _grid_list(key: str, n: int) -> str:
    return f"{key} = [{', '.join(repr(0.001 * (i + 1)) for i in range(n))}]"


def _spec_counts(n: int, slow: bool):
    @_settings(n, slow)
    @given(st.integers(1, 10**12), st.integers(1, 400), st.integers(1, 400))
    def sweep(seeds, n_lam, n_lr):
        text = _set(TINY, "sweep", "seeds", str(seeds))
        text = _set(text, "grid", "lam", _grid_list("lam", n_lam).split(" = ", 1)[1])
        text = _set(text, "grid", "lr_d", _grid_list("lr_d", n_lr).split(" = ", 1)[1])
        count = seeds * n_lam * n_lr
        small = count <= 2000
        try:
            spec = parse_spec(text, "fuzz.toml", expand=small)  # past the cap it must refuse before expanding
        except SpecError as exc:
            assert count > validate.MAX_RUNS and f"{count:,} runs" in str(exc), (count, str(exc))
        else:
            assert count <= validate.MAX_RUNS, (count, "accepted past the cap")
            assert not small or len(spec.runs) == count

    n_losses = {v: len(parse_modes_spec(MODES_SPEC, "fuzz.toml", v).losses) for v in (None, "quick")}

    @_settings(n, slow)
    @given(st.integers(validate.MAX_RUNS // min(n_losses.values()) + 1, 10**15), st.sampled_from([None, "quick"]))
    def modes(seeds, variant):  # every draw is past the cap for either variant's losses (8; 2 in quick)
        text = _set(MODES_SPEC, "experiment", "seeds", str(seeds))
        text = _set(text, "quick", "seeds", str(seeds))
        losses = n_losses[variant]
        try:
            parse_modes_spec(text, "fuzz.toml", variant)
        except ValueError as exc:
            assert seeds * losses <= validate.MAX_RUNS or f"{seeds * losses:,}" in str(exc), str(exc)
        else:
            assert seeds * losses <= validate.MAX_RUNS

    @_settings(max(n // 4, 5), slow)
    @given(st.integers(1, 10**12), st.integers(1, 30))
    def train(seeds, n_lam):  # only counts past the cap are drawn (a count under it would train)
        seeds = max(seeds, validate.MAX_RUNS // n_lam + 1)
        lams = [str(0.1 * (i + 1)) for i in range(n_lam)]
        rc, _, err = run_fuzzed(["train", "--seeds", str(seeds), "--lam", *lams, "--steps", "1", "--out", "out",
                                 "--quiet"])
        assert rc == 2 and f"{seeds * n_lam:,} models" in err, err

    sweep()
    modes()
    train()


def test_fuzz_spec_counts():
    _spec_counts(40, slow=False)


# ---------------------------------------------------------------------------------------------------- 3. up front
# sizes no machine has the memory for (a width of 3·10⁶ is ~10¹³ parameters): every draw must be refused
HUGE = st.sampled_from([("--width", "3000000"), ("--width", "30000000"), ("--eval-samples", "10000000000000"),
                        ("--eval-samples", "1000000000000000"), ("--n-data", "10000000000000")])


def _up_front(n: int, slow: bool):
    cuda = torch.cuda.is_available()
    devices = ["cpu", "auto"] + ([] if cuda else ["cuda", "cuda:0", "cuda:3"])

    @_settings(n, slow)
    @given(st.lists(HUGE, min_size=1, max_size=3, unique_by=lambda t: t[0]), st.sampled_from(devices))
    def train(huge, device):
        argv = ["train", "--steps", "1", "--device", device, "--out", "out", "--quiet"]
        for flag, value in huge:
            argv += [flag, value]
        rc, _, err = run_fuzzed(argv)
        assert rc == 2, (argv, err)
        assert ("memory" in err) or (device.startswith("cuda") and "cuda" in err), (argv, err)
        assert "alloc_cpu" not in err and "enforce fail" not in err, err  # never the allocator's own text

    train()


def test_fuzz_up_front_refusals():
    _up_front(12, slow=False)


# ---------------------------------------------------------------------------------------------------- 4. the store
@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("fuzzstore")
    (d / "tiny.toml").write_text(TINY)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(["sweep", str(d / "tiny.toml"), "--out", str(d / "out"), "--quiet"]) == 0, err.getvalue()
    return d / "out" / "results.sqlite"


DAMAGE = st.one_of(
    st.tuples(st.just("flip"), st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)), min_size=1, max_size=12)),
    st.tuples(st.just("truncate"), st.floats(0, 0.999)),
    st.tuples(st.just("meta"), st.sampled_from(["name", "spec", "variant", "grid_keys"]), st.text(max_size=20)),
    st.tuples(st.just("config"), st.text(max_size=20)),
    st.tuples(st.just("drop"), st.sampled_from(["meta", "runs", "final"])),
)


def _damage(path: Path, damage) -> None:
    kind = damage[0]
    if kind == "flip":
        b = bytearray(path.read_bytes())
        for where, x in damage[1]:
            b[min(int(where * len(b)), len(b) - 1)] ^= x
        path.write_bytes(bytes(b))
    elif kind == "truncate":
        b = path.read_bytes()
        path.write_bytes(b[: int(damage[1] * len(b))])
    else:
        with contextlib.closing(sqlite3.connect(path)) as db:
            if kind == "meta":
                db.execute("UPDATE meta SET value = ? WHERE key = ?", (damage[2], damage[1]))
            elif kind == "config":
                db.execute("UPDATE runs SET config = ?", (damage[1],))
            else:
                db.execute(f"DROP TABLE IF EXISTS {damage[1]}")
            db.commit()


def _damaged_store(n: int, slow: bool, store: Path, tmp_path: Path):
    seen = []

    @_settings(n, slow)
    @given(DAMAGE, st.sampled_from([[], ["--format", "csv"], ["--format", "json"], ["--format", "json",
                                                                                     "--no-timing"]]))
    def results(damage, fmt):
        folder = tmp_path / "copy"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        shutil.copy(store, folder / "results.sqlite")
        _damage(folder / "results.sqlite", damage)
        before = (folder / "results.sqlite").read_bytes()
        rc, out, err = run_fuzzed(["results", str(folder), *fmt])
        seen.append(rc)
        assert rc in (0, 2), (damage, rc, err)
        if rc == 2:
            assert "results.sqlite" in err, (damage, err)
        assert (folder / "results.sqlite").read_bytes() == before, (damage, "reading changed the store")
        assert sorted(p.name for p in folder.iterdir()) == ["results.sqlite"], (damage, "reading left files")

    results()
    assert 0 in seen and 2 in seen, seen  # damage that is read through and damage that is refused


def test_fuzz_damaged_store(store, tmp_path):
    _damaged_store(25, False, store, tmp_path)


# ---------------------------------------------------------------------------------------------------- 5. names
def _names(n: int, slow: bool, tmp_path: Path):
    base = (tmp_path / "results").resolve()
    seen = []

    @_settings(n, slow)
    @given(st.one_of(st.text(max_size=70), st.sampled_from(["..", ".", "../x", "a/../../b", "/etc", "~", "x" * 64,
                                                          "x" * 65, "a\\b", "con", "a.b-c_d"])))
    def name(value):
        try:
            validate.name("name", value)
        except ValueError as exc:
            assert str(exc).startswith("name:"), str(exc)
            ok = False
        else:
            ok = True
            seen.append(value)
            p = (base / value).resolve()
            assert p.parent == base and p.name == value, (value, p)  # one folder, inside the results folder
        try:
            parse_spec(_set(TINY, "sweep", "name", json.dumps(value)), "fuzz.toml", expand=False)
        except SpecError as exc:
            assert not ok and ("name" in str(exc) or "TOML" in str(exc)), (value, str(exc))
        else:
            assert ok, (value, "a spec accepted a name validate.name refuses")

    name()
    assert seen, "no name was accepted: the property is vacuous"


def test_fuzz_names(tmp_path):
    _names(80, False, tmp_path)


# ---------------------------------------------------------------------------------------------------- 6. densities
def _scale(draw_k, mantissa):
    return float(f"{mantissa}e{draw_k}")


SCALES = st.one_of(st.builds(_scale, st.integers(-330, 330), st.sampled_from(["1", "2.5", "7"])),
                   st.sampled_from([5e-324, 1e-310, 2.2250738585072014e-308, 1.7976931348623157e308]))
LOCS = st.one_of(st.sampled_from([0.0, -0.0, 1.0, -3.0]), st.builds(_scale, st.integers(-330, 310),
                                                                    st.sampled_from(["1", "-4"])))


def _densities(n: int, slow: bool):
    seen = []

    @_settings(n, slow)
    @given(LOCS, SCALES, st.sampled_from(["kl", "reverse_kl", "tv", "js", "hellinger2"]))
    def normal(m, s, name):
        rc, out, err = run_fuzzed(["divergence", name, f"normal({m!r},{s!r})", "normal(0,1)", "--json"])
        seen.append(rc)
        assert all(ln.startswith(("note:", "lsgan-theory")) for ln in err.splitlines()), err  # no source lines
        if rc == 2:
            assert re.search(r"\b(loc|scale)\b", err), err
            return
        assert rc == 0, err
        doc = json.loads(out, parse_constant=lambda c: pytest.fail(f"bare {c}"))
        v, e = doc["value"], doc["abserr"]
        with np.errstate(all="ignore"):  # the closed forms (Hellinger: ∫(√p − √q)², in [0, 2]), in float64
            s_, m_ = np.float64(s), np.float64(m)
            exact = {"kl": -np.log(s_) + (s_ * s_ + m_ * m_) / 2 - 0.5,
                     "reverse_kl": np.log(s_) + (1 + m_ * m_) / (2 * s_ * s_) - 0.5,
                     "hellinger2": 2 * (1 - np.sqrt(2 * s_ / (1 + s_ * s_)) * np.exp(-m_ * m_ / (4 * (1 + s_ * s_))))
                     }.get(name)
        if exact is not None and math.isfinite(exact):
            assert v is not None and abs(v - exact) <= e + 1e-6 * abs(exact) + 1e-9, (m, s, name, v, e, exact)
        if name == "tv":
            assert v is not None and -e - 1e-9 <= v <= 1 + e + 1e-9, (m, s, name, v, e)

    @_settings(n, slow)
    @given(SCALES, SCALES, st.lists(st.sampled_from(["1e308", "1e300", "1e-320", "0.5", "0", "-1", "nan"]),
                                    min_size=2, max_size=2))
    def others(a, b, weights):
        for p in (f"beta({a!r},{b!r})", f"uniform(0,{a!r})", f"triangular(0,{a!r},{a + b!r})",
                  f"mixture(normal(0,1),normal(1,1);{','.join(weights)})", f"ring(8,{a!r},{b!r})"):
            q = "ring(8,1,0.1)" if p.startswith("ring") else "normal(0.5,1)"
            rc, out, err = run_fuzzed(["divergence", "tv", p, q, "--json"])
            assert all(ln.startswith(("note:", "lsgan-theory")) for ln in err.splitlines()), (p, err)
            assert rc in (0, 2), (p, err)
            if rc == 0:
                doc = json.loads(out, parse_constant=lambda c: pytest.fail(f"bare {c}"))
                assert doc["value"] is not None and -1e-6 <= doc["value"] <= 1 + doc["abserr"] + 1e-6, (p, doc)

    normal()
    assert 0 in seen and 2 in seen, seen  # both sides of the edge were drawn: the property is not vacuous
    others()


def test_fuzz_densities_at_the_edges():
    _densities(40, slow=False)


# ---------------------------------------------------------------------------------------------------- 7. formats
FLOATS = st.floats(allow_nan=True, allow_infinity=True)
LEAVES = st.one_of(FLOATS, st.integers(), st.text(max_size=8), st.booleans(), st.none())
VALUES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=6), inner, max_size=4), max_leaves=12)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _json_writer(n: int, slow: bool):
    @_settings(n, slow)
    @given(st.one_of(st.dictionaries(st.text(max_size=6).filter(lambda k: k != "nonfinite"), VALUES, max_size=5),
                     VALUES))
    def writer(obj):
        text = output.dumps(obj)
        assert text.isascii()
        doc = json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in {text}"))
        back = output.loads(text)
        has_nonfinite = bool(doc.get("nonfinite")) if isinstance(doc, dict) else False
        expected = {"items": obj} if not isinstance(obj, dict) and has_nonfinite else obj
        assert _same(back, expected), (obj, text, back)

    writer()


def test_fuzz_json_writer():
    _json_writer(150, slow=False)


def test_the_round_trip_check_can_fail():  # negative control of _same (the property is not vacuous)
    assert not _same([math.nan], [0.0]) and not _same({"a": 1.0}, {"a": -1.0}) and not _same(0.0, -0.0)
    assert not _same(1, 1.0) and _same([math.nan, {"x": math.inf}], [math.nan, {"x": math.inf}])


# ---------------------------------------------------------------------------------------------------- slow variants
@pytest.mark.slow
def test_fuzz_round2_long(store, tmp_path):
    _spec_values(60, slow=True)
    _spec_counts(40, slow=True)
    _up_front(12, slow=True)
    _damaged_store(25, True, store, tmp_path)
    _names(80, True, tmp_path)
    _densities(40, True)
    _json_writer(150, True)
