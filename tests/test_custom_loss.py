"""A GAN loss from a formula (issue 19): :func:`lsgan_theory.symbolic.derive_custom` and ``derive custom`` on the CLI.

The named families are the reference (an independent code path: ``derive`` builds each integrand by hand in
symbolic/families.py); the custom path parses the same loss from text.  Closed forms (THEORY.md §1–§3) back the
gradient verdicts: classic GAN saturates (d/da log(1 − σ(a)) = −σ(a) → 0 as D → 0), the non-saturating loss does
not (d/da −log σ(a) = −(1 − σ(a)) → −1).
"""

import json
import subprocess
import sys

import pytest
import sympy as sp

from lsgan_theory.symbolic import derive, derive_custom, p, q
from lsgan_theory.symbolic.parse import ExpressionError


def _same(custom, named):
    """D*, value, divergence and the identification agree exactly (difference simplifies to 0)."""
    assert sp.simplify(custom.d_star - named.d_star) == 0, (custom.d_star, named.d_star)
    assert sp.simplify(custom.value_at_optimum - named.value_at_optimum) == 0
    assert sp.simplify(custom.divergence - named.divergence) == 0
    assert (custom.named, custom.scale, sp.simplify(custom.constant - named.constant)) == (named.named, named.scale, 0)
    assert custom.is_divergence == named.is_divergence
    assert custom.objective_is_divergence == named.objective_is_divergence


def test_custom_gan_formula_reproduces_derive_gan_exactly():
    c = derive_custom("log(D)", "log(1 - D)", sense="max")
    d = derive("gan")
    _same(c, d)
    assert c.d_star == p / (p + q)                    # closed form, THEORY.md §1
    assert (c.named, c.scale, c.constant) == ("js", 2, -sp.log(4))
    assert c.is_proper is True and c.objective_is_divergence is False   # 2 JS − log 4: proper, not zero at q = p
    # saturating: d/da log(1 − σ(a)) = −σ(a) → 0 where D wins (D* → 0).  Mutation: drop the D(1 − D) factor of the
    # sigmoid parametrisation → the limit is −1 and this fails.
    assert c.gradient["parametrisation"] == "sigmoid" and c.gradient["d_fake"] == 0
    assert c.gradient["right"] == 0 and c.gradient["saturating"] is True


def test_custom_non_saturating_generator_reproduces_derive_and_does_not_saturate():
    c = derive_custom("log(D)", "log(1 - D)", generator="-log(D)")
    _same(c, derive("non_saturating"))
    assert c.gradient["right"] == -1 and c.gradient["saturating"] is False


@pytest.mark.parametrize("sense, real, fake", [
    ("max", "-(D - 1)^2/2", "-(D + 1)^2/2"),     # D maximises minus its loss
    ("min", "(D - 1)^2/2", "(D + 1)^2/2"),       # D minimises its loss
])
def test_custom_least_squares_formula_reproduces_derive_least_squares(sense, real, fake):
    # the generator term ½(D − c)² on fakes plus Mao's G-free analysis term ½(D − c)² on reals, c = 0
    c = derive_custom(real, fake, sense=sense, generator="D^2/2", params=None, generator_real="D^2/2")
    d = derive("least_squares", a=-1, b=1, c=0)
    _same(c, d)
    assert (c.named, c.scale, c.constant) == ("triangular", sp.Rational(1, 2), 0)   # ½ Δ_LC, THEORY.md §2
    assert c.is_proper is True and c.objective_is_divergence is True
    assert c.gradient["parametrisation"] == "identity" and c.gradient["d_fake"] == -1 and \
        c.gradient["saturating"] is False


def test_custom_least_squares_with_parameters_reproduces_the_0_1_coding():
    c = derive_custom("(D - b)^2/2", "(D - a)^2/2", sense="min", generator="(D - c)^2/2",
                      generator_real="(D - c)^2/2", params={"a": 0, "b": 1, "c": 1})
    d = derive("least_squares", a=0, b=1, c=1)
    _same(c, d)
    # the 0-1 coding is proper but not a divergence: C = Δ_LC/8 + 1/4 (THEORY.md §2)
    assert c.constant == sp.Rational(1, 4) and c.is_proper is True and c.objective_is_divergence is False


def test_custom_symbolic_parameters_stay_symbolic():
    c = derive_custom("(D - b)^2/2", "(D - a)^2/2", sense="min", params={"a": None, "b": None})
    a, b = sp.symbols("a b", real=True)
    assert sp.simplify(c.d_star - (b * p + a * q) / (p + q)) == 0
    # −pq(a − b)²/(2(p + q)) = (a − b)²/8 · ((p − q)²/(p + q) − (p + q)): scale (a − b)²/8, and ∫(p + q) = 2 gives the constant −(a − b)²/4
    assert c.named == "triangular" and sp.simplify(c.scale - (a - b) ** 2 / 8) == 0
    assert sp.simplify(c.constant + (a - b) ** 2 / 4) == 0


