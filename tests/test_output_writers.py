"""Every file the package writes goes through the one atomic writer, lsgan_theory.output.write_atomic (issue 31): a
failing writer leaves the old file whole, no temporary file, and a ValueError naming the path.  The stale-temporary
cleanup and the writable-folder probe live there too, once."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import lsgan_theory
from lsgan_theory import output

ROOT = Path(lsgan_theory.__file__).parent


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("old\n")

    def half_then_fail(tmp):
        Path(tmp).write_text("new, half writ")
        raise OSError(28, "No space left on device")

    with pytest.raises(ValueError, match=r"--dest: cannot write .*table\.csv.*No space left"):
        output.write_atomic(path, half_then_fail, what="--dest")
    assert path.read_text() == "old\n" and list(tmp_path.iterdir()) == [path]
    # negative control: the same writer without the fault replaces the file
    output.write_atomic(path, lambda tmp: Path(tmp).write_text("new\n"))
    assert path.read_text() == "new\n" and list(tmp_path.iterdir()) == [path]


def test_figures_are_written_atomically(tmp_path, monkeypatch):
    # plots.save (every figure) writes through write_atomic; a failing rename keeps the old PNG/PDF and leaves nothing
    # behind (before: fig.savefig straight onto the final name)
    from matplotlib.figure import Figure

    from lsgan_theory import plots

    (tmp_path / "f.png").write_bytes(b"old png")

    def fail(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output.os, "replace", fail)
    fig = Figure()
    fig.add_subplot().plot([0, 1], [0, 1])
    with pytest.raises(ValueError, match=r"figure: cannot write .*f\.png.*No space left"):
        plots.save(fig, tmp_path / "f", "a caption")
    assert (tmp_path / "f.png").read_bytes() == b"old png" and sorted(os.listdir(tmp_path)) == ["f.png"]
    monkeypatch.undo()  # negative control: written, each in the format of its final name (not the temporary's)
    png, pdf = plots.save(fig, tmp_path / "f", "a caption")
    assert png.read_bytes()[:4] == b"\x89PNG" and pdf.read_bytes()[:4] == b"%PDF"
    assert sorted(os.listdir(tmp_path)) == ["f.pdf", "f.png"]


_DIRECT = {"savefig", "to_csv", "to_parquet", "write_text", "write_bytes", "to_json", "to_excel"}


def direct_writes(source: str) -> list[str]:
    """Calls in ``source`` that write a file without write_atomic: ``x.savefig(path)``, ``x.to_csv(path)``,
    ``Path.write_text(...)``, ``open(..., "w")``, ... -- except inside a ``lambda`` (the writer handed to write_atomic)
    and ``to_csv()`` without a path (it returns the text).  ``open(..., "a")`` is allowed: an append-only journal
    (the LP checkpoint of studies/nonparametric.py) adds whole lines, and its reader skips a torn last line, so a
    rename would add nothing."""
    out = []
    tree = ast.parse(source)
    lambdas = {id(n) for lam in ast.walk(tree) if isinstance(lam, ast.Lambda) for n in ast.walk(lam.body)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or id(node) in lambdas:
            continue
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr in _DIRECT and (node.args or node.keywords):
            if f.attr.startswith("to_") and not node.args and all(k.arg != "path_or_buf" for k in node.keywords):
                continue
            out.append(f"{node.lineno}: .{f.attr}(...)")
        elif isinstance(f, ast.Name) and f.id == "open":
            modes = [a.value for a in node.args[1:2] if isinstance(a, ast.Constant)]
            modes += [k.value.value for k in node.keywords if k.arg == "mode" and isinstance(k.value, ast.Constant)]
            if any(isinstance(m, str) and set(m) & set("wx") for m in modes):
                out.append(f"{node.lineno}: open(..., {modes[0]!r})")
    return out


def test_the_package_writes_files_only_through_write_atomic():
    found = {str(p.relative_to(ROOT)): direct_writes(p.read_text(encoding="utf-8"))
             for p in sorted(ROOT.rglob("*.py")) if p.name != "output.py"}
    assert {k: v for k, v in found.items() if v} == {}


@pytest.mark.parametrize("code", [
    "fig.savefig(path, dpi=130)", "df.to_csv(dest / 'x.csv', index=False)", "df.to_parquet(p)",
    "Path(p).write_text('x', encoding='utf-8')", "open(p, 'w')", "open(p, mode='wb')", "open(p, 'x')"])
def test_direct_write_checker_negative_control(code):
    assert direct_writes(code) != []


@pytest.mark.parametrize("code", [
    "write_atomic(p, lambda tmp: fig.savefig(tmp, format='png'))", "text = df.to_csv(index=False)",
    "open(p, encoding='utf-8')", "open(p, 'rb')", "open(journal, 'a', encoding='utf-8')"])
def test_direct_write_checker_allows(code):
    assert direct_writes(code) == []


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_remove_stale_temporaries(tmp_path):
    dead, mine = _dead_pid(), os.getpid()
    names = ["a.csv", f"a.csv.tmp-{dead}", f"a.csv.tmp-{mine}", f"b.json.tmp-{dead}", "c.tmp-x", f"d.tmp-{dead}.bak"]
    for n in names:
        (tmp_path / n).write_text("")
    # one file: only its own temporaries of dead processes
    assert output.remove_stale_temporaries(tmp_path / "a.csv") == [str(tmp_path / f"a.csv.tmp-{dead}")]
    # a folder: every temporary of a dead process in it; a live writer's (this process) and other names are kept
    assert output.remove_stale_temporaries(tmp_path) == [str(tmp_path / f"b.json.tmp-{dead}")]
    assert sorted(os.listdir(tmp_path)) == sorted(["a.csv", f"a.csv.tmp-{mine}", "c.tmp-x", f"d.tmp-{dead}.bak"])
    assert output.is_temporary(f"x/a.csv.tmp-{mine}") and not output.is_temporary("c.tmp-x")


def test_writable_folder(tmp_path):
    made = output.writable_folder(tmp_path / "new" / "deeper", what="--out")
    assert made.is_dir() and os.listdir(made) == []  # the probe is removed
    (tmp_path / "afile").write_text("")
    with pytest.raises(ValueError, match=r"^--out: .*afile.* exists and is not a folder"):
        output.writable_folder(tmp_path / "afile", what="--out")
    with pytest.raises(ValueError, match=r"^--plot: cannot write to .*afile/x"):
        output.writable_folder(tmp_path / "afile" / "x", what="--plot")
