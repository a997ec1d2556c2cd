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

Algorithm (exact).  The LP has only difference constraints; its size is dominated by the n·m hinge pairs.  Every
hinge ``(a)_+ = max(0, a)`` is bounded below by each of its two pieces; pairs assigned a piece (``0`` or the linear
``a``) collapse into per-node objective coefficients (no row, no column), and only pairs near their kink carry a
hinge variable.  :func:`solve` runs an exact trust-region method on this model: around the current feasible point it
solves the LP restricted to a box |l_u − l^k_u| ≤ δ_u, in which every pair with |Δ_ij + l_i − l_j| > δ_i + δ_j keeps
its sign, so the model *is* S inside the box and the box optimum is exact.  An optimum strictly inside its box is a
local, hence (convexity) global, minimum; otherwise it becomes the next point and the radii of the coordinates that
hit the box grow (×2) while the others follow their last step, and large radii spread (halving) to graph neighbours.
A box holding more than 8·(n + m) pairs near their kink (4·(n + m) in 1-D) is shrunk (radii halved, down to 0.625
of the proposed ones, so a radius that hit its box still grows ×1.25) before its LP is written: more, smaller box
LPs.
A box whose optimum does not improve S certifies its centre in the same way.  Only a sparse set of Lipschitz
constraints is written: sorted neighbours in 1-D, which imply all others; a nearest-neighbour graph in higher
dimension, with violated constraints added and the box re-solved (constraint generation).  The start is the cone
midpoint of the solution on every second point (recursively, above 20 000 pairs) with the generated values raised to
the largest feasible ones, U(z) = min_i (l_i + κΔ(x_i, z)), which never increases S; in 1-D each box optimum's
generated values are raised the same way.  In 1-D, long runs of points whose neighbour constraints are all tight (at
the optimum a data tail is typically one ramp of slope κτ, a third of all points in the benchmark) move as one: a
line search over the run's shift at the start of each level and whenever most of a run hits its box
(:class:`_ChainShift1D`; the point it returns is feasible and no worse, so it never changes what a box certifies),
after which the run is held at its new values in the next box LP (free and warm-started, that LP costs several
times more per simplex iteration) and then restarts at the first radius; a box with held values certifies nothing.

Cost.  HiGHS (dual simplex, Dantzig pricing) on the box LPs dominates (≈ 75-80 % of the time, measured in 1-D at
n = 4000 and 2-D at n = 1000), and a box LP's time grows faster than its size, hence the cap on pairs per box: CPU
time without → with it (n = m, λ = 1, κ = 2, benchmark data, seed 0): 1-D n = 4000 10.2 → 6.7 s (seed 1: 31 → 21 s),
2-D n = 1000 20.7 → 6.3 s, 3-D n = 500 16.4 → 3.3 s.  With it, worst of the benchmark's five data sets on an idle
2-core machine: 2-D n = 2000 30 s, 3-D n = 1000 16 s; 1-D n = 10⁴ 145 s before long tight runs moved as one, 48 s after.  (Tried and
dropped: no box at all — fix each pair's piece at the start, make the pairs whose piece is wrong at the model's
optimum explicit, repeat; exact and 3 rounds, but the unboxed optimum wanders, 53k-300k pairs
become explicit and one LP took 74 s at 1-D n = 2000; for 1-D n = 10⁴, the README's non-parametric section lists what else was
measured: the flow dual by interior point for large boxes, a trust region on differences, line-search extrapolation,
other starts and HiGHS options.)  One HiGHS model (``highspy.Highs``, the public bindings) lives through all steps of
a solve: between steps only the costs and bounds of l change and pairs enter or leave the explicit set, so each box
LP restarts from the previous optimal basis (``warm=False`` solves each from scratch through
``scipy.optimize.linprog``, the same optimum).  The per-pair work between LPs: in 1-D, sorted sweeps with no (n, m)
array at all — for z_j ≥ x_i the hinge argument is A_j − B_i (A = τz − l_z, B = τx − l_x), otherwise C_i − E_j, so
counting the pairs on a piece is a 2-D dominance count, O((n + m) log²(n + m)), and the pairs near their kink are
found through a sorted key (output-sensitive); the raise to U is an O((n + m) log n) sweep.  In d ≥ 2, a few passes
over reused (n, m) buffers, and the N × N Lipschitz bounds are cached for the constraint-generation checks.
``benchmarks/nonparametric.py`` measures the solver against the general LP.  :func:`solve_general_lp` writes the
full LP out (all n·m hinge variables, all Lipschitz pairs) and is the independent reference.

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

try:  # the public HiGHS bindings (PyPI ``highspy``): a persistent model lets each box LP restart from a basis
    import highspy as _highspy
except ImportError:  # pragma: no cover - highspy missing: linprog with cold starts (same optimum, slower)
    _highspy = None

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
_COARSE_PAIRS = 20_000  # above this many hinge pairs, start from the solution on every second point
_TR_PAIRS = 4_000  # pairs near their kink that carry a hinge variable in one trust-region step (at least)
_HIGHS_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10, "presolve": True}
# Box LPs: Dantzig pricing in the dual simplex is 1.6-1.8x faster than HiGHS' default dual steepest edge.  Presolve
# finds little to remove in a 1-D box LP (a chain of Lipschitz rows) and costs ~10 % more than it saves there, while
# it saves ~20 % on the 2-D k-NN graphs; measured on the benchmark instances (1-D n = m = 2000, 2-D n = m = 500).
_BOX_OPTIONS = {**_HIGHS_OPTIONS, "simplex_dual_edge_weight_strategy": "dantzig"}
_BOX_OPTIONS_1D = {**_BOX_OPTIONS, "presolve": False}
_GROW, _FOLLOW = 2.0, 2.0  # radius of a coordinate that hit its box ×_GROW; others _FOLLOW × their last step
_SPREAD, _SPREAD_1D = 3, 2  # a coordinate's radius reaches this many graph neighbours (halved at each step);
#                             1-D with runs moved as one: 2 (data set 1 at n = 10⁴: 63 s against 68 s with 3)
_DROP = 1.0  # an explicit pair leaves the box LP once |Δ + l_i − l_j| exceeds _DROP × its reach
_I32 = np.int32  # HiGHS index type
_CAP = 8  # at most _CAP·N pairs near their kink in one box LP (0: no cap), see the module docstring
_CAP_1D = 4  # ... in 1-D: at n = m = 10⁴ the benchmark's five data sets took 85/149/129/67/148 s with 8,
#              52/145/120/65/119 s with 4 (idle 2-core machine, benchmarks/nonparametric.py)
_FLOOR = 0.625  # ... by shrinking the proposed radii at most to this fraction
_R0_EXACT, _R0_SAMPLE = 4_000_000, 400_000  # 1-D: first radius from all pairs up to _R0_EXACT, else a sample
_SHIFT_MIN, _SHIFT_FRAC = 64, 0.05  # 1-D: runs of tight neighbours of ≥ max(64, 5 % of N) points move as one
_SHIFT_REL = 0.01  # ... by a golden-section search to 1 % of its bracket (data set 1 at n = m = 10⁴, two runs at
#                    a time on 2 cores: 68 s with 0.1 %, 63 s with 1 %, 70 s with 5 %)
_LIP_CACHE = 256 * 2**20  # bytes of cached Lipschitz bounds κΔ_uv (d ≥ 2)


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
def _weighted_counts(mask: np.ndarray, pw: np.ndarray, qw: np.ndarray, uniform: bool):
    """(mask @ qw, pw @ mask) for a boolean (n, m) mask; counting avoids a float copy of the mask when the weights
    are uniform (the empirical S_{n,m})."""
    if uniform:
        return qw[0] * np.count_nonzero(mask, axis=1), pw[0] * np.count_nonzero(mask, axis=0)
    return mask @ qw, pw @ mask


