"""Re-run a corpus of bad inputs, class by class (issue 30), and count what each gave.

Every case runs ``python -m lsgan_theory ...`` (or a short ``python -c`` driver for faults that need a patch, such as
a full disk) as a subprocess in a scratch folder, with a hang limit, and is classified as

* ``refused``  -- what a bad input must give: exit status 2 (3 for a folder held by another sweep) and exactly one line
  on stderr starting with ``lsgan-theory``, naming what the case says it must name;
* ``ok``       -- a case that must succeed did, and its check passed (the right number, a strict JSON file, a store
  that lost nothing, ...);
* ``traceback`` -- "Traceback" on stderr or stdout;
* ``hang``     -- still running after the limit (``--limit``, default 120 s);
* ``wrong``    -- a number that disagrees with its closed form, or a check that failed;
* ``other``    -- anything else (another exit status, several error lines, a warning with a source line, a file
  written outside the case's folder, an injected payload that ran).

Usage::

    PYTHONPATH=. python tools/bad_input_corpus.py [--only 4,6] [--limit 120] [--json] [--keep DIR]

It prints one line per class (counts) and the cases that were not as expected; the exit status is 1 if any case was
not ``refused``/``ok``.  The cases are the issue's classes: 1 values a spec accepted then overflowed on, 2 what a spec
expands to, 3 refusals before any run (memory, device), 4 the results store (foreign, non-JSON, corrupt, truncated,
read-only, two writers, SIGKILL, full disk), 5 names that become paths, 6 densities at subnormal / near-overflow
parameters, 7 output formats (RFC 8259, ASCII terminals, warnings), 8 repeatable exports.  The list of injected
payloads (class 1) checks that no user string is ever evaluated.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
ENV = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), "OMP_NUM_THREADS": "1",
       "PYTHONIOENCODING": "utf-8"}

TINY = """[sweep]
name = "{name}"
seeds = {seeds}
n_eval = 50
pack_size = 2
{sweep_extra}
[base]
steps = 6
batch = 8
n_data = 32
g_hidden = [4, 4]
d_hidden = [{width}, {width}]
record_every = 3
{base_extra}
[grid]
lam = [0.5, 2.0]
{grid_extra}
"""

LAMBDA = """[sweep]
name = "tiny-lambda"
seeds = 2
n_eval = 50
[base]
family = "loss_sensitive"
steps = 10
noise_dim = 1
g_hidden = [4, 4]
d_hidden = [4, 4]
spectral_norm = true
tau = 0.1
[grid]
target = ["beta(2,2)"]
lam = [1, 10]
n_data = [0, 32]
[[figure]]
name = "l1"
x = "lam"
y = "l1_exact"
"""


def tiny(name="tiny", seeds=2, width=4, sweep_extra="", base_extra="", grid_extra="") -> str:
    """The tiny sweep spec; a key set in an ``*_extra`` line replaces the template's line of that key."""
    text = TINY.format(name=json.dumps(name)[1:-1], seeds=seeds, width=width, sweep_extra=sweep_extra,
                       base_extra=base_extra, grid_extra=grid_extra)
    keys = [ln.split("=")[0].strip() for ln in (sweep_extra + "\n" + base_extra + "\n" + grid_extra).splitlines()
            if "=" in ln]
    extras = set((sweep_extra + "\n" + base_extra + "\n" + grid_extra).splitlines())
    return "\n".join(ln for ln in text.splitlines()
                     if ln in extras or not any(ln.startswith(k + " =") for k in keys)) + "\n"


def modes_spec(replace: dict[str, str] | None = None, steps: int | None = None) -> str:
    src = (ROOT / "experiments/mode_collapse/mao_ring.toml").read_text()
    for old, new in (replace or {}).items():
        assert old in src, old
        src = src.replace(old, new, 1)
    if steps is not None:
        src = src.replace("steps = 210", f"steps = {steps}")
    return src


@dataclass
class Case:
    cls: int
    label: str
    argv: list  # after "python -m lsgan_theory", or ["-c", code] for a driver
    expect: str = "refused"  # refused | ok | locked
    needles: tuple = ()  # strings the error line (refused) must contain
    env: dict = field(default_factory=dict)
    check: object = None  # callable(stdout, stderr, folder) -> None or a failure text (for "ok")
    before: object = None  # callable(folder) run just before the case (damage a store, hold a lock, ...)
    wrong_if_fails: bool = False  # a failed check is a wrong number (else "other")


