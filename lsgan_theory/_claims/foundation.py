"""Claims of THEORY.md §0: the closed forms and the basic inequalities, checked by quadrature."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from .. import densities as dens
from .. import divergences as V
from ..claims import Check, Context, Evidence, claim

CLOSED_FORMS = {
    "kl": lambda mu, s: mu**2 / (2 * s**2),
    "pearson_chi2": lambda mu, s: math.expm1(mu**2 / s**2),
    "hellinger2": lambda mu, s: -2 * math.expm1(-mu**2 / (8 * s**2)),
    "tv": lambda mu, s: 2 * stats.norm.cdf(abs(mu) / (2 * s)) - 1,
    "w1": lambda mu, s: abs(mu),
}


@claim("closed-forms-gaussian", ref="THEORY.md §0", kind="numerical",
       statement="KL, Pearson χ², H², TV and W1 between equal-variance Gaussians equal their closed forms")
def _closed_forms(ctx: Context) -> Evidence:
    from .. import plots

    rows, ok, stat, alt = [], True, 0.0, np.inf
    shifts = np.linspace(0.0, 3.0, 13)
    curves = {n: [] for n in CLOSED_FORMS}
    for mu in shifts:
        for name, fn in CLOSED_FORMS.items():
            est = V.by_name(name)(dens.Normal(0, 1), dens.Normal(mu, 1))
            truth = fn(mu, 1.0)
            allow = est.abserr + 1e-13 * max(1, abs(truth))
            good = abs(est.value - truth) <= allow
            ok &= good
            stat = max(stat, abs(est.value - truth) / allow)
            alt = min(alt, abs(est.value - fn(mu + 1e-3, 1.0)) / allow)
            curves[name].append(est.value)
            if mu in (0.0, 1.0, 3.0):
                rows.append(f"| {name} | {mu:g} | {est.value:.12g} | {truth:.12g} | {est.abserr:.1e} | "
                            f"{'yes' if good else 'NO'} |")
    fig = plots.divergence_table_figure(
        shifts, curves, ctx.figure_path("divergences_vs_shift"), "N(0,1) vs N(μ,1): divergences by quadrature",
        caption=f"Quadrature values. Measured: the largest |quadrature − closed form| over the "
                f"{len(shifts) * len(CLOSED_FORMS)} points is {stat:.2g} × its allowance (abserr + float64 rounding).")
    table = "\n".join(["| divergence | μ | quadrature | closed form | abserr | within abserr |", "|---|---|---|---|---|---|"]
                      + rows)
    chk = Check("max |quadrature − closed form| / (abserr + 1e-13·max(1, |value|))", stat, 1.0,
                "numerical: the quadrature's own error estimate (abserr) plus float64 rounding",
                "closed form at μ + 0.001 (smallest ratio over the pairs)", alt)
    return Evidence(f"All {len(shifts) * len(CLOSED_FORMS)} (shift, divergence) pairs checked; a sample:\n\n{table}",
                    [fig[0]], checks=[chk])


@claim("divergence-inequalities", ref="THEORY.md §0", kind="numerical",
       statement="0 ≤ JSD ≤ log 2, Pinsker TV ≤ √(KL/2), Δ_LC ≤ 2TV, H² ≤ 2TV, Δ_LC = 2χ²(q‖m) on random mixtures")
def _inequalities(ctx: Context) -> Evidence:
    rng = ctx.rng(1)
    n = 20 if ctx.quick else 200
    worst = {"pinsker": -np.inf, "tri": -np.inf, "hel": -np.inf, "js": -np.inf, "tri_chi2": 0.0}
    ok, stat, alt, tol = True, 0.0, -np.inf, 0.0

    def mix():
        k = rng.integers(1, 4)
        w = rng.uniform(0.1, 1, k)
        return dens.Mixture([dens.Normal(rng.uniform(-3, 3), rng.uniform(0.3, 2)) for _ in range(k)], w / w.sum())

    for _ in range(n):
        p, q = mix(), mix()
        kl, t, h, tri, j = V.kl(p, q), V.tv(p, q), V.hellinger2(p, q), V.triangular(p, q), V.js(p, q)
        m = dens.Mixture([p, q], [0.5, 0.5])
        c = V.pearson_chi2(q, m)
        slack = t.abserr + kl.abserr + h.abserr + tri.abserr + j.abserr + c.abserr
        tol = max(tol, slack)
        stat = max(stat, t.value - math.sqrt(kl.value / 2), tri.value - 2 * t.value, h.value - 2 * t.value,
                   j.value - math.log(2), -j.value, abs(tri.value - 2 * c.value) - slack)
        alt = max(alt, t.value - 0.5 * math.sqrt(kl.value / 2))
        worst["pinsker"] = max(worst["pinsker"], t.value - math.sqrt(kl.value / 2))
        worst["tri"] = max(worst["tri"], tri.value - 2 * t.value)
        worst["hel"] = max(worst["hel"], h.value - 2 * t.value)
        worst["js"] = max(worst["js"], j.value - math.log(2))
        worst["tri_chi2"] = max(worst["tri_chi2"], abs(tri.value - 2 * c.value))
        ok &= (t.value <= math.sqrt(kl.value / 2) + slack and tri.value <= 2 * t.value + slack
               and h.value <= 2 * t.value + slack and -slack <= j.value <= math.log(2) + slack
               and abs(tri.value - 2 * c.value) <= slack)
    ev = (f"{n} random pairs of 1-3 component Gaussian mixtures. Largest violations (negative = holds with room): "
          f"TV − √(KL/2) = {worst['pinsker']:.3g}; Δ_LC − 2TV = {worst['tri']:.3g}; H² − 2TV = {worst['hel']:.3g}; "
          f"JSD − log 2 = {worst['js']:.3g}; max |Δ_LC − 2χ²(q‖m)| = {worst['tri_chi2']:.2g}.")
    chk = Check("largest violation over the pairs and the five relations (bound side − other side)", max(stat, 0.0),
                tol, "numerical: the largest sum of quadrature error estimates (abserr) of one pair",
                "Pinsker with half the constant, TV ≤ ½√(KL/2) (largest violation)", alt)
    return Evidence(ev, checks=[chk], passed=None if ok else False)
