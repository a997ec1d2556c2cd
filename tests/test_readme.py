"""Every command and snippet in README.md and docs/*.md runs, and shown output matches (issues 21, 27), so the
documents cannot drift.  The documents run in the order of :data:`DOCUMENTS` (README first, then docs/ in the order
of their former places in the README: a block may use a folder an earlier one wrote).

The convention (follow it when you add to README.md)
-----------------------------------------------------
* ```` ```python ```` blocks are executed, in README order, each in a fresh namespace (so each block imports what it
  uses), with the working directory a temporary folder shared by the whole README, holding a copy of
  ``experiments/`` (so ``experiments/lambda.toml`` resolves; nothing is written into the repository).  Keep a block
  under ~10 s on 2 cores.
* ```` ```console ```` blocks: a line ``$ COMMAND`` is a command; the lines after it, up to the next ``$`` line or the
  end of the block, are its expected stdout, compared after stripping trailing spaces.  ``...`` on a line of its
  own matches any number of lines, ``...`` inside a line any text (doctest's ELLIPSIS).  Show output only where it
  is stable.
* ```` ```sh ```` / ```` ```bash ```` blocks: every line is a command (a trailing ``\\`` continues it; ``# comments``
  are dropped); the output is not compared, the exit status is.
* A command is ``lsgan-theory ARGS`` or ``python -m lsgan_theory ARGS``, run in-process through
  ``lsgan_theory.cli.main`` (the same code path as the console script); it must exit 0.  Keep it under ~30 s: show
  the quick form (``--quick``, fewer steps) and name the full one in prose.
* Other blocks (```` ```text ````, ```` ```toml ````, ...) are not run.
* A marker comment on the line just before the opening fence changes this; options combine with ``;``:

  - ``<!-- readme-test: slow -->`` -- the block runs only under ``pytest -m slow`` (``make test-slow``).  Use it for
    anything over ~10 s; a later block that needs its output (a sweep folder) gets the marker too.
  - ``<!-- readme-test: exit=1 -->`` -- the exit status its commands must return (``verify`` exits 1 when a claim
    fails).
  - ``<!-- readme-test: skip: REASON -->`` (last, REASON runs to the end) -- not run at all (``make``, ``pip``, servers, hours on a GPU); reported as
    *skipped* with REASON (``pytest -ra`` lists it).  A command that is not ``lsgan-theory`` in a block without
    ``skip`` fails the test, so nothing is ignored silently.

Besides the blocks: the generated CLI reference equals ``cli_reference()`` of ``tools/readme.py``, every local link and
image exists, and the tour's testing-kit TODO is filled once ``lsgan_theory.testing`` exists.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: every document whose blocks run, in order; a docs/*.md page not listed here runs after them (sorted by name)
_ORDER = ["README.md", "docs/cli.md", "docs/experiments.md", "docs/modules.md"]
DOCUMENTS = [ROOT / n for n in _ORDER if (ROOT / n).exists()] + sorted(
    p for p in (ROOT / "docs").glob("*.md") if p.relative_to(ROOT).as_posix() not in _ORDER)
RUN_LANGS = {"python", "console", "sh", "bash"}
# one torch thread: the snippets' models are tiny, and two threads on a loaded 2-core machine were up to 40x slower
pytestmark = pytest.mark.usefixtures("one_torch_thread")
MARKER = re.compile(r"^<!--\s*readme-test:\s*(.*?)\s*-->\s*$")


@dataclass
class Block:
    lang: str
    line: int  # 1-based line of the opening fence
    text: str
    doc: str = "README.md"
    slow: bool = False
    exit: int = 0
    skip: str | None = None
    commands: list[tuple[str, str | None]] = field(default_factory=list)  # (command, expected stdout or None)

    @property
    def name(self) -> str:
        return f"{self.doc}:{self.line}:{self.lang}"


def parse_markers(spec: str, where: str) -> dict:
    """``slow; exit=1; skip: reason`` -> options; an unknown option is an error (a typo must not skip silently)."""
    opts: dict = {}
    spec, sep, reason = spec.partition("skip:")  # the reason is free text to the end (it may hold ';')
    if sep:
        if not reason.strip():
            raise ValueError(f"{where}: readme-test skip needs a reason (skip: REASON)")
        opts["skip"] = reason.strip()
    for part in (p.strip() for p in spec.split(";") if p.strip()):
        if part == "slow":
            opts["slow"] = True
        elif re.fullmatch(r"exit=\d+", part):
            opts["exit"] = int(part[5:])
        else:
            raise ValueError(f"{where}: unknown readme-test option {part!r} (slow, exit=N, skip: REASON)")
    return opts


def shell_commands(text: str) -> list[str]:
    """The commands of a sh/bash block: continuation lines joined, comments and blank lines dropped."""
    out, cur = [], ""
    for raw in text.splitlines():
        cur += raw.rstrip()
        if cur.endswith("\\"):
            cur = cur[:-1] + " "
            continue
        words = shlex.split(cur, comments=True)
        if words:
            out.append(shlex.join(words))
        cur = ""
    return out


def console_commands(text: str) -> list[tuple[str, str | None]]:
    """(command, expected stdout) pairs of a console block."""
    pairs: list[list] = []
    for raw in text.splitlines():
        if raw.startswith("$ "):
            pairs.append([raw[2:].strip(), []])
        elif pairs:
            pairs[-1][1].append(raw)
        elif raw.strip():
            raise ValueError(f"console block: output before the first '$ ' line: {raw!r}")
    return [(c, "\n".join(o) if any(x.strip() for x in o) else None) for c, o in pairs]


def parse_blocks(text: str, doc: str = "README.md") -> list[Block]:
    """Every fenced block of ``text`` (the document ``doc``) with its readme-test options."""
    lines = text.splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = re.match(r"^(`{3,})\s*([\w+-]*)", lines[i])
        if not m:
            i += 1
            continue
        fence, lang = m.group(1), m.group(2).lower()
        j = i + 1
        while j < len(lines) and not lines[j].startswith(fence):
            j += 1
        if j == len(lines):
            raise ValueError(f"{doc}:{i + 1}: unclosed code fence")
        opts = {}
        marker = MARKER.match(lines[i - 1]) if i > 0 else None
        if marker:
            opts = parse_markers(marker.group(1), f"{doc}:{i}")
        b = Block(lang, i + 1, "\n".join(lines[i + 1:j]), doc=doc, **opts)
        if lang in ("sh", "bash"):
            b.commands = [(c, None) for c in shell_commands(b.text)]
        elif lang == "console":
            b.commands = console_commands(b.text)
        if lang in RUN_LANGS and b.skip is None:
            for c, _ in b.commands:
                if cli_argv(c) is None:
                    raise ValueError(f"{b.name}: {c!r} is not an lsgan-theory command; mark the block "
                                     "<!-- readme-test: skip: REASON --> if it cannot run in the test suite")
        blocks.append(b)
        i = j + 1
    return blocks


def cli_argv(command: str) -> list[str] | None:
    """The arguments of ``lsgan-theory ARGS`` / ``python -m lsgan_theory ARGS``; None for any other command."""
    words = shlex.split(command)
    if words[:1] == ["lsgan-theory"]:
        return words[1:]
    if words[:3] in (["python", "-m", "lsgan_theory"], ["python3", "-m", "lsgan_theory"]):
        return words[3:]
    return None


def output_matches(expected: str, actual: str) -> bool:
    """Lines compared after stripping trailing spaces; ``...`` alone matches any lines, inside a line any text."""
    pattern = ""
    for line in expected.strip("\n").splitlines():
        line = line.rstrip()
        if line == "...":
            pattern += r"(?:[^\n]*\n)*?"
        else:
            pattern += ".*?".join(re.escape(part) for part in line.split("...")) + r"\n"
    got = "".join(line.rstrip() + "\n" for line in actual.strip("\n").splitlines())
    return re.fullmatch(pattern, got) is not None


def run_cli(command: str) -> tuple[int, str, str]:
    from lsgan_theory.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(cli_argv(command))
    return rc, out.getvalue(), err.getvalue()


def run_block(block: Block) -> None:
    """Run one block in the current directory; AssertionError naming the block, command and output on a failure."""
    if block.lang == "python":
        code = compile(block.text, block.name, "exec")
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, {"__name__": "__readme__"})  # noqa: S102 -- the README's own snippets, the point of the test
        return
    for command, expected in block.commands:
        rc, out, err = run_cli(command)
        assert rc == block.exit, f"{block.name}: `{command}` exited {rc} (expected {block.exit}):\n{err[-3000:]}"
        if expected is not None:
            assert output_matches(expected, out), (f"{block.name}: `{command}` printed\n{out}\nbut the README shows\n"
                                                   f"{expected}")


# ---------------------------------------------------------------------------------------------------- the blocks
BLOCKS = [b for d in DOCUMENTS for b in parse_blocks(d.read_text(encoding="utf-8"), d.relative_to(ROOT).as_posix())]


def _param(b: Block):
    marks = []
    if b.skip is not None:
        marks.append(pytest.mark.skip(reason=f"{b.name}: readme-test skip: {b.skip}"))
    if b.slow:
        marks.append(pytest.mark.slow)
    return pytest.param(b, id=f"{b.doc}:{b.line}-{b.lang}", marks=marks)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """One working folder for the whole README (blocks may use what an earlier one wrote), with experiments/."""
    d = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "experiments", d / "experiments")
    return d


@pytest.mark.parametrize("block", [_param(b) for b in BLOCKS if b.lang in RUN_LANGS])
def test_readme_block_runs(block, workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    run_block(block)


def test_the_readme_runs_something_in_every_kind_of_block():
    # the premise of the test above: the parser found the README's blocks (a broken fence regex would find none)
    kinds = {b.lang for b in BLOCKS if b.skip is None and not b.slow}
    assert {"python", "console", "sh"} <= kinds, kinds
    shown = [c for b in BLOCKS for c, out in b.commands if out is not None]
    assert any(c.startswith("lsgan-theory divergence") and "--json" in c for c in shown)  # issue 21's example


# ---------------------------------------------------------------------------------------------------- the rest
def _readme_tool():
    """tools/readme.py (the generator of the CLI blocks), imported from its file: tools/ is not a package."""
    spec = importlib.util.spec_from_file_location("lsgan_readme_tool", ROOT / "tools" / "readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("doc,begin,end,make", [("README.md", "TABLE_BEGIN", "TABLE_END", "cli_table"),
                                                ("docs/cli.md", "REFERENCE_BEGIN", "REFERENCE_END", "cli_reference")])
def test_the_generated_cli_blocks_equal_what_the_parser_gives(doc, begin, end, make):
    tool = _readme_tool()
    begin, end, make = getattr(tool, begin), getattr(tool, end), getattr(tool, make)
    text = (ROOT / doc).read_text(encoding="utf-8")
    assert text.count(begin) == 1 and text.count(end) == 1
    block = text.split(begin)[1].split(end)[0]
    assert block == "\n" + make(), f"{doc}: the CLI block is stale; run `python tools/readme.py cli`"


def test_the_readme_is_a_front_door_not_a_manual():
    # issue 27: ≤ 300 lines; the reference lives in docs/
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 300


def test_cli_reference_lists_every_subcommand_and_option():
    # an independent look at the parser: every subcommand and every option string appears in the reference
    import argparse

    from lsgan_theory.cli import build_parser

    ref = _readme_tool().cli_reference()
    # private: argparse has no public way to list a parser's subcommands and their options
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, sp in sub.choices.items():
        section = ref.split(f"<code>lsgan-theory {name}</code>")[1].split("</details>")[0]
        for a in sp._actions:  # private: argparse's list of options (no public accessor)
            for opt in a.option_strings:
                if opt not in ("-h", "--help"):
                    assert f"`{opt}" in section or f", {opt}" in section, (name, opt)


@pytest.mark.parametrize("doc", [d.relative_to(ROOT).as_posix() for d in DOCUMENTS] + ["THEORY.md"])
def test_every_local_link_and_image_of_a_document_exists(doc):
    path = ROOT / doc
    if not path.exists():
        pytest.skip(f"{doc} does not exist")
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(?ms)^```.*?^```", "", text)  # links inside code blocks are not links
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [t for t in targets if not re.match(r"[a-z]+:|#", t)]
    if doc == "README.md":
        assert any(t.endswith(".png") for t in local)  # the README shows figures
    missing = [t for t in local if not (path.parent / t.split("#")[0]).exists()]
    assert missing == [], missing

    def anchors(md: str) -> set[str]:
        return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in re.findall(r"(?m)^#+ (.*)$", md)}

    broken = [t for t in targets if t.startswith("#") and t[1:] not in anchors(text)]
    for t in local:  # other-page.md#anchor
        page, _, frag = t.partition("#")
        if frag and page.endswith(".md") and frag not in anchors((path.parent / page).read_text(encoding="utf-8")):
            broken.append(t)
    assert broken == [], broken


def test_the_tour_shows_the_property_test_kit():
    # the README's tour uses lsgan_theory.testing (the kit users build their own property tests with)
    text = README.read_text(encoding="utf-8")
    assert "from lsgan_theory import testing" in text and "testing.assert_" in text


# ---------------------------------------------------------------------------------------------------- negative controls
NEGATIVE = '''
```console
$ lsgan-theory divergence kl 'normal(0,1)' 'normal(1,1)'
kl(normal(0,1) || normal(1,1)) = 0.6  (abserr <= ...)
```
'''


def test_a_wrong_shown_output_is_caught(tmp_path, monkeypatch):
    # the same command as the README's, with a wrong value shown (0.6 for KL = 0.5): the block must fail
    monkeypatch.chdir(tmp_path)
    (block,) = parse_blocks(NEGATIVE)
    with pytest.raises(AssertionError, match="printed"):
        run_block(block)
    right = parse_blocks(NEGATIVE.replace("= 0.6 ", "= 0.5 "))[0]
    run_block(right)  # control: the right value passes


def test_ellipsis_matching():
    assert output_matches("a\n...\nd", "a\nb\nc\nd\n") and output_matches("a\n...\nb", "a\nb")
    assert output_matches("x = ... s", "x = 12 s") and not output_matches("x = ... s", "y = 12 s")
    assert not output_matches("a\nb", "a\nb\nc")  # no silent extra output


def test_a_failing_snippet_a_failing_command_and_an_unknown_command_are_caught(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ZeroDivisionError):
        run_block(parse_blocks("```python\n1 / 0\n```")[0])
    with pytest.raises(AssertionError, match="exited 2"):
        run_block(parse_blocks("```sh\nlsgan-theory divergence nope 'normal(0,1)' 'normal(1,1)'\n```")[0])
    with pytest.raises(ValueError, match="not an lsgan-theory command"):
        parse_blocks("```sh\nrm -rf /tmp/x\n```")
    assert parse_blocks("<!-- readme-test: skip: a server -->\n```sh\ndask scheduler\n```")[0].skip == "a server"
    with pytest.raises(ValueError, match="unknown readme-test option"):
        parse_blocks("<!-- readme-test: slwo -->\n```sh\nlsgan-theory --version\n```")


def _measured_numbers(text: str) -> list[str]:
    """Decimal numbers with two or more decimals in prose and tables (code blocks, whose output the block tests
    compare, and arXiv identifiers left out)."""
    text = re.sub(r"(?ms)^```.*?^```", "", text)
    text = re.sub(r"arXiv:\d{4}\.\d{4,5}", "", text)
    return re.findall(r"(?<![\w.])-?\d+\.\d{2,}(?![\w])", text)


_DATA_SUFFIXES = (".csv", ".json", ".jsonl", ".md", ".txt", ".toml")


def _quotable(paths) -> set[str]:
    """Every number of the files ``paths`` as written and as it reads rounded to 2 or more decimals (no more than
    it was written with) -- the forms a document may quote it in."""
    vals = set()
    for p in paths:
        for m in re.finditer(r"-?\d+\.\d+(?:[eE][-+]?\d+)?", p.read_text(encoding="utf-8", errors="ignore")):
            text = m.group(0).lstrip("-")
            vals.add(text)
            x = abs(float(text))
            decimals = len(re.split(r"[eE]", text)[0].split(".")[1])
            vals.update(f"{x:.{d}f}" for d in range(2, decimals + 1))
    return vals


def _cited_run_files(block: str) -> list[Path]:
    """The data files of the runs a paragraph or table cites (``experiments/...`` or ``benchmarks/...``): a cited
    folder's files, or the files beside a cited file."""
    out = []
    for cite in re.findall(r"(?:experiments|benchmarks)/[\w./-]+", block):
        p = ROOT / cite.rstrip(".,)")
        while not p.exists() and p != ROOT:
            p = p.parent
        if p == ROOT:
            continue
        folder = p if p.is_dir() else p.parent
        out += [q for q in (folder.rglob("*") if p.is_dir() else folder.iterdir())
                if q.is_file() and q.suffix in _DATA_SUFFIXES]
    return out


