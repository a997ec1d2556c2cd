"""Train E small GANs at once as batched tensors, on CPU or CUDA.

One call of :func:`train` trains every model of a :class:`TrainConfig`: model e has its own generator G_e and loss
network / discriminator D_e (batched MLPs, :mod:`lsgan_theory.ensemble.mlp`), its own optimiser state and
hyperparameters (:mod:`lsgan_theory.ensemble.optim`), its own finite data set of size m_e drawn from the target
density, and its own random stream (:mod:`lsgan_theory.ensemble.rng`) keyed by ``(seed, model_id)``; so model e's
trajectory does not depend on E or on the other models in the batch.

Per step (``n_critic`` D updates, then one G update; THEORY.md §1–§7 for the losses, taken from
:mod:`lsgan_theory.losses`):

1. real batch x (E, B, d): B indices drawn uniformly with replacement from model e's data set;
2. fake batch G_e(z), z ~ N(0, I) of shape (E, B, noise_dim);
3. D loss per model (E,), plus γ_e·GP_e when the gradient penalty weight γ_e > 0 (WGAN-GP, THEORY.md §4: x̂ = εx +
   (1−ε)x̃ per sample, ‖∇D(x̂)‖₂ per sample over the data dimensions), spectral normalisation and weight clipping
   per model;
4. G loss per model and its update.

Divergence handling: a model whose loss, gradients or new parameters are non-finite at some update is *frozen*: its
parameters and optimiser state are kept from before that update (selected with ``torch.where``), it is reported in
``diverged_step``, and the other models carry on untouched.

Code layout (top to bottom): :class:`TrainConfig` (what a run is) → :func:`setup` (the config resolved into tensors:
data, optimisers, hyperparameters; :class:`Setup`) → :func:`init_state` (a :class:`TrainState`: everything that
changes) → the pure steps :func:`d_step`, :func:`g_step`, :func:`record` (each returns a new state; the optimiser
update, divergence check and freeze-and-mask of both networks is one function, ``_update``) → :func:`train`, the
loop; a checkpoint is the state saved and loaded (:func:`save_state`, :func:`load_state`).

Network outputs are ``D_e(x)`` with no output nonlinearity: the classic GAN reads it as a logit, LSGAN
(least-squares) and hinge / WGAN as a real score, LS-GAN (loss-sensitive) and GLS-GAN as the loss L_θ(x).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np
import torch

from .. import __version__
from .. import densities as _densities
from .. import families as _families
from .. import losses as _losses
from ..provenance import git_revision
from . import mlp as _mlp
from . import optim as _optim
from . import rng as _rng

__all__ = ["TrainConfig", "TrainResult", "TrainState", "Setup", "train", "setup", "init_state", "d_step", "g_step",
           "record", "save_state", "load_state", "resolve_device", "FAMILIES", "PER_MODEL"]

# Families that share the network shape (scalar D output) and can be mixed inside one ensemble (the registry's
# trainable families, lsgan_theory.families).
FAMILIES = _families.TRAINABLE
# Hyperparameters that may be given per model (a tuple of length n_models) instead of one float.
PER_MODEL = ("family", "n_data", "lr_d", "lr_g", "beta1", "beta2", "lam", "nu", "margin_scale", "gp_weight", "clip",
             "spectral_norm", "ls_a", "ls_b", "ls_c")


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


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines an ensemble run; saved with every result.

    Fields named in ``PER_MODEL`` take one value for all models or a tuple of ``n_models`` values.

    Notes on conventions: ``family`` ∈ ``FAMILIES`` (``"loss_sensitive"`` = LS-GAN of Qi, ``"least_squares"`` =
    LSGAN of Mao with labels ``ls_a`` (fake), ``ls_b`` (real), ``ls_c`` (generator target)); ``lam`` is λ of the
    LS-GAN objective S = E L(x) + λ E(Δ + L(x) − L(G(z)))_+ with Δ = ``margin_scale``·‖x − G(z)‖₁ over all n·m
    pairs of the batch; ``nu`` is ν of the GLS-GAN cost C_ν(a) = max(a, νa); ``gp_weight`` γ > 0 adds the WGAN-GP
    penalty, ``clip`` c > 0 clips D's weights to [−c, c], ``spectral_norm`` normalises D's weights.
    ``optimizer`` ∈ {adam, rmsprop, sgd}: ``beta1`` is Adam's β₁ / SGD's momentum, ``beta2`` Adam's β₂ /
    RMSProp's α.
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
    lam: float | tuple[float, ...] = 1.0
    nu: float | tuple[float, ...] = 0.0
    margin_scale: float | tuple[float, ...] = 1.0
    gp_weight: float | tuple[float, ...] = 0.0
    clip: float | tuple[float, ...] = 0.0
    spectral_norm: bool | tuple[bool, ...] = False
    ls_a: float | tuple[float, ...] = -1.0
    ls_b: float | tuple[float, ...] = 1.0
    ls_c: float | tuple[float, ...] = 0.0
    train_generator: bool = True
    fixed_generator: str | None = None
    record_every: int = 1
    dtype: str = "float32"
    device: str = "auto"

    def __post_init__(self):
        for name in ("n_models", "steps", "batch", "noise_dim", "n_critic", "record_every"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")
        if not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise ValueError(f"seed: must be an integer in [0, 2**32), got {self.seed!r}")
        for name in ("g_hidden", "d_hidden"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.model_ids is not None:
            ids = tuple(int(i) for i in self.model_ids)
            if len(ids) != self.n_models or len(set(ids)) != len(ids) or any(not 0 <= i < 2**31 for i in ids):
                raise ValueError(f"model_ids: need {self.n_models} distinct integers in [0, 2**31), got "
                                 f"{self.model_ids!r}")
            object.__setattr__(self, "model_ids", ids)
        for name in PER_MODEL:
            v = getattr(self, name)
            if isinstance(v, (list, tuple)):
                if len(v) != self.n_models:
                    raise ValueError(f"{name}: a per-model tuple needs n_models = {self.n_models} values, got {len(v)}")
                object.__setattr__(self, name, tuple(v))
        fams = tuple(_families.canonical(f) for f in self.per_model("family"))
        for f in fams:
            if f not in FAMILIES:
                raise ValueError(f"family: the trainer trains {FAMILIES}, got {f!r}")
        object.__setattr__(self, "family", fams if isinstance(self.family, tuple) else fams[0])
        for name, lo, lo_open in (("lr_d", 0, True), ("lr_g", 0, True), ("lam", 0, True), ("margin_scale", 0, True),
                                  ("gp_weight", 0, False), ("clip", 0, False)):
            for v in self.per_model(name):
                if not math.isfinite(v) or (v <= lo if lo_open else v < lo):
                    raise ValueError(f"{name}: every value must be {'>' if lo_open else '>='} {lo} and finite, "
                                     f"got {v!r}")
        for v in self.per_model("nu"):
            if not v <= 1:
                raise ValueError(f"nu: the GLS-GAN cost needs nu <= 1 (C(a) = a for a >= 0), got {v!r}")
        for v in self.per_model("n_data"):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"n_data: every data-set size must be an integer >= 1, got {v!r}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype: must be 'float32' or 'float64', got {self.dtype!r}")
        if self.activation not in _mlp.ACTIVATIONS:
            raise ValueError(f"activation: must be one of {sorted(_mlp.ACTIVATIONS)}, got {self.activation!r}")
        if self.optimizer not in ("adam", "rmsprop", "sgd"):
            raise ValueError(f"optimizer: must be one of 'adam', 'rmsprop', 'sgd', got {self.optimizer!r}")
        _densities.parse(self.target)
        if self.fixed_generator is not None:
            fg = _densities.parse(self.fixed_generator)
            if fg.dim != _densities.parse(self.target).dim:
                raise ValueError(f"fixed_generator: dimension {fg.dim} differs from the target's")

    def per_model(self, name: str) -> tuple:
        """The value of ``name`` for each of the n_models models."""
        v = getattr(self, name)
        return tuple(v) if isinstance(v, tuple) else (v,) * self.n_models

    def ids(self) -> tuple[int, ...]:
        """The stream id of each model: ``model_ids`` or 0..n_models−1."""
        return self.model_ids if self.model_ids is not None else tuple(range(self.n_models))

    def select(self, models) -> "TrainConfig":
        """The sub-ensemble of the given model positions, with the same streams (for sequential runs)."""
        models = list(models)
        kw = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in PER_MODEL:
            v = getattr(self, name)
            if isinstance(v, tuple):
                kw[name] = tuple(v[i] for i in models)
        kw["n_models"] = len(models)
        kw["model_ids"] = tuple(self.ids()[i] for i in models)
        return TrainConfig(**kw)


@dataclass
class TrainResult:
    """Per-step metrics of every model, the final networks and the provenance of the run.

    ``loss_d``, ``loss_g``: float64 arrays (E, S) at the recorded steps ``steps`` (S,); NaN once a model is frozen.
    ``diverged_step``: int array (E,), the step at which model e was frozen, −1 if it never diverged.
    ``g_params``/``d_params``: the final stacked parameters (CPU tensors).
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
        """A function z (E, N, noise_dim) -> samples (E, N, d) of the final generators (no gradient tracking)."""
        params = tuple(p.to(device) for p in self.g_params)
        act = self.config.activation

        def G(z):
            return _mlp.mlp_forward(params, z.to(device=device, dtype=params[0].dtype), act)

        return G

    def discriminator(self, device="cpu"):
        """A function x (E, N, d) -> D outputs (E, N) of the final loss networks / discriminators."""
        params = tuple(p.to(device) for p in self.d_params)
        act = self.config.activation
        weights = self.extra.get("d_weights_eff")

        def D(x):
            w = None if weights is None else tuple(t.to(device) for t in weights)
            return _mlp.mlp_forward(params, x.to(device=device, dtype=params[0].dtype), act, weights=w).squeeze(-1)

        return D

    def sample(self, n: int, stream: int = 1000, device="cpu") -> np.ndarray:
        """n generated samples per model, (E, n, d) float64, from noise stream ``stream`` (not used in training)."""
        ids = torch.tensor(self.config.ids(), dtype=torch.int64)
        z = _rng.normal(self.config.seed, ids, stream, 0, (n, self.config.noise_dim), dtype=torch.float64)
        with torch.no_grad():
            return self.generator(device)(z).double().cpu().numpy()


