"""Theorem 1 on trained LS-GANs (THEORY.md §5): ∫|p − q̂| against 2/λ with exact generator densities (issue 16).

Per target (four satisfying Assumption 1, Uniform as the control that violates it) and per data regime (fresh
samples every step = the population regime of the theorem; a fixed data set of 256 points), λ over four decades:
the exact ∫|p − q̂| with a 95 % t-interval over seeds against 2/λ, the capacity floor, the estimator floor
(quadrature ``abserr``), Theorem 1 (i) (ess inf p/q̂ against λ/(1+λ), q̂'s mass outside supp p) and the trend
(Spearman ρ(λ, error) with a bootstrap interval over seeds).  Verdicts come from
:func:`lsgan_theory.studies.theorem1.read_bound`; nothing is asserted.
"""

from __future__ import annotations

import math

import numpy as np

from ..claims import Check, Context, Evidence, claim

__all__: list[str] = []

_TARGETS = ("normal(0,1)", "mixture(normal(-2,0.5),normal(2,0.5);0.5,0.5)", "beta(2,2)", "triangular(-1,0,1)",
            "uniform(-1,1)")
# quick: ≈ 38 s of CPU time on one core (5 ensembles of 40 models, 250 steps, width 16; 42 s measured with 300 steps):
# far from converged; the verdicts it gives are honest readings of that budget.  lr 1e-3 (not the 1e-4 of the one-hour and full runs) so
# that 250 steps move the generators at all.
_QUICK = dict(targets=_TARGETS, lams=(0.1, 1.0, 10.0, 1000.0), seeds=5, steps=250, width=16, n_data=(0, 256),
              lr=1e-3, capacity_steps=300, capacity_n_z=256, capacity_models=2, n_boot=500)
_FULL = dict(targets=_TARGETS, lams=(0.1, 1.0, 3.0, 10.0, 30.0, 100.0, 1000.0), seeds=20, steps=5000, width=32,
             n_data=(0, 256), lr=1e-4, capacity_steps=1500, capacity_n_z=2048, capacity_models=4, n_boot=2000)


def _bound_check(target: str, reading, lams) -> Check:
    """statistic: the largest excess of the lower 95 % end over 2/λ among the testable λ (0 = no violation);
    power: the same against a bound 4× tighter, 0.5/λ."""
    testable = [r for r in reading.rows if r.status in ("consistent", "violated", "inconclusive")]
    if not testable:
        return Check(f"{target}: max over testable λ of (lower CI − 2/λ)_+", 0.0, 0.0,
                     "95 % t-interval over seeds of the exact ∫|p − q̂|; no λ with 2 > 2/λ > capacity floor",
                     "∫|p − q̂| ≤ 0.5/λ", math.nan)
    stat = max(max(r.ci[0] - r.bound, 0.0) for r in testable)
    alt = max(max(r.ci[0] - r.bound / 4, 0.0) for r in testable)
    return Check(f"{target}: max over testable λ of (lower CI − 2/λ)_+", stat, 0.0,
                 "95 % t-interval over seeds (initialisation, data, noise) of the exact ∫|p − q̂|",
                 "the bound 4× tighter, ∫|p − q̂| ≤ 0.5/λ", alt)


@claim("theorem1-trained-lambda-sweep", ref="THEORY.md §5 (Theorem 1 (i), (ii))",
       statement="Trained LS-GANs reach ∫|p − q̂| ≤ 2/λ (exact generator densities; measured against the capacity "
                 "floor, per target and data regime: fresh samples every step and a fixed data set)")
