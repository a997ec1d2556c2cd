"""Symbolic engine (sympy): optimal discriminators, the divergence each GAN loss minimises, f-GAN conjugates, and
the checker of the machine-checked proofs in ``proofs/``.

Public API
----------
``derive(family, **params)`` → :class:`Derivation` with ``d_star``, ``value_at_optimum``, ``divergence`` (sympy
expressions in the symbols ``p``, ``q``), ``f`` (generator in ``u`` = p/q) and ``steps``.
``derive_custom(real, fake, sense=, generator=, params=)`` → :class:`CustomDerivation`: the same for a loss
given by formulas in D (whitelist parser), plus proper/divergence verdicts and the generator's gradient.
``least_squares_classification()`` — which (a, b, c) make the LSGAN generator objective a divergence.
``compare_with_table(row)`` — an f-GAN conjugate derived by Legendre transform against THEORY.md §8.
``check_proof(path)`` / ``check_all()`` — verify every ``check`` block of the Markdown proofs.
``parse_expression(text, symbols=...)`` — the whitelist parser for user-written expressions (no eval).

LS-GAN = Loss-Sensitive GAN (``loss_sensitive``); LSGAN = Least-Squares GAN (``least_squares``).
"""

from ._limits import SymbolicTimeout, default_seconds, limited
from .custom import CustomDerivation, derive_custom
from .core import NAMED, D, optimise_piecewise_linear, p, q, t, u
from .families import (FAMILIES, Derivation, LeastSquaresClassification, a, b, c, derive, integrand,
                       least_squares_classification)
from .fgan import FGAN_ROWS, compare_with_table, derive_conjugate
from .parse import ExpressionError, parse_expression

__all__ = [
    "derive", "Derivation", "derive_custom", "CustomDerivation", "FAMILIES", "integrand", "least_squares_classification", "LeastSquaresClassification",
    "compare_with_table", "derive_conjugate", "FGAN_ROWS", "NAMED", "optimise_piecewise_linear",
    "SymbolicTimeout", "limited", "default_seconds", "parse_expression", "ExpressionError", "p", "q", "u", "t", "D", "a", "b", "c",
]
