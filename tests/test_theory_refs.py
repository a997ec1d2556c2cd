"""Every citation of the theory and of the design notes has a target.

The code, docstrings, proofs, claim references, README, docs and experiment write-ups cite ``THEORY.md §N`` (also as
ranges ``§1–§3`` / ``§1-§7`` and lists ``§2, §4, §5``, sometimes with a quoted part, ``§5 "Generalisation"``) and
``docs/design.md`` (sometimes with a quoted section title, ``docs/design.md "Randomness is explicit"``).  Each must
resolve: the section number to a ``## §N Title`` heading of THEORY.md, a quoted part to text of that section, a
design-notes title to a heading of docs/design.md.  Every registered claim's ``ref`` must resolve too, and every claim
id must be listed in THEORY.md under a section its ``ref`` names.  The negative controls feed the same resolver
fabricated references (``THEORY.md §42``, a range running past §9, unknown titles, an unlisted claim id).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
THEORY = ROOT / "THEORY.md"
DESIGN = ROOT / "docs" / "design.md"

# Where citations live: (folder or file, suffixes).  tests/ is left out on purpose (negative controls cite fabricated
# sections), except the one test module whose docstring cites the design notes.
SOURCES = [
    ("lsgan_theory", (".py", ".md", ".toml", ".txt")),
    ("README.md", (".md",)),
    ("docs", (".md",)),
    ("experiments", (".md", ".toml")),
    ("tools", (".py", ".md", ".toml")),
    ("benchmarks", (".py", ".md", ".toml")),
    ("tests/test_layers.py", (".py",)),
]

HEADING = re.compile(r"^## §(\d+) (\S.*)$", re.M)
_NUM = r"§\s*(\d+)"
# "THEORY.md §5", "THEORY.md §1–§3, §8", "THEORY.md §1-§7", "THEORY.md §5, "Generalisation"", "THEORY.md "hinge …""
THEORY_CITE = re.compile(
    r"THEORY\.md(?:'s)?"
    r"(?:\s*" + _NUM + r"((?:\s*(?:[-–—]|,|and|or|to)\s*§\s*\d+)*))?"
    r"(?:,?[ \t]+[\"“]([A-Za-z][^\"”\n]{0,80})[\"”])?")  # a quoted part on the same line
_TAIL = re.compile(r"([-–—]|,|and|or|to)\s*§\s*(\d+)")
DESIGN_CITE = re.compile(r"docs/design\.md(?:,?[ \t]+[\"“]([A-Za-z][^\"”\n]{0,80})[\"”])?")
OLD_DESIGN = re.compile(r"(?<![\w/.])DESIGN\.md")


# ----------------------------------------------------------------------------------------------- the resolver
def theory_sections(text: str) -> dict[int, str]:
    """Section number -> its text (heading to the next level-2 heading) for every ``## §N Title`` of ``text``."""
    out: dict[int, str] = {}
    heads = list(HEADING.finditer(text))
    for k, h in enumerate(heads):
        end = heads[k + 1].start() if k + 1 < len(heads) else len(text)
        nxt = re.search(r"^## ", text[h.end():end], re.M)  # a level-2 heading not of the § form also ends it
        out[int(h.group(1))] = text[h.start(): h.end() + nxt.start() if nxt else end]
    return out


def design_headings(text: str) -> set[str]:
    return {m.group(1).strip().lower() for m in re.finditer(r"^#{2,4} (.+?)\s*$", text, re.M)}


def _norm(s: str) -> str:
    return " ".join(s.split()).lower()


def cited_sections(m: re.Match) -> list[int]:
    """The section numbers one ``THEORY_CITE`` match names (ranges expanded, both ends included)."""
    if m.group(1) is None:
        return []
    nums, last = [int(m.group(1))], int(m.group(1))
    for sep, n in _TAIL.findall(m.group(2) or ""):
        n = int(n)
        if sep in "-–—" or sep == "to":
            nums += list(range(last + 1, n + 1)) if n > last else [n]  # a reversed range: both ends still checked
        else:
            nums.append(n)
        last = n
    return nums


