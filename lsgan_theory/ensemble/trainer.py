"""Train E small GANs at once as batched tensors, on CPU or CUDA.

Over 800 lines because the engine's one training loop (DESIGN: one loop, observers) lives here with what shares
its Setup and TrainState: the configuration and its checks (TrainConfig, a third of the file), the step functions,
checkpoints and the observer protocol; a split would put the loop's invariants in several files.

One call of :func:`train` trains every model of a :class:`TrainConfig`: model e has its own generator G_e and loss
network / discriminator D_e (batched MLPs, :mod:`lsgan_theory.ensemble.mlp`), its own optimiser state and
hyperparameters (:mod:`lsgan_theory.ensemble.optim`), its own finite data set of size ``n_data[e]`` drawn from the
target density (or, with ``n_data[e] = 0``, fresh target samples at every update), and its own random stream (:mod:`lsgan_theory.ensemble.rng`) keyed by ``(seed, model_id)``; so no
arithmetic of model e reads another model's numbers.

What holds (docs/engine.md "Determinism", tested as stated in ``tests/test_ensemble.py`` above ``PACK_TOL``): a
model's draws are a pure function of (seed, model id, stream, step) on each device, bitwise independent of its pack;
its trajectory agrees alone and in any pack within ``PACK_TOL`` on any machine, thread count and dtype, and bitwise
for packs of E >= 2 on one CPU thread where torch's batched matrix product is batch-invariant (checked first).  A
run is bitwise repeatable on one machine and thread count, and a resumed run bitwise equal to an uninterrupted one.

Per step (``n_critic`` D updates, then one G update; THEORY.md §1–§7 for the losses, taken from
:mod:`lsgan_theory.losses`):

1. real batch x (E, B, d): B indices drawn uniformly with replacement from model e's data set; for a model with
   ``n_data = 0`` instead B fresh draws from the target (the population regime), a pure function of
   (seed, model id, update t) (:func:`_real_batch`);
2. fake batch G_e(z), z ~ N(0, I) of shape (E, B, noise_dim);
3. D loss per model (E,), plus γ_e·GP_e when the gradient penalty weight γ_e > 0 (WGAN-GP, THEORY.md §4: x̂ = εx +
   (1−ε)x̃ per sample, ‖∇D(x̂)‖₂ per sample over the data dimensions), spectral normalisation and weight clipping
   per model;
4. G loss per model and its update.

Divergence handling: a model whose loss, gradients or new parameters are non-finite at some update (or whose
largest gradient reaches √(largest float)/2, so that its square would overflow Adam's second moment) is *frozen*:
its parameters and optimiser state are kept from before that update (Adam updates only the other models, in place;
SGD/RMSProp select with ``torch.where``), it is reported in ``diverged_step``, and the other models carry on
untouched.

Code layout (top to bottom): :class:`TrainConfig` (what a run is) → :func:`setup` (the config resolved into tensors:
data, optimisers, hyperparameters; :class:`Setup`) → :func:`init_state` (a :class:`TrainState`: everything that
changes) → the pure steps :func:`d_step`, :func:`g_step`, :func:`record` (each returns a new state; the optimiser
update, divergence check and freeze-and-mask of both networks is one function, ``_update``) → :func:`train` →
:func:`run_loop`, THE loop of the package (the CLS-GAN trainer runs its own step in it), with an observer protocol
(:class:`Observation`, :class:`Observer`) for studies that need more than the losses; a checkpoint is the state
saved and loaded (:func:`save_state`, :func:`load_state`).  docs/engine.md describes all of it.

Network outputs are ``D_e(x)`` with no output nonlinearity: the classic GAN reads it as a logit, LSGAN
(least-squares) and hinge / WGAN as a real score, LS-GAN (loss-sensitive) and GLS-GAN as the loss L_θ(x).
"""

from __future__ import annotations

import contextlib
import functools
import math
import operator
import os
import re
import time
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from .. import __version__
from .. import densities as _densities
from .. import families as _families
from .. import losses as _losses
from ..output import remove_stale_temporaries, write_atomic
from ..provenance import git_revision
from ..resources import check_memory
from . import mlp as _mlp
from . import optim as _optim
from . import rng as _rng

__all__ = ["TrainConfig", "TrainResult", "TrainState", "Setup", "train", "setup", "init_state", "d_step", "g_step",
           "record", "save_state", "load_state", "prepare_checkpoint", "resolve_device", "deferred_interrupt", "run_loop",
           "Observation", "Observer", "update_network",
           "FAMILIES", "PER_MODEL"]

# Families that share the network shape (scalar D output) and can be mixed inside one ensemble (the registry's
# trainable families, lsgan_theory.families).
FAMILIES = _families.TRAINABLE
#: how D and G are updated within a step: "alternating" (n_critic D updates, then G against the new D, each with
#: fresh noise) or "simultaneous" (Mao's code: both gradients at the same point, one noise batch, then both updates)
UPDATES = ("alternating", "simultaneous")
# The families' own parameters (lsgan_theory.families.Param): TrainConfig fields inserted after ``family``, their
# per-model broadcasting and ranges all come from the registry entries (one declaration per loss).
_FAMILY_PARAMETERS = _families.parameters()
# Fields that belong to some families only (the registry's Family.params of the trainable families).
_FAMILY_PARAMS = tuple(_FAMILY_PARAMETERS)
# Hyperparameters that may be given per model (a tuple of length n_models) instead of one float.
PER_MODEL = ("family", "n_data", "lr_d", "lr_g", "beta1", "beta2", "gp_weight", "clip", "spectral_norm",
             *(n for n, p in _FAMILY_PARAMETERS.items() if p.per_model))


# Accepted ranges of the real-valued per-model fields (lsgan_theory.losses.check_hyperparameter's keywords).
_RANGES = {
    "lr_d": dict(lo=0.0, lo_open=True), "lr_g": dict(lo=0.0, lo_open=True),
    "beta1": dict(lo=0.0, hi=1.0, hi_open=True), "beta2": dict(lo=0.0, hi=1.0, hi_open=True),
    "gp_weight": dict(lo=0.0), "clip": dict(lo=0.0),
    **{n: p.range for n, p in _FAMILY_PARAMETERS.items() if p.per_model},
}
_DEVICE = re.compile(r"auto|cpu|cuda(:[0-9]+)?")


def _set(obj, name, value) -> None:
    object.__setattr__(obj, name, value)


def _integer(name: str, v, lo: int, hi: int | None = None, *, what: str = "") -> int:
    """``v`` as an int in [lo, hi): ``TypeError`` for a non-integer (``True``, 1.5, '3'), else ``ValueError``."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name}: {what or 'the value'} must be an integer, got {type(v).__name__} {v!r}")
    if v < lo or (hi is not None and v >= hi):
        rng = f">= {lo}" if hi is None else f"in [{lo}, {hi})"
        raise ValueError(f"{name}: {what or 'the value'} must be an integer {rng}, got {v!r}")
    return int(v)


def _number(name: str, v, model: int | None, **rng) -> float:
    """``v`` as a finite float in the range ``rng`` (``lsgan_theory.losses.check_hyperparameter``), errors prefixed
    with the field name (and the model index of a per-model tuple)."""
    if isinstance(v, np.generic) and not isinstance(v, np.bool_):
        v = v.item()
    try:
        return float(_losses.check_hyperparameter(name, v, **rng))
    except (TypeError, ValueError) as exc:
        where = "" if model is None else f" (model {model} of the per-model tuple)"
        raise type(exc)(f"{name}: {exc}{where}") from None


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; otherwise ``torch.device(device)`` (validated)."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ValueError(f"device: must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device: {device!r} requested but CUDA is not available (use 'auto' or 'cpu')")
    return dev


class _EnsembleConfig:
    """What the configs of an ensemble share (:class:`TrainConfig`, and the CLS-GAN's
    :class:`~lsgan_theory.ensemble.conditional.ConditionalConfig`): the fields named in the class's ``_PER_MODEL``
    take one value for all models or a tuple of ``n_models`` values; ``model_ids`` are the models' stream ids."""

    _PER_MODEL: tuple = ()

    def _broadcast_per_model(self) -> None:
        """A list or tuple given for a per-model field becomes a tuple, of exactly ``n_models`` values."""
        for name in self._PER_MODEL:
            v = getattr(self, name)
            if isinstance(v, (list, tuple)):
                if len(v) != self.n_models:
                    raise ValueError(f"{name}: a per-model tuple needs n_models = {self.n_models} values, got {len(v)}")
                _set(self, name, tuple(v))

    def per_model(self, name: str) -> tuple:
        """The value of ``name`` for each of the n_models models."""
        v = getattr(self, name)
        return tuple(v) if isinstance(v, tuple) else (v,) * self.n_models

    def ids(self) -> tuple[int, ...]:
        """The stream id of each model: ``model_ids`` or 0..n_models−1."""
        return self.model_ids if self.model_ids is not None else tuple(range(self.n_models))

    def _selected_fields(self, models: list) -> dict:
        """The fields of the sub-ensemble of the given model positions, with the same streams."""
        kw = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in self._PER_MODEL:
            v = getattr(self, name)
            if isinstance(v, tuple):
                kw[name] = tuple(v[i] for i in models)
        kw["n_models"] = len(models)
        kw["model_ids"] = tuple(self.ids()[i] for i in models)
        return kw


