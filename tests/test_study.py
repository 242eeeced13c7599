"""The analysis plan: Firth fallback, exclusions, subgroups, associations, option checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ikaros.cohort import cohort_from_frame
from ikaros.errors import InputError
from ikaros.groups import quartiles
from ikaros.simulate import demo_cohort
from ikaros.stats.cox import fit_cox
from ikaros.study import StudyOptions, run_study

MARKERS = ("IKZF1",)


def _run(frame: pd.DataFrame, **opts: object):  # type: ignore[no-untyped-def]
    markers = tuple(opts.pop("markers", MARKERS))  # type: ignore[arg-type]
    endpoints = tuple(opts.pop("endpoints", ("pfs", "os")))  # type: ignore[arg-type]
    cohort = cohort_from_frame(frame, markers=markers, endpoints=endpoints)
    return run_study(cohort, StudyOptions(markers, endpoints, **opts))  # type: ignore[arg-type]


def _no_deaths_in_q1() -> pd.DataFrame:
    frame = demo_cohort()
    q1 = frame["IKZF1"] <= quartiles(frame["IKZF1"])[0]
    frame.loc[q1, "os_event"] = 0
    return frame


def test_zero_events_in_q1_switches_group_cox_to_firth() -> None:
    res = _run(_no_deaths_in_q1())
    a = res.analysis("IKZF1", "os")
    assert a.groups["Q1"].events == 0
    assert a.groups["Q1"].landmark.survival == 1.0
    g = a.cox_group
    assert g.method == "firth" and "had an event" in (g.firth_reason or "")
    term = g.terms["IKZF1 Q2-4 vs Q1"]
    assert np.isfinite(term.hr) and np.isfinite(term.upper) and term.hr > 1
    assert g.ci_method.startswith("profile")
    assert any("Firth" in w for w in res.warnings)
    # the log-rank test is unaffected by the monotone likelihood
    assert 0 < a.logrank.p < 1
    # the ordinary fit refuses, as it should
    frame = _no_deaths_in_q1()
    x = (frame["IKZF1"] > quartiles(frame["IKZF1"])[0]).astype(float).to_frame("g")
    with pytest.raises(Exception, match="does not exist"):
        fit_cox(frame["os_time"], frame["os_event"], x, firth="never")


def test_firth_matches_ordinary_cox_direction_and_size_without_separation() -> None:
    frame = demo_cohort()
    x = frame[["IKZF1"]]
    cox = fit_cox(frame["pfs_time"], frame["pfs_event"], x)
    firth = fit_cox(frame["pfs_time"], frame["pfs_event"], x, firth="always")
    assert firth.method == "firth"
    a, b = cox.terms["IKZF1"].coef, firth.terms["IKZF1"].coef
    assert np.sign(a) == np.sign(b) and abs(b - a) < 0.1 * abs(a)


def test_missing_marker_values_are_excluded_and_counted() -> None:
    frame = demo_cohort()
    frame.loc[[0, 5, 9], "IKZF1"] = np.nan
    frame.loc[[5, 20], "pfs_time"] = np.nan
    frame.loc[[5, 20], "pfs_event"] = np.nan
    a = _run(frame, endpoints=("pfs",)).analysis("IKZF1", "pfs")
    assert a.n == 56
    assert (a.excluded.missing_marker, a.excluded.missing_endpoint, a.excluded.total) == (2, 2, 4)


def test_subgroups_and_interaction_present_with_cytogenetics() -> None:
    res = _run(demo_cohort())
    a = res.analysis("IKZF1", "pfs")
    names = [s.name for s in a.subgroups]
    assert names == ["standard risk", "high risk"]
    assert sum(s.n for s in a.subgroups) == 60
    assert a.interaction is not None and a.interaction.term == "IKZF1:cyto_high_risk"
    assert a.logrank_stratified is not None
    assert res.cohort.cytogenetics == {"standard": 41, "high": 19, "missing": 0}


def test_without_cytogenetics_no_subgroups_or_multivariable() -> None:
    frame = demo_cohort().drop(columns=["del17p", "t_4_14", "t_14_16"])
    a = _run(frame).analysis("IKZF1", "pfs")
    assert a.subgroups == () and a.interaction is None and a.cox_multivariable is None
    assert a.logrank_stratified is None


def test_marker_associations_with_iss_and_response() -> None:
    res = _run(demo_cohort())
    assoc = res.marker_associations[0]
    assert assoc.iss_kruskal is not None and assoc.iss_trend is not None
    assert assoc.iss_kruskal.groups == ("1", "2", "3")
    assert assoc.response_mann_whitney is not None
    assert sum(assoc.response_mann_whitney.group_n) <= 60


def test_log2_of_non_positive_marker_names_row_and_column() -> None:
    frame = demo_cohort()
    frame.loc[3, "IKZF1"] = 0.0
    with pytest.raises(InputError, match=r"row 5.*'IKZF1'.*log2"):
        _run(frame, transform="log2")


@pytest.mark.parametrize(
    ("opts", "pattern"),
    [
        ({"transform": "ln"}, "transform"),
        ({"landmark": -1.0}, "landmark"),
        ({"firth": "maybe"}, "firth"),
        ({"conf_level": 1.5}, "conf_level"),
    ],
)
def test_invalid_options_are_rejected(opts: dict, pattern: str) -> None:
    with pytest.raises(InputError, match=pattern):
        StudyOptions(("IKZF1",), ("pfs",), **opts)


def test_columns_read_for_the_options() -> None:
    """The cohort is read with the treatment among the groups and the base model among the
    covariates, each once (the command line and the web both read it so)."""
    options = StudyOptions(
        markers=("IKZF1",),
        endpoints=("pfs",),
        groups=("iss", "sex"),
        covariates=("age",),
        treatment="sex",
        performance=True,
        base_model=("age", "iss"),
    )
    assert options.load_groups == ("iss", "sex")
    assert options.load_covariates == ("age", "iss")
    plain = StudyOptions(markers=("IKZF1",), endpoints=("pfs",))
    assert (plain.load_groups, plain.load_covariates) == ((), ())
    arm = StudyOptions(markers=("IKZF1",), endpoints=("pfs",), treatment="arm")
    assert arm.load_groups == ("arm",)
