"""Conditional LS-GAN (CLS-GAN, Qi 2017; THEORY.md §7): E conditional GANs trained at once, semi-supervised.

Networks (batched MLPs of :mod:`lsgan_theory.ensemble.mlp`, leading model axis E):

* generator G(z, y): input ``[z, onehot(y)]`` of width ``noise_dim + K``, output a sample of width ``data_dim``;
* loss network a(x): input ``data_dim``, K outputs (activations).  Labelled loss
  L(x, y) = −log softmax_y(a(x)) (:func:`~lsgan_theory.losses.conditional_loss_values`); unlabelled "no known class"
  loss L^ul(x) = min_l −log(e^{a_l} / (1 + Σ_l' e^{a_l'})) (:func:`~lsgan_theory.losses.unlabelled_loss_values`).

Objectives (THEORY.md §7, with Δ = τ‖x − G(z, y)‖ (``margin_kind`` l1 or l2) over all batch pairs):

    S    = E_{(x,y)} L(x, y) + λ E (Δ(x, G(z, y)) + L(x, y) − L(G(z, y), y))_+     (a real is paired with the fakes
           generated for its own label: the fake labels of a D step are the real batch's labels)
    S^ul = E (Δ(x_ul, G(z, y)) + L^ul(x_ul) − L^ul(G(z, y)))_+                         (x_ul: unlabelled batch)
    loss network minimises  S + γ_ul S^ul;    generator minimises  T = E_{y, z} L(G(z, y), y),  y uniform on K.

λ = 0 is allowed here and means *no generator term* (S = E L(x, y)): with γ_ul = 0 that is the supervised baseline,
the same loss network trained on the labelled examples alone.  Per-model hyperparameters (a float for all models or a
tuple of ``n_models`` values): ``lam``, ``gamma_ul``, ``tau``, ``labelled_fraction``, ``labels_per_class``,
``label_split``, learning rates and Adam betas.

Data: one data set ``(x (N, d), y (N,))`` shared by all models; each model sees the labels of its own stratified
subset (``labels_per_class`` per class, or a ``labelled_fraction`` of each class, at least one), drawn from the stream
``(seed, label_split, "label_split")`` -- models with the same ``label_split`` see the same labels (so a CLS-GAN
model and its baseline can be compared on identical labels).  The rest of the data is the model's unlabelled pool.

The engine (docs/engine.md "CLS-GAN on the engine"): this module holds only what is conditional -- the config, the
data and labelled subsets, the networks and objectives, the batches of a step (:func:`conditional_advance`) -- and
trains on the engine's parts: the loop :func:`~lsgan_theory.ensemble.trainer.run_loop` (progress callback,
observers, checkpoint cadence, Ctrl-C held until the step ends), the update
:func:`~lsgan_theory.ensemble.trainer.update_network` (in-place fused Adam; a model whose objective, margins,
gradients or new parameters are not finite is frozen: it keeps its parameters and optimiser state from before that
update, its step is reported in ``diverged_step``, the other models are untouched), the state
:class:`~lsgan_theory.ensemble.trainer.TrainState` and its checkpoint (``save_state`` / ``load_state``, with the data
set's digest as the checkpoint's identity: a resumed run is bitwise identical to an uninterrupted one).

Randomness: every per-step draw (batch indices, noise, the generator's labels) is a step draw of
:mod:`lsgan_theory.ensemble.rng` (``step_normal``, ``step_randint``: a per-run ``torch.Generator`` reseeded per model
with the key of (seed, model id, stream, step)), so a model's draws do not depend on its pack; initialisation and
evaluation samples are keyed draws.  The local stream ids of :data:`STREAMS` are ≥ 100, disjoint from the
unconditional trainer's.

Reference: G.-J. Qi, "Loss-Sensitive Generative Adversarial Networks on Lipschitz Densities", IJCV 2019, §6
(CLS-GAN, semi-supervised form).
"""

from __future__ import annotations

import functools
import hashlib
import math
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from .. import __version__
from .. import losses as _losses
from ..provenance import git_revision
from . import mlp as _mlp
from . import optim as _optim
from . import rng as _rng
from . import trainer as _trainer
from .trainer import resolve_device

__all__ = ["ConditionalConfig", "ConditionalResult", "ConditionalData", "ConditionalSetup", "ConditionalObservation",
           "STREAMS", "PER_MODEL_CONDITIONAL", "train_conditional", "conditional_setup", "conditional_init_state",
           "conditional_advance", "prepare_data", "labelled_split", "generator_forward", "loss_network_forward",
           "loss_network_objective", "generator_objective", "fold_label", "check_networks"]

# Local stream ids (>= 100: never collide with lsgan_theory.ensemble.rng.STREAMS, which the trainer uses).
STREAMS = {"init_d": 101, "init_g": 102, "noise_d": 103, "noise_g": 104, "batch_lab": 105, "batch_ul": 106,
           "label_split": 107, "labels_g": 108, "sample": 109}

PER_MODEL_CONDITIONAL = ("lr_d", "lr_g", "beta1", "beta2", "lam", "gamma_ul", "tau", "labelled_fraction",
                         "labels_per_class", "label_split")


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


