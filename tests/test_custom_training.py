"""A loss from formulas, end to end (issue 19): every named family re-derived through the custom path, a loss the
package does not ship (the α-GAN, α = 2), formulas without a pointwise optimum, the formulas compiled to torch and
trained in the ensemble (``family="custom"``), the optimal-critic study for them, and the testing kit finding
planted bugs.

Independent references: the named families' hand-built integrands (symbolic/families.py) and torch losses
(losses.py); the α-GAN closed forms of Kurri et al. 2021 (Thm. 1 at α = 2); numeric bisection of the compiled loss
(no closed form) against the sympy D*.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from lsgan_theory import losses as L
from lsgan_theory import testing as lt
from lsgan_theory.ensemble import TrainConfig, train
from lsgan_theory.symbolic import FAMILIES, derive, derive_custom, p, q, u
from lsgan_theory.symbolic.custom import ground_truth

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROOT = Path(__file__).resolve().parents[1]
ALPHA2 = ("2*(sqrt(D) - 1)", "2*(sqrt(1 - D) - 1)")


# ---------------------------------------------------------------------------------------------- item 4
def _formulas(fam):
    """The named family's integrand split into its real and fake per-sample terms, printed as text and parsed back
    by the whitelist parser (the custom path), with the generator terms of the named path."""
    named = derive(fam, a=-1, b=1, c=0) if fam == "least_squares" else derive(fam)
    e = sp.expand(named.integrand)
    real, fake = e.coeff(p), e.coeff(q)
    assert sp.expand(p * real + q * fake - e) == 0
    kw = {"non_saturating": {"generator": "-log(D)"},
          "least_squares": {"generator": "D^2/2", "generator_real": "D^2/2"}}.get(fam, {})
    return named, sp.sstr(real), sp.sstr(fake), kw


# > 3 s each on 2 shared cores (gan, non_saturating: also in test_custom_loss.py's default tests); run with -m slow
SLOW_FAMILIES = {"js", "fgan_gan", "hellinger2", "neyman_chi2", "gan", "non_saturating"}


@pytest.mark.parametrize("fam", [pytest.param(f, marks=pytest.mark.slow) if f in SLOW_FAMILIES else f
                                 for f in FAMILIES if f != "tv"])
def test_every_named_family_rederived_from_its_formula_gives_the_same_dstar_value_and_verdicts(fam):
    named, real, fake, kw = _formulas(fam)
    c = derive_custom(real, fake, sense=named.sense, **kw)
    assert sp.simplify(c.d_star - named.d_star) == 0, (c.d_star, named.d_star)
    assert sp.simplify(c.value_at_optimum - named.value_at_optimum) == 0
    assert sp.simplify(c.divergence - named.divergence) == 0
    assert (c.named, c.scale) == (named.named, named.scale) and sp.simplify(c.constant - named.constant) == 0
    assert (c.is_divergence, c.objective_is_divergence) == (named.is_divergence, named.objective_is_divergence)


def test_tv_fgan_row_without_its_domain_constraint_is_refused_not_given_a_wrong_dstar():
    # the TV row's critic is confined to |T| <= 1/2 by dom f*; as a bare formula p·T − q·T it is linear in T:
    # no pointwise optimum (the named path uses the constraint, the custom path has none) -> a clear message
    named, real, fake, _ = _formulas("tv")
    assert (real, fake) == ("D", "-D")
    with pytest.raises(ValueError, match=r"no pointwise optimum: .*linear in D"):
        derive_custom(real, fake, sense="max")


# ---------------------------------------------------------------------------------------------- item 6
@pytest.mark.parametrize("real, fake, sense, pattern", [
    ("exp(D)", "exp(-D)", "max", "no pointwise maximum.*not a maximum"),     # convex: the stationary point is a min
    ("tanh(D)", "-tanh(D)", "max", "no pointwise optimum.*has no root"),     # sup approached as D → ±∞, not attained
    ("D^3", "-D^3", "max", "no pointwise maximum.*not a maximum"),          # inflection point at 0
    ("D", "-D", "min", "no pointwise optimum.*linear in D.*unbounded below"),
])
def test_formula_without_pointwise_optimum_is_a_clear_error(real, fake, sense, pattern):
    with pytest.raises(ValueError, match=pattern):
        derive_custom(real, fake, sense=sense)


@pytest.mark.parametrize("args, needle", [
    (["--real", "D", "--fake=-D"], "no pointwise optimum"),
    (["--real", "__import__('os')", "--fake", "D"], "--real"),
    (["--real", "log(D)", "--fake", "log(1 - D)", "--p", "normal(0,"], "spec"),
    (["--real", "(D - b)^2", "--fake", "D^2", "--sense", "min", "--param", "b"], "--param"),
    (["--real", "log(D)", "--fake", "log(1 - D)", "--models", "1"], "--models"),
    # a density the parser accepts in form but refuses in value: the message names the flag (it said only
    # "scale: must be > 0" before); and a formula sympy cannot solve (a NotImplementedError traceback before)
    (["--real", "log(D)", "--fake", "log(1 - D)", "--q", "normal(0,-1)"], "--q 'normal(0,-1)': scale"),
    (["--real", "tanh(D)", "--fake", "log(1 - D)"], "no closed-form optimal discriminator"),
])
def test_cli_analyse_bad_input_is_one_line_exit_2_and_writes_nothing(args, needle, tmp_path):
    from lsgan_theory.cli import main
    import contextlib
    import io
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = main(["analyse", *args, "--out", str(tmp_path / "a")])
    assert rc == 2 and len(err.getvalue().strip().splitlines()) == 1 and needle in err.getvalue(), err.getvalue()
    assert "Traceback" not in err.getvalue() and not (tmp_path / "a").exists()


def test_cli_analyse_writes_the_whole_chain_into_a_report_folder(tmp_path, capsys):
    # a short run (2 models, 30 steps): the derivation, the quadrature check, the critic verdict with its terms,
    # the generator run, and the figures; the summary is written from the measured values
    import json
    from lsgan_theory.cli import main
    out = tmp_path / "rep"
    assert main(["analyse", "--real", "log(D)", "--fake", "log(1 - D)", "--models", "2", "--steps", "30", "--out",
                 str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["derivation"]["d_star"] == "p/(p + q)" and data["derivation"]["named"] == "js"
    assert data["ground_truth"]["agrees"] is True
    for k in ("statistic", "tolerance", "alternatives", "verdict", "power"):
        assert k in data["critic"]
    assert data["training"]["n_models"] == 2 and len(data["training"]["metrics"]) == 2
    names = {f.name for f in out.iterdir()}
    assert {"summary.md", "summary.json", "critic.png", "critic.pdf", "training_curves.png"} <= names
    md = (out / "summary.md").read_text()
    assert f"{data['critic']['statistic']:.4g}" in md and "p/(p + q)" in md


# ---------------------------------------------------------------------------------------------- item 5
def test_alpha_gan_is_derived_and_identified_as_the_arimoto_divergence():
    # Kurri, Sypherd, Sankar 2021, Thm. 1 at α = 2: D* = p²/(p² + q²), max_D V = D_fα + α/(α−1)(2^{1/α} − 2),
    # f_α(u) = α/(α−1)((1 + u^α)^{1/α} − (1 + u) − 2^{1/α} + 2): an unnamed f-divergence here (not in NAMED)
    c = derive_custom(*ALPHA2)
    alpha = 2
    f_alpha = sp.Rational(alpha, alpha - 1) * ((1 + u**alpha) ** sp.Rational(1, alpha) - (1 + u)
                                               - 2 ** sp.Rational(1, alpha) + 2)
    assert sp.simplify(c.d_star - p**2 / (p**2 + q**2)) == 0
    assert sp.simplify(c.value_at_optimum - (2 * sp.sqrt(p**2 + q**2) - 2 * (p + q))) == 0
    assert sp.simplify(c.constant - sp.Rational(alpha, alpha - 1) * (2 ** sp.Rational(1, alpha) - 2)) == 0
    assert sp.simplify(c.f - f_alpha) == 0
    assert c.named == "" and c.f_convex is True and c.is_divergence is True
    assert c.is_proper is True and c.objective_is_divergence is False      # 2√2 − 4 ≠ 0 at q = p
    # generator gradient d/da 2(√(1 − σ(a)) − 1) = −σ√(1 − σ) → 0 where D wins (D → 0): saturating, like the GAN
    assert c.gradient["parametrisation"] == "sigmoid" and c.gradient["saturating"] is True
    # negative control: the nearby wrong optima (classic GAN p/(p + q), α = 3/2 p^{3/2}/(p^{3/2} + q^{3/2})) differ
    # from the derived one at (p, q) = (1, 2): 1/5 vs 1/3 and 0.261
    at = float(c.d_star.subs({p: 1, q: 2}))
    assert at == pytest.approx(0.2, abs=1e-15) and abs(at - 1 / 3) > 0.1 and abs(at - 1 / (1 + 2**1.5)) > 0.05


def test_alpha_gan_ground_truth_by_quadrature_agrees_with_the_f_divergence_and_rejects_a_shift():
    # statistic |∫ value − (constant + D_f)|, the integrand (homogeneous evaluation) vs divergences.f_divergence with
    # the derived f: two quadratures, tolerance = their error bounds + 1e-12(1 + |value|); power: shifted by 1e-6
    from lsgan_theory.densities import Beta, Normal
    c = derive_custom(*ALPHA2)
    for P, Q in ((Normal(0.0, 1.0), Normal(1.0, 1.5)), (Beta(2, 2), Beta(3, 2))):   # Beta: p = q = 0 at the edges
        r = ground_truth(c, P, Q)
        assert r.agrees and r.tolerance < 1e-8, (r.symbolic, r.reference, r.tolerance)
        assert abs(r.symbolic - (r.reference + 1e-6)) > r.tolerance


# ---------------------------------------------------------------------------------------------- item 1: compile
NAMED_TORCH = [
    (("log(D)", "log(1 - D)", "max", None), L.gan_discriminator_loss, L.gan_generator_loss_minimax),
    (("log(D)", "log(1 - D)", "max", "-log(D)"), L.gan_discriminator_loss, L.gan_generator_loss_non_saturating),
    (("(D - 1)^2/2", "(D + 1)^2/2", "min", "D^2/2"), L.least_squares_discriminator_loss,
     L.least_squares_generator_loss),
    (("max(0, 1 - D)", "max(0, 1 + D)", "min", "-D"), L.hinge_discriminator_loss, L.hinge_generator_loss),
]


@settings(max_examples=15, deadline=None)
@given(out_real=lt.loss_values(n_models=2, n=5), out_fake=lt.loss_values(n_models=2, n=3))
def test_compiled_formulas_of_the_named_families_reduce_to_the_named_torch_losses(out_real, out_fake):
    # values and gradients (kit assertion); the named losses are hand-written (softplus on logits, relu, squares)
    for (real, fake, sense, gen), d_named, g_named in NAMED_TORCH:
        c = L.compile_custom_loss(real, fake, sense, gen)
        lt.assert_reduces_to(c.d_loss, d_named, (out_real, out_fake))
        lt.assert_reduces_to(c.g_loss, g_named, (out_fake,))


def test_compiled_hinge_has_the_named_hinges_gradient_at_the_kink():
    # hypothesis found it (out_real = 1 exactly): torch.maximum split the gradient ½–½ at max(0, 1 − D) = 0 while the
    # named hinge (relu) gives 0; the compiled Max now sends a tie's gradient to its first argument (the number).
    # Mutation: op = torch.maximum in losses.compile_expression -> this test fails (difference 0.1 = ½ · 1/5)
    r = torch.tensor([[0.0, 0.0, 0.0, 0.0, 1.0]], dtype=torch.float64, requires_grad=True)
    f = torch.tensor([[-1.0, 0.0, 0.5]], dtype=torch.float64, requires_grad=True)
    c = L.compile_custom_loss("max(0, 1 - D)", "max(0, 1 + D)", "min", "-D")
    lt.assert_reduces_to(c.d_loss, L.hinge_discriminator_loss, (r, f))
    m = L.compile_custom_loss("min(0, D - 1)", "min(0, -D - 1)", "max")  # the same loss written with min, maximised
    lt.assert_reduces_to(lambda a, b: -m.d_loss(a, b), lambda a, b: -L.hinge_discriminator_loss(a, b), (r, f))


def test_compiled_loss_with_a_sign_error_does_not_reduce_to_the_named_loss():
    # negative control for the property above: the hinge with the fake term's sign flipped
    r, f = torch.randn(2, 5, dtype=torch.float64, requires_grad=True), torch.randn(2, 3, dtype=torch.float64,
                                                                                 requires_grad=True)
    wrong = L.compile_custom_loss("max(0, 1 - D)", "max(0, 1 - D)", "min")
    with pytest.raises(AssertionError, match="values differ"):
        lt.assert_reduces_to(wrong.d_loss, L.hinge_discriminator_loss, (r, f))


def test_compiled_logs_are_finite_at_saturated_logits_and_the_clamp_is_documented():
    # log D, log(1 − D) with D = σ(a) are logsigmoid(±a): finite for |a| = 1e4 (float32), where log(σ(a)) is −inf
    c = L.compile_custom_loss("log(D)", "log(1 - D)")
    a = torch.tensor([[-1e4, 0.0, 1e4]], requires_grad=True)
    v = c.d_loss(a, a)
    v.sum().backward()
    assert torch.isfinite(v).all() and torch.isfinite(a.grad).all()
    # and exact: equal to the named (softplus) loss.  Mutation: drop the logsigmoid special case (clamped log of
    # σ(a) = 0) -> the value is ≈ 87/3 instead of 1e4/3 + ... and this fails
    torch.testing.assert_close(v, L.gan_discriminator_loss(a.detach(), a.detach()), rtol=1e-6, atol=0)
    assert torch.log(torch.sigmoid(torch.tensor(-1e4))) == -math.inf          # what the naive form would give
    # any other log is clamped at finfo.tiny: log(D²) at D = 0 is log(tiny) (≈ −87.3 in float32), gradient 0
    c2 = L.compile_custom_loss("log(D^2 + 1) - D^2", "log(D^2)", "max", parametrisation="identity")
    z = torch.zeros(1, 1, requires_grad=True)
    val = -c2.d_loss(torch.zeros(1, 1), z)  # sense max: −(real(0) + fake(z)), real(0) = log 1 − 0 = 0
    val.sum().backward()
    assert val.item() == pytest.approx(math.log(torch.finfo(torch.float32).tiny)) and z.grad.item() == 0.0
    assert "tiny" in L.compile_expression.__doc__


@settings(max_examples=10, deadline=None)
@given(st.lists(st.floats(0.01, 10.0), min_size=4, max_size=4), st.lists(st.floats(0.01, 10.0), min_size=4,
                                                                          max_size=4))
def test_compiled_alpha_gan_is_minimised_at_the_derived_dstar(pv, qv):
    # numeric bisection of the compiled torch loss (no closed form) vs the sympy D*, lambdified
    from lsgan_theory.symbolic.numeric import lambdify_pq
    lt.assert_optimal_discriminator(_ALPHA_LOSS.d_loss, lambdify_pq(_ALPHA_DSTAR), pv, qv, to_d=torch.sigmoid)


_ALPHA_LOSS = L.compile_custom_loss(*ALPHA2)
_ALPHA_DSTAR = p**2 / (p**2 + q**2)


def test_compile_refuses_unsupported_or_unsafe_input():
    with pytest.raises(ValueError, match="--real"):
        L.compile_custom_loss("__import__('os')", "D")
    with pytest.raises(TypeError, match="real"):
        L.compile_custom_loss(3, "D")
    with pytest.raises(ValueError, match="sense"):
        L.compile_custom_loss("D", "-D", "maximise")
    with pytest.raises(TypeError, match="string"):
        L.compile_expression("log(D)")


# ---------------------------------------------------------------------------------------------- item 1: train
def _cfg(**kw):
    base = dict(n_models=2, steps=25, batch=16, n_data=128, g_hidden=(6,), d_hidden=(6,), dtype="float64",
                device="cpu", seed=3)
    base.update(kw)
    return TrainConfig(**base)


def test_custom_gan_formulas_train_the_same_trajectory_as_the_named_gan_family():
    # same streams (seed, model ids), same networks: the compiled loss (logsigmoid) and the named one (softplus)
    # agree to float64 rounding, so 25 steps of Adam give the same losses (rtol 1e-9: rounding amplified by training)
    custom = train(_cfg(family="custom", custom_real="log(D)", custom_fake="log(1 - D)"))
    named = train(_cfg(family="gan"))
    np.testing.assert_allclose(custom.loss_d, named.loss_d, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(custom.loss_g, named.loss_g, rtol=1e-9, atol=1e-12)
    # negative control: the non-saturating generator term changes the generator's trajectory
    ns = train(_cfg(family="custom", custom_real="log(D)", custom_fake="log(1 - D)", custom_generator="-log(D)"))
    assert np.abs(ns.loss_d[:, -1] - named.loss_d[:, -1]).max() > 1e-6


def test_custom_family_mixes_with_named_families_in_one_ensemble():
    res = train(_cfg(family=("custom", "least_squares"), custom_real="(D - 1)^2/2", custom_fake="(D + 1)^2/2",
                     custom_sense="min", custom_generator="D^2/2", model_ids=(0, 0 + 1)))
    alone = train(_cfg(family="least_squares", n_models=1, model_ids=(1,)))
    np.testing.assert_allclose(res.loss_d[1], alone.loss_d[0], rtol=1e-12)    # the named model is untouched
    assert np.isfinite(res.loss_d).all()


@pytest.mark.parametrize("kw, err, needle", [
    ({"family": "custom"}, ValueError, "custom_real: required"),
    ({"family": "custom", "custom_real": "log(D)", "custom_fake": "log(1 - z)"}, ValueError, "custom_fake"),
    ({"family": "custom", "custom_real": "log(D)", "custom_fake": "os.system"}, ValueError, "custom_fake"),
    ({"family": "custom", "custom_real": "log(D)", "custom_fake": "log(1-D)", "custom_sense": "up"}, ValueError,
     "custom_sense"),
    ({"family": "gan", "custom_real": "log(D)"}, ValueError, "custom_real: family 'gan' does not use"),
])
def test_train_config_refuses_bad_custom_fields_naming_them(kw, err, needle):
    with pytest.raises(err, match=needle):
        TrainConfig(**kw)


def test_sweep_spec_file_trains_a_custom_loss(tmp_path):
    from lsgan_theory.sweeps.spec import load_spec, to_train_config
    spec = tmp_path / "custom.toml"
    spec.write_text('[sweep]\nname = "alpha"\nseeds = 2\n\n[base]\nfamily = "custom"\n'
                    'custom_real = "2*(sqrt(D) - 1)"\ncustom_fake = "2*(sqrt(1 - D) - 1)"\nsteps = 5\n'
                    'batch = 8\nn_data = 64\ng_hidden = [4]\nd_hidden = [4]\n\n[grid]\nlr_d = [0.001, 0.002]\n')
    runs = list(load_spec(spec).runs)
    cfg = to_train_config(runs, "cpu")
    assert cfg.family == ("custom",) * len(runs) or cfg.family == "custom"
    assert cfg.custom_real == "2*(sqrt(D) - 1)" and len(runs) == 4
    assert np.isfinite(train(cfg).loss_d).all()
    bad = tmp_path / "bad.toml"
    bad.write_text(spec.read_text().replace('custom_fake = "2*(sqrt(1 - D) - 1)"', 'custom_fake = "exec(1)"'))
    with pytest.raises(ValueError, match="custom_fake"):
        load_spec(bad)


# ---------------------------------------------------------------------------------------------- item 2: critic
def test_custom_critic_of_the_gan_formulas_is_the_named_gan_critic():
    # wiring: the custom study reads D = σ(output) and compares with derive_custom's D*: on the same streams it
    # gives the named study's statistic.  Mutation: read D as the raw output -> the statistics differ by O(1).
    from lsgan_theory.studies import custom_critic, optimal_critic
    kw = dict(n_models=2, steps=20, batch=16, n_data=128, width=6, device="cpu", grid=21)
    c = custom_critic("log(D)", "log(1 - D)", **kw)
    n = optimal_critic("gan", **kw)
    assert c.statistic == pytest.approx(n.statistic, rel=1e-6) and c.tolerance == pytest.approx(n.tolerance, rel=1e-6)
    # private: the verdict is read in the report layer (_claims), which has no public face for one critic
    from lsgan_theory._claims.analysis import critic_verdict

    for word in ("tolerance", "SE", "power", "seeds"):
        assert word in critic_verdict(c)[1]


@pytest.mark.slow
@pytest.mark.parametrize("formulas, sense", [(ALPHA2, "max"), (("max(0, 1 - D)", "max(0, 1 + D)"), "min")])
def test_trained_custom_critic_matches_the_derived_dstar_with_power(formulas, sense):
    # statistic ‖D̄ − D*‖ (weighted RMS) or the boundary |x̂₀ − x₀|; tolerance 2·SE over 16 seeds; power: D* for q
    # shifted by ±0.1σ must lie beyond the tolerance (measured: α-GAN 0.0041 vs tolerance 0.0072, alternatives
    # 0.024 / 0.019; custom hinge boundary 0.0062 vs 0.013, alternatives 0.056 / 0.044)
    from lsgan_theory.studies import custom_critic
    # private: the verdict is read in the report layer (_claims), which has no public face for one critic
    from lsgan_theory._claims.analysis import critic_verdict

    c = custom_critic(*formulas, sense=sense, n_models=16, steps=600, device="cpu")
    passed, verdict = critic_verdict(c)
    assert c.power, verdict
    assert passed, verdict


# ---------------------------------------------------------------------------------------------- item 7: planted bugs
def test_kit_property_test_finds_a_planted_sigmoid_before_the_least_squares_loss():
    # THEORY.md §2 pitfall: a sigmoid before the squared loss.  The property test (kit strategies + assertion) passes
    # on the correct LSGAN loss and must fail on the planted bug.
    def correct(r, f):
        return L.least_squares_discriminator_loss(r, f)

    def planted(r, f):
        return L.least_squares_discriminator_loss(torch.sigmoid(r), torch.sigmoid(f))

    def d_star(pv, qv):
        return (pv - qv) / (pv + qv)

    def property_test(loss):
        @settings(max_examples=15, deadline=None, database=None, phases=(Phase.generate,))   # no shrinking
        @given(st.lists(st.floats(0.05, 5.0), min_size=3, max_size=3),
               st.lists(st.floats(0.05, 5.0), min_size=3, max_size=3))
        def check(pv, qv):
            lt.assert_optimal_discriminator(loss, d_star, pv, qv)
        check()

    property_test(correct)
    with pytest.raises(AssertionError, match="pointwise minimiser is not D"):
        property_test(planted)


def test_kit_divergence_property_finds_a_planted_label_coding_bug():
    # the 0-1 coding (a, b, c) = (0, 1, 1) is proper but not a divergence (THEORY.md §2): assert_divergence on kit
    # density pairs must fail on it (not zero at P = Q) and pass on the published (−1, 1, 0)
    def property_test(abc):
        d = derive("least_squares", a=abc[0], b=abc[1], c=abc[2])

        @settings(max_examples=2, deadline=None, database=None, phases=(Phase.generate,))    # no shrinking
        @given(lt.density_pairs(lipschitz=True, compact=False))
        def check(pq):
            lt.assert_divergence(d, *pq)
        check()

    property_test((-1, 1, 0))
    with pytest.raises(AssertionError, match="not zero at P = Q"):
        property_test((0, 1, 1))


@pytest.mark.parametrize("proper, divergence", [(True, False), (True, True), (False, False), (True, None),
                                                (None, False)])
def test_abc_codings_strategy_draws_what_it_says(proper, divergence):
    # the derived conditions (least_squares_classification: proper iff a ≠ b; divergence iff also a + b = 2c)
    # evaluated on 30 drawn codings
    from lsgan_theory.symbolic import a, b, c, least_squares_classification
    cls = least_squares_classification()

    @settings(max_examples=30, deadline=None, database=None)
    @given(lt.abc_codings(proper=proper, divergence=divergence))
    def check(abc):
        sub = dict(zip((a, b, c), map(sp.nsimplify, abc)))
        if proper is not None:
            assert bool(cls.proper_condition.subs(sub)) is proper
        if divergence is not None:
            assert bool(cls.condition.subs(sub)) is divergence
    check()


# ---------------------------------------------------------------------------------------------- item 3: example file
def test_readme_example_test_file_runs_and_passes():
    spec = importlib.util.spec_from_file_location("example_test_my_loss", ROOT / "examples" / "test_my_loss.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    names = [n for n in dir(mod) if n.startswith("test_")]
    assert len(names) >= 4
    for n in names:
        getattr(mod, n)()