def _with_family_fields(cls):
    """Insert the registry's family parameters as fields of ``cls`` right after ``family`` (name, annotation and
    default from their :class:`lsgan_theory.families.Param`), before :func:`dataclasses.dataclass` reads them."""
    own = cls.__dict__.get("__annotations__", {})
    clash = sorted(set(own) & set(_FAMILY_PARAMETERS))
    if clash:
        raise TypeError(f"TrainConfig: family parameter(s) {clash} would shadow engine fields; rename them in "
                        f"lsgan_theory.families")
    annotations = {}
    for name, annotation in own.items():
        annotations[name] = annotation
        if name == "family":
            for p in _FAMILY_PARAMETERS.values():
                annotations[p.name] = p.annotation
                setattr(cls, p.name, p.default)
    cls.__annotations__ = annotations
    return cls


@dataclass(frozen=True)
@_with_family_fields
class TrainConfig(_EnsembleConfig):
    """Everything that defines an ensemble run; saved with every result.

    Fields named in ``PER_MODEL`` take one value for all models or a tuple of ``n_models`` values.

    Notes on conventions: ``family`` ∈ ``FAMILIES`` (``"loss_sensitive"`` = LS-GAN of Qi, ``"least_squares"`` =
    LSGAN of Mao with labels ``ls_a`` (fake), ``ls_b`` (real), ``ls_c`` (generator target)); ``lam`` is λ of the
    LS-GAN objective S = E L(x) + λ E(Δ + L(x) − L(G(z)))_+ with Δ = ``tau``·‖x − G(z)‖₁ over all n·m
    pairs of the batch; ``nu`` is ν of the GLS-GAN cost C_ν(a) = max(a, νa); ``gp_weight`` γ > 0 adds the WGAN-GP
    penalty, ``clip`` c > 0 clips D's weights to [−c, c], ``spectral_norm`` normalises D's weights.
    ``optimizer`` ∈ {adam, rmsprop, sgd}: ``beta1`` is Adam's β₁ / SGD's momentum, ``beta2`` Adam's β₂ /
    RMSProp's α.  ``loss_output`` maps the LS-GAN (``loss_sensitive``) network's raw output a(x) to the loss
    L(x) ≥ 0 that the paper's objective needs (THEORY.md §5: with an unconstrained L, the E L(x) term drives every
    value to −∞ -- measured: −450 after 600 steps): ``"softplus"`` (default, L = log(1 + e^a)), ``"abs"``
    (L = |a|) or ``"identity"`` (no constraint; the λ → ∞ / GLS-GAN reading).  Other families ignore it.
    ``family="custom"``: a loss from formulas (issue 19) — ``custom_real``, ``custom_fake`` (the discriminator's
    per-sample terms in D, e.g. ``"log(D)"``, ``"log(1 - D)"``), ``custom_sense`` ("max": D maximises E_p real +
    E_q fake; "min": minimises it), ``custom_generator`` (the generator's term on fakes; default zero-sum); numbers
    written into the formulas (no free parameters); compiled by :func:`lsgan_theory.losses.compile_custom_loss`
    (D = σ(output) when a term needs D in (0, 1), e.g. log D; else D = output).

    Architecture options (PacGAN, Lin et al. 2018; :class:`lsgan_theory.ensemble.mlp.NetSpec`): ``pack`` = k ≥ 1
    packs k samples into one discriminator input of dimension k·d (each D update then reads k·batch real points and
    k·batch generated ones, generated as k noise batches of ``batch`` rows; k = 1 is the ordinary GAN);
    ``d_pieces`` = p > 1 makes D's hidden units maxout units of p pieces; ``g_batchnorm`` / ``d_batchnorm`` insert
    batch normalisation after every hidden linear layer of G / D, with statistics per model (never across the
    ensemble axis) and, for G, population statistics kept per model for sampling; ``init`` = ``"uniform"``
    (``torch.nn.Linear``), ``"normal"`` (W ~ N(0, ``init_std``²), b = 0) or ``"orthogonal"`` (W = ``init_gain``·Q,
    Q Haar-orthogonal, b = 0: TensorFlow's ``orthogonal_initializer``, gain 1.4 in Mao's ring code).
    ``update`` = ``"alternating"`` (default: ``n_critic`` D updates, then one G update against the new D, each
    with fresh noise) or ``"simultaneous"`` (Mao's code: one noise batch, both gradients taken at the same (D, G),
    then both updates; needs ``n_critic = 1``).  The loss-sensitive margin
    Δ = τ‖x − G(z)‖₁ of a packed model is taken between packed vectors (the sum over the k points).

    ``n_data`` is each model's data-set size (an integer ≥ 1: the finite-data regime, batches drawn with
    replacement from that one data set) or ``0``: no fixed data set, every real batch is B *fresh* draws from the
    target -- the population regime in which THEORY.md §5's Theorem 1 is stated.  Fresh draws of model e at D update
    t come from ``numpy.random.default_rng([seed, model_id, STREAMS["fresh"], t])`` (the target's own sampler), so
    they are bitwise repeatable, independent of the other models in the pack and need no saved state to resume.

    Every field is validated here (``TypeError``/``ValueError`` naming the field and its accepted range); the
    family-specific fields (``lam``, ``tau``, ``nu``, ``ls_a``, ``ls_b``, ``ls_c``, ``custom_*``) are declared once,
    by their family's entry in :mod:`lsgan_theory.families` (``Family.parameters``: default, range, per-model or
    not), inserted here after ``family``, and must keep their defaults for models whose family does not use them.

    Determinism: as stated in the module docstring (docs/engine.md "Determinism"): a model agrees alone and in any
    pack within rounding (bitwise for packs of two or more on one CPU thread where the platform allows); a run is
    bitwise repeatable and a resumed run bitwise equal to an uninterrupted one.
    """

    target: str = "normal(0,1)"
    n_models: int = 1
    model_ids: tuple[int, ...] | None = None
    seed: int = 0
    steps: int = 1000
    batch: int = 64
    n_data: int | tuple[int, ...] = 4096
    noise_dim: int = 1
    g_hidden: tuple[int, ...] = (64, 64)
    d_hidden: tuple[int, ...] = (64, 64)
    activation: str = "relu"
    optimizer: str = "adam"
    lr_d: float | tuple[float, ...] = 1e-3
    lr_g: float | tuple[float, ...] = 1e-3
    beta1: float | tuple[float, ...] = 0.5
    beta2: float | tuple[float, ...] = 0.999
    n_critic: int = 1
    family: str | tuple[str, ...] = "loss_sensitive"
    # here: the families' own parameters (lam, tau, nu, ls_a, ls_b, ls_c, custom_*), from lsgan_theory.families
    gp_weight: float | tuple[float, ...] = 0.0
    clip: float | tuple[float, ...] = 0.0
    spectral_norm: bool | tuple[bool, ...] = False
    train_generator: bool = True
    fixed_generator: str | None = None
    record_every: int = 1
    loss_output: str = "softplus"
    dtype: str = "float32"
    device: str = "auto"
    pack: int = 1
    d_pieces: int = 1
    g_batchnorm: bool = False
    d_batchnorm: bool = False
    init: str = "uniform"
    init_std: float = 0.02
    init_gain: float = 1.0
    update: str = "alternating"

    _PER_MODEL = PER_MODEL  # (a class attribute, not a field)

    def __post_init__(self):
        """Validate every field at construction: ``TypeError``/``ValueError`` naming the field and its range."""
        for name in ("n_models", "steps", "batch", "noise_dim", "n_critic", "record_every", "pack", "d_pieces"):
            _set(self, name, _integer(name, getattr(self, name), 1))
        _set(self, "seed", _integer("seed", self.seed, 0, 2**32))
        for name in ("g_hidden", "d_hidden"):
            v = getattr(self, name)
            if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
                raise TypeError(f"{name}: expected a tuple of hidden-layer widths, got {type(v).__name__} {v!r}")
            _set(self, name, tuple(_integer(f"{name}", w, 1, what="every hidden width") for w in v))
        if self.model_ids is not None:
            ids = tuple(_integer("model_ids", i, 0, 2**31) for i in self.model_ids)
            if len(ids) != self.n_models or len(set(ids)) != len(ids):
                seen, repeated = set(), None
                for i in ids:
                    if i in seen:
                        repeated = i
                        break
                    seen.add(i)
                got = (f"{len(ids)} ids" if len(ids) != self.n_models else f"id {repeated} twice")  # not all of them
                raise ValueError(f"model_ids: need {self.n_models} distinct integers in [0, 2**31), got {got}")
            _set(self, "model_ids", ids)
        self._broadcast_per_model()
        self._check_per_model()
        self._check_choices()
        self._check_densities()
        self._check_family_parameters()
        self._check_custom()
        self._check_architecture()

    def _check_architecture(self) -> None:
        for name in ("g_batchnorm", "d_batchnorm"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"{name}: expected True or False, got {getattr(self, name)!r}")
            _set(self, name, bool(getattr(self, name)))
        if self.init not in _mlp.INITS:
            raise ValueError(f"init: must be one of {', '.join(map(repr, _mlp.INITS))}, got {self.init!r}")
        _set(self, "init_std", _number("init_std", self.init_std, None, lo=0.0, lo_open=True))
        if self.init != "normal" and self.init_std != 0.02:
            raise ValueError(f"init_std: used only with init = 'normal', but init = {self.init!r} and init_std = "
                             f"{self.init_std!r}; leave it at its default 0.02")
        _set(self, "init_gain", _number("init_gain", self.init_gain, None, lo=0.0, lo_open=True))
        if self.init != "orthogonal" and self.init_gain != 1.0:
            raise ValueError(f"init_gain: used only with init = 'orthogonal', but init = {self.init!r} and "
                             f"init_gain = {self.init_gain!r}; leave it at its default 1.0")
        if self.update not in UPDATES:
            raise ValueError(f"update: must be one of {', '.join(map(repr, UPDATES))}, got {self.update!r}")
        if self.update == "simultaneous" and (self.n_critic != 1 or not self.train_generator
                                              or self.fixed_generator is not None):
            raise ValueError(f"update: 'simultaneous' takes both gradients at the same point once per step, so it "
                             f"needs n_critic = 1 and a trained generator, got n_critic = {self.n_critic}, "
                             f"train_generator = {self.train_generator}, fixed_generator = {self.fixed_generator!r}")
        if self.d_batchnorm and any(self.per_model("spectral_norm")):
            raise ValueError("spectral_norm: cannot be combined with d_batchnorm = True (choose one)")
        if self.fixed_generator is not None and (self.pack > 1 or self.g_batchnorm):
            raise ValueError(f"fixed_generator: a fixed 1-D generator takes pack = 1 and g_batchnorm = False, got "
                             f"pack = {self.pack}, g_batchnorm = {self.g_batchnorm}")

    def g_spec(self) -> _mlp.NetSpec:
        """The generator's network: noise_dim → g_hidden → d, with batch norm when ``g_batchnorm``."""
        d = _densities.parse(self.target).dim
        return _mlp.NetSpec((self.noise_dim, *self.g_hidden, d), self.activation, 1, self.g_batchnorm)

    def d_spec(self) -> _mlp.NetSpec:
        """The discriminator's network: pack·d → d_hidden (maxout of ``d_pieces``) → 1, BN when ``d_batchnorm``."""
        d = _densities.parse(self.target).dim
        return _mlp.NetSpec((self.pack * d, *self.d_hidden, 1), self.activation, self.d_pieces, self.d_batchnorm)

    def _check_per_model(self) -> None:
        fams = tuple(_families.canonical(f) for f in self.per_model("family"))
        for f in fams:
            if f not in FAMILIES:
                late = (" (registered after lsgan_theory.ensemble was imported, which builds TrainConfig from the "
                        "registry: register it before that import)" if _families.get(f).trainable else "")
                raise ValueError(f"family: the trainer trains {FAMILIES}, got {f!r}{late}")
        _set(self, "family", fams if isinstance(self.family, tuple) else fams[0])
        for name, rng in _RANGES.items():
            vals = tuple(_number(name, v, e if isinstance(getattr(self, name), tuple) else None, **rng)
                         for e, v in enumerate(self.per_model(name)))
            _set(self, name, vals if isinstance(getattr(self, name), tuple) else vals[0])
        ns = tuple(_integer("n_data", v, 0, what="every data-set size (0 = fresh samples every step)")
                   for v in self.per_model("n_data"))
        _set(self, "n_data", ns if isinstance(self.n_data, tuple) else ns[0])
        for v in self.per_model("spectral_norm"):
            if not isinstance(v, (bool, np.bool_)):
                raise TypeError(f"spectral_norm: expected True or False (or one per model), got {v!r}")
        if not isinstance(self.train_generator, (bool, np.bool_)):
            raise TypeError(f"train_generator: expected True or False, got {self.train_generator!r}")

    def _check_choices(self) -> None:
        for name, accepted in (("dtype", ("float32", "float64")), ("activation", tuple(sorted(_mlp.ACTIVATIONS))),
                               ("optimizer", ("adam", "rmsprop", "sgd")), ("loss_output", tuple(LOSS_OUTPUTS))):
            if getattr(self, name) not in accepted:
                raise ValueError(f"{name}: must be one of {', '.join(map(repr, accepted))}, got "
                                 f"{getattr(self, name)!r}")
        dev = str(self.device) if isinstance(self.device, torch.device) else self.device
        if not isinstance(dev, str) or not _DEVICE.fullmatch(dev):
            raise ValueError(f"device: must be 'auto', 'cpu', 'cuda' or 'cuda:N' (N >= 0), got {self.device!r}")
        _set(self, "device", dev)

    def _check_densities(self) -> None:
        for name in ("target", "fixed_generator"):
            v = getattr(self, name)
            if v is None and name == "fixed_generator":
                continue
            if not isinstance(v, str):
                raise TypeError(f"{name}: expected a density spec string such as 'normal(0,1)', got "
                                f"{type(v).__name__} {v!r}")
            try:
                _densities.parse(v)
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"{name}: {exc}") from None
        if self.fixed_generator is not None:
            fg, dim = _densities.parse(self.fixed_generator), _densities.parse(self.target).dim
            if fg.dim != 1 or dim != 1:
                raise ValueError(f"fixed_generator: must be a 1-D density (it is sampled by its inverse CDF) for a "
                                 f"1-D target, got dimension {fg.dim} for a target of dimension {dim}")

    def _check_family_parameters(self) -> None:
        """A family-specific parameter (the registry's ``Family.params``) set away from its default for a model
        whose family does not use it is refused: it would be silently ignored (issue 13, item 5)."""
        defaults = {f.name: f.default for f in fields(self)}
        # once per distinct family, not per model (issue 30: per model and per pair, 4000 models took minutes)
        params = {fam: tuple(p for p, _ in _families.get(fam).params) for fam in set(self.per_model("family"))}
        ensemble_params = {p for used in params.values() for p in used}
        for name in _FAMILY_PARAMS:
            if name not in PER_MODEL and name in ensemble_params:
                continue  # one value for the whole ensemble (custom_*): used by the models of its family
            for e, (fam, v) in enumerate(zip(self.per_model("family"), self.per_model(name))):
                used = params[fam]
                if name not in used and v != defaults[name]:
                    raise ValueError(_families.unused_parameter(
                        name, [fam], detail=f"its parameters: {', '.join(used) or 'none'}; model {e} sets {name} = "
                                            f"{v!r}: leave it at its default {defaults[name]!r} for the other models"))

    def _check_custom(self) -> None:
        """``family="custom"``: the formulas must be given and compile (whitelist parser, no eval)."""
        if "custom" not in self.per_model("family"):
            return
        for name in ("custom_real", "custom_fake"):
            if getattr(self, name) is None:
                raise ValueError(f"{name}: required for family 'custom' (a formula in D, e.g. 'log(D)' for "
                                 f"custom_real and 'log(1 - D)' for custom_fake)")
        try:
            _families.custom_loss(self.custom_real, self.custom_fake, self.custom_sense, self.custom_generator)
        except (ValueError, TypeError) as exc:
            msg = " ".join(str(exc).split())
            for flag, field_name in (("--real", "custom_real"), ("--fake", "custom_fake"),
                                     ("--generator", "custom_generator"), ("sense:", "custom_sense:")):
                msg = msg.replace(flag, field_name)
            raise type(exc)(msg if msg.startswith("custom_") else f"custom_real/custom_fake: {msg}") from None

    def estimate_memory(self) -> dict:
        """Bytes the largest tensors of a run need (an upper estimate), by part, and their ``"total"``.

        * ``data``: the padded data sets, n_models × max(n_data) × d, float64 staging plus the run's dtype;
        * ``parameters``: both networks' parameters per model × n_models, ×6 for the optimiser state (≤ 2 copies),
          gradients, updates, the new parameters and the masked copies;
        * ``activations``: n_models × batch × (6 Σ D widths + 3 k Σ G widths; maxout units count p times, BN
          layers twice, k = ``pack``): the D step keeps two values per unit
          for 2·batch rows, the G step one per unit of G and two of D for batch rows (×2 with a gradient penalty,
          whose double backward keeps a second graph);
        * ``margins``: the (batch × batch) margin / hinge buffers of each model's family (its registry entry's
          ``pair_buffers``: loss_sensitive 2, glsgan 5), ×d for d-dimensional samples (the differences before the
          norm).
        """
        size = 4 if self.dtype == "float32" else 8
        E, B, m = self.n_models, self.batch, max(self.per_model("n_data"))
        d = _densities.parse(self.target).dim
        g = self.g_spec().n_params()
        dn = self.d_spec().n_params()
        k, p = self.pack, self.d_pieces
        units = 6 * (k * d + p * sum(self.d_hidden) + 1) + 3 * k * (self.noise_dim + (1 + self.g_batchnorm) * sum(self.g_hidden) + d)
        gp = any(w > 0 for w in self.per_model("gp_weight"))
        fams = self.per_model("family")
        pairs = sum(_families.FAMILIES[f].pair_buffers for f in fams) * B * B * (d if d > 1 else 1)
        parts = {"data": E * m * d * (8 + size), "parameters": 6 * E * (g + dn) * size,
                 "activations": (2 if gp else 1) * E * B * units * size, "margins": pairs * size}
        parts["total"] = sum(parts.values())
        return parts

    def select(self, models) -> "TrainConfig":
        """The sub-ensemble of the given model positions, with the same streams (for sequential runs)."""
        return TrainConfig(**self._selected_fields(list(models)))


