"""The course results' competing-risk section and figures, against the stats module and R."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ikaros.cli import app
from ikaros.course.competing import TIMES, competing_risks_section
from ikaros.course.derived import competing_risks_table, patient_courses
from ikaros.course.simulate import simulate_maintenance_cohort
from ikaros.course.table import course_from_frame
from ikaros.stats.competing import aalen_johansen, one_minus_km

runner = CliRunner()


@pytest.fixture(scope="module")
def courses() -> list:
    sim = simulate_maintenance_cohort()
    data = course_from_frame(sim.events.astype(str).where(sim.events.notna(), None), source="sim")
    return list(patient_courses(data))


def test_section_equals_the_estimators(courses: list) -> None:
    sec = competing_risks_section(courses, "diagnosis")
    assert sec is not None
    tab = competing_risks_table(courses, "diagnosis")
    t, s = tab["time"].to_numpy(float), tab["status"].to_numpy(int)
    aj = next(iter(aalen_johansen(t, s).values()))
    km = next(iter(one_minus_km(t, s, 1).values()))
    assert sec["events"] == {
        "spm": int((s == 1).sum()),
        "death_without_spm": int((s == 2).sum()),
        "censored": int((s == 0).sum()),
    }
    for row in sec["at"]:
        assert row["time"] in TIMES
        assert row["cif_spm"] == pytest.approx(aj["1"].at(row["time"])[0], abs=1e-12)
        assert row["one_minus_km_spm"] == pytest.approx(km.at(row["time"])[0], abs=1e-12)
    # deaths compete: 1 - KM overstates the incidence at 5 years
    five = next(r for r in sec["at"] if r["time"] == 60.0)
    assert five["one_minus_km_spm"] > five["cif_spm"] and five["overstatement"] > 0
    assert np.isclose(five["overstatement"], five["one_minus_km_spm"] - five["cif_spm"])


def test_no_competition_gives_null(courses: list) -> None:
    alive = [c for c in courses if not c.dead]
    assert competing_risks_section(alive, "diagnosis") is None


def test_course_demo_writes_figures(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    r = runner.invoke(app, ["demo", "--course", "--out", str(out), "-q"])
    assert r.exit_code == 0, r.output
    for name in (
        "figures/swimmer.png",
        "figures/oncoprint.png",
        "maintenance/figures/cumulative_incidence.png",
        "maintenance/figures/cumulative_incidence.svg",
    ):
        assert (out / name).is_file(), name
