"""Derived quantities, endpoints, landmarks and (start, stop] splitting, against hand-worked
values on tests/course/data/valid_course.csv (six patients; times in months).

Exposure periods of the table: P01 (1, 5) and (8, 50), SPM at 50; P02 (2, 30), SPM at 40,
regression at 43; P03 (7, 31), SPM at 31; P04 (0.5, 4.5), (9, 20) and (24, 65), SPM at 65;
P05 (8, 40), no SPM; P06 (1, 20), SPM at 20, relapse at 30, allogeneic HCT at 34.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ikaros.course.derived import (
    PatientCourse,
    competing_risks_table,
    counting_process,
    cumulative_exposure,
    derived_table,
    endpoint_data,
    landmark_at_event,
    landmark_at_time,
    patient_courses,
    treated,
)
from ikaros.course.table import course_from_frame, load_course
from ikaros.errors import AnalysisError
from tests.course.helpers import VALID


@pytest.fixture(scope="module")
def courses() -> dict[str, PatientCourse]:
    return {c.patient_id: c for c in patient_courses(load_course(VALID))}


def test_exposure_periods_and_cumulative_exposure(courses: dict[str, PatientCourse]) -> None:
    p01, p04, p05 = courses["P01"], courses["P04"], courses["P05"]
    assert p01.periods == ((1.0, 5.0), (8.0, 50.0))
    assert p05.periods == ((8.0, 40.0),)
    assert not p01.ongoing_at_end
    # cumulative exposure is continuous and piecewise linear
    expected = {0: 0, 1: 0, 3: 2, 5: 4, 7: 4, 8: 4, 20: 16, 50: 46, 75: 46}
    for t, e in expected.items():
        assert cumulative_exposure(p01, t) == pytest.approx(e), t
    assert cumulative_exposure(p04, 65) == pytest.approx(4 + 11 + 41)
    assert cumulative_exposure(p04, 22) == pytest.approx(4 + 11)
    # ongoing: start < t <= stop, so a stop on the day of the SPM is ongoing at the SPM
    assert p01.on_lenalidomide(50) and not p01.on_lenalidomide(50.01)
    assert not p01.on_lenalidomide(1) and p01.on_lenalidomide(1.5)


def test_open_period_runs_to_the_end_of_followup() -> None:
    frame = pd.DataFrame(
        {
            "patient_id": ["A"] * 4,
            "event": ["diagnosis", "len_start", "spm", "last_followup"],
            "month": ["0", "6", "30", "42"],
            "detail": [None, None, "AML", None],
        }
    )
    (a,) = patient_courses(course_from_frame(frame))
    assert a.periods == ((6.0, 42.0),) and a.ongoing_at_end
    assert a.cumulative_exposure(30) == 24 and a.on_lenalidomide(30)
    assert a.cumulative_exposure(100) == 36


def test_derived_table_by_hand(courses: dict[str, PatientCourse]) -> None:
    table = derived_table(list(courses.values())).set_index("patient_id")
    assert table["months_len_to_spm"].to_dict() == pytest.approx(
        {"P01": 49, "P02": 38, "P03": 24, "P04": 64.5, "P05": np.nan, "P06": 19}, nan_ok=True
    )
    assert table["exposure_at_spm"].to_dict() == pytest.approx(
        {"P01": 46, "P02": 28, "P03": 24, "P04": 56, "P05": np.nan, "P06": 19}, nan_ok=True
    )
    assert table["exposure_ongoing_at_spm"].to_dict() == {
        "P01": True, "P02": False, "P03": True, "P04": True, "P05": None, "P06": True,
    }  # fmt: skip
    assert table["exposure_total"]["P05"] == 32
    assert table["treated"].to_dict() == {
        "P01": True, "P02": False, "P03": True, "P04": True, "P05": False, "P06": True,
    }  # fmt: skip
    assert table["regression"].sum() == 1 and table["regression"]["P02"]
    assert table["hct_allo"].dropna().to_dict() == {"P01": 56, "P04": 71, "P06": 34}


def test_spm_before_lenalidomide_has_no_time_from_first_lenalidomide() -> None:
    frame = pd.DataFrame(
        {
            "patient_id": ["A"] * 5,
            "event": ["diagnosis", "spm", "len_start", "len_stop", "death"],
            "month": ["0", "3", "6", "20", "30"],
            "detail": [None, "skin", None, None, None],
        }
    )
    table = derived_table(patient_courses(course_from_frame(frame)))
    assert np.isnan(table["months_len_to_spm"][0])
    assert table["exposure_at_spm"][0] == 0 and not table["exposure_ongoing_at_spm"][0]


def test_endpoints_from_each_origin(courses: dict[str, PatientCourse]) -> None:
    cs = list(courses.values())
    efs = endpoint_data(cs, "efs", "spm")
    assert efs.n_without_origin == 1  # P05 has no SPM
    got = dict(zip(efs.patient_id, zip(efs.time, efs.event, strict=True), strict=True))
    assert got == {
        "P01": (20, 1), "P02": (20, 0), "P03": (2, 1), "P04": (35, 0), "P06": (10, 1),
    }  # fmt: skip
    os_ = endpoint_data(cs, "os", "spm")
    assert dict(zip(os_.patient_id, os_.time, strict=True))["P06"] == 28
    assert os_.events == 2  # P01, P03
    diag = endpoint_data(cs, "efs", "diagnosis")
    assert diag.n == 6 and diag.time[list(diag.patient_id).index("P05")] == 40
    first_len = endpoint_data(cs, "os", "len_start")
    assert first_len.time[list(first_len.patient_id).index("P04")] == pytest.approx(99.5)
    hct = endpoint_data(cs, "efs", "hct_allo")
    assert dict(zip(hct.patient_id, zip(hct.time, hct.event, strict=True), strict=True)) == {
        "P01": (14, 1), "P04": (29, 0), "P06": (14, 0),
    }  # fmt: skip
    only = endpoint_data(cs, "efs", "spm", include=treated)
    assert only.patient_id == ("P01", "P03", "P04", "P06") and only.n_without_origin == 0
    spm = endpoint_data(cs, "spm", "len_start")
    assert spm.time[list(spm.patient_id).index("P05")] == 47  # death censors: 55 - 8
    with pytest.raises(AnalysisError):
        endpoint_data(cs, "spm", "spm")


def test_landmark_at_allogeneic_hct(courses: dict[str, PatientCourse]) -> None:
    lm = landmark_at_event(list(courses.values()), "efs", "spm", "hct_allo")
    # 5 patients with an SPM; P02 and P03 never transplanted; P06 relapsed (30) before HCT (34)
    assert (lm.n_origin, lm.n_no_landmark, lm.n_event_before, lm.n_excluded) == (5, 2, 1, 3)
    assert lm.data.patient_id == ("P01", "P04")
    assert list(lm.data.time) == [14, 29] and list(lm.data.event) == [1, 0]
    os_lm = landmark_at_event(list(courses.values()), "os", "spm", "hct_allo")
    assert os_lm.n_event_before == 0 and os_lm.data.n == 3


def test_landmark_at_a_time(courses: dict[str, PatientCourse]) -> None:
    efs = endpoint_data(list(courses.values()), "efs", "spm")
    lm = landmark_at_time(efs, 12)
    # P03 (event at 2) and P06 (event at 10) excluded; nobody censored before 12
    assert (lm.n_event_before, lm.n_no_landmark) == (2, 0)
    assert lm.data.patient_id == ("P01", "P02", "P04")
    assert list(lm.data.time) == [8, 8, 23]
    lm20 = landmark_at_time(efs, 20)
    assert lm20.data.patient_id == ("P01", "P02", "P04")  # time >= 20 is still at risk
    assert list(lm20.data.time) == [0, 0, 15]


def test_counting_process_split_by_hand(courses: dict[str, PatientCourse]) -> None:
    cp = counting_process(list(courses.values()), "os", "diagnosis")
    t = cp.table
    assert (cp.n_patients, cp.n_without_origin, cp.n_zero_followup, cp.events) == (6, 0, 0, 3)
    # OS event times 38 (P03), 55 (P05), 75 (P01): every patient is split there
    p03 = t[t["patient_id"] == "P03"]
    assert p03[["start", "stop", "event", "cum_exposure", "on_len"]].values.tolist() == [
        [0, 7, 0, 0, 0], [7, 31, 0, 24, 1], [31, 38, 1, 24, 0],
    ]  # fmt: skip
    p05 = t[t["patient_id"] == "P05"]
    assert p05[["start", "stop", "event", "cum_exposure", "on_len"]].values.tolist() == [
        [0, 8, 0, 0, 0], [8, 38, 0, 30, 1], [38, 40, 0, 32, 1], [40, 55, 1, 32, 0],
    ]  # fmt: skip
    # intervals tile each patient's follow-up; one event at most, on the last interval
    for _, g in t.groupby("patient_id"):
        assert g["start"].iloc[0] == 0
        assert (g["start"].iloc[1:].to_numpy() == g["stop"].iloc[:-1].to_numpy()).all()
        assert g["event"].iloc[:-1].sum() == 0
    # value_at="stop": at every event time each patient at risk carries its exact exposure
    by_id = courses
    for ev_time in (38.0, 55.0, 75.0):
        at_risk = t[(t["start"] < ev_time) & (ev_time <= t["stop"])]
        assert (at_risk["stop"] == ev_time).all()
        for pid, x in zip(at_risk["patient_id"], at_risk["cum_exposure"], strict=True):
            assert x == pytest.approx(by_id[pid].cumulative_exposure(ev_time))


def test_counting_process_lagged_and_exposure_only(courses: dict[str, PatientCourse]) -> None:
    cs = list(courses.values())
    lag = counting_process(cs, "os", "diagnosis", value_at="start", split_at_events=False)
    p05 = lag.table[lag.table["patient_id"] == "P05"]
    assert p05[["start", "stop", "cum_exposure", "on_len"]].values.tolist() == [
        [0, 8, 0, 0], [8, 40, 0, 1], [40, 55, 32, 0],
    ]  # fmt: skip
    with pytest.raises(AnalysisError, match="look ahead"):
        counting_process(cs, "os", "diagnosis", value_at="stop", split_at_events=False)
    from_spm = counting_process(cs, "efs", "spm")
    assert from_spm.n_without_origin == 1
    p01 = from_spm.table[from_spm.table["patient_id"] == "P01"]
    # lenalidomide stopped at the SPM: exposure stays at its value at the SPM (46)
    assert set(p01["cum_exposure"]) == {46.0} and p01["on_len"].sum() == 0


def test_competing_risks_table(courses: dict[str, PatientCourse]) -> None:
    cr = competing_risks_table(list(courses.values())).set_index("patient_id")
    assert cr["status"].to_dict() == {"P01": 1, "P02": 1, "P03": 1, "P04": 1, "P05": 2, "P06": 1}
    assert cr.loc["P05", "time"] == 55 and cr.loc["P04", "time"] == 65