@dataclass(frozen=True)
class ConditionalConfig(_trainer._EnsembleConfig):
    """Everything that defines a CLS-GAN ensemble run (saved with results and checkpoints).

    Fields named in :data:`PER_MODEL_CONDITIONAL` take one value or a tuple of ``n_models`` values.
    ``lam`` λ >= 0 (0: no generator term), ``gamma_ul`` γ_ul >= 0 (weight of S^ul), ``tau`` τ > 0 (margin scale),
    ``labelled_fraction`` in (0, 1] (used where ``labels_per_class`` is 0), ``labels_per_class`` >= 0,
    ``label_split`` the key of the labelled subset (None: the model id).  ``batch`` labelled reals (and as many
    fakes) and ``batch_ul`` unlabelled reals per loss-network step.
    """

    n_classes: int
    data_dim: int
    n_models: int = 1
    model_ids: tuple[int, ...] | None = None
    seed: int = 0
    steps: int = 1000
    batch: int = 64
    batch_ul: int = 64
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
    lam: float | tuple[float, ...] = 1.0
    gamma_ul: float | tuple[float, ...] = 0.0
    tau: float | tuple[float, ...] = 1.0
    margin_kind: str = "l1"
    labelled_fraction: float | tuple[float, ...] = 1.0
    labels_per_class: int | tuple[int, ...] = 0
    label_split: int | tuple[int, ...] | None = None
    train_generator: bool = True
    record_every: int = 1
    dtype: str = "float32"
    device: str = "cpu"

    _PER_MODEL = PER_MODEL_CONDITIONAL  # (a class attribute, not a field)

    def __post_init__(self):
        for name in ("n_classes", "data_dim", "n_models", "steps", "batch", "batch_ul", "noise_dim", "n_critic",
                     "record_every"):
            v = getattr(self, name)
            if not _is_int(v) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")
        if self.n_classes < 2:
            raise ValueError(f"n_classes: a conditional loss network needs K >= 2 classes, got {self.n_classes!r}")
        if not _is_int(self.seed) or not 0 <= self.seed < 2**32:
            raise ValueError(f"seed: must be an integer in [0, 2**32), got {self.seed!r}")
        for name in ("g_hidden", "d_hidden"):
            v = tuple(getattr(self, name))
            if any(not _is_int(h) or h < 1 for h in v):
                raise ValueError(f"{name}: hidden widths must be integers >= 1, got {getattr(self, name)!r}")
            object.__setattr__(self, name, v)
        if self.model_ids is not None:
            ids = tuple(int(i) for i in self.model_ids)
            if len(ids) != self.n_models or len(set(ids)) != len(ids) or any(not 0 <= i < 2**31 for i in ids):
                raise ValueError(f"model_ids: need {self.n_models} distinct integers in [0, 2**31), got "
                                 f"{self.model_ids!r}")
            object.__setattr__(self, "model_ids", ids)
        self._broadcast_per_model()
        # the fields it shares with TrainConfig: the trainer's ranges (lsgan_theory.losses.check_hyperparameter)
        for name in ("lr_d", "lr_g", "beta1", "beta2", "tau"):
            tuple_ = isinstance(getattr(self, name), tuple)
            for e, v in enumerate(self.per_model(name)):
                _trainer._number(name, v, e if tuple_ else None, **_trainer._RANGES[name])
        for name in ("lam", "gamma_ul"):  # CLS-GAN's own weights: 0 allowed (lam 0: no generator term)
            for v in self.per_model(name):
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                    raise ValueError(f"{name}: every value must be a finite number >= 0, got {v!r}")
        for v in self.per_model("labelled_fraction"):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 < v <= 1):
                raise ValueError(f"labelled_fraction: every value must lie in (0, 1], got {v!r}")
        for v in self.per_model("labels_per_class"):
            if not _is_int(v) or v < 0:
                raise ValueError(f"labels_per_class: every value must be an integer >= 0 (0: use labelled_fraction), "
                                 f"got {v!r}")
        for v in self.per_model("label_split"):
            if v is not None and (not _is_int(v) or not 0 <= v < 2**31):
                raise ValueError(f"label_split: every value must be None or an integer in [0, 2**31), got {v!r}")
        if self.margin_kind not in ("l1", "l2"):
            raise ValueError(f"margin_kind: must be 'l1' or 'l2', got {self.margin_kind!r}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype: must be 'float32' or 'float64', got {self.dtype!r}")
        if self.activation not in _mlp.ACTIVATIONS:
            raise ValueError(f"activation: must be one of {sorted(_mlp.ACTIVATIONS)}, got {self.activation!r}")
        if self.optimizer not in ("adam", "rmsprop", "sgd"):
            raise ValueError(f"optimizer: must be one of 'adam', 'rmsprop', 'sgd', got {self.optimizer!r}")
        # refuse what cannot fit before allocating: the (E, B, B) margin blocks dominate
        n_bytes = 8 * self.n_models * self.batch * (self.batch + self.batch_ul) * 4
        if n_bytes > 2**34:
            raise ValueError(f"batch: n_models × batch × (batch + batch_ul) margin entries need ~{n_bytes / 2**30:.0f} "
                             f"GiB; use fewer models or smaller batches")

    def splits(self) -> tuple[int, ...]:
        """The labelled-subset key of each model (``label_split``, default its model id)."""
        return tuple(i if s is None else int(s) for i, s in zip(self.ids(), self.per_model("label_split")))

    def g_spec(self) -> _mlp.MLPSpec:
        return _mlp.MLPSpec((self.noise_dim + self.n_classes, *self.g_hidden, self.data_dim), self.activation)

    def d_spec(self) -> _mlp.MLPSpec:
        return _mlp.MLPSpec((self.data_dim, *self.d_hidden, self.n_classes), self.activation)

    def select(self, models) -> "ConditionalConfig":
        """The sub-ensemble of the given model positions, with the same streams and labelled subsets."""
        models = list(models)
        kw = self._selected_fields(models)
        kw["label_split"] = tuple(self.splits()[i] for i in models)
        return ConditionalConfig(**kw)


