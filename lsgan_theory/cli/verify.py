"""``lsgan-theory verify``: run the claim checks and write the report folder.  The cost table behind the ``--full``
duration line is :data:`lsgan_theory.claims.VERIFY_COST` (read by :func:`lsgan_theory.claims.full_estimate`)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..provenance import cpu_cores, gpu_name
from .common import _int_type, _print_json, _writable_dir


def _add_verify(sub) -> None:
    p = sub.add_parser("verify", help="check every claim of THEORY.md and write a report folder",
                       description="Run the claim checks and write report.html, report.md and claims.json to --out. "
                                   "--full first prints (stderr, one line) the expected duration on this device and "
                                   "its basis, and warns when no GPU is present.")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", dest="quick", action="store_true", default=True, help="the quick default (minutes)")
    g.add_argument("--full", dest="quick", action="store_false", help="every claim, including long sweeps")
    p.add_argument("--out", type=Path, default=Path("report"), help="report folder (default: ./report)")
    p.add_argument("--only", nargs="+", default=None, help="claim ids to run (an unknown id lists the valid ones)")
    p.add_argument("--seed", type=_int_type(0, 2**32 - 1), default=0,
                   help="root seed of every random stream (data, initialisation, sampling)")
    p.add_argument("--jobs", type=_int_type(1, 256), default=None,
                   help="claims run at once, each in its own process (default: the CPU cores this process may use; "
                        "1 runs them one after another in this process); each claim starts from the same random "
                        "state whatever runs beside it, and the torch threads are shared out (one each under "
                        "OMP_NUM_THREADS=1, as make report runs)")
    p.add_argument("--json", action="store_true", help="print the verdicts as standard JSON (non-finite -> null)")
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    p.add_argument("--require-gpu", action="store_true", help="refuse (exit 2) on a machine without a CUDA GPU")


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else (f"{seconds / 60:.0f} min" if seconds < 7200
                                                      else f"{seconds / 3600:.1f} h")


def _run_verify(args) -> int:
    from dataclasses import asdict

    from tqdm import tqdm

    from ..claims import STATUSES, Context, full_estimate, registry, run_claims, write_report

    claims = registry()
    ids = list(claims)
    if args.only:
        unknown = sorted(set(args.only) - set(ids))
        if unknown:
            raise ValueError(f"--only: unknown claim id(s) {', '.join(map(repr, unknown))}; valid ids: "
                             f"{' '.join(ids)}")
    _writable_dir(args.out, "--out")
    selected = [c for c in ids if not args.only or c in args.only]
    gpu = gpu_name()
    if gpu is None and args.require_gpu:
        raise ValueError("--require-gpu: no CUDA GPU visible to torch on this machine (torch.cuda.is_available() is "
                         "False); run without --require-gpu to use the CPU")
    if not args.quick:
        cpu_s, basis = full_estimate(selected, args.out)
        cores = cpu_cores()
        where = f"a GPU ({gpu}) and {cores} CPU cores" if gpu else f"{cores} CPU cores, no GPU"
        gpu_note = "; CPU-measured, so an upper bound for the trained claims on the GPU" if gpu else ""
        print(f"lsgan-theory verify --full: expect about {_duration(cpu_s)} of CPU time for {len(selected)} "
              f"claim(s), {_duration(cpu_s / cores)}–{_duration(cpu_s)} wall on this device ({where}){gpu_note}; "
              f"basis: {basis}", file=sys.stderr, flush=True)
        if gpu is None:
            print("lsgan-theory verify: warning: no GPU visible to torch; --full runs its trained ensembles on the "
                  "CPU (use --require-gpu to refuse instead)", file=sys.stderr, flush=True)
    ctx = Context(out=args.out, quick=args.quick, seed=args.seed)
    to_run = [c for c in selected if not (claims[c].full_only and args.quick)]
    jobs = max(1, min(args.jobs or cpu_cores(), len(to_run)))
    bar = tqdm(total=len(to_run), file=sys.stderr, disable=args.quiet, unit="claim", dynamic_ncols=True,
               bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]")
    if jobs > 1:
        bar.set_description_str(f"{jobs} processes")

    def progress(cid: str) -> None:  # one process: the claim running now
        bar.set_description_str(cid)

    def done(v) -> None:
        if jobs > 1:
            bar.set_description_str(f"{v.id} {v.status}")
        bar.update(1)

    try:
        verdicts = run_claims(ctx, only=args.only, progress=progress, jobs=jobs, done=done)
    finally:
        bar.close()
    path = write_report(verdicts, ctx, jobs=jobs)
    if args.json:
        _print_json({"report": path, "claims": [asdict(v) for v in verdicts]})
    else:
        for v in verdicts:
            print(f"{v.status:{max(map(len, STATUSES))}s} {v.id:40s} {v.ref}")
        print(f"report: {path}")
    return 0 if all(v.status in ("pass", "skipped") for v in verdicts) else 1