def _unsourced_in_cited_runs(text: str) -> list[str]:
    """Numbers of each paragraph / table that cites a run folder which are not numbers of that run's files."""
    bad = []
    for block in re.split(r"\n\s*\n", re.sub(r"(?ms)^```.*?^```", "", text)):
        files = _cited_run_files(block)
        nums = _measured_numbers(block)
        if files and nums:
            vals = _quotable(files)
            bad += [n for n in nums if n.lstrip("-") not in vals]
    return bad


def test_numbers_next_to_a_cited_run_come_from_that_run():
    # where a paragraph or table names the run it quotes (experiments/... or benchmarks/...), each measured number in
    # it must be a number of that run's files (as written, or rounded) -- a check with power, unlike the global one
    # below: a random 3-decimal number is rarely among one run's values
    bad = {d.relative_to(ROOT).as_posix(): _unsourced_in_cited_runs(d.read_text(encoding="utf-8")) for d in DOCUMENTS}
    assert {k: v for k, v in bad.items() if v} == {}
    # negative control: a number the cited run does not hold is caught; the same number as the run wrote it passes
    run = "experiments/theorem1/verify_quick/times.json"
    first = json.loads((ROOT / run).read_text())["claims"][0]
    load = [f"{x:.2f}" for x in first["loadavg_1min_before_after"]]
    assert _unsourced_in_cited_runs(f"Measured ({run}): {first['process_wall_s']} s, and 0.98765 s.") == ["0.98765"]
    assert _unsourced_in_cited_runs(f"Measured ({run}) at a load of {load[0]} and {load[1]}.") == []


def test_numbers_in_the_documents_come_from_generated_files():
    # a measured number in README.md / docs/ appears in some file a run generated (experiments/**, benchmarks/**).
    # A weak, global check (most 2-3 decimal numbers occur somewhere in megabytes of results); the check above,
    # scoped to the run a paragraph cites, is the one with power
    corpus = "".join(p.read_text(encoding="utf-8", errors="ignore")
                     for root in ("experiments", "benchmarks") for p in (ROOT / root).rglob("*")
                     if p.is_file() and p.suffix in (".csv", ".json", ".jsonl", ".md", ".txt", ".toml", ".py"))
    unsourced = {d.relative_to(ROOT).as_posix(): [n for n in _measured_numbers(d.read_text(encoding="utf-8"))
                                                  if n not in corpus] for d in DOCUMENTS}
    assert {k: v for k, v in unsourced.items() if v} == {}
    # negative control: a number typed by hand is caught
    assert _measured_numbers("the gap fell to 0.9182736 at step 10") == ["0.9182736"] and "0.9182736" not in corpus
