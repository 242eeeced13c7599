"""docs/model.md states the numbers the code produces (sources cited; anchors; errors)."""

from __future__ import annotations

from ikaros.model.parameters import REFERENCES, default_parameters
from ikaros.model.pk import pk_check
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")


def test_pk_anchor_table_matches_the_model() -> None:
    for c in pk_check(default_parameters("IKZF1")):
        assert f"{100 * c.relative_error:+.1f}%".replace("+-", "-") in DOC, c.quantity
        assert f"{c.published:g}" in DOC


def test_every_citation_key_is_in_the_references() -> None:
    for key in REFERENCES:
        assert f"[{key}]" in DOC, key


def test_says_hypothesis_generating() -> None:
    assert "hypothesis-generating model" in DOC.lower()
