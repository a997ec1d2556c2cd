"""A GAN loss from formulas: the compiler from sympy expressions in D to torch functions (issue 19).

:func:`compile_custom_loss` parses per-sample formulas with the whitelist parser of :mod:`lsgan_theory.symbolic`
(no ``eval``) and compiles the sympy tree by :func:`compile_expression`, one builder per node type; the result is a
:class:`CustomLoss` with the signature style of :mod:`lsgan_theory.losses` (raw outputs ``(..., n)``, ``(..., m)``,
a per-model value of shape ``(...)`` to minimise).  The three names are public through :mod:`lsgan_theory.losses`;
this module belongs to the losses unit (it shares that module's argument checks).
"""

from __future__ import annotations

import math  # noqa: F401  (the doctest of compile_custom_loss uses it)
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .losses import _tensor, _two_outputs

__all__ = ["CustomLoss", "compile_custom_loss", "compile_expression"]


@dataclass(frozen=True)
class CustomLoss:
    r"""A GAN loss given by per-sample formulas in D, compiled to torch (:func:`compile_custom_loss`).

    The discriminator's objective is :math:`\mathbb E_p\,\mathrm{real}(D) + \mathbb E_q\,\mathrm{fake}(D)`, maximised
    (``sense="max"``) or minimised (``"min"``); the generator minimises :math:`\mathbb E_q\, g(D)` with g the
    ``generator`` term, by default the zero-sum one (g = fake for ``max``, −fake for ``min``).  The network's raw
    output a is read as D = σ(a) when ``parametrisation == "sigmoid"`` (chosen when a term is undefined outside
    [0, 1], e.g. log D: :func:`lsgan_theory.symbolic.custom.on_unit_interval`), else D = a.

    ``d_loss(out_real, out_fake)`` and ``g_loss(out_fake)`` take raw outputs of shape (..., n), (..., m) and return
    the per-model quantity to *minimise*, shape (...), like every loss of this module.
    """

    real: object            # sympy expressions in D
    fake: object
    generator: object
    sense: str
    parametrisation: str
    texts: tuple            # the formulas as given (real, fake, generator)
    _real_fn: Callable = None
    _fake_fn: Callable = None
    _gen_fn: Callable = None

    def _d(self, out: Tensor) -> Tensor:
        return torch.sigmoid(out) if self.parametrisation == "sigmoid" else out

    def discriminator(self, out: Tensor) -> Tensor:
        """D from the network's raw output (σ(a) or a)."""
        return self._d(out)

    def d_loss(self, out_real: Tensor, out_fake: Tensor) -> Tensor:
        """The discriminator's loss to minimise: ∓(E_p real(D) + E_q fake(D)) (− for ``max``), shape (...)."""
        _two_outputs("out_real", out_real, "out_fake", out_fake)
        obj = self._real_fn(out_real).mean(-1) + self._fake_fn(out_fake).mean(-1)
        return -obj if self.sense == "max" else obj

    def g_loss(self, out_fake: Tensor) -> Tensor:
        """The generator's loss E_q g(D), shape (...)."""
        _tensor("out_fake", out_fake)
        return self._gen_fn(out_fake).mean(-1)


_TORCH_UNARY = {"exp": torch.exp, "tanh": torch.tanh, "Abs": torch.abs, "sign": torch.sign}


def compile_expression(expr, sigmoid: bool = False) -> Callable[[Tensor], Tensor]:
    r"""Compile a sympy expression in the symbol ``D`` (:data:`lsgan_theory.symbolic.D`) to a torch function of the
    network's raw output ``a``, by walking the expression tree (no ``eval``, no string ``lambdify``).

    Supported: numbers, D, + − × ÷, powers, log, exp, sqrt, Abs, Max/Min (at a tie the gradient goes to the first
    argument in sympy's order, a number first: Max(0, x) has relu's derivative 0 at x = 0), sign, Heaviside (½ at 0),
    tanh, and the forms sigmoid and softplus expand to.  With ``sigmoid=True``, D = σ(a).

    Numerical safety (documented clamps):

    * ``log(D)`` and ``log(1 − D)`` with D = σ(a) are computed as ``logsigmoid(a)``, ``logsigmoid(−a)`` (exact, finite
      for every float logit; no clamp); ``log(1 + exp(z))`` as ``softplus(z)``; ``1/(1 + exp(z))`` as ``σ(−z)``;
    * any other ``log(x)`` is ``log(max(x, tiny))``, tiny = ``torch.finfo(dtype).tiny`` (1.2e-38 in float32): a
      log of 0 gives log(tiny) ≈ −87 (float32) instead of −inf, and its gradient there is 0 (the clamp is flat);
      a *negative* argument — a formula used outside its domain — also lands on the clamp;
    * non-integer or negative powers ``x**k`` (sqrt included) use ``max(x, tiny)`` as the base for the same reason
      (sqrt(0) has an infinite derivative); integer powers ≥ 0 are exact.

    Anything else non-finite (an overflowing exp) is left to the trainer, which freezes the model that produced
    it (:mod:`lsgan_theory.ensemble.trainer`).

    Raises
    ------
    ValueError
        A function or symbol the compiler does not support (named).
    """
    if isinstance(expr, str):
        raise TypeError("expr: expected a sympy expression, got a string (parse it with "
                        "lsgan_theory.symbolic.custom.parse_terms)")
    return _build(expr, sigmoid)


