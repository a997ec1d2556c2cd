"""Figures, drawn from result tables and arrays only (no training or solving in here).

Every figure is saved as PNG and PDF with labelled axes, units and a caption line saying what it shows
(:func:`save`).  Sections below are grouped by area; each plotting function takes plain arrays / dicts and a path
stem and returns the list of files written.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["save", "divergence_table_figure", "vanishing_gradient_figure", "generator_loss_figure"]


def save(fig, stem: str | Path, caption: str) -> list[Path]:
    """Add ``caption`` under the figure and write ``stem.png`` and ``stem.pdf``; close the figure."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    fig.text(0.5, 0.005, caption, ha="center", va="bottom", fontsize=8, wrap=True)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    for p in paths:
        fig.savefig(p, dpi=130)
    plt.close(fig)
    return paths


# ------------------------------------------------------------------------------------------- foundation
def divergence_table_figure(shifts, values: dict[str, list[float]], stem, title: str) -> list[Path]:
    """Divergences (one line each) against the mean shift μ between two densities."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, ys in values.items():
        ax.plot(shifts, ys, marker="o", ms=3, label=name)
    ax.set_xlabel("mean shift μ (units of x)")
    ax.set_ylabel("divergence (nats / distance units)")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return save(fig, stem, "Each divergence by quadrature between the two densities as the mean gap μ grows.")


# ------------------------------------------------------------------------------------------- symbolic
def vanishing_gradient_figure(shifts, values: dict[str, list[float]], ceilings: dict[str, float], stem
                              ) -> list[Path]:
    """Divergences between two narrow densities against the shift μ (data from
    ``lsgan_theory.symbolic.figures.vanishing_gradient_data``); dashed lines at each bounded divergence's ceiling."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name, ys in values.items():
        line, = ax.plot(shifts, ys, marker="o", ms=2.5, label=name)
        if name in ceilings:
            ax.axhline(ceilings[name], ls="--", lw=0.8, color=line.get_color())
    ax.set_xlabel("shift μ of the generator density (units of x)")
    ax.set_ylabel("divergence (nats; TV, Δ_LC unitless; W1 in units of x)")
    ax.set_title("Bounded divergences saturate; W1 keeps growing")
    ax.legend()
    ax.grid(alpha=0.3)
    return save(fig, stem, "Quadrature values between N(0, σ²) and N(μ, σ²), σ = 0.05. Dashed: ceilings log 2 (JSD), "
                           "2 (Δ_LC), 1 (TV); once the supports separate these are flat in μ (zero gradient).")


def generator_loss_figure(x, losses: dict[str, tuple], stem) -> list[Path]:
    """Generator loss and its derivative against the discriminator's raw output (logit) on a generated sample
    (data from ``lsgan_theory.symbolic.figures.generator_loss_data``: name -> (loss, gradient))."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.8))
    for name, (loss, grad) in losses.items():
        a1.plot(x, loss, label=name)
        a2.plot(x, grad, label=name)
    a1.set_xlabel("discriminator output on a fake sample (logit)")
    a1.set_ylabel("generator loss (nats / squared units)")
    a2.set_xlabel("discriminator output on a fake sample (logit)")
    a2.set_ylabel("d loss / d output")
    a1.set_title("loss")
    a2.set_title("gradient")
    for ax in (a1, a2):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    a2.set_ylim(-5, 5)
    return save(fig, stem, "Minimax log(1 − σ(x)) saturates where D confidently rejects fakes (x ≪ 0): its gradient "
                           "→ 0; non-saturating −log σ(x) keeps slope −1; least squares ½(x − c)² grows linearly.")
