"""``ikaros cutpoint`` draws its figure from the same numbers as cutpoint.json."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from typer.testing import CliRunner

from ikaros.cli import app
from tests.conftest import require_shared

runner = CliRunner()


def test_cutpoint_figure_matches_json(tmp_path: Path) -> None:
    data = require_shared() / "gse24080" / "clinical.tsv"
    out = tmp_path / "cp"
    args = [
        "cutpoint", str(data), "--map", "patient_id=patid", "-m", "b2m_mg_l", "-e", "os",
        "--pmethod", "Lau94", "--bootstrap", "0", "--label", "B2M (mg/L)", "--out", str(out), "-q",
    ]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    record = json.loads((out / "cutpoint.json").read_text())
    svg = (out / "cutpoint.svg").read_text()
    assert (out / "cutpoint.png").stat().st_size > 10_000
    text = html.unescape(" ".join(re.findall(r">([^<>]+)</text>", svg)))
    assert f"max |S| = {record['statistic']:.2f}" in text
    assert f"optimised cut {record['cutpoint']:.4g}" in text
    assert "B2M (mg/L)" in text and "b2m_mg_l" not in text
    assert f"n = {record['n_low']}, {record['events_low']} events" in text
    p = record["p_lau94"]
    assert ("p < 0.001" if p < 0.001 else f"p = {p:.3f}") in text

    again = runner.invoke(app, [*args[:-3], "--out", str(tmp_path / "cp2"), "-q"])
    assert again.exit_code == 0
    assert (tmp_path / "cp2" / "cutpoint.svg").read_bytes() == svg.encode()