def _tiny(x: Tensor) -> float:
    return torch.finfo(x.dtype).tiny


def _safe_log(x: Tensor) -> Tensor:
    """log(max(x, tiny)): finite at 0 and flat there (see :func:`compile_expression`)."""
    return torch.log(torch.clamp(x, min=_tiny(x)))


def _constant(v: float) -> Callable[[Tensor], Tensor]:
    return lambda a: torch.full_like(a, v)


def _build(e, sigmoid: bool) -> Callable[[Tensor], Tensor]:
    """The torch function of the raw output a that computes the sympy expression ``e`` (D = σ(a) with ``sigmoid``):
    leaves (D, numbers, constants) here, one builder per node type below."""
    import sympy as sp

    from .symbolic import D as _D

    if e == _D:
        return (lambda a: torch.sigmoid(a)) if sigmoid else (lambda a: a)
    if e.is_Number:
        if not e.is_real or not e.is_finite:
            raise ValueError(f"expression: the constant {e} is not a finite real number")
        return _constant(float(e))
    if e.free_symbols - {_D}:
        raise ValueError(f"expression: {e} has free symbols {sorted(map(str, e.free_symbols - {_D}))}; give every "
                         "parameter a number before compiling")
    if not e.has(_D):  # a constant such as log(2) or pi
        return _constant(float(e))
    for kind, builder in _node_builders():
        if isinstance(e, kind):
            return builder(e, sigmoid)
    name = type(e).__name__
    if name in _TORCH_UNARY and len(e.args) == 1:
        fx, op = _build(e.args[0], sigmoid), _TORCH_UNARY[name]
        return lambda a: op(fx(a))
    raise ValueError(f"expression: {name} in {e} is not supported by the torch compiler (supported: log, exp, "
                     "sqrt and powers, Abs, Max, Min, sign, Heaviside, tanh, sigmoid, softplus)")


def _node_builders() -> tuple:
    """(sympy node type, builder) in the order they are tried."""
    import sympy as sp

    return ((sp.Add, _build_add), (sp.Mul, _build_mul), (sp.log, _build_log), (sp.Pow, _build_pow),
            ((sp.Max, sp.Min), _build_max_min), (sp.Heaviside, _build_heaviside))


def _build_add(e, sigmoid: bool):
    fs = [_build(x, sigmoid) for x in e.args]
    return lambda a: _sum(f(a) for f in fs)


def _build_mul(e, sigmoid: bool):
    fs = [_build(x, sigmoid) for x in e.args]
    return lambda a: _prod(f(a) for f in fs)


def _build_log(e, sigmoid: bool):
    """log D and log(1 − D) under D = σ(a) as logsigmoid(±a); log(1 + exp z) as softplus(z); else a clamped log."""
    import sympy as sp

    from .symbolic import D as _D

    x = e.args[0]
    if sigmoid and x == _D:
        return lambda a: F.logsigmoid(a)
    if sigmoid and sp.expand(x - (1 - _D)) == 0:
        return lambda a: F.logsigmoid(-a)
    z = _one_plus_exp(x)
    if z is not None:
        fz = _build(z, sigmoid)
        return lambda a: F.softplus(fz(a))
    fx = _build(x, sigmoid)
    return lambda a: _safe_log(fx(a))


def _build_pow(e, sigmoid: bool):
    """1/(1 + exp z) as σ(−z); x**f(D) as exp(f log x); integer powers ≥ 0 exact; other powers of max(x, tiny)."""
    from .symbolic import D as _D

    base, ex = e.args
    if ex == -1:
        z = _one_plus_exp(base)
        if z is not None:
            fz = _build(z, sigmoid)
            return lambda a: torch.sigmoid(-fz(a))
    fb = _build(base, sigmoid)
    if ex.has(_D):
        fe = _build(ex, sigmoid)
        return lambda a: torch.exp(fe(a) * _safe_log(fb(a)))
    k = float(ex)
    if ex.is_Integer and k >= 0:
        n = int(ex)
        return lambda a: fb(a) ** n
    return lambda a: torch.clamp(fb(a), min=_tiny(a)) ** k


