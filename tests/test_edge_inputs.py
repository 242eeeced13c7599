"""Inputs at the edges (issue 10): each ends in one clear message naming the right cause, or is
read as documented.

Every bad case runs the real ``ikaros`` command in process and checks: exit status 2, one
``error:`` line (no traceback) holding the expected words, nothing written (no --out, no stage
folder), the input file unchanged. Input files are generated here (workbooks, encodings, links,
pipes), none is shared with the older suites.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from ikaros.cli import app
from ikaros.simulate import DEMO_SEED, simulate_cohort
from tests.conftest import ANSI, one_error_line

runner = CliRunner()
ARGS = ["--marker", "IKZF1", "--endpoint", "pfs"]


def _cohort(n_events: int | None = None, seed: int = DEMO_SEED) -> pd.DataFrame:
    frame = simulate_cohort(seed)
    if n_events is not None:  # keep the first n_events events, censor the rest
        ev = frame["pfs_event"].to_numpy().copy()
        idx = np.flatnonzero(ev == 1)
        ev[idx[n_events:]] = 0
        frame = frame.assign(pfs_event=ev)
    return frame


def _csv(frame: pd.DataFrame, path: Path) -> Path:
    path.write_text(frame.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
    return path


def _workbook(path: Path, sheets: list[tuple[str, pd.DataFrame | list[list[object]], str]]) -> Path:
    """Sheets as (title, data, state); the first 'active' state marks the active sheet."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    active = 0
    for i, (title, data, state) in enumerate(sheets):
        ws = book.create_sheet(title)
        rows = (
            [list(data.columns), *data.astype(object).values.tolist()]
            if isinstance(data, pd.DataFrame)
            else data
        )
        for row in rows:
            ws.append(row)
        if state == "hidden":
            ws.sheet_state = "hidden"
        if state == "active":
            active = i
    book.active = active
    book.save(path)
    return path


def _listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _bad(tmp_path: Path, args: list[str], inputs: list[Path], expect: list[str]) -> str:
    """Run a command that must fail cleanly; returns the message."""
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in inputs if p.is_file()}
    listing = _listing(tmp_path)
    result = runner.invoke(app, args, env={"IKAROS_DEBUG": None})
    message = one_error_line(result)
    for part in expect:
        assert part in message, f"{part!r} not in {message!r}"
    assert _listing(tmp_path) == listing, "something was written"
    for p, state in before.items():
        assert (p.read_bytes(), p.stat().st_mtime_ns) == state, f"{p} was modified"
    return message


# ----------------------------------------------------------------------------- Excel


def test_hidden_sheet_is_never_read_silently(tmp_path: Path) -> None:
    old, new = _cohort(n_events=10), _cohort()
    book = _workbook(tmp_path / "cohort.xlsx", [("old", old, "hidden"), ("data", new, "active")])
    out = tmp_path / "out"
    result = runner.invoke(app, ["analyze", str(book), *ARGS, "--out", str(out), "-q"])
    assert result.exit_code == 0, result.stderr
    res = json.loads((out / "results.json").read_text())
    assert res["analyses"][0]["events"] == int(new["pfs_event"].sum()) != 10
    assert res["input"]["sheet"] == "data"
    assert any("sheet 'data'" in w and "'old' (hidden)" in w for w in res["warnings"])


