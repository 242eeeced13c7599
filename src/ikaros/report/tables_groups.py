"""Report tables of the groupings (``--group``) and the competing-risk endpoints (``--competing``).

- per grouping variable x endpoint: the levels with n, events, landmark survival, median, the
  hazard ratio against the reference level (and adjusted), empty levels included;
- per competing-risk analysis: the cumulative incidence at the landmark beside the naive
  1 - Kaplan-Meier, with Gray's test; the Fine-Gray subdistribution HR beside the cause-specific
  HR for every term of every model;
- a one-line-per-analysis summary of each.

Like :mod:`ikaros.report.tables`, every number is read from the results file and formatted.
:func:`all_tables` lists every table of the study report.
"""

from __future__ import annotations

from collections.abc import Sequence

from ikaros.report.naming import (
    competing_names,
    display_label,
    level_display,
    table_name,
    term_display,
)
from ikaros.report.predictive import predictive_tables
from ikaros.report.prognostic import performance_tables
from ikaros.report.tables import (
    Cell,
    Table,
    _median,
    _num,
    characteristics_table,
    cox_table,
    fmt_ci,
    fmt_landmark,
    fmt_p,
    has_multivariable,
    landmark_table,
    p_is,
)
from ikaros.report.tables_markers import optimal_cut_table, summary_table
from ikaros.results import (
    CompetingAnalysis,
    CompetingModel,
    CoxTermResult,
    GroupingAnalysis,
    IncidenceAt,
    Results,
    TestResult,
)

__all__ = [
    "all_tables",
    "competing_models_table",
    "competing_summary_table",
    "competing_tables",
    "empty_levels_sentence",
    "fmt_incidence",
    "grouping_summary_table",
    "grouping_table",
    "grouping_tables",
    "incidence_table",
    "table_name",
]


def _test(t: TestResult | None) -> str:
    if t is None:
        return "not computed"
    return f"chi-square {t.statistic:.2f} on {t.df} df, {p_is(t.p)}"


def _hr(t: CoxTermResult | None) -> tuple[str, str]:
    if t is None:
        return "n/a", "n/a"
    return f"{_num(t.hr)} ({fmt_ci(t.lower, t.upper)})", fmt_p(t.p)


# --------------------------------------------------------------------------- groupings


def empty_levels_sentence(results: Results, g: GroupingAnalysis) -> str | None:
    """One sentence on the levels without analysed patients, or None."""
    empty = [level_display(g.variable, lv.label) for lv in g.levels if lv.n == 0]
    if not empty:
        return None
    label = display_label(results, g.variable).text
    what = "Level" if len(empty) == 1 else "Levels"
    verb = "has" if len(empty) == 1 else "have"
    return (
        f"{what} {', '.join(empty)} of {label} {verb} no patient with "
        f"{g.endpoint.upper()} in these data; "
        + ("it is" if len(empty) == 1 else "they are")
        + " listed with n = 0 and not compared."
    )


def _adjusters(results: Results, g: GroupingAnalysis) -> list[str]:
    if g.cox_adjusted is None:
        return []
    prefix = g.variable + " "
    return [term_display(results, t) for t in g.cox_adjusted.terms if not t.startswith(prefix)]


#: Columns of groups_<variable>_<endpoint>.csv: one level per row.
GROUPING_DATA = (
    "variable",
    "endpoint",
    "level",
    "reference",
    "n",
    "events",
    "time",
    "survival",
    "survival_lower",
    "survival_upper",
    "n_risk",
    "median",
    "median_lower",
    "median_upper",
    "hr",
    "lower",
    "upper",
    "p",
    "adjusted_hr",
    "adjusted_lower",
    "adjusted_upper",
    "adjusted_p",
    "note",
)


def _term_cells(t: CoxTermResult | None) -> list[Cell]:
    return [None] * 4 if t is None else [t.hr, t.lower, t.upper, t.p]


def _level_data(g: GroupingAnalysis, level: str, n: int, events: int) -> tuple[Cell, ...]:
    s = g.groups.get(level)
    term = f"{g.variable} {level} vs {g.reference}"
    is_ref = level == g.reference
    crude = None if is_ref or g.cox is None else g.cox.terms.get(term)
    adj = None if is_ref or g.cox_adjusted is None else g.cox_adjusted.terms.get(term)
    lm = s.landmark if s is not None else None
    med = s.median if s is not None else None
    return (
        g.variable,
        g.endpoint,
        level,
        is_ref,
        n,
        events,
        lm.time if lm else None,
        lm.survival if lm else None,
        lm.lower if lm else None,
        lm.upper if lm else None,
        lm.n_risk if lm else None,
        med.estimate if med else None,
        med.lower if med else None,
        med.upper if med else None,
        *_term_cells(crude),
        *_term_cells(adj),
        "no patients" if n == 0 else (lm.note if lm else None),
    )


