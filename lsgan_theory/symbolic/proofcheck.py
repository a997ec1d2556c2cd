"""Machine-checked Markdown proofs: a theorem stated in a machine-readable header, proved by chains of steps.

Over 800 lines because it is one checker: the header and step parsers, the sympy prover of each relation, the
chaining of steps into theorems and the renderers share one proof context (``_Ctx``, ``_File``); the pinned
statements are data (``lsgan_theory/proofs/statements.toml``).

A proof file is Markdown written for a reader.  Each theorem sits in a fenced block tagged ``theorem``; the steps of
its proof follow in blocks tagged ``check``::

    ```theorem
    id: lemma4                                  # key of the registered statement (see STATEMENTS)
    title: Lemma 4 (Qi 2017)
    source: derived                             # derived (proved below) or paper (taken from the paper, no steps)
    symbols p, q: nonnegative density           # densities: ∫p = ∫q = 1; pointwise (depend on x)
    symbols eta: positive constant              # constant: free of x (may leave an integral)
    hypothesis H1: p >= eta*q
    hypothesis H2: eta <= 1
    conclusion C: integral(Abs(p - q)) <= 2*(1 - eta)/eta given H1; H2
    ```

    ```check
    integral(Abs(p - q)) == integral(p - q + 2*Max(q - p, 0))
      <= integral(p - q + 2*(1 - eta)*q)     given H1; H2
      == 2*(1 - eta)
      <= 2*(1 - eta)/eta                     given H2
    ```

**Chains.** A step ``A op B`` (op one of ``==, <=, <, >=, >``) with an explicit left side starts a chain; a line that
begins with a relation (``<= B``) continues the current chain: its left side *is* the previous step's right side.
A step may carry a label (``S1: A == B``); the label names the chain's composite relation so far (start op end,
the operators composed: ``==`` with ``<=`` gives ``<=``, ``<=`` with ``<`` gives ``<``, ``<=`` with ``>=`` is an
error), usable later in ``given`` or ``by``.

**Justification.** A step is proved by sympy under its ``given`` facts, or cited ``by`` an earlier fact (the fact's
relation must be the step's relation, or the pointwise relation whose integral the step is).  Every ``given`` item
is the name (or the exact text) of a hypothesis of the theorem, of an earlier labelled result, or of a conclusion of
an earlier theorem of the file (a paper result included); anything else is an error.

**Conclusions.** Each conclusion ``C: L op R given H...`` must be the composite relation of a chain of the
theorem's proof whose steps all pass: same sides (up to simplification) and a composite operator at least as
strong.  The hypotheses the chain used (through ``given``/``by``, transitively through cited results) must be
exactly the hypotheses the conclusion lists.  Rejected as standing in for a claim: a conclusion with hypotheses that
the checker can prove with the hypotheses dropped (a *tautology*: its hypotheses carry no content); one that is a
hypothesis restated up to a positive factor (*circular*, e.g. ``t - 1/2 > 0 given t > 1/2``); one whose two sides
parse to the same expression and which names no ``let``-defined object (*trivial*, e.g. ``Max(-2, 0) == 0``,
``integral((p - q)*0) == 0``).  A ``source: paper`` theorem has no steps; its conclusions are shown as taken from
the paper and can be cited by later theorems, which the report then shows as resting on them.  A theorem whose ``id`` is
registered in :data:`STATEMENTS` must state exactly the registered hypotheses and conclusions.

**What a step check is.**

* ``A == B`` — ``simplify(A − B) == 0`` (after ``expand_log``); ``A >= B`` etc. — the sign of ``A − B`` decided
  by sympy's assumptions; ``Max``/``Min``/``Abs`` with undecided argument signs are split into cases.
* ``given x op E`` (``x`` a symbol alone on one side) is eliminated by substitution with a fresh slack:
  ``x >= L`` → x = L + w (w > 0), ``x <= U`` → x = U − w (x = U/(1 + w) for a positive x and positive U), both →
  x = (L + U w)/(1 + w) (w ≥ 0); a bound that is not strict adds its end point (x = L, x = U) as a case of its own
  (checked, not assumed by continuity); ``x == E`` → x = E.  Proving the statement in every case for every slack
  proves it under the hypotheses.
* ``integral(X)`` is ∫ X dx, unevaluated.  ∫ is linear (coefficients free of every symbol not declared
  ``constant``), ∫ p = ∫ q = 1 for the ``density`` symbols, and monotone (a pointwise X ≥ 0 under the hypotheses
  gives ∫X ≥ 0).  A relation with integrals is reduced to c₀ + ∫Y op 0 and proved as Y op 0 pointwise (when
  c₀ = 0), or as (c₀ + α + β) op 0 with the rest of Y after its linear part α p + β q being op 0 pointwise.
* ``limit(E, u, oo)`` is sympy's limit, taken *after* the hypotheses are substituted: ``limit(t*u - f, u, oo)
  == oo given t > 1/2`` states that f*(t) = sup_u t u − f(u) is +∞ for t > ½, with the witness sequence u → ∞.
* ``subs(E, x, v, y, w)`` substitutes (simultaneously); ``diff(E, x)``, ``diff(E, x, 2)`` differentiate.

A step that sympy cannot decide *fails* (no numeric fallback): a proof passes only when every step is proved.

**Parsing.**  ``lsgan-theory prove --dir`` reads a user's folder, so nothing here evaluates Python: every expression
goes through the package's whitelist parser (:func:`lsgan_theory.symbolic.parse.parse_expression`: numbers,
``+ - * / ** ^ ( ) ,``, the declared names (``symbols``/``let``) and the functions and constants listed in
``_FUNCTIONS``/``_CONSTANTS``; its size limits refuse a power such as ``9**9**9`` before computing it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import sympy as sp

from ._limits import SymbolicTimeout, limited
from .parse import parse_expression

__all__ = ["CheckResult", "ProofResult", "TheoremResult", "STATEMENTS", "check_proof", "check_text", "check_all",
           "proofs_dir", "render_latex", "render_markdown", "format_report"]

_ASSUMPTIONS = {"positive": {"positive": True}, "nonnegative": {"nonnegative": True}, "real": {"real": True},
                "negative": {"negative": True}, "nonpositive": {"nonpositive": True}}
_FLAGS = ("constant", "density")
_REL = re.compile(r"\s(==|>=|<=|>|<)\s")
_LEAD_REL = re.compile(r"^(==|>=|<=|>|<)\s")
_LABEL = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\s*:\s+(.*)$")
_FLIP = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "=="}
_SOURCES = ("derived", "paper")


# ------------------------------------------------------------------------------------------------ operators
class integral(sp.Function):
    """∫ X dx, kept unevaluated: the checker applies linearity, ∫p = ∫q = 1 and monotonicity."""

    nargs = 1

    @classmethod
    def eval(cls, arg):  # sympy's automatic-simplification hook for Function subclasses (evaluates no string)
        if arg == 0:
            return sp.S.Zero
        return None

    def _latex(self, printer):
        return r"\int " + printer._print(self.args[0]) + r"\,dx"


class limit(sp.Function):
    """limit(E, x, x0), evaluated by sympy only after the hypotheses have been substituted."""

    nargs = 3

    def _latex(self, printer):
        e, x, x0 = self.args
        return rf"\lim_{{{printer._print(x)} \to {printer._print(x0)}}} " + printer._print(e)


def _subs(expr, *pairs):
    if len(pairs) % 2:
        raise ValueError("subs(E, x, v, ...): expected pairs of a symbol and a value")
    return sp.sympify(expr).subs(list(zip(pairs[::2], pairs[1::2])), simultaneous=True)


# the whitelist as the shared parser's function table: name -> (callable, minimum arity, maximum arity or None)
_FUNCTIONS = {"Max": (sp.Max, 1, None), "Min": (sp.Min, 1, None), "Abs": (sp.Abs, 1, 1), "log": (sp.log, 1, 1),
              "exp": (sp.exp, 1, 1), "sqrt": (sp.sqrt, 1, 1), "diff": (sp.diff, 2, 3),
              "Rational": (sp.Rational, 1, 2), "sign": (sp.sign, 1, 1), "subs": (_subs, 3, None),
              "integral": (integral, 1, 1), "limit": (limit, 3, 3)}
_CONSTANTS = {"oo": sp.oo, "pi": sp.pi}
_RESERVED = set(_FUNCTIONS) | set(_CONSTANTS)  # names a proof may not declare


# ------------------------------------------------------------------------------------------------ results
@dataclass
class CheckResult:
    line: int            # 1-based line number in the file
    source: str
    passed: bool
    message: str = ""
    kind: str = "step"   # "step", "conclusion" or "theorem"


@dataclass
class TheoremResult:
    ident: str
    title: str
    source: str                      # "derived" or "paper"
    line: int
    definitions: dict = field(default_factory=dict)   # "symbols NAMES" / "let NAME" -> text (header only)
    hypotheses: dict = field(default_factory=dict)    # name -> text
    conclusions: dict = field(default_factory=dict)   # name -> text (with its given list)
    checks: list = field(default_factory=list)        # steps, conclusions and statement checks of this theorem
    uses_paper: list = field(default_factory=list)    # paper results a conclusion rests on
    registered: bool = False                          # the statement matches STATEMENTS[ident]

    @property
    def n_steps(self) -> int:
        return sum(c.kind == "step" for c in self.checks)

    @property
    def failures(self) -> list:
        return [c for c in self.checks if not c.passed]

    @property
    def passed(self) -> bool:
        return not self.failures and (self.source == "paper" or self.n_steps > 0)


@dataclass
class ProofResult:
    path: str
    checks: list = field(default_factory=list)
    theorems: list = field(default_factory=list)
    error: str = ""

    @property
    def passed(self) -> bool:
        return (not self.error and bool(self.theorems) and all(t.passed for t in self.theorems)
                and all(c.passed for c in self.checks))

    @property
    def n_failed(self) -> int:
        return sum(not c.passed for c in self.checks)

    @property
    def n_steps(self) -> int:
        return sum(c.kind == "step" for c in self.checks)


def proofs_dir() -> Path:
    """The proofs shipped with the package (``lsgan_theory/proofs``, package data located with
    :mod:`importlib.resources`, so a plain ``pip install`` finds them)."""
    from importlib.resources import files

    return Path(str(files("lsgan_theory") / "proofs"))


# ------------------------------------------------------------------------------------------------ context
@dataclass
class _Fact:
    name: str
    lhs: sp.Expr
    op: str
    rhs: sp.Expr
    used: frozenset        # hypotheses / earlier-theorem conclusions it rests on
    kind: str              # hypothesis, result, conclusion, paper
    text: str = ""


class _Ctx:
    def __init__(self):
        self.ns: dict = {}
        self.lets: set = set()
        self.constants: set = set()
        self.densities: set = set()
        self.nslack = 0

    # -- declarations, written once for checking and rendering
    def declare(self, line: str) -> tuple[str, str] | None:
        """Handle ``symbols NAMES: KIND [flags]`` and ``let NAME = EXPR``; return (kind, name(s)) or None."""
        if line.startswith("symbols "):
            names, _, kind = line[len("symbols "):].partition(":")
            words = kind.replace(",", " ").split() or ["real"]
            assum = [w for w in words if w not in _FLAGS]
            flags = [w for w in words if w in _FLAGS]
            if len(assum) > 1 or any(w not in _ASSUMPTIONS for w in assum):
                raise ValueError(f"symbols: unknown assumption in {kind.strip()!r}; expected one of "
                                 f"{sorted(_ASSUMPTIONS)} plus optional flags {list(_FLAGS)}")
            assumptions = _ASSUMPTIONS[assum[0] if assum else "real"]
            declared = [nm for nm in re.split(r"[,\s]+", names.strip()) if nm]
            for nm in declared:
                self._check_name(nm)
                s = sp.Symbol(nm, **assumptions)
                self.ns[nm] = s
                (self.constants.add if "constant" in flags else self.constants.discard)(s)
                (self.densities.add if "density" in flags else self.densities.discard)(s)
            return "symbols", ", ".join(declared)
        if line.startswith("let "):
            name, _, expr = line[4:].partition("=")
            name = name.strip()
            self._check_name(name)
            self.ns[name] = self.parse(expr)
            self.lets.add(name)
            return "let", name
        return None

    @staticmethod
    def _check_name(nm: str) -> None:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", nm) or "__" in nm or nm in _RESERVED:
            raise ValueError(f"{nm!r} is not an allowed name (letters, digits, single underscores; not a function "
                             "name)")

    def slack(self, strict: bool):
        self.nslack += 1
        return sp.Symbol(f"w_{self.nslack}", positive=True) if strict else sp.Symbol(f"w_{self.nslack}",
                                                                                      nonnegative=True)

    def parse(self, text: str):
        text = text.strip()
        if not text:
            raise ValueError("empty expression")
        used = tuple(sorted({t for t in re.findall(r"[A-Za-z][A-Za-z0-9_]*", text) if t in self.ns}))
        key = (text, tuple((t, self.ns[t]) for t in used))
        hit = _PARSE_CACHE.get(key)
        if hit is not None:
            return hit
        out = self._parse(text)
        _PARSE_CACHE[key] = out
        return out

    def _parse(self, text: str):
        # the shared whitelist parser (symbolic/parse.py): no eval, size limits (a power such as 9**9**9 is refused
        # before it is computed), declared names and the whitelisted functions only
        return parse_expression(text, name="expression", symbols=dict(self.ns), functions=_FUNCTIONS,
                                constants=_CONSTANTS)

    def relation(self, text: str):
        lhs, op, rhs = _split_rel(text)
        return self.parse(lhs), op, self.parse(rhs)

    def pointwise(self, e) -> bool:
        """True if ``e`` depends on x (a density or a symbol not declared constant)."""
        return any(s not in self.constants for s in e.free_symbols)


_PARSE_CACHE: dict = {}   # (text, the declared names it uses with their values) -> expression


def _split_rel(text: str):
    m = list(_REL.finditer(text))
    if len(m) != 1:
        raise ValueError(f"expected exactly one relation (==, >=, <=, >, <) surrounded by spaces in {text!r}")
    return text[:m[0].start()], m[0].group(1), text[m[0].end():]


# ------------------------------------------------------------------------------------------------ proving
def _apply_givens(ctx: _Ctx, conds: list) -> list[dict]:
    """Turn hypotheses ``(x, op, E)`` into substitutions, one per symbol; a list of cases (module docstring)."""
    bounds: dict = {}
    order = []
    for L, op, R in conds:
        if isinstance(R, sp.Symbol) and not isinstance(L, sp.Symbol):
            L, R, op = R, L, _FLIP[op]
        if not isinstance(L, sp.Symbol):
            raise ValueError(f"given {sp.sstr(L)} {op} {sp.sstr(R)}: a hypothesis used for substitution must have "
                             "a symbol alone on one side (x >= E, x == E, ...)")
        if L in R.free_symbols:
            raise ValueError(f"given {sp.sstr(L)} {op} {sp.sstr(R)}: the bound may not contain {L}")
        kind = {"==": "eq", ">=": "lo", ">": "lo", "<=": "hi", "<": "hi"}[op]
        if kind in bounds.get(L, {}):
            raise ValueError(f"given: two {kind} bounds on {L}")
        bounds.setdefault(L, {})[kind] = (R, op in (">", "<"))
        if L not in order:
            order.append(L)
    cases = [{}]
    for x in order:
        b = bounds[x]
        new_cases = []
        for c in cases:
            if "eq" in b:
                if len(b) > 1:
                    raise ValueError(f"given: {x} has both an equality and a bound")
                vals = [b["eq"][0]]
            elif "lo" in b and "hi" in b:
                (lo, _), (hi, hi_strict) = b["lo"], b["hi"]
                w = ctx.slack(False)
                vals = [(lo + hi * w) / (1 + w)] + ([] if hi_strict else [hi])  # [L, U), then the end point U
            elif "lo" in b:  # x > L, then the end point x = L unless the bound is strict
                lo, strict = b["lo"]
                vals = [lo + ctx.slack(True)] + ([] if strict else [lo])
            else:
                hi, strict = b["hi"]
                w = ctx.slack(True)
                vals = [hi / (1 + w) if (x.is_positive and hi.subs(c).is_positive) else hi - w] + \
                    ([] if strict else [hi])
            for val in vals:
                v = val.subs(c)
                nc = {k: e.subs(x, v) for k, e in c.items()}
                nc[x] = v
                new_cases.append(nc)
        cases = new_cases
    return cases


def _zero(e) -> bool:
    e = sp.sympify(e)
    if e == 0:
        return True
    s = limited(sp.simplify, e, what="simplify (proof step)")
    if s == 0:
        return True
    s2 = limited(lambda z: sp.simplify(sp.expand(sp.expand_log(z, force=False))), s, what="simplify (log step)")
    return s2 == 0


def _sign_ok(e, op) -> bool:
    for form in (lambda z: z, sp.simplify, sp.factor, sp.expand, lambda z: sp.factor(sp.together(z))):
        z = limited(form, e, what="simplify (sign of a proof step)")
        ok = z.is_nonnegative if op == ">=" else z.is_positive
        if ok:
            return True
    return False


def _undecided_kink(e):
    for node in sp.preorder_traversal(e):
        if isinstance(node, (sp.Max, sp.Min)):
            return node, node.args[0] - node.args[1]
        if isinstance(node, sp.Abs):
            return node, node.args[0]
    return None


def _branch(node, nonneg: bool):
    """The value of a kink when its deciding difference is ≥ 0 (``nonneg``) or ≤ 0."""
    if isinstance(node, sp.Abs):
        return node.args[0] if nonneg else -node.args[0]
    if len(node.args) != 2:
        x, y = node.args[0], node.func(*node.args[1:])
    else:
        x, y = node.args
    if isinstance(node, sp.Max):
        return x if nonneg else y
    return y if nonneg else x


def _decided(d):
    """+1 / −1 when the sign of ``d`` is known (≥ 0 / ≤ 0), else None."""
    for form in (lambda z: z, sp.simplify, lambda z: sp.factor(sp.together(z)), sp.expand):
        z = limited(form, d, what="simplify (kink argument)")
        if z.is_nonnegative:
            return 1
        if z.is_nonpositive:
            return -1
    return None


def _prove(ctx: _Ctx, e, op: str, depth: int = 0) -> tuple[bool, str]:
    """Prove ``e op 0`` (op in ==, >=, >) for all admissible symbol values, splitting kinks into cases."""
    for _ in range(50):  # resolve kinks whose deciding sign is known
        k = _undecided_kink(e)
        if k is None:
            break
        node, d = k
        if isinstance(node, (sp.Max, sp.Min)) and len(node.args) != 2:
            d = node.args[0] - node.func(*node.args[1:])
        sgn = _decided(d)
        if sgn is None:
            break
        e = e.xreplace({node: _branch(node, sgn > 0)})
    k = _undecided_kink(e)
    if k is None:
        if op == "==":
            ok = _zero(e)
            return ok, "" if ok else f"not identically 0: {sp.sstr(sp.simplify(e))}"
        ok = _sign_ok(e, op)
        return ok, "" if ok else f"sign not decided: {sp.sstr(sp.simplify(e))} {op} 0"
    if op == "==" and depth == 0 and _zero(e):  # e.g. q*Abs(p/q - 1) - Abs(p - q): simplify knows q > 0
        return True, ""
    if depth > 8:
        return False, "too many case splits"
    node, d = k
    if isinstance(node, (sp.Max, sp.Min)) and len(node.args) != 2:
        d = node.args[0] - node.func(*node.args[1:])
    for nonneg in (True, False):
        h = d if nonneg else -d
        branch_e = e.xreplace({node: _branch(node, nonneg)})
        ok, msg = _prove(ctx, branch_e, op, depth + 1)
        if ok:
            continue
        if op == ">=":  # goal ≥ h ≥ 0 (the case hypothesis itself bounds the goal)
            ok, _ = _prove(ctx, branch_e - h, op, depth + 1)
            if ok:
                continue
        tried = []
        for x in sorted(h.free_symbols, key=lambda s: (s.name.startswith("w_"), s.name)):
            coef = sp.diff(h, x)
            if not (coef.is_number and coef != 0):
                continue
            w = ctx.slack(False)
            val = sp.solve(sp.Eq(h, w), x)[0]
            ok, msg2 = _prove(ctx, branch_e.subs(x, val), op, depth + 1)
            if ok:
                break
            tried.append(f"eliminating {x}: {msg2}")
        if not ok:
            return False, f"case {sp.sstr(h)} >= 0: {msg}" + (f"; {'; '.join(tried)}" if tried else "")
    return True, ""


def _prove_integral(ctx: _Ctx, e, op: str) -> tuple[bool, str]:
    """Prove ``e op 0`` where ``e`` contains ∫: c₀ + ∫Y by linearity, then monotonicity and ∫p = ∫q = 1."""
    c0, Y = sp.S.Zero, sp.S.Zero
    for term in sp.Add.make_args(sp.expand(e)):
        ints = [f for f in sp.Mul.make_args(term) if isinstance(f, integral)]
        if not ints:
            if term.has(integral):
                return False, f"∫ inside a non-linear expression: {sp.sstr(term)}"
            c0 += term
            continue
        if len(ints) > 1:
            return False, f"product of integrals: {sp.sstr(term)}"
        coef = term / ints[0]
        if coef.has(integral) or ctx.pointwise(coef):
            return False, (f"the coefficient {sp.sstr(coef)} of ∫ depends on x (declare its symbols `constant` if "
                           "they are not functions of x)")
        Y += coef * ints[0].args[0]
    if ctx.pointwise(c0):
        return False, f"a pointwise term {sp.sstr(c0)} beside integrals"
    if _zero(c0):
        ok, msg = _prove(ctx, Y, op)
        return ok, "" if ok else f"pointwise (monotonicity of ∫): {msg}"
    msg = ""
    for form in (lambda z: z, lambda z: limited(sp.cancel, z, what="cancel (integrand)"),
                 lambda z: limited(sp.simplify, z, what="simplify (integrand)")):
        lin, rest = sp.S.Zero, sp.S.Zero
        for term in sp.Add.make_args(sp.expand(form(Y))):
            hit = [d for d in ctx.densities if term.has(d)]
            if len(hit) == 1:
                coef = term / hit[0]
                if not coef.has(hit[0]) and not ctx.pointwise(coef):
                    lin += coef
                    continue
            rest += term
        ok1, msg1 = _prove(ctx, c0 + lin, op)
        if not ok1:
            msg = f"after ∫p = ∫q = 1: {msg1}"
            continue
        ok2, msg2 = _prove(ctx, rest, ">=" if op == ">" else op)
        if ok2:
            return True, ""
        msg = f"rest of the integrand: {msg2}"
    return False, msg


def _eval_limits(e):
    if not e.has(limit):
        return e
    return e.replace(limit, lambda a, x, x0: limited(sp.limit, a, x, x0, what="limit (proof step)"))


_CACHE: dict = {}


def _check_relation(ctx: _Ctx, A, op: str, B, givens: tuple) -> tuple[bool, str]:
    """Prove ``A op B`` under the hypotheses ``givens`` ((x, op, E) triples); memoised."""
    key = (A, op, B, givens, frozenset(ctx.constants), frozenset(ctx.densities))
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    ctx.nslack = 0
    res = (True, "")
    try:
        cases = _apply_givens(ctx, list(givens)) if givens else [{}]
        for subs in cases:
            ok, msg = _run_case(ctx, A, op, B, subs)
            if not ok:
                where = "" if len(cases) == 1 else \
                    f" (case {', '.join(f'{k} = {sp.sstr(v)}' for k, v in subs.items())})"
                res = (False, msg + where)
                break
    except SymbolicTimeout as exc:
        res = (False, str(exc))
    except Exception as exc:  # noqa: BLE001 — sympy may raise anything on odd input: the step fails
        res = (False, f"error: {type(exc).__name__}: {exc}")
    _CACHE[key] = res
    return res


def _run_case(ctx: _Ctx, A, op: str, B, subs: dict) -> tuple[bool, str]:
    A, B = _eval_limits(A.subs(subs)), _eval_limits(B.subs(subs))
    infinite = (sp.oo, -sp.oo, sp.zoo)
    if A in infinite or B in infinite or A.has(sp.nan, sp.AccumBounds) or B.has(sp.nan, sp.AccumBounds):
        if op == "==":
            ok = A == B and A is not sp.zoo
        else:
            ok = (A in (sp.oo,) and op in (">", ">=") and B.is_finite) or \
                 (B in (sp.oo,) and op in ("<", "<=") and A.is_finite)
        return bool(ok), "" if ok else f"{sp.sstr(A)} {op} {sp.sstr(B)} does not hold"
    if A.has(limit) or B.has(limit):
        return False, "limit not evaluated"
    e = (A - B) if op in ("==", ">=", ">") else (B - A)
    op = {"<=": ">=", "<": ">"}.get(op, op)
    if e.has(integral):
        return _prove_integral(ctx, e, op)
    return _prove(ctx, e, op)


# ------------------------------------------------------------------------------------------------ chains
def _compose(op1: str, op2: str):
    if op1 == "==":
        return op2
    if op2 == "==":
        return op1
    up, down = {"<=", "<"}, {">=", ">"}
    for side, strict in ((up, "<"), (down, ">")):
        if op1 in side and op2 in side:
            return strict if strict in (op1, op2) else op1
    return None


def _implies(have: str, want: str) -> bool:
    return have == want or (have == "==" and want in ("<=", ">=")) or (have, want) in {("<", "<="), (">", ">=")}


def _same(x, y) -> bool:
    """The same expression: equal as parsed, or after ``expand`` (no ``simplify``: a conclusion is matched by the
    chain that states it, not by one that a simplification could turn into it)."""
    if x == y:
        return True
    try:
        return limited(sp.expand, x - y, what="expand (matching)") == 0
    except (SymbolicTimeout, TypeError, ValueError):
        return False


def _matches(fact: _Fact, L, op, R) -> bool:
    """``fact`` states ``L op R`` (possibly written the other way round, possibly with a stronger operator)."""
    if _implies(fact.op, op) and _same(fact.lhs, L) and _same(fact.rhs, R):
        return True
    return _implies(_FLIP[fact.op], op) and _same(fact.rhs, L) and _same(fact.lhs, R)


@dataclass
class _Chain:
    start: sp.Expr
    op: str
    end: sp.Expr
    used: frozenset
    ok: bool
    line: int


@dataclass
class _Theorem:
    result: TheoremResult
    hyps: dict = field(default_factory=dict)          # name -> _Fact
    concl: list = field(default_factory=list)         # (name, L, op, R, given names, line, text)
    chains: list = field(default_factory=list)        # every chain state after every step
    current: _Chain | None = None


def _split_step(text: str):
    by = given = ""
    if " by " in text:
        text, by = text.rsplit(" by ", 1)
    if " given " in text:
        text, given = text.split(" given ", 1)
    return text.strip(), [g.strip() for g in given.split(";") if g.strip()], by.strip()


class _File:
    """State while reading one proof file."""

    def __init__(self, path: str, statements: dict):
        self.statements = statements
        self.ctx = _Ctx()
        self.res = ProofResult(path)
        self.facts: dict = {}         # file-wide named facts: conclusions of earlier theorems, labelled results
        self.th: _Theorem | None = None
        self.nstep = 0

    # -- facts available to the current theorem
    def _available(self) -> dict:
        out = dict(self.facts)
        if self.th is not None:
            out.update(self.th.hyps)
        return out

    def _resolve(self, item: str) -> _Fact:
        avail = self._available()
        if item in avail:
            return avail[item]
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", item):
            raise ValueError(f"given/by {item!r}: no hypothesis of this theorem, earlier result or earlier "
                             f"theorem's conclusion has that name (known: {', '.join(sorted(avail)) or 'none'})")
        L, op, R = self.ctx.relation(item)
        for f in avail.values():
            if (f.op == op and _same(f.lhs, L) and _same(f.rhs, R)) or \
                    (_FLIP[f.op] == op and _same(f.rhs, L) and _same(f.lhs, R)):
                return f
        raise ValueError(f"given {item!r} is neither a hypothesis of the theorem nor an earlier result")

    # -- theorem header
    def header_line(self, n: int, line: str) -> None:
        if line.startswith("id:"):
            self.finish_theorem()
            ident = line[3:].strip()
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", ident):
                raise ValueError(f"id: {ident!r} is not a name")
            self.th = _Theorem(TheoremResult(ident, ident, "", n))
            self.res.theorems.append(self.th.result)
            return
        if self.th is None:
            raise ValueError("a theorem block must start with `id: NAME`")
        r = self.th.result
        if line.startswith("title:"):
            r.title = line[6:].strip()
        elif line.startswith("source:"):
            r.source = line[7:].strip()
            if r.source not in _SOURCES:
                raise ValueError(f"source: {r.source!r} is not one of {_SOURCES}")
        elif line.startswith("statement:"):
            pass  # prose, for the reader
        elif line.startswith("hypothesis "):
            name, _, rel = line[len("hypothesis "):].partition(":")
            name = name.strip()
            L, op, R = self.ctx.relation(rel)
            if name in self._available():
                raise ValueError(f"hypothesis {name!r}: the name is already used")
            self.th.hyps[name] = _Fact(name, L, op, R, frozenset({name}), "hypothesis", rel.strip())
            r.hypotheses[name] = rel.strip()
        elif line.startswith("conclusion "):
            name, _, rest = line[len("conclusion "):].partition(":")
            name = name.strip()
            rel, given, by = _split_step(rest)
            if by:
                raise ValueError("a conclusion takes `given`, not `by`")
            L, op, R = self.ctx.relation(rel)
            avail = self._available()
            for g in given:
                if g not in avail or avail[g].kind not in ("hypothesis", "conclusion", "paper"):
                    raise ValueError(f"conclusion {name}: given {g!r} is not a hypothesis of the theorem or an "
                                     "earlier theorem's conclusion (name it)")
            self.th.concl.append((name, L, op, R, frozenset(given), n, rest.strip()))
            r.conclusions[name] = rest.strip()
        else:
            decl = self.ctx.declare(line)
            if decl is None:
                raise ValueError(f"unknown theorem line {line!r}")
            r.definitions[f"{decl[0]} {decl[1]}"] = (line.partition(":")[2] if decl[0] == "symbols"
                                                     else line.partition("=")[2]).strip()

    # -- proof steps
    def step_line(self, n: int, line: str) -> CheckResult:
        if self.th is None:
            raise ValueError("a check step before any ```theorem block")
        if self.th.result.source == "paper":
            raise ValueError("a theorem with `source: paper` has no proof steps")
        label = ""
        m = _LABEL.match(line)
        if m and not _LEAD_REL.match(line):
            label, line = m.group(1), m.group(2)
        text, given, by = _split_step(line)
        lead = _LEAD_REL.match(text)
        if lead:
            if self.th.current is None:
                raise ValueError(f"{text!r} continues a chain, but no chain has started")
            prev = self.th.current
            A, op, B = prev.end, lead.group(1), self.ctx.parse(text[lead.end():])
        else:
            prev = None
            A, op, B = self.ctx.relation(text)
        used: set = set()
        if by:
            f = self._resolve(by)
            used |= f.used
            if _matches(f, A, op, B) or (isinstance(A, integral) and isinstance(B, integral)
                                         and _matches(f, A.args[0], op, B.args[0])):
                ok, msg = True, ""
            else:
                ok, msg = False, (f"`by {by}` cites {sp.sstr(f.lhs)} {f.op} {sp.sstr(f.rhs)}, which is not this step "
                                  "(nor its pointwise form under ∫)")
            if given:
                ok, msg = False, "a step is either proved (given ...) or cited (by ...), not both"
        else:
            triples = []
            for g in given:
                f = self._resolve(g)
                used |= f.used
                triples.append((f.lhs, f.op, f.rhs))
            ok, msg = _check_relation(self.ctx, A, op, B, tuple(triples))
        if prev is not None:
            cop = _compose(prev.op, op)
            if cop is None:
                ok, msg, cop = False, f"the chain mixes {prev.op} and {op}", op
            chain = _Chain(prev.start, cop, B, prev.used | frozenset(used), prev.ok and ok, n)
        else:
            chain = _Chain(A, op, B, frozenset(used), ok, n)
        self.th.current = chain
        self.th.chains.append(chain)
        if label:
            if label in self._available():
                ok, msg = False, f"label {label!r} is already used"
            else:
                self.facts[label] = _Fact(label, chain.start, chain.op, chain.end, chain.used, "result")
        return CheckResult(n, line if not label else f"{label}: {line}", bool(ok), msg)

    def finish_theorem(self) -> None:
        th, self.th = self.th, None
        if th is None:
            return
        r = th.result
        bad = []
        if not r.source:
            bad.append("no `source:` (derived or paper)")
        if not th.concl:
            bad.append("no conclusion")
        reg = self.statements.get(r.ident)
        if reg is not None:
            want = {k: _norm(v) for k, v in reg.items()}
            have = {"source": _norm(r.source), **{k: _norm(v) for k, v in r.definitions.items()},
                    **{f"hypothesis {k}": _norm(v) for k, v in r.hypotheses.items()},
                    **{f"conclusion {k}": _norm(v) for k, v in r.conclusions.items()}}
            diff = sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))
            r.registered = not diff
            if diff:
                k = diff[0]
                bad.append(f"statement differs from the registered one (THEORY.md): {k} is "
                           f"{have.get(k, 'missing')!r}, registered {want.get(k, 'absent')!r}")
        for msg in bad:
            c = CheckResult(r.line, f"theorem {r.ident}", False, msg, "theorem")
            r.checks.append(c)
            self.res.checks.append(c)
        for name, L, op, R, given, line, text in th.concl:
            paper_deps = sorted(g for g in given if self.facts.get(g) is not None and self.facts[g].kind == "paper")
            r.uses_paper += [d for d in paper_deps if d not in r.uses_paper]
            if r.source == "paper":
                res = CheckResult(line, f"conclusion {name}: {text}", True, "taken from the paper (not proved here)",
                                  "conclusion")
            else:
                res = self._conclusion(th, name, L, op, R, given, line, text)
            r.checks.append(res)
            self.res.checks.append(res)
            if name in self.facts:
                res.passed, res.message = False, f"name {name!r} already used"
            self.facts[name] = _Fact(name, L, op, R, frozenset({name}),
                                     "paper" if r.source == "paper" else "conclusion", text)

    def _conclusion(self, th, name, L, op, R, given, line, text) -> CheckResult:
        src = f"conclusion {name}: {text}"
        cands = [c for c in th.chains if _same(c.start, L) and _same(c.end, R)]
        if not cands:
            return CheckResult(line, src, False, "no chain of the proof runs from its left side to its right side",
                               "conclusion")
        good = [c for c in cands if c.ok and _implies(c.op, op)]
        if not good:
            c = cands[-1]
            why = "a step of it failed" if not c.ok else f"its composite relation is {c.op}, not {op}"
            return CheckResult(line, src, False, f"the chain ending at line {c.line} does not prove it: {why}",
                               "conclusion")
        exact = [c for c in good if c.used == given]
        if not exact:
            c = good[-1]
            extra, unused = sorted(c.used - given), sorted(given - c.used)
            msg = []
            if extra:
                msg.append(f"uses {', '.join(extra)}, which the conclusion does not list")
            if unused:
                msg.append(f"lists {', '.join(unused)}, which the proof never uses")
            return CheckResult(line, src, False, f"the chain ending at line {c.line} " + "; ".join(msg),
                               "conclusion")
        c = exact[-1]
        if L == R and not (set(re.findall(r"[A-Za-z][A-Za-z0-9_]*", text.partition(" given ")[0])) & self.ctx.lets):
            return CheckResult(line, src, False, "trivial: both sides are the same expression as parsed, and it is "
                               "about no defined object (no `let` name)", "conclusion")
        for g in given:
            h = th.hyps.get(g)
            if h is not None and h.kind == "hypothesis" and _restates(L, op, R, h):
                return CheckResult(line, src, False, f"circular: it restates the hypothesis {g}", "conclusion")
        if given:
            ok0, _ = _check_relation(self.ctx, L, op, R, ())
            if ok0:
                return CheckResult(line, src, False, "tautology: it holds with its hypotheses dropped, so they carry "
                                   "no content", "conclusion")
        return CheckResult(line, src, True, f"chain ending at line {c.line}", "conclusion")


def _restates(L, op, R, h: _Fact) -> bool:
    """The conclusion ``L op R`` is the hypothesis ``h`` up to a positive factor (or a non-zero one for ``==``)."""
    def one_side(a, o, b):
        return (a - b, o) if o in ("==", ">=", ">") else (b - a, _FLIP[o])
    ec, oc = one_side(L, op, R)
    eh, oh = one_side(h.lhs, h.op, h.rhs)
    if (oc == "==") != (oh == "==") or not ec.free_symbols or ec.free_symbols != eh.free_symbols or ec.has(integral):
        return False   # a restatement involves exactly the hypothesis' symbols
    try:
        ratio = limited(sp.cancel, ec / eh, what="cancel (circularity)")
        if not ratio.is_number:
            ratio = limited(sp.simplify, ratio, what="simplify (circularity)")
    except Exception:  # noqa: BLE001 — undecided: not reported as circular
        return False
    return bool(ratio.is_number and ratio != 0 and (oc == "==" or ratio.is_positive))


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", s.split("#", 1)[0])


def _walk(text: str):
    """Yield (line number, block tag or None, raw line) for every line of a Markdown text."""
    tag = None
    for n, raw in enumerate(text.splitlines(), 1):
        s = raw.strip()
        if s.startswith("```"):
            t = s[3:].strip()
            if tag is None and t in ("check", "theorem"):
                tag = t
                yield n, "open", raw
                continue
            if tag is not None:
                tag = None
                yield n, "close", raw
                continue
        yield n, tag, raw


def check_text(text: str, path: str = "<text>", fail_fast: bool = False, statements: dict | None = None
               ) -> ProofResult:
    """Check every theorem of a Markdown text: its statement, its proof steps and its conclusions.

    ``fail_fast``: stop reading steps after the first failure (conclusions are still checked).  ``statements``:
    the registry the headers are compared with (default :data:`STATEMENTS`; ``{}`` checks the deduction alone).
    """
    st = _File(path, STATEMENTS if statements is None else statements)
    res = st.res
    open_block = None
    for n, tag, raw in _walk(text):
        if tag in ("open", "close"):
            open_block = None if tag == "close" else raw.strip()[3:].strip()
            continue
        if tag is None:
            continue
        line = raw.strip().split("#", 1)[0].strip()
        if not line:
            continue
        if fail_fast and any(not c.passed for c in res.checks):
            break
        try:
            if tag == "theorem":
                st.header_line(n, line)
                continue
            if st.ctx.declare(line) is not None:
                continue
            c = st.step_line(n, line)
        except SymbolicTimeout as exc:
            c = CheckResult(n, line, False, str(exc))
        except Exception as exc:  # noqa: BLE001 — a user's folder: any failure is a failed line, never a traceback
            c = CheckResult(n, line, False, f"error: {type(exc).__name__}: {exc}",
                            "theorem" if tag == "theorem" else "step")
        res.checks.append(c)
        if st.th is not None:
            st.th.result.checks.append(c)
        elif res.theorems:
            res.theorems[-1].checks.append(c)
    try:
        st.finish_theorem()
    except Exception as exc:  # noqa: BLE001 — as above
        res.error = f"error while checking the conclusions: {type(exc).__name__}: {exc}"
    res.checks.sort(key=lambda c: c.line)
    if open_block is not None:
        res.error = "unterminated ```check block"
    if not res.theorems and not res.error:
        res.error = "no ```theorem block found" if res.checks else "no check steps found"
    return res


def check_proof(path, fail_fast: bool = False) -> ProofResult:
    """Check one proof file; see the module docstring for the format."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path: no proof file at {str(path)!r}")
    return check_text(path.read_text(encoding="utf-8"), str(path), fail_fast=fail_fast)