#: The scheme of the per-step draws, written into every checkpoint: a checkpoint of another scheme (those written
#: before issue 28 used the counter-based hash) cannot be continued with the same draws, so it is refused.
DRAWS = "torch-generator-per-step/1"
# The architecture fields (PacGAN options) and their defaults: a config at these defaults is the plain MLP GAN.
_ARCH_DEFAULTS = {"pack": 1, "d_pieces": 1, "g_batchnorm": False, "d_batchnorm": False, "init": "uniform",
                  "init_std": 0.02, "init_gain": 1.0, "update": "alternating"}


@dataclass
class TrainResult:
    """Per-step metrics of every model, the final networks and the provenance of the run.

    ``loss_d``, ``loss_g``: float64 arrays (E, S) at the recorded steps ``steps`` (S,); NaN once a model is frozen.
    ``diverged_step``: int array (E,), the step at which model e was frozen, −1 if it never diverged.
    ``g_params``/``d_params``: the final stacked parameters (CPU tensors).
    ``observed``: the records of :func:`train`'s ``observe`` as ``(step, record)`` pairs (step = completed steps).
    """

    config: TrainConfig
    steps: np.ndarray
    loss_d: np.ndarray
    loss_g: np.ndarray
    diverged_step: np.ndarray
    g_params: tuple
    d_params: tuple
    seconds: float
    device: str
    version: str = __version__
    git: str = "unknown"
    extra: dict = field(default_factory=dict)
    observed: tuple = ()  # ((step, record), ...): what train()'s observer returned, in step order

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_step >= 0

    def tidy(self) -> list[dict]:
        """One row per (model, recorded step): model index, model id, step, loss_d, loss_g, frozen."""
        ids = self.config.ids()
        rows = []
        for e in range(self.loss_d.shape[0]):
            for k, s in enumerate(self.steps):
                rows.append({"model": e, "model_id": ids[e], "step": int(s), "loss_d": float(self.loss_d[e, k]),
                             "loss_g": float(self.loss_g[e, k]),
                             "frozen": bool(0 <= self.diverged_step[e] <= s)})
        return rows

    def meta(self) -> dict:
        return {"config": asdict(self.config), "seed": self.config.seed, "version": self.version, "git": self.git,
                "device": self.device, "seconds": self.seconds}

    def generator(self, device="cpu"):
        """A function z (E, N, noise_dim) -> samples (E, N, d) of the final generators (no gradient tracking; batch
        norm uses each model's population statistics ``extra["g_bn"]``, as PacGAN samples)."""
        params = tuple(p.to(device) for p in self.g_params)
        spec = self.config.g_spec()
        running = self.extra.get("g_bn")
        running = None if running is None else tuple(t.to(device) for t in running)

        def G(z):
            return _mlp.net_forward(params, z.to(device=device, dtype=params[0].dtype), spec, running=running)

        return G

    def discriminator(self, device="cpu"):
        """A function x (E, N, pack·d) -> D outputs (E, N) of the final loss networks / discriminators (packed
        inputs when ``pack`` > 1; batch norm in D, if any, uses the statistics of the given rows)."""
        params = tuple(p.to(device) for p in self.d_params)
        spec = self.config.d_spec()
        weights = self.extra.get("d_weights_eff")

        def D(x):
            w = None if weights is None else tuple(t.to(device) for t in weights)
            return _mlp.net_forward(params, x.to(device=device, dtype=params[0].dtype), spec, weights=w).squeeze(-1)

        return D

    def sample(self, n: int, stream: int = 1000, device="cpu") -> np.ndarray:
        """n generated samples per model, (E, n, d) float64, from noise stream ``stream`` (not used in training)."""
        ids = torch.tensor(self.config.ids(), dtype=torch.int64)
        z = _rng.normal(self.config.seed, ids, stream, 0, (n, self.config.noise_dim), dtype=torch.float64)
        with torch.no_grad():
            return self.generator(device)(z).double().cpu().numpy()


