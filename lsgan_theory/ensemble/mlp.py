"""Batched multilayer perceptrons: E independent MLPs stored as stacked weights with a leading model axis.

Parameters are a tuple ``(W_0, b_0, W_1, b_1, ...)`` with ``W_l`` of shape ``(E, d_l, d_{l+1})`` and ``b_l`` of shape
``(E, 1, d_{l+1})``.  The forward pass on inputs ``x`` of shape ``(E, B, d_0)`` is

    h_0 = x,   h_{l+1} = act(h_l W_l + b_l)  (``torch.baddbmm``),   output h_L (no activation on the last layer),

so model e only ever touches ``W_l[e]``, ``b_l[e]`` and ``x[e]``: models are independent by construction.
(``benchmarks/ensemble.py`` measures this against ``torch.func.vmap`` over a single-model forward.)

Per-model options (docs/design.md, THEORY.md §4): weight clipping (:func:`clip_weights`), spectral normalisation
(:func:`spectral_normalize`, Miyato et al. 2018, one power iteration per call as in ``torch.nn.utils.spectral_norm``),
and the gradient penalty (``lsgan_theory.ensemble.trainer``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from . import rng as _rng

__all__ = ["MLPSpec", "init_mlp", "mlp_forward", "batched_matmul", "clip_weights", "spectral_normalize", "init_spectral_state",
           "NetSpec", "init_net", "net_forward", "init_bn_state", "update_bn_state", "pack_rows", "BN_EPS", "BN_MOMENTUM", "INITS", "orthogonal",
           "ACTIVATIONS"]

ACTIVATIONS = {
    "relu": torch.relu,
    "leaky_relu": lambda h: torch.nn.functional.leaky_relu(h, 0.2),
    "tanh": torch.tanh,
    "elu": torch.nn.functional.elu,
    "softplus": torch.nn.functional.softplus,
}


@dataclass(frozen=True)
class MLPSpec:
    """Layer widths ``sizes = (d_in, hidden..., d_out)`` and the hidden activation name."""

    sizes: tuple[int, ...]
    activation: str = "relu"

    def __post_init__(self):
        sizes = tuple(self.sizes)
        if len(sizes) < 2 or any((not isinstance(s, int)) or isinstance(s, bool) or s < 1 for s in sizes):
            raise ValueError(f"sizes: need >= 2 positive integer layer widths (input, ..., output), got {self.sizes!r}")
        object.__setattr__(self, "sizes", sizes)
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation: must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    def n_params(self) -> int:
        """Parameters per model: Σ_l (d_l + 1) d_{l+1}."""
        return sum((a + 1) * b for a, b in zip(self.sizes[:-1], self.sizes[1:]))

    def flops_per_sample(self) -> int:
        """Multiply-adds ×2 of one forward pass for one input row: 2 Σ_l d_l d_{l+1}."""
        return 2 * sum(a * b for a, b in zip(self.sizes[:-1], self.sizes[1:]))


def init_mlp(spec: MLPSpec, seed: int, model_ids: torch.Tensor, stream: int, *, dtype=torch.float32,
             device=None) -> tuple[torch.Tensor, ...]:
    """Initialise E MLPs like ``torch.nn.Linear``: W, b ~ U(-1/√d_in, 1/√d_in), each model from its own stream.

    Parameters
    ----------
    spec : MLPSpec
    seed : int
    model_ids : int64 tensor (E,)
        The stream of model e is ``(seed, model_ids[e], stream, layer)``: a model's initial weights do not depend
        on E or on the other models.
    stream : int
        Stream id (``rng.STREAMS['init_d']`` or ``['init_g']``).

    Returns
    -------
    tuple of tensors ``(W_0, b_0, ...)``, shapes ``(E, d_l, d_{l+1})`` and ``(E, 1, d_{l+1})``.
    """
    ids = model_ids.to(device)
    params = []
    for l, (a, b) in enumerate(zip(spec.sizes[:-1], spec.sizes[1:])):
        bound = 1.0 / math.sqrt(a)
        u = _rng.uniform(seed, ids, stream, l, (a + 1, b), dtype=torch.float64)
        wb = ((2.0 * u - 1.0) * bound).to(dtype)
        params += [wb[:, :a, :].contiguous(), wb[:, a:, :].contiguous()]
    return tuple(params)

# in-place versions on the fresh output of baddbmm: one read-write pass instead of a read plus a fresh allocation,
# which on the CPU is most of the cost of the activation for large ensembles (memory-bound, not cache-resident)
_INPLACE = {
    "relu": torch.relu_,
    "leaky_relu": lambda h: torch.nn.functional.leaky_relu_(h, 0.2),
}


def batched_matmul(a: torch.Tensor, b: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``bias + a @ b`` per model for stacked ``a`` (E, n, k), ``b`` (E, k, p) (``torch.baddbmm`` / ``torch.bmm``),
    rounded the same way for every E.

    On the CPU (torch 2.13, MKL) a batch of ONE matrix product with a single output column or a contraction of
    length one (a matrix-vector product, e.g. the last layer of a discriminator, or its input gradient in 1-D) takes
    another kernel than a batch of two or more, with another summation order: a model trained alone then differs
    from the same model inside an ensemble by a rounding error at the first step, which training amplifies (issue
    13, item 8).  Such products are computed for E = 1 as a batch of two (the model and a copy; the copy's cost is
    one vector product), so that a model's arithmetic does not depend on E.  Products of E >= 2 models, and every
    other shape, are passed to torch unchanged (``tests/test_ensemble.py`` checks bitwise equality of a model
    trained alone and beside others).
    """
    if a.shape[0] == 1 and (b.shape[-1] == 1 or b.shape[-2] == 1):
        a2, b2 = a.expand(2, -1, -1), b.expand(2, -1, -1)
        out = torch.bmm(a2, b2) if bias is None else torch.baddbmm(bias.expand(2, -1, -1), a2, b2)
        return out[:1]
    return torch.bmm(a, b) if bias is None else torch.baddbmm(bias, a, b)


