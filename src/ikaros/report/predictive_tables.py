"""Tables of the "Predictive or prognostic?" section (``--treatment``; exploratory): the
interaction models, the subgroup effects with patients and events per level, and the STEPP
subpopulations, each labelled exploratory.

Numbers are read from ``Analysis.treatment`` (the JSON form of
:class:`ikaros.validation.predictive.TreatmentByMarker`); cuts and marker ranges are shown on the
marker's own scale (the analysis scale, log2 with ``--transform log2``, is in the CSV files). The
section, its figures and its text are in :mod:`ikaros.report.predictive`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ikaros.report.naming import Label, display_label, fmt_value, table_name
from ikaros.report.tables import Cell, Table, _num, fmt_ci, fmt_p, p_is
from ikaros.results import Analysis, Results

__all__ = [
    "EFFECTS_DATA",
    "INTERACTION_DATA",
    "STEPP_DATA",
    "effects_table",
    "interaction_table",
    "predictive_tables",
    "stepp_table",
    "treatment_analyses",
]

INTERACTION_DATA: tuple[str, ...] = (
    "marker",
    "endpoint",
    "coding",
    "scale",
    "term",
    "role",
    "coef",
    "se",
    "hr",
    "lower",
    "upper",
    "p",
    "lr_statistic",
    "lr_df",
    "lr_p",
    "n",
    "events",
    "method",
    "firth_reason",
)

EFFECTS_DATA: tuple[str, ...] = (
    "marker",
    "endpoint",
    "effect",
    "within",
    "contrast",
    "n",
    "events",
    "level_1",
    "n_1",
    "events_1",
    "level_2",
    "n_2",
    "events_2",
    "coef",
    "se",
    "hr",
    "lower",
    "upper",
    "p",
    "method",
    "note",
)

STEPP_DATA: tuple[str, ...] = (
    "marker",
    "endpoint",
    "subpopulation",
    "scale",
    "marker_min",
    "marker_max",
    "marker_median",
    "n",
    "events",
    "n_reference",
    "n_active",
    "landmark",
    "surv_reference",
    "se_reference",
    "surv_active",
    "se_active",
    "diff",
    "diff_se",
    "diff_lower",
    "diff_upper",
    "diff_lower_simultaneous",
    "diff_upper_simultaneous",
    "hr",
    "log_hr_se",
    "hr_lower",
    "hr_upper",
    "hr_lower_simultaneous",
    "hr_upper_simultaneous",
)


def treatment_analyses(results: Results) -> list[Analysis]:
    """The marker analyses with a treatment-by-marker result (computed or with its reason)."""
    return [a for a in results.analyses if a.treatment]


def _computed(a: Analysis) -> dict[str, Any] | None:
    t = a.treatment
    return t if t and "marker" in t else None


def _original(x: float | None, scale: str) -> float | None:
    if x is None or x != x:
        return None
    return float(2.0**x) if scale == "log2" else float(x)


def _labels(results: Results, a: Analysis, t: Mapping[str, Any]) -> tuple[Label, Label]:
    return display_label(results, a.marker), display_label(results, str(t["treatment"]))


def _unit(t: Mapping[str, Any]) -> str:
    return "per doubling" if t["scale"] == "log2" else "per unit"


def _cut_text(lab: Label, t: Mapping[str, Any]) -> str:
    low = t["group_labels"][0]
    cut = lab.with_unit(fmt_value(_original(t["cut"], t["scale"])))
    return f"{low}: ≤ {cut}"


def _hr_ci(d: Mapping[str, Any]) -> str:
    if d.get("hr") is None:
        return d.get("note") or "not estimable"
    lo, hi = d.get("lower"), d.get("upper")
    ci = fmt_ci(lo, hi)
    if "e" in ci:  # scientific notation: "1.15e-04 to 4.05", not "1.15e-04-4.05"
        ci = f"{_num(lo)} to {_num(hi)}"
    return f"{_num(d['hr'])} ({ci})"


# --------------------------------------------------------------------------- tables


def _term_names(lab: Label, tl: Label, t: Mapping[str, Any], coding: str) -> tuple[str, str, str]:
    hi, lo = t["group_labels"][1], t["group_labels"][0]
    marker = f"{lab.name} ({_unit(t)})" if coding == "continuous" else f"{lab.name} {hi} vs {lo}"
    return marker, f"{tl.name} {t['active']} vs {t['reference']}", f"{lab.name} × {tl.name}"


def interaction_table(results: Results, a: Analysis) -> Table:
    """``marker + treatment + marker x treatment``: continuous and at the cut, with LR tests."""
    t = _computed(a)
    assert t is not None
    lab, tl = _labels(results, a, t)
    rows: list[tuple[str, ...]] = []
    data: list[tuple[Cell, ...]] = []
    for key in ("continuous", "cut_model"):
        m = t.get(key)
        if not m:
            continue
        coding = m["marker_coding"]
        names = _term_names(lab, tl, t, coding)
        model = (
            f"continuous ({_unit(t)})"
            if coding == "continuous"
            else f"at the cut ({_cut_text(lab, t)})"
        )
        firth = " †" if m["method"] == "firth" else ""
        for i, term in enumerate(m["terms"]):
            role = ("marker", "treatment", "interaction")[min(i, 2)]
            lr = (
                f"χ² {m['lr_statistic']:.2f} ({m['lr_df']} df), {p_is(m['lr_p'])}"
                if role == "interaction" and m.get("lr_p") is not None
                else ("not computed (Firth)" if role == "interaction" else "")
            )
            rows.append(
                (
                    model + firth,
                    names[min(i, 2)],
                    _hr_ci(term),
                    fmt_p(term["p"]),
                    lr,
                    f"{m['n']} / {m['events']}",
                )
            )
            inter = role == "interaction"
            data.append(
                (
                    a.marker,
                    a.endpoint,
                    coding,
                    m["scale"],
                    term["term"],
                    role,
                    term["coef"],
                    term["se"],
                    term["hr"],
                    term["lower"],
                    term["upper"],
                    term["p"],
                    m.get("lr_statistic") if inter else None,
                    m.get("lr_df") if inter else None,
                    m.get("lr_p") if inter else None,
                    m["n"],
                    m["events"],
                    m["method"],
                    m.get("firth_reason"),
                )
            )
    pct = f"{100 * t['conf_level']:g}%"
    return Table(
        table_name("interaction", a.marker, a.endpoint),
        f"Treatment-by-marker interaction, {lab.text}, {a.endpoint.upper()} (exploratory)",
        ("Model", "Term", f"HR ({pct} CI)", "Wald p", "LR test of the interaction", "n / events"),
        tuple(rows),
        f"Cox models with the marker, {tl.name} ({t['active']} vs {t['reference']}) and their "
        "product (Efron ties). The treatment term is the treatment effect where the marker is 0 "
        f"on the {t['scale'] if t['scale'] != 'none' else 'original'} scale (continuous model) "
        "or in the low group (model at the cut); the product term multiplies it per unit of "
        "the marker or in the high group. LR: likelihood-ratio test against the model without "
        "the product term (1 df). † Firth penalised likelihood.",
        INTERACTION_DATA,
        tuple(data),
    )


def _levels(e: Mapping[str, Any]) -> str:
    n_by, ev_by = e.get("n_by_level") or {}, e.get("events_by_level") or {}
    if not n_by:
        return f"{e['n']} ({e['events']})"
    return " · ".join(f"{k}: {n_by[k]} ({ev_by.get(k, 0)})" for k in n_by)


def _effect_name(lab: Label, tl: Label, t: Mapping[str, Any], e: Mapping[str, Any]) -> str:
    if e["effect"] == "treatment":
        return f"{tl.name} {e['contrast']}"
    if e["effect"] == "marker (continuous)":
        return f"{lab.name} {_unit(t)}"
    return f"{lab.name} {e['contrast']}"


def _within_name(lab: Label, tl: Label, e: Mapping[str, Any]) -> str:
    who = lab.name if e["effect"] == "treatment" else tl.name
    return f"{who} {e['within']}"


def effects_table(results: Results, a: Analysis) -> Table:
    """Treatment HR within each marker group and marker HR within each arm, with the counts."""
    t = _computed(a)
    assert t is not None
    lab, tl = _labels(results, a, t)
    rows: list[tuple[str, ...]] = []
    data: list[tuple[Cell, ...]] = []
    for e in [*t["treatment_within_marker"], *t["marker_within_treatment"]]:
        rows.append(
            (
                _effect_name(lab, tl, t, e),
                _within_name(lab, tl, e),
                _levels(e),
                _hr_ci(e),
                fmt_p(e.get("p")),
            )
        )
        levels = list((e.get("n_by_level") or {}).items())[:2]
        cells: list[Cell] = []
        for k in range(2):
            if k < len(levels):
                name, n = levels[k]
                cells += [name, n, (e.get("events_by_level") or {}).get(name)]
            else:
                cells += [None, None, None]
        data.append(
            (
                a.marker,
                a.endpoint,
                e["effect"],
                e["within"],
                e["contrast"],
                e["n"],
                e["events"],
                *cells,
                e.get("coef"),
                e.get("se"),
                e.get("hr"),
                e.get("lower"),
                e.get("upper"),
                e.get("p"),
                e.get("method"),
                e.get("note"),
            )
        )
    pct = f"{100 * t['conf_level']:g}%"
    return Table(
        table_name("treatment_effects", a.marker, a.endpoint),
        f"Treatment effect by marker group and marker effect by arm, {lab.text}, "
        f"{a.endpoint.upper()} (exploratory)",
        ("Effect", "Within", "n (events) per level", f"HR ({pct} CI)", "p"),
        tuple(rows),
        f"Cox models within each subgroup (Efron ties; Firth's likelihood where monotone). Cut: "
        f"{_cut_text(lab, t)}. Subgroup estimates are exploratory: that an effect is "
        "significant in one subgroup and not in another does not show an interaction; the "
        "interaction test does.",
        EFFECTS_DATA,
        tuple(data),
    )


def _stepp_tests(s: Mapping[str, Any]) -> str:
    parts = []
    for key, what in (("test_diff", "survival difference"), ("test_hr", "hazard ratio")):
        test = s.get(key)
        parts.append(
            f"{what} {p_is(test['p'])} ({test['n_permutations']} permutations)"
            if test
            else f"{what}: not available"
        )
    return "; ".join(parts)


def stepp_table(results: Results, a: Analysis) -> Table | None:
    """The STEPP subpopulations with the treatment effect in each."""
    t = _computed(a)
    s = t.get("stepp") if t else None
    if not t or not s:
        return None
    lab = display_label(results, a.marker)
    scale = str(t["scale"])
    lm = float(s["landmark"])
    rows: list[tuple[str, ...]] = []
    data: list[tuple[Cell, ...]] = []
    for w in [*s["windows"], s["overall"]]:
        overall = w is s["overall"]
        lo, hi = _original(w["marker_min"], scale), _original(w["marker_max"], scale)
        rows.append(
            (
                "all patients" if overall else str(w["index"]),
                lab.with_unit(f"{fmt_value(lo)}–{fmt_value(hi)}"),
                f"{w['n']} ({w['events']})",
                f"{w['n_reference']} / {w['n_active']}",
                _pct1(w["surv_reference"]),
                _pct1(w["surv_active"]),
                _diff(w),
                f"{_num2(w['hr'])} ({fmt_ci(w['hr_lower'], w['hr_upper'])})",
            )
        )
        data.append(
            (
                a.marker,
                a.endpoint,
                0 if overall else w["index"],
                scale,
                w["marker_min"],
                w["marker_max"],
                w["marker_median"],
                w["n"],
                w["events"],
                w["n_reference"],
                w["n_active"],
                lm,
                *(w[k] for k in STEPP_DATA[12:]),
            )
        )
    pct = f"{100 * s['conf_level']:g}%"
    ref, act = s["reference"], s["active"]
    return Table(
        table_name("stepp", a.marker, a.endpoint),
        f"STEPP subpopulations along {lab.text}, {a.endpoint.upper()} (exploratory)",
        (
            "Subpopulation",
            f"{lab.name} range",
            "n (events)",
            f"n {ref} / {act}",
            f"S({lm:g}) {ref}",
            f"S({lm:g}) {act}",
            f"Difference ({pct} CI)",
            f"HR {act} vs {ref} ({pct} CI)",
        ),
        tuple(rows),
        f"Overlapping subpopulations of at least {s['r2']} patients (the last may be smaller) "
        f"sliding along the marker, consecutive ones sharing at most {s['r1']} (as R "
        f"stepp.win); Kaplan-Meier survival at {lm:g} months and "
        "the log-rank (O − E)/V hazard ratio in each. Supremum permutation test of "
        f"heterogeneity across subpopulations: {_stepp_tests(s)}; seed {s['seed']}. The CSV "
        "gives the Bonferroni simultaneous bands and the marker on the analysis scale.",
        STEPP_DATA,
        tuple(data),
    )


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _pct1(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _num2(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _diff(w: Mapping[str, Any]) -> str:
    if w.get("diff") is None:
        return "n/a"
    lo, hi = w.get("diff_lower"), w.get("diff_upper")
    ci = "n/a" if lo is None or hi is None else f"{100 * lo:+.1f} to {100 * hi:+.1f}"
    return f"{100 * w['diff']:+.1f} ({ci}) points"


def predictive_tables(results: Results) -> list[Table]:
    """The tables of the section (empty without ``--treatment``)."""
    out: list[Table] = []
    for a in treatment_analyses(results):
        if _computed(a) is None:
            continue
        out += [interaction_table(results, a), effects_table(results, a)]
        st = stepp_table(results, a)
        if st is not None:
            out.append(st)
    return out
