"""Treatment-course tables: loading, validation in one place, and the :class:`CourseData` object.

The course table is *long*: one row per event and patient.

Columns
-------
``patient_id``
    Patient identifier (required).
``event``
    One of :data:`EVENTS` (case is ignored): ``diagnosis`` (of myeloma; exactly one per
    patient), ``len_start`` / ``len_stop`` (a period of lenalidomide exposure; a period without
    ``len_stop`` is ongoing at the end of follow-up), ``hct_auto``, ``hct_allo``, ``spm`` (second
    primary malignancy; ``detail`` = its type, e.g. ``B-ALL``), ``progression``, ``response``
    (``detail`` = IMWG or ALL response code, :data:`RESPONSE_CODES`), ``regression`` (disease
    regression after lenalidomide withdrawal), ``death``, ``last_followup``.
``date`` *or* ``month``
    When the event happened: an ISO date ``YYYY-MM-DD`` in a ``date`` column, or months since
    the myeloma diagnosis in a ``month`` column (the diagnosis row has month 0). A file uses one
    convention: both columns, or a value of the other kind in the column, is an error. Dates are
    converted to months since the patient's diagnosis at 30.4375 days per month.
``detail``
    Optional column; required for ``spm`` and ``response`` rows.

Every patient needs one ``diagnosis`` and an end of follow-up (``death`` and/or
``last_followup``); nothing may happen after either. Other columns are ignored. Every problem
raises :class:`ikaros.errors.InputError` naming file, row (header = row 1), column, value and
remedy; the first problem in row order is reported, then per-patient problems in patient order.

References
----------
Kumar S, et al. International Myeloma Working Group consensus criteria for response and minimal
residual disease assessment in multiple myeloma. Lancet Oncol 2016;17:e328-e346.
Geyer MB, et al. Lenalidomide-associated B-cell ALL: clinical and pathologic correlates and
sensitivity to lenalidomide withdrawal. Blood Adv 2023;7:3087-3098.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd

from ikaros.course._checks import bad_value as _bad
from ikaros.course._checks import check_patient
from ikaros.errors import InputError
from ikaros.files import read_table, sha256_file

__all__ = [
    "DAYS_PER_MONTH",
    "EVENTS",
    "RESPONSE_CODES",
    "Convention",
    "CourseData",
    "Record",
    "course_from_frame",
    "load_course",
    "with_mutations",
]

EVENTS: tuple[str, ...] = (
    "diagnosis", "len_start", "len_stop", "hct_auto", "hct_allo", "spm", "progression",
    "response", "regression", "death", "last_followup",
)  # fmt: skip
#: IMWG myeloma codes (sCR ... PD) and ALL codes (CR, CRi, CRh, NR); matched ignoring case.
RESPONSE_CODES: tuple[str, ...] = ("sCR", "CR", "CRi", "CRh", "VGPR", "PR", "MR", "SD", "PD", "NR")
DAYS_PER_MONTH = 30.4375
Convention = Literal["date", "month"]
#: order of events that share a time (a stop before a restart on the same day)
_TIE_ORDER = {
    e: i
    for i, e in enumerate(
        ("diagnosis", "len_stop", "len_start", "hct_auto", "hct_allo", "response", "spm",
         "regression", "progression", "death", "last_followup")
    )
}  # fmt: skip
_NEEDS_DETAIL = {"spm": "the SPM type (e.g. B-ALL)", "response": "a response code (e.g. CR)"}
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ]00:00:00)?")
_DATE_LIKE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}.*")
_DATE_REMEDY = "write dates as ISO YYYY-MM-DD (e.g. 2016-03-01)"


@dataclass(frozen=True)
class CourseData:
    """A validated treatment-course table.

    Attributes
    ----------
    events
        One row per event: ``patient_id`` (str), ``event`` (canonical name), ``detail`` (str or
        None; canonical response code for ``response``), ``month`` (float, months since the
        patient's diagnosis) and ``row`` (the source row number). Sorted by patient (order of
        first appearance), month and a fixed order of events sharing a time.
    source, sha256
        Where the table came from and the SHA-256 of the file, if any.
    convention
        ``"date"`` or ``"month"``: how times were given in the source.
    mutations
        Optional validated mutations table (see :mod:`ikaros.course.mutations`).
    """

    events: pd.DataFrame
    source: str
    convention: Convention
    sha256: str | None = None
    mutations: pd.DataFrame | None = None
    mutations_source: str | None = None
    mutations_sha256: str | None = None

    @property
    def patients(self) -> tuple[str, ...]:
        """Patient identifiers in order of first appearance."""
        return tuple(dict.fromkeys(self.events["patient_id"]))

    @property
    def n(self) -> int:
        return len(self.patients)

    def patient_events(self, patient_id: str) -> pd.DataFrame:
        """The events of one patient, in time order."""
        return self.events.loc[self.events["patient_id"] == patient_id]


def _columns(frame: pd.DataFrame, file: str) -> str:
    """Check the required columns; return the time column ("date" or "month")."""
    lower = {str(c).lower(): str(c) for c in frame.columns}
    for col in ("patient_id", "event"):
        if col not in frame.columns:
            hint = f"rename {lower[col]!r} to {col!r}" if col in lower else f"add a {col!r} column"
            raise InputError(f"no {col!r} column", file=file, row=1, column=col, remedy=hint)
    has = [c for c in ("date", "month") if c in frame.columns]
    if len(has) == 2:
        raise InputError(
            "mixed time conventions: the file has both a 'date' and a 'month' column",
            file=file,
            row=1,
            column="month",
            remedy="use one convention per file: ISO dates in 'date' or months since diagnosis "
            "in 'month'; delete the other column",
        )
    if not has:
        raise InputError(
            "no 'date' or 'month' column",
            file=file,
            row=1,
            remedy="give event times as ISO dates in a 'date' column or as months since "
            "diagnosis in a 'month' column",
        )
    return has[0]


def _parse_date(text: str, file: str, row: int) -> dt.date:
    m = _ISO.fullmatch(text)
    if m is None:
        try:
            float(text)
        except ValueError:
            pass
        else:
            raise _bad(
                "mixed time conventions: a number in the 'date' column",
                file,
                row,
                "date",
                text,
                "this file gives times as dates; write every time as YYYY-MM-DD, or convert the "
                "whole file to months since diagnosis in a 'month' column",
            )
        raise _bad("bad date: not an ISO date", file, row, "date", text, _DATE_REMEDY)
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise _bad(
            "bad date: no such calendar day", file, row, "date", text, _DATE_REMEDY
        ) from None


#: no course lasts longer than a century; larger values are typing errors (and overflow later)
_MAX_MONTH = 1200.0


def _parse_month(text: str, file: str, row: int) -> float:
    try:
        value = float(text)
    except ValueError:
        if _DATE_LIKE.fullmatch(text):
            raise _bad(
                "mixed time conventions: a date in the 'month' column",
                file,
                row,
                "month",
                text,
                "this file gives times as months since diagnosis; convert the date to months, "
                "or convert the whole file to dates in a 'date' column",
            ) from None
        remedy = "enter months since diagnosis as a number (decimal point)"
        if re.fullmatch(r"[-+]?\d*,\d+", text):
            remedy = "use a decimal point, not a decimal comma (12.5, not 12,5)"
        raise _bad("month is not a number", file, row, "month", text, remedy) from None
    if not np.isfinite(value):
        raise _bad("month is not a finite number", file, row, "month", text, "enter a number")
    if value > _MAX_MONTH:
        raise _bad(
            f"month is implausibly large (more than {_MAX_MONTH:g} months, 100 years, after "
            "diagnosis)",
            file,
            row,
            "month",
            text,
            "enter months since the myeloma diagnosis",
        )
    if value < 0:
        raise _bad(
            "month is negative",
            file,
            row,
            "month",
            text,
            "months count from the myeloma diagnosis (month 0); nothing can precede it",
        )
    return value


class Record(NamedTuple):
    """One parsed row of the course table (``time``: the parsed date or month)."""

    row: int
    patient_id: str
    event: str
    detail: str | None
    raw: str
    time: dt.date | float
    month: float = float("nan")


def _parse_rows(frame: pd.DataFrame, file: str, time_col: str) -> list[Record]:
    """Row-by-row checks, in row order."""
    codes = {c.upper(): c for c in RESPONSE_CODES}
    has_detail = "detail" in frame.columns
    out = []
    for idx, rec in zip(frame.index, frame.to_dict("records"), strict=True):
        row = int(idx)
        pid = rec["patient_id"]
        if pid is None:
            raise _bad(
                "patient_id is missing", file, row, "patient_id", "", "give every row a patient"
            )
        name = rec["event"]
        if name is None:
            raise _bad(
                "event is missing", file, row, "event", "", f"use one of {', '.join(EVENTS)}"
            )
        event = str(name).lower()
        if event not in EVENTS:
            raise _bad("unknown event", file, row, "event", name, f"use one of {', '.join(EVENTS)}")
        raw = rec[time_col]
        if raw is None:
            what = "ISO date" if time_col == "date" else "months since diagnosis"
            raise _bad(f"{time_col} is missing", file, row, time_col, "", f"enter the {what}")
        parsed: dt.date | float
        if time_col == "date":
            parsed = _parse_date(str(raw), file, row)
        else:
            parsed = _parse_month(str(raw), file, row)
        detail = rec["detail"] if has_detail else None
        if event in _NEEDS_DETAIL and detail is None:
            raise _bad(
                f"the {event} row needs a detail",
                file,
                row,
                "detail",
                "",
                f"give {_NEEDS_DETAIL[event]} in the 'detail' column",
            )
        if event == "response":
            key = str(detail).upper()
            if key not in codes:
                raise _bad(
                    "unknown response code",
                    file,
                    row,
                    "detail",
                    detail,
                    f"use one of {', '.join(RESPONSE_CODES)} (IMWG for myeloma, CR/CRi/CRh/NR "
                    "for ALL)",
                )
            detail = codes[key]
        out.append(
            Record(row, str(pid), event, None if detail is None else str(detail), str(raw), parsed)
        )
    return out


def _with_months(records: list[Record], file: str, time_col: str) -> list[Record]:
    """Add months since each patient's diagnosis; checks the diagnosis rows."""
    diag: dict[str, Record] = {}
    for rec in records:
        if rec.event != "diagnosis":
            continue
        if rec.patient_id in diag:
            raise _bad(
                f"second diagnosis event of patient {rec.patient_id!r} (first in row "
                f"{diag[rec.patient_id].row})",
                file,
                rec.row,
                "event",
                rec.event,
                "each patient has exactly one myeloma diagnosis; delete the duplicate row",
            )
        if time_col == "month" and rec.time != 0:
            raise _bad(
                "the diagnosis must be at month 0",
                file,
                rec.row,
                "month",
                rec.raw,
                "months count from the myeloma diagnosis; subtract the diagnosis month from "
                "every time of this patient",
            )
        diag[rec.patient_id] = rec
    for rec in records:
        if rec.patient_id not in diag:
            where = "month 0" if time_col == "month" else "the date of the myeloma diagnosis"
            raise _bad(
                f"patient {rec.patient_id!r} has no diagnosis event",
                file,
                rec.row,
                "event",
                rec.patient_id,
                f"add a diagnosis row for {rec.patient_id} ({where})",
            )
    out = []
    for rec in records:
        if isinstance(rec.time, dt.date):
            start = diag[rec.patient_id]
            assert isinstance(start.time, dt.date)
            days = (rec.time - start.time).days
            if days < 0:
                raise _bad(
                    f"{rec.event} before the diagnosis (row {start.row})",
                    file,
                    rec.row,
                    "date",
                    rec.raw,
                    "correct the date; the myeloma diagnosis is the first event of a patient",
                )
            out.append(rec._replace(month=days / DAYS_PER_MONTH))
        else:
            out.append(rec._replace(month=float(rec.time)))
    return out


