"""A GAN loss from a formula: :func:`derive_custom` derives, for the discriminator's per-sample terms on real and
generated points written as expressions in ``D``, everything :func:`lsgan_theory.symbolic.derive` derives for the
named families — D*, the value at D*, the divergence it equals, whether the generator objective is proper and a
divergence (THEORY.md §2) — and the generator's gradient where the discriminator wins.

Pointwise reduction (Goodfellow et al. 2014, Prop. 1): the discriminator's objective is
∫ φ(D(x), p(x), q(x)) dx with φ(D, p, q) = p·real(D) + q·fake(D), optimised separately at every x.

* ``sense="max"``: D maximises φ; the zero-sum generator minimises max_D ∫φ, i.e. the value is φ(D*).
* ``sense="min"``: D minimises φ (φ is D's loss); the zero-sum generator minimises −min_D ∫φ = −φ(D*).
* ``generator`` (optional): the generator's own per-sample term g(D) on generated points; the value is then
  q·g(D*) (+ p·g_real(D*) with ``generator_real``, the G-free analysis term of Mao et al. 2017, Thm. 1).

Because D* is homogeneous of degree 0 in (p, q) and the value is linear in (p, q) at fixed D, the value is
always q·φ(p/q): ∫ value = φ(1) + D_f(P‖Q) with f = φ − φ(1), an f-divergence *form*; it is a divergence when f
is convex and strictly convex at 1 (Jensen), named when f matches a named generator (:func:`core.identify`).
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field
from functools import lru_cache
from numbers import Number

import sympy as sp

from ._limits import default_seconds, limited
from .core import D, Step, identify, is_kinked, optimise_piecewise_linear, p, q, u
from .families import Derivation, _optimise_smooth, _tidy_logs, _to_sympy
from .parse import ENGINE_SYMBOLS, EXTRA_FUNCTIONS, FUNCTIONS, parse_expression

__all__ = ["derive_custom", "CustomDerivation", "CUSTOM_FUNCTIONS", "ground_truth", "parse_terms", "on_unit_interval",
           "value_function"]

# the functions a loss formula may use: the parser's defaults, the extras, and lower-case max/min/abs aliases
CUSTOM_FUNCTIONS = {**FUNCTIONS, **EXTRA_FUNCTIONS, "max": FUNCTIONS["Max"], "min": FUNCTIONS["Min"],
                    "abs": FUNCTIONS["Abs"]}


@dataclass(frozen=True)
class CustomDerivation(Derivation):
    """A :class:`Derivation` of a loss given by formulas, plus the formulas and the generator's gradient.

    ``named`` is ``""`` (and ``named_title`` says so) when f matches no named divergence.  ``gradient``: a dict with
    ``term`` (the generator's per-sample term g(D) on fakes), ``d_fake`` (lim D* as p → 0, q = 1: where the
    discriminator wins), ``parametrisation`` ("sigmoid" when a term is undefined outside [0, 1], e.g. log D: the
    derivative is then taken w.r.t. the logit a, D = σ(a); else "identity"), ``left``/``right`` (one-sided limits of dg/d(parameter) at
    d_fake) and ``saturating`` (True when both are 0, False when neither is, None otherwise).
    """

    real: sp.Expr = sp.Integer(0)
    fake: sp.Expr = sp.Integer(0)
    generator: sp.Expr | None = None
    generator_real: sp.Expr | None = None
    f_convex: bool | None = None
    gradient: dict = field(default_factory=dict)

    @property
    def is_proper(self):
        """Minimised exactly at q = p (∫ value = constant + D_f: iff D_f is a divergence); True/False/None."""
        return self.is_divergence

    def to_dict(self) -> dict:
        d = super().to_dict()
        g = self.gradient

        def s(x):
            return None if x is None else sp.sstr(x)
        d["custom"] = {"real": s(self.real), "fake": s(self.fake), "generator": s(self.generator),
                       "generator_real": s(self.generator_real), "f_convex": self.f_convex,
                       "proper": self.is_proper, "divergence": self.objective_is_divergence,
                       "gradient": {k: (v if isinstance(v, (bool, str)) or v is None else s(v))
                                    for k, v in g.items()}}
        return d

    def plain(self) -> str:
        g = self.gradient
        return super().plain() + (f"\nminimised exactly at q = p (proper): {self.is_proper}; the objective is a "
                                  f"divergence here: {self.objective_is_divergence}"
                                  f"\ngenerator gradient where D wins (D → {sp.sstr(g.get('d_fake'))}, "
                                  f"{g.get('parametrisation')}): left {sp.sstr(g.get('left'))}, right "
                                  f"{sp.sstr(g.get('right'))}; saturating: {g.get('saturating')}")


def _param_symbols(params):
    if params is None:
        return {}, {}
    if not isinstance(params, dict):
        raise TypeError(f"params: expected a dict of name -> value (or None for symbolic), got {type(params).__name__}")
    syms, subs = {}, {}
    for k, v in params.items():
        if not isinstance(k, str) or not k.isidentifier() or keyword.iskeyword(k) or k.startswith("_"):
            raise ValueError(f"params: {k!r} is not a valid parameter name (a Python identifier, no leading _)")
        if k in ENGINE_SYMBOLS or k in CUSTOM_FUNCTIONS or k in ("pi", "E"):
            raise ValueError(f"params: {k!r} is reserved ({ENGINE_SYMBOLS.get(k, 'a function or constant')})")
        s = sp.Symbol(k, real=True)
        syms[k] = s
        if v is None:
            continue
        if isinstance(v, str):
            e = parse_expression(v, name=f"--param {k}")
        elif isinstance(v, (Number, sp.Basic)) and not isinstance(v, bool):
            e = _to_sympy(f"--param {k}", v)
        else:
            raise TypeError(f"--param {k}: expected a number, a string or None, got {type(v).__name__}")
        if e.free_symbols or e.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or e.is_real is False:
            raise ValueError(f"--param {k}: must be a finite real number, got {v!r}")
        subs[s] = e
    return syms, subs


def _parse_term(text, name, syms, subs):
    if text is None:
        return None
    e = parse_expression(text, name=name, symbols={"D": D, **syms}, functions=CUSTOM_FUNCTIONS)
    return e.subs(subs)


def parse_terms(real: str, fake: str, generator: str | None = None, params: dict | None = None,
                generator_real: str | None = None) -> dict:
    """The loss terms parsed by the whitelist parser (no eval), parameters substituted.

    Returns a dict ``{"real", "fake", "generator", "generator_real"}`` of sympy expressions in :data:`D` (``None``
    for an omitted optional term).  Raises the same errors as :func:`derive_custom` for bad formulas or parameters
    (``ExpressionError`` naming ``--real``/``--fake``/``--generator``; ``ValueError`` for a parameter no formula
    uses, ``TypeError`` for a formula that is not a string).
    """
    return limited(_parse_terms, real, fake, generator, params, generator_real, what="parse the loss terms")[0]


def _parse_terms(real, fake, generator=None, params=None, generator_real=None):
    syms, subs = _param_symbols(params)
    import re as _re

    texts = " ".join(t for t in (real, fake, generator, generator_real) if isinstance(t, str))
    unused = [k for k in (params or {}) if not _re.search(rf"(?<![A-Za-z0-9_]){_re.escape(k)}(?![A-Za-z0-9_])", texts)]
    if unused:
        raise ValueError(f"--param: {', '.join(unused)} appear(s) in none of the formulas (it would be ignored); "
                         f"declare only the parameters the terms use")
    out = {"real": _parse_term(real, "--real", syms, subs), "fake": _parse_term(fake, "--fake", syms, subs),
           "generator": _parse_term(generator, "--generator", syms, subs),
           "generator_real": _parse_term(generator_real, "--generator-real", syms, subs)}
    if out["real"] is None or out["fake"] is None:
        raise ValueError("--real/--fake: both terms are required")
    return out, syms, subs


def _optimise(expr, sense, steps):
    """D* of φ for the sense, with steps; a clear ValueError when no pointwise optimum exists."""
    if not expr.has(D):
        raise ValueError("--real/--fake: the integrand does not depend on D; there is no optimal discriminator")
    if is_kinked(expr):
        try:
            opt = optimise_piecewise_linear(expr, D, sense)
        except ValueError as exc:  # core names its own argument ("expr"); the user typed --real/--fake
            raise ValueError(f"--real/--fake: kinked (max/min/abs/sign/Heaviside) terms are supported only when "
                             f"φ is piecewise linear in D: {str(exc).removeprefix('expr: ')}") from None
        pos = {p: sp.Symbol("p", positive=True), q: sp.Symbol("q", positive=True)}
        back = {v: k for k, v in pos.items()}
        bounded = sp.simplify(opt.bounded.subs(pos)).subs(back) if opt.bounded is not sp.true else sp.true
        if bounded is not sp.true and not (bounded.free_symbols - {p, q}):
            for pv, qv in ((1, 2), (2, 1), (1, 1)):
                if bounded.subs({p: pv, q: qv}) is sp.false:
                    raise ValueError(f"--real/--fake: no pointwise optimum: φ = {expr} is unbounded "
                                     f"{'above' if sense == 'max' else 'below'} in D at (p, q) = ({pv}, {qv}) "
                                     f"(bounded only when {bounded}; outer slopes {list(opt.slopes)})")
        if bounded is sp.false:
            raise ValueError(f"--real/--fake: no pointwise optimum: φ = {expr} is unbounded "
                             f"{'above' if sense == 'max' else 'below'} in D (outer slopes {list(opt.slopes)})")
        steps.append(Step.of("Piecewise linear in D; slopes on the regions between the kinks", "slopes",
                             sp.Tuple(*opt.slopes)))
        steps.append(Step.of("Bounded (outer slopes) when", "condition", bounded))
        steps.append(Step.of(f"The {sense}imum is the best value at a kink", "D*", opt.argopt))
        return opt.argopt, opt.value
    d1 = sp.simplify(sp.diff(expr, D))
    if not d1.has(D):
        raise ValueError(f"--real/--fake: no pointwise optimum: φ = {expr} is linear in D (∂φ/∂D = {d1}), so it is "
                         f"unbounded {'above' if sense == 'max' else 'below'} unless ∂φ/∂D = 0")
    try:
        sols = limited(sp.solve, d1, D, what=f"solve ∂/∂D ({sp.sstr(d1)}) = 0")
    except NotImplementedError:  # sympy: no algorithm (e.g. D and exp(D), or D and log(D), mixed): no closed form
        raise ValueError(f"--real/--fake: no closed-form optimal discriminator: the symbolic engine cannot solve "
                         f"∂φ/∂D = {sp.sstr(d1)} = 0 for D (it mixes D with a transcendental function of D); "
                         f"rewrite the terms, or use a numerical study") from None
    if not sols:
        raise ValueError(f"--real/--fake: no pointwise optimum: ∂φ/∂D = {d1} has no root in D")
    if len(sols) > 1:
        d2 = sp.diff(expr, D, 2)
        good = [s for s in sols if (sp.simplify(d2.subs(D, s)).is_negative if sense == "max"
                                    else sp.simplify(d2.subs(D, s)).is_positive)]
        if len(good) != 1:
            raise ValueError(f"--real/--fake: expected one stationary point that is a {sense}imum, got the roots "
                             f"{sols}")
        expr_sols = good[0]
        steps.append(Step.of(f"Stationary points {sols}; the only {sense}imum", "D*", expr_sols))
        return sp.factor(sp.simplify(expr_sols)), None
    try:
        dstar, st = _optimise_smooth(expr, sense)
    except ValueError as exc:
        raise ValueError(f"--real/--fake: no pointwise {sense}imum: {exc}") from None
    steps += st
    return dstar, None


def _tidy(v):
    return _tidy_logs(v) if v.has(sp.log) else sp.factor(sp.simplify(v))


def _convexity(f):
    """(convex, divergence, f'') for a generator f with f(1) = 0.

    convex: True when sympy proves f'' ≥ 0 on u > 0; False when f'' < 0 at a sample point u ∈ {1/8, …, 8}; else
    None.  divergence (D_f ≥ 0, zero iff P = Q): True when convex and f''(1) > 0 (Jensen, strict at 1); False when
    f is linear (D_f ≡ 0: the objective does not depend on Q) or f''(1) < 0 (then D_f(P‖Q) ≈ f''(1)/2·χ² < 0 for Q near P); else None.
    """
    up = sp.Symbol("u", positive=True)
    if is_kinked(f) or f.has(sp.Piecewise, sp.Heaviside, sp.sign):  # f'' is a measure: not decided here
        return None, None, sp.nan
    f2 = sp.simplify(sp.diff(f, u, 2).subs(u, up))
    at1 = sp.simplify(f2.subs(up, 1))
    if f2 == 0:  # f linear: D_f ≡ 0, the objective does not depend on q
        return True, False, f2
    convex = True if f2.is_nonnegative else None
    if convex is None and not (f2.free_symbols - {up}):
        for x in (sp.Rational(1, 8), sp.Rational(1, 4), sp.Rational(1, 2), 1, 2, 4, 8):
            v = sp.N(f2.subs(up, x))
            if v.is_real and (v < 0) is sp.true:
                convex = False
                break
    if at1.is_negative:
        return convex, False, f2
    if convex and at1.is_positive:
        return True, True, f2
    return convex, None, f2


def _check_domain(dstar, terms):
    """D* must lie where the terms are real and finite: checked at (p, q) = (1, 2), (1, 1), (2, 1)."""
    if dstar.has(sp.Piecewise):
        return
    for pv, qv in ((1, 2), (1, 1), (2, 1)):
        x = dstar.subs({p: pv, q: qv})
        if x.free_symbols:
            return
        for name, e in terms:
            v = sp.N(e.subs(D, x))
            if v.free_symbols:
                continue
            if v.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or v.is_real is not True:
                raise ValueError(f"{name}: no pointwise optimum: the stationary point D* = {dstar} equals {x} at "
                                 f"(p, q) = ({pv}, {qv}), where the term {e} is not a finite real number")


def on_unit_interval(terms):
    """True when some term is undefined (not real or infinite) at D = −1/2 or D = 3/2: D is then a probability,
    the output of a sigmoid."""
    for e in terms:
        if e is None:
            continue
        for x in (sp.Rational(-1, 2), sp.Rational(3, 2)):
            v = e.subs(D, x)
            if v.free_symbols:
                continue
            v = sp.N(v)
            if v.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or v.is_real is False:
                return True
    return False


def _gradient(term, dstar, steps, terms, parametrisation="auto"):
    """The generator's per-sample gradient where the discriminator wins (D* at p → 0, q = 1)."""
    one = {q: 1}
    try:
        if dstar.has(sp.Piecewise):  # piecewise-linear D*: the branch chosen at p = 0 < q = 1
            d_fake = sp.simplify(dstar.subs({q: 1, p: 0}))
        else:
            d_fake = sp.simplify(limited(sp.limit, dstar.subs(one), p, 0, "+", what="limit D* as p → 0"))
    except (ValueError, NotImplementedError, TypeError):
        d_fake = None
    if d_fake is None or d_fake.has(sp.Limit, sp.nan, p, q):
        return {"term": term, "d_fake": None, "parametrisation": None, "left": None, "right": None,
                "saturating": None}
    sig = on_unit_interval(terms) if parametrisation == "auto" else parametrisation == "sigmoid"
    dg = sp.diff(term, D) * (D * (1 - D) if sig else 1)
    lims = []
    for side in ("-", "+"):
        try:
            lims.append(sp.simplify(limited(sp.limit, dg, D, d_fake, side, what="limit of the generator gradient")))
        except (ValueError, NotImplementedError, TypeError):
            lims.append(None)
    left, right = lims
    if sig:  # D = σ(a) ∈ (0, 1): only the side inside (0, 1) exists
        left = None if d_fake == 0 else left
    vals = [v for v in (left, right) if v is not None]
    sat = None
    if vals and all(v == 0 for v in vals):
        sat = True
    elif vals and all(v.is_zero is False for v in vals):
        sat = False
    steps.append(Step.of(f"Generator gradient d g/d{'a (D = σ(a))' if sig else 'D'} where the discriminator wins "
                         f"(D → {sp.sstr(d_fake)}): {'saturating' if sat else 'not saturating' if sat is False else 'undecided'}",
                         "limits (left, right)", sp.Tuple(*(sp.nan if v is None else v for v in (left, right)))))
    return {"term": term, "d_fake": d_fake, "parametrisation": "sigmoid" if sig else "identity", "left": left,
            "right": right, "saturating": sat}


