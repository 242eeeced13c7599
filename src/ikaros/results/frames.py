"""Tidy DataFrame views of :class:`~ikaros.results.Results` (for notebooks and re-analysis).

- :func:`models_frame`: one row per analysis x model x term, numeric columns (``hr``,
  ``lower``, ``upper``, ``p``, ``coef``, ``se``, ``n``, ``events``, per-SD hazard ratios);
- :func:`groups_frame`: one row per group of every grouping (n, events, landmark survival or
  incidence with CI, median);
- :func:`tests_frame`: one row per test (log-rank, trend, stratified, Gray, interaction).

Numbers that cannot be estimated are NaN; nothing is formatted as text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ikaros.results.model import CoxModel, GroupSummary, Results, TestResult

__all__ = ["groups_frame", "models_frame", "tests_frame"]

_NAN = float("nan")


def _num(x: float | None) -> float:
    return _NAN if x is None else float(x)


def _cox_rows(model: CoxModel | None, base: dict[str, Any], name: str) -> list[dict[str, Any]]:
    if model is None:
        return []
    rows = []
    for term, t in model.terms.items():
        rows.append(
            {
                **base,
                "model": name,
                "term": term,
                "hr": _num(t.hr),
                "lower": _num(t.lower),
                "upper": _num(t.upper),
                "p": _num(t.p),
                "coef": _num(t.coef),
                "se": _num(t.se),
                "hr_per_sd": _num(t.hr_per_sd),
                "lower_per_sd": _num(t.lower_per_sd),
                "upper_per_sd": _num(t.upper_per_sd),
                "n": model.n,
                "events": model.events,
                "method": model.method,
            }
        )
    return rows


def models_frame(results: Results) -> pd.DataFrame:
    """Every model term of the study: one row per analysis x model x term."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for a in results.analyses:
        base = {"analysis": "marker", "name": a.marker, "endpoint": a.endpoint}
        rows += _cox_rows(a.cox_univariate, base, "univariate")
        rows += _cox_rows(a.cox_group, base, "groups")
        rows += _cox_rows(a.cox_multivariable, base, "multivariable")
        rows += _cox_rows(a.cox_group_multivariable, base, "groups multivariable")
        for s in a.subgroups:
            rows += _cox_rows(s.cox_continuous, base, f"subgroup {s.name}")
        if a.interaction is not None:
            i = a.interaction
            rows.append(
                {
                    **base,
                    "model": "interaction",
                    "term": i.term,
                    "hr": _num(i.hr),
                    "lower": _num(i.lower),
                    "upper": _num(i.upper),
                    "p": _num(i.p_wald),
                    "method": i.method,
                }
            )
    for g in results.groupings:
        base = {"analysis": "grouping", "name": g.variable, "endpoint": g.endpoint}
        rows += _cox_rows(g.cox, base, "levels")
        rows += _cox_rows(g.cox_adjusted, base, "levels adjusted")
    for c in results.competing:
        base = {"analysis": "competing", "name": c.name, "endpoint": c.endpoint}
        for m in c.models:
            for term, both in m.terms.items():
                for kind, t in (
                    ("fine-gray", both.fine_gray),
                    ("cause-specific", both.cause_specific),
                ):
                    rows.append(
                        {
                            **base,
                            "model": f"{m.name}: {kind}",
                            "term": term,
                            "hr": _NAN if t is None else _num(t.hr),
                            "lower": _NAN if t is None else _num(t.lower),
                            "upper": _NAN if t is None else _num(t.upper),
                            "p": _NAN if t is None else _num(t.p),
                            "coef": _NAN if t is None else _num(t.coef),
                            "se": _NAN if t is None else _num(t.se),
                            "n": m.n,
                            "events": m.events,
                            "method": kind,
                        }
                    )
    columns = [
        "analysis", "name", "endpoint", "model", "term", "hr", "lower", "upper", "p", "coef",
        "se", "hr_per_sd", "lower_per_sd", "upper_per_sd", "n", "events", "method",
    ]  # fmt: skip
    out = pd.DataFrame(rows, columns=columns)
    out[["n", "events"]] = out[["n", "events"]].astype("Int64")
    return out