def check_all(directory=None, progress=None) -> list[ProofResult]:
    """Check every ``*.md`` proof in ``directory`` (default: the proofs shipped with the package); ``progress``,
    if given, is called with each file's name before it is checked."""
    d = Path(directory) if directory is not None else proofs_dir()
    if not d.is_dir():
        raise ValueError(f"directory: no proofs folder at {str(d)!r}")
    files = [f for f in sorted(d.glob("*.md")) if f.name.lower() != "readme.md"]
    out = []
    for i, f in enumerate(files, 1):
        if progress is not None:
            progress(f"{i}/{len(files)} {f.name}")
        out.append(check_proof(f))
    return out


def format_report(results) -> str:
    """One block per proof file: per theorem its title, source tag, steps checked and failures with their line."""
    out = []
    for r in results:
        status = "ok  " if r.passed else "FAIL"
        out.append(f"{status} {Path(r.path).name}" + (f"  {r.error}" if r.error else ""))
        for t in r.theorems:
            src = "taken from the paper, not proved here" if t.source == "paper" else t.source or "no source"
            if t.uses_paper:
                src += f"; rests on the paper result(s) {', '.join(t.uses_paper)}"
            reg = "statement as registered" if t.registered else "statement not registered"
            out.append(f"     {'ok  ' if t.passed else 'FAIL'} {t.title} [{src}]: {t.n_steps} steps checked, "
                       f"{len(t.conclusions)} conclusion(s); {reg}")
            for c in sorted(t.failures, key=lambda c: c.line):
                out.append(f"          line {c.line}: {c.source}\n            {c.message}")
    return "\n".join(out)


