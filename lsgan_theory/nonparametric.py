"""The non-parametric Loss-Sensitive GAN (LS-GAN, Qi 2017): the linear program and its cone bounds L⁻, L⁺.

Conventions (THEORY.md §5).  Points ``x^(1..n)`` are real, ``x^(n+1..n+m)`` generated.  The margin is
``Δ(x, y) = τ·‖x − y‖_p`` with ``p = 1`` (``margin_kind="l1"``, the default, as in the paper's experiments) or
``p = 2`` (``margin_kind="l2"``); ``tau`` and ``margin_kind`` are the names of the glossary (docs/modules.md).  F_κ
is the set of functions that are κ-Lipschitz *with respect to Δ*, i.e.
``|L(x) − L(y)| ≤ κ Δ(x, y)``.  The optimal loss values ``l*`` solve

    min_l  Σ_{i≤n} p_i l_i + λ Σ_{i≤n<j} p_i q_j (Δ(x^(i), x^(j)) + l_i − l_j)_+
    s.t.   |l_u − l_v| ≤ κ Δ(x^(u), x^(v))  for all u, v;   l ≥ 0,

with ``p_i = 1/n`` and ``q_j = 1/m`` for the empirical objective S_{n,m} (other weights give quadrature versions of the
population objective S).  The cone bounds are

    L⁺(x) = min_u (l*_u + κ Δ(x, x^(u))),      L⁻(x) = max_u (l*_u − κ Δ(x, x^(u)))_+ .

This module is LS-GAN (*Loss-Sensitive*) only; it has nothing to do with LSGAN (*Least-Squares* GAN).

The solver.  :func:`solve` is exact: a trust-region method over box LPs (HiGHS) whose models equal S inside their
boxes, with a sparse set of Lipschitz constraints; the engine, its algorithm and its measured costs are in
``lsgan_theory._lpsolver`` (private; its docstring explains the method).  :func:`solve_general_lp` writes the full LP
out and is the independent reference; ``benchmarks/nonparametric.py`` measures one against the other.

References
----------
G.-J. Qi, "Loss-Sensitive Generative Adversarial Networks on Lipschitz Densities", IJCV 2019 (arXiv:1701.06264),
Theorem 2 and Corollaries 1-2.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sparse
from scipy.optimize import linprog
from scipy.spatial import cKDTree

from . import validate
from .resources import check_memory

__all__ = [
    "Solution",
    "solve",
    "solve_general_lp",
    "general_lp",
    "optimal_face",
    "margin_matrix",
    "objective",
    "cone_upper",
    "cone_lower",
    "estimate_memory",
    "nearest_distance",
    "quadrature_grid",
    "population_solution",
    "generalisation_gaps",
]

_MARGINS = ("l1", "l2")
_HIGHS_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10, "presolve": True}
_LIP_CACHE = 256 * 2**20  # bytes of the solver's cached Lipschitz bounds κΔ_uv (d ≥ 2), see estimate_memory


# ------------------------------------------------------------------------------------------------ validation
_as_points = validate.points
_positive = validate.positive


def _margin_p(margin_kind: str) -> int:
    if margin_kind not in _MARGINS:
        raise ValueError(f"margin_kind = {margin_kind!r}: accepted values are 'l1' (default) and 'l2'")
    return 1 if margin_kind == "l1" else 2


def _weights(name: str, w, k: int) -> np.ndarray:
    if w is None:
        return np.full(k, 1.0 / k)
    a = np.asarray(w, dtype=np.float64)
    if a.shape != (k,):
        raise ValueError(f"{name}: expected shape ({k},), got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a < 0) or not a.sum() > 0:
        raise ValueError(f"{name}: weights must be finite, >= 0 and not all zero")
    return a / a.sum()


# ------------------------------------------------------------------------------------------------ margins
def margin_matrix(a, b, margin_kind: str = "l1", tau: float = 1.0) -> np.ndarray:
    """Pairwise margins ``Δ(a_i, b_j) = τ·‖a_i − b_j‖_p``.

    Parameters
    ----------
    a, b : array_like, shape (k,) or (k, d) and (r,) or (r, d)
    margin_kind : {"l1", "l2"}
    tau : float > 0

    Returns
    -------
    ndarray, shape (k, r)
    """
    p = _margin_p(margin_kind)
    tau = _positive("tau", tau)
    A = _as_points("a", a)
    B = _as_points("b", b, A.shape[1])
    _check_pairs(A.shape[0], B.shape[0], A.shape[1], 2, "a, b")
    return tau * _dist(A, B, p)


def _check_pairs(k: int, r: int, d: int, copies: int, argument: str) -> None:
    """Refuse before allocating ``copies`` (k, r) float64 arrays plus the (k, r, d) coordinate differences."""
    check_memory(8.0 * k * r * (copies + (d if d > 1 else 0)), f"{copies} ({k}, {r}) pairwise arrays (d = {d})",
                 argument)


def _dist(A: np.ndarray, B: np.ndarray, p: int) -> np.ndarray:
    if A.shape[1] == 1:
        return np.abs(A[:, 0][:, None] - B[:, 0][None, :])
    diff = A[:, None, :] - B[None, :, :]
    if p == 1:
        return np.abs(diff).sum(-1)
    return np.sqrt((diff * diff).sum(-1))


def _rowdist(A: np.ndarray, B: np.ndarray, p: int) -> np.ndarray:
    """‖A_k − B_k‖_p row by row, shape (k,)."""
    diff = np.abs(A - B)
    return diff.sum(-1) if p == 1 else np.sqrt((diff * diff).sum(-1))


def objective(l_real, l_fake, real, fake, lam, margin_kind: str = "l1", tau: float = 1.0,
              real_weights=None, fake_weights=None) -> float:
    """The LS-GAN objective ``S = Σ p_i L(x_i) + λ Σ_ij p_i q_j (Δ(x_i, z_j) + L(x_i) − L(z_j))_+``.

    With default weights ``p_i = 1/n``, ``q_j = 1/m`` this is the all-pairs empirical S_{n,m} of THEORY.md §5.

    Parameters
    ----------
    l_real : array_like, shape (n,)   loss values at the real points
    l_fake : array_like, shape (m,)   loss values at the generated points
    real, fake : array_like, shape (n,)/(n, d) and (m,)/(m, d)
    lam : float > 0
    """
    lam = _positive("lam", lam)
    R = _as_points("real", real)
    F = _as_points("fake", fake, R.shape[1])
    lr = np.asarray(l_real, dtype=np.float64).reshape(-1)
    lf = np.asarray(l_fake, dtype=np.float64).reshape(-1)
    if lr.shape != (R.shape[0],) or lf.shape != (F.shape[0],):
        raise ValueError(f"l_real/l_fake: shapes {lr.shape}/{lf.shape} do not match {R.shape[0]}/{F.shape[0]} points")
    if not (np.all(np.isfinite(lr)) and np.all(np.isfinite(lf))):
        raise ValueError("l_real/l_fake: loss values must be finite (NaN or inf given)")
    _check_pairs(R.shape[0], F.shape[0], R.shape[1], 4, "real, fake")
    p = _weights("real_weights", real_weights, R.shape[0])
    q = _weights("fake_weights", fake_weights, F.shape[0])
    D = margin_matrix(R, F, margin_kind, tau)
    hinge = np.maximum(D + lr[:, None] - lf[None, :], 0.0)
    return float(p @ lr + lam * (p @ hinge @ q))


# ------------------------------------------------------------------------------------------------ cones
def _cone(x, points: np.ndarray, l: np.ndarray, kappa: float, p: int, tau: float, sign: int) -> np.ndarray:
    d = points.shape[1]
    if l.shape != (points.shape[0],) or not np.all(np.isfinite(l)):
        raise ValueError(f"l: expected {points.shape[0]} finite loss values (one per point), got shape {l.shape}")
    X = np.asarray(x, dtype=np.float64)
    if d == 1:
        shape = X.shape
        Xf = X.reshape(-1, 1)
    else:
        if X.shape[-1:] != (d,):
            raise ValueError(f"x: expected shape (..., {d}) for {d}-dimensional points, got shape {X.shape}")
        shape = X.shape[:-1]
        Xf = X.reshape(-1, d)
    if not np.all(np.isfinite(Xf)):
        raise ValueError("x: contains NaN or inf values")
    out = np.empty(Xf.shape[0])
    chunk = max(1, int(2_000_000 // max(points.shape[0], 1)))
    for s in range(0, Xf.shape[0], chunk):
        D = tau * _dist(Xf[s:s + chunk], points, p)
        if sign > 0:
            out[s:s + chunk] = np.min(l[None, :] + kappa * D, axis=1)
        else:
            out[s:s + chunk] = np.maximum(np.max(l[None, :] - kappa * D, axis=1), 0.0)
    return out.reshape(shape)


def cone_upper(x, points, l, kappa, margin_kind: str = "l1", tau: float = 1.0) -> np.ndarray:
    """``L⁺(x) = min_u (l_u + κ Δ(x, x_u))`` for points (N, d) or (N,), values l (N,); x (...,) in 1-D or (..., d)."""
    P = _as_points("points", points)
    return _cone(x, P, np.asarray(l, float).reshape(-1), _positive("kappa", kappa), _margin_p(margin_kind),
                 _positive("tau", tau), +1)


def cone_lower(x, points, l, kappa, margin_kind: str = "l1", tau: float = 1.0) -> np.ndarray:
    """``L⁻(x) = max_u (l_u − κ Δ(x, x_u))_+`` for points (N, d) or (N,), values l (N,); x (...,) or (..., d)."""
    P = _as_points("points", points)
    return _cone(x, P, np.asarray(l, float).reshape(-1), _positive("kappa", kappa), _margin_p(margin_kind),
                 _positive("tau", tau), -1)


# ------------------------------------------------------------------------------------------------ result
@dataclass(frozen=True)
class Solution:
    """Optimal loss values of the non-parametric LS-GAN and the cone bounds they define.

    Attributes
    ----------
    l : ndarray, shape (n + m,)
        Optimal loss values at the points, real first (``l[:n]``) then generated (``l[n:]``).
    objective : float
        The optimal value S_{n,m} (or the weighted S), evaluated from ``l`` with :func:`objective`'s formula.
    points : ndarray, shape (n + m, d)
        Real then generated points (1-D input is stored as d = 1).
    n, m : int
    lam, kappa, tau : float
    margin_kind : str
    active : ndarray of bool, shape (n, m)
        ``active[i, j]`` is True iff the hinge of pair (real i, generated j) is strictly positive at the optimum,
        ``Δ_ij + l_i − l_{n+j} > tol`` (these pairs carry the hinge gradient; "allocation on demand").
    stats : dict
        Solver statistics: ``rounds`` (trust-region steps), ``lp_solves`` (box LPs, incl. constraint generation),
        ``explicit_pairs`` (largest number of hinge variables in a box LP), ``simplex_iterations``, ``lp_retries``
        (box LPs re-solved from scratch after a non-optimal HiGHS status), ``box_shrinks`` (boxes shrunk for
        holding too many pairs near their kink), ``chain_shifts`` (1-D: line searches moving a run of tight
        neighbours as one), ``lipschitz_constraints`` written, ``seconds``, and ``lp_path``: ``"highspy-warm"`` (one persistent ``highspy`` model, each box LP restarted
        from the previous basis) or ``"linprog-cold"`` (every box LP from scratch through ``scipy.optimize.linprog``).
    """

    l: np.ndarray
    objective: float
    points: np.ndarray
    n: int
    m: int
    lam: float
    kappa: float
    margin_kind: str
    tau: float
    active: np.ndarray
    stats: dict = field(default_factory=dict)

    @property
    def l_real(self) -> np.ndarray:
        return self.l[: self.n]

    @property
    def l_fake(self) -> np.ndarray:
        return self.l[self.n:]

    @property
    def active_pairs(self) -> np.ndarray:
        """Index pairs (i, j) of active hinges, shape (K, 2): i indexes real points, j generated points."""
        return np.argwhere(self.active)

    def upper(self, x) -> np.ndarray:
        """L⁺(x) = min_u (l_u + κ Δ(x, x^(u))); x of shape (...,) in 1-D or (..., d); returns shape (...)."""
        return _cone(x, self.points, self.l, self.kappa, _margin_p(self.margin_kind), self.tau, +1)

    def lower(self, x) -> np.ndarray:
        """L⁻(x) = max_u (l_u − κ Δ(x, x^(u)))_+; x of shape (...,) in 1-D or (..., d); returns shape (...)."""
        return _cone(x, self.points, self.l, self.kappa, _margin_p(self.margin_kind), self.tau, -1)

    def active_fraction(self) -> np.ndarray:
        """For each generated point, the fraction of its n hinge pairs that are active, shape (m,)."""
        return self.active.mean(axis=0)


# ------------------------------------------------------------------------------------------------ memory
def estimate_memory(n: int, m: int, d: int = 1) -> int:
    """Bytes :func:`solve` needs for n real and m generated points in dimension d (peak resident-memory growth).

    ``per_pair·n·m + 3 KiB·E + 2 KiB·N + Lipschitz cache + fixed`` with N = n + m and

    - per hinge pair, 1-D: the ``active`` flags of the result (1 B; the sweeps keep no (n, m) array, the final
      pass works in row chunks).  d ≥ 2: the margins Δ, two work buffers, two flags and a float copy of a mask for
      non-uniform weights (35 B), or the coordinate differences of the distance construction (16·d + 8 B), whichever
      is larger;
    - E = min(n·m, c_d·N) explicit pairs in the largest box LP, c_d = 3.5, 10, 14 for d = 1, 2, ≥ 3, each ≈ 3 KiB
      inside HiGHS (the model column-wise and row-wise, its scaled simplex copy, the factor and work arrays); the
      box LPs are capped near 8·N pairs (4·N in 1-D; more where the shrink stops at its floor); measured E/N on
      Gaussian data (λ = 1, κ = 2): 3.2-4.0 in 1-D (n = 10⁴, with long tight runs moved as one), 7-10 in 2-D
      (n = 1000, 2000), 7.6-18 in 3-D (n = 500, 1000);
    - the cached Lipschitz bounds κΔ_uv (d ≥ 2): min(4·N² B, 256 MiB); fixed: 16 MiB (row chunks of ≤ 16 MB), 48
      MiB in 1-D (measured peaks 102 / 172 MB at n = 1500 / 4000 and 0.26-0.30 GiB at 10⁴ fit 3.5·N pairs plus
      48 MiB: ratios 0.9 / 1.0 / 1.2-1.65).

    Calibrated against the peak RSS growth of a solve (``resource.getrusage(RUSAGE_SELF).ru_maxrss`` minus the
    resident size before the call, which counts HiGHS' own allocations): tests/test_nonparametric.py checks the
    ratio on a 1-D and a 2-D problem.  The explicit-pair count varies between data sets (×2 seen in 1-D), so this
    is a central estimate, not a bound.
    """
    n = validate.integer("n", n, minimum=0)
    m = validate.integer("m", m, minimum=0)
    d = validate.integer("d", d, minimum=1)
    N = n + m
    dd = min(max(int(d), 1), 3)
    explicit = min(n * m, int((3.5, 10, 14)[dd - 1] * N))
    if d == 1:
        per_pair, lip, fixed = 1, 0, 48 * 2**20
    else:
        per_pair, lip, fixed = max(35, 16 * d + 8), min(4 * N * N, _LIP_CACHE), 16 * 2**20
    return int(per_pair * n * m + 3072 * explicit + 2048 * N + lip + fixed)


def _check_memory(n: int, m: int, d: int, max_memory) -> None:
    limit = None if max_memory is None else validate.positive("max_memory", max_memory)
    check_memory(estimate_memory(n, m, d), f"the LP for n = {n}, m = {m} (d = {d}) with its {n * m} hinge pairs "
                 "(default limit: half the available memory; max_memory)", "real, fake", limit)


# ------------------------------------------------------------------------------------------------ the LP
def solve(real, fake, lam, kappa, margin_kind: str = "l1", *, tau: float = 1.0, real_weights=None,
          fake_weights=None, tol: float = 1e-9, max_rounds: int = 200, max_memory: float | None = None,
          warm: bool = True, progress=None) -> Solution:
    """Solve the non-parametric LS-GAN linear program exactly (THEORY.md §5, Theorem 2).

    Minimises ``S_{n,m}(l) = (1/n) Σ_i l_i + (λ/(n m)) Σ_{i,j} (Δ(x_i, z_j) + l_i − l_{n+j})_+`` over
    ``l ≥ 0`` with ``|l_u − l_v| ≤ κ Δ(x_u, x_v)`` for all points, ``Δ(x, y) = τ·‖x − y‖_p``.

    Parameters
    ----------
    real : array_like, shape (n,) or (n, d)
        Real samples x^(1..n).
    fake : array_like, shape (m,) or (m, d)
        Generated samples x^(n+1..n+m).
    lam : float > 0
        λ, the weight of the hinge term (the public code's γ = 1/λ).
    kappa : float > 0
        κ, the Lipschitz constant of the loss with respect to Δ.
    margin_kind : {"l1", "l2"}
        The norm in Δ.
    tau : float > 0, keyword
        τ in Δ = τ‖x − y‖_p.
    real_weights, fake_weights : array_like (n,), (m,), optional
        Weights p_i, q_j (normalised to sum 1) replacing 1/n and 1/m, e.g. quadrature weights for the population S.
    tol : float
        Relative tolerance of the optimality checks (scaled by κ·max Δ), in (0, 1].
    max_rounds : int
        Safety limit on rounds, >= 1 (the scheme terminates in finitely many; reaching it raises RuntimeError).
    max_memory : float, optional
        Bytes the dense per-pair arrays may use (default: half the available memory); see :func:`estimate_memory`.
    warm : bool, keyword
        Keep one HiGHS model for all box LPs and restart each from the previous basis (default).  ``False`` solves
        every box LP from scratch through ``scipy.optimize.linprog`` (same optimum; a cross-check, and the path taken
        when ``highspy`` is not installed).  ``stats["lp_path"]`` records which path ran.
    progress : callable, optional, keyword
        Called after every trust-region round (of the coarse starts too) with a dict: ``level`` (0 for the problem
        itself, k for the start problem on every 2^k-th point), ``n``, ``m``, ``round``, ``explicit_pairs`` (hinge
        variables in the box LP), ``objective`` (S at the round's centre, a feasible point: an upper bound on S*),
        ``box_hits`` (values on the boundary of their box; 0 ends the level: its optimum is certified) and
        ``seconds`` since the call.  The method has no cheap lower bound on S*; ``box_hits`` is its progress.

    Returns
    -------
    Solution
        ``l`` (n + m,), ``objective``, ``upper(x)``, ``lower(x)``, ``active`` (n, m) and solver ``stats``.

    Raises
    ------
    ValueError
        λ ≤ 0, κ ≤ 0, τ ≤ 0, NaN/inf points, mismatched dimensions, an unknown margin, or a problem too large
        for ``max_memory``.
    """
    t0 = time.perf_counter()
    lam = _positive("lam", lam)
    kappa = _positive("kappa", kappa)
    tau = _positive("tau", tau)
    tol = validate.real("tol", tol, minimum=0.0, strict_minimum=True, maximum=1.0)
    max_rounds = validate.integer("max_rounds", max_rounds, minimum=1)
    _margin_p(margin_kind)  # validates margin_kind before any work
    R = _as_points("real", real)
    F = _as_points("fake", fake, R.shape[1])
    n, m, d = R.shape[0], F.shape[0], R.shape[1]
    _check_memory(n, m, d, max_memory)
    pw = _weights("real_weights", real_weights, n)
    qw = _weights("fake_weights", fake_weights, m)
    from ._lpsolver import solve_validated

    return solve_validated(R, F, pw, qw, lam, kappa, margin_kind, tau, tol, max_rounds, warm, progress, t0)


def solve_general_lp(real, fake, lam, kappa, margin_kind: str = "l1", *, tau: float = 1.0, real_weights=None,
                     fake_weights=None, method: str = "highs") -> tuple[np.ndarray, float]:
    """The reference: the full LP of Theorem 2 written out and handed to HiGHS.

    Variables ``l`` (n + m) and one hinge variable ``s_ij ≥ 0`` per pair (n·m), rows ``s_ij ≥ Δ_ij + l_i − l_j``
    for every pair and ``±(l_u − l_v) ≤ κ Δ_uv`` for every pair of points, ``l ≥ 0``.  Minimises
    ``Σ p_i l_i + λ Σ p_i q_j s_ij``.  Slow (this is what :func:`solve` avoids); meant for checking and benchmarks.
    ``real`` (n,) or (n, d), ``fake`` (m,) or (m, d), weights (n,), (m,); the other arguments as in :func:`solve`.

    Returns
    -------
    l : ndarray, shape (n + m,)
        An optimal vertex (the optimum need not be unique).
    objective : float
        The optimal value.
    """
    c, A, b, N = general_lp(real, fake, lam, kappa, margin_kind, tau=tau, real_weights=real_weights,
                            fake_weights=fake_weights)
    res = linprog(c, A_ub=A, b_ub=b, bounds=(0, None), method=method, options=_HIGHS_OPTIONS)
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed on the general LP: status {res.status}, {res.message}")
    return res.x[:N], float(res.fun)


def general_lp(real, fake, lam, kappa, margin_kind: str = "l1", *, tau: float = 1.0, real_weights=None,
               fake_weights=None):
    """The full LP written out as ``(c, A_ub, b_ub, N)``: variables (l_1..l_N, s_11..s_nm) ≥ 0 with N = n + m,
    minimise c·x subject to A_ub x ≤ b_ub (A_ub a scipy.sparse CSR matrix).  All n·m hinge variables and all
    N(N − 1) ordered Lipschitz pairs; memory grows like (n + m)², so use it on small instances."""
    lam = _positive("lam", lam)
    kappa = _positive("kappa", kappa)
    tau = _positive("tau", tau)
    p = _margin_p(margin_kind)
    R = _as_points("real", real)
    F = _as_points("fake", fake, R.shape[1])
    n, m = R.shape[0], F.shape[0]
    pw = _weights("real_weights", real_weights, n)
    qw = _weights("fake_weights", fake_weights, m)
    N = n + m
    # per ordered pair of points: K, the row/col/value arrays of two entries (int64 + float) and the CSR copy
    check_memory(8.0 * N * N * (12 + R.shape[1]) + 8.0 * n * m * 20, f"the general LP for n + m = {N} points "
                 f"(all {N * (N - 1)} Lipschitz pairs written out)", "real, fake")
    P = np.concatenate([R, F])
    D = tau * _dist(R, F, p)
    K = kappa * tau * _dist(P, P, p)
    ii, jj = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    ii, jj = ii.ravel(), jj.ravel()
    H = n * m
    u, v = np.nonzero(~np.eye(N, dtype=bool))  # all ordered pairs u != v: l_u − l_v ≤ κΔ_uv
    L = u.size
    rows = np.concatenate([np.arange(H)] * 3 + [H + np.arange(L)] * 2)
    cols = np.concatenate([ii, n + jj, N + np.arange(H), u, v])
    vals = np.concatenate([np.ones(H), -np.ones(H), -np.ones(H), np.ones(L), -np.ones(L)])
    b = np.concatenate([-D.ravel(), K[u, v]])
    c = np.concatenate([np.concatenate([pw, np.zeros(m)]), lam * (pw[:, None] * qw[None, :]).ravel()])
    A = sparse.csr_matrix((vals, (rows, cols)), shape=(H + L, N + H))
    return c, A, b, N


def optimal_face(real, fake, lam, kappa, s_opt, margin_kind: str = "l1", *, n_random: int = 0, rng=None):
    """Coordinatewise extremes of the LP's optimal face and ``n_random`` random points of it.

    Solves 2N + n_random LPs over {x : A x ≤ b, c·x ≤ s_opt(1 + 1e-10) + 1e-13}; returns ``(lo, hi, points)`` with
    ``lo``/``hi`` of shape (N,) and ``points`` a list of (N,) arrays.  Used to test Corollary 2 when the LP optimum is
    not unique (every minimiser lies between L⁻[lo] and L⁺[hi]).
    """
    from scipy.optimize import linprog

    s_opt = validate.real("s_opt", s_opt, minimum=0.0)
    n_random = validate.integer("n_random", n_random, minimum=0)
    rng = np.random.default_rng(rng)
    c, A, b, N = general_lp(real, fake, lam, kappa, margin_kind)
    A2 = sparse.vstack([A, sparse.csr_matrix(c)]).tocsr()
    b2 = np.concatenate([b, [s_opt * (1 + 1e-10) + 1e-13]])
    lo, hi = np.empty(N), np.empty(N)
    for v in range(N):
        e = np.zeros(c.size)
        e[v] = 1.0
        lo[v] = linprog(e, A_ub=A2, b_ub=b2, bounds=(0, None), method="highs").x[v]
        hi[v] = -linprog(-e, A_ub=A2, b_ub=b2, bounds=(0, None), method="highs").fun
    pts = []
    for _ in range(n_random):
        e = np.zeros(c.size)
        e[:N] = rng.normal(size=N)
        pts.append(linprog(e, A_ub=A2, b_ub=b2, bounds=(0, None), method="highs").x[:N])
    return lo, hi, pts


# ------------------------------------------------------------------------------------------------ population / study
def nearest_distance(fake, real, margin_kind: str = "l1", tau: float = 1.0) -> np.ndarray:
    """Margin from each generated point to its nearest real point: ``δ_j = min_i Δ(z_j, x_i) = τ min_i ‖z_j − x_i‖_p``.

    ``fake`` (m,) or (m, d), ``real`` (n,) or (n, d); returns shape (m,) (a k-d tree, no (n, m) array).
    """
    p = _margin_p(margin_kind)
    R = _as_points("real", real)
    F = _as_points("fake", fake, R.shape[1])
    return _positive("tau", tau) * cKDTree(R).query(F, k=1, p=p)[0]


def quadrature_grid(P, Q, size: int = 200, rel_cut: float = 1e-10, box_cut: float = 1e-4):
    """A tensor midpoint grid covering both densities and the weights ``p(x)·cell``, ``q(x)·cell`` (normalised).

    The box is the part of the union of the two ``domain()`` boxes where either density exceeds ``box_cut`` times
    its maximum on a probe grid (the 20-σ quadrature domains of Gaussians would waste the grid; for a Gaussian,
    1e-4 cuts at 4.3σ, which drops a mass below 1e-4 per dimension).  Nodes whose
    weight is below ``rel_cut`` are dropped from each set separately.

    Returns
    -------
    real_pts, p_w, fake_pts, q_w : arrays (k, d), (k,), (r, d), (r,)
    """
    if P.dim != Q.dim:
        raise ValueError(f"P, Q: dimension mismatch, {P.dim} vs {Q.dim}")
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 4:
        raise ValueError(f"size = {size!r}: must be an integer >= 4")
    rel_cut = validate.real("rel_cut", rel_cut, minimum=0.0, maximum=1.0)
    box_cut = validate.real("box_cut", box_cut, minimum=0.0, maximum=1.0, strict_minimum=True)
    # the grid: size^d nodes, their coordinates, two weight sets and masks (≈ 8·(3d + 6) B per node)
    check_memory(8.0 * float(min(size, 10**30)) ** P.dim * (3 * P.dim + 6), f"a quadrature grid of {size}^{P.dim} nodes",
                 "size")
    d = P.dim
    lo = np.minimum([a for a, _ in P.domain()], [a for a, _ in Q.domain()])
    hi = np.maximum([b for _, b in P.domain()], [b for _, b in Q.domain()])
    # trim the box with a probe grid
    probe = 400 if d == 1 else 120
    axes = [np.linspace(lo[k], hi[k], probe) for k in range(d)]
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, d)
    x = mesh[:, 0] if d == 1 else mesh
    dens = np.maximum(P.pdf(x) / P.pdf(x).max(), Q.pdf(x) / Q.pdf(x).max())
    keep = mesh[dens > box_cut]
    step = (hi - lo) / (probe - 1)
    lo, hi = keep.min(0) - step, keep.max(0) + step
    edges = [np.linspace(lo[k], hi[k], size + 1) for k in range(d)]
    mids = [0.5 * (e[1:] + e[:-1]) for e in edges]
    pts = np.stack(np.meshgrid(*mids, indexing="ij"), -1).reshape(-1, d)
    x = pts[:, 0] if d == 1 else pts
    out = []
    for D_ in (P, Q):
        w = D_.pdf(x)
        w = w / w.sum()
        k = w > rel_cut
        out += [pts[k], w[k] / w[k].sum()]
    return tuple(out)


def population_solution(P, Q, lam, kappa, margin_kind: str = "l1", *, tau: float = 1.0, size: int = 200,
                        **kw) -> Solution:
    """The population LS-GAN LP: the same LP on a quadrature grid weighted by the densities P (real) and Q.

    ``objective`` approximates S* = min_{L∈F_κ} E_P L + λ E_{P×Q}(Δ + L(x) − L(z))_+ with an O(grid step) error;
    compare two grid sizes to estimate it.  The points are the grid nodes of :func:`quadrature_grid` (k real, r
    generated; ``l`` has shape (k + r,)); ``kw`` goes to :func:`solve`.
    """
    R, pw, F, qw = quadrature_grid(P, Q, size)
    return solve(R, F, lam, kappa, margin_kind, tau=tau, real_weights=pw, fake_weights=qw, **kw)


def generalisation_gaps(P, Q, lam, kappa, ns, seeds, *, margin_kind: str = "l1", tau: float = 1.0, grid: int = 200,
                        seed: int = 0, known=None, on_solved=None) -> dict:
    """|S*_{n,n} − S*| over seeds: the non-parametric generalisation gap (THEORY.md §5, "Generalisation").

    Parameters
    ----------
    P, Q : densities (real, generated) of equal dimension
    ns : sequence of int, sample sizes n = m
    seeds : int, repetitions per n (independent samples from ``numpy.random.default_rng([seed, n, s])``)
    grid : points per dimension of the population quadrature grid; the population value is also computed on a
        grid of half the size, and the difference is returned as ``population_error`` (discretisation error proxy)
    known : mapping, optional
        LPs solved before, ``(what, n, s) -> {"objective", "seconds"}`` with ``what`` one of ``"population"``,
        ``"population_half"`` (n = s = 0) and ``"empirical"``: they are not solved again (a resumed run).
    on_solved : callable, optional
        Called as ``on_solved(what, n, s, objective, seconds, done, total)`` after every LP solved by this call (to
        record it, or to report progress).  :func:`lsgan_theory.studies.nonparametric.recorded_generalisation_gaps`
        keeps the LPs in a file with these two hooks.

    Returns
    -------
    dict with ``n`` (k,), ``gaps`` (k, seeds), ``empirical`` (k, seeds), ``population``, ``population_error``,
    ``seconds`` (the LPs' own wall seconds, ``known`` ones included), ``resumed`` (LPs taken from ``known``),
    ``wall_seconds`` (this call).
    """
    t0 = time.perf_counter()
    seeds = validate.integer("seeds", seeds, minimum=1)
    ns = [validate.integer("ns", v, minimum=1) for v in ns]
    if not ns:
        raise ValueError("ns: needs at least one sample size")
    done = dict(known or {})
    jobs = [("population", 0, 0, int(grid)), ("population_half", 0, 0, max(4, int(grid) // 2))]
    jobs += [("empirical", n, s, 0) for n in ns for s in range(int(seeds))]
    resumed = sum(1 for j in jobs if j[:3] in done)
    for k, (what, n, s, size) in enumerate(jobs):
        if (what, n, s) in done:
            continue
        t1 = time.perf_counter()
        if what == "empirical":
            rng = np.random.default_rng([seed, n, s])
            value = solve(P.sample(n, rng), Q.sample(n, rng), lam, kappa, margin_kind, tau=tau).objective
        else:
            value = population_solution(P, Q, lam, kappa, margin_kind, tau=tau, size=size).objective
        done[(what, n, s)] = {"objective": float(value), "seconds": time.perf_counter() - t1}
        if on_solved is not None:
            on_solved(what, n, s, float(value), done[(what, n, s)]["seconds"], k + 1, len(jobs))
    pop, pop_half = done[("population", 0, 0)]["objective"], done[("population_half", 0, 0)]["objective"]
    emp = np.array([[done[("empirical", n, s)]["objective"] for s in range(int(seeds))] for n in ns])
    seconds = sum(done[j[:3]]["seconds"] for j in jobs)
    return {"n": np.asarray(ns), "gaps": np.abs(emp - pop), "empirical": emp, "population": pop,
            "population_error": abs(pop - pop_half), "seconds": seconds, "resumed": resumed,
            "wall_seconds": time.perf_counter() - t0}
