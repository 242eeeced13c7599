"""The paper-vs-cohort figure: a table of Kronke et al. 2017's figures and this cohort's."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from ikaros.published import Comparison
from ikaros.report.figures._common import _DARK, _SHADE, _measure, _new_figure, _points
from ikaros.report.style import DOUBLE_COLUMN, FONT_SIZE, GREY, SMALL_SIZE, journal_style

__all__ = ["paper_figure"]


_SUPERSCRIPTS = "¹²³⁴⁵⁶⁷⁸⁹"


def paper_figure(rows: Sequence[Comparison]) -> Figure:
    """Table figure "Kronke et al. 2017 vs this cohort": quantity, paper, this cohort.

    Notes of the rows become numbered footnotes; a missing reproduced value reads "n/a".

    Parameters
    ----------
    rows
        From :func:`ikaros.published.compare_with_paper`.

    Returns
    -------
    Figure
        7 inches wide, one line per row.
    """
    notes: list[str] = []
    quantities = []
    for r in rows:
        q = r.quantity
        if r.note:
            if r.note not in notes:
                notes.append(r.note)
            q += _SUPERSCRIPTS[notes.index(r.note) % len(_SUPERSCRIPTS)]
        quantities.append(q)
    header = ("Quantity", "Kronke et al. 2017", "This cohort")
    cells = [
        (q, r.published, r.reproduced if r.reproduced is not None else "n/a")
        for q, r in zip(quantities, rows, strict=True)
    ]
    row_h = 0.2
    top = 0.42
    foot = [f"{_SUPERSCRIPTS[i % len(_SUPERSCRIPTS)]} {n}" for i, n in enumerate(notes)]
    bottom = 0.1 + 0.14 * len(foot)
    height = top + row_h * (len(cells) + 1) + bottom + 0.05
    with journal_style():
        fig = _new_figure(DOUBLE_COLUMN, height)
        size = FONT_SIZE
        while True:
            widths = [
                max(
                    _measure(fig, header[j], size, "bold"),
                    *(_measure(fig, c[j], size) for c in cells),
                )
                / 72
                for j in range(3)
            ]
            if sum(widths) + 2 * 0.3 + 0.3 <= DOUBLE_COLUMN or size <= 6:
                break
            size -= 0.5
        gap = min(0.6, max(0.3, (DOUBLE_COLUMN - 0.3 - sum(widths)) / 3))
        x = [0.15, 0.15 + widths[0] + gap, 0.15 + widths[0] + widths[1] + 2 * gap]
        right = DOUBLE_COLUMN - 0.15
        pts = _points(fig)
        y_top = height - top

        def rule(y: float, lw: float) -> None:
            fig.add_artist(
                Line2D(
                    [x[0] * 72, right * 72],
                    [y * 72, y * 72],
                    transform=pts,
                    color=_DARK,
                    linewidth=lw,
                )
            )

        fig.text(
            x[0] * 72,
            (height - 0.12) * 72,
            "Kronke et al. 2017 vs this cohort",
            transform=pts,
            ha="left",
            va="top",
            fontsize=FONT_SIZE + 1,
            fontweight="bold",
        )
        rule(y_top, 0.8)
        for j, h in enumerate(header):
            fig.text(
                x[j] * 72,
                (y_top - row_h / 2) * 72,
                h,
                transform=pts,
                ha="left",
                va="center_baseline",
                fontsize=size,
                fontweight="bold",
                label="header",
            )
        rule(y_top - row_h, 0.5)
        for i, c in enumerate(cells):
            yc = y_top - row_h * (i + 1.5)
            if i % 2 == 1:
                fig.add_artist(
                    Rectangle(
                        (x[0] * 72, (yc - row_h / 2) * 72),
                        (right - x[0]) * 72,
                        row_h * 72,
                        transform=pts,
                        facecolor=_SHADE,
                        edgecolor="none",
                        zorder=0,
                    )
                )
            for j, text in enumerate(c):
                missing = j == 2 and rows[i].reproduced is None
                fig.text(
                    x[j] * 72,
                    yc * 72,
                    text,
                    transform=pts,
                    ha="left",
                    va="center_baseline",
                    fontsize=size,
                    color=GREY if missing else _DARK,
                    label=("quantity", "paper", "cohort")[j],
                    parse_math=False,
                )
        rule(y_top - row_h * (len(cells) + 1), 0.8)
        for k, line in enumerate(foot):
            fig.text(
                x[0] * 72,
                (bottom - 0.06 - 0.14 * (k + 1) + 0.06) * 72,
                line,
                transform=pts,
                ha="left",
                va="bottom",
                fontsize=SMALL_SIZE - 0.5,
                color=GREY,
                label="footnote",
                parse_math=False,
            )
    return fig
