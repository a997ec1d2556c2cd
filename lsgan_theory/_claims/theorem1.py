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
from pathlib import Path

import numpy as np

from ..claims import Check, Context, Evidence, claim

__all__ = ["lambda_sweep_report"]

_TARGETS = ("normal(0,1)", "mixture(normal(-2,0.5),normal(2,0.5);0.5,0.5)", "beta(2,2)", "triangular(-1,0,1)",
            "uniform(-1,1)")
# quick: ≈ 38 s of CPU time on one core (5 ensembles of 40 models, 250 steps, width 16; 42 s measured with 300 steps):
# far from converged; the verdicts it gives are honest readings of that budget.  lr 1e-3 (not the 1e-4 of the one-hour and full runs) so
# that 250 steps move the generators at all.
_QUICK = dict(targets=_TARGETS, lams=(0.1, 1.0, 10.0, 1000.0), seeds=5, steps=250, width=16, n_data=(0, 256),
              lr=1e-3, capacity_steps=300, capacity_n_z=256, capacity_models=2, n_boot=500)
_FULL = dict(targets=_TARGETS, lams=(0.1, 1.0, 3.0, 10.0, 30.0, 100.0, 1000.0), seeds=20, steps=5000, width=32,
             n_data=(0, 256), lr=1e-4, capacity_steps=1500, capacity_n_z=2048, capacity_models=4, n_boot=2000)


def _testable(reading) -> list:
    return [r for r in reading.rows if r.status in ("consistent", "violated", "inconclusive")]


def _lower_end(row, k: int) -> float:
    """The lower end of ``row``'s two-sided t-interval at level 1 − 0.05/k (Bonferroni over the claim's k tests),
    rebuilt from its 95 % interval by :func:`lsgan_theory.studies.stats.t_relevel`; k = 1 gives the 95 % end."""
    from ..studies.stats import t_relevel

    return t_relevel(row.mean, row.ci, row.seeds, 1 - 0.05 / max(k, 1))[0]


def _bound_check(target: str, reading, lams, k: int = 1) -> Check:
    """statistic: the largest excess over 2/λ of the lower end of the t-interval at level 1 − 0.05/k among the
    testable λ (0 = no violation), k = the number of testable (target, regime, λ) in the claim (Bonferroni: a
    violation anywhere in the claim is declared at family-wise error ≤ 2.5 %, one-sided); power: the same against
    a bound 4× tighter, 0.5/λ."""
    testable = _testable(reading)
    level = f"{100 * (1 - 0.05 / k):.2f} %" if k > 1 else "95 %"
    fam = (f" (Bonferroni over the claim's {k} testable (target, regime, λ): family-wise; the table's per-λ "
           f"statuses use the uncorrected 95 % interval)" if k > 1 else "")
    if not testable:
        return Check(f"{target}: max over testable λ of (lower CI − 2/λ)_+", 0.0, 0.0,
                     "95 % t-interval over seeds of the exact ∫|p − q̂|; no λ with 2 > 2/λ > capacity floor",
                     "∫|p − q̂| ≤ 0.5/λ", math.nan)
    # a λ with fewer than 2 finite seeds has no interval (NaN ends): it adds no evidence of a violation
    ends = [r for r in testable if math.isfinite(r.ci[0])]
    stat = max((max(_lower_end(r, k) - r.bound, 0.0) for r in ends), default=0.0)
    alt = max((max(_lower_end(r, k) - r.bound / 4, 0.0) for r in ends), default=0.0)
    return Check(f"{target}: max over testable λ of (lower CI − 2/λ)_+", stat, 0.0,
                 f"{level} t-interval over seeds (initialisation, data, noise) of the exact ∫|p − q̂|{fam}",
                 "the bound 4× tighter, ∫|p − q̂| ≤ 0.5/λ", alt)


@claim("theorem1-trained-lambda-sweep", ref="THEORY.md §5 (Theorem 1, an engineering reading)",
       statement="Trained LS-GANs reach ∫|p − q̂| ≤ 2/λ at the training budget B (an engineering claim about this "
                 "architecture, optimiser and budget -- not Theorem 1, whose hypothesis is an equilibrium: see "
                 "theorem1-certified-equilibrium; exact generator densities, measured against the capacity floor, "
                 "per target satisfying Assumption 1 and data regime; Uniform reported as outside Assumption 1)")
