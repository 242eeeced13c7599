"""run_model on a cohort: exclusions counted, endpoint and marker checks, class summaries."""

from __future__ import annotations

import numpy as np
import pytest

from ikaros.cohort import cohort_from_frame
from ikaros.errors import InputError
from ikaros.model.result import ModelResult
from ikaros.model.run import run_model
from ikaros.simulate import DEMO_SEED, simulate_cohort
from ikaros.stats.km import kaplan_meier
from ikaros.stats.logrank import logrank


def test_missing_values_are_excluded_and_counted() -> None:
    frame = simulate_cohort(DEMO_SEED).astype(object)
    frame.loc[[3, 7, 11], "IKZF1"] = None
    frame.loc[[20, 21], ["pfs_time", "pfs_event"]] = None
    cohort = cohort_from_frame(frame, source="t.csv", markers=["IKZF1"], endpoints=["pfs"])
    result = run_model(cohort, "IKZF1", doses=(25.0,), schedules=("21/28",))
    assert result.input.n_patients == 60
    assert result.input.n_analysed == 55
    assert result.input.excluded_missing_marker == 3
    assert result.input.excluded_missing_endpoint == 2
    kept = frame.drop(index=[3, 7, 11, 20, 21])
    assert result.input.median_expression == pytest.approx(np.median(kept["IKZF1"].astype(float)))
    assert [p.row for p in result.patients] == [i + 2 for i in kept.index]


def test_class_summaries_match_km_and_logrank(demo_result: ModelResult) -> None:
    frame = simulate_cohort(DEMO_SEED)
    sens = np.array([p.sensitive for p in demo_result.patients])
    for cls, mask in (("sensitive", sens), ("resistant", ~sens)):
        km = kaplan_meier(frame["pfs_time"][mask], frame["pfs_event"][mask])
        summary = next(c for c in demo_result.classes if c.label == cls)
        assert summary.n == int(mask.sum()) and summary.events == km.events
        assert summary.landmark == pytest.approx(km.at(36.0).survival)
    test = logrank(frame["pfs_time"], frame["pfs_event"], np.where(sens, "s", "r"))
    assert demo_result.logrank_p == pytest.approx(test.p)
    assert demo_result.n_sensitive == 17


def test_unknown_endpoint_and_marker() -> None:
    frame = simulate_cohort(DEMO_SEED)
    cohort = cohort_from_frame(frame, source="t.csv", markers=["IKZF1"], endpoints=["pfs"])
    with pytest.raises(InputError, match="endpoint 'efs' not found"):
        run_model(cohort, "IKZF1", endpoint="efs")
    with pytest.raises(InputError, match="marker column 'IKZF3' not found"):
        run_model(cohort, "IKZF3")
    with pytest.raises(InputError, match="unknown schedule"):
        run_model(cohort, "IKZF1", schedule="weekly")
    with pytest.raises(InputError, match="schedule"):
        run_model(cohort, "IKZF1", schedules=("21/28", "5/3"))
