"""Issue 13, core layer: bad input never runs code, never returns a wrong number, never allocates what cannot fit.

Every test here failed before the change that it guards (the failure is named in its comment): code ran, a call hung,
``inf`` came back for a finite quantity, a size was allocated until the process was killed, or a bad argument was
silently accepted.  The independent references are closed forms, mpmath's tanh-sinh quadrature at 30 digits
(end-point singularities are what tanh-sinh is built for) and crossing points + Beta CDFs from scipy.
"""

import math
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy import optimize, stats

from lsgan_theory import densities as Dn
from lsgan_theory import divergences as V
from lsgan_theory import metrics as M
from lsgan_theory import nonparametric as npm
from lsgan_theory import validate
from lsgan_theory.resources import MemoryLimitError, available_memory, check_memory
from lsgan_theory.symbolic import D, derive, limited, p, q
from lsgan_theory.symbolic.core import zero_identity
from lsgan_theory.symbolic.numeric import lambdify_pq
from lsgan_theory.symbolic.parse import EXTRA_FUNCTIONS, FUNCTIONS, ExpressionError, Limits, parse_expression

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "lsgan_theory", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=300)


# ============================================================================ 1. code execution, hangs, engine symbols
def test_derive_parameter_never_runs_code(tmp_path):
    # before: sympify evaluated the string and created the file
    marker = tmp_path / "pwned"
    with pytest.raises(ValueError, match="a: cannot parse"):
        derive("least_squares", a=f'__import__("pathlib").Path("{marker}").touch()', b=1, c=0)
    with pytest.raises(ValueError, match="a: cannot parse"):
        derive("least_squares", a="__import__", b=1, c=0)
    assert not marker.exists()


def test_cli_derive_parameter_never_runs_code():
    # before: the shell printed PWNED and derive went on
    r = _cli("derive", "least_squares", "--a", '__import__("os").system("echo PWNED")', "--b", "1", "--c", "0")
    assert r.returncode == 2
    assert "PWNED" not in r.stdout + r.stderr.replace("echo PWNED", "")
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert r.stderr.startswith("lsgan-theory derive: error: a:")


@pytest.mark.parametrize("text", ["10**10**10", "10^10^10", "2^2^2^2^2^2", "(10^1000)^1000", "9" * 101,
                                  "1e99999999", "(" * 61 + "1" + ")" * 61, "-" * 61 + "1", "1+" * 1001 + "1"])
def test_oversized_expressions_are_refused_before_evaluation(text):
    # before: 10**10**10 computed a 10-billion-digit integer for minutes; the others are the other size limits
    with pytest.raises(ExpressionError):
        parse_expression(text, name="a")


def test_engine_symbols_are_refused_by_name():
    # before: --a p was silently the density symbol p
    for s in ("p", "q", "D", "u", "t"):
        with pytest.raises(ValueError, match=f"'{s}' is the symbolic engine's symbol"):
            derive("least_squares", a=s, b=1, c=0)
    with pytest.raises(ValueError, match="free symbols"):
        derive("least_squares", a=p, b=1, c=0)
    # negative control: a parameter may refer to another parameter
    assert derive("least_squares", a="b - 2", c="b - 1").d_star == derive("least_squares", a=sp.Symbol("b", real=True)
                                                                          - 2, c=sp.Symbol("b", real=True) - 1).d_star


def test_bad_sympy_timeout_variable_names_it(monkeypatch):
    # before: LSGAN_SYMPY_TIMEOUT was read once at import (float('abc') → an error without the variable's name)
    monkeypatch.setenv("LSGAN_SYMPY_TIMEOUT", "abc")
    with pytest.raises(ValueError, match="LSGAN_SYMPY_TIMEOUT.*'abc'"):
        limited(lambda: 1)
    for bad in ("-1", "0", "nan", "inf"):
        monkeypatch.setenv("LSGAN_SYMPY_TIMEOUT", bad)
        with pytest.raises(ValueError, match="LSGAN_SYMPY_TIMEOUT"):
            limited(lambda: 1)
    monkeypatch.setenv("LSGAN_SYMPY_TIMEOUT", "7.5")
    assert limited(lambda: 3) == 3
    r = _cli("derive", "gan", env={"LSGAN_SYMPY_TIMEOUT": "abc"})
    assert r.returncode == 2 and "LSGAN_SYMPY_TIMEOUT" in r.stderr and "Traceback" not in r.stderr


