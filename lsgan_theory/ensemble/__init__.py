"""The batched ensemble trainer: E small GANs trained at once as stacked tensors, on CPU or CUDA.

* :mod:`~lsgan_theory.ensemble.mlp` -- batched MLPs (leading model axis E), weight clipping, spectral normalisation;
* :mod:`~lsgan_theory.ensemble.optim` -- functional optimisers (SGD, RMSProp, Adam) with per-model hyperparameters;
* :mod:`~lsgan_theory.ensemble.rng` -- random draws keyed by (seed, model id, stream, step);
* :mod:`~lsgan_theory.ensemble.trainer` -- :class:`TrainConfig`, :func:`train`, :class:`TrainResult`.

The engine layer: it imports only the core mathematics (``densities``, ``losses``, ``provenance``).  Studies built on
it (the optimal-critic checks, results folders) live in :mod:`lsgan_theory.studies`.
"""

from . import mlp, optim, rng
from .mlp import MLPSpec, init_mlp, mlp_forward
from .optim import adam, rmsprop, sgd
from .trainer import FAMILIES, PER_MODEL, TrainConfig, TrainResult, resolve_device, train

__all__ = ["mlp", "optim", "rng", "MLPSpec", "init_mlp", "mlp_forward", "adam", "rmsprop", "sgd", "FAMILIES",
           "PER_MODEL", "TrainConfig", "TrainResult", "resolve_device", "train"]