def _highs_ok(status, what: str) -> None:
    if status == _highspy.HighsStatus.kError:
        raise RuntimeError(f"HiGHS {what} failed on the LS-GAN box LP")


def _quiet_highs():
    """A ``highspy.Highs`` whose log is off from the start.

    ``highspy.Highs()`` installs its Python callbacks in its constructor, and with HiGHS' default ``output_flag``
    that prints the HiGHS banner on stdout (once per process), which would corrupt ``bounds --json``.  This builds
    the C++ object through the base class's constructor, switches the log off, and leaves the callbacks out (the box
    LPs use none); every method used here is the public ``Highs`` API.
    """
    h = _highspy.Highs.__new__(_highspy.Highs)
    super(_highspy.Highs, h).__init__()
    if h.setOptionValue("output_flag", False) != _highspy.HighsStatus.kOk:  # pragma: no cover
        raise RuntimeError("HiGHS rejected option output_flag = False")
    return h


class _BoxModel:
    """The box LP of one :func:`solve` call, kept between trust-region steps.

    Columns: the N loss values l, then one hinge variable s_e ≥ 0 per *explicit* pair e = (i, j); rows: one ranged
    row ``−κΔ_uv ≤ l_u − l_v ≤ κΔ_uv`` per Lipschitz edge and ``l_i − l_{n+j} − s_e ≤ −Δ_ij`` per explicit pair.
    Between steps only the costs and bounds of l change and explicit pairs come and go, so HiGHS restarts from the
    previous optimal basis (far fewer simplex iterations than a cold start); the model is a ``highspy.Highs`` (the
    public bindings maintained with HiGHS).  ``warm=False`` (or no ``highspy`` installed) solves every box LP from
    scratch with ``scipy.optimize.linprog``, an independent path to the same optimum.
    """

    def __init__(self, N, n, m, lam, pw, qw, delta, options, warm=True):
        self.N, self.n, self.m, self.lam, self.pw, self.qw, self.delta = N, n, m, lam, pw, qw, delta
        self.options = options
        self.edges = np.zeros((0, 2), dtype=np.int64)
        self.bl = np.zeros(0)
        self.pairs = np.zeros(0, dtype=np.int64)  # flat keys i*m + j of the explicit pairs, in column order
        self.iterations = 0  # simplex iterations over all box LPs
        self.retries = 0  # box LPs the persistent model had to re-solve from scratch
        self.highs = None
        if warm and _highspy is not None:
            try:
                self._build_highs(N, options)
            except (AttributeError, TypeError, RuntimeError):  # pragma: no cover - a highspy with another API
                self.highs = None

    def _build_highs(self, N, options):
        h = _quiet_highs()
        native = {"output_flag": False, "solver": "simplex", "simplex_strategy": 1,  # dual simplex
                  "simplex_dual_edge_weight_strategy": 0,  # Dantzig
                  "presolve": "on" if options["presolve"] else "off",
                  "primal_feasibility_tolerance": options["primal_feasibility_tolerance"],
                  "dual_feasibility_tolerance": options["dual_feasibility_tolerance"]}
        for key, val in native.items():
            if h.setOptionValue(key, val) != _highspy.HighsStatus.kOk:  # pragma: no cover
                raise RuntimeError(f"HiGHS rejected option {key} = {val!r}")
        inf = h.getInfinity()
        _highs_ok(h.passModel(N, 0, 0, 1, 1, 0.0, np.zeros(N), np.zeros(N), np.full(N, inf), np.zeros(0),
                              np.zeros(0), np.zeros(N + 1, dtype=_I32), np.zeros(0, dtype=_I32), np.zeros(0),
                              np.zeros(N, dtype=_I32)), "passModel")
        self.highs = h
        self.row_pair = np.zeros(0, dtype=np.int64)  # per row: pair key, or −1 for a Lipschitz row

    # -- structure
    def add_edges(self, edges, bl):
        k = edges.shape[0]
        if k == 0:
            return
        self.edges = np.concatenate([self.edges, edges])
        self.bl = np.concatenate([self.bl, bl])
        if self.highs is not None:
            _highs_ok(self.highs.addRows(k, -bl, bl, 2 * k, np.arange(0, 2 * k, 2, dtype=_I32),
                                         edges.astype(_I32).ravel(), np.tile([1.0, -1.0], k)), "addRows")
            self.row_pair = np.concatenate([self.row_pair, np.full(k, -1, dtype=np.int64)])

    def contains(self, keys):
        """Whether each flat pair key i*m + j is an explicit pair of the model."""
        return np.isin(keys, self.pairs)

    def add_pairs(self, ei, ej):
        E = ei.size
        if E == 0:
            return
        keys = ei * self.m + ej
        if self.highs is not None:
            h = self.highs
            c0 = h.getNumCol()
            _highs_ok(h.addCols(E, self.lam * self.pw[ei] * self.qw[ej], np.zeros(E), np.full(E, h.getInfinity()), 0,
                                np.zeros(E + 1, dtype=_I32), np.zeros(0, dtype=_I32), np.zeros(0)), "addCols")
            idx = np.stack([ei, self.n + ej, c0 + np.arange(E)], axis=1).astype(_I32).ravel()
            _highs_ok(h.addRows(E, np.full(E, -h.getInfinity()), -self.delta(ei, ej), 3 * E,
                                np.arange(0, 3 * E, 3, dtype=_I32), idx, np.tile([1.0, -1.0, -1.0], E)), "addRows")
            self.row_pair = np.concatenate([self.row_pair, keys])
        self.pairs = np.concatenate([self.pairs, keys])

    def drop_pairs(self, gone):
        """Remove the explicit pairs flagged in ``gone`` (aligned with ``pairs``); their piece goes into the costs."""
        if not gone.any():
            return
        keys = self.pairs[gone]
        if self.highs is not None:
            cols = self.N + np.flatnonzero(gone)
            rows = np.flatnonzero(np.isin(self.row_pair, keys))
            _highs_ok(self.highs.deleteCols(cols.size, cols.astype(_I32)), "deleteCols")
            _highs_ok(self.highs.deleteRows(rows.size, rows.astype(_I32)), "deleteRows")
            self.row_pair = np.delete(self.row_pair, rows)
        self.pairs = self.pairs[~gone]

    # -- one box LP
    def solve(self, c_l, lo, hi) -> np.ndarray:
        N = self.N
        if self.highs is not None:
            h = self.highs
            idx = np.arange(N, dtype=_I32)
            _highs_ok(h.changeColsCost(N, idx, c_l), "changeColsCost")
            _highs_ok(h.changeColsBounds(N, idx, lo, np.minimum(hi, h.getInfinity())), "changeColsBounds")
            _highs_ok(h.run(), "run")
            if h.getModelStatus() != _highspy.HighsModelStatus.kOptimal:
                # rare (tiny λ: hinge costs near the dual tolerance): once more from scratch without presolve, and
                # if that fails too, this step goes through linprog; the model stays for the next step
                self.retries += 1
                h.clearSolver()
                h.setOptionValue("presolve", "off")
                h.run()
                if self.options["presolve"]:
                    h.setOptionValue("presolve", "on")
                if h.getModelStatus() != _highspy.HighsModelStatus.kOptimal:
                    h.clearSolver()
                    return self._solve_cold(c_l, lo, hi)
            self.iterations += int(h.getInfo().simplex_iteration_count)
            return np.clip(np.asarray(h.getSolution().col_value)[:N], lo, hi)
        return self._solve_cold(c_l, lo, hi)

    def _solve_cold(self, c_l, lo, hi) -> np.ndarray:
        """The same box LP written out and solved from scratch by ``scipy.optimize.linprog``."""
        N, n = self.N, self.n
        ei, ej = np.divmod(self.pairs, self.m)
        E = ei.size
        nl = self.edges.shape[0]
        c = np.concatenate([c_l, self.lam * self.pw[ei] * self.qw[ej]])
        r_l, r_h = np.arange(nl), 2 * nl + np.arange(E)
        rows = np.concatenate([r_l, nl + r_l, r_l, nl + r_l, r_h, r_h, r_h])
        cols = np.concatenate([self.edges[:, 0], self.edges[:, 1], self.edges[:, 1], self.edges[:, 0], ei, n + ej,
                               N + np.arange(E)])
        vals = np.concatenate([np.ones(2 * nl), -np.ones(2 * nl), np.ones(E), -np.ones(E), -np.ones(E)])
        b = np.concatenate([self.bl, self.bl, -self.delta(ei, ej)])
        bounds = np.concatenate([np.stack([lo, hi], 1), np.stack([np.zeros(E), np.full(E, np.inf)], 1)])
        A = sparse.csr_matrix((vals, (rows, cols)), shape=(len(b), N + E))
        res = linprog(c, A_ub=A, b_ub=b, bounds=bounds, method="highs-ds", options=self.options)
        if res.status != 0:
            raise RuntimeError(f"HiGHS failed on the LS-GAN box LP: status {res.status}, {res.message}")
        self.iterations += int(res.nit)
        return np.clip(res.x[:N], lo, hi)


