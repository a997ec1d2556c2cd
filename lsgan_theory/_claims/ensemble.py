"""Claims checked by training ensembles: the optimal critic of each family (THEORY.md §1–§3, §5).

Each claim states its terms (see :mod:`lsgan_theory.claims`): the statistic, a tolerance from the standard error of
the ensemble mean over seeds, and a nearby wrong answer measured in the same run.  The functions
:func:`critic_checks` and :func:`loss_sensitive_checks` turn a study result into those terms; tests feed them
results built from a wrong answer and watch the verdict turn to fail.
"""

from __future__ import annotations

import numpy as np

from ..claims import Check, Context, Evidence, claim

_STATEMENTS = {
    "gan": ("THEORY.md §1", "With the generator fixed, the trained classic-GAN discriminator approaches D* = p/(p+q)"),
    "least_squares": ("THEORY.md §2", "With the generator fixed, the trained LSGAN (least-squares) discriminator "
                                      "approaches D* = (b p + a q)/(p + q)"),
    "hinge": ("THEORY.md §3", "With the generator fixed, the trained hinge discriminator approaches D* = sign(p − q): "
                              "its decision boundary D̄ = 0 lies where p = q"),
}


def critic_checks(chk) -> list[Check]:
    """The terms of an optimal-critic result (:class:`lsgan_theory.studies.critic.CriticCheck`)."""
    alt_name = min(chk.alternatives, key=chk.alternatives.get)
    alt = f"optimum for {alt_name} (the closer of ±{chk.shift:g}σ)"
    E = chk.n_models
    if chk.family == "hinge":
        b = chk.boundary
        return [Check("|x̂₀ − x₀|: crossing of D̄ = 0 vs the point where p = q", chk.statistic, chk.tolerance,
                      f"2 × SE of the crossing over {E} seeds (sd of the per-seed crossings / √{E}; randomness: each "
                      f"seed's data set, initialisation and generator draws); SE = {chk.standard_error:.2g}",
                      f"{alt}: x₀ = {b['alternative_x0'][alt_name]:.4f}", chk.alternatives[alt_name])]
    return [Check("‖D̄ − D*‖ ((p+q)/2-weighted RMS over the grid)", chk.statistic, chk.tolerance,
                  f"2 × weighted-RMS SE of D̄ over {E} seeds (seed spread ‖s‖ = {chk.noise:.3g} / √{E}; randomness: "
                  "each seed's data set, initialisation and generator draws)", alt, chk.alternatives[alt_name])]


def _critic_text(chk, kw) -> str:
    lines = [f"{kw['n_models']} discriminators ({chk.family}), each trained {kw['steps']} Adam steps on its own "
             f"8192-point data set from {chk.p} against fresh draws of the fixed generator {chk.q}.", ""]
    if chk.family == "hinge":
        b = chk.boundary
        lines += [f"- decision boundary: p = q at x₀ = {b['x0']:.4f}; the ensemble mean D̄ crosses 0 at "
                  f"x̂₀ = {b['x0_hat']:.4f} (per-seed crossings: sd {np.nanstd(b['crossings'], ddof=1):.4f}, "
                  f"SE {chk.standard_error:.4f}; {b['models_without_crossing']} seeds without a crossing)",
                  "- alternatives: " + ", ".join(f"{k}: x₀ = {v:.4f}" for k, v in b["alternative_x0"].items()),
                  f"- value error ‖D̄ − sign(p − q)‖ = {chk.value_error:.3f} (reported, not a verdict: a continuous "
                  "network approximates the step over a transition zone around x₀)"]
    else:
        lines += [f"- ‖D̄ − D*‖ = {chk.statistic:.4f}; single-model spread ‖s‖ = {chk.noise:.4f}; SE of D̄ = "
                  f"‖s‖/√E = {chk.standard_error:.4f}",
                  "- same statistic against the optimum for a shifted q: "
                  + ", ".join(f"{k}: {v:.4f}" for k, v in chk.alternatives.items())]
    return "\n".join(lines)


