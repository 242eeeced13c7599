"""Oncoprint: genes (rows) x patients (columns), cells coloured by the class of alteration.

Genes are ordered by the number of patients altered (most frequent on top); patients by the
classic mutual-exclusivity sort, lexicographically by the gene rows from the top, so that the
altered cells of each gene form a block to the left of those of the genes below. The frequency
of each gene is printed on the right, as a percentage and a count over all evaluated patients
(those without any alteration included).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FixedLocator
from matplotlib.transforms import blended_transform_factory, offset_copy

from ikaros.report.figures._common import _DARK, _measure, _new_figure, _title
from ikaros.report.figures.course import _draw_legend, _Entry, _legend_layout
from ikaros.report.style import (
    DOUBLE_COLUMN,
    GREY,
    PALETTE,
    SINGLE_COLUMN,
    SMALL_SIZE,
    fmt_pct,
    journal_style,
)

__all__ = ["ALTERATIONS", "alteration_class", "oncoprint_figure", "oncoprint_order"]

#: Alteration class -> colour (Okabe-Ito; grey for "other"), in legend and stacking order.
ALTERATIONS: dict[str, str] = {
    "missense": PALETTE[2],
    "nonsense": "#000000",
    "frameshift": PALETTE[1],
    "splice": PALETTE[3],
    "deletion": PALETTE[0],
    "amplification": PALETTE[4],
    "fusion": PALETTE[5],
    "hypodiploidy": PALETTE[6],
    "other": "#8C8C8C",
}
_LEGEND_NAMES = {
    "missense": "Missense",
    "nonsense": "Nonsense",
    "frameshift": "Frameshift",
    "splice": "Splice site",
    "deletion": "Deletion / loss",
    "amplification": "Amplification",
    "fusion": "Fusion / rearrangement",
    "hypodiploidy": "Hypodiploidy",
    "other": "Other",
}
_NOT_ALTERED = "#E4E4E4"

_SYNONYMS = {
    "missense": ("missense_mutation", "missense_variant", "snv"),
    "nonsense": ("nonsense_mutation", "stop_gained", "stopgain"),
    "frameshift": (
        "frame_shift",
        "frame_shift_del",
        "frame_shift_ins",
        "frameshift_variant",
        "fs",
    ),
    "splice": ("splice_site", "splice_region", "splicing", "splice_variant"),
    "deletion": ("del", "loss", "copy_number_loss", "homdel", "in_frame_del"),
    "amplification": ("amp", "gain", "copy_number_gain"),
    "fusion": ("rearrangement", "translocation"),
    "hypodiploidy": ("low_hypodiploidy", "hypodiploid"),
}
_CLASS_OF = {name: cls for cls, names in _SYNONYMS.items() for name in (cls, *names)}


def alteration_class(text: str) -> str:
    """The class of an alteration: ``"Frame_Shift_Del"`` -> ``frameshift``; unknown -> other."""
    key = str(text).strip().lower().replace(" ", "_").replace("-", "_")
    return _CLASS_OF.get(key, "other")


def oncoprint_order(
    altered: dict[str, set[str]], patients: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Genes by number of patients altered (ties by name), patients sorted lexicographically by
    the gene rows (altered before not altered; ties keep the order of ``patients``)."""
    genes = sorted(altered, key=lambda g: (-len(altered[g]), g))
    cols = sorted(patients, key=lambda p: tuple(p not in altered[g] for g in genes))
    return genes, cols


_CELL_W = 0.16  # column pitch (inches) unless the figure would exceed DOUBLE_COLUMN
_ROW_H = 0.20
_FILL_W = 0.80
_FILL_H = 0.84
_GENE_SIZE = SMALL_SIZE
_ID_SIZE = SMALL_SIZE - 1.0
_PAD = 0.08