def course_from_frame(
    frame: pd.DataFrame, *, source: str = "<data frame>", sha256: str | None = None
) -> CourseData:
    """Validate a long table of text cells and build :class:`CourseData`.

    Parameters
    ----------
    frame
        Columns ``patient_id``, ``event``, ``date`` or ``month``, optional ``detail``. The index
        gives the row numbers used in messages; a fresh ``RangeIndex`` is renumbered from 2, as a
        spreadsheet shows rows.
    source, sha256
        Where the table came from, for messages and the results file.

    Returns
    -------
    CourseData

    Raises
    ------
    InputError
        On the first problem found, naming file, row, column, value and remedy.
    """
    file = source
    frame = frame.copy()
    if isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0:
        frame.index = frame.index + 2
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.astype(object).where(frame.notna(), None)
    frame = frame.map(lambda v: None if v is None else (str(v).strip() or None))
    if len(frame) == 0:
        raise InputError("course table has no rows", file=file, remedy="add the events")
    time_col = _columns(frame, file)
    records = _with_months(_parse_rows(frame, file, time_col), file, time_col)
    order = {pid: i for i, pid in enumerate(dict.fromkeys(r.patient_id for r in records))}
    records.sort(key=lambda r: (order[r.patient_id], r.month, _TIE_ORDER[r.event], r.row))
    by_patient: dict[str, list[Record]] = {}
    for rec in records:
        by_patient.setdefault(rec.patient_id, []).append(rec)
    for pid, recs in by_patient.items():
        check_patient(recs, pid, file, time_col)
    events = pd.DataFrame(
        {
            "patient_id": [r.patient_id for r in records],
            "event": [r.event for r in records],
            "detail": pd.Series([r.detail for r in records], dtype=object),
            "month": np.asarray([r.month for r in records], dtype=float),
            "row": np.asarray([r.row for r in records], dtype=np.int64),
        }
    )
    return CourseData(
        events=events,
        source=source,
        convention=time_col,  # type: ignore[arg-type]
        sha256=sha256,
    )