def _check(family: str, ctx: Context) -> Evidence:
    from ..studies.critic import optimal_critic
    from ..plots import optimal_critic_figure

    kw = dict(n_models=16, steps=600) if ctx.quick else dict(n_models=64, steps=3000)
    chk = optimal_critic(family, seed=ctx.seed, **kw)
    fig = optimal_critic_figure(chk.x, chk.d_star, chk.d_models, ctx.figure_path(f"optimal_critic_{family}"),
                                title=f"{family}: trained D vs closed-form D* ({chk.p} vs fixed {chk.q})",
                                caption=_critic_caption(chk))
    data = {"statistic": chk.statistic, "standard_error": chk.standard_error, "tolerance": chk.tolerance,
            "alternatives": chk.alternatives, "noise": chk.noise, "value_error": chk.value_error}
    if family == "hinge":
        data["boundary"] = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in chk.boundary.items()}
    return Evidence(_critic_text(chk, kw), [str(f) for f in fig if str(f).endswith(".png")], data,
                    checks=critic_checks(chk))


def _critic_caption(chk) -> str:
    if chk.family == "hinge":
        b = chk.boundary
        return (f"{chk.n_models} trained hinge critics (thin) and their mean: D̄ = 0 at x̂₀ = {b['x0_hat']:.3f} "
                f"(SE {chk.standard_error:.3f}); p = q at x₀ = {b['x0']:.3f}.")
    return (f"{chk.n_models} trained critics (thin) and their mean vs D*: ‖D̄ − D*‖ = {chk.statistic:.4f}, "
            f"SE {chk.standard_error:.4f}; a {chk.shift:g}σ shift of q moves D* by ≥ {min(chk.alternatives.values()):.4f}.")


for _fam, (_ref, _stmt) in _STATEMENTS.items():
    claim(f"optimal-critic-{_fam}", ref=_ref, statement=_stmt)(lambda ctx, _f=_fam: _check(_f, ctx))


def loss_sensitive_checks(c, clipped_at_kappa1: float) -> list[Check]:
    """The terms of a loss-sensitive critic result (:class:`lsgan_theory.studies.critic.LossSensitiveCriticCheck`).

    ``clipped_at_kappa1``: the clipped fraction of the same sample's LP at κ = 1 (the alternative of the
    active-regime precondition; 0 by THEORY.md §5 hinge inactivity).
    """
    E = c.n_models
    basis = (f"2 × SE of the mean objective over {E} networks trained on the same fixed sample (sd/√{E}; randomness: "
             f"initialisation only) + LP error {c.lp_error:.0e}")
    out = [Check("max(0, 0.2 − clipped-pair fraction at the LP optimum)", max(0.0, 0.2 - c.clipped_fraction), 0.0,
                 "exact count over the n·m pairs (hinge argument < −1e-9)",
                 f"κ = 1, where the hinge never clips (clipped fraction {clipped_at_kappa1:.3f})",
                 max(0.0, 0.2 - clipped_at_kappa1),
                 shown=f"clipped-pair fraction {c.clipped_fraction:.3f} {'≥' if c.clipped_fraction >= 0.2 else '<'} 0.2")]
    for alt in ("κ·0.9", "λ·1.1"):
        out.append(Check("|mean_e S_{n,m}(L_e) − S*_{n,m}|", c.objective_error, c.objective_tolerance, basis,
                         f"S* of the LP with {alt} = {c.alternatives[alt]:.5f}", c.objective_distance(alt)))
    out.append(Check("‖dist(L̄, [L⁻, L⁺])‖ (weighted RMS)", c.band_error, c.band_tolerance,
                     f"2 × weighted-RMS SE of the mean curve over {E} networks (‖s‖/√{E}, same sample)",
                     "band of the LP with κ·0.9", c.band_alternatives["κ·0.9"]))
    return out


@claim("optimal-critic-loss_sensitive", ref="THEORY.md §5 (Theorem 2, Corollary 2)",
       statement="LS-GAN loss networks trained on one fixed sample, in the regime where the hinge clips, reach the "
                 "exact LP optimum S*_{n,m} within their training noise and lie in the LP bounds [L⁻, L⁺]")
