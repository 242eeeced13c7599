"""Per-patient consistency checks of a course table (used by :mod:`ikaros.course.table`).

A patient's records arrive sorted by time. Checked here, in this order: at most one death and
one last follow-up, at least one of them, nothing after either, lenalidomide periods that pair
up (no stop without or before its start, no zero-length or overlapping periods) and regressions
that follow a withdrawal.

References
----------
Geyer MB, et al. Blood Adv 2023;7:3087-3098 (regression of B-ALL after lenalidomide withdrawal).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ikaros.errors import InputError

__all__ = ["bad_value", "check_patient"]


class _Rec(Protocol):
    @property
    def row(self) -> int: ...
    @property
    def event(self) -> str: ...
    @property
    def raw(self) -> str: ...
    @property
    def month(self) -> float: ...


def bad_value(
    problem: str, file: str, row: int, column: str, value: Any, remedy: str
) -> InputError:
    """An input error naming file, row, column, value (shown even when empty) and remedy."""
    return InputError(
        problem,
        file=file,
        row=row,
        column=column,
        value="" if value is None else value,
        remedy=remedy,
        has_value=True,
    )


def check_patient(recs: Sequence[_Rec], pid: str, file: str, time_col: str) -> None:
    """Check one patient's time-sorted records; raise :class:`InputError` on the first problem.

    Parameters
    ----------
    recs
        The patient's records, sorted by month (and the tie order of the course table).
    pid
        Patient identifier, for messages.
    file
        Source file, for messages.
    time_col
        ``"date"`` or ``"month"``: the column named in time-order messages.
    """
    ends: dict[str, _Rec] = {}
    for rec in recs:
        if rec.event in ("death", "last_followup"):
            if rec.event in ends:
                raise bad_value(
                    f"second {rec.event} event of patient {pid!r} (first in row "
                    f"{ends[rec.event].row})",
                    file,
                    rec.row,
                    "event",
                    rec.event,
                    f"a patient has at most one {rec.event}; delete the duplicate row",
                )
            ends[rec.event] = rec
    if not ends:
        raise bad_value(
            f"patient {pid!r} has no death or last_followup event",
            file,
            recs[-1].row,
            "event",
            pid,
            "add a last_followup row (last contact) or a death row: follow-up must end",
        )
    for end, what, remedy in (
        ("death", "event after death", "nothing can follow a death; correct the dates"),
        (
            "last_followup",
            "event after the last follow-up",
            "last_followup is the last contact; move it to the latest event",
        ),
    ):
        stop = ends.get(end)
        if stop is None:
            continue
        for rec in recs:
            if rec.month > stop.month:
                raise bad_value(
                    f"{what}: {rec.event} (the {end} is in row {stop.row})",
                    file,
                    rec.row,
                    time_col,
                    rec.raw,
                    remedy,
                )
    _check_exposure(recs, file, time_col)


def _check_exposure(recs: Sequence[_Rec], file: str, time_col: str) -> None:
    open_start: _Rec | None = None
    periods: list[tuple[float, float]] = []
    starts = [r for r in recs if r.event == "len_start"]
    for rec in recs:
        if rec.event == "len_start":
            if open_start is not None:
                raise bad_value(
                    "overlapping lenalidomide exposure: len_start while the period started in "
                    f"row {open_start.row} has not stopped",
                    file,
                    rec.row,
                    time_col,
                    rec.raw,
                    "add the len_stop of the earlier period before this len_start, or merge the "
                    "two periods",
                )
            open_start = rec
        elif rec.event == "len_stop":
            if open_start is None:
                same = [s for s in starts if s.month == rec.month]
                later = [s for s in starts if s.month > rec.month]
                if same:
                    problem = f"zero-length lenalidomide period (len_start in row {same[0].row})"
                    remedy = "a len_stop must come after its len_start; correct the dates"
                elif later:
                    problem = f"len_stop before its len_start (row {later[0].row})"
                    remedy = "correct the dates: a period runs from len_start to len_stop"
                else:
                    problem = "len_stop without a len_start"
                    remedy = "add the len_start of this period, or delete the len_stop"
                raise bad_value(problem, file, rec.row, time_col, rec.raw, remedy)
            periods.append((open_start.month, rec.month))
            open_start = None
        elif rec.event == "regression":
            if open_start is not None or any(a <= rec.month < b for a, b in periods):
                raise bad_value(
                    "regression while lenalidomide is ongoing",
                    file,
                    rec.row,
                    time_col,
                    rec.raw,
                    "a regression follows lenalidomide withdrawal: record the len_stop first",
                )
            if not periods:
                raise bad_value(
                    "regression before any lenalidomide withdrawal",
                    file,
                    rec.row,
                    time_col,
                    rec.raw,
                    "record the lenalidomide period (len_start, len_stop) that was withdrawn",
                )
