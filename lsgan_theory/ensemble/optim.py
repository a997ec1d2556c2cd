"""Functional optimisers over stacked parameters, optax style: pure ``init`` / ``update`` pairs.

Every parameter tensor has a leading model axis E.  Hyperparameters are floats or tensors of shape ``(E,)`` (one
value per model), broadcast over the remaining axes; the state (moments, step counts) is per model too, so model e's
update depends only on model e's gradients, state and hyperparameters.  The formulas are those of ``torch.optim``
(the tests compare against it model by model):

* SGD with momentum μ:   buf ← μ buf + g;   p ← p − η buf.
* RMSProp (α, ε):         v ← α v + (1 − α) g²;   p ← p − η g / (√v + ε).
* Adam (β₁, β₂, ε):       m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;  t ← t + 1;
                          p ← p − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)      (Kingma & Ba 2015).

``update(grads, state, params)`` returns ``(updates, new_state)``; :func:`apply_updates` adds them and
:func:`masked` keeps the old parameters *and* state of frozen models (a diverged model is not updated at all).

Adam also has an in-place form for the trainer's hot loop (issue 28): ``Optimizer.update_(grads, state, params,
models)`` updates the parameters and state of the listed models in place with torch's fused Adam kernel
(``torch._fused_adam_``: one pass over p, g, m, v instead of a dozen tensor operations and their temporaries), one
call per group of models sharing (lr, β₁, β₂, ε), on each model's own rows -- so model e's arithmetic does not
depend on which other models are in the call -- and leaves every other model untouched (no masking pass).  The
formulas are the same (the tests compare both forms with ``torch.optim.Adam``); the rounding differs.
:func:`adam_step_bound` bounds one in-place step, so the trainer knows before the update which models could
overflow (and keeps a copy of only those).
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import torch

from ..losses import check_hyperparameter

__all__ = ["Optimizer", "sgd", "rmsprop", "adam", "apply_updates", "masked", "by_name", "adam_step_bound"]


class Optimizer(NamedTuple):
    """A pure optimiser: ``init(params) -> state`` and ``update(grads, state, params) -> (updates, state)``."""

    init: Callable
    update: Callable
    update_: Callable | None = None  # in place, for the models listed (Adam); None: use ``update``
    hyper: dict | None = None  # the hyperparameters as one float per model (the in-place form's groups)


def _hyper(name: str, value, lo: float, hi: float, lo_open: bool = True, hi_open: bool = False):
    """A float or (E,) tensor in the given range (``lsgan_theory.losses.check_hyperparameter``, the one validator)."""
    lead = tuple(value.shape[:1]) if isinstance(value, torch.Tensor) else ()
    check_hyperparameter(name, value, lead, lo=lo, lo_open=lo_open, hi=None if math.isinf(hi) else hi,
                         hi_open=hi_open)
    return value


def _bc(h, p: torch.Tensor):
    """Broadcast a float or (E,) hyperparameter against a parameter of shape (E, ...)."""
    if isinstance(h, torch.Tensor) and h.ndim == 1:
        return h.to(device=p.device, dtype=p.dtype).reshape((-1,) + (1,) * (p.ndim - 1))
    return float(h)


def sgd(lr, momentum=0.0) -> Optimizer:
    """Stochastic gradient descent with (heavy-ball) momentum; ``lr``, ``momentum`` floats or (E,) tensors."""
    _hyper("lr", lr, 0.0, float("inf"), hi_open=True)
    _hyper("momentum", momentum, 0.0, 1.0, lo_open=False, hi_open=True)

    def init(params):
        return {"buf": tuple(torch.zeros_like(p) for p in params)}

    def update(grads, state, params=None):
        bufs = tuple(_bc(momentum, g) * b + g for g, b in zip(grads, state["buf"]))
        return tuple(-_bc(lr, b) * b for b in bufs), {"buf": bufs}

    return Optimizer(init, update)


def rmsprop(lr, alpha=0.99, eps=1e-8) -> Optimizer:
    """RMSProp (Tieleman & Hinton 2012) as in ``torch.optim.RMSprop`` (no momentum, not centred)."""
    _hyper("lr", lr, 0.0, float("inf"), hi_open=True)
    _hyper("alpha", alpha, 0.0, 1.0, lo_open=False, hi_open=True)
    _hyper("eps", eps, 0.0, float("inf"), hi_open=True)

    def init(params):
        return {"v": tuple(torch.zeros_like(p) for p in params)}

    def update(grads, state, params=None):
        vs = tuple(_bc(alpha, g) * v + (1 - _bc(alpha, g)) * g * g for g, v in zip(grads, state["v"]))
        ups = tuple(-_bc(lr, g) * g / (v.sqrt() + _bc(eps, g)) for g, v in zip(grads, vs))
        return ups, {"v": vs}

    return Optimizer(init, update)


def adam(lr, b1=0.9, b2=0.999, eps=1e-8) -> Optimizer:
    """Adam (Kingma & Ba 2015) as in ``torch.optim.Adam``; the step count t is kept per model."""
    _hyper("lr", lr, 0.0, float("inf"), hi_open=True)
    _hyper("b1", b1, 0.0, 1.0, lo_open=False, hi_open=True)
    _hyper("b2", b2, 0.0, 1.0, lo_open=False, hi_open=True)
    _hyper("eps", eps, 0.0, float("inf"), hi_open=True)

    def init(params):
        E = params[0].shape[0]
        return {"m": tuple(torch.zeros_like(p) for p in params), "v": tuple(torch.zeros_like(p) for p in params),
                "t": torch.zeros(E, dtype=params[0].dtype, device=params[0].device)}

    def update(grads, state, params=None):
        t = state["t"] + 1
        # β m + (1 − β) g as one fused lerp per tensor: m + (1 − β)(g − m)
        ms = tuple(torch.lerp(m, g, 1 - _bc(b1, g)) for g, m in zip(grads, state["m"]))
        vs = tuple(torch.lerp(v, g * g, 1 - _bc(b2, g)) for g, v in zip(grads, state["v"]))
        ups = []
        for g, m, v in zip(grads, ms, vs):
            tt = t.reshape((-1,) + (1,) * (g.ndim - 1))
            bc1 = 1 - _bc(b1, g) ** tt
            bc2 = 1 - _bc(b2, g) ** tt
            ups.append(-(_bc(lr, g) / bc1) * m / (v.sqrt() / bc2.sqrt() + _bc(eps, g)))
        return tuple(ups), {"m": ms, "v": vs, "t": t}

    def update_(grads, state, params, models) -> None:
        """Adam in place for the model positions ``models`` (their step counts t += 1 first); others untouched."""
        if not models:
            return
        E = params[0].shape[0]
        t = state["t"]
        on = torch.zeros(E, dtype=t.dtype, device=t.device)
        on[models] = 1
        t.add_(on)
        hyp = _per_model_floats(E)
        # torch's fused kernel walks each tensor's memory in order: a parameter whose layout is not row-major (e.g.
        # a QR factor, column-major) would be paired element by element with a gradient of another layout and
        # updated at the wrong entries -- silently (issue 32: an orthogonal initialiser trained nothing).
        for k, x in enumerate((*params, *state["m"], *state["v"])):
            if not x.is_contiguous():
                raise ValueError(f"params: Adam's in-place update needs contiguous tensors; tensor {k % len(params)} "
                                 f"of the {('parameters', 'first moments', 'second moments')[k // len(params)]} has "
                                 f"strides {x.stride()} for shape {tuple(x.shape)} (make it .contiguous() first)")
        grads = tuple(g if g.is_contiguous() else g.contiguous() for g in grads)
        rows = [tuple(x.unbind(0)) for x in (*params, *grads, *state["m"], *state["v"])]
        n = len(params)
        t_rows = t.unbind(0)
        groups: dict = {}
        for e in models:
            groups.setdefault(hyp[e], []).append(e)
        for (lr_, b1_, b2_, eps_), members in groups.items():
            pick = lambda k: [rows[k][e] for e in members]  # noqa: E731
            torch._fused_adam_([r for k in range(n) for r in pick(k)],
                               [r for k in range(n, 2 * n) for r in pick(k)],
                               [r for k in range(2 * n, 3 * n) for r in pick(k)],
                               [r for k in range(3 * n, 4 * n) for r in pick(k)], [],
                               [t_rows[e] for _ in range(n) for e in members],
                               lr=lr_, beta1=b1_, beta2=b2_, weight_decay=0.0, eps=eps_, amsgrad=False,
                               maximize=False)

    def _per_model_floats(E):
        vals = [h.tolist() if isinstance(h, torch.Tensor) else [float(h)] * E for h in (lr, b1, b2, eps)]
        return list(zip(*vals))

    return Optimizer(init, update, update_, {"lr": lr, "b1": b1, "b2": b2, "eps": eps})


def adam_step_bound(hyper: dict, t: torch.Tensor) -> torch.Tensor:
    """(E,) float64: a bound on |Δp| of Adam's next step (count t + 1) for every parameter of each model.

    Adam started from m = v = 0 with constant β's has m_t = (1−β₁) Σ β₁^{t−i} g_i and v_t = (1−β₂) Σ β₂^{t−i} g_i²,
    so by Cauchy–Schwarz |m_t| ≤ (1−β₁)/√(1−β₂) · √(Σ_{k<t} r^k) · √v_t with r = β₁²/β₂, and the step
    lr/(1−β₁ᵗ) · m_t/(√v_t/√(1−β₂ᵗ) + ε) is at most lr √(1−β₂ᵗ)/(1−β₁ᵗ) · (1−β₁)/√(1−β₂) · √(Σ r^k), whatever
    the gradients (ε only lowers it; an underflowed v_t = 0 leaves |m_t| ≤ (1−β₁)·tiny and the step ≤ lr·tiny/ε).
    β₂ = 0 gives no bound (inf).  The trainer doubles it against rounding.
    """
    E = t.shape[0]

    def per(h):
        return (h.to(torch.float64).cpu() if isinstance(h, torch.Tensor) else torch.full((E,), float(h),
                                                                                        dtype=torch.float64))

    lr, b1, b2 = per(hyper["lr"]), per(hyper["b1"]), per(hyper["b2"])
    tt = t.to(torch.float64).cpu() + 1
    r = b1.square() / b2
    geo = torch.where(r == 1, tt, (1 - r.pow(tt)) / (1 - r))
    bound = lr * torch.sqrt(1 - b2.pow(tt)) / (1 - b1.pow(tt)) * (1 - b1) / torch.sqrt(1 - b2) * torch.sqrt(geo)
    return torch.where(b2 > 0, bound, torch.full_like(bound, math.inf)).nan_to_num(nan=math.inf, posinf=math.inf)


def apply_updates(params, updates) -> tuple[torch.Tensor, ...]:
    """p + u for every parameter tensor."""
    return tuple(p + u for p, u in zip(params, updates))


def masked(new, old, active: torch.Tensor):
    """Per model: ``new`` where ``active[e]`` else ``old``; works on tuples, dicts of tuples and (E,) tensors.

    This is how frozen (diverged) models are held fixed: their parameters and optimiser state are selected from the
    previous step with ``torch.where`` (not multiplied by a mask, so NaN in a frozen model cannot leak).
    """
    if isinstance(new, dict):
        return {k: masked(new[k], old[k], active) for k in new}
    if isinstance(new, (tuple, list)):
        return tuple(masked(n, o, active) for n, o in zip(new, old))
    return torch.where(active.reshape((-1,) + (1,) * (new.ndim - 1)), new, old)


def by_name(name: str, lr, b1=0.9, b2=0.999, eps=1e-8) -> Optimizer:
    """``"adam"`` (lr, b1, b2, eps), ``"rmsprop"`` (lr, alpha = b2, eps), ``"sgd"`` (lr, momentum = b1)."""
    if name == "adam":
        return adam(lr, b1, b2, eps)
    if name == "rmsprop":
        return rmsprop(lr, b2, eps)
    if name == "sgd":
        return sgd(lr, b1)
    raise ValueError(f"optimizer: must be one of 'adam', 'rmsprop', 'sgd', got {name!r}")
