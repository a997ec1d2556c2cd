"""The registry of claims behind ``lsgan-theory verify``.

Each statement of THEORY.md that the package can check is registered here as a function that runs a check and
returns an :class:`Evidence`: evidence text in Markdown, figure paths, data, and -- the part that decides the verdict --
one or more :class:`Check` records that state the claim's *terms*:

* ``statistic`` -- what was measured, as a distance from what the claim predicts (0 = exactly as predicted);
* ``tolerance`` and ``tolerance_basis`` -- how far the statistic may be from 0 and why: the standard error of which
  quantity over which randomness (fresh samples, a fixed sample, seeds), or the numerical error of an exact method;
* ``alternative`` and ``alternative_statistic`` -- the *power*: a nearby wrong answer (D* of q shifted by 0.1σ, the LP
  with κ·0.9, ...) and the same statistic measured against it in the same run.

The verdict is computed, never written by hand (:meth:`Check.status`)::

    hypothesis_met is False                            -> hypothesis not met   (the theorem says nothing here)
    statistic > tolerance                              -> fail                 (for a theorem: violated)
    statistic <= tolerance < alternative_statistic     -> pass
    statistic <= tolerance, alternative not rejected   -> inconclusive   (the check cannot tell the two apart)

A check of a theorem that assumes something measurable (Theorem 1's equilibrium: certified by the critic and
generator gaps, :mod:`lsgan_theory.studies.certificates`) sets ``hypothesis_met`` from that measurement and states in
``hypothesis`` which condition missed and by how much; its statistic is then not read.  A claim's status combines its
checks: any fail -> fail, else any inconclusive -> inconclusive, else any pass -> pass, else (every check's hypothesis
unmet) *hypothesis not met*.  A claim
registered with ``kind="symbolic"`` (a sympy identity or a machine-checked proof: true or false, no statistic) may
return ``Evidence(passed, text)`` without checks; for every other claim an Evidence without checks is reported as
*error* ("states no terms"), so a statistical claim cannot forget its terms.

Register a claim with::

    @claim("gan-jsd", ref="THEORY.md §1", statement="At D*, C(G) = -log 4 + 2 JSD(p||q)")
    def _(ctx: Context) -> Evidence:
        ...
        return Evidence("text", checks=[Check("‖D̄ − D*‖", stat, tol, "2 SE of D̄ over seeds", "D* of q + 0.1σ", alt)])

``ctx.quick`` is True for the default ``verify --quick`` (minutes on a laptop) and False for ``--full``.
A claim marked ``full_only=True`` is skipped (reported as *skipped*) in the quick run.
"""

from __future__ import annotations

import contextlib
import json
import math
import platform
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import __version__
from .output import write_text
from .provenance import device_description, git_revision

__all__ = ["Check", "Context", "Evidence", "Verdict", "STATUSES", "HYPOTHESIS_NOT_MET", "KINDS", "VERIFY_COST", "claim",
           "combine", "full_estimate", "registry", "run_claims", "status_of", "write_report"]

STATUSES = ("pass", "fail", "inconclusive", "hypothesis not met", "error", "skipped")
HYPOTHESIS_NOT_MET = "hypothesis not met"
KINDS = ("statistical", "numerical", "symbolic", "measurement")


@dataclass
class Context:
    """What a claim check may use: an output folder for figures, the quick flag and a seed."""

    out: Path
    quick: bool = True
    seed: int = 0

    def rng(self, stream: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.seed, stream])

    def figure_path(self, name: str) -> Path:
        d = self.out / "figures"
        d.mkdir(parents=True, exist_ok=True)
        return d / name


