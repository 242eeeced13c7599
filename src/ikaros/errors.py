"""One hierarchy for every error that ikaros raises on purpose.

The command line catches :class:`IkarosError`, prints its message (no traceback) and exits with
:attr:`IkarosError.exit_code`. Anything else escaping the engine is a bug.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AnalysisError",
    "IkarosError",
    "InputError",
    "SchemaVersionError",
]


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


class IkarosError(Exception):
    """Base class of the errors ikaros raises deliberately."""

    exit_code: int = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(IkarosError):
    """Bad input data: names where it is, what is wrong and how to fix it.

    Parameters
    ----------
    problem
        What is wrong, as a sentence fragment ("time is negative").
    file
        The file the value came from.
    row
        Row number as a spreadsheet shows it: the header is row 1, the first data row is row 2.
    column
        Column name as it appears in the file.
    value
        The offending value.
    remedy
        What the user should do.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: Any = None,
        remedy: str | None = None,
        has_value: bool | None = None,
    ) -> None:
        self.problem = problem
        self.file = file
        self.row = row
        #: every row with this problem (a validator may find several; ``drop_invalid`` uses it)
        self.rows: tuple[int, ...] = () if row is None else (row,)
        self.column = column
        self.value = value
        self.remedy = remedy
        where = []
        if file is not None:
            where.append(str(file))
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        text = (", ".join(where) + ": " if where else "") + problem
        show_value = has_value if has_value is not None else value is not None
        if show_value:
            text += f" (value: {_show(value)})"
        if remedy:
            text += f". Remedy: {remedy}"
        super().__init__(text)


class AnalysisError(IkarosError):
    """The data are valid but the requested analysis cannot be run on them."""


class SchemaVersionError(IkarosError):
    """A results file was written under a schema version this ikaros cannot read."""
