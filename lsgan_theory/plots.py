"""Figures, drawn from result tables and arrays only (no training or solving in here).

Every figure is saved as PNG and PDF with labelled axes, units and a caption line saying what it shows
(:func:`save`).  Sections below are grouped by area; each plotting function takes plain arrays / dicts and a path
stem and returns the list of files written.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from .output import write_atomic

__all__ = ["save", "fit_titles", "divergence_table_figure", "vanishing_gradient_figure", "generator_loss_figure",
           "training_curves_figure", "optimal_critic_figure", "loss_sensitive_critic_figure", "np_bounds_figure",
           "np_bounds_1d_figure", "np_bounds_2d_figure", "np_allocation_figure", "np_generator_allocation_figure",
           "np_generalisation_figure", "theorem1_figure", "sweep_figure", "clsgan_samples_figure",
           "clsgan_accuracy_figure", "mode_snapshots_figure", "mode_trajectories_figure"]


def _subplots(nrows: int = 1, ncols: int = 1, **kw):
    """A new figure and its axes, without pyplot: importing or using this module never changes matplotlib's
    backend or global state (figures are drawn on their own Agg canvas when saved)."""
    fig_kw = {k: kw.pop(k) for k in ("figsize",) if k in kw}
    fig = Figure(**fig_kw)
    return fig, fig.subplots(nrows, ncols, **kw)


def _renderer(fig):
    """The Agg renderer of ``fig`` (an Agg canvas is attached when the figure has none that renders)."""
    if not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    return fig.canvas.get_renderer()


def _wrap_to_width(text_obj, width_px: float, renderer) -> None:
    """Re-break ``text_obj``'s words (greedy, measured with ``renderer``) so no line is wider than ``width_px``."""
    original = text_obj.get_text()
    if not original or text_obj.get_window_extent(renderer).width <= width_px:
        return
    out = []
    for paragraph in original.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            trial = f"{line} {word}" if line else word
            text_obj.set_text(trial)
            if line and text_obj.get_window_extent(renderer).width > width_px:
                out.append(line)
                line = word
            else:
                line = trial
        out.append(line)
    text_obj.set_text("\n".join(out))


def fit_titles(fig) -> None:
    """Wrap every axes title to its axes' width and the figure's suptitle to the figure's width (in place).

    Lines are broken between words where a line measured by the Agg renderer (``Text.get_window_extent``) would be
    wider than the target (a single word longer than the target stays whole).  Called by :func:`save`, so every
    figure of this module gets it; titles that fit are left unchanged.
    """
    renderer = _renderer(fig)
    fig_w = fig.bbox.width
    for ax in fig.axes:
        w = min(ax.get_position().width * fig_w, fig_w) * 0.98
        for t in (ax.title, ax._left_title, ax._right_title):
            _wrap_to_width(t, w, renderer)
    if getattr(fig, "_suptitle", None) is not None:
        _wrap_to_width(fig._suptitle, 0.96 * fig_w, renderer)


def save(fig, stem: str | Path, caption: str, bottom: float = 0.06) -> list[Path]:
    """Wrap titles to fit (:func:`fit_titles`), add ``caption`` under the figure and write ``stem.png`` and
    ``stem.pdf``; the axes are laid out above ``bottom`` (figure fraction; more than the caption's 0.06 leaves room
    for a figure legend)."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    fit_titles(fig)
    fig.text(0.5, 0.005, caption, ha="center", va="bottom", fontsize=8, wrap=True)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    for p in paths:  # atomically (lsgan_theory.output.write_atomic): the format from the final name, not the temporary's
        write_atomic(p, lambda tmp, fmt=p.suffix[1:]: fig.savefig(tmp, dpi=130, format=fmt), what="figure")
    return paths


# ------------------------------------------------------------------------------------------- foundation
#: largest ratio of the curves' peaks drawn on a linear axis; above it one curve would flatten the others
LOG_AXIS_RATIO = 100.0


def divergence_table_figure(shifts, values: dict[str, list[float]], stem, title: str, caption: str | None = None
                            ) -> list[Path]:
    """Divergences (one line each) against the mean shift μ between two densities.

    The y axis is logarithmic when the largest curve's peak exceeds :data:`LOG_AXIS_RATIO` × the smallest positive
    peak (e.g. Pearson χ² ≈ 8100 at μ = 3 beside W1 = 3); zeros (μ = 0) are then off the axis and the caption says
    so.
    ``caption`` (written by the caller from measured values) comes first in the caption line.
    """
    import numpy as np

    fig, ax = _subplots(figsize=(6, 4))
    peaks = [float(np.nanmax(np.abs(ys))) for ys in values.values() if np.size(ys)]
    peaks = [v for v in peaks if v > 0 and np.isfinite(v)]
    log = bool(peaks) and max(peaks) > LOG_AXIS_RATIO * min(peaks)
    for name, ys in values.items():
        ys = np.asarray(ys, dtype=float)
        # on a log axis a value <= 0 is off the axis: left out (NaN), not drawn as a line plunging to the edge
        ax.plot(shifts, np.where(ys > 0, ys, np.nan) if log else ys, marker="o", ms=3, label=name)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("mean shift μ (units of x)")
    ax.set_ylabel(f"divergence (nats / distance units){', log scale' if log else ''}")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both" if log else "major")
    text = caption or "Each divergence by quadrature between the two densities as the mean gap μ grows."
    if log:
        text += (f" Log y axis: the peaks span {max(peaks) / min(peaks):.0f}×; points with value 0 (μ = 0) are not "
                 "drawn.")
    return save(fig, stem, text)


# ------------------------------------------------------------------------------------------- symbolic
def vanishing_gradient_figure(shifts, values: dict[str, list[float]], ceilings: dict[str, float], stem
                              ) -> list[Path]:
    """Divergences between two narrow densities against the shift μ (data from
    ``lsgan_theory.symbolic.figures.vanishing_gradient_data``); dashed lines at each bounded divergence's ceiling."""
    fig, ax = _subplots(figsize=(6.4, 4.2))
    for name, ys in values.items():
        line, = ax.plot(shifts, ys, marker="o", ms=2.5, label=name)
        if name in ceilings:
            ax.axhline(ceilings[name], ls="--", lw=0.8, color=line.get_color())
    ax.set_xlabel("shift μ of the generator density (units of x)")
    ax.set_ylabel("divergence (nats; TV, Δ_LC unitless; W1 in units of x)")
    ax.set_title("Divergences between N(0, σ²) and N(μ, σ²) against the shift μ")
    ax.legend()
    ax.grid(alpha=0.3)
    import numpy as np

    mu = np.asarray(shifts, float)
    tail = mu >= mu[0] + 0.5 * (mu[-1] - mu[0])  # the far half of the shifts
    parts = []
    for name, ys in values.items():
        ys = np.asarray(ys, float)
        if name in ceilings:
            parts.append(f"{name} within {np.nanmax(np.abs(ys[tail] - ceilings[name])):.1e} of its ceiling "
                         f"{ceilings[name]:.3g}")
        else:
            parts.append(f"{name} from {ys[tail][0]:.3g} to {ys[tail][-1]:.3g}")
    return save(fig, stem, f"Quadrature values; dashed: the ceilings of the bounded divergences. Measured "
                           f"over μ ∈ [{mu[tail][0]:.2g}, {mu[-1]:.2g}]: " + "; ".join(parts) + ".")