# ---------------------------------------------------------------------------------------------------- losses
def _d_loss(family: str, out_r, out_f, x, fake, h: dict, scratch: dict | None = None):
    """Per-model discriminator / loss-network objective (E_f,) from ``lsgan_theory.losses``.

    ``scratch`` keeps one (E_f, n, m) margin buffer per shape across steps (allocating a fresh multi-MB block every
    step costs more than the hinge arithmetic on the CPU: page faults); the LS-GAN kernel consumes it in place."""
    L = _losses
    if family in ("gan", "gan_ns"):
        return L.gan_discriminator_loss(out_r, out_f)
    if family == "least_squares":
        return L.least_squares_discriminator_loss(out_r, out_f, a=h["ls_a"], b=h["ls_b"])
    if family == "hinge":
        return L.hinge_discriminator_loss(out_r, out_f)
    if family == "wgan":
        return L.wgan_critic_loss(out_r, out_f)
    if family == "loss_sensitive":
        shape = (x.shape[0], x.shape[1], fake.shape[1])
        buf = None
        if scratch is not None and x.shape[-1] == 1:  # margin_matrix writes into ``out`` for 1-D samples only
            buf = scratch.get(shape)
            if buf is None or buf.dtype != x.dtype or buf.device != x.device:
                buf = scratch[shape] = torch.empty(shape, dtype=x.dtype, device=x.device)
        margin = L.margin_matrix(x, fake, kind="l1", scale=h["margin_scale"], out=buf)
        return L.loss_sensitive_objective_unchecked(out_r, out_f, margin, h["lam"])
    margin = L.margin_matrix(x, fake, kind="l1", scale=h["margin_scale"])
    return L.glsgan_objective(out_r, out_f, margin, h["nu"])


