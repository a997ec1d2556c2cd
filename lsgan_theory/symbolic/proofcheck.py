"""Machine-checked Markdown proofs.

A proof is a Markdown file written for a reader; every algebraic step sits in a fenced block tagged ``check``::

    ```check
    symbols p, q: positive          # declare symbols with an assumption: positive, nonnegative, real, negative
    let Ds = p/(p + q)              # a definition, substituted into later lines
    diff(p*log(D) + q*log(1 - D), D).subs(D, Ds) == 0
    Max(q - p, 0) <= (1 - eta)*q given p >= eta*q; eta <= 1
    integral p - q == 0             # ∫ of α p + β q (α, β free of p, q) is α + β, as ∫p = ∫q = 1
    ```

Checks (one per line; ``#`` starts a comment):

* ``A == B`` — exact identity: ``simplify(A − B) == 0`` (after ``expand_log`` for log identities);
* ``A >= B``, ``A > B``, ``A <= B``, ``A < B`` — the sign of ``A − B`` decided by sympy's assumptions;
* ``... given C1; C2`` — hypotheses of the form ``x op E`` with ``x`` a symbol: they are eliminated by
  substitution with a fresh non-negative (strict: positive) slack ``w``: ``x >= L`` → x = L + w, ``x <= U`` → x =
  U − w (x = U/(1 + w) for a positive x and positive U, keeping x > 0), both → x = (L + U w)/(1 + w) (all of [L, U))
  and, when the upper bound is not strict, a second case x = U (the end point is checked, not assumed by
  continuity: a strict conclusion or a pole at U would otherwise pass).  Hypotheses are applied in order, earlier
  substitutions inside later ones.  Proving the statement in every case for every value of the slacks proves it
  under the hypotheses.
* ``max``/``min``/``abs`` whose argument signs are not decided are split into cases, each case eliminating a
  symbol in which the argument is linear (the same substitution rule); every case must pass.
* ``integral A == v`` — ``A`` is α p + β q with α, β free of p, q and α + β == v.

A check that sympy cannot decide *fails* (no numeric fallback): a proof only passes when every step is proved.
Proof files are trusted input (expressions are parsed with ``sympy.parse_expr``, which evaluates Python).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import sympy as sp
from sympy.parsing.sympy_parser import parse_expr, standard_transformations

from ._limits import SymbolicTimeout, limited

__all__ = ["CheckResult", "ProofResult", "check_proof", "check_text", "check_all", "proofs_dir", "render_latex",
           "render_markdown"]

_ASSUMPTIONS = {"positive": {"positive": True}, "nonnegative": {"nonnegative": True}, "real": {"real": True},
                "negative": {"negative": True}, "nonpositive": {"nonpositive": True}}
_REL = re.compile(r"\s(==|>=|<=|>|<)\s")
_KINKS = (sp.Max, sp.Min, sp.Abs)


@dataclass
class CheckResult:
    line: int            # 1-based line number in the file
    source: str
    passed: bool
    message: str = ""


@dataclass
class ProofResult:
    path: str
    checks: list = field(default_factory=list)
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.error and bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def n_failed(self) -> int:
        return sum(not c.passed for c in self.checks)


def proofs_dir() -> Path:
    """The proofs shipped with the package (``lsgan_theory/proofs``, package data located with
    :mod:`importlib.resources`, so a plain ``pip install`` finds them)."""
    from importlib.resources import files

    return Path(str(files("lsgan_theory") / "proofs"))


class _Ctx:
    def __init__(self):
        self.ns: dict = {"Max": sp.Max, "Min": sp.Min, "Abs": sp.Abs, "log": sp.log, "exp": sp.exp,
                         "sqrt": sp.sqrt, "diff": sp.diff, "oo": sp.oo, "Rational": sp.Rational, "pi": sp.pi,
                         "limit": sp.limit, "sign": sp.sign, "simplify": sp.simplify, "S": sp.S}
        self.nslack = 0

    def slack(self, strict: bool):
        self.nslack += 1
        return sp.Symbol(f"w{self.nslack}", positive=True) if strict else sp.Symbol(f"w{self.nslack}",
                                                                                     nonnegative=True)

    def parse(self, text: str):
        try:
            return parse_expr(text, local_dict=dict(self.ns), transformations=standard_transformations,
                              evaluate=True)
        except Exception as exc:
            raise ValueError(f"cannot parse {text!r}: {exc}") from None


def _split_rel(text: str):
    m = list(_REL.finditer(text))
    if len(m) != 1:
        raise ValueError(f"expected exactly one relation (==, >=, <=, >, <) surrounded by spaces in {text!r}")
    return text[:m[0].start()], m[0].group(1), text[m[0].end():]


def _apply_givens(ctx: _Ctx, conds: list[str]) -> list[dict]:
    """Turn hypotheses ``x op E`` into substitutions, one per symbol; a list of cases (see the module docstring)."""
    subs: dict = {}
    bounds: dict = {}
    order = []
    for c in conds:
        lhs, op, rhs = _split_rel(c)
        L, R = ctx.parse(lhs), ctx.parse(rhs)
        if op == "==":
            raise ValueError(f"given {c!r}: use `let` for definitions; hypotheses are inequalities")
        if isinstance(R, sp.Symbol) and not isinstance(L, sp.Symbol):
            L, R, op = R, L, {">=": "<=", "<=": ">=", ">": "<", "<": ">"}[op]
        if not isinstance(L, sp.Symbol):
            raise ValueError(f"given {c!r}: a hypothesis must have a symbol alone on one side (x >= E, x <= E, ...)")
        if L in R.free_symbols:
            raise ValueError(f"given {c!r}: the bound may not contain {L}")
        kind = "lo" if op in (">=", ">") else "hi"
        bounds.setdefault(L, {})[kind] = (R, op in (">", "<"))
        if L not in order:
            order.append(L)
    cases = [subs]
    for x in order:
        b = bounds[x]
        new_cases = []
        for c in cases:
            if "lo" in b and "hi" in b:
                (lo, _), (hi, hi_strict) = b["lo"], b["hi"]
                w = ctx.slack(False)
                vals = [(lo + hi * w) / (1 + w)] + ([] if hi_strict else [hi])  # [L, U), then the end point U
            elif "lo" in b:
                lo, strict = b["lo"]
                vals = [lo + ctx.slack(strict)]
            else:
                hi, strict = b["hi"]
                w = ctx.slack(strict)
                vals = [hi / (1 + w) if (x.is_positive and hi.subs(c).is_positive) else hi - w]
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
            if len(node.args) != 2:
                return node, node.args[0] - node.args[1]
            d = node.args[0] - node.args[1]
            return node, d
        if isinstance(node, sp.Abs):
            return node, node.args[0]
    return None


def _branch(node, nonneg: bool):
    """The value of a kink when its deciding difference is ≥ 0 (``nonneg``) or ≤ 0."""
    if isinstance(node, sp.Abs):
        return node.args[0] if nonneg else -node.args[0]
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
    """Prove ``e op 0`` (op in ==, >=, >) for all admissible symbol values, splitting kinks into cases.

    Each case ``h >= 0`` first tries the branch without using ``h`` (often enough), then ``goal − h >= 0``,
    then eliminates, in turn,
    each symbol in which ``h`` is linear with a constant coefficient (x = solution of h = w, w >= 0)."""
    for _ in range(50):  # resolve kinks whose deciding sign is known
        k = _undecided_kink(e)
        if k is None:
            break
        node, d = k
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
    if depth > 8:
        return False, "too many case splits"
    node, d = k
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
        for x in sorted(h.free_symbols, key=lambda s: (s.name.startswith("w"), s.name)):
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


def _run_check(ctx: _Ctx, text: str) -> tuple[bool, str]:
    integral = text.startswith("integral ")
    if integral:
        text = text[len("integral "):]
    given = []
    if " given " in text:
        text, g = text.split(" given ", 1)
        given = [c.strip() for c in g.split(";") if c.strip()]
    lhs, op, rhs = _split_rel(text)
    A, B = ctx.parse(lhs), ctx.parse(rhs)
    cases = _apply_givens(ctx, given) if given else [{}]
    for subs in cases:
        ok, msg = _run_case(ctx, A, op, B, subs, integral)
        if not ok:
            where = "" if len(cases) == 1 else f" (case {', '.join(f'{k} = {sp.sstr(v)}' for k, v in subs.items())})"
            return False, msg + where
    return True, ""


def _run_case(ctx: _Ctx, A, op: str, B, subs: dict, integral: bool) -> tuple[bool, str]:
    if integral:
        if op != "==":
            raise ValueError("integral checks take the form `integral A == v`")
        p, q = ctx.ns.get("p"), ctx.ns.get("q")
        if p is None or q is None:
            raise ValueError("integral checks need the symbols p and q to be declared")
        A = sp.expand(A.subs(subs))
        al, be = sp.diff(A, p), sp.diff(A, q)
        if al.has(p, q) or be.has(p, q) or not _zero(A - al * p - be * q):
            return False, f"{sp.sstr(A)} is not of the form α p + β q with α, β free of p, q"
        ok = _zero(al + be - B.subs(subs))
        return ok, "" if ok else f"∫ = {sp.sstr(sp.simplify(al + be))} ≠ {sp.sstr(B)}"
    e = (A - B) if op in ("==", ">=", ">") else (B - A)
    op = {"<=": ">=", "<": ">"}.get(op, op)
    e = e.subs(subs)
    return _prove(ctx, e, op)


def check_text(text: str, path: str = "<text>") -> ProofResult:
    """Check every ``check`` block of a Markdown text."""
    res = ProofResult(path)
    ctx = _Ctx()
    in_block = False
    for n, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("```"):
            tag = stripped[3:].strip()
            if not in_block and tag == "check":
                in_block = True
            elif in_block:
                in_block = False
            continue
        if not in_block:
            continue
        line = stripped.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            if line.startswith("symbols "):
                names, _, kind = line[len("symbols "):].partition(":")
                kind = kind.strip() or "real"
                if kind not in _ASSUMPTIONS:
                    raise ValueError(f"unknown assumption {kind!r}; expected one of {sorted(_ASSUMPTIONS)}")
                for nm in re.split(r"[,\s]+", names.strip()):
                    if nm:
                        ctx.ns[nm] = sp.Symbol(nm, **_ASSUMPTIONS[kind])
                continue
            if line.startswith("let "):
                name, _, expr = line[4:].partition("=")
                name = name.strip()
                if not name.isidentifier():
                    raise ValueError(f"let: {name!r} is not a name")
                ctx.ns[name] = ctx.parse(expr)
                continue
            ok, msg = _run_check(ctx, line)
            res.checks.append(CheckResult(n, line, bool(ok), msg))
        except SymbolicTimeout as exc:
            res.checks.append(CheckResult(n, line, False, str(exc)))
        except (ValueError, TypeError, AttributeError, sp.SympifyError) as exc:
            res.checks.append(CheckResult(n, line, False, f"error: {exc}"))
    if in_block:
        res.error = "unterminated ```check block"
    if not res.checks and not res.error:
        res.error = "no check steps found"
    return res


def check_proof(path) -> ProofResult:
    """Check every step of one proof file; see the module docstring for the format."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path: no proof file at {str(path)!r}")
    return check_text(path.read_text(encoding="utf-8"), str(path))


