"""Publication figures of the study report, drawn from the typed result objects only.

Every figure reads what :mod:`ikaros.results` holds (Kaplan-Meier step data, Cox terms, test
results, marker values) and computes no statistics: numbers at risk and landmark survival are
looked up in the stored step data; the box plots show the stored marker values.

Figures are built as :class:`matplotlib.figure.Figure` objects with an Agg canvas, never through
pyplot, inside :func:`ikaros.report.style.journal_style`. Layouts are fixed in inches (no
``tight_layout``): text is measured once with the Agg renderer and margins are set from it, so
rendering is fast and the output deterministic. :func:`save_figure` writes a 300-dpi PNG and an
SVG with text as text; the same figure gives byte-identical files.

Functions
---------
km_figure
    Kaplan-Meier curves with confidence bands, censor marks, legend with n, events, landmark
    survival and log-rank P, and a numbers-at-risk table under the time axis.
km_groups_figure
    The same figure for any groups (display name -> step data), tests and notes.
grouping_figure
    Kaplan-Meier curves by the levels of a clinical variable (``--group``), empty levels named.
competing_figure
    Cumulative incidence by group for a competing-risk endpoint, with Gray's test and the naive
    1 - Kaplan-Meier dashed as the labelled contrast (via ``cif_figure``).
draw_km, draw_at_risk
    The two building blocks of ``km_figure``, for custom layouts.
numbers_at_risk, cumulative_counts, time_ticks
    The numbers of the at-risk table and the ticks of the time axis.
forest_figure
    Hazard ratios of the multivariable Cox models, or per-SD hazard ratios by cytogenetic risk
    with the interaction P.
marker_figure
    The marker by ISS stage and by best response (box plots with the points).
paper_figure
    The published figures of Kronke et al. 2017 next to this cohort's.
save_figure
    PNG (300 dpi) and SVG with deterministic bytes.
group_colors
    The colour of each group, the same in every figure.

Modules
-------
``km`` (Kaplan-Meier figure, curves, at-risk table), ``km_data`` (step-data look-ups, time
ticks), ``_km_legend`` (legend block and its placement), ``grouping``, ``competing``, ``cif``,
``forest``, ``markers``, ``paper``, and
``_common`` (figure creation, text measurement, colours, log-axis ticks, saving).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ikaros._lazy import lazy_getattr

if TYPE_CHECKING:  # pragma: no cover
    from ikaros.report.figures._common import Colors as Colors
    from ikaros.report.figures._common import group_colors, save_figure
    from ikaros.report.figures.cif import CIFLike, cif_figure
    from ikaros.report.figures.competing import competing_figure
    from ikaros.report.figures.forest import forest_figure
    from ikaros.report.figures.grouping import grouping_figure
    from ikaros.report.figures.km import (
        KM_WIDTH,
        draw_at_risk,
        draw_km,
        km_figure,
        km_groups_figure,
    )
    from ikaros.report.figures.km_data import cumulative_counts, numbers_at_risk, time_ticks
    from ikaros.report.figures.markers import JITTER_SEED as JITTER_SEED
    from ikaros.report.figures.markers import marker_figure
    from ikaros.report.figures.oncoprint import oncoprint_figure
    from ikaros.report.figures.paper import paper_figure
    from ikaros.report.figures.swimmer import swimmer_figure
    from ikaros.report.figures.volcano import volcano_figure
    from ikaros.report.style import PALETTE

__all__ = [
    "KM_WIDTH",
    "PALETTE",
    "CIFLike",
    "cif_figure",
    "competing_figure",
    "cumulative_counts",
    "draw_at_risk",
    "draw_km",
    "forest_figure",
    "group_colors",
    "grouping_figure",
    "km_figure",
    "km_groups_figure",
    "marker_figure",
    "numbers_at_risk",
    "oncoprint_figure",
    "paper_figure",
    "save_figure",
    "swimmer_figure",
    "time_ticks",
    "volcano_figure",
]

# Each name is imported from its module on first use (PEP 562): a command that draws one
# figure (``ikaros scan``'s volcano plot) does not import every figure module, nor pandas.
_WHERE = {
    "PALETTE": "ikaros.report.style",
    "Colors": "ikaros.report.figures._common",
    "group_colors": "ikaros.report.figures._common",
    "save_figure": "ikaros.report.figures._common",
    "CIFLike": "ikaros.report.figures.cif",
    "cif_figure": "ikaros.report.figures.cif",
    "competing_figure": "ikaros.report.figures.competing",
    "forest_figure": "ikaros.report.figures.forest",
    "grouping_figure": "ikaros.report.figures.grouping",
    "KM_WIDTH": "ikaros.report.figures.km",
    "draw_at_risk": "ikaros.report.figures.km",
    "draw_km": "ikaros.report.figures.km",
    "km_figure": "ikaros.report.figures.km",
    "km_groups_figure": "ikaros.report.figures.km",
    "cumulative_counts": "ikaros.report.figures.km_data",
    "numbers_at_risk": "ikaros.report.figures.km_data",
    "time_ticks": "ikaros.report.figures.km_data",
    "JITTER_SEED": "ikaros.report.figures.markers",
    "marker_figure": "ikaros.report.figures.markers",
    "oncoprint_figure": "ikaros.report.figures.oncoprint",
    "paper_figure": "ikaros.report.figures.paper",
    "swimmer_figure": "ikaros.report.figures.swimmer",
    "volcano_figure": "ikaros.report.figures.volcano",
}


__getattr__ = lazy_getattr(__name__, _WHERE)


def __dir__() -> list[str]:
    return sorted(__all__)
