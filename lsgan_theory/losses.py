"""The loss zoo: every GAN loss of THEORY.md §1-§7 in torch, with one signature style.

Over 800 lines because it is the whole zoo: about thirty short public losses (none over 80 lines), each with its
formula and shapes in its docstring, and the argument checks they share; the formula compiler is apart
(``lsgan_theory._losscompile``).

Two names are kept apart everywhere: **LS-GAN** is the *Loss-Sensitive* GAN of G.-J. Qi (arXiv:1701.06264; code name
``loss_sensitive``, functions ``loss_sensitive_*``, ``glsgan_*``, ``cls_gan_*``); **LSGAN** is the *Least-Squares*
GAN of X. Mao et al. (arXiv:1611.04076; code name ``least_squares``, functions ``least_squares_*``).

Signature convention (every function of this module)
----------------------------------------------------
* Network outputs are tensors with the **sample axis last**: real outputs ``(..., n)``, fake outputs ``(..., m)``.
  Margin matrices are ``(..., n, m)`` (entry ``[i, j]`` is Δ(x_i, z_j)); samples are ``(..., n, d)`` (or
  ``(..., n, *event)`` with ``event_dims`` trailing dimensions per sample, e.g. images ``(B, C, H, W)``).
* The leading dimensions ``(...)`` are independent *models* (e.g. the model axis ``E`` of the batched ensemble
  trainer).  Leading shapes of the arguments are broadcast together; call the broadcast shape ``lead``.
* Every hyperparameter (λ, ν, a, b, c, τ, γ, the penalty weight ``gp_weight``) is a Python number or a tensor broadcastable to ``lead`` (e.g. shape
  ``(E,)`` for one value per model); it is never broadcast against the sample axes.
* Every loss returns the per-model value, a tensor of shape ``lead`` -- the mean over samples (or over sample
  pairs).  Models never mix, so ``loss.sum().backward()`` gives each model its own gradient.
* Every loss is a quantity to **minimise** (a discriminator, critic or loss network minimises its ``*_loss`` /
  ``*_objective``; a generator minimises its ``*_generator_loss``).
* Bad input raises ``TypeError`` (not a floating tensor, a non-numeric hyperparameter) or ``ValueError`` (shapes that
  do not match, a hyperparameter out of range) naming the argument, its value and the accepted range.

Names (the glossary of issue 12): ``lam`` λ, ``nu`` ν, ``tau`` τ (the margin scale, Δ = τ‖x − z‖), ``margin_kind``
("l1"/"l2") beside the ``margin`` tensor Δ, ``gp_weight`` (w) the weight of a gradient penalty, ``gamma`` only for
the paper's γ = 1/λ of public LS-GAN code (:func:`loss_sensitive_scaled_objective`, :func:`lam_to_gamma_tau`), and
``gamma_ul`` the weight of CLS-GAN's unlabelled term.

Known bugs of public code that this module avoids: a sigmoid before the least-squares loss, squaring a mean instead
of averaging squares, ``log(sigmoid(.))`` on logits (underflow; here ``softplus``), a gradient-penalty norm over one
axis or over the whole batch (here per sample over every non-batch dimension), one interpolation weight for the whole
batch (here one per sample), and loss-sensitive hinges paired only one-to-one (here all n·m pairs by default).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


__all__ = [
    # classic GAN (Goodfellow et al. 2014), on logits
    "gan_discriminator_loss",
    "gan_generator_loss_minimax",
    "gan_generator_loss_non_saturating",
    # least-squares GAN (LSGAN, Mao et al. 2017)
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    # hinge GAN
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    # WGAN and its gradient penalty
    "wgan_critic_loss",
    "wgan_generator_loss",
    "gradient_penalty",
    # loss-sensitive GAN (LS-GAN, Qi 2017)
    "margin_matrix",
    "loss_sensitive_hinge",
    "loss_sensitive_objective",
    "loss_sensitive_objective_unchecked",
    "loss_sensitive_scaled_objective",
    "loss_sensitive_generator_loss",
    "hinge_active_fraction",
    "MarginParams",
    "lam_to_gamma_tau",
    "gamma_tau_to_lam",
    # LS-GAN gradient penalties used in public code
    "gradient_norm_penalty",
    "slope_penalty",
    # generalized LS-GAN
    "glsgan_cost",
    "glsgan_objective",
    # conditional LS-GAN (CLS-GAN)
    "conditional_loss_values",
    "unlabelled_loss_values",
    "cls_gan_objective",
    "cls_gan_unlabelled_objective",
    # numerical optimum over a tabular discriminator
    "tabular_minimiser",
    # a loss from formulas (issue 19)
    "CustomLoss",
    "compile_custom_loss",
    "compile_expression",
    # shared validation
    "check_hyperparameter",
]

Hyper = float | Tensor
_PAIRINGS = ("all", "one_to_one")


# ============================================================================================== validation helpers
def _tensor(name: str, x, *, min_ndim: int = 1) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not torch.is_floating_point(x):
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if x.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s) (samples last), got shape "
                         f"{tuple(x.shape)}")
    if x.shape[-1] == 0:
        raise ValueError(f"{name} must hold at least one sample, got shape {tuple(x.shape)}")
    return x


def _broadcast(named_shapes: list[tuple[str, tuple[int, ...]]]) -> torch.Size:
    try:
        return torch.broadcast_shapes(*[s for _, s in named_shapes])
    except RuntimeError:
        desc = ", ".join(f"{n} {tuple(s)}" for n, s in named_shapes)
        raise ValueError(f"the leading (model) shapes must broadcast together, got {desc}") from None


def check_hyperparameter(name: str, value, lead: Sequence[int] = (), *, lo: float | None = None,
                         lo_open: bool = False, hi: float | None = None, hi_open: bool = False,
                         allow_inf: bool = False) -> Hyper:
    """Check a hyperparameter and return it: a number (returned as ``float``) or a real tensor broadcastable to the
    model shape ``lead`` (returned as is), finite (``allow_inf``: ±inf allowed, never NaN) and inside the range
    ``lo``..``hi`` (``lo_open``/``hi_open``: strict bound).  ``TypeError`` for a non-number (``bool`` included),
    ``ValueError`` naming ``name``, the value and the accepted range otherwise.  Used by this module and by the
    ensemble's optimisers (one validator for every per-model hyperparameter)."""
    rng = _range_text(lo, lo_open, hi, hi_open)
    if isinstance(value, bool) or not isinstance(value, (int, float, Tensor)):
        raise TypeError(f"{name} must be a number or a tensor broadcastable to the model shape {tuple(lead)}, got "
                        f"{type(value).__name__}")
    if isinstance(value, Tensor):
        if not (torch.is_floating_point(value) or value.dtype in (torch.int32, torch.int64)):
            raise TypeError(f"{name} must be a real-valued tensor, got dtype {value.dtype}")
        lead = tuple(lead)
        try:
            ok = value.ndim <= len(lead) and tuple(torch.broadcast_shapes(value.shape, lead)) == lead
        except RuntimeError:
            ok = False
        if not ok:
            raise ValueError(f"{name} of shape {tuple(value.shape)} must be broadcastable to the model shape {lead}")
        v = value.detach()
        bad = torch.isnan(v) | (~torch.isfinite(v) if not allow_inf else torch.zeros_like(v, dtype=torch.bool))
        if lo is not None:
            bad |= (v <= lo) if lo_open else (v < lo)
        if hi is not None:
            bad |= (v >= hi) if hi_open else (v > hi)
        if bool(bad.any()):
            first = v.reshape(-1)[bad.reshape(-1)][0].item()
            raise ValueError(f"{name} must be {rng}; got a tensor containing {first!r}")
        return value
    x = float(value)
    bad = math.isnan(x) or (not allow_inf and math.isinf(x))
    if lo is not None:
        bad |= (x <= lo) if lo_open else (x < lo)
    if hi is not None:
        bad |= (x >= hi) if hi_open else (x > hi)
    if bad:
        raise ValueError(f"{name} must be {rng}; got {value!r}")
    return x


