"""Argument checks shared by the public functions of the package (written once; issue 12).

Each check returns the value in canonical form or raises a ``TypeError`` (wrong kind of value) or ``ValueError``
(right kind, outside the accepted range) whose message names the argument, the value and the accepted range, e.g.
``ValueError("rtol: must be a finite real number >= 0, got -1")``.

* :func:`real` — a finite real number, optionally in a range; :func:`positive` — finite and > 0;
* :func:`integer` — an integer (not a bool, not a float), optionally in a range;
* :func:`points` — a finite float64 array of shape (k, d) from (k,) or (k, d).
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

__all__ = ["real", "positive", "integer", "points"]


def _range_text(minimum, maximum, strict_minimum: bool) -> str:
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if strict_minimum else '>='} {minimum:g}")
    if maximum is not None:
        parts.append(f"<= {maximum:g}")
    return " and ".join(parts)


def real(name: str, value, *, minimum: float | None = None, maximum: float | None = None,
         strict_minimum: bool = False) -> float:
    """``value`` as a finite float, checked against ``minimum`` (``> minimum`` if ``strict_minimum``) and
    ``maximum``.  Accepts Python and numpy real numbers and 0-d numeric arrays; refuses bools and strings."""
    v = value
    if isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "iuf":
        v = v.item()
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, Real):
        raise TypeError(f"{name}: expected a real number, got {value!r} ({type(value).__name__})")
    v = float(v)
    rng = _range_text(minimum, maximum, strict_minimum)
    if not math.isfinite(v):
        raise ValueError(f"{name}: must be a finite real number{' ' + rng if rng else ''}, got {value!r}")
    if minimum is not None and (v <= minimum if strict_minimum else v < minimum):
        raise ValueError(f"{name}: must be {rng}, got {value!r}")
    if maximum is not None and v > maximum:
        raise ValueError(f"{name}: must be {rng}, got {value!r}")
    return v


def positive(name: str, value) -> float:
    """``value`` as a finite float > 0."""
    return real(name, value, minimum=0.0, strict_minimum=True)


def integer(name: str, value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an ``int`` in [minimum, maximum]; Python and numpy integers only (no bools, no floats)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise TypeError(f"{name}: expected an integer, got {value!r} ({type(value).__name__})")
    v = int(value)
    if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
        rng = " and ".join(p for p in ((f">= {minimum}" if minimum is not None else ""),
                                       (f"<= {maximum}" if maximum is not None else "")) if p)
        raise ValueError(f"{name}: must be an integer {rng}, got {value!r}")
    return v


def points(name: str, x, d: int | None = None, *, min_points: int = 1) -> np.ndarray:
    """``x`` as a float64 array of shape (k, d); 1-D input (k,) becomes (k, 1).

    Raises ``TypeError`` for non-numeric input and ``ValueError`` for another shape, fewer than ``min_points``
    points, d = 0, NaN or inf entries, or a dimension other than ``d`` (when given).
    """
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: expected a numeric array of shape (k,) or (k, d), got {type(x).__name__}") from exc
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{name}: expected shape (k,) or (k, d), got shape {np.shape(x)}")
    if a.shape[0] < min_points:
        raise ValueError(f"{name}: needs at least {min_points} point{'s' if min_points > 1 else ''}, got shape "
                         f"{np.shape(x)}")
    if a.shape[1] < 1:
        raise ValueError(f"{name}: needs dimension d >= 1, got shape {np.shape(x)}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: contains NaN or inf values; all coordinates must be finite")
    if d is not None and a.shape[1] != d:
        raise ValueError(f"{name}: dimension mismatch, points have d = {a.shape[1]} but d = {d} is required")
    return a