def generator_loss_figure(x, losses: dict[str, tuple], stem) -> list[Path]:
    """Generator loss and its derivative against the discriminator's raw output (logit) on a generated sample
    (data from ``lsgan_theory.symbolic.figures.generator_loss_data``: name -> (loss, gradient))."""
    fig, (a1, a2) = _subplots(1, 2, figsize=(9, 3.8))
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
    import numpy as np

    i = int(np.argmin(np.asarray(x, float)))
    grads = "; ".join(f"{name.split(':')[0]} {float(np.asarray(g)[i]):.3g}" for name, (_, g) in losses.items())
    return save(fig, stem, f"Generator loss and its derivative (sympy) where D rejects fakes most confidently: "
                           f"measured d loss / d output at x = {float(np.asarray(x)[i]):g}: {grads}.")


# ------------------------------------------------------------------------------------------- ensemble (issue #6)
def training_curves_figure(steps, loss_d, loss_g, labels, stem, title: str) -> list[Path]:
    """Per-model discriminator / loss-network and generator objectives against the training step.

    ``steps`` (S,), ``loss_d`` and ``loss_g`` (E, S) (NaN after a model was frozen), ``labels`` E strings.
    """
    import numpy as np

    import warnings

    labels = [str(v) for v in labels]
    groups = list(dict.fromkeys(labels))  # one colour (and legend entry) per distinct label: replicas share it
    many = len(groups) > 10
    colours = {g: (f"C{i}" if not many else "tab:blue") for i, g in enumerate(groups)}
    fig, axes = _subplots(1, 2, figsize=(10, 4.4), sharex=True)
    for ax, vals, name in ((axes[0], np.asarray(loss_d), "D / loss-network objective"),
                           (axes[1], np.asarray(loss_g), "generator objective")):
        for e in range(vals.shape[0]):
            ax.plot(steps, vals[e], lw=1 if not many else 0.5, alpha=0.8 if not many else 0.3,
                    color=colours[labels[e]])
        if many:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN steps (every model frozen)
                ax.plot(steps, np.nanmedian(vals, axis=0), color="k", lw=2)
        ax.set_xlabel("training step")
        ax.set_ylabel(f"{name} (loss units)")
        ax.grid(alpha=0.3)
    from matplotlib.lines import Line2D

    common = ""
    if many:
        handles = [Line2D([], [], color="tab:blue", lw=0.8, alpha=0.6, label=f"one model ({len(labels)})"),
                   Line2D([], [], color="k", lw=2, label="median over models")]
    else:
        n_of = {g: labels.count(g) for g in groups}
        parts = [g.split(", ") for g in groups]  # "key=value, ..." labels: what all share goes to the legend title
        shared = [t for t in parts[0] if all(t in p for p in parts)] if len(groups) > 1 else []
        common = ", ".join(shared)
        handles = [Line2D([], [], color=colours[g], lw=1.5,
                          label=(", ".join(t for t in p if t not in shared) or g)
                          + (f" (×{n_of[g]})" if n_of[g] > 1 else "")) for g, p in zip(groups, parts)]
    ncol = 1 if len(handles) == 1 else (2 if max(len(h.get_label()) for h in handles) > 30 else 4)
    rows = -(-len(handles) // ncol) + (1 if common else 0)
    bottom = 0.09 + 0.04 * rows
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.065), fontsize=7, ncol=ncol,
               title=common or None, title_fontsize=7, frameon=False)
    fig.suptitle(title)
    return save(fig, stem, "Per-model objectives of an ensemble run at the recorded steps (a gap = a frozen, "
                           "diverged model).", bottom=bottom)