def load_course(
    path: str | os.PathLike[str],
    *,
    mutations: str | os.PathLike[str] | None = None,
) -> CourseData:
    """Read and validate a course table (CSV, TSV, XLSX or Parquet) and its mutations table.

    Parameters
    ----------
    path
        The course table; it is only read.
    mutations
        Optional mutations table (:func:`ikaros.course.mutations.mutations_from_frame`).

    Returns
    -------
    CourseData

    Raises
    ------
    InputError
        On the first problem found, naming file, row, column, value and remedy.
    """
    from dataclasses import replace

    from ikaros.course.mutations import load_mutations

    data = course_from_frame(
        read_table(path, what="course"), source=str(Path(path)), sha256=sha256_file(path)
    )
    if mutations is None:
        return data
    table = load_mutations(mutations, data.patients)
    return replace(
        data,
        mutations=table,
        mutations_source=str(Path(mutations)),
        mutations_sha256=sha256_file(mutations),
    )


def with_mutations(
    data: CourseData, frame: pd.DataFrame, *, source: str = "<mutations>"
) -> CourseData:
    """Attach a mutations table given as a DataFrame (validated against ``data``'s patients)."""
    from dataclasses import replace

    from ikaros.course.mutations import mutations_from_frame

    table = mutations_from_frame(frame, data.patients, source=source)
    return replace(data, mutations=table, mutations_source=source)
