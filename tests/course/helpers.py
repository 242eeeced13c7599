"""Shared paths and a small Typer app running the `course` command function, for the tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from ikaros.cli.course import course
from tests.conftest import ANSI as ANSI
from tests.conftest import ROOT

DATA = ROOT / "tests" / "course" / "data"
VALID = DATA / "valid_course.csv"
VALID_DATES = DATA / "valid_course_dates.csv"
VALID_MUTATIONS = DATA / "valid_mutations.csv"
BAD = ROOT / "tests" / "data" / "bad_course"
REF = ROOT / "tests" / "reference" / "course"


def course_app() -> typer.Typer:
    """A Typer app with the `course` command, registered as ikaros.cli will register it."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command("course")(course)

    @app.callback()
    def root() -> None:
        """Test app."""

    return app


def cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A DataFrame as text cells (None for missing), as read_table returns it."""
    return frame.astype(str).where(frame.notna(), None)


def listing(directory: Path) -> list[str]:
    """Files and folders a user sees (not the hidden ``.ikaros-output`` marker)."""
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith("."))