def _range_text(lo, lo_open, hi, hi_open) -> str:
    if lo is None and hi is None:
        return "a finite number"
    if hi is None:
        return f"{'>' if lo_open else '>='} {lo:g}"
    if lo is None:
        return f"{'<' if hi_open else '<='} {hi:g}"
    return f"in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"


def _trail(h: Hyper, k: int) -> Hyper:
    """Append ``k`` singleton dimensions to a tensor hyperparameter so that it broadcasts over the sample axes."""
    return h.reshape(h.shape + (1,) * k) if isinstance(h, Tensor) else h


def _check_pairing(pairing: str) -> None:
    if pairing not in _PAIRINGS:
        raise ValueError(f"pairing must be one of {_PAIRINGS}, got {pairing!r}")


def _two_outputs(nr: str, r, nf: str, f) -> torch.Size:
    r, f = _tensor(nr, r), _tensor(nf, f)
    return _broadcast([(nr, r.shape[:-1]), (nf, f.shape[:-1])])


# ============================================================================================== classic GAN
def gan_discriminator_loss(d_real: Tensor, d_fake: Tensor) -> Tensor:
    r"""Classic GAN discriminator loss on logits, :math:`-V(D, G)` (Goodfellow et al. 2014; THEORY.md §1).

    .. math:: \mathcal L_D = -\mathbb E_p \log \sigma(\ell(x)) - \mathbb E_q \log(1 - \sigma(\ell(x)))
              = \mathbb E_p\,\mathrm{softplus}(-\ell) + \mathbb E_q\,\mathrm{softplus}(\ell)

    with D = σ(ℓ).  Computed with ``softplus`` so that it stays finite for any logit (``log(sigmoid(ℓ))``
    underflows to -inf for ℓ ≲ -104 in float32).  Minimiser over an unconstrained D: D* = p/(p + q).

    Parameters
    ----------
    d_real : Tensor, shape (..., n)
        Discriminator logits ℓ on real samples.
    d_fake : Tensor, shape (..., m)
        Discriminator logits on generated samples.

    Returns
    -------
    Tensor, shape (...)
        Per-model loss (to minimise).
    """
    _two_outputs("d_real", d_real, "d_fake", d_fake)
    return F.softplus(-d_real).mean(-1) + F.softplus(d_fake).mean(-1)


def gan_generator_loss_minimax(d_fake: Tensor) -> Tensor:
    r"""Minimax generator loss :math:`\mathbb E_q \log(1 - \sigma(\ell)) = -\mathbb E_q\,\mathrm{softplus}(\ell)`.

    The generator of the original minimax game (THEORY.md §1) minimises this; its gradient vanishes when the
    discriminator confidently rejects fakes (ℓ → -∞).  ``d_fake``: logits, shape (..., m); returns shape (...).
    """
    _tensor("d_fake", d_fake)
    return -F.softplus(d_fake).mean(-1)


def gan_generator_loss_non_saturating(d_fake: Tensor) -> Tensor:
    r"""Non-saturating generator loss :math:`-\mathbb E_q \log \sigma(\ell) = \mathbb E_q\,\mathrm{softplus}(-\ell)`.

    Same fixed point as the minimax loss, strong gradients early (THEORY.md §1).  ``d_fake``: logits, shape
    (..., m); returns shape (...).
    """
    _tensor("d_fake", d_fake)
    return F.softplus(-d_fake).mean(-1)


# ============================================================================================== least squares (LSGAN)
def least_squares_discriminator_loss(d_real: Tensor, d_fake: Tensor, a: Hyper = -1.0, b: Hyper = 1.0) -> Tensor:
    r"""Least-Squares GAN (LSGAN, Mao et al. 2017) discriminator loss on **raw** outputs (no sigmoid).

    .. math:: \mathcal L_D = \tfrac12 \mathbb E_p (D(x) - b)^2 + \tfrac12 \mathbb E_q (D(x) - a)^2

    a is the label of fakes, b the label of reals (THEORY.md §2).  Each term is a mean of squares (not the square
    of a mean).  Minimiser over an unconstrained D: D* = (b p + a q)/(p + q).  Defaults (a, b) = (-1, 1) with
    c = 0 in :func:`least_squares_generator_loss` are Mao's coding with b - c = 1, b - a = 2, for which the
    generator minimises the triangular discrimination (Pearson χ² of (p+q) vs 2q in Mao's notation).

    Parameters
    ----------
    d_real : Tensor, shape (..., n)
    d_fake : Tensor, shape (..., m)
    a, b : float or Tensor broadcastable to (...)
        Finite labels.

    Returns
    -------
    Tensor, shape (...)
    """
    lead = _two_outputs("d_real", d_real, "d_fake", d_fake)
    a = _trail(check_hyperparameter("a", a, lead), 1)
    b = _trail(check_hyperparameter("b", b, lead), 1)
    return 0.5 * ((d_real - b) ** 2).mean(-1) + 0.5 * ((d_fake - a) ** 2).mean(-1)


def least_squares_generator_loss(d_fake: Tensor, c: Hyper = 0.0) -> Tensor:
    r"""Least-Squares GAN generator loss :math:`\tfrac12 \mathbb E_q (D(G(z)) - c)^2` on raw outputs.

    c is the value the generator wants D to output on fakes (THEORY.md §2).  ``d_fake`` shape (..., m), ``c`` a
    finite number or tensor broadcastable to (...); returns shape (...).
    """
    _tensor("d_fake", d_fake)
    c = _trail(check_hyperparameter("c", c, d_fake.shape[:-1]), 1)
    return 0.5 * ((d_fake - c) ** 2).mean(-1)


# ============================================================================================== hinge
def hinge_discriminator_loss(d_real: Tensor, d_fake: Tensor) -> Tensor:
    r"""Hinge GAN discriminator loss :math:`\mathbb E_p (1 - D)_+ + \mathbb E_q (1 + D)_+` (THEORY.md §3).

    Minimiser over an unconstrained D: +1 where p > q, -1 where p < q; minimum 2(1 - TV(p, q)).
    ``d_real`` (..., n), ``d_fake`` (..., m) raw outputs; returns shape (...).
    """
    _two_outputs("d_real", d_real, "d_fake", d_fake)
    return F.relu(1.0 - d_real).mean(-1) + F.relu(1.0 + d_fake).mean(-1)


def hinge_generator_loss(d_fake: Tensor) -> Tensor:
    r"""Hinge GAN generator loss :math:`-\mathbb E_q D(G(z))`.  ``d_fake`` (..., m); returns (...)."""
    _tensor("d_fake", d_fake)
    return -d_fake.mean(-1)