def _g_loss(family: str, out_f, h: dict):
    L = _losses
    if family == "gan":
        return L.gan_generator_loss_minimax(out_f)
    if family == "gan_ns":
        return L.gan_generator_loss_non_saturating(out_f)
    if family == "least_squares":
        return L.least_squares_generator_loss(out_f, c=h["ls_c"])
    if family == "hinge":
        return L.hinge_generator_loss(out_f)
    if family == "wgan":
        return L.wgan_generator_loss(out_f)
    return L.loss_sensitive_generator_loss(out_f)


# ---------------------------------------------------------------------------------------------------- the run
@dataclass
class Setup:
    """What stays fixed during a run: the config resolved into tensors on the device, the data, the optimisers."""

    config: TrainConfig
    device: torch.device
    dtype: torch.dtype
    ids: torch.Tensor  # (E,) int64 stream ids
    data: torch.Tensor  # (E, m_max, d), each model's own data set (padded)
    sizes: torch.Tensor  # (E,) int64 data-set sizes
    opt_d: _optim.Optimizer
    opt_g: _optim.Optimizer
    gp_weight: torch.Tensor  # (E,)
    clip: torch.Tensor  # (E,)
    sn_on: torch.Tensor  # (E,) bool
    groups: list  # [(family, index tensor (E_f,), {hyperparameter: (E_f,) tensor}, whole ensemble?)]
    fixed_g: object  # a Density sampled by inverse CDF instead of a generator network, or None
    rec_steps: list  # the recorded steps
    scratch: dict = field(default_factory=dict)  # reused (E_f, n, m) margin buffers (see _d_loss)

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
    the last losses (E,) (``None`` before the first update); ``seconds``: wall time of the completed steps.
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


