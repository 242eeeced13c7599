"""Write the binary malformed course tables (XLSX, Parquet) from the valid text tables.

Run from the repository root: ``python tests/data/bad_course/make_binary_cases.py``. Each file
has exactly one defect, listed in ``cases.toml``:

* ``xlsx_impossible_date.xlsx``: the date table with real spreadsheet date cells (read back as
  ``YYYY-MM-DD 00:00:00``, which is accepted) and one text cell ``2014-13-01`` in row 21;
* ``parquet_date_in_month_column.parquet``: the month table as text columns with a date in the
  ``month`` column of row 45.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd

HERE = Path(__file__).resolve().parent
VALID = HERE.parents[1] / "course" / "data"


def main() -> None:
    dates = pd.read_csv(VALID / "valid_course_dates.csv", dtype=str, keep_default_na=False)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(dates.columns))
    for i, rec in enumerate(dates.itertuples(index=False), start=2):
        when: object = dt.datetime.fromisoformat(rec.date)
        if i == 21:
            when = "2014-13-01"
        sheet.append([rec.patient_id, rec.event, when, rec.detail or None])
    book.save(HERE / "xlsx_impossible_date.xlsx")

    months = pd.read_csv(VALID / "valid_course.csv", dtype=str, keep_default_na=False)
    months.loc[45 - 2, "month"] = "2014-12-11"
    months = months.replace("", None)
    months.to_parquet(HERE / "parquet_date_in_month_column.parquet", index=False)


if __name__ == "__main__":
    main()
