"""The loss-zoo claims registered for ``lsgan-theory verify`` run and pass, with numbers in their evidence."""

from __future__ import annotations

import pytest

from lsgan_theory.claims import Context, registry, run_claims

IDS = sorted(k for k in registry() if k.startswith("losses-"))


def test_the_loss_zoo_registers_between_three_and_six_claims():
    assert 3 <= len(IDS) <= 6, IDS


@pytest.mark.parametrize("cid", IDS)
def test_loss_zoo_claim_passes_with_numeric_evidence(cid, tmp_path):
    (v,) = run_claims(Context(out=tmp_path), only=[cid])
    assert v.status == "pass", v.evidence
    assert any(ch.isdigit() for ch in v.evidence) and "|" in v.evidence  # a table of measured numbers