# ---------------------------------------------------------------------------------------------------- losses
def _d_loss(family: str, out_r, out_f, x, fake, h: dict):
    """Per-model discriminator / loss-network objective (E_f,): the registry entry's ``d_loss``
    (:class:`lsgan_theory.families.Family`; ``h``: the family's parameters, ``loss_output``, ``scratch``)."""
    return _families.FAMILIES[family].d_loss(out_r, out_f, x, fake, h)


LOSS_OUTPUTS = {"softplus": torch.nn.functional.softplus, "abs": torch.abs, "identity": lambda a: a}


def _g_loss(family: str, out_f, h: dict):
    """Per-model generator objective (E_f,): the registry entry's ``g_loss``."""
    return _families.FAMILIES[family].g_loss(out_f, h)


# ---------------------------------------------------------------------------------------------------- the run
@dataclass
class Setup:
    """What stays fixed during a run: the config resolved into tensors on the device, the data, the optimisers."""

    config: TrainConfig
    device: torch.device
    dtype: torch.dtype
    ids: torch.Tensor  # (E,) int64 stream ids
    data: torch.Tensor  # (E, m_max, d), each model's own data set (padded; m_max >= 1)
    sizes: torch.Tensor  # (E,) int64 data-set sizes (0 = fresh samples every update)
    opt_d: _optim.Optimizer
    opt_g: _optim.Optimizer
    gp_weight: torch.Tensor  # (E,)
    clip: torch.Tensor  # (E,)
    sn_on: torch.Tensor  # (E,) bool
    groups: list  # [(family, index tensor (E_f,), {hyperparameter: (E_f,) tensor}, whole ensemble?)]
    fixed_g: object  # a Density sampled by inverse CDF instead of a generator network, or None
    rec_steps: list  # the recorded steps
    fresh: tuple = ()  # positions of the models with n_data = 0 (fresh target samples every update)
    scratch: dict = field(default_factory=dict)  # reused buffers of the losses (h["scratch"] of every group)
    g_spec: _mlp.NetSpec | None = None  # the networks (TrainConfig.g_spec / d_spec)
    d_spec: _mlp.NetSpec | None = None
    gen: torch.Generator | None = None  # the generator that the step draws reseed per model (rng.step_normal)

    @functools.cached_property
    def id_list(self) -> list[int]:
        """The stream ids as Python ints (the step draws' keys)."""
        return self.ids.tolist()

    @functools.cached_property
    def highs(self) -> list[int]:
        """Each model's batch-index range: its data-set size (1 for a model drawing fresh samples)."""
        return [max(1, int(m)) for m in self.config.per_model("n_data")]

    @property
    def E(self) -> int:
        return self.config.n_models

    @property
    def use_gp(self) -> bool:
        return bool((self.gp_weight > 0).any())

    @property
    def use_clip(self) -> bool:
        return bool((self.clip > 0).any())

    @property
    def use_sn(self) -> bool:
        return bool(self.sn_on.any())

    @property
    def train_g(self) -> bool:
        return self.config.train_generator and self.fixed_g is None


@dataclass
class TrainState:
    """Everything that changes during a run; a checkpoint is this state saved (:func:`save_state`).

    ``step``: the number of completed steps (the next step to run).  ``d_params``/``g_params``: stacked parameters;
    ``opt_d``/``opt_g``: optimiser states; ``sn_u``: power-iteration vectors (spectral norm) or ``None``;
    ``active`` (E,) bool: models not frozen; ``diverged_step`` (E,) int64: the step a model was frozen at, −1 if
    never; ``rec_d``/``rec_g``: the recorded (E,) float64 rows so far (NaN for frozen models); ``loss_d``/``loss_g``:
    the last losses (E,) (``None`` before the first update); ``seconds``: wall time of the completed steps;
    ``bn_g``: the generator's batch-norm population statistics per model (``g_batchnorm``), else ``None``.
    """

    step: int
    d_params: tuple
    g_params: tuple
    opt_d: dict
    opt_g: dict
    sn_u: tuple | None
    active: torch.Tensor
    diverged_step: torch.Tensor
    rec_d: tuple = ()
    rec_g: tuple = ()
    loss_d: torch.Tensor | None = None
    loss_g: torch.Tensor | None = None
    seconds: float = 0.0
    bn_g: tuple | None = None  # the generator's BN population statistics (mean, var per layer), or None
    observed: tuple = ()  # ((step, record), ...) returned by train()'s observer so far (checkpointed)


def _per_model_tensor(config: TrainConfig, name: str, dtype, device) -> torch.Tensor:
    return torch.tensor([float(v) for v in config.per_model(name)], dtype=dtype, device=device)