def _lambda_sweep(ctx: Context) -> Evidence:
    from .. import plots
    from ..studies.theorem1 import ASSUMPTION1, lambda_sweep, regime_name

    cfg = _QUICK if ctx.quick else _FULL
    checks, rows, ratio_rows, figdata, data, checked = [], [], [], {}, {}, []
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
            if not ASSUMPTION1.get(r.target, "").startswith("violated"):  # Uniform: outside Assumption 1
                checked.append((f"{r.target} [{name}]", rd, r.lams))
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
    k_tests = max(1, sum(len(_testable(rd)) for _, rd, _ in checked))
    checks = [_bound_check(name, rd, lams, k_tests) for name, rd, lams in checked]
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
            f"*inconclusive* (per λ, uncorrected); the claim's checks declare a violation from the lower ends at "
            f"level 1 − 0.05/k, k = {k_tests} testable (target, regime, λ) in this run (Bonferroni: family-wise "
            f"error ≤ 2.5 %, one-sided).", "",
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
    text.append("This claim is about training at a budget, not about Theorem 1: the theorem is about the Nash "
                "equilibrium, and a FAIL here says that these networks, this optimiser and this step budget do not "
                "reach 2/λ -- whether they are at an equilibrium is measured by theorem1-certified-equilibrium. "
                "Uniform(−1, 1) violates Assumption 1 (p jumps): it is reported, outside Assumption 1, and not "
                "checked. Each row is also read against the sharp bound 2/(1+λ) (derived, attained; the summaries "
                "give both verdicts).")
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


# ------------------------------------------------------------------------------------------------ at the hypothesis
# quick: 5 targets × 3 λ × 3 seeds at budgets 125/250 steps (fresh data), certificates on 64 grid cells; with
# budgets 60/125/250 it took 39-51 s on the loaded 2-core machine, so the 60-step budget was dropped (≈ 85 % of that).
_CERT_QUICK = dict(lams=(1.0, 10.0, 1000.0), seeds=3, budgets=(125, 250), width=16, lr=1e-3, nodes=64)
_CERT_FULL = dict(lams=(1.0, 3.0, 10.0, 30.0, 100.0, 1000.0), seeds=5, budgets=(1250, 2500, 5000), width=32, lr=1e-4,
                  nodes=128)


_CONTINUOUS = ("∫ abs(p − q̂) − abserr", "exact ∫ (quadrature abserr subtracted) at pairs whose critic and generator "
               "gaps are within their resolution ε = 2·(halving error) + LP tolerance")


def _certified_check(target: str, readings: list, paper: list, quantity: tuple = _CONTINUOUS) -> list[Check]:
    """Two checks per target (sharp 2/(1+λ), paper 2/λ): statistic = the largest excess of a certified pair's
    ∫|p − q̂| − abserr (or ``quantity`` = (name, tolerance basis)) over the bound (0 when none exceeds it); hypothesis
    met when any λ has a certified pair."""
    met = [r for r in readings if r.certified > 0]
    miss = "; ".join(f"λ = {r.lam:g}: {r.hypothesis}" for r in readings if r.certified == 0)
    out = []
    for name, rs, alt_bound in (("sharp 2/(1+λ)", readings, lambda l: 0.5 / (1 + l)),
                                ("paper 2/λ", paper, lambda l: 0.5 / l)):
        mets = [r for r in rs if r.certified > 0]
        stat = max([r.excess_sharp if name.startswith("sharp") else r.excess_paper for r in mets], default=0.0)
        alt = max([max(r.lower_max - alt_bound(r.lam), 0.0) for r in mets], default=math.nan)
        out.append(Check(f"{target}: max over certified pairs of ({quantity[0]} − {name.split()[1]})_+", stat,
                         0.0, quantity[1],
                         f"a bound 4× tighter ({'0.5/(1+λ)' if name.startswith('sharp') else '0.5/λ'})",
                         alt, hypothesis_met=bool(met), hypothesis="" if met else f"Nash equilibrium: {miss}"))
    return out


