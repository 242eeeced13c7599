"""Reports shared by the tests of the prognostic-performance and predictive sections and of the
machine-readable tables: the default demo (``ikaros demo``) and the GSE24080 example with
``--performance`` and ``--treatment``, both made by the real command (typer's CliRunner)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ikaros.cli import app
from ikaros.results import Results, load_results
from tests.conftest import require_shared

B2M_LABEL = "beta-2 microglobulin (mg/L)"


def gse_example_args(out: Path) -> list[str]:
    """The GSE24080 example of the brief, with cytogenetic risk mapped (so that the marker +
    covariates model is fitted) and a label for B2M."""
    path = require_shared() / "gse24080" / "clinical.tsv"
    return [
        "analyze",
        str(path),
        "--map",
        "patient_id=patid",
        "--map",
        "cyto_high_risk=cyto_abn",
        "-m",
        "b2m_mg_l",
        "-m",
        "ldh",
        "-e",
        "os",
        "--transform",
        "log2",
        "--performance",
        "--base-model",
        "iss",
        "--performance-bootstrap",
        "50",
        "--treatment",
        "protocol",
        "--label",
        f"b2m_mg_l={B2M_LABEL}",
        "--report",
        "-q",
        "--out",
        str(out),
    ]


@pytest.fixture(scope="session")
def gse_example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, Path]:
    out = tmp_path_factory.mktemp("gse_performance")
    result = CliRunner().invoke(app, gse_example_args(out))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return load_results(out), out


@pytest.fixture(scope="session")
def demo_cli(tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, Path]:
    """``ikaros demo`` as a user runs it (the default: no performance, no treatment)."""
    out = tmp_path_factory.mktemp("demo_cli") / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return load_results(out), out
