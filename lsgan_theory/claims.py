"""The registry of claims behind ``lsgan-theory verify``.

Each statement of THEORY.md that the package can check is registered here as a function that runs a check and
returns a :class:`Evidence` (verdict, evidence text in Markdown, figure paths).  ``run_claims`` runs them and
``write_report`` turns the verdicts into a report folder (``README.md`` + ``claims.json`` + figures).

Register a claim with::

    @claim("gan-jsd", ref="THEORY.md §1", statement="At D*, C(G) = -log 4 + 2 JSD(p||q)")
    def _(ctx: Context) -> Evidence:
        ...

``ctx.quick`` is True for the default ``verify --quick`` (minutes on a laptop) and False for ``--full``.
A claim marked ``full_only=True`` is skipped (reported as *skipped*) in the quick run.
"""

from __future__ import annotations

import json
import platform
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import __version__
from .provenance import git_revision

__all__ = ["Context", "Evidence", "Verdict", "claim", "registry", "run_claims", "write_report"]


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
class Evidence:
    passed: bool
    evidence: str
    figures: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)


@dataclass
class Verdict:
    id: str
    ref: str
    statement: str
    status: str  # "pass" | "fail" | "error" | "skipped"
    evidence: str
    figures: list[str]
    seconds: float
    data: dict


@dataclass(frozen=True)
class _Claim:
    id: str
    ref: str
    statement: str
    fn: Callable[[Context], Evidence]
    full_only: bool


_REGISTRY: dict[str, _Claim] = {}


def claim(id: str, *, ref: str, statement: str, full_only: bool = False):
    """Register a claim check (a function ``Context -> Evidence``) under a unique ``id``."""

    def deco(fn: Callable[[Context], Evidence]) -> Callable[[Context], Evidence]:
        if id in _REGISTRY:
            raise ValueError(f"claim id {id!r} is registered twice")
        _REGISTRY[id] = _Claim(id, ref, statement, fn, full_only)
        return fn

    return deco


def registry() -> dict[str, _Claim]:
    _load_all()
    return dict(_REGISTRY)


def _load_all() -> None:
    """Import the modules that register claims (kept lazy so ``import lsgan_theory`` stays light)."""
    from . import _claims  # noqa: F401  (each area registers its claims in _claims/<area>.py)


def run_claims(ctx: Context, only: list[str] | None = None, progress: Callable[[str], None] | None = None) -> list[Verdict]:
    """Run every registered claim (or those in ``only``) and return their verdicts in registration order."""
    verdicts = []
    claims = registry()
    if only:
        unknown = sorted(set(only) - set(claims))
        if unknown:
            raise ValueError(f"only: unknown claim id(s) {unknown}; known: {sorted(claims)}")
    for c in claims.values():
        if only and c.id not in only:
            continue
        if c.full_only and ctx.quick:
            verdicts.append(Verdict(c.id, c.ref, c.statement, "skipped", "runs with `verify --full`", [], 0.0, {}))
            continue
        if progress:
            progress(c.id)
        t0 = time.perf_counter()
        try:
            ev = c.fn(ctx)
            status = "pass" if ev.passed else "fail"
            v = Verdict(c.id, c.ref, c.statement, status, ev.evidence, [str(f) for f in ev.figures],
                        time.perf_counter() - t0, ev.data)
        except Exception as exc:  # a broken check is reported, not hidden
            v = Verdict(c.id, c.ref, c.statement, "error", f"```\n{traceback.format_exc(limit=4)}```\n{exc!r}", [],
                        time.perf_counter() - t0, {})
        verdicts.append(v)
    return verdicts


def write_report(verdicts: list[Verdict], ctx: Context) -> Path:
    """Write ``README.md`` and ``claims.json`` into ``ctx.out``; return the Markdown path."""
    ctx.out.mkdir(parents=True, exist_ok=True)
    meta = {"version": __version__, "git": git_revision(), "quick": ctx.quick, "seed": ctx.seed,
            "python": platform.python_version(), "time": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    (ctx.out / "claims.json").write_text(json.dumps({"meta": meta, "claims": [asdict(v) for v in verdicts]},
                                                    indent=2, default=float))
    counts = {s: sum(v.status == s for v in verdicts) for s in ("pass", "fail", "error", "skipped")}
    lines = ["# lsgan-theory verification report", "",
             f"Version {meta['version']} (git {meta['git']}), {'quick' if ctx.quick else 'full'} run, seed {ctx.seed}, "
             f"{meta['time']}.", "",
             f"**{counts['pass']} pass, {counts['fail']} fail, {counts['error']} error, {counts['skipped']} skipped.**", "",
             "| claim | THEORY.md | verdict | seconds |", "|---|---|---|---|"]
    for v in verdicts:
        lines.append(f"| [{v.id}](#{v.id}) | {v.ref} | {v.status} | {v.seconds:.2f} |")
    for v in verdicts:
        lines += ["", f"## {v.id}", "", f"*{v.ref}* — {v.statement}", "", f"**Verdict: {v.status}.**", "", v.evidence]
        for f in v.figures:
            rel = Path(f).relative_to(ctx.out) if Path(f).is_relative_to(ctx.out) else Path(f)
            lines += ["", f"![{Path(f).stem}]({rel})"]
    path = ctx.out / "README.md"
    path.write_text("\n".join(lines) + "\n")
    return path