# ------------------------------------------------------------------------------------------------ rendering
def render_markdown(path, result: ProofResult | None = None) -> str:
    """The proof with a verdict appended to every step and conclusion line (``✓``/``✗ message``)."""
    path = Path(path)
    result = result or check_proof(path)
    by_line = {c.line: c for c in result.checks}
    out = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        c = by_line.get(n)
        if c is None:
            out.append(raw)
        elif c.passed and c.message.startswith("taken from the paper"):
            out.append(f"{raw}   # ◇ taken from the paper, not machine-checked")
        else:
            out.append(f"{raw}   # {'✓ checked' if c.passed else '✗ FAILED: ' + c.message}")
    verdict = "all steps machine-checked" if result.passed else f"{result.n_failed} item(s) FAILED"
    srcs = "; ".join(f"{t.title}: {'taken from the paper' if t.source == 'paper' else t.source}"
                     for t in result.theorems)
    out += ["", f"*Checker: {result.n_steps} steps, {verdict}. Sources — {srcs}.*"]
    return "\n".join(out) + "\n"


def render_latex(path, result: ProofResult | None = None) -> str:
    """A standalone LaTeX document: prose as text, each statement and step as a displayed formula with its verdict."""
    path = Path(path)
    result = result or check_proof(path)
    by_line = {c.line: c for c in result.checks}
    ctx = _Ctx()
    body = []
    for n, tag, raw in _walk(path.read_text(encoding="utf-8")):
        if tag in ("open", "close"):
            continue
        s = raw.strip()
        if tag is None:
            if s.startswith("#"):
                level = len(s) - len(s.lstrip("#"))
                cmd = {1: "section*", 2: "subsection*"}.get(level, "paragraph*")
                body.append(rf"\{cmd}{{{_tex(s.lstrip('#').strip())}}}")
            else:
                body.append(_tex(raw))
            continue
        line = s.split("#", 1)[0].strip()
        if not line:
            continue
        c = by_line.get(n)
        mark = "" if c is None else (r"\quad\text{(from the paper)}" if c.passed and c.message.startswith("taken")
                                     else r"\quad\checkmark" if c.passed else r"\quad\text{(FAILED)}")
        try:
            decl = ctx.declare(line)
            if decl is not None:
                kind, name = decl
                if kind == "symbols":
                    body.append(rf"\noindent Symbols ${_tex(name)}$: {_tex(line.partition(':')[2].strip())}.")
                else:
                    body.append(rf"\[ {sp.latex(sp.Symbol(name))} := {sp.latex(ctx.ns[name])} \]")
                continue
            if tag == "theorem":
                key, _, rest = line.partition(":")
                word = key.split()[0]
                if word in ("hypothesis", "conclusion"):
                    rel, given, _ = _split_step(rest)
                    L, op, R = ctx.relation(rel)
                    g = rf"\quad\text{{given {_tex(', '.join(given))}}}" if given else ""
                    body.append(rf"\[ \text{{{_tex(key)}: }} {sp.latex(L)} {_TEXREL[op]} {sp.latex(R)}{g}{mark} \]")
                else:
                    body.append(rf"\noindent\textbf{{{_tex(key)}}}: {_tex(rest.strip())}\par")
                continue
            m = _LABEL.match(line)
            label = ""
            if m and not _LEAD_REL.match(line):
                label, line = m.group(1), m.group(2)
            text, given, by = _split_step(line)
            lead = _LEAD_REL.match(text)
            if lead:
                lhs, op, R = "", lead.group(1), ctx.parse(text[lead.end():])
            else:
                L, op, R = ctx.relation(text)
                lhs = sp.latex(L)
            why = ", ".join(given)
            why = (r"\quad\text{given " + _tex(why) + "}" if why else "") + \
                  (r"\quad\text{by " + _tex(by) + "}" if by else "")
            tag_ = rf"\text{{{_tex(label)}: }}" if label else ""
            body.append(rf"\[ {tag_}{lhs} {_TEXREL[op]} {sp.latex(R)}{why}{mark} \]")
        except Exception as exc:  # rendering never hides a step: show it verbatim
            body.append(rf"\begin{{verbatim}}{line}\end{{verbatim}} % {_tex(str(exc))}{mark}")
    head = [r"\documentclass{article}", r"\usepackage{amsmath,amssymb}", r"\begin{document}"]
    return "\n".join(head + body + [r"\end{document}"]) + "\n"


_TEXREL = {"==": "=", ">=": r"\ge", "<=": r"\le", ">": ">", "<": "<"}


def _tex(s: str) -> str:
    for a, b_ in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"), ("#", r"\#"),
                  ("$", r"\$")):
        s = s.replace(a, b_)
    return s


# ------------------------------------------------------------------------------------------------ registry
def _load_statements() -> dict:
    """``proofs/statements.toml`` (package data, beside the proofs), read through :mod:`importlib.resources`."""
    import tomllib
    from importlib.resources import files

    return tomllib.loads((files("lsgan_theory") / "proofs" / "statements.toml").read_text(encoding="utf-8"))


#: The statements of the shipped theorems (THEORY.md), pinned: a proof whose header states a different theorem
#: (a changed hypothesis, conclusion or source tag) fails even if its steps are valid for that other theorem.
#: Keys: theorem id -> {"source", "symbols NAMES", "let NAME", "hypothesis NAME", "conclusion NAME"} -> text
#: (whitespace ignored).  Data, not code: ``lsgan_theory/proofs/statements.toml``, written from the proofs once they
#: were reviewed against THEORY.md; change both together.
STATEMENTS: dict = _load_statements()