def _group_row(base: dict[str, Any], grouping: str, label: str, g: GroupSummary) -> dict:
    lm, med = g.landmark, g.median
    return {
        **base,
        "grouping": grouping,
        "group": label,
        "n": g.n,
        "events": g.events,
        "landmark": lm.time,
        "survival": _num(lm.survival),
        "lower": _num(lm.lower),
        "upper": _num(lm.upper),
        "n_risk": lm.n_risk,
        "median": _num(med.estimate),
        "median_lower": _num(med.lower),
        "median_upper": _num(med.upper),
    }


def groups_frame(results: Results) -> pd.DataFrame:
    """Every group of every grouping: n, events, landmark survival (or incidence), median."""
    import pandas as pd

    rows = []
    for a in results.analyses:
        base = {"analysis": "marker", "name": a.marker, "endpoint": a.endpoint}
        for label, g in a.groups.items():
            rows.append(_group_row(base, str(a.cut.get("kind", "cut")), label, g))
        for label, g in a.quartile_groups.items():
            rows.append(_group_row(base, "quartiles", label, g))
    for gr in results.groupings:
        base = {"analysis": "grouping", "name": gr.variable, "endpoint": gr.endpoint}
        for label, g in gr.groups.items():
            rows.append(_group_row(base, "levels", label, g))
    for c in results.competing:
        base = {"analysis": "competing", "name": c.name, "endpoint": c.endpoint}
        for label, ig in c.groups.items():
            at = ig.at[0]
            rows.append(
                {
                    **base,
                    "grouping": c.kind,
                    "group": label,
                    "n": ig.n,
                    "events": ig.events,
                    "landmark": at.time,
                    "incidence": _num(at.cif),
                    "lower": _num(at.lower),
                    "upper": _num(at.upper),
                    "naive_1_minus_km": _num(at.naive),
                }
            )
    return pd.DataFrame(rows)


def _test_row(base: dict[str, Any], test: str, t: TestResult | None) -> list[dict[str, Any]]:
    if t is None:
        return []
    return [{**base, "test": test, "statistic": t.statistic, "df": t.df, "p": _num(t.p),
             "method": t.method}]  # fmt: skip


def tests_frame(results: Results) -> pd.DataFrame:
    """Every test: log-rank (groups, quartiles, stratified), trend, Gray, interaction."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for a in results.analyses:
        base = {"analysis": "marker", "name": a.marker, "endpoint": a.endpoint}
        rows += _test_row(base, "log-rank", a.logrank)
        rows += _test_row(base, "trend", a.trend)
        rows += _test_row(base, "log-rank quartiles", a.logrank_quartiles)
        rows += _test_row(base, "trend quartiles", a.trend_quartiles)
        rows += _test_row(base, "log-rank stratified", a.logrank_stratified)
        if a.interaction is not None and a.interaction.lr_p is not None:
            rows.append(
                {**base, "test": "interaction LR", "statistic": a.interaction.lr_statistic,
                 "df": 1, "p": a.interaction.lr_p, "method": "likelihood ratio"}
            )  # fmt: skip
    for g in results.groupings:
        base = {"analysis": "grouping", "name": g.variable, "endpoint": g.endpoint}
        rows += _test_row(base, "log-rank", g.logrank)
        rows += _test_row(base, "trend", g.trend)
    for c in results.competing:
        base = {"analysis": "competing", "name": c.name, "endpoint": c.endpoint}
        rows += _test_row(base, "Gray", c.gray)
    return pd.DataFrame(rows, columns=["analysis", "name", "endpoint", "test", "statistic",
                                       "df", "p", "method"])  # fmt: skip
