"""Shared machinery of the symbolic engine: symbols, readable steps, exact optimisation of piecewise-linear
(kinked) integrands, and the identification of a pointwise objective as ``constant + D_f`` with a named f.

Conventions (THEORY.md §0): ``p`` is the data density, ``q`` the generator density, both positive symbols; an
f-divergence is ``D_f(P‖Q) = ∫ q f(p/q) dx`` with ``f`` convex and ``f(1) = 0``; ``u`` stands for the ratio p/q.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import sympy as sp

from ._limits import limited

__all__ = [
    "p", "q", "u", "t", "D", "Step", "NamedDivergence", "NAMED", "Identification", "identify", "match_generator",
    "PLOptimum", "optimise_piecewise_linear", "region_branches", "is_kinked", "ssimplify", "zero_identity",
]

p = sp.Symbol("p", positive=True)
q = sp.Symbol("q", positive=True)
u = sp.Symbol("u", positive=True)
t = sp.Symbol("t", real=True)
D = sp.Symbol("D", real=True)

_KINKS = (sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside)


@dataclass(frozen=True)
class Step:
    """One readable step of a derivation: a sentence and the formula it establishes (plain text and LaTeX)."""

    text: str
    formula: str
    latex: str

    @classmethod
    def of(cls, text: str, lhs, rhs=None, rel: str = "=") -> "Step":
        if rhs is None:
            return cls(text, sp.sstr(lhs), sp.latex(lhs))
        lat_rel = {"=": "=", "<=": r"\le", ">=": r"\ge", "<": "<", ">": ">", "in": r"\in"}[rel]
        lhs_s = lhs if isinstance(lhs, str) else sp.sstr(lhs)
        lhs_l = lhs if isinstance(lhs, str) else sp.latex(lhs)
        return cls(text, f"{lhs_s} {rel} {sp.sstr(rhs)}", f"{lhs_l} {lat_rel} {sp.latex(rhs)}")

    def plain(self) -> str:
        return f"{self.text}\n    {self.formula}" if self.formula else self.text


def ssimplify(expr, what: str = "simplify"):
    """``sympy.simplify`` under the time limit."""
    return limited(sp.simplify, expr, what=what)


def _as_expr(expr):
    """A sympy object from a sympy object or a Python number; strings are refused (never ``sympify`` a string: it
    evaluates Python; parse user text with :func:`lsgan_theory.symbolic.parse.parse_expression`)."""
    if isinstance(expr, str):
        raise TypeError("expr: expected a sympy expression, got a string (parse it with "
                        "lsgan_theory.symbolic.parse.parse_expression)")
    return sp.sympify(expr, strict=True)


def _zero(expr) -> bool:
    """Exact check that ``expr`` is identically 0 (simplify, then a log-expanding second attempt)."""
    expr = _as_expr(expr)
    if expr == 0:
        return True
    e = ssimplify(expr, "simplify (identity check)")
    if e == 0:
        return True
    e2 = limited(lambda z: sp.simplify(sp.expand_log(sp.expand(z), force=False)), e, what="simplify (log identity)")
    return e2 == 0


def zero_identity(expr, var=None) -> bool:
    """Exact check that ``expr`` is identically 0; a kinked expression is split into regions of ``var`` between its
    kinks and each smooth branch is checked."""
    expr = _as_expr(expr)
    if var is None or not is_kinked(expr):
        return _zero(expr)
    return all(_zero(br) for _, _, br in region_branches(expr, var))


# ------------------------------------------------------------------------------------------ kinked expressions
def is_kinked(expr) -> bool:
    """True if ``expr`` contains max/min/abs/sign/Heaviside/Piecewise (a kink in some variable)."""
    return any(expr.has(k) for k in _KINKS) or expr.has(sp.Piecewise)


def _kink_points(expr, var) -> list:
    """Values of ``var`` where a max/min/abs/sign argument changes order (roots of argument differences)."""
    pts = set()
    for node in sp.preorder_traversal(expr):
        if isinstance(node, (sp.Max, sp.Min)):
            args = node.args
            diffs = [args[i] - args[j] for i in range(len(args)) for j in range(i + 1, len(args))]
        elif isinstance(node, (sp.Abs, sp.sign, sp.Heaviside)):
            diffs = [node.args[0]]
        else:
            continue
        for d in diffs:
            if not d.has(var):
                continue
            sols = limited(sp.solve, d, var, what=f"solve (kink of {sp.sstr(d)} in {var})")
            for s in sols:
                if s.free_symbols:
                    raise ValueError(f"expr: kink {var} = {s} depends on {sorted(map(str, s.free_symbols))}; the "
                                     "exact piecewise-linear optimiser needs kinks at constant positions")
                if s.is_real:
                    pts.add(sp.nsimplify(s))
    return sorted(pts, key=lambda z: float(z))


def _resolve_at(expr, var, point):
    """Replace every max/min/abs/sign in ``expr`` by the branch active at ``var = point`` (an interior point of a
    region between kinks, where the order of the arguments does not change)."""

    def pick(node):
        if isinstance(node, (sp.Max, sp.Min)):
            args = node.args
            best = 0
            for j in range(1, len(args)):
                d = _sign_at(args[j] - args[best], var, point)
                if (d > 0) if isinstance(node, sp.Max) else (d < 0):
                    best = j
            return args[best]
        x = node.args[0]
        s = _sign_at(x, var, point)
        if isinstance(node, sp.Abs):
            return x if s >= 0 else -x
        if isinstance(node, sp.sign):
            return sp.Integer(1 if s > 0 else -1)
        return sp.Integer(1 if s > 0 else 0)  # Heaviside

    out = expr
    for _ in range(20):  # innermost first, until no kink is left
        nodes = [n for n in sp.postorder_traversal(out) if isinstance(n, _KINKS) and not any(
            isinstance(m, _KINKS) for a in n.args for m in sp.preorder_traversal(a))]
        if not nodes:
            return out
        out = out.xreplace({n: pick(n) for n in nodes})
    raise ValueError(f"expr: could not resolve the kinks of {expr}")


def _generic_point(expr, shift: int = 0) -> dict:
    """A generic positive value for every other symbol (the order of kink arguments may not depend on them)."""
    return {s: sp.Rational(7, 5) + sp.Rational(i + 3 * shift, 7) for i, s in
            enumerate(sorted(expr.free_symbols, key=str))}


def _sign_at(x, var, point) -> float:
    """Sign of ``x`` at ``var = point``; the other symbols take two different generic positive values, which must
    agree (otherwise the branch would depend on them and the region split is not exact)."""
    x = x.subs(var, point)
    s1, s2 = (float(x.subs(_generic_point(x, k))) for k in (0, 1))
    if (s1 > 0) != (s2 > 0) or (s1 == 0) != (s2 == 0):
        raise ValueError(f"expr: the sign of {x} depends on {sorted(map(str, x.free_symbols))}; the exact "
                         "piecewise-linear treatment needs kinks whose order does not depend on other symbols")
    return s1


def region_branches(expr, var, lo=-sp.oo, hi=sp.oo) -> list[tuple]:
    """Split a kinked expression into smooth branches: a list of ``(left, right, branch)`` with the kinks of
    ``expr`` in ``var`` inside ``(lo, hi)`` as the region boundaries."""
    kinks = [k for k in _kink_points(expr, var) if lo < k < hi]
    bounds = [lo, *kinks, hi]
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        if a == -sp.oo and b == sp.oo:
            mid = sp.Integer(0)
        elif a == -sp.oo:
            mid = b - 1
        elif b == sp.oo:
            mid = a + 1
        else:
            mid = (a + b) / 2
        out.append((a, b, _resolve_at(expr, var, mid)))
    return out


@dataclass(frozen=True)
class PLOptimum:
    """Exact optimum of a piecewise-linear integrand over an interval (see :func:`optimise_piecewise_linear`)."""

    value: sp.Expr            # the optimal value (a Max/Min over the candidate values)
    argopt: sp.Expr           # a Piecewise choosing the optimal candidate
    candidates: tuple         # ((point, value), ...) at the kinks and finite end points
    slopes: tuple             # slope on each region, left to right
    bounded: sp.Basic         # condition (sympy Boolean) under which the optimum is finite
    convex: sp.Basic          # condition under which the integrand is convex (min) / concave (max)


def optimise_piecewise_linear(expr, var, sense: str = "min", lo=-sp.oo, hi=sp.oo) -> PLOptimum:
    """Minimise (``sense="min"``) or maximise a convex (concave) piecewise-linear function of ``var`` exactly.

    A convex piecewise-linear function attains its minimum over an interval at a kink or a finite end point, and
    is bounded below iff its slope is ≥ 0 on the right-most unbounded region and ≤ 0 on the left-most one.  Kinks
    come from max/min/abs/sign whose arguments are linear in ``var`` with constant roots.  No numeric fallback:
    ``sympy.solve`` is never called on the kinked expression itself.

    Parameters
    ----------
    expr : sympy expression, piecewise linear in ``var`` (coefficients may involve other symbols, e.g. p, q).
    var : the optimisation variable.
    sense : "min" or "max".
    lo, hi : the interval (``-oo``/``oo`` for unbounded).

    Returns
    -------
    PLOptimum
    """
    if sense not in ("min", "max"):
        raise ValueError(f"sense: expected 'min' or 'max', got {sense!r}")
    expr = _as_expr(expr)
    if not isinstance(var, sp.Symbol):
        raise TypeError(f"var: expected a sympy Symbol, got {var!r}")
    branches = region_branches(expr, var, lo, hi)
    slopes = []
    for a, b, br in branches:
        s = sp.expand(sp.diff(br, var))
        if s.has(var):
            raise ValueError(f"expr: not piecewise linear in {var}: the branch {br} on ({a}, {b}) is not linear")
        slopes.append(s)
    sign = 1 if sense == "min" else -1
    conds = []
    if hi == sp.oo:
        conds.append(sign * slopes[-1] >= 0)
    if lo == -sp.oo:
        conds.append(sign * slopes[0] <= 0)
    bounded = sp.And(*conds)
    convex = sp.And(*[sign * (s2 - s1) >= 0 for s1, s2 in zip(slopes[:-1], slopes[1:])])
    pts = [b for _, b, _ in branches[:-1]]
    if lo != -sp.oo:
        pts.insert(0, lo)
    if hi != sp.oo:
        pts.append(hi)
    if not pts:  # one unbounded linear piece: the optimum is finite only if the slope is 0
        raise ValueError(f"expr: {expr} has no kink in {var}; a linear function has no finite optimum over R")
    cands = tuple((x, sp.simplify(expr.subs(var, x) if not is_kinked(expr.subs(var, x))
                                  else _resolve_at(expr, var, x).subs(var, x))) for x in pts)
    vals = [v for _, v in cands]
    value = (sp.Min if sense == "min" else sp.Max)(*vals)
    pieces = []
    for i, (x, v) in enumerate(cands):
        others = [w for j, (_, w) in enumerate(cands) if j != i]
        cond = sp.And(*[(sp.factor(v - w) < 0) if sense == "min" else (sp.factor(v - w) > 0) for w in others])
        pieces.append((x, cond))
    argopt = sp.Piecewise(*pieces, (sp.nan, True))
    return PLOptimum(value, argopt, cands, tuple(slopes), bounded, convex)


# ------------------------------------------------------------------------------------------ named divergences
@dataclass(frozen=True)
class NamedDivergence:
    """A divergence with its generator ``f`` (so that it equals ``∫ q f(p/q)``) and a quadrature evaluator."""

    key: str
    title: str            # e.g. "JSD(P‖Q)"
    f: sp.Expr            # generator in ``u``
    numeric: Callable     # (P, Q) -> Estimate, via lsgan_theory.divergences


def _dv(name):
    def ev(P, Q):
        from .. import divergences
        return getattr(divergences, name)(P, Q)
    ev.__name__ = name
    return ev


def _rkl_minus_kl_q_m(P, Q):
    from .. import densities, divergences
    a = divergences.reverse_kl(P, Q)
    b = divergences.kl(Q, densities.Mixture([P, Q], [0.5, 0.5]))
    return divergences.Estimate(a.value - b.value, a.abserr + b.abserr)


NAMED: dict[str, NamedDivergence] = {n.key: n for n in [
    NamedDivergence("kl", "KL(P‖Q)", u * sp.log(u), _dv("kl")),
    NamedDivergence("reverse_kl", "KL(Q‖P)", -sp.log(u), _dv("reverse_kl")),
    NamedDivergence("pearson_chi2", "χ²_Pearson(P‖Q)", (u - 1) ** 2, _dv("pearson_chi2")),
    NamedDivergence("neyman_chi2", "χ²_Neyman(P‖Q)", (1 - u) ** 2 / u, _dv("neyman_chi2")),
    NamedDivergence("hellinger2", "H²(P,Q)", (sp.sqrt(u) - 1) ** 2, _dv("hellinger2")),
    NamedDivergence("js", "JSD(P‖Q)", (u * sp.log(u) - (u + 1) * sp.log((u + 1) / 2)) / 2, _dv("js")),
    NamedDivergence("tv", "TV(P,Q)", sp.Abs(u - 1) / 2, _dv("tv")),
    NamedDivergence("triangular", "Δ_LC(P,Q)", (u - 1) ** 2 / (u + 1), _dv("triangular")),
    NamedDivergence("reverse_kl_minus_kl_q_m", "KL(Q‖P) − KL(Q‖M)", sp.log((u + 1) / (2 * u)), _rkl_minus_kl_q_m),
]}


def match_generator(f, g):
    """Find a constant ``k`` and a line ``c (u − 1)`` with ``f = k g + c (u − 1)`` identically on u > 0, or None.

    Smooth f, g: ``k = f''/g''`` must be free of u and ``f − k g`` linear.  Kinked f, g (piecewise linear pieces):
    ``k`` is the ratio of the slope jumps at the first kink of g, and ``f − k g`` must be the same line on every
    region between the kinks of f and g.
    """
    if is_kinked(f) != is_kinked(g):
        return None
    if not is_kinked(f):
        g2 = sp.diff(g, u, 2)
        k = ssimplify(sp.diff(f, u, 2) / g2, "simplify (f''/g'')")
        if k.has(u):
            return None
        h = f - k * g
        if not _zero(sp.diff(h, u, 2)):
            return None
        c = ssimplify(sp.diff(h, u).subs(u, 1))
        return k, c
    kinks = sorted(set(_kink_points(f, u)) | set(_kink_points(g, u)), key=float)
    kinks = [x for x in kinks if x > 0]
    if not kinks:
        return None
    bf = region_branches(f, u, 0, sp.oo)
    bg = region_branches(g, u, 0, sp.oo)
    x0 = [x for x in _kink_points(g, u) if x > 0][0]

    def jump(branches, x):
        left = [br for a, b, br in branches if b == x]
        right = [br for a, b, br in branches if a == x]
        if not left or not right:
            return sp.Integer(0)
        return sp.simplify(sp.diff(right[0], u) - sp.diff(left[0], u))

    jg = jump(bg, x0)
    if jg == 0:
        return None
    k = sp.simplify(jump(bf, x0) / jg)
    lines = set()
    for a, b, _ in region_branches(f + g, u, 0, sp.oo):
        mid = a + 1 if b == sp.oo else (a + b) / 2
        h = sp.expand(_resolve_at(f, u, mid) - k * _resolve_at(g, u, mid))
        if sp.diff(h, u, 2) != 0:
            return None
        lines.add(h)
    if len(lines) != 1:
        return None
    h = lines.pop()
    return k, sp.simplify(sp.diff(h, u))


@dataclass(frozen=True)
class Identification:
    """``∫ value = constant + D_f`` with ``f = scale · f_named + c (u − 1)``."""

    phi: sp.Expr                 # value(p = u, q = 1)
    constant: sp.Expr            # φ(1)
    f: sp.Expr                   # φ − φ(1), the generator (f(1) = 0)
    divergence: sp.Expr          # q f(p/q), pointwise integrand of D_f
    named: NamedDivergence | None
    scale: sp.Expr               # D_f = scale · named
    divergence_condition: sp.Basic   # when D_f is a divergence (≥ 0, = 0 iff P = Q): scale > 0
    objective_condition: sp.Basic    # when the objective itself is a divergence: also constant = 0
    steps: tuple = field(default_factory=tuple)


def _positive_condition(k) -> sp.Basic:
    """The condition k > 0 in a readable form (k = c·base^(2m) with c > 0 gives base ≠ 0)."""
    k = sp.factor(k)
    if k.is_positive:
        return sp.true
    if k.is_zero or k.is_negative:
        return sp.false
    coeff, rest = k.as_coeff_Mul()
    if coeff > 0:
        factors = sp.Mul.make_args(rest)
        if all(isinstance(fa, sp.Pow) and fa.exp.is_even for fa in factors):
            return sp.And(*[sp.Ne(fa.base, 0) for fa in factors])
    return k > 0


def _zero_condition(c) -> sp.Basic:
    """The condition c = 0 in a readable form (strip constant factors and even powers)."""
    c = sp.factor(c)
    if c.is_zero:
        return sp.true
    if c.is_nonzero:
        return sp.false
    coeff, rest = c.as_coeff_Mul()
    bases = [fa.base if isinstance(fa, sp.Pow) and fa.exp.is_positive else fa for fa in sp.Mul.make_args(rest)]
    return sp.Or(*[sp.Eq(b, 0) for b in bases])


def identify(value, candidates=None) -> Identification:
    """Write a pointwise objective ``value(p, q)`` (positively homogeneous of degree 1) as
    ``q φ(p/q) = φ(1) q + q f(p/q)`` and name ``f`` against :data:`NAMED`.

    Integrated: ``∫ value = φ(1) + D_f(P‖Q)`` because ∫ q = 1.  ``D_f`` is a divergence (≥ 0, zero iff P = Q) when
    ``f = k g + c (u − 1)`` with g the generator of a divergence and k > 0 (the linear term integrates to 0).
    """
    steps = []
    phi = sp.simplify(value.subs({p: u, q: 1}, simultaneous=True))
    if not zero_identity(value.subs(p, u * q) - q * phi, u):
        raise ValueError(f"value: {value} is not positively homogeneous of degree 1 in (p, q); it is not of the "
                         "form q·φ(p/q) and cannot be an f-divergence")
    steps.append(Step.of("The integrand is positively homogeneous of degree 1, so it equals q·φ(p/q) with",
                         "φ(u)", phi))
    c0 = sp.simplify(limited(sp.limit, phi, u, 1, what="limit φ(u) as u → 1") if is_kinked(phi) is False
                     and phi.subs(u, 1).has(sp.nan) else phi.subs(u, 1))
    f = sp.simplify(phi - c0)
    steps.append(Step.of("Since ∫q = 1, ∫ value = φ(1) + D_f(P‖Q) with f(u) = φ(u) − φ(1), f(1) = 0; φ(1) =", "φ(1)",
                         c0))
    div = sp.simplify(q * f.subs(u, p / q))
    named, scale = None, sp.Integer(1)
    for key in (candidates or NAMED):
        nd = NAMED[key]
        m = match_generator(f, nd.f)
        if m is not None:
            named, scale = nd, sp.factor(m[0])
            c = sp.simplify(m[1])
            line = ("" if c == 0 else f" − {sp.sstr(-c)}·(u − 1)" if c.could_extract_minus_sign()
                    else f" + {sp.sstr(c)}·(u − 1)")
            why = "; the linear term integrates to 0, so" if c != 0 else ", so"
            steps.append(Step.of(f"f is {scale}·(generator of {nd.title}){line}{why}", "D_f",
                                 scale * sp.Symbol(nd.key)))
            break
    if named is None:
        raise ValueError(f"value: the generator f(u) = {f} matches none of the named divergences {list(NAMED)}")
    dcond = _positive_condition(scale)
    ocond = sp.And(dcond, _zero_condition(c0))
    return Identification(phi, c0, f, div, named, scale, dcond, ocond, tuple(steps))
