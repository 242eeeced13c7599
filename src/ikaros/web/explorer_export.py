"""Downloads of the explorer's current chart: its data as an R ``survfit``-like table (CSV) and
the figure (PNG or SVG), drawn by the study report's Kaplan-Meier figure
(:func:`ikaros.report.figures.km.km_groups_figure`) from the same group summaries."""

from __future__ import annotations

import re
import tempfile
import threading
from pathlib import Path

from ikaros.report.tables import Table
from ikaros.web.explorer import Exploration

__all__ = ["explorer_csv", "explorer_figure", "export_name"]

#: matplotlib's style parameters are process-wide: one figure at a time
_DRAWING = threading.Lock()


def _num(x: float | None) -> str:
    return "NA" if x is None else repr(float(x))


def explorer_csv(ex: Exploration) -> str:
    """One row per group and distinct time, as R ``summary(survfit(...), censored = TRUE)``:
    strata, time, n.risk, n.event, n.censor, surv, lower, upper (log-log 95% CI, NA where
    undefined). Cells are formula-injection safe (:meth:`Table.to_csv`)."""
    rows = []
    for g in ex.view["groups"]:
        for i, t in enumerate(g["time"]):
            rows.append(
                (
                    str(g["label"]),
                    _num(t),
                    str(g["n_risk"][i]),
                    str(g["n_event"][i]),
                    str(g["n_censor"][i]),
                    _num(g["surv"][i]),
                    _num(g["lower"][i]),
                    _num(g["upper"][i]),
                )
            )
    header = ("strata", "time", "n.risk", "n.event", "n.censor", "surv", "lower", "upper")
    return Table("explorer", str(ex.view["title"]), header, tuple(rows)).to_csv()


def _p_text(p: float | None) -> str:
    if p is None:
        return "n/a"
    return "P < 0.001" if p < 0.001 else f"P = {p:.3f}"


def _short(label: str) -> str:
    """A group label without its cut values: ``Q2 (2.1-3.1)`` -> ``Q2``."""
    return re.sub(r" \(.*\)$", "", label)


def _tests(ex: Exploration) -> list[str]:
    v = ex.view
    lines = [f"log-rank {_p_text(v['p']['logrank'])}"]
    if v["p"].get("trend") is not None:
        lines[0] += f", trend {_p_text(v['p']['trend'])}"
    if v["p"].get("corrected") is not None:
        lines.append(f"search-corrected (Lau94) {_p_text(v['p']['corrected'])}; cut optimised")
    hr = v["hr"]
    for t in hr["terms"]:
        if t["hr"] is None:
            continue
        lines.append(
            f"HR {_short(t['group'])} vs {_short(hr['reference'])}: {t['hr']:.2f} "
            f"({t['lower']:.2f}\u2013{t['upper']:.2f}), {_p_text(t['p'])}"
        )
    if hr.get("method") == "firth":
        lines.append("Cox: Firth's penalised likelihood")
    return lines


def explorer_figure(ex: Exploration, fmt: str, xlim: float | None = None) -> bytes:
    """The current grouping as the report draws a Kaplan-Meier figure (``png`` or ``svg``)."""
    from ikaros.report.figures import save_figure
    from ikaros.report.figures.km import km_groups_figure

    v = ex.view
    with _DRAWING, tempfile.TemporaryDirectory(prefix="ikaros-explorer-") as tmp:
        fig = km_groups_figure(
            ex.groups,
            title=str(v["title"]),
            tests=_tests(ex),
            endpoint=str(v["endpoint"]),
            landmark=float(v["landmark"]),
            xlim=xlim,
        )
        png, svg = save_figure(fig, Path(tmp), "explorer")
        return (png if fmt == "png" else svg).read_bytes()


def export_name(ex: Exploration, ext: str) -> str:
    """A safe download name: ``km_os_b2m_mg_l_median.png``."""
    v = ex.view
    what = v["variable"] or f"{v['marker']}_{v['split']}"
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"km_{v['endpoint']}_{what}").strip("_.")
    return f"{stem[:100] or 'km'}.{ext}"
