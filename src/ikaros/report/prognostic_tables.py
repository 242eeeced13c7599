"""Tables of the "Prognostic performance" section (``--performance``): per marker x endpoint the
measures of every Cox model (models as columns on the page, one row per model in the CSV), and
the marker's added value over the base model.

Every number is read from ``Analysis.performance`` in the results file (the JSON form of
:class:`ikaros.performance.ModelPerformance` and :class:`ikaros.performance.AddedValue`) and
formatted; the CSV files (``data_rows``) hold the numbers themselves. The section, its figures
and its text are in :mod:`ikaros.report.prognostic`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ikaros.report.naming import display_label, table_name
from ikaros.report.tables import Cell, Table, fmt_p
from ikaros.results import Analysis, Results

__all__ = [
    "ADDED_VALUE_DATA",
    "PERFORMANCE_DATA",
    "added_value_table",
    "model_label",
    "performance_analyses",
    "performance_table",
    "performance_tables",
]

#: Columns of performance_<marker>_<endpoint>.csv: one model per row.
PERFORMANCE_DATA: tuple[str, ...] = (
    "marker",
    "endpoint",
    "model",
    "model_label",
    "terms",
    "evaluation",
    "n",
    "events",
    "landmark",
    "harrell_c",
    "harrell_c_se",
    "harrell_c_lower",
    "harrell_c_upper",
    "uno_c",
    "uno_c_se",
    "uno_c_lower",
    "uno_c_upper",
    "uno_tau",
    "auc",
    "auc_se",
    "auc_lower",
    "auc_upper",
    "auc_cases",
    "auc_controls",
    "brier",
    "brier_se",
    "brier_lower",
    "brier_upper",
    "ibs",
    "ici",
    "calibration_slope",
    "calibration_slope_lower",
    "calibration_slope_upper",
    "c_apparent",
    "c_optimism",
    "c_corrected",
    "c_corrected_mc_se",
    "slope_optimism",
    "slope_corrected",
    "slope_corrected_mc_se",
    "bootstrap_b",
    "bootstrap_b_used",
    "bootstrap_seed",
    "conf_level",
    "note",
)

#: Columns of added_value.csv: one marker x endpoint per row.
ADDED_VALUE_DATA: tuple[str, ...] = (
    "marker",
    "endpoint",
    "base_terms",
    "full_terms",
    "n",
    "events",
    "loglik_base",
    "loglik_full",
    "lr_statistic",
    "lr_df",
    "lr_p",
    "c_base",
    "c_full",
    "delta_c",
    "delta_c_se",
    "delta_c_lower",
    "delta_c_upper",
    "delta_c_boot_lower",
    "delta_c_boot_upper",
    "bootstrap_b",
    "bootstrap_b_used",
    "bootstrap_seed",
    "conf_level",
)


# --------------------------------------------------------------------------- helpers


def performance_analyses(results: Results) -> list[Analysis]:
    """The marker analyses with a performance result."""
    return [a for a in results.analyses if a.performance]


def _f(x: Any, digits: int = 3) -> str:
    if x is None or x != x:
        return "n/a"
    return f"{x:.{digits}f}"


def _ci(lo: Any, hi: Any, digits: int = 3) -> str:
    if lo is None or hi is None or lo != lo or hi != hi:
        return "n/a"
    if lo < 0 or hi < 0:
        return f"{lo:.{digits}f} to {hi:.{digits}f}"
    return f"{lo:.{digits}f}–{hi:.{digits}f}"


def _est_ci(d: Mapping[str, Any] | None, key: str, digits: int = 3) -> str:
    if not d or d.get(key) is None:
        return (d or {}).get("reason") or "n/a"
    return f"{_f(d[key], digits)} ({_ci(d.get('lower'), d.get('upper'), digits)})"


def _pct(conf_level: float) -> str:
    return f"{100 * conf_level:g}%"


def _terms_label(results: Results, terms: list[str] | tuple[str, ...]) -> str:
    return " + ".join(display_label(results, t).name for t in terms)


def model_label(results: Results, model: Mapping[str, Any]) -> str:
    """A model named by its terms' labels (``ISS stage + beta-2 microglobulin``)."""
    return _terms_label(results, list(model.get("terms", ())) or [str(model.get("name"))])


def _at(points: list[dict[str, Any]], time: float) -> dict[str, Any] | None:
    return next((p for p in points if abs(float(p["time"]) - time) < 1e-9), None)


def _landmark(perf: Mapping[str, Any]) -> float:
    return float(perf["landmark"])


def _ibs(model: Mapping[str, Any], time: float) -> float | None:
    point = _at(list(model["brier"].get("ibs", [])), time)
    return None if point is None else point.get("ibs")