# ---------------------------------------------------------------------------------------------------- data
@dataclass(frozen=True)
class ConditionalData:
    """A validated labelled data set: ``x`` (N, d) float64, ``y`` (N,) int64 in [0, K); ``digest`` identifies it."""

    x: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    n_classes: int
    digest: str


def prepare_data(x, y, n_classes: int) -> ConditionalData:
    """Check a labelled data set: x finite of shape (N, d), y integer labels in [0, n_classes) with every class present.

    Raises ``ValueError`` naming ``x``, ``y`` or ``n_classes`` (labels outside the class range included).
    """
    if not _is_int(n_classes) or n_classes < 2:
        raise ValueError(f"n_classes: must be an integer >= 2, got {n_classes!r}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"x: expected samples of shape (N, d) with N >= 1, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x: every sample must be finite (found NaN or inf)")
    y_raw = np.asarray(y)
    if y_raw.ndim != 1 or y_raw.shape[0] != x.shape[0]:
        raise ValueError(f"y: expected one label per sample, shape ({x.shape[0]},), got shape {y_raw.shape}")
    if not (np.issubdtype(y_raw.dtype, np.integer) or (np.issubdtype(y_raw.dtype, np.floating)
                                                       and np.all(y_raw == np.round(y_raw)))):
        raise TypeError(f"y: labels must be integers, got dtype {y_raw.dtype}")
    y = y_raw.astype(np.int64)
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"y: labels must lie in [0, {n_classes - 1}] (n_classes = {n_classes}), got values in "
                         f"[{int(y.min())}, {int(y.max())}]")
    missing = sorted(set(range(n_classes)) - set(np.unique(y).tolist()))
    if missing:
        raise ValueError(f"y: every class needs at least one example; classes {missing} are absent "
                         f"(n_classes = {n_classes})")
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(x).tobytes())
    h.update(y.tobytes())
    h.update(str(x.shape).encode())
    return ConditionalData(x, y, int(n_classes), h.hexdigest()[:16])


def labelled_split(y: np.ndarray, n_classes: int, *, seed: int, split: int, labels_per_class: int = 0,
                   labelled_fraction: float = 1.0) -> np.ndarray:
    """The labelled subset of one model: a bool mask (N,), stratified by class.

    Per class c with n_c examples: ``min(labels_per_class, n_c)`` examples if ``labels_per_class`` > 0, else
    ``max(1, round(labelled_fraction · n_c))``, the first ones of a permutation drawn with numpy's generator keyed by
    ``(seed, split, STREAMS['label_split'], c)``.  The same ``split`` gives the same subset.
    """
    if not (isinstance(labelled_fraction, (int, float)) and not isinstance(labelled_fraction, bool)
            and 0 < labelled_fraction <= 1):
        raise ValueError(f"labelled_fraction: must lie in (0, 1], got {labelled_fraction!r}")
    if not _is_int(labels_per_class) or labels_per_class < 0:
        raise ValueError(f"labels_per_class: must be an integer >= 0, got {labels_per_class!r}")
    y = np.asarray(y)
    mask = np.zeros(y.shape[0], dtype=bool)
    for c in range(n_classes):
        idx = np.flatnonzero(y == c)
        rng = np.random.default_rng([int(seed), int(split), STREAMS["label_split"], c])
        k = min(labels_per_class, idx.size) if labels_per_class > 0 else max(1, round(labelled_fraction * idx.size))
        mask[rng.permutation(idx)[:k]] = True
    return mask


# ---------------------------------------------------------------------------------------------------- networks
def check_networks(d_params=None, g_params=None, *, n_classes: int, noise_dim: int | None = None,
                   data_dim: int | None = None) -> None:
    """Raise ``ValueError`` when the networks do not match the class count (K outputs; noise_dim + K inputs)."""
    if d_params is not None:
        k_out = int(d_params[-2].shape[-1])
        if k_out != n_classes:
            raise ValueError(f"n_classes: the loss network has {k_out} outputs (one per class) but n_classes = "
                             f"{n_classes}")
        if data_dim is not None and int(d_params[0].shape[-2]) != data_dim:
            raise ValueError(f"data_dim: the loss network takes inputs of width {int(d_params[0].shape[-2])}, "
                             f"got data_dim = {data_dim}")
    if g_params is not None and noise_dim is not None:
        k_in = int(g_params[0].shape[-2])
        if k_in != noise_dim + n_classes:
            raise ValueError(f"n_classes: the generator takes {k_in} inputs but noise_dim + n_classes = "
                             f"{noise_dim} + {n_classes}")


