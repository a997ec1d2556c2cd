"""Compare two ``verify`` reports: the same claims, the same verdicts, the same statistics.

    python tools/compare_reports.py BEFORE AFTER [--rtol R] [--text]

BEFORE and AFTER are report folders (or their ``claims.json``).  For every claim id of either report it compares the
status, every check (status, statistic, tolerance, alternative statistic, whether the hypothesis is met) and every
number and string in the claim's ``data``; wall-clock fields (``seconds``, ``cpu_seconds``) and the ``meta`` block
(time, git revision) are left out.  Numbers agree when equal (NaN equal to NaN, the same infinity) or, with
``--rtol``, within R relative (R · max(1, |before|)).  ``--text`` also compares the evidence text and the checks'
shown lines.  Prints one line per difference and a summary; exit status 0 when nothing differs, 1 otherwise, 2 for
a missing or unreadable file.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lsgan_theory.output import loads  # noqa: E402  (reads the "nonfinite" entries back as NaN / ±inf)

#: fields that measure the machine, not the mathematics
CLOCK = {"seconds", "cpu_seconds", "time"}
#: fields of a check that carry its verdict and statistics
CHECK_FIELDS = ("status", "statistic", "tolerance", "alternative_statistic", "hypothesis_met")


def load(path: str | Path) -> dict:
    """claim id -> claim, from a report folder or its claims.json (``ValueError`` for a missing or bad file)."""
    p = Path(path)
    p = p / "claims.json" if p.is_dir() else p
    try:
        doc = loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read a claims.json ({exc})") from None
    return {c["id"]: c for c in doc["claims"]}


def same_number(a, b, rtol: float) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return a == b or abs(a - b) <= rtol * max(1.0, abs(a))


def diff(a, b, where: str, rtol: float, out: list[str], text: bool = True) -> None:
    """Append to ``out`` a line per difference between the JSON values ``a`` and ``b``."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k in CLOCK:
                continue
            if k not in a or k not in b:
                out.append(f"{where}/{k}: only in {'after' if k not in a else 'before'}")
            else:
                diff(a[k], b[k], f"{where}/{k}", rtol, out, text)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{where}: {len(a)} items before, {len(b)} after")
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{where}/{i}", rtol, out, text)
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if not same_number(a, b, rtol):
            out.append(f"{where}: {a!r} before, {b!r} after")
    elif a != b and (text or not isinstance(a, str)):
        out.append(f"{where}: {str(a)[:80]!r} before, {str(b)[:80]!r} after")


def compare(before: dict, after: dict, rtol: float = 0.0, text: bool = False) -> tuple[list[str], dict]:
    """(difference lines, counts) of two reports' claims (see the module docstring)."""
    out: list[str] = []
    for cid in sorted(set(before) | set(after)):
        if cid not in before or cid not in after:
            out.append(f"{cid}: only in {'after' if cid not in before else 'before'}")
            continue
        a, b = before[cid], after[cid]
        if a["status"] != b["status"]:
            out.append(f"{cid}: status {a['status']} before, {b['status']} after")
        ca, cb = a.get("checks") or [], b.get("checks") or []
        if len(ca) != len(cb):
            out.append(f"{cid}: {len(ca)} checks before, {len(cb)} after")
        for i, (x, y) in enumerate(zip(ca, cb)):
            for f in CHECK_FIELDS:
                diff(x.get(f), y.get(f), f"{cid}/checks/{i}/{f}", rtol, out)
            if text:
                diff(x.get("shown"), y.get("shown"), f"{cid}/checks/{i}/shown", rtol, out)
        diff(a.get("data"), b.get("data"), f"{cid}/data", rtol, out, text)
        if text:
            diff(a.get("evidence"), b.get("evidence"), f"{cid}/evidence", rtol, out)
    counts = {"claims": len(set(before) | set(after)),
              "same status": sum(before[c]["status"] == after[c]["status"] for c in set(before) & set(after)),
              "differences": len(out)}
    return out, counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--rtol", type=float, default=0.0, help="relative tolerance of numbers (default 0: equal)")
    ap.add_argument("--text", action="store_true", help="also compare evidence texts and shown lines")
    args = ap.parse_args(argv)
    try:
        before, after = load(args.before), load(args.after)
    except ValueError as exc:
        print(f"compare_reports: {exc}", file=sys.stderr)
        return 2
    lines, counts = compare(before, after, args.rtol, args.text)
    for line in lines:
        print(line)
    print(f"{counts['claims']} claims, {counts['same status']} with the same status, {counts['differences']} "
          f"difference(s) (rtol {args.rtol:g}{', texts compared' if args.text else ''})")
    return 0 if not lines else 1


if __name__ == "__main__":
    sys.exit(main())
