"""The LS-GAN game on a grid, solved exactly: equilibrium conditions, a certificate checker, and the largest
∫|p − q| over the equilibrium set (THEORY.md §5, "What 'at the equilibrium' means"; issue 29).

The game.  A 1-D target discretised on K sorted points x_1 < … < x_K with masses p_i (Σ p_i = 1), a generator that is
any distribution q on the same points, and a loss L ≥ 0 that is κ-Lipschitz with respect to Δ(x, y) = τ|x − y|:

    S(L, q) = a · Σ_i p_i L_i + λ_h · Σ_{i,j} p_i q_j (Δ_ij + L_i − L_j)_+      (minimised over L by the critic)
    T(L, q) = Σ_j q_j L_j                                                          (minimised over q by the generator)

with a = 1 and λ_h = λ for LS-GAN.  The flags ``data_term`` / ``hinge_term`` of :class:`GridGame` remove one term of S
(a = 0, or λ_h = 0): negative controls whose equilibrium set and its largest ∫|p − q| differ.

A pair (L*, q*) is a Nash equilibrium when L* minimises S(·, q*) over F = {L ≥ 0, |L_i − L_k| ≤ κΔ_ik} and q* is
supported on argmin L*.  [derived] S(·, q) is convex and piecewise linear; at L = 0 its directional derivative along a
feasible d ≥ 0 is Σ_i d_i[(a + λ_h) p_i − λ_h q_i] (pairs i ≠ j have Δ_ij > 0, so their hinge is active; the diagonal
hinge is identically 0).  Hence (0, q) is an equilibrium iff λ_h q_i ≤ (a + λ_h) p_i for every i, i.e. for LS-GAN

    q_i ≤ ((1 + λ)/λ) · p_i     — Theorem 1 (i) is the equilibrium condition itself,

and conversely at every equilibrium (with the data term) min L* = 0 (shifting L down lowers a·Σ p L and leaves the
hinges alone), q* lives where L* = 0, L* = 0 wherever p_i > 0 (S(L, q*) − S(0, q*) = Σ_i p_i L_i (1 + λ Σ_{j≠i} q_j)
> 0 otherwise), and (0, q*) is an equilibrium too.  So equilibria with L* ≠ 0 exist only on grid points where p
vanishes, and reach no further.  :func:`equilibrium_milp` searches the whole equilibrium set exactly (the KKT
conditions of the critic's LP with binary complementarity, a mixed-integer LP solved by HiGHS through
``scipy.optimize.milp``) and confirms both statements on small grids.

Largest ∫|p − q| over {q : q ≤ c·p} (c = (a + λ_h)/λ_h).  ∫|p − q| = 2 Σ (q_i − p_i)_+ is convex in q, so its maximum
sits at a vertex; for a fixed set B the best q(B) − p(B) is min(1, c·p(B)) − p(B), so

    max ∫|p − q| = 2 max_B [min(1, c·p(B)) − p(B)],

which is ≤ 2(1 − 1/c) = 2/(1 + λ) (the sharp bound, attained when some B has p(B) = 1/c = λ/(1 + λ)) and, taking B
greedily, ≥ 2/(1 + λ) − 2·max_i p_i/(1 + λ).  :func:`max_l1_zero_loss` solves the subset problem exactly (every
subset for K ≤ 22, else a 0/1 knapsack MILP) and returns the maximising q.

Reference: G.-J. Qi, "Loss-Sensitive Generative Adversarial Networks on Lipschitz Densities", IJCV 2019, Theorem 1;
the sharp form and the grid analysis are derived here (THEORY.md §5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from . import validate

__all__ = ["GridGame", "grid_game", "discretise", "objective", "best_response", "Certificate", "certify",
           "zero_loss_capacity", "max_l1_zero_loss", "ZeroLossMax", "equilibrium_milp", "EquilibriumSearch",
           "sharp_bound", "paper_bound", "OffEquilibriumBound", "off_equilibrium_bound"]

_ENUMERATE_MAX = 22  # subsets are enumerated up to this many grid points (2^22 sums), a knapsack MILP above
_LP_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


def sharp_bound(lam) -> float:
    """2/(1 + λ): the largest ∫|p − q| allowed by p ≥ λ/(1+λ)·q (THEORY.md §5, derived; attained)."""
    lam = validate.positive("lam", lam)
    return 2.0 / (1.0 + lam)


def paper_bound(lam) -> float:
    """2/λ: Theorem 1 (ii) as the paper states it (Lemma 4 with η = λ/(1+λ)); looser than :func:`sharp_bound`."""
    lam = validate.positive("lam", lam)
    return 2.0 / lam


@dataclass(frozen=True)
class GridGame:
    """The LS-GAN game on K grid points (see the module docstring).  Build it with :func:`grid_game`."""

    x: np.ndarray            # (K,) sorted, distinct
    p: np.ndarray            # (K,) masses, ≥ 0, sum 1
    lam: float               # λ (> 0)
    kappa: float = 1.0       # Lipschitz constant of L with respect to Δ
    tau: float = 1.0         # Δ(x, y) = τ|x − y|
    data_term: bool = True   # the a·Σ p_i L_i term of S (False: a negative control)
    hinge_term: bool = True  # the λ·Σ p_i q_j (Δ + L_i − L_j)_+ term of S (False: a negative control)

    @property
    def K(self) -> int:
        return int(self.x.size)

    @property
    def a(self) -> float:
        return 1.0 if self.data_term else 0.0

    @property
    def lam_h(self) -> float:
        return self.lam if self.hinge_term else 0.0

    @property
    def delta(self) -> np.ndarray:
        """Δ_ij = τ|x_i − x_j|, shape (K, K)."""
        return self.tau * np.abs(self.x[:, None] - self.x[None, :])

    @property
    def l_max(self) -> float:
        """κτ(x_K − x_1): the largest value a κ-Lipschitz L with min L = 0 can take on the grid."""
        return self.kappa * self.tau * float(self.x[-1] - self.x[0])


def grid_game(x, p, lam, kappa: float = 1.0, tau: float = 1.0, *, data_term: bool = True,
              hinge_term: bool = True) -> GridGame:
    """Validate and build a :class:`GridGame`.

    ``x`` (K,) strictly increasing finite points (K ≥ 1), ``p`` (K,) finite masses ≥ 0 that sum to 1 (within 1e-9;
    renormalised), ``lam``, ``kappa``, ``tau`` > 0; at least one of the two terms of S kept.
    """
    xa = np.asarray(x, dtype=np.float64)
    pa = np.asarray(p, dtype=np.float64)
    if xa.ndim != 1 or xa.size < 1:
        raise ValueError(f"x: expected a 1-D array of at least 1 grid point, got shape {xa.shape}")
    if not np.all(np.isfinite(xa)) or np.any(np.diff(xa) <= 0):
        raise ValueError("x: grid points must be finite and strictly increasing")
    if pa.shape != xa.shape:
        raise ValueError(f"p: expected shape {xa.shape} (one mass per grid point), got {pa.shape}")
    if not np.all(np.isfinite(pa)) or np.any(pa < 0) or abs(pa.sum() - 1.0) > 1e-9:
        raise ValueError(f"p: masses must be finite, >= 0 and sum to 1 (within 1e-9), got sum {pa.sum()!r}")
    if not isinstance(data_term, bool) or not isinstance(hinge_term, bool):
        raise TypeError(f"data_term, hinge_term: expected bools, got {data_term!r}, {hinge_term!r}")
    if not (data_term or hinge_term):
        raise ValueError("data_term, hinge_term: at least one term of S must be kept")
    return GridGame(xa, pa / pa.sum(), validate.positive("lam", lam), validate.positive("kappa", kappa),
                    validate.positive("tau", tau), data_term, hinge_term)


def discretise(density, K: int, *, lo: float | None = None, hi: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """K equal cells over [lo, hi] (default: the density's quadrature domain) and their masses F(b_{i+1}) − F(b_i)
    placed at the cell midpoints, renormalised to sum 1 (the tails beyond [lo, hi] are folded in).  Returns (x, p).

    ``density`` needs ``cdf`` and ``domain()`` as in :mod:`lsgan_theory.densities` (1-D)."""
    K = validate.integer("K", K, minimum=1)
    if lo is None or hi is None:
        (dlo, dhi), = density.domain()
        lo = dlo if lo is None else lo
        hi = dhi if hi is None else hi
    lo = validate.real("lo", lo)
    hi = validate.real("hi", hi)
    if not hi > lo:
        raise ValueError(f"lo, hi: need lo < hi, got {lo!r}, {hi!r}")
    edges = np.linspace(lo, hi, K + 1)
    mass = np.diff(density.cdf(edges))
    mass = np.clip(mass, 0.0, None)
    if not mass.sum() > 0:
        raise ValueError(f"density: no mass in [{lo}, {hi}]")
    return 0.5 * (edges[1:] + edges[:-1]), mass / mass.sum()


def _as_q(game: GridGame, q, name: str = "q") -> np.ndarray:
    qa = np.asarray(q, dtype=np.float64)
    if qa.shape != (game.K,):
        raise ValueError(f"{name}: expected shape ({game.K},), got {qa.shape}")
    if not np.all(np.isfinite(qa)) or np.any(qa < -1e-12) or abs(qa.sum() - 1.0) > 1e-9:
        raise ValueError(f"{name}: a distribution on the grid is needed (finite, >= 0, sum 1 within 1e-9)")
    return np.clip(qa, 0.0, None) / np.clip(qa, 0.0, None).sum()


def _as_l(game: GridGame, L) -> np.ndarray:
    la = np.asarray(L, dtype=np.float64)
    if la.shape != (game.K,) or not np.all(np.isfinite(la)):
        raise ValueError(f"L: expected {game.K} finite loss values, got shape {la.shape}")
    return la


def objective(game: GridGame, L, q) -> float:
    """S(L, q) = a Σ p_i L_i + λ_h Σ_ij p_i q_j (Δ_ij + L_i − L_j)_+."""
    L, q = _as_l(game, L), _as_q(game, q)
    hinge = np.maximum(game.delta + L[:, None] - L[None, :], 0.0)
    np.fill_diagonal(hinge, 0.0)
    return float(game.a * (game.p @ L) + game.lam_h * (game.p @ hinge @ q))


def best_response(game: GridGame, q, *, flattest: bool = False) -> tuple[np.ndarray, float]:
    """min over L ∈ F of S(L, q), exactly: the LP with one hinge variable per pair (i ≠ j, p_i q_j > 0) and the
    Lipschitz constraints between grid neighbours (in 1-D they imply all the others), solved by HiGHS.  The best
    response need not be unique; ``flattest=True`` returns, among the best responses (S within the LP's tolerance
    1e-9·(1 + |S*|) of S*), one with the smallest Σ L_i (a second LP).

    Returns ``(L*, S*)``; S* is re-evaluated with :func:`objective` at the returned L* (clipped to F's bounds)."""
    q = _as_q(game, q)
    K = game.K
    D = game.delta
    ii, jj = np.nonzero((game.p[:, None] * q[None, :] > 0) & ~np.eye(K, dtype=bool))
    H = ii.size if game.hinge_term else 0
    if not game.hinge_term:
        ii, jj = ii[:0], jj[:0]
    c = np.concatenate([game.a * game.p, game.lam_h * game.p[ii] * q[jj]])
    rows, cols, vals, b = [], [], [], []
    r = np.arange(H)
    # s_ij ≥ Δ_ij + L_i − L_j   ⇔   L_i − L_j − s_ij ≤ −Δ_ij
    rows += [r, r, r]
    cols += [ii, jj, K + r]
    vals += [np.ones(H), -np.ones(H), -np.ones(H)]
    b.append(-D[ii, jj])
    k = np.arange(K - 1)
    gap = game.kappa * game.tau * np.diff(game.x)
    for s in (1.0, -1.0):  # ±(L_{k+1} − L_k) ≤ κτ(x_{k+1} − x_k)
        rr = H + (0 if s > 0 else K - 1) + k
        rows += [rr, rr]
        cols += [k + 1, k]
        vals += [np.full(K - 1, s), np.full(K - 1, -s)]
        b.append(gap)
    A = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(H + 2 * (K - 1), K + H))
    b = np.concatenate(b)
    res = linprog(c, A_ub=A, b_ub=b, bounds=(0, None), method="highs", options=_LP_OPTIONS)
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed on the grid best response: status {res.status}, {res.message}")
    if flattest:
        # among the best responses (S ≤ S* + its LP tolerance), the one with the smallest Σ L_i
        S_star = float(c @ res.x)
        A2 = sparse.vstack([A, sparse.csr_matrix(c[None, :])]).tocsr()
        b2 = np.concatenate([b, [S_star + 1e-9 * (1.0 + abs(S_star))]])
        c2 = np.concatenate([np.ones(K), np.zeros(H)])
        res2 = linprog(c2, A_ub=A2, b_ub=b2, bounds=(0, None), method="highs", options=_LP_OPTIONS)
        if res2.status == 0:
            res = res2
    L = np.clip(res.x[:K], 0.0, None)
    return L, objective(game, L, q)


@dataclass
class Certificate:
    """How far a pair (L, q) is from a Nash equilibrium of a :class:`GridGame` (all ≥ 0; 0 at an equilibrium)."""

    critic_gap: float        # S(L, q) − min_L S(·, q)
    generator_gap: float     # E_q L − min_i L_i
    infeasibility: float     # max of (−L_i)_+ and (|L_i − L_k| − κΔ_ik)_+ over grid neighbours
    S: float
    S_star: float
    l1: float                # Σ|p − q|

    def is_equilibrium(self, tol: float) -> bool:
        """All three gaps ≤ ``tol``."""
        return max(self.critic_gap, self.generator_gap, self.infeasibility) <= tol


def certify(game: GridGame, L, q) -> Certificate:
    """The equilibrium certificate of (L, q): critic gap against the exact best response (:func:`best_response`),
    generator gap, and L's distance from F."""
    L, q = _as_l(game, L), _as_q(game, q)
    lip = np.abs(np.diff(L)) - game.kappa * game.tau * np.diff(game.x)
    infeas = float(max(0.0, -L.min(), lip.max(initial=0.0)))
    S = objective(game, L, q)
    _, S_star = best_response(game, q)
    return Certificate(max(S - S_star, 0.0), float(q @ L - L.min()), infeas, S, S_star, float(np.abs(game.p - q).sum()))


@dataclass(frozen=True)
class OffEquilibriumBound:
    """Theorem 1 (ii) for any generator q against the critic's exact best response L* (:func:`off_equilibrium_bound`)."""

    l1: float              # Σ|p_i − q_i|
    off_mass: float        # m: q's mass on the points where (1 + λ)p_i ≥ λq_i is not implied by L*'s optimality
    bound: float           # 2/(1 + λ) + 2λm/(1 + λ)
    sharp: float           # 2/(1 + λ)
    free: np.ndarray       # (K,) bool: the free points, where λq_i ≤ (1 + λ)p_i is proven

    @property
    def slack(self) -> float:
        """2λm/(1 + λ): what the bound adds to 2/(1 + λ) off the equilibrium."""
        return self.bound - self.sharp


def off_equilibrium_bound(game: GridGame, q, L_star=None, *, tol: float = 1e-9) -> OffEquilibriumBound:
    """Σ|p − q| ≤ 2/(1 + λ) + 2λm/(1 + λ) for **any** q, with L* a best response to q [derived, THEORY.md §5].

    Proof.  Call a grid point i *free* when L*_i − L*_j < min(1, κ)·Δ_ij for every j ≠ i.  Raising L* at a free
    point by a small t ≥ 0 keeps L feasible (L*_i − L*_j < κΔ_ij), raises each real-side hinge of i by at most t and
    lowers each fake-side hinge (Δ_ji + L*_j − L*_i > 0) by exactly t, so the right derivative of
    S = Σ p_k L_k + λ Σ_{k≠l} p_k q_l (Δ_kl + L_k − L_l)_+ along e_i is at most
    p_i + λ p_i (1 − q_i) − λ q_i (1 − p_i) = (1 + λ) p_i − λ q_i.  L* minimises S, so this is ≥ 0: Theorem 1 (i),
    λq_i ≤ (1 + λ)p_i, holds at every free point, for every q.  Then (q_i − p_i)_+ ≤ q_i/(1 + λ) at free points and
    ≤ q_i elsewhere, and Σ|p − q| = 2Σ(q_i − p_i)_+ ≤ 2(1 − m)/(1 + λ) + 2m with m = q(not free).  At a Nash
    equilibrium q sits on argmin L*, whose points are all free, so m = 0 and the sharp bound 2/(1 + λ) follows;
    off it, m measures the distance and 2λm/(1 + λ) is the slack a verdict must allow.

    The best response need not be unique, and m depends on which one is read; ``L_star``: the best response to use
    (``None``: the flattest, ``best_response(game, q, flattest=True)``, on whose argmin an equilibrium's q sits when
    L* = 0 is among the best responses); ``tol``: points count as free
    only with a margin ``tol``·(1 + max L*) below the threshold (the LP's solution is exact only to its tolerance),
    which can only enlarge m.  Requires both terms of S (the derivative uses the data term and the hinge).
    """
    q = _as_q(game, q)
    if not (game.data_term and game.hinge_term):
        raise ValueError("game: the off-equilibrium bound is derived for S with both its data term and its hinge")
    L = best_response(game, q, flattest=True)[0] if L_star is None else _as_l(game, L_star)
    tol = validate.real("tol", tol, minimum=0.0)
    margin = min(1.0, game.kappa) * game.delta - tol * (1.0 + float(L.max()))
    diff = L[:, None] - L[None, :]
    np.fill_diagonal(diff, -np.inf)
    free = np.all(diff < margin, axis=1)
    m = float(q[~free].sum())
    lam = game.lam
    sharp = 2.0 / (1.0 + lam)
    return OffEquilibriumBound(float(np.abs(game.p - q).sum()), m, sharp + 2.0 * lam * m / (1.0 + lam), sharp, free)


def zero_loss_capacity(game: GridGame) -> np.ndarray:
    """The caps c_i with {q : (0, q) is an equilibrium} = {q ∈ simplex : q_i ≤ c_i}: c_i = (a + λ_h)/λ_h · p_i (inf
    without the hinge term: every q).  For LS-GAN c_i = (1 + λ)/λ · p_i, Theorem 1 (i)."""
    if game.lam_h == 0:
        return np.full(game.K, np.inf)
    return (game.a + game.lam_h) / game.lam_h * game.p


@dataclass
class ZeroLossMax:
    """Result of :func:`max_l1_zero_loss`."""

    l1: float                # the largest Σ|p − q| over the set, evaluated at ``q``
    q: np.ndarray            # a maximiser
    subset: np.ndarray       # the indices B where q = c·p (bool mask)
    method: str              # "enumerate" or "milp"


def _q_from_subset(game: GridGame, cap: np.ndarray, B: np.ndarray) -> np.ndarray:
    """q = cap on B (scaled down if cap(B) > 1), the remaining mass filled into the other points up to their caps
    (largest cap first); a vertex of the set with q(B) = min(1, cap(B))."""
    q = np.zeros(game.K)
    capB = cap[B].sum() if np.isfinite(cap[B]).all() else math.inf
    if capB >= 1.0:
        if math.isinf(capB):
            q[np.flatnonzero(B)[np.argmax(cap[B])]] = 1.0
        else:
            q[B] = cap[B] / capB
        return q
    q[B] = cap[B]
    rest = 1.0 - capB
    for i in np.argsort(-cap):
        if B[i] or rest <= 0:
            continue
        take = min(cap[i], rest)
        q[i] = take
        rest -= take
    if rest > 1e-12:
        raise RuntimeError("the equilibrium set is empty (caps sum below 1)")
    return q


def max_l1_zero_loss(game: GridGame, *, method: str = "auto") -> ZeroLossMax:
    """The largest Σ|p − q| over the equilibria with L* = 0, {q ∈ simplex : q ≤ c} (:func:`zero_loss_capacity`),
    exactly: 2 max_B [min(1, c(B)) − p(B)] over subsets B of the grid (module docstring), by enumerating every subset
    (``method="enumerate"``, K ≤ 22) or a 0/1 knapsack MILP (``"milp"``, HiGHS); ``"auto"`` picks the first when
    K ≤ 22.  The returned value is Σ|p − q| evaluated at the returned maximiser q (float64)."""
    if method not in ("auto", "enumerate", "milp"):
        raise ValueError(f"method: accepted values are 'auto', 'enumerate', 'milp', got {method!r}")
    cap = zero_loss_capacity(game)
    K = game.K
    if method == "auto":
        method = "enumerate" if K <= _ENUMERATE_MAX else "milp"
    if not np.isfinite(cap).all():  # no hinge term: every q is an equilibrium; put all mass on the lightest point
        q = np.zeros(K)
        q[np.argmin(game.p)] = 1.0
        return ZeroLossMax(float(np.abs(game.p - q).sum()), q, q > 0, method)
    if method == "enumerate":
        if K > _ENUMERATE_MAX:
            raise ValueError(f"method: 'enumerate' handles K <= {_ENUMERATE_MAX} grid points, got K = {K}")
        ps = np.zeros(1)
        cs = np.zeros(1)
        for i in range(K):  # subset b has bit i set iff point i is in B
            ps = np.concatenate([ps, ps + game.p[i]])
            cs = np.concatenate([cs, cs + cap[i]])
        val = np.minimum(1.0, cs) - ps
        best = int(np.argmax(val))
        B = ((best >> np.arange(K)) & 1).astype(bool)
    else:
        # maximise t s.t. t ≤ c·b − p·b, t ≤ 1 − p·b, b ∈ {0,1}^K
        cmat = np.vstack([np.concatenate([-(cap - game.p), [1.0]]), np.concatenate([game.p, [1.0]])])
        cons = LinearConstraint(cmat, -np.inf, np.array([0.0, 1.0]))
        res = milp(np.concatenate([np.zeros(K), [-1.0]]), constraints=cons,
                   integrality=np.concatenate([np.ones(K), [0]]),
                   bounds=Bounds(np.concatenate([np.zeros(K), [-1.0]]), np.concatenate([np.ones(K), [2.0]])),
                   options={"mip_rel_gap": 0.0})
        if res.status != 0:
            raise RuntimeError(f"HiGHS failed on the subset MILP: {res.message}")
        B = res.x[:K] > 0.5
    q = _q_from_subset(game, cap, B)
    return ZeroLossMax(float(np.abs(game.p - q).sum()), q, B, method)


# ------------------------------------------------------------------------------------------------ the exact search
@dataclass
class EquilibriumSearch:
    """Result of :func:`equilibrium_milp`: the optimal equilibrium found, its certificate, and the MILP's value."""

    L: np.ndarray
    q: np.ndarray
    value: float             # the MILP's optimal objective (max Σ|p − q| or max Σ L_i)
    objective: str
    certificate: Certificate
    status: str              # HiGHS's message


def equilibrium_milp(game: GridGame, objective_name: str = "l1", *, time_limit: float = 60.0) -> EquilibriumSearch:
    """Search the whole equilibrium set of a small grid game exactly, as a mixed-integer LP (HiGHS).

    Variables: L ∈ [0, κτ(x_K − x_1)] (every equilibrium class has a member with min L = 0: shifting L changes
    neither the hinges nor argmin L, and with the data term min L* = 0), q in the simplex, and the KKT conditions of
    the critic's LP min_L S(L, q) written with flows w_ij ∈ [0, λ_h p_i q_j] (the hinge's subgradient times λ_h p_i q_j,
    linear in q): stationarity a p_i + Σ_j w_ij − Σ_k w_ki − μ_i + (Lipschitz multipliers) = 0 at every node, and
    complementarity by binaries with big-M bounds derived from the data (|Δ_ij + L_i − L_j| ≤ (1 + κ)τ·range,
    Σ μ = a ≤ 1, each Lipschitz multiplier ≤ 2 + 2λ_h: a prefix sum of the node balances); the generator's condition
    q_j > 0 ⇒ L_j = min L by a binary per point.  For the critic's LP the KKT conditions are necessary and sufficient,
    so the feasible set is exactly the set of equilibria (up to HiGHS's tolerances, ~1e-6; the returned pair is
    re-certified with :func:`certify`).

    ``objective_name``: ``"l1"`` maximises Σ|p − q| (= 2 Σ (q − p)_+, linearised with a binary per point), ``"loss"``
    maximises Σ_i L_i (> 0 iff an equilibrium with L* ≠ 0 exists).  Practical for K ≲ 12 (≈ 2K² binaries).
    """
    if objective_name not in ("l1", "loss"):
        raise ValueError(f"objective_name: accepted values are 'l1' and 'loss', got {objective_name!r}")
    time_limit = validate.real("time_limit", time_limit, minimum=0.0, strict_minimum=True)
    K, p = game.K, game.p
    pi, pj = np.nonzero(~np.eye(K, dtype=bool) & (p[:, None] > 0)) if game.lam_h > 0 else (np.zeros(0, int),) * 2
    Ma = (1.0 + game.kappa) * game.tau * float(game.x[-1] - game.x[0]) + 1e-9  # big-M of a hinge argument
    Mnu = 2.0 + 2.0 * game.lam_h                                                 # bound of a Lipschitz multiplier
    names, lo, hi, integ = _milp_variables(game, pi, Mnu)
    rows = _MilpRows()
    _hinge_rows(rows, game, names, pi, pj, Ma)
    _stationarity_rows(rows, game, names, pi, pj)
    _lipschitz_rows(rows, game, names, Mnu)
    _generator_rows(rows, game, names)
    c = np.zeros(lo.size)
    if objective_name == "l1":
        c[names["t"]] = -2.0
        c[names["b"]] = 2.0 * p
    else:
        c[names["L"]] = -1.0
    res = milp(c, constraints=rows.constraint(lo.size), integrality=integ, bounds=Bounds(lo, hi),
               options={"time_limit": float(time_limit), "mip_rel_gap": 0.0})
    if res.x is None or res.status not in (0,):
        raise RuntimeError(f"HiGHS did not solve the equilibrium MILP to optimality: {res.message}")
    L = np.clip(res.x[names["L"]], 0.0, None)
    q = np.clip(res.x[names["q"]], 0.0, None)
    q = q / q.sum()
    return EquilibriumSearch(L, q, float(-res.fun), objective_name, certify(game, L, q), str(res.message))


def _milp_variables(game: GridGame, pi: np.ndarray, Mnu: float):
    """The MILP's variable layout (name -> indices), bounds and integrality (1 for the binaries)."""
    K, P, U = game.K, pi.size, game.l_max
    names = {}
    sizes = [("L", K), ("q", K), ("m", 1), ("w", P), ("u", P), ("v", P), ("mu", K), ("beta", K), ("nup", K - 1),
             ("num", K - 1), ("gp", K - 1), ("gm", K - 1), ("r", K), ("t", K), ("b", K)]
    off = 0
    for nm, sz in sizes:
        names[nm] = np.arange(off, off + sz)
        off += sz
    lo, hi = np.zeros(off), np.full(off, np.inf)
    integ = np.zeros(off)
    hi[names["L"]] = U
    hi[names["q"]] = 1.0
    hi[names["m"]] = U
    hi[names["w"]] = game.lam_h * game.p[pi] if P else 0.0
    hi[names["mu"]] = 1.0
    hi[names["nup"]] = Mnu
    hi[names["num"]] = Mnu
    hi[names["t"]] = 1.0
    for nm in ("u", "v", "beta", "gp", "gm", "r", "b"):
        hi[names[nm]] = 1.0
        integ[names[nm]] = 1
    return names, lo, hi, integ


class _MilpRows:
    """Sparse constraint rows lo ≤ Σ v·x[c] ≤ hi, appended one at a time."""

    def __init__(self):
        self.rows, self.cols, self.vals, self.lo, self.hi = [], [], [], [], []

    def add(self, cs, vs, lo_, hi_):
        k = len(self.lo)
        self.rows.extend([k] * len(cs))
        self.cols.extend(int(c) for c in cs)
        self.vals.extend(float(v) for v in vs)
        self.lo.append(lo_)
        self.hi.append(hi_)

    def constraint(self, nvar: int) -> LinearConstraint:
        A = sparse.csr_matrix((self.vals, (self.rows, self.cols)), shape=(len(self.lo), nvar))
        return LinearConstraint(A, np.array(self.lo), np.array(self.hi))


def _hinge_rows(rows: _MilpRows, game: GridGame, names: dict, pi, pj, Ma: float) -> None:
    """Σ q = 1 and, per pair (i, j), the flow w_ij in the hinge's subgradient: complementarity by binaries u, v."""
    K, p, lh, D = game.K, game.p, game.lam_h, game.delta
    Lv, qv, wv, uv, vv = names["L"], names["q"], names["w"], names["u"], names["v"]
    rows.add(qv, np.ones(K), 1.0, 1.0)  # Σ q = 1
    for k in range(pi.size):
        i, j = pi[k], pj[k]
        c0 = lh * p[i]
        rows.add([wv[k], qv[j]], [1.0, -c0], -np.inf, 0.0)                       # w ≤ λ_h p_i q_j
        rows.add([qv[j], wv[k], uv[k]], [c0, -1.0, -c0], -np.inf, 0.0)            # u = 0 ⇒ w = λ_h p_i q_j
        rows.add([Lv[i], Lv[j], uv[k]], [1.0, -1.0, Ma], -np.inf, Ma - D[i, j])   # u = 1 ⇒ a_ij ≤ 0
        rows.add([wv[k], vv[k]], [1.0, -c0], -np.inf, 0.0)                        # v = 0 ⇒ w = 0
        rows.add([Lv[i], Lv[j], vv[k]], [1.0, -1.0, -Ma], -Ma - D[i, j], np.inf)  # v = 1 ⇒ a_ij ≥ 0


def _stationarity_rows(rows: _MilpRows, game: GridGame, names: dict, pi, pj) -> None:
    """The critic's KKT stationarity at every node, and μ_i > 0 ⇒ L_i = 0 (binary β_i)."""
    K, p, a, U = game.K, game.p, game.a, game.l_max
    Lv, wv, mu, beta = names["L"], names["w"], names["mu"], names["beta"]
    nup, num = names["nup"], names["num"]
    for i in range(K):
        cs, vs = [mu[i]], [-1.0]
        for k in np.flatnonzero(pi == i):
            cs.append(wv[k]); vs.append(1.0)
        for k in np.flatnonzero(pj == i):
            cs.append(wv[k]); vs.append(-1.0)
        # constraint L_{k+1} − L_k ≤ gap_k (multiplier nup_k, normal e_{k+1} − e_k); L_k − L_{k+1} ≤ gap_k (num_k)
        if i < K - 1:
            cs += [nup[i], num[i]]; vs += [-1.0, 1.0]
        if i > 0:
            cs += [nup[i - 1], num[i - 1]]; vs += [1.0, -1.0]
        rows.add(cs, vs, -a * p[i], -a * p[i])                                    # stationarity at node i
        rows.add([mu[i], beta[i]], [1.0, -1.0], -np.inf, 0.0)                     # μ_i ≤ β_i
        rows.add([Lv[i], beta[i]], [1.0, U], -np.inf, U)                          # β_i = 1 ⇒ L_i = 0


def _lipschitz_rows(rows: _MilpRows, game: GridGame, names: dict, Mnu: float) -> None:
    """L ∈ F (consecutive slopes ≤ κτ) and the Lipschitz multipliers' complementarity (binaries γ⁺, γ⁻)."""
    gap = game.kappa * game.tau * np.diff(game.x)
    Lv, nup, num, gp_, gm_ = names["L"], names["nup"], names["num"], names["gp"], names["gm"]
    for k in range(game.K - 1):
        rows.add([nup[k], gp_[k]], [1.0, -Mnu], -np.inf, 0.0)                     # ν⁺ ≤ M γ⁺
        rows.add([Lv[k + 1], Lv[k], gp_[k]], [-1.0, 1.0, 2 * gap[k]], -np.inf, gap[k])  # γ⁺ = 1 ⇒ tight
        rows.add([num[k], gm_[k]], [1.0, -Mnu], -np.inf, 0.0)
        rows.add([Lv[k], Lv[k + 1], gm_[k]], [-1.0, 1.0, 2 * gap[k]], -np.inf, gap[k])
        rows.add([Lv[k + 1], Lv[k]], [1.0, -1.0], -gap[k], gap[k])                # L ∈ F


def _generator_rows(rows: _MilpRows, game: GridGame, names: dict) -> None:
    """The generator's condition q_j > 0 ⇒ L_j = min L, and t_j = min(q_j, b_j) for the Σ|p − q| objective."""
    U = game.l_max
    Lv, qv = names["L"], names["q"]
    mv, rv, tv, bv = names["m"][0], names["r"], names["t"], names["b"]
    for j in range(game.K):
        rows.add([mv, Lv[j]], [1.0, -1.0], -np.inf, 0.0)                          # m ≤ L_j
        rows.add([qv[j], rv[j]], [1.0, -1.0], -np.inf, 0.0)                       # q_j > 0 ⇒ r_j = 1
        rows.add([Lv[j], mv, rv[j]], [1.0, -1.0, U], -np.inf, U)                  # r_j = 1 ⇒ L_j = m
        rows.add([tv[j], qv[j]], [1.0, -1.0], -np.inf, 0.0)                       # t_j ≤ q_j
        rows.add([tv[j], bv[j]], [1.0, -1.0], -np.inf, 0.0)                       # t_j ≤ b_j
