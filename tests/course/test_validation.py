"""Course and mutations tables: malformed input is refused cleanly, valid input in any format.

The malformed cases live in ``tests/data/bad_course/`` and are listed, with the substrings
their message must contain, in ``tests/data/bad_course/cases.toml``. Each runs the `course`
command function in process (typer's CliRunner) on a small app built here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from ikaros.course.mutations import valid_gene
from ikaros.course.table import DAYS_PER_MONTH, CourseData, course_from_frame, load_course
from ikaros.errors import InputError
from tests.conftest import one_error_line
from tests.course.helpers import (
    ANSI,
    BAD,
    VALID,
    VALID_DATES,
    VALID_MUTATIONS,
    course_app,
    listing,
)

NOT_CASES = {"cases.toml", "make_binary_cases.py", "__pycache__"}
runner = CliRunner()
APP = course_app()


def _cases() -> list[dict[str, Any]]:
    with open(BAD / "cases.toml", "rb") as fh:
        return tomllib.load(fh)["case"]


CASES = _cases()


def _case_id(case: dict[str, Any]) -> str:
    names = [case[k] for k in ("course", "mutations") if k in case]
    return " ".join(names + case.get("args", []) + (["out_is_file"] * case.get("out_is_file", 0)))


def _snapshot(path: Path) -> object:
    return (path.read_bytes(), path.stat().st_mtime_ns) if path.exists() else None


def test_manifest_covers_every_case_file() -> None:
    assert len(CASES) >= 22
    ids = [_case_id(c) for c in CASES]
    assert len(ids) == len(set(ids))
    named = {c[k] for c in CASES for k in ("course", "mutations") if k in c}
    on_disk = {p.name for p in BAD.iterdir()} - NOT_CASES
    assert on_disk == named, on_disk ^ named
    assert len(on_disk) >= 22
    assert all(c["expect"] for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_bad_course_gives_one_clear_message_and_no_output(
    case: dict[str, Any], tmp_path: Path
) -> None:
    course_path = BAD / case["course"] if "course" in case else VALID
    bad = [BAD / case[k] for k in ("course", "mutations") if k in case]
    out = tmp_path / "out"
    if case.get("out_is_file"):
        out.write_text("a regular file in the way of --out\n")
    inputs = [course_path, *bad]
    before = [_snapshot(p) for p in inputs] + [_snapshot(out) if out.is_file() else None]
    tmp_before = listing(tmp_path)
    bad_before = listing(BAD)

    args = ["course", str(course_path), "--out", str(out), *case.get("args", [])]
    if "mutations" in case:
        args += ["--mutations", str(BAD / case["mutations"])]
    result = runner.invoke(APP, args, env={"IKAROS_DEBUG": None})

    message = one_error_line(result)
    shown = f"stderr: {ANSI.sub('', result.stderr)}"
    if case.get("names_file", True):
        assert any(str(p) in message for p in bad), shown
    for part in case["expect"]:
        assert part in message, f"{part!r} not in the message\n{shown}"
    assert listing(tmp_path) == tmp_before
    assert [_snapshot(p) for p in inputs] + [_snapshot(out) if out.is_file() else None] == before
    assert listing(BAD) == bad_before


def test_valid_tables_load() -> None:
    data = load_course(VALID, mutations=VALID_MUTATIONS)
    assert isinstance(data, CourseData)
    assert data.patients == ("P01", "P02", "P03", "P04", "P05", "P06")
    assert data.convention == "month"
    assert len(data.events) == 50
    assert data.sha256 is not None and data.mutations_sha256 is not None
    # events of a patient sorted by time; len_stop sorts before the spm on the same day
    p03 = data.patient_events("P03")
    assert list(p03["event"]) == [
        "diagnosis", "len_start", "len_stop", "spm", "response", "progression", "death",
    ]  # fmt: skip
    assert list(p03["row"]) == [19, 20, 22, 21, 23, 24, 25]
    assert data.events.loc[data.events["event"] == "response", "detail"].tolist() == [
        "CRi", "NR", "CR", "VGPR", "CR",
    ]  # fmt: skip
    muts = data.mutations
    assert muts is not None
    assert muts.loc[muts["row"] == 13, "gene"].item() == "KARYOTYPE"  # empty gene, hypodiploidy
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.source = "x"  # type: ignore[misc]


def test_date_convention_gives_months_since_diagnosis() -> None:
    months = load_course(VALID)
    dates = load_course(VALID_DATES)
    assert dates.convention == "date"
    assert list(dates.events["event"]) == list(months.events["event"])
    # the date table was written with round(month * 30.4375) days: within half a day
    diff = (dates.events["month"] - months.events["month"]).abs()
    assert diff.max() <= 0.5 / DAYS_PER_MONTH + 1e-12
    raw = pd.read_csv(VALID_DATES)
    first = dt.date.fromisoformat(raw["date"][0])
    pfs = dt.date.fromisoformat(raw.loc[9, "date"])  # P01 progression
    assert dates.events["month"][9] == pytest.approx((pfs - first).days / 30.4375, abs=1e-12)


def test_xlsx_with_date_cells_and_parquet_load_as_csv(tmp_path: Path) -> None:
    raw = pd.read_csv(VALID_DATES, dtype=str, keep_default_na=False)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(raw.columns))
    for rec in raw.itertuples(index=False):
        when = dt.datetime.fromisoformat(rec.date)
        sheet.append([rec.patient_id, rec.event.upper(), when, rec.detail or None])
    book.save(tmp_path / "course.xlsx")
    months = pd.read_csv(VALID, dtype=str, keep_default_na=False).replace("", None)
    months.to_parquet(tmp_path / "course.parquet", index=False)
    a = load_course(VALID_DATES).events
    b = load_course(tmp_path / "course.xlsx").events
    pd.testing.assert_frame_equal(a, b)
    c = load_course(tmp_path / "course.parquet").events
    pd.testing.assert_frame_equal(load_course(VALID).events, c)


def test_frame_rows_are_numbered_like_a_spreadsheet() -> None:
    frame = pd.DataFrame(
        {
            "patient_id": ["A", "A", "A"],
            "event": ["diagnosis", "len_stop", "last_followup"],
            "month": ["0", "3", "9"],
        }
    )
    with pytest.raises(InputError) as info:
        course_from_frame(frame, source="frame")
    assert info.value.row == 3
    assert info.value.column == "month"
    assert "len_stop without a len_start" in info.value.message


@pytest.mark.parametrize(
    ("gene", "ok"),
    [
        ("TP53", True), ("HLA-A", True), ("C11orf65", True), ("BCR::ABL1", True),
        ("P2RY8::CRLF2", True), ("KARYOTYPE", True), ("tp53", False), ("p53", False),
        ("TP53 R273H", False), ("123", False), ("1-Sep", False), ("IKZF1_del", False),
        ("::ABL1", False),
    ],
)  # fmt: skip
def test_gene_names(gene: str, ok: bool) -> None:
    assert valid_gene(gene) is ok
