"""Figures from :class:`~ikaros.results.Results`, for notebooks: each returns a matplotlib Figure.

Without ``ax`` the function returns the report's figure (Kaplan-Meier with its numbers-at-risk
table and legend block; the forest plot; cumulative incidence with at-risk table), exactly as
``ikaros report`` draws it. With ``ax`` it draws the curves (or the forest) into your axes,
so that they can be combined with other panels, and returns ``ax.figure``; the at-risk table is
then left out (it needs its own axes). Nothing is estimated here: every number is read from the
results.

Examples
--------
>>> import ikaros, matplotlib.pyplot as plt  # doctest: +SKIP
>>> r = ikaros.analyze(ikaros.demo_cohort(), markers=["IKZF1"], endpoints=["pfs"])
>>> fig, (a, b) = plt.subplots(1, 2)  # doctest: +SKIP
>>> ikaros.plot.km(r, "IKZF1", "pfs", ax=a); ikaros.plot.forest(r, "pfs", ax=b)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ikaros.results import Results

__all__ = ["cumulative_incidence", "forest", "km"]


def _find(items: Any, what: str, **keys: str) -> Any:
    for item in items:
        if all(getattr(item, k) == v for k, v in keys.items()):
            return item
    shown = ", ".join(f"{k}={v!r}" for k, v in keys.items())
    raise KeyError(f"no {what} with {shown} in these results")


def km(
    results: Results,
    name: str,
    endpoint: str,
    *,
    grouping: str = "cut",
    ax: Axes | None = None,
    ci: bool = True,
) -> Figure:
    """Kaplan-Meier curves of a marker (by its cut, or ``grouping="quartiles"``) or of a
    ``--group`` variable (``name`` = the variable).

    Parameters
    ----------
    results
        From :func:`ikaros.analyze` or ``Results.from_json``.
    name, endpoint
        Marker or grouping variable, and endpoint.
    grouping
        ``"cut"`` (the pre-specified cut of the analysis) or ``"quartiles"`` (markers only).
    ax
        Draw into these axes (curves, bands, censor marks, legend) instead of a new figure.
    ci
        Draw the pointwise confidence bands.
    """
    from ikaros.report.figures import km_figure
    from ikaros.report.figures.grouping import grouping_figure

    o = results.options
    marker = next(
        (a for a in results.analyses if a.marker == name and a.endpoint == endpoint), None
    )
    if marker is not None:
        groups = marker.groups if grouping == "cut" else marker.quartile_groups
        if ax is None:
            return km_figure(
                marker,
                grouping="q1" if grouping == "cut" else "quartiles",
                landmark=o.landmark,
                ci=ci,
                label=o.labels.get(name),
                xlim=o.xlim,
            )
    else:
        g = _find(results.groupings, "grouping", variable=name, endpoint=endpoint)
        groups = g.groups
        if ax is None:
            return grouping_figure(g, landmark=o.landmark, ci=ci, xlim=o.xlim)
    return _draw_into(ax, groups, endpoint, ci=ci, xlim=o.xlim)


def _draw_into(ax: Axes, groups: Any, endpoint: str, *, ci: bool, xlim: float | None) -> Figure:
    from ikaros.report.figures._common import group_colors
    from ikaros.report.figures.km import draw_km

    colors = group_colors(list(groups))
    draw_km(ax, groups, colors=colors, ci=ci, xlim=xlim)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, xlim) if xlim is not None else ax.set_xlim(left=0)
    ax.set_xlabel("months")
    ax.set_ylabel(f"{endpoint.upper()} probability")
    handles = [ax.plot([], [], color=colors[k])[0] for k in groups]
    ax.legend(handles, [f"{k} (n = {g.n})" for k, g in groups.items()], frameon=False)
    return ax.figure  # type: ignore[return-value]


def forest(
    results: Results, endpoint: str, *, kind: str = "multivariable", ax: Axes | None = None
) -> Figure:
    """Forest plot of the multivariable Cox models (``kind="multivariable"``) or of the
    subgroups by cytogenetic risk (``kind="subgroups"``) of ``endpoint``."""
    from ikaros.report.figures import forest_figure

    if ax is None:
        return forest_figure(results, endpoint, kind=kind)  # type: ignore[arg-type]
    frame = results.to_frame()
    model = "multivariable" if kind == "multivariable" else "subgroup"
    rows = frame[(frame["endpoint"] == endpoint) & frame["model"].str.startswith(model)]
    if rows.empty:
        raise KeyError(f"no {kind} models for {endpoint!r} in these results")
    names = [str(v) for v in rows["name"]]
    terms = [str(v) for v in rows["term"]]
    models = [str(v).removeprefix("subgroup ") for v in rows["model"]]
    labels = [
        (t if t == n else f"{t} (model of {n})") if kind == "multivariable" else f"{n}, {m}"
        for n, t, m in zip(names, terms, models, strict=True)
    ]
    hr = rows["hr_per_sd"].fillna(rows["hr"]).to_numpy()
    lo = rows["lower_per_sd"].fillna(rows["lower"]).to_numpy()
    hi = rows["upper_per_sd"].fillna(rows["upper"]).to_numpy()
    y = list(range(len(rows)))[::-1]
    ax.errorbar(hr, y, xerr=[hr - lo, hi - hr], fmt="s", color="#333333", capsize=2)
    ax.axvline(1.0, color="#999999", linewidth=0.8, linestyle="--")
    ax.set_xscale("log")
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.7, len(y) - 0.3)
    ax.set_xlabel("hazard ratio (95% CI); markers per SD")
    return ax.figure  # type: ignore[return-value]


def cumulative_incidence(
    results: Results, name: str, endpoint: str, *, ax: Axes | None = None, naive: bool = True
) -> Figure:
    """Cumulative incidence of the event of interest by group (a marker's cut or a variable's
    levels) for a competing-risk endpoint; the naive 1 - Kaplan-Meier dashed as the contrast."""
    from ikaros.report.figures.competing import competing_figure

    c = _find(results.competing, "competing-risk analysis", name=name, endpoint=endpoint)
    if ax is None:
        return competing_figure(c, xlim=results.options.xlim, naive=naive)
    from ikaros.report.figures._common import group_colors
    from ikaros.report.figures.cif import draw_cif

    curves = {k: g.curve for k, g in c.groups.items() if g.curve is not None}
    colors = group_colors(list(curves))
    draw_cif(ax, {k: _cif_like(v) for k, v in curves.items()}, colors=colors)
    ax.set_xlabel("months")
    ax.set_ylabel(f"cumulative incidence of {c.event}")
    ax.set_ylim(bottom=0)
    handles = [ax.plot([], [], color=colors[k])[0] for k in curves]
    ax.legend(handles, list(curves), frameon=False)
    return ax.figure  # type: ignore[return-value]


class _CIF:
    """The stored incidence curve in the shape :func:`draw_cif` reads."""

    def __init__(self, curve: Any) -> None:
        import numpy as np

        self.time = np.asarray(curve.time, dtype=float)
        self.estimate = np.asarray(curve.cif, dtype=float)
        self.lower = np.asarray([np.nan if v is None else v for v in curve.lower], dtype=float)
        self.upper = np.asarray([np.nan if v is None else v for v in curve.upper], dtype=float)
        self.n_risk = np.asarray(curve.n_risk)
        self.n_event = np.asarray(curve.n_event)


def _cif_like(curve: Any) -> Any:
    return _CIF(curve)
