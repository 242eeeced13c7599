"""The marker figure: the marker by ISS stage and by best response (box plots with the points)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullLocator
from matplotlib.transforms import offset_copy

from ikaros.report.figures._common import (
    _DARK,
    _NICE_HR,
    _mantissa,
    _measure,
    _new_figure,
    _p_equals,
)
from ikaros.report.style import (
    FONT_SIZE,
    GREY,
    PALETTE,
    SINGLE_COLUMN,
    SMALL_SIZE,
    journal_style,
)
from ikaros.results import BoxStats, MarkerAssociation

__all__ = ["JITTER_SEED", "marker_figure"]

#: Seed of the horizontal jitter of the points in the marker figure.
JITTER_SEED = 20170


_ROMAN = {"1": "I", "2": "II", "3": "III", "I": "I", "II": "II", "III": "III"}


def _iss_order(key: str) -> tuple[int, str]:
    order = {"I": 1, "II": 2, "III": 3}
    roman = _ROMAN.get(key.strip().upper().removeprefix("ISS").strip(), "")
    return (order.get(roman, 9), key)


def _finite_values(values: Sequence[float]) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    return arr[np.isfinite(arr)]


def _count(n: int) -> str:
    """A group size short enough for a tick label (40k for 39,794)."""
    return f"{n / 1000:.0f}k" if n >= 10_000 else str(n)


def _box_panel(
    ax: Axes,
    groups: list[tuple[str, np.ndarray, str]],
    *,
    log: bool,
    seed: int,
    boxes: Mapping[str, BoxStats] | None = None,
) -> None:
    """Jittered points and a box per group; where ``boxes`` has a sampled group, its box is drawn
    from the exact statistics (the points are a random sample) and its n is the whole group's."""
    boxes = boxes or {}
    rng = np.random.default_rng(seed)
    positions = np.arange(1, len(groups) + 1, dtype=float)
    for pos, (name, values, color) in zip(positions, groups, strict=True):
        if values.size == 0:
            continue
        jitter = rng.uniform(-0.17, 0.17, size=values.size)
        ax.scatter(
            pos + jitter,
            values,
            s=5,
            color=color,
            alpha=0.55 if values.size < 150 else 0.35,
            linewidths=0,
            zorder=2,
            label="_points",
            rasterized=False,
        )
        style: dict[str, Any] = {
            "positions": [pos],
            "widths": 0.52,
            "showfliers": False,
            "patch_artist": False,
            "medianprops": {"color": _DARK, "linewidth": 1.4},
            "boxprops": {"color": _DARK, "linewidth": 0.8},
            "whiskerprops": {"color": _DARK, "linewidth": 0.8},
            "capprops": {"color": _DARK, "linewidth": 0.8},
            "manage_ticks": False,
            "zorder": 3,
        }
        exact = boxes.get(name)
        if exact is not None and exact.sampled:  # the exact box of all patients
            box = {
                "med": exact.median,
                "q1": exact.q1,
                "q3": exact.q3,
                "whislo": exact.whisker_low,
                "whishi": exact.whisker_high,
                "fliers": [],
            }
            ax.bxp([box], **style)
        else:
            ax.boxplot([values], whis=1.5, **style)
    ax.set_xlim(0.4, len(groups) + 0.6)
    ax.set_xticks(
        positions,
        [
            f"{name}\nn = {_count(boxes[name].n if name in boxes else values.size)}"
            + ("*" if name in boxes and boxes[name].sampled else "")
            for name, values, _ in groups
        ],
    )
    ax.tick_params(axis="x", length=0, pad=3)
    if log:
        ax.set_yscale("log")


