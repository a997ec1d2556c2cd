"""Multiple comparisons: Holm's step-down adjustment (S. Holm 1979, "A simple sequentially rejective multiple test
procedure", Scand. J. Statist. 6, 65–70).

A claim that runs several tests at level α rejects *some* true hypothesis with probability up to 1 − (1 − α)^m
unless the levels are corrected.  Holm's procedure controls that family-wise error at α for any dependence between
the tests and is uniformly more powerful than Bonferroni: sort the p-values p_(1) ≤ … ≤ p_(m), reject H_(1), H_(2),
… while p_(k) ≤ α/(m − k + 1), and stop at the first that is not rejected.  The adjusted p-values
p̃_(k) = max_{j ≤ k} min(1, (m − j + 1) p_(j)) say the same thing test by test: reject H_i iff p̃_i ≤ α.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["holm"]


def holm(pvalues) -> np.ndarray:
    """Holm-adjusted p-values, in the order given (NaN stays NaN and does not count as a test)."""
    p = np.asarray(pvalues, dtype=np.float64).reshape(-1)
    out = np.full(p.shape, math.nan)
    ok = np.flatnonzero(np.isfinite(p))
    if ok.size == 0:
        return out
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise ValueError(f"pvalues: must lie in [0, 1], got {p[ok].tolist()}")
    m = ok.size
    order = ok[np.argsort(p[ok], kind="stable")]
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (m - k) * p[i]))
        out[i] = running
    return out
