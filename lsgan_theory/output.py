"""What the package writes: standard JSON, files written atomically, and text on a terminal (issue 30).

One JSON writer for every JSON document the package produces (``--json`` output, ``summary.json``,
``theorem1_verdicts.json``, ``claims.json``, ``meta.json``, ``results --format json``, resume side files):

* :func:`dumps` -- RFC 8259 JSON.  A non-finite number (NaN, ±inf) is written as ``null`` and its JSON Pointer is
  listed, with the value as a string, in the top-level object ``"nonfinite"`` (e.g.
  ``{"value": null, ..., "nonfinite": {"/value": "Infinity"}}``; ``{}`` when every number is finite; a top-level
  object may not have a key of its own named ``"nonfinite"``).  A top-level list (or number) with non-finite entries
  is wrapped as ``{"items": [...], "nonfinite": {"/items/1": ...}}``, and is read back in that form.  Floats are written with
  Python's shortest round-trip representation (17 significant digits at most: no rounding), numpy and torch
  scalars/arrays as their values, paths and other objects as strings.
* :func:`loads` -- the inverse for documents written by :func:`dumps` (the ``"nonfinite"`` values are put back).
* :func:`write_atomic` -- the one atomic writer (``NAME.tmp-<pid>``, then one rename; on any error (a full disk, a
  read-only folder) the temporary file is removed and a ``ValueError`` names the file); :func:`write_text` /
  :func:`write_json` write text and JSON through it, the trainer's checkpoints (``torch.save``), the tables
  (``DataFrame.to_csv`` / ``to_parquet``) and the figures (``savefig``) too: ``write_atomic(path, lambda tmp:
  fig.savefig(tmp, format="png"))``.
* :func:`remove_stale_temporaries` -- removes the ``NAME.tmp-<pid>`` files of processes that no longer run
  (``resources.pid_alive``), left by a writer killed mid-write; :func:`is_temporary` tells such a name.
* :func:`writable_folder` -- creates a folder and checks that a file can be written there (``ValueError`` naming the
  argument); :func:`os_reason` is the one-line reading of an ``OSError``.

Terminal: :func:`safe_streams` makes ``stdout``/``stderr`` fall back to ASCII escapes when their encoding cannot
write a character (``PYTHONIOENCODING=ascii`` and "φ"); :func:`one_line_warnings` prints every warning as one line
``note: <message>``, without the source line Python shows by default.
"""

from __future__ import annotations

import glob
import json
import math
import os
import re
from pathlib import Path

from .resources import pid_alive

__all__ = ["jsonable", "dumps", "loads", "write_atomic", "write_text", "write_json", "safe_streams", "one_line_warnings",
           "is_temporary", "remove_stale_temporaries", "writable_folder", "os_reason"]

# The name of write_atomic's temporary file: NAME.tmp-<pid of the writer>.
_TEMPORARY = re.compile(r"\.tmp-(\d+)$")


def _pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def jsonable(obj, path: str = "", nonfinite: dict | None = None):
    """A copy of ``obj`` made of dict/list/str/int/float/bool/None; a non-finite float becomes ``None`` and is
    recorded in ``nonfinite`` (JSON Pointer -> ``"NaN"`` / ``"Infinity"`` / ``"-Infinity"``)."""
    if nonfinite is None:
        nonfinite = {}
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        if math.isfinite(obj):
            return float(obj)
        nonfinite[path] = "NaN" if math.isnan(obj) else ("Infinity" if obj > 0 else "-Infinity")
        return None
    if isinstance(obj, dict):
        return {str(k): jsonable(v, f"{path}/{_pointer(str(k))}", nonfinite) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v, f"{path}/{i}", nonfinite) for i, v in enumerate(obj)]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist"):  # numpy arrays and scalars, torch tensors
        return jsonable(obj.tolist(), path, nonfinite)
    if hasattr(obj, "item"):
        return jsonable(obj.item(), path, nonfinite)
    if hasattr(obj, "isoformat"):  # dates, pandas timestamps
        return obj.isoformat()
    return str(obj)


def dumps(obj, indent: int | None = 2, *, ensure_ascii: bool = True) -> str:
    """Standard JSON of ``obj`` (see the module docstring: non-finite numbers -> ``null``, listed in
    ``"nonfinite"``)."""
    nonfinite: dict = {}
    if isinstance(obj, dict) and "nonfinite" in obj:
        raise ValueError("JSON output: the top-level key 'nonfinite' is reserved for the listing of non-finite "
                         "numbers; rename it")
    clean = jsonable(obj, "", nonfinite)
    if isinstance(clean, dict):
        clean["nonfinite"] = nonfinite
    elif nonfinite:
        clean = {"items": clean, "nonfinite": {f"/items{k}": v for k, v in nonfinite.items()}}
    return json.dumps(clean, indent=indent, allow_nan=False, ensure_ascii=ensure_ascii)