def test_named_sheet_is_read_and_recorded(tmp_path: Path) -> None:
    old, new = _cohort(n_events=10), _cohort()
    book = _workbook(tmp_path / "c.xlsx", [("old", old, "hidden"), ("data", new, "active")])
    out = tmp_path / "out"
    args = ["analyze", str(book), *ARGS, "--sheet", "old", "--out", str(out), "-q"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    res = json.loads((out / "results.json").read_text())
    assert res["analyses"][0]["events"] == 10
    assert res["input"]["sheet"] == "old"


def test_notes_sheet_first_reads_the_active_data_sheet(tmp_path: Path) -> None:
    notes = [["Study notes"], ["exported 2026-01-02"]]
    book = _workbook(
        tmp_path / "c.xlsx", [("notes", notes, "visible"), ("data", _cohort(), "active")]
    )
    result = runner.invoke(app, ["analyze", str(book), *ARGS, "--out", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 0, result.stderr


def test_active_notes_sheet_names_the_data_sheet(tmp_path: Path) -> None:
    notes = [["Study notes"]]
    book = _workbook(
        tmp_path / "c.xlsx", [("notes", notes, "active"), ("data", _cohort(), "visible")]
    )
    _bad(
        tmp_path,
        ["analyze", str(book), *ARGS, "--out", str(tmp_path / "out")],
        [book],
        ["sheet 'notes'", "no data rows", "'data'", "--sheet"],
    )


def test_hidden_active_sheet_is_refused(tmp_path: Path) -> None:
    book = _workbook(
        tmp_path / "made.xlsx", [("secret", _cohort(), "hidden"), ("other", [["x"]], "active")]
    )
    # openpyxl never saves a hidden sheet as active; other tools do: point activeTab at it
    path = tmp_path / "c.xlsx"
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/workbook.xml":
                data = data.replace(b'activeTab="1"', b'activeTab="0"')
            dst.writestr(item, data)
    book.unlink()
    _bad(
        tmp_path,
        ["analyze", str(path), *ARGS, "--out", str(tmp_path / "out")],
        [path],
        ["active sheet 'secret'", "hidden", "--sheet", "'other'"],
    )


def test_unknown_sheet_lists_the_sheets(tmp_path: Path) -> None:
    book = _workbook(tmp_path / "c.xlsx", [("data", _cohort(), "active")])
    _bad(
        tmp_path,
        ["analyze", str(book), *ARGS, "--sheet", "Data2", "--out", str(tmp_path / "out")],
        [book],
        ["no sheet 'Data2'", "'data'"],
    )


def test_totals_row_of_formulas_is_not_a_patient(tmp_path: Path) -> None:
    frame = _cohort()
    path = _workbook(tmp_path / "c.xlsx", [("data", frame, "active")])
    book = openpyxl.load_workbook(path)
    ws = book.active
    last = ws.max_row
    ws.append(["TOTAL", f"=SUM(B2:B{last})", f"=SUM(C2:C{last})"])
    book.save(path)
    _bad(
        tmp_path,
        ["analyze", str(path), *ARGS, "--out", str(tmp_path / "out")],
        [path],
        ["totals row", "SUM(B2:B", f"row {last + 1}"],
    )


def test_formula_without_computed_value(tmp_path: Path) -> None:
    frame = _cohort()
    path = _workbook(tmp_path / "c.xlsx", [("data", frame, "active")])
    book = openpyxl.load_workbook(path)
    book.active["B3"] = "=B2*2"  # openpyxl stores no computed value
    book.save(path)
    _bad(
        tmp_path,
        ["analyze", str(path), *ARGS, "--out", str(tmp_path / "out")],
        [path],
        ["cell B3", "never computed", "save the workbook"],
    )


# ----------------------------------------------------------------------------- encodings


def _analyse(path: Path, out: Path) -> dict:
    result = runner.invoke(app, ["analyze", str(path), *ARGS, "--out", str(out), "-q"])
    assert result.exit_code == 0, result.stderr
    return json.loads((out / "results.json").read_text())


@pytest.mark.parametrize(
    "encoding,bom",
    [("utf-16", b""), ("utf-16-le", b""), ("utf-16-be", b""), ("utf-8", b"\xef\xbb\xbf" * 2)],
    ids=["utf16-bom", "utf16le-no-bom", "utf16be-no-bom", "double-utf8-bom"],
)
def test_unicode_encodings_are_detected(tmp_path: Path, encoding: str, bom: bytes) -> None:
    text = _cohort().to_csv(index=False, lineterminator="\n")
    ref = _analyse(_csv(_cohort(), tmp_path / "ref.csv"), tmp_path / "ref")
    path = tmp_path / "c.csv"
    path.write_bytes(bom + text.encode(encoding))
    res = _analyse(path, tmp_path / "out")
    assert res["analyses"] == ref["analyses"]


def test_latin1_is_named(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    text = _cohort().to_csv(index=False, lineterminator="\n").replace("DSMM-001", "DSMM-Müller")
    path.write_bytes(text.encode("latin-1"))
    _bad(
        tmp_path,
        ["analyze", str(path), *ARGS, "--out", str(tmp_path / "out")],
        [path],
        ["not UTF-8", "Latin-1"],
    )


@pytest.mark.parametrize("char", ["\u200b", "\u2060", "\ufeff"], ids=["zwsp", "wj", "bom"])
def test_invisible_character_in_header_is_named(tmp_path: Path, char: str) -> None:
    text = _cohort().to_csv(index=False, lineterminator="\n")
    path = tmp_path / "c.csv"
    path.write_text(text.replace("patient_id", "patient" + char + "_id", 1), encoding="utf-8")
    _bad(
        tmp_path,
        ["analyze", str(path), *ARGS, "--out", str(tmp_path / "out")],
        [path],
        ["invisible character", f"U+{ord(char):04X}", "'patient_id'"],
    )


# ----------------------------------------------------------------------------- not files


def test_symlink_loop(tmp_path: Path) -> None:
    loop = tmp_path / "loop.csv"
    os.symlink(loop, loop)
    _bad(
        tmp_path,
        ["analyze", str(loop), *ARGS, "--out", str(tmp_path / "out")],
        [],
        ["loop of symbolic links"],
    )


def test_broken_symlink(tmp_path: Path) -> None:
    link = tmp_path / "c.csv"
    os.symlink(tmp_path / "gone.csv", link)
    _bad(
        tmp_path,
        ["analyze", str(link), *ARGS, "--out", str(tmp_path / "out")],
        [],
        ["broken symbolic link"],
    )


def test_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "c.csv"
    os.mkfifo(fifo)
    start = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "ikaros.cli", "analyze", str(fifo), *ARGS, "--out", "o"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=30,
    )
    assert time.monotonic() - start < 10  # an interpreter start; the FIFO itself is not read
    assert run.returncode == 2, run.stderr
    assert "named pipe" in run.stderr and "Traceback" not in run.stderr


# ----------------------------------------------------------------------------- values


def test_years_overflow_is_a_clear_error(tmp_path: Path) -> None:
    frame = _cohort().astype(object)
    frame.loc[3, "pfs_time"] = "1e308"
    path = _csv(frame, tmp_path / "c.csv")
    _bad(
        tmp_path,
        ["analyze", str(path), *ARGS, "--time-unit", "years", "--out", str(tmp_path / "out")],
        [path],
        ["row 5", "'pfs_time'", "implausibly long", "1e308"],
    )


def test_days_given_as_months_are_caught(tmp_path: Path) -> None:
    frame = _cohort()
    frame["pfs_time"] = (frame["pfs_time"] * 30.4375).round(0)
    path = _csv(frame, tmp_path / "c.csv")
    _bad(
        tmp_path,
        ["analyze", str(path), *ARGS, "--out", str(tmp_path / "out")],
        [path],
        ["implausibly long", "--time-unit days"],
    )


def test_patient_id_as_parquet_index(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    _cohort().set_index("patient_id").to_parquet(path)
    ref = _analyse(_csv(_cohort(), tmp_path / "ref.csv"), tmp_path / "ref")
    assert _analyse(path, tmp_path / "out")["analyses"] == ref["analyses"]


@pytest.mark.parametrize(
    ("column", "row", "value", "expected"),
    [
        ("IKZF1", 4, np.inf, ["not a finite number", "row 6", "column 'IKZF1'", "inf"]),
        ("del17p", 2, 2.0, ["must be 0 or 1", "row 4", "column 'del17p'"]),
    ],
)
def test_numeric_parquet_columns_are_checked_like_text(
    tmp_path: Path, column: str, row: int, value: float, expected: list[str]
) -> None:
    """Float columns skip text parsing, not the checks: inf and a non-0/1 code are refused."""
    frame = _cohort().astype({column: float})
    frame.loc[row, column] = value
    path = tmp_path / "c.parquet"
    frame.to_parquet(path)
    _bad(tmp_path, ["analyze", str(path), *ARGS, "--out", str(tmp_path / "out")], [path], expected)


def test_marker_given_twice(tmp_path: Path) -> None:
    path = _csv(_cohort(), tmp_path / "c.csv")
    _bad(
        tmp_path,
        ["analyze", str(path), *ARGS, "-m", "IKZF1", "--out", str(tmp_path / "out")],
        [path],
        ["--marker 'IKZF1' is given more than once"],
    )


def test_all_times_equal(tmp_path: Path) -> None:
    frame = _cohort().assign(pfs_time=0.0, pfs_event=1)
    path = _csv(frame, tmp_path / "c.csv")
    _bad(
        tmp_path,
        ["analyze", str(path), *ARGS, "--out", str(tmp_path / "out")],
        [path],
        [str(path), "'pfs_time'", "same time (0 months)", "Remedy"],
    )


@pytest.mark.parametrize(
    "where,value",
    [("IKZF1", "[/]"), ("patient_id", "[red]P7"), ("IKZF1", "[bold]0.3")],
    ids=["marker-close-tag", "id-markup", "value-markup"],
)
def test_brackets_in_data_are_shown_verbatim(tmp_path: Path, where: str, value: str) -> None:
    frame = _cohort().astype(object)
    frame.loc[5, where] = value
    if where == "patient_id":
        frame.loc[6, "patient_id"] = value  # a duplicate id: the message shows the value
    path = _csv(frame, tmp_path / "c.csv")
    message = _bad(
        tmp_path,
        ["analyze", str(path), *ARGS, "--out", str(tmp_path / "out")],
        [path],
        [],
    )
    assert repr(value) in message


def test_bracketed_file_name_is_printed_verbatim(tmp_path: Path) -> None:
    path = tmp_path / "[v2] cohort.csv"
    frame = _cohort().astype(object)
    frame.loc[2, "IKZF1"] = "high"
    _csv(frame, path)
    _bad(
        tmp_path,
        ["analyze", str(path), *ARGS, "--out", str(tmp_path / "out")],
        [path],
        [f"{path}, row 4"],
    )


def test_mathtext_in_marker_name_with_report(tmp_path: Path) -> None:
    name = "IKZF1 $\\foo{$"
    frame = _cohort().rename(columns={"IKZF1": name})
    path = _csv(frame, tmp_path / "c.csv")
    out = tmp_path / "out"
    args = ["analyze", str(path), "-m", name, "-e", "pfs", "--report", "--out", str(out), "-q"]
    result = runner.invoke(app, args, env={"IKAROS_DEBUG": None})
    assert result.exit_code == 0, ANSI.sub("", result.stderr)
    assert (out / "report.html").is_file()


# ----------------------------------------------------------------------------- qpcr, scan


QPCR_HEADER = "sample,gene,ct\n"


@pytest.mark.parametrize(
    "ct", ["2_5.10", "２５.１", "٢٥.١"], ids=["underscore", "fullwidth", "arabic"]
)
def test_qpcr_ct_must_be_ascii_decimal(tmp_path: Path, ct: str) -> None:
    path = tmp_path / "ct.csv"
    path.write_text(
        QPCR_HEADER + f"S1,GAPDH,18.2\nS1,IKZF1,{ct}\nS2,GAPDH,18.4\nS2,IKZF1,25.0\n",
        encoding="utf-8",
    )
    _bad(
        tmp_path,
        ["qpcr", str(path), "--reference", "GAPDH", "--out", str(tmp_path / "out")],
        [path],
        ["Ct is not a number", "row 3"],
    )


def test_scan_matrix_duplicate_sample_column(tmp_path: Path) -> None:
    frame = _cohort()
    clinical = _csv(frame, tmp_path / "c.csv")
    ids = list(frame["patient_id"])
    rng = np.random.default_rng(1)
    values = rng.normal(size=(3, len(ids) + 1))
    header = ["gene", *ids, ids[0]]
    lines = [",".join(header)] + [
        ",".join([f"G{i}", *(f"{v:.4f}" for v in row)]) for i, row in enumerate(values)
    ]
    matrix = tmp_path / "m.csv"
    matrix.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["scan", "-x", str(matrix), "-c", str(clinical), "-e", "pfs", "--out"]
    _bad(
        tmp_path,
        [*args, str(tmp_path / "out")],
        [matrix, clinical],
        ["duplicate column label", repr(ids[0]), f"columns 2 and {len(ids) + 2}"],
    )


def test_course_month_overflow(tmp_path: Path) -> None:
    path = tmp_path / "course.csv"
    path.write_text(
        "patient_id,event,month\nA,diagnosis,0\nA,len_start,1e308\nA,last_followup,1e308\n",
        encoding="utf-8",
    )
    _bad(
        tmp_path,
        ["course", str(path), "--out", str(tmp_path / "out")],
        [path],
        ["row 3", "'month'", "implausibly large"],
    )


def test_absurd_marker_value_is_named(tmp_path: Path) -> None:
    frame = _cohort().astype(object)
    frame.loc[4, "IKZF1"] = "1e200"
    path = _csv(frame, tmp_path / "c.csv")
    message = _bad(
        tmp_path,
        ["analyze", str(path), *ARGS, "--out", str(tmp_path / "out")],
        [path],
        ["row 6", "'IKZF1'", "too large for any model", "typing error"],
    )
    assert len(message) < 400


def test_quartile_ties_leave_out_only_the_description(tmp_path: Path) -> None:
    """Ties that empty one of the four quartile groups do not stop the pre-specified Q1 cut."""
    frame = _cohort().astype(object)
    frame.loc[: len(frame) // 2, "IKZF1"] = "0.5"  # half the patients share one value
    path = _csv(frame, tmp_path / "c.csv")
    res = _analyse(path, tmp_path / "out")
    (a,) = res["analyses"]
    assert set(a["groups"]) == {"Q1", "Q2-4"} and a["quartile_groups"] == {}
    assert a["logrank_quartiles"] is None
    assert any("four quartile groups are not described" in n for n in a["notes"])