def theory_problems(text: str, sections: dict[int, str]) -> list[str]:
    """Every ``THEORY.md`` citation in ``text`` that does not resolve against ``sections``, as readable strings."""
    bad = []
    for m in THEORY_CITE.finditer(text):
        nums, part = cited_sections(m), m.group(3)
        for n in nums:
            if n not in sections:
                bad.append(f"{m.group(0)!r}: no section §{n}")
        if part:
            where = [sections[n] for n in nums if n in sections] or list(sections.values())
            if not any(_norm(part) in _norm(w) for w in where):
                bad.append(f"{m.group(0)!r}: {part!r} is not in " + (f"§{nums}" if nums else "THEORY.md"))
    return bad


def design_problems(text: str, headings: set[str] | None) -> list[str]:
    """Every ``docs/design.md`` citation in ``text`` that does not resolve (``headings`` None: the file is missing),
    and every citation of the old name ``DESIGN.md``."""
    bad = [f"{m.group(0)!r}: the design notes are docs/design.md" for m in OLD_DESIGN.finditer(text)]
    for m in DESIGN_CITE.finditer(text):
        if headings is None:
            bad.append(f"{m.group(0)!r}: docs/design.md does not exist")
        elif m.group(1) and m.group(1).strip().lower() not in headings:
            bad.append(f"{m.group(0)!r}: no heading {m.group(1)!r} in docs/design.md")
    return bad


def listed_under(claim_id: str, nums: list[int], sections: dict[int, str]) -> bool:
    """Whether ``claim_id`` appears (as a whole id) in one of the sections ``nums``."""
    pat = re.compile(r"(?<![\w-])" + re.escape(claim_id) + r"(?![\w-])")
    return any(pat.search(sections[n]) for n in nums if n in sections)


# ----------------------------------------------------------------------------------------------- the corpus
def _files() -> list[Path]:
    out = []
    for rel, suffixes in SOURCES:
        p = ROOT / rel
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix in suffixes
                          and "__pycache__" not in f.parts and not any(x.startswith(".") for x in f.parts))
    return out


