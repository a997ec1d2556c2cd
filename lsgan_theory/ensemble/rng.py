"""Counter-based random numbers: one stream per (seed, model id), identical on every device and for every E.

A model's random numbers are a pure function of ``(seed, model_id, stream, step, counter)``: a 32-bit integer hash
(Wellons' ``lowbias32`` mixing rounds, chained over the five keys) turned into uniforms in (0, 1) and normals by
Box–Muller.  Consequences, which the trainer relies on (docs/design.md "Randomness is explicit"):

* a model's draws do not depend on E nor on which other models share its batch (no shared generator state);
* the draws are the same on CPU and CUDA (integer arithmetic only; the float conversion is exact);
* nothing is sequential, so all E models draw in one vectorised call.

All integer arithmetic stays below 2**63 in int64 (32-bit products are split into 16-bit halves), so there is no
signed overflow on any backend.  This is not a cryptographic generator; its outputs pass the uniformity and
independence checks in ``tests/test_ensemble_rng.py``.

Reference: C. Wellons, "Prospecting for hash functions" (2018), ``lowbias32``; Salmon et al., "Parallel random
numbers: as easy as 1, 2, 3" (SC 2011) for the counter-based design.
"""

from __future__ import annotations

import math

import torch

__all__ = ["hash32", "uniform", "normal", "randint", "STREAMS"]

_M32 = 0xFFFFFFFF
# Named streams: each use of randomness in the trainer draws from its own stream id.
STREAMS = {"init_d": 1, "init_g": 2, "noise_d": 3, "noise_g": 4, "batch": 5, "gp": 6, "sn": 7, "data": 8, "fresh": 9}


def _mul32(x: torch.Tensor, c: int) -> torch.Tensor:
    """(x * c) mod 2**32 for 0 <= x < 2**32, exact in int64 (each partial product < 2**49)."""
    lo, hi = c & 0xFFFF, c >> 16
    return (x * lo + (((x * hi) & 0xFFFF) << 16)) & _M32


def _mix(x: torch.Tensor) -> torch.Tensor:
    # lowbias32: x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16
    x = x ^ (x >> 16)
    x = _mul32(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = _mul32(x, 0x846CA68B)
    return x ^ (x >> 16)


def hash32(*keys) -> torch.Tensor:
    """Chain-hash integer keys (ints or int64 tensors with values in [0, 2**32), broadcastable) to [0, 2**32)."""
    h = None
    for k in keys:
        k = k if isinstance(k, torch.Tensor) else torch.tensor(int(k), dtype=torch.int64)
        k = k.to(torch.int64) & _M32
        h = _mix(k ^ 0x9E3779B9) if h is None else _mix(h ^ _mix(k + 0x632BE5AB))
    return h


def _check_keys(seed, model_ids: torch.Tensor, step) -> None:
    if not isinstance(seed, (int,)) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise ValueError(f"seed: must be an integer in [0, 2**32), got {seed!r}")
    if model_ids.dtype != torch.int64 or model_ids.ndim != 1:
        raise TypeError(f"model_ids: expected a 1-D int64 tensor, got dtype {model_ids.dtype}, shape "
                        f"{tuple(model_ids.shape)}")
    if not isinstance(step, int) or not 0 <= step < 2**32:
        raise ValueError(f"step: must be an integer in [0, 2**32), got {step!r}")


def _bits(seed: int, model_ids: torch.Tensor, stream: int, step: int, shape: tuple[int, ...]) -> torch.Tensor:
    _check_keys(seed, model_ids, step)
    n = math.prod(shape)
    counter = torch.arange(n, dtype=torch.int64, device=model_ids.device).reshape((1, *shape))
    ids = model_ids.reshape((-1,) + (1,) * len(shape))
    return hash32(seed, ids, stream, step, counter)


def uniform(seed: int, model_ids: torch.Tensor, stream: int, step: int, shape: tuple[int, ...],
            dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Uniforms in the open interval (0, 1): u = (h + 1/2) / 2**32 of a 32-bit hash h.

    Returns shape ``(E, *shape)`` with row e a function of ``(seed, model_ids[e], stream, step)`` only.
    The value is computed in float64 (exact) and rounded to ``dtype``; in float32 it may round to 1.0 only when
    h = 2**32 - 1 ... 2**32 - 128, which the caller guards against where it matters (``normal`` uses float64).
    """
    h = _bits(seed, model_ids, stream, step, shape)
    return ((h.to(torch.float64) + 0.5) * 2.0**-32).to(dtype)


def normal(seed: int, model_ids: torch.Tensor, stream: int, step: int, shape: tuple[int, ...],
           dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Standard normals by Box–Muller from two independent uniform streams; shape ``(E, *shape)``.

    z = sqrt(-2 log u1) cos(2π u2) with u1, u2 in (0, 1) from counters 2k and 2k+1 of the same stream, computed in
    float64 (u1 >= 2**-33 so |z| <= 7.6) and rounded to ``dtype``.
    """
    h = _bits(seed, model_ids, stream, step, (*shape, 2))
    u = (h.to(torch.float64) + 0.5) * 2.0**-32
    z = torch.sqrt(-2.0 * torch.log(u[..., 0])) * torch.cos(2.0 * math.pi * u[..., 1])
    return z.to(dtype)


def randint(seed: int, model_ids: torch.Tensor, stream: int, step: int, shape: tuple[int, ...],
            high: torch.Tensor) -> torch.Tensor:
    """Integers uniform on {0, ..., high[e] - 1} for each model e (``high`` an int64 tensor of shape (E,)).

    floor(u * high) with u = (h + 1/2)/2**32 in float64: the bias is at most high / 2**32 (< 1e-5 for high <= 4e4).
    """
    h = _bits(seed, model_ids, stream, step, shape)
    high = high.reshape((-1,) + (1,) * len(shape)).to(torch.int64)
    idx = torch.floor((h.to(torch.float64) + 0.5) * 2.0**-32 * high.to(torch.float64)).to(torch.int64)
    return torch.minimum(idx, high - 1)