def derive_custom(real: str, fake: str, sense: str = "max", generator: str | None = None, params: dict | None = None,
                  generator_real: str | None = None, parametrisation: str = "auto",
                  seconds: float | None = None) -> CustomDerivation:
    """Derive D*, the value at D*, its divergence and the generator's gradient for a loss given by formulas.

    Parameters
    ----------
    real, fake : str
        The discriminator's per-sample terms on real and generated points, expressions in ``D`` and the declared
        parameters (whitelist parser, no eval; functions log, exp, sqrt, abs/Abs, max/Max, min/Min, sign,
        Heaviside, tanh, sigmoid, softplus).  φ(D, p, q) = p·real(D) + q·fake(D).
    sense : {"max", "min"}
        Whether the discriminator maximises φ or minimises it (φ is then its loss).
    generator : str, optional
        The generator's per-sample term g(D) on generated points (default: the zero-sum game, g = fake for
        ``max``, −fake for ``min``).
    params : dict, optional
        name -> value (number or expression string) or None (left symbolic, real).
    generator_real : str, optional
        A G-free analysis term on real points added to the value as p·g_real(D*) (Mao et al. 2017 add ½E_p(D − c)²).
    parametrisation : {"auto", "sigmoid", "identity"}
        For the gradient: D = σ(a) (derivative w.r.t. the logit a) or D itself; "auto": sigmoid when a term is
        undefined at D = −1/2 or 3/2 (e.g. log D), else identity.
    seconds : float, optional
        Time limit of the whole derivation (default three times ``LSGAN_SYMPY_TIMEOUT`` or 3 × 20 s); each sympy
        solve/limit inside also has the per-call limit.

    Returns
    -------
    CustomDerivation
        As :class:`Derivation` (family ``"custom"``), plus ``is_proper``, ``f_convex`` and ``gradient``.

    Raises
    ------
    ValueError
        Bad formula (the message names --real/--fake/--generator), or no pointwise optimum (linear or unbounded
        in D, no stationary point, a stationary point of the wrong kind).

    Examples
    --------
    >>> derive_custom("log(D)", "log(1 - D)").named
    'js'
    """
    if seconds is None:
        seconds = 3 * default_seconds()
    try:
        try:
            key = None if params is None else tuple(sorted(params.items()))
            hash((real, fake, sense, generator, key, generator_real, parametrisation))
        except (TypeError, AttributeError):  # unhashable input: not cached (the derivation reports the bad argument)
            return limited(_derive_custom, real, fake, sense, generator, params, generator_real, parametrisation,
                           what="derive custom", seconds=seconds)
        return _derive_custom_cached(real, fake, sense, generator, key, generator_real, parametrisation, seconds)
    except NotImplementedError as exc:  # a sympy step with no algorithm for this input: a clear error, not a crash
        first = (str(exc).strip().splitlines() or ["no algorithm"])[0]
        raise ValueError(f"--real/--fake: the symbolic engine cannot derive this loss ({first[:200]})") from None


