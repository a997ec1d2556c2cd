"""Every JSON file committed under experiments/ and benchmarks/ is RFC 8259 JSON (no bare NaN/Infinity: non-finite
values are listed under "nonfinite" by the package's writer, lsgan_theory.output) -- a strict reader must open them."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted(p for d in ("experiments", "benchmarks") for p in (ROOT / d).rglob("*.json"))


def _strict(text: str):
    def refuse(constant):
        raise ValueError(f"bare {constant} (not RFC 8259)")

    return json.loads(text, parse_constant=refuse)


def test_there_are_committed_json_files():
    assert len(FILES) >= 5


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_json_is_strict(path):
    _strict(path.read_text(encoding="utf-8"))


def test_the_strict_reader_refuses_a_bare_nan():
    with pytest.raises(ValueError, match="NaN"):
        _strict('{"x": NaN}')