# ------------------------------------------------------------------------------------------------ pair oracles
def _prefix_greater(keys: np.ndarray, s: np.ndarray, thr: np.ndarray, weights) -> list:
    """Offline 2-D dominance sums: for each query q, ``Σ_{k < s_q, keys[k] > thr_q} w[k]`` for each w in weights.

    ``keys`` (M,) in index order; ``s`` (Q,) int prefix lengths in [0, M]; ``thr`` (Q,); ``weights`` a list of (M,)
    arrays, or None for counts.  The prefix [0, s) splits into the aligned blocks of a merge-sort tree (one per set bit
    of s); in each level the keys are sorted inside their blocks (one argsort of integer ranks) and a query reads its
    block's suffix of keys above its threshold from prefix sums.  O((M + Q) log² M), all in numpy.
    """
    M = keys.size
    out = [np.zeros(s.size) for _ in weights]
    if M == 0 or s.size == 0:
        return out
    allk = np.sort(keys)
    rk = np.searchsorted(allk, keys, side="right").astype(np.int64)  # key ≤ thr  ⇔  rk ≤ rt
    rt = np.searchsorted(allk, thr, side="right").astype(np.int64)
    R1 = M + 1
    idx = np.arange(M, dtype=np.int64)
    s = s.astype(np.int64)
    for k in range(int(M).bit_length()):
        use = np.flatnonzero((s >> k) & 1)
        if use.size == 0:
            continue
        comp = (idx >> k) * R1 + rk
        o = np.argsort(comp, kind="stable")
        cs = comp[o]
        b = (s[use] >> k) - 1  # the block [b·2^k, (b + 1)·2^k) ends at s with its lowest bits cleared
        lo = np.searchsorted(cs, b * R1 + rt[use], side="right")
        hi = np.searchsorted(cs, b * R1 + M, side="right")
        for w, acc in zip(weights, out):
            if w is None:
                acc[use] += hi - lo
            else:
                cw = np.concatenate([[0.0], np.cumsum(w[o])])
                acc[use] += cw[hi] - cw[lo]
    return out


def _suffix_greater(keys, s, thr, weights) -> list:
    """``Σ_{k ≥ s_q, keys[k] > thr_q} w[k]``: :func:`_prefix_greater` on the reversed arrays."""
    return _prefix_greater(keys[::-1], keys.size - np.asarray(s, dtype=np.int64), thr,
                           [None if w is None else w[::-1] for w in weights])


