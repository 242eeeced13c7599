"""Report tables built from a results file: cohort characteristics, Cox models, landmark survival.

Each function returns a :class:`Table`: title, header, rows of formatted strings and footnote for
the HTML page and the PDF, and ``data_header``/``data_rows`` with the same numbers unformatted
(p-values as numbers, hazard ratios and limits in their own columns, proportions as fractions)
for the machine-readable ``tables/*.csv``. Both are built in one pass over the results, so the
page and the CSV never disagree. The summary and optimised-cutpoint tables are in
:mod:`ikaros.report.tables_markers`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ikaros.csvtext import Cell, csv_text
from ikaros.report.naming import (
    Label,
    adjuster_names,
    analysis_term_display,
    cut_display_labels,
    cut_name,
    cut_statement,
    display_label,
    group_model_name,
)
from ikaros.results import Analysis, CoxModel, LandmarkResult, Results

__all__ = [
    "Cell",
    "Table",
    "adjuster_names",
    "characteristics_table",
    "cox_table",
    "fmt_ci",
    "fmt_p",
    "fmt_pct",
    "has_multivariable",
    "landmark_table",
    "p_is",
]


#: A cell of a machine-readable table row: numbers as numbers, missing as None.


@dataclass(frozen=True)
class Table:
    """A report table: formatted ``rows`` for the page, machine-readable ``data_rows`` for CSV.

    ``rows`` hold the text shown in the HTML page and the PDF (``"<0.001"``, ``"1.23
    (0.98-1.54)"``, ``"45%"``). ``data_header``/``data_rows``, when given, are what
    :meth:`to_csv` writes instead: one value per cell, numbers as numbers (p-values, hazard
    ratios and their limits in separate columns, proportions as fractions), missing values as
    ``None``. Without them the CSV holds the formatted rows (tables of other reports).
    """

    name: str
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    footnote: str = ""
    data_header: tuple[str, ...] = ()
    data_rows: tuple[tuple[Cell, ...], ...] = ()

    def to_csv(self) -> str:
        """CSV text; cells starting with = + - @ tab or CR are defused against formula injection.

        Numbers are written in full (Python's shortest round-trip form), missing values and
        NaN as empty cells, booleans as ``true``/``false``.
        """
        if self.data_header:
            header: tuple[str, ...] = self.data_header
            body: tuple[tuple[Cell, ...], ...] = self.data_rows
            if any(len(r) != len(header) for r in body):
                raise ValueError(f"table {self.name}: a data row does not match data_header")
        else:
            header, body = self.header, self.rows
        return csv_text(header, body)


def fmt_p(p: float | None) -> str:
    """P-value as printed in the report (3 significant digits; < 0.001 below)."""
    if p is None or p != p:
        return "n/a"
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def p_is(p: float | None) -> str:
    """``p = 0.012``, ``p < 0.001``, ``p n/a``: a p-value in running text."""
    text = fmt_p(p)
    if text == "n/a":
        return "p n/a"
    return f"p {text[0]} {text[1:]}" if text[0] in "<>" else f"p = {text}"


def fmt_pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def fmt_landmark(lm: LandmarkResult | None) -> str:
    """Landmark survival as a percentage, or why it is not estimable."""
    if lm is None:
        return "n/a"
    if lm.survival is None:
        return lm.note or "not estimable"
    return fmt_pct(lm.survival)


def fmt_ci(lower: float | None, upper: float | None, *, pct: bool = False) -> str:
    if lower is None or upper is None:
        return "n/a"
    if pct:
        return f"{100 * lower:.0f}-{100 * upper:.0f}%"
    return f"{_num(lower)}-{_num(upper)}"


def _num(x: float | None, digits: int = 2) -> str:
    if x is None or x != x:
        return "n/a"
    if x == float("inf"):
        return "inf"
    if abs(x) >= 1000 or (0 < abs(x) < 0.01):
        return f"{x:.2e}"
    return f"{x:.{digits}f}"


def _median(m: object) -> str:
    est = getattr(m, "estimate", None)
    if est is None:
        return "not reached"
    lo, hi = getattr(m, "lower", None), getattr(m, "upper", None)
    low = _num(lo, 1) if lo is not None else "NR"
    high = _num(hi, 1) if hi is not None else "NR"
    return f"{est:.1f} ({low}-{high})"


#: Columns of characteristics.csv: one characteristic (and level) per row.
CHARACTERISTICS_DATA = (
    "characteristic",
    "level",
    "n",
    "fraction",
    "events",
    "median",
    "lower",
    "upper",
    "min",
    "max",
)


def _char_row(characteristic: str, level: str | None = None, **values: Cell) -> tuple[Cell, ...]:
    return (
        characteristic,
        level,
        *(values.get(k) for k in CHARACTERISTICS_DATA[2:]),
    )


def characteristics_table(results: Results) -> Table:
    """Cohort characteristics: n, age, sex, ISS, cytogenetics, response, events, follow-up."""
    c = results.cohort
    rows: list[tuple[str, str]] = [("Patients", str(c.n))]
    data: list[tuple[Cell, ...]] = [_char_row("patients", n=c.n)]
    if c.age:
        rows.append(
            (
                "Age, median (range), years",
                f"{_num(c.age.get('median'), 0)} ({_num(c.age.get('min'), 0)}-"
                f"{_num(c.age.get('max'), 0)})",
            )
        )
        data.append(
            _char_row(
                "age_years",
                median=c.age.get("median"),
                min=c.age.get("min"),
                max=c.age.get("max"),
            )
        )
    for label, key_name, counts in (
        ("Sex", "sex", c.sex),
        ("ISS stage", "iss", c.iss),
        ("Best response", "best_response", c.best_response),
    ):
        for key, value in counts.items():
            if key == "missing" and value == 0:
                continue
            name = f"ISS {'I' * int(key)}" if label == "ISS stage" and key.isdigit() else key
            rows.append((f"{label}: {name}", f"{value} ({100 * value / c.n:.0f}%)"))
            data.append(_char_row(key_name, key, n=value, fraction=value / c.n))
    if c.cytogenetics:
        for key, label in (
            ("standard", "standard risk"),
            ("high", "high risk"),
            ("missing", "missing"),
        ):
            value = c.cytogenetics.get(key, 0)
            if key == "missing" and value == 0:
                continue
            rows.append((f"Cytogenetics: {label}", f"{value} ({100 * value / c.n:.0f}%)"))
            data.append(_char_row("cytogenetics", key, n=value, fraction=value / c.n))
    for name, ep in c.endpoints.items():
        rows.append((f"{name.upper()}: evaluable / events", f"{ep.n} / {ep.events}"))
        rows.append(
            (f"{name.upper()}: median follow-up, months (95% CI)", _median(ep.median_followup))
        )
        m = ep.median_followup
        data.append(_char_row(f"{name}_evaluable", n=ep.n, events=ep.events))
        data.append(
            _char_row(
                f"{name}_median_followup_months", median=m.estimate, lower=m.lower, upper=m.upper
            )
        )
    return Table(
        "characteristics",
        "Table 1. Baseline characteristics and follow-up",
        ("Characteristic", "Value"),
        tuple(rows),
        ("High-risk cytogenetics: del(17p), t(4;14) and/or t(14;16). " if c.cytogenetics else "")
        + "Follow-up by reverse Kaplan-Meier"
        + (
            " (any event ends follow-up for competing-risk endpoints)."
            if results.options.competing
            else "."
        ),
        CHARACTERISTICS_DATA,
        tuple(data),
    )


def _grouping_name(a: Analysis) -> str:
    """How the primary cut is named in tables (``Q1 vs Q2-4`` for the default)."""
    if a.cut.get("kind", "quartile") == "quartile":
        return "Q1 vs Q2-4"
    return cut_name(a.cut)


def _marker_label(results: Results, a: Analysis) -> Label:
    return display_label(results, a.marker)


def landmark_table(results: Results) -> Table:
    """Survival at the landmark per group, with n, events and median survival."""
    lm = results.options.landmark
    rows = []
    data: list[tuple[Cell, ...]] = []
    cuts = []
    for a in results.analyses:
        lab = _marker_label(results, a)
        names = cut_display_labels(a.cut, lab)
        statement = f"{lab.text}: {cut_statement(a.cut, lab, short=True)}"
        if statement not in cuts:
            cuts.append(statement)
        for grouping, groups in ((_grouping_name(a), a.groups), ("quartiles", a.quartile_groups)):
            for label, g in groups.items():
                data.append(
                    (
                        a.marker,
                        a.endpoint,
                        "cut" if groups is a.groups else "quartiles",
                        str(a.cut.get("kind", "quartile")) if groups is a.groups else "quartile",
                        label,
                        g.cutoff_low,
                        g.cutoff_high,
                        g.n,
                        g.events,
                        g.landmark.time,
                        g.landmark.survival,
                        g.landmark.lower,
                        g.landmark.upper,
                        g.landmark.n_risk,
                        g.median.estimate,
                        g.median.lower,
                        g.median.upper,
                        g.landmark.note,
                    )
                )
                rows.append(
                    (
                        lab.text,
                        a.endpoint.upper(),
                        grouping,
                        names.get(label, label) if groups is a.groups else label,
                        str(g.n),
                        str(g.events),
                        fmt_landmark(g.landmark),
                        fmt_ci(g.landmark.lower, g.landmark.upper, pct=True),
                        str(g.landmark.n_risk),
                        _median(g.median),
                    )
                )
    return Table(
        "landmark_survival",
        f"Survival at {lm:g} months by marker group",
        (
            "Marker",
            "Endpoint",
            "Grouping",
            "Group",
            "n",
            "Events",
            f"S({lm:g})",
            "95% CI",
            "At risk",
            "Median (95% CI), months",
        ),
        tuple(rows),
        f"Kaplan-Meier estimates; {results.options.ci_method} Greenwood confidence intervals. "
        "Cuts: " + "; ".join(cuts) + ". Quartiles Q1-Q4 at the 25th, 50th and 75th percentiles "
        "of these data (secondary description).",
        (
            "marker",
            "endpoint",
            "grouping",
            "cut_kind",
            "group",
            "cutoff_low",
            "cutoff_high",
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
            "note",
        ),
        tuple(data),
    )


#: Columns of cox_univariate.csv and cox_multivariable.csv: one model term per row.
COX_DATA = (
    "marker",
    "endpoint",
    "model",
    "method",
    "term",
    "term_label",
    "coef",
    "se",
    "hr",
    "lower",
    "upper",
    "p",
    "sd",
    "hr_per_sd",
    "lower_per_sd",
    "upper_per_sd",
    "n",
    "events",
    "ph_p",
    "model_lr_statistic",
    "model_lr_df",
    "model_lr_p",
)


def _model_rows(
    results: Results, a: Analysis, label: str, model: CoxModel | None
) -> list[tuple[tuple[str, ...], tuple[Cell, ...]]]:
    """(formatted row, data row) per term of ``model``."""
    if model is None:
        return []
    rows: list[tuple[tuple[str, ...], tuple[Cell, ...]]] = []
    firth = " †" if model.method == "firth" else ""
    for name, t in model.terms.items():
        per_sd = t.hr_per_sd is not None
        hr = t.hr_per_sd if per_sd else t.hr
        lo = t.lower_per_sd if per_sd else t.lower
        hi = t.upper_per_sd if per_sd else t.upper
        ph = model.ph.terms[name].p if model.ph and name in model.ph.terms else None
        term = analysis_term_display(results, a, name)
        shown = (
            _marker_label(results, a).text,
            a.endpoint.upper(),
            label + firth,
            term + (" (per SD)" if per_sd else ""),
            _num(hr),
            fmt_ci(lo, hi),
            fmt_p(t.p),
            str(model.n),
            str(model.events),
            fmt_p(ph) if ph is not None else "-",
        )
        data: tuple[Cell, ...] = (
            a.marker,
            a.endpoint,
            label,
            model.method,
            name,
            term,
            t.coef,
            t.se,
            t.hr,
            t.lower,
            t.upper,
            t.p,
            t.sd,
            t.hr_per_sd,
            t.lower_per_sd,
            t.upper_per_sd,
            model.n,
            model.events,
            ph,
            model.lr_statistic,
            model.lr_df,
            model.lr_p,
        )
        rows.append((shown, data))
    return rows


def has_multivariable(results: Results) -> bool:
    """Whether any marker analysis has a multivariable model (adjusters were available)."""
    return any(
        a.cox_multivariable is not None or a.cox_group_multivariable is not None
        for a in results.analyses
    )


def cox_table(results: Results, *, kind: str) -> Table:
    """Univariate (``kind="univariate"``) or multivariable Cox models of every analysis."""
    rows: list[tuple[tuple[str, ...], tuple[Cell, ...]]] = []
    for a in results.analyses:
        group_name = group_model_name(results, a)
        if kind == "univariate":
            rows += _model_rows(results, a, "continuous", a.cox_univariate)
            rows += _model_rows(results, a, group_name, a.cox_group)
        else:
            adj = " + ".join(adjuster_names(results, a.cox_multivariable, a.marker))
            rows += _model_rows(results, a, f"continuous + {adj}", a.cox_multivariable)
            adj = " + ".join(adjuster_names(results, a.cox_group_multivariable, a.marker))
            rows += _model_rows(results, a, f"{group_name} + {adj}", a.cox_group_multivariable)
    transform = results.options.transform
    return Table(
        f"cox_{kind}",
        f"{kind.capitalize()} Cox regression",
        ("Marker", "Endpoint", "Model", "Term", "HR", "95% CI", "p", "n", "Events", "PH test p"),
        tuple(r for r, _ in rows),
        "Efron ties; Wald CIs and p-values; PH test: Schoenfeld residual score test (cox.zph, "
        f"KM time scale). Marker scale: {transform}. Group terms: each group against the lowest. "
        "† Firth penalised likelihood (profile-likelihood CI, penalised likelihood-ratio p; "
        "Breslow ties).",
        COX_DATA,
        tuple(d for _, d in rows),
    )