def _calibration(model: Mapping[str, Any], time: float) -> dict[str, Any] | None:
    return _at(list(model.get("calibration", [])), time)


def _optimism(model: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    opt = model.get("optimism")
    if not opt:
        return None
    return next((i for i in opt["indices"] if i["name"] == name), None)


# --------------------------------------------------------------------------- tables


def _model_data(
    a: Analysis, key: str, label: str, m: Mapping[str, Any], landmark: float
) -> tuple[Cell, ...]:
    h, u = m["harrell_c"], m.get("uno_c") or {}
    auc = _at(m["auc"]["points"], landmark) or {}
    brier = _at(m["brier"]["points"], landmark) or {}
    cal = _calibration(m, landmark) or {}
    smooth = cal.get("smooth") or {}
    slope = m.get("calibration_slope") or {}
    oc, os_ = _optimism(m, "C") or {}, _optimism(m, "slope") or {}
    opt = m.get("optimism") or {}
    return (
        a.marker,
        a.endpoint,
        key,
        label,
        "; ".join(m["terms"]),
        m["evaluation"],
        m["n"],
        m["events"],
        landmark,
        h["c"],
        h["se"],
        h["lower"],
        h["upper"],
        u.get("c"),
        u.get("se"),
        u.get("lower"),
        u.get("upper"),
        u.get("tau"),
        auc.get("auc"),
        auc.get("se"),
        auc.get("lower"),
        auc.get("upper"),
        auc.get("cases"),
        auc.get("controls"),
        brier.get("brier"),
        brier.get("se"),
        brier.get("lower"),
        brier.get("upper"),
        _ibs(m, landmark),
        smooth.get("ici"),
        slope.get("slope"),
        slope.get("lower"),
        slope.get("upper"),
        oc.get("apparent"),
        oc.get("optimism"),
        oc.get("corrected"),
        oc.get("mc_se"),
        os_.get("optimism"),
        os_.get("corrected"),
        os_.get("mc_se"),
        opt.get("B"),
        opt.get("B_used"),
        opt.get("seed"),
        h["conf_level"],
        "; ".join(x for x in (m.get("optimism_reason"), cal.get("smooth_reason")) if x) or None,
    )


def _slope_cell(m: Mapping[str, Any]) -> str:
    slope = m.get("calibration_slope")
    if slope:
        return f"{_f(slope['slope'], 2)} ({_ci(slope['lower'], slope['upper'], 2)})"
    if m["evaluation"] == "apparent":
        return "1 by construction (apparent)"
    return "n/a"


def _optimism_cells(m: Mapping[str, Any]) -> list[str]:
    oc, os_ = _optimism(m, "C"), _optimism(m, "slope")
    if oc is None or os_ is None:
        why = m.get("optimism_reason") or "not computed"
        return [_f(m["harrell_c"]["c"]), why, why, why]
    return [
        _f(oc["apparent"]),
        f"{oc['optimism']:+.3f}",
        f"{_f(oc['corrected'])} (MC SE {_f(oc['mc_se'])})",
        f"{_f(os_['corrected'], 2)} (MC SE {_f(os_['mc_se'], 2)})",
    ]


def performance_table(results: Results, a: Analysis) -> Table:
    """Every measure of every model of one marker x endpoint (models as columns)."""
    perf = a.performance or {}
    lm = _landmark(perf)
    models: dict[str, dict[str, Any]] = perf.get("models", {})
    labels = {k: model_label(results, m) for k, m in models.items()}
    conf = next((m["harrell_c"]["conf_level"] for m in models.values()), 0.95)
    pct = _pct(conf)
    tau = next(((m.get("uno_c") or {}).get("tau") for m in models.values()), None) or lm
    measures: list[tuple[str, list[str]]] = [
        ("Patients / events", [f"{m['n']} / {m['events']}" for m in models.values()]),
        (f"Harrell's C ({pct} CI)", [_est_ci(m["harrell_c"], "c") for m in models.values()]),
        (
            f"Uno's C, τ = {tau:g} months ({pct} CI)",
            [_est_ci(m.get("uno_c"), "c") for m in models.values()],
        ),
        (
            f"AUC at {lm:g} months ({pct} CI)",
            [_est_ci(_at(m["auc"]["points"], lm), "auc") for m in models.values()],
        ),
        (
            f"Brier score at {lm:g} months ({pct} CI)",
            [_est_ci(_at(m["brier"]["points"], lm), "brier") for m in models.values()],
        ),
        (f"Integrated Brier score, 0–{lm:g} months", [_f(_ibs(m, lm)) for m in models.values()]),
        (
            f"Calibration at {lm:g} months: ICI",
            [
                _f(((_calibration(m, lm) or {}).get("smooth") or {}).get("ici"))
                for m in models.values()
            ],
        ),
        ("Calibration slope", [_slope_cell(m) for m in models.values()]),
    ]
    opt = [_optimism_cells(m) for m in models.values()]
    for i, name in enumerate(
        (
            "Harrell's C, apparent",
            "Optimism of C (bootstrap)",
            "Harrell's C, optimism-corrected",
            "Calibration slope, optimism-corrected",
        )
    ):
        measures.append((name, [cells[i] for cells in opt]))
    b = next((m.get("optimism") for m in models.values() if m.get("optimism")), None)
    boot = (
        f"Internal validation: Harrell's bootstrap with B = {b['B']} resamples ({b['B_used']} "
        f"used; seed {b['seed']}); MC SE: Monte Carlo standard error of the corrected value."
        if b
        else "No bootstrap internal validation."
    )
    lab = display_label(results, a.marker)
    rows = tuple((name, *cells) for name, cells in measures)
    excluded = perf.get("excluded_missing_terms", 0)
    return Table(
        table_name("performance", a.marker, a.endpoint),
        f"Prognostic performance of the Cox models, {lab.text}, {a.endpoint.upper()}",
        ("Measure", *labels.values()),
        rows,
        f"All models on the same {perf.get('n')} patients ({perf.get('events')} events) with "
        f"every variable of every model ({excluded} excluded for a missing variable). Apparent "
        "performance: each model fitted and evaluated on these patients. C, AUC: "
        "discrimination (0.5 chance, 1 perfect); Brier score and IBS: error of the predicted "
        "risk (lower is better); ICI: mean absolute difference between predicted and observed "
        "(smoothed) risk. " + boot,
        PERFORMANCE_DATA,
        tuple(_model_data(a, k, labels[k], m, lm) for k, m in models.items()),
    )


def added_value_table(results: Results) -> Table | None:
    """The marker's added value over the base model, one row per marker x endpoint."""
    rows: list[tuple[str, ...]] = []
    data: list[tuple[Cell, ...]] = []
    conf = 0.95
    for a in performance_analyses(results):
        av = (a.performance or {}).get("added_value")
        if not av:
            continue
        d = av["delta_c"]
        conf = av["conf_level"]
        rows.append(
            (
                display_label(results, a.marker).text,
                a.endpoint.upper(),
                _terms_label(results, av["base_terms"]),
                f"{av['n']} / {av['events']}",
                f"{av['lr_statistic']:.2f} ({av['lr_df']})",
                fmt_p(av["lr_p"]),
                _f(d["c_reference"]),
                _f(d["c_new"]),
                f"{d['delta']:+.3f} ({_ci(d['lower'], d['upper'])})",
                f"{_ci(av.get('boot_lower'), av.get('boot_upper'))} (B = {av['B_used']}/{av['B']})",
            )
        )
        data.append(
            (
                a.marker,
                a.endpoint,
                "; ".join(av["base_terms"]),
                "; ".join(av["full_terms"]),
                av["n"],
                av["events"],
                av["loglik_base"],
                av["loglik_full"],
                av["lr_statistic"],
                av["lr_df"],
                av["lr_p"],
                d["c_reference"],
                d["c_new"],
                d["delta"],
                d["se"],
                d["lower"],
                d["upper"],
                av.get("boot_lower"),
                av.get("boot_upper"),
                av["B"],
                av["B_used"],
                av["seed"],
                av["conf_level"],
            )
        )
    if not rows:
        return None
    pct = _pct(conf)
    return Table(
        "added_value",
        "Added value of the marker over the base model",
        (
            "Marker",
            "Endpoint",
            "Base model",
            "n / events",
            "LR χ² (df)",
            "LR p",
            "C, base",
            "C, base + marker",
            f"Change in C ({pct} CI)",
            f"Change in C, bootstrap {pct} CI",
        ),
        tuple(rows),
        "Likelihood-ratio test of the base model against the base model plus the marker (nested "
        "Cox models on the same patients). Change in Harrell's C with the infinitesimal-jackknife "
        "interval (as R concordance(base, full)) and a percentile bootstrap interval in which "
        "both models are refitted in every resample (B: resamples used / drawn).",
        ADDED_VALUE_DATA,
        tuple(data),
    )


def performance_tables(results: Results) -> list[Table]:
    """The tables of the section (empty without ``--performance``)."""
    out = [
        performance_table(results, a)
        for a in performance_analyses(results)
        if (a.performance or {}).get("models")
    ]
    av = added_value_table(results)
    return out + ([av] if av is not None else [])