def _per_model_tensor(config: TrainConfig, name: str, dtype, device) -> torch.Tensor:
    return torch.tensor([float(v) for v in config.per_model(name)], dtype=dtype, device=device)


def _make_data(config: TrainConfig, dtype, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Each model's own data set: m_e draws from the target with numpy stream (seed, model_id, 'data'); padded."""
    target = _densities.parse(config.target)
    sizes = config.per_model("n_data")
    data = np.zeros((config.n_models, max(sizes), target.dim))
    for e, (mid, m) in enumerate(zip(config.ids(), sizes)):
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

    b1, b2 = hyp("beta1"), hyp("beta2")
    fams = config.per_model("family")
    groups = []
    for fam in (f for f in FAMILIES if f in fams):
        members = [e for e, g in enumerate(fams) if g == fam]
        idx = torch.tensor(members, dtype=torch.int64, device=device)
        h = {k: hyp(k)[idx] for k in ("lam", "nu", "margin_scale", "ls_a", "ls_b", "ls_c")}
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
                 groups=groups, fixed_g=_densities.parse(config.fixed_generator) if config.fixed_generator else None,
                 rec_steps=rec_steps)


def init_state(run: Setup) -> TrainState:
    """Step 0: networks initialised from each model's own streams, fresh optimiser states, every model active."""
    c, E = run.config, run.E
    d = run.data.shape[-1]
    g_spec = _mlp.MLPSpec((c.noise_dim, *c.g_hidden, d), c.activation)
    d_spec = _mlp.MLPSpec((d, *c.d_hidden, 1), c.activation)
    kw = dict(dtype=run.dtype, device=run.device)
    g_params = _mlp.init_mlp(g_spec, c.seed, run.ids, _rng.STREAMS["init_g"], **kw)
    d_params = _mlp.init_mlp(d_spec, c.seed, run.ids, _rng.STREAMS["init_d"], **kw)
    return TrainState(step=0, d_params=d_params, g_params=g_params, opt_d=run.opt_d.init(d_params),
                      opt_g=run.opt_g.init(g_params),
                      sn_u=_mlp.init_spectral_state(d_params, c.seed, run.ids) if run.use_sn else None,
                      active=torch.ones(E, dtype=torch.bool, device=run.device),
                      diverged_step=torch.full((E,), -1, dtype=torch.int64, device=run.device))


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
    """D_e(x) of every model, (E, B)."""
    return _mlp.mlp_forward(params, x, run.config.activation, weights=weights).squeeze(-1)


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
    """(E, B, d): B indices uniform with replacement into each model's own data set (stream 'batch', counter t)."""
    c = run.config
    bidx = _rng.randint(c.seed, run.ids, _rng.STREAMS["batch"], t, (c.batch,), run.sizes)
    return torch.gather(run.data, 1, bidx.unsqueeze(-1).expand(run.E, c.batch, run.data.shape[-1]))