def generator_forward(g_params, z: torch.Tensor, y: torch.Tensor, n_classes: int, activation: str = "relu"
                      ) -> torch.Tensor:
    """G(z, y) for E generators: ``z`` (E, B, noise_dim), ``y`` (E, B) int64 → samples (E, B, data_dim).

    The one-hot label is concatenated to the noise: input ``[z, onehot_K(y)]``.
    """
    onehot = torch.nn.functional.one_hot(y, n_classes).to(z.dtype)
    return _mlp.mlp_forward(g_params, torch.cat([z, onehot], -1), activation)


def loss_network_forward(d_params, x: torch.Tensor, activation: str = "relu") -> torch.Tensor:
    """Activations a(x) of E loss networks: ``x`` (E, B, d) → (E, B, K)."""
    return _mlp.mlp_forward(d_params, x, activation)


def fold_label(g_params, noise_dim: int, label: int) -> tuple[torch.Tensor, ...]:
    """The parameters of z ↦ G(z, y = label) as an unconditional MLP of input width ``noise_dim``.

    The one-hot input contributes the row ``W_0[noise_dim + label]`` to the first layer's pre-activation, a constant:
    ``b_0' = b_0 + W_0[:, noise_dim + label]``, ``W_0' = W_0[:, :noise_dim]``; the other layers are unchanged.  With
    1-D noise and data, :func:`lsgan_theory.ensemble.pushforward.exact_density` gives q̂(x | y) exactly.
    """
    W0, b0 = g_params[0], g_params[1]
    k = int(W0.shape[-2]) - noise_dim
    if not _is_int(label) or not 0 <= label < k:
        raise ValueError(f"label: must be an integer in [0, {k - 1}] for a generator with {k} label inputs, got "
                         f"{label!r}")
    row = W0[..., noise_dim + label:noise_dim + label + 1, :]
    return (W0[..., :noise_dim, :].contiguous(), (b0 + row).contiguous(), *g_params[2:])


# ---------------------------------------------------------------------------------------------------- objectives
def loss_network_objective(d_params, x_lab, y_lab, x_ul, fake, y_fake, hyper: dict, *, activation: str = "relu",
                           margin_kind: str = "l1") -> tuple[torch.Tensor, dict]:
    """The loss network's objective S + γ_ul S^ul per model, (E,), and its parts.

    Parameters
    ----------
    d_params : loss-network parameters (K outputs)
    x_lab : (E, B, d) labelled reals;  y_lab : (E, B) int64 their labels
    x_ul : (E, B_ul, d) unlabelled reals (labels never read)
    fake : (E, B, d) generated samples G(z, y_fake) (treated as constants);  y_fake : (E, B) int64
    hyper : dict of (E,) tensors ``lam`` (>= 0; 0: no generator term), ``gamma_ul`` (>= 0), ``tau`` (> 0),
        ``has_ul`` (bool: the model has an unlabelled pool)

    Returns
    -------
    total : (E,)
    parts : dict with ``S`` (E,) and ``S_ul`` (E,) (zero where unused), ``finite`` (E,) bool (margins finite)

    The labelled reals enter only S, the unlabelled reals only S^ul (``tests/test_clsgan.py`` checks it by
    gradients).  A real is paired with the fakes of its own label (:func:`lsgan_theory.losses.cls_gan_objective`,
    ``pairing="all"``).
    """
    lam, gamma_ul, tau = hyper["lam"], hyper["gamma_ul"], hyper["tau"]
    E = x_lab.shape[0]
    a_lab = loss_network_forward(d_params, x_lab, activation)
    L_real = _losses.conditional_loss_values(a_lab, y_lab)
    finite = torch.ones(E, dtype=torch.bool, device=x_lab.device)
    use_hinge = bool((lam > 0).any())
    use_ul = bool(((gamma_ul > 0) & hyper["has_ul"]).any())
    a_fake = loss_network_forward(d_params, fake, activation) if (use_hinge or use_ul) else None

    def margins(x):
        m = _losses.margin_matrix(x, fake, margin_kind=margin_kind, tau=tau)
        ok = torch.isfinite(m).reshape(E, -1).all(1)
        # a diverging model's margins may be inf/NaN: zero them (the model is frozen through ``finite``)
        return torch.where(torch.isfinite(m), m, torch.zeros_like(m)), ok

    S = L_real.mean(-1)
    if use_hinge:
        margin, ok = margins(x_lab)
        finite &= ok
        L_fake = _losses.conditional_loss_values(a_fake, y_fake)
        lam_pos = torch.where(lam > 0, lam, torch.ones_like(lam))
        S_full = _losses.cls_gan_objective(L_real, L_fake, margin, lam_pos, labels_real=y_lab, labels_fake=y_fake)
        S = torch.where(lam > 0, S_full, S)
    S_ul = torch.zeros_like(S)
    if use_ul:
        a_ul = loss_network_forward(d_params, x_ul, activation)
        margin_ul, ok = margins(x_ul)
        finite &= ok
        S_ul = _losses.cls_gan_unlabelled_objective(_losses.unlabelled_loss_values(a_ul),
                                                    _losses.unlabelled_loss_values(a_fake), margin_ul)
        S_ul = torch.where(hyper["has_ul"], S_ul, torch.zeros_like(S_ul))
    return S + gamma_ul * S_ul, {"S": S, "S_ul": S_ul, "finite": finite}