def _finish_critic(fig, ax, ylabel: str, title: str, stem, caption: str) -> list[Path]:
    """Label a 1-D critic figure (x in data units), add its legend and grid, and save it."""
    ax.set_xlabel("x (data units)")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save(fig, stem, caption)


def optimal_critic_figure(x, d_star, d_models, stem, title: str, caption: str | None = None) -> list[Path]:
    """Trained discriminators (thin lines, one per model), their mean and the closed-form D* on a 1-D grid."""
    import numpy as np

    d_models = np.asarray(d_models)
    fig, ax = _subplots(figsize=(6, 4))
    for e in range(d_models.shape[0]):
        ax.plot(x, d_models[e], color="tab:blue", lw=0.5, alpha=0.3)
    ax.plot(x, d_models.mean(0), color="tab:blue", lw=2, label="trained D (mean over models)")
    ax.plot(x, d_star, "k--", lw=1.5, label="closed-form D*")
    return _finish_critic(fig, ax, "discriminator output D(x)", title, stem,
                          caption or "Discriminators trained against a fixed generator density vs the pointwise "
                                     "optimum D*.")


def loss_sensitive_critic_figure(x, lower, upper, l_models, real, fake, stem, title: str,
                                 caption: str | None = None) -> list[Path]:
    """Trained LS-GAN loss networks (thin lines, one per model), their mean and the LP cone bounds L⁻ ≤ L⁺."""
    import numpy as np

    l_models = np.asarray(l_models)
    fig, ax = _subplots(figsize=(6.5, 4))
    ax.fill_between(x, lower, upper, color="tab:purple", alpha=0.2, label="LP bounds [L⁻, L⁺] (exact)")
    for e in range(l_models.shape[0]):
        ax.plot(x, l_models[e], color="tab:blue", lw=0.5, alpha=0.35)
    ax.plot(x, l_models.mean(0), color="tab:blue", lw=2, label="trained L_θ (mean over models)")
    lo = float(min(np.min(lower), np.min(l_models)))
    ax.plot(real, np.full(len(real), lo), "|", color="k", ms=8, label="real samples")
    ax.plot(fake, np.full(len(fake), lo), "|", color="tab:red", ms=8, label="generated samples")
    return _finish_critic(fig, ax, "loss L(x) (objective units)", title, stem,
                          caption or "LS-GAN loss networks trained on fixed samples vs the exact non-parametric "
                                     "bounds.")


# ------------------------------------------------------------------------------------------- nonparametric (issue #5)
def np_bounds_figure(sol, real, fake, stem) -> list[Path]:
    """The cone bounds L⁻ ≤ L⁺ of a solved LP (:class:`lsgan_theory.nonparametric.Solution`) around its samples
    ``real`` (n, d), ``fake`` (m, d): on 801 points padded 15 % beyond the samples in 1-D
    (:func:`np_bounds_1d_figure`), on a 121 × 121 grid padded 15 % beyond the points in 2-D
    (:func:`np_bounds_2d_figure`).  What ``lsgan-theory bounds --plot`` draws."""
    import numpy as np

    if sol.points.shape[1] == 1:
        lo, hi = min(real.min(), fake.min()), max(real.max(), fake.max())
        pad = 0.15 * (hi - lo + 1e-9)
        x = np.linspace(lo - pad, hi + pad, 801)
        return np_bounds_1d_figure(x, sol.lower(x), sol.upper(x), real, fake, sol.kappa, stem)
    pts = sol.points
    lo, hi = pts.min(0), pts.max(0)
    pad = 0.15 * (hi - lo + 1e-9)
    X, Y = np.meshgrid(np.linspace(lo[0] - pad[0], hi[0] + pad[0], 121),
                       np.linspace(lo[1] - pad[1], hi[1] + pad[1], 121))
    XY = np.stack([X, Y], -1)
    return np_bounds_2d_figure(X, Y, sol.lower(XY), sol.upper(XY), real, fake, sol.kappa, stem)


