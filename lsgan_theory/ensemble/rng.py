"""Random numbers keyed by (seed, model id, stream, step): a model's draws never depend on its pack.

Two kinds of draws, both pure functions of their keys:

* **keyed draws** (:func:`uniform`, :func:`normal`, :func:`randint`): a counter-based integer hash, identical on
  every device -- used where a draw happens once (initialisation, spectral-norm vectors, evaluation samples);
* **step draws** (:func:`step_normal`, :func:`step_uniform`, :func:`step_randint`): every per-step draw of the
  trainer (noise, batch indices, gradient-penalty mixing).  Model e's draw of (stream, step) is
  ``torch.randn(shape, generator=g)`` with ``g`` a generator of the run's device seeded with
  :func:`step_key` ``(seed, model_id, stream, step)`` -- one ``manual_seed`` and one fill per model and draw, at
  the speed of ``torch.randn`` (the hash below costs ≈ 100 int64 tensor operations per number, which dominated a
  training step: issue 28).  On the CPU the generator is torch's Mersenne twister (it keeps the low 32 bits of a
  seed, hence 32-bit keys) and its normal transform; on CUDA it is torch's Philox and CUDA transform, so CPU and
  CUDA step draws differ, each a pure function of the key on its device.  Within one (seed, model, stream), distinct
  steps < 2**32 have distinct keys (a bijection of the step); across models and streams two keys coincide with
  probability 2**-32 per pair.

The keyed draws:

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

__all__ = ["hash32", "uniform", "normal", "randint", "STREAMS", "step_key", "step_normal", "step_uniform",
           "step_randint"]

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


# ---------------------------------------------------------------------------------------------------- step draws
def _mix32(x: int) -> int:
    """lowbias32 on a Python int in [0, 2**32): a bijection of 32-bit integers (each step of it is invertible)."""
    x ^= x >> 16
    x = (x * 0x7FEB352D) & _M32
    x ^= x >> 15
    x = (x * 0x846CA68B) & _M32
    return x ^ (x >> 16)


def _base_key(seed: int, model_id: int, stream: int) -> int:
    """The 32-bit key of (seed, model id, stream): a chain of lowbias32 mixes, as in :func:`hash32`."""
    h = _mix32((seed & _M32) ^ 0x9E3779B9)
    for k in (model_id, stream):
        h = _mix32(h ^ _mix32(((k & _M32) + 0x632BE5AB) & _M32))
    return h


def step_key(seed: int, model_id: int, stream: int, step: int) -> int:
    """The generator seed of model ``model_id``'s draw at (stream, step): ``mix32(base + step mod 2**32)`` with
    ``base`` the hash of (seed, model id, stream) -- a bijection of the step, so a model's steps never share a key."""
    return _mix32((_base_key(seed, model_id, stream) + step) & _M32)


def _ids(model_ids) -> list[int]:
    ids = model_ids.tolist() if isinstance(model_ids, torch.Tensor) else [int(i) for i in model_ids]
    if isinstance(model_ids, torch.Tensor) and (model_ids.dtype != torch.int64 or model_ids.ndim != 1):
        raise TypeError(f"model_ids: expected a 1-D int64 tensor, got dtype {model_ids.dtype}, shape "
                        f"{tuple(model_ids.shape)}")
    return ids


def _fill(seed, model_ids, stream, step, out: torch.Tensor, fill, generator) -> torch.Tensor:
    """``fill(out[e], g)`` for every model e with g seeded by its :func:`step_key` (``out[e]`` contiguous)."""
    ids = _ids(model_ids)
    _check_keys(seed, torch.zeros(len(ids), dtype=torch.int64), step)
    if out.shape[0] != len(ids) or not out.is_contiguous():
        raise ValueError(f"out: expected a contiguous tensor with {len(ids)} rows, got shape {tuple(out.shape)}")
    g = generator if generator is not None else torch.Generator(device=out.device)
    for e, mid in enumerate(ids):
        g.manual_seed(step_key(seed, mid, stream, step))
        fill(out[e], g)
    return out


def _out(model_ids, shape, dtype, device, out):
    if out is not None:
        return out
    return torch.empty((len(_ids(model_ids)), *shape), dtype=dtype, device=device)


def step_normal(seed: int, model_ids, stream: int, step: int, shape: tuple[int, ...] = (),
                dtype: torch.dtype = torch.float32, device=None, *, out: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Standard normals (E, *shape): row e is ``torch.randn(shape, generator=g)`` with g a generator of ``device``
    seeded with ``step_key(seed, model_ids[e], stream, step)``; written into ``out`` when given (its shape then
    gives the draw).  ``generator`` (of the same device) is reused instead of a new one."""
    return _fill(seed, model_ids, stream, step, _out(model_ids, shape, dtype, device, out),
                 lambda o, g: o.normal_(generator=g), generator)


def step_uniform(seed: int, model_ids, stream: int, step: int, shape: tuple[int, ...] = (),
                 dtype: torch.dtype = torch.float32, device=None, *, low: float = 0.0,
                 out: torch.Tensor | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Uniforms on [low, 1) (E, *shape) as ``tensor.uniform_(low, 1, generator=g)`` per model (see
    :func:`step_normal`); ``low > 0`` keeps 0 out (e.g. for an inverse CDF)."""
    return _fill(seed, model_ids, stream, step, _out(model_ids, shape, dtype, device, out),
                 lambda o, g: o.uniform_(low, 1.0, generator=g), generator)


def step_randint(seed: int, model_ids, stream: int, step: int, shape: tuple[int, ...], high,
                 device=None, *, out: torch.Tensor | None = None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """int64 integers uniform on {0, ..., high[e] − 1} (E, *shape): ``tensor.random_(0, high[e], generator=g)``
    per model (a 32-bit draw modulo high[e]: bias ≤ high[e] / 2**32)."""
    highs = [int(h) for h in (high.tolist() if isinstance(high, torch.Tensor) else high)]
    if any(h < 1 for h in highs):
        raise ValueError(f"high: every upper bound must be >= 1, got {highs}")
    o = _out(model_ids, shape, torch.int64, device, out)
    it = iter(highs)
    return _fill(seed, model_ids, stream, step, o, lambda t, g: t.random_(0, next(it), generator=g), generator)