def generator_objective(g_params, d_params, z, y, n_classes: int, *, activation: str = "relu") -> torch.Tensor:
    """T = E_{y, z} L(G(z, y), y) per model, (E,) (:func:`lsgan_theory.losses.loss_sensitive_generator_loss`)."""
    fake = generator_forward(g_params, z, y, n_classes, activation)
    a = loss_network_forward(d_params, fake, activation)
    return _losses.loss_sensitive_generator_loss(_losses.conditional_loss_values(a, y))



# ---------------------------------------------------------------------------------------------------- result
@dataclass
class ConditionalResult:
    """Per-step objectives, final networks, each model's labelled mask and the provenance of a CLS-GAN run.

    ``loss_d`` (S + γ_ul S^ul) and ``loss_g`` (T): float64 (E, S) at ``steps``, NaN once a model is frozen;
    ``diverged_step`` (E,) int, −1 if never; ``labelled`` (E, N) bool; parameters are CPU tensors.
    """

    config: ConditionalConfig
    steps: np.ndarray
    loss_d: np.ndarray
    loss_g: np.ndarray
    diverged_step: np.ndarray
    g_params: tuple
    d_params: tuple
    labelled: np.ndarray
    data_digest: str
    seconds: float
    device: str
    version: str = __version__
    git: str = "unknown"
    observed: tuple = ()  # ((step, record), ...): what train_conditional's observer returned, in step order

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_step >= 0

    def activations(self, x) -> np.ndarray:
        """a(x) of every model: ``x`` (N, d) (shared) or (E, N, d) → (E, N, K) float64."""
        cfg = self.config
        check_networks(self.d_params, n_classes=cfg.n_classes)
        xt = torch.as_tensor(np.asarray(x, dtype=np.float64), dtype=self.d_params[0].dtype)
        if xt.ndim == 1:
            xt = xt[:, None]
        if xt.ndim == 2:
            xt = xt.expand(cfg.n_models, *xt.shape)
        if xt.shape[-1] != cfg.data_dim:
            raise ValueError(f"x: samples of width {cfg.data_dim} expected, got shape {tuple(xt.shape)}")
        with torch.no_grad():
            return loss_network_forward(self.d_params, xt.contiguous(), cfg.activation).double().numpy()

    def classify(self, x) -> np.ndarray:
        """y*(x) = argmin_y L(x, y) = argmax_y a_y(x) per model, (E, N) int64."""
        return self.activations(x).argmax(-1)

    def sample(self, n_per_class: int, stream: int = STREAMS["sample"]) -> np.ndarray:
        """``n_per_class`` generated samples of every class and model, (E, K, n, d) float64 (a stream unused in
        training)."""
        cfg = self.config
        if not _is_int(n_per_class) or n_per_class < 1:
            raise ValueError(f"n_per_class: must be an integer >= 1, got {n_per_class!r}")
        ids = torch.tensor(cfg.ids(), dtype=torch.int64)
        K, n = cfg.n_classes, n_per_class
        z = _rng.normal(cfg.seed, ids, stream, 0, (K * n, cfg.noise_dim), dtype=torch.float64)
        y = torch.arange(K).repeat_interleave(n).expand(cfg.n_models, K * n)
        params = tuple(p.double() for p in self.g_params)
        with torch.no_grad():
            out = generator_forward(params, z, y, K, cfg.activation)
        return out.reshape(cfg.n_models, K, n, cfg.data_dim).numpy()

    def class_generator(self, label: int) -> tuple:
        """:func:`fold_label` of the final generators: the parameters of z ↦ G(z, label)."""
        return fold_label(self.g_params, self.config.noise_dim, label)

    def meta(self) -> dict:
        return {"config": asdict(self.config), "data_digest": self.data_digest, "version": self.version,
                "git": self.git, "device": self.device, "seconds": self.seconds}


