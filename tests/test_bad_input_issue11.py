"""Malformed input on the issue-11 paths is refused cleanly: one message, exit 2, no output.

The input paths are grouping by a variable (``--group``, ``--reference``), cuts (``--cut``),
endpoints derived from registry columns (``--time-from``, ``--event-from``), competing-risk
codes (``--competing``, ``--causes``) and expression matrices (``--expression`` in either
orientation, ``--sample-pattern``, ``--genes``). The cases live in
``tests/data/bad_analyze11/`` and are listed, with the substrings their message must contain,
in its ``cases.toml``; each runs the real ``ikaros analyze`` command in process (typer's
CliRunner). A case with a ``bug`` entry describes a known defect and is expected to fail
(strictly: it must be looked at again once the defect is fixed).
"""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ikaros.cli import app
from tests.conftest import ANSI, ROOT, one_error_line

BAD = ROOT / "tests" / "data" / "bad_analyze11"
PATHS = ("group", "cut", "time-from/event-from", "competing", "expression")
VALID = {
    "registry.csv",
    "expression_genes_x_samples.csv",
    "expression_samples_x_genes.csv",
    "genes.csv",
}

runner = CliRunner()

with open(BAD / "cases.toml", "rb") as _fh:
    _MANIFEST = tomllib.load(_fh)
BASES: dict[str, list[str]] = _MANIFEST["bases"]
MATRIX_ARGS = [
    "--expression",
    str(BAD / "expression_genes_x_samples.csv"),
    "--genes",
    str(BAD / "genes.csv"),
    "--sample-pattern",
    "^(R[0-9]+)_1_BM",
]
CASES: list[dict[str, Any]] = _MANIFEST["case"]


def _args(case: dict[str, Any]) -> list[str]:
    return [*BASES.get(case.get("base", ""), []), *case.get("args", [])]


def _case_id(case: dict[str, Any]) -> str:
    return " ".join([case["path"], case["file"], *case.get("args", [])])


def _param(case: dict[str, Any]) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=case["bug"])] if "bug" in case else []
    return pytest.param(case, id=_case_id(case), marks=marks)


def _snapshot(directory: Path) -> list[tuple[str, bytes, int]]:
    """Names, bytes and modification times of every file of a directory."""
    return sorted((p.name, p.read_bytes(), p.stat().st_mtime_ns) for p in directory.iterdir())


def _listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _invoke(case: dict[str, Any], out: Path) -> Any:
    """Run a case; the file names in its arguments (``--expression X.csv``) are in BAD."""
    args = [str(BAD / a) if a.endswith(".csv") and "/" not in a else a for a in _args(case)]
    argv = ["analyze", str(BAD / case["file"]), *args, "--out", str(out)]
    return runner.invoke(app, argv, env={"IKAROS_DEBUG": None})


