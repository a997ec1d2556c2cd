"""Provenance of a result: package version, git revision, platform and device (layer 1: anything may use it).

Every result the package writes (training runs, sweeps, verification reports) records :func:`provenance`.
"""

from __future__ import annotations

import functools
import os
import platform
import subprocess
import sys
from pathlib import Path

from . import __version__

__all__ = ["git_revision", "provenance", "device_description", "cpu_cores", "gpu_name", "__version__"]


@functools.lru_cache(maxsize=1)
def git_revision() -> str:
    """The short git revision of the source tree this package was imported from, with ``-dirty`` appended when a
    tracked file of the package differs from that revision (the code that ran is then not the recorded commit), or
    ``"unknown"`` (installed wheel, no git, or not a repository).  Cached for the life of the process."""
    here = Path(__file__).parent
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=here,
                             timeout=5)
        rev = out.stdout.strip()
        if out.returncode != 0 or not rev:
            return "unknown"
        diff = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "."], capture_output=True, cwd=here,
                              timeout=5)
        return rev + "-dirty" if diff.returncode == 1 else rev
    except Exception:
        return "unknown"


def cpu_cores() -> int:
    """The CPU cores this process may run on (its affinity mask), else ``os.cpu_count()``."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def gpu_name(*, import_torch: bool = True) -> str | None:
    """The name of the first CUDA device torch sees, or ``None``: no GPU, a broken CUDA set-up, or (with
    ``import_torch=False``) torch not imported yet -- a run that trained nothing need not import it."""
    torch = sys.modules.get("torch")
    if torch is None:
        if not import_torch:
            return None
        import torch
    try:
        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:  # a broken CUDA set-up: no GPU
        return None


def device_description() -> str:
    """The compute device in words, e.g. ``"NVIDIA H200 (CUDA), 16 CPU cores"`` or ``"CPU only (2 cores; no GPU
    visible to torch)"``; torch is consulted only when already imported (a run that trained nothing did not need it).
    """
    cores, gpu = cpu_cores(), gpu_name(import_torch=False)
    return f"{gpu} (CUDA), {cores} CPU cores" if gpu else f"CPU only ({cores} cores; no GPU visible to torch)"


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