@lru_cache(maxsize=128)
def _derive_custom_cached(real, fake, sense, generator, key, generator_real, parametrisation, seconds):
    """Derivations are cached on the exact formula texts and parameters (like :func:`derive`); errors are not."""
    return limited(_derive_custom, real, fake, sense, generator, None if key is None else dict(key), generator_real,
                   parametrisation, what="derive custom", seconds=seconds)


def _derive_custom(real, fake, sense, generator, params, generator_real, parametrisation):
    if parametrisation not in ("auto", "sigmoid", "identity"):
        raise ValueError(f"parametrisation: expected 'auto', 'sigmoid' or 'identity', got {parametrisation!r}")
    if sense not in ("max", "min"):
        raise ValueError(f"--sense: expected 'max' or 'min', got {sense!r}")
    terms, syms, subs = _parse_terms(real, fake, generator, params, generator_real)
    r, fk, g, gr = terms["real"], terms["fake"], terms["generator"], terms["generator_real"]
    expr = p * r + q * fk
    steps = [Step.of(f"Pointwise objective of the discriminator ({sense}imised over D at every x)", "φ(D; p, q)",
                     expr)]
    dstar, pl_value = _optimise(expr, sense, steps)
    _check_domain(dstar, [("--real", r), ("--fake", fk)] + ([("--generator", g)] if g is not None else []))
    if g is None:
        opt_val = pl_value if pl_value is not None else expr.subs(D, dstar)
        value = _tidy(opt_val if sense == "max" else -opt_val)
        steps.append(Step.of("The zero-sum generator minimises " + ("max_D ∫φ = ∫φ(D*)" if sense == "max"
                                                                     else "−min_D ∫φ = −∫φ(D*)"), "value", value))
        gterm = fk if sense == "max" else -fk
    else:
        if is_kinked(dstar) or dstar.has(sp.Piecewise):
            raise ValueError("--generator: a generator term with a piecewise D* is not supported; omit --generator "
                             "for the zero-sum value")
        value = _tidy(q * g.subs(D, dstar) + (p * gr.subs(D, dstar) if gr is not None else 0))
        steps.append(Step.of("The generator minimises E_q g(D*)" + (" + E_p g_real(D*) (G-free analysis term)"
                                                                   if gr is not None else ""), "value", value))
        gterm = g
    phi = sp.simplify(value.subs({p: u, q: 1}, simultaneous=True))
    constant0 = sp.simplify(phi.subs(u, 1))
    convex, div_ok, f2 = _convexity(sp.simplify(phi - constant0))
    try:
        ident = identify(value)
        named, title, f, scale = ident.named.key, ident.named.title, ident.f, ident.scale
        dcond, ocond, constant, div = (ident.divergence_condition, ident.objective_condition, ident.constant,
                                       ident.divergence)
        if sp.simplify(scale) == 0:
            raise ValueError("f ≡ 0")
        steps += list(ident.steps)
        if dcond is sp.true:
            convex = True  # a positive multiple of a named (convex) generator plus a linear term
    except ValueError:
        constant, f = constant0, sp.simplify(phi - constant0)
        div = sp.simplify(q * f.subs(u, p / q))
        named, scale = "", sp.Integer(1)
        if f2 == 0:
            title = "constant in Q (f linear, D_f ≡ 0): not proper"
        elif div_ok:
            title = "an unnamed f-divergence (f convex, strictly at 1)"
        elif div_ok is False:
            title = "not a divergence (f''(1) < 0)"
        else:
            title = "an f-divergence form; whether it is a divergence is undecided"
        dcond = {True: sp.true, False: sp.false, None: sp.Symbol("undecided")}[div_ok]
        ocond = sp.And(dcond, sp.Eq(constant, 0))
        steps.append(Step.of("Homogeneous of degree 1: value = q φ(p/q); ∫ value = φ(1) + D_f, f = φ − φ(1); "
                             f"f matches no named divergence; f'' = {sp.sstr(f2)}: {title}", "f(u)", f))
    gradient = _gradient(gterm, dstar, steps, (r, fk), parametrisation)
    key = tuple((k, subs.get(s, s)) for k, s in syms.items())
    return CustomDerivation("custom", key, expr, sense, dstar, value, constant, div, f, named, title, scale, dcond,
                            ocond, tuple(steps), None, (), r, fk, g, gr, convex, gradient)