@dataclass
class Check:
    """The terms of one test inside a claim; its verdict is :attr:`status`.

    Parameters
    ----------
    name : str
        What the statistic is, e.g. ``"‖D̄ − D*‖ (weighted RMS)"``.
    statistic : float
        Distance of the measurement from the claimed value (>= 0; NaN counts as not within tolerance).
    tolerance : float
        Largest statistic compatible with the claim.
    tolerance_basis : str
        Where the tolerance comes from: ``"2 SE of the ensemble mean over 16 seeds (fixed sample)"``, ``"float64
        rounding, 1e-10"``, ...
    alternative : str
        The nearby wrong answer, e.g. ``"D* of q shifted by 0.1σ"``.
    alternative_statistic : float
        The same statistic measured against the alternative in the same run; the check has power when it exceeds
        the tolerance.  NaN (not measured) makes a check at best inconclusive.
    shown : str, optional
        The measured relation in the reader's terms, for the report's summary cell, where "statistic ≤ tolerance"
        would say nothing (a one-sided statistic such as max(0, lower CI end) reads "0 ≤ 0"): e.g.
        ``"slope −0.64 [−0.87, −0.35] < 0"``.  Empty: the summary shows statistic, relation and tolerance.
    hypothesis_met : bool, optional
        False when the claim's hypothesis (e.g. "the pair is at a Nash equilibrium") was measured and does not hold:
        the status is then *hypothesis not met* whatever the statistic.
    hypothesis : str, optional
        What was measured about the hypothesis: the condition, its measured value and its threshold.
    """

    name: str
    statistic: float
    tolerance: float
    tolerance_basis: str
    alternative: str
    alternative_statistic: float
    shown: str = ""
    hypothesis_met: bool = True
    hypothesis: str = ""

    def __post_init__(self):
        for f in ("name", "tolerance_basis", "alternative"):
            v = getattr(self, f)
            if not isinstance(v, str) or not v.strip():
                raise ValueError(f"{f}: a Check must state its {f} as a non-empty string, got {v!r}")
        for f in ("statistic", "tolerance", "alternative_statistic"):
            setattr(self, f, float(getattr(self, f)))
        if not (self.tolerance >= 0):
            raise ValueError(f"tolerance: must be a number >= 0, got {self.tolerance!r}")
        if not isinstance(self.hypothesis_met, (bool, np.bool_)):
            raise TypeError(f"hypothesis_met: expected True or False, got {self.hypothesis_met!r}")
        self.hypothesis_met = bool(self.hypothesis_met)
        if not self.hypothesis_met and not str(self.hypothesis).strip():
            raise ValueError("hypothesis: a check whose hypothesis is not met must say which condition missed and by "
                             "how much")

    @property
    def within(self) -> bool:
        """statistic <= tolerance (NaN: no)."""
        return bool(self.statistic <= self.tolerance)

    @property
    def power(self) -> bool:
        """alternative_statistic > tolerance: the alternative is rejected in this run (NaN: no)."""
        return bool(self.alternative_statistic > self.tolerance)

    @property
    def status(self) -> str:
        if not self.hypothesis_met:
            return HYPOTHESIS_NOT_MET
        if not self.within:
            return "fail"
        return "pass" if self.power else "inconclusive"

    def row(self) -> str:
        st = f"{self.status} ({self.hypothesis})" if self.hypothesis else self.status
        return (f"| {self.name} | {_fmt(self.statistic)} | {_fmt(self.tolerance)} | {self.tolerance_basis} | "
                f"{self.alternative} | {_fmt(self.alternative_statistic)} | {st} |")


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    return f"{v:.3g}" if 1e-3 <= abs(v) < 1e4 or v == 0 else f"{v:.2e}"


