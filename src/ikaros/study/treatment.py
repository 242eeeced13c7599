"""Predictive or prognostic? The treatment-by-marker analysis of one marker and endpoint
(``--treatment COL``), labelled exploratory.

Cox with marker, treatment and their product (the continuous marker on the study's scale, and
the pre-specified two-group cut), the likelihood-ratio test of the interaction, the treatment HR
within each marker group and the marker HR within each arm (patients and events per cell), the
Gail-Simon test of a qualitative interaction, and STEPP along the marker
(:func:`ikaros.validation.predictive.treatment_by_marker`; checked against R coxph, survfit and
survdiff in tests/reference/validation).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ikaros.cohort import Cohort
from ikaros.errors import AnalysisError, InputError
from ikaros.groups import make_grouping
from ikaros.study._common import transformed
from ikaros.study.options import StudyOptions

__all__ = ["treatment_analysis"]


def _stepp_windows(n: int) -> tuple[int, int]:
    """Sliding windows of about n/5 patients overlapping by half (R stepp's usual choice)."""
    r2 = max(20, n // 5)
    return max(10, r2 // 2), r2


def treatment_analysis(
    cohort: Cohort, options: StudyOptions, marker: str, endpoint: str
) -> dict[str, Any]:
    """The treatment-by-marker analysis as a JSON-ready dict."""
    from ikaros.validation.predictive import SteppOptions, treatment_by_marker

    assert options.treatment is not None
    tcol, ecol = f"{endpoint}_time", f"{endpoint}_event"
    var = cohort.groups[options.treatment]
    data = cohort.data
    keep = data[tcol].notna() & data[marker].notna() & var.values.notna()
    frame = data[keep]
    x = transformed(cohort, frame, marker, options.transform)
    grouping = make_grouping(
        frame[marker], options.cut_kind, name=marker, thresholds=options.thresholds
    )
    if len(grouping.labels) != 2:
        raise InputError(
            f"--treatment needs a two-group cut of the marker; --cut {options.cut!r} gives "
            f"{len(grouping.labels)} groups",
            remedy="use --cut quartile, median, upper-quartile or a single threshold",
        )
    cut = grouping.cutpoints[0]
    cut_scale = float(np.log2(cut)) if options.transform == "log2" else float(cut)
    levels = [lv for lv in var.levels if (var.values[frame.index] == lv).any()]
    if len(levels) != 2:
        raise InputError(
            f"--treatment {options.treatment!r} must have exactly two levels among the analysed "
            f"patients; found {', '.join(levels) or 'none'}",
            file=cohort.source,
            column=cohort.source_column(options.treatment),
            remedy="compare two arms (select the patients of two protocols, or recode)",
        )
    r1, r2 = _stepp_windows(len(frame))
    try:
        result = treatment_by_marker(
            frame[tcol].to_numpy(dtype=float),
            frame[ecol].to_numpy(dtype=float),
            x.to_numpy(dtype=float),
            var.values[frame.index].astype(str).to_numpy(),
            cut=cut_scale,
            marker_name=marker,
            treatment_name=options.treatment,
            reference=options.treatment_reference,
            scale=options.transform,
            group_labels=(grouping.labels[0], grouping.labels[1]),
            stepp_options=SteppOptions(
                landmark=options.landmark,
                r1=r1,
                r2=r2,
                n_perm=options.stepp_permutations,
                seed=2017 if options.seed is None else options.seed,
            ),
            conf_level=options.conf_level,
        )
    except AnalysisError as exc:
        return {"label": "exploratory", "note": f"treatment-by-marker not computed: {exc}"}
    return result.to_dict()