def test_strings_are_refused_where_sympy_would_eval_them():
    # before: zero_identity / lambdify_pq sympified (evaluated) a string; integrand passed it to sympy arithmetic
    with pytest.raises(TypeError, match="parse_expression"):
        zero_identity("__import__('os').getpid() - __import__('os').getpid()")
    with pytest.raises(TypeError, match="parse_expression"):
        lambdify_pq("p - q")
    from lsgan_theory.symbolic import integrand
    with pytest.raises(ValueError, match="a: cannot parse"):
        integrand("least_squares", a="__import__('os')")


# ---------------------------------------------------------------------------- the parser itself
def test_parser_numbers_are_exact_and_precedence_is_conventional():
    P = parse_expression
    assert P("0.1") == sp.Rational(1, 10) and P("2.5e-3") == sp.Rational(1, 400) and P(".5") == sp.Rational(1, 2)
    assert P("1E+2") == 100 and P("007") == 7
    assert P("-2^2") == -4 and P("2^-1") == sp.Rational(1, 2) and P("2**3**2") == 512 and P("2^3^2") == 512
    assert P("1 - 2 - 3") == -4 and P("8/4/2") == 1 and P("2*3+4*5") == 26 and P("-(1-3)") == 2
    assert P("log(E)") == 1 and P("Max(1, 2, 3/2)") == 2 and P("Abs(-3)") == 3 and P("sqrt(4)") == 2
    assert P("pi") == sp.pi
    x = sp.Symbol("x")
    assert P("x^2 + 1", symbols={"x": x}) == x**2 + 1
    assert P("log(D) + log(1 - D)", symbols={"D": D}) == sp.log(D) + sp.log(1 - D)
    assert P("p*q", symbols={"p": p, "q": q}) == p * q
    assert P("sigmoid(0)", functions={**FUNCTIONS, **EXTRA_FUNCTIONS}) == sp.Rational(1, 2)


@pytest.mark.parametrize("text,match", [
    ("", "empty"), ("1 +", "end"), ("(1", r"expected '\)'"), ("1)", "unexpected"), ("1 2", "unexpected"),
    ("a.b", "character '.'"), ("x[0]", "character"), ("'1'", "character"), ("1/0", "division by zero"),
    ("0^-1", "division by zero"), ("foo(1)", "unknown function 'foo'"), ("log", "needs arguments"),
    ("log(1, 2)", "takes 1 argument"), ("Max()", "at least 1"), ("pi(1)", "not a function"),
    ("exec", "unknown name"), ("__class__", "unknown name"), ("lambda", "unknown name"), ("1,2", "unexpected"),
    ("sigmoid(1)", "unknown function"), ("٣", "character"),
])
def test_parser_refuses_with_the_position(text, match):
    with pytest.raises(ExpressionError, match=match) as exc:
        parse_expression(text, name="expr")
    assert "position" in str(exc.value) or match in ("empty",)
    assert str(exc.value).startswith("expr: ")


def test_parser_limits_are_configurable():
    with pytest.raises(ExpressionError, match="exponent"):
        parse_expression("2^11", limits=Limits(exponent=10))
    assert parse_expression("2^10", limits=Limits(exponent=10)) == 1024
    with pytest.raises(ExpressionError, match="characters"):
        parse_expression("1+1", limits=Limits(length=2))


# an independent evaluator: random expression trees rendered as text, evaluated with fractions.Fraction
def _trees(depth):
    leaf = st.tuples(st.just("num"), st.fractions(min_value=-50, max_value=50, max_denominator=20))
    if depth == 0:
        return leaf
    sub = _trees(depth - 1)
    return st.one_of(leaf, st.tuples(st.sampled_from(["+", "-", "*", "/"]), sub, sub), st.tuples(st.just("neg"), sub),
                     st.tuples(st.just("pow"), sub, st.integers(-3, 3)))