def _build_max_min(e, sigmoid: bool):
    import sympy as sp

    fs = [_build(x, sigmoid) for x in e.args]
    op = _max_first if isinstance(e, sp.Max) else _min_first
    return lambda a: _fold(op, [f(a) for f in fs])


def _build_heaviside(e, sigmoid: bool):
    fx = _build(e.args[0], sigmoid)
    return lambda a: torch.heaviside(fx(a), torch.tensor(0.5, dtype=a.dtype, device=a.device))


def _one_plus_exp(x):
    """z when ``x`` is 1 + exp(z), else None."""
    import sympy as sp

    if isinstance(x, sp.Add) and len(x.args) == 2 and sp.Integer(1) in x.args:
        other = [t for t in x.args if t != 1][0]
        if isinstance(other, sp.exp):
            return other.args[0]
    return None


def _sum(it):
    out = None
    for v in it:
        out = v if out is None else out + v
    return out


def _prod(it):
    out = None
    for v in it:
        out = v if out is None else out * v
    return out


def _max_first(x: Tensor, y: Tensor) -> Tensor:
    """max(x, y) whose gradient at a tie goes to x alone (``torch.maximum`` splits it ½–½).  sympy lists a number
    first in Max/Min, so Max(0, 1 − D) has relu's derivative 0 at the kink, as the named hinge loss; NaN propagates."""
    return torch.where((y > x) | torch.isnan(y), y, x)


def _min_first(x: Tensor, y: Tensor) -> Tensor:
    """min(x, y) with the gradient at a tie to x alone (see :func:`_max_first`)."""
    return torch.where((y < x) | torch.isnan(y), y, x)


def _fold(op, vals):
    out = vals[0]
    for v in vals[1:]:
        out = op(out, v)
    return out


def compile_custom_loss(real: str, fake: str, sense: str = "max", generator: str | None = None,
                        params: dict | None = None, parametrisation: str = "auto") -> CustomLoss:
    r"""A GAN loss from per-sample formulas in D, compiled to torch (issue 19).

    The formulas are parsed by the whitelist parser of :func:`lsgan_theory.symbolic.derive_custom` (no ``eval``) and
    compiled from the parsed sympy tree by :func:`compile_expression` (see there for the numerical clamps).

    Parameters
    ----------
    real, fake : str
        The discriminator's per-sample terms on real and generated points (e.g. ``"log(D)"``, ``"log(1 - D)"``).
    sense : {"max", "min"}
        Whether the discriminator maximises E_p real(D) + E_q fake(D) or minimises it.
    generator : str, optional
        The generator's per-sample term g(D) on fakes (minimised); default the zero-sum one.
    params : dict, optional
        Parameter values (numbers) for names the formulas use.
    parametrisation : {"auto", "sigmoid", "identity"}
        D = σ(a) or D = a for the network output a; "auto": sigmoid when a term is undefined at D = −½ or 3/2.

    Returns
    -------
    CustomLoss

    Examples
    --------
    >>> import torch
    >>> loss = compile_custom_loss("log(D)", "log(1 - D)")
    >>> bool(torch.allclose(loss.d_loss(torch.zeros(1, 3), torch.zeros(1, 3)), torch.tensor([2 * math.log(2)])))
    True
    """
    from .symbolic.custom import on_unit_interval, parse_terms

    if sense not in ("max", "min"):
        raise ValueError(f"sense: expected 'max' or 'min', got {sense!r}")
    if parametrisation not in ("auto", "sigmoid", "identity"):
        raise ValueError(f"parametrisation: expected 'auto', 'sigmoid' or 'identity', got {parametrisation!r}")
    for name, v in (("real", real), ("fake", fake), ("generator", generator)):
        if v is not None and not isinstance(v, str):
            raise TypeError(f"{name}: expected a formula string, got {type(v).__name__}")
    terms = parse_terms(real, fake, generator, params)
    r, fk, g = terms["real"], terms["fake"], terms["generator"]
    if params and any(v is None for v in params.values()):
        raise ValueError(f"params: every parameter needs a number to train, got {params!r}")
    sig = on_unit_interval([r, fk, g]) if parametrisation == "auto" else parametrisation == "sigmoid"
    gterm = g if g is not None else (fk if sense == "max" else -fk)
    try:
        fns = [compile_expression(e, sig) for e in (r, fk, gterm)]
    except ValueError as exc:
        raise ValueError(f"real/fake/generator: {exc}") from None
    return CustomLoss(r, fk, g, sense, "sigmoid" if sig else "identity", (real, fake, generator), *fns)
