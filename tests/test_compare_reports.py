"""tools/compare_reports.py (issue 31: `verify --quick` before and after a refactoring must agree) finds every kind of
difference it promises to and ignores the clock."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

from lsgan_theory.output import write_json

_SPEC = importlib.util.spec_from_file_location("compare_reports",
                                               Path(__file__).resolve().parents[1] / "tools" / "compare_reports.py")
cr = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(cr)


def _report(folder: Path, **change) -> Path:
    check = {"name": "c", "statistic": 0.25, "tolerance": 1.0, "alternative_statistic": math.inf,
             "hypothesis_met": True, "status": "pass", "shown": "0.25 ≤ 1"}
    claim = {"id": "a", "status": "pass", "evidence": "text", "seconds": 1.0, "cpu_seconds": 0.5,
             "checks": [check], "data": {"x": [1.0, math.nan], "label": "L"}}
    for k, v in change.items():
        (check if k in check and k != "status" else claim)[k] = v
    folder.mkdir()
    write_json(folder / "claims.json", {"meta": {"time": str(folder)}, "claims": [claim]})
    return folder


def test_identical_reports_agree_and_the_clock_is_ignored(tmp_path):
    a = _report(tmp_path / "a")
    b = _report(tmp_path / "b", seconds=99.0, cpu_seconds=42.0)
    assert cr.main([str(a), str(b)]) == 0  # NaN equals NaN, +inf equals +inf, seconds and meta left out


def test_each_kind_of_difference_is_reported(tmp_path, capsys):
    a = _report(tmp_path / "a")
    for i, change in enumerate([{"status": "fail"}, {"statistic": 0.25 + 1e-15}, {"alternative_statistic": 1.0},
                                {"data": {"x": [1.0, 2.0], "label": "L"}}, {"data": {"x": [1.0], "label": "L"}},
                                {"hypothesis_met": False}]):
        b = _report(tmp_path / f"b{i}", **change)
        assert cr.main([str(a), str(b)]) == 1, change
    # a tolerance admits rounding; texts are compared only when asked
    assert cr.main([str(a), str(_report(tmp_path / "r", statistic=0.25 + 1e-15)), "--rtol", "1e-12"]) == 0
    t = _report(tmp_path / "t", evidence="other text")
    assert cr.main([str(a), str(t)]) == 0 and cr.main([str(a), str(t), "--text"]) == 1
    assert cr.main([str(a), str(tmp_path / "missing")]) == 2
    assert "cannot read" in capsys.readouterr().err
