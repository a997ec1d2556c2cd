"""Figures are drawn from measured values and leave matplotlib's global state alone (issue 12)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np


def test_importing_and_using_plots_does_not_switch_the_matplotlib_backend(tmp_path):
    # Mutation: restoring `matplotlib.use("Agg")` at import in plots.py makes the backend "agg" here and fails.
    code = ("import matplotlib; matplotlib.use('svg'); import numpy as np; from lsgan_theory import plots; "
            f"plots.np_allocation_figure(np.arange(8.), np.arange(8.), 0.5, (0.1, 0.9), r'{tmp_path}/f'); "
            "print(matplotlib.get_backend())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "svg"
    assert (tmp_path / "f.png").exists()


def test_allocation_caption_follows_the_measured_sign(tmp_path, monkeypatch):
    # The old caption asserted "far points keep more active pairs" whatever was measured.
    from lsgan_theory import plots

    captions = []
    monkeypatch.setattr(plots, "save", lambda fig, stem, caption: captions.append(caption) or [])
    d = np.linspace(0, 3, 40)
    plots.np_allocation_figure(d, 1 - d / 3, -0.8, (-0.9, -0.7), tmp_path / "a")
    plots.np_allocation_figure(d, d / 3, 0.8, (0.7, 0.9), tmp_path / "b")
    assert "falls" in captions[0] and "rises" in captions[1]


# ---------------------------------------------------------------------------------------------------- issue 21
def _capture(monkeypatch):
    """Run the real ``save`` but keep each figure it saved (to measure after the files are written)."""
    from lsgan_theory import plots

    figs, real_save = [], plots.save

    def keep(fig, stem, caption, **kw):
        figs.append((fig, caption))
        return real_save(fig, stem, caption, **kw)

    monkeypatch.setattr(plots, "save", keep)
    return figs


def _title_texts(fig):
    # private: matplotlib has no public accessor of the left/right title and suptitle artists (their extents are read)
    out = [t for ax in fig.axes for t in (ax.title, ax._left_title, ax._right_title) if t.get_text()]
    # private: as above, the suptitle's artist
    return out + ([fig._suptitle] if getattr(fig, "_suptitle", None) is not None else [])


def _overflow_px(fig) -> float:
    """How far (pixels) the widest title line reaches beyond the figure's left or right edge (<= 0: it fits)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    r = fig.canvas.get_renderer()
    W = fig.bbox.width
    return max(max(-t.get_window_extent(r).x0, t.get_window_extent(r).x1 - W) for t in _title_texts(fig))


OLD_LS_TITLE = ("LS-GAN: trained L_θ vs LP bounds (n = 64 from normal(0,1), m = 64 from normal(1.5,1), λ = 1, "
                "κ = 2)")  # the title cut at "κ =" in the quick report


def _ls_figure(plots, stem, title):
    x = np.linspace(-3, 4, 50)
    return plots.loss_sensitive_critic_figure(x, 0 * x, x.clip(0), np.stack([x.clip(0)] * 3), np.zeros(5),
                                              np.ones(5), stem, title)


def test_fit_titles_wraps_the_old_loss_sensitive_title_within_the_figure(tmp_path, monkeypatch):
    from lsgan_theory import plots

    figs = _capture(monkeypatch)
    with monkeypatch.context() as m:  # negative control: the same figure without wrapping is cut at the right
        m.setattr(plots, "fit_titles", lambda fig: None)
        _ls_figure(plots, tmp_path / "old", OLD_LS_TITLE)
    _ls_figure(plots, tmp_path / "new", OLD_LS_TITLE)
    (old, _), (new, _) = figs
    assert _overflow_px(old) > 0
    assert _overflow_px(new) <= 0
    title = new.axes[0].get_title()
    assert "\n" in title and title.split() == OLD_LS_TITLE.split()  # the same words, re-broken
    # Mutation: `_wrap_to_width` returning at once (no wrapping) leaves the overflow > 0 and fails here.


