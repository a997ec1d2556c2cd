"""A whitelist parser for user-written expressions: no ``eval``, no ``sympify`` of the raw string.

:func:`parse_expression` tokenises the text and builds sympy objects directly by recursive descent (precedence
climbing).  What it accepts:

* numbers: integers, decimals and exponent notation (``12``, ``0.5``, ``.5``, ``2.5e-3``), kept **exact** as sympy
  ``Rational`` (``0.1`` is 1/10, not the binary float);
* the operators ``+ - * /``, powers ``^`` and ``**`` (right-associative, binding tighter than unary minus:
  ``-x^2 = -(x^2)``, ``2^-1 = 1/2``), unary ``+``/``-`` and parentheses;
* named constants (default :data:`CONSTANTS`: ``pi``, ``E``);
* function calls from a whitelist (default :data:`FUNCTIONS`: ``log``, ``exp``, ``sqrt``, ``Abs``, ``Max``,
  ``Min``; a caller passes its own mapping, e.g. :data:`FUNCTIONS` | :data:`EXTRA_FUNCTIONS`);
* the free symbols the caller allows (``symbols={"D": D, "p": p, "q": q}`` for a loss written in D, p, q).

Everything else is refused with a :class:`ExpressionError` (a ``ValueError``) that names the argument, the text and
the position: unknown names (Python builtins, attributes, ``__import__``, ...), the symbols of the engine (``p``, ``q``,
``D``, ``u``, ``t``) when the caller did not allow them, and inputs beyond the size limits of :class:`Limits`
(length, nesting depth, digits per number, exponent magnitude, estimated digits of an exact power), checked *before*
sympy computes anything, so ``10**10**10`` is refused at once.  The whole parse runs under the sympy time limit
(:func:`lsgan_theory.symbolic.limited`, ``LSGAN_SYMPY_TIMEOUT``).

Examples
--------
>>> from lsgan_theory.symbolic.parse import parse_expression
>>> parse_expression("-1/2 + 3e-1")
-1/5
>>> import sympy as sp; D = sp.Symbol("D")
>>> parse_expression("log(1 - D)", symbols={"D": D})
log(1 - D)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Mapping

import sympy as sp

from ._limits import limited

__all__ = ["parse_expression", "ExpressionError", "Limits", "FUNCTIONS", "EXTRA_FUNCTIONS", "CONSTANTS",
           "ENGINE_SYMBOLS"]


class ExpressionError(ValueError):
    """An expression string that the whitelist parser refuses (bad syntax, an unknown or refused name, too large)."""


@dataclass(frozen=True)
class Limits:
    """Size limits of :func:`parse_expression` (all checked before sympy evaluates anything).

    length : characters of the whole text.
    depth : nesting depth (parentheses, function calls, unary signs and powers all count).
    digits : digits of one number literal (mantissa).
    exponent : magnitude of a literal's decimal exponent (``1e400``) and of any numeric power exponent.
    power_digits : estimated decimal digits of an exact numeric power ``r**k`` (|k|·log10 of numerator·denominator).
    """

    length: int = 2000
    depth: int = 60
    digits: int = 100
    exponent: int = 1000
    power_digits: int = 10_000


# name -> (sympy callable, minimum arity, maximum arity or None for variadic)
FUNCTIONS: Mapping[str, tuple[Callable, int, int | None]] = {
    "log": (sp.log, 1, 1),
    "exp": (sp.exp, 1, 1),
    "sqrt": (sp.sqrt, 1, 1),
    "Abs": (sp.Abs, 1, 1),
    "Max": (sp.Max, 1, None),
    "Min": (sp.Min, 1, None),
}

# further functions a caller may whitelist (e.g. for user-written loss formulas)
EXTRA_FUNCTIONS: Mapping[str, tuple[Callable, int, int | None]] = {
    "sign": (sp.sign, 1, 1),
    "Heaviside": (sp.Heaviside, 1, 1),
    "tanh": (sp.tanh, 1, 1),
    "sigmoid": (lambda z: 1 / (1 + sp.exp(-z)), 1, 1),
    "softplus": (lambda z: sp.log(1 + sp.exp(z)), 1, 1),
}

CONSTANTS: Mapping[str, sp.Expr] = {"pi": sp.pi, "E": sp.E}

# the symbols of the symbolic engine: refused by name unless the caller allows them
ENGINE_SYMBOLS: Mapping[str, str] = {
    "p": "the data density", "q": "the generator density", "D": "the discriminator value",
    "u": "the density ratio p/q", "t": "the conjugate variable", "x": "the sample point",
}

_TOKEN = re.compile(r"""
    (?P<ws>[ \t]+)
  | (?P<num>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|[-+*/^(),])
