"""Time limits for sympy calls.

Every ``integrate``/``solve``/``limit``/``simplify`` that the symbolic engine makes goes through :func:`limited`, which
raises :class:`SymbolicTimeout` (a ``TimeoutError`` with a message naming the call and the limit) when the call does
not return in time.

In the main thread the limit is enforced with ``SIGALRM`` (the sympy call is interrupted).  In another thread,
where signals cannot be used, the call runs in a daemon worker thread and the caller gets the ``SymbolicTimeout``
after the limit; the abandoned worker finishes in the background.

The default limit is :data:`DEFAULT_SECONDS` (override with the environment variable ``LSGAN_SYMPY_TIMEOUT``, read at
each call by :func:`default_seconds`, or the ``seconds=`` argument).  A value of the variable (or argument) outside
[:data:`MIN_SECONDS`, :data:`MAX_SECONDS`] raises ``ValueError`` naming it.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from numbers import Real
from typing import Any, Callable

from ..validate import env_seconds

__all__ = ["SymbolicTimeout", "limited", "DEFAULT_SECONDS", "default_seconds", "ENV_VAR"]

DEFAULT_SECONDS = 20.0
ENV_VAR = "LSGAN_SYMPY_TIMEOUT"
#: The accepted range of a limit (seconds): below 10 ms a timer can fire before the call starts; above 10⁶ s (11.6
#: days) ``setitimer`` overflows on some platforms and a limit no longer limits anything.
MIN_SECONDS, MAX_SECONDS = 0.01, 1e6


def default_seconds() -> float:
    """The time limit of a sympy call: ``LSGAN_SYMPY_TIMEOUT`` (seconds) when set, else :data:`DEFAULT_SECONDS`.

    Raises
    ------
    ValueError
        When the variable is set to something other than a number of seconds in [MIN_SECONDS, MAX_SECONDS] (the
        message names it).
    """
    return env_seconds(ENV_VAR, DEFAULT_SECONDS, MIN_SECONDS, MAX_SECONDS)


class SymbolicTimeout(TimeoutError):
    """A sympy call did not finish within its time limit."""


def _message(what: str, seconds: float) -> str:
    return (f"sympy {what} did not finish within the time limit of {seconds:g} s; raise it with "
            f"LSGAN_SYMPY_TIMEOUT=<seconds> or the seconds= argument, or simplify the input")


def limited(fn: Callable[..., Any], *args, what: str | None = None, seconds: float | None = None, **kwargs) -> Any:
    """Call ``fn(*args, **kwargs)`` under a wall-clock limit of ``seconds`` (default :func:`default_seconds`).

    Raises
    ------
    SymbolicTimeout
        When the call has not returned after ``seconds``; the message names ``what`` (default: the function name).
    ValueError
        When ``seconds`` is not a positive finite number.
    """
    if seconds is None:
        seconds = default_seconds()
    elif isinstance(seconds, bool) or not isinstance(seconds, Real):
        raise TypeError(f"seconds: the time limit must be a number of seconds, got {seconds!r}")
    seconds = float(seconds)
    if not (MIN_SECONDS <= seconds <= MAX_SECONDS):
        raise ValueError(f"seconds: the time limit must be a number of seconds in [{MIN_SECONDS:g}, {MAX_SECONDS:g}], "
                         f"got {seconds!r}")
    what = what or getattr(fn, "__name__", repr(fn))
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        return _limited_alarm(fn, args, kwargs, what, seconds)
    return _limited_thread(fn, args, kwargs, what, seconds)


def _limited_alarm(fn, args, kwargs, what, seconds):
    # Nesting: an enclosing limit that expires earlier wins; the enclosing timer is restored afterwards.
    prev_remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    if 0 < prev_remaining < seconds:
        return fn(*args, **kwargs)  # the enclosing (shorter) limit governs

    class _Alarm(BaseException):  # BaseException so that sympy's `except Exception` cannot swallow it
        pass

    def handler(signum, frame):
        raise _Alarm()

    old_handler = signal.signal(signal.SIGALRM, handler)
    start = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)  # inside the try: an alarm that fires at once is a timeout too
        return fn(*args, **kwargs)
    except _Alarm:
        raise SymbolicTimeout(_message(what, seconds)) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if prev_remaining > 0:
            left = prev_remaining - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))


def _limited_thread(fn, args, kwargs, what, seconds):
    box: dict[str, Any] = {}

    def work():
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # re-raised in the caller
            box["error"] = exc

    worker = threading.Thread(target=work, name=f"sympy-{what}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise SymbolicTimeout(_message(what, seconds))
    if "error" in box:
        raise box["error"]
    return box["value"]