def _ls_critic(ctx: Context) -> Evidence:
    from .. import nonparametric as npm
    from ..plots import loss_sensitive_critic_figure
    from ..studies.critic import hinge_clipped_fraction, loss_sensitive_critic

    kw = dict(n_models=6, steps=2000) if ctx.quick else dict(n_models=32, steps=6000)
    c = loss_sensitive_critic(seed=ctx.seed, **kw)
    clipped1 = hinge_clipped_fraction(c.real, c.fake, npm.solve(c.real, c.fake, c.lam, 1.0).l)
    checks = loss_sensitive_checks(c, clipped1)
    S = c.s_models
    bias = float(np.mean(S) - c.s_star)
    fig = loss_sensitive_critic_figure(
        c.x, c.lower, c.upper, c.l_models, c.real, c.fake, ctx.figure_path("optimal_critic_loss_sensitive"),
        title=f"LS-GAN: trained L_θ vs LP bounds (n = {c.n} from {c.p}, m = {c.m} from {c.q}, λ = {c.lam:g}, "
              f"κ = {c.kappa:g})",
        caption=f"{c.clipped_fraction:.0%} of pairs clipped at the LP optimum. Mean trained S = {np.mean(S):.4f} vs "
                f"S* = {c.s_star:.4f} (SE {c.objective_se:.1e}); band distance {c.band_error:.3f} "
                f"(tolerance {c.band_tolerance:.3f}).")
    resolved = c.resolved()
    trace = ", ".join(f"{s}: {v:.5f}" for s, v in zip(c.trace_steps, c.s_trace.mean(0)))
    lines = [
        f"{c.n_models} loss networks (1→32→32→1, float64, cosine-decayed Adam), {kw['steps']} full-batch steps on one "
        f"fixed sample (n = {c.n} real from {c.p}, m = {c.m} generated from {c.q}), soft κ-Lipschitz and L ≥ 0 "
        f"penalties; compared with the exact LP over F_κ, κ = {c.kappa:g}, λ = {c.lam:g}.",
        "",
        f"- hinge regime: {c.clipped_fraction:.1%} of the n·m pairs clipped at the LP optimum ({c.active_fraction:.1%} "
        f"strictly active); at κ = 1 on the same sample {clipped1:.1%} (THEORY.md §5, hinge inactivity)",
        f"- objective: S* = {c.s_star:.5f}; trained mean S = {np.mean(S):.5f} (range {S.min():.5f}–{S.max():.5f}), "
        f"bias {bias:+.5f} = {bias / max(c.objective_se, 1e-300):.0f} SE; SE = {c.objective_se:.1e}",
        f"- convergence (mean S by step): {trace}",
        f"- certified lower bound: measured slopes κ_e ≤ {c.kappa_models.max():.3f}; every S(max(L_e, 0)) ≥ "
        f"S*(κ_max) = {c.s_star_relaxed:.5f}: {c.lower_bound_holds}",
        "- resolution of the objective check (|S̄ − S*(alternative)| > tolerance): "
        + ", ".join(f"{k} {'resolved' if v else 'not resolved'} ({c.objective_distance(k):.4f})"
                    for k, v in resolved.items()),
        f"- bounds: ‖dist(L̄, [L⁻, L⁺])‖ = {c.band_error:.4f} (band width ‖L⁺ − L⁻‖ = {c.band_scale:.3f})",
    ]
    if bias > c.objective_tolerance:
        # where the value is lost: the mean network (grid curve, interpolated) against l* at the active points
        sol = npm.solve(c.real, c.fake, c.lam, c.kappa)
        pts = np.concatenate([c.real, c.fake])
        l_net = np.maximum(np.interp(pts, c.x, c.l_models.mean(0)), 0.0)
        act = np.concatenate([sol.active.mean(1), sol.active.mean(0)])
        worst = [i for i in np.argsort(l_net - sol.l) if act[i] > 0][:4]
        where = "; ".join(f"{'real' if i < c.n else 'generated'} x = {pts[i]:+.2f}: l* = {sol.l[i]:.3f}, network "
                          f"{l_net[i]:.3f} ({act[i]:.0%} of its pairs active)" for i in worst)
        lines.append(f"\nMeasured: the trained networks stop {bias:.4f} ({bias / c.s_star:.1%}) above the LP optimum, "
                     f"{bias / max(c.objective_se, 1e-300):.0f} SE, with the convergence trace flat at the end: an "
                     "optimisation/capacity bias of gradient training, not noise; the tolerance is not widened to "
                     f"cover it. Largest shortfalls at points with active pairs: {where}. The LP optimum raises "
                     "generated points lying among the real data by spikes of slope κ over sub-sample spacings, which "
                     "the trained networks do not form (earlier runs: the same S to 1e-4 with width 64 and lr 1e-2).")
    data = {"s_star": c.s_star, "s_models": S.tolist(), "objective_se": c.objective_se,
            "clipped_fraction": c.clipped_fraction, "clipped_fraction_kappa1": clipped1,
            "alternatives": c.alternatives, "resolved": resolved, "band_error": c.band_error,
            "band_tolerance": c.band_tolerance, "trace_steps": c.trace_steps.tolist(),
            "s_trace_mean": c.s_trace.mean(0).tolist()}
    return Evidence("\n".join(lines), [str(f) for f in fig if str(f).endswith(".png")], data, checks=checks)
