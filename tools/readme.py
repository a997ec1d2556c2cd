"""Keep README.md and docs/cli.md in step with the code.

    python tools/readme.py cli [--check]        rewrite the generated blocks from the argument parser: the command
                                                 table of README.md and the reference of docs/cli.md (--check:
                                                 exit 1 if either differs, write nothing)
    python tools/readme.py figures [REPORT]     copy the README's figures from a report folder (default: report/,
                                                 written by `make report`) into docs/, and screenshot its
                                                 report.html's top (summary table) with headless chromium

``tests/test_readme.py`` checks both generated blocks (and runs every command and snippet of README.md and docs/).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lsgan_theory.cli import (REFERENCE_BEGIN, REFERENCE_END, TABLE_BEGIN, TABLE_END,  # noqa: E402
                              cli_reference, cli_table)

#: report figures shown in the README and docs (docs/<name>.png); the screenshot is docs/report.png
FIGURES = ["divergences_vs_shift", "nonparametric_bounds_1d", "optimal_critic_least_squares",
           "theorem1_lambda_sweep"]
#: (file, begin marker, end marker, generator) of every generated block
BLOCKS = [("README.md", TABLE_BEGIN, TABLE_END, cli_table), ("docs/cli.md", REFERENCE_BEGIN, REFERENCE_END, cli_reference)]


def with_block(text: str, begin: str, end: str, make, name: str = "README.md") -> str:
    """``text`` with the block between ``begin`` and ``end`` replaced by ``make()``."""
    head, sep, rest = text.partition(begin)
    _, sep2, tail = rest.partition(end)
    if not sep or not sep2:
        raise SystemExit(f"{name}: the markers {begin!r} ... {end!r} are missing")
    return f"{head}{begin}\n{make()}{end}{tail}"


def cli(check: bool) -> int:
    stale = 0
    for name, begin, end, make in BLOCKS:
        path = ROOT / name
        text = path.read_text(encoding="utf-8")
        new = with_block(text, begin, end, make, name)
        if new == text:
            continue
        if check:
            print(f"{name}: the generated CLI block is out of date; run `python tools/readme.py cli`", file=sys.stderr)
            stale = 1
            continue
        path.write_text(new, encoding="utf-8")
        print(f"{name}: CLI block rewritten")
    return stale


def figures(report: Path) -> int:
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    for name in FIGURES:
        shutil.copyfile(report / "figures" / f"{name}.png", docs / f"{name}.png")
    exe = shutil.which("chromium")
    if exe is None:
        print("chromium not found: docs/report.png not updated", file=sys.stderr)
        return 1
    subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={docs / 'report.png'}", "--window-size=1100,1000",
                    (report / "report.html").resolve().as_uri()], check=True, capture_output=True, timeout=120)
    print(f"docs/: {', '.join(FIGURES)} and report.png from {report}")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["cli"]:
        return cli("--check" in argv[1:])
    if argv[:1] == ["figures"]:
        return figures(Path(argv[1]) if len(argv) > 1 else ROOT / "report")
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
