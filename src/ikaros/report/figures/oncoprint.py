"""Oncoprint: genes (rows) x patients (columns), cells coloured by the class of alteration.

Each cell is in one of three states: altered (coloured by the class of alteration), not altered
(light grey) or not evaluated (dark grey: the gene was not tested in that patient, as in Figure 1
of Geyer et al. 2023). Genes are ordered by the number of patients altered (most frequent on
top); patients by the classic mutual-exclusivity sort, lexicographically by the gene rows from
the top (altered, then not altered, then not evaluated), so that the altered cells of each gene
form a block to the left of those of the genes below. The frequency of each gene is printed on
the right, as a percentage and a count over the patients evaluated for that gene: the columns
minus the gene's not-evaluated cells.

References
----------
Geyer MB, et al. Lenalidomide-associated B-cell ALL: clinical and pathologic correlates and
sensitivity to lenalidomide withdrawal. Blood Adv 2023;7:3087-3098 (Figure 1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FixedLocator
from matplotlib.transforms import blended_transform_factory, offset_copy

from ikaros.report.figures._common import (
    _DARK,
    _draw_legend,
    _Entry,
    _legend_layout,
    _measure,
    _new_figure,
    _title,
)
from ikaros.report.style import (
    DOUBLE_COLUMN,
    GREY,
    PALETTE,
    SINGLE_COLUMN,
    SMALL_SIZE,
    fmt_pct,
    journal_style,
)

__all__ = [
    "ALTERATIONS",
    "NOT_EVALUATED",
    "UNALTERED",
    "alteration_class",
    "oncoprint_figure",
    "oncoprint_order",
]

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
#: The two cell states that are not alterations, and their colours.
UNALTERED = "unaltered"
NOT_EVALUATED = "not_evaluated"
_NOT_ALTERED = "#E4E4E4"
_NOT_EVALUATED = "#595959"

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
    UNALTERED: ("not_altered", "wild_type", "wildtype", "wt"),
    NOT_EVALUATED: ("not_tested", "untested", "not_profiled"),
}
_CLASS_OF = {name: cls for cls, names in _SYNONYMS.items() for name in (cls, *names)}


def alteration_class(text: str) -> str:
    """The class of an alteration: ``"Frame_Shift_Del"`` -> ``frameshift``; unknown -> other.

    The states ``unaltered`` and ``not_evaluated`` (and their synonyms, e.g. ``wild-type``,
    ``not tested``) are returned as such.
    """
    key = str(text).strip().lower().replace(" ", "_").replace("-", "_")
    return _CLASS_OF.get(key, "other")


def oncoprint_order(
    altered: Mapping[str, set[str]],
    patients: Sequence[str],
    not_evaluated: Mapping[str, set[str]] | None = None,
) -> tuple[list[str], list[str]]:
    """Genes by number of patients altered (ties by name), patients sorted lexicographically by
    the gene rows: altered before not altered before not evaluated (``not_evaluated``: gene ->
    patients); ties keep the order of ``patients``."""
    missing: Mapping[str, set[str]] = not_evaluated or {}
    genes = sorted(altered, key=lambda g: (-len(altered[g]), g))

    def state(g: str, p: str) -> int:
        return 0 if p in altered[g] else 2 if p in missing.get(g, ()) else 1

    cols = sorted(patients, key=lambda p: tuple(state(g, p) for g in genes))
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
        Columns ``patient_id``, ``gene``, ``alteration``: one row per alteration (a class of
        :data:`ALTERATIONS` or a usual synonym, e.g. ``Frame_Shift_Del``; unknown -> other),
        ``not_evaluated`` rows for the genes not tested in a patient and, optionally,
        ``unaltered`` rows (tested, nothing found). A cell without a row is not altered. A
        patient with several classes in one gene gets the cell split into stacked stripes.
    patients
        All patients of the table, with or without alterations: the columns. The denominator of
        a gene's frequency is these patients minus those not evaluated for the gene. Default:
        the patients of ``mutations``.
    title
        Bold title; none when empty.

    Returns
    -------
    Figure
        Axes labelled ``"oncoprint"``: gene ``k`` (from the top) at data y = ``k`` and patient
        ``j`` at x = ``j``, genes and patient ids as tick labels. Only genes altered in at least
        one patient are drawn. Cells are rectangles labelled ``"_cell <gene>|<patient>|<class>"``
        (not-altered cells ``"_empty"``, not-evaluated cells ``"_not_evaluated
        <gene>|<patient>"``); the texts at the right are labelled ``"freq"`` (percentage) and
        ``"count"`` (altered/evaluated).

    Raises
    ------
    ValueError
        Missing columns, no alterations, duplicate patients, patients in ``mutations`` that are
        not in ``patients``, or a gene of a patient both not evaluated and altered or unaltered.
    """
    missing = [c for c in ("patient_id", "gene", "alteration") if c not in mutations.columns]
    if missing:
        raise ValueError(f"mutations table lacks column(s) {', '.join(missing)}")
    df = mutations.dropna(subset=["patient_id", "gene"])
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
    untested: dict[str, set[str]] = {}
    tested: set[tuple[str, str]] = set()
    for p, g, c in zip(pids, genes_col, classes, strict=True):
        if c == NOT_EVALUATED:
            untested.setdefault(g, set()).add(p)
            continue
        tested.add((g, p))
        if c != UNALTERED:
            cells.setdefault((g, p), set()).add(c)
            altered.setdefault(g, set()).add(p)
    both = sorted((g, p) for g, ps in untested.items() for p in ps if (g, p) in tested)
    if both:
        g, p = both[0]
        raise ValueError(f"{g} of patient {p!r} is both not evaluated and evaluated")
    if not altered:
        raise ValueError("no alterations to draw")
    genes, cols = oncoprint_order(altered, patients, untested)
    n_pat, n_gene = len(cols), len(genes)
    n_eval = {g: n_pat - len(untested.get(g, set())) for g in genes}
    order = list(ALTERATIONS)
    present = sorted({c for cs in cells.values() for c in cs}, key=order.index)
    any_untested = any(untested.get(g) for g in genes)

    with journal_style():
        fig = _new_figure(DOUBLE_COLUMN, 4.0)
        gene_w = max(_measure(fig, g, _GENE_SIZE) for g in genes)
        id_w = max(_measure(fig, p, _ID_SIZE) for p in cols)
        counts = {g: f"{len(altered[g])}/{n_eval[g]}" for g in genes}
        pcts = {g: fmt_pct(len(altered[g]) / n_eval[g]) for g in genes}
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
        if any_untested:
            entries.append(_Entry("Not evaluated", _NOT_EVALUATED, kind="box", box_height=6.0))
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
                    ne = p in untested.get(g, ())
                    ax.add_patch(
                        Rectangle(
                            (x, y),
                            _FILL_W,
                            _FILL_H,
                            facecolor=_NOT_EVALUATED if ne else _NOT_ALTERED,
                            edgecolor="none",
                            label=f"_not_evaluated {g}|{p}" if ne else "_empty",
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