def _lambda_sweep(ctx: Context) -> Evidence:
    from .. import plots
    from ..studies.theorem1 import ASSUMPTION1, lambda_sweep, regime_name

    cfg = _QUICK if ctx.quick else _FULL
    checks, rows, ratio_rows, figdata, data = [], [], [], {}, {}
    for target in cfg["targets"]:
        r = lambda_sweep(target, lams=cfg["lams"], seeds=cfg["seeds"], steps=cfg["steps"], width=cfg["width"],
                         n_data=cfg["n_data"], lr=cfg["lr"], capacity_steps=cfg["capacity_steps"],
                         capacity_n_z=cfg["capacity_n_z"], capacity_models=cfg["capacity_models"],
                         n_boot=cfg["n_boot"], seed=ctx.seed)
        fig = figdata.setdefault(r.target, {"lams": r.lams, "floor": r.capacity.floor, "regimes": {}})
        data[r.target] = {"assumption1": ASSUMPTION1.get(r.target, ""), "lams": r.lams.tolist(),
                          "capacity_floor": r.capacity.floor, "seconds": r.seconds, "regimes": {}}
        for k, m in enumerate(r.n_data):
            rd = r.readings[k]
            name = regime_name(m)
            checks.append(_bound_check(f"{r.target} [{name}]", rd, r.lams))
            for row, rr in zip(rd.rows, r.ratios[k]):
                rows.append(f"| {r.target} | {name} | {row.lam:g} | {row.bound:.3g} | {row.mean:.3f} "
                            f"[{row.ci[0]:.3f}, {row.ci[1]:.3f}] | {row.median:.3f} | {row.floor:.3f} | "
                            f"{row.status} |")
                ratio_rows.append(f"| {r.target} | {name} | {rr.lam:g} | {rr.eta:.3g} | {rr.median_ratio:.3g} | "
                                  f"{rr.holds}/{rr.seeds} | {rr.mass_outside:.3g} [{rr.mass_outside_ci[0]:.2g}, "
                                  f"{rr.mass_outside_ci[1]:.2g}] |")
            fig["regimes"][name] = {"mean": [x.mean for x in rd.rows], "lo": [x.ci[0] for x in rd.rows],
                                    "hi": [x.ci[1] for x in rd.rows], "verdict": rd.verdict}
            data[r.target]["regimes"][name] = {
                "n_data": int(m), "l1": r.l1[k].tolist(), "w1": r.w1[k].tolist(), "ratio_inf": r.ratio_inf[k].tolist(),
                "mass_outside": r.mass_outside[k].tolist(), "verdict": rd.verdict, "violated_at": rd.violated_at,
                "trend": rd.trend, "trend_rho": rd.trend_rho, "trend_ci": list(rd.trend_ci), "summary": rd.summary()}
    figs = plots.theorem1_figure(figdata, ctx.figure_path("theorem1_lambda_sweep"))
    text = [f"LS-GAN in the paper's parameterisation: S = E L(x) + λ E(Δ + L(x) − L(G(z)))_+ over all batch pairs, "
            f"Δ = τ|x − z| with τ = 0.1; L = softplus(a(x)) ≥ 0 (TrainConfig.loss_output) and the loss network "
            f"spectrally normalised (L 1-Lipschitz: the theorem's Lipschitz class; τ < 1 so the hinge can clip). Public "
            f"code's parameterisation: S/λ = hinge + γ E L with γ = 1/λ (its `gamma`) and margin scale τ (its "
            f"`lambda`). Generator and loss network 1 → {cfg['width']} → {cfg['width']} → 1 (ReLU), 1-D N(0, 1) "
            f"noise, {cfg['steps']} Adam steps (lr {cfg['lr']:g}, β₁ = 0.5), batch 64, {cfg['seeds']} seeds per "
            f"(λ, regime). Regimes: *fresh* = new target samples at every step (the population regime of the "
            f"theorem), *n=256* = one data set of 256 points per model. ∫|p − q̂| is exact (pushforward density of "
            f"the piecewise-linear generator, no histogram); estimator floor = the largest quadrature abserr. "
            f"Capacity floor: the same generator architecture fitted to the target's quantile map without an "
            f"adversary. A λ is *trivial* when 2/λ ≥ 2, *not testable* when 2/λ ≤ the floor, *violated* when the "
            f"lower 95 % t-interval end exceeds 2/λ, *consistent* when the upper end is below it, else "
            f"*inconclusive*.", "",
            "| target | regime | λ | 2/λ | ∫\\|p − q̂\\| mean [95 % CI] | median | floor | status |",
            "|---|---|---|---|---|---|---|---|", *rows, "",
            "Theorem 1 (i): ess inf p/q̂ over q̂'s central mass against η = λ/(1+λ) (reported, not a verdict: a "
            "ReLU generator of Gaussian noise has support R unless flat at both ends, so for a compactly supported "
            "target p/q̂ = 0 somewhere), and q̂'s mass outside supp p:", "",
            "| target | regime | λ | η | median ess inf p/q̂ | seeds with ≥ η | mass outside supp p, mean [95 % CI] |",
            "|---|---|---|---|---|---|---|", *ratio_rows, ""]
    for t, d in data.items():
        for name, g in d["regimes"].items():
            text.append(f"- {t} [{name}] (Assumption 1 {d['assumption1']}; capacity floor {d['capacity_floor']:.3f}): "
                        f"**{g['summary']}**.")
    text.append("")
    text.append("Theorem 1 is about the Nash equilibrium; a violation measured here says that the trained networks "
                "(this architecture, optimiser and step budget) are not at that equilibrium, not that the theorem is "
                "false.")
    return Evidence("\n".join(text), [str(f) for f in figs if str(f).endswith(".png")], data, checks=checks)


