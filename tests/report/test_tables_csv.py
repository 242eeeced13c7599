"""tables/*.csv are machine-readable (issue 13): re-read with pandas, hazard ratios, confidence
limits and p-values are floats equal to results.json; text cells stay safe from formula
injection; the formatted text ("<0.001", "1.23 (0.98-1.54)", "45%") is only in HTML and PDF."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ikaros.report.tables import Table
from ikaros.results import Results
from tests.report.csv_check import read_tables

REL = 1e-12  # pandas' default float parser is not guaranteed to round-trip the last bit


def _close(a: object, b: float | None) -> bool:
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return isinstance(a, float) and math.isnan(a)
    return math.isclose(float(a), b, rel_tol=REL, abs_tol=1e-300)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- Table.to_csv


def test_data_rows_are_written_as_numbers_and_text_is_defused() -> None:
    t = Table(
        "t",
        "T",
        ("Marker", "HR (95% CI)", "p"),
        (("=cmd", "1.23 (0.98-1.54)", "<0.001"),),
        "",
        ("marker", "hr", "lower", "upper", "p", "n", "ok", "note"),
        (
            ("=cmd|'calc'!A0", 1.23, 0.98, 1.54, 2.5e-07, 60, True, None),
            ("-2+3", -0.5, float("nan"), float("inf"), 0.25, 7, False, 'a, "b"'),
            ("@SUM(1)", 1e-300, 1.0, 2.0, 1.0, 0, False, "+x"),
        ),
    )
    text = t.to_csv()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["marker", "hr", "lower", "upper", "p", "n", "ok", "note"]
    assert rows[1] == ["'=cmd|'calc'!A0", "1.23", "0.98", "1.54", "2.5e-07", "60", "true", ""]
    assert rows[2] == ["'-2+3", "-0.5", "", "", "0.25", "7", "false", 'a, "b"']
    assert rows[3][0] == "'@SUM(1)" and rows[3][-1] == "'+x" and rows[3][1] == "1e-300"
    df = pd.read_csv(io.StringIO(text))
    assert df["hr"].dtype == np.float64 and df["p"].dtype == np.float64
    assert df["p"].iloc[0] == 2.5e-07 and math.isnan(df["lower"].iloc[1])
    assert df["ok"].dtype == bool and df["n"].dtype == np.int64


def test_a_data_row_of_the_wrong_length_is_refused() -> None:
    t = Table("t", "T", ("a",), (("1",),), "", ("a", "b"), ((1,),))
    with pytest.raises(ValueError, match="data row"):
        t.to_csv()


def test_tables_without_data_rows_write_the_formatted_rows() -> None:
    t = Table("t", "T", ("a", "b"), (("=x", "-"), ("-1.5", "1,2")))
    assert t.to_csv() == "a,b\n'=x,'-\n-1.5,\"1,2\"\n"


# --------------------------------------------------------------------------- reports


def _check_against_results(results: Results, tables: dict[str, pd.DataFrame]) -> None:
    cox = tables["cox_univariate"].set_index(["marker", "endpoint", "term"])
    seen = 0
    for a in results.analyses:
        for model in (a.cox_univariate, a.cox_group):
            for name, term in model.terms.items():
                row = cox.loc[(a.marker, a.endpoint, name)]  # type: ignore[index]
                for col in ("hr", "lower", "upper", "p", "coef", "se"):
                    assert _close(row[col], getattr(term, col)), (a.marker, name, col)
                assert _close(row["hr_per_sd"], term.hr_per_sd)
                seen += 1
    assert seen == len(cox)
    summary = tables["summary"].set_index(["marker", "endpoint"])
    for a in results.analyses:
        row = summary.loc[(a.marker, a.endpoint)]
        assert _close(row["logrank_p"], a.logrank.p)
        c = a.cox_continuous
        for col in ("hr", "lower", "upper", "p", "hr_per_sd", "lower_per_sd", "upper_per_sd"):
            assert _close(row[col], getattr(c, col)), col
        for i, (label, g) in enumerate(a.groups.items(), start=1):
            assert row[f"group_{i}"] == label
            assert _close(row[f"survival_{i}"], g.landmark.survival)
    lm = tables["landmark_survival"]
    for a in results.analyses:
        for label, g in a.groups.items():
            row = lm[
                (lm.marker == a.marker)
                & (lm.endpoint == a.endpoint)
                & (lm.grouping == "cut")
                & (lm.group == label)
            ].iloc[0]
            assert row["n"] == g.n and row["events"] == g.events
            for col, want in (
                ("survival", g.landmark.survival),
                ("survival_lower", g.landmark.lower),
                ("survival_upper", g.landmark.upper),
                ("median", g.median.estimate),
            ):
                assert _close(row[col], want), col
    chars = tables["characteristics"]
    patients = chars[chars.characteristic == "patients"].iloc[0]
    assert patients["n"] == results.cohort.n
    frac = chars.dropna(subset=["fraction"])
    assert ((frac["fraction"] > 0) & (frac["fraction"] <= 1)).all()
    np.testing.assert_allclose(frac["fraction"], frac["n"] / results.cohort.n, rtol=1e-12)
    flow = tables["patient_flow"]
    for a in results.analyses:
        step = flow[flow.step.str.endswith(f"x {a.endpoint.upper()}") & (flow.depth == 0)]
        assert a.n in set(step["patients"]) and a.events in set(step["events"])


def test_demo_report_tables_are_machine_readable(demo_cli: tuple[Results, Path]) -> None:
    results, out = demo_cli
    tables = read_tables(out)
    assert {"summary", "cox_univariate", "cox_multivariable", "landmark_survival"} <= set(tables)
    _check_against_results(results, tables)
    multi = tables["cox_multivariable"]
    assert multi["p"].dtype == np.float64 and (multi["p"] < 0.001).any()  # was "<0.001"


def test_gse24080_example_tables_are_machine_readable(gse_example: tuple[Results, Path]) -> None:
    results, out = gse_example
    tables = read_tables(out)
    expected = {
        "added_value",
        "performance_b2m_mg_l_os",
        "performance_ldh_os",
        "interaction_b2m_mg_l_os",
        "treatment_effects_b2m_mg_l_os",
        "stepp_b2m_mg_l_os",
    }
    assert expected <= set(tables)
    _check_against_results(results, tables)
    for name in ("performance_b2m_mg_l_os", "added_value", "interaction_ldh_os"):
        df = tables[name]
        assert all(df[c].dtype == np.float64 for c in map(str, df.columns) if c.endswith("_p"))