def grouping_table(results: Results, g: GroupingAnalysis) -> Table:
    """The levels of one grouping variable for one endpoint."""
    lm = results.options.landmark
    label = display_label(results, g.variable).text
    adjusted = g.cox_adjusted is not None
    rows: list[tuple[str, ...]] = []
    data: list[tuple[Cell, ...]] = []
    for lv in g.levels:
        name = level_display(g.variable, lv.label)
        data.append(_level_data(g, lv.label, lv.n, lv.events))
        if lv.n == 0:
            rows.append(
                (
                    name,
                    "0",
                    "0",
                    "no patients",
                    "-",
                    "-",
                    "-",
                    "-",
                    *(["-", "-"] if adjusted else []),
                )
            )
            continue
        s = g.groups.get(lv.label)
        term = f"{g.variable} {lv.label} vs {g.reference}"
        if lv.label == g.reference:
            hr, p = "1 (reference)", "-"
            ahr, ap = "1 (reference)", "-"
        else:
            hr, p = _hr(g.cox.terms.get(term)) if g.cox is not None else ("n/a", "n/a")
            ahr, ap = (
                _hr(g.cox_adjusted.terms.get(term)) if g.cox_adjusted is not None else ("", "")
            )
        if s is None:
            surv, ci, median = "n/a", "n/a", "n/a"
        else:
            surv = fmt_landmark(s.landmark)
            ci = fmt_ci(s.landmark.lower, s.landmark.upper, pct=True)
            median = _median(s.median)
        rows.append(
            (
                name,
                str(lv.n),
                str(lv.events),
                surv,
                ci,
                median,
                hr,
                p,
                *([ahr, ap] if adjusted else []),
            )
        )
    firth = [m for m in (g.cox, g.cox_adjusted) if m is not None and m.method == "firth"]
    notes = [
        f"{g.n} patients with {label} and {g.endpoint.upper()} ({g.events} events); excluded: "
        f"{g.missing_variable} without {label}, {g.missing_endpoint} not evaluable for "
        f"{g.endpoint.upper()}.",
        f"Log-rank test across the levels: {_test(g.logrank)}.",
    ]
    if g.trend is not None:
        order = " < ".join(level_display(g.variable, lv.label) for lv in g.levels if lv.n > 0)
        notes.append(
            f"Log-rank test for trend over the ordered levels ({order}): {_test(g.trend)}."
        )
    if g.cox is not None:
        notes.append(
            "Hazard ratios: Cox model with one indicator per level against the reference level "
            f"{level_display(g.variable, g.reference)} (Efron ties, Wald CI and p)."
        )
    if g.cox_adjusted is not None:
        extra = (
            f"; {g.cox_adjusted.excluded} patients without an adjuster excluded"
            if g.cox_adjusted.excluded
            else ""
        )
        notes.append(
            "Adjusted: the same model with "
            + ", ".join(_adjusters(results, g))
            + f" (n = {g.cox_adjusted.n}, {g.cox_adjusted.events} events{extra})."
        )
    if firth:
        notes.append("Fitted by Firth's penalised likelihood: " + f"{firth[0].firth_reason}.")
    sentence = empty_levels_sentence(results, g)
    if sentence:
        notes.append(sentence)
    header = (
        "Level",
        "n",
        "Events",
        f"S({lm:g})",
        "95% CI",
        "Median (95% CI), months",
        "HR (95% CI)",
        "p",
        *(["Adjusted HR (95% CI)", "Adjusted p"] if adjusted else []),
    )
    assert all(len(r) == len(header) for r in rows)
    return Table(
        table_name("groups", g.variable, g.endpoint),
        f"{g.endpoint.upper()} by {label}",
        header,
        tuple(rows),
        " ".join(notes),
        GROUPING_DATA,
        tuple(data),
    )