def _controls() -> tuple[int, int, list]:
    """Planted pairs read by the same machinery: an exact equilibrium (p = U(0, 1), q = U(0, λ/(1+λ)), L = 0) read
    against the true λ (consistent) and against a wrong λ' = 3λ (violated), and a non-equilibrium (generator frozen at
    N(1, 1) for p = N(0, 1), L = 0) (hypothesis not met).  Returns (misread by the reading, misread by a reading
    that ignores the certificates, rows)."""
    from .. import densities
    from ..studies.certificates import pair_certificate, read_certified

    zero = lambda x: np.zeros_like(np.asarray(x, dtype=float))  # noqa: E731
    lam = 3.0
    eqc = pair_certificate(densities.parse("uniform(0,1)"), densities.parse(f"uniform(0,{lam / (1 + lam)})"), zero,
                           lam, 0.1, 10.0, nodes=64)
    shifted = pair_certificate(densities.parse("normal(0,1)"), densities.parse("normal(1,1)"), zero, lam, 0.1, 10.0,
                               nodes=64)
    l1_eq, l1_shift = 2 / (1 + lam), float(2 * (2 * _phi(0.5) - 1))
    cases = [("exact equilibrium, true λ", read_certified(lam, [l1_eq], [1e-12], [eqc]), "consistent"),
             ("exact equilibrium, checked against λ' = 3λ", read_certified(3 * lam, [l1_eq], [1e-12], [eqc]),
              "violated"),
             ("generator frozen at N(1, 1), L = 0", read_certified(lam, [l1_shift], [1e-12], [shifted]),
              "hypothesis not met")]
    misread = sum(r.status != want for _, r, want in cases)
    # a reading that ignores the certificates calls the frozen generator (∫ = 0.77 > 0.5) violated
    naive = sum(("violated" if l1 > 2 / (1 + lm) else "consistent") != want
                for (l1, lm), (_, _, want) in zip([(l1_eq, lam), (l1_eq, 3 * lam), (l1_shift, lam)], cases))
    rows = [f"| {n} | {r.status} | {want} | {r.hypothesis or '—'} |" for n, r, want in cases]
    return misread, naive, rows


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


@claim("theorem1-certified-equilibrium", ref="THEORY.md §5 (Theorem 1 at its hypothesis)",
       statement="At a trained pair certified to be at a Nash equilibrium of the LS-GAN game (critic gap and generator "
                 "gap within their resolution), ∫|p − q̂| ≤ 2/(1+λ) (sharp, derived) and ≤ 2/λ (paper); where no "
                 "pair is certified the verdict is *hypothesis not met*, naming the certificate and by how much")
