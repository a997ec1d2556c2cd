"""CLS-GAN given a fair chance (issue 32): run the pre-registered grid and write experiments/clsgan.md.

    OMP_NUM_THREADS=1 PYTHONPATH=. python experiments/clsgan_grid.py            # the reported run (these defaults)

Reads the spec (default ``experiments/studies/clsgan_grid.toml``), runs stage 1 (every setting on the validation split)
and stage 2 (the selected settings on the test split) with ``lsgan_theory.studies.clsgan_grid.run_grid``, and writes
``clsgan.md``, ``clsgan_grid.json`` and ``clsgan_grid.csv`` into ``--out`` (default ``experiments``).  Resumable:
``--checkpoint`` (default ``experiments/clsgan_grid_checkpoint``, not committed) holds the engine's checkpoint of the
stage under way and the record of each finished stage; a finished stage whose spec digest matches is not re-run, so
with both records present the command only rewrites the report.  ``--report-only`` trains nothing and writes the
report from the finished stages' records (a test stage not yet finished is reported as such).  One thread (torch and BLAS).  Progress on stderr.
Bad input: one line on stderr naming the argument or spec key, exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SPEC = HERE / "studies" / "clsgan_grid.toml"


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse's default prints the usage too)
        print(f"clsgan_grid.py: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def main(argv=None) -> int:
    ap = _Parser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="the pre-registered grid (TOML)")
    ap.add_argument("--out", type=Path, default=HERE, help="folder for clsgan.md, clsgan_grid.json, clsgan_grid.csv")
    ap.add_argument("--checkpoint", type=Path, default=HERE / "clsgan_grid_checkpoint",
                    help="folder for the stages' checkpoints and records (resume)")
    ap.add_argument("--report-only", action="store_true",
                    help="train nothing: write the report from the finished stages' records in --checkpoint")
    args = ap.parse_args(argv)
    import torch

    from lsgan_theory.output import writable_folder
    from lsgan_theory.studies.clsgan_grid import load_spec, run_grid, write_report

    torch.set_num_threads(1)
    try:
        spec = load_spec(args.spec)
        writable_folder(args.out, what="out")  # refused before any training, not after it
        writable_folder(args.checkpoint, what="checkpoint")
        res = run_grid(spec, checkpoint_dir=args.checkpoint, train=not args.report_only,
                       progress=lambda line: print(line, file=sys.stderr, flush=True))
        try:
            res.spec_path = args.spec.resolve().relative_to(HERE.parent).as_posix()
        except ValueError:  # a spec outside the repository
            res.spec_path = str(args.spec)
        paths = write_report(res, args.out)
    except (ValueError, ImportError) as exc:
        print(f"clsgan_grid.py: error: {_by_argument(str(exc).splitlines()[0], args.spec)}", file=sys.stderr)
        return 2
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def _by_argument(msg: str, spec: Path) -> str:
    """A package error as one line led by the command-line argument it is about (``[section].key`` is in --spec)."""
    for name in ("spec", "out", "checkpoint"):
        if msg.startswith(f"{name}: "):
            return f"--{name}: {msg[len(name) + 2:]}"
    return f"--spec {spec}: {msg}" if msg.startswith("[") else msg


if __name__ == "__main__":
    sys.exit(main())
