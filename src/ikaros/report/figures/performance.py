"""Figures of prognostic performance: calibration plot, AUC(t) with CI band, decision curve.

Each function draws into a given :class:`~matplotlib.axes.Axes` or, without one, into a new
single-column :class:`~matplotlib.figure.Figure` (Agg canvas, never pyplot), and returns the
figure. Inputs are the result objects of :mod:`ikaros.performance`; several models can be drawn
in one panel (a mapping from model label to result), in the project palette.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from ikaros.report.style import PALETTE, SINGLE_COLUMN, SMALL_SIZE, journal_style

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ikaros.performance import DecisionCurve, LandmarkCalibration, TimeAUC

__all__ = ["auc_figure", "calibration_figure", "decision_figure"]


def _axes(ax: Axes | None) -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if ax is not None:
        fig = ax.get_figure(root=True)
        if not isinstance(fig, Figure):
            raise ValueError("the axes must belong to a figure")
        return fig, ax
    with journal_style():
        fig = Figure(figsize=(SINGLE_COLUMN, SINGLE_COLUMN * 0.92), dpi=100)
        FigureCanvasAgg(fig)
        new = fig.add_subplot(1, 1, 1)
    fig.subplots_adjust(left=0.17, right=0.96, bottom=0.14, top=0.9)
    return fig, new


def _style(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=SMALL_SIZE)


def calibration_figure(
    calibration: Mapping[str, LandmarkCalibration] | LandmarkCalibration,
    *,
    ax: Axes | None = None,
    time_unit: str = "months",
) -> Figure:
    """Observed vs predicted risk at the landmark: risk groups with CIs and smoothed curves.

    Parameters
    ----------
    calibration
        One :class:`~ikaros.performance.LandmarkCalibration` or a mapping label -> one.
    ax
        Axes to draw into (default: a new figure).
    time_unit
        Unit named in the title.

    Returns
    -------
    Figure
    """
    fig, axes = _axes(ax)
    items = calibration if isinstance(calibration, Mapping) else {"model": calibration}
    with journal_style():
        top = 0.0
        for k, (label, cal) in enumerate(items.items()):
            color = PALETTE[k % len(PALETTE)]
            pred = np.array([g.predicted for g in cal.groups])
            obs = np.array([g.observed for g in cal.groups])
            err = np.array(
                [
                    [g.observed - g.lower for g in cal.groups],
                    [g.upper - g.observed for g in cal.groups],
                ]
            )
            axes.errorbar(
                pred,
                obs,
                yerr=err,
                fmt="o",
                color=color,
                ms=4,
                capsize=2,
                lw=0.8,
                label=f"{label}: risk groups (KM, 95% CI)"
                if len(items) > 1
                else "risk groups (observed KM, 95% CI)",
            )
            top = max(top, float(np.nanmax([g.upper for g in cal.groups])), float(pred.max()))
            if cal.smooth is not None:
                s = cal.smooth
                axes.plot(
                    s.grid,
                    s.curve,
                    color=color,
                    lw=1.2,
                    label=(f"{label}: " if len(items) > 1 else "") + f"smoothed (ICI {s.ici:.3f})",
                )
                top = max(top, max(s.curve), max(s.grid))
        lim = min(1.0, top * 1.08 + 0.02)
        axes.plot([0, lim], [0, lim], ls="--", color="#888888", lw=0.8, label="ideal")
        axes.set_xlim(0, lim)
        axes.set_ylim(0, lim)
        axes.set_aspect("equal", adjustable="box")
        first = next(iter(items.values()))
        axes.set_xlabel(f"Predicted risk by {first.time:g} {time_unit}")
        axes.set_ylabel(f"Observed risk by {first.time:g} {time_unit}")
        axes.set_title(f"Calibration at {first.time:g} {time_unit}", fontsize=SMALL_SIZE + 1)
        axes.legend(loc="upper left", fontsize=SMALL_SIZE - 1, frameon=False)
        _style(axes)
    return fig


def auc_figure(
    auc: Mapping[str, TimeAUC] | TimeAUC,
    *,
    ax: Axes | None = None,
    time_unit: str = "months",
) -> Figure:
    """Time-dependent AUC(t) with its pointwise confidence band, one line per model.

    Parameters
    ----------
    auc
        A :class:`~ikaros.performance.TimeAUC` over a grid of times, or a mapping label -> one.
    ax
        Axes to draw into (default: a new figure).
    time_unit
        Unit of the time axis.

    Returns
    -------
    Figure
    """
    fig, axes = _axes(ax)
    items = auc if isinstance(auc, Mapping) else {"model": auc}
    with journal_style():
        tmax = 0.0
        for k, (label, res) in enumerate(items.items()):
            color = PALETTE[k % len(PALETTE)]
            pts = [p for p in res.points if np.isfinite(p.auc)]
            t = np.array([p.time for p in pts])
            axes.fill_between(
                t, [p.lower for p in pts], [p.upper for p in pts], color=color, alpha=0.18, lw=0
            )
            axes.plot(t, [p.auc for p in pts], color=color, lw=1.3, label=label)
            tmax = max(tmax, float(t.max()) if t.size else 0.0)
        axes.axhline(0.5, ls="--", color="#888888", lw=0.8)
        axes.set_xlim(0, tmax * 1.02 if tmax > 0 else 1)
        axes.set_ylim(0.4, 1.0)
        axes.set_xlabel(f"Time ({time_unit})")
        axes.set_ylabel("AUC(t), cumulative/dynamic")
        pct = f"{100 * next(iter(items.values())).conf_level:g}%"
        axes.set_title(f"Time-dependent AUC with {pct} CI (IPCW)", fontsize=SMALL_SIZE + 1)
        if len(items) > 1:
            axes.legend(loc="upper right", fontsize=SMALL_SIZE - 1, frameon=False)
        _style(axes)
    return fig


def decision_figure(
    curves: Mapping[str, DecisionCurve] | DecisionCurve,
    *,
    ax: Axes | None = None,
    time_unit: str = "months",
) -> Figure:
    """Net benefit against threshold probability, with "treat all" and "treat none".

    Parameters
    ----------
    curves
        A :class:`~ikaros.performance.DecisionCurve` or a mapping label -> one (same landmark).
    ax
        Axes to draw into (default: a new figure).
    time_unit
        Unit named in the title.

    Returns
    -------
    Figure
    """
    fig, axes = _axes(ax)
    items = curves if isinstance(curves, Mapping) else {"model": curves}
    with journal_style():
        first = next(iter(items.values()))
        p = np.array([q.threshold for q in first.points])
        all_nb = np.array([q.treat_all for q in first.points])
        axes.plot(p, all_nb, color="#888888", lw=1.0, label="treat all")
        axes.axhline(0.0, color="#222222", lw=0.8, ls=":", label="treat none")
        top = float(np.nanmax(all_nb)) if np.isfinite(all_nb).any() else 0.1
        for k, (label, dc) in enumerate(items.items()):
            nb = np.array([q.net_benefit for q in dc.points])
            pts = np.array([q.threshold for q in dc.points])
            axes.plot(pts, nb, color=PALETTE[k % len(PALETTE)], lw=1.3, label=label)
            if np.isfinite(nb).any():
                top = max(top, float(np.nanmax(nb)))
        axes.set_ylim(-0.05 * max(top, 0.05), max(top, 0.05) * 1.15)
        axes.set_xlim(0, float(p.max()))
        axes.set_xlabel("Threshold probability")
        axes.set_ylabel("Net benefit")
        axes.set_title(f"Decision curve at {first.time:g} {time_unit}", fontsize=SMALL_SIZE + 1)
        axes.legend(loc="upper right", fontsize=SMALL_SIZE - 1, frameon=False)
        _style(axes)
    return fig