# ---------------------------------------------------------------------------------------------------- the run
@dataclass
class ConditionalSetup:
    """What stays fixed during a CLS-GAN run (the conditional counterpart of the engine's
    :class:`~lsgan_theory.ensemble.trainer.Setup`): the config resolved on its device, the checked data, each model's
    labelled and unlabelled index tables, the hyperparameter tensors, the optimisers and the step draws' generator.

    It has what the engine's update (:func:`~lsgan_theory.ensemble.trainer.update_network`), recording
    (:func:`~lsgan_theory.ensemble.trainer.record`) and checkpoints (``save_state`` / ``load_state``) read: ``E``,
    ``dtype``, ``device``, ``opt_d``/``opt_g``, ``use_clip``, ``use_sn``, ``scratch``, ``rec_steps``.
    """

    config: ConditionalConfig
    data: ConditionalData
    device: torch.device
    dtype: torch.dtype
    ids: torch.Tensor  # (E,) int64 stream ids
    masks: np.ndarray  # (E, N) bool: each model's labelled subset
    lab_tab: torch.Tensor  # (E, max labelled) indices of each model's labelled examples (padded with 0)
    ul_tab: torch.Tensor  # (E, max unlabelled) indices of its unlabelled pool (padded with 0)
    lab_highs: list  # each model's labelled count (the batch indices' range)
    ul_highs: list  # each model's unlabelled count, at least 1 (a model without a pool draws a batch it never uses)
    x_all: torch.Tensor
    y_all: torch.Tensor
    hyper: dict  # (E,) tensors lam, gamma_ul, tau, has_ul (loss_network_objective's ``hyper``)
    opt_d: _optim.Optimizer
    opt_g: _optim.Optimizer
    rec_steps: list
    gen: torch.Generator  # the generator that the step draws reseed per model (rng.step_normal)
    scratch: dict = field(default_factory=dict)
    use_clip = False  # no weight clipping and no spectral normalisation in the CLS-GAN networks
    use_sn = False

    @property
    def E(self) -> int:
        return self.config.n_models

    @functools.cached_property
    def id_list(self) -> list[int]:
        return self.ids.tolist()

    @functools.cached_property
    def rec_at(self) -> frozenset:
        return frozenset(self.rec_steps)


def _index_table(masks: np.ndarray, device) -> tuple[torch.Tensor, list[int]]:
    """Per model the indices where ``masks[e]`` is True, padded with 0: (E, max count), and the counts."""
    counts = masks.sum(1)
    table = np.zeros((masks.shape[0], max(1, int(counts.max()))), dtype=np.int64)
    for e, m in enumerate(masks):
        idx = np.flatnonzero(m)
        table[e, :idx.size] = idx
    return torch.tensor(table, device=device), [int(c) for c in counts]


def _check_data(config: ConditionalConfig, data) -> ConditionalData:
    if not isinstance(data, ConditionalData):
        data = prepare_data(*data, n_classes=config.n_classes)
    if data.n_classes != config.n_classes:
        raise ValueError(f"n_classes: the data set was prepared for {data.n_classes} classes, the config has "
                         f"{config.n_classes}")
    if data.x.shape[1] != config.data_dim:
        raise ValueError(f"data_dim: the config says {config.data_dim}, the data have width {data.x.shape[1]}")
    return data


def conditional_setup(config: ConditionalConfig, data) -> ConditionalSetup:
    """Resolve ``config`` on its device for ``data`` (a :class:`ConditionalData` or ``(x, y)``): the labelled
    subsets and index tables, hyperparameter tensors and optimisers."""
    data = _check_data(config, data)
    device = resolve_device(config.device)
    dtype = torch.float32 if config.dtype == "float32" else torch.float64
    masks = np.stack([labelled_split(data.y, config.n_classes, seed=config.seed, split=s, labels_per_class=int(lpc),
                                     labelled_fraction=float(f))
                      for s, lpc, f in zip(config.splits(), config.per_model("labels_per_class"),
                                           config.per_model("labelled_fraction"))])
    lab_tab, lab_n = _index_table(masks, device)
    ul_tab, ul_n = _index_table(~masks, device)

    def hyp(name):
        return torch.tensor([float(v) for v in config.per_model(name)], dtype=dtype, device=device)

    hyper = {"lam": hyp("lam"), "gamma_ul": hyp("gamma_ul"), "tau": hyp("tau"),
             "has_ul": torch.tensor([n > 0 for n in ul_n], dtype=torch.bool, device=device)}
    rec_steps = list(range(config.record_every - 1, config.steps, config.record_every))
    if rec_steps[-1:] != [config.steps - 1]:
        rec_steps.append(config.steps - 1)
    return ConditionalSetup(
        config=config, data=data, device=device, dtype=dtype,
        ids=torch.tensor(config.ids(), dtype=torch.int64, device=device), masks=masks, lab_tab=lab_tab,
        ul_tab=ul_tab, lab_highs=lab_n, ul_highs=[max(1, n) for n in ul_n],
        x_all=torch.tensor(data.x, dtype=dtype, device=device),
        y_all=torch.tensor(data.y, dtype=torch.int64, device=device), hyper=hyper,
        opt_d=_optim.by_name(config.optimizer, hyp("lr_d"), hyp("beta1"), hyp("beta2")),
        opt_g=_optim.by_name(config.optimizer, hyp("lr_g"), hyp("beta1"), hyp("beta2")),
        rec_steps=rec_steps, gen=torch.Generator(device=device))