def _make_data(config: TrainConfig, dtype, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Each model's own data set: m_e draws from the target with numpy stream (seed, model_id, 'data'); padded
    (at least one row; a model with m_e = 0 has none: it draws fresh samples, :func:`_real_batch`)."""
    target = _densities.parse(config.target)
    sizes = config.per_model("n_data")
    data = np.zeros((config.n_models, max(1, *sizes), target.dim))
    for e, (mid, m) in enumerate(zip(config.ids(), sizes)):
        if m == 0:
            continue
        x = target.sample(m, np.random.default_rng([config.seed, mid, _rng.STREAMS["data"]]))
        data[e, :m] = x.reshape(m, target.dim)
    return (torch.tensor(data, dtype=dtype, device=device),
            torch.tensor(sizes, dtype=torch.int64, device=device))


def setup(config: TrainConfig) -> Setup:
    """Resolve ``config`` on its device: data sets, optimisers, per-model hyperparameters, family groups."""
    device = resolve_device(config.device)
    dtype = torch.float32 if config.dtype == "float32" else torch.float64

    def hyp(name):
        return _per_model_tensor(config, name, dtype, device)

    parts = config.estimate_memory()
    detail = ", ".join(f"{k} {v / 2**30:.3g} GiB" for k, v in parts.items() if k != "total")
    check_memory(parts["total"], f"the run ({detail}; the largest tensors are n_models × batch² margins, n_models × "
                 f"width² parameters and n_models × n_data × d data)", "n_models/batch/width/n_data", device=device)
    b1, b2 = hyp("beta1"), hyp("beta2")
    fams = config.per_model("family")
    groups, scratch = [], {}
    for fam in (f for f in FAMILIES if f in fams):
        members = [e for e, g in enumerate(fams) if g == fam]
        idx = torch.tensor(members, dtype=torch.int64, device=device)
        params = _families.get(fam).parameters
        h = {p.name: hyp(p.name)[idx] if p.per_model else getattr(config, p.name) for p in params}
        h.update(loss_output=LOSS_OUTPUTS[config.loss_output], scratch=scratch)
        groups.append((fam, idx, h, len(members) == config.n_models))
    rec_steps = list(range(config.record_every - 1, config.steps, config.record_every))
    if rec_steps[-1:] != [config.steps - 1]:
        rec_steps.append(config.steps - 1)
    data, sizes = _make_data(config, dtype, device)
    return Setup(config=config, device=device, dtype=dtype,
                 ids=torch.tensor(config.ids(), dtype=torch.int64, device=device), data=data, sizes=sizes,
                 opt_d=_optim.by_name(config.optimizer, hyp("lr_d"), b1, b2),
                 opt_g=_optim.by_name(config.optimizer, hyp("lr_g"), b1, b2),
                 gp_weight=hyp("gp_weight"), clip=hyp("clip"),
                 sn_on=torch.tensor(config.per_model("spectral_norm"), dtype=torch.bool, device=device),
                 groups=groups, scratch=scratch, fixed_g=_densities.parse(config.fixed_generator) if config.fixed_generator else None,
                 rec_steps=rec_steps, g_spec=config.g_spec(), d_spec=config.d_spec(),
                 gen=torch.Generator(device=device),
                 fresh=tuple(e for e, m in enumerate(config.per_model("n_data")) if m == 0))


def init_state(run: Setup) -> TrainState:
    """Step 0: networks initialised from each model's own streams, fresh optimiser states, every model active."""
    c, E = run.config, run.E
    kw = dict(init=c.init, init_std=c.init_std, init_gain=c.init_gain, dtype=run.dtype, device=run.device)
    g_params = _mlp.init_net(run.g_spec, c.seed, run.ids, _rng.STREAMS["init_g"], **kw)
    d_params = _mlp.init_net(run.d_spec, c.seed, run.ids, _rng.STREAMS["init_d"], **kw)
    return TrainState(step=0, d_params=d_params, g_params=g_params, opt_d=run.opt_d.init(d_params),
                      opt_g=run.opt_g.init(g_params),
                      sn_u=_mlp.init_spectral_state(d_params, c.seed, run.ids) if run.use_sn else None,
                      active=torch.ones(E, dtype=torch.bool, device=run.device),
                      diverged_step=torch.full((E,), -1, dtype=torch.int64, device=run.device),
                      bn_g=(_mlp.init_bn_state(run.g_spec, E, dtype=run.dtype, device=run.device)
                            if c.g_batchnorm else None))


# ---------------------------------------------------------------------------------------------------- one step
def _all_finite(tensors, E: int) -> torch.Tensor:
    """(E,) bool: every entry of model e in every tensor is finite.

    One reduction per tensor: a per-model sum is non-finite iff some entry is NaN/±inf, or the finite entries sum
    past the float range (|sum| > 3e38 in float32) -- which is itself a divergence.
    """
    total = None
    for t in tensors:
        s = t.reshape(E, -1).sum(dim=1)
        total = s if total is None else total + s
    return torch.isfinite(total)


def _critic(run: Setup, params, x, weights=None) -> torch.Tensor:
    """D_e(x) of every model, (E, B), on (packed) inputs x of shape (E, B, pack·d)."""
    return _mlp.net_forward(params, x, run.d_spec, weights=weights).squeeze(-1)


def _generator(run: Setup, params, z, stats: list | None = None) -> torch.Tensor:
    """G_e(z) of every model in training mode (BN over each of the ``pack`` noise batches of every model)."""
    return _mlp.net_forward(params, z, run.g_spec, groups=run.config.pack, stats=stats)


def _noise(run: Setup, stream: str, t: int) -> torch.Tensor:
    """(E, pack·B, noise_dim): the noise of update t, block j drawn with key t·pack + j (= t when pack = 1):
    :func:`lsgan_theory.ensemble.rng.step_normal`, one seeded generator per model."""
    c = run.config
    zs = [_rng.step_normal(c.seed, run.id_list, _rng.STREAMS[stream], t * c.pack + j, (c.batch, c.noise_dim),
                           dtype=run.dtype, device=run.device, generator=run.gen) for j in range(c.pack)]
    return zs[0] if c.pack == 1 else torch.cat(zs, dim=1)


def _per_family(run: Setup, loss_fn, *tensors) -> torch.Tensor:
    """Apply each family's per-model loss ``loss_fn(family, h, *tensors)`` to its models and scatter into (E,)."""
    out = None
    for fam, idx, h, whole in run.groups:
        v = loss_fn(fam, h, *(t if whole else t[idx] for t in tensors))
        if whole:
            return v
        out = torch.zeros(run.E, dtype=v.dtype, device=run.device) if out is None else out
        out = out.index_put((idx,), v)
    return out


def _real_batch(run: Setup, t: int) -> torch.Tensor:
    """(E, B, d): B indices uniform with replacement into each model's own data set (stream 'batch', key t).

    A model with ``n_data = 0`` gets B fresh target samples instead: ``target.sample(B, rng)`` with
    ``rng = numpy.random.default_rng([seed, model_id, STREAMS['fresh'], t])`` -- a pure function of (seed, model id,
    t), so repeatable, independent of the pack and resumable.  The other models' draws are unchanged by it."""
    c = run.config
    bidx = _rng.step_randint(c.seed, run.id_list, _rng.STREAMS["batch"], t, (c.batch,), run.highs,
                             device=run.device, generator=run.gen)
    x = torch.gather(run.data, 1, bidx.unsqueeze(-1).expand(run.E, c.batch, run.data.shape[-1]))
    if not run.fresh:
        return x
    d = run.data.shape[-1]
    target = _densities.parse(c.target)
    ids = c.ids()
    fresh = np.stack([target.sample(c.batch, np.random.default_rng([c.seed, ids[e], _rng.STREAMS["fresh"], t]))
                      .reshape(c.batch, d) for e in run.fresh])
    idx = torch.tensor(run.fresh, dtype=torch.int64, device=run.device)
    return x.index_put((idx,), torch.tensor(fresh, dtype=run.dtype, device=run.device))


def _packed_real(run: Setup, t: int) -> torch.Tensor:
    """(E, B, pack·d): ``pack`` real batches (update keys t·pack + j, = t when pack = 1), packed row by row."""
    k = run.config.pack
    if k == 1:
        return _real_batch(run, t)
    return _mlp.pack_rows(torch.cat([_real_batch(run, t * k + j) for j in range(k)], dim=1), k)


def _fake_batch(run: Setup, g_params, t: int) -> torch.Tensor:
    """(E, B, pack·d) packed fakes for D update t: G_e(z) without gradient (BN in training mode), or the fixed
    generator by inverse CDF (1-D)."""
    c = run.config
    if run.fixed_g is not None:
        u = _rng.step_uniform(c.seed, run.id_list, _rng.STREAMS["noise_d"], t, (c.batch,),
                              dtype=torch.float64, device=run.device, low=2.0**-53, generator=run.gen)
        return torch.tensor(run.fixed_g.ppf(u.cpu().numpy())[..., None], dtype=run.dtype, device=run.device)
    with torch.no_grad():
        return _mlp.pack_rows(_generator(run, g_params, _noise(run, "noise_d", t)), c.pack)


def _update(run: Setup, state: TrainState, net: str, objective, grads, step: int, **changes) -> TrainState:
    """The optimiser update of network ``net`` ("d" or "g") followed by freeze-and-mask, for both networks.

    A model whose objective, gradients or new parameters are not all finite -- or whose largest gradient reaches
    √(largest float)/2, whose square would overflow the optimiser's second moment -- is frozen at ``step``: its parameters
    and optimiser state (and ``changes`` given as (new, old) pairs, e.g. the spectral-norm vectors) keep their old
    values.  With Adam (the in-place form, :mod:`lsgan_theory.ensemble.optim`) the update is applied in place to
    the models that are active and whose objective and gradients are finite; the others are not touched at all.
    A model whose new parameters could overflow (:func:`~lsgan_theory.ensemble.optim.adam_step_bound` ×2 added to
    its largest |parameter| reaches a quarter of the dtype's range -- e.g. a learning rate of 1e38) has its rows
    copied first and restored if they did overflow.  SGD and RMSProp use the functional form and select the old
    values with ``torch.where`` (:func:`lsgan_theory.ensemble.optim.masked`), so NaN cannot leak either way.
    """
    params, opt_state = getattr(state, f"{net}_params"), getattr(state, f"opt_{net}")
    opt = getattr(run, f"opt_{net}")
    # a gradient whose square overflows would make Adam's v (RMSProp's too) infinite and the model stop silently:
    # |g| >= √(largest float)/2 counts as divergence (so |m| and v stay finite: by induction v <= max g² < max/4)
    ok = torch.isfinite(objective) & (_max_abs(grads, run.E) < math.sqrt(torch.finfo(run.dtype).max) / 2)
    if opt.update_ is None:
        ups, new_opt_state = opt.update(grads, opt_state, params)
        new_params = _optim.apply_updates(params, ups)
        if net == "d" and run.use_clip:
            new_params = _mlp.clip_weights(new_params, run.clip)
        ok = ok & _all_finite(new_params, run.E)
        active = state.active & ok
        kept = {f"{net}_params": _optim.masked(new_params, params, active),
                f"opt_{net}": _optim.masked(new_opt_state, opt_state, active)}
    else:
        go = state.active & ok
        models = go.nonzero().flatten().tolist()
        where, pmax = run.scratch.get(("pmax", net), (None, None))
        if where != params[0].data_ptr():  # not the tensors of the last update (a new or loaded state)
            pmax = _max_abs(params, run.E)
        risky = (pmax + 2 * _optim.adam_step_bound(opt.hyper, opt_state["t"]).to(pmax.device)
                 >= torch.finfo(run.dtype).max / 4)
        saved = {}
        for e in (go & risky).nonzero().flatten().tolist():
            saved[e] = [x[e].clone() for x in (*params, *opt_state["m"], *opt_state["v"])] + [opt_state["t"][e].clone()]
        opt.update_(grads, opt_state, params, models)
        if net == "d" and run.use_clip:
            for p, c in zip(params, _mlp.clip_weights(params, run.clip)):
                p.copy_(c)
        pmax = _max_abs(params, run.E)
        ok = ok & torch.isfinite(pmax)
        for e in (go & ~ok).nonzero().flatten().tolist():
            # an overflow the bound allowed for cannot happen; the model is frozen either way
            for x, old in zip((*params, *opt_state["m"], *opt_state["v"], opt_state["t"]), saved.get(e, ())):
                x[e] = old
        run.scratch[("pmax", net)] = (params[0].data_ptr(), pmax)
        active = state.active & ok
        kept = {}
    newly = state.active & ~ok
    diverged_step = torch.where(newly, torch.full_like(state.diverged_step, step), state.diverged_step)
    kept.update({k: _optim.masked(new, old, active) for k, (new, old) in changes.items()})
    return replace(state, active=active, diverged_step=diverged_step, **kept)


def update_network(run, state: TrainState, net: str, objective, grads, step: int, **changes) -> TrainState:
    """The engine's optimiser update with freeze-and-mask (``_update``: the divergence checks, in-place fused Adam
    on the active models, ``torch.where`` selection for SGD/RMSProp), for trainers with their own objectives.

    The CLS-GAN trainer (:mod:`lsgan_theory.ensemble.conditional`) computes its objective and gradients and updates
    through here, so freezing means the same there as in :func:`train`.  ``run``: any object with ``E``, ``dtype``,
    ``opt_d``/``opt_g`` (:class:`~lsgan_theory.ensemble.optim.Optimizer`), ``use_clip`` (and ``clip`` when true)
    and a ``scratch`` dict; ``state``: a :class:`TrainState`; ``objective`` (E,): a model whose value is not finite
    is frozen at ``step`` (pass NaN to freeze a model for a reason of its own); ``grads``: one tensor per parameter of
    network ``net`` ("d" or "g").  Returns the new state (the parameters and Adam's state are updated in place).
    """
    if net not in ("d", "g"):
        raise ValueError(f"net: must be 'd' or 'g', got {net!r}")
    return _update(run, state, net, objective, grads, step, **changes)


def _max_abs(tensors, E: int) -> torch.Tensor:
    """(E,) the largest |entry| of model e over the tensors (NaN if any entry is NaN): max(amax, −amin) per tensor
    (a selection, so exact; on the CPU about 8× faster than ``torch.aminmax`` along a dimension, which was a quarter
    of a ring step at batch 64: issue 28)."""
    out = None
    for t in tensors:
        r = t.reshape(E, -1)
        m = torch.maximum(r.amax(dim=1), -r.amin(dim=1))
        out = m if out is None else torch.maximum(out, m)
    return out


def _penalty(run: Setup, dp, weights, x, fake, t: int) -> torch.Tensor:
    """(E,) the WGAN-GP gradient penalty of D update t, computed for the models with ``gp_weight > 0`` only (0 for
    the others): the double backward is the most expensive part of a step, and on Mao's ring an ensemble with one
    WGAN-GP loss among eight paid it for all of them (3× the step, issue 32).  ε of model e is drawn from its own
    stream (seed, model id, 'gp', t), so it does not depend on which models share the pack."""
    c = run.config
    idx = run.scratch.get("gp_models")
    if idx is None:
        idx = run.scratch["gp_models"] = (run.gp_weight > 0).nonzero().flatten().tolist()
    ids = [run.id_list[e] for e in idx]
    eps = _rng.step_uniform(c.seed, ids, _rng.STREAMS["gp"], t, (c.batch,), dtype=run.dtype, device=run.device,
                            generator=run.gen)
    if len(idx) == run.E:
        return _losses.gradient_penalty(lambda xh: _critic(run, dp, xh, weights), x, fake,
                                        gp_weight=run.gp_weight, eps=eps, event_dims=1)
    sel = torch.tensor(idx, dtype=torch.int64, device=run.device)
    sub = tuple(p[sel] for p in dp)
    w_sub = None if weights is None else tuple(w[sel] for w in weights)
    pen = _losses.gradient_penalty(lambda xh: _critic(run, sub, xh, w_sub), x[sel], fake[sel],
                                   gp_weight=run.gp_weight[sel], eps=eps, event_dims=1)
    return torch.zeros(run.E, dtype=pen.dtype, device=pen.device).index_put((sel,), pen)


def d_step(run: Setup, state: TrainState, step: int, t: int) -> TrainState:
    """Update t (= step·n_critic + k) of every loss network / discriminator: its loss (THEORY.md §1–§6), plus the
    gradient penalty, spectral normalisation and weight clipping of the models that use them."""
    c = run.config
    x, fake = _packed_real(run, t), _fake_batch(run, state.g_params, t)
    dp = tuple(p.detach().requires_grad_(True) for p in state.d_params)
    weights, new_u = _mlp.spectral_normalize(dp, state.sn_u, run.sn_on) if run.use_sn else (None, None)
    out_r, out_f = _critic(run, dp, x, weights), _critic(run, dp, fake, weights)
    loss = _per_family(run, lambda fam, h, r, f, xx, ff: _d_loss(fam, r, f, xx, ff, h),
                       out_r, out_f, x, fake)
    total = loss + _penalty(run, dp, weights, x, fake, t) if run.use_gp else loss
    grads = torch.autograd.grad(total.sum(), dp)
    changes = {"sn_u": (new_u, state.sn_u)} if run.use_sn else {}
    return replace(_update(run, state, "d", total, grads, step, **changes), loss_d=loss.detach())


def g_step(run: Setup, state: TrainState, step: int) -> TrainState:
    """One update of every generator against its (fixed) loss network / discriminator."""
    c = run.config
    z = _noise(run, "noise_g", step)
    gp_ = tuple(p.detach().requires_grad_(True) for p in state.g_params)
    with torch.no_grad():
        weights = _mlp.spectral_normalize(state.d_params, state.sn_u, run.sn_on)[0] if run.use_sn else None
    dpc = tuple(p.detach() for p in state.d_params)
    stats = [] if state.bn_g is not None else None
    out_f = _critic(run, dpc, _mlp.pack_rows(_generator(run, gp_, z, stats), c.pack), weights)
    loss = _per_family(run, lambda fam, h, f: _g_loss(fam, f, h), out_f)
    grads = torch.autograd.grad(loss.sum(), gp_)
    changes = {"bn_g": (_mlp.update_bn_state(state.bn_g, stats), state.bn_g)} if stats is not None else {}
    return replace(_update(run, state, "g", loss, grads, step, **changes), loss_g=loss.detach())


def simultaneous_step(run: Setup, state: TrainState, step: int) -> TrainState:
    """``update = "simultaneous"`` (Mao's code: one ``sess.run`` of both train ops): ONE noise batch z (stream
    'noise_d', key ``step``) and one real batch; G(z) and D are evaluated once, D's gradient of its loss (fakes held
    fixed) and G's gradient of its loss are both taken at the current (D, G), then both are updated.  The same fakes
    enter both losses, as in Mao's graph.  Freezing works as in :func:`d_step`/:func:`g_step`: a model whose D
    update is not finite is frozen before G's update, which then leaves it untouched."""
    c = run.config
    x = _packed_real(run, step)
    gp_ = tuple(p.detach().requires_grad_(True) for p in state.g_params)
    stats = [] if state.bn_g is not None else None
    fake = _mlp.pack_rows(_generator(run, gp_, _noise(run, "noise_d", step), stats), c.pack)
    dp = tuple(p.detach().requires_grad_(True) for p in state.d_params)
    weights, new_u = _mlp.spectral_normalize(dp, state.sn_u, run.sn_on) if run.use_sn else (None, None)
    fixed = fake.detach()
    # D runs once on the fakes: D's gradient is taken w.r.t. D's parameters only (autograd prunes the path into G),
    # G's w.r.t. G's only, both from the same graph -- both at the current (D, G)
    out_r, out_f = _critic(run, dp, x, weights), _critic(run, dp, fake, weights)
    loss = _per_family(run, lambda fam, h, r, f, xx, ff: _d_loss(fam, r, f, xx, ff, h),
                       out_r, out_f, x, fixed)
    total = loss + _penalty(run, dp, weights, x, fixed, step) if run.use_gp else loss
    grads_d = torch.autograd.grad(total.sum(), dp, retain_graph=True)
    loss_g = _per_family(run, lambda fam, h, f: _g_loss(fam, f, h), out_f)
    grads_g = torch.autograd.grad(loss_g.sum(), gp_)
    changes = {"sn_u": (new_u, state.sn_u)} if run.use_sn else {}
    new = replace(_update(run, state, "d", total, grads_d, step, **changes), loss_d=loss.detach())
    changes = {"bn_g": (_mlp.update_bn_state(state.bn_g, stats), state.bn_g)} if stats is not None else {}
    return replace(_update(run, new, "g", loss_g, grads_g, step, **changes), loss_g=loss_g.detach())


def record(run: Setup, state: TrainState) -> TrainState:
    """Append the current losses (E,) as float64 rows, NaN for frozen models (and for G when it is not trained)."""
    nan = torch.tensor(float("nan"), dtype=torch.float64, device=run.device)
    row_d = torch.where(state.active, state.loss_d.double(), nan)
    row_g = nan.expand(run.E) if state.loss_g is None else torch.where(state.active, state.loss_g.double(), nan)
    return replace(state, rec_d=state.rec_d + (row_d,), rec_g=state.rec_g + (row_g,))


# ---------------------------------------------------------------------------------------------------- checkpoints
def _python_scalars(obj):
    """``obj`` with numpy scalars (a config built from a pandas row holds them) turned into Python numbers, tuples,
    lists and dicts kept: ``torch.load(weights_only=True)`` refuses numpy scalars, so a checkpoint holding one could
    be written but never read back."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {k: _python_scalars(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_python_scalars(v) for v in obj)
    return obj


def save_state(path, run: Setup, state: TrainState, *, identity: dict | None = None) -> None:
    """Write ``state`` to ``path`` atomically (temporary file + rename): an interruption never leaves a half-written
    checkpoint.  ``"step"`` in the file is the last completed step (``state.step − 1``).  ``identity``: what else
    the run depends on besides its config (e.g. ``{"data set": digest}`` for the CLS-GAN trainer), str keys and
    plain values; :func:`load_state` refuses the file for another identity."""
    path = os.fspath(path)
    ck = {k: getattr(state, k) for k in ("d_params", "g_params", "sn_u", "active", "diverged_step", "loss_d",
                                         "loss_g", "seconds", "bn_g")}
    ck.update(config=_python_scalars(asdict(run.config)), version=__version__, git=git_revision(), step=state.step - 1,
              observed=state.observed, draws=DRAWS, **({"identity": identity} if identity else {}),
              sd=state.opt_d, sg=state.opt_g, rec_d=_stack_rows(state.rec_d, run), rec_g=_stack_rows(state.rec_g, run))
    # torch.save reports a missing folder as RuntimeError
    write_atomic(path, lambda tmp: torch.save(ck, tmp), what="checkpoint", errors=(OSError, RuntimeError))


def prepare_checkpoint(path) -> None:
    """Check that ``path`` can hold a checkpoint (``ValueError`` naming ``checkpoint`` otherwise) and remove the
    temporary files ``<path>.tmp-<pid>`` that processes no longer running left behind (killed while saving)."""
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ValueError(f"checkpoint: {path!r} is a directory, not a checkpoint file")
    if not os.path.isdir(parent):
        raise ValueError(f"checkpoint: cannot write {path!r}: its folder {parent!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise ValueError(f"checkpoint: cannot write {path!r}: its folder {parent!r} is not writable")
    remove_stale_temporaries(path)


def _stack_rows(rows: tuple, run: Setup) -> torch.Tensor:
    return torch.stack(rows) if rows else torch.zeros((0, run.E), dtype=torch.float64, device=run.device)


def load_state(path, run: Setup, *, identity: dict | None = None) -> TrainState | None:
    """The state saved at ``path`` for the same config (and ``identity``, as given to :func:`save_state`), or
    ``None`` when there is no file (``ValueError`` for a foreign or corrupt file, or one written for another
    configuration or identity)."""
    if path is None or not os.path.exists(path):
        return None
    try:
        ck = torch.load(path, map_location=run.device, weights_only=True)
    except Exception as exc:  # a foreign or corrupt file: say which one
        raise ValueError(f"checkpoint: {os.fspath(path)!r} is not a readable training checkpoint ({exc})") from exc
    if not isinstance(ck, dict) or "config" not in ck:
        raise ValueError(f"checkpoint: {os.fspath(path)!r} is not a readable training checkpoint (no config in it)")
    if ck.get("draws") != DRAWS:
        was = ck.get("draws", "the counter-based hash of earlier versions")
        raise ValueError(f"checkpoint: {os.fspath(path)!r} was written with other random draws ({was}, not {DRAWS}): "
                         f"its run cannot be continued with the same draws; delete it to start afresh")
    saved = ck.get("config")
    if isinstance(saved, dict) and isinstance(run.config, TrainConfig):
        saved = {**_ARCH_DEFAULTS, **saved}  # written before the architecture fields existed: their defaults
    if saved != asdict(run.config):
        raise ValueError(f"checkpoint: {os.fspath(path)!r} was written for a different configuration; use another "
                         f"path (or --out) or delete it to start afresh")
    _check_identity(path, ck.get("identity") or {}, identity or {})
    return TrainState(step=ck["step"] + 1, d_params=ck["d_params"], g_params=ck["g_params"], opt_d=ck["sd"],
                      opt_g=ck["sg"], sn_u=ck["sn_u"] if run.use_sn else None, active=ck["active"],
                      diverged_step=ck["diverged_step"], rec_d=tuple(ck["rec_d"]), rec_g=tuple(ck["rec_g"]),
                      loss_d=ck["loss_d"], loss_g=ck["loss_g"], seconds=ck["seconds"], bn_g=ck.get("bn_g"),
                      observed=tuple((int(n), r) for n, r in ck.get("observed", ())))


def _check_identity(path, saved: dict, expected: dict) -> None:
    for key in sorted(set(saved) | set(expected)):
        if saved.get(key) != expected.get(key):
            raise ValueError(f"checkpoint: {os.fspath(path)!r} was written for a different {key} "
                             f"({saved.get(key)!r}, this run's {expected.get(key)!r}); use another path or delete it "
                             f"to start afresh")


def _checkpoint_every(config: TrainConfig, checkpoint_every) -> int:
    if checkpoint_every is None:
        return max(1, config.steps // 20)
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int) or checkpoint_every < 1:
        raise ValueError(f"checkpoint_every: must be an integer >= 1, got {checkpoint_every!r}")
    return checkpoint_every


# ---------------------------------------------------------------------------------------------------- training
@contextlib.contextmanager
def deferred_interrupt():
    """Hold Ctrl-C (SIGINT) until the current step ends: yields ``interrupted()``, true once Ctrl-C was pressed.

    The parameters and optimiser state are updated in place, so a step stopped half-way is no state to save.  In
    the main thread, while Python's default handler is installed, the first Ctrl-C only sets the flag (the loop
    checks it after each step, saves and raises ``KeyboardInterrupt``); a second one raises at once (the half-done
    step is then not saved: the last checkpoint stands).  Elsewhere (worker threads, custom handlers) nothing
    changes and ``interrupted()`` is always false.
    """
    import signal
    import threading

    hits = []
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield lambda: False
        return

    def handler(signum, frame):
        hits.append(signum)
        if len(hits) > 1:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: bool(hits)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


# ---------------------------------------------------------------------------------------------------- observers
class _ObservedState:
    """What every observer reads from the engine's state (:class:`Observation`, and the CLS-GAN's
    :class:`~lsgan_theory.ensemble.conditional.ConditionalObservation`): ``run`` and ``state`` are its fields."""

    @property
    def config(self):
        """The run's config (:class:`TrainConfig`, or the CLS-GAN's ``ConditionalConfig``)."""
        return self.run.config

    @property
    def active(self) -> torch.Tensor:
        """(E,) bool: models not frozen."""
        return self.state.active

    @property
    def loss_d(self) -> torch.Tensor | None:
        """(E,) the losses of the last D update (``None`` at step 0)."""
        return self.state.loss_d

    @property
    def loss_g(self) -> torch.Tensor | None:
        return self.state.loss_g


@dataclass(frozen=True)
class Observation(_ObservedState):
    """What an observer of :func:`train` sees after ``step`` completed steps (0: before the first).

    ``run``: the :class:`Setup` (config, data, device, dtype, model ids); ``state``: the :class:`TrainState`
    (parameters, optimiser states, ``active``, ``diverged_step``, the last losses).  Read-only by contract: the
    parameters are the engine's own tensors (updated in place by the next step), so keep copies, not references.
    """

    step: int
    run: Setup
    state: TrainState

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """G_e(z) of every model (E, N, d) for z (E, N, noise_dim), no gradient, batch norm in inference mode with
        each model's population statistics (as :meth:`TrainResult.generator`)."""
        with torch.no_grad():
            return _mlp.net_forward(self.state.g_params, z.to(device=self.run.device, dtype=self.run.dtype),
                                    self.run.g_spec, running=self.state.bn_g)

    def critic(self, x: torch.Tensor) -> torch.Tensor:
        """D_e(x) of every model (E, N) for (packed) inputs x (E, N, pack·d), no gradient, with the spectral
        normalisation of the models that use it."""
        with torch.no_grad():
            weights = (_mlp.spectral_normalize(self.state.d_params, self.state.sn_u, self.run.sn_on)[0]
                       if self.run.use_sn else None)
            return _critic(self.run, self.state.d_params, x.to(device=self.run.device, dtype=self.run.dtype), weights)

    def real_batch(self) -> torch.Tensor:
        """(E, B, pack·d): the real batch of the last D update (recomputed from its keys; a pure function)."""
        if self.step == 0:
            raise ValueError("real_batch: no update has run at step 0")
        c = self.run.config
        return _packed_real(self.run, self.step * c.n_critic - 1)


