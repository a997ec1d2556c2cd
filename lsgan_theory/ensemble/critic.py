"""The optimal-critic check: train discriminators against a *fixed* generator and compare with the closed-form D*.

With the generator density q held fixed and data density p, the pointwise minimisers of the discriminator
objectives are (THEORY.md §1–§3):

* classic GAN (``gan``, D = sigmoid of the network output):  D*(x) = p / (p + q);
* least squares (``least_squares``, labels a fake, b real):  D*(x) = (b p + a q) / (p + q);
* hinge (``hinge``):                                          D*(x) = sign(p − q)  (any value in [−1, 1] where p = q).

:func:`optimal_critic` trains E independent discriminators (own seeds, own data set of size m from p, fresh draws
from q each step by inverse CDF) and compares their mean D̄ with D* on a grid, in the (p+q)/2-weighted RMS norm.

Tolerance (derived from the sampling noise, not tuned): each model is an estimator built from finite samples; its
seed-to-seed spread s(x) (standard deviation over the E models) measures that noise.  The check passes when the
ensemble mean is within that spread of D*:  ‖D̄ − D*‖ ≤ 2 ‖s‖  (weighted RMS over the grid).  A negative control
evaluates the same criterion against the D* of the *other* families / of a wrong density, which must fail.
For the hinge, the comparison excludes the transition zone |p − q| < 0.3 (p + q), where D* is not unique and a
continuous network must interpolate between −1 and +1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .. import densities as _densities
from .trainer import TrainConfig, TrainResult, train

__all__ = ["CriticCheck", "closed_form_critic", "optimal_critic"]


def closed_form_critic(family: str, p: np.ndarray, q: np.ndarray, a: float = -1.0, b: float = 1.0) -> np.ndarray:
    """D*(x) from density values p(x), q(x) (arrays of equal shape) for ``gan``, ``least_squares``, ``hinge``."""
    if family in ("gan", "gan_ns"):
        return p / (p + q)
    if family == "least_squares":
        return (b * p + a * q) / (p + q)
    if family == "hinge":
        return np.sign(p - q)
    raise ValueError(f"family: the closed-form critic is known for 'gan', 'least_squares', 'hinge', got {family!r}")


@dataclass
class CriticCheck:
    """Result of :func:`optimal_critic`; arrays are on the evaluation grid ``x`` (G,)."""

    family: str
    p: str
    q: str
    x: np.ndarray = field(repr=False)
    d_star: np.ndarray = field(repr=False)
    d_models: np.ndarray = field(repr=False)  # (E, G)
    weight: np.ndarray = field(repr=False)
    error: float = 0.0  # ‖D̄ − D*‖ (weighted RMS)
    noise: float = 0.0  # ‖s‖, the seed-to-seed spread
    controls: dict = field(default_factory=dict)  # name -> ‖D̄ − D_wrong‖
    result: TrainResult | None = field(default=None, repr=False)

    @property
    def tolerance(self) -> float:
        return 2.0 * self.noise

    @property
    def passed(self) -> bool:
        return self.error <= self.tolerance and all(v > self.tolerance for v in self.controls.values())

    @property
    def d_mean(self) -> np.ndarray:
        return self.d_models.mean(0)


def _wrms(v: np.ndarray, w: np.ndarray) -> float:
    return float(np.sqrt(np.sum(w * v * v) / np.sum(w)))


def optimal_critic(family: str, p: str = "normal(0,1)", q: str = "normal(1.5,1)", *, n_models: int = 16,
                   steps: int = 600, batch: int = 128, n_data: int = 8192, width: int = 32, lr: float = 2e-3,
                   seed: int = 0, device: str = "auto", grid: int = 201) -> CriticCheck:
    """Train ``n_models`` discriminators of ``family`` against the fixed generator density ``q`` (data ``p``).

    Parameters
    ----------
    family : {"gan", "least_squares", "hinge"}
    p, q : density specs (1-D)
    n_models, steps, batch, n_data, width, lr, seed, device
        Ensemble size, D updates, batch size, data-set size per model, hidden width (two hidden layers, ReLU),
        Adam learning rate (β = (0.5, 0.999)), seed, device.

    Returns
    -------
    CriticCheck
        ``passed`` is the verdict; ``error``, ``tolerance`` and ``controls`` the evidence.
    """
    closed_form_critic(family, np.ones(1), np.ones(1))
    P, Q = _densities.parse(p), _densities.parse(q)
    cfg = TrainConfig(target=P.spec, fixed_generator=Q.spec, family=family, n_models=n_models, seed=seed, steps=steps,
                      batch=batch, n_data=n_data, d_hidden=(width, width), g_hidden=(1,), lr_d=lr,
                      train_generator=False, record_every=max(1, steps // 20), device=device)
    res = train(cfg)
    # grid over the central region where (p+q)/2 carries 99.9 % of the mass (quantiles of both densities)
    lo = min(float(np.min(_qtile(P, 5e-4))), float(np.min(_qtile(Q, 5e-4))))
    hi = max(float(np.max(_qtile(P, 1 - 5e-4))), float(np.max(_qtile(Q, 1 - 5e-4))))
    x = np.linspace(lo, hi, grid)
    px, qx = P.pdf(x), Q.pdf(x)
    w = 0.5 * (px + qx)
    xt = torch.tensor(np.broadcast_to(x[None, :, None], (n_models, grid, 1)).copy())
    with torch.no_grad():
        out = res.discriminator()(xt).double().numpy()
    d = 1.0 / (1.0 + np.exp(-out)) if family in ("gan", "gan_ns") else out
    d_star = closed_form_critic(family, px, qx, cfg.ls_a, cfg.ls_b)
    if family == "hinge":
        w = np.where(np.abs(px - qx) >= 0.3 * (px + qx), w, 0.0)
    d_mean = d.mean(0)
    error = _wrms(d_mean - d_star, w)
    noise = _wrms(d.std(0, ddof=1), w)
    controls = {}
    for other in ("gan", "least_squares", "hinge"):
        if other != family and not (family == "gan_ns" and other == "gan"):
            controls[f"D* of {other}"] = _wrms(d_mean - closed_form_critic(other, px, qx), w)
    # a wrong generator density: q shifted by 1 (one standard deviation of the default densities)
    q_wrong = Q.pdf(x - 1.0)
    controls["D* with q shifted by 1"] = _wrms(d_mean - closed_form_critic(family, px, q_wrong), w)
    return CriticCheck(family, P.spec, Q.spec, x, d_star, d, w, error, noise, controls, res)


def _qtile(P, u: float) -> np.ndarray:
    from .trainer import _inverse_cdf

    return _inverse_cdf(P, np.array([u]))