def _render(t):
    kind = t[0]
    if kind == "num":
        f = t[1]
        # the literal forms the parser must read: integers, decimals when exact, a/b otherwise
        if f.denominator == 1:
            s = str(f.numerator)
        elif 10**6 % f.denominator == 0:
            s = _decimal(f)
        else:
            s = f"{f.numerator}/{f.denominator}"
        return f"({s})"
    if kind == "neg":
        return f"-({_render(t[1])})"
    if kind == "pow":
        return f"({_render(t[1])})^({t[2]})"
    return f"({_render(t[1])} {kind} {_render(t[2])})"


def _decimal(f):
    sign = "-" if f < 0 else ""
    f = abs(f)
    whole, frac = divmod(f.numerator * 10**6 // f.denominator, 10**6)
    return f"{sign}{whole}.{frac:06d}"


def _value(t):
    kind = t[0]
    if kind == "num":
        return t[1]
    if kind == "neg":
        v = _value(t[1])
        return None if v is None else -v
    if kind == "pow":
        b = _value(t[1])
        return None if (b is None or (b == 0 and t[2] < 0)) else b ** t[2]
    a, b = _value(t[1]), _value(t[2])
    if a is None or b is None or (kind == "/" and b == 0):
        return None
    return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None}[kind]


@given(_trees(3))
def test_parser_agrees_with_an_independent_fraction_evaluator(tree):
    # mutations tried, each fails here: a decimal read through a binary float (Rational(mant / 10**k): 0.1 ≠ 1/10),
    # subtraction with its operands swapped (`r - e`), the exponent parsed as an atom (so `^(-1)` ... still parses:
    # that one is caught by the bare-precedence test below, 2^-2^2)
    text, want = _render(tree), _value(tree)
    if want is None:
        with pytest.raises(ExpressionError, match="division by zero"):
            parse_expression(text)
    else:
        got = parse_expression(text, limits=Limits(power_digits=10**6))
        assert got == sp.Rational(want.numerator, want.denominator)


def test_parser_precedence_without_parentheses():
    # the fraction evaluator above fully parenthesises; here precedence and associativity are exercised bare
    P = parse_expression
    for text, want in [("1-2+3", 2), ("2*3^2", 18), ("-3^2", -9), ("2^-2^2", Fraction(1, 16)), ("6/3*2", 4),
                       ("1+2*3-4/2", 5), ("-2*-3", 6), ("2^3*2", 16), ("+-+1", -1)]:
        assert P(text) == sp.Rational(Fraction(want).numerator, Fraction(want).denominator), text


# ==================================================================== 2. wrong numbers at end-point singularities
def _tv_by_crossings(a1, b1, a2, b2):
    """TV of two Betas from their CDFs between the crossing points of the pdfs (scipy; independent of quadrature)."""
    P, Q = stats.beta(a1, b1), stats.beta(a2, b2)
    xs = np.linspace(1e-9, 1 - 1e-9, 200001)
    d = P.pdf(xs) - Q.pdf(xs)
    idx = np.nonzero(np.sign(d[:-1]) * np.sign(d[1:]) < 0)[0]
    cr = [optimize.brentq(lambda t: P.pdf(t) - Q.pdf(t), xs[i], xs[i + 1], xtol=1e-15) for i in idx]
    pts = [0.0, *cr, 1.0]
    return 0.5 * sum(abs((P.cdf(b) - P.cdf(a)) - (Q.cdf(b) - Q.cdf(a))) for a, b in zip(pts[:-1], pts[1:]))


def _mp_beta(a, b):
    a, b = mp.mpf(a), mp.mpf(b)
    B = mp.beta(a, b)
    return lambda x: x ** (a - 1) * (1 - x) ** (b - 1) / B


def test_tv_with_unbounded_density_is_finite_and_right():
    # before: inf with abserr 0 (TV ≤ 1)
    e = V.tv(Dn.Beta(0.5, 0.5), Dn.Beta(2, 2))
    ref = _tv_by_crossings(0.5, 0.5, 2, 2)
    assert 0 <= e.value <= 1 and e.abserr < 1e-6
    assert abs(e.value - ref) <= e.abserr + 1e-12