def conditional_init_state(run: ConditionalSetup) -> _trainer.TrainState:
    """Step 0: both networks initialised from each model's own keyed streams, fresh optimiser states, every model
    active (an engine :class:`~lsgan_theory.ensemble.trainer.TrainState`)."""
    c = run.config
    g_params = _mlp.init_mlp(c.g_spec(), c.seed, run.ids, STREAMS["init_g"], dtype=run.dtype, device=run.device)
    d_params = _mlp.init_mlp(c.d_spec(), c.seed, run.ids, STREAMS["init_d"], dtype=run.dtype, device=run.device)
    return _trainer.TrainState(step=0, d_params=d_params, g_params=g_params, opt_d=run.opt_d.init(d_params),
                               opt_g=run.opt_g.init(g_params), sn_u=None,
                               active=torch.ones(run.E, dtype=torch.bool, device=run.device),
                               diverged_step=torch.full((run.E,), -1, dtype=torch.int64, device=run.device))


# ---------------------------------------------------------------------------------------------------- one step
def _draw(run: ConditionalSetup, table, highs, stream: str, t: int, n: int):
    """n examples per model from its own index table (labelled or unlabelled): step draws of ``stream`` at key t."""
    c = run.config
    pos = _rng.step_randint(c.seed, run.id_list, STREAMS[stream], t, (n,), highs, device=run.device,
                            generator=run.gen)
    idx = torch.gather(table, 1, pos)
    return run.x_all[idx], run.y_all[idx]


def _noise(run: ConditionalSetup, stream: str, t: int) -> torch.Tensor:
    c = run.config
    return _rng.step_normal(c.seed, run.id_list, STREAMS[stream], t, (c.batch, c.noise_dim), dtype=run.dtype,
                            device=run.device, generator=run.gen)


def _loss_network_update(run: ConditionalSetup, state, step: int, t: int):
    """Update t (= step·n_critic + k) of every loss network: B labelled reals with their labels, B fakes G(z, y) for
    the same labels, B_ul unlabelled reals (their labels never read); S + γ_ul S^ul and the engine's update (a model
    whose margins are not finite is frozen as one whose objective is not)."""
    c = run.config
    x_lab, y_lab = _draw(run, run.lab_tab, run.lab_highs, "batch_lab", t, c.batch)
    x_ul, _ = _draw(run, run.ul_tab, run.ul_highs, "batch_ul", t, c.batch_ul)
    with torch.no_grad():
        fake = generator_forward(state.g_params, _noise(run, "noise_d", t), y_lab, c.n_classes, c.activation)
    dp = tuple(p.detach().requires_grad_(True) for p in state.d_params)
    total, parts = loss_network_objective(dp, x_lab, y_lab, x_ul, fake, y_lab, run.hyper, activation=c.activation,
                                          margin_kind=c.margin_kind)
    grads = torch.autograd.grad(total.sum(), dp)
    objective = torch.where(parts["finite"], total.detach(), torch.full_like(total.detach(), math.nan))
    return replace(_trainer.update_network(run, state, "d", objective, grads, step), loss_d=total.detach())


def _generator_update(run: ConditionalSetup, state, step: int):
    """One update of every generator against its fixed loss network: T = E L(G(z, y), y), y uniform on K."""
    c = run.config
    z = _noise(run, "noise_g", step)
    y = _rng.step_randint(c.seed, run.id_list, STREAMS["labels_g"], step, (c.batch,), [c.n_classes] * run.E,
                          device=run.device, generator=run.gen)
    gp = tuple(p.detach().requires_grad_(True) for p in state.g_params)
    loss = generator_objective(gp, tuple(p.detach() for p in state.d_params), z, y, c.n_classes,
                               activation=c.activation)
    grads = torch.autograd.grad(loss.sum(), gp)
    return replace(_trainer.update_network(run, state, "g", loss.detach(), grads, step), loss_g=loss.detach())


def conditional_advance(run: ConditionalSetup, state, step: int):
    """Step ``step`` of a CLS-GAN run (the ``advance`` of :func:`~lsgan_theory.ensemble.trainer.run_loop`):
    ``n_critic`` loss-network updates, one generator update (unless ``train_generator`` is False), and the recorded
    losses when ``step`` is a recorded step."""
    c = run.config
    for k in range(c.n_critic):
        state = _loss_network_update(run, state, step, step * c.n_critic + k)
    if c.train_generator:
        state = _generator_update(run, state, step)
    return _trainer.record(run, state) if step in run.rec_at else state