# ---------------------------------------------------------------------------------------------------- checks
def _strict(text: str):
    return json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(f"bare {c}")))


def number_is(expected: float, rel: float = 1e-9):
    def check(out, err, folder):
        try:
            doc = _strict(out)
        except ValueError as exc:
            return f"not strict JSON: {exc}"
        v, e = doc["value"], doc["abserr"]
        if v is None or not abs(v - expected) <= max(e, rel * abs(expected)) + rel * abs(expected):
            return f"value {v} ± {e}, closed form {expected!r}"
        return None

    return check


def strict_json_file(rel: str, needs_nonfinite: bool = False):
    def check(out, err, folder):
        p = folder / rel
        try:
            doc = _strict(p.read_text())
        except (OSError, ValueError) as exc:
            return f"{rel}: {exc}"
        if not isinstance(doc, dict) or "nonfinite" not in doc:
            return f"{rel}: no \"nonfinite\" listing"
        if needs_nonfinite and not doc["nonfinite"]:
            return f"{rel}: the non-finite value is not listed"
        return None

    return check


def strict_json_stdout(listed: dict | None = None):
    def check(out, err, folder):
        try:
            doc = _strict(out)
        except ValueError as exc:
            return f"stdout not strict JSON: {exc}"
        if listed is not None and doc.get("nonfinite") != listed:
            return f"nonfinite = {doc.get('nonfinite')!r}, expected {listed!r}"
        return None

    return check


def contains(*needles):
    def check(out, err, folder):
        missing = [n for n in needles if n not in out]
        return f"stdout lacks {missing}" if missing else None

    return check


def same_files(a: str, b: str):
    def check(out, err, folder):
        ta, tb = (folder / a).read_text(), (folder / b).read_text()
        return None if ta == tb and len(ta) > 100 else f"{a} and {b} differ"

    return check


# ---------------------------------------------------------------------------------------------------- the corpus
def _run_cli(folder: Path, *argv, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "lsgan_theory", *map(str, argv)], cwd=folder, capture_output=True, text=True,
                          env={**ENV, **(env or {})}, timeout=600)


def prepare(work: Path) -> None:
    """The shared inputs: spec files, a finished tiny sweep and a finished tiny λ sweep."""
    (work / "tiny.toml").write_text(tiny())
    (work / "lambda.toml").write_text(LAMBDA)
    for name, text in (("tiny.toml", None), ("lambda.toml", None)):
        out = work / ("store" if name == "tiny.toml" else "lstore")
        r = _run_cli(work, "sweep", name, "--out", out, "--quiet")
        if r.returncode != 0:
            raise SystemExit(f"preparing {name} failed: {r.stderr}")


def _store_copy(work: Path, name: str, src: str = "store") -> Path:
    dest = work / name
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir()
    shutil.copy(work / src / "results.sqlite", dest / "results.sqlite")
    return dest