@runtime_checkable
class Observer(Protocol):
    """``observe(obs: Observation) -> dict | None``: called at the steps ``observe_at`` of :func:`train`.

    The record it returns (``None``: nothing) is stored as ``(obs.step, record)`` in the state, written with every
    checkpoint and returned in :attr:`TrainResult.observed`; so a resumed run does not call it again for the steps
    it already saw.  A record holds what a checkpoint can store and read back safely: ``None``, bool, int, float,
    str, torch tensors, and lists, tuples and str-keyed dicts of these (numpy arrays: convert them).
    """

    def __call__(self, obs: Observation) -> dict | None: ...


_RECORD_SCALARS = (type(None), bool, int, float, str, torch.Tensor)


def _check_record(rec, where: str = "record"):
    if isinstance(rec, _RECORD_SCALARS):
        return
    if isinstance(rec, (list, tuple)):
        for i, v in enumerate(rec):
            _check_record(v, f"{where}[{i}]")
        return
    if isinstance(rec, dict):
        for k, v in rec.items():
            if not isinstance(k, str):
                raise TypeError(f"observe: {where} has a key {k!r} of type {type(k).__name__}; keys must be str")
            _check_record(v, f"{where}[{k!r}]")
        return
    raise TypeError(f"observe: {where} is a {type(rec).__name__}; a record holds None, bool, int, float, str, "
                    f"torch tensors and lists/tuples/str-keyed dicts of these (convert numpy arrays with "
                    f"torch.as_tensor)")