_SHARP_UNIFORM = ((1.0, 12), (3.0, 12), (5.0, 12), (11.0, 12), (2.0, 9), (99.0, 100))
_SHARP_TARGETS = (("normal(0,1)", (-3.0, 3.0)), ("beta(2,2)", (None, None)), ("triangular(-1,0,1)", (None, None)),
                  ("mixture(normal(-2,0.5),normal(2,0.5);0.5,0.5)", (-3.5, 3.5)))
_SHARP_LAMS = (1.0, 3.0, 10.0, 100.0)


def _sympy_attainment() -> tuple[bool, str]:
    """p = 1 on [0, 1], A = [0, λ/(1+λ)], q = (1+λ)/λ on A and 0 elsewhere, λ > 0 symbolic: ∫q = 1, p − λ/(1+λ)·q
    ≥ 0, ∫|p − q| = 2/(1+λ) < 2/λ, by sympy's exact integration."""
    import sympy as sp

    lam, x = sp.symbols("lam x", positive=True)
    a = lam / (1 + lam)
    qa = (1 + lam) / lam
    mass = sp.simplify(sp.integrate(qa, (x, 0, a)))
    ratio_on_a = sp.simplify(1 - lam / (1 + lam) * qa)
    l1 = sp.simplify(sp.integrate(sp.Abs(1 - qa), (x, 0, a)) + sp.integrate(1, (x, a, 1)))
    gap = sp.simplify(2 / lam - l1)
    ok = (sp.simplify(mass - 1) == 0 and ratio_on_a == 0 and sp.simplify(l1 - 2 / (1 + lam)) == 0
          and bool(gap.is_positive))
    text = (f"sympy, p = 1 on [0, 1], A = [0, λ/(1+λ)], q = (1+λ)/λ·1_A (λ > 0 symbolic): ∫q = {mass}, "
            f"p − λ/(1+λ)·q on A = {ratio_on_a} (Theorem 1 (i) with equality; off A p − 0 = 1 ≥ 0), "
            f"∫|p − q| = {l1}, 2/λ − ∫|p − q| = {sp.factor(gap)} > 0.")
    return bool(ok), text


@claim("theorem1-sharp-bound-attained", ref="THEORY.md §5 (Theorem 1, sharp form)", kind="numerical",
       statement="The sharp bound 2/(1+λ) is attained at an equilibrium of the LS-GAN game: on a grid the largest "
                 "∫|p − q| over the equilibria (L* = 0, q ≤ (1+λ)/λ·p) never exceeds 2/(1+λ), comes within "
                 "2·max_i p_i/(1+λ) of it, and equals it where a set of grid points has p-mass λ/(1+λ); the paper's "
                 "2/λ is never reached (derived, not from the paper)")
