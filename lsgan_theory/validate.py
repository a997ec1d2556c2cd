"""Argument checks shared by the public functions of the package (written once; issue 12).

Each check returns the value in canonical form or raises a ``TypeError`` (wrong kind of value) or ``ValueError``
(right kind, outside the accepted range) whose message names the argument, the value and the accepted range, e.g.
``ValueError("rtol: must be a finite real number >= 0, got -1")``.

* :func:`real` — a finite real number, optionally in a range; :func:`positive` — finite and > 0;
* :func:`integer` — an integer (not a bool, not a float), optionally in a range;
* :func:`points` — a finite float64 array of shape (k, d) from (k,) or (k, d);
* :func:`name` — a name that becomes part of a path (letters, digits, ``_ - .``; never ``..`` or ``/``);
* :func:`expansion` — the number of runs a grid × seeds expands to, refused above a stated cap *before* anything is
  expanded (:data:`MAX_RUNS`);
* :func:`env_seconds` — a time limit read from an environment variable, within a sane range.
"""

from __future__ import annotations

import math
import os
import re
from numbers import Integral, Real

import numpy as np

__all__ = ["real", "positive", "integer", "points", "name", "expansion", "env_seconds", "MAX_RUNS", "NAME_PATTERN"]

#: The most runs (models) one sweep, experiment or ``train`` call may expand to: grid points × seeds (× losses).  A
#: spec that expands to more is refused with its count before any run is built (issue 30: a grid of 10⁷ runs or 10⁹
#: seeds hung with no output).  10⁵ runs is ~140× the λ sweep of THEORY.md at its full size.
MAX_RUNS = 100_000
#: Names that become file or folder names (sweep, experiment, figure names).
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"


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


def name(argument: str, value) -> str:
    """``value`` if it is a safe file or folder name: 1-64 characters from letters, digits, ``_``, ``-``, ``.``,
    starting with a letter or digit (so never ``..``, ``/``, a hidden file or an absolute path)."""
    if not isinstance(value, str):
        raise TypeError(f"{argument}: expected a name (a string), got {value!r} ({type(value).__name__})")
    if not re.fullmatch(NAME_PATTERN, value):
        raise ValueError(f"{argument}: {value[:80]!r} is not a folder-safe name (1-64 letters, digits, '_', '-', '.', "
                         f"starting with a letter or digit; it becomes part of a path)")
    return value


def expansion(argument: str, factors: dict, cap: int = MAX_RUNS, what: str = "runs") -> int:
    """The product of ``factors`` (``{"lam": 7, "seeds": 10, ...}``: the sizes of the lists a spec multiplies), as an
    exact integer; ``ValueError`` naming ``argument``, the count and its factors when it exceeds ``cap``.  Nothing is
    expanded to count it, so a spec of 10⁹ seeds is refused at once."""
    total = 1
    for v in factors.values():
        total *= int(v)
    if total > cap:
        parts = " × ".join(f"{k} {int(v):,}" for k, v in factors.items())
        raise ValueError(f"{argument}: expands to {total:,} {what} ({parts}), more than the cap of {cap:,} {what}; "
                         f"split it into smaller sweeps or use fewer values")
    return total


def env_seconds(variable: str, default: float, minimum: float = 0.01, maximum: float = 1e6) -> float:
    """A time limit in seconds from the environment variable ``variable`` (``default`` when unset or empty), a
    finite number in [minimum, maximum]; otherwise ``ValueError`` naming the variable and the range."""
    raw = os.environ.get(variable)
    if raw is None or raw.strip() == "":
        return float(default)
    try:
        v = float(raw)
    except ValueError:
        v = math.nan
    if not (minimum <= v <= maximum):
        raise ValueError(f"{variable}: a time limit in seconds must be a number in [{minimum:g}, {maximum:g}], got "
                         f"{raw[:40]!r}")
    return v
