"""The report folder of ``lsgan-theory analyse``: a loss given by formulas, analysed end to end by
:func:`lsgan_theory.studies.loss_analysis.analyse_loss`, written as summary.md, summary.json and figures (PNG, PDF).
No claim is registered here: the analysis reads a user's loss, not a statement of THEORY.md."""

from __future__ import annotations

from pathlib import Path

from .. import __version__
from ..output import write_json, write_text
from ..plots import optimal_critic_figure, training_curves_figure
from ..provenance import git_revision

__all__ = ["analysis_report", "critic_verdict"]


def analysis_report(res, out: Path) -> dict:
    """Write the report of the analysis ``res`` (an ``analyse_loss`` result) to folder ``out`` (which exists):
    the figures ``critic`` and ``training_curves``, ``summary.md`` (the formulas as the user gave them, then
    derivation, ground truth, trained critics, the short generator run) and ``summary.json``.  Returns the summary
    document (``res.to_dict()`` with version and git revision)."""
    f = res.formulas
    real, fake, sense, generator, params = f["real"], f["fake"], f["sense"], f["generator"], f["params"]
    data = res.to_dict()
    data.update(version=__version__, git=git_revision())
    c = res.critic
    passed, verdict = critic_verdict(c)
    data["critic"] = {**{k: v for k, v in data["critic"].items() if k != "n_models"}, "passed": passed,
                      "verdict": verdict, "n_models": data["critic"]["n_models"]}
    figs = optimal_critic_figure(c.x, c.d_star, c.d_models, out / "critic",
                                 f"trained D vs derived D* (q fixed = {res.q}, p = {res.p})",
                                 caption=f"{c.n_models} discriminators of the loss trained against the fixed q; "
                                         f"measured ‖D̄ − D*‖ = {c.value_error:.3g}. {verdict.split(':')[0]}.")
    t = res.training
    figs += training_curves_figure(t.steps, t.loss_d, t.loss_g, ["custom"] * t.loss_d.shape[0],
                                   out / "training_curves", f"generators trained on {res.p} with the loss")
    d = res.derivation
    gt = data["ground_truth"]
    w1 = [m.get("w1") for m in res.metrics if m]
    lines = [f"# Analysis of a GAN loss from formulas (lsgan-theory {__version__})", "",
             f"- real term: `{real}`; fake term: `{fake}`; the discriminator {sense}imises; "
             f"generator term: `{generator or 'zero-sum'}`" + (f"; parameters {params}" if params else ""),
             "", "## Derivation", "", f"- D* = `{d.to_dict()['d_star']}`",
             f"- value at D* (integrand) = `{d.to_dict()['value_at_optimum']}`",
             f"- identified: {d.identity if d.named else d.named_title}; f(u) = `{d.to_dict()['f']}`",
             f"- proper (minimised exactly at q = p): {d.is_proper}; a divergence (also zero there): "
             f"{d.objective_is_divergence}",
             f"- generator gradient where D wins: saturating = {d.gradient.get('saturating')} "
             f"({d.gradient.get('parametrisation')} parametrisation)", "",
             "## Ground truth by quadrature", "",
             f"- p = {res.p}, q = {res.q}: ∫ value = {gt['integral_of_value']:.10g} ± {gt['integral_abserr']:.2g}; "
             f"reference ({gt['reference_is']}) = {gt['reference']:.10g} ± {gt['reference_abserr']:.2g}; "
             f"tolerance {gt['tolerance']:.2g}: {'agree' if gt['agrees'] else 'DISAGREE'}", "",
             "## Trained discriminators vs D*", "", f"- {verdict}", "",
             "## Short generator run", "",
             f"- {t.loss_d.shape[0]} generators, {res.settings['steps']} steps on p = {res.p}: diverged "
             f"{int(t.diverged.sum())}; W1 to p per model: "
             + ", ".join("n/a" if v is None else f"{v:.3g}" for v in w1), "",
             "## Figures", ""] + [f"- `{f.name}`" for f in figs if f.suffix == ".png"]
    write_text(out / "summary.md", "\n".join(lines) + "\n", what="--out")
    write_json(out / "summary.json", data, what="--out")
    return data


def critic_verdict(c) -> tuple[bool, str]:
    """Whether the trained critics ``c`` (a :class:`lsgan_theory.studies.critic.CriticCheck`) pass, and the verdict
    in words with its terms: the status of its :class:`~lsgan_theory.claims.Check`
    (:func:`lsgan_theory._claims.ensemble.critic_checks`, the rule every claim uses: a statistic beyond its tolerance
    fails; within it, passes only if the nearby wrong optimum is rejected, else inconclusive)."""
    from .ensemble import critic_checks

    status = critic_checks(c)[0].status
    boundary = bool(c.boundary)
    stat = "|x̂₀ − x₀| (D̄'s crossing vs where p = q)" if boundary else "‖D̄ − D*‖ ((p+q)/2-weighted RMS on the grid)"
    basis = (f"2·SE of the crossing over {c.n_models} seeds (sd/√E)" if boundary else
             f"2·‖SE‖, SE(x) = seed-to-seed sd/√E over E = {c.n_models} seeds (data set, initialisation, "
             f"generator draws)")
    alts = ", ".join(f"{k}: {v:.4g}" for k, v in c.alternatives.items())
    word = {"pass": "PASS", "fail": "FAIL"}.get(
        status, "INCONCLUSIVE (a nearby wrong D* is not rejected: the check cannot tell them apart)")
    return status == "pass", (f"{word}: {stat} = {c.statistic:.4g}, tolerance {c.tolerance:.4g} ({basis}); power: "
                              f"the same statistic against D* for {alts} (each must exceed the tolerance)")