def _certified(ctx: Context) -> Evidence:
    from .. import plots
    from ..studies.theorem1 import certified_lambda_sweep

    cfg = _CERT_QUICK if ctx.quick else _CERT_FULL
    checks, rows, data, figdata, lamfig = [], [], {}, {}, {}
    for target in _TARGETS:
        r = certified_lambda_sweep(target, lams=cfg["lams"], seeds=cfg["seeds"], budgets=cfg["budgets"],
                                   width=cfg["width"], lr=cfg["lr"], nodes=cfg["nodes"], seed=ctx.seed)
        outside = r.assumption1.startswith("violated")
        if not outside:
            checks += _certified_check(r.target, r.readings, r.readings_paper)
        med = {k: np.nanmedian(r.gaps(k), axis=2) for k in ("critic_gap", "critic_gap_err", "gen_gap", "gen_gap_lp",
                                                             "lip_ratio", "clip_fraction", "eps_critic")}
        figdata[r.target] = {"steps": list(r.budgets), "lams": r.lams.tolist(), "critic_gap": med["critic_gap"],
                             "gen_gap_lp": med["gen_gap_lp"], "eps": med["eps_critic"]}
        fin = r.l1[-1]
        lamfig[r.target] = {"lams": r.lams, "floor": 0.0, "regimes": {"fresh": {
            "mean": np.nanmean(fin, 1), "lo": np.nanmin(fin, 1), "hi": np.nanmax(fin, 1),
            "verdict": ("outside Assumption 1" if outside else
                        ", ".join(sorted({x.status for x in r.readings})))}}}
        for i, (rs, rp) in enumerate(zip(r.readings, r.readings_paper)):
            moving = " → ".join(f"{v:.3f}" for v in np.nanmean(r.l1[:, i], 1))
            status = f"outside Assumption 1 ({rs.status})" if outside else rs.status
            rows.append(f"| {r.target} | {rs.lam:g} | {moving} | {rs.certified}/{rs.pairs} | "
                        f"{med['critic_gap'][-1, i]:.3g} ± {med['critic_gap_err'][-1, i]:.2g} | "
                        f"{med['gen_gap'][-1, i]:.3g} | {med['gen_gap_lp'][-1, i]:.3g} | {med['lip_ratio'][-1, i]:.3g} | "
                        f"{med['clip_fraction'][-1, i]:.3g} | {status} | {rs.hypothesis or '—'} |")
        data[r.target] = {"assumption1": r.assumption1, "lams": r.lams.tolist(), "budgets": list(r.budgets),
                          "l1": r.l1.tolist(), "tidy": r.tidy(), "seconds": r.seconds,
                          "readings": [vars(x) for x in r.readings],
                          "readings_paper": [vars(x) for x in r.readings_paper]}
    figs = plots.certificates_figure(figdata, ctx.figure_path("theorem1_certificates"))
    figs += plots.theorem1_figure(lamfig, ctx.figure_path("theorem1_certified_lambda"))
    b = cfg["budgets"]
    text = [f"Same LS-GAN settings as theorem1-trained-lambda-sweep (softplus loss network under spectral "
            f"normalisation, τ = 0.1, so the Lipschitz class of the theorem is κ = 1/τ w.r.t. Δ = τ|x − z|), width "
            f"{cfg['width']}, lr {cfg['lr']:g}, fresh data, {cfg['seeds']} seeds per λ, step budgets "
            f"{', '.join(map(str, b))} (one run's prefixes: every draw is keyed by (seed, model, stream, step)). For every trained pair: the "
            f"critic gap S(L̂, q̂) − min_L S(L, q̂) (exact LP on a common grid of {cfg['nodes']} cells carrying p's and "
            f"q̂'s exact masses; ± its halving error), the generator gaps E_q̂ L − min L against L̂ and against the LP "
            f"critic, Lip(L̂)/τ and the p⊗q̂ mass of pairs whose hinge clips. A pair is *certified* when (L̂, q̂)'s "
            f"gaps, or (L*, q̂)'s generator gap, are within their resolution ε = 2·(halving error) + 1e-9·(1 + |S|); "
            f"the bound is read only there. ε is the certificates' resolution, not a derived perturbation bound: how "
            f"far ∫|p − q| may exceed 2/(1+λ) at an ε-approximate equilibrium is not derived (docs/equilibrium.md).",
            "", "| target | λ | ∫\\|p − q̂\\| (mean) over budgets | certified | critic gap (median ± err) | "
            "generator gap vs L̂ | vs LP critic | Lip(L̂)/τ | clipping | verdict (sharp 2/(1+λ)) | hypothesis |",
            "|---|---|---|---|---|---|---|---|---|---|---|", *rows, "",
            "The reading can fail both ways: theorem1-verdict-controls reads planted pairs with the same machinery. "
            "Uniform(−1, 1) violates Assumption 1 (p jumps): reported *outside Assumption 1*, never counted as a "
            "failure of the theorem."]
    return Evidence("\n".join(text), [str(f) for f in figs if str(f).endswith(".png")], data, checks=checks)


@claim("theorem1-verdict-controls", ref="THEORY.md §5 (What 'at the equilibrium' means)", kind="numerical",
       statement="The certified reading of Theorem 1 separates theory from training: an exact equilibrium reads "
                 "consistent at its λ and violated against a wrong λ' = 3λ (a planted violation), and a generator "
                 "frozen at a shifted density reads hypothesis not met (a planted non-equilibrium)")
def _verdict_controls(ctx: Context) -> Evidence:
    misread, naive, rows = _controls()
    check = Check("planted pairs misread (of 3)", misread, 0.0, "exact: each planted pair has one correct reading",
                  "a reading that ignores the certificates (every pair read as if at the equilibrium)", naive)
    text = ["p = U(0, 1), q = U(0, λ/(1+λ)) with L = 0 is an exact equilibrium of the LS-GAN game (q = (1+λ)/λ·p on a "
            "set of p-mass λ/(1+λ): the sharp bound's attainment), λ = 3, τ = 0.1, κ = 1/τ; its ∫|p − q| = 2/(1+λ). "
            "The non-equilibrium: p = N(0, 1), generator frozen at N(1, 1), L = 0. Certificates on 64 grid cells "
            "(studies.certificates.pair_certificate), read by studies.certificates.read_certified.", "",
            "| planted pair | reading | expected | hypothesis |", "|---|---|---|---|", *rows]
    return Evidence("\n".join(text), [], {"misread": misread, "naive_misread": naive}, checks=[check])