def test_kl_arcsine_to_uniform_closed_form():
    # before: inf.  KL(Beta(½,½) ‖ U) = −h(Beta(½,½)) = ln(4/π) ≈ 0.241564 (the issue's ≈ 0.2416); mpmath
    # (tanh-sinh, 30 digits) agrees
    e = V.kl(Dn.Beta(0.5, 0.5), Dn.Uniform(0, 1))
    exact = math.log(4 / math.pi)
    mp.mp.dps = 30
    pb = _mp_beta(0.5, 0.5)
    assert abs(float(mp.quad(lambda x: pb(x) * mp.log(pb(x)), [0, 1])) - exact) < 1e-15
    assert abs(e.value - exact) <= e.abserr and e.abserr < 1e-5
    # and the other direction: KL(U ‖ Beta(½,½)) = −E_U log q = ln π − 1
    e2 = V.kl(Dn.Uniform(0, 1), Dn.Beta(0.5, 0.5))
    assert abs(e2.value - (math.log(math.pi) - 1)) <= e2.abserr and e2.abserr < 1e-6


def test_js_with_unbounded_density_against_mpmath():
    # before: inf (JS ≤ log 2)
    mp.mp.dps = 30
    pb = _mp_beta(0.9, 1)

    def g(x):
        a = pb(x)
        m = (a + 1) / 2
        return (a * mp.log(a / m) + mp.log(1 / m)) / 2

    ref = float(mp.quad(g, [0, 1]))
    e = V.js(Dn.Beta(0.9, 1), Dn.Uniform(0, 1))
    assert abs(e.value - ref) <= e.abserr and e.abserr < 1e-8


@pytest.mark.parametrize("fn,pp,qq", [
    ("hellinger2", (0.5, 0.5), (0.3, 2)), ("triangular", (0.5, 0.5), (1, 1)), ("kl", (0.7, 0.6), (0.4, 3)),
    ("reverse_kl", (2, 2), (0.5, 0.8)),
])
def test_other_divergences_at_singular_ends_against_mpmath(fn, pp, qq):
    mp.mp.dps = 30
    P, Q = _mp_beta(*pp), _mp_beta(*qq)
    g = {"hellinger2": lambda x: (mp.sqrt(P(x)) - mp.sqrt(Q(x))) ** 2,
         "triangular": lambda x: (P(x) - Q(x)) ** 2 / (P(x) + Q(x)),
         "kl": lambda x: P(x) * mp.log(P(x) / Q(x)),
         "reverse_kl": lambda x: Q(x) * mp.log(Q(x) / P(x))}[fn]
    ref = float(mp.quad(g, [0, 0.5, 1]))
    e = getattr(V, fn)(Dn.Beta(*pp), Dn.Beta(*qq))
    assert math.isfinite(e.value) and abs(e.value - ref) <= e.abserr, (e, ref)


def test_strong_singularity_gets_an_honest_abserr():
    # Beta(0.1, 0.1): 1.5 % of its mass lies within 4.4e-16 of x = 1, which float64 cannot resolve; the bound says so
    e = V.tv(Dn.Beta(0.1, 0.1), Dn.Uniform(0, 1))
    ref = _tv_by_crossings(0.1, 0.1, 1, 1)
    assert abs(e.value - ref) <= e.abserr
    assert e.abserr < 0.05


def test_singularity_inside_the_domain_of_a_mixture():
    mp.mp.dps = 30
    pb = _mp_beta(0.5, 0.5)

    def pm(x):
        return mp.npdf(x, 0, 1) / 2 + (pb(x) / 2 if 0 < x < 1 else 0)

    ref = float(mp.quad(lambda x: pm(x) * mp.log(pm(x) / mp.npdf(x, 0.5, 1)), [-20, 0, 1, 21]))
    e = V.kl(Dn.parse("mixture(beta(0.5,0.5),normal(0,1))"), Dn.Normal(0.5, 1))
    assert abs(e.value - ref) <= e.abserr and e.abserr < 1e-5


