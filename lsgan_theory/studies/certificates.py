"""Equilibrium certificates of trained LS-GAN pairs (THEORY.md §5, "What 'at the equilibrium' means"; issue 29).

Theorem 1 (and Theorem 3 per class) speaks about a Nash equilibrium (L*, q*): L* minimises S(·, q*) over the
κ-Lipschitz losses L ≥ 0 and q* lives on argmin L*.  For a trained pair (L̂, q̂) -- q̂ the *exact* density of a 1-D
piecewise-linear generator -- this module measures how far it is from one:

* the **critic gap** S(L̂, q̂) − min_L S(L, q̂): both sides on one grid of n cells carrying p's and q̂'s exact masses
  (all n² pairs), the minimum by the package's exact LP (:func:`lsgan_theory.nonparametric.solve`, Theorem 2); its
  discretisation error is estimated as |gap_n − gap_{n/2}| (the same certificate on half the cells);
* the **generator gap** E_q̂ L − min_x L, against the trained L̂ (min over a fine grid) and against the LP's best
  response L* (its values l* at the cells; a cone function takes its minimum at a node), with the same halving
  error;
* **Lip(L̂)/τ** (largest slope of L̂ on a fine grid over the margin scale: below 1 the hinge can never clip, THEORY.md
  "hinge inactivity") and the **clipping fraction** (the p⊗q̂ mass of the pairs of distinct cells whose hinge argument
  Δ + L̂(x) − L̂(z) is ≤ 0).

A pair is **certified** (at the equilibrium, to the certificates' resolution) when either (L̂, q̂) has critic gap and
generator gap within their resolution ε = 2·(halving error) + 1e-9·(1 + |S|) (LP tolerance), or (L*, q̂) -- the LP's
best response with q̂ -- has generator gap within its ε (its critic gap is 0 by construction).  The theorem's
conclusion is about q̂ alone, so either pair licenses reading the bound on q̂.  How far Σ|p − q̂| may exceed
2/(1+λ) off the equilibrium is derived (:func:`lsgan_theory.equilibrium.off_equilibrium_bound`, THEORY.md §5): by at
most 2λm/(1+λ), m = q̂'s mass off the free cells of the LP's L* (``off_mass``; 0 at an equilibrium).  A certified pair
is read against the bound plus that slack, at the bound's own estimator error (the quadrature ``abserr`` of
∫|p − q̂|); the continuous ∫ can exceed the grid game's Σ by its within-cell part, which the grid game does not bound.  :func:`read_certified` turns certificates and
∫|p − q̂| into the verdict vocabulary: *consistent* / *violated* (certified pairs only) / *hypothesis not met*.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .. import densities as _densities
from .. import equilibrium as _eq
from .. import nonparametric as _np

__all__ = ["PairCertificate", "pair_certificate", "trained_loss", "model_certificates", "CertifiedReading",
           "read_certified", "CONSISTENT", "VIOLATED", "NOT_MET", "UNRESOLVED"]

CONSISTENT, VIOLATED, NOT_MET, UNRESOLVED = "consistent", "violated", "hypothesis not met", "not resolved"
_LP_REL = 1e-9


@dataclass
class PairCertificate:
    """How far one trained pair (L̂, q̂) is from a Nash equilibrium (see the module docstring)."""

    lam: float
    tau: float
    kappa: float
    nodes: int
    S_hat: float              # S(L̂, q̂) on the nodes
    S_star: float             # min_L S(L, q̂) on the nodes (LP)
    critic_gap: float         # S_hat − S_star
    critic_gap_err: float     # |gap_n − gap_{n/2}|
    gen_gap: float            # E_q̂ L̂ − min L̂
    gen_gap_err: float
    gen_gap_lp: float         # E_q̂ L* − min L* (L* the LP's best response)
    gen_gap_lp_err: float
    lip_ratio: float          # Lip(L̂)/τ
    clip_fraction: float      # p⊗q̂ mass of cell pairs with Δ + L̂(x) − L̂(z) ≤ 0
    off_mass: float = math.nan  # q̂'s mass off the free cells of the LP's L* (equilibrium.off_equilibrium_bound)

    def slack(self) -> float:
        """2λm/(1 + λ): what Σ|p − q̂| may exceed 2/(1 + λ) by at this pair, derived (THEORY.md §5, "Theorem 1 off
        the equilibrium"); 0 at an equilibrium.  NaN when m was not measured."""
        return 2.0 * self.lam * self.off_mass / (1.0 + self.lam)

    @property
    def eps_critic(self) -> float:
        return 2 * self.critic_gap_err + _LP_REL * (1 + abs(self.S_hat))

    @property
    def eps_gen(self) -> float:
        return 2 * self.gen_gap_err + _LP_REL * (1 + abs(self.S_hat))

    @property
    def eps_gen_lp(self) -> float:
        return 2 * self.gen_gap_lp_err + _LP_REL * (1 + abs(self.S_star))

    @property
    def trained_pair_certified(self) -> bool:
        return self.critic_gap <= self.eps_critic and self.gen_gap <= self.eps_gen

    @property
    def lp_pair_certified(self) -> bool:
        return self.gen_gap_lp <= self.eps_gen_lp

    @property
    def certified(self) -> bool:
        return self.trained_pair_certified or self.lp_pair_certified

    def shortfall(self) -> tuple[str, float, float]:
        """The certificate that is furthest from certifying, as (name, gap, ε) -- the smaller miss of the two pairs:
        the trained pair's worse ratio gap/ε and the LP pair's generator gap."""
        trained = max((self.critic_gap / self.eps_critic, "critic gap S(L̂, q̂) − min S", self.critic_gap,
                       self.eps_critic), (self.gen_gap / self.eps_gen, "generator gap E_q̂ L̂ − min L̂", self.gen_gap,
                                          self.eps_gen))
        lp = (self.gen_gap_lp / self.eps_gen_lp, "generator gap against the LP critic E_q̂ L* − min L*",
              self.gen_gap_lp, self.eps_gen_lp)
        best = min(trained, lp)
        return best[1], best[2], best[3]

    def as_dict(self) -> dict:
        d = asdict(self)
        d.update(certified=self.certified, eps_critic=self.eps_critic, eps_gen=self.eps_gen,
                 eps_gen_lp=self.eps_gen_lp)
        return d


def _cells(p, qhat, K: int, lo: float, hi: float):
    """K equal cells over [lo, hi]: midpoints and the masses of p and q̂ in them (tails folded into the end cells)."""
    edges = np.linspace(lo, hi, K + 1)
    x = 0.5 * (edges[1:] + edges[:-1])
    out = []
    for d in (p, qhat):
        F = np.asarray(d.cdf(edges), dtype=np.float64)
        m = np.diff(F)
        m[0] += F[0]
        m[-1] += 1.0 - F[-1]
        m = np.clip(m, 0.0, None)
        out.append(m / m.sum())
    return x, out[0], out[1]


def _one_level(x, pk, qk, loss, lam, tau, kappa, lmin):
    Lx = loss(x)
    S_hat = _np.objective(Lx, Lx, x, x, lam, tau=tau, real_weights=pk, fake_weights=qk)
    sol = _np.solve(x, x, lam, kappa, tau=tau, real_weights=pk, fake_weights=qk)
    gen = float(qk @ Lx - min(lmin, Lx.min()))
    gen_lp = float(qk @ sol.l_fake - sol.l.min())
    game = _eq.grid_game(x, pk, lam, kappa, tau)
    off = _eq.off_equilibrium_bound(game, qk, sol.l_fake).off_mass
    if off > 0:  # the best response is not unique: read m at the flattest one too (a second LP), keep the smaller
        off = min(off, _eq.off_equilibrium_bound(game, qk).off_mass)
    return S_hat, float(sol.objective), gen, gen_lp, off


def pair_certificate(p, qhat, loss, lam: float, tau: float, kappa: float, *, nodes: int = 128,
                     grid: int = 4001, tail: float = 1e-6) -> PairCertificate:
    """The certificates of the pair (``loss``, ``qhat``) for target ``p`` (1-D densities with ``cdf``, ``ppf``).

    Discretisation: one common grid of ``nodes`` equal cells over the central 1 − 2·``tail`` of p and of q̂ (their
    union), with p's and q̂'s exact cell masses at the midpoints -- the grid game of :mod:`lsgan_theory.equilibrium`.
    (A common grid, not separate quantile nodes of p and q̂: with separate nodes the LP exploits the offsets between
    real and generated nodes and S* on n nodes falls short of the population value by ~λ/n -- measured 0.06 at
    n = 256, λ = 10 -- while on a common grid it moved by < 1e-4 from 64 to 256 cells.)  S(L̂, q̂) and min_L S(L, q̂)
    are evaluated on it, the minimum by :func:`lsgan_theory.nonparametric.solve` with the masses as weights; the
    error estimate repeats everything on ``nodes // 2`` cells.

    ``loss``: a function from an array of points (N,) to the loss values L(x) (N,) (e.g. :func:`trained_loss`);
    ``lam``, ``tau``: the game's λ and margin scale (Δ = τ|x − z|); ``kappa``: the Lipschitz class of the LP (L
    κ-Lipschitz w.r.t. Δ, i.e. slope ≤ κτ in x); ``grid``: points of the fine grid for min L̂ and Lip(L̂).
    """
    for name, v in (("lam", lam), ("tau", tau), ("kappa", kappa)):
        if not (isinstance(v, (int, float, np.floating)) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name}: must be a finite number > 0, got {v!r}")
    if not isinstance(nodes, (int, np.integer)) or isinstance(nodes, bool) or nodes < 8:
        raise ValueError(f"nodes: must be an integer >= 8 (the error estimate halves it), got {nodes!r}")
    if getattr(p, "dim", 1) != 1 or getattr(qhat, "dim", 1) != 1:
        raise ValueError("p, qhat: certificates are computed for 1-D densities")
    ends = np.array([tail, 1.0 - tail])
    a, b = np.asarray(p.ppf(ends), dtype=np.float64), np.asarray(qhat.ppf(ends), dtype=np.float64)
    lo, hi = float(min(a[0], b[0])), float(max(a[1], b[1]))
    g = np.linspace(lo, hi, grid)
    Lg = loss(g)
    lip = float(np.max(np.abs(np.diff(Lg)) / np.diff(g)))
    x, pk, qk = _cells(p, qhat, nodes, lo, hi)
    S1, Ss1, gen1, genlp1, off1 = _one_level(x, pk, qk, loss, lam, tau, kappa, float(Lg.min()))
    x2, pk2, qk2 = _cells(p, qhat, nodes // 2, lo, hi)
    S2, Ss2, gen2, genlp2, _ = _one_level(x2, pk2, qk2, loss, lam, tau, kappa, float(Lg.min()))
    Lx = loss(x)
    arg = tau * np.abs(x[:, None] - x[None, :]) + Lx[:, None] - Lx[None, :]
    np.fill_diagonal(arg, 1.0)  # a point paired with itself is no pair of distinct points
    w = pk[:, None] * qk[None, :]
    np.fill_diagonal(w, 0.0)
    clip = float((w * (arg <= 0)).sum() / w.sum()) if w.sum() > 0 else 0.0
    gap1, gap2 = max(S1 - Ss1, 0.0), max(S2 - Ss2, 0.0)
    return PairCertificate(float(lam), float(tau), float(kappa), int(nodes), S1, Ss1, gap1, abs(gap1 - gap2),
                           max(gen1, 0.0), abs(gen1 - gen2), max(genlp1, 0.0), abs(genlp1 - genlp2), lip / tau,
                           clip, off1)


def trained_loss(result, model: int):
    """L̂ of model ``model`` of a trained :class:`~lsgan_theory.ensemble.TrainResult` (1-D data) as a numpy function:
    the loss network's output through ``config.loss_output`` (softplus / abs / identity), float64."""
    import torch

    D = result.discriminator()
    out = result.config.loss_output
    fn = {"softplus": torch.nn.functional.softplus, "abs": torch.abs, "identity": lambda a: a}.get(out)
    if fn is None:
        raise ValueError(f"loss_output: certificates know 'softplus', 'abs', 'identity', got {out!r}")
    E = result.config.n_models

    def L(x):
        x = np.asarray(x, dtype=np.float64)
        xt = torch.as_tensor(x, dtype=result.d_params[0].dtype).reshape(1, -1, 1).expand(E, -1, 1).contiguous()
        with torch.no_grad():
            return fn(D(xt)[model]).double().numpy()

    return L


def model_certificates(result, *, nodes: int = 128, target=None) -> list[PairCertificate | None]:
    """:func:`pair_certificate` of every model of a trained LS-GAN ensemble (``None`` for a diverged model).

    Needs ``family = "loss_sensitive"``, a 1-D target, ``noise_dim = 1`` and a piecewise-linear generator (exact
    q̂).  The LP's Lipschitz class: with spectral normalisation L̂ is 1-Lipschitz in x, so κ = 1/τ (w.r.t. Δ = τ|·|);
    without it, κ = max(Lip(L̂), τ)/τ measured on the fine grid (the smallest class holding L̂, at least the class in
    which the hinge can clip)."""
    from ..ensemble.pushforward import PIECEWISE_LINEAR, exact_density

    cfg = result.config
    fams = set(cfg.per_model("family"))
    if fams != {"loss_sensitive"}:
        raise ValueError(f"result: certificates are for the LS-GAN game (family 'loss_sensitive'), got "
                         f"{', '.join(sorted(fams))}")
    p = _densities.parse(target if target is not None else cfg.target)
    if p.dim != 1 or cfg.noise_dim != 1 or cfg.activation not in PIECEWISE_LINEAR:
        raise ValueError("result: certificates need a 1-D target, noise_dim = 1 and a relu/leaky_relu generator")
    lams, taus, sns = cfg.per_model("lam"), cfg.per_model("tau"), cfg.per_model("spectral_norm")
    out = []
    for e in range(cfg.n_models):
        if result.diverged[e]:
            out.append(None)
            continue
        q = exact_density(result.g_params, cfg.activation, model=e)
        L = trained_loss(result, e)
        tau = float(taus[e])
        if sns[e]:
            kappa = 1.0 / tau
        else:
            g = np.linspace(*(float(v) for v in p.ppf(np.array([1e-3, 1 - 1e-3]))), 2001)
            kappa = max(float(np.max(np.abs(np.diff(L(g))) / np.diff(g))), tau) / tau
        out.append(pair_certificate(p, q, L, float(lams[e]), tau, kappa, nodes=nodes))
    return out


@dataclass
class CertifiedReading:
    """Theorem 1 (ii) read at certified equilibria for one (target, λ) (:func:`read_certified`)."""

    lam: float
    status: str               # "consistent" | "violated" | "hypothesis not met" | "not resolved"
    certified: int            # pairs certified at the equilibrium
    pairs: int                # pairs read (finite)
    excess_paper: float       # max over certified pairs of (∫|p − q̂| − abserr − 2/λ)_+ (NaN: none certified)
    excess_sharp: float       # the same against 2/(1+λ)
    hypothesis: str           # which certificate missed, by how much (the closest pair), or "" when certified
    bound: float = math.nan   # the bound the status reads (2/(1+λ) for sharp=True, else 2/λ)
    lower_max: float = math.nan  # max over certified pairs of ∫|p − q̂| − abserr (NaN: none certified)


def read_certified(lam: float, l1, l1_abserr, certificates, *, sharp: bool = True) -> CertifiedReading:
    """Theorem 1 (ii) on the pairs of one (target, λ) whose certificates place them at the equilibrium.

    ``l1``, ``l1_abserr``: ∫|p − q̂| and its quadrature error per pair; ``certificates``: one
    :class:`PairCertificate` (or ``None`` for a diverged pair) per pair.  Status: *hypothesis not met* when no pair is
    certified (``hypothesis`` names the certificate of the closest pair and its gap against ε); *violated* when a
    certified pair's ∫|p − q̂| − abserr exceeds the bound (2/(1+λ) with ``sharp``, else the paper's 2/λ) plus the
    pair's derived slack 2λm/(1+λ) (:meth:`PairCertificate.slack`; 0 at an exact equilibrium); else *consistent*;
    *not resolved* when no pair could be read at all.
    """
    l1 = np.asarray(l1, dtype=np.float64)
    err = np.asarray(l1_abserr, dtype=np.float64)
    if l1.shape != err.shape or l1.ndim != 1 or len(certificates) != l1.size:
        raise ValueError(f"l1, l1_abserr, certificates: one entry per pair expected, got shapes {l1.shape}, "
                         f"{err.shape} and {len(certificates)} certificates")
    lam = float(lam)
    bound = 2.0 / (1.0 + lam) if sharp else 2.0 / lam
    ok = [i for i, c in enumerate(certificates) if c is not None and np.isfinite(l1[i])]
    cert = [i for i in ok if certificates[i].certified]
    if not ok:
        return CertifiedReading(lam, UNRESOLVED, 0, 0, math.nan, math.nan, "no pair could be read", bound)
    if not cert:
        def miss(i):
            name, gap, eps = certificates[i].shortfall()
            return gap / eps, name, gap, eps
        r, name, gap, eps = min(miss(i) for i in ok)
        text = (f"0/{len(ok)} pairs certified; closest: {name} = {gap:.3g} > ε = {eps:.2g} ({r:.3g}× its "
                f"resolution)")
        return CertifiedReading(lam, NOT_MET, 0, len(ok), math.nan, math.nan, text, bound)
    lower = l1[cert] - err[cert]
    # the derived slack of each certified pair (Theorem 1 off the equilibrium: 2λm/(1+λ), m = q̂'s mass off the free
    # cells of L*); a pair whose m was not measured gets the largest slack, 2λ/(1+λ) -- it can then never read violated
    slack = np.array([certificates[i].slack() for i in cert], dtype=np.float64)
    slack = np.where(np.isfinite(slack), slack, 2.0 * lam / (1.0 + lam))
    ex_paper = float(np.max(np.maximum(lower - 2.0 / lam - slack, 0.0)))
    ex_sharp = float(np.max(np.maximum(lower - 2.0 / (1.0 + lam) - slack, 0.0)))
    ex = ex_sharp if sharp else ex_paper
    return CertifiedReading(lam, VIOLATED if ex > 0 else CONSISTENT, len(cert), len(ok), ex_paper, ex_sharp, "",
                            bound, float(np.max(lower)))