# ---------------------------------------------------------------------------------------------------- observers
@dataclass(frozen=True)
class ConditionalObservation(_trainer._ObservedState):
    """What an observer of :func:`train_conditional` sees after ``step`` completed steps (0: before the first):
    ``run`` (:class:`ConditionalSetup`) and ``state`` (the engine's ``TrainState``: parameters, optimiser states,
    ``active``, ``diverged_step``, the last losses).  Read-only by contract: the parameters are updated in place by
    the next step, so keep copies, not references (as :class:`lsgan_theory.ensemble.trainer.Observation`)."""

    step: int
    run: ConditionalSetup
    state: object

    def generate(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """G(z, y) of every model (E, N, data_dim) for z (E, N, noise_dim) and labels y (E, N), no gradient."""
        c = self.run.config
        with torch.no_grad():
            return generator_forward(self.state.g_params, z.to(device=self.run.device, dtype=self.run.dtype),
                                     y.to(self.run.device), c.n_classes, c.activation)

    def activations(self, x: torch.Tensor) -> torch.Tensor:
        """a(x) of every loss network (E, N, K) for x (E, N, data_dim), no gradient."""
        with torch.no_grad():
            return loss_network_forward(self.state.d_params, x.to(device=self.run.device, dtype=self.run.dtype),
                                        self.run.config.activation)


def _observer(observe, run: ConditionalSetup):
    """``observe(obs)`` as :func:`~lsgan_theory.ensemble.trainer.run_loop`'s ``observe(state, n) -> state``: the
    record is checked as the engine checks :func:`~lsgan_theory.ensemble.trainer.train`'s and stored in the state."""
    if observe is None:
        return None
    return lambda state, n: _trainer._observed(observe, run, state, n, ConditionalObservation)


# ---------------------------------------------------------------------------------------------------- training
def _result(run: ConditionalSetup, state, seconds: float) -> ConditionalResult:
    """The result of the completed steps; rows of recorded steps not yet run (``stop_after``) are NaN."""
    c, S = run.config, len(run.rec_steps)
    rows_d = np.full((S, run.E), math.nan)
    rows_g = np.full((S, run.E), math.nan)
    if state.rec_d:
        rows_d[:len(state.rec_d)] = torch.stack(state.rec_d).cpu().numpy()
        rows_g[:len(state.rec_g)] = torch.stack(state.rec_g).cpu().numpy()
    if run.device.type == "cuda":
        torch.cuda.synchronize(run.device)
    return ConditionalResult(config=c, steps=np.array(run.rec_steps), loss_d=rows_d.T, loss_g=rows_g.T,
                             diverged_step=state.diverged_step.cpu().numpy(),
                             g_params=tuple(p.detach().to("cpu", copy=True) for p in state.g_params),
                             d_params=tuple(p.detach().to("cpu", copy=True) for p in state.d_params),
                             labelled=run.masks, data_digest=run.data.digest, seconds=seconds, device=str(run.device),
                             git=git_revision(), observed=state.observed)


def train_conditional(config: ConditionalConfig, data: ConditionalData | tuple, *, checkpoint=None,
                      checkpoint_every: int | None = None, callback=None, stop_after: int | None = None,
                      observe=None, observe_at=None) -> ConditionalResult:
    """Train the ``config.n_models`` CLS-GANs of ``config`` on ``data`` (a :class:`ConditionalData` or ``(x, y)``).

    Runs on the engine (docs/engine.md "CLS-GAN on the engine"): the loop is
    :func:`~lsgan_theory.ensemble.trainer.run_loop` with :func:`conditional_advance` as its step (per step
    ``n_critic`` loss-network updates, then one generator update unless ``train_generator`` is False); every update
    ends in the engine's :func:`~lsgan_theory.ensemble.trainer.update_network` (in-place fused Adam, freezing of
    diverged models: ``diverged_step``, NaN losses from then on, the other models untouched); every per-step draw is
    a step draw (:func:`lsgan_theory.ensemble.rng.step_normal`, ``step_randint``) keyed by (seed, model id, stream,
    step), so a model's draws do not depend on its pack.

    ``checkpoint``: a file path (the engine's checkpoint, :func:`~lsgan_theory.ensemble.trainer.save_state`, with
    the data set's digest as its identity); written atomically every ``checkpoint_every`` steps (default ~5 % of the
    run) and at the end; if it exists at the start (same config and data, else ``ValueError``) training resumes from
    it, bitwise identical to an uninterrupted run.  Ctrl-C (or a ``KeyboardInterrupt`` raised by ``callback`` or
    ``observe``) finishes the step under way, writes the completed steps and re-raises.
    ``callback(step, loss_d, loss_g, active)``: after every recorded step, (E,) tensors.
    ``observe(obs) -> dict | None`` with a :class:`ConditionalObservation`, at the completed-step counts
    ``observe_at`` (default: after every recorded step); its records are checkpointed and returned in
    :attr:`ConditionalResult.observed` as ``(step, record)`` (the protocol of :func:`lsgan_theory.ensemble.train`).
    ``stop_after``: stop after this many steps (with a checkpoint written), to test resumption.
    """
    t0 = time.perf_counter()
    every = _trainer._checkpoint_every(config, checkpoint_every)
    if stop_after is not None and (not _is_int(stop_after) or stop_after < 1):
        raise ValueError(f"stop_after: must be an integer >= 1, got {stop_after!r}")
    if checkpoint is not None:
        _trainer.prepare_checkpoint(checkpoint)
    run = conditional_setup(config, data)
    obs_at = _trainer._observe_steps(config, run, observe, observe_at)
    identity = {"data set": run.data.digest}
    state = _trainer.load_state(checkpoint, run, identity=identity) or conditional_init_state(run)
    seconds_before = state.seconds
    last = config.steps if stop_after is None else min(config.steps, state.step + stop_after)
    state = _trainer.run_loop(
        state, last, functools.partial(conditional_advance, run), t0=t0, rec_at=run.rec_at,
        callback=callback, observe=_observer(observe, run), observe_at=obs_at, every=every,
        save=None if checkpoint is None else (lambda st: _trainer.save_state(checkpoint, run, st, identity=identity)))
    return _result(run, state, seconds_before + time.perf_counter() - t0)