def check_all(directory=None) -> list[ProofResult]:
    """Check every ``*.md`` proof in ``directory`` (default: the repository's ``proofs/``)."""
    d = Path(directory) if directory is not None else proofs_dir()
    if not d.is_dir():
        raise ValueError(f"directory: no proofs folder at {str(d)!r}")
    return [check_proof(f) for f in sorted(d.glob("*.md")) if f.name.lower() != "readme.md"]


# ------------------------------------------------------------------------------------------ rendering
def render_markdown(path, result: ProofResult | None = None) -> str:
    """The proof with a verdict appended to every check line (``✓``/``✗ message``)."""
    path = Path(path)
    result = result or check_proof(path)
    by_line = {c.line: c for c in result.checks}
    out = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        c = by_line.get(n)
        out.append(raw if c is None else f"{raw}   # {'✓ checked' if c.passed else '✗ FAILED: ' + c.message}")
    verdict = "all steps machine-checked" if result.passed else f"{result.n_failed} step(s) FAILED"
    out += ["", f"*Checker: {len(result.checks)} steps, {verdict}.*"]
    return "\n".join(out) + "\n"


def render_latex(path, result: ProofResult | None = None) -> str:
    """A standalone LaTeX document: prose as text, each check as a displayed formula with its verdict."""
    path = Path(path)
    result = result or check_proof(path)
    by_line = {c.line: c for c in result.checks}
    ctx = _Ctx()
    body, in_block = [], False
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        s = raw.strip()
        if s.startswith("```"):
            in_block = (not in_block) and s[3:].strip() == "check"
            continue
        if not in_block:
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
        try:
            if line.startswith("symbols "):
                names, _, kind = line[len("symbols "):].partition(":")
                for nm in re.split(r"[,\s]+", names.strip()):
                    if nm:
                        ctx.ns[nm] = sp.Symbol(nm, **_ASSUMPTIONS.get(kind.strip() or "real", {}))
                body.append(rf"\noindent Symbols ${_tex(names.strip())}$: {kind.strip() or 'real'}.")
                continue
            if line.startswith("let "):
                name, _, expr = line[4:].partition("=")
                ctx.ns[name.strip()] = ctx.parse(expr)
                body.append(rf"\[ {sp.latex(sp.Symbol(name.strip()))} := {sp.latex(ctx.ns[name.strip()])} \]")
                continue
            text = line
            pre = r"\int " if text.startswith("integral ") else ""
            text = text[len("integral "):] if pre else text
            given = ""
            if " given " in text:
                text, g = text.split(" given ", 1)
                given = r"\quad\text{given } " + r",\ ".join(
                    sp.latex(ctx.parse(a)) + f" {_TEXREL[o]} " + sp.latex(ctx.parse(b_))
                    for a, o, b_ in (_split_rel(c.strip()) for c in g.split(";") if c.strip()))
            lhs, op, rhs = _split_rel(text)
            c = by_line.get(n)
            mark = r"\quad\checkmark" if c and c.passed else r"\quad\text{(FAILED)}"
            body.append(rf"\[ {pre}{sp.latex(ctx.parse(lhs))} {_TEXREL[op]} {sp.latex(ctx.parse(rhs))}{given}{mark} \]")
        except Exception as exc:  # rendering never hides a step: show it verbatim
            body.append(rf"\begin{{verbatim}}{line}\end{{verbatim}} % {exc}")
    head = [r"\documentclass{article}", r"\usepackage{amsmath,amssymb}", r"\begin{document}"]
    return "\n".join(head + body + [r"\end{document}"]) + "\n"


_TEXREL = {"==": "=", ">=": r"\ge", "<=": r"\le", ">": ">", "<": "<"}


def _tex(s: str) -> str:
    for a, b_ in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"), ("#", r"\#"),
                  ("$", r"\$")):
        s = s.replace(a, b_)
    return s
