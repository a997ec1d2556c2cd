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

__all__ = ["save", "divergence_table_figure"]


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
