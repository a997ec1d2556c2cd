"""Packing runs into batched ensembles, deterministically.

Runs that share every non-per-model training field (target, steps, batch, network shapes, optimiser, seed, dtype,
...; the per-model fields are :data:`lsgan_theory.ensemble.PER_MODEL`) can train as one ensemble.  The plan is a pure
function of the runs in expansion order and the pack-size cap, never of the machine (free memory, core count), so the
same spec gives the same packs everywhere; it is stored with the sweep on first expansion, and a resumed sweep or the
same sweep on Dask trains every run beside the same companions as an uninterrupted in-process sweep.

Why it matters: in float32 a model's trajectory depends, beyond rounding, on its pack companions (batched kernels
reduce in an order that depends on E); with the packs fixed, results are reproducible bitwise.
"""

from __future__ import annotations

import json
import math

from .. import densities as _densities
from ..ensemble import PER_MODEL

__all__ = ["plan_packs", "pack_key", "model_bytes", "MAX_PACK", "PACK_MEMORY_BYTES"]

MAX_PACK = 512
PACK_MEMORY_BYTES = 1 << 30  # a pack's working set stays below ~1 GiB (a fixed budget: plans must not depend on the host)
_PER_MODEL_KEYS = PER_MODEL


def pack_key(config: dict) -> str:
    """The fields a pack shares: the canonical configuration without the per-model fields and the replica."""
    return json.dumps({k: v for k, v in config.items() if k not in _PER_MODEL_KEYS and k != "replica"},
                      sort_keys=True)


def model_bytes(config: dict, dim: int = 2) -> int:
    """A generous estimate of one model's training working set in bytes: data set, parameters with gradients and two
    optimiser moments, the (B, B) margin / hinge buffers of the all-pairs losses and the activations."""
    item = 8 if config.get("dtype") == "float64" else 4
    widths = [config.get("noise_dim", 1), *config.get("g_hidden", [64, 64]), dim]
    n_g = sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:]))
    widths = [dim, *config.get("d_hidden", [64, 64]), 1]
    n_d = sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:]))
    b = config.get("batch", 64)
    n_data = max(config.get("n_data", 4096), 1)
    act = 8 * b * max([1, *config.get("g_hidden", []), *config.get("d_hidden", [])])
    return item * (n_data * dim + 4 * (n_g + n_d) + 4 * b * b + act) + 4096


def plan_packs(runs, pack_size: int | None = None) -> list[list]:
    """Split ``runs`` (objects with ``config`` and ``stream``) into packs.

    Runs are grouped by :func:`pack_key` (groups in order of first appearance, runs in expansion order); a group of n
    runs with cap m becomes ceil(n/m) contiguous packs of near-equal size.  The cap is ``pack_size`` or the largest E
    with E · :func:`model_bytes` ≤ :data:`PACK_MEMORY_BYTES`, at most :data:`MAX_PACK`.  Two runs whose 31-bit stream
    ids collide never share a pack (the trainer needs distinct ids); the later one moves to an extra pack.
    """
    if pack_size is not None and (not isinstance(pack_size, int) or pack_size < 1):
        raise ValueError(f"pack_size: must be an integer >= 1 or None, got {pack_size!r}")
    groups: dict[str, list] = {}
    for r in runs:
        groups.setdefault(pack_key(r.config), []).append(r)
    packs = []
    for members in groups.values():
        cfg = dict(members[0].config, n_data=max(m.config.get("n_data", 4096) for m in members))
        dim = _densities.parse(cfg["target"]).dim
        cap = pack_size or max(1, min(MAX_PACK, PACK_MEMORY_BYTES // model_bytes(cfg, dim)))
        while members:
            k = math.ceil(len(members) / cap)
            size, extra = divmod(len(members), k)
            leftover, start = [], 0
            for i in range(k):
                chunk = members[start:start + size + (i < extra)]
                start += len(chunk)
                seen, pack = set(), []
                for r in chunk:
                    (leftover if r.stream in seen else pack).append(r)
                    seen.add(r.stream)
                packs.append(pack)
            members = leftover
    return packs
