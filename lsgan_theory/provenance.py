"""Provenance of a result: package version, git revision, platform and device (layer 1: anything may use it).

Every result the package writes (training runs, sweeps, verification reports) records :func:`provenance`.
"""

from __future__ import annotations

import functools
import platform
import subprocess
import sys
from pathlib import Path

from . import __version__

__all__ = ["git_revision", "provenance", "available_memory", "check_memory", "__version__"]


@functools.lru_cache(maxsize=1)
def git_revision() -> str:
    """The short git revision of the source tree this package was imported from, or ``"unknown"`` (installed wheel,
    no git, or not a repository).  Cached for the life of the process."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).parent, timeout=5)
        return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"
    except Exception:
        return "unknown"


def provenance(device: str | None = None) -> dict:
    """``{"version", "git", "python", "platform", "numpy", "torch"?, "device"?}`` for recording beside a result."""
    import numpy as np

    info = {"version": __version__, "git": git_revision(), "python": platform.python_version(),
            "platform": platform.platform(), "numpy": np.__version__}
    if "torch" in sys.modules:
        info["torch"] = sys.modules["torch"].__version__
    if device is not None:
        info["device"] = device
    return info


def available_memory(device=None) -> int:
    """Bytes of memory available now: free memory of a CUDA ``device`` (``torch.cuda.mem_get_info``), else the
    available physical memory of this machine (``SC_AVPHYS_PAGES``; 8 GiB where the platform does not say)."""
    if device is not None and str(device).startswith("cuda"):
        import torch

        return int(torch.cuda.mem_get_info(torch.device(device))[0])
    try:
        import os

        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 2**30


def check_memory(what: str, need: int, detail: str = "", *, max_memory=None, device=None) -> None:
    """Refuse, before allocating, a computation that needs ``need`` bytes: ``ValueError`` when ``need`` exceeds
    ``max_memory`` (default: half of :func:`available_memory`), with the estimate and ``detail`` in the message.
    ``what`` names the argument or operation the user can change."""
    limit = int(0.5 * available_memory(device)) if max_memory is None else int(max_memory)
    if need > limit:
        raise ValueError(f"{what}: needs about {need / 2**30:.3g} GiB{f' ({detail})' if detail else ''}, more than "
                         f"the allowed {limit / 2**30:.3g} GiB (default: half the available memory)")
