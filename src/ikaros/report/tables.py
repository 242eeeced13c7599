"""Report tables built from a results file: cohort characteristics, Cox models, landmark survival.

Each function returns a :class:`Table` (title, header, rows of strings, footnote) used alike by
the HTML page, the PDF and the CSV exports, so the three never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ikaros.results import Analysis, CoxModel, Results

__all__ = [
    "Table",
    "characteristics_table",
    "cox_table",
    "fmt_ci",
    "fmt_p",
    "fmt_pct",
    "landmark_table",
    "summary_table",
]


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    footnote: str = ""

    def to_csv(self) -> str:
        """CSV text; cells starting with = + - @ tab or CR are defused against formula injection."""

        def cell(text: str) -> str:
            if text[:1] in ("=", "+", "@", "\t", "\r") or (
                text[:1] == "-" and not _is_number(text)
            ):
                text = "'" + text
            if any(c in text for c in ',"\n'):
                text = '"' + text.replace('"', '""') + '"'
            return text

        lines = [",".join(cell(h) for h in self.header)]
        lines += [",".join(cell(c) for c in row) for row in self.rows]
        return "\n".join(lines) + "\n"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def fmt_p(p: float | None) -> str:
    """P-value as printed in the report (3 significant digits; < 0.001 below)."""
    if p is None or p != p:
        return "n/a"
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def fmt_pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


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


def characteristics_table(results: Results) -> Table:
    """Cohort characteristics: n, age, sex, ISS, cytogenetics, response, events, follow-up."""
    c = results.cohort
    rows: list[tuple[str, str]] = [("Patients", str(c.n))]
    if c.age:
        rows.append(
            (
                "Age, median (range), years",
                f"{_num(c.age.get('median'), 0)} ({_num(c.age.get('min'), 0)}-"
                f"{_num(c.age.get('max'), 0)})",
            )
        )
    for label, counts in (("Sex", c.sex), ("ISS stage", c.iss), ("Best response", c.best_response)):
        for key, value in counts.items():
            if key == "missing" and value == 0:
                continue
            name = f"ISS {'I' * int(key)}" if label == "ISS stage" and key.isdigit() else key
            rows.append((f"{label}: {name}", f"{value} ({100 * value / c.n:.0f}%)"))
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
    for name, ep in c.endpoints.items():
        rows.append((f"{name.upper()}: evaluable / events", f"{ep.n} / {ep.events}"))
        rows.append(
            (f"{name.upper()}: median follow-up, months (95% CI)", _median(ep.median_followup))
        )
    return Table(
        "characteristics",
        "Table 1. Baseline characteristics and follow-up",
        ("Characteristic", "Value"),
        tuple(rows),
        "High-risk cytogenetics: del(17p), t(4;14) and/or t(14;16). Follow-up by reverse "
        "Kaplan-Meier.",
    )


def landmark_table(results: Results) -> Table:
    """Survival at the landmark per group, with n, events and median survival."""
    lm = results.options.landmark
    rows = []
    for a in results.analyses:
        for grouping, groups in (("Q1 vs Q2-4", a.groups), ("quartiles", a.quartile_groups)):
            for label, g in groups.items():
                rows.append(
                    (
                        a.marker,
                        a.endpoint.upper(),
                        grouping,
                        label,
                        str(g.n),
                        str(g.events),
                        fmt_pct(g.landmark.survival),
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
        "Q1 = marker <= 25th percentile.",
    )


def _model_rows(a: Analysis, label: str, model: CoxModel | None) -> list[tuple[str, ...]]:
    if model is None:
        return []
    rows: list[tuple[str, ...]] = []
    firth = " †" if model.method == "firth" else ""
    for name, t in model.terms.items():
        per_sd = t.hr_per_sd is not None
        hr = t.hr_per_sd if per_sd else t.hr
        lo = t.lower_per_sd if per_sd else t.lower
        hi = t.upper_per_sd if per_sd else t.upper
        ph = model.ph.terms[name].p if model.ph and name in model.ph.terms else None
        rows.append(
            (
                a.marker,
                a.endpoint.upper(),
                label + firth,
                name + (" (per SD)" if per_sd else ""),
                _num(hr),
                fmt_ci(lo, hi),
                fmt_p(t.p),
                str(model.n),
                str(model.events),
                fmt_p(ph) if ph is not None else "-",
            )
        )
    return rows


def cox_table(results: Results, *, kind: str) -> Table:
    """Univariate (``kind="univariate"``) or multivariable Cox models of every analysis."""
    rows: list[tuple[str, ...]] = []
    for a in results.analyses:
        if kind == "univariate":
            rows += _model_rows(a, "continuous", a.cox_univariate)
            rows += _model_rows(a, "Q2-4 vs Q1", a.cox_group)
        else:
            rows += _model_rows(a, "continuous + adjusters", a.cox_multivariable)
            rows += _model_rows(a, "Q2-4 vs Q1 + adjusters", a.cox_group_multivariable)
    transform = results.options.transform
    return Table(
        f"cox_{kind}",
        f"{kind.capitalize()} Cox regression",
        ("Marker", "Endpoint", "Model", "Term", "HR", "95% CI", "p", "n", "Events", "PH test p"),
        tuple(rows),
        "Efron ties; Wald CIs and p-values; PH test: Schoenfeld residual score test (cox.zph, "
        f"KM time scale). Marker scale: {transform}. † Firth penalised likelihood "
        "(profile-likelihood CI, penalised likelihood-ratio p; Breslow ties).",
    )


def summary_table(results: Results) -> Table:
    lm = results.options.landmark
    rows = []
    for a in results.analyses:
        c = a.cox_continuous
        hr = c.hr_per_sd if c.hr_per_sd is not None else c.hr
        lo = c.lower_per_sd if c.lower_per_sd is not None else c.lower
        hi = c.upper_per_sd if c.upper_per_sd is not None else c.upper
        rows.append(
            (
                a.marker,
                a.endpoint.upper(),
                f"{a.n}/{a.events}",
                fmt_pct(a.groups["Q1"].landmark.survival),
                fmt_pct(a.groups["Q2-4"].landmark.survival),
                fmt_p(a.logrank.p),
                f"{_num(hr)} ({fmt_ci(lo, hi)})",
                fmt_p(c.p),
            )
        )
    return Table(
        "summary",
        "Summary: lowest quartile vs the rest",
        (
            "Marker",
            "Endpoint",
            "n/events",
            f"S({lm:g}) Q1",
            f"S({lm:g}) Q2-4",
            "Log-rank p",
            "HR per SD (95% CI)",
            "p",
        ),
        tuple(rows),
        "HR from the univariate Cox model on the continuous marker, per standard deviation.",
    )


def optimal_cut_table(results: Results) -> Table:
    """Optimised (data-derived) cutpoints with corrected and uncorrected p side by side."""
    rows = []
    props = (0.1, 0.9)
    for a in results.analyses:
        c = a.optimal_cut
        if c is None:
            continue
        props = (c.minprop, c.maxprop)
        ci = "-" if c.ci_lower is None else f"{_num(c.ci_lower, 3)}-{_num(c.ci_upper, 3)}"
        low, high = c.groups.get("low"), c.groups.get("high")
        rows.append(
            (
                a.marker,
                a.endpoint.upper(),
                _num(c.cutpoint, 4),
                ci,
                f"{low.n if low else '-'} / {high.n if high else '-'}",
                fmt_p(c.p_lau94),
                "-" if c.p_permutation is None else fmt_p(c.p_permutation),
                fmt_p(c.logrank.p),
            )
        )
    return Table(
        "optimal_cutpoints",
        "Optimised cutpoints (maximally selected log-rank statistic)",
        (
            "Marker",
            "Endpoint",
            "Cutpoint",
            "Bootstrap 95% CI",
            "n low / high",
            "p corrected (Lau94)",
            "p corrected (permutation)",
            "p of this cut, NOT corrected",
        ),
        tuple(rows),
        "Cut chosen on these data (origin: optimised) among cuts between the "
        f"{100 * props[0]:.0f}th and {100 * props[1]:.0f}th percentiles; "
        "only the corrected p-values are valid tests (Lausen & Schumacher 1992; Hothorn & "
        "Lausen 2003). The pre-specified quartile analysis remains the primary one.",
    )


def all_tables(results: Results) -> Sequence[Table]:
    tables = [
        summary_table(results),
        characteristics_table(results),
        landmark_table(results),
        cox_table(results, kind="univariate"),
        cox_table(results, kind="multivariable"),
    ]
    if any(a.optimal_cut is not None for a in results.analyses):
        tables.append(optimal_cut_table(results))
    return tuple(tables)