# ============================================================================================== WGAN
def wgan_critic_loss(f_real: Tensor, f_fake: Tensor) -> Tensor:
    r"""WGAN critic loss :math:`\mathbb E_q f - \mathbb E_p f` (the negated critic objective; THEORY.md §4).

    Over 1-Lipschitz f its minimum is -W1(p, q).  Lipschitz control is separate (weight clipping by the caller,
    or :func:`gradient_penalty`).  ``f_real`` (..., n), ``f_fake`` (..., m); returns (...).
    """
    _two_outputs("f_real", f_real, "f_fake", f_fake)
    return f_fake.mean(-1) - f_real.mean(-1)


def wgan_generator_loss(f_fake: Tensor) -> Tensor:
    r"""WGAN generator loss :math:`-\mathbb E_q f(G(z))`.  ``f_fake`` (..., m); returns (...)."""
    _tensor("f_fake", f_fake)
    return -f_fake.mean(-1)


def _event_dims(name_x: str, x: Tensor, event_dims: int | None) -> int:
    if event_dims is None:
        event_dims = x.ndim - 1
    if isinstance(event_dims, bool) or not isinstance(event_dims, int):
        raise TypeError(f"event_dims must be an int, got {type(event_dims).__name__}")
    if not 1 <= event_dims <= x.ndim - 1:
        raise ValueError(f"event_dims must be in [1, {x.ndim - 1}] for {name_x} of shape {tuple(x.shape)} (at least "
                         f"one sample axis before the event dimensions), got {event_dims}")
    return event_dims


def _draw_uniform(batch: torch.Size, x: Tensor, generator, eps, name_eps: str = "eps") -> Tensor:
    """Interpolation weights of shape ``batch`` (one per sample): given, or drawn from ``generator``."""
    if eps is not None:
        eps = _tensor(name_eps, eps)
        try:
            ok = tuple(torch.broadcast_shapes(eps.shape, batch)) == tuple(batch)
        except RuntimeError:
            ok = False
        if not ok or eps.shape[-1] != batch[-1]:
            raise ValueError(f"{name_eps} of shape {tuple(eps.shape)} must have one weight per sample, shape "
                             f"{tuple(batch)} (leading dims may broadcast)")
        e = eps.detach()
        if bool(((e < 0) | (e > 1) | torch.isnan(e)).any()):
            raise ValueError(f"{name_eps} must lie in [0, 1]")
        return eps
    if generator is None:
        raise ValueError("either generator (a torch.Generator, or one per model) or eps must be given; the "
                         "interpolation noise is explicit")
    if isinstance(generator, torch.Generator):
        return torch.rand(batch, generator=generator, dtype=x.dtype, device=x.device)
    gens = list(generator)
    n_models = math.prod(batch[:-1])
    if len(gens) != n_models or not all(isinstance(g, torch.Generator) for g in gens):
        raise ValueError(f"generator must be a torch.Generator or a sequence of {n_models} of them (one per model "
                         f"of model shape {tuple(batch[:-1])}), got {len(gens)} item(s)")
    draws = [torch.rand(batch[-1], generator=g, dtype=x.dtype, device=x.device) for g in gens]
    return torch.stack(draws).reshape(batch)


def _critic_out(name: str, out, batch: torch.Size) -> Tensor:
    if not isinstance(out, Tensor):
        raise TypeError(f"{name} must return a tensor, got {type(out).__name__}")
    if out.shape == batch + (1,):
        out = out.squeeze(-1)
    if out.shape != batch:
        raise ValueError(f"{name} must map samples of batch shape {tuple(batch)} to outputs of shape "
                         f"{tuple(batch)} (or {tuple(batch) + (1,)}), got {tuple(out.shape)}")
    return out


