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

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lsgan_theory.cli import build_parser  # noqa: E402

#: The markers around the generated CLI reference in docs/cli.md (``tools/readme.py cli`` rewrites what lies between).
REFERENCE_BEGIN = "<!-- cli-reference: begin (generated from the argument parser by `python tools/readme.py cli`) -->"
REFERENCE_END = "<!-- cli-reference: end -->"


def _metavar(action: argparse.Action) -> str:
    """An argument's value placeholder as ``--help`` writes it (``N``, ``{l1,l2}``, ``X [X ...]``)."""
    if action.choices is not None and action.metavar is None:
        m = "{" + ",".join(map(str, action.choices)) + "}"
    else:
        m = action.metavar or (action.dest if not action.option_strings else action.dest.upper())
    n = action.nargs
    return {None: m, "?": f"[{m}]", "*": f"[{m} ...]", "+": f"{m} [{m} ...]"}.get(
        n, " ".join([m] * n) if isinstance(n, int) else m)


def _help_text(text: str | None, action: argparse.Action | None = None, cell: bool = True) -> str:
    """argparse's ``%%`` and ``%(name)s`` expanded, whitespace collapsed; pipes escaped for a table ``cell``."""
    if not text:
        return ""
    if action is not None:
        text = text % {**vars(action), "default": action.default}
    else:
        text = text.replace("%%", "%")
    text = " ".join(text.split())
    return text.replace("|", "\\|") if cell else text


TABLE_BEGIN = "<!-- cli-table: begin (generated from the argument parser by `python tools/readme.py cli`) -->"
TABLE_END = "<!-- cli-table: end -->"


def cli_table() -> str:
    """The subcommands and their one-line help as a Markdown table (README.md, between :data:`TABLE_BEGIN` and
    :data:`TABLE_END`; the full reference, :func:`cli_reference`, is docs/cli.md)."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {a.dest: a.help for a in sub._choices_actions}
    lines = ["| command | what it does |", "|---|---|"]
    lines += [f"| `lsgan-theory {name}` | {_help_text(helps.get(name))} |" for name in sub.choices]
    return "\n".join(lines) + "\n"


def cli_reference() -> str:
    """The command-line reference as Markdown, generated from :func:`build_parser`: a table of the subcommands with
    their one-line help, then per subcommand (in a collapsed ``<details>`` block) its synopsis, description and a
    table of its arguments.  Rendered from the parser's actions, not from ``format_help()``, so the text does not
    depend on the Python version's argparse layout or the terminal width.  docs/cli.md holds this text between
    :data:`REFERENCE_BEGIN` and :data:`REFERENCE_END`; ``tests/test_readme.py`` checks that the two are equal."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {a.dest: a.help for a in sub._choices_actions}
    lines = cli_table().rstrip("\n").split("\n")
    for name, sp in sub.choices.items():
        exclusive = {id(a): g for g in sp._mutually_exclusive_groups for a in g._group_actions}
        synopsis, done = [f"lsgan-theory {name}"], set()
        for a in sp._actions:
            if isinstance(a, argparse._HelpAction) or id(a) in done:
                continue
            if id(a) in exclusive:  # [--quick | --full]
                group = exclusive[id(a)]._group_actions
                done.update(id(g) for g in group)
                synopsis.append("[" + " | ".join(_option(g) for g in group) + "]")
            elif a.option_strings:
                synopsis.append(_option(a) if a.required else f"[{_option(a)}]")
            else:
                synopsis.append(_metavar(a))
        rows = [f"| `{_option(a, every=True)}` | {_help_text(a.help, a)}"
                + (f" (default: `{a.default}`)" if _show_default(a) else "") + " |"
                for a in sp._actions if not isinstance(a, argparse._HelpAction)]
        lines += ["", f"<details><summary><code>lsgan-theory {name}</code> — {_help_text(helps.get(name), cell=False)}</summary>",
                  "", "```text", " ".join(synopsis), "```", ""]
        if sp.description:
            lines += [_help_text(sp.description, cell=False), ""]
        lines += ["| argument | meaning |", "|---|---|", *rows, "", "</details>"]
    return "\n".join(lines) + "\n"


def _option(action: argparse.Action, every: bool = False) -> str:
    """``--out OUT`` (the first option string, or all of them joined by ``, `` when ``every``); a positional's
    placeholder."""
    if not action.option_strings:
        return _metavar(action)
    names = ", ".join(action.option_strings) if every else action.option_strings[-1]
    return names if action.nargs == 0 else f"{names} {_metavar(action)}"


def _show_default(action: argparse.Action) -> bool:
    d = action.default
    return (action.option_strings and action.nargs != 0 and d is not None and d is not argparse.SUPPRESS
            and not (isinstance(d, list) and not d) and "default" not in (action.help or ""))


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