def np_bounds_1d_figure(x, lower, upper, real, fake, kappa: float, stem, disc_grad=None, upper_slope=None,
                        caption: str | None = None) -> list[Path]:
    """1-D non-parametric LS-GAN: samples, the cone bounds L⁻ ≤ L⁺ on a grid, and optionally the generator
    gradient |d/dx log(1 − D(x))| of a trained sigmoid discriminator on the same axis (second panel)."""
    import numpy as np

    rows = 2 if disc_grad is not None else 1
    fig, axes = _subplots(rows, 1, figsize=(7, 3.2 * rows), sharex=True, squeeze=False)
    ax = axes[0, 0]
    ax.fill_between(x, lower, upper, color="tab:purple", alpha=0.15, label="every minimiser lies in here")
    ax.plot(x, upper, color="tab:red", lw=1.5, label="L⁺ (upper cone bound)")
    ax.plot(x, lower, color="tab:blue", lw=1.5, label="L⁻ (lower cone bound)")
    ymin = -0.06 * max(float(np.max(upper)), 1e-12)
    ax.plot(real, np.full(len(real), ymin), "|", color="k", ms=10, label="real samples")
    ax.plot(fake, np.full(len(fake), 2 * ymin), "|", color="tab:orange", ms=10, label="generated samples")
    ax.set_ylabel("loss L(x) (loss units)")
    ax.set_title(f"Non-parametric LS-GAN (Loss-Sensitive GAN) bounds, κ = {kappa:g}", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    if disc_grad is not None:
        ax2 = axes[1, 0]
        ax2.semilogy(x, np.maximum(np.abs(disc_grad), 1e-16), color="tab:green", lw=1.5,
                     label="sigmoid GAN: |d/dx log(1 − D(x))|")
        slope_u = np.abs(np.gradient(upper, x) if upper_slope is None else np.asarray(upper_slope))
        ax2.semilogy(x, np.maximum(slope_u, 1e-16), color="tab:red", lw=1, ls="--", label="|dL⁺/dx| (= κ a.e.)")
        ax2.set_ylabel("generator gradient (per data unit)")
        ax2.legend(fontsize=7)
        ax2.grid(alpha=0.3, which="both")
    axes[-1, 0].set_xlabel("x (data units)")
    if caption is None:  # written from the arrays passed in
        slope = np.abs(np.gradient(np.asarray(upper, float), np.asarray(x, float)) if upper_slope is None
                       else np.asarray(upper_slope, float))
        caption = (f"L⁻ and L⁺ from the exact LP. Measured on the grid: |dL⁺/dx| within 1 % of κ on "
                   f"{100 * np.mean(np.abs(slope - kappa) <= 0.01 * kappa):.0f} % of the points")
        if disc_grad is not None:
            g = np.abs(np.asarray(disc_grad, float))
            caption += (f"; the sigmoid discriminator's generator gradient is below 1 % of its maximum on "
                        f"{100 * np.mean(g < 0.01 * g.max()):.0f} % of them")
        caption += "."
    return save(fig, stem, caption)


def np_bounds_2d_figure(X, Y, lower, upper, real, fake, kappa: float, stem) -> list[Path]:
    """2-D non-parametric LS-GAN: contour plots of L⁻ and L⁺ on a grid (X, Y meshgrid arrays) with the samples."""
    fig, axes = _subplots(1, 2, figsize=(10, 4.4), sharey=True)
    for ax, Z, name in ((axes[0], lower, "L⁻ (lower bound)"), (axes[1], upper, "L⁺ (upper bound)")):
        cs = ax.contourf(X, Y, Z, levels=20, cmap="viridis")
        fig.colorbar(cs, ax=ax, label="loss (loss units)")
        ax.scatter(real[:, 0], real[:, 1], s=6, c="w", edgecolors="k", linewidths=0.3, label="real")
        ax.scatter(fake[:, 0], fake[:, 1], s=6, c="tab:orange", label="generated")
        ax.set_title(f"{name}, κ = {kappa:g}", fontsize=9)
        ax.set_xlabel("x₁ (data units)")
        ax.legend(fontsize=7, loc="lower right")
    axes[0].set_ylabel("x₂ (data units)")
    import numpy as np

    gap = np.asarray(upper, float) - np.asarray(lower, float)
    return save(fig, stem, f"Cone bounds of the non-parametric LS-GAN loss in 2-D (THEORY.md §5: every non-negative "
                           f"κ-Lipschitz minimiser lies between them). Measured on the grid: L⁺ − L⁻ from "
                           f"{gap.min():.3g} to {gap.max():.3g}.")


def np_allocation_figure(dist, frac, rho: float, ci: tuple[float, float], stem, caption: str | None = None
                         ) -> list[Path]:
    """Allocation on demand, critic side: fraction of active hinge pairs of each generated point vs its distance to
    the data.  The caption is written from the measured values unless one is given."""
    import numpy as np

    dist, frac = np.asarray(dist), np.asarray(frac)
    fig, ax = _subplots(figsize=(6, 4))
    ax.scatter(dist, frac, s=8, alpha=0.6)
    ax.set_xlabel("distance of a generated point to its nearest real point (margin units)")
    ax.set_ylabel("fraction of its hinge pairs that are active")
    ax.set_title(f"Allocation on demand (critic side): Spearman ρ = {rho:.2f} (95 % CI {ci[0]:.2f} to {ci[1]:.2f})",
                 fontsize=9)
    ax.grid(alpha=0.3)
    if caption is None:
        near = frac[dist <= np.quantile(dist, 0.25)].mean()
        far = frac[dist >= np.quantile(dist, 0.75)].mean()
        trend = ("falls" if ci[1] < 0 else "rises" if ci[0] > 0 else "shows no resolved trend")
        caption = (f"Measured: the active-pair fraction {trend} with distance (ρ = {rho:.2f}); nearest quartile "
                   f"{near:.2f}, farthest quartile {far:.2f}.")
    return save(fig, stem, caption)


def np_generator_allocation_figure(curves: dict, stem, caption: str) -> list[Path]:
    """Allocation on demand, generator side: per-sample generator signal |∇ₓL(G(z))| (or |d/dx log(1 − D)| for the
    sigmoid GAN) against the distance of G(z) to the data, one panel per model.

    ``curves[name] = (dist (m,), grad_norm (m,), ratio, (lo, hi))`` with the far/near quartile ratio and its
    bootstrap CI; ``caption`` is written by the caller from the measured ratios.
    """
    import numpy as np

    k = len(curves)
    fig, axes = _subplots(1, k, figsize=(3.2 * k, 3.4), squeeze=False)
    for ax, (name, (dist, g, ratio, ci)) in zip(axes[0], curves.items()):
        ax.scatter(dist, np.maximum(np.abs(g), 1e-12), s=6, alpha=0.6)
        ax.set_yscale("log")
        ax.set_xlabel("distance of G(z) to the data (units of x)")
        ax.set_title(f"{name}\nfar/near = {ratio:.3g} [{ci[0]:.3g}, {ci[1]:.3g}]", fontsize=8)
        ax.grid(alpha=0.3, which="both")
    axes[0, 0].set_ylabel("|generator gradient| at G(z) (per unit of x)")
    return save(fig, stem, caption)


def np_generalisation_figure(ns, curves: dict, stem, caption: str | None = None) -> list[Path]:
    """Generalisation gap |S*_n − S*| vs n (log-log); ``curves[label] = (mean, lo, hi, slope, slope_ci)``."""
    import numpy as np

    fig, ax = _subplots(figsize=(6, 4.2))
    for label, (mean, lo, hi, slope, sci) in curves.items():
        ns_l = np.asarray(ns[label] if isinstance(ns, dict) else ns)
        ax.errorbar(ns_l, mean, yerr=[np.asarray(mean) - lo, np.asarray(hi) - mean], marker="o", ms=4, capsize=3,
                    label=f"{label}: slope {slope:.2f} [{sci[0]:.2f}, {sci[1]:.2f}]")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("samples per distribution n (= m)")
    ax.set_ylabel("gap between S*_{n,n} and S* (objective units)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return save(fig, stem, caption or "Non-parametric LS-GAN optimism gap S* − S*_n over seeds (95 % intervals "
                                      "including the error of S*) with fitted log-log slopes.")


# ------------------------------------------------------------------------------------------- Theorem 1 on trained GANs
def theorem1_figure(sweeps: dict, stem) -> list[Path]:
    """∫|p − q̂| against λ per target (mean and 95 % t-interval over seeds, exact densities), beside the paper's
    bound 2/λ, the sharp bound 2/(1+λ) (THEORY.md §5, derived) and the capacity floor, one line per data regime.  ``sweeps`` maps a target label to a dict with ``lams``, ``floor`` and
    either ``regimes`` = {regime name: {``mean``, ``lo``, ``hi``, ``verdict``}} or (one regime) ``mean``, ``lo``,
    ``hi``, ``verdict`` (from :func:`lsgan_theory.studies.theorem1.read_bound`)."""
    import numpy as np

    n = len(sweeps)
    fig, axes = _subplots(1, n, figsize=(3.6 * n, 3.8), squeeze=False)
    verdicts = []
    for ax, (label, s) in zip(axes[0], sweeps.items()):
        lams = np.asarray(s["lams"], float)
        regimes = s.get("regimes") or {"": {k: s[k] for k in ("mean", "lo", "hi", "verdict")}}
        lows = []
        for k, (name, r) in enumerate(regimes.items()):
            mean, lo, hi = (np.asarray(r[key], float) for key in ("mean", "lo", "hi"))
            shift = lams * (1.0 + 0.06 * (k - (len(regimes) - 1) / 2))  # side by side, not on top of each other
            ax.errorbar(shift, mean, yerr=[mean - np.maximum(lo, 1e-4), hi - mean], fmt="o-", ms=4, capsize=3,
                        label=f"trained LS-GAN{', ' + name if name else ''} (exact ∫|p − q̂|)")
            lows.append(float(np.nanmin(lo)) if np.isfinite(lo).any() else 1.0)
            verdicts.append(f"{label}{' ' + name if name else ''}: {r['verdict']}")
        grid = np.geomspace(lams.min(), lams.max(), 100)
        ax.plot(grid, np.minimum(2 / grid, 2), "k--", label="paper's bound 2/λ (Theorem 1 (ii))")
        ax.plot(grid, 2 / (1 + grid), "k-", lw=0.8, label="sharp bound 2/(1+λ) (derived, attained)")
        ax.axhline(s["floor"], color="tab:red", ls=":", label="capacity floor")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(max(min(min(lows), s["floor"]) * 0.5, 1e-3), 4)
        ax.set_xlabel("λ")
        ax.set_ylabel("∫|p − q̂| dx")
        title = "; ".join(f"{name or 'measured'}: {r['verdict']}" for name, r in regimes.items())
        ax.set_title(f"{label}\n{title}", fontsize=8)
        ax.grid(alpha=0.3, which="both")
    axes[0][0].legend(fontsize=6)
    return save(fig, stem, "Exact ∫|p − q̂| of trained LS-GANs (mean, 95 % t-interval over seeds) vs the paper's "
                           "2/λ and the sharp 2/(1+λ); "
                           + ", ".join(verdicts) + ".")


def certificates_figure(data: dict, stem, caption: str | None = None) -> list[Path]:
    """Equilibrium certificates against training steps (THEORY.md §5, "What 'at the equilibrium' means"): one panel
    per target, the median over seeds of the critic gap S(L̂, q̂) − min S and of the generator gap against the LP
    critic, one colour per λ, with the gaps' resolution ε (median) dotted.  ``data`` maps a target label to a dict
    with ``steps`` (B,), ``lams`` (Λ,) and arrays (B, Λ) ``critic_gap``, ``gen_gap_lp``, ``eps`` (from
    :class:`lsgan_theory.studies.theorem1.CertifiedSweep`)."""
    import numpy as np

    n = len(data)
    fig, axes = _subplots(1, n, figsize=(3.6 * n, 3.6), squeeze=False)
    for ax, (label, d) in zip(axes[0], data.items()):
        steps = np.asarray(d["steps"], float)
        for i, lam in enumerate(d["lams"]):
            colour = f"C{i % 10}"
            ax.plot(steps, np.asarray(d["critic_gap"], float)[:, i], "o-", color=colour, ms=3,
                    label=f"λ = {lam:g}: critic gap")
            ax.plot(steps, np.asarray(d["gen_gap_lp"], float)[:, i], "s--", color=colour, ms=3,
                    label=f"λ = {lam:g}: generator gap (LP critic)")
            ax.plot(steps, np.asarray(d["eps"], float)[:, i], ":", color=colour, lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("training steps")
        ax.set_ylabel("gap (objective units)")
        ax.set_title(label, fontsize=8)
        ax.grid(alpha=0.3, which="both")
    axes[0][0].legend(fontsize=5)
    return save(fig, stem, caption or "Equilibrium certificates of trained LS-GANs against training steps (median "
                                      "over seeds; dotted: the certificates' resolution ε).")


# ------------------------------------------------------------------------------------------- sweeps
# Axis names of the columns a sweep stores: the same words and symbols as the report's own figures (issue 27: `plot`
# labelled axes with raw column names such as l1_exact and lam).  A column not listed keeps its name.
AXIS_LABELS = {
    "lam": "λ", "nu": "ν", "tau": "margin scale τ", "n_data": "data-set size n (0: fresh samples)",
    "steps": "training steps", "batch": "batch size", "lr_d": "critic learning rate", "lr_g": "generator learning rate",
    "gp_weight": "gradient-penalty weight", "clip": "weight clip", "family": "loss family", "width": "hidden width",
    "noise_dim": "noise dimension", "n_critic": "critic steps per generator step",
    "w1": "W1(p, q̂) (samples)", "ks": "KS distance (samples)", "l1": "∫|p − q̂| dx (histogram estimate)",
    "l1_noise_floor": "∫|p − p̂| dx (noise floor of the estimate)", "l1_noise_floor_std": "noise-floor s.d.",
    "l1_exact": "∫|p − q̂| dx", "l1_exact_abserr": "quadrature error of ∫|p − q̂|", "w1_exact": "W1(p, q̂)",
    "ratio_inf": "ess inf p/q̂ on q̂'s mass", "mass_outside": "q̂-mass outside supp p", "atom_mass": "q̂'s atom mass",
    "mmd2": "MMD²", "modes": "modes covered", "high_quality": "high-quality fraction",
    "reverse_kl": "reverse KL of the mode histogram", "final_loss_d": "final critic loss",
    "final_loss_g": "final generator loss",
}


def axis_label(column: str) -> str:
    """The axis name of a stored column (:data:`AXIS_LABELS`), or the column's own name."""
    return AXIS_LABELS.get(column, column)


def _reference_label(fig_spec: dict, x: str) -> str:
    """The reference curve's label: the spec's ``reference_label``, else its expression with the grid key written as
    its symbol (``2/lam`` → ``2/λ``) where the key has a one-letter symbol."""
    import re

    if fig_spec.get("reference_label"):
        return fig_spec["reference_label"]
    sym = AXIS_LABELS.get(x, x)
    expr = fig_spec["reference"]
    return re.sub(rf"\b{re.escape(x)}\b", sym, expr) if len(sym) == 1 else expr


def sweep_figure(fig_spec: dict, table, stem) -> list[Path]:
    """A figure declared by a sweep spec (``[[figure]]``): metric ``y`` (mean and 95 % t-interval over seeds) against
    the grid key ``x``, one line per value of ``hue``, one panel per value of ``facet``, optional log axes and a
    reference curve in x (e.g. 2/λ) evaluated from its expression (parsed without ``eval`` by
    :func:`lsgan_theory.sweeps.spec.reference_expression`).  ``table`` is :func:`lsgan_theory.sweeps.summarize`
    output grouped by x (and hue, facet)."""
    import numpy as np
    import sympy

    x, y, hue, facet = fig_spec["x"], fig_spec["y"], fig_spec.get("hue"), fig_spec.get("facet")
    panels = [(None, table)] if not facet else list(table.groupby(facet, sort=False, dropna=False))
    fig, axes = _subplots(1, len(panels), figsize=(6 if len(panels) == 1 else 4.2 * len(panels), 4), squeeze=False,
                          sharey=True)
    for ax, (pkey, ptable) in zip(axes[0], panels):
        groups = [(None, ptable)] if not hue else list(ptable.groupby(hue, sort=False, dropna=False))
        for key, g in groups:
            g = g.sort_values(x)
            xs = g[x].to_numpy(dtype=float)
            m, ci = g[f"{y}_mean"].to_numpy(dtype=float), g[f"{y}_ci"].to_numpy(dtype=float)
            ax.errorbar(xs, m, yerr=np.where(np.isfinite(ci), ci, 0.0), marker="o", ms=4, capsize=3,
                        label=f"{axis_label(hue)} = {key}" if hue else f"{axis_label(y)} (mean ± 95 % CI over seeds)")
        if fig_spec.get("reference"):
            from .sweeps.spec import reference_expression

            sym, expr = reference_expression(fig_spec["reference"], x)
            xs_all = table[x].to_numpy(dtype=float)
            grid = (np.geomspace if fig_spec.get("logx") else np.linspace)(xs_all.min(), xs_all.max(), 200)
            vals = np.broadcast_to(sympy.lambdify(sym, expr, "numpy")(grid), grid.shape)
            ax.plot(grid, vals, "k--", label=_reference_label(fig_spec, x))
        if fig_spec.get("logx"):
            ax.set_xscale("log")
        if fig_spec.get("logy"):
            ax.set_yscale("log")
        ax.set_xlabel(axis_label(x))
        ax.grid(alpha=0.3, which="both")
        if facet:
            ax.set_title(f"{axis_label(facet)} = {pkey}", fontsize=9)
    axes[0][0].set_ylabel(axis_label(y))
    axes[0][0].legend(fontsize=7 if facet else 8)
    title = fig_spec.get("title", f"{axis_label(y)} vs {axis_label(x)}")
    if facet:
        fig.suptitle(title, fontsize=10)
    else:
        axes[0][0].set_title(title, fontsize=10)
    n = int(table["n"].sum())
    by = "".join(f" by {k}" for k in (hue, facet) if k)
    return save(fig, stem, f"{axis_label(y)} against {axis_label(x)}{by}: mean and 95 % Student-t interval over "
                           f"seeds ({n} finished runs){'; dashed: ' + _reference_label(fig_spec, x) if fig_spec.get('reference') else ''}.")


# ------------------------------------------------------------------------------------------- CLS-GAN
def clsgan_samples_figure(samples, stem, caption: str) -> list[Path]:
    """Generated 8×8 digits of one CLS-GAN model as a grid: one row per class y, one column per sample G(z, y).

    ``samples``: (n_classes, n, 8, 8) in [0, 1] (:attr:`lsgan_theory.studies.clsgan.SemiSupervisedResult.samples`
    of one model); ``caption`` is written by the caller from measured values.
    """
    import numpy as np

    s = np.asarray(samples, dtype=float)
    if s.ndim != 4 or s.shape[2:] != (8, 8):
        raise ValueError(f"samples: expected shape (n_classes, n, 8, 8), got {s.shape}")
    k, n = s.shape[:2]
    pad = np.ones((k, n, 10, 10))  # one white pixel of border around each digit
    pad[:, :, 1:9, 1:9] = 1.0 - s  # dark ink on white, like the scikit-learn gallery
    grid = pad.transpose(0, 2, 1, 3).reshape(k * 10, n * 10)
    fig, ax = _subplots(figsize=(0.45 * n + 0.8, 0.45 * k + 0.6))
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_yticks(np.arange(k) * 10 + 5)
    ax.set_yticklabels([str(i) for i in range(k)])
    ax.set_xticks([])
    ax.set_ylabel("class y")
    ax.set_title("CLS-GAN samples G(z, y), one row per class", fontsize=9)
    return save(fig, stem, caption)


def clsgan_accuracy_figure(summary, stem, caption: str) -> list[Path]:
    """Test accuracy against labels per class, one line per method, with 95 % t-intervals over seeds.

    ``summary``: :attr:`lsgan_theory.studies.clsgan.SemiSupervisedResult.summary` rows (``method``,
    ``labels_per_class`` with 0 = all labels, ``mean``, ``ci``); "all" is drawn at the right end of the axis.
    """
    import numpy as np

    names = {"clsgan": "CLS-GAN", "supervised": "same loss network, labels only", "logreg": "logistic regression"}
    lpcs = sorted({int(d["labels_per_class"]) for d in summary}, key=lambda v: (v == 0, v))
    pos = {v: i for i, v in enumerate(lpcs)}
    fig, ax = _subplots(figsize=(5.5, 3.8))
    methods = list(dict.fromkeys(d["method"] for d in summary))
    for j, m in enumerate(methods):
        rows = sorted((d for d in summary if d["method"] == m), key=lambda d: pos[int(d["labels_per_class"])])
        xs = np.array([pos[int(d["labels_per_class"])] for d in rows], float) + 0.06 * (j - (len(methods) - 1) / 2)
        mean = np.array([d["mean"] for d in rows], float)
        lo = np.array([d["ci"][0] for d in rows], float)
        hi = np.array([d["ci"][1] for d in rows], float)
        lo, hi = np.where(np.isfinite(lo), lo, mean), np.where(np.isfinite(hi), hi, mean)
        ax.errorbar(xs, mean, yerr=[np.clip(mean - lo, 0, None), np.clip(hi - mean, 0, None)], fmt="o-", ms=4,
                    capsize=3, label=names.get(m, m))
    ax.set_xticks(range(len(lpcs)))
    ax.set_xticklabels([str(v) if v else "all" for v in lpcs])
    ax.set_xlim(-0.5, len(lpcs) - 0.5)
    ax.set_xlabel("labels per class")
    ax.set_ylabel("test accuracy (599 images)")
    ax.axhline(0.1, color="0.6", ls=":", lw=1, label="chance (0.1)")
    ax.set_title("Semi-supervised 8×8 digits", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    return save(fig, stem, caption)


# ------------------------------------------------------------------------------------------- mode collapse
def mode_snapshots_figure(snapshots: dict, centres, std: float, stem, caption: str, title: str = "") -> list[Path]:
    """Generated samples per loss (rows) at each evaluation step (columns), the K mode centres and their 3σ circles.

    ``snapshots``: ``{(loss, step): (n, 2) array}`` (one run per loss, e.g. replica 0);
    ``caption`` is written by the caller from measured values.
    """
    import numpy as np

    losses = list(dict.fromkeys(k[0] for k in snapshots))
    steps = sorted({int(k[1]) for k in snapshots})
    c = np.asarray(centres, dtype=float)
    span = np.abs(c).max() + max(8 * std, 0.25 * (np.abs(c).max() or 1.0))
    fig, axes = _subplots(len(losses), len(steps), figsize=(1.55 * len(steps) + 0.9, 1.55 * len(losses) + 0.9),
                          squeeze=False)
    for i, loss in enumerate(losses):
        for j, step in enumerate(steps):
            ax = axes[i][j]
            x = np.asarray(snapshots.get((loss, step), np.zeros((0, 2))), dtype=float)
            x = x[np.isfinite(x).all(1)] if x.size else x
            ax.scatter(c[:, 0], c[:, 1], s=14, marker="+", color="tab:red", lw=0.8, zorder=3)
            for cx, cy in c:
                ax.add_patch(_circle((cx, cy), 3 * std))
            if len(x):
                ax.scatter(x[:, 0], x[:, 1], s=0.6, color="k", alpha=0.35, lw=0, rasterized=True)
            ax.set_xlim(-span, span)
            ax.set_ylim(-span, span)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"step {step}", fontsize=8)
            if j == 0:
                ax.set_ylabel(loss, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    return save(fig, stem, caption)


def _circle(xy, r):
    from matplotlib.patches import Circle

    return Circle(xy, r, fill=False, color="tab:red", lw=0.5, alpha=0.7)


def mode_trajectories_figure(summary, K: int, stem, caption: str, title: str = "", hue: str = "loss") -> list[Path]:
    """Modes covered, high-quality fraction and reverse KL against training step: mean over seeds with the 95 %
    t-interval (clipped to [0, K], [0, 1], [0, log K]) as error bars, one line per value of ``hue`` (rows of :func:`lsgan_theory.studies.modes.
    summarize_modes`)."""
    import numpy as np

    fig, axes = _subplots(1, 3, figsize=(12, 3.9))
    keys = list(dict.fromkeys(str(r[hue]) for r in summary))
    for j, key in enumerate(keys):
        rows = sorted((r for r in summary if str(r[hue]) == key), key=lambda r: r["step"])
        steps = np.array([r["step"] for r in rows], float)
        for ax, m, top in zip(axes, ("modes", "high_quality", "reverse_kl"), (K, 1.0, np.log(K))):
            mean = np.array([r[m] for r in rows], float)
            lo = np.array([r[f"{m}_lo"] for r in rows], float)
            hi = np.array([r[f"{m}_hi"] for r in rows], float)
            lo, hi = np.where(np.isfinite(lo), lo, mean), np.where(np.isfinite(hi), hi, mean)
            lo, hi = np.clip(lo, 0, top), np.clip(hi, 0, top)  # the possible range of each quantity
            off = (j - (len(keys) - 1) / 2) * 0.004 * (steps.max() or 1)
            ax.errorbar(steps + off, mean, yerr=[np.clip(mean - lo, 0, None), np.clip(hi - mean, 0, None)],
                        fmt="o-", ms=3, capsize=2, lw=1, label=key)
    axes[0].axhline(K, color="0.6", ls=":", lw=1)
    axes[0].set_ylabel(f"modes covered (of {K})")
    axes[1].set_ylabel("high-quality fraction (within 3σ)")
    axes[2].set_ylabel("reverse KL of the mode histogram")
    for ax in axes:
        ax.set_xlabel("training step")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="best")
    if title:
        fig.suptitle(title, fontsize=9)
    return save(fig, stem, caption)