def test_non_integrable_singularities_are_still_infinite():
    # negative control: these integrals really diverge (∫ p²/q ~ ∫ x^-2 and ∫ q²/p ~ ∫ 1/x near 0)
    assert V.pearson_chi2(Dn.Beta(0.5, 0.5), Dn.Beta(2, 2)).value == math.inf
    assert V.neyman_chi2(Dn.Uniform(0, 1), Dn.Beta(0.5, 0.5)).value == math.inf
    assert V.kl(Dn.Uniform(0, 2), Dn.Uniform(0, 1)).value == math.inf


def test_nan_integrand_raises_naming_the_function():
    # before: f_divergence / integrate_pointwise returned inf
    P, Q = Dn.Normal(0, 1), Dn.Normal(1, 1)
    with pytest.raises(ValueError, match="^f: .*NaN"):
        V.f_divergence(P, Q, lambda u: np.log(u - 2))
    with pytest.raises(ValueError, match="^fn: .*NaN"):
        V.integrate_pointwise(lambda a, b: np.sqrt(a - b), P, Q)
    with pytest.raises(ValueError, match="^fn: .*NaN"):  # NaN only in the interior, not at the boundary
        V.integrate_pointwise(lambda a, b: np.where(a > 0.3, np.nan, a), P, Q)


# ============================================================================ 3. memory refused before allocating
@pytest.mark.parametrize("make,arg", [
    (lambda: Dn.Grid(100000, 1, 0.1), "n"), (lambda: Dn.Ring(10**9), "k"), (lambda: Dn.parse("ring(1e9,1,0.01)"), "k"),
    (lambda: Dn.Normal(0, 1).sample(10**12), "n"), (lambda: Dn.Ring().sample(10**12), "n"),
    (lambda: Dn.Normal2D((0, 0), 1).sample(10**13), "n"), (lambda: Dn.Beta(2, 2).sample(10**40), "n"),
    (lambda: Dn.Grid(10**400), "n"),
])
def test_densities_refuse_sizes_that_do_not_fit(make, arg):
    # before: MemoryError tracebacks or the process killed
    with pytest.raises(MemoryLimitError, match=f"^{arg}: .*GiB.*allowed"):
        make()


def test_sample_metrics_refuse_quadratic_memory():
    # before: mmd2 / w1_samples on 1e5 points allocated (n, n) matrices (80 GB and more)
    x = np.zeros((100_000, 2))
    with pytest.raises(MemoryLimitError, match="GiB"):
        M.mmd2(x, x)
    with pytest.raises(MemoryLimitError, match="GiB"):
        M.w1_samples(x, x)
    with pytest.raises(MemoryLimitError, match="GiB"):
        M.mode_statistics(np.zeros((10**7, 2)), np.zeros((10**4, 2)), 0.1)
    with pytest.raises(MemoryLimitError, match="GiB"):
        npm.margin_matrix(np.zeros(200_000), np.zeros(200_000))
    with pytest.raises(MemoryLimitError, match="GiB"):
        npm.quadrature_grid(Dn.Normal2D((0, 0), 1), Dn.Normal2D((1, 0), 1), size=10**6)


def test_cli_divergence_on_a_huge_ring_exits_2_at_once():
    # before: killed after 87 s
    r = _cli("divergence", "kl", "ring(1e9,1,0.01)", "normal2d(0,0,1)")
    assert r.returncode == 2 and "GiB" in r.stderr and "Traceback" not in r.stderr


def test_check_memory_states_estimate_and_limit():
    with pytest.raises(MemoryLimitError, match=r"x: the thing needs about 2 GiB, more than the allowed 1 GiB"):
        check_memory(2 * 2**30, "the thing", "x", limit=2**30)
    check_memory(2**30, "the thing", "x", limit=2**30)  # equal is allowed
    with pytest.raises(MemoryLimitError):
        check_memory(float("nan"), "the thing", "x")
    assert available_memory() > 0
    assert isinstance(MemoryLimitError("m"), ValueError)  # the CLI turns it into one line and exit 2