def test_custom_hinge_formula_reproduces_derive_hinge():
    c = derive_custom("max(0, 1 - D)", "max(0, 1 + D)", sense="min")
    _same(c, derive("hinge"))
    assert (c.named, c.scale) == ("tv", 2)
    # at the kink D* = −1 the zero-sum generator term −(1 + D)_+ has slope 0 on the left and −1 on the right:
    # one-sided, so saturation is not decided (None), never a wrong True/False
    assert (c.gradient["d_fake"], c.gradient["left"], c.gradient["right"]) == (-1, 0, -1)
    assert c.gradient["saturating"] is None


def test_custom_negative_control_equal_labels_is_flagged_not_proper():
    # sign/label error: both classes pushed to the same label (a = b = 1) → D* = 1 for every (p, q), the objective
    # does not depend on Q.  Mutation: treat a linear f as a divergence → is_proper True and this fails.
    c = derive_custom("(D - 1)^2/2", "(D - 1)^2/2", sense="min", generator="D^2/2", generator_real="D^2/2")
    assert c.d_star == 1 and c.named == "" and c.is_proper is False and c.objective_is_divergence is False
    h = derive_custom("max(0, 1 - D)", "max(0, 1 - D)", sense="min")   # hinge with the fake sign flipped
    assert h.named == "" and h.is_proper is False


def test_custom_negative_control_sign_error_is_identified_differently():
    # zero-sum LSGAN (no generator term) vs the published generator term: a different constant (−1 vs 0), so the
    # objective is no longer a divergence although still proper
    c = derive_custom("(D - 1)^2/2", "(D + 1)^2/2", sense="min")
    assert c.constant == -1 and c.is_proper is True and c.objective_is_divergence is False
    # the LSGAN loss with the wrong sense (maximising a convex loss) has no maximum
    with pytest.raises(ValueError, match="not a maximum"):
        derive_custom("(D - 1)^2/2", "(D + 1)^2/2", sense="max")


def test_custom_unnamed_f_with_negative_curvature_at_one_is_not_a_divergence():
    # sign error in a generator term: g(D) = +D² with the GAN discriminator, φ(u) = h², h = u/(1 + u):
    # f'' = (2 − 4u)/(1 + u)⁴, f''(1) = −1/8 < 0 → D_f ≈ f''(1)/2·χ² < 0 for Q near P: neither proper nor a
    # divergence.  Mutation: drop the f''(1) < 0 branch of _convexity → None and this fails.
    up = sp.Symbol("u", positive=True)
    h = up / (1 + up)
    assert sp.simplify(sp.diff(h ** 2, up, 2) - (2 - 4 * up) / (1 + up) ** 4) == 0
    c = derive_custom("log(D)", "log(1 - D)", generator="D^2")
    assert c.named == "" and c.is_divergence is False and c.is_proper is False and c.f_convex is False
    # g = −D²: f'' = (4u − 2)/(1 + u)⁴ > 0 at 1 but < 0 for u < 1/2: not convex, divergence undecided (None), never a
    # wrong True
    c = derive_custom("log(D)", "log(1 - D)", generator="-D^2")
    assert c.named == "" and c.f_convex is False and c.is_divergence is None


@pytest.mark.parametrize("kw, arg", [
    ({"real": "__import__('os')", "fake": "log(1 - D)"}, "--real"),
    ({"real": "log(D)", "fake": "log(1 - z)"}, "--fake"),
    ({"real": "log(D)", "fake": "log(1 - D)", "generator": "os.system"}, "--generator"),
])
def test_custom_bad_formula_is_a_value_error_naming_the_argument(kw, arg):
    with pytest.raises(ExpressionError, match=arg):
        derive_custom(**kw)


def test_custom_bad_sense_and_params():
    with pytest.raises(ValueError, match="--sense"):
        derive_custom("log(D)", "log(1 - D)", sense="maximise")
    with pytest.raises(ValueError, match="reserved"):
        derive_custom("D", "D", params={"p": 1})
    with pytest.raises(ValueError, match="--param a"):
        derive_custom("(D - a)^2", "D^2", params={"a": "zz"})


