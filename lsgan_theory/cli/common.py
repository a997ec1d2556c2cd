"""What every subcommand's parser shares: the parser class (one-line errors, no prefix matching), argument types
that refuse bad values in one line, and the output helpers (standard JSON, a writable folder, an OS error as a
phrase)."""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

from ..output import os_reason as _os_reason
from ..output import writable_folder


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        # No prefix matching: a flag is spelled in full, so an old or partial spelling (--margin for --margin-kind)
        # is an error instead of a silent alias.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())}\n")

    def _parse_optional(self, arg_string):
        # A word with ONE leading minus that is not one of our options is a value, not a flag: formulas such as
        # `--real '-exp(-D)'` or `--real -D` (argparse alone reads them as unknown options: "expected one
        # argument").  Every option here is long (--name) except -h, so no flag is lost.
        if arg_string.startswith("-") and not arg_string.startswith("--") and len(arg_string) > 1 \
                and arg_string not in self._option_string_actions:
            return None
        return super()._parse_optional(arg_string)


# ---------------------------------------------------------------------------------------------------- argument types
def _int_type(lo: int | None = None, hi: int | None = None):
    """argparse type: a decimal integer in [lo, hi]; '1e8' or '2.0' are refused with a hint (one line)."""

    def integer(text: str) -> int:
        t = text.strip().replace("_", "")
        if re.fullmatch(r"[+-]?\d{41,}", t):
            raise argparse.ArgumentTypeError(f"integer out of range (more than 40 digits): {text[:20]}...")
        if len(t) > 40 or not re.fullmatch(r"[+-]?\d+", t):
            hint = ""
            try:
                f = float(t)
                if math.isfinite(f) and f.is_integer() and len(t) <= 40:
                    hint = f" (write it in digits: {int(f)})"
            except ValueError:
                pass
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}{hint}")
        v = int(t)
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            rng = f">= {lo}" if hi is None else (f"<= {hi}" if lo is None else f"in [{lo}, {hi}]")
            raise argparse.ArgumentTypeError(f"must be an integer {rng}, got {v}")
        return v

    return integer


def _float_type(lo: float | None = None, *, open_: bool = True):
    """argparse type: a finite number (> lo, or >= lo with ``open_=False``)."""

    def number(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
        if lo is not None and (v <= lo if open_ else v < lo):
            raise argparse.ArgumentTypeError(f"must be {'>' if open_ else '>='} {lo:g}, got {text!r}")
        return v

    return number


_POSITIVE = _float_type(0.0)
_FINITE = _float_type()


# ---------------------------------------------------------------------------------------------------- output
def _to_json(obj) -> str:
    """Standard JSON of ``obj`` (see the module docstring: non-finite numbers -> null, listed in "nonfinite"); the
    package's one JSON writer, :func:`lsgan_theory.output.dumps`."""
    from ..output import dumps

    return dumps(obj)


def _print_json(obj) -> None:
    print(_to_json(obj))


def _writable_dir(path: Path, flag: str) -> None:
    """Create folder ``path`` (and parents) and make sure a file can be written there; ValueError naming ``flag``
    (:func:`lsgan_theory.output.writable_folder`)."""
    writable_folder(path, what=flag)


def _density_arg(spec: str, flag: str):
    """``densities.parse(spec)`` with a ValueError that names the flag and the spec the user typed."""
    from .. import densities

    try:
        return densities.parse(spec)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{flag} {spec!r}: {exc}") from None