_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def loads(text: str):
    """Parse a document written by :func:`dumps`: the values listed in ``"nonfinite"`` are restored and the listing
    removed (a document without one is returned as parsed; a wrapped list comes back as ``{"items": [...]}``, since
    it cannot be told from an object with the one key ``"items"``)."""
    doc = json.loads(text)
    if not isinstance(doc, dict) or not isinstance(doc.get("nonfinite"), dict):
        return doc
    listing = doc.pop("nonfinite")
    for ptr, value in listing.items():
        parts = [p.replace("~1", "/").replace("~0", "~") for p in ptr.split("/")[1:]]
        if not parts:
            continue
        node = doc
        for p in parts[:-1]:
            node = node[int(p)] if isinstance(node, list) else node[p]
        last = parts[-1]
        if isinstance(node, list):
            node[int(last)] = _NONFINITE.get(value, math.nan)
        else:
            node[last] = _NONFINITE.get(value, math.nan)
    return doc


def write_atomic(path, write, *, what: str = "output", errors: tuple = (OSError,)) -> Path:
    """The package's one atomic file writer: ``write(tmp)`` fills ``NAME.tmp-<pid>`` beside ``path``, then one
    rename puts it in place, so a reader sees the old file or the new one, never half of one.  On any of ``errors``
    (``OSError`` by default: a full disk, a read-only or missing folder) the temporary file is removed and
    ``ValueError`` names the file and the reason (``what``: the argument or role of the file in the message).
    Stale ``NAME.tmp-<pid>`` files of killed processes are recognisable by their pid (``resources.pid_alive``)."""
    path = Path(path)
    tmp = _temporary(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    except errors as exc:
        reason = getattr(exc, "strerror", None) or str(exc).strip() or type(exc).__name__
        raise ValueError(f"{what}: cannot write {str(path)!r} ({reason}); nothing was left behind") from None
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    return path


def _temporary(path: Path) -> Path:
    return path.with_name(f"{path.name}.tmp-{os.getpid()}")


def is_temporary(name) -> bool:
    """Whether the file name ``name`` is a temporary file of :func:`write_atomic` (``NAME.tmp-<pid>``)."""
    return _TEMPORARY.search(os.path.basename(os.fspath(name))) is not None


def remove_stale_temporaries(path) -> list[str]:
    """Remove the temporary files of :func:`write_atomic` whose writing process no longer runs (killed mid-write;
    ``resources.pid_alive``) and return their paths, sorted.  ``path`` a folder: every ``*.tmp-<pid>`` file in it;
    otherwise the temporaries ``PATH.tmp-<pid>`` of that one file.  A file that cannot be removed is kept."""
    path = os.fspath(path)
    if os.path.isdir(path):
        candidates = [os.path.join(path, n) for n in os.listdir(path)]
    else:
        candidates = glob.glob(glob.escape(path) + ".tmp-*")
    removed = []
    for f in sorted(candidates):
        m = _TEMPORARY.search(os.path.basename(f))
        if m is None or not os.path.isfile(f) or pid_alive(int(m.group(1))):
            continue
        try:
            os.remove(f)
        except OSError:
            continue
        removed.append(f)
    return removed


def os_reason(exc: OSError) -> str:
    """An ``OSError`` in one line: its reason, the file(s) it names and its type, e.g.
    ``Permission denied: '/x' [PermissionError]``."""
    where = f" {str(exc.filename)!r}" if exc.filename is not None and exc.filename != "" else ""
    where += f" -> {str(exc.filename2)!r}" if getattr(exc, "filename2", None) else ""
    return f"{exc.strerror or type(exc).__name__}{':' + where if where else ''} [{type(exc).__name__}]"


def writable_folder(path, *, what: str = "output") -> Path:
    """Create folder ``path`` (and its parents) and check that a file can be written there, with a probe file removed
    at once; ``ValueError`` naming ``what`` (the argument) and the path when it exists as a non-folder or cannot be
    created or written."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{what}: {str(path)!r} exists and is not a folder")
    probe = path / f".write-test.tmp-{os.getpid()}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"{what}: cannot write to {str(path)!r} ({os_reason(exc)})") from None
    return path


def write_text(path, text: str, *, what: str = "output") -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically with :func:`write_atomic`."""
    def write(tmp):
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()

    return write_atomic(path, write, what=what)


def write_json(path, obj, *, indent: int | None = 2, what: str = "output") -> Path:
    """:func:`dumps` of ``obj`` (plus a final newline) written atomically with :func:`write_text`."""
    return write_text(path, dumps(obj, indent=indent) + "\n", what=what)


def safe_streams() -> None:
    """Make ``sys.stdout`` / ``sys.stderr`` write characters their encoding lacks as backslash escapes (``φ`` →
    ``\\u03c6``) instead of raising ``UnicodeEncodeError`` (``PYTHONIOENCODING=ascii``, a C locale)."""
    import sys

    for stream in (sys.stdout, sys.stderr):
        enc = (getattr(stream, "encoding", None) or "ascii").lower().replace("_", "-")
        if enc in ("utf-8", "utf8", "utf-16", "utf-32") or not hasattr(stream, "reconfigure"):
            continue
        try:
            stream.reconfigure(errors="backslashreplace")
        except (ValueError, OSError, AttributeError):
            pass


def one_line_warnings(prefix: str = "note") -> None:
    """Show every warning as one line ``<prefix>: <message>`` on stderr (no file name, no source line), each
    distinct message once."""
    import sys
    import warnings

    seen: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        if text in seen:
            return
        seen.add(text)
        try:
            print(f"{prefix}: {text}", file=file or sys.stderr)
        except (OSError, ValueError):
            pass

    warnings.showwarning = show