def test_manifest_has_ten_cases_per_input_path() -> None:
    counts = Counter(c["path"] for c in CASES)
    assert set(counts) == set(PATHS), counts
    for path in PATHS:
        working = [c for c in CASES if c["path"] == path and "bug" not in c]
        assert len(working) >= 10, f"{path}: {len(working)} cases without a known bug"
    ids = [_case_id(c) for c in CASES]
    assert len(ids) == len(set(ids)), "two cases with the same file and arguments"
    used = {c["file"] for c in CASES} | VALID | {"b2m_ties_at_quartiles.csv"}
    for c in CASES:
        used.update(a for a in c.get("args", []) if a.endswith(".csv"))
        assert c["expect"], _case_id(c)
        assert c.get("base") in (None, *BASES), _case_id(c)
    on_disk = {p.name for p in BAD.iterdir()} - {"cases.toml", "__pycache__"}
    assert on_disk <= used, f"files without a case: {on_disk - used}"
    assert on_disk >= VALID


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_input_gives_one_clear_message_and_no_output(
    case: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    before = _snapshot(BAD)
    result = _invoke(case, out)

    message = one_error_line(result)
    shown = f"stderr: {ANSI.sub('', result.stderr)}"
    if case.get("names_file", True):
        assert str(BAD / case["file"]) in message, shown
    for name in case.get("names", []):
        assert str(BAD / name) in message, shown
    for part in case["expect"]:
        assert part in message, f"{part!r} not in the message\n{shown}"

    # nothing written, inputs untouched
    assert not out.exists()
    assert _listing(tmp_path) == []
    assert _snapshot(BAD) == before


@pytest.mark.parametrize(
    "matrix", ["expression_genes_x_samples.csv", "expression_samples_x_genes.csv"]
)
def test_matrix_in_either_orientation_gives_the_file_values(matrix: str, tmp_path: Path) -> None:
    """The valid matrix in both orientations: IKZF1 (ENSG00000185811 in genes.csv) has the
    quartiles of the values in the file (type 7), for all 16 patients."""
    import csv

    import numpy as np

    with open(BAD / "expression_genes_x_samples.csv", newline="") as fh:
        row = next(r for r in csv.reader(fh) if r[0] == "ENSG00000185811")
    want = np.quantile([float(v) for v in row[1:]], [0.25, 0.5, 0.75], method="linear")
    out = tmp_path / "out"
    args = ["analyze", str(BAD / "registry.csv"), *BASES["expr"], "--expression", str(BAD / matrix)]
    args += ["--genes", str(BAD / "genes.csv"), "--sample-pattern", "^(R[0-9]+)_1_BM"]
    result = runner.invoke(app, [*args, "--out", str(out), "-q"])
    assert result.exit_code == 0, result.stderr
    results = json.loads((out / "results.json").read_text())
    (a,) = results["analyses"]
    assert a["n"] == 16 and a["quartiles"] == pytest.approx(list(want), rel=1e-12)
    layout = "genes x samples" if "genes_x" in matrix else "samples x genes"
    assert any(f"{layout}; 16 patients matched" in w for w in results["warnings"])


@pytest.mark.parametrize(
    ("args", "check"),
    [
        pytest.param(
            [*BASES["os"], "--group", "iss_stage", "--group", "protocol"],
            lambda r: [g["variable"] for g in r["groupings"]] == ["iss_stage", "protocol"],
            id="group",
        ),
        pytest.param(
            [*BASES["os"], "--marker", "b2m", "--cut", "3.5,5.5"],
            lambda r: r["analyses"][0]["cut"]["labels"] == ["<= 3.5", "3.5-5.5", "> 5.5"],
            id="cut",
        ),
        pytest.param(
            [*BASES["ttp"], "--group", "sex"],
            lambda r: r["competing"][0]["event"] == "progression",
            id="competing",
        ),
        pytest.param(
            [*BASES["expr"], *MATRIX_ARGS],
            lambda r: r["analyses"][0]["n"] == 16,
            id="expression",
        ),
    ],
)
def test_valid_inputs_pass(args: list[str], check: Any, tmp_path: Path) -> None:
    """Each case is one defect away from these runs, which succeed."""
    before = _snapshot(BAD)
    out = tmp_path / "out"
    result = runner.invoke(app, ["analyze", str(BAD / "registry.csv"), *args, "--out", str(out)])
    assert result.exit_code == 0, result.stderr + result.stdout
    assert "error" not in result.stderr
    assert check(json.loads((out / "results.json").read_text()))
    assert _snapshot(BAD) == before


def test_median_cut_runs_when_only_the_quartile_description_is_empty(tmp_path: Path) -> None:
    # 13 of 16 values are 3.0: median 3.0 gives low (13) and high (3), quartiles all equal 3.0
    out = tmp_path / "out"
    args = ["analyze", str(BAD / "b2m_ties_at_quartiles.csv"), *BASES["os"]]
    args += ["--marker", "b2m", "--cut", "median", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    (a,) = json.loads((out / "results.json").read_text())["analyses"]
    assert {k: v["n"] for k, v in a["groups"].items()} == {"low": 13, "high": 3}


def test_optimal_cut_on_a_competing_endpoint_is_not_silently_dropped(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["analyze", str(BAD / "registry.csv"), *BASES["ttp"], "--marker", "b2m"]
    result = runner.invoke(app, [*args, "--cut", "optimal", "--out", str(out)])
    if result.exit_code == 2:  # refused: the message must say why
        assert "optimal" in one_error_line(result)
        return
    assert result.exit_code == 0, result.stderr
    results = json.loads((out / "results.json").read_text())
    (c,) = results["competing"]
    said = [*c["notes"], *results["warnings"]]
    assert c["cut"]["kind"] == "optimal" or any("optimal" in s for s in said), said