""", re.VERBOSE)


def _tokenise(text: str, name: str):
    pos, out = 0, []
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ExpressionError(f"{name}: cannot parse {text!r}: character {text[pos]!r} at position {pos} is not "
                                  "allowed (numbers, names, + - * / ^ ** ( ) , only)")
        kind = m.lastgroup
        if kind != "ws":
            out.append((kind, m.group(), pos))
        pos = m.end()
    out.append(("end", "", len(text)))
    return out


class _Parser:
    def __init__(self, text, name, symbols, functions, constants, limits):
        self.text, self.name, self.limits = text, name, limits
        self.symbols, self.functions, self.constants = symbols, functions, constants
        self.toks = _tokenise(text, name)
        self.i = 0
        self.depth = 0

    # -- helpers
    def fail(self, msg, pos=None):
        pos = self.toks[self.i][2] if pos is None else pos
        raise ExpressionError(f"{self.name}: cannot parse {self.text!r}: {msg} at position {pos}")

    def peek(self):
        return self.toks[self.i]

    def take(self):
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, value):
        kind, v, pos = self.peek()
        if v != value or kind == "end":
            self.fail(f"expected {value!r}, found {v!r}" if kind != "end" else f"expected {value!r}, found the end")
        self.i += 1

    def enter(self):
        self.depth += 1
        if self.depth > self.limits.depth:
            self.fail(f"nesting deeper than {self.limits.depth} levels")

    # -- grammar
    def parse(self):
        e = self.expr()
        kind, v, pos = self.peek()
        if kind != "end":
            self.fail(f"unexpected {v!r}")
        return e

    def expr(self):
        e = self.term()
        while self.peek()[1] in ("+", "-") and self.peek()[0] == "op":
            op = self.take()[1]
            r = self.term()
            e = e + r if op == "+" else e - r
        return e

    def term(self):
        e = self.unary()
        while self.peek()[1] in ("*", "/") and self.peek()[0] == "op":
            op, _, pos = self.take()[1], None, self.toks[self.i - 1][2]
            r = self.unary()
            if op == "*":
                e = e * r
            else:
                if r == 0:
                    self.fail("division by zero", pos)
                e = e / r
        return e

    def unary(self):
        kind, v, _ = self.peek()
        if kind == "op" and v in ("+", "-"):
            self.take()
            self.enter()
            e = self.unary()
            self.depth -= 1
            return -e if v == "-" else e
        return self.power()

    def power(self):
        base = self.atom()
        kind, v, pos = self.peek()
        if kind == "op" and v in ("^", "**"):
            self.take()
            self.enter()
            ex = self.unary()  # right-associative; the exponent may carry a sign: 2^-1
            self.depth -= 1
            return self.checked_pow(base, ex, pos)
        return base

    def checked_pow(self, base, ex, pos):
        lim = self.limits
        if ex.is_Number:
            if abs(ex) > lim.exponent:
                self.fail(f"exponent {ex} exceeds the limit {lim.exponent} in magnitude", pos)
            if base.is_Rational and ex.is_Rational and base != 0:
                num, den = abs(base.p), base.q
                digits = abs(float(ex)) * (math.log10(num) + math.log10(den))
                if digits > lim.power_digits:
                    self.fail(f"the exact power has about {digits:.3g} digits, more than the limit "
                              f"{lim.power_digits}", pos)
            if base == 0 and ex.is_negative:
                self.fail("division by zero (0 to a negative power)", pos)
        elif ex.has(sp.Float):
            self.fail("a floating-point exponent", pos)
        return sp.Pow(base, ex)

    def atom(self):
        kind, v, pos = self.take()
        if kind == "num":
            return self.number(v, pos)
        if kind == "name":
            if self.peek()[1] == "(" and self.peek()[0] == "op":
                return self.call(v, pos)
            return self.lookup(v, pos)
        if kind == "op" and v == "(":
            self.enter()
            e = self.expr()
            self.expect(")")
            self.depth -= 1
            return e
        if kind == "end":
            self.fail("unexpected end of the expression", pos)
        self.fail(f"unexpected {v!r}", pos)

    def number(self, v, pos):
        m = re.fullmatch(r"([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?", v)
        whole, frac, exp = m.group(1) or "", m.group(2) or "", m.group(3)
        digits = (whole + frac).lstrip("0")
        if len(whole) + len(frac) > self.limits.digits:
            self.fail(f"the number {v[:20]}... has more than {self.limits.digits} digits", pos)
        e10 = 0
        if exp is not None:
            if len(exp.lstrip("+-").lstrip("0")) > 6 or abs(int(exp)) > self.limits.exponent:
                self.fail(f"the exponent of {v!r} exceeds the limit {self.limits.exponent} in magnitude", pos)
            e10 = int(exp)
        e10 -= len(frac)
        mant = int(digits) if digits else 0
        return sp.Rational(mant * 10**e10) if e10 >= 0 else sp.Rational(mant, 10**(-e10))

    def lookup(self, v, pos):
        if v in self.symbols:
            return self.symbols[v]
        if v in self.constants:
            return self.constants[v]
        if v in self.functions:
            self.fail(f"function {v!r} needs arguments in parentheses", pos)
        if v in ENGINE_SYMBOLS:
            self.fail(f"{v!r} is the symbolic engine's symbol for {ENGINE_SYMBOLS[v]} and is not allowed here", pos)
        allowed = sorted(self.symbols) + sorted(self.constants)
        self.fail(f"unknown name {v!r} (allowed names: {', '.join(allowed) or 'none'}; functions: "
                  f"{', '.join(sorted(self.functions)) or 'none'})", pos)

    def call(self, v, pos):
        if v not in self.functions:
            if v in self.symbols or v in self.constants:
                self.fail(f"{v!r} is not a function", pos)
            self.fail(f"unknown function {v!r} (allowed: {', '.join(sorted(self.functions)) or 'none'})", pos)
        fn, lo, hi = self.functions[v]
        self.expect("(")
        self.enter()
        args = []
        if self.peek()[1] != ")":
            args.append(self.expr())
            while self.peek()[1] == "," and self.peek()[0] == "op":
                self.take()
                args.append(self.expr())
        self.expect(")")
        self.depth -= 1
        if len(args) < lo or (hi is not None and len(args) > hi):
            want = f"{lo}" if hi == lo else (f"at least {lo}" if hi is None else f"{lo} to {hi}")
            self.fail(f"{v}() takes {want} argument{'s' if want != '1' else ''}, got {len(args)}", pos)
        return fn(*args)


def parse_expression(text: str, *, name: str = "expression", symbols: Mapping[str, sp.Basic] | None = None,
                     functions: Mapping[str, tuple[Callable, int, int | None]] | None = None,
                     constants: Mapping[str, sp.Expr] | None = None, limits: Limits | None = None,
                     seconds: float | None = None) -> sp.Expr:
    """Parse ``text`` into a sympy expression without evaluating any Python.

    Parameters
    ----------
    text : str
        The expression, e.g. ``"1/2"``, ``"-1"``, ``"2.5e-3"``, ``"b - 2"``, ``"log(1 - D)"``.
    name : str
        The argument's name, used in every error message (``"a"`` for ``--a``).
    symbols : mapping str -> sympy Symbol, optional
        The free symbols allowed (default none).  Other names are refused; the engine's own symbols
        (:data:`ENGINE_SYMBOLS`: p, q, D, u, t, x) are refused by name with what they stand for.
    functions : mapping, optional
        name -> (sympy callable, minimum arity, maximum arity or None); default :data:`FUNCTIONS`.
    constants : mapping, optional
        name -> sympy constant; default :data:`CONSTANTS` (pi, E).
    limits : Limits, optional
        Size limits (default :class:`Limits`()).
    seconds : float, optional
        Time limit of the whole parse (default ``LSGAN_SYMPY_TIMEOUT`` or 20 s).

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ExpressionError (a ValueError)
        Bad syntax, an unknown or refused name, a wrong number of function arguments, a size limit exceeded, or a
        result that is not an expression (the message names ``name``, the text and the position).
    TypeError
        ``text`` is not a string.
    lsgan_theory.symbolic.SymbolicTimeout
        The parse (with sympy's automatic simplification) did not finish in time.
    """
    if not isinstance(text, str):
        raise TypeError(f"{name}: expected an expression string, got {type(text).__name__}")
    limits = limits or Limits()
    if len(text) > limits.length:
        raise ExpressionError(f"{name}: the expression has {len(text)} characters, more than the limit "
                              f"{limits.length}")
    if not text.strip():
        raise ExpressionError(f"{name}: the expression is empty")
    symbols = dict(symbols or {})
    for k, s in symbols.items():
        if not isinstance(k, str) or not isinstance(s, sp.Basic):
            raise TypeError(f"symbols: expected a mapping of names to sympy objects, got {k!r}: {s!r}")
    parser = _Parser(text, name, symbols, dict(FUNCTIONS if functions is None else functions),
                     dict(CONSTANTS if constants is None else constants), limits)
    expr = limited(parser.parse, what=f"parsing {name}", seconds=seconds)
    if not isinstance(expr, sp.Expr):
        raise ExpressionError(f"{name}: {text!r} is not an arithmetic expression")
    return expr
