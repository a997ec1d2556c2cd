"""The exact density of a 1-D piecewise-linear generator: no histogram, no sample noise.

A generator G: R → R with 1-D noise z ~ N(0, 1) and piecewise-linear hidden activations (ReLU, leaky ReLU) is a
continuous piecewise-linear map: on each piece [z_k, z_{k+1}] it is G(z) = α_k z + β_k.  Its pushforward density is

    q̂(x) = Σ_k φ(z_k(x)) / |α_k| · 1[x ∈ G([z_k, z_{k+1}])],   z_k(x) = (x − β_k) / α_k,

plus an atom of mass Φ(z_{k+1}) − Φ(z_k) at β_k for every flat piece (α_k = 0), and its CDF is a sum of normal-CDF
differences.  :func:`exact_density` finds the pieces exactly by propagating affine functions of z through the layers
and splitting a piece wherever a hidden unit's pre-activation changes sign (float64).  The result is a
:class:`~lsgan_theory.densities.Density`, so the quadrature of :mod:`lsgan_theory.divergences` (KL, TV, W1, … with an
``abserr``) applies to it directly, with the images of the pieces' ends as breakpoints (q̂ jumps there).

Reference: the piece-counting construction of linear regions of ReLU networks (Montúfar et al., "On the number of
linear regions of deep neural networks", NeurIPS 2014), specialised to a scalar input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import ndtr

from .. import densities as _densities

__all__ = ["PushforwardDensity", "exact_density", "piecewise_linear_map", "PIECEWISE_LINEAR"]

PIECEWISE_LINEAR = {"relu": 0.0, "leaky_relu": 0.2}  # activation -> slope on the negative side
_Z_TAIL = 40.0  # |z| beyond which N(0, 1) carries < 1e-300 of mass: the outer pieces are cut there for the domain


def _as_numpy_params(params, model: int) -> list[np.ndarray]:
    out = []
    for t in params:
        a = t.detach().cpu().double().numpy() if isinstance(t, torch.Tensor) else np.asarray(t, dtype=np.float64)
        if a.ndim == 3:
            a = a[model]
        out.append(a)
    return out


def piecewise_linear_map(params, activation: str = "relu", model: int = 0) -> tuple[np.ndarray, np.ndarray,
                                                                                      np.ndarray]:
    """The pieces of a 1 → … → 1 MLP z ↦ G(z) with a piecewise-linear activation.

    Parameters
    ----------
    params : tuple ``(W_0, b_0, W_1, b_1, …)``
        Stacked ensemble parameters (``W_l`` of shape (E, d_l, d_{l+1}), ``b_l`` (E, 1, d_{l+1})) as in
        :mod:`lsgan_theory.ensemble.mlp`, or a single model's (d_l, d_{l+1}) / (1, d_{l+1}) arrays.
    activation : {"relu", "leaky_relu"}
    model : int
        Which model of the ensemble.

    Returns
    -------
    knots : array (K + 1,)
        z_0 = −∞ < z_1 < … < z_K = +∞, the ends of the K linear pieces.
    alpha, beta : arrays (K,)
        G(z) = alpha[k] z + beta[k] on piece k.
    """
    if activation not in PIECEWISE_LINEAR:
        raise ValueError(f"activation: the exact density needs a piecewise-linear activation "
                         f"{sorted(PIECEWISE_LINEAR)}, got {activation!r}")
    neg = PIECEWISE_LINEAR[activation]
    ps = _as_numpy_params(params, model)
    if len(ps) < 2 or len(ps) % 2:
        raise ValueError(f"params: expected (W_0, b_0, W_1, b_1, ...), got {len(ps)} arrays")
    if ps[0].shape[0] != 1 or ps[-2].shape[-1] != 1:
        raise ValueError(f"params: the exact density needs a 1-D noise input and a 1-D output, got input width "
                         f"{ps[0].shape[0]} and output width {ps[-2].shape[-1]}")
    # one piece, h(z) = a z + b with a, b of shape (K, width)
    knots = np.array([-np.inf, np.inf])
    a = np.ones((1, 1))
    b = np.zeros((1, 1))
    n_layers = len(ps) // 2
    for l in range(n_layers):
        W, bias = ps[2 * l], ps[2 * l + 1].reshape(-1)
        a, b = a @ W, b @ W + bias
        if l == n_layers - 1:
            break
        # zero crossings of every unit inside every piece: z* = −b/a strictly between the piece's ends
        with np.errstate(divide="ignore", invalid="ignore"):
            zc = -b / a
        lo, hi = knots[:-1, None], knots[1:, None]
        inside = (a != 0) & (zc > lo) & (zc < hi)
        new = np.unique(zc[inside])
        if new.size:
            knots = np.union1d(knots, new)
            # each new piece inherits the affine map of the old piece that contains it
            mid = _midpoints(knots)
            owner = np.searchsorted(lo[:, 0], mid, side="right") - 1
            a, b = a[owner], b[owner]
        mid = _midpoints(knots)
        pre = a * mid[:, None] + b
        slope = np.where(pre > 0, 1.0, neg)
        a, b = a * slope, b * slope
    alpha, beta = a[:, 0], b[:, 0]
    return knots, alpha, beta


def _midpoints(knots: np.ndarray) -> np.ndarray:
    """A point inside each piece (the outer pieces are unbounded)."""
    lo, hi = knots[:-1], knots[1:]
    mid = 0.5 * (lo + hi)
    mid = np.where(np.isneginf(lo), hi - 1.0, mid)
    mid = np.where(np.isposinf(hi), lo + 1.0, mid)
    return np.where(np.isneginf(lo) & np.isposinf(hi), 0.0, mid)


@dataclass(frozen=True, eq=False)
class PushforwardDensity(_densities.Density):
    """The absolutely continuous part of G#N(0, 1) for a piecewise-linear G, and its atoms.

    ``knots`` (K + 1,), ``alpha``, ``beta`` (K,): the pieces of G (see :func:`piecewise_linear_map`).
    ``atoms``: ((location, mass), …) of the flat pieces; ``atom_mass`` their total.  ``pdf``/``logpdf``/``cdf`` are
    those of the continuous part (``cdf`` includes the atoms at or left of x, so it is the CDF of G(z) itself);
    ``pdf`` integrates to 1 − ``atom_mass``.  ``sample`` draws G(z) exactly.
    """

    knots: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    label: str = "pushforward"
    dim = 1
    lipschitz_exact = False
    is_lipschitz = False  # q̂ jumps at the images of the pieces' ends

    def __post_init__(self):
        flat = self.alpha == 0
        lo, hi = ndtr(self.knots[:-1]), ndtr(self.knots[1:])
        object.__setattr__(self, "_flat", flat)
        object.__setattr__(self, "_mass", hi - lo)

    # -- evaluation -------------------------------------------------------------------------------------------
    @property
    def atoms(self) -> tuple[tuple[float, float], ...]:
        return tuple((float(b), float(m)) for b, m in zip(self.beta[self._flat], self._mass[self._flat]) if m > 0)

    @property
    def atom_mass(self) -> float:
        return float(self._mass[self._flat].sum())

    def _piece_z(self, x):
        """z_k(x) for every non-flat piece k and whether it lies inside piece k: arrays (..., K')."""
        x = np.asarray(x, dtype=np.float64)[..., None]
        al, be = self.alpha[~self._flat], self.beta[~self._flat]
        z = (x - be) / al
        lo, hi = self.knots[:-1][~self._flat], self.knots[1:][~self._flat]
        return z, (z >= lo) & (z < hi), al

    def pdf(self, x) -> np.ndarray:
        x = self._x(x)
        z, inside, al = self._piece_z(x)
        phi = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        return np.sum(np.where(inside, phi / np.abs(al), 0.0), axis=-1)

    def logpdf(self, x) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.pdf(x))

    def cdf(self, x) -> np.ndarray:
        """P(G(z) ≤ x), atoms included."""
        x = np.asarray(self._x(x), dtype=np.float64)[..., None]
        lo, hi = self.knots[:-1], self.knots[1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            zx = (x - self.beta) / self.alpha
        up = self.alpha > 0
        # increasing piece: z in [lo, min(hi, zx)]; decreasing: z in [max(lo, zx), hi]; flat: all of it if beta <= x
        inc = np.clip(ndtr(np.minimum(hi, zx)) - ndtr(lo), 0.0, None)
        dec = np.clip(ndtr(hi) - ndtr(np.maximum(lo, zx)), 0.0, None)
        flat = np.where(self.beta <= x, self._mass, 0.0)
        part = np.where(self._flat, flat, np.where(up, inc, dec))
        return np.clip(part.sum(-1), 0.0, 1.0)

    def sample(self, n: int, rng=None) -> np.ndarray:
        n = int(n)
        z = _densities.as_rng(rng).standard_normal(n)
        k = np.clip(np.searchsorted(self.knots, z, side="right") - 1, 0, self.alpha.size - 1)
        return self.alpha[k] * z + self.beta[k]

    # -- geometry ---------------------------------------------------------------------------------------------
    def lipschitz_constant(self) -> float:
        return math.inf

    def breakpoints(self) -> tuple[tuple[float, ...], ...]:
        """Images of the finite knots (q̂ may jump there), within the domain."""
        z = self.knots[1:-1]  # G is continuous: the image of a knot is the same from both of its pieces
        k = np.arange(1, self.alpha.size)
        pts = self.alpha[k] * z + self.beta[k]
        (lo, hi), = self.domain()
        pts = np.unique(pts[(pts > lo) & (pts < hi)])
        return (tuple(float(v) for v in pts),)

    def domain(self) -> tuple[tuple[float, float], ...]:
        """The image of z ∈ [−40, 40] (outside it N(0, 1) has < 1e-300 of its mass)."""
        z = np.clip(self.knots, -_Z_TAIL, _Z_TAIL)
        ends = np.concatenate([self.alpha * z[:-1] + self.beta, self.alpha * z[1:] + self.beta])
        lo, hi = float(ends.min()), float(ends.max())
        if hi <= lo:
            hi = lo + 1e-12
        return ((lo, hi),)

    @property
    def spec(self) -> str:
        return f"{self.label}({self.alpha.size} pieces)"


def exact_density(params, activation: str = "relu", model: int = 0, label: str = "pushforward") -> PushforwardDensity:
    """The exact density of model ``model``'s generator: q̂ = G#N(0, 1) for a 1-D piecewise-linear MLP.

    ``params`` as in :func:`piecewise_linear_map` (e.g. ``TrainResult.g_params``); the noise must be N(0, 1) in one
    dimension (``TrainConfig.noise_dim = 1``).  Flat pieces become atoms (``.atoms``), which a density cannot hold:
    :func:`l1_distance` adds their mass.
    """
    knots, alpha, beta = piecewise_linear_map(params, activation, model)
    return PushforwardDensity(knots, alpha, beta, label)


def l1_distance(p: _densities.Density, qhat: PushforwardDensity, **tolerances):
    """∫|p − q̂| for a continuous density p and an exact pushforward q̂, atoms included (each adds its mass).

    Returns ``(value, abserr)`` from :func:`lsgan_theory.divergences.tv` on the continuous part (2·TV of the
    sub-probability q̂_ac: ∫|p − q̂_ac| = 2 TV computed on the same integrand) plus the atom mass.
    """
    from .. import divergences

    est = divergences.integrate_pointwise(lambda a, b: np.abs(a - b), p, qhat, **tolerances)
    return float(est.value + qhat.atom_mass), float(est.abserr)


__all__ += ["l1_distance"]
