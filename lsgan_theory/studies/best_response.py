"""Reaching the LS-GAN equilibrium: the exact non-parametric critic alternated with generator steps (issue 29).

Gradient-trained LS-GANs end far from the Nash equilibrium Theorem 1 speaks about (THEORY.md §5, "Measured degenerate
regime": the trained loss is flatter than the margin, the critic gap stays large).  This module replaces the trained
critic by the game's *exact* best response and keeps only the generator parametric:

1. q̂ = G#N(0, 1) is the exact density of a 1-D ReLU generator (:func:`lsgan_theory.ensemble.pushforward.exact_density`);
2. the critic is the minimiser of S(·, q̂) over the κ-Lipschitz losses L ≥ 0 (Theorem 2's LP,
   :func:`lsgan_theory.nonparametric.solve`) on one grid of ``cells`` equal cells over the union of p's and q̂'s central
   ranges, with p's and q̂'s exact cell masses as weights -- the discretised *population* game, the grid game of
   :mod:`lsgan_theory.equilibrium` (no sample noise in the critic);
3. the generator takes ``gen_steps`` Adam steps on T = E_z L(G(z)) (fresh noise every step), L extended from the cell
   values l* by ``critic``: ``"upper"`` L⁺(x) = min_k (l*_k + κτ|x − x_k|), ``"lower"`` L⁻(x) = max_k (l*_k − κτ|x −
   x_k|)_+, ``"mid"`` their average (Theorem 2's cone bounds and their midpoint) or ``"linear"`` the linear interpolant
   of l* between cells, continued by L⁺ outside them.  All four equal l* at the cells and are κ-Lipschitz, so each is
   a best response of the grid game; they differ between cells (L⁺ has a saw-tooth of height κτh/2 on cells of width
   h even where l* = 0, L⁻ is flat there, the interpolant has no saw-tooth);
4. repeat for ``rounds`` rounds.

Every ``record_every`` rounds (and at the end) the pair is certified with
:func:`lsgan_theory.studies.certificates.pair_certificate` on ``nodes`` cells (its own LP, its halving error): the
critic the generator last saw against q̂ (critic gap, generator gap) and the LP's best response to the current q̂
(generator gap E_q̂ L* − min L*), with the exact ∫|p − q̂| and its quadrature error -- so the history is the error and
the certificates against generator steps.  The LP critic's κ is a free choice of the game (Theorem 1 holds for every
κ); the default κ = 1/τ is the class of the package's spectrally normalised loss networks (slope ≤ 1 in x), where the
hinge can clip (κ > 1, THEORY.md "Hinge inactivity").
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .. import densities as _densities
from .. import nonparametric as _np
from .certificates import PairCertificate, _cells, pair_certificate

__all__ = ["CRITICS", "BestResponseRun", "best_response_train", "critic_function"]

CRITICS = ("linear", "upper", "lower", "mid")


def critic_function(x_cells, l, kappa: float, tau: float, critic: str = "linear"):
    """The loss L(x) extended from its values ``l`` at the cell midpoints ``x_cells`` (sorted, 1-D) as a function of a
    torch tensor (any shape), differentiable in x; see the module docstring for ``critic``."""
    import torch

    if critic not in CRITICS:
        raise ValueError(f"critic: one of {', '.join(CRITICS)}, got {critic!r}")
    xc = torch.as_tensor(np.asarray(x_cells, dtype=np.float64))
    lc = torch.as_tensor(np.asarray(l, dtype=np.float64))
    s = float(kappa) * float(tau)

    def upper(x):
        return torch.min(lc + s * torch.abs(x[..., None] - xc), dim=-1).values

    def lower(x):
        return torch.relu(torch.max(lc - s * torch.abs(x[..., None] - xc), dim=-1).values)

    def linear(x):
        inside = (x >= xc[0]) & (x <= xc[-1])
        i = torch.clamp(torch.searchsorted(xc, x.detach().contiguous()) - 1, 0, xc.numel() - 2)
        x0, x1 = xc[i], xc[i + 1]
        w = (x - x0) / (x1 - x0)
        interp = lc[i] * (1 - w) + lc[i + 1] * w
        return torch.where(inside, interp, upper(x))

    if critic == "upper":
        return upper
    if critic == "lower":
        return lower
    if critic == "mid":
        return lambda x: 0.5 * (upper(x) + lower(x))
    return linear


@dataclass
class BestResponseRun:
    """One best-response run (:func:`best_response_train`)."""

    target: str
    lam: float
    tau: float
    kappa: float
    critic: str
    seed: int
    g_params: tuple               # (W_0, b_0, W_1, b_1, ...) numpy float64, W_l (d_l, d_{l+1}), b_l (1, d_{l+1})
    history: list = field(default_factory=list)  # one dict per recorded round (see best_response_train)
    certificate: PairCertificate | None = None   # of the final pair
    l1: float = math.nan          # exact ∫|p − q̂| of the final generator
    l1_abserr: float = math.nan
    seconds: float = 0.0

    @property
    def sharp_bound(self) -> float:
        return 2.0 / (1.0 + self.lam)

    @property
    def paper_bound(self) -> float:
        return 2.0 / self.lam


def _init_generator(hidden, seed: int):
    import torch

    g = torch.Generator().manual_seed(int(seed))
    dims = [1, *hidden, 1]
    params = []
    for a, b in zip(dims[:-1], dims[1:]):
        bound = 1.0 / math.sqrt(a)
        params.append((torch.rand(a, b, generator=g, dtype=torch.float64) * 2 - 1) * bound)
        params.append((torch.rand(1, b, generator=g, dtype=torch.float64) * 2 - 1) * bound)
    return [p.requires_grad_(True) for p in params]


def _forward(params, z):
    import torch

    h = z
    for k in range(0, len(params), 2):
        h = h @ params[k] + params[k + 1]
        if k + 2 < len(params):
            h = torch.relu(h)
    return h


def best_response_train(target: str, lam: float, *, tau: float = 0.1, kappa: float | None = None,
                        critic: str = "linear", rounds: int = 100, gen_steps: int = 10, batch: int = 512,
                        lr: float = 1e-3, lr_final: float | None = None, hidden=(32, 32), cells: int = 64, nodes: int = 128,
                        record_every: int = 25, seed: int = 0, tail: float = 1e-6) -> BestResponseRun:
    """Alternate the exact best-response critic (Theorem 2's LP on ``cells`` cells carrying p's and q̂'s exact masses)
    with ``gen_steps`` Adam steps (learning rate ``lr`` in the first round, decaying geometrically to ``lr_final`` in
    the last (default: constant), ``batch`` fresh noise draws) of a 1-D ReLU generator with
    hidden widths ``hidden`` on T = E L(G(z)), for ``rounds`` rounds.

    ``target``: a 1-D density string (:func:`lsgan_theory.densities.parse`); ``lam``, ``tau``: the game's λ and margin
    scale (Δ = τ|x − z|); ``kappa``: the critic's Lipschitz class w.r.t. Δ (default 1/τ: slope ≤ 1 in x);
    ``critic``: one of :data:`CRITICS`; ``nodes``: cells of the certificates (halved for their error).

    ``history``: one dict per recorded round (every ``record_every`` rounds, round 0 = the initial generator, and the
    last): ``round``, ``gen_steps`` (generator steps so far), ``l1``, ``l1_abserr`` (exact ∫|p − q̂|), ``l1_cells``
    (Σ_k |p_k − q̂_k| over the certificate's cells: the ∫|p − q| of the grid game the certificates certify, ≤ ``l1``),
    ``critic_gap``, ``gen_gap`` (the critic last used against the current q̂; NaN at round 0), ``gen_gap_lp``,
    ``gen_gap_lp_err``, ``eps_gen_lp``, ``certified`` (the LP pair's: ``gen_gap_lp`` within ``eps_gen_lp``;
    ``certificate.certified`` of the final pair also accepts the trained pair), ``lip_ratio``, ``clip_fraction`` and
    ``mass_ratio_max`` (max over the certificate cells of q̂_k/p_k·λ/(1 + λ): at most 1 exactly when L* = 0 is a best
    response of the grid game).
    """
    import torch

    from ..ensemble.pushforward import exact_density, l1_distance

    p = _densities.parse(target)
    lam, tau, kappa, lr_final, hidden = _check_best_response_args(p, target, lam, tau, kappa, critic, rounds, gen_steps,
                                                                  batch, lr, lr_final, hidden, cells, nodes,
                                                                  record_every)
    t0 = time.perf_counter()
    params = _init_generator(hidden, seed)
    opt = torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))
    noise = torch.Generator().manual_seed(int(seed) + 7919)
    ends = np.array([tail, 1.0 - tail])
    pe = np.asarray(p.ppf(ends), dtype=np.float64)
    game = {"lam": lam, "tau": tau, "kappa": kappa, "nodes": nodes, "tail": tail, "ends": ends, "pe": pe}

    def density():
        return exact_density(tuple(t.detach() for t in params), "relu")

    history = []
    _, row = _record(p, density(), None, 0, 0, **game)
    history.append(row)
    cert = None
    decay = (lr_final / lr) ** (1.0 / max(rounds - 1, 1))
    for r in range(1, rounds + 1):
        for grp in opt.param_groups:
            grp["lr"] = lr * decay ** (r - 1)
        L = _best_response_critic(p, density(), pe, ends, cells, lam, kappa, tau, critic)
        for _ in range(gen_steps):
            z = torch.randn(batch, 1, generator=noise, dtype=torch.float64)
            loss = L(_forward(params, z)[:, 0]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

        def L_np(pts, L=L):
            with torch.no_grad():
                return L(torch.as_tensor(np.asarray(pts, dtype=np.float64))).numpy()

        if r % record_every == 0 or r == rounds:
            cert, row = _record(p, density(), L_np, r, r * gen_steps, **game)
            history.append(row)
    q = density()
    l1, err = l1_distance(p, q)
    return BestResponseRun(target, lam, tau, kappa, critic, int(seed),
                           tuple(t.detach().numpy().copy() for t in params), history, cert, l1, err,
                           time.perf_counter() - t0)


def _check_best_response_args(p, target, lam, tau, kappa, critic, rounds, gen_steps, batch, lr, lr_final, hidden,
                              cells, nodes, record_every):
    """The arguments of :func:`best_response_train` checked; returns (λ, τ, κ, lr_final, hidden) with the defaults
    filled in (κ = 1/τ, lr_final = lr)."""
    if p.dim != 1:
        raise ValueError(f"target: a 1-D density is needed, got {target!r} (dimension {p.dim})")
    lr_final = lr if lr_final is None else lr_final
    for name, v in (("lam", lam), ("tau", tau), ("lr", lr), ("lr_final", lr_final)):
        if not (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name}: must be a finite number > 0, got {v!r}")
    kappa = 1.0 / tau if kappa is None else kappa
    if not (isinstance(kappa, (int, float)) and not isinstance(kappa, bool) and math.isfinite(kappa) and kappa > 0):
        raise ValueError(f"kappa: must be a finite number > 0, got {kappa!r}")
    if critic not in CRITICS:
        raise ValueError(f"critic: one of {', '.join(CRITICS)}, got {critic!r}")
    for name, v, lo in (("rounds", rounds, 1), ("gen_steps", gen_steps, 1), ("batch", batch, 1), ("cells", cells, 4),
                        ("nodes", nodes, 8), ("record_every", record_every, 1)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < lo:
            raise ValueError(f"{name}: must be an integer >= {lo}, got {v!r}")
    hidden = tuple(int(h) for h in hidden)
    if not hidden or min(hidden) < 1:
        raise ValueError(f"hidden: one or more layer widths >= 1, got {hidden!r}")
    return float(lam), float(tau), float(kappa), lr_final, hidden


def _best_response_critic(p, q, pe, ends, cells: int, lam: float, kappa: float, tau: float, critic: str):
    """The exact best-response critic against the generator density ``q``: Theorem 2's LP on ``cells`` cells carrying
    p's and q's masses, extended to the line by :func:`critic_function`."""
    qe = np.asarray(q.ppf(ends), dtype=np.float64)
    x, pk, qk = _cells(p, q, cells, float(min(pe[0], qe[0])), float(max(pe[1], qe[1])))
    sol = _np.solve(x, x, lam, kappa, tau=tau, real_weights=pk, fake_weights=qk)
    l = np.asarray(sol.l[:cells], dtype=np.float64)
    return critic_function(x, l, kappa, tau, critic)


def _record(p, q, L, rnd, steps, *, lam, tau, kappa, nodes, tail, ends, pe):
    """The certificate of the pair (``L``, ``q``) (``L`` None: the zero loss, before any critic) and the history row
    of round ``rnd`` (see :func:`best_response_train`)."""
    from ..ensemble.pushforward import l1_distance

    c = pair_certificate(p, q, L if L is not None else (lambda x: np.zeros_like(np.asarray(x, float))), lam, tau,
                         kappa, nodes=nodes, tail=tail)
    l1, err = l1_distance(p, q)
    qe = np.asarray(q.ppf(ends), dtype=np.float64)
    _, pk, qk = _cells(p, q, nodes, float(min(pe[0], qe[0])), float(max(pe[1], qe[1])))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(qk > 0, qk * lam / ((1 + lam) * pk), 0.0)
    row = {"round": rnd, "gen_steps": steps, "l1": l1, "l1_abserr": err, "l1_cells": float(np.abs(pk - qk).sum()),
           "critic_gap": c.critic_gap if L is not None else math.nan,
           "gen_gap": c.gen_gap if L is not None else math.nan, "gen_gap_lp": c.gen_gap_lp,
           "gen_gap_lp_err": c.gen_gap_lp_err, "eps_gen_lp": c.eps_gen_lp, "certified": c.lp_pair_certified,
           "mass_ratio_max": float(np.max(ratio)), "lip_ratio": c.lip_ratio, "clip_fraction": c.clip_fraction}
    return c, row