def grouping_summary_table(results: Results) -> Table:
    """One row per grouping variable x endpoint."""
    rows = []
    data: list[tuple[Cell, ...]] = []
    for g in results.groupings:
        levels = ", ".join(f"{level_display(g.variable, lv.label)} {lv.n}" for lv in g.levels)
        data.append(
            (
                g.variable,
                g.endpoint,
                g.n,
                g.events,
                len(g.levels),
                g.reference,
                g.logrank.statistic if g.logrank else None,
                g.logrank.df if g.logrank else None,
                g.logrank.p if g.logrank else None,
                g.trend.statistic if g.trend else None,
                g.trend.p if g.trend else None,
            )
        )
        rows.append(
            (
                display_label(results, g.variable).text,
                g.endpoint.upper(),
                f"{g.n}/{g.events}",
                levels,
                fmt_p(g.logrank.p) if g.logrank else "n/a",
                fmt_p(g.trend.p) if g.trend else "-",
            )
        )
    return Table(
        "grouping_summary",
        "Summary: survival by clinical variables",
        ("Variable", "Endpoint", "n/events", "Levels (n)", "Log-rank p", "Trend p"),
        tuple(rows),
        "Log-rank test across all levels; trend test only for ordered levels.",
        (
            "variable",
            "endpoint",
            "n",
            "events",
            "levels",
            "reference",
            "logrank_statistic",
            "logrank_df",
            "logrank_p",
            "trend_statistic",
            "trend_p",
        ),
        tuple(data),
    )


def grouping_tables(results: Results) -> list[Table]:
    if not results.groupings:
        return []
    return [grouping_summary_table(results)] + [
        grouping_table(results, g) for g in results.groupings
    ]


# --------------------------------------------------------------------------- competing risks


def competing_label(results: Results, c: CompetingAnalysis) -> str:
    return display_label(results, c.name).text


def _incidence(at: IncidenceAt | None) -> tuple[str, str]:
    if at is None:
        return "n/a", "n/a"
    if at.cif is None:
        return at.note or "not estimable", "-"
    return fmt_incidence(at.cif, at.lower, at.upper), fmt_incidence(at.naive)


def fmt_incidence(x: float | None, lower: float | None = None, upper: float | None = None) -> str:
    """A cumulative incidence in percent with one decimal, and its interval when given."""
    if x is None:
        return "n/a"
    text = f"{100 * x:.1f}%"
    if lower is not None and upper is not None:
        text += f" ({100 * lower:.1f}-{100 * upper:.1f}%)"
    return text


def _group_names(results: Results, c: CompetingAnalysis) -> dict[str, str]:
    return competing_names(c, display_label(results, c.name))


def incidence_table(results: Results, c: CompetingAnalysis) -> Table:
    """Cumulative incidence at the landmark per group, beside the naive 1 - Kaplan-Meier."""
    lm = results.options.landmark
    label = competing_label(results, c)
    names = _group_names(results, c)
    causes = ", ".join(c.competing_causes) or "none"
    rows = []
    data: list[tuple[Cell, ...]] = []
    for key, g in c.groups.items():
        at = next((x for x in g.at if abs(x.time - lm) < 1e-9), None)
        cif, naive = _incidence(at)
        rows.append((names.get(key, key), str(g.n), str(g.events), str(g.competing), cif, naive))
        data.append(
            (
                c.name,
                c.endpoint,
                c.event,
                key,
                g.n,
                g.events,
                g.competing,
                lm,
                at.cif if at else None,
                at.lower if at else None,
                at.upper if at else None,
                at.naive if at else None,
                at.note if at else None,
            )
        )
    pct = f"{100 * results.options.conf_level:g}%"
    return Table(
        table_name("incidence", c.name, c.endpoint),
        f"{c.endpoint.upper()}: cumulative incidence of {c.event} at {lm:g} months by {label}",
        (
            "Group",
            "n",
            c.event.capitalize(),
            f"Competing ({causes})",
            f"Cumulative incidence at {lm:g} months ({pct} CI)",
            f"Naive 1 − KM at {lm:g} months",
        ),
        tuple(rows),
        f"Aalen-Johansen estimates with {pct} pointwise confidence intervals (as cmprsk::cuminc). "
        "The naive 1 − Kaplan-Meier treats competing events as censoring and overstates the "
        f"incidence; it is shown only as a contrast. Gray's test: {_test(c.gray)}.",
        (
            "grouping",
            "endpoint",
            "event",
            "group",
            "n",
            "events",
            "competing",
            "time",
            "cif",
            "cif_lower",
            "cif_upper",
            "naive_1_minus_km",
            "note",
        ),
        tuple(data),
    )


def _model_name(results: Results, c: CompetingAnalysis, m: CompetingModel) -> str:
    covs = " + ".join(term_display(results, x) for x in results.options.covariates)
    name = m.name.replace("+ covariates", f"+ {covs}") if covs else m.name
    return term_display(results, name, c.name)


