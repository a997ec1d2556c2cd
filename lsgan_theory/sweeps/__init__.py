"""Sweeps: TOML specs → runs with stable ids → batched packs → a SQLite results store → pandas.

* :mod:`~lsgan_theory.sweeps.spec` -- spec files, validation, canonical configurations, run ids;
* :mod:`~lsgan_theory.sweeps.plan` -- packing runs into batched ensembles (deterministic, stored);
* :mod:`~lsgan_theory.sweeps.store` -- the SQLite store (WAL, one transaction per run, a lock per folder);
* :mod:`~lsgan_theory.sweeps.execute` -- in-process and Dask executors;
* :mod:`~lsgan_theory.sweeps.run` -- :func:`sweep`, which ties them together (resumable);
* :mod:`~lsgan_theory.sweeps.results` -- :func:`load`, :func:`load_curves`, :func:`summarize` (pandas).

The ``lsgan-theory sweep`` / ``results`` subcommands are parsed in :mod:`lsgan_theory.cli.sweep`.

>>> from lsgan_theory import sweeps            # doctest: +SKIP
>>> sweeps.sweep("experiments/lambda.toml", variant="quick", out="runs/lambda-quick")  # doctest: +SKIP
>>> df = sweeps.load("runs/lambda-quick")       # doctest: +SKIP
"""

# Names are imported on first use (PEP 562): `import lsgan_theory.sweeps` does not import the executors (and torch)
# behind them.
_WHERE = {"figure_tables": "results", "load": "results", "load_curves": "results", "summarize": "results",
          "default_out": "run", "sweep": "run", "SCHEMA_VERSION": "spec", "Run": "spec", "Spec": "spec",
          "SpecError": "spec", "load_spec": "spec", "parse_spec": "spec", "run_id": "spec", "Store": "store",
          "StoreError": "store", "SweepLock": "store", "SweepLocked": "store"}

__all__ = ["load", "load_curves", "summarize", "figure_tables", "sweep", "default_out", "SCHEMA_VERSION", "Run", "Spec",
           "SpecError", "load_spec", "parse_spec", "run_id", "Store", "StoreError", "SweepLock", "SweepLocked"]


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