def interval_relation(lo: float, hi: float, ref: float, digits: int = 3) -> str:
    """``[lo, hi] < ref``, ``[lo, hi] > ref`` or ``[lo, hi] ∋ ref``: where an interval lies against a value (for
    :attr:`Check.shown`)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return f"no interval (vs {ref:g})"
    rel = "<" if hi < ref else ">" if lo > ref else "∋"
    return f"[{lo:.{digits}g}, {hi:.{digits}g}] {rel} {ref:g}"


def combine(checks: list[Check]) -> str:
    """Status of a claim from its checks: any fail -> fail, else any inconclusive -> inconclusive, else any pass ->
    pass, else (no check's hypothesis met) hypothesis not met."""
    if not checks:
        raise ValueError("checks: a claim's status needs at least one Check")
    st = [c.status for c in checks]
    for s in ("fail", "inconclusive", "pass"):
        if s in st:
            return s
    return HYPOTHESIS_NOT_MET


@dataclass(init=False)
class Evidence:
    """What a claim returns: ``Evidence(text, figures, data, checks=[...])``.

    Statistical, numerical and measurement claims pass ``checks`` (their verdict is :func:`combine` of them);
    ``passed`` is for ``kind="symbolic"`` claims (exact logic), written ``Evidence(passed, text, figures, data)``; given
    together with checks, ``passed=False`` can only turn a verdict into *fail*.
    """

    passed: bool | None
    evidence: str
    figures: list[str]
    data: dict
    checks: list[Check]

    def __init__(self, *args, evidence: str | None = None, figures=None, data=None, checks=None, passed=None):
        args = list(args)
        if args and isinstance(args[0], (bool, np.bool_)):
            if passed is not None:
                raise TypeError("Evidence: passed given twice")
            passed = args.pop(0)
        if len(args) > 3:
            raise TypeError(f"Evidence: at most (passed,) text, figures, data positionally, got {len(args)} more")
        names = ["evidence", "figures", "data"]
        given = {"evidence": evidence, "figures": figures, "data": data}
        for name, v in zip(names, args):
            if given[name] is not None:
                raise TypeError(f"Evidence: {name} given twice")
            given[name] = v
        if not isinstance(given["evidence"] or "", str):
            raise TypeError(f"evidence: expected Markdown text, got {type(given['evidence']).__name__}")
        self.passed = None if passed is None else bool(passed)
        self.evidence = given["evidence"] or ""
        self.figures = list(given["figures"] or [])
        self.data = dict(given["data"] or {})
        self.checks = list(checks or [])
        for c in self.checks:
            if not isinstance(c, Check):
                raise TypeError(f"checks: expected Check records, got {type(c).__name__}")


@dataclass
class Verdict:
    id: str
    ref: str
    statement: str
    status: str  # one of STATUSES
    evidence: str
    figures: list[str]
    seconds: float
    data: dict
    kind: str = "statistical"
    checks: list[dict] = field(default_factory=list)  # the terms: statistic, tolerance, basis, alternative, ...
    cpu_seconds: float = 0.0  # process CPU time (all threads): comparable across machine loads, unlike ``seconds``


@dataclass(frozen=True)
class _Claim:
    id: str
    ref: str
    statement: str
    fn: Callable[[Context], Evidence]
    full_only: bool
    kind: str


_REGISTRY: dict[str, _Claim] = {}


def claim(id: str, *, ref: str, statement: str, full_only: bool = False, kind: str = "statistical"):
    """Register a claim check (a function ``Context -> Evidence``) under a unique ``id``.

    ``kind``: ``"statistical"`` (a tolerance from a standard error), ``"numerical"`` (a deterministic computation,
    tolerance = its numerical error), ``"measurement"`` (a measured quantity reported against a stated prediction) --
    these must return :class:`Check` records -- or ``"symbolic"`` (exact logic, may return ``Evidence(passed, ...)``).
    """
    if kind not in KINDS:
        raise ValueError(f"kind: must be one of {KINDS}, got {kind!r}")

    def deco(fn: Callable[[Context], Evidence]) -> Callable[[Context], Evidence]:
        if id in _REGISTRY:
            raise ValueError(f"claim id {id!r} is registered twice")
        _REGISTRY[id] = _Claim(id, ref, statement, fn, full_only, kind)
        return fn

    return deco


def registry() -> dict[str, _Claim]:
    _load_all()
    return dict(_REGISTRY)


def _load_all() -> None:
    """Import the modules that register claims (kept lazy so ``import lsgan_theory`` stays light)."""
    from . import _claims  # noqa: F401  (each area registers its claims in _claims/<area>.py)


def status_of(ev: Evidence, kind: str) -> str:
    """The verdict of an :class:`Evidence` for a claim of ``kind`` (see the module docstring)."""
    if ev.checks:
        st = combine(ev.checks)
        return "fail" if ev.passed is False else st
    if kind == "symbolic" and ev.passed is not None:
        return "pass" if ev.passed else "fail"
    raise ValueError(f"evidence: a {kind} claim must state its terms (Check records: statistic, tolerance, "
                     "tolerance_basis, alternative, alternative_statistic); it returned none")


def _terms_table(checks: list[Check]) -> str:
    return "\n".join(["| check | statistic | tolerance | tolerance basis | alternative | alternative statistic | "
                      "status |", "|---|---|---|---|---|---|---|"] + [c.row() for c in checks])


def run_claims(ctx: Context, only: list[str] | None = None, progress: Callable[[str], None] | None = None,
               jobs: int = 1, done: Callable[[Verdict], None] | None = None) -> list[Verdict]:
    """Run every registered claim (or those in ``only``) and return their verdicts in registration order.

    ``jobs`` > 1 runs the claims in that many worker processes (``spawn``; the longest first, by
    :data:`VERIFY_COST`, so that the long claims do not finish last).  Every claim starts from the same global random
    state (:func:`_run_one`), so its verdict does not depend on which claims ran before it or in which process (its
    torch threads are this process's shared out among the workers: one each under ``OMP_NUM_THREADS=1``; other
    thread counts can change a trained claim's rounding).  ``progress(id)`` is called when a claim starts in this
    process (``jobs`` = 1 only); ``done(verdict)`` when any claim has finished."""
    claims = registry()
    if only:
        unknown = sorted(set(only) - set(claims))
        if unknown:
            raise ValueError(f"only: unknown claim id(s) {unknown}; known: {sorted(claims)}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs: a whole number of worker processes >= 1, got {jobs!r}")
    selected = [c for c in claims.values() if not only or c.id in only]
    verdicts: dict[str, Verdict] = {}
    for c in selected:
        if c.full_only and ctx.quick:
            verdicts[c.id] = Verdict(c.id, c.ref, c.statement, "skipped", "runs with `verify --full`", [], 0.0, {},
                                     c.kind)
    to_run = [c.id for c in selected if c.id not in verdicts]
    if jobs == 1 or len(to_run) <= 1:
        with _rng_states_kept():  # the claims reseed the global generators; the caller's are restored after
            for cid in to_run:
                if progress:
                    progress(cid)
                verdicts[cid] = _run_one(ctx, cid)
                if done:
                    done(verdicts[cid])
    else:
        verdicts |= _run_parallel(ctx, to_run, min(jobs, len(to_run)), done)
    return [verdicts[c.id] for c in selected]


#: Start method of :func:`run_claims`'s workers: ``spawn`` (a fresh interpreter; ``fork`` after torch has started its
#: thread pool may hang the child).  The tests use ``fork`` to reach claims registered inside the test.
_MP_CONTEXT = "spawn"
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _run_parallel(ctx: Context, ids: list[str], jobs: int, done) -> dict[str, Verdict]:
    """The claims ``ids`` in ``jobs`` worker processes, the costliest first (their quick or full CPU seconds in
    :data:`VERIFY_COST`; a claim without an entry counts as 1 s), at most ``jobs`` at a time, so that nothing waits in
    a queue: Ctrl-C (or any error here) cancels what has not started and terminates the workers at once.  Each worker
    gets an equal share of the torch threads this process would use (its OpenMP/BLAS variables set before it starts).
    When a worker dies (killed, out of memory), the claims running at that moment are run again one at a time in a
    fresh pool: the one that kills its worker alone is an *error* verdict that says so, and the rest go on."""
    def cost(cid: str) -> float:
        q, f = VERIFY_COST.get(cid, (1.0, 1.0))
        return q if ctx.quick else q * f

    import torch  # its default thread count follows OMP_NUM_THREADS

    todo = sorted(ids, key=cost, reverse=True)
    threads = max(1, torch.get_num_threads() // jobs)
    out: dict[str, Verdict] = {}
    while todo:
        broken = _pool_round(ctx, todo, jobs, threads, out, done)
        if len(broken) > 1:  # which of the claims running together killed the worker: run each alone to find out
            broken = [cid for cid in broken if _pool_round(ctx, [cid], 1, threads, out, done)]
        for cid in broken:
            c = registry()[cid]
            out[cid] = Verdict(cid, c.ref, c.statement, "error", f"its worker process died while it ran (alone): "
                               f"killed or out of memory; rerun it with --only {cid} --jobs 1 to see its error", [],
                               0.0, {}, c.kind)
            if done:
                done(out[cid])
        todo = [cid for cid in todo if cid not in out]
    return out


def _pool_round(ctx: Context, todo: list[str], jobs: int, threads: int, out: dict, done) -> list[str]:
    """Run ``todo`` in one process pool, at most ``jobs`` claims in flight, storing verdicts in ``out``; return the
    claims that were running when the pool broke (empty when all finished)."""
    import multiprocessing as mp
    import os
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    saved = {k: os.environ.get(k) for k in _THREAD_VARS}
    os.environ.update({k: str(threads) for k in _THREAD_VARS})  # the workers' BLAS/OpenMP, read when they start
    pool = ProcessPoolExecutor(jobs, mp_context=mp.get_context(_MP_CONTEXT), initializer=_worker_init,
                               initargs=(threads,))
    queue, running, finished = list(todo), {}, False
    try:
        while queue or running:
            while queue and len(running) < jobs:
                cid = queue.pop(0)
                running[pool.submit(_run_one, ctx, cid)] = cid
            ready, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in ready:
                cid = running.pop(fut)
                try:
                    out[cid] = fut.result()
                except BrokenProcessPool:
                    lost = [cid]
                    for f, other in running.items():  # a sibling may have returned before the pool broke
                        if f.done() and not f.cancelled() and f.exception() is None:
                            out[other] = f.result()
                            if done:
                                done(out[other])
                        else:
                            lost.append(other)
                    return lost
                except Exception as exc:  # e.g. a verdict that cannot be sent back: that claim's error, not the run's
                    c = registry()[cid]
                    out[cid] = Verdict(cid, c.ref, c.statement, "error", f"its worker could not return the verdict: "
                                       f"{exc!r}", [], 0.0, {}, c.kind)
                if done:
                    done(out[cid])
        finished = True
        return []
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if not finished:  # Ctrl-C, an error, or a broken pool: stop the workers now, not after their claims
            for proc in list((getattr(pool, "_processes", None) or {}).values()):  # no public handle on them
                proc.terminate()
        pool.shutdown(wait=finished, cancel_futures=True)


def _worker_init(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    _load_all()


@contextlib.contextmanager
def _rng_states_kept():
    """Restore Python's, numpy's and torch's global random states on exit."""
    import random

    import torch

    py, npy, tor = random.getstate(), np.random.get_state(), torch.get_rng_state()
    try:
        yield
    finally:
        random.setstate(py)
        np.random.set_state(npy)
        torch.set_rng_state(tor)


def _run_one(ctx: Context, cid: str) -> Verdict:
    """Run claim ``cid`` from a fixed global random state (Python's, numpy's and torch's, all seeded from
    ``ctx.seed``) and time it; a claim that raises is reported as *error* with its traceback."""
    import random

    import torch

    c = registry()[cid]
    random.seed(ctx.seed)
    np.random.seed(ctx.seed)
    torch.manual_seed(ctx.seed)
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        ev = c.fn(ctx)
        status = status_of(ev, c.kind)
        text = ev.evidence
        if ev.checks:
            text += "\n\n**Terms** (pass: statistic ≤ tolerance < alternative statistic; statistic ≤ tolerance " \
                    "with the alternative not rejected: inconclusive):\n\n" + _terms_table(ev.checks)
        elif c.kind == "symbolic":
            text += "\n\n*Terms: exact (symbolic/proof check, true or false; no statistic).*"
        return Verdict(c.id, c.ref, c.statement, status, text, [_figure_ref(f, ctx.out) for f in ev.figures],
                       time.perf_counter() - t0, ev.data, c.kind, [asdict(k) | {"status": k.status}
                                                                   for k in ev.checks],
                       time.process_time() - c0)
    except Exception as exc:  # a broken check is reported, not hidden
        return Verdict(c.id, c.ref, c.statement, "error", f"```\n{traceback.format_exc(limit=4)}```\n{exc!r}", [],
                       time.perf_counter() - t0, {}, c.kind, [], time.process_time() - c0)


def _figure_ref(path, out: Path) -> str:
    """A figure's path as stored in ``claims.json``: relative to the report folder ``out`` when it lies inside it
    (``figures/x.png``, whatever the working directory or the form of ``--out``), else absolute.  Resolved once,
    here; the Markdown and HTML writers read it relative to the report folder."""
    p, base = Path(path).resolve(), Path(out).resolve()
    return str(p.relative_to(base)) if p.is_relative_to(base) else str(p)


_TITLE = "# lsgan-theory verification report"


def write_report(verdicts: list[Verdict], ctx: Context, jobs: int = 1) -> Path:
    """Write ``report.html`` (one self-contained file: figures embedded, filters, provenance;
    :mod:`lsgan_theory.report_html`), ``report.md`` (the same content in Markdown, for GitHub) and ``claims.json``
    into ``ctx.out``; return the path of ``report.html``.  ``jobs`` (the worker processes the claims ran in; their
    seconds depend on it) is recorded in the provenance.

    No ``README.md`` is written: the report folder is not tracked by git (``.gitignore``), so GitHub's folder view
    gains nothing from one, and a second copy of the Markdown could only drift.  A ``README.md`` left in ``ctx.out``
    by an older version (its first line is this report's title) is removed, so that a stale report never sits beside
    a fresh one; any other ``README.md`` is left alone."""
    ctx.out.mkdir(parents=True, exist_ok=True)
    meta = {"version": __version__, "git": git_revision(), "quick": ctx.quick, "seed": ctx.seed,
            "device": device_description(), "jobs": jobs, "python": platform.python_version(),
            "time": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    from .output import write_json

    write_json(ctx.out / "claims.json", {"meta": meta, "claims": [asdict(v) for v in verdicts]}, what="--out")
    counts = {s: sum(v.status == s for v in verdicts) for s in STATUSES}
    lines = [_TITLE, "",
             f"Version {meta['version']} (git {meta['git']}), {'quick' if ctx.quick else 'full'} run, seed {ctx.seed}, "
             f"{meta['device']}, {meta['time']}.", "",
             "**" + ", ".join(f"{counts[s]} {s}" for s in STATUSES) + ".**", "",
             "A verdict is computed from each check's terms: *pass* when the statistic is within its tolerance and a "
             "nearby wrong answer (the alternative) is rejected in the same run; *inconclusive* when the alternative "
             "is not rejected; *fail* when the statistic exceeds its tolerance (for a theorem: *violated*); "
             "*hypothesis not met* when a theorem's measured hypothesis (e.g. an equilibrium, by its certificates) "
             "does not hold for what was measured, so the theorem says nothing about it.", "",
             "| claim | THEORY.md | kind | verdict | seconds | CPU seconds |", "|---|---|---|---|---|---|"]
    for v in verdicts:
        lines.append(f"| [{v.id}](#{v.id}) | {v.ref} | {v.kind} | {v.status} | {v.seconds:.2f} | "
                     f"{v.cpu_seconds:.2f} |")
    for v in verdicts:
        lines += ["", f"## {v.id}", "", f"*{v.ref}* — {v.statement}", "", f"**Verdict: {v.status}.**", "", v.evidence]
        for f in v.figures:
            lines += ["", f"![{Path(f).stem}]({f})"]
    write_text(ctx.out / "report.md", "\n".join(lines) + "\n", what="report")  # the one atomic writer
    stale = ctx.out / "README.md"
    try:
        if stale.is_file() and stale.read_text(errors="replace").startswith(_TITLE + "\n"):
            stale.unlink()
    except OSError:
        pass
    from .report_html import write_html

    return write_html([asdict(v) for v in verdicts], meta, ctx.out / "report.html", figures_base=ctx.out)


# ---------------------------------------------------------------------------------------------------- cost
#: Cost of ``verify --full`` per claim, for the duration line: ``id -> (quick CPU seconds, full/quick factor)``.
#: Quick CPU seconds: each claim's process CPU time (one torch thread) in one ``verify --quick --jobs 2`` on the idle
#: 2-core development machine (git 22a00b8 + the ``--jobs`` change, 2026-12-07; the run of
#: ``benchmarks/results/verify_quick_2cores.txt``), except the two full-only claims (their study runs, as noted).
#: Factor: the ratio of the work each claim does in --full to --quick, from its sizes (trained claims: models × steps;
#: LPs: instances × (pairs)^1.5; the λ sweep: models × steps × a width factor), not measured in --full; a full-only
#: claim carries the CPU seconds of its study run at quick size and the factor to full. ``tests/test_verify_cli.py``
#: checks that every registered claim has an entry.
VERIFY_COST: dict[str, tuple[float, float]] = {
    "closed-forms-gaussian": (0.74, 1.0),
    "divergence-inequalities": (1.05, 10),  # n 20 → 200 random mixtures
    "symbolic-gan-jsd": (0.03, 1.0),
    "symbolic-least-squares-abc": (1.23, 1.0),
    "symbolic-hinge-tv": (0.11, 1.0),
    "symbolic-fgan-kl": (0.59, 1.0),
    "symbolic-fgan-reverse_kl": (0.19, 1.0),
    "symbolic-fgan-pearson_chi2": (0.22, 1.0),
    "symbolic-fgan-neyman_chi2": (0.73, 1.0),
    "symbolic-fgan-hellinger2": (0.68, 1.0),
    "symbolic-fgan-js": (1.46, 1.0),
    "symbolic-fgan-fgan_gan": (1.6, 1.0),
    "symbolic-fgan-tv": (0.3, 1.0),
    "symbolic-gls-costs": (0.25, 1.0),
    "symbolic-lemma4-theorem1": (0.9, 1.0),
    "symbolic-hinge-inactivity": (0.12, 1.0),
    "symbolic-figure-vanishing-gradient": (0.65, 1.0),
    "symbolic-figure-generator-loss": (0.44, 1.0),
    "losses-glsgan-reductions": (0.01, 1.0),
    "losses-glsgan-cost-admissible": (0.01, 1.0),
    "losses-hinge-inactivity": (0.01, 1.0),
    "losses-least-squares-tabular-dstar": (0.07, 1.0),
    "losses-gradient-penalty-per-sample": (0.01, 1.0),
    "nonparametric-lp-exact": (0.1, 7.5),  # instances 8 → 20 × (pairs n·m 289 → 600)^1.5
    "nonparametric-corollary1": (0.58, 1.0),
    "nonparametric-corollary2": (0.27, 2.5),  # instances 4 → 10
    "nonparametric-cone-slopes": (0.12, 1.0),
    "nonparametric-allocation": (0.44, 1.0),
    "nonparametric-allocation-generator": (6.7, 18),  # models × steps 3·800 → 8·3000, pairs (150 → 200)²
    "nonparametric-figure-1d": (1.52, 2.7),  # discriminator steps 1500 → 4000
    "nonparametric-figure-2d": (0.9, 1.0),
    # full only: its study at quick size; × (seeds 4 → 12) × (Σn² over the n ~16×)
    "nonparametric-generalisation": (4.99, 50.0),
    "optimal-critic-gan": (4.2, 20),  # models × steps 16·600 → 64·3000
    "optimal-critic-least_squares": (3.96, 20),  # models × steps 16·600 → 64·3000
    "optimal-critic-hinge": (3.95, 20),  # models × steps 16·600 → 64·3000
    "optimal-critic-loss_sensitive": (6.06, 16),  # models × steps 6·2000 → 32·6000
    # models 200 → 1400 (targets × regimes × λ × seeds) × steps 250 → 5000 × ~1.7 for width 16 → 32
    "theorem1-trained-lambda-sweep": (27.8, 240),
    "theorem1-sharp-bound-attained": (1.7, 1.0),  # exact (issue 29)
    # targets × λ × seeds × Σ budgets 5·3·3·375 → 5·6·5·8750 (×78), × ~4 for width 32 and 128 cells (issue 29)
    "theorem1-certified-equilibrium": (42.2, 310),
    "theorem1-verdict-controls": (0.51, 1.0),
    # targets × λ × seeds × rounds 5·2·1·60 → 5·6·2·120 (×12), × ~4 for 64/128 cells and the larger λ's LPs (issue 29)
    "theorem1-best-response-equilibrium": (16.1, 50),
    # label counts × seeds × steps 1·27·300 → 4·5·3000 (issue 32)
    "clsgan-semi-supervised-digits": (61.6, 7.4),
    # λ × seeds × steps 2·4·400 → 5·5·20000, × ~4 for the wider networks
    "clsgan-theorem3": (6.02, 625),
    # models × steps 32·1050 → 80·35000 (×83), × ~17 per model-step (z ∈ R^256, batch 512, 128-wide nets; issue 32)
    "modes-mao-ring": (13.6, 1400),
    # models × steps 128·140 → 320·400000 (×7100), × ~10 per model-step (400-wide BN G, 5-piece maxout D)
    "modes-pacgan-packing": (15.8, 71000),
    # sample complexity; factors: models × steps quick → full, × the width factor (cost ∝ width² per model)
    "sample-complexity-critic-gap": (42.8, 3200),  # 112·400 → 720·10000, widths 8/64 → 8…512 (issue 32)
    "sample-complexity-data-generalisation": (6.16, 1800),  # 15·600 → 400·20000, width 16 → 32
    "gls-family-trained": (40.6, 3600),  # 25·500 → 1120·20000, width 16 → 32; + the mirrored pairs (issue 32)
    "sample-complexity-mixture-2d": (19.1, 4000),  # 24·1200 → 1280·30000, width 32 → 64 (quick ×3, issue 32)
    # full only: the CPU seconds of its committed default-size run (experiments/sample_complexity/critic_capacity/:
    # 183 training + 72 LP + 6 report), × 5 for the spec's [full] variant (models 96 → 480: 40 seeds · 3 m · 4 widths)
    "sample-complexity-capacity": (261.0, 5.0),
}


def full_estimate(ids: list[str], out: Path) -> tuple[float, str]:
    """Expected CPU seconds of ``verify --full`` for the claim ids ``ids`` and the basis, one phrase: the CPU seconds a
    previous ``claims.json`` in folder ``out`` recorded (× the claim's full/quick factor when that run was quick),
    else the cost table :data:`VERIFY_COST`; a claim in neither is left out and named in the phrase."""
    previous, prev_quick = {}, True
    try:
        doc = json.loads((out / "claims.json").read_text())
        prev_quick = bool(doc["meta"]["quick"])
        previous = {c["id"]: float(c["cpu_seconds"]) for c in doc["claims"]
                    if c.get("status") not in ("skipped", "error") and float(c.get("cpu_seconds") or 0) > 0}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    total, n_prev, n_table, missing = 0.0, 0, 0, []
    for cid in ids:
        quick_s, factor = VERIFY_COST.get(cid, (math.nan, math.nan))
        if cid in previous and (not prev_quick or math.isfinite(factor)):
            total += previous[cid] * (factor if prev_quick else 1.0)
            n_prev += 1
        elif math.isfinite(quick_s):
            total += quick_s * factor
            n_table += 1
        else:
            missing.append(cid)
    parts = []
    if n_prev:
        parts.append(f"{n_prev} claim(s) from the CPU seconds in {str(out / 'claims.json')!r} "
                     f"({'a quick run × full/quick factor' if prev_quick else 'a full run'})")
    if n_table:
        parts.append(f"{n_table} from the cost table (quick CPU seconds measured on a 2-core CPU × a full/quick "
                     "factor per claim)")
    if missing:
        parts.append(f"{len(missing)} without a cost entry, not counted ({', '.join(missing)})")
    return total, "; ".join(parts)