def _term_name(results: Results, c: CompetingAnalysis, term: str) -> str:
    if c.kind == "cut" and term == c.name:
        lab = display_label(results, c.name)
        if results.options.transform == "log2":
            return f"{lab.name} (per doubling)"
        return f"{lab.name} (per 1 {lab.unit})" if lab.unit else f"{lab.name} (per unit)"
    return term_display(results, term, c.name)


def competing_models_table(results: Results, c: CompetingAnalysis) -> Table:
    """Fine-Gray subdistribution HR beside the cause-specific HR, per term and model."""
    rows = []
    data: list[tuple[Cell, ...]] = []
    for m in c.models:
        for term, t in m.terms.items():
            shr, sp = _hr(t.fine_gray)
            cshr, cp = _hr(t.cause_specific)
            note = "; ".join(x for x in (t.note, m.note) if x)
            data.append(
                (
                    c.name,
                    c.endpoint,
                    c.event,
                    m.name,
                    term,
                    m.n,
                    m.events,
                    m.competing,
                    *_term_cells(t.fine_gray),
                    *_term_cells(t.cause_specific),
                    note or None,
                )
            )
            rows.append(
                (
                    _model_name(results, c, m),
                    _term_name(results, c, term),
                    str(m.n),
                    str(m.events),
                    str(m.competing),
                    shr,
                    sp,
                    cshr,
                    cp,
                    note or "-",
                )
            )
    return Table(
        table_name("competing_models", c.name, c.endpoint),
        f"{c.endpoint.upper()}: subdistribution (Fine-Gray) and cause-specific hazard ratios "
        f"for {c.event}, {competing_label(results, c)}",
        (
            "Model",
            "Term",
            "n",
            c.event.capitalize(),
            "Competing",
            "SHR (95% CI)",
            "p",
            "CSHR (95% CI)",
            "p",
            "Note",
        ),
        tuple(rows),
        "SHR: Fine-Gray model of the subdistribution hazard (sandwich variance, as "
        "cmprsk::crr). CSHR: Cox model of the cause-specific hazard (competing events "
        "censored; Efron ties). How the two differ is explained at the end of this section.",
        (
            "grouping",
            "endpoint",
            "event",
            "model",
            "term",
            "n",
            "events",
            "competing",
            "shr",
            "shr_lower",
            "shr_upper",
            "shr_p",
            "cshr",
            "cshr_lower",
            "cshr_upper",
            "cshr_p",
            "note",
        ),
        tuple(data),
    )


def competing_summary_table(results: Results) -> Table:
    lm = results.options.landmark
    rows = []
    data: list[tuple[Cell, ...]] = []
    for c in results.competing:
        causes = ", ".join(c.competing_causes) or "none"
        data.append(
            (
                c.name,
                c.endpoint,
                c.event,
                "; ".join(c.competing_causes) or None,
                c.n,
                c.events,
                c.competing,
                c.gray.statistic if c.gray else None,
                c.gray.df if c.gray else None,
                c.gray.p if c.gray else None,
            )
        )
        rows.append(
            (
                competing_label(results, c),
                c.endpoint.upper(),
                f"{c.event} ({causes} competing)",
                f"{c.n}/{c.events}/{c.competing}",
                fmt_p(c.gray.p) if c.gray else "n/a",
            )
        )
    return Table(
        "competing_summary",
        "Summary: competing-risk endpoints",
        ("Grouping", "Endpoint", "Event of interest", "n/events/competing", "Gray's test p"),
        tuple(rows),
        f"Cumulative incidence at {lm:g} months and hazard ratios in the competing-risk sections.",
        (
            "grouping",
            "endpoint",
            "event",
            "competing_causes",
            "n",
            "events",
            "competing",
            "gray_statistic",
            "gray_df",
            "gray_p",
        ),
        tuple(data),
    )


def competing_tables(results: Results) -> list[Table]:
    if not results.competing:
        return []
    out = [competing_summary_table(results)]
    for c in results.competing:
        out += [incidence_table(results, c), competing_models_table(results, c)]
    return out


def all_tables(results: Results) -> Sequence[Table]:
    """Every table of the report that has rows; a table without content is left out (the
    report says why in its place)."""
    tables = [characteristics_table(results)]
    if results.analyses:
        tables += [
            summary_table(results),
            landmark_table(results),
            cox_table(results, kind="univariate"),
        ]
        if has_multivariable(results):
            tables.append(cox_table(results, kind="multivariable"))
    if any(a.optimal_cut is not None for a in results.analyses):
        tables.append(optimal_cut_table(results))
    tables += grouping_tables(results)
    tables += competing_tables(results)
    tables += performance_tables(results)
    tables += predictive_tables(results)
    return tuple(tables)