def test_every_title_of_the_loss_sensitive_and_training_figures_fits(tmp_path, monkeypatch):
    from lsgan_theory import plots

    figs = _capture(monkeypatch)
    _ls_figure(plots, tmp_path / "ls", OLD_LS_TITLE)
    steps, E = np.arange(10), 3
    plots.training_curves_figure(steps, np.ones((E, 10)), np.ones((E, 10)), ["a"] * E, tmp_path / "tc",
                                 "training curves of a grid with a long suptitle " * 4)
    for fig, _ in figs:
        assert _overflow_px(fig) <= 0, [t.get_text() for t in _title_texts(fig)]


def test_divergence_table_uses_a_log_axis_when_one_curve_dwarfs_the_rest(tmp_path, monkeypatch):
    from lsgan_theory import plots

    figs = _capture(monkeypatch)
    mu = np.linspace(0, 3, 13)
    plots.divergence_table_figure(mu, {"pearson_chi2": np.expm1(mu**2), "w1": mu}, tmp_path / "a", "t")
    plots.divergence_table_figure(mu, {"kl": mu**2 / 2, "w1": mu}, tmp_path / "b", "t")  # peaks 4.5 vs 3
    (fa, ca), (fb, cb) = figs
    assert fa.axes[0].get_yscale() == "log" and "Log y axis" in ca  # peaks 8102 / 3 > LOG_AXIS_RATIO
    assert fb.axes[0].get_yscale() == "linear" and "Log y axis" not in cb  # negative control
    # Mutation: `max(peaks) > LOG_AXIS_RATIO * min(peaks)` -> `False` fails the first; -> `True` the second.
    # the zero at μ = 0 is left out on the log axis (no line plunging to the bottom edge), kept on the linear one
    ya = fa.axes[0].lines[0].get_ydata()
    assert np.isnan(ya[0]) and np.all(ya[1:] > 0)
    assert fb.axes[0].lines[0].get_ydata()[0] == 0  # negative control
    # Mutation: plotting `ys` instead of `np.where(ys > 0, ys, nan)` fails the first assertion.


def test_training_curves_have_a_legend_for_few_and_for_many_models(tmp_path, monkeypatch):
    from lsgan_theory import plots

    figs = _capture(monkeypatch)
    steps = np.arange(20)
    few = ["lam=1", "lam=1", "lam=10"]
    plots.training_curves_figure(steps, np.random.rand(3, 20), np.random.rand(3, 20), few, tmp_path / "f", "t")
    many = [f"m{i}" for i in range(30)]
    plots.training_curves_figure(steps, np.random.rand(30, 20), np.random.rand(30, 20), many, tmp_path / "m", "t")
    labels = [[t.get_text() for t in fig.legends[0].get_texts()] for fig, _ in figs]
    assert labels[0] == ["lam=1 (×2)", "lam=10"]  # one entry per grid point, replicas counted
    assert labels[1] == ["one model (30)", "median over models"]  # before: no legend at all beyond 12 models


def test_captions_are_written_from_the_values_passed_in(tmp_path, monkeypatch):
    # before: fixed sentences asserting saturation / slope κ whatever the data said
    from lsgan_theory import plots

    figs = _capture(monkeypatch)
    x = np.linspace(-1, 1, 201)
    plots.np_bounds_1d_figure(x, 0 * x, 2 * np.abs(x), [0.0], [0.5], 2.0, tmp_path / "k")  # |dL⁺/dx| = κ = 2
    plots.np_bounds_1d_figure(x, 0 * x, 0 * x, [0.0], [0.5], 2.0, tmp_path / "f")  # flat L⁺: slope 0
    mu = np.linspace(0, 1, 11)
    plots.vanishing_gradient_figure(mu, {"TV": mu / 2}, {"TV": 1.0}, tmp_path / "v")  # far from its ceiling
    caps = [c for _, c in figs]
    assert "on 100 % of the points" in caps[0] and "on 0 % of the points" in caps[1], caps[:2]
    assert "TV within 7.5e-01 of its ceiling 1" in caps[2]  # max |μ/2 − 1| over μ ∈ [0.5, 1], caps[2]
