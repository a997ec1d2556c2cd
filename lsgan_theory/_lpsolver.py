"""The engine of :func:`lsgan_theory.nonparametric.solve`: the exact trust-region method for the LS-GAN linear
program (private; the public functions, their formulas and shapes are in :mod:`lsgan_theory.nonparametric`).

Over 800 lines because it is one algorithm whose parts -- the persistent box LP, the two pair oracles (1-D sorted
sweeps, dense d >= 2), the 1-D run shifts and the trust region -- share its tuned constants and invariants, each
calibrated on the benchmark below; no function is over 80 lines.

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
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sparse
from scipy.optimize import linprog
from scipy.spatial import cKDTree

from .nonparametric import _HIGHS_OPTIONS, _LIP_CACHE, Solution, _dist, _margin_p, _rowdist

try:  # the public HiGHS bindings (PyPI ``highspy``): a persistent model lets each box LP restart from a basis
    import highspy as _highspy
except ImportError:  # pragma: no cover - highspy missing: linprog with cold starts (same optimum, slower)
    _highspy = None

_COARSE_PAIRS = 20_000  # above this many hinge pairs, start from the solution on every second point
_TR_PAIRS = 4_000  # pairs near their kink that carry a hinge variable in one trust-region step (at least)
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


def solve_validated(R, F, pw, qw, lam, kappa, margin_kind, tau, tol, max_rounds, warm, progress, t0):
    """:func:`lsgan_theory.nonparametric.solve` on validated input: points ``R`` (n, d), ``F`` (m, d), normalised
    weights ``pw`` (n,), ``qw`` (m,); the coarse start recurses here.  Returns the :class:`Solution`."""
    p = _margin_p(margin_kind)
    n, m, d = R.shape[0], F.shape[0], R.shape[1]
    P = np.concatenate([R, F])

    uniform = bool(np.all(pw == pw[0]) and np.all(qw == qw[0]))
    # the n·m pairs: sorted sweeps without any (n, m) array in 1-D, dense (n, m) margins otherwise
    pairs = _SortedPairs1D(R, F, tau, pw, qw, uniform) if d == 1 else _DensePairs(R, F, p, tau, pw, qw, uniform)
    if d == 1:
        dmax = tau * max(abs(F[:, 0].max() - R[:, 0].min()), abs(R[:, 0].max() - F[:, 0].min()))
    else:
        dmax = float(pairs.D.max())
    dscale = max(dmax, tau * float(np.ptp(P, axis=0).max()), 1e-300)
    atol = tol * max(1.0, kappa) * dscale
    l = _start(R, F, pw, qw, lam, kappa, margin_kind, tau, tol, max_rounds, warm, progress, t0)
    tr = _TrustRegion(R, F, P, pw, qw, lam, kappa * tau, p, pairs, atol, l, warm)
    l = tr.run(max_rounds, progress, t0)
    iterations, retries = tr.model.iterations, tr.model.retries
    lp_path = "highspy-warm" if tr.model.highs is not None else "linprog-cold"
    pairs.release()
    tr.model = tr.lip = None  # free the HiGHS model and the Lipschitz cache before the final pass

    S, active = pairs.final(l, atol)
    S = float(pw @ l[:n] + lam * S)
    stats = {"rounds": tr.rounds, "lp_solves": tr.lp_solves, "explicit_pairs": tr.explicit_max,
             "simplex_iterations": iterations, "lp_retries": retries, "lp_path": lp_path,
             "box_shrinks": tr.shrinks, "chain_shifts": 0 if tr.shifter is None else tr.shifter.searches,
             "lipschitz_constraints": int(2 * len(tr.edges)),
             "seconds": time.perf_counter() - t0}
    return Solution(l=l, objective=S, points=P, n=n, m=m, lam=lam, kappa=kappa, margin_kind=margin_kind, tau=tau,
                    active=active, stats=stats)


def _start(R, F, pw, qw, lam, kappa, margin_kind, tau, tol, max_rounds, warm, progress, t0) -> np.ndarray:
    """The feasible start, shape (n + m,).  Large problems: solve the problem on every second point first and extend
    its midpoint cone to all real points; small ones: l = 0 on the real points.  Either way the generated values are
    the largest feasible ones, U(z) = min_i (l_i + κΔ(x_i, z)): raising a generated value never increases S, so some
    optimum has this form."""
    p = _margin_p(margin_kind)
    n, m, d = R.shape[0], F.shape[0], R.shape[1]
    l0r = np.zeros(n)
    if n * m > _COARSE_PAIRS and n >= 8 and m >= 8 and pw[::2].sum() > 0 and qw[::2].sum() > 0:
        sub_progress = None if progress is None else (lambda info: progress({**info, "level": info["level"] + 1}))
        sub = solve_validated(R[::2], F[::2], pw[::2] / pw[::2].sum(), qw[::2] / qw[::2].sum(), lam, kappa,
                              margin_kind, tau, tol, max_rounds, warm, sub_progress, t0)
        if d == 1:  # the cones by O((n + m) log n) sweeps: L⁻ = max(−U[−l], 0)
            up = _upper_envelope(sub.points, sub.l, R, kappa * tau, p)
            low = np.maximum(-_upper_envelope(sub.points, -sub.l, R, kappa * tau, p), 0.0)
        else:
            up, low = sub.upper(R), sub.lower(R)
        l0r = 0.5 * (up + low)
        del sub
    # feasible: both cones are κ-Lipschitz, U is the largest feasible extension
    return np.concatenate([l0r, _upper_envelope(R, l0r, F, kappa * tau, p)])


class _TrustRegion:
    """The trust-region method on one level, from the feasible start ``l``: a box lo ≤ l ≤ hi of radius δ_u around
    the current point.  A pair (i, j) whose hinge argument G_ij = Δ_ij + l_i − l_j satisfies |G_ij| > δ_i + δ_j
    keeps its sign inside the box, so its piece is known there; only the others carry a hinge variable.  Inside the
    box the model is therefore S itself, and the box's optimum is exact.  An optimum strictly inside its box is a
    local, hence global, minimum of the convex problem; otherwise it is the next point, and the radii of the
    coordinates that hit the box grow.  ``slope`` is κτ."""

    def __init__(self, R, F, P, pw, qw, lam, slope, p, pairs, atol, l, warm):
        self.R, self.F, self.P, self.pw, self.qw, self.lam, self.slope, self.p = R, F, P, pw, qw, lam, slope, p
        self.n, self.m, self.d, self.N = R.shape[0], F.shape[0], R.shape[1], P.shape[0]
        self.pairs, self.atol = pairs, atol
        n, d, N = self.n, self.d, self.N
        self.edges = _initial_edges(P, p)
        self.lip_set = set(map(tuple, self.edges.tolist())) if d > 1 else None
        self.lip = _LipschitzCheck(P, slope, p) if d > 1 else None
        self.r0 = max(pairs.r0(l, max(_TR_PAIRS, 2 * N)), 4 * atol)
        self.radius = np.full(N, self.r0)
        self.shifter = None
        if d == 1 and N >= 2 * _SHIFT_MIN:  # long tight runs (ramps) move as one first, see _ChainShift1D
            self.shifter = _ChainShift1D(R, F, P, slope, lambda v: float(pw @ v[:n] + lam * pairs.hinge(v)),
                                         max(_SHIFT_MIN, int(_SHIFT_FRAC * N)))
            f_start = self.shifter.objective(l)
            for idx in self.shifter.chains(l):
                l, f_start = self.shifter.search(l, f_start, idx, self.r0, atol * 1e-3)
        self.l = l
        self.rounds = self.lp_solves = self.explicit_max = self.shrinks = 0
        self.held_next = np.zeros(N, dtype=bool)  # 1-D: values of a run just moved as one, held in the next box LP
        self.rejected = np.zeros(N, dtype=bool)  # ... of a run whose last line search found no better shift
        self.model = _BoxModel(N, n, self.m, lam, pw, qw, pairs.delta, _BOX_OPTIONS_1D if d == 1 else _BOX_OPTIONS,
                               warm=warm)
        self.model.add_edges(self.edges, slope * _rowdist(P[self.edges[:, 0]], P[self.edges[:, 1]], p))

    def run(self, max_rounds, progress, t0) -> np.ndarray:
        """Rounds until a box certifies its centre; returns the optimal l, shape (n + m,)."""
        l, f_prev, l_prev, prev_held = self.l, None, None, False
        while True:
            self.rounds += 1
            if self.rounds > max_rounds:
                raise RuntimeError(f"solve: no convergence in max_rounds = {max_rounds} rounds")
            f_cur = float(self.pw @ l[:self.n] + self.lam * self.pairs.hinge(l))
            if f_prev is not None and f_cur >= f_prev - self.atol * 1e-3 and not prev_held:
                # the best point of the box around l_prev is l_prev itself: a local, hence global, minimum (not
                # after a box with held values: that box was not a neighbourhood of l_prev)
                return l_prev
            held, self.held_next = self.held_next, np.zeros(self.N, dtype=bool)
            saved = self.radius
            self.radius = np.where(held, 0.0, self.radius)
            x, hit, step, keep = self._round(l, held)
            l_prev, l, f_prev = l, x, f_cur
            if progress is not None:
                progress({"level": 0, "n": self.n, "m": self.m, "round": self.rounds,
                          "explicit_pairs": int(self.model.pairs.size), "objective": f_cur,
                          "box_hits": int(hit.sum()), "seconds": time.perf_counter() - t0})
            prev_held = bool(held.any())
            if not hit.any() and not prev_held:  # a box with held values certifies nothing
                return l
            self._next_radius(hit, keep, held, saved, step)

    def _round(self, l, held):
        """One box LP around ``l``: its optimum x (raised, runs moved), the coordinates that hit the box, the step
        |x − l| and the runs to hold in the next box LP."""
        n, atol = self.n, self.atol
        rr, rf, row_lin, col_lin, ei, ej = self._classify(l)
        c_l = self._costs(rr, rf, row_lin, col_lin, ei, ej)
        lo, hi = np.maximum(l - self.radius, 0.0), l + self.radius
        x = self._box_optimum(c_l, lo, hi)
        self.explicit_max = max(self.explicit_max, int(self.model.pairs.size))
        # the box test looks at the LP's own optimum: strictly inside its box, it is a global minimum
        hit = ((x >= hi - atol) | ((x <= lo + atol) & (lo > 0))) & ~held
        step = np.abs(x - l)
        if self.d == 1:
            # then raise generated values to U(z) = min_i (l_i + κΔ_iz), the largest feasible ones given the real
            # values (U is κ-Lipschitz): S is non-increasing in l_j, so this point is at least as good, and it is
            # the next centre.  The raise is not a box hit (the LP did not ask for it), so it does not grow radii.
            x[n:] = np.maximum(x[n:], _upper_envelope(self.R, x[:n], self.F, self.slope, self.p))
        x, keep = self._move_runs(x, hit)
        return x, hit, step, keep

    def _classify(self, l):
        """Each pair's piece in the box (linear, zero, or explicit near its kink), the box shrunk while it holds too
        many explicit pairs."""
        n, N = self.n, self.N
        rr, rf = self.radius[:n], self.radius[n:]
        row_lin, col_lin, ei, ej = self.pairs.classify(l, rr, rf)
        cap = (_CAP_1D if self.d == 1 else _CAP) * N
        floor = np.maximum(_FLOOR * self.radius, self.r0)
        while cap and ei.size > max(cap, _TR_PAIRS) and np.any(self.radius > floor):
            self.shrinks += 1
            # too many pairs near their kink for one box LP (its cost grows faster than its size): halve the radii,
            # down to _FLOOR × the proposed ones (the box stays a trust region, only smaller; a coordinate that hit
            # its box still grows ≥ 2·_FLOOR-fold, so tiny first radii, e.g. from tied data, cannot stall the
            # method) and classify again
            self.radius = np.maximum(0.5 * self.radius, floor)
            rr, rf = self.radius[:n], self.radius[n:]
            row_lin, col_lin, ei, ej = self.pairs.classify(l, rr, rf)
        return rr, rf, row_lin, col_lin, ei, ej

    def _costs(self, rr, rf, row_lin, col_lin, ei, ej) -> np.ndarray:
        """The explicit pairs of the model brought up to date, and the per-node costs of l: the linear pieces of the
        pairs not in the model."""
        model, pairs, n, m, pw, qw, lam = self.model, self.pairs, self.n, self.m, self.pw, self.qw, self.lam
        # pairs of the model far from their kink leave it (their piece is known in the box); pairs near it join
        if model.pairs.size:
            pi, pj = np.divmod(model.pairs, m)
            model.drop_pairs(np.abs(pairs.gap(pi, pj)) > _DROP * (rr[pi] + rf[pj]))
        fresh = ~model.contains(ei * m + ej)
        model.add_pairs(ei[fresh], ej[fresh])
        if model.pairs.size:
            pi, pj = np.divmod(model.pairs, m)
            both = pairs.is_lin(pi, pj)
            pi, pj = pi[both], pj[both]
            row_lin = row_lin - np.bincount(pi, weights=qw[pj], minlength=n)
            col_lin = col_lin - np.bincount(pj, weights=pw[pi], minlength=m)
        return np.concatenate([pw + lam * pw * row_lin, -lam * qw * col_lin])

    def _box_optimum(self, c_l, lo, hi) -> np.ndarray:
        """The box LP's optimum, with constraint generation for the Lipschitz constraints (d ≥ 2) in the same box."""
        P, p = self.P, self.p
        while True:
            x = self.model.solve(c_l, lo, hi)
            self.lp_solves += 1
            new_edges = np.zeros((0, 2), dtype=np.int64)
            if self.d > 1:
                viol = self.lip.violations(x, self.atol)
                fresh_e = [e for e in map(tuple, viol.tolist()) if e not in self.lip_set]
                self.lip_set.update(fresh_e)
                new_edges = np.asarray(fresh_e, dtype=np.int64).reshape(-1, 2)
            if new_edges.shape[0] == 0:
                return x
            self.edges = np.concatenate([self.edges, new_edges])
            self.model.add_edges(new_edges, self.slope * _rowdist(P[new_edges[:, 0]], P[new_edges[:, 1]], p))

    def _move_runs(self, x, hit):
        """1-D: a long run of tight neighbours pushing against its box moves as one (line search, _ChainShift1D),
        is held at its new values in the next box LP and restarts at radius r0 after it.  (Free in the next box
        LP, warm-started, that LP took 2-5 s at 0.3-0.5 ms per simplex iteration — thousands of chained values
        basic — against 0.5-1 s otherwise; from the slack basis 1.6-2.1 s; n = m = 10⁴, data set 1.)"""
        keep = np.zeros(self.N, dtype=bool)
        if self.shifter is not None and hit.any():
            f_x = None
            for idx in self.shifter.chains(x):
                if hit[idx].mean() >= 0.5:  # the run pushes against its box: move it as one
                    f_x = self.shifter.objective(x) if f_x is None else f_x
                    x_new, f_x = self.shifter.search(x, f_x, idx, float(np.median(self.radius[idx])),
                                                     self.atol * 1e-3)
                    if x_new is not x or self.rejected[idx].mean() < 0.5:
                        # moved, or a first rejection: held in the next box LP, radius r0 after that
                        keep[idx] = self.held_next[idx] = True
                    # a run rejected twice in a row is left to the box's own growth (tied data: else it crawls)
                    self.rejected[idx] = x_new is x
                    x = x_new
        return x, keep

    def _next_radius(self, hit, keep, held, saved, step) -> None:
        """Coordinates that hit their box may move further; the others get a radius matched to their last step.
        A coordinate that must travel far drags its Lipschitz neighbours along, so large radii spread (halving)
        over _SPREAD steps of the sparse Lipschitz graph: fewer rounds for a few more explicit pairs."""
        r0, edges = self.r0, self.edges
        radius = np.where(keep, r0, np.where(hit, _GROW * self.radius, np.maximum(r0, _FOLLOW * step)))
        radius = np.where(held, saved, radius)  # held values did not take part: their radius waits
        for _ in range(_SPREAD_1D if self.d == 1 else _SPREAD):
            half = 0.5 * radius
            np.maximum.at(radius, edges[:, 0], half[edges[:, 1]])
            np.maximum.at(radius, edges[:, 1], half[edges[:, 0]])
        self.radius = radius
