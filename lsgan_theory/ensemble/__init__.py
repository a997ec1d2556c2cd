"""The batched ensemble trainer: E small GANs trained at once as stacked tensors, on CPU or CUDA.

* :mod:`~lsgan_theory.ensemble.mlp` -- batched MLPs (leading model axis E), weight clipping, spectral normalisation;
* :mod:`~lsgan_theory.ensemble.optim` -- functional optimisers (SGD, RMSProp, Adam) with per-model hyperparameters;
* :mod:`~lsgan_theory.ensemble.rng` -- counter-based random streams keyed by (seed, model id);
* :mod:`~lsgan_theory.ensemble.trainer` -- :class:`TrainConfig`, :func:`train`, :class:`TrainResult`;
* :mod:`~lsgan_theory.ensemble.critic` -- the optimal-critic check against closed-form D*;
* :mod:`~lsgan_theory.ensemble.run` -- grids of per-model values, evaluation, results folders (``lsgan-theory train``).
"""

from . import mlp, optim, rng
from .mlp import MLPSpec, init_mlp, mlp_forward
from .optim import adam, rmsprop, sgd
from .trainer import FAMILIES, PER_MODEL, TrainConfig, TrainResult, resolve_device, train
from .critic import CriticCheck, closed_form_critic, optimal_critic  # noqa: E402  (imports trainer)
from .run import evaluate, grid_config, run_and_write  # noqa: E402

__all__ = ["mlp", "optim", "rng", "MLPSpec", "init_mlp", "mlp_forward", "adam", "rmsprop", "sgd", "FAMILIES",
           "PER_MODEL", "TrainConfig", "TrainResult", "resolve_device", "train", "CriticCheck", "closed_form_critic",
           "optimal_critic", "evaluate", "grid_config", "run_and_write"]