def _not_available(ax: Axes, text: str) -> None:
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=SMALL_SIZE,
        color=GREY,
        label="not_available",
    )
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def marker_figure(
    assoc: MarkerAssociation,
    *,
    ylabel: str | None = None,
    panels: Sequence[str] = ("iss", "response"),
) -> Figure:
    """The marker by ISS stage (I/II/III) and by best response (CR/VGPR vs PR/SD).

    Box plots (median, quartiles, whiskers to 1.5 IQR) with every patient's value as a point
    (horizontal jitter from a fixed seed), n under each box, the Kruskal-Wallis and
    Jonckheere-Terpstra P on the ISS panel and the Mann-Whitney P on the response panel. A log
    axis is used when all values are positive and span more than a factor of 20. A panel without
    values says "not available".

    Parameters
    ----------
    assoc
        The marker association of a results file.
    ylabel
        Label of the value axis; default ``"<marker> expression"``.
    panels
        The panels to draw, ``"iss"`` and/or ``"response"``; a panel left out is not drawn at
        all (the report says why), while a panel asked for without values says "not
        available".

    Returns
    -------
    Figure
        3.5 inches wide; axes labelled ``"iss"`` and ``"response"`` (those asked for).
    """
    panels = tuple(p for p in ("iss", "response") if p in panels)
    if not panels:
        raise ValueError("no panel to draw; give panels='iss' and/or 'response'")
    iss_keys = sorted(assoc.values_by_iss, key=_iss_order)
    iss_colors = (PALETTE[0], PALETTE[3], PALETTE[1], PALETTE[4], PALETTE[5])
    iss = [
        (
            f"ISS {_ROMAN.get(k.strip().upper(), k)}" if k.strip().upper() in _ROMAN else k,
            _finite_values(assoc.values_by_iss[k]),
            iss_colors[i % len(iss_colors)],
        )
        for i, k in enumerate(iss_keys)
    ]
    resp_keys = [k for k in assoc.response_groups if k in assoc.values_by_response]
    resp_keys += [k for k in assoc.values_by_response if k not in resp_keys]
    resp_colors = (PALETTE[2], PALETTE[1], PALETTE[3], PALETTE[4])
    resp = [
        (k, _finite_values(assoc.values_by_response[k]), resp_colors[i % len(resp_colors)])
        for i, k in enumerate(resp_keys)
    ]
    iss_boxes = {
        name: assoc.box_stats[k]
        for (name, _, _), k in zip(iss, iss_keys, strict=True)
        if k in assoc.box_stats
    }
    resp_boxes = {k: assoc.box_stats[k] for k in resp_keys if k in assoc.box_stats}
    sampled = any(b.sampled for b in (*iss_boxes.values(), *resp_boxes.values()))
    all_values = np.concatenate([v for _, v, _ in iss + resp] or [np.empty(0)])
    have_iss = any(v.size for _, v, _ in iss)
    have_resp = any(v.size for _, v, _ in resp)
    log = bool(
        all_values.size and np.all(all_values > 0) and all_values.max() / all_values.min() > 20
    )

    width, height = SINGLE_COLUMN, 2.75
    left, right, gap = 0.55, 0.08, 0.22
    bottom, top = 0.42, 0.62
    avail = width - left - right - gap
    n_iss, n_resp = max(len(iss), 2), max(len(resp), 2)
    iss_lines = []
    if assoc.iss_kruskal is not None:
        iss_lines.append(_rank_text("Kruskal–Wallis", assoc.iss_kruskal.p))
    if assoc.iss_trend is not None:
        iss_lines.append(_rank_text("Jonckheere–Terpstra", assoc.iss_trend.p))
    resp_lines = []
    if assoc.response_mann_whitney is not None:
        resp_lines.append(_rank_text("Mann–Whitney", assoc.response_mann_whitney.p))
    with journal_style():
        fig = _new_figure(width, height)
        # panel widths in proportion to the boxes, but wide enough for the P-value lines
        w_iss = avail * n_iss / (n_iss + n_resp)
        need_resp = max((_measure(fig, t, SMALL_SIZE - 0.5) for t in resp_lines), default=0) / 72
        need_iss = max((_measure(fig, t, SMALL_SIZE - 0.5) for t in iss_lines), default=0) / 72
        if avail - w_iss < need_resp + 0.05:
            w_iss = max(avail - need_resp - 0.05, need_iss + 0.02 - gap, avail * 0.5)
        w_resp = avail - w_iss
        if panels == ("iss",):
            w_iss = avail + gap
        elif panels == ("response",):
            w_resp, w_iss, gap = avail + gap, 0.0, 0.0
        ax_h = (height - bottom - top) / height
        ax1 = (
            fig.add_axes((left / width, bottom / height, w_iss / width, ax_h), label="iss")
            if "iss" in panels
            else None
        )
        ax2 = (
            fig.add_axes(
                ((left + w_iss + gap) / width, bottom / height, w_resp / width, ax_h),
                label="response",
            )
            if "response" in panels
            else None
        )
        if all_values.size:
            lo, hi = float(all_values.min()), float(all_values.max())
            if log:
                span = math.log10(hi / lo)
                ylim = (lo / 10 ** (0.06 * span), hi * 10 ** (0.06 * span))
            else:
                span = (hi - lo) or abs(hi) or 1.0
                ylim = (lo - 0.06 * span, hi + 0.06 * span)
        else:
            ylim = (0.0, 1.0)
        value_label = (ylabel or f"{assoc.marker} expression") + (" (log scale)" if log else "")
        n_lines = 2  # P-value lines under each panel title, so that the titles line up

        def header(ax: Axes, title: str, lines: list[str]) -> None:
            ax.text(
                0.0,
                1.0,
                title,
                transform=offset_copy(ax.transAxes, fig=fig, y=8.0 + 9.0 * n_lines, units="points"),
                ha="left",
                va="bottom",
                fontsize=FONT_SIZE,
                fontweight="bold",
                label="title",
            )
            for k, line in enumerate(lines):
                ax.text(
                    0.0,
                    1.0,
                    line,
                    transform=offset_copy(
                        ax.transAxes, fig=fig, y=6.0 + 9.0 * (n_lines - 1 - k), units="points"
                    ),
                    ha="left",
                    va="bottom",
                    fontsize=SMALL_SIZE - 0.5,
                    color=_DARK,
                    label="p_value",
                    parse_math=False,
                )

        if ax1 is not None and have_iss:
            _box_panel(ax1, iss, log=log, seed=JITTER_SEED, boxes=iss_boxes)
            ax1.set_ylim(*ylim)
            ax1.set_ylabel(value_label)
            header(ax1, "ISS stage", iss_lines)
        elif ax1 is not None:
            _not_available(ax1, "ISS stage:\nnot available")
            header(ax1, "ISS stage", [])
        if ax2 is not None and have_resp:
            _box_panel(ax2, resp, log=log, seed=JITTER_SEED + 1, boxes=resp_boxes)
            ax2.set_ylim(*ylim)
            if have_iss and ax1 is not None:
                ax2.tick_params(axis="y", labelleft=False)
            else:
                ax2.set_ylabel(value_label)
            header(ax2, "Best response", resp_lines)
        elif ax2 is not None:
            _not_available(ax2, "Best response:\nnot available")
            header(ax2, "Best response", [])
        if log:
            ticks = [v for v in _NICE_HR if ylim[0] <= v <= ylim[1]]
            if len(ticks) > 6:
                ticks = [v for v in ticks if _mantissa(v) in (1, 5)]
            for ax in (ax1, ax2):
                if ax is None or ax.get_yscale() != "log":
                    continue
                ax.yaxis.set_major_locator(FixedLocator(ticks))
                ax.yaxis.set_minor_locator(NullLocator())
                ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        if sampled:
            from ikaros.study.summary import MAX_POINTS

            fig.text(
                0.01,
                0.005,
                f"* points: a random sample of {MAX_POINTS:,} patients; boxes from all patients",
                fontsize=SMALL_SIZE - 1,
                color=GREY,
                ha="left",
                va="bottom",
                label="sample_note",
            )
    return fig


def _rank_text(name: str, p: float | None) -> str:
    return f"{name} {_p_equals(p)}"
