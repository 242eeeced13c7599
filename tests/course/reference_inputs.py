"""The (start, stop] tables that tests/reference/course/make_golden.R fits with R's coxph.

``build_inputs()`` derives them from the hand-made course table and the two seeded simulated
cohorts with ikaros itself; ``tests/reference/course/make_inputs.py`` writes them as CSV, R reads
those files, and the tests fit the same files with ikaros and compare. A test also rebuilds the
tables and checks that they equal the stored CSV files byte for byte (deterministic simulation
and splitting).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ikaros.course.derived import counting_process, patient_courses
from ikaros.course.simulate import simulate_ball_cohort, simulate_maintenance_cohort
from ikaros.course.table import course_from_frame, load_course
from tests.course.helpers import REF, VALID, cells

#: name -> (description, covariate sets fitted by make_golden.R)
MODELS: dict[str, tuple[str, list[list[str]]]] = {
    "handmade_os": (
        "valid_course.csv, OS from diagnosis, split at exposure changes and event times, "
        "exposure at the interval stop",
        [["cum_exposure"]],
    ),
    "maintenance_spm": (
        "simulated maintenance cohort (300 patients, seed 2033), SPM from diagnosis "
        "(death censors), split at exposure changes and event times, exposure at the stop",
        [["cum_exposure"], ["cum_exposure", "on_len"]],
    ),
    "maintenance_efs_lagged": (
        "simulated maintenance cohort, EFS from diagnosis, split at exposure changes only, "
        "exposure at the interval start",
        [["cum_exposure", "on_len"]],
    ),
    "ball_efs": (
        "simulated B-ALL series (32 patients, seed 68), EFS from the SPM, exposure at the stop",
        [["cum_exposure"]],
    ),
}


def build_inputs() -> dict[str, pd.DataFrame]:
    """The interval tables, keyed by model name (columns as CountingProcess.table)."""
    hand = patient_courses(load_course(VALID))
    maint = simulate_maintenance_cohort()
    m_courses = patient_courses(course_from_frame(cells(maint.events), source="maintenance"))
    ball = simulate_ball_cohort()
    b_courses = patient_courses(course_from_frame(cells(ball.events), source="ball"))
    return {
        "handmade_os": counting_process(hand, "os", "diagnosis").table,
        "maintenance_spm": counting_process(m_courses, "spm", "diagnosis").table,
        "maintenance_efs_lagged": counting_process(
            m_courses, "efs", "diagnosis", value_at="start", split_at_events=False
        ).table,
        "ball_efs": counting_process(b_courses, "efs", "spm").table,
    }


def csv_text(frame: pd.DataFrame) -> str:
    """CSV text as stored (floats by shortest round-trip repr, so R reads identical doubles)."""
    return frame.to_csv(index=False, lineterminator="\n")


def write_inputs(directory: Path = REF) -> list[Path]:
    """Write every table as ``tv_<name>.csv`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in build_inputs().items():
        path = directory / f"tv_{name}.csv"
        path.write_text(csv_text(frame), encoding="utf-8", newline="\n")
        paths.append(path)
    return paths