def mlp_forward(params, x: torch.Tensor, activation: str = "relu", weights=None) -> torch.Tensor:
    """Apply E MLPs to ``x`` of shape ``(E, B, d_0)``; returns ``(E, B, d_L)``.

    ``weights`` optionally replaces the ``W_l`` (e.g. spectrally normalised ones) while the biases come from
    ``params``.
    """
    act = _INPLACE.get(activation) or ACTIVATIONS[activation]
    n = len(params) // 2
    h = x
    for l in range(n):
        W = params[2 * l] if weights is None else weights[l]
        h = batched_matmul(h, W, params[2 * l + 1])
        if l < n - 1:
            h = act(h)  # in place where possible: baddbmm's backward does not need its output, relu's uses its own
    return h


def clip_weights(params, clip: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """WGAN weight clipping per model: every parameter of model e into [-clip[e], clip[e]]; clip[e] <= 0: no clip.

    ``clip`` has shape (E,).  Returns new tensors (the inputs are not modified).
    """
    on = clip > 0
    out = []
    for p in params:
        c = clip.reshape((-1,) + (1,) * (p.ndim - 1)).to(p.dtype)
        clipped = torch.maximum(torch.minimum(p, c), -c)
        out.append(torch.where(on.reshape(c.shape), clipped, p))
    return tuple(out)


def init_spectral_state(params, seed: int, model_ids: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Initial power-iteration vectors u_l of shape (E, d_{l+1}), unit norm, from each model's own stream."""
    us = []
    for l in range(len(params) // 2):
        W = params[2 * l]
        u = _rng.normal(seed, model_ids.to(W.device), _rng.STREAMS["sn"], l, (W.shape[2],), dtype=W.dtype)
        us.append(u / u.norm(dim=1, keepdim=True).clamp_min(1e-12))
    return tuple(us)


def spectral_normalize(params, us, enabled: torch.Tensor, eps: float = 1e-12):
    """One power iteration per layer and W_l / σ_l for the models with ``enabled[e]`` (shape (E,), bool).

    With u (E, d_out):  v = normalise(W u),  u' = normalise(Wᵀ v),  σ = vᵀ W u'  (u', v treated as constants, as in
    ``torch.nn.utils.spectral_norm``).  Models with ``enabled[e] = False`` keep W unchanged.

    Returns ``(weights, new_us)``: a tuple of the effective W_l and the updated vectors (detached).
    """
    weights, new_us = [], []
    for l, u in enumerate(us):
        W = params[2 * l]
        with torch.no_grad():
            v = batched_matmul(W, u.unsqueeze(2)).squeeze(2)
            v = v / v.norm(dim=1, keepdim=True).clamp_min(eps)
            u2 = batched_matmul(W.transpose(1, 2), v.unsqueeze(2)).squeeze(2)
            u2 = u2 / u2.norm(dim=1, keepdim=True).clamp_min(eps)
        sigma = batched_matmul(v.unsqueeze(1), batched_matmul(W, u2.unsqueeze(2))).reshape(-1, 1, 1)
        weights.append(torch.where(enabled.reshape(-1, 1, 1), W / sigma.clamp_min(eps), W))
        new_us.append(torch.where(enabled.reshape(-1, 1), u2, u))
    return tuple(weights), tuple(new_us)


# ---------------------------------------------------------------------------------------------------- PacGAN-style nets
# Batch normalisation constants: Blocks' BatchNormalization (PacGAN's code) uses epsilon 1e-4 and keeps population
# statistics as 0.95·old + 0.05·batch (PacGAN's ``bn_updates``); torch.nn.BatchNorm1d uses 1e-5 and momentum 0.1.
BN_EPS = 1e-4
BN_MOMENTUM = 0.05
INITS = ("uniform", "normal", "orthogonal")


@dataclass(frozen=True)
class NetSpec:
    """An E-model network: layer widths ``sizes``, hidden activation, maxout ``pieces`` and batch normalisation.

    Hidden layer l (all but the last) computes, per model and per row,

    * plain (``pieces = 1``, no BN):  h ← act(h W_l + b_l)  -- exactly :func:`mlp_forward`;
    * maxout (``pieces = p > 1``, Goodfellow et al. 2013):  u_j = max_{i<p} (h W_l + b_l)_{j·p + i}, so W_l has
      d_{l+1}·p columns (Blocks' ``LinearMaxout``: a linear map to d·p units, reshaped (d, p), max over the pieces);
    * batch norm (``batchnorm``, Ioffe & Szegedy 2015):  h ← act(γ_l ⊙ (a − μ)/√(σ² + ε) + b_l), a = h W_l, with μ,
      σ² the mean and biased variance of a over the rows of *this model's own batch* (axis 1 of an (E, B, d) tensor,
      never over the model axis E) and b_l playing the role of BN's β (the linear bias before BN would cancel).

    The last layer is linear: out = h W_L + b_L.  Parameters are ``(W_0, b_0, ..., W_L, b_L)`` followed by
    ``(γ_0, ..., γ_{L−1})`` (shape (E, 1, cols_l), one per linear output) when ``batchnorm``; with maxout and batch
    norm together, BN acts on the d_{l+1}·p linear outputs before the max.
    """

    sizes: tuple[int, ...]
    activation: str = "relu"
    pieces: int = 1
    batchnorm: bool = False

    def __post_init__(self):
        MLPSpec(tuple(self.sizes), self.activation)  # validates sizes and activation
        object.__setattr__(self, "sizes", tuple(self.sizes))
        if isinstance(self.pieces, bool) or not isinstance(self.pieces, int) or self.pieces < 1:
            raise ValueError(f"pieces: maxout pieces must be an integer >= 1, got {self.pieces!r}")
        if not isinstance(self.batchnorm, bool):
            raise TypeError(f"batchnorm: expected True or False, got {self.batchnorm!r}")

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    @property
    def plain(self) -> bool:
        """True when the network is an ordinary MLP (:func:`mlp_forward` applies)."""
        return self.pieces == 1 and not self.batchnorm

    def widths(self) -> list[tuple[int, int]]:
        """(fan-in, number of linear outputs) of every layer: hidden layers have d_{l+1}·pieces outputs."""
        n = self.n_layers
        return [(a, b * (self.pieces if l < n - 1 else 1))
                for l, (a, b) in enumerate(zip(self.sizes[:-1], self.sizes[1:]))]

    def n_params(self) -> int:
        """Parameters per model: Σ_l (d_l + 1)·cols_l, plus one BN scale per hidden linear output."""
        bn = sum(w for _, w in self.widths()[:-1]) if self.batchnorm else 0
        return sum((a + 1) * b for a, b in self.widths()) + bn


def init_net(spec: NetSpec, seed: int, model_ids: torch.Tensor, stream: int, *, init: str = "uniform",
             init_std: float = 0.02, init_gain: float = 1.0, dtype=torch.float32,
             device=None) -> tuple[torch.Tensor, ...]:
    """Initialise E networks of ``spec``, each from its own stream ``(seed, model_ids[e], stream, layer)``.

    ``init = "uniform"``: W, b ~ U(−1/√d_in, 1/√d_in) (``torch.nn.Linear``; for a plain spec bitwise
    :func:`init_mlp`); ``init = "normal"``: W ~ N(0, init_std²), b = 0 (PacGAN: ``IsotropicGaussian(0.02)``,
    ``Constant(0)``); ``init = "orthogonal"``: W = init_gain · Q, b = 0, with Q the orthogonal factor of
    a standard normal (d_in, d_out) matrix (orthonormal columns when d_in ≥ d_out, else orthonormal rows; signs
    fixed by diag R > 0 so that Q is Haar-distributed) -- TensorFlow's ``orthogonal_initializer(gain)``, which
    Mao's mixture-of-Gaussians code uses with gain 1.4.  With batch norm the BN shift b_l of hidden layers starts at 0 and the scale γ_l at 1.
    """
    if init not in INITS:
        raise ValueError(f"init: must be one of {', '.join(map(repr, INITS))}, got {init!r}")
    ids = model_ids.to(device)
    params = []
    n = spec.n_layers
    for l, (a, b) in enumerate(spec.widths()):
        if init == "uniform":
            bound = 1.0 / math.sqrt(a)
            u = _rng.uniform(seed, ids, stream, l, (a + 1, b), dtype=torch.float64)
            wb = ((2.0 * u - 1.0) * bound).to(dtype)
            W, bias = wb[:, :a, :].contiguous(), wb[:, a:, :].contiguous()
        elif init == "normal":
            W = (init_std * _rng.normal(seed, ids, stream, l, (a, b), dtype=torch.float64)).to(dtype)
            bias = torch.zeros((len(ids), 1, b), dtype=dtype, device=ids.device)
        else:
            W = (init_gain * orthogonal(_rng.normal(seed, ids, stream, l, (a, b), dtype=torch.float64))).to(dtype)
            W = W.contiguous()  # QR returns column-major factors: the in-place optimiser needs row-major rows
            bias = torch.zeros((len(ids), 1, b), dtype=dtype, device=ids.device)
        if spec.batchnorm and l < n - 1:
            bias = torch.zeros_like(bias)
        params += [W, bias]
    if spec.batchnorm:
        params += [torch.ones((len(ids), 1, w), dtype=dtype, device=ids.device) for _, w in spec.widths()[:-1]]
    return tuple(params)


def orthogonal(a: torch.Tensor) -> torch.Tensor:
    """(E, m, n) → (E, m, n): the orthogonal factor Q of each matrix with the sign convention diag R > 0 (QR of the
    matrix when m ≥ n, of its transpose otherwise), so that for a standard normal input Q is Haar-distributed:
    Qᵀ Q = I (m ≥ n) or Q Qᵀ = I (m < n)."""
    tall = a.shape[-2] >= a.shape[-1]
    q, r = torch.linalg.qr(a if tall else a.transpose(-1, -2))
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)
    return q if tall else q.transpose(-1, -2)


def init_bn_state(spec: NetSpec, n_models: int, *, dtype=torch.float32, device=None) -> tuple[torch.Tensor, ...]:
    """Running (population) statistics of every BN layer: ``(mean_0, var_0, ...)``, (E, 1, d) zeros and ones."""
    out = []
    for _, w in (spec.widths()[:-1] if spec.batchnorm else ()):
        out += [torch.zeros((n_models, 1, w), dtype=dtype, device=device),
                torch.ones((n_models, 1, w), dtype=dtype, device=device)]
    return tuple(out)


def update_bn_state(running, batch_stats, momentum: float = BN_MOMENTUM) -> tuple[torch.Tensor, ...]:
    """running ← (1 − momentum)·running + momentum·batch, per model (PacGAN: momentum 0.05), detached."""
    return tuple(torch.lerp(r, s.detach(), momentum) for r, s in zip(running, batch_stats))


def net_forward(params, x: torch.Tensor, spec: NetSpec, *, weights=None, groups: int = 1, running=None,
                stats: list | None = None) -> torch.Tensor:
    """Apply E networks of ``spec`` to ``x`` of shape (E, N, d_0); returns (E, N, d_L).

    Batch norm in *training* mode (``running is None``) normalises with the statistics of each model's own rows,
    computed separately over ``groups`` contiguous blocks of N/groups rows (PacGAN's packed generator applies G to
    each of the k noise batches separately); the batch means and variances (averaged over the groups, as PacGAN's
    merged population updates) are appended to ``stats`` when a list is given.  With ``running`` (the tuple of
    :func:`init_bn_state`) the population statistics are used instead (inference mode).  A plain spec is
    :func:`mlp_forward` exactly.  ``weights`` optionally replaces the W_l (spectral normalisation).
    """
    if spec.plain:
        return mlp_forward(params, x, spec.activation, weights=weights)
    act = ACTIVATIONS[spec.activation]
    n, p = spec.n_layers, spec.pieces
    h = x
    for l in range(n):
        W = params[2 * l] if weights is None else weights[l]
        hidden = l < n - 1
        if hidden and spec.batchnorm:
            a = batched_matmul(h, W)
            E, N, d = a.shape
            if N % groups:
                raise ValueError(f"groups: {groups} groups do not divide the {N} rows of the batch")
            if running is None:
                av = a.reshape(E, groups, N // groups, d)
                var, mean = torch.var_mean(av, dim=2, unbiased=False, keepdim=True)
                a = ((av - mean) * torch.rsqrt(var + BN_EPS)).reshape(E, N, d)
                if stats is not None:
                    stats += [mean.mean(1), var.mean(1)]
            else:
                mean, var = running[2 * l], running[2 * l + 1]
                a = (a - mean) * torch.rsqrt(var + BN_EPS)
            h = torch.addcmul(params[2 * l + 1], a, params[2 * n + l])
        else:
            h = batched_matmul(h, W, params[2 * l + 1])
        if hidden:
            if p > 1:
                E, N, _ = h.shape
                h = h.reshape(E, N, -1, p).amax(-1)
            else:
                h = act(h)
    return h


def pack_rows(x: torch.Tensor, k: int) -> torch.Tensor:
    """PacGAN packing: (E, k·B, d) made of k contiguous blocks x_0..x_{k−1} of B rows → (E, B, k·d), row i being
    the concatenation (x_0[i], ..., x_{k−1}[i]).  k = 1 returns ``x`` itself."""
    if k == 1:
        return x
    E, N, d = x.shape
    if N % k:
        raise ValueError(f"pack: {k} does not divide the {N} rows")
    return x.reshape(E, k, N // k, d).transpose(1, 2).reshape(E, N // k, k * d)
