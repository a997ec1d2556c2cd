"""lsgan-theory: check the theory of GAN losses symbolically, numerically and empirically.

Two names are kept apart everywhere:

* **LS-GAN** -- the *Loss-Sensitive* GAN (G.-J. Qi, arXiv:1701.06264); code name ``loss_sensitive``.
* **LSGAN** -- the *Least-Squares* GAN (X. Mao et al., arXiv:1611.04076); code name ``least_squares``.

The main entry points are importable from here (loaded on first use, so ``import lsgan_theory`` stays light):
``parse`` (density specs), ``derive`` (symbolic), ``solve`` (the non-parametric LS-GAN LP), ``TrainConfig`` /
``train`` (the ensemble trainer), ``optimal_critic`` / ``loss_sensitive_critic`` / ``generalisation_study``
(studies), ``run_claims`` (the claims behind ``lsgan-theory verify``), ``families`` (the registry of loss families).
The layers of the package are listed in :mod:`lsgan_theory.layers`.
"""

__version__ = "0.1.0"

_ENTRY_POINTS = {
    "parse": "lsgan_theory.densities",
    "derive": "lsgan_theory.symbolic",
    "solve": "lsgan_theory.nonparametric",
    "TrainConfig": "lsgan_theory.ensemble",
    "TrainResult": "lsgan_theory.ensemble",
    "train": "lsgan_theory.ensemble",
    "optimal_critic": "lsgan_theory.studies",
    "loss_sensitive_critic": "lsgan_theory.studies",
    "generalisation_study": "lsgan_theory.studies",
    "run_claims": "lsgan_theory.claims",
    "provenance": "lsgan_theory.provenance",
}
_MODULES = ("densities", "divergences", "symbolic", "losses", "nonparametric", "families", "provenance", "ensemble",
            "metrics", "studies", "sweeps", "claims", "plots", "cli", "layers")

__all__ = ["__version__", *_ENTRY_POINTS, *_MODULES]


def __getattr__(name):
    import importlib

    if name in _ENTRY_POINTS:
        return getattr(importlib.import_module(_ENTRY_POINTS[name]), name)
    if name in _MODULES:
        return importlib.import_module(f"lsgan_theory.{name}")
    raise AttributeError(f"module 'lsgan_theory' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
