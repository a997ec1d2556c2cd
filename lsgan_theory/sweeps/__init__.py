"""Sweeps: TOML specs → runs with stable ids → batched packs → a SQLite results store → pandas.

* :mod:`~lsgan_theory.sweeps.spec` -- spec files, validation, canonical configurations, run ids;
* :mod:`~lsgan_theory.sweeps.plan` -- packing runs into batched ensembles (deterministic, stored);
* :mod:`~lsgan_theory.sweeps.store` -- the SQLite store (WAL, one transaction per run, a lock per folder);
* :mod:`~lsgan_theory.sweeps.execute` -- in-process and Dask executors;
* :mod:`~lsgan_theory.sweeps.run` -- :func:`sweep`, which ties them together (resumable);
* :mod:`~lsgan_theory.sweeps.results` -- :func:`load`, :func:`load_curves`, :func:`summarize` (pandas);
* :mod:`~lsgan_theory.sweeps.command` -- the ``lsgan-theory sweep`` / ``results`` subcommands (argparse + calls).

>>> from lsgan_theory import sweeps            # doctest: +SKIP
>>> sweeps.sweep("experiments/lambda.toml", variant="quick", out="runs/lambda-quick")  # doctest: +SKIP
>>> df = sweeps.load("runs/lambda-quick")       # doctest: +SKIP
"""

from .results import figure_tables, load, load_curves, summarize
from .run import default_out, sweep
from .spec import SCHEMA_VERSION, Run, Spec, SpecError, load_spec, parse_spec, run_id
from .store import Store, StoreError, SweepLock, SweepLocked

__all__ = ["load", "load_curves", "summarize", "figure_tables", "sweep", "default_out", "SCHEMA_VERSION", "Run", "Spec", "SpecError",
           "load_spec", "parse_spec", "run_id", "Store", "StoreError", "SweepLock", "SweepLocked"]