def _fake_batch(run: Setup, g_params, t: int) -> torch.Tensor:
    """(E, B, d) fakes for D update t: G_e(z) without gradient, or the fixed generator by inverse CDF (1-D)."""
    c = run.config
    if run.fixed_g is not None:
        u = _rng.uniform(c.seed, run.ids, _rng.STREAMS["noise_d"], t, (c.batch,), dtype=torch.float64)
        return torch.tensor(run.fixed_g.ppf(u.cpu().numpy())[..., None], dtype=run.dtype, device=run.device)
    z = _rng.normal(c.seed, run.ids, _rng.STREAMS["noise_d"], t, (c.batch, c.noise_dim), dtype=run.dtype)
    with torch.no_grad():
        return _mlp.mlp_forward(g_params, z, c.activation)


def _update(run: Setup, state: TrainState, net: str, objective, grads, step: int, **changes) -> TrainState:
    """The optimiser update of network ``net`` ("d" or "g") followed by freeze-and-mask, for both networks.

    A model whose objective, gradients or new parameters are not all finite is frozen at ``step``: its parameters
    and optimiser state (and ``changes`` given as (new, old) pairs, e.g. the spectral-norm vectors) keep their old
    values, selected with ``torch.where`` so that NaN cannot leak (:func:`lsgan_theory.ensemble.optim.masked`).
    """
    params, opt_state = getattr(state, f"{net}_params"), getattr(state, f"opt_{net}")
    ups, new_opt_state = getattr(run, f"opt_{net}").update(grads, opt_state, params)
    new_params = _optim.apply_updates(params, ups)
    if net == "d" and run.use_clip:
        new_params = _mlp.clip_weights(new_params, run.clip)
    ok = torch.isfinite(objective) & _all_finite(grads, run.E) & _all_finite(new_params, run.E)
    newly = state.active & ~ok
    diverged_step = torch.where(newly, torch.full_like(state.diverged_step, step), state.diverged_step)
    active = state.active & ok
    kept = {f"{net}_params": _optim.masked(new_params, params, active),
            f"opt_{net}": _optim.masked(new_opt_state, opt_state, active)}
    kept.update({k: _optim.masked(new, old, active) for k, (new, old) in changes.items()})
    return replace(state, active=active, diverged_step=diverged_step, **kept)