# ============================================================================ 4. silently accepted arguments
@pytest.mark.parametrize("call,arg", [
    (lambda: V.kl(Dn.Normal(0, 1), Dn.Normal(1, 1), rtol=-1), "rtol"),
    (lambda: V.kl(Dn.Normal(0, 1), Dn.Normal(1, 1), rtol=float("nan")), "rtol"),
    (lambda: V.kl(Dn.Normal(0, 1), Dn.Normal(1, 1), atol=float("inf")), "atol"),
    (lambda: V.kl(Dn.Normal(0, 1), Dn.Normal(1, 1), atol=float("nan")), "atol"),
    (lambda: V.w1(Dn.Normal2D((0, 0), 1), Dn.Normal2D((1, 0), 1), rtol=-1), "rtol"),
    (lambda: V.f_divergence(Dn.Normal(0, 1), Dn.Normal(1, 1), np.abs, f_prime_inf=float("nan")), "f_prime_inf"),
    (lambda: npm.solve([0.0, 1.0], [0.5], 1.0, 1.0, tol=-1), "tol"),
    (lambda: npm.solve([0.0, 1.0], [0.5], 1.0, 1.0, tol=float("nan")), "tol"),
    (lambda: npm.solve([0.0, 1.0], [0.5], 1.0, 1.0, max_rounds=0), "max_rounds"),
    (lambda: npm.solve([0.0, 1.0], [0.5], 1.0, 1.0, max_memory=-1), "max_memory"),
    (lambda: npm.estimate_memory(-1, 5), "n"),
    (lambda: npm.estimate_memory(5, 5, 0), "d"),
    (lambda: npm.optimal_face([0.0], [1.0], 1.0, 1.0, float("nan")), "s_opt"),
    (lambda: npm.optimal_face([0.0], [1.0], 1.0, 1.0, 1.0, n_random=-1), "n_random"),
    (lambda: npm.quadrature_grid(Dn.Normal(0, 1), Dn.Normal(1, 1), rel_cut=-1), "rel_cut"),
    (lambda: npm.objective([np.nan], [0.0], [0.0], [1.0], 1.0), "l_real"),
    (lambda: npm.cone_upper(0.5, [0.0, 1.0], [0.0], 1.0), "l"),
    (lambda: npm.generalisation_gaps(Dn.Normal(0, 1), Dn.Normal(1, 1), 1.0, 1.0, [10], -1), "seeds"),
    (lambda: M.mode_statistics(np.zeros((5, 2)), np.zeros((2, 2)), 0.1, min_count=-1), "min_count"),
    (lambda: M.mode_statistics(np.zeros((5, 2)), np.zeros((2, 2)), 0.1, sigmas=float("nan")), "sigmas"),
    (lambda: M.mode_statistics(np.zeros((5, 2)), np.zeros((2, 2)), float("inf")), "std"),
    (lambda: M.mmd2(np.zeros(5), np.ones(5), bandwidth=float("inf")), "bandwidth"),
    (lambda: M.l1_to_pdf(np.zeros(5), Dn.Normal(0, 1), bins=True), "bins"),
    (lambda: M.mre(lambda z: z, np.zeros((3, 1)), 1, lr=float("inf")), "lr"),
    (lambda: M.generalisation_gap(lambda x: x[:, 0], [[0.0]], [[1.0]], [[0.0]], [[1.0]], lam=-1), "lam"),
    (lambda: Dn.Ring(True), "k"), (lambda: Dn.Ring(8, 1, float("nan")), "std"),
    (lambda: Dn.Normal("0", 1), "loc"), (lambda: Dn.IsotropicNormal([0, 0], float("nan")), "scale"),
    (lambda: validate.integer("k", 1.0), "k"),
    (lambda: Dn.bisect_level(np.sqrt, 0.5, 0.0, 1.0, iterations=10**9), "iterations"),
    (lambda: Dn.as_rng(True), "rng"),
])
def test_bad_arguments_raise_naming_the_argument(call, arg):
    # before: each of these was accepted (or, for max_rounds=0, raised RuntimeError)
    with pytest.raises((ValueError, TypeError), match=rf"^{arg}\b"):
        call()


