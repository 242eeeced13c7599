"""Volcano plot of a genome-wide scan: log2 hazard ratio against -log10 p, FDR-significant genes
highlighted and the strongest labelled."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure

from ikaros.report.figures._common import _new_figure
from ikaros.report.style import PALETTE, journal_style

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["volcano_figure"]


def volcano_figure(
    table: pd.DataFrame | Mapping[str, Any],
    *,
    hr: str = "cox_hr",
    p: str = "cox_p",
    q: str = "cox_q",
    fdr: float = 0.05,
    label_top: int = 10,
    title: str = "",
) -> Figure:
    """Volcano plot of per-gene hazard ratios.

    Parameters
    ----------
    table
        One row per gene with columns ``gene``, ``hr``, ``p`` and ``q`` (names configurable):
        a DataFrame, or a mapping of column names to arrays (what the drawing process of
        ``ikaros scan`` receives; no pandas needed).
    fdr
        Genes with q below this are highlighted (blue: HR < 1, vermillion: HR > 1).
    label_top
        Label this many genes with the smallest p among the highlighted ones.
    """
    with journal_style():
        fig = _new_figure(4.8, 4.0)
        ax = fig.add_axes((0.14, 0.13, 0.82, 0.76 if title else 0.82))
        hrs = np.asarray(table[hr], dtype=float)
        ps = np.asarray(table[p], dtype=float)
        ok = ~np.isnan(hrs) & ~np.isnan(ps) & (hrs > 0)
        n_shown = int(ok.sum())
        x = np.log2(hrs[ok])
        y = -np.log10(np.clip(ps[ok], 1e-300, 1.0))
        sig = np.asarray(table[q], dtype=float)[ok] < fdr
        ax.scatter(
            x[~sig],
            y[~sig],
            s=6,
            color="#9A9A9A",
            alpha=0.6,
            linewidths=0,
            rasterized=n_shown > 5000,
        )
        up = sig & (x > 0)
        down = sig & (x <= 0)
        ax.scatter(
            x[up],
            y[up],
            s=9,
            color=PALETTE[1],
            linewidths=0,
            label=f"HR > 1, q < {fdr:g} ({int(up.sum())})",
        )
        ax.scatter(
            x[down],
            y[down],
            s=9,
            color=PALETTE[0],
            linewidths=0,
            label=f"HR < 1, q < {fdr:g} ({int(down.sum())})",
        )
        ax.axvline(0, color="#555555", lw=0.6)
        if sig.any():
            ax.axhline(float(y[sig].min()), color="#555555", lw=0.6, ls="--")
        order = np.argsort(-y[sig], kind="stable")[:label_top]
        genes = np.asarray(table["gene"], dtype=object)[ok][sig]
        for i in order:
            ax.annotate(
                str(genes[i]),
                (x[sig][i], y[sig][i]),
                xytext=(3, 2),
                textcoords="offset points",
                fontsize=6,
            )
        ax.set_xlabel("log2 hazard ratio (per unit of expression)")
        ax.set_ylabel("-log10 p (Wald)")
        ax.legend(
            loc="upper left", frameon=False, fontsize=7, title=f"{n_shown} genes", title_fontsize=7
        )
        if title:
            fig.suptitle(title, x=0.14, ha="left", fontsize=9, fontweight="bold")
    return fig