def d_step(run: Setup, state: TrainState, step: int, t: int) -> TrainState:
    """Update t (= step·n_critic + k) of every loss network / discriminator: its loss (THEORY.md §1–§6), plus the
    gradient penalty, spectral normalisation and weight clipping of the models that use them."""
    c = run.config
    x, fake = _real_batch(run, t), _fake_batch(run, state.g_params, t)
    dp = tuple(p.detach().requires_grad_(True) for p in state.d_params)
    weights, new_u = _mlp.spectral_normalize(dp, state.sn_u, run.sn_on) if run.use_sn else (None, None)
    out_r, out_f = _critic(run, dp, x, weights), _critic(run, dp, fake, weights)
    loss = _per_family(run, lambda fam, h, r, f, xx, ff: _d_loss(fam, r, f, xx, ff, h, run.scratch),
                       out_r, out_f, x, fake)
    total = loss
    if run.use_gp:
        eps = _rng.uniform(c.seed, run.ids, _rng.STREAMS["gp"], t, (c.batch,), dtype=run.dtype)
        total = loss + _losses.gradient_penalty(lambda xh: _critic(run, dp, xh, weights), x, fake,
                                                gamma=run.gp_weight, eps=eps, event_dims=1)
    grads = torch.autograd.grad(total.sum(), dp)
    changes = {"sn_u": (new_u, state.sn_u)} if run.use_sn else {}
    return replace(_update(run, state, "d", total, grads, step, **changes), loss_d=loss.detach())


def g_step(run: Setup, state: TrainState, step: int) -> TrainState:
    """One update of every generator against its (fixed) loss network / discriminator."""
    c = run.config
    z = _rng.normal(c.seed, run.ids, _rng.STREAMS["noise_g"], step, (c.batch, c.noise_dim), dtype=run.dtype)
    gp_ = tuple(p.detach().requires_grad_(True) for p in state.g_params)
    with torch.no_grad():
        weights = _mlp.spectral_normalize(state.d_params, state.sn_u, run.sn_on)[0] if run.use_sn else None
    dpc = tuple(p.detach() for p in state.d_params)
    out_f = _critic(run, dpc, _mlp.mlp_forward(gp_, z, c.activation), weights)
    loss = _per_family(run, lambda fam, h, f: _g_loss(fam, f, h), out_f)
    grads = torch.autograd.grad(loss.sum(), gp_)
    return replace(_update(run, state, "g", loss, grads, step), loss_g=loss.detach())


def record(run: Setup, state: TrainState) -> TrainState:
    """Append the current losses (E,) as float64 rows, NaN for frozen models (and for G when it is not trained)."""
    nan = torch.tensor(float("nan"), dtype=torch.float64, device=run.device)
    row_d = torch.where(state.active, state.loss_d.double(), nan)
    row_g = nan.expand(run.E) if state.loss_g is None else torch.where(state.active, state.loss_g.double(), nan)
    return replace(state, rec_d=state.rec_d + (row_d,), rec_g=state.rec_g + (row_g,))


# ---------------------------------------------------------------------------------------------------- checkpoints
def save_state(path, run: Setup, state: TrainState) -> None:
    """Write ``state`` to ``path`` atomically (temporary file + rename): an interruption never leaves a half-written
    checkpoint.  ``"step"`` in the file is the last completed step (``state.step − 1``)."""
    path = os.fspath(path)
    ck = {k: getattr(state, k) for k in ("d_params", "g_params", "sn_u", "active", "diverged_step", "loss_d",
                                         "loss_g", "seconds")}
    ck.update(config=asdict(run.config), version=__version__, git=git_revision(), step=state.step - 1,
              sd=state.opt_d, sg=state.opt_g, rec_d=_stack_rows(state.rec_d, run), rec_g=_stack_rows(state.rec_g, run))
    tmp = f"{path}.tmp-{os.getpid()}"
    torch.save(ck, tmp)
    os.replace(tmp, path)


def _stack_rows(rows: tuple, run: Setup) -> torch.Tensor:
    return torch.stack(rows) if rows else torch.zeros((0, run.E), dtype=torch.float64, device=run.device)