# ------------------------------------------------------------------------------------------ reaching the equilibrium
# quick: 5 targets × λ ∈ {1, 10}, one seed, 60 rounds of 5 generator steps, LP critic on 32 cells, certificates on 64
# (studies.best_response); full: the settings of experiments/theorem1/best_response.py (120 rounds, 64/128 cells).
_BR_QUICK = dict(lams=(1.0, 10.0), seeds=1, rounds=60, gen_steps=5, cells=32, nodes=64)
_BR_FULL = dict(lams=(1.0, 3.0, 10.0, 30.0, 100.0, 1000.0), seeds=2, rounds=120, gen_steps=5, cells=64, nodes=128)


@claim("theorem1-best-response-equilibrium", ref="THEORY.md §5 (Theorem 1 at its hypothesis)",
       statement="An LS-GAN whose critic is the exact non-parametric best response (Theorem 2's LP) alternated with "
                 "generator steps reaches pairs certified to be at the grid game's Nash equilibrium, and there the "
                 "grid game's ∫|p − q| ≤ 2/(1+λ) (sharp, derived) and ≤ 2/λ (paper); uncertified λ read *hypothesis "
                 "not met*")
def _best_response(ctx: Context) -> Evidence:
    from .. import plots
    from ..studies.best_response import best_response_train
    from ..studies.certificates import read_certified
    from ..studies.theorem1 import ASSUMPTION1

    cfg = _BR_QUICK if ctx.quick else _BR_FULL
    checks, rows, data, lamfig = [], [], {}, {}
    for target in _TARGETS:
        outside = ASSUMPTION1.get(target, "").startswith("violated")
        sharp, paper, runs = [], [], []
        for lam in cfg["lams"]:
            rs = [best_response_train(target, lam, rounds=cfg["rounds"], gen_steps=cfg["gen_steps"],
                                      cells=cfg["cells"], nodes=cfg["nodes"], record_every=cfg["rounds"],
                                      seed=ctx.seed + s) for s in range(cfg["seeds"])]
            cells = [r.history[-1]["l1_cells"] for r in rs]
            certs = [r.certificate for r in rs]
            sharp.append(read_certified(lam, cells, [1e-12] * len(rs), certs, sharp=True))
            paper.append(read_certified(lam, cells, [1e-12] * len(rs), certs, sharp=False))
            runs.append(rs)
            status = f"outside Assumption 1 ({sharp[-1].status})" if outside else sharp[-1].status
            rows.append(f"| {target} | {lam:g} | {', '.join(f'{r.l1:.3f}' for r in rs)} | "
                        f"{', '.join(f'{c:.3f}' for c in cells)} | {2 / (1 + lam):.3g} | {2 / lam:.3g} | "
                        f"{sharp[-1].certified}/{sharp[-1].pairs} | "
                        f"{', '.join(f'{r.certificate.gen_gap_lp:.2g} (ε {r.certificate.eps_gen_lp:.1g})' for r in rs)}"
                        f" | {status} | {sharp[-1].hypothesis or '—'} |")
        if not outside:
            checks += _certified_check(target, sharp, paper, (
                "Σ_k abs(p_k − q̂_k) on the certificate's cells", "exact sums over the cells of the grid game the "
                "certificates certify (float rounding, 1e-12), at pairs whose generator gap against the LP critic is "
                "within its resolution ε = 2·(halving error) + LP tolerance"))
        l1 = np.array([[r.l1 for r in rs] for rs in runs])
        lamfig[target] = {"lams": np.asarray(cfg["lams"]), "floor": 0.0, "regimes": {"best response": {
            "mean": l1.mean(1), "lo": l1.min(1), "hi": l1.max(1),
            "verdict": "outside Assumption 1" if outside else ", ".join(sorted({x.status for x in sharp}))}}}
        data[target] = {"lams": list(cfg["lams"]), "l1": l1.tolist(),
                        "l1_cells": [[r.history[-1]["l1_cells"] for r in rs] for rs in runs],
                        "certificates": [[r.certificate.as_dict() for r in rs] for rs in runs],
                        "readings": [vars(x) for x in sharp], "readings_paper": [vars(x) for x in paper],
                        "seconds": sum(r.seconds for rs in runs for r in rs)}
    figs = plots.theorem1_figure(lamfig, ctx.figure_path("theorem1_best_response"))
    text = [f"studies.best_response.best_response_train: a 1 → 32 → 32 → 1 ReLU generator (1-D N(0, 1) noise, exact "
            f"q̂) against the exact best response of the LS-GAN critic (Theorem 2's LP on {cfg['cells']} cells carrying "
            f"p's and q̂'s exact masses, κ = 1/τ, τ = 0.1; the linear interpolant of its values), {cfg['rounds']} "
            f"rounds of {cfg['gen_steps']} Adam steps (lr 1e-3 → 1e-5), {cfg['seeds']} seed(s) per λ. Certificates "
            f"on {cfg['nodes']} cells (studies.certificates.pair_certificate): a pair is certified when the generator "
            f"gap against the LP's best response to q̂, E_q̂ L* − min L*, is within its resolution ε = 2·(halving "
            f"error) + LP tolerance. The bound is read at certified pairs on the grid game they certify: Σ_k |p_k − "
            f"q̂_k| over the certificate's cells (exact sums; the continuous ∫|p − q̂|, ≥ it, is shown beside). ε is "
            f"the certificates' resolution, not a derived perturbation bound (docs/equilibrium.md).", "",
            "| target | λ | ∫\\|p − q̂\\| | Σ\\|p_k − q̂_k\\| (cells) | 2/(1+λ) | 2/λ | certified | E_q̂ L* − min L* "
            "| verdict (sharp, cells) | hypothesis |", "|---|---|---|---|---|---|---|---|---|---|", *rows, "",
            "Uniform(−1, 1) violates Assumption 1: reported *outside Assumption 1*, never counted against the "
            "theorem. experiments/theorem1/best_response.py runs λ ∈ {1, 3, 10, 30, 100, 1000}."]
    return Evidence("\n".join(text), [str(f) for f in figs if str(f).endswith(".png")], data, checks=checks)