def oncoprint_figure(
    mutations: pd.DataFrame,
    *,
    patients: Sequence[str] | None = None,
    title: str = "",
) -> Figure:
    """Oncoprint of the alterations: genes x patients, coloured by alteration class.

    Parameters
    ----------
    mutations
        One row per alteration, columns ``patient_id``, ``gene``, ``alteration`` (a class of
        :data:`ALTERATIONS` or a usual synonym, e.g. ``Frame_Shift_Del``; unknown -> other).
        A patient with several classes in one gene gets the cell split into stacked stripes.
    patients
        All evaluated patients, with or without alterations: the columns, and the denominator of
        the frequencies. Default: the patients of ``mutations``.
    title
        Bold title; none when empty.

    Returns
    -------
    Figure
        Axes labelled ``"oncoprint"``: gene ``k`` (from the top) at data y = ``k`` and patient
        ``j`` at x = ``j``, genes and patient ids as tick labels. Cells are rectangles labelled
        ``"_cell <gene>|<patient>|<class>"`` (not-altered cells ``"_empty"``); the texts at the
        right are labelled ``"freq"`` (percentage) and ``"count"`` (altered/evaluated).

    Raises
    ------
    ValueError
        Missing columns, no alterations, duplicate patients, or patients in ``mutations`` that are
        not in ``patients``.
    """
    missing = [c for c in ("patient_id", "gene", "alteration") if c not in mutations.columns]
    if missing:
        raise ValueError(f"mutations table lacks column(s) {', '.join(missing)}")
    df = mutations.dropna(subset=["patient_id", "gene"])
    if df.empty:
        raise ValueError("no alterations to draw")
    pids = df["patient_id"].astype(str).tolist()
    genes_col = df["gene"].astype(str).str.strip().tolist()
    classes = [alteration_class(a) for a in df["alteration"].fillna("other")]
    if patients is None:
        patients = list(dict.fromkeys(pids))
    patients = [str(p) for p in patients]
    if len(set(patients)) != len(patients):
        raise ValueError("patients contains duplicates")
    unknown = sorted(set(pids) - set(patients))
    if unknown:
        raise ValueError(f"patients with alterations but not among the evaluated: {unknown}")

    cells: dict[tuple[str, str], set[str]] = {}
    altered: dict[str, set[str]] = {}
    for p, g, c in zip(pids, genes_col, classes, strict=True):
        cells.setdefault((g, p), set()).add(c)
        altered.setdefault(g, set()).add(p)
    genes, cols = oncoprint_order(altered, patients)
    n_pat, n_gene = len(cols), len(genes)
    order = list(ALTERATIONS)
    present = sorted({c for cs in cells.values() for c in cs}, key=order.index)

    with journal_style():
        fig = _new_figure(DOUBLE_COLUMN, 4.0)
        gene_w = max(_measure(fig, g, _GENE_SIZE) for g in genes)
        id_w = max(_measure(fig, p, _ID_SIZE) for p in cols)
        counts = {g: f"{len(altered[g])}/{n_pat}" for g in genes}
        pcts = {g: fmt_pct(len(altered[g]) / n_pat) for g in genes}
        pct_w = max(_measure(fig, t, SMALL_SIZE) for t in [*pcts.values(), "%"])
        count_w = max(_measure(fig, t, SMALL_SIZE) for t in [*counts.values(), "n/N"])
        left = _PAD + (gene_w + 6.0) / 72
        right = (6.0 + pct_w + 8.0 + count_w) / 72 + _PAD
        cell_w = min(_CELL_W, (DOUBLE_COLUMN - left - right) / n_pat)
        grid_w = n_pat * cell_w
        width = max(SINGLE_COLUMN, left + grid_w + right)
        left += (width - (left + grid_w + right)) / 2  # centre a narrow grid

        entries = [
            _Entry(_LEGEND_NAMES[c], ALTERATIONS[c], kind="box", box_height=6.0) for c in present
        ]
        entries.append(_Entry("Not altered", _NOT_ALTERED, kind="box", box_height=6.0))
        layout = _legend_layout(fig, entries, (width - 2 * _PAD) * 72)
        top = (0.30 if title else 0.08) + 0.16  # title, then the headings of the right columns
        ids_h = (id_w + 4.0) / 72
        legend_h = layout.height / 72
        bottom = _PAD + legend_h + 0.12 + ids_h
        height = top + n_gene * _ROW_H + bottom
        fig.set_size_inches(width, height)
        ax = fig.add_axes(
            (left / width, bottom / height, grid_w / width, n_gene * _ROW_H / height),
            label="oncoprint",
        )
        for i, g in enumerate(genes):
            for j, p in enumerate(cols):
                x, y = j - _FILL_W / 2, i - _FILL_H / 2
                kinds = sorted(cells.get((g, p), ()), key=order.index)
                if not kinds:
                    ax.add_patch(
                        Rectangle(
                            (x, y),
                            _FILL_W,
                            _FILL_H,
                            facecolor=_NOT_ALTERED,
                            edgecolor="none",
                            label="_empty",
                        )
                    )
                    continue
                h = _FILL_H / len(kinds)
                for k, cls in enumerate(kinds):
                    ax.add_patch(
                        Rectangle(
                            (x, y + k * h),
                            _FILL_W,
                            h,
                            facecolor=ALTERATIONS[cls],
                            edgecolor="none",
                            label=f"_cell {g}|{p}|{cls}",
                        )
                    )
        ax.set_xlim(-0.5, n_pat - 0.5)
        ax.set_ylim(n_gene - 0.5, -0.5)
        ax.xaxis.set_major_locator(FixedLocator(list(range(n_pat))))
        ax.set_xticklabels(cols, rotation=90, fontsize=_ID_SIZE)
        ax.yaxis.set_major_locator(FixedLocator(list(range(n_gene))))
        ax.set_yticklabels(genes, fontsize=_GENE_SIZE)
        for lbl in ax.get_yticklabels():
            if _is_symbol(lbl.get_text()):
                lbl.set_fontstyle("italic")
        ax.tick_params(axis="both", length=0, pad=2.0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.patch.set_visible(False)

        base = blended_transform_factory(ax.transAxes, ax.transData)
        pct_x = offset_copy(base, fig=fig, x=6.0 + pct_w, y=0.0, units="points")
        count_x = offset_copy(base, fig=fig, x=6.0 + pct_w + 8.0 + count_w, y=0, units="points")
        for trans, text, label, color in (
            (pct_x, "%", "_head", GREY),
            (count_x, "n/N", "_head", GREY),
        ):
            ax.text(
                1.0,
                -0.5,
                text,
                transform=trans,
                ha="right",
                va="bottom",
                fontsize=SMALL_SIZE,
                color=color,
                label=label,
                clip_on=False,
            )
        for i, g in enumerate(genes):
            ax.text(
                1.0,
                i,
                pcts[g],
                transform=pct_x,
                ha="right",
                va="center",
                fontsize=SMALL_SIZE,
                color=_DARK,
                label="freq",
                clip_on=False,
            )
            ax.text(
                1.0,
                i,
                counts[g],
                transform=count_x,
                ha="right",
                va="center",
                fontsize=SMALL_SIZE,
                color=GREY,
                label="count",
                clip_on=False,
            )
        _draw_legend(fig, entries, layout, _PAD * 72, (_PAD + legend_h) * 72)
        if title:
            _title(fig, title, height)
    return fig


def _is_symbol(name: str) -> bool:
    """Gene symbols and fusions (``TP53``, ``BCR::ABL1``) are set in italics."""
    core = name.replace("::", "").replace("-", "")
    return bool(core) and core.isalnum() and core.upper() == core