def value_function(derivation):
    """``fn(p_values, q_values)``: the derivation's ``value_at_optimum`` as a vectorised numpy function, evaluated
    through its positive homogeneity of degree 1 (checked by :func:`identify`; true of every pointwise optimum
    value): value(p, q) = s·value(p/s, q/s) with s = p + q, and 0 where p = q = 0.  This avoids 0/0 where both
    densities underflow (e.g. (p² + q²)/√(p² + q²) at the edge of a compact support), which the plain
    lambdified form returns as NaN.
    """
    import numpy as np

    from .numeric import lambdify_pq

    if not isinstance(derivation, Derivation):
        raise TypeError(f"derivation: expected a Derivation, got {type(derivation).__name__}")
    free = derivation.value_at_optimum.free_symbols - {p, q}
    if free:
        raise ValueError(f"derivation: has free parameters {sorted(map(str, free))}; derive with numbers first")
    g = lambdify_pq(derivation.value_at_optimum)

    def fn(pv, qv):
        pv, qv = np.broadcast_arrays(np.asarray(pv, dtype=np.float64), np.asarray(qv, dtype=np.float64))
        s = pv + qv
        pos = s > 0
        ss = np.where(pos, s, 1.0)
        with np.errstate(all="ignore"):
            out = s * g(pv / ss, qv / ss)
        return np.where(pos, out, 0.0)

    return fn


