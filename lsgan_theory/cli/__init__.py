"""The ``lsgan-theory`` command line: argument parsing and dispatch, one module per command group.

Every subcommand is a pair ``_add_<name>(sub)`` (argument parser) and ``_run_<name>(args)`` (parse the arguments,
call the package, print; returning an exit status) in the module of its group (:data:`COMMANDS`): ``numeric``
(divergence, bounds), ``verify``, ``derive`` (derive, analyse, prove), ``train`` (train, modes) and ``sweep``
(sweep, results, plot, theorem1); ``common`` holds the parser class, the argument types and the output helpers.  The
work itself -- studies, claims, report files -- lives in the package below; a module here only parses and prints.
Exit status: 0 success, 1 a check failed (``verify``, ``prove``), 2 bad input -- a bad flag or value,
a file-system error (unwritable ``--out``, an existing file where a folder is needed, a corrupt checkpoint), a size
that would not fit in memory, a sympy time limit -- always one line on stderr naming the argument or path, never a
traceback; 130 interrupted.

``--json`` output is standard JSON (RFC 8259): a non-finite number (NaN, ±inf) is written as ``null`` and its
JSON Pointer is listed, with the value as a string, in the top-level object ``"nonfinite"`` (e.g.
``{"value": null, ..., "nonfinite": {"/value": "Infinity"}}``; ``{}`` when every number is finite).
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from . import derive, numeric, sweep, train, verify
from .common import _os_reason, _Parser

__all__ = ["COMMANDS", "build_parser", "main"]

#: subcommand -> the module holding its ``_add_<name>`` and ``_run_<name>``, in the order ``--help`` lists them
COMMANDS = {"divergence": numeric, "verify": verify, "derive": derive, "analyse": derive, "prove": derive,
            "train": train, "bounds": numeric, "plot": sweep, "modes": train, "theorem1": sweep, "sweep": sweep,
            "results": sweep}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lsgan-theory", description="Check the theory of GAN losses -- the Loss-Sensitive GAN "
                     "(LS-GAN) and its relatives -- symbolically, numerically and by training small GANs. "
                     "Start with `lsgan-theory verify --quick --out report`.")
    parser.add_argument("--version", action="version", version=f"lsgan-theory {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, module in COMMANDS.items():
        getattr(module, f"_add_{name}")(sub)
    return parser


#: subcommands whose work runs sympy under the LSGAN_SYMPY_TIMEOUT time limit
_SYMPY_COMMANDS = ("derive", "analyse", "prove", "verify")


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return the exit status (also for a bad flag, ``--help`` and ``--version``)."""
    from ..output import one_line_warnings, safe_streams

    safe_streams()  # PYTHONIOENCODING=ascii: escapes instead of a UnicodeEncodeError (issue 30)
    one_line_warnings()  # numpy/torch warnings as one line "note: ...", never with a source line
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed its one line (or the help)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    name = f"lsgan-theory {args.command}"
    try:
        if args.command in _SYMPY_COMMANDS:  # LSGAN_SYMPY_TIMEOUT checked before any work, whatever is cached
            from ..symbolic import default_seconds

            default_seconds()
        return getattr(COMMANDS[args.command], f"_run_{args.command.replace('-', '_')}")(args)
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError) as exc:
        msg = str(exc)
    except TimeoutError as exc:  # sympy's time limit (SymbolicTimeout)
        msg = str(exc) or "time limit exceeded"
    except OSError as exc:  # a file-system error anywhere: name the path
        msg = f"file system: {_os_reason(exc)}"
    except MemoryError as exc:
        msg = f"out of memory{': ' + str(exc) if str(exc) else ''}; use smaller sizes"
    except RecursionError:
        msg = "input nested too deeply"
    except RuntimeError as exc:  # torch's allocator failing is a memory error; anything else is a bug: re-raise
        from ..resources import ALLOCATOR_MESSAGE, is_allocator_error

        if not is_allocator_error(exc):
            raise
        msg = ALLOCATOR_MESSAGE
    print(f"{name}: error: {' '.join(msg.split())}", file=sys.stderr)
    return 2