class _DensePairs:
    """The n·m hinge pairs held as dense (n, m) arrays: margins Δ and reused work buffers (any dimension)."""

    def __init__(self, R, F, p, tau, pw, qw, uniform):
        self.n, self.m = R.shape[0], F.shape[0]
        self.D = tau * _dist(R, F, p)
        self.pw, self.qw, self.uniform = pw, qw, uniform
        self.G = self.W = self.lin = None

    def delta(self, ei, ej):
        return self.D[ei, ej]

    def r0(self, l, k) -> float:
        """Half the k-th smallest |Δ_ij + l_i − l_j| (the first trust-region radius)."""
        absG = np.abs(self.D + l[:self.n, None] - l[None, self.n:]).ravel()
        k = min(k, absG.size) - 1
        return 0.5 * float(np.partition(absG, k)[k])

    def hinge(self, l) -> float:
        """Σ_ij p_i q_j (Δ_ij + l_i − l_j)_+ at l."""
        n = self.n
        if self.G is None:
            self.G, self.W = np.empty_like(self.D), np.empty_like(self.D)
        np.add(self.D, l[:n, None], out=self.G)
        self.G -= l[None, n:]
        np.maximum(self.G, 0.0, out=self.W)
        pw, qw = self.pw, self.qw
        return float(self.W.sum() * pw[0] * qw[0] if self.uniform else pw @ self.W @ qw)

    def classify(self, l, rr, rf):
        """After :meth:`hinge` at l: the weighted counts of linear-piece pairs (G > δ_i + δ_j) per real and per
        generated point, and the pairs near their kink (|G| ≤ δ_i + δ_j) as index arrays."""
        G, W = self.G, self.W
        if self.lin is None:
            self.lin, self.near = np.empty(G.shape, dtype=bool), np.empty(G.shape, dtype=bool)
        lin, near = self.lin, self.near
        np.subtract(G, rr[:, None], out=W)
        np.greater(W, rf[None, :], out=lin)  # G > δ_i + δ_j: linear piece throughout the box
        np.add(G, rr[:, None], out=W)
        np.greater_equal(W, -rf[None, :], out=near)
        near &= ~lin  # |G| ≤ δ_i + δ_j: the piece may change inside the box
        row_lin, col_lin = _weighted_counts(lin, self.pw, self.qw, self.uniform)
        ei, ej = np.nonzero(near)
        return row_lin, col_lin, ei, ej

    def gap(self, pi, pj):
        return self.G[pi, pj]

    def is_lin(self, pi, pj):
        return self.lin[pi, pj]

    def release(self):
        self.G = self.W = self.lin = self.near = None

    def final(self, l, atol):
        n = self.n
        G = self.D + l[:n, None] - l[None, n:]
        return float(self.pw @ np.maximum(G, 0.0) @ self.qw), G > atol


