"""Explorer: Kaplan-Meier curves, log-rank p and hazard ratios of any grouping, computed by the
study's own analyses.

A marker is grouped by a pre-specified rule (lower quartile vs the rest -- the default, as in
Kronke et al. 2017 --, median, tertiles, quartiles, upper quartile, fixed thresholds) or at a cut
the user moves; a clinical variable (ISS, protocol, any categorical column) by its levels. The
numbers are those of ``ikaros analyze``: a marker grouping is one
:class:`ikaros.study.marker.MarkerAnalysis` (``--cut``), a variable one
:func:`ikaros.study.grouping.run_grouping` (``--group``); the hazard ratios are their Cox models
on the groups (each group against the first, Efron ties, Firth's penalised likelihood when a
group has no events).

When the user moves the cut, the log-rank p at the new cut is no longer valid: the cut was chosen
by looking. The explorer then also reports the search-corrected p, the Lau94 approximation of
P(max |S| >= |S(cut)|) over every candidate cut (the maximally selected log-rank statistic of
:mod:`ikaros.cutpoints`), and labels the cut "optimised".

References
----------
Lausen B, Schumacher M. Maximally selected rank statistics. Biometrics 1992;48:73-85.
Altman DG, Lausen B, Sauerbrei W, Schumacher M. Dangers of using "optimal" cutpoints in the
evaluation of prognostic factors. J Natl Cancer Inst 1994;86:829-835.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ikaros.cohort import Cohort
from ikaros.cutpoints import p_lausen94, standardized_statistics
from ikaros.errors import AnalysisError, InputError
from ikaros.groups import quartiles
from ikaros.results import CoxModel, GroupSummary, TestResult

__all__ = ["SPLITS", "Exploration", "explore"]

#: rules that group a marker (``q1``: lowest quartile vs the rest, the pre-specified default)
SPLITS = ("q1", "median", "tertile", "quartiles", "upper-quartile", "thresholds")
_RULE = {"q1": "quartile", "median": "median", "tertile": "tertile"}
_RULE["upper-quartile"] = "upper-quartile"
_SPLIT_NAMES = {
    "q1": "lower quartile (Q1 vs Q2-4)",
    "median": "median",
    "tertile": "tertiles",
    "quartiles": "quartiles",
    "upper-quartile": "upper quartile (Q4 vs Q1-3)",
    "thresholds": "thresholds",
}


@dataclass(frozen=True)
class Exploration:
    """The JSON answer and the groups (display label -> summary) for the figure export."""

    view: dict[str, Any]
    groups: dict[str, GroupSummary]


def _clean(values: Sequence[float | None]) -> list[float | None]:
    return [None if v is None or not np.isfinite(v) else round(float(v), 10) for v in values]


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _group(key: str, label: str, g: GroupSummary) -> dict[str, Any]:
    c = g.curve
    assert c is not None  # group summaries of the study carry their step data
    return {
        "label": label,
        "key": key,
        "n": g.n,
        "events": g.events,
        "time": _clean(c.time),
        "surv": _clean(c.surv),
        "lower": _clean(c.lower),
        "upper": _clean(c.upper),
        "n_risk": list(c.n_risk),
        "n_event": list(c.n_event),
        "n_censor": list(c.n_censor),
        "landmark_surv": None
        if g.landmark.survival is None
        else round(float(g.landmark.survival), 10),
        "median": g.median.estimate,
    }


def _hr(model: CoxModel | None, labels: list[str], reference: str) -> dict[str, Any]:
    """Cox hazard ratios of the groups against the reference, in group order."""
    if model is None:
        return {"method": "none", "reference": reference, "terms": [], "note": "not computed"}
    terms = []
    for (name, t), label in zip(model.terms.items(), labels, strict=False):
        terms.append(
            {
                "term": name,
                "group": label,
                "hr": t.hr,
                "lower": t.lower,
                "upper": t.upper,
                "p": t.p,
            }
        )
    return {
        "method": model.method,
        "reference": reference,
        "terms": terms,
        "lr_p": model.lr_p,
        "note": model.note or model.firth_reason,
    }


def _p(test: TestResult | None) -> float | None:
    return None if test is None else test.p


def _check_endpoint(cohort: Cohort, endpoint: str) -> None:
    survival = [e for e in cohort.endpoints if e not in cohort.competing]
    if endpoint not in survival:
        remedy = f"use one of {survival}"
        if endpoint in cohort.competing:
            remedy += " (competing-risk endpoints are analysed in the study analysis)"
        raise InputError(f"unknown endpoint {endpoint!r}", remedy=remedy)


def _marker_labels(split: str, kind_labels: tuple[str, ...], cuts: tuple[float, ...]) -> list[str]:
    """Display labels with the cut values (``Q1 (<= 2.1)``, ``T2 (2.1-3.4)``)."""
    if split == "thresholds":
        return list(kind_labels)
    names = list(kind_labels)
    if split in ("median", "cut"):
        names = ["low", "high"]
    if split == "quartiles":
        names = ["Q1", "Q2", "Q3", "Q4"]
    out = []
    for i, name in enumerate(names):
        if i == 0:
            out.append(f"{name} (<= {_fmt(cuts[0])})")
        elif i == len(names) - 1:
            out.append(f"{name} (> {_fmt(cuts[-1])})")
        else:
            out.append(f"{name} ({_fmt(cuts[i - 1])}-{_fmt(cuts[i])})")
    return out


def explore(
    cohort: Cohort,
    endpoint: str,
    *,
    marker: str | None = None,
    variable: str | None = None,
    split: str = "q1",
    cut: float | None = None,
    thresholds: Sequence[float] = (),
    reference: str | None = None,
    landmark: float = 36.0,
    minprop: float = 0.1,
    maxprop: float = 0.9,
) -> Exploration:
    """Curves, tests and hazard ratios of one grouping of the cohort for one endpoint.

    Parameters
    ----------
    cohort
        A validated cohort (markers and grouping variables validated).
    endpoint
        A survival endpoint of the cohort.
    marker, variable
        Group by a marker (``split``, ``cut``, ``thresholds``) or by a grouping variable
        (``reference``: its reference level; default the first level with patients).
    split
        One of :data:`SPLITS`; ignored when ``cut`` is given.
    cut
        Low group: marker <= cut (the slider). A cut giving the pre-specified lower-quartile
        split is that split; any other is labelled optimised, with the search-corrected p.
    landmark
        Time (months) of the survival estimates shown.
    minprop, maxprop
        Search range of the slider and the corrected p (fractions of patients in the low group).

    Returns
    -------
    Exploration
        The JSON-ready view (see docs/web.md, "Explorer") and the groups for the figure.
    """
    _check_endpoint(cohort, endpoint)
    if (marker is None) == (variable is None):
        raise InputError("name a marker or a grouping variable", remedy="give one of the two")
    if variable is not None:
        return _by_variable(cohort, endpoint, variable, reference, landmark)
    assert marker is not None
    return _by_marker(
        cohort, endpoint, marker, split, cut, tuple(thresholds), landmark, minprop, maxprop
    )


def _by_variable(
    cohort: Cohort, endpoint: str, variable: str, reference: str | None, landmark: float
) -> Exploration:
    from ikaros.study import StudyOptions, run_grouping

    if variable not in cohort.groups:
        raise InputError(
            f"unknown grouping variable {variable!r}", remedy=f"use one of {list(cohort.groups)}"
        )
    options = StudyOptions(
        markers=(),
        endpoints=(endpoint,),
        groups=(variable,),
        references={variable: reference} if reference else {},
        landmark=landmark,
    )
    g = run_grouping(cohort, options, variable, endpoint)
    numeric = all(_is_number(lv) for lv in g.groups)
    labels = {lv: (f"{variable} {lv}" if numeric else lv) for lv in g.groups}
    present = list(g.groups)
    order = [lv for lv in present if lv != g.reference]
    view: dict[str, Any] = {
        "variable": variable,
        "marker": None,
        "endpoint": endpoint,
        "split": "levels",
        "title": f"{endpoint.upper()} by {g.label}",
        "time_unit": "months",
        "n": g.n,
        "n_excluded": g.missing_variable + g.missing_endpoint,
        "ordered": g.ordered,
        "levels": [{"level": lv.label, "n": lv.n, "events": lv.events} for lv in g.levels],
        "reference": g.reference,
        "cut": None,
        "candidates": [],
        "candidate_n_low": [],
        "quartiles": None,
        "p": {
            "logrank": _p(g.logrank),
            "trend": _p(g.trend),
            "corrected": None,
            "corrected_method": None,
        },
        "hr": _hr(g.cox, [labels[lv] for lv in order], labels.get(g.reference, g.reference)),
        "landmark": landmark,
        "notes": list(g.notes),
        "groups": [_group(f"g{i}", labels[lv], s) for i, (lv, s) in enumerate(g.groups.items())],
    }
    return Exploration(view, {labels[lv]: s for lv, s in g.groups.items()})


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _by_marker(
    cohort: Cohort,
    endpoint: str,
    marker: str,
    split: str,
    cut: float | None,
    thresholds: tuple[float, ...],
    landmark: float,
    minprop: float,
    maxprop: float,
) -> Exploration:
    from ikaros.study import MarkerAnalysis, StudyOptions

    if marker not in cohort.markers:
        raise InputError(f"unknown marker {marker!r}", remedy=f"use one of {list(cohort.markers)}")
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}", remedy=f"use one of {', '.join(SPLITS)}")
    cols = [f"{endpoint}_time", f"{endpoint}_event", marker]
    sub, _ = cohort.complete(cols)
    t = sub[cols[0]].to_numpy(dtype=float)
    e = sub[cols[1]].to_numpy(dtype=float)
    x = sub[marker].to_numpy(dtype=float)
    try:
        scan = standardized_statistics(t, e, x, minprop=minprop, maxprop=maxprop)
    except AnalysisError as exc:
        raise AnalysisError(f"{marker} x {endpoint}: {exc.message}") from None
    cands = np.asarray(scan["cut"], dtype=float)
    n_low_c = np.asarray(scan["n_low"], dtype=np.int64)
    stats = np.asarray(scan["statistic"], dtype=float)
    q1, med, q3 = quartiles(x)
    pre_n_low = int(np.sum(x <= q1))
    pre_hits = np.flatnonzero(n_low_c == pre_n_low)
    moved = False
    index: int | None = None
    value = q1
    if cut is not None:
        value = float(cut)
        if not np.isfinite(value):
            raise InputError(f"cut must be a finite number, got {cut}", remedy="move the slider")
        n_low = int(np.sum(x <= value))
        hits = np.flatnonzero(n_low_c == n_low)
        if hits.size == 0:
            raise InputError(
                f"cut {value:.6g} puts {n_low} of {x.size} patients in the low group, outside "
                f"the search range {minprop:.0%}-{maxprop:.0%}",
                remedy=f"choose a cut between {cands[0]:.6g} and {cands[-1]:.6g}",
            )
        index = int(hits[0])
        moved = n_low != pre_n_low
        split = "cut" if moved else "q1"
    if split == "cut":
        rule = repr(value)
    elif split == "quartiles":
        rule = ",".join(repr(v) for v in (q1, med, q3))
    elif split == "thresholds":
        if not thresholds:
            raise InputError("no thresholds given", remedy="give thresholds such as 3.5,5.5")
        rule = ",".join(repr(float(v)) for v in thresholds)
    else:
        rule = _RULE[split]
    options = StudyOptions(markers=(marker,), endpoints=(endpoint,), landmark=landmark, cut=rule)
    try:
        a = MarkerAnalysis(cohort, options, marker, endpoint).run()
    except AnalysisError as exc:
        text = exc.message
        if split == "quartiles" and "must increase" in text:
            text = f"{marker}: the quartiles are tied ({q1:.6g}, {med:.6g}, {q3:.6g})"
        raise AnalysisError(text) from None
    cuts = tuple(float(v) for v in a.cut["values"])
    labels = _marker_labels(split, tuple(a.cut["labels"]), cuts)
    keys = ["low", "high"] if len(labels) == 2 else [f"g{i}" for i in range(len(labels))]
    if cut is None and len(cuts) == 1:
        hits = np.flatnonzero(n_low_c == int(np.sum(x <= cuts[0])))
        index = int(hits[0]) if hits.size else None
    if moved:
        origin, label = "optimised", "optimised (moved from Q1)"
    else:
        origin = "prespecified"
        label = (
            "pre-specified (lower quartile)"
            if split == "q1"
            else f"pre-specified ({_SPLIT_NAMES[split]})"
        )
    corrected = (
        p_lausen94(float(stats[index]), x.size, n_low_c) if moved and index is not None else None
    )
    summaries = list(a.groups.values())
    view: dict[str, Any] = {
        "marker": marker,
        "variable": None,
        "endpoint": endpoint,
        "split": split,
        "title": f"{endpoint.upper()} by {marker}, "
        + _SPLIT_NAMES.get(split, f"cut at {_fmt(value)} (optimised)"),
        "time_unit": "months",
        "n": a.n,
        "n_excluded": a.excluded.total,
        "cut": {
            "value": float(value) if moved else cuts[0],
            "values": list(cuts),
            "index": index,
            "prespecified": q1,
            "prespecified_index": int(pre_hits[0]) if pre_hits.size else None,
            "origin": origin,
            "label": label,
            "rule": a.cut["rule"] if not moved else f"low = values <= {_fmt(value)} (moved)",
        },
        "candidates": _clean(list(cands)),
        "candidate_n_low": n_low_c.tolist(),
        "quartiles": {"q1": q1, "median": med, "q3": q3},
        "p": {
            "logrank": a.logrank.p,
            "trend": _p(a.trend),
            "corrected": corrected,
            "corrected_method": "Lau94",
        },
        "hr": _hr(a.cox_group, labels[1:], labels[0]),
        "search_range": [minprop, maxprop],
        "landmark": landmark,
        "notes": list(a.notes),
        "groups": [_group(k, lab, s) for k, lab, s in zip(keys, labels, summaries, strict=True)],
    }
    return Exploration(view, dict(zip(labels, summaries, strict=True)))
