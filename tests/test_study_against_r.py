"""The whole study pipeline on GSE24080 against R: checks the wiring, not only the estimators.

The cohort is loaded from the real file through the column mapping (``patid`` -> patient_id,
``cyto_abn`` -> cyto_high_risk) and analysed by :func:`ikaros.study.run_study`; every number
the results file carries is compared with tests/reference/survival/golden.json.
"""

from __future__ import annotations

import pytest

from ikaros.cohort import load_cohort
from ikaros.results import Results, from_json, to_json
from ikaros.study import StudyOptions, run_study
from tests.conftest import golden, require_shared

REL, P_REL, KM_ABS = 1e-4, 1e-3, 1e-6
G = golden("survival")
BY_ID = {c["id"]: c for k in ("km", "logrank", "trend", "cox", "cox_lrt") for c in G[k]}


def _results(transform: str) -> Results:
    path = require_shared() / "gse24080" / "clinical.tsv"
    cohort = load_cohort(
        path,
        markers=("b2m_mg_l", "ldh"),
        endpoints=("efs", "os"),
        mapping={"patient_id": "patid", "cyto_high_risk": "cyto_abn"},
    )
    return run_study(cohort, StudyOptions(("b2m_mg_l", "ldh"), ("efs", "os"), transform=transform))


@pytest.fixture(scope="module")
def results() -> Results:
    return _results("none")


@pytest.mark.parametrize("endpoint", ["efs", "os"])
@pytest.mark.parametrize("marker", ["b2m_mg_l", "ldh"])
def test_groups_and_logrank(results: Results, marker: str, endpoint: str) -> None:
    a = results.analysis(marker, endpoint)
    base = f"gse24080/{endpoint}/{marker}"
    km = BY_ID[f"{base}/q1_vs_rest/km"]
    for grp in km["groups"]:
        mine = a.groups[grp["label"]]
        assert mine.n == grp["n"] and mine.events == grp["n_event_total"]
        assert mine.landmark.survival == pytest.approx(grp["landmarks"]["surv"][0], abs=KM_ABS)
        assert mine.landmark.lower == pytest.approx(grp["landmarks"]["lower"][0], abs=KM_ABS)
        assert mine.landmark.upper == pytest.approx(grp["landmarks"]["upper"][0], abs=KM_ABS)
        assert mine.median.lower == grp["median"]["lower"] or mine.median.lower == pytest.approx(
            grp["median"]["lower"], abs=1e-9
        )
    for key, mine in (
        ("q1_vs_rest/logrank", a.logrank),
        ("quartiles/logrank", a.logrank_quartiles),
        ("quartiles/trend", a.trend_quartiles),
        ("q1_vs_rest/logrank_strat_cyto_abn", a.logrank_stratified),
    ):
        want = BY_ID[f"{base}/{key}"]
        assert mine is not None
        assert mine.statistic == pytest.approx(want["chisq"], rel=REL), key
        assert mine.p == pytest.approx(want["p"], rel=P_REL), key
        assert mine.df == want["df"]


def _term(model_terms: dict, name: str, want: dict) -> None:
    t = model_terms[name]
    for k in ("hr", "lower", "upper"):
        assert getattr(t, k) == pytest.approx(want[k], rel=REL), (name, k)
    assert t.p == pytest.approx(want["p"], rel=P_REL), name


@pytest.mark.parametrize("endpoint", ["efs", "os"])
@pytest.mark.parametrize("marker", ["b2m_mg_l", "ldh"])
def test_cox_models(results: Results, marker: str, endpoint: str) -> None:
    a = results.analysis(marker, endpoint)
    base = f"gse24080/{endpoint}/{marker}/cox"
    cont = BY_ID[f"{base}/continuous"]
    _term({marker: a.cox_continuous}, marker, cont["terms"][0])
    assert a.cox_univariate.lr_statistic == pytest.approx(cont["lr"]["chisq"], rel=REL)
    assert a.cox_univariate.ph is not None
    zph = {r["term"]: r for r in cont["zph"]["terms"]}
    assert a.cox_univariate.ph.global_test.p == pytest.approx(zph["GLOBAL"]["p"], rel=P_REL)
    _term(a.cox_group.terms, f"{marker} Q2-4 vs Q1", BY_ID[f"{base}/high"]["terms"][0])
    adj = BY_ID[f"{base}/high_adjusted"]["terms"]
    assert a.cox_group_multivariable is not None
    _term(a.cox_group_multivariable.terms, f"{marker} Q2-4 vs Q1", adj[0])
    _term(a.cox_group_multivariable.terms, "cyto_high_risk", adj[1])
    main = BY_ID[f"{base}/main_cyto_abn"]["terms"]
    assert a.cox_multivariable is not None
    _term(a.cox_multivariable.terms, marker, main[0])
    for sub, code in (("standard risk", 0), ("high risk", 1)):
        mine = next(s for s in a.subgroups if s.name == sub)
        want = BY_ID[f"{base}/subgroup_cyto_abn{code}"]
        assert mine.n == want["n"] and mine.events == want["nevent"]
        assert mine.cox_continuous is not None
        _term(mine.cox_continuous.terms, marker, want["terms"][0])
    lrt = BY_ID[f"gse24080/{endpoint}/{marker}/interaction_cyto_abn/lrt"]
    assert a.interaction is not None
    assert a.interaction.p_wald == pytest.approx(lrt["interaction_wald_p"], rel=P_REL)
    assert a.interaction.lr_statistic == pytest.approx(lrt["chisq"], rel=REL)
    assert a.interaction.lr_p == pytest.approx(lrt["p"], rel=P_REL)


def test_log2_transform() -> None:
    res = _results("log2")
    for marker in ("b2m_mg_l", "ldh"):
        want = BY_ID[f"gse24080/efs/{marker}/cox/log2"]["terms"][0]
        _term({marker: res.analysis(marker, "efs").cox_continuous}, marker, want)


def test_exclusions_are_counted(results: Results) -> None:
    a = results.analysis("b2m_mg_l", "efs")
    assert a.n == 563 and a.excluded.missing_marker == 2 and a.excluded.total == 2
    assert results.analysis("ldh", "efs").excluded.total == 0


def test_results_json_round_trip_and_determinism(results: Results) -> None:
    text = to_json(results)
    assert to_json(from_json(text)) == text
    again = to_json(_results("none"))
    assert again == text