def lambda_sweep_report(rep: dict, dest: Path) -> list[Path]:
    """Write the reading ``rep`` of a λ sweep's store (:func:`lsgan_theory.studies.theorem1.read_lambda_store`) to
    folder ``dest`` (which exists): theorem1_runs.csv (one row per run), theorem1_summary.csv (one row per target,
    regime and λ), theorem1_verdicts.json and the figure theorem1_lambda_sweep (PNG, PDF).  Returns the files
    written, the tables first, then the figures."""
    import pandas as pd

    from .. import plots
    from ..output import write_atomic, write_json

    write_atomic(dest / "theorem1_runs.csv", lambda tmp: rep["tidy"].to_csv(tmp, index=False), what="--dest")
    write_atomic(dest / "theorem1_summary.csv", lambda tmp: pd.DataFrame(rep["summary"]).to_csv(tmp, index=False),
                 what="--dest")
    write_json(dest / "theorem1_verdicts.json", {"meta": rep["meta"], "capacity_floor": rep["capacity"],
                                                 "verdicts": rep["verdicts"]}, what="--dest")
    figdata = {}
    for v in rep["verdicts"]:
        rows = [r for r in rep["summary"] if r["target"] == v["target"] and r["n_data"] == v["n_data"]]
        d = figdata.setdefault(v["target"], {"lams": [r["lam"] for r in rows], "floor": v["capacity_floor"],
                                             "regimes": {}})
        d["regimes"][v["regime"]] = {"mean": [r["l1_mean"] for r in rows], "lo": [r["l1_ci_lo"] for r in rows],
                                     "hi": [r["l1_ci_hi"] for r in rows], "verdict": v["verdict"]}
    figs = plots.theorem1_figure(figdata, dest / "theorem1_lambda_sweep")
    return [dest / "theorem1_runs.csv", dest / "theorem1_summary.csv", dest / "theorem1_verdicts.json", *figs]
