"""Data behind the two figures of the symbolic area (plotted by :mod:`lsgan_theory.plots`; no matplotlib here).

* :func:`vanishing_gradient_data` — JSD, Δ_LC, TV and W1 between N(0, σ²) and N(μ, σ²) by quadrature
  (``lsgan_theory.divergences``) as μ grows (THEORY.md §1).
* :func:`generator_loss_data` — the generator's loss on a fake sample and its derivative, as functions of the
  discriminator's raw output x (logit; D = σ(x) for the sigmoid losses), derived with sympy and lambdified:
  minimax log(1 − σ(x)), non-saturating −log σ(x), least squares ½(x − c)².
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import validate
from ..resources import check_memory

__all__ = ["vanishing_gradient_data", "generator_loss_data", "GENERATOR_LOSSES"]

_x = sp.Symbol("x", real=True)
_sig = 1 / (1 + sp.exp(-_x))
GENERATOR_LOSSES = {
    "minimax (sigmoid CE): log(1 − σ(x))": sp.log(1 - _sig),
    "non-saturating: −log σ(x)": -sp.log(_sig),
    "least squares: ½(x − 1)² (c = 1)": (_x - 1) ** 2 / 2,
}


def vanishing_gradient_data(shifts=None, sigma: float = 0.05) -> dict:
    """Divergences between N(0, σ²) and N(μ, σ²) for each μ in ``shifts`` (default 0..1.5, 31 points).

    Returns ``{"shifts": (K,), "values": {name: (K,)}, "abserr": {name: (K,)}, "ceilings": {name: float}}``.
    """
    from .. import densities, divergences

    sigma = validate.positive("sigma", sigma)
    shifts = np.linspace(0.0, 1.5, 31) if shifts is None else np.asarray(shifts, dtype=float)
    if shifts.ndim != 1 or not np.all(np.isfinite(shifts)) or shifts.size > 10_000:
        raise ValueError(f"shifts: expected a 1-D array of at most 10000 finite numbers, got shape {shifts.shape}")
    fns = {"JSD": divergences.js, "Δ_LC": divergences.triangular, "TV": divergences.tv, "W1": divergences.w1}
    vals = {k: [] for k in fns}
    errs = {k: [] for k in fns}
    P = densities.Normal(0.0, sigma)
    for mu in shifts:
        Q = densities.Normal(float(mu), sigma)
        for k, fn in fns.items():
            e = fn(P, Q)
            vals[k].append(e.value)
            errs[k].append(e.abserr)
    return {"shifts": shifts, "values": {k: np.array(v) for k, v in vals.items()},
            "abserr": {k: np.array(v) for k, v in errs.items()},
            "ceilings": {"JSD": float(np.log(2)), "Δ_LC": 2.0, "TV": 1.0}}


def generator_loss_data(x=None) -> tuple[np.ndarray, dict]:
    """``(x, {name: (loss(x), dloss/dx(x))})`` with the derivative taken symbolically (sympy ``diff``)."""
    x = np.linspace(-8, 8, 401) if x is None else np.asarray(x, dtype=float)
    if not np.all(np.isfinite(x)):
        raise ValueError("x: contains NaN or inf")
    check_memory(8.0 * x.size * 4 * len(GENERATOR_LOSSES), f"loss curves at {x.size} points", "x")
    out = {}
    for name, e in GENERATOR_LOSSES.items():
        f = sp.lambdify(_x, e, "numpy")
        g = sp.lambdify(_x, sp.simplify(sp.diff(e, _x)), "numpy")
        with np.errstate(over="ignore", divide="ignore"):
            out[name] = (np.asarray(f(x), dtype=float) * np.ones_like(x),
                         np.asarray(g(x), dtype=float) * np.ones_like(x))
    return x, out
