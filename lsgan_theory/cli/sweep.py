"""The subcommands of sweeps: ``lsgan-theory sweep`` (run or resume a TOML spec into a SQLite store), ``results``
(print or export it), ``plot`` (the figures its spec declares) and ``theorem1`` (the reading of a λ sweep).  A runner
returns the exit status; bad input raises ``ValueError`` (one line, exit 2); a folder held by another sweep process
prints one line and returns 3."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..output import write_atomic, write_text
from .common import _int_type, _print_json, _writable_dir


def _add_sweep(sub) -> None:
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


def _add_results(sub) -> None:
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


def _run_sweep(args) -> int:
    from ..sweeps import SweepLocked, sweep

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


def _run_results(args) -> int:
    from ..sweeps.results import TIMING_COLUMNS, format_table, load, records_json, summarize

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
        table = df.assign(**{c: df[c].map(json.dumps) for c in df.columns if df[c].map(type).eq(tuple).any()})
        write_atomic(args.output, lambda tmp: table.to_parquet(tmp, index=False), what="--output")
        return 0
    if args.output is not None:
        write_text(args.output, text, what="--output")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _add_plot(sub) -> None:
    p = sub.add_parser("plot", help="draw the figures a sweep's spec declares ([[figure]]) from its results store",
                       description="Read OUT/results.sqlite (written by lsgan-theory sweep), summarise each declared "
                                   "figure's metric over seeds (mean, 95 % Student-t interval) and write PNG + PDF "
                                   "files to OUT/figures (or --figures DIR).")
    p.add_argument("out", type=Path, help="the sweep's output folder (holding results.sqlite)")
    p.add_argument("--figures", type=Path, default=None, help="where to write the figures (default OUT/figures)")
    p.add_argument("--json", action="store_true", help="print the written files as JSON")


def _run_plot(args) -> int:
    from .. import plots
    from ..sweeps import figure_tables

    if not (args.out / "results.sqlite").is_file():
        raise ValueError(f"out: {str(args.out)!r} has no results.sqlite (run lsgan-theory sweep SPEC --out OUT first)")
    tables = figure_tables(args.out)
    if not tables:
        raise ValueError(f"out: the spec of {str(args.out)!r} declares no [[figure]]; add one (name, x, y, hue, logx, "
                         f"logy, reference) to the spec and rerun the sweep command (finished runs are kept)")
    dest = args.figures if args.figures is not None else args.out / "figures"
    _writable_dir(dest, "--figures")
    written = []
    for fig, table in tables:
        written += [str(f) for f in plots.sweep_figure(fig, table, dest / fig["name"])]
    if args.json:
        _print_json({"figures": written})
    else:
        for f in written:
            print(f)
    return 0



def _add_theorem1(sub) -> None:
    p = sub.add_parser("theorem1", help="Theorem 1 verdicts, tidy CSV and figure of a λ sweep (experiments/lambda.toml)",
                       description="Read OUT/results.sqlite of a λ sweep with exact metrics (lsgan-theory sweep "
                                   "experiments/lambda.toml), fit the capacity floor per target (the generator "
                                   "architecture without an adversary), read Theorem 1 per target and data regime "
                                   "(consistent / violated at λ / inconclusive / not testable; Spearman trend with a "
                                   "bootstrap CI), against the paper's 2/λ and the sharp 2/(1+λ), and -- where the "
                                   "runs carry equilibrium certificates -- at certified equilibria only (consistent / "
                                   "violated / hypothesis not met), and write theorem1_runs.csv (one row per run, "
                                   "with the certificates), theorem1_summary.csv "
                                   "(one row per target, regime and λ), theorem1_verdicts.json and the figure "
                                   "theorem1_lambda_sweep.png/.pdf to --dest (default OUT/theorem1).")
    p.add_argument("out", type=Path, help="the sweep's output folder (holding results.sqlite)")
    p.add_argument("--dest", type=Path, default=None, help="where to write (default OUT/theorem1)")
    p.add_argument("--capacity-steps", type=_int_type(1, 10**6), default=1500,
                   help="Adam steps of the capacity-floor fit (default 1500)")
    p.add_argument("--capacity-n-z", type=_int_type(8, 10**6), default=2048,
                   help="noise quantiles the capacity floor is fitted on (default 2048)")
    p.add_argument("--capacity-models", type=_int_type(1, 1000), default=4,
                   help="networks fitted per slope weight; the floor is the best (default 4)")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def _run_theorem1(args) -> int:
    from .._claims.theorem1 import lambda_sweep_report
    from ..studies.theorem1 import read_lambda_store

    if not (args.out / "results.sqlite").is_file():
        raise ValueError(f"out: {str(args.out)!r} has no results.sqlite (run lsgan-theory sweep "
                         f"experiments/lambda.toml --out OUT first)")
    dest = args.dest if args.dest is not None else args.out / "theorem1"
    _writable_dir(dest, "--dest")
    def say(line: str) -> None:
        if not args.quiet:
            print(f"theorem1: {line}", file=sys.stderr, flush=True)

    rep = read_lambda_store(args.out, capacity_steps=args.capacity_steps, capacity_n_z=args.capacity_n_z,
                            capacity_models=args.capacity_models, progress=say)
    files = lambda_sweep_report(rep, dest)
    figs = [f for f in files if f.suffix in (".png", ".pdf")]
    if args.json:
        _print_json({"verdicts": rep["verdicts"], "figures": [str(f) for f in figs]})
    else:
        for v in rep["verdicts"]:
            eq = (f"; at certified equilibria ({v['certified']} runs): {v['at_equilibrium_sharp']} (sharp 2/(1+λ)), "
                  f"{v['at_equilibrium_paper']} (paper 2/λ)") if "at_equilibrium_sharp" in v else ""
            print(f"{v['target']} [{v['regime']}]: {v['summary']}{eq}")
        for f in files:
            print(f)
    return 0