def _input_grad(fn: Callable[[Tensor], Tensor], name: str, x: Tensor, batch: torch.Size) -> tuple[Tensor, Tensor]:
    """Outputs and per-sample input gradients of ``fn`` at ``x`` (graph kept so a penalty can be differentiated)."""
    x = x if x.requires_grad else x.detach().requires_grad_(True)
    with torch.enable_grad():
        out = _critic_out(name, fn(x), batch)
        (g,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return out, g


def gradient_penalty(critic: Callable[[Tensor], Tensor], x_real: Tensor, x_fake: Tensor, *, gp_weight: Hyper = 10.0,
                     target: Hyper = 1.0, generator: torch.Generator | Sequence[torch.Generator] | None = None,
                     eps: Tensor | None = None, event_dims: int | None = None) -> Tensor:
    r"""WGAN-GP gradient penalty (Gulrajani et al. 2017; THEORY.md §4), per sample.

    .. math:: w\, \mathbb E_{\hat x} \big(\|\nabla_x f(\hat x)\|_2 - t\big)^2, \qquad
              \hat x_i = \varepsilon_i x_i + (1 - \varepsilon_i) \tilde x_i,\ \varepsilon_i \sim U[0, 1]

    with one ε per sample and the Euclidean norm of each sample's gradient over **all** its event dimensions
    (public code often takes the norm over one axis, e.g. ``dim=1`` of an image, or over the whole batch).
    The same function serves as the LS-GAN "WGAN-GP style" penalty with ``critic`` the loss network L.

    Parameters
    ----------
    critic : callable
        Maps a tensor of shape ``(..., n, *event)`` to outputs ``(..., n)`` or ``(..., n, 1)``.  It must treat
        samples independently (no batch normalisation), else "per-sample gradient" has no meaning.  A batched
        critic (leading model axes) is fine: models do not mix.
    x_real, x_fake : Tensor, shape (..., n, *event)
        Equal shapes; they are paired one-to-one.
    gp_weight : float or Tensor broadcastable to (...), >= 0
        Penalty weight w (10 in WGAN-GP).
    target : float or Tensor broadcastable to (...), >= 0
        Target gradient norm t (1 for a 1-Lipschitz critic; κ for a κ-Lipschitz loss network).
    generator : torch.Generator or sequence of them, optional
        Source of ε: one generator for all, or one per model (``prod(...)`` of them, in C order) so that a model's
        noise does not depend on how many models share the batch.
    eps : Tensor, shape (..., n), optional
        Given interpolation weights in [0, 1] (instead of ``generator``).
    event_dims : int, optional
        Number of trailing dimensions of one sample (default ``x_real.ndim - 1``: a single model, the first axis
        is the sample axis; e.g. 3 for images ``(B, C, H, W)``, 1 for ensemble inputs ``(E, n, d)``).

    Returns
    -------
    Tensor, shape (...)
        Differentiable with respect to the critic's parameters (the graph is created).
    """
    x_real, x_fake = _tensor("x_real", x_real, min_ndim=2), _tensor("x_fake", x_fake, min_ndim=2)
    if x_real.shape != x_fake.shape:
        raise ValueError(f"x_real {tuple(x_real.shape)} and x_fake {tuple(x_fake.shape)} must have the same shape "
                         "(samples are interpolated one-to-one)")
    k = _event_dims("x_real", x_real, event_dims)
    batch = x_real.shape[: x_real.ndim - k]
    w = _trail(check_hyperparameter("gp_weight", gp_weight, batch[:-1], lo=0.0), 1)
    target = _trail(check_hyperparameter("target", target, batch[:-1], lo=0.0), 1)
    e = _draw_uniform(batch, x_real, generator, eps)
    e = e.reshape(e.shape + (1,) * k)
    x_hat = e * x_real.detach() + (1 - e) * x_fake.detach()
    _, g = _input_grad(critic, "critic", x_hat, batch)
    norms = torch.linalg.vector_norm(g, dim=tuple(range(-k, 0)))
    return (w * (norms - target) ** 2).mean(-1)


# ============================================================================================== loss-sensitive GAN
def margin_matrix(x_real: Tensor, x_fake: Tensor, *, margin_kind: str = "l1", tau: Hyper = 1.0,
                  event_dims: int = 1, out: Tensor | None = None) -> Tensor:
    r"""All-pairs margins :math:`\Delta_{ij} = \tau \|x_i - z_j\|` (THEORY.md §5).

    L1 (the default, as in the LS-GAN experiments) sums absolute differences over every event dimension; L2 is the
    Euclidean norm.  Public code uses τ ≈ 2e-4 with an L1 sum over pixels.

    Parameters
    ----------
    x_real : Tensor, shape (..., n, *event)
    x_fake : Tensor, shape (..., m, *event)
    margin_kind : {"l1", "l2"}
        The norm.
    tau : float or Tensor broadcastable to (...), > 0
        The margin scale τ.
    event_dims : int
        Number of trailing dimensions of one sample (1 for vectors ``(..., n, d)``).
    out : Tensor, shape (..., n, m), optional
        Preallocated result for hot loops (samples with one coordinate, no gradient): written in place and returned,
        so no fresh (..., n, m) block is allocated per call.  Ignored otherwise.

    Returns
    -------
    Tensor, shape (..., n, m)
    """
    x_real, x_fake = _tensor("x_real", x_real, min_ndim=2), _tensor("x_fake", x_fake, min_ndim=2)
    if margin_kind not in ("l1", "l2"):
        raise ValueError(f"margin_kind must be 'l1' or 'l2', got {margin_kind!r}")
    k_r = _event_dims("x_real", x_real, event_dims)
    _event_dims("x_fake", x_fake, event_dims)
    if x_real.shape[x_real.ndim - k_r:] != x_fake.shape[x_fake.ndim - k_r:]:
        raise ValueError(f"x_real {tuple(x_real.shape)} and x_fake {tuple(x_fake.shape)} must have the same "
                         f"event shape (last {k_r} dims)")
    lead = _broadcast([("x_real", x_real.shape[: x_real.ndim - k_r - 1]),
                       ("x_fake", x_fake.shape[: x_fake.ndim - k_r - 1])])
    tau_t = _trail(check_hyperparameter("tau", tau, lead, lo=0.0, lo_open=True), 2)
    r = x_real.flatten(x_real.ndim - k_r) if k_r > 1 else x_real
    f = x_fake.flatten(x_fake.ndim - k_r) if k_r > 1 else x_fake
    r = r.expand(lead + r.shape[-2:])
    f = f.expand(lead + f.shape[-2:])
    if r.shape[-1] == 1:  # one coordinate: both norms are |x − z|, computed in place without the (n, m, 1) copy
        ft = f.transpose(-1, -2)
        no_grad = not (r.requires_grad or f.requires_grad or (isinstance(tau_t, Tensor) and tau_t.requires_grad))
        if (out is not None and no_grad and out.dtype == torch.result_type(r, tau_t)
                and out.device == r.device and out.shape == lead + (r.shape[-2], ft.shape[-1])):
            d = torch.sub(r, ft, out=out)
        else:
            d = r - ft
        d = d.abs() if d.requires_grad else d.abs_()
    else:
        diff = r.unsqueeze(-2) - f.unsqueeze(-3)  # (..., n, m, D)
        d = diff.abs().sum(-1) if margin_kind == "l1" else torch.linalg.vector_norm(diff, dim=-1)
    if d.requires_grad or (isinstance(tau_t, Tensor) and (tau_t.requires_grad or d.shape != torch.broadcast_shapes(
            d.shape, tau_t.shape) or torch.result_type(d, tau_t) != d.dtype)):
        return tau_t * d
    return d.mul_(tau_t)


class _AllPairsHingeMean(torch.autograd.Function):
    """mean_ij (Δ_ij + L_r[i] − L_f[j])_+ over the last two axes, in one pass of memory.

    Forward builds the (…, n, m) argument once and reduces it; backward needs only the counts of active pairs per
    row and column: ∂/∂L_r[i] = #{j active}/(nm), ∂/∂L_f[j] = −#{i active}/(nm), ∂/∂Δ_ij = 1[active]/(nm) (the mask
    is kept only when Δ requires a gradient).  Values and gradients equal ``F.relu(a).mean((-2, -1))`` under autograd
    (relu'(0) = 0 in both).  The backward treats the active counts as constants (the hinge's second derivative is
    zero almost everywhere) and is linear in the incoming gradient: a gradient taken with ``create_graph=True`` is
    connected to the inputs only through that incoming gradient (``gradgradcheck`` passes).  Mixed dtypes promote as
    in the unfused expression.
    """

    @staticmethod
    def forward(ctx, L_real, L_fake, margin, scratch=False):
        full = torch.broadcast_shapes(margin.shape, L_real.shape + (1,), L_fake.shape[:-1] + (1, L_fake.shape[-1]))
        dtype = torch.promote_types(torch.promote_types(margin.dtype, L_real.dtype), L_fake.dtype)
        if (scratch and margin.shape == full and margin.dtype == dtype and margin.is_contiguous()
                and not margin.requires_grad):
            a = margin.add_(L_real.unsqueeze(-1))  # the caller's scratch buffer: no (…, n, m) allocation at all
        else:
            a = margin + L_real.unsqueeze(-1)
            if a.shape != full or a.dtype != dtype:  # L_fake carries leading axes or a wider dtype
                a = a.to(dtype).expand(full).contiguous()
        a.sub_(L_fake.unsqueeze(-2))
        n, m = a.shape[-2], a.shape[-1]
        val = a.clamp_min_(0).sum((-2, -1)) / (n * m)
        mask = a.sign_()  # in place: 1 where the hinge is active, 0 where it clips (no bool → float copy)
        rows = mask.sum(-1)
        cols = mask.sum(-2)
        keep = mask if ctx.needs_input_grad[2] else None
        ctx.save_for_backward(rows, cols, keep)
        ctx.shapes = (L_real.shape, L_fake.shape, margin.shape, n * m)
        return val

    @staticmethod
    def backward(ctx, g):
        rows, cols, mask = ctx.saved_tensors
        sr, sf, sm, nm = ctx.shapes
        gs = (g / nm).unsqueeze(-1)
        gr = gf = gm = None
        if ctx.needs_input_grad[0]:
            gr = (gs * rows).sum_to_size(sr)
        if ctx.needs_input_grad[1]:
            gf = (-gs * cols).sum_to_size(sf)
        if ctx.needs_input_grad[2]:
            gm = (gs.unsqueeze(-1) * mask).sum_to_size(sm)
        return gr, gf, gm, None


def _all_pairs_hinge_mean(L_real: Tensor, L_fake: Tensor, margin: Tensor, scratch: bool = False) -> Tensor:
    """Unchecked fused all-pairs hinge mean (…,); callers validate (see :func:`_pair_arguments`).  With
    ``scratch=True`` a contiguous, full-shape ``margin`` that needs no gradient is overwritten (hot loops)."""
    return _AllPairsHingeMean.apply(L_real, L_fake, margin, scratch)


def loss_sensitive_objective_unchecked(L_real: Tensor, L_fake: Tensor, margin: Tensor, lam: Tensor) -> Tensor:
    """:func:`loss_sensitive_objective` (all pairs) for the ensemble trainer's inner loop: no validation (the trainer
    builds its inputs: finite λ > 0 of shape (E,), margins from :func:`margin_matrix`), and ``margin`` is consumed
    as scratch memory.  A NaN from a diverging model propagates to its loss (and freezes it) instead of raising."""
    return L_real.mean(-1) + lam * _all_pairs_hinge_mean(L_real, L_fake, margin, scratch=True)


def _pair_arguments(L_real, L_fake, margin, pairing) -> tuple[Tensor, torch.Size]:
    """Hinge arguments Δ_ij + L(x_i) - L(z_j): shape (..., n, m) (all pairs) or (..., n) (one-to-one)."""
    L_real, L_fake, margin, lead = _check_pairs(L_real, L_fake, margin, pairing)
    if pairing == "all":
        return margin + L_real.unsqueeze(-1) - L_fake.unsqueeze(-2), lead
    return torch.diagonal(margin, dim1=-2, dim2=-1) + L_real - L_fake, lead


def _hinge_mean(L_real, L_fake, margin, pairing) -> tuple[Tensor, torch.Size]:
    """``E (Δ + L(x) − L(z))_+`` over the pairs, (...,), validated; all pairs go through the fused kernel."""
    L_real, L_fake, margin, lead = _check_pairs(L_real, L_fake, margin, pairing)
    if pairing == "all":
        return _all_pairs_hinge_mean(L_real, L_fake, margin), lead
    return F.relu(torch.diagonal(margin, dim1=-2, dim2=-1) + L_real - L_fake).mean(-1), lead


def _check_pairs(L_real, L_fake, margin, pairing):
    _check_pairing(pairing)
    L_real, L_fake = _tensor("L_real", L_real), _tensor("L_fake", L_fake)
    margin = _tensor("margin", margin, min_ndim=2)
    n, m = L_real.shape[-1], L_fake.shape[-1]
    if tuple(margin.shape[-2:]) != (n, m):
        raise ValueError(f"margin must have shape (..., n, m) = (..., {n}, {m}) for L_real {tuple(L_real.shape)} "
                         f"and L_fake {tuple(L_fake.shape)}, got {tuple(margin.shape)}")
    lead = _broadcast([("L_real", L_real.shape[:-1]), ("L_fake", L_fake.shape[:-1]),
                       ("margin", margin.shape[:-2])])
    mdet = margin.detach()
    if bool((torch.isnan(mdet) | (mdet < 0)).any()):
        raise ValueError("margin must be >= 0 everywhere (a scaled distance); it holds a negative or NaN entry")
    if pairing != "all" and n != m:
        raise ValueError(f"pairing='one_to_one' needs as many fakes as reals, got n={n} (L_real) and m={m} (L_fake)")
    return L_real, L_fake, margin, lead


def _pair_mean(a: Tensor, pairing: str) -> Tensor:
    return a.mean((-2, -1)) if pairing == "all" else a.mean(-1)


def loss_sensitive_hinge(L_real: Tensor, L_fake: Tensor, margin: Tensor, *, pairing: str = "all") -> Tensor:
    r"""The LS-GAN hinge term :math:`\mathbb E_{x, z} (\Delta(x, z) + L(x) - L(z))_+` (THEORY.md §5).

    Averaged over all n·m pairs (``pairing="all"``, the empirical S_{n,m}) or over the pairs (x_i, z_i)
    (``"one_to_one"``, as public code does; needs n = m and uses the diagonal of ``margin``).

    Parameters
    ----------
    L_real : Tensor, shape (..., n)
        Loss network values on real samples.
    L_fake : Tensor, shape (..., m)
        Loss network values on generated samples.
    margin : Tensor, shape (..., n, m)
        Δ(x_i, z_j) >= 0, e.g. from :func:`margin_matrix`.
    pairing : {"all", "one_to_one"}

    Returns
    -------
    Tensor, shape (...)
    """
    return _hinge_mean(L_real, L_fake, margin, pairing)[0]


def loss_sensitive_objective(L_real: Tensor, L_fake: Tensor, margin: Tensor, lam: Hyper, *,
                             pairing: str = "all") -> Tensor:
    r"""The LS-GAN loss-network objective S of Qi (2017) in the paper's parameterisation (THEORY.md §5).

    .. math:: S = \mathbb E_x L(x) + \lambda\, \mathbb E_{x, z} (\Delta(x, z) + L(x) - L(z))_+

    minimised over the loss network θ.  Public code minimises S/λ instead (see
    :func:`loss_sensitive_scaled_objective` and :func:`lam_to_gamma_tau`).

    Parameters
    ----------
    L_real : Tensor, shape (..., n)
    L_fake : Tensor, shape (..., m)
    margin : Tensor, shape (..., n, m)
    lam : float or Tensor broadcastable to (...)
        λ > 0, finite.
    pairing : {"all", "one_to_one"}
        All n·m pairs (default) or x_i with z_i.

    Returns
    -------
    Tensor, shape (...)

    References
    ----------
    G.-J. Qi, "Loss-Sensitive Generative Adversarial Networks on Lipschitz Densities", IJCV 2019, eq. (6).
    """
    hinge, lead = _hinge_mean(L_real, L_fake, margin, pairing)
    lam = check_hyperparameter("lam", lam, lead, lo=0.0, lo_open=True)
    return L_real.mean(-1) + lam * hinge


def loss_sensitive_scaled_objective(L_real: Tensor, L_fake: Tensor, margin: Tensor, gamma: Hyper, *,
                                    pairing: str = "all") -> Tensor:
    r"""The LS-GAN objective as public code writes it: :math:`S/\lambda = \text{hinge mean} + \gamma\,\mathbb E L(x)`.

    ``gamma`` is the paper's γ = 1/λ >= 0 (the one meaning ``gamma`` has in this package); γ = 0 is the λ = ∞ form (hinge only, equal to :func:`glsgan_objective` with ν = 0).  Shapes as
    in :func:`loss_sensitive_objective`; returns (...).
    """
    hinge, lead = _hinge_mean(L_real, L_fake, margin, pairing)
    gamma = check_hyperparameter("gamma", gamma, lead, lo=0.0)
    return hinge + gamma * L_real.mean(-1)


def loss_sensitive_generator_loss(L_fake: Tensor) -> Tensor:
    r"""LS-GAN (and GLS-GAN, CLS-GAN) generator objective :math:`T = \mathbb E_z L(G(z))`.

    ``L_fake`` (..., m) loss values on fresh generated samples (for CLS-GAN: L(G(z, y), y)); returns (...).
    """
    _tensor("L_fake", L_fake)
    return L_fake.mean(-1)


def hinge_active_fraction(L_real: Tensor, L_fake: Tensor, margin: Tensor, *, pairing: str = "all") -> Tensor:
    r"""Fraction of pairs whose LS-GAN hinge is active, :math:`\Pr(\Delta + L(x) - L(z) > 0)` (THEORY.md §5).

    1 means the hinge never clips (the objective is linear, "WGAN-like"); experiments report it.  Shapes as in
    :func:`loss_sensitive_hinge`; returns (...) (not differentiable).
    """
    a, _ = _pair_arguments(L_real, L_fake, margin, pairing)
    return _pair_mean((a.detach() > 0).to(a.dtype), pairing)


@dataclass(frozen=True)
class MarginParams:
    """One LS-GAN setting in both parameterisations (see :func:`lam_to_gamma_tau`)."""

    lam: float  # the paper's λ (math.inf for γ = 0)
    gamma: float  # public code's weight of E L(x), γ = 1/λ
    tau: float  # margin scale, Δ = τ‖x - z‖, the same in both


def lam_to_gamma_tau(lam: float, tau: float = 1.0) -> MarginParams:
    r"""Convert the paper's (λ, τ) to public code's (γ, τ).

    Mapping (THEORY.md §5): the paper minimises S = E L(x) + λ E(τ‖x - z‖ + L(x) - L(z))_+; public code minimises
    S/λ = E(τ‖x - z‖ + L(x) - L(z))_+ + γ E L(x).  Dividing by λ > 0 keeps every minimiser, so γ = 1/λ and the
    margin scale τ is unchanged; λ = ∞ ↔ γ = 0.  (Scaling L by s > 0 maps (λ, τ, κ) to (λ, sτ, sκ) for a
    κ-Lipschitz class; that is a different family of equivalences and is not applied here.)

    Parameters
    ----------
    lam : float, > 0 (``math.inf`` allowed)
    tau : float, > 0

    Returns
    -------
    MarginParams
    """
    lam = check_hyperparameter("lam", lam, (), lo=0.0, lo_open=True, allow_inf=True)
    tau = check_hyperparameter("tau", tau, (), lo=0.0, lo_open=True)
    return MarginParams(lam=lam, gamma=0.0 if math.isinf(lam) else 1.0 / lam, tau=tau)


def gamma_tau_to_lam(gamma: float, tau: float) -> MarginParams:
    r"""Convert public code's (γ, τ) to the paper's (λ, τ): λ = 1/γ (γ = 0 ↔ λ = ∞), τ unchanged.

    The inverse of :func:`lam_to_gamma_tau`.  ``gamma`` >= 0 finite, ``tau`` > 0.
    """
    gamma = check_hyperparameter("gamma", gamma, (), lo=0.0)
    tau = check_hyperparameter("tau", tau, (), lo=0.0, lo_open=True)
    return MarginParams(lam=math.inf if gamma == 0 else 1.0 / gamma, gamma=gamma, tau=tau)


# ---------------------------------------------------------------------------------------------- LS-GAN penalties
def gradient_norm_penalty(loss_fn: Callable[[Tensor], Tensor], x: Tensor, *, gp_weight: Hyper = 1.0, power: int = 2,
                          event_dims: int | None = None) -> Tensor:
    r"""Direct gradient-norm regulariser of the LS-GAN, :math:`w\, \mathbb E_x \|\nabla_x L(x)\|_2^{p}`.

    Proposed in the first version of the LS-GAN paper (arXiv:1701.06264v1, §5: "directly minimize the gradient
    norm ‖∇_x L_θ(x)‖ as a regularizer") as the alternative to weight decay.  The norm is per sample over every
    event dimension.

    Parameters
    ----------
    loss_fn : callable, ``(..., n, *event) -> (..., n)`` or ``(..., n, 1)``; samples treated independently.
    x : Tensor, shape (..., n, *event)
        Where to evaluate (real samples, fakes, or interpolates).
    gp_weight : float or Tensor broadcastable to (...), >= 0
        The weight w.
    power : {1, 2}
    event_dims : int, optional
        As in :func:`gradient_penalty`.

    Returns
    -------
    Tensor, shape (...)
    """
    x = _tensor("x", x, min_ndim=2)
    if power not in (1, 2):
        raise ValueError(f"power must be 1 or 2, got {power!r}")
    k = _event_dims("x", x, event_dims)
    batch = x.shape[: x.ndim - k]
    w = _trail(check_hyperparameter("gp_weight", gp_weight, batch[:-1], lo=0.0), 1)
    _, g = _input_grad(loss_fn, "loss_fn", x.detach(), batch)
    if power == 2:
        val = (g ** 2).sum(tuple(range(-k, 0)))
    else:
        val = torch.linalg.vector_norm(g, dim=tuple(range(-k, 0)))
    return (w * val).mean(-1)


def slope_penalty(loss_fn: Callable[[Tensor], Tensor], x_real: Tensor, x_fake: Tensor, *, gp_weight: Hyper = 10.0,
                  target: Hyper = 1.0, generator: torch.Generator | Sequence[torch.Generator] | None = None,
                  eps: Tensor | None = None, event_dims: int | None = None) -> Tensor:
    r"""Finite-difference ("direct") slope penalty of the public LS-GAN-GP code, drawn per sample.

    .. math:: w\, \mathbb E_i \Big(\frac{|L(x^{(1)}_i) - L(x^{(2)}_i)|}{\|x^{(1)}_i - x^{(2)}_i\|_2} - t\Big)^2,
              \quad x^{(k)}_i = \varepsilon^{(k)}_i x_i + (1 - \varepsilon^{(k)}_i) \tilde x_i

    i.e. the slope of L along the segment between a real and a fake sample, measured between two random points of
    the segment.  The public code (maple-research-lab/glsgan-gp, ``calc_gradient_penalty2``) draws one ε^(k) for the
    whole batch; here each sample gets its own pair (ε^(1)_i, ε^(2)_i).

    Parameters
    ----------
    loss_fn : callable, ``(..., n, *event) -> (..., n)`` or ``(..., n, 1)``.
    x_real, x_fake : Tensor, shape (..., n, *event), equal shapes.
    gp_weight, target : float or Tensor broadcastable to (...), >= 0
        The weight w and the target slope t.
    generator : torch.Generator or one per model, optional
        Draws ε^(1) then ε^(2).
    eps : Tensor, shape (2, ..., n), optional
        Given weights ε^(1) = eps[0], ε^(2) = eps[1] in [0, 1]; pairs with ε^(1) = ε^(2) have no slope and are
        rejected.
    event_dims : int, optional
        As in :func:`gradient_penalty`.

    Returns
    -------
    Tensor, shape (...)
    """
    x_real, x_fake = _tensor("x_real", x_real, min_ndim=2), _tensor("x_fake", x_fake, min_ndim=2)
    if x_real.shape != x_fake.shape:
        raise ValueError(f"x_real {tuple(x_real.shape)} and x_fake {tuple(x_fake.shape)} must have the same shape")
    k = _event_dims("x_real", x_real, event_dims)
    batch = x_real.shape[: x_real.ndim - k]
    w = _trail(check_hyperparameter("gp_weight", gp_weight, batch[:-1], lo=0.0), 1)
    target = _trail(check_hyperparameter("target", target, batch[:-1], lo=0.0), 1)
    if eps is not None:
        eps = _tensor("eps", eps, min_ndim=2)
        if eps.shape[0] != 2:
            raise ValueError(f"eps must have shape (2, ..., n) (two weights per sample), got {tuple(eps.shape)}")
        e1 = _draw_uniform(batch, x_real, None, eps[0], "eps[0]")
        e2 = _draw_uniform(batch, x_real, None, eps[1], "eps[1]")
    else:
        e1 = _draw_uniform(batch, x_real, generator, None)
        e2 = _draw_uniform(batch, x_real, generator, None)
    xr, xf = x_real.detach(), x_fake.detach()
    pts = [(e.reshape(e.shape + (1,) * k)) * xr + (1 - e.reshape(e.shape + (1,) * k)) * xf for e in (e1, e2)]
    dist = torch.linalg.vector_norm(pts[0] - pts[1], dim=tuple(range(-k, 0)))
    if bool((dist.detach() == 0).any()):
        raise ValueError("slope_penalty: a pair of interpolates coincides (eps[0] == eps[1] or x_real == x_fake "
                         "for some sample); the slope is undefined there")
    l1 = _critic_out("loss_fn", loss_fn(pts[0]), batch)
    l2 = _critic_out("loss_fn", loss_fn(pts[1]), batch)
    return (w * ((l1 - l2).abs() / dist - target) ** 2).mean(-1)


# ============================================================================================== generalized LS-GAN
def glsgan_cost(a: Tensor, nu: Hyper) -> Tensor:
    r"""The leaky GLS-GAN cost :math:`C_\nu(a) = \max(a, \nu a)`, ν ∈ (-∞, 1] (THEORY.md §6).

    Satisfies C(a) >= a and C(a) = a for a >= 0.  ν = 0: hinge (·)_+ (LS-GAN); ν = 1: identity (WGAN-like);
    ν = -1: |a|.  ν > 1 would give C(a) = νa ≠ a for a > 0 and is rejected.  At a = 0 the gradient is ν (so ν = 0
    matches ``relu``).

    Parameters
    ----------
    a : Tensor, any shape
    nu : float or Tensor
        Finite, <= 1; a tensor is broadcast against ``a`` elementwise (plain broadcasting, unlike the losses).

    Returns
    -------
    Tensor, the broadcast shape of ``a`` and ``nu``.

    References
    ----------
    G.-J. Qi, IJCV 2019, §5 (generalized LS-GAN).
    """
    if not isinstance(a, Tensor):
        raise TypeError(f"a must be a torch.Tensor, got {type(a).__name__}")
    if isinstance(nu, Tensor):
        try:
            shape = torch.broadcast_shapes(nu.shape, a.shape)
        except RuntimeError:
            raise ValueError(f"nu of shape {tuple(nu.shape)} must broadcast against a of shape "
                             f"{tuple(a.shape)}") from None
        nu = check_hyperparameter("nu", nu, shape, hi=1.0)
    else:
        nu = check_hyperparameter("nu", nu, (), hi=1.0)
    return torch.where(a > 0, a, nu * a)


def glsgan_objective(L_real: Tensor, L_fake: Tensor, margin: Tensor, nu: Hyper, *, pairing: str = "all") -> Tensor:
    r"""The GLS-GAN loss-network objective :math:`\mathbb E_{x, z} C_\nu(\Delta(x, z) + L(x) - L(z))` (THEORY.md §6).

    Reductions: ν = 0 is the LS-GAN hinge term (S/λ at λ = ∞); ν = 1 is E Δ + E L(x) - E L(z), whose θ-gradients
    are those of the WGAN critic loss for f = -L; ν = -1 is E|Δ + L(x) - L(z)|.

    Parameters
    ----------
    L_real : Tensor, shape (..., n)
    L_fake : Tensor, shape (..., m)
    margin : Tensor, shape (..., n, m)
    nu : float or Tensor broadcastable to (...), finite, <= 1
    pairing : {"all", "one_to_one"}

    Returns
    -------
    Tensor, shape (...)
    """
    a, lead = _pair_arguments(L_real, L_fake, margin, pairing)
    nu = _trail(check_hyperparameter("nu", nu, lead, hi=1.0), 2 if pairing == "all" else 1)
    return _pair_mean(torch.where(a > 0, a, nu * a), pairing)


# ============================================================================================== conditional (CLS-GAN)
def _labels(name: str, y, K: int | None = None) -> Tensor:
    if not isinstance(y, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of integer labels, got {type(y).__name__}")
    if torch.is_floating_point(y) or y.dtype == torch.bool or torch.is_complex(y):
        raise TypeError(f"{name} must hold integer labels, got dtype {y.dtype}")
    if K is not None and y.numel() and bool(((y < 0) | (y >= K)).any()):
        raise ValueError(f"{name} must lie in [0, {K - 1}] (K = {K} classes); got values in "
                         f"[{int(y.min())}, {int(y.max())}]")
    return y


def conditional_loss_values(activations: Tensor, labels: Tensor) -> Tensor:
    r"""CLS-GAN conditional loss :math:`L(x, y) = -\log \mathrm{softmax}_y(a(x))` (THEORY.md §7).

    The classifier is y*(x) = argmin_y L(x, y) = argmax_y a_y(x).

    Parameters
    ----------
    activations : Tensor, shape (..., n, K)
        Network activations a(x) for K classes.
    labels : integer Tensor, shape (..., n), values in [0, K)

    Returns
    -------
    Tensor, shape (..., n)
        Loss values, ready for :func:`cls_gan_objective`.
    """
    act = _tensor("activations", activations, min_ndim=2)
    K = act.shape[-1]
    y = _labels("labels", labels, K)
    if y.shape != act.shape[:-1]:
        raise ValueError(f"labels of shape {tuple(y.shape)} must have shape {tuple(act.shape[:-1])} "
                         f"(activations {tuple(act.shape)} without the class axis)")
    return -torch.log_softmax(act, -1).gather(-1, y.unsqueeze(-1)).squeeze(-1)


def unlabelled_loss_values(activations: Tensor) -> Tensor:
    r"""CLS-GAN loss on unlabelled samples, :math:`L^{ul}(x) = \min_l L(x, l)` with K + 1 "classes".

    .. math:: L(x, l) = -\log \frac{e^{a_l}}{1 + \sum_{l'} e^{a_{l'}}}, \qquad
              L^{ul}(x) = \log\big(1 + \textstyle\sum_{l'} e^{a_{l'}}\big) - \max_l a_l

    (THEORY.md §7; computed with a log-sum-exp that includes the implicit zero logit).  ``activations``
    (..., n, K); returns (..., n).
    """
    act = _tensor("activations", activations, min_ndim=2)
    zero = torch.zeros(act.shape[:-1] + (1,), dtype=act.dtype, device=act.device)
    return torch.logsumexp(torch.cat([zero, act], -1), -1) - act.amax(-1)


def cls_gan_objective(L_real: Tensor, L_fake: Tensor, margin: Tensor, lam: Hyper, *, labels_real: Tensor,
                      labels_fake: Tensor, pairing: str = "all") -> Tensor:
    r"""CLS-GAN loss-network objective S (Qi 2017, THEORY.md §7).

    .. math:: S = \mathbb E_{(x, y)} L(x, y) + \lambda\, \mathbb E_{(x, y), z}
              \big(\Delta(x, G(z, y)) + L(x, y) - L(G(z, y), y)\big)_+

    A real (x_i, y_i) is paired only with fakes generated for the same label.  ``pairing="all"``: the hinge is
    averaged, for each real i, over every fake j with ``labels_fake[j] == labels_real[i]``, then over i (each real
    label must occur among the fakes).  ``pairing="one_to_one"``: fake i was generated for real i's label
    (``labels_fake == labels_real`` is required).  The generator minimises T = E L(G(z, y), y)
    (:func:`loss_sensitive_generator_loss` on conditional values).

    Parameters
    ----------
    L_real : Tensor, shape (..., n)
        L(x_i, y_i), e.g. from :func:`conditional_loss_values`.
    L_fake : Tensor, shape (..., m)
        L(G(z_j, y'_j), y'_j).
    margin : Tensor, shape (..., n, m)
    lam : float or Tensor broadcastable to (...), > 0
    labels_real : integer Tensor, shape (..., n)
    labels_fake : integer Tensor, shape (..., m)
    pairing : {"all", "one_to_one"}

    Returns
    -------
    Tensor, shape (...)
    """
    a, lead = _pair_arguments(L_real, L_fake, margin, pairing)
    lam = check_hyperparameter("lam", lam, lead, lo=0.0, lo_open=True)
    yr, yf = _labels("labels_real", labels_real), _labels("labels_fake", labels_fake)
    n, m = L_real.shape[-1], L_fake.shape[-1]
    if yr.ndim < 1 or yr.shape[-1] != n or yf.ndim < 1 or yf.shape[-1] != m:
        raise ValueError(f"labels_real {tuple(yr.shape)} and labels_fake {tuple(yf.shape)} must end in n={n} and "
                         f"m={m} (one label per sample)")
    _broadcast([("loss values", lead), ("labels_real", yr.shape[:-1]), ("labels_fake", yf.shape[:-1])])
    h = F.relu(a)
    if pairing == "one_to_one":
        if not bool((yr == yf).all()):
            raise ValueError("pairing='one_to_one' needs labels_fake == labels_real (fake i generated for real i's "
                             "label)")
        hinge = h.mean(-1)
    else:
        same = (yr.unsqueeze(-1) == yf.unsqueeze(-2)).to(h.dtype)  # (..., n, m)
        count = same.sum(-1)
        if bool((count == 0).any()):
            raise ValueError("pairing='all': every label in labels_real must occur in labels_fake (a real sample "
                             "has no generated partner of its class)")
        hinge = ((h * same).sum(-1) / count).mean(-1)
    return L_real.mean(-1) + lam * hinge


def cls_gan_unlabelled_objective(L_ul_real: Tensor, L_ul_fake: Tensor, margin: Tensor, *,
                                 pairing: str = "all") -> Tensor:
    r"""CLS-GAN unlabelled term :math:`S^{ul} = \mathbb E (\Delta(x, G(z)) + L^{ul}(x) - L^{ul}(G(z)))_+`.

    The loss network of semi-supervised CLS-GAN minimises S + γ_ul S^ul (THEORY.md §7; the weight is called
    ``gamma_ul``, not to be confused with the γ = 1/λ of :func:`loss_sensitive_scaled_objective`).  ``L_ul_real`` (..., n) and
    ``L_ul_fake`` (..., m) come from :func:`unlabelled_loss_values`; ``margin`` (..., n, m); returns (...).
    """
    return _hinge_mean(L_ul_real, L_ul_fake, margin, pairing)[0]


# ============================================================================================== tabular optimum
def tabular_minimiser(loss: Callable[[Tensor, Tensor], Tensor], w_real: Tensor, w_fake: Tensor, *,
                      lo: float = -10.0, hi: float = 10.0, xtol: float = 1e-16) -> Tensor:
    r"""Minimise a separable discriminator loss over a *tabular* D (one free value per grid point), numerically.

    For a loss of the form E_p A(D) + E_q B(D) (classic GAN on logits, least squares, hinge, WGAN) and a quadrature
    rule x_k with weights w_k, the population loss over a tabular D is Σ_k w_real_k A(D_k) + w_fake_k B(D_k), with
    w_real_k = w_k p(x_k) and w_fake_k = w_k q(x_k).  A and B are read off ``loss`` itself, one grid point per model
    (leading axis K, one sample each): ``loss(D, 0) = A(D) + B(0)`` and ``loss(0, D) = A(0) + B(D)``; the constants
    do not move the minimiser.  Each D_k is convex in its own term, so bisection on the sign of the autograd
    derivative converges to the minimiser (for a piecewise-linear loss: to the kink where the subgradient changes
    sign).  No closed form is used: this is the independent check of the optimal discriminators of THEORY.md §1-§3.

    Parameters
    ----------
    loss : callable ``(d_real (K, 1), d_fake (K, 1)) -> (K,)``
        A discriminator loss of this module, e.g. ``least_squares_discriminator_loss`` or
        ``functools.partial(least_squares_discriminator_loss, a=0.0, b=1.0)``; convex in D per point.
    w_real, w_fake : Tensor, shape (K,)
        Non-negative weights w_k p(x_k) and w_k q(x_k).
    lo, hi : float
        Bracket containing every minimiser (for logits: wider than max |log p/q|).
    xtol : float
        Final bracket width.

    Returns
    -------
    Tensor, shape (K,)
        The minimising table D_k (in the loss's own parameterisation: logits for the classic GAN).
    """
    w_real, w_fake = _tensor("w_real", w_real), _tensor("w_fake", w_fake)
    if w_real.ndim != 1 or w_real.shape != w_fake.shape:
        raise ValueError(f"w_real {tuple(w_real.shape)} and w_fake {tuple(w_fake.shape)} must be vectors of equal "
                         "length K")
    if bool(((w_real < 0) | (w_fake < 0) | torch.isnan(w_real) | torch.isnan(w_fake)).any()):
        raise ValueError("w_real and w_fake must be >= 0 (quadrature weight times density)")
    lo = check_hyperparameter("lo", lo, ())
    hi = check_hyperparameter("hi", hi, ())
    if not lo < hi:
        raise ValueError(f"lo must be < hi, got lo={lo}, hi={hi}")
    xtol = check_hyperparameter("xtol", xtol, (), lo=0.0, lo_open=True)
    K = w_real.shape[0]
    zero = torch.zeros(K, 1, dtype=w_real.dtype, device=w_real.device)
    a = torch.full((K,), lo, dtype=w_real.dtype, device=w_real.device)
    b = torch.full((K,), hi, dtype=w_real.dtype, device=w_real.device)
    for _ in range(max(1, math.ceil(math.log2((hi - lo) / xtol)))):
        mid = (0.5 * (a + b)).requires_grad_(True)
        with torch.enable_grad():
            obj = (w_real * loss(mid[:, None], zero) + w_fake * loss(zero, mid[:, None])).sum()
            (g,) = torch.autograd.grad(obj, mid)
        a, b = torch.where(g < 0, mid.detach(), a), torch.where(g < 0, b, mid.detach())
    return 0.5 * (a + b)


# ============================================================================================== a loss from formulas
# CustomLoss, compile_custom_loss and compile_expression live in lsgan_theory._losscompile (the sympy-to-torch
# compiler); they are loaded on first use so that the zoo does not import the compiler, nor the compiler the zoo twice.
_COMPILER = ("CustomLoss", "compile_custom_loss", "compile_expression")


def __getattr__(name: str):
    if name in _COMPILER:
        from . import _losscompile

        value = getattr(_losscompile, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
