"""Numerical counterparts of symbolic results: vectorised numpy functions of the density values (p, q) via
``sympy.lambdify``, and agreement with quadrature from :mod:`lsgan_theory.divergences`.

A symbolic identity ``∫ value_at_optimum = constant + scale · named`` is checked on a density pair (P, Q) by
integrating the lambdified left side with ``divergences.integrate_pointwise`` and evaluating the named divergence
with its own quadrature routine (an independent implementation); they must agree within the sum of the two error
bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp

from .core import NAMED, D, p, q

__all__ = ["lambdify_pq", "lambdify_pqd", "QuadratureCheck", "check_against_quadrature"]

_TINY = np.finfo(np.float64).tiny  # 2.2e-308


def lambdify_pq(expr) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``fn(p_values, q_values)`` evaluating ``expr(p, q)`` elementwise (float64 arrays of any broadcastable
    shapes).  Density values are floored at the smallest normal float so that 0·log 0 terms (a density that
    underflows or vanishes outside its support) evaluate to their limit 0 instead of NaN; the change to the
    integral is below 1e-300."""
    f = sp.lambdify((p, q), _expr(expr), modules="numpy")

    def fn(pv, qv):
        pv = np.maximum(np.asarray(pv, dtype=np.float64), _TINY)
        qv = np.maximum(np.asarray(qv, dtype=np.float64), _TINY)
        with np.errstate(all="ignore"):
            out = np.asarray(f(pv, qv), dtype=np.float64) * np.ones(np.broadcast(pv, qv).shape)
        return out

    return fn


def lambdify_pqd(expr) -> Callable:
    """``fn(p_values, q_values, d_values)`` for an integrand in (D, p, q)."""
    return sp.lambdify((p, q, D), _expr(expr), modules="numpy")


def _expr(expr):
    # lambdify would sympify (eval) a string; user text goes through lsgan_theory.symbolic.parse.parse_expression
    if isinstance(expr, str):
        raise TypeError("expr: expected a sympy expression, got a string (parse it with "
                        "lsgan_theory.symbolic.parse.parse_expression(text, symbols={'p': p, 'q': q, 'D': D}))")
    return expr


@dataclass(frozen=True)
class QuadratureCheck:
    family: str
    p: str
    q: str
    symbolic: float          # ∫ value_at_optimum by quadrature of the lambdified integrand
    symbolic_err: float
    reference: float         # constant + scale · named, the named divergence by its own quadrature
    reference_err: float
    tolerance: float

    @property
    def difference(self) -> float:
        return abs(self.symbolic - self.reference)

    @property
    def agrees(self) -> bool:
        if np.isinf(self.symbolic) or np.isinf(self.reference):  # a divergent integral on both sides
            return bool(self.symbolic == self.reference)
        return self.difference <= self.tolerance


def check_against_quadrature(derivation, P, Q) -> QuadratureCheck:
    """Integrate ``derivation.value_at_optimum`` over (P, Q) and compare with ``constant + scale · named(P, Q)``.

    Tolerance: the two quadrature error bounds (each conservative, see ``divergences``) plus 1e-12·(1 + |value|)
    for the float64 rounding of combining the terms (constant, scale) — well above a few ulp, far below any
    mistake in a derivation.
    """
    from .. import divergences

    params = set().union(*(e.free_symbols for e in (derivation.value_at_optimum, derivation.scale,
                                                    derivation.constant))) - {p, q}
    if params:
        raise ValueError(f"derivation: has free parameters {sorted(map(str, params))}; derive with numbers first")
    est = divergences.integrate_pointwise(lambdify_pq(derivation.value_at_optimum), P, Q)
    named = NAMED[derivation.named].numeric(P, Q)
    scale, const = float(derivation.scale), float(derivation.constant)
    ref = const + scale * named.value
    ref_err = abs(scale) * named.abserr
    tol = est.abserr + ref_err + 1e-12 * (1 + abs(ref))
    return QuadratureCheck(derivation.family, P.spec, Q.spec, est.value, est.abserr, ref, ref_err, tol)