class _SortedPairs1D:
    """The n·m hinge pairs of a 1-D problem without any (n, m) array: in sorted order the pairs split into those
    with z_j ≥ x_i, where G_ij = Δ_ij + l_i − l_j = A_j − B_i (A = τz − l_z, B = τx − l_x), and those with z_j < x_i,
    where G_ij = C_i − E_j (C = τx + l_x, E = τz + l_z).  Counting the pairs above a threshold is then a 2-D
    dominance count (position and one key), O((n + m) log²(n + m)) by :func:`_prefix_greater`; the pairs near their
    kink are enumerated through a sorted key and filtered exactly (output-sensitive).  Coordinates are centred."""

    def __init__(self, R, F, tau, pw, qw, uniform):
        x, z = R[:, 0], F[:, 0]
        self.n, self.m = x.size, z.size
        self.x, self.z, self.tau = x, z, tau
        c = np.median(np.concatenate([x, z]))
        self.X, self.Z = tau * (x - c), tau * (z - c)
        self.pw, self.qw, self.uniform = pw, qw, uniform
        self.oz = np.argsort(self.Z, kind="stable")  # generated points in coordinate order
        self.ox = np.argsort(self.X, kind="stable")
        self.s = np.searchsorted(self.Z[self.oz], self.X, side="left")  # real i: z_j ≥ x_i ⇔ rank of j ≥ s_i
        self.t = np.searchsorted(self.X[self.ox], self.Z, side="right")  # generated j: x_i ≤ z_j ⇔ rank of i < t_j
        self.rankz = np.empty(self.m, dtype=np.int64)
        self.rankz[self.oz] = np.arange(self.m)

    def delta(self, ei, ej):
        return self.tau * np.abs(self.x[ei] - self.z[ej])

    def r0(self, l, k) -> float:
        n, m = self.n, self.m
        if n * m <= _R0_EXACT:
            i, j = np.divmod(np.arange(n * m), m)
        else:  # a fixed sample of pairs: r0 is a heuristic (the first radius), not part of the optimality test
            rng = np.random.default_rng(0)
            i, j = rng.integers(0, n, _R0_SAMPLE), rng.integers(0, m, _R0_SAMPLE)
        absG = np.abs(self.delta(i, j) + l[i] - l[n + j])
        k = min(max(int(k * absG.size / (n * m)), 1), absG.size) - 1
        return 0.5 * float(np.partition(absG, k)[k])

    def _keys(self, l):
        n = self.n
        self.A, self.B = self.Z - l[n:], self.X - l[:n]
        self.C, self.E = self.X + l[:n], self.Z + l[n:]

    def hinge(self, l) -> float:
        self._keys(l)
        A, B, C, E, oz, pw, qw = self.A, self.B, self.C, self.E, self.oz, self.pw, self.qw
        # z_j ≥ x_i, A_j > B_i: Σ q_j (A_j − B_i);  z_j < x_i, E_j < C_i: Σ q_j (C_i − E_j)
        sq, sqa = _suffix_greater(A[oz], self.s, B, [qw[oz], (qw * A)[oz]])
        lq, lqe = _prefix_greater(-E[oz], self.s, -C, [qw[oz], (qw * E)[oz]])
        return float(pw @ ((sqa - B * sq) + (C * lq - lqe)))

    def classify(self, l, rr, rf):
        self._keys(l)
        A, B, C, E, oz, ox = self.A, self.B, self.C, self.E, self.oz, self.ox
        self.Am, self.Ap, self.Bm, self.Bp = A - rf, A + rf, B - rr, B + rr
        self.Cm, self.Cp, self.Em, self.Ep = C - rr, C + rr, E - rf, E + rf
        Am, Bp, Cm, Ep = self.Am, self.Bp, self.Cm, self.Ep
        qz = None if self.uniform else self.qw[oz]
        px = None if self.uniform else self.pw[ox]
        # linear piece: right (z_j ≥ x_i) Am_j > Bp_i; left (z_j < x_i) Cm_i > Ep_j
        r1, = _suffix_greater(Am[oz], self.s, Bp, [qz])
        r2, = _prefix_greater(-Ep[oz], self.s, -Cm, [qz])
        c1, = _prefix_greater(-Bp[ox], self.t, -Am, [px])
        c2, = _suffix_greater(Cm[ox], self.t, Ep, [px])
        if self.uniform:
            row_lin, col_lin = self.qw[0] * (r1 + r2), self.pw[0] * (c1 + c2)
        else:
            row_lin, col_lin = r1 + r2, c1 + c2
        ei, ej = self._near(rr, rf)
        return row_lin, col_lin, ei, ej

    def _near(self, rr, rf):
        """Pairs with −(δ_i + δ_j) ≤ G_ij ≤ δ_i + δ_j (neither piece certain), by generated points grouped by radius
        (a factor 2 apart): per group, a window of the sorted key A (or E) holds every candidate."""
        out_i, out_j = [], []
        expo = np.frexp(rf)[1]
        for e in np.unique(expo):
            grp = np.flatnonzero(expo == e)
            dmax = float(rf[grp].max())
            for right in (True, False):
                key = self.A if right else self.E
                mid = self.B if right else self.C
                g = grp[np.argsort(key[grp], kind="stable")]
                ks = key[g]
                # padded window (the exact filter below decides): key ± δ and mid ± δ round differently
                w = (rr + dmax) * (1 + 1e-9) + 1e-13 * (np.abs(mid) + np.abs(ks).max())
                lo = np.searchsorted(ks, mid - w, side="left")
                hi = np.searchsorted(ks, mid + w, side="right")
                cnt = hi - lo
                for ii, jj in _expand(lo, cnt, g):
                    if right:
                        ok = ((self.rankz[jj] >= self.s[ii]) & (self.Am[jj] <= self.Bp[ii])
                              & (self.Ap[jj] >= self.Bm[ii]))
                    else:
                        ok = (self.rankz[jj] < self.s[ii]) & (self.Cm[ii] <= self.Ep[jj]) & (self.Cp[ii] >= self.Em[jj])
                    out_i.append(ii[ok])
                    out_j.append(jj[ok])
        if not out_i:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(out_i), np.concatenate(out_j)

    def _right(self, pi, pj):
        return self.rankz[pj] >= self.s[pi]

    def gap(self, pi, pj):
        return np.where(self._right(pi, pj), self.A[pj] - self.B[pi], self.C[pi] - self.E[pj])

    def is_lin(self, pi, pj):
        return np.where(self._right(pi, pj), self.Am[pj] > self.Bp[pi], self.Cm[pi] > self.Ep[pj])

    def release(self):
        pass

    def final(self, l, atol):
        n, m = self.n, self.m
        active = np.empty((n, m), dtype=bool)
        S = 0.0
        chunk = max(1, 2_000_000 // m)
        for a in range(0, n, chunk):
            b = min(a + chunk, n)
            G = self.tau * np.abs(self.x[a:b, None] - self.z[None, :])
            G += l[a:b, None]
            G -= l[None, n:]
            np.greater(G, atol, out=active[a:b])
            np.maximum(G, 0.0, out=G)
            S += float(self.pw[a:b] @ (G @ self.qw))
        return S, active


def _expand(lo, cnt, g, budget=1_000_000):
    """Yield (i, g[lo_i + r]) for r < cnt_i over all i, in chunks of about ``budget`` pairs."""
    cum = np.cumsum(cnt)
    start = 0
    while start < cnt.size:
        base = cum[start - 1] if start else 0
        stop = int(np.searchsorted(cum, base + budget, side="right"))
        stop = max(stop, start + 1)
        c = cnt[start:stop]
        tot = int(c.sum())
        if tot:
            ii = np.repeat(np.arange(start, stop), c)
            off = np.arange(tot) - np.repeat(np.cumsum(c) - c, c)
            yield ii, g[lo[ii] + off]
        start = stop


def _cone_sweeps(ls: np.ndarray, sx: np.ndarray):
    """For sources in coordinate order (values ``ls``, slope·coordinate ``sx``): the running minima of ls − sx from
    the left and of ls + sx from the right.  U(q) = min(left[k] + slope·q, right[k'] − slope·q) with k the last
    source at or left of q and k' the first at or right of it."""
    return np.minimum.accumulate(ls - sx), np.minimum.accumulate((ls + sx)[::-1])[::-1]


def _upper_envelope(src: np.ndarray, l: np.ndarray, query: np.ndarray, slope: float, p: int) -> np.ndarray:
    """U(q) = min_i (l_i + slope·‖src_i − q‖_p) at each query point: O((n + m) log n) sweeps in 1-D, dense otherwise."""
    if src.shape[1] > 1:
        return np.min(l[:, None] + slope * _dist(src, query, p), axis=0)
    o = np.argsort(src[:, 0], kind="stable")
    c = src[o[src.shape[0] // 2], 0]  # centred coordinates: l ± slope·x would lose digits for data far from 0
    xs = src[o, 0] - c
    q = query[:, 0] - c
    left, right = _cone_sweeps(l[o], slope * xs)
    k = np.searchsorted(xs, q, side="right")
    out = np.full(q.shape, np.inf)
    has = k > 0
    out[has] = left[k[has] - 1] + slope * q[has]
    k2 = np.searchsorted(xs, q, side="left")
    has = k2 < xs.size
    out[has] = np.minimum(out[has], right[k2[has]] - slope * q[has])
    return out


class _ChainShift1D:
    """1-D: rigid shifts of long runs of points whose sorted-neighbour Lipschitz constraints are all tight.

    At the optimum a tail of the data is often one straight ramp of slope κτ (every neighbour constraint tight, e.g.
    the generated points right of the real data), and its offset is one degree of freedom shared by thousands of
    coordinates.  A trust region moves each coordinate at most its radius per step, so such a ramp needs many steps
    with ever larger boxes (measured at n = m = 10⁴: ~7000 coordinates on their box bound for 10-20 rounds, box LPs
    of 10⁵-4·10⁵ pairs).  This moves the whole run at once: a line search over the shift s of the run, each trial
    point made feasible again by the Lipschitz envelope on the side the run moved away from (the smallest κ-Lipschitz
    function above it for s > 0, the largest below it, floored at 0, for s < 0) and the generated values raised to
    U(z).  The result is a feasible point that is only *accepted* when S decreases, so it changes where the trust
    region starts or continues, never what it certifies (the box test is run on the box LP's own optimum).
    """

    def __init__(self, R, F, P, slope, objective, min_size):
        self.R, self.F, self.P, self.slope, self.objective = R, F, P, slope, objective
        self.n = R.shape[0]
        self.order = np.argsort(P[:, 0], kind="stable")
        xs = P[self.order, 0]
        self.gaps = slope * np.diff(xs)
        self.sx = slope * (xs - xs[xs.size // 2])  # centred: v ± slope·x keeps its digits for data far from 0
        self.sreal = self.order < self.n
        self.min_size = min_size
        self.searches = self.evaluations = 0

    def _envelope(self, v, real_only=False):
        """min_u (v_u + slope·|x − x_u|) at every point, over all points or the real ones only: the sweeps of
        :func:`_upper_envelope` with the sort done once (every point is its own k and k')."""
        vs = v[self.order]
        if real_only:
            vs = np.where(self.sreal, vs, np.inf)
        left, right = _cone_sweeps(vs, self.sx)
        out = np.empty_like(v)
        out[self.order] = np.minimum(left + self.sx, right - self.sx)
        return out

    def chains(self, l):
        """Index arrays of the runs of ≥ min_size points joined by tight sorted-neighbour constraints."""
        lo = l[self.order]
        tight = np.abs(np.abs(np.diff(lo)) - self.gaps) <= 1e-9 * (1.0 + np.abs(lo[1:]))
        label = np.concatenate([[0], np.cumsum(~tight)])
        sizes = np.bincount(label)
        return [self.order[label == c] for c in np.flatnonzero(sizes >= self.min_size)]

    def _moved(self, l, idx, s):
        v = l.copy()
        v[idx] += s
        if s > 0:  # the smallest κ-Lipschitz function above v (neighbours of the run are lifted)
            v = -self._envelope(-v)
        else:  # the largest κ-Lipschitz function below v, floored at 0 (still κ-Lipschitz)
            v = np.maximum(self._envelope(v), 0.0)
        n = self.n
        v[n:] = np.maximum(v[n:], self._envelope(v, real_only=True)[n:])
        return v

    def search(self, l, f, idx, h, tol=0.0, rel=_SHIFT_REL):
        """Golden-section search over the shift of ``idx`` (S at ``l`` is ``f``) from step ``h`` > 0, both directions
        tried, to a bracket of ``rel`` times its width.

        Returns ``(l, f)``: the best point found, or the input unless some shift decreases S by more than ``tol``."""
        self.searches += 1
        vals = {0.0: f}

        def phi(s):
            if s not in vals:
                self.evaluations += 1
                vals[s] = self.objective(self._moved(l, idx, s))
            return vals[s]

        for sign in (1.0, -1.0):
            b = sign * h
            if phi(b) >= f:
                continue
            a = 0.0
            while phi(2.0 * b) < phi(b) and abs(b) < 1e6 * h:
                a, b = b, 2.0 * b
            lo, hi = sorted((a, 2.0 * b))
            g = 0.5 * (5.0 ** 0.5 - 1.0)
            c1, c2 = hi - g * (hi - lo), lo + g * (hi - lo)
            width = rel * (hi - lo)
            while hi - lo > width:
                if phi(c1) <= phi(c2):
                    hi, c2 = c2, c1
                    c1 = hi - g * (hi - lo)
                else:
                    lo, c1 = c1, c2
                    c2 = lo + g * (hi - lo)
            break
        best = min(vals, key=vals.get)
        if not vals[best] < f - tol:
            return l, f
        return self._moved(l, idx, best), vals[best]


def _initial_edges(P: np.ndarray, p: int) -> np.ndarray:
    """Lipschitz edges written from the start: sorted neighbours in 1-D (sufficient), a k-NN graph otherwise."""
    N, d = P.shape
    if N == 1:
        return np.zeros((0, 2), dtype=np.int64)
    if d == 1:
        o = np.argsort(P[:, 0], kind="stable")
        return np.stack([o[:-1], o[1:]], axis=1)
    k = min(N - 1, 2 * d + 4)
    _, idx = cKDTree(P).query(P, k=k + 1, p=p)
    u = np.repeat(np.arange(N), k)
    v = idx[:, 1:].reshape(-1)
    e = np.stack([np.minimum(u, v), np.maximum(u, v)], axis=1)
    e = e[e[:, 0] != e[:, 1]]
    # exact duplicates beyond k neighbours are caught by the lazy check; make them explicit now as well
    return np.unique(e, axis=0)


def _lipschitz_violations(P, l, kappa, p, tau, tol) -> np.ndarray:
    """All pairs (u < v) with |l_u − l_v| > κΔ_uv + tol, checked in chunks."""
    return _LipschitzCheck(P, kappa * tau, p).violations(l, tol)


class _LipschitzCheck:
    """All pairs (u < v) with |l_u − l_v| > κΔ_uv + tol.  The N × N bounds κΔ_uv (upper triangle, row chunks) are
    computed once and kept while they fit in ``_LIP_CACHE`` bytes (constraint generation checks after every box LP);
    beyond that they are recomputed in chunks of ≤ 16 MB at each check."""

    def __init__(self, P, slope, p):
        self.P, self.slope, self.p = P, slope, p
        N = P.shape[0]
        self.chunk = max(1, int(2_000_000 // N))
        self.cache = [] if 4 * N * N <= _LIP_CACHE else None  # ~N²/2 float64 entries

    def _bounds(self, k, s):
        P = self.P
        if self.cache is not None and k < len(self.cache):
            return self.cache[k]
        K = self.slope * _dist(P[s:s + self.chunk], P[s:], self.p)
        if self.cache is not None:
            self.cache.append(K)
        return K

    def violations(self, l, tol) -> np.ndarray:
        N = self.P.shape[0]
        out = []
        for k, s in enumerate(range(0, N, self.chunk)):
            K = self._bounds(k, s)
            V = np.abs(l[s:s + self.chunk, None] - l[None, s:]) - K > tol
            u, v = np.nonzero(V)
            v = v + s
            u = u + s
            keep = u < v
            out.append(np.stack([u[keep], v[keep]], axis=1))
        return np.concatenate(out) if out else np.zeros((0, 2), dtype=np.int64)


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
    return _solve(R, F, pw, qw, lam, kappa, margin_kind, tau, tol, max_rounds, warm, progress, t0)


def _solve(R, F, pw, qw, lam, kappa, margin_kind, tau, tol, max_rounds, warm, progress, t0):
    """:func:`solve` on validated input (normalised weights); the coarse start recurses here."""
    p = _margin_p(margin_kind)
    n, m, d = R.shape[0], F.shape[0], R.shape[1]
    P = np.concatenate([R, F])
    N = n + m

    uniform = bool(np.all(pw == pw[0]) and np.all(qw == qw[0]))
    # the n·m pairs: sorted sweeps without any (n, m) array in 1-D, dense (n, m) margins otherwise
    pairs = _SortedPairs1D(R, F, tau, pw, qw, uniform) if d == 1 else _DensePairs(R, F, p, tau, pw, qw, uniform)
    if d == 1:
        dmax = tau * max(abs(F[:, 0].max() - R[:, 0].min()), abs(R[:, 0].max() - F[:, 0].min()))
    else:
        dmax = float(pairs.D.max())
    dscale = max(dmax, tau * float(np.ptp(P, axis=0).max()), 1e-300)
    atol = tol * max(1.0, kappa) * dscale

    # initial guess of each hinge's piece (1 linear, 0 zero, 2 explicit hinge).  Large problems: solve the problem
    # on every second point first and extend its midpoint cone to all real points; small ones: l = 0 on the real
    # points.  Either way the generated values are the largest feasible ones, U(z) = min_i (l_i + κΔ(x_i, z)):
    # raising a generated value never increases S, so some optimum has this form.
    l0r = np.zeros(n)
    if n * m > _COARSE_PAIRS and n >= 8 and m >= 8 and pw[::2].sum() > 0 and qw[::2].sum() > 0:
        sub_progress = None if progress is None else (lambda info: progress({**info, "level": info["level"] + 1}))
        sub = _solve(R[::2], F[::2], pw[::2] / pw[::2].sum(), qw[::2] / qw[::2].sum(), lam, kappa, margin_kind,
                     tau, tol, max_rounds, warm, sub_progress, t0)
        if d == 1:  # the cones by O((n + m) log n) sweeps: L⁻ = max(−U[−l], 0)
            up = _upper_envelope(sub.points, sub.l, R, kappa * tau, p)
            low = np.maximum(-_upper_envelope(sub.points, -sub.l, R, kappa * tau, p), 0.0)
        else:
            up, low = sub.upper(R), sub.lower(R)
        l0r = 0.5 * (up + low)
        del sub
    # feasible: both cones are κ-Lipschitz, U is the largest feasible extension
    l = np.concatenate([l0r, _upper_envelope(R, l0r, F, kappa * tau, p)])

    edges = _initial_edges(P, p)
    lip_set = set(map(tuple, edges.tolist())) if d > 1 else None
    lip = _LipschitzCheck(P, kappa * tau, p) if d > 1 else None
    # trust region: a box lo ≤ l ≤ hi of radius δ_u around the current point.  A pair (i, j) whose hinge argument
    # G_ij = Δ_ij + l_i − l_j satisfies |G_ij| > δ_i + δ_j keeps its sign inside the box, so its piece is known
    # there; only the others carry a hinge variable.  Inside the box the model is therefore S itself, and the
    # box's optimum is exact.  An optimum strictly inside its box is a local, hence global, minimum of the convex
    # problem; otherwise it is the next point, and the radii of the coordinates that hit the box grow.
    r0 = max(pairs.r0(l, max(_TR_PAIRS, 2 * N)), 4 * atol)
    radius = np.full(N, r0)
    shifter = None
    if d == 1 and N >= 2 * _SHIFT_MIN:  # long tight runs (ramps) move as one first, see _ChainShift1D
        shifter = _ChainShift1D(R, F, P, kappa * tau, lambda v: float(pw @ v[:n] + lam * pairs.hinge(v)),
                                max(_SHIFT_MIN, int(_SHIFT_FRAC * N)))
        f_start = shifter.objective(l)
        for idx in shifter.chains(l):
            l, f_start = shifter.search(l, f_start, idx, r0, atol * 1e-3)
    rounds = lp_solves = explicit_max = shrinks = 0
    f_prev = l_prev = None
    held_next = np.zeros(N, dtype=bool)  # 1-D: values of a run just moved as one, held in the next box LP
    rejected = np.zeros(N, dtype=bool)  # ... of a run whose last line search found no better shift
    prev_held = False
    model = _BoxModel(N, n, m, lam, pw, qw, pairs.delta, _BOX_OPTIONS_1D if d == 1 else _BOX_OPTIONS, warm=warm)
    model.add_edges(edges, kappa * tau * _rowdist(P[edges[:, 0]], P[edges[:, 1]], p))
    while True:
        rounds += 1
        if rounds > max_rounds:
            raise RuntimeError(f"solve: no convergence in max_rounds = {max_rounds} rounds")
        f_cur = float(pw @ l[:n] + lam * pairs.hinge(l))
        if f_prev is not None and f_cur >= f_prev - atol * 1e-3 and not prev_held:
            # the best point of the box around l_prev is l_prev itself: a local, hence global, minimum (not
            # after a box with held values: that box was not a neighbourhood of l_prev)
            l = l_prev
            break
        held, held_next = held_next, np.zeros(N, dtype=bool)
        saved = radius
        radius = np.where(held, 0.0, radius)
        rr, rf = radius[:n], radius[n:]
        row_lin, col_lin, ei, ej = pairs.classify(l, rr, rf)
        cap = (_CAP_1D if d == 1 else _CAP) * N
        floor = np.maximum(_FLOOR * radius, r0)
        while cap and ei.size > max(cap, _TR_PAIRS) and np.any(radius > floor):
            shrinks += 1
            # too many pairs near their kink for one box LP (its cost grows faster than its size): halve the radii,
            # down to _FLOOR × the proposed ones (the box stays a trust region, only smaller; a coordinate that hit
            # its box still grows ≥ 2·_FLOOR-fold, so tiny first radii, e.g. from tied data, cannot stall the
            # method) and classify again
            radius = np.maximum(0.5 * radius, floor)
            rr, rf = radius[:n], radius[n:]
            row_lin, col_lin, ei, ej = pairs.classify(l, rr, rf)
        # pairs of the model far from their kink leave it (their piece is known in the box); pairs near it join
        if model.pairs.size:
            pi, pj = np.divmod(model.pairs, m)
            model.drop_pairs(np.abs(pairs.gap(pi, pj)) > _DROP * (rr[pi] + rf[pj]))
        fresh = ~model.contains(ei * m + ej)
        model.add_pairs(ei[fresh], ej[fresh])
        # per-node costs: the linear pieces of the pairs not in the model
        if model.pairs.size:
            pi, pj = np.divmod(model.pairs, m)
            both = pairs.is_lin(pi, pj)
            pi, pj = pi[both], pj[both]
            row_lin = row_lin - np.bincount(pi, weights=qw[pj], minlength=n)
            col_lin = col_lin - np.bincount(pj, weights=pw[pi], minlength=m)
        c_l = np.concatenate([pw + lam * pw * row_lin, -lam * qw * col_lin])
        lo, hi = np.maximum(l - radius, 0.0), l + radius
        while True:  # constraint generation for the Lipschitz constraints (d ≥ 2) inside the same box
            x = model.solve(c_l, lo, hi)
            lp_solves += 1
            new_edges = np.zeros((0, 2), dtype=np.int64)
            if d > 1:
                viol = lip.violations(x, atol)
                fresh_e = [e for e in map(tuple, viol.tolist()) if e not in lip_set]
                lip_set.update(fresh_e)
                new_edges = np.asarray(fresh_e, dtype=np.int64).reshape(-1, 2)
            if new_edges.shape[0] == 0:
                break
            edges = np.concatenate([edges, new_edges])
            model.add_edges(new_edges, kappa * tau * _rowdist(P[new_edges[:, 0]], P[new_edges[:, 1]], p))
        explicit_max = max(explicit_max, int(model.pairs.size))
        # the box test looks at the LP's own optimum: strictly inside its box, it is a global minimum
        hit = ((x >= hi - atol) | ((x <= lo + atol) & (lo > 0))) & ~held
        step = np.abs(x - l)
        if d == 1:
            # then raise generated values to U(z) = min_i (l_i + κΔ_iz), the largest feasible ones given the real
            # values (U is κ-Lipschitz): S is non-increasing in l_j, so this point is at least as good, and it is
            # the next centre.  The raise is not a box hit (the LP did not ask for it), so it does not grow radii.
            x[n:] = np.maximum(x[n:], _upper_envelope(R, x[:n], F, kappa * tau, p))
        # 1-D: a long run of tight neighbours pushing against its box moves as one (line search, _ChainShift1D),
        # is held at its new values in the next box LP and restarts at radius r0 after it.  (Free in the next box
        # LP, warm-started, that LP took 2-5 s at 0.3-0.5 ms per simplex iteration — thousands of chained values
        # basic — against 0.5-1 s otherwise; from the slack basis 1.6-2.1 s; n = m = 10⁴, data set 1.)
        keep = np.zeros(N, dtype=bool)
        if shifter is not None and hit.any():
            f_x = None
            for idx in shifter.chains(x):
                if hit[idx].mean() >= 0.5:  # the run pushes against its box: move it as one
                    f_x = shifter.objective(x) if f_x is None else f_x
                    x_new, f_x = shifter.search(x, f_x, idx, float(np.median(radius[idx])), atol * 1e-3)
                    if x_new is not x or rejected[idx].mean() < 0.5:
                        # moved, or a first rejection: held in the next box LP, radius r0 after that
                        keep[idx] = held_next[idx] = True
                    # a run rejected twice in a row is left to the box's own growth (tied data: else it crawls)
                    rejected[idx] = x_new is x
                    x = x_new
        l_prev, l, f_prev = l, x, f_cur
        if progress is not None:
            progress({"level": 0, "n": n, "m": m, "round": rounds, "explicit_pairs": int(model.pairs.size),
                      "objective": f_cur, "box_hits": int(hit.sum()), "seconds": time.perf_counter() - t0})
        prev_held = bool(held.any())
        if not hit.any() and not prev_held:  # a box with held values certifies nothing
            break
        # coordinates that hit their box may move further; the others get a radius matched to their last step.
        # A coordinate that must travel far drags its Lipschitz neighbours along, so large radii spread (halving)
        # over _SPREAD steps of the sparse Lipschitz graph: fewer rounds for a few more explicit pairs.
        radius = np.where(keep, r0, np.where(hit, _GROW * radius, np.maximum(r0, _FOLLOW * step)))
        radius = np.where(held, saved, radius)  # held values did not take part: their radius waits
        for _ in range(_SPREAD_1D if d == 1 else _SPREAD):
            half = 0.5 * radius
            np.maximum.at(radius, edges[:, 0], half[edges[:, 1]])
            np.maximum.at(radius, edges[:, 1], half[edges[:, 0]])
    iterations, retries = model.iterations, model.retries
    lp_path = "highspy-warm" if model.highs is not None else "linprog-cold"
    pairs.release()
    del model, lip

    S, active = pairs.final(l, atol)
    S = float(pw @ l[:n] + lam * S)
    stats = {"rounds": rounds, "lp_solves": lp_solves, "explicit_pairs": explicit_max,
             "simplex_iterations": iterations, "lp_retries": retries, "lp_path": lp_path,
             "box_shrinks": shrinks, "chain_shifts": 0 if shifter is None else shifter.searches,
             "lipschitz_constraints": int(2 * len(edges)),
             "seconds": time.perf_counter() - t0}
    return Solution(l=l, objective=S, points=P, n=n, m=m, lam=lam, kappa=kappa, margin_kind=margin_kind, tau=tau,
                    active=active, stats=stats)


def solve_general_lp(real, fake, lam, kappa, margin_kind: str = "l1", *, tau: float = 1.0, real_weights=None,
                     fake_weights=None, method: str = "highs") -> tuple[np.ndarray, float]:
    """The reference: the full LP of Theorem 2 written out and handed to HiGHS.

    Variables ``l`` (n + m) and one hinge variable ``s_ij ≥ 0`` per pair (n·m), rows ``s_ij ≥ Δ_ij + l_i − l_j``
    for every pair and ``±(l_u − l_v) ≤ κ Δ_uv`` for every pair of points, ``l ≥ 0``.  Minimises
    ``Σ p_i l_i + λ Σ p_i q_j s_ij``.  Slow (this is what :func:`solve` avoids); meant for checking and benchmarks.

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
    """Margin Δ from each generated point to its nearest real point, shape (m,)."""
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
    compare two grid sizes to estimate it.
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
