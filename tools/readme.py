"""Keep README.md in step with the code.

    python tools/readme.py cli [--check]        rewrite the generated CLI reference block of README.md from the
                                                 argument parser (--check: exit 1 if it differs, write nothing)
    python tools/readme.py figures [REPORT]     copy the README's figures from a report folder (default: report/,
                                                 written by `make report`) into docs/, and screenshot its
                                                 report.html's top (summary table) with headless chromium

``tests/test_readme.py`` checks the CLI block (and runs every command and snippet of the README).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lsgan_theory.cli import REFERENCE_BEGIN, REFERENCE_END, cli_reference  # noqa: E402

#: report figures shown in the README (docs/<name>.png); the screenshot is docs/report.png
FIGURES = ["divergences_vs_shift", "nonparametric_bounds_1d", "optimal_critic_least_squares",
           "theorem1_lambda_sweep"]


def with_reference(text: str) -> str:
    """README text with the block between the CLI-reference markers replaced by :func:`cli_reference`."""
    head, sep, rest = text.partition(REFERENCE_BEGIN)
    _, sep2, tail = rest.partition(REFERENCE_END)
    if not sep or not sep2:
        raise SystemExit(f"README.md: the markers {REFERENCE_BEGIN!r} ... {REFERENCE_END!r} are missing")
    return f"{head}{REFERENCE_BEGIN}\n{cli_reference()}{REFERENCE_END}{tail}"


def cli(check: bool) -> int:
    path = ROOT / "README.md"
    text = path.read_text(encoding="utf-8")
    new = with_reference(text)
    if new == text:
        return 0
    if check:
        print("README.md: the CLI reference is out of date; run `python tools/readme.py cli`", file=sys.stderr)
        return 1
    path.write_text(new, encoding="utf-8")
    print("README.md: CLI reference rewritten")
    return 0


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
