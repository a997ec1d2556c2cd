"""f-GAN (Nowozin et al. 2016, arXiv:1606.00709): convex conjugates by Legendre transform, their domains, the
optimal critic T* = f'(p/q), and the comparison with the table of THEORY.md §8.

Variational form: D_f(P‖Q) = sup_T E_P T − E_Q f*(T), f*(t) = sup_{u ∈ dom f} (t u − f(u)); pointwise the
supremum over T(x) is attained at T* = f'(p/q) (a subgradient where f has a kink) with value q f(p/q).

The conjugate depends on the domain of f.  Nowozin's table takes f on its natural domain (where the formula is
finite: all of R for the polynomial (u − 1)² and for ½|u − 1|); an f-divergence only evaluates f at u = p/q ≥ 0.
:func:`derive_conjugate` does both and :func:`compare_with_table` reports every row where a derivation and the
table differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from ._limits import limited
from .core import Step, is_kinked, optimise_piecewise_linear, region_branches, ssimplify, t, u

__all__ = ["FGAN_ROWS", "FGanRow", "Conjugate", "derive_conjugate", "compare_with_table", "TableComparison"]


@dataclass(frozen=True)
class FGanRow:
    """One row of THEORY.md §8 (= Nowozin et al. 2016, Table 2, with the GAN row's f as in the paper)."""

    key: str                 # family name accepted by ``derive``
    title: str
    f: sp.Expr               # generator in u
    natural_domain: sp.Interval   # where the formula of f is finite (Nowozin's convention)
    table_conjugate: sp.Expr       # f*(t) as printed in the table
    table_domain: sp.Set           # domain of f* as printed
    named: str               # key in core.NAMED of the divergence D_f
    named_scale: sp.Expr     # D_f = named_scale · named + named_offset
    named_offset: sp.Expr


_L2 = sp.log(2)
FGAN_ROWS: dict[str, FGanRow] = {r.key: r for r in [
    FGanRow("kl", "Kullback–Leibler", u * sp.log(u), sp.Interval(0, sp.oo), sp.exp(t - 1), sp.Reals, "kl", 1, 0),
    FGanRow("reverse_kl", "reverse KL", -sp.log(u), sp.Interval.open(0, sp.oo), -1 - sp.log(-t),
            sp.Interval.open(-sp.oo, 0), "reverse_kl", 1, 0),
    FGanRow("pearson_chi2", "Pearson χ²", (u - 1) ** 2, sp.Reals, t ** 2 / 4 + t, sp.Reals, "pearson_chi2", 1, 0),
    FGanRow("neyman_chi2", "Neyman χ²", (1 - u) ** 2 / u, sp.Interval.open(0, sp.oo), 2 - 2 * sp.sqrt(1 - t),
            sp.Interval.open(-sp.oo, 1), "neyman_chi2", 1, 0),
    FGanRow("hellinger2", "squared Hellinger", (sp.sqrt(u) - 1) ** 2, sp.Interval(0, sp.oo), t / (1 - t),
            sp.Interval.open(-sp.oo, 1), "hellinger2", 1, 0),
    FGanRow("js", "Jensen–Shannon (×2)", u * sp.log(u) - (u + 1) * sp.log((u + 1) / 2), sp.Interval(0, sp.oo),
            -sp.log(2 - sp.exp(t)), sp.Interval.open(-sp.oo, _L2), "js", 2, 0),
    FGanRow("fgan_gan", "GAN", u * sp.log(u) - (u + 1) * sp.log(u + 1), sp.Interval(0, sp.oo),
            -sp.log(1 - sp.exp(t)), sp.Interval.open(-sp.oo, 0), "js", 2, -sp.log(4)),
    FGanRow("tv", "total variation", sp.Abs(u - 1) / 2, sp.Reals, t, sp.Interval(-sp.Rational(1, 2),
                                                                                    sp.Rational(1, 2)), "tv", 1, 0),
]}


@dataclass(frozen=True)
class Conjugate:
    """f*(t) = sup_{u ∈ dom} (t u − f(u)) on its (effective) domain, with the maximiser u*(t)."""

    expr: sp.Expr            # f*(t) on ``domain`` (a Piecewise when the supremum switches branches)
    domain: sp.Set           # where f* is finite
    pieces: tuple            # ((expression, interval), ...) covering ``domain``, each expression exact there
    maximiser: sp.Expr       # u*(t) on the interior of the range of f'
    f_prime: sp.Expr         # f'(u) (a kinked f: its right derivative is not used; see ``steps``)
    steps: tuple


def _lim(expr, x, x0, dirn):
    return limited(sp.limit, expr, x, x0, dirn, what=f"limit of {sp.sstr(expr)} as {x} → {x0}{dirn}")


def _conjugate_smooth(f, dom: sp.Interval) -> Conjugate:
    lo, hi = dom.inf, dom.sup
    fp = sp.simplify(sp.diff(f, u))
    f2 = sp.simplify(sp.diff(f, u, 2))
    steps = [Step.of("f is smooth with", "f'(u)", fp), Step.of("and", "f''(u)", f2)]
    uu = sp.Symbol("u", real=True)  # u may be negative on a natural domain R
    fpr, fr = fp.subs(u, uu), f.subs(u, uu)
    t_lo = _lim(fpr, uu, lo, "+") if lo != -sp.oo else _lim(fpr, uu, -sp.oo, "+")
    t_hi = _lim(fpr, uu, hi, "-") if hi != sp.oo else _lim(fpr, uu, sp.oo, "-")
    steps.append(Step.of("f' is increasing (f'' > 0), so t u − f(u) is concave in u with a stationary point for t in "
                         "the range of f'", "f'(dom f)", sp.Interval.open(t_lo, t_hi), rel="="))
    sols = limited(sp.solve, sp.Eq(fpr, t), uu, what=f"solve f'(u) = t for f'(u) = {sp.sstr(fp)}")
    t_mid = (t_lo + t_hi) / 2 if (t_lo.is_finite and t_hi.is_finite) else (
        t_hi - 1 if t_hi.is_finite else (t_lo + 1 if t_lo.is_finite else sp.Integer(0)))
    ustar = None
    for s in sols:
        v = complex(s.subs(t, t_mid).evalf())
        if abs(v.imag) < 1e-12 and float(lo) < v.real < float(hi) and abs(complex(fpr.subs(uu, v.real)) - complex(
                t_mid)) < 1e-9:
            ustar = sp.simplify(s)
            break
    if ustar is None:
        raise ValueError(f"f: no root of f'(u) = t inside the domain {dom} among {sols}")
    steps.append(Step.of("Solving f'(u) = t gives the maximiser", "u*(t)", ustar))
    inner = ssimplify(sp.expand_log(t * ustar - fr.subs(uu, ustar), force=False), "simplify (conjugate)")
    inner = _tidy(inner, sp.Interval.open(t_lo, t_hi))
    steps.append(Step.of("so on the open range of f'", "f*(t)", inner))
    pieces, left_closed, right_closed = [], False, False
    # left end of the range: t ≤ t_lo
    if t_lo.is_finite:
        if lo.is_finite and lo in dom:
            f_lo = _lim(fr, uu, lo, "+")
            pieces.append((t * lo - f_lo, t <= t_lo))
            steps.append(Step.of(f"For t ≤ {t_lo} the supremum sits at the end point u = {lo} of dom f", "f*(t)",
                                 t * lo - f_lo))
            left_closed, t_lo_eff = True, -sp.oo
        else:
            edge = _lim(t_lo * uu - fr, uu, lo, "+")
            left_closed, t_lo_eff = bool(edge.is_finite), t_lo
            if edge.is_finite:
                pieces.append((edge, sp.Eq(t, t_lo)))
                steps.append(Step.of(f"At t = {t_lo} the supremum is the limit u → {lo}", "f*(" + str(t_lo) + ")",
                                     edge))
    else:
        t_lo_eff = -sp.oo
    pieces.append((inner, t < t_hi) if t_hi.is_finite else (inner, True))
    if t_hi.is_finite:
        if hi.is_finite and hi in dom:
            f_hi = _lim(fr, uu, hi, "-")
            pieces.append((t * hi - f_hi, True))
            right_closed, t_hi_eff = True, sp.oo
        else:
            edge = _lim(t_hi * uu - fr, uu, hi, "-")
            right_closed, t_hi_eff = bool(edge.is_finite), t_hi
            if edge.is_finite:
                pieces.append((edge, sp.Eq(t, t_hi)))
                steps.append(Step.of(f"At t = {t_hi} the supremum is the finite limit u → {hi}",
                                     "f*(" + str(t_hi) + ")", edge))
            else:
                steps.append(Step.of(f"At t = {t_hi} the supremum (u → {hi}) is +∞, so t = {t_hi} is outside the "
                                     "domain", ""))
    else:
        t_hi_eff = sp.oo
    domain = sp.Interval(t_lo_eff, t_hi_eff, left_open=not left_closed or t_lo_eff == -sp.oo,
                         right_open=not right_closed or t_hi_eff == sp.oo)
    ivals = []
    for e, c in pieces:
        ivals.append((e, (c.as_set() if c is not True else sp.Reals)))
    # each piece holds on its own set minus the sets of the pieces before it (Piecewise semantics)
    taken, out = sp.EmptySet, []
    for e, st in ivals:
        st = st.intersect(domain) - taken
        taken = taken | st
        if st is not sp.EmptySet:
            out.append((_tidy(e, st), st))
    expr = out[0][0] if len(out) == 1 else sp.Piecewise(*[(e, st.as_relational(t)) for e, st in out])
    steps.append(Step.of("Domain of f* (where the supremum is finite)", "dom f*", domain, rel="="))
    return Conjugate(expr, domain, tuple(out), ustar, fp, tuple(steps))


def _pieces_of(expr, dom):
    if isinstance(expr, (sp.Max, sp.Min)):
        out = []
        for a, b, br in region_branches(expr, t, dom.inf, dom.sup):
            st = sp.Interval(a, b).intersect(dom)
            if st is not sp.EmptySet:
                out.append((br, st))
        return tuple(out)
    return ((expr, dom),)


def _conjugate_kinked(f, dom: sp.Interval) -> Conjugate:
    ur = sp.Symbol("u", real=True)  # u may be negative on a natural domain R
    opt = optimise_piecewise_linear(t * ur - f.subs(u, ur), ur, "max", dom.inf, dom.sup)
    cond = opt.bounded
    conds = list(cond.args) if isinstance(cond, sp.And) else [cond]
    if cond == sp.true:
        dom_t = sp.Reals
    elif cond == sp.false:
        dom_t = sp.EmptySet
    else:
        dom_t = limited(lambda: sp.reduce_inequalities(conds, t).as_set(), what="reduce_inequalities (dom f*)")
    steps = [Step.of("f is piecewise linear; t u − f(u) is concave piecewise linear in u with slopes",
                     "slopes", sp.Tuple(*opt.slopes)),
             Step.of("It is bounded above iff the outer slopes have the right signs", "dom f*", dom_t, rel="="),
             Step.of("and its supremum is the largest value at a kink or finite end point", "f*(t)", opt.value)]
    expr = sp.simplify(opt.value)
    return Conjugate(expr, dom_t, _pieces_of(expr, dom_t), opt.argopt, sp.diff(f, u), tuple(steps))


def derive_conjugate(f, domain: sp.Interval) -> Conjugate:
    """The convex conjugate f*(t) = sup_{u ∈ domain} (t u − f(u)) by Legendre transform.

    Smooth strictly convex f: solve f'(u) = t, f*(t) = t u*(t) − f(u*(t)) on the range of f', then the two end
    points of the range by limits (finite end point of dom f: the supremum sits there for t beyond the range;
    infinite end: f* is finite at the end of the range iff lim (t u − f(u)) is).  Piecewise-linear f: exact
    optimisation at the kinks (:func:`~lsgan_theory.symbolic.core.optimise_piecewise_linear`).

    Parameters
    ----------
    f : sympy expression in ``u`` (the symbol ``lsgan_theory.symbolic.u``).
    domain : sympy Interval, the domain of f (e.g. ``Interval(0, oo)`` or ``Reals``).
    """
    if not isinstance(domain, sp.Interval):
        raise TypeError(f"domain: expected a sympy Interval, got {domain!r}")
    if not isinstance(f, sp.Expr):  # never sympify a string (it evaluates Python): see symbolic.parse
        raise TypeError(f"f: expected a sympy expression in u, got {type(f).__name__}")
    if is_kinked(f):
        return _conjugate_kinked(f, domain)
    return _conjugate_smooth(f, domain)


@dataclass(frozen=True)
class TableComparison:
    key: str
    convention: str          # "natural domain of f" or "u ≥ 0"
    derived: Conjugate
    table_conjugate: sp.Expr
    table_domain: sp.Set
    conjugate_agrees: bool   # on the intersection of the two domains
    domain_agrees: bool
    note: str

    @property
    def agrees(self) -> bool:
        return self.conjugate_agrees and self.domain_agrees


_S = sp.Symbol("s", positive=True)


def _param(st: sp.Set):
    """A substitution t = φ(s), s > 0, that sweeps the open interval ``st`` (None for R), and its inverse."""
    lo, hi = st.inf, st.sup
    if lo == -sp.oo and hi == sp.oo:
        return None, None
    if lo == -sp.oo:
        return hi - _S, hi - t
    if hi == sp.oo:
        return lo + _S, t - lo
    return lo + (hi - lo) / (1 + _S), (hi - lo) / (t - lo) - 1


def _tidy(e, st: sp.Set):
    """Simplify ``e`` knowing t lies in the interval ``st`` (substitute t = φ(s), s > 0, simplify, map back)."""
    if not isinstance(st, sp.Interval) or st.measure == 0:
        return sp.simplify(e)
    fwd, back = _param(st)
    if fwd is None:
        return sp.simplify(e)
    e2 = ssimplify(e.subs(t, fwd), "simplify (conjugate on its interval)")
    return sp.simplify(e2.subs(_S, back))


def _real_zero(diff) -> bool:
    """``diff`` (real-valued on the parameter range s > 0) is identically 0.  Tries ``simplify``; then, for
    differences of logarithms whose arguments sympy cannot sign, ``exp(diff) == 1``: exp∘log is the identity on
    every branch, and a real number with exp(x) = 1 is 0."""
    if ssimplify(diff, "simplify (f* against the table)") == 0:
        return True
    if diff.has(sp.log):
        return ssimplify(sp.exp(diff), "simplify (exp of a log identity)") == 1
    return False


def _agree_on(pieces, b, dom: sp.Set) -> bool:
    """Each piece (expr, interval) equals ``b`` on interval ∩ ``dom``: an identity in s > 0 after t = φ(s) on the
    interior, exact values at isolated points."""
    for e, st in pieces:
        common = st.intersect(dom)
        if common is sp.EmptySet:
            continue
        for part in (common.args if isinstance(common, sp.Union) else (common,)):
            if isinstance(part, sp.FiniteSet):
                pts = list(part)
            else:
                pts = [x for x in (part.inf, part.sup) if x.is_finite and x in part]
                fwd, _ = _param(part)
                diff = (e - b) if fwd is None else (e - b).subs(t, fwd)
                if not _real_zero(diff):
                    return False
            for x in pts:
                if sp.simplify(e.subs(t, x) - b.subs(t, x)) != 0:
                    return False
    return True


@lru_cache(maxsize=None)
def compare_with_table(key: str, restrict_to_nonnegative: bool = False) -> TableComparison:
    """Derive f* for row ``key`` of THEORY.md §8 and compare it with the table.

    ``restrict_to_nonnegative=False`` uses f on its natural domain (Nowozin's convention);
    ``True`` uses f on u ≥ 0, the only values u = p/q an f-divergence evaluates.
    """
    if key not in FGAN_ROWS:
        raise ValueError(f"key: unknown f-GAN row {key!r}; expected one of {sorted(FGAN_ROWS)}")
    row = FGAN_ROWS[key]
    dom = row.natural_domain
    if restrict_to_nonnegative:
        dom = dom.intersect(sp.Interval(0, sp.oo))
    conj = derive_conjugate(row.f, dom)
    common = conj.domain.intersect(row.table_domain)
    c_ok = _agree_on(conj.pieces, row.table_conjugate, common)
    d_ok = conj.domain == row.table_domain
    notes = []
    if not d_ok:
        notes.append(f"derived domain {conj.domain} vs table {row.table_domain}")
    if not c_ok:
        notes.append(f"derived f* = {sp.sstr(conj.expr)} differs from the table's {sp.sstr(row.table_conjugate)} on "
                     f"{common}")
    conv = "u ≥ 0" if restrict_to_nonnegative else "natural domain of f"
    return TableComparison(key, conv, conj, row.table_conjugate, row.table_domain, c_ok, d_ok,
                           "; ".join(notes) or "agrees with the table")