def _sharp_attained(ctx: Context) -> Evidence:
    from .. import densities
    from .. import equilibrium as eq

    ok, sym_text = _sympy_attainment()
    checks, rows = [], []
    for lam, K in _SHARP_UNIFORM:
        g = eq.grid_game(np.arange(K, dtype=float), np.full(K, 1.0 / K), lam)
        r = eq.max_l1_zero_loss(g)
        cert = eq.certify(g, np.zeros(K), r.q)
        checks.append(Check(f"uniform p on K = {K}, λ = {lam:g} (Kλ/(1+λ) = {K * lam / (1 + lam):g}): "
                            f"abs(max L1 − 2/(1+λ)) and critic gap", max(abs(r.l1 - eq.sharp_bound(lam)),
                                                                           cert.critic_gap), 1e-9,
                            "float64 rounding of K-term sums and of the HiGHS LP of the certificate (1e-10 "
                            "feasibility tolerances), 1e-9", "the paper's bound 2/λ is attained",
                            abs(r.l1 - eq.paper_bound(lam))))
        rows.append(f"| uniform, K = {K} | {lam:g} | {r.l1:.12f} | {eq.sharp_bound(lam):.12f} | "
                    f"{eq.paper_bound(lam):.4g} | {cert.critic_gap:.1e} |")
    for spec, (lo, hi) in _SHARP_TARGETS:
        x, p = eq.discretise(densities.parse(spec), 20, lo=lo, hi=hi)
        worst, alt, worst_low = 0.0, math.inf, 0.0
        for lam in _SHARP_LAMS:
            g = eq.grid_game(x, p, lam)
            r = eq.max_l1_zero_loss(g)
            sharp = eq.sharp_bound(lam)
            worst = max(worst, r.l1 - sharp, 0.0)
            worst_low = max(worst_low, (sharp - 2 * p.max() / (1 + lam)) - r.l1, 0.0)
            alt = min(alt, max(r.l1 - 0.9 * sharp, 0.0))
            rows.append(f"| {spec}, K = 20 | {lam:g} | {r.l1:.12f} | {sharp:.12f} | {eq.paper_bound(lam):.4g} | "
                        f"— |")
        checks.append(Check(f"{spec} on 20 cells, λ ∈ {{{', '.join(f'{v:g}' for v in _SHARP_LAMS)}}}: largest "
                            f"excess of max L1 = ∫ abs(p − q) over 2/(1+λ), and shortfall below 2/(1+λ) − 2 max p/(1+λ)",
                            max(worst, worst_low), 1e-12,
                            "exact subset enumeration (2^20 subsets) in float64: rounding only, 1e-12",
                            "the sharp bound is never approached: max ≤ 0.9·2/(1+λ) (statistic: the smallest "
                            "excess over 0.9·2/(1+λ))", alt))
    text = [sym_text, "",
            "On a grid (lsgan_theory.equilibrium): the equilibria with L* = 0 are {q : q ≤ (1+λ)/λ·p} (Theorem 1 (i) "
            "is the equilibrium condition; every equilibrium has L* = 0 where p > 0, so no other reaches further), "
            "and the largest ∫|p − q| over them is 2·max_B[min(1, (1+λ)/λ·p(B)) − p(B)], computed by enumerating "
            "every subset B. The maximiser is certified an equilibrium with L = 0 (critic gap against the exact LP "
            "best response).", "",
            "| grid | λ | largest ∫\\|p − q\\| | sharp 2/(1+λ) | paper 2/λ | critic gap |", "|---|---|---|---|---|---|",
            *rows]
    return Evidence(ok, "\n".join(text), [], {"sympy": sym_text}, checks=checks)