def _observe_steps(config: TrainConfig, run: Setup, observe, observe_at) -> frozenset:
    if observe is None:
        if observe_at is not None:
            raise ValueError("observe_at: given without observe")
        return frozenset()
    if not callable(observe):
        raise TypeError(f"observe: expected a callable observe(obs) -> dict | None, got {type(observe).__name__}")
    if observe_at is None:
        return frozenset(s + 1 for s in run.rec_steps)
    try:
        steps = [operator.index(n) for n in observe_at]
    except TypeError:
        raise TypeError("observe_at: expected an iterable of ints (completed-step counts)") from None
    bad = [n for n in steps if not 0 <= n <= config.steps]
    if bad:
        raise ValueError(f"observe_at: steps must lie in [0, steps = {config.steps}], got {bad[:5]}")
    return frozenset(steps)


def _observed(observe, run, state: TrainState, n: int, view=Observation) -> TrainState:
    """``observe(view(n, run, state))``, its record checked and stored in the state (``view``: the observation class
    of the engine's caller, :class:`Observation` for :func:`train`)."""
    rec = observe(view(step=n, run=run, state=state))
    if rec is None:
        return state
    _check_record(rec)
    return replace(state, observed=state.observed + ((n, rec),))


def train(config: TrainConfig, callback=None, *, checkpoint=None, checkpoint_every: int | None = None,
          observe: Observer | None = None, observe_at=None) -> TrainResult:
    """Train the ``config.n_models`` GANs of ``config`` together and return their per-step metrics.

    This is the one training loop of the package: the studies that need more than the losses (the sample-complexity
    probe, the mode-collapse evaluations) pass an ``observe`` instead of copying the loop, and so get resume,
    Ctrl-C save, freezing, progress and provenance from here.

    Parameters
    ----------
    config : TrainConfig
    callback : callable, optional
        Called as ``callback(step, loss_d, loss_g, active)`` with (E,) tensors after every recorded step.
    checkpoint : path, optional
        File holding the complete training state (:class:`TrainState`: parameters, optimiser and spectral-norm
        states, frozen models, recorded curves, the observer's records; with the config and version).  Written
        atomically every ``checkpoint_every`` steps (default: every ~5 % of the run) and at the end; when it exists
        at the start (for the same config, else ``ValueError``) training resumes from it.  Every draw is a pure
        function of (seed, model, stream, step) (no generator state is carried), so a resumed run is bitwise
        identical to an uninterrupted one: nothing is lost or repeated.
        Ctrl-C (``KeyboardInterrupt``) finishes the step under way, writes the completed steps and re-raises (a
        second Ctrl-C stops at once; the last checkpoint then stands); temporary files of writers that were killed
        are removed on start; a path that cannot be written, or a corrupt file, is a ``ValueError`` naming
        ``checkpoint``.
    checkpoint_every : int, optional
    observe : Observer, optional
        ``observe(obs)`` with an :class:`Observation` (step = completed steps, the setup and the state: parameters,
        losses, ``active``; helpers ``generate``, ``critic``, ``real_batch``) at every step of ``observe_at``; the
        dict it returns is stored, checkpointed and returned in :attr:`TrainResult.observed` as ``(step, record)``.
        A ``KeyboardInterrupt`` it raises is Ctrl-C: the completed steps are saved, and a resumed run observes that
        step again.
    observe_at : iterable of int, optional
        Completed-step counts in [0, steps] at which to observe (0: before the first step); default: after every
        recorded step (``record_every``).

    Raises
    ------
    ValueError
        Before anything is allocated, when :meth:`TrainConfig.estimate_memory` exceeds half the available memory
        (the estimate in the message); ``observe_at`` out of range.

    Returns
    -------
    TrainResult
        ``loss_d``/``loss_g`` of shape (E, S), ``diverged_step`` (E,), final parameters, the observer's records,
        config, version, git revision and wall time.
    """
    t0 = time.perf_counter()
    every = _checkpoint_every(config, checkpoint_every)
    if checkpoint is not None:
        prepare_checkpoint(checkpoint)
    run = setup(config)
    obs_at = _observe_steps(config, run, observe, observe_at)
    state = load_state(checkpoint, run) or init_state(run)
    seconds_before, rec_at = state.seconds, frozenset(run.rec_steps)

    def advance(state, step):
        if config.update == "simultaneous":
            new = simultaneous_step(run, state, step)
            return record(run, new) if step in rec_at else new
        new = state
        for k in range(config.n_critic):
            new = d_step(run, new, step, step * config.n_critic + k)
        if run.train_g:
            new = g_step(run, new, step)
        return record(run, new) if step in rec_at else new

    state = run_loop(state, config.steps, advance, t0=t0, rec_at=rec_at, callback=callback,
                     observe=None if observe is None else (lambda st, n: _observed(observe, run, st, n)),
                     observe_at=obs_at,
                     save=None if checkpoint is None else (lambda st: save_state(checkpoint, run, st)), every=every)
    return _result(run, state, seconds_before + time.perf_counter() - t0)


