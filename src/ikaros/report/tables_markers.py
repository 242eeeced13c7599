"""Report tables of the marker analyses: the one-line-per-analysis summary and the optimised
(data-derived) cutpoints, formatted for the page and with their numbers for the CSV files."""

from __future__ import annotations

from ikaros.report.naming import Label, cut_display_labels, cut_name, cut_statement
from ikaros.report.tables import (
    Cell,
    Table,
    _marker_label,
    _num,
    fmt_ci,
    fmt_landmark,
    fmt_p,
)
from ikaros.results import Results

__all__ = ["optimal_cut_table", "summary_table"]


def summary_table(results: Results) -> Table:
    """One row per marker x endpoint: n/events, landmark survival per group, log-rank, HR."""
    lm = results.options.landmark
    first = results.analyses[0] if results.analyses else None
    labels = list(first.groups) if first else ["Q1", "Q2-4"]
    same = all(list(a.groups) == labels for a in results.analyses)
    plain = cut_display_labels(first.cut, Label("", "", "")) if first else {}
    many = any(len(a.groups) > 2 for a in results.analyses)
    k_max = max((len(a.groups) for a in results.analyses), default=0)
    rows = []
    data: list[tuple[Cell, ...]] = []
    cuts: list[str] = []
    for a in results.analyses:
        c = a.cox_continuous
        cells: list[Cell] = []
        for label, g in a.groups.items():
            cells += [label, g.landmark.survival]
        cells += [None, None] * (k_max - len(a.groups))
        data.append(
            (
                a.marker,
                a.endpoint,
                str(a.cut.get("kind", "quartile")),
                a.n,
                a.events,
                lm,
                *cells,
                a.logrank.p,
                a.trend.p if a.trend else None,
                c.hr,
                c.lower,
                c.upper,
                c.hr_per_sd,
                c.lower_per_sd,
                c.upper_per_sd,
                c.p,
            )
        )
        hr = c.hr_per_sd if c.hr_per_sd is not None else c.hr
        lo = c.lower_per_sd if c.lower_per_sd is not None else c.lower
        hi = c.upper_per_sd if c.upper_per_sd is not None else c.upper
        if same:
            surv = [fmt_landmark(a.groups[lab].landmark) for lab in labels]
        else:
            surv = ["; ".join(f"{k}: {fmt_landmark(g.landmark)}" for k, g in a.groups.items())]
        lab = _marker_label(results, a)
        rows.append(
            (
                lab.text,
                a.endpoint.upper(),
                f"{a.n}/{a.events}",
                *surv,
                fmt_p(a.logrank.p),
                *([fmt_p(a.trend.p) if a.trend else "-"] if many else []),
                f"{_num(hr)} ({fmt_ci(lo, hi)})",
                fmt_p(c.p),
            )
        )
        statement = f"{lab.text} {cut_statement(a.cut, lab, short=True)}"
        if statement not in cuts:
            cuts.append(statement)
    kind = first.cut.get("kind", "quartile") if first else "quartile"
    if kind == "quartile":
        title = "Summary: lowest quartile vs the rest"
    elif kind == "thresholds" and first is not None:
        title = f"Summary: groups at the pre-specified {cut_name(first.cut)}"
    else:
        title = f"Summary: {cut_name(first.cut) if first else kind}"
    surv_head = (
        [f"S({lm:g}) {plain.get(lab, lab)}" for lab in labels] if same else [f"S({lm:g}) by group"]
    )
    return Table(
        "summary",
        title,
        (
            "Marker",
            "Endpoint",
            "n/events",
            *surv_head,
            "Log-rank p",
            *(["Trend p"] if many else []),
            "HR per SD (95% CI)",
            "p",
        ),
        tuple(rows),
        "HR from the univariate Cox model on the continuous marker, per standard deviation. "
        "Cuts: " + "; ".join(cuts) + ".",
        (
            "marker",
            "endpoint",
            "cut_kind",
            "n",
            "events",
            "landmark",
            *(f"{x}_{i}" for i in range(1, k_max + 1) for x in ("group", "survival")),
            "logrank_p",
            "trend_p",
            "hr",
            "lower",
            "upper",
            "hr_per_sd",
            "lower_per_sd",
            "upper_per_sd",
            "p",
        ),
        tuple(data),
    )


def optimal_cut_table(results: Results) -> Table:
    """Optimised (data-derived) cutpoints with corrected and uncorrected p side by side."""
    rows = []
    data: list[tuple[Cell, ...]] = []
    props = (0.1, 0.9)
    for a in results.analyses:
        c = a.optimal_cut
        if c is None:
            continue
        props = (c.minprop, c.maxprop)
        lo_g, hi_g = c.groups.get("low"), c.groups.get("high")
        data.append(
            (
                a.marker,
                a.endpoint,
                c.cutpoint,
                c.ci_lower,
                c.ci_upper,
                c.n_bootstrap,
                lo_g.n if lo_g else None,
                hi_g.n if hi_g else None,
                c.statistic,
                c.p_lau94,
                c.p_permutation,
                c.n_permutations,
                c.logrank.p,
                c.minprop,
                c.maxprop,
                c.origin,
            )
        )
        ci = "-" if c.ci_lower is None else f"{_num(c.ci_lower, 3)}-{_num(c.ci_upper, 3)}"
        low, high = c.groups.get("low"), c.groups.get("high")
        lab = _marker_label(results, a)
        rows.append(
            (
                lab.text,
                a.endpoint.upper(),
                lab.with_unit(_num(c.cutpoint, 4)),
                ci,
                f"{low.n if low else '-'} / {high.n if high else '-'}",
                fmt_p(c.p_lau94),
                "-" if c.p_permutation is None else fmt_p(c.p_permutation),
                fmt_p(c.logrank.p),
            )
        )
    return Table(
        "optimal_cutpoints",
        "Optimised cutpoints (maximally selected log-rank statistic; derived from these data)",
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
        "Lausen 2003). The pre-specified cut remains the primary analysis.",
        (
            "marker",
            "endpoint",
            "cutpoint",
            "ci_lower",
            "ci_upper",
            "n_bootstrap",
            "n_low",
            "n_high",
            "statistic",
            "p_lau94",
            "p_permutation",
            "n_permutations",
            "p_uncorrected",
            "minprop",
            "maxprop",
            "origin",
        ),
        tuple(data),
    )