def ground_truth(derivation, P, Q):
    """Ground truth on a pair of densities: ∫ value_at_optimum by quadrature against an independent reference.

    Named: ``constant + scale · named(P, Q)`` by the named divergence's own quadrature
    (:func:`lsgan_theory.symbolic.numeric.check_against_quadrature`).  Unnamed: ``constant + D_f(P‖Q)`` with the
    lambdified generator ``f`` through :func:`lsgan_theory.divergences.f_divergence`.  Tolerance: the two quadrature
    error bounds plus 1e-12·(1 + |value|) (float64 rounding of combining the terms).

    Returns
    -------
    lsgan_theory.symbolic.numeric.QuadratureCheck
    """
    from .. import divergences
    from .numeric import QuadratureCheck, check_against_quadrature

    if not isinstance(derivation, Derivation):
        raise TypeError(f"derivation: expected a Derivation, got {type(derivation).__name__}")
    if derivation.named:
        return check_against_quadrature(derivation, P, Q)
    free = (derivation.value_at_optimum.free_symbols | derivation.f.free_symbols
            | derivation.constant.free_symbols) - {p, q, u}
    if free:
        raise ValueError(f"derivation: has free parameters {sorted(map(str, free))}; derive with numbers first")
    est = divergences.integrate_pointwise(value_function(derivation), P, Q)
    fu = sp.lambdify(u, derivation.f, modules="numpy")
    ref = divergences.f_divergence(P, Q, lambda x: fu(x) + 0 * x)  # + 0·x: broadcast a constant f
    const = float(derivation.constant)
    tol = est.abserr + ref.abserr + 1e-12 * (1 + abs(const + ref.value))
    return QuadratureCheck(derivation.family, P.spec, Q.spec, est.value, est.abserr, const + ref.value, ref.abserr,
                           tol)