@pytest.fixture(scope="module")
def sections() -> dict[int, str]:
    assert THEORY.is_file(), "THEORY.md is missing at the repository root"
    return theory_sections(THEORY.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def corpus() -> dict[str, str]:
    return {str(f.relative_to(ROOT)): f.read_text(encoding="utf-8", errors="replace") for f in _files()}


@pytest.fixture(scope="module")
def claims():
    from lsgan_theory.claims import registry
    return registry()


# ----------------------------------------------------------------------------------------------- the tests
def test_theory_md_has_sections_0_to_9_numbered_in_order(sections):
    text = THEORY.read_text(encoding="utf-8")
    numbers = [int(h.group(1)) for h in HEADING.finditer(text)]
    assert numbers == list(range(len(numbers))), f"THEORY.md section headings out of order: {numbers}"
    assert numbers[-1] >= 9, numbers
    assert all(HEADING.search(s) for s in sections.values())


def test_every_theory_citation_resolves(corpus, sections):
    bad = [f"{path}: {p}" for path, text in corpus.items() for p in theory_problems(text, sections)]
    assert not bad, "unresolved THEORY.md citations:\n" + "\n".join(bad)


def test_the_scan_sees_the_citations(corpus):
    """Guards against a scan that passes by finding nothing (a broken pattern or a moved folder)."""
    found = sum(len(cited_sections(m)) for t in corpus.values() for m in THEORY_CITE.finditer(t))
    assert found >= 150, f"only {found} THEORY.md § citations found"
    assert {"lsgan_theory/claims.py", "README.md", "lsgan_theory/ensemble/rng.py"} <= set(corpus)
    assert any(DESIGN_CITE.search(t) for t in corpus.values())
    proofs = [p for p in corpus if p.startswith("lsgan_theory/proofs/")]
    assert proofs and any(THEORY_CITE.search(corpus[p]) for p in proofs)


def test_every_design_citation_resolves(corpus):
    headings = design_headings(DESIGN.read_text(encoding="utf-8")) if DESIGN.is_file() else None
    bad = [f"{path}: {p}" for path, text in corpus.items() for p in design_problems(text, headings)]
    assert not bad, "unresolved design-notes citations:\n" + "\n".join(bad)


def test_every_claim_ref_resolves_and_the_claim_is_listed_under_its_section(claims, sections):
    assert len(claims) >= 40, f"the registry holds only {len(claims)} claims"
    bad = []
    for cid, c in claims.items():
        ms = list(THEORY_CITE.finditer(c.ref))
        nums = [n for m in ms for n in cited_sections(m)]
        if not nums:
            bad.append(f"{cid}: ref {c.ref!r} names no THEORY.md section")
            continue
        bad += [f"{cid}: {p}" for p in theory_problems(c.ref, sections)]
        if not listed_under(cid, nums, sections):
            bad.append(f"{cid}: not listed in THEORY.md under {', '.join(f'§{n}' for n in nums)} (its ref {c.ref!r})")
    assert not bad, "\n".join(bad)


def test_every_claim_id_appears_in_theory_md(claims):
    text = THEORY.read_text(encoding="utf-8")
    missing = [cid for cid in claims if not re.search(r"(?<![\w-])" + re.escape(cid) + r"(?![\w-])", text)]
    assert not missing, f"claims not described in THEORY.md: {missing}"


# ----------------------------------------------------------------------------------------------- negative controls
def test_negative_control_a_fabricated_section_is_reported(sections):
    assert theory_problems("see THEORY.md §42 for the proof", sections) == ["'THEORY.md §42': no section §42"]
    assert theory_problems("see THEORY.md §5 for the proof", sections) == []


def test_negative_control_ranges_and_lists_are_expanded(sections):
    bad = theory_problems("THEORY.md §8–§11 and THEORY.md §1-§3, §12", sections)
    assert [b.rsplit("§", 1)[1] for b in bad] == ["10", "11", "12"], bad
    assert cited_sections(THEORY_CITE.search("THEORY.md §1–§3, §8")) == [1, 2, 3, 8]
    assert cited_sections(THEORY_CITE.search("THEORY.md §2, §4, §5, §6),")) == [2, 4, 5, 6]
    assert cited_sections(THEORY_CITE.search('ref="THEORY.md §1", statement="x"')) == [1]


def test_negative_control_a_quoted_part_must_be_in_its_section(sections):
    assert theory_problems('THEORY.md §5 "Generalisation"', sections) == []
    assert theory_problems('THEORY.md §1 "Generalisation"', sections)  # the right words, the wrong section
    assert theory_problems('THEORY.md "No such passage"', sections)
    assert not theory_problems('THEORY.md "hinge inactivity"', sections)


def test_negative_control_design_notes():
    headings = design_headings(DESIGN.read_text(encoding="utf-8"))
    assert design_problems('docs/design.md "Randomness is explicit"', headings) == []
    assert design_problems('docs/design.md "Randomness is implicit"', headings)
    assert design_problems("the layering of docs/design.md", None)  # the file missing
    assert design_problems('see DESIGN.md "Randomness is explicit"', headings)  # the old name


def test_negative_control_an_unlisted_claim(sections):
    assert listed_under("symbolic-gan-jsd", [1], sections)
    assert not listed_under("symbolic-gan-jsd", [5], sections)  # listed, but not under that section
    assert not listed_under("symbolic-gan", [1], sections)  # a prefix of a listed id is not listed
    assert not listed_under("no-such-claim-42", list(sections), sections)


def _ref_titles(ref: str) -> list[str]:
    """The named passages in a claim's ref: the parts of its parenthesis, split at commas outside nested brackets
    (``"THEORY.md §5 (Theorem 2, Corollary 2)"`` -> ``["Theorem 2", "Corollary 2"]``)."""
    m = re.search(r"\((.*)\)\s*$", ref)
    if not m:
        return []
    parts, depth, cur = [], 0, ""
    for ch in m.group(1):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def test_every_passage_a_claim_ref_names_is_in_its_section(claims, sections):
    # the report's "THEORY.md" column shows the ref: what it names in parentheses must be found in the cited section
    # (whitespace normalised), e.g. "Theorem 1 at its hypothesis" under §5
    bad = []
    for cid, c in claims.items():
        nums = [n for m in THEORY_CITE.finditer(c.ref) for n in cited_sections(m)]
        text = " ".join(_norm(sections[n]) for n in nums if n in sections)
        bad += [f"{cid}: {t!r} not in §{nums}" for t in _ref_titles(c.ref) if _norm(t) not in text]
    assert not bad, "\n".join(bad)


def test_the_passage_check_can_fail(sections):
    assert _ref_titles("THEORY.md §5 (Theorem 2, Corollary 2)") == ["Theorem 2", "Corollary 2"]
    assert _ref_titles("THEORY.md §5 (Theorem 1 (ii), an engineering reading)") == ["Theorem 1 (ii)",
                                                                                     "an engineering reading"]
    assert _norm("Theorem 9 at its hypothesis") not in _norm(sections[5])