def _damage(kind: str, src: str = "store"):
    def before(folder: Path):
        d = _store_copy(folder, f"bad-{kind}", src)
        p = d / "results.sqlite"
        if kind == "foreign":
            p.unlink()
            db = sqlite3.connect(p)
            db.execute("CREATE TABLE meta (a, b)")
            db.execute("CREATE TABLE runs (x, y)")
            db.commit()
            db.close()
        elif kind == "foreign-meta-only":
            p.unlink()
            db = sqlite3.connect(p)
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute("INSERT INTO meta VALUES ('name', '\"x\"')")
            db.commit()
            db.close()
        elif kind == "meta-not-json":
            db = sqlite3.connect(p)
            db.execute("UPDATE meta SET value = 'not json{' WHERE key = 'name'")
            db.commit()
            db.close()
        elif kind == "config-not-json":
            db = sqlite3.connect(p)
            db.execute("UPDATE runs SET config = '{oops' WHERE seq = 0")
            db.commit()
            db.close()
        elif kind == "corrupt-pages":
            b = bytearray(p.read_bytes())
            for i in range(4096, len(b), 61):
                b[i] ^= 0x5A
            p.write_bytes(bytes(b))
        elif kind == "truncated":
            b = p.read_bytes()
            p.write_bytes(b[: len(b) // 3])
        elif kind == "text":
            p.write_text("not a database at all\n" * 100)
        elif kind == "empty":
            p.write_bytes(b"")
        elif kind == "folder":
            p.unlink()
            p.mkdir()
        elif kind == "readonly":
            os.chmod(p, 0o444)

    return before


def _hold_lock(folder: Path):
    """Start a process that holds OUT/.sweep.lock of store-locked for 60 s (the second writer is the case)."""
    d = _store_copy(folder, "store-locked")
    code = ("import sys, time; sys.path.insert(0, %r); from lsgan_theory.sweeps import SweepLock; "
            "l = SweepLock(%r).acquire(); print('held', flush=True); time.sleep(60)") % (str(ROOT), str(d))
    p = subprocess.Popen([PY, "-c", code], stdout=subprocess.PIPE, text=True, env=ENV)
    p.stdout.readline()
    _HELD.append(p)


_HELD: list = []


def _kill_then_resume_check(out, err, folder):
    """store-killed: a sweep SIGKILLed mid-run and resumed must hold exactly the table of the uninterrupted store."""
    code = ("import sys, json; sys.path.insert(0, %r); from lsgan_theory.sweeps import load; "
            "a = load(%r).set_index('id').sort_index(); b = load(%r).set_index('id').sort_index(); "
            "cols = ['status', 'w1', 'ks', 'l1', 'final_loss_d', 'final_loss_g']; "
            "print(json.dumps(bool(a.index.equals(b.index) and a[cols].equals(b[cols]))))") % (
        str(ROOT), str(folder / "store-killed"), str(folder / "store-ref"))
    r = subprocess.run([PY, "-c", code], capture_output=True, text=True, env=ENV, timeout=300)
    return None if r.stdout.strip() == "true" else f"resumed store differs from the uninterrupted one: {r.stderr[-300:]}"


def _kill_midway(folder: Path):
    spec = folder / "killspec.toml"
    spec.write_text(tiny(name="killed", seeds=4).replace("steps = 6", "steps = 300"))
    for name in ("store-killed", "store-ref"):
        if (folder / name).exists():
            shutil.rmtree(folder / name)
    r = _run_cli(folder, "sweep", spec, "--out", folder / "store-ref", "--quiet")
    assert r.returncode == 0, r.stderr
    p = subprocess.Popen([PY, "-m", "lsgan_theory", "sweep", str(spec), "--out", str(folder / "store-killed"),
                          "--quiet"], cwd=folder, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = folder / "store-killed" / "results.sqlite"
    t0 = time.time()
    while time.time() - t0 < 120:  # kill once the first pack is stored, before the last
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
                n = c.execute("SELECT COUNT(*) FROM runs WHERE status = 'done'").fetchone()[0]
            if n >= 2:
                break
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()


_DISK_FULL = """
import sys, sqlite3
sys.path.insert(0, {root!r})
from lsgan_theory.sweeps import store as S
real = S.Store._open
def full(self, readonly):
    real(self, readonly)
    if not readonly:
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        self.db.execute(f"PRAGMA max_page_count = {{pages}}")  # the disk is full once the schema is written
S.Store._open = full
from lsgan_theory.cli import main
sys.exit(main({argv!r}))
"""

_MODES_FULL = """
import sys, os
sys.path.insert(0, {root!r})
def full(*a, **k):
    raise OSError(28, "No space left on device")
os.replace = full
from lsgan_theory.cli import main
sys.exit(main({argv!r}))
"""


def corpus(work: Path) -> list[Case]:
    w = work
    cases: list[Case] = []

    def spec(name: str, text: str) -> str:
        (w / name).write_text(text)
        return name

    # ------------------------------------------------------------------------------------------ 1. values
    for i, (line, needle) in enumerate([("steps = inf", "steps"), ("steps = nan", "steps"), ("batch = 1e9", "batch"),
                                         ("lr_d = inf", "lr_d"), ("lr_g = nan", "lr_g"), ("tau = -inf", "tau"),
                                         ("n_data = -1", "n_data"), ("beta1 = nan", "beta1"),
                                         ("noise_dim = 1.5", "noise_dim"), ("gp_weight = inf", "gp_weight")]):
        s = spec(f"v{i}.toml", tiny(base_extra=line))
        cases.append(Case(1, f"sweep [base] {line}", ["sweep", s, "--out", f"o-v{i}", "--quiet"], needles=(needle,)))
    for i, (line, needle) in enumerate([("n_eval = inf", "n_eval"), ("seeds = nan", "seeds"), ("seeds = -1", "seeds"),
                                         ("pack_size = 0", "pack_size"), ("n_eval = 5", "n_eval")]):
        s = spec(f"vs{i}.toml", tiny(sweep_extra=line))
        cases.append(Case(1, f"sweep [sweep] {line}", ["sweep", s, "--out", f"o-vs{i}", "--quiet"], needles=(needle,)))
    s = spec("vg.toml", tiny().replace("lam = [0.5, 2.0]", "lam = [0.5, inf]"))
    cases.append(Case(1, "sweep [grid] lam = [0.5, inf]", ["sweep", s, "--out", "o-vg", "--quiet"], needles=("lam",)))
    for i, (old, new, needle) in enumerate([("eval_at = [0, 5, 15, 25, 35]", "eval_at = [0, inf]", "eval_at"),
                                             ("eval_at = [0, 5, 15, 25, 35]", "eval_at = [0, nan]", "eval_at"),
                                             ("eval_of = 35", "eval_of = nan", "eval_of"),
                                             ("eval_of = 35", "eval_of = inf", "eval_of"),
                                             ("mre_lr = 0.05", "mre_lr = inf", "mre_lr"),
                                             ("n_eval = 2500", "n_eval = nan", "n_eval"),
                                             ("eval_at = [0, 5, 15, 25, 35]", "eval_at = [0, 5, 1e300]", "eval_")]):
        s = spec(f"vm{i}.toml", modes_spec({old: new}))
        cases.append(Case(1, f"modes {new}", ["modes", s, "--out", f"o-vm{i}", "--quiet"], needles=(needle,)))
    for raw in ("1e300", "1e-6", "nan", "inf", "-5", "0", "abc", "1e400"):
        cases.append(Case(1, f"LSGAN_SYMPY_TIMEOUT={raw} derive gan", ["derive", "gan"],
                          env={"LSGAN_SYMPY_TIMEOUT": raw}, needles=("LSGAN_SYMPY_TIMEOUT",)))
    cases.append(Case(1, "LSGAN_SYMPY_TIMEOUT=30 derive gan (control)", ["derive", "gan"], expect="ok",
                      env={"LSGAN_SYMPY_TIMEOUT": "30"}, check=contains("D*")))
    for i, payload in enumerate(["__import__('os').system('touch PWNED')", "exec('open(\"PWNED\",\"w\")')",
                                 "D.__class__.__mro__"]):
        cases.append(Case(1, f"derive custom --real {payload}", ["derive", "custom", "--real", payload, "--fake",
                                                               "log(1 - D)"], needles=("--real",)))
    cases.append(Case(1, "density spec payload", ["divergence", "kl", "normal(__import__('os').getpid(),1)",
                                                  "normal(0,1)"], needles=("p",)))
    s = spec("vref.toml", LAMBDA + 'reference = "__import__(\'os\').system(\'touch PWNED\')"\n')
    cases.append(Case(1, "sweep figure reference payload", ["sweep", s, "--out", "o-vref", "--quiet"],
                      needles=("reference",)))

    # ------------------------------------------------------------------------------------------ 2. counts
    s = spec("c0.toml", tiny(seeds=10**9))
    cases.append(Case(2, "sweep seeds = 10^9", ["sweep", s, "--out", "o-c0", "--quiet"], needles=("2,000,000,000",)))
    a = ", ".join(f"{1e-4 * (i + 1):g}" for i in range(100))
    b = ", ".join(f"{0.001 * i:g}" for i in range(1000))
    s = spec("c1.toml", tiny(grid_extra=f"lr_d = [{a}]\nlr_g = [{a}]\nbeta1 = [{b}]"))
    cases.append(Case(2, "sweep grid of 2·10^7 points × 2 seeds", ["sweep", s, "--out", "o-c1", "--quiet"],
                      needles=("40,000,000 runs",)))
    s = spec("c2.toml", tiny() + "[quick]\nseeds = 1000000000\n")
    cases.append(Case(2, "sweep [quick] seeds = 10^9", ["sweep", s, "--quick", "--out", "o-c2", "--quiet"],
                      needles=("2,000,000,000", "quick")))
    s = spec("c3.toml", tiny(seeds=50001))
    cases.append(Case(2, "sweep 100,002 runs (just past the cap)", ["sweep", s, "--out", "o-c3", "--quiet"],
                      needles=("100,002",)))
    for seeds in ("1000000000", "200000", "100001"):
        cases.append(Case(2, f"train --seeds {seeds}", ["train", "--seeds", seeds, "--steps", "1", "--out",
                                                         f"o-ct{seeds}", "--quiet"], needles=("--seeds",)))
    cases.append(Case(2, "train --lam ×1000 --seeds 1000", ["train", "--lam", *[str(0.1 + i) for i in range(1000)],
                                                             "--seeds", "1000", "--steps", "1", "--out", "o-ctl",
                                                             "--quiet"], needles=("1,000,000 models",)))
    s = spec("c4.toml", modes_spec({"seeds = 10": "seeds = 1000000000"}))
    cases.append(Case(2, "modes seeds = 10^9", ["modes", s, "--out", "o-c4", "--quiet"], needles=("8,000,000,000",)))
    s = spec("c5.toml", modes_spec({"seeds = 4": "seeds = 1000000000"}))
    cases.append(Case(2, "modes [quick] seeds = 10^9", ["modes", s, "--variant", "quick", "--out", "o-c5", "--quiet"],
                      needles=("3,000,000,000",)))

    # ------------------------------------------------------------------------------------------ 3. up front
    s = spec("u0.toml", tiny(width=100000))
    cases.append(Case(3, "sweep d_hidden [1e5, 1e5]", ["sweep", s, "--out", "o-u0", "--quiet"],
                      needles=("memory", "GiB")))
    s = spec("u1.toml", tiny().replace("n_eval = 50", "n_eval = 100000000000"))
    cases.append(Case(3, "sweep n_eval = 1e11", ["sweep", s, "--out", "o-u1", "--quiet"], needles=("memory",)))
    s = spec("u2.toml", tiny(base_extra="batch = 1000000"))
    cases.append(Case(3, "sweep batch = 1e6", ["sweep", s, "--out", "o-u2", "--quiet"], needles=("memory",)))
    for flag, value in (("--width", "100000"), ("--eval-samples", "100000000000"), ("--n-data", "1000000000000"),
                        ("--batch", "10000000")):
        cases.append(Case(3, f"train {flag} {value}", ["train", flag, value, "--steps", "1", "--out",
                                                        f"o-ut{flag}", "--quiet"], needles=("memory",)))
    s = spec("u3.toml", modes_spec({"n_eval = 1000": "n_eval = 100000000000"}))
    cases.append(Case(3, "modes n_eval = 1e11", ["modes", s, "--variant", "quick", "--out", "o-u3", "--quiet"],
                      needles=("memory", "evaluation")))
    s = spec("u4.toml", modes_spec({"g_hidden = [32, 32]": "g_hidden = [100000, 100000]"}))
    cases.append(Case(3, "modes g_hidden [1e5, 1e5]", ["modes", s, "--variant", "quick", "--out", "o-u4", "--quiet"],
                      needles=("memory",)))
    try:
        import torch

        cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        cuda = False
    if not cuda:
        cases.append(Case(3, "sweep --device cuda (no CUDA)", ["sweep", "tiny.toml", "--out", "o-u5", "--device",
                                                                "cuda", "--quiet"], needles=("cuda",)))
        s = spec("u6.toml", tiny(sweep_extra='device = "cuda:0"'))
        cases.append(Case(3, "sweep device = cuda:0 in the spec", ["sweep", s, "--out", "o-u6", "--quiet"],
                          needles=("cuda",)))
        cases.append(Case(3, "modes --device cuda", ["modes", "vm0.toml".replace("vm0", "u3"), "--device", "cuda",
                                                      "--out", "o-u7"], needles=("cuda",)))
        cases.append(Case(3, "train --device cuda", ["train", "--device", "cuda", "--steps", "1", "--out", "o-u8"],
                          needles=("cuda",)))

    # ------------------------------------------------------------------------------------------ 4. the store
    for kind in ("foreign", "foreign-meta-only", "meta-not-json", "config-not-json", "corrupt-pages", "truncated",
                 "text", "empty", "folder"):
        for cmd in ("results", "plot", "theorem1", "sweep"):
            argv = [cmd, f"bad-{kind}"] if cmd != "sweep" else [cmd, "tiny.toml", "--out", f"bad-{kind}", "--quiet"]
            if cmd == "sweep" and kind == "empty":  # a 0-byte file is an empty SQLite database: a fresh store
                cases.append(Case(4, "sweep on an empty (0-byte) store file", argv, expect="ok", before=_damage(kind)))
                continue
            cases.append(Case(4, f"{cmd} on a {kind} store", argv, needles=("results.sqlite",), before=_damage(kind)))
    cases.append(Case(4, "results on a read-only store file", ["results", "bad-readonly", "--format", "csv"],
                      expect="ok", before=_damage("readonly"), check=contains("id,status")))
    cases.append(Case(4, "plot on a read-only store file", ["plot", "bad-readonly", "--figures", "figs-ro"],
                      expect="ok", before=_damage("readonly", "lstore"), check=contains("figs-ro")))
    cases.append(Case(4, "a second writer on a held folder", ["sweep", "tiny.toml", "--out", "store-locked",
                                                               "--quiet"], expect="locked", needles=("another sweep",),
                      before=_hold_lock))
    cases.append(Case(4, "SIGKILL mid-sweep, then resume", ["sweep", "killspec.toml", "--out", "store-killed",
                                                             "--quiet"], expect="ok", before=_kill_midway,
                      check=_kill_then_resume_check))
    s = spec("full.toml", tiny(base_extra="steps = 300\nrecord_every = 1"))  # curves that need new pages
    cases.append(Case(4, "sweep on a full disk", ["-c", _DISK_FULL.format(root=str(ROOT), argv=[
        "sweep", s, "--out", "o-full", "--quiet"])], needles=("results.sqlite", "disk is full")))
    s = spec("full-modes.toml", modes_spec(steps=4))
    cases.append(Case(4, "modes on a full disk", ["-c", _MODES_FULL.format(root=str(ROOT), argv=[
        "modes", s, "--variant", "quick", "--out", "o-mfull", "--quiet"])], needles=("No space left", "o-mfull"),
        check=None))

    # ------------------------------------------------------------------------------------------ 5. names
    for i, bad in enumerate(["../../../x", "..", "/abs/x", ".hidden", "a/b", "x" * 65]):
        s = spec(f"n{i}.toml", modes_spec({'name = "mao_ring"': f"name = {json.dumps(bad)}"}))
        cases.append(Case(5, f"modes name = {bad!r}", ["modes", s, "--variant", "quick", "--quiet"],
                          needles=("name",)))
        s = spec(f"ns{i}.toml", tiny(name=bad))
        cases.append(Case(5, f"sweep name = {bad!r}", ["sweep", s, "--quiet"], needles=("name",)))
    s = spec("nf.toml", LAMBDA.replace('name = "l1"', 'name = "../../f"'))
    cases.append(Case(5, "sweep figure name = '../../f'", ["sweep", s, "--out", "o-nf", "--quiet"],
                      needles=("name",)))

    # ------------------------------------------------------------------------------------------ 6. densities
    for name, p, q, arg in [("kl", "normal(0,1e-320)", "normal(0,1)", "scale"),
                            ("kl", "normal(0,1e-310)", "normal(0,1)", "scale"),
                            ("js", "normal(0,5e-324)", "normal(0,1)", "scale"),
                            ("kl", "normal(1e308,1)", "normal(0,1)", "loc"),
                            ("tv", "normal(0,1e300)", "normal(0,1)", "scale"),
                            ("kl", "beta(1e-320,2)", "beta(2,2)", "a"),
                            ("tv", "beta(1e300,2)", "beta(2,2)", "a"),
                            ("kl", "beta(0.001,2)", "beta(2,2)", "a"),
                            ("kl", "mixture(normal(0,1),normal(1,1);1e308,1e308)", "normal(0,1)", "weights"),
                            ("tv", "uniform(-1e308,1e308)", "normal(0,1)", "lo"),
                            ("w1", "triangular(0,1e-320,2e-320)", "normal(0,1)", "hi - lo"),
                            ("kl", "normal2d(0,0,1e-320)", "normal2d(0,0,1)", "scale"),
                            ("tv", "ring(8,1e300,0.01)", "ring(8,1,0.01)", "radius"),
                            ("kl", "grid(2,1,1e-320)", "grid(2,1,0.1)", "std"),
                            ("kl", "normal(0,1)", "normal(0,1e-320)", "scale")]:
        cases.append(Case(6, f"divergence {name} {p} {q}", ["divergence", name, p, q], needles=(f"{arg}:",)))
    cases.append(Case(6, "bounds --real normal(0,1e-320)", ["bounds", "--real", "normal(0,1e-320)", "--fake",
                                                            "normal(0,1)", "-n", "3", "-m", "3", "--lam", "1",
                                                            "--kappa", "1"], needles=("--real", "scale")))
    cases.append(Case(6, "train --target normal(0,1e-320)", ["train", "--target", "normal(0,1e-320)", "--steps", "1",
                                                             "--out", "o-d1", "--quiet"], needles=("scale",)))
    for s_ in (1e-100, 1e-50, 1e-10, 1e10, 1e100):
        exact = -math.log(s_) + s_ * s_ / 2 - 0.5  # KL(N(0,s²) || N(0,1))
        cases.append(Case(6, f"kl normal(0,{s_:g}) || normal(0,1) = {exact:.6g}", ["divergence", "kl",
                                                                                   f"normal(0,{s_:g})", "normal(0,1)",
                                                                                   "--json"],
                          expect="ok", check=number_is(exact), wrong_if_fails=True))
    exact = math.log(1e-50) + 1 / (2 * 1e-100) - 0.5  # KL(N(0,1) || N(0,s²)) = log s + 1/(2s²) - 1/2
    cases.append(Case(6, "kl normal(0,1) || normal(0,1e-50)", ["divergence", "kl", "normal(0,1)", "normal(0,1e-50)",
                                                               "--json"], expect="ok", check=number_is(exact),
                      wrong_if_fails=True))
    cases.append(Case(6, "tv normal(0,1e-100) || normal(0,1) = 1", ["divergence", "tv", "normal(0,1e-100)",
                                                                    "normal(0,1)", "--json"], expect="ok",
                      check=number_is(1.0), wrong_if_fails=True))

    # ------------------------------------------------------------------------------------------ 7. formats
    cases.append(Case(7, "theorem1_verdicts.json is RFC 8259", ["theorem1", "lstore", "--capacity-steps", "10"],
                      expect="ok", check=strict_json_file("lstore/theorem1/theorem1_verdicts.json")))

    def _inf_store(folder):
        d = _store_copy(folder, "store-inf")
        with sqlite3.connect(d / "results.sqlite") as db:
            db.execute("UPDATE final SET value = 1e999 WHERE name = 'w1' AND run_id = "
                       "(SELECT id FROM runs ORDER BY seq LIMIT 1)")

    cases.append(Case(7, "results --format json with an infinite metric", ["results", "store-inf", "--format",
                                                                           "json"],
                      expect="ok", before=_inf_store, check=strict_json_stdout({"/runs/0/w1": "Infinity"})))
    cases.append(Case(7, "divergence --json of an infinite value", ["divergence", "kl", "uniform(0,1)",
                                                                    "normal(0,1e-3)", "--json"], expect="ok",
                      check=strict_json_stdout()))
    for argv in (["derive", "kl"], ["derive", "custom", "--real", "log(D)", "--fake", "log(1 - D)"],
                 ["derive", "least_squares"], ["divergence", "tv", "normal(0,1)", "normal(1,1)"],
                 ["results", "store"], ["derive", "kl", "--latex"]):
        cases.append(Case(7, "PYTHONIOENCODING=ascii " + " ".join(argv), argv, expect="ok",
                          env={"PYTHONIOENCODING": "ascii"}, check=lambda o, e, f: None))
    cases.append(Case(7, "PYTHONIOENCODING=ascii, an error line with 'φ'", ["divergence", "kl", "φ(0,1)",
                                                                            "normal(0,1)"],
                      env={"PYTHONIOENCODING": "ascii"}, needles=("spec",)))

    # ------------------------------------------------------------------------------------------ 8. repeatable
    def _second_sweep(folder):  # two sweeps of one spec, back to back (same code, so the same git column)
        for name in ("store-first", "store-again"):
            if (folder / name).exists():
                shutil.rmtree(folder / name)
            _run_cli(folder, "sweep", "tiny.toml", "--out", name, "--quiet")
        for fmt in ("json", "csv"):
            r = _run_cli(folder, "results", "store-first", "--format", fmt, "--no-timing")
            (folder / f"first.{fmt}").write_text(r.stdout)

    for fmt in ("json", "csv"):
        cases.append(Case(8, f"results --format {fmt} --no-timing of two identical sweeps",
                          ["results", "store-again", "--format", fmt, "--no-timing", "-o", f"second.{fmt}"],
                          expect="ok", before=_second_sweep, check=same_files(f"first.{fmt}", f"second.{fmt}")))
    return cases


# ---------------------------------------------------------------------------------------------------- running
def run_case(case: Case, work: Path, limit: float) -> tuple[str, str]:
    """(outcome, detail) of one case."""
    if case.before is not None:
        case.before(work)
    before_tree = {p for p in work.parent.iterdir()}
    argv = [PY, *case.argv] if case.argv[:1] == ["-c"] else [PY, "-m", "lsgan_theory", *map(str, case.argv)]
    try:
        r = subprocess.run(argv, cwd=work, capture_output=True, text=True, env={**ENV, **case.env}, timeout=limit,
                           errors="replace")
    except subprocess.TimeoutExpired:
        return "hang", f"still running after {limit:g} s"
    finally:
        while _HELD:
            p = _HELD.pop()
            p.kill()
            p.wait()
    out, err = r.stdout, r.stderr
    if "Traceback" in err or "Traceback" in out:
        return "traceback", err.strip().splitlines()[-1][:200] if err.strip() else "(stdout)"
    if (work / "PWNED").exists() or any("PWNED" in p.name for p in work.parent.iterdir() if p not in before_tree):
        return "other", "an injected payload ran"
    if any(p not in before_tree for p in work.parent.iterdir()):
        return "other", "wrote outside its folder"
    noisy = [ln for ln in err.splitlines() if ".py:" in ln or ln.startswith("  ") or "Warning:" in ln]
    if noisy:
        return "other", f"warning with a source line: {noisy[0][:160]}"
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if case.expect in ("refused", "locked"):
        status = 2 if case.expect == "refused" else 3
        errors = [ln for ln in lines if ln.startswith("lsgan-theory")]
        if r.returncode != status or len(errors) != 1 or lines[-1] != errors[0]:
            return "other", f"exit {r.returncode}, {len(errors)} error line(s): {(lines or [''])[-1][:200]}"
        missing = [n for n in case.needles if n not in errors[0]]
        if missing:
            return "other", f"error line names nothing of {missing}: {errors[0][:200]}"
        return "refused", errors[0][:200]
    if r.returncode != 0:
        return "other", f"exit {r.returncode}: {(lines or [''])[-1][:200]}"
    failure = case.check(out, err, work) if case.check is not None else None
    if failure:
        return ("wrong" if case.wrong_if_fails else "other"), failure
    return "ok", ""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=None, help="classes to run, e.g. 4,6")
    ap.add_argument("--limit", type=float, default=120.0, help="hang limit per case in seconds (default 120)")
    ap.add_argument("--json", action="store_true", help="print every case's outcome as JSON lines too")
    ap.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it")
    args = ap.parse_args(argv)
    only = None if args.only is None else {int(c) for c in args.only.split(",")}
    base = args.keep or Path(tempfile.mkdtemp(prefix="lsgan-corpus-"))
    work = base / "work"
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    prepare(work)
    cases = [c for c in corpus(work) if only is None or c.cls in only]
    counts: dict[int, dict[str, int]] = {}
    failures = []
    for c in cases:
        outcome, detail = run_case(c, work, args.limit)
        counts.setdefault(c.cls, {k: 0 for k in ("refused", "ok", "traceback", "hang", "wrong", "other")})
        counts[c.cls][outcome] += 1
        if outcome not in ("refused", "ok"):
            failures.append((c, outcome, detail))
        if args.json:
            print(json.dumps({"class": c.cls, "case": c.label, "outcome": outcome, "detail": detail}), flush=True)
    names = {1: "values", 2: "counts", 3: "up front", 4: "store", 5: "names", 6: "densities", 7: "formats",
             8: "repeatable"}
    total = {k: sum(v[k] for v in counts.values()) for k in ("refused", "ok", "traceback", "hang", "wrong", "other")}
    for cls in sorted(counts):
        v = counts[cls]
        print(f"class {cls} ({names[cls]}): {sum(v.values())} cases: {v['refused']} one line + exit 2/3, {v['ok']} ok "
              f"(right result), {v['traceback']} tracebacks, {v['hang']} hangs, {v['wrong']} wrong numbers, "
              f"{v['other']} other")
    print(f"all: {len(cases)} cases: {total['refused']} one line + exit 2/3, {total['ok']} ok, {total['traceback']} "
          f"tracebacks, {total['hang']} hangs, {total['wrong']} wrong numbers, {total['other']} other "
          f"({time.time() - t0:.0f} s)")
    for c, outcome, detail in failures:
        print(f"  {outcome}: class {c.cls}: {c.label}: {detail}")
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
