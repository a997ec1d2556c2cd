"""The ``lsgan-theory sweep`` and ``lsgan-theory results`` subcommands: argument parsers and runners.

Kept in the sweeps package (studies layer: argparse and calls only) so that :mod:`lsgan_theory.cli` registers them
with :func:`add_sweep_parsers` and dispatches to :func:`run_sweep` / :func:`run_results`.  A runner returns the exit
status; bad input raises ``ValueError`` (the CLI prints one line, exit 2); a folder held by another sweep process
prints one line and returns 3.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ["add_sweep_parsers", "run_sweep", "run_results", "records_json", "COMMANDS", "TIMING_COLUMNS"]

COMMANDS = ("sweep", "results")


def add_sweep_parsers(sub) -> None:
    """Add the ``sweep`` and ``results`` subparsers to an argparse subparsers object."""
    p = sub.add_parser("sweep", help="run (or resume) a sweep from a TOML spec into a SQLite results store",
                       description="Expand SPEC.toml into runs (the product of its [grid] lists x seeds), pack them "
                                   "into batched ensembles and train them, writing every finished run to "
                                   "OUT/results.sqlite in one transaction. Rerunning the same command resumes; "
                                   "--restart starts afresh.")
    p.add_argument("spec", type=Path, help="the sweep spec (TOML), e.g. experiments/lambda.toml")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", dest="variant", action="store_const", const="quick",
                   help="apply the spec's [quick] overrides (2 CPU cores, minutes)")
    g.add_argument("--full", dest="variant", action="store_const", const="full",
                   help="apply the spec's [full] overrides (a GPU)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: runs/NAME[-quick|-full])")
    p.add_argument("--executor", choices=["local", "dask"], default="local",
                   help="local: packs one after the other in this process (default); dask: packs as Dask tasks")
    p.add_argument("--workers", type=int, default=None, help="dask: start a LocalCluster of N worker processes")
    p.add_argument("--scheduler", default=None, help="dask: join the cluster at tcp://HOST:PORT")
    p.add_argument("--device", default=None, help="auto (default), cpu, cuda, cuda:N; recorded, not hashed")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads per pack (default 1: parallelism comes from batching and workers)")
    p.add_argument("--restart", action="store_true", help="discard OUT/results.sqlite and start afresh")
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    p.add_argument("--json", action="store_true", help="print a machine-readable summary at the end")

    p = sub.add_parser("results", help="print or export the results of a sweep (mean ± CI over seeds)",
                       description="Read OUT/results.sqlite. table (default): mean and 95%% confidence half-width "
                                   "(Student t over seeds) of each final metric, grouped by the spec's grid keys. "
                                   "csv/json/parquet: one row per run (configuration + final metrics).")
    p.add_argument("out", type=Path, help="the sweep's output folder")
    p.add_argument("--format", choices=["table", "csv", "json", "parquet"], default="table", help="output format")
    p.add_argument("--output", "-o", type=Path, default=None, help="file to write (parquet needs one); default stdout")
    p.add_argument("--metric", nargs="+", default=None, help="metrics of the table (default: every final metric with a value, less the error columns "
                        "l1_exact_abserr, l1_noise_floor_std and the certificates' *_err)")
    p.add_argument("--by", nargs="+", default=None, help="group-by columns of the table (default: the grid keys)")
    p.add_argument("--no-timing", action="store_true",
                   help="leave out what differs between two runs of the same sweep (started, finished, seconds, "
                        "worker, attempts): two identical sweeps then export identical csv/json")


def run_sweep(args) -> int:
    from .run import sweep
    from .store import SweepLocked

    if args.threads < 1:
        raise ValueError(f"--threads: must be an integer >= 1, got {args.threads}")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers: must be an integer >= 1, got {args.workers}")
    if args.executor == "local" and (args.workers is not None or args.scheduler is not None):
        raise ValueError("--workers/--scheduler: only with --executor dask")
    if args.workers is not None and args.scheduler is not None:
        raise ValueError("--workers/--scheduler: give one (start a local cluster, or join one)")
    try:
        s = sweep(args.spec, args.out, variant=args.variant, executor=args.executor, workers=args.workers,
                  scheduler=args.scheduler, restart=args.restart, quiet=args.quiet, device=args.device,
                  threads=args.threads)
    except SweepLocked as exc:
        print(f"lsgan-theory sweep: error: {exc}", file=sys.stderr)
        return 3
    if args.json:
        print(json.dumps(s, indent=2, default=str))
    elif not args.quiet:
        c = s["counts"]
        print(f"sweep {s['name']}{' (' + s['variant'] + ')' if s['variant'] else ''}: {s['runs']} runs, "
              f"{c.get('done', 0)} done, {c.get('diverged', 0)} diverged, {c.get('failed', 0)} failed, "
              f"{s['trained']} trained now in {s['seconds']:.1f} s -> {s['store']}", file=sys.stderr)
    return 0 if not s["counts"].get("failed") else 1


def run_results(args) -> int:
    from .results import load, summarize

    df = load(args.out)
    if args.no_timing:
        df = df.drop(columns=[c for c in TIMING_COLUMNS if c in df.columns])
    if args.format == "table":
        t = summarize(df, by=args.by, metrics=args.metric)
        text = format_table(t, df)
    elif args.format == "csv":
        text = df.to_csv(index=False)
    elif args.format == "json":
        text = records_json(df)
    else:
        if args.output is None:
            raise ValueError("--format parquet: needs --output FILE")
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ValueError("--format parquet: needs pyarrow (pip install 'lsgan-theory[parquet]')") from None
        df.assign(**{c: df[c].map(json.dumps) for c in df.columns if df[c].map(type).eq(tuple).any()}).to_parquet(
            args.output, index=False)
        return 0
    if args.output is not None:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


#: Columns of ``results`` that differ between two runs of the same sweep (left out by ``--no-timing``).
TIMING_COLUMNS = ("started", "finished", "seconds", "worker", "attempts")


def records_json(df) -> str:
    """``results --format json``: ``{"runs": [one object per run], "nonfinite": {...}}`` written by the package's
    JSON writer (:func:`lsgan_theory.output.dumps`): standard JSON, a non-finite value as ``null`` listed under
    ``"nonfinite"`` (e.g. ``"/runs/3/w1": "Infinity"``), floats with every digit (as the CSV export)."""
    import math

    from ..output import dumps
    from .results import METRIC_ORDER as _METRICS

    records = []
    for rec in df.to_dict(orient="records"):
        # pandas' missing values (NaN in an object column, None) of configuration cells become null, unlisted
        records.append({k: (None if v is None or (isinstance(v, float) and math.isnan(v) and k not in _METRICS)
                            else v) for k, v in rec.items()})
    return dumps({"runs": records}) + "\n"


def format_table(t, df) -> str:
    """The summary as aligned text: grid keys, n, then ``mean ± ci`` per metric."""
    meta = df.attrs
    by = [c for c in t.columns if c not in ("n", "diverged") and not c.endswith(("_mean", "_ci"))]
    metrics = [c[:-5] for c in t.columns if c.endswith("_mean")]
    head = by + ["n", "diverged"] + metrics
    rows = []
    for _, r in t.iterrows():
        rows.append([_cell(r[c]) for c in by] + [str(int(r["n"])), str(int(r["diverged"]))]
                    + [f"{r[m + '_mean']:.4g} ± {r[m + '_ci']:.2g}" for m in metrics])
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(head)]
    counts = df["status"].value_counts().to_dict()
    lines = [f"sweep {meta.get('name', '?')}{' (' + meta['variant'] + ')' if meta.get('variant') else ''}: "
             f"{len(df)} runs ({', '.join(f'{v} {k}' for k, v in counts.items())}); mean ± 95% CI half-width "
             f"(Student t over seeds)"]
    lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines) + "\n"


def _cell(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)