def test_validators_accept_what_they_should():
    # negative control of the table above: numpy scalars and 0-d arrays are numbers, bools are not
    assert validate.real("x", np.float32(1.5)) == 1.5 and validate.real("x", np.array(2)) == 2.0
    assert validate.integer("n", np.int64(3)) == 3
    assert validate.positive("x", 1e-300) == 1e-300
    with pytest.raises(TypeError):
        validate.real("x", True)
    assert validate.points("x", [1.0, 2.0]).shape == (2, 1)


def test_mode_count_is_capped():
    # memory would allow a million modes, but every pdf evaluation costs one Gaussian per mode
    with pytest.raises(ValueError, match=r"^k: .*more than the limit 100000"):
        Dn.Ring(10**6)
    with pytest.raises(ValueError, match=r"^n: .*more than the limit 100000"):
        Dn.Grid(1000)
    assert len(Dn.Grid(316).centres) == 316**2  # negative control: just below the cap


# ============================================================================ fuzz: arbitrary text never escapes
_EXPR_ALPHABET = "0123456789.eE+-*/^() ,abcpqDxlogexpsqrtMaxMin_\"'[]:;=!<>"


@given(st.text(alphabet=_EXPR_ALPHABET, max_size=80))
def test_fuzz_parse_expression_returns_an_expression_or_refuses(text):
    try:
        e = parse_expression(text, name="a", symbols={"a": sp.Symbol("a"), "b": sp.Symbol("b")})
    except ExpressionError as exc:
        assert str(exc).startswith("a: ")
    else:
        assert isinstance(e, sp.Expr) and e.free_symbols <= {sp.Symbol("a"), sp.Symbol("b")}


_SPEC_ALPHABET = "0123456789.e+-(),; normalbetagridringmixtureuniformtriangular2d"


@given(st.text(alphabet=_SPEC_ALPHABET, max_size=60) | st.builds(
    lambda name, args: f"{name}({','.join(args)})",
    st.sampled_from(["normal", "normal2d", "beta", "uniform", "triangular", "ring", "grid", "mixture"]),
    st.lists(st.sampled_from(["0", "1", "-1", "0.5", "1e9", "1e400", "nan", "-inf", "300", "1e-300", "2.5"]),
             max_size=4)))
def test_fuzz_density_specs_build_or_refuse(spec):
    try:
        d = Dn.parse(spec)
    except (ValueError, TypeError) as exc:
        assert str(exc).split(":")[0].strip() in {"spec", "loc", "loc[0]", "loc[1]", "scale", "a", "b", "lo", "hi",
                                                  "mode", "k", "n", "radius", "spacing", "std", "weights",
                                                  "components"}, str(exc)
    else:
        assert isinstance(d, Dn.Density)


@pytest.mark.slow
def test_fuzz_long_run():
    # the three fuzz/property tests above with 2000 examples each (a few minutes)
    from hypothesis import settings
    for fn in (test_fuzz_parse_expression_returns_an_expression_or_refuses, test_fuzz_density_specs_build_or_refuse,
               test_parser_agrees_with_an_independent_fraction_evaluator):
        settings(max_examples=2000, deadline=None)(fn)()


def test_a_scale_below_float_resolution_at_its_location_is_refused_not_integrated_to_zero():
    """Regression (fuzz-found): kl(normal(1e17,1) || normal(0,1)) returned 0 (abserr 1e-14) -- the mass collapsed
    onto a few floats and the quadrature missed it.  Refused now, naming the argument; the control just inside the
    limit still integrates to the closed form KL = μ²/2."""
    from lsgan_theory import densities, divergences

    for spec in ("normal(1e17,1)", "normal2d(0,1e20,1)", "uniform(1e17,1.0000000000000002e17)",
                 "triangular(1e17,1e17,1.0000000000000002e17)"):
        with pytest.raises(ValueError, match="float64 resolution"):
            densities.parse(spec)
    est = divergences.kl(densities.parse("normal(1e9,1)"), densities.parse("normal(0,1)"))
    assert abs(est.value - 0.5e18) <= est.abserr