@pytest.mark.parametrize("real, fake, sense, pattern", [
    ("D", "D", "max", "no pointwise optimum.*linear in D"),
    ("D", "-D", "max", "no pointwise optimum.*linear in D"),
    ("log(D)", "log(1 + D)", "max", "no pointwise optimum.*not a finite real"),  # D* = −p/(p+q) < 0
    ("max(0, 1 - D)", "D", "min", "unbounded"),                                   # slope q > 0 … −p + q: unbounded
    # sympy's solve has no algorithm when D and a transcendental function of D mix: before the fix these raised
    # NotImplementedError (a traceback from the CLI), not a ValueError
    ("log(D)^2", "log(1 - D)", "max", "no closed-form optimal discriminator"),
    ("tanh(D)", "log(1 - D)", "max", "no closed-form optimal discriminator"),
    ("D*exp(D)", "log(1 - D)", "max", "no closed-form optimal discriminator"),
    # kinked and not piecewise linear: the message names --real/--fake (it named core's argument "expr" before)
    ("Abs(D)", "log(1 - D)", "max", "^--real/--fake: kinked .* not piecewise linear"),
])
def test_custom_no_pointwise_optimum_is_a_clear_error(real, fake, sense, pattern):
    with pytest.raises(ValueError, match=pattern):
        derive_custom(real, fake, sense=sense)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "lsgan_theory", "derive", *args], capture_output=True, text=True,
                          timeout=600)


def test_cli_derive_custom_json_is_the_derivation():
    r = _cli("custom", "--real", "log(D)", "--fake", "log(1 - D)", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["family"] == "custom" and d["d_star"] == "p/(p + q)" and d["named"] == "js"
    assert d["custom"]["proper"] is True and d["custom"]["gradient"]["saturating"] is True


def test_cli_derive_custom_params_and_sense():
    r = _cli("custom", "--real", "(D - b)^2/2", "--fake", "(D - a)^2/2", "--sense", "min", "--generator",
             "(D - c)^2/2", "--generator-real", "(D - c)^2/2", "--param", "a=-1", "--param", "b=1", "--param", "c=0",
             "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["named"] == "triangular" and d["scale"] == "1/2" and d["custom"]["divergence"] is True


@pytest.mark.parametrize("args, needle", [
    (["custom", "--real", "__import__('os')", "--fake", "log(1 - D)"], "--real"),
    (["custom", "--real", "D", "--fake", "D"], "no pointwise optimum"),
    (["custom", "--real", "exp(exp(D))", "--fake", "log(1 - D)"], "no closed-form"),  # was a NotImplementedError traceback
    (["custom", "--fake", "log(1 - D)"], "--real"),
    (["custom", "--real", "log(D)", "--fake", "log(1-D)", "--param", "=1"], "--param"),
    (["gan", "--real", "log(D)"], "--real"),
])
def test_cli_derive_custom_bad_input_one_line_exit_2(args, needle):
    r = _cli(*args)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1 and needle in r.stderr, r.stderr


@pytest.mark.parametrize("args, kw, named", [
    (("log(D)", "log(1 - D)"), {}, "js"),
    (("(D - 1)^2/2", "(D + 1)^2/2"), {"sense": "min", "generator": "D^2/2", "generator_real": "D^2/2"}, "triangular"),
    (("max(0, 1 - D)", "max(0, 1 + D)"), {"sense": "min"}, "tv"),
    (("log(D)", "log(1 - D)"), {"generator": "D^2"}, ""),     # unnamed: reference constant + f_divergence(f)
])
def test_custom_ground_truth_quadrature_of_the_value_equals_the_identified_divergence(args, kw, named):
    # statistic: |∫ value_at_optimum − (constant + scale·named)| on N(0, 1) vs N(1, 1.5), both by adaptive
    # quadrature; tolerance: the two quadrature error bounds + 1e-12(1 + |value|) (numeric.check_against_quadrature).
    # Power: the same comparison with the reference shifted by 1e-6 must be rejected in the same run.
    from lsgan_theory.densities import Normal
    from lsgan_theory.symbolic.custom import ground_truth

    c = derive_custom(*args, **kw)
    assert c.named == named
    r = ground_truth(c, Normal(0.0, 1.0), Normal(1.0, 1.5))
    assert r.agrees, (r.symbolic, r.reference, r.tolerance)
    assert r.tolerance < 1e-8 and abs(r.symbolic - (r.reference + 1e-6)) > r.tolerance


def test_a_parameter_no_formula_uses_is_refused():
    # review finding: --param zz=2 with formulas that never mention zz was silently accepted
    from lsgan_theory.symbolic.custom import derive_custom
    with pytest.raises(ValueError, match="--param: zz"):
        derive_custom("log(D)", "log(1 - D)", params={"zz": 2})
    assert derive_custom("-(D - b)^2/2", "-(D + 1)^2/2", sense="max", params={"b": 1}).d_star is not None