def load_state(path, run: Setup) -> TrainState | None:
    """The state saved at ``path`` for the same config, or ``None`` when there is no file (``ValueError`` for a
    foreign or corrupt file, or one written for another configuration)."""
    if path is None or not os.path.exists(path):
        return None
    try:
        ck = torch.load(path, map_location=run.device, weights_only=True)
    except Exception as exc:  # a foreign or corrupt file: say which one
        raise ValueError(f"checkpoint: {os.fspath(path)!r} is not a readable training checkpoint ({exc})") from exc
    if ck.get("config") != asdict(run.config):
        raise ValueError(f"checkpoint: {os.fspath(path)!r} was written for a different configuration; use another "
                         f"path (or --out) or delete it to start afresh")
    return TrainState(step=ck["step"] + 1, d_params=ck["d_params"], g_params=ck["g_params"], opt_d=ck["sd"],
                      opt_g=ck["sg"], sn_u=ck["sn_u"] if run.use_sn else None, active=ck["active"],
                      diverged_step=ck["diverged_step"], rec_d=tuple(ck["rec_d"]), rec_g=tuple(ck["rec_g"]),
                      loss_d=ck["loss_d"], loss_g=ck["loss_g"], seconds=ck["seconds"])


def _checkpoint_every(config: TrainConfig, checkpoint_every) -> int:
    if checkpoint_every is None:
        return max(1, config.steps // 20)
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int) or checkpoint_every < 1:
        raise ValueError(f"checkpoint_every: must be an integer >= 1, got {checkpoint_every!r}")
    return checkpoint_every


# ---------------------------------------------------------------------------------------------------- training
def train(config: TrainConfig, callback=None, *, checkpoint=None, checkpoint_every: int | None = None) -> TrainResult:
    """Train the ``config.n_models`` GANs of ``config`` together and return their per-step metrics.

    Parameters
    ----------
    config : TrainConfig
    callback : callable, optional
        Called as ``callback(step, loss_d, loss_g, active)`` with (E,) tensors after every recorded step.
    checkpoint : path, optional
        File holding the complete training state (:class:`TrainState`: parameters, optimiser and spectral-norm
        states, frozen models, recorded curves; with the config and version).  Written atomically every
        ``checkpoint_every`` steps (default: every ~5 % of the run) and at the end; when it exists at the start (for
        the same config, else ``ValueError``) training resumes from it.  Randomness is counter-based per (seed,
        model, step), so a resumed run is bitwise identical to an uninterrupted one: nothing is lost or repeated.
    checkpoint_every : int, optional

    Returns
    -------
    TrainResult
        ``loss_d``/``loss_g`` of shape (E, S), ``diverged_step`` (E,), final parameters, config, version, git
        revision and wall time.
    """
    t0 = time.perf_counter()
    run = setup(config)
    every = _checkpoint_every(config, checkpoint_every)
    state = load_state(checkpoint, run) or init_state(run)
    seconds_before, rec_at = state.seconds, set(run.rec_steps)
    for step in range(state.step, config.steps):
        for k in range(config.n_critic):
            state = d_step(run, state, step, step * config.n_critic + k)
        if run.train_g:
            state = g_step(run, state, step)
        state = replace(state, step=step + 1, seconds=seconds_before + time.perf_counter() - t0)
        if step in rec_at:
            state = record(run, state)
            if callback is not None:
                callback(step, state.loss_d, state.loss_g, state.active)
        if checkpoint is not None and ((step + 1) % every == 0 or step == config.steps - 1):
            save_state(checkpoint, run, state)
    return _result(run, state, seconds_before + time.perf_counter() - t0)


def _result(run: Setup, state: TrainState, seconds: float) -> TrainResult:
    extra = {}
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
                       g_params=tuple(p.detach().cpu() for p in state.g_params),
                       d_params=tuple(p.detach().cpu() for p in state.d_params),
                       seconds=seconds, device=str(run.device), git=git_revision(), extra=extra)
