"""GAN families as pointwise integrands in (D, p, q) and :func:`derive`: the optimal discriminator, the generator's
objective at the optimum, and the divergence it equals, with readable steps.

Pointwise reduction: every objective here is ∫ φ(D(x), p(x), q(x)) dx with D(x) free at each x, so the optimal
discriminator maximises (or minimises) the integrand separately at every x (Goodfellow et al. 2014, Prop. 1).

Families (THEORY.md §1–§3, §8):

* ``gan`` — V(D) = p log D + q log(1 − D), maximised by D; the generator minimises max_D V.
* ``non_saturating`` — same D*, the generator minimises −q log D* instead (Goodfellow et al. 2014, §3).
* ``least_squares`` — LSGAN (Least-Squares GAN, Mao et al. 2017; *not* the Loss-Sensitive LS-GAN):
  D minimises ½ p (D − b)² + ½ q (D − a)², the generator minimises ½ (p + q)(D* − c)² (the ½ E_p (D − c)² term is
  added for the analysis; it does not depend on G).  Parameters a, b, c (symbolic when omitted).
* ``hinge`` — D minimises p (1 − D)_+ + q (1 + D)_+; kinked, optimised exactly at the kinks D = ±1; the value
  of the zero-sum game, −min_D L_D, is what the generator minimises (its practical loss −E_q D is not zero-sum).
* f-GAN rows (``kl``, ``reverse_kl``, ``pearson_chi2``, ``neyman_chi2``, ``hellinger2``, ``js``, ``fgan_gan``,
  ``tv``; also accepted with a ``fgan_`` prefix) — T maximises p T − q f*(T); T* = f'(p/q).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from numbers import Integral, Number, Real

import sympy as sp

from .. import families as _registry
from ._limits import limited
from .core import D, Step, identify, is_kinked, optimise_piecewise_linear, p, q, t, u, zero_identity
from .fgan import FGAN_ROWS, Conjugate, compare_with_table, derive_conjugate
from .parse import parse_expression

__all__ = ["derive", "Derivation", "FAMILIES", "a", "b", "c", "integrand", "least_squares_classification",
           "LeastSquaresClassification"]

a, b, c = sp.symbols("a b c", real=True)

# The symbolic engine's own keys (``non_saturating`` is the registry's ``gan_ns``); names and aliases are resolved by
# the one registry, :mod:`lsgan_theory.families`.
FAMILIES = ("gan", "non_saturating", "least_squares", "hinge", *FGAN_ROWS)


@dataclass(frozen=True)
class Derivation:
    """The result of :func:`derive`.  Expressions are sympy expressions in the positive symbols ``p`` (data
    density) and ``q`` (generator density); ``f`` is in ``u`` (= p/q).

    ``∫ value_at_optimum dx = constant + ∫ divergence dx`` and ``∫ divergence dx = scale · named`` (a named
    divergence of ``lsgan_theory.divergences``).  ``divergence_condition``: when ∫ divergence is a divergence
    (≥ 0, zero iff P = Q); ``objective_condition``: when the generator objective itself is (also constant = 0).
    """

    family: str
    params: tuple                    # ((name, value), ...)
    integrand: sp.Expr               # the discriminator's pointwise objective in (D, p, q) (T for f-GAN rows)
    sense: str                       # "max" or "min": what the discriminator does with ``integrand``
    d_star: sp.Expr
    value_at_optimum: sp.Expr        # pointwise integrand of the generator objective at D*
    constant: sp.Expr
    divergence: sp.Expr              # q f(p/q)
    f: sp.Expr
    named: str
    named_title: str
    scale: sp.Expr
    divergence_condition: sp.Basic
    objective_condition: sp.Basic
    steps: tuple = field(default_factory=tuple)
    conjugate: Conjugate | None = None            # f-GAN rows
    table: tuple = ()                              # f-GAN rows: TableComparison (natural domain, u ≥ 0)

    @property
    def is_divergence(self):
        """True/False, or None when it depends on symbolic parameters (see ``divergence_condition``)."""
        return _truth(self.divergence_condition)

    @property
    def objective_is_divergence(self):
        return _truth(self.objective_condition)

    @property
    def identity(self) -> str:
        """``∫ value = constant + scale · named`` in words."""
        lhs = "∫ value_at_optimum"
        k = "" if self.scale == 1 else f"{sp.sstr(self.scale)}·"
        cst = "" if self.constant == 0 else f"{sp.sstr(self.constant)} + "
        return f"{lhs} = {cst}{k}{self.named_title}"

    def plain(self) -> str:
        """All steps in plain text."""
        head = f"derive {self.family}" + (f" ({', '.join(f'{k}={v}' for k, v in self.params)})" if self.params else "")
        lines = [head, ""]
        for i, s in enumerate(self.steps, 1):
            lines.append(f"{i}. {s.plain()}")
        lines += ["", f"D* = {sp.sstr(self.d_star)}", f"value at D* = {sp.sstr(self.value_at_optimum)}",
                  f"f(u) = {sp.sstr(self.f)}", self.identity,
                  f"D_f part is a divergence (its scale > 0) when: {sp.sstr(self.divergence_condition)}",
                  f"the whole objective is a divergence (also 0 at q = p) when: {sp.sstr(self.objective_condition)}"]
        return "\n".join(lines)

    def latex(self) -> str:
        """All steps as a LaTeX ``enumerate`` list (body text, no preamble)."""
        out = [r"\begin{enumerate}"]
        for s in self.steps:
            out.append(rf"\item {_tex_text(s.text)}" + (rf" \[ {s.latex} \]" if s.latex else ""))
        out.append(r"\end{enumerate}")
        out.append(rf"\[ D^* = {sp.latex(self.d_star)},\qquad f(u) = {sp.latex(self.f)} \]")
        return "\n".join(out)

    def to_dict(self) -> dict:
        def s(x):
            return None if x is None else sp.sstr(x)
        d = {"family": self.family, "params": {k: s(v) for k, v in self.params}, "integrand": s(self.integrand),
             "sense": self.sense, "d_star": s(self.d_star), "value_at_optimum": s(self.value_at_optimum),
             "constant": s(self.constant), "divergence": s(self.divergence), "f": s(self.f), "named": self.named,
             "named_title": self.named_title, "scale": s(self.scale), "identity": self.identity,
             "divergence_condition": s(self.divergence_condition),
             "objective_condition": s(self.objective_condition),
             "is_divergence": self.is_divergence, "objective_is_divergence": self.objective_is_divergence,
             "steps": [{"text": st.text, "formula": st.formula, "latex": st.latex} for st in self.steps],
             "latex": {"d_star": sp.latex(self.d_star), "value_at_optimum": sp.latex(self.value_at_optimum),
                       "divergence": sp.latex(self.divergence), "f": sp.latex(self.f)}}
        if self.conjugate is not None:
            d["conjugate"] = {"f_star": s(self.conjugate.expr), "domain": s(self.conjugate.domain)}
            d["table"] = [{"convention": tc.convention, "agrees": tc.agrees, "note": tc.note} for tc in self.table]
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def _truth(cond):
    if cond in (sp.true, True):
        return True
    if cond in (sp.false, False):
        return False
    return None


def _tex_text(s: str) -> str:
    return s.replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")


# ------------------------------------------------------------------------------------------ integrands
def integrand(family: str, **params) -> tuple[sp.Expr, str]:
    """The discriminator's pointwise objective in (D, p, q) and whether D maximises ("max") or minimises it.

    For f-GAN rows the variable is the critic value, also written ``D``: p D − q f*(D) (maximised).
    """
    fam = _canonical(family)
    allowed = {"a", "b", "c"} if fam == "least_squares" else set()
    extra = sorted(set(params) - allowed)
    if extra:
        raise ValueError(f"params: {fam!r} takes {sorted(allowed) or 'no parameters'}, got {extra}")
    params = {k: _to_sympy(k, v) for k, v in params.items()}
    if fam in ("gan", "non_saturating"):
        return p * sp.log(D) + q * sp.log(1 - D), "max"
    if fam == "least_squares":
        A, B, _ = _abc(params)
        return sp.Rational(1, 2) * p * (D - B) ** 2 + sp.Rational(1, 2) * q * (D - A) ** 2, "min"
    if fam == "hinge":
        return p * sp.Max(0, 1 - D) + q * sp.Max(0, 1 + D), "min"
    row = FGAN_ROWS[fam]
    return p * D - q * row.table_conjugate.subs(t, D), "max"


def _canonical(family) -> str:
    fam = _registry.get(family)
    if fam.symbolic is None:
        raise ValueError(f"family: {fam.name!r} has no pointwise optimal discriminator for the symbolic engine; "
                         f"derivable: {', '.join(_registry.names(symbolic=True))}")
    return fam.symbolic


_PARAM_SYMBOLS = {"a": a, "b": b, "c": c}


def _to_sympy(name, v):
    """A label parameter as an exact sympy expression: numbers exactly (floats by their decimal repr), strings by the
    whitelist parser (:func:`lsgan_theory.symbolic.parse.parse_expression`, no eval; free symbols a, b, c only),
    sympy expressions whose free symbols are among a, b, c."""
    if v is None:
        return _PARAM_SYMBOLS[name]
    if isinstance(v, bool):
        raise TypeError(f"{name}: expected a number or a sympy expression, got {v!r}")
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError(f"{name}: must be a finite real number, got {v!r}")
        return sp.Rational(repr(float(v)))  # exact decimal value as written
    if isinstance(v, Integral):
        v = int(v)
        if abs(v).bit_length() > 3322:  # more than ~1000 digits
            raise ValueError(f"{name}: the integer has more than 1000 digits")
        e = sp.Integer(v)
    elif isinstance(v, Fraction):
        e = sp.Rational(v.numerator, v.denominator)
    elif isinstance(v, (str, Decimal)):
        e = parse_expression(str(v), name=name, symbols=_PARAM_SYMBOLS)
    elif isinstance(v, sp.Basic):
        e = v
        bad = sorted(str(s) for s in e.free_symbols if s not in _PARAM_SYMBOLS.values())
        if bad:
            raise ValueError(f"{name}: free symbols {bad} are not allowed (only a, b, c; p, q, D, u, t belong to the "
                             f"symbolic engine)")
    elif isinstance(v, Number) and not isinstance(v, complex):
        e = parse_expression(repr(float(v)) if isinstance(v, Real) else str(v), name=name)
    else:
        raise TypeError(f"{name}: expected a number, a string or a sympy expression, got {type(v).__name__}")
    # a label must be a finite real number (or a real symbolic expression): reject nan, ±oo, zoo, I, ...
    if not isinstance(e, sp.Expr) or e.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or e.is_real is False:
        raise ValueError(f"{name}: must be a finite real number or real expression, got {v!r}")
    return e


def _abc(params):
    return tuple(params.get(k, s) for k, s in zip("abc", (a, b, c)))


def _tidy_logs(e):
    """Simplify without merging p log x + q log y into log(x**p y**q) (unreadable and numerically poor):
    simplify every log argument and every log-free term separately."""
    if not e.has(sp.log):
        return sp.simplify(e)
    e = e.replace(sp.log, lambda z: sp.log(sp.factor(sp.cancel(z))))
    terms = sp.Add.make_args(sp.expand(e, log=False, mul=True, multinomial=False, power_base=False,
                                       power_exp=False))
    logs = [x for x in terms if x.has(sp.log)]
    rest = [x for x in terms if not x.has(sp.log)]
    return sp.Add(*logs) + sp.simplify(sp.Add(*rest))


# ------------------------------------------------------------------------------------------ smooth optimum
def _optimise_smooth(expr, sense: str):
    """Stationary point of a strictly concave (max) / convex (min) integrand in D: solve ∂/∂D = 0."""
    d1 = sp.simplify(sp.diff(expr, D))
    d2 = sp.simplify(sp.diff(expr, D, 2))
    sols = limited(sp.solve, d1, D, what=f"solve ∂/∂D ({sp.sstr(d1)}) = 0")
    if len(sols) != 1:
        raise ValueError(f"integrand: expected one stationary point in D, got {sols}")
    dstar = sp.factor(sp.simplify(sols[0]))
    curv = sp.simplify(d2.subs(D, dstar))
    ok = curv.is_negative if sense == "max" else curv.is_positive
    steps = [Step.of("Pointwise first-order condition", "∂φ/∂D", d1),
             Step.of("Its unique root", "D*", dstar),
             Step.of(f"Second derivative at D* ({'negative: a maximum' if sense == 'max' else 'positive: a minimum'}"
                     f"{'' if ok else ' — sign not decided for all p, q > 0'})", "∂²φ/∂D²", curv)]
    if ok is False:
        raise ValueError(f"integrand: the stationary point D* = {dstar} is not a {sense}imum")
    return dstar, steps


# ------------------------------------------------------------------------------------------ derive
def derive(family: str, **params) -> Derivation:
    """Derive the optimal discriminator and the divergence a GAN loss minimises, with every step.

    Parameters
    ----------
    family : str
        ``"gan"``, ``"non_saturating"``, ``"least_squares"``, ``"hinge"``, or an f-GAN row (``"kl"``,
        ``"reverse_kl"``, ``"pearson_chi2"``, ``"neyman_chi2"``, ``"hellinger2"``, ``"js"``, ``"fgan_gan"``,
        ``"tv"``; also with a ``fgan_`` prefix).
    **params
        ``a``, ``b``, ``c`` for ``least_squares`` (numbers, strings or sympy expressions; symbolic when omitted).

    Returns
    -------
    Derivation
        ``d_star``, ``value_at_optimum``, ``divergence`` (sympy expressions in ``p``, ``q``), ``f``, ``steps``.
        Derivations are cached (``functools.lru_cache`` keyed on the family and exact parameter values).

    Examples
    --------
    >>> derive("least_squares", a=-1, b=1, c=0).identity
    '∫ value_at_optimum = 1/2·Δ_LC(P,Q)'

    References
    ----------
    Goodfellow et al. 2014 (Prop. 1, Thm. 1); Mao et al. 2017 (Thm. 1); Nowozin et al. 2016 (Table 2).
    """
    fam = _canonical(family)
    allowed = {"a", "b", "c"} if fam == "least_squares" else set()
    extra = sorted(set(params) - allowed)
    if extra:
        raise ValueError(f"params: {fam!r} takes {sorted(allowed) or 'no parameters'}, got {extra}")
    key = tuple((k, _to_sympy(k, params.get(k))) for k in sorted(allowed))
    return _derive(fam, key)


@lru_cache(maxsize=256)
def _derive(fam: str, key: tuple) -> Derivation:
    params = dict(key)
    expr, sense = integrand(fam, **params)
    steps = [Step.of(f"Pointwise objective of the discriminator ({sense}imised over D at every x)", "φ(D; p, q)",
                     expr)]
    conj, table = None, ()
    if fam in ("gan", "non_saturating"):
        dstar, st = _optimise_smooth(expr, sense)
        steps += st
        if fam == "gan":
            value = _tidy_logs(expr.subs(D, dstar))
            steps.append(Step.of("The generator minimises max_D ∫φ = ∫φ(D*)", "φ(D*)", value))
        else:
            value = _tidy_logs(-q * sp.log(dstar))
            steps.append(Step.of("The non-saturating generator minimises −E_q log D*", "−q log D*", value))
    elif fam == "least_squares":
        A, B, C = _abc(params)
        dstar, st = _optimise_smooth(expr, sense)
        steps += st
        value = sp.factor(sp.simplify(sp.Rational(1, 2) * (p + q) * (dstar - C) ** 2))
        steps.append(Step.of("The generator minimises ½E_q(D*−c)² + ½E_p(D*−c)² (the E_p term is G-free)",
                             "½(p+q)(D*−c)²", value))
        steps.append(Step.of("Equivalently (Mao et al., Eq. 8)", "2·½(p+q)(D*−c)²",
                             sp.factor(((B - C) * (p + q) - (B - A) * q) ** 2 / (p + q))))
    elif fam == "hinge":
        opt = optimise_piecewise_linear(expr, D, "min")
        dstar = opt.argopt
        steps.append(Step.of("Convex piecewise linear in D; slopes on the regions between the kinks D = ±1",
                             "slopes", sp.Tuple(*opt.slopes)))
        steps.append(Step.of("Bounded below (outer slopes −p ≤ 0 ≤ q) and convex (slopes increase), so the minimum "
                             "is the smallest value at a kink", "values at D = −1, 1", sp.Tuple(*[v for _, v in
                                                                                                   opt.candidates])))
        steps.append(Step.of("Hence (any D in [−1, 1] is optimal where p = q)", "D*", dstar))
        value = sp.simplify(-opt.value)
        steps.append(Step.of("The generator minimises the zero-sum value max_D (−L_D)", "−min_D φ", value))
    else:
        row = FGAN_ROWS[fam]
        conj = derive_conjugate(row.f, row.natural_domain)
        table = (compare_with_table(fam, False), compare_with_table(fam, True))
        steps.append(Step.of(f"Generator function of the {row.title} row", "f(u)", row.f))
        steps += list(conj.steps)
        for tc in table:
            steps.append(Step(f"Comparison with THEORY.md §8 ({tc.convention}): {tc.note}", "", ""))
        if is_kinked(row.f):
            lo, hi = conj.domain.inf, conj.domain.sup
            opt = optimise_piecewise_linear(p * D - q * conj.expr.subs(t, D), D, "max", lo, hi)
            dstar = opt.argopt
            value = sp.simplify(opt.value)
            steps.append(Step.of("p T − q f*(T) is linear on dom f*: the supremum sits at an end point", "T*", dstar))
        else:
            dstar = sp.simplify(conj.f_prime.subs(u, p / q))
            steps.append(Step.of("The pointwise supremum over T is attained at T* = f'(p/q)", "T*", dstar))
            fstar_at = conj.expr.subs(t, dstar)
            if isinstance(fstar_at, sp.Piecewise):  # T* lies in the open range of f'
                fstar_at = conj.pieces[[i for i, (_, st) in enumerate(conj.pieces) if st.measure != 0][0]][0].subs(
                    t, dstar)
            value = _tidy_logs(p * dstar - q * fstar_at)
            if not zero_identity(value - q * row.f.subs(u, p / q)):
                raise ValueError(f"family: Fenchel–Young equality failed for {fam}: {value} vs q f(p/q)")
            steps.append(Step.of("Fenchel–Young equality: p T* − q f*(T*) = q f(p/q)", "value", value))
    ident = identify(value)
    steps += list(ident.steps)
    if fam == "least_squares":
        steps.append(Step.of("The generator objective is a divergence (≥ 0, zero exactly when q = p) iff",
                             "condition", ident.objective_condition))
    return Derivation(fam, tuple((k, v) for k, v in key), expr, sense, dstar, value, ident.constant,
                      ident.divergence, ident.f, ident.named.key, ident.named.title, ident.scale,
                      ident.divergence_condition, ident.objective_condition, tuple(steps), conj, table)


# ------------------------------------------------------------------------------------------ (a, b, c)
@dataclass(frozen=True)
class LeastSquaresClassification:
    """Which (a, b, c) give the LSGAN generator objective each of two properties (THEORY.md §2).

    * **proper** — C(G) is minimised exactly at q = p: iff a ≠ b (``proper_condition``);
    * **divergence** — C(G) ≥ 0 with equality iff q = p: iff a ≠ b and a + b = 2c (``condition``, also
      ``divergence_condition``).

    ``cases``: name -> (triple, divergence condition value, C(G) for that triple) (as before);
    ``properties``: name -> {"triple", "proper", "divergence", "C", "C_at_q_eq_p"}.
    """

    objective: sp.Expr          # C(G) = scale·Δ_LC + constant, symbolic in a, b, c
    scale: sp.Expr              # (b − a)²/8
    constant: sp.Expr           # (a + b − 2c)²/4  (the value of C(G) at q = p)
    condition: sp.Basic         # divergence: a ≠ b and a + b = 2c
    cases: dict                 # name -> (triple, divergence condition value, C(G) for that triple)
    steps: tuple
    proper_condition: sp.Basic = sp.true     # proper: a ≠ b
    properties: dict = field(default_factory=dict)

    @property
    def divergence_condition(self) -> sp.Basic:
        return self.condition


def least_squares_classification() -> LeastSquaresClassification:
    """Derive symbolically C(G) = (b − a)²/8 · Δ_LC(P, Q) + (a + b − 2c)²/4 (Δ_LC = ∫(p − q)²/(p + q) ≥ 0, zero iff
    P = Q) and classify (a, b, c) by two properties (THEORY.md §2; proof: ``proofs/least_squares.md``):

    * **proper** (minimised exactly at q = p) iff the scale (b − a)²/8 > 0, i.e. a ≠ b — for a = b, C(G) is the
      constant (a + b − 2c)²/4 for every q;
    * **divergence** (≥ 0, zero iff q = p) iff a ≠ b and a + b = 2c — off the plane a + b = 2c, C(G) equals the
      non-zero constant (a + b − 2c)²/4 at q = p.

    Codings evaluated: the published (−1, 1, 0) (proper and a divergence, C = Δ_LC/2), the published family
    b − c = 1, b − a = 2, and the 0-1 coding (0, 1, 1) (proper but not a divergence: C = Δ_LC/8 + ¼, ¼ at q = p).

    Reference: Mao et al. (2017), "Least Squares Generative Adversarial Networks", ICCV, §3.2.
    """
    d = derive("least_squares")
    delta = sp.Symbol("Delta_LC", nonnegative=True)
    obj = d.scale * delta + d.constant
    proper_cond = sp.Ne(a - b, 0)
    cases, props = {}, {}
    for name, (A, B, C) in {"published (a, b, c) = (-1, 1, 0)": (-1, 1, 0), "0-1 coding (0, 1, 1)": (0, 1, 1),
                            "published family b - c = 1, b - a = 2": (b - 2, b, b - 1)}.items():
        sub = {a: A, b: B, c: C}
        div = sp.simplify(d.objective_condition.subs(sub))
        val = sp.simplify(obj.subs(sub))
        cases[name] = ((A, B, C), div, val)
        props[name] = {"triple": (A, B, C), "proper": sp.simplify(proper_cond.subs(sub)), "divergence": div,
                       "C": val, "C_at_q_eq_p": sp.simplify(val.subs(delta, 0))}
    steps = list(d.steps) + [Step.of("So, with Δ_LC = ∫(p − q)²/(p + q) ≥ 0 (zero iff P = Q)", "C(G)", obj),
                             Step.of("Proper (minimised exactly at q = p) iff the scale is positive", "condition",
                                     proper_cond),
                             Step.of("A divergence (≥ 0, zero iff q = p) iff moreover C = 0 at q = p", "condition",
                                     d.objective_condition)]
    for name, pr in props.items():
        steps.append(Step.of(f"{name}: proper {sp.sstr(pr['proper'])}, divergence {sp.sstr(pr['divergence'])}, "
                             f"C at q = p: {sp.sstr(pr['C_at_q_eq_p'])}", "C(G)", pr["C"]))
    return LeastSquaresClassification(obj, d.scale, d.constant, d.objective_condition, cases, tuple(steps),
                                      proper_cond, props)
