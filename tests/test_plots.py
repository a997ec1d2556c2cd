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
