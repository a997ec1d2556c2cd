"""The process's resources: its memory budget, its torch threads, and whether another process still runs.

:func:`check_memory` compares an estimate of the bytes an operation needs with a limit (default: half the memory
available now, :func:`available_memory`) and raises :class:`MemoryLimitError` (a ``ValueError``, so the CLI prints
one line and exits 2) with the estimate, the limit and the argument to change.  Every estimate is an upper bound of
the dominant arrays (documented where it is computed), not of Python's overhead.

:func:`torch_threads` sets torch's intra-op CPU threads for a block and restores the caller's setting;
:func:`pid_alive` says whether a process id (the owner of a temporary or lock file) may still be running.
"""

from __future__ import annotations

import contextlib
import os

__all__ = ["available_memory", "check_memory", "MemoryLimitError", "is_allocator_error", "ALLOCATOR_MESSAGE",
           "torch_threads", "pid_alive"]

#: What the user reads when an allocator refuses a tensor that no estimate foresaw (the allocator's own text, e.g.
#: "[enforce fail at alloc_cpu.cpp:...]", names no argument and is never shown).
ALLOCATOR_MESSAGE = ("out of memory: the allocator refused a tensor the size estimate did not foresee; use smaller "
                     "sizes (width, batch, n_data, evaluation samples, models)")


def is_allocator_error(exc: BaseException) -> bool:
    """Whether ``exc`` is an allocator failing (``MemoryError``, torch's CPU/CUDA out-of-memory ``RuntimeError``)."""
    import re

    if isinstance(exc, MemoryError):
        return True
    return isinstance(exc, RuntimeError) and bool(
        re.search(r"(can't|cannot|unable to|failed to) allocate|out of memory|DefaultCPUAllocator|alloc_cpu",
                  str(exc), re.I))


class MemoryLimitError(ValueError):
    """An operation would need more memory than allowed; raised before anything large is allocated."""


def available_memory(device=None) -> int:
    """Bytes the process may still allocate: on a CUDA ``device`` its free memory (``torch.cuda.mem_get_info``);
    else ``MemAvailable`` of /proc/meminfo (Linux: free memory plus what the kernel can reclaim from caches), else
    free physical pages (``SC_AVPHYS_PAGES`` × page size), else 8 GiB."""
    if device is not None and str(device).startswith("cuda"):
        import torch

        return int(torch.cuda.mem_get_info(torch.device(device))[0])
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 2**30


def check_memory(nbytes: float, what: str, argument: str, limit: float | None = None, *, device=None) -> None:
    """Raise :class:`MemoryLimitError` when ``nbytes`` exceeds ``limit``.

    Parameters
    ----------
    nbytes : float
        The estimated bytes (may be a float: sizes from the user can overflow int64 products).
    what : str
        What needs the memory, e.g. ``"the (n, m) kernel matrices"``.
    argument : str
        The argument(s) to reduce, named in the message, e.g. ``"x, y"``.
    limit : float, optional
        Bytes allowed (default: half of :func:`available_memory`).

    Examples
    --------
    >>> check_memory(8 * 10**5 * 10**5, "the (n, n) distance matrix", "x")   # doctest: +SKIP
    MemoryLimitError: x: the (n, n) distance matrix needs about 74.5 GiB, more than the allowed ... GiB (half ...)
    """
    if limit is None:
        allowed, basis = 0.5 * available_memory(device), "half the available memory"
    else:
        allowed, basis = float(limit), "the given limit"
    if not nbytes <= allowed:  # also refuses NaN
        raise MemoryLimitError(f"{argument}: {what} needs about {float(nbytes) / 2**30:.3g} GiB, more than the "
                               f"allowed {allowed / 2**30:.3g} GiB ({basis}); reduce {argument}")


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Context manager: torch on ``n`` intra-op CPU threads inside the block (``None`` or 0: left as it is), the
    caller's number restored on exit, also on an exception.  The package's networks are tiny; on a small shared
    machine a second thread mostly adds OpenMP barrier waits, so studies train on one (``torch_threads(1)``)."""
    import torch

    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` may still be running (POSIX ``kill(pid, 0)``): ``False`` only when no such process
    exists; ``True`` for this process, for another user's process and for a pid the OS cannot check (then a file
    it may own is kept, not removed)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True
