"""Claims checked by training ensembles: the optimal critic of each family (THEORY.md §1–§3)."""

from __future__ import annotations

from ..claims import Context, Evidence, claim

_STATEMENTS = {
    "gan": ("THEORY.md §1", "With the generator fixed, the trained classic-GAN discriminator approaches D* = p/(p+q)"),
    "least_squares": ("THEORY.md §2", "With the generator fixed, the trained LSGAN (least-squares) discriminator "
                                      "approaches D* = (b p + a q)/(p + q)"),
    "hinge": ("THEORY.md §3", "With the generator fixed, the trained hinge discriminator approaches D* = sign(p − q)"),
}


def _check(family: str, ctx: Context) -> Evidence:
    from ..ensemble.critic import optimal_critic
    from ..plots import optimal_critic_figure

    kw = dict(n_models=16, steps=600) if ctx.quick else dict(n_models=64, steps=3000)
    chk = optimal_critic(family, seed=ctx.seed, **kw)
    fig = optimal_critic_figure(chk.x, chk.d_star, chk.d_models, ctx.figure_path(f"optimal_critic_{family}"),
                                title=f"{family}: trained D vs closed-form D* ({chk.p} vs fixed {chk.q})")
    lines = [f"{kw['n_models']} discriminators ({family}), each trained {kw['steps']} Adam steps on its own "
             f"8192-point data set from {chk.p} against fresh draws of the fixed generator {chk.q}.",
             "",
             f"- weighted RMS ‖D̄ − D*‖ = {chk.error:.4f}; seed-to-seed spread ‖s‖ = {chk.noise:.4f}; "
             f"tolerance 2‖s‖ = {chk.tolerance:.4f}",
             "- negative controls (must exceed the tolerance): "
             + ", ".join(f"{k}: {v:.3f}" for k, v in chk.controls.items())]
    if family == "hinge":
        lines.append("- the zone |p − q| < 0.3 (p + q), where D* is not unique, is excluded")
    return Evidence(chk.passed, "\n".join(lines), [str(f) for f in fig if str(f).endswith(".png")],
                    {"error": chk.error, "tolerance": chk.tolerance, "controls": chk.controls})


for _fam, (_ref, _stmt) in _STATEMENTS.items():
    claim(f"optimal-critic-{_fam}", ref=_ref, statement=_stmt)(lambda ctx, _f=_fam: _check(_f, ctx))
