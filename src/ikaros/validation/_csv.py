"""Machine-readable tables of a validation run (``tables/*.csv``).

``cohort_estimates.csv`` gives the cut on the analysis scale (``cut``, log2 with
``--transform log2``) and on the marker's own scale (``cut_marker_scale``); empty for a cohort
given by its published groups.

Numbers are written in full (Python's shortest round-trip form), missing values as empty cells,
booleans as ``true``/``false``; p-values are numbers, never ``<0.001``. Text cells starting with
``= + - @``, a tab or a carriage return are prefixed with ``'`` so that a spreadsheet does not
run them as formulas. The same run gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ikaros.csvtext import Cell, csv_text

if TYPE_CHECKING:
    from ikaros.validation.meta import MetaAnalysis, Pooled
    from ikaros.validation.multicohort import CohortEstimate, OneStage
    from ikaros.validation.run import ValidationRun

__all__ = ["csv_tables"]


def _csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    return csv_text(header, rows)


def _estimate_rows(
    estimates: Sequence[CohortEstimate], meta: MetaAnalysis | None, landmark: float, log2: bool
) -> list[list[Cell]]:
    weights = {s.name: s for s in meta.studies} if meta is not None else {}
    rows: list[list[Cell]] = []
    for e in estimates:
        w = weights.get(e.cohort)
        groups = {g.label: g for g in e.groups}
        cells: list[Cell] = [
            e.cohort,
            e.coding,
            e.treatment,
            e.reconstructed,
            e.n,
            e.events,
            e.n_excluded,
            e.cut,
            None if e.cut is None else (2.0**e.cut if log2 else e.cut),
            e.coef,
            e.se,
            e.hr,
            e.lower,
            e.upper,
            e.p,
            e.method,
            None if w is None else w.weight_fixed,
            None if w is None else w.weight_random,
            landmark if groups else None,
        ]
        for label in ("low", "high"):
            g = groups.get(label)
            cells += [
                None if g is None else g.n,
                None if g is None else g.events,
                None if g is None else g.survival,
                None if g is None else g.lower,
                None if g is None else g.upper,
            ]
        rows.append([*cells, e.note])
    return rows


def _pooled_row(coding: str, name: str, p: Pooled) -> list[Cell]:
    return [
        coding,
        name,
        p.estimate,
        p.se,
        p.lower,
        p.upper,
        p.hr,
        p.hr_lower,
        p.hr_upper,
        p.statistic,
        p.df,
        p.p,
    ]


def csv_tables(run: ValidationRun) -> dict[str, str]:
    """The CSV texts by file stem: ``cohort_estimates``, ``pooled``, ``heterogeneity``,
    ``leave_one_out``, ``one_stage``."""
    v = run.results
    metas = (("continuous", v.meta_continuous), ("cut", v.meta_cut))
    est_header = [
        "cohort",
        "coding",
        "treatment",
        "reconstructed",
        "n",
        "events",
        "n_excluded",
        "cut",
        "cut_marker_scale",
        "log_hr",
        "se",
        "hr",
        "hr_lower",
        "hr_upper",
        "p",
        "method",
        "weight_fixed_pct",
        "weight_random_pct",
        "landmark_months",
    ]
    for label in ("low", "high"):
        est_header += [
            f"n_{label}",
            f"events_{label}",
            f"survival_{label}",
            f"survival_{label}_lower",
            f"survival_{label}_upper",
        ]
    est_header.append("note")
    log2 = run.options.transform == "log2"
    lm = run.options.landmark
    estimates = _estimate_rows(v.estimates_continuous, v.meta_continuous, lm, log2)
    estimates += _estimate_rows(v.estimates_cut, v.meta_cut, lm, log2)
    pooled: list[list[Cell]] = []
    het: list[list[Cell]] = []
    loo: list[list[Cell]] = []
    for coding, m in metas:
        if m is None:
            continue
        pooled.append(_pooled_row(coding, "fixed", m.fixed))
        pooled.append(_pooled_row(coding, "random_hksj", m.random))
        for label, pi in (
            ("prediction_interval", m.prediction),
            ("prediction_interval_hts", m.prediction_hts),
        ):
            pooled.append(
                [
                    coding,
                    label,
                    m.random.estimate,
                    None,
                    pi.lower,
                    pi.upper,
                    m.random.hr,
                    pi.hr_lower,
                    pi.hr_upper,
                    None,
                    pi.df,
                    None,
                ]
            )
        h = m.heterogeneity
        het.append(
            [
                coding,
                m.k,
                h.q,
                h.q_df,
                h.q_p,
                h.tau2,
                h.tau2_lower,
                h.tau2_upper,
                h.tau,
                h.i2,
                h.i2_lower,
                h.i2_upper,
                h.h2,
                h.h2_lower,
                h.h2_upper,
                h.converged,
            ]
        )
        for x in m.leave_one_out:
            loo.append(
                [
                    coding,
                    x.omitted,
                    x.estimate,
                    x.se,
                    x.lower,
                    x.upper,
                    x.hr,
                    x.p,
                    x.tau2,
                    x.i2,
                    x.q,
                    x.q_p,
                ]
            )
    ones: list[list[Cell]] = []
    one_stage: tuple[tuple[str, OneStage | None], ...] = (
        ("continuous", v.one_stage_continuous),
        ("cut", v.one_stage_cut),
        ("interaction", v.one_stage_interaction),
    )
    for model, o in one_stage:
        if o is None:
            continue
        ones.append(
            [
                model,
                o.term,
                o.n,
                o.events,
                o.n_cohorts,
                o.coef,
                o.se,
                o.hr,
                o.lower,
                o.upper,
                o.p,
                o.lr_statistic,
                o.lr_p,
                " + ".join(o.terms),
            ]
        )
    return {
        "cohort_estimates": _csv(est_header, estimates),
        "pooled": _csv(
            [
                "coding",
                "model",
                "log_hr",
                "se",
                "lower",
                "upper",
                "hr",
                "hr_lower",
                "hr_upper",
                "statistic",
                "df",
                "p",
            ],
            pooled,
        ),
        "heterogeneity": _csv(
            [
                "coding",
                "k",
                "q",
                "q_df",
                "q_p",
                "tau2",
                "tau2_lower",
                "tau2_upper",
                "tau",
                "i2_pct",
                "i2_lower",
                "i2_upper",
                "h2",
                "h2_lower",
                "h2_upper",
                "tau2_converged",
            ],
            het,
        ),
        "leave_one_out": _csv(
            [
                "coding",
                "omitted",
                "log_hr",
                "se",
                "lower",
                "upper",
                "hr",
                "p",
                "tau2",
                "i2_pct",
                "q",
                "q_p",
            ],
            loo,
        ),
        "one_stage": _csv(
            [
                "model",
                "term",
                "n",
                "events",
                "n_cohorts",
                "log_hr",
                "se",
                "hr",
                "hr_lower",
                "hr_upper",
                "p",
                "lr_statistic",
                "lr_p",
                "terms",
            ],
            ones,
        ),
    }