def run_loop(state, last: int, advance, *, t0: float, rec_at=frozenset(), callback=None, observe=None,
             observe_at=frozenset(), save=None, every: int = 1):
    """THE training loop: steps ``state.step`` … ``last − 1`` of a run, with its bookkeeping, for every trainer.

    ``state``: a dataclass with ``step`` (completed steps), ``seconds`` (wall time of the completed steps),
    ``loss_d``, ``loss_g``, ``active`` and ``observed`` (a tuple of ``(step, record)``).  ``advance(state, step)``
    runs the updates of step ``step`` (and records its losses when ``step`` is in ``rec_at``) and returns the new
    state; it may update tensors in place.  After each step: ``callback(step, loss_d, loss_g, active)`` at the
    recorded steps; ``observe(state, n) -> state`` when the completed-step count n is in ``observe_at`` (also at the
    start, when the state's own step is there and not yet observed); ``save(state)`` every ``every`` steps and after
    the last.  Ctrl-C is held until the step under way ends (:func:`deferred_interrupt`), then the completed steps
    are saved and ``KeyboardInterrupt`` is re-raised; a ``KeyboardInterrupt`` raised by ``callback`` or ``observe``
    saves the same way.  ``t0``: ``time.perf_counter()`` when the call began (``seconds`` counts from it).
    """
    seconds_before = state.seconds
    whole = True  # False while a step is under way: in-place updates leave `state` half-updated until it ends
    try:
        with deferred_interrupt() as interrupted:
            if (observe is not None and state.step in observe_at
                    and not any(n == state.step for n, _ in state.observed)):
                state = observe(state, state.step)  # step 0, or a resume after an interrupted observation
            for step in range(state.step, last):
                whole = False
                new = advance(state, step)
                state = replace(new, step=step + 1, seconds=seconds_before + time.perf_counter() - t0)
                whole = True
                if callback is not None and step in rec_at:
                    callback(step, state.loss_d, state.loss_g, state.active)
                if observe is not None and step + 1 in observe_at:
                    state = observe(state, step + 1)
                if save is not None and ((step + 1) % every == 0 or step == last - 1):
                    save(state)
                if interrupted():
                    raise KeyboardInterrupt
    except KeyboardInterrupt:  # Ctrl-C (or an observer/callback raising it): keep the completed steps, then stop
        if save is not None and whole:
            save(state)
        raise
    return state


def _result(run: Setup, state: TrainState, seconds: float) -> TrainResult:
    extra = {}
    if state.bn_g is not None:
        extra["g_bn"] = tuple(t.detach().cpu() for t in state.bn_g)
    if run.use_sn:
        with torch.no_grad():
            weights = _mlp.spectral_normalize(state.d_params, state.sn_u, run.sn_on)[0]
            extra["d_weights_eff"] = tuple(w.cpu() for w in weights)
    if run.device.type == "cuda":
        torch.cuda.synchronize(run.device)
    return TrainResult(config=run.config, steps=np.array(run.rec_steps),
                       loss_d=_stack_rows(state.rec_d, run).T.cpu().numpy(),
                       loss_g=_stack_rows(state.rec_g, run).T.cpu().numpy(),
                       diverged_step=state.diverged_step.cpu().numpy(),
                       g_params=tuple(p.detach().to("cpu", copy=True) for p in state.g_params),
                       d_params=tuple(p.detach().to("cpu", copy=True) for p in state.d_params),
                       seconds=seconds, device=str(run.device), git=git_revision(), extra=extra,
                       observed=state.observed)
