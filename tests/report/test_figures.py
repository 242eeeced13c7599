"""Report figures: what is drawn must be what the results hold.

The at-risk numbers, censor marks, bands, legend, forest rows and box-plot counts are read back
from the matplotlib artists and compared with values derived here, independently of the figure
code, from the result objects. Rendering must be deterministic to the byte.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text

from ikaros.published import compare_with_paper
from ikaros.report.figures import (
    KM_WIDTH,
    PALETTE,
    forest_figure,
    km_figure,
    marker_figure,
    paper_figure,
    save_figure,
    time_ticks,
)
from ikaros.results import Analysis, Curve, GroupSummary, MarkerAssociation, Results
from tests.conftest import require_shared

MARKERS = ("IKZF1", "IKZF3", "CRBN", "BSG")
ENDPOINTS = ("pfs", "os")


@cache
def demo_results() -> Results:
    from ikaros.cohort import cohort_from_frame
    from ikaros.simulate import demo_cohort
    from ikaros.study import StudyOptions, run_study

    cohort = cohort_from_frame(demo_cohort(), markers=MARKERS, endpoints=ENDPOINTS)
    return run_study(cohort, StudyOptions(MARKERS, ENDPOINTS))


@cache
def _gse_results() -> Results:
    from ikaros.cohort import load_cohort
    from ikaros.study import StudyOptions, run_study

    options = StudyOptions(markers=("b2m_mg_l", "ldh"), endpoints=("efs", "os"))
    cohort = load_cohort(
        require_shared() / "gse24080" / "clinical.tsv",
        markers=options.markers,
        endpoints=options.endpoints,
        covariates=(),
        mapping={"patient_id": "patid", "cyto_high_risk": "cyto_abn"},
        time_unit="months",
    )
    return run_study(cohort, options)


@pytest.fixture(scope="module")
def demo() -> Results:
    return demo_results()


@pytest.fixture(scope="module")
def gse() -> Results:
    require_shared()
    return _gse_results()


# --------------------------------------------------------------------------- independent truth


def expected_at_risk(group: GroupSummary, t: float) -> int:
    """Number with time >= t: n at 0, else n_risk at the first curve time >= t, 0 past the end."""
    if t == 0:
        return group.n
    assert group.curve is not None
    for time, n_risk in zip(group.curve.time, group.curve.n_risk, strict=True):
        if time >= t:
            return n_risk
    return 0


def expected_cumulative(group: GroupSummary, t: float) -> tuple[int, int]:
    assert group.curve is not None
    c = group.curve
    events = sum(e for time, e in zip(c.time, c.n_event, strict=True) if time <= t)
    censored = sum(k for time, k in zip(c.time, c.n_censor, strict=True) if time <= t)
    return events, censored


def p_text(p: float) -> str:
    """How a P value is printed after "P": two significant digits, bounded at 0.001 and 0.99."""
    if p < 0.001:
        return "< 0.001"
    if p >= 0.995:
        return "> 0.99"
    return f"= {p:#.2g}"


def axes_by_label(fig: Figure, label: str) -> Axes:
    found = [ax for ax in fig.axes if ax.get_label() == label]
    assert len(found) == 1, f"axes {label!r}: {[a.get_label() for a in fig.axes]}"
    return found[0]


def km_ticks(fig: Figure) -> list[float]:
    ax = axes_by_label(fig, "km")
    lo, hi = ax.get_xlim()
    return [float(t) for t in ax.get_xticks() if lo - 1e-9 <= t <= hi + 1e-9]


def table_cells(fig: Figure, kind: str) -> dict[tuple[str, float], str]:
    """(group label of the row, x) -> text of the ``kind`` numbers in the at-risk axes."""
    ax = axes_by_label(fig, "at_risk")
    rows = {t.get_position()[1]: t.get_text() for t in ax.texts if t.get_label() == "row"}
    cells: dict[tuple[str, float], str] = {}
    for t in ax.texts:
        if t.get_label() != kind:
            continue
        x, y = t.get_position()
        key = (rows[y], float(x))
        assert key not in cells, f"two numbers at {key}"
        cells[key] = t.get_text()
    return cells


def at_risk_mismatches(
    fig: Figure, groups: dict[str, GroupSummary], *, counts: bool = False
) -> list[str]:
    """Every difference between the drawn table and the numbers derived from ``groups``."""
    ticks = km_ticks(fig)
    problems = []
    if not ticks or ticks[0] != 0:
        problems.append(f"ticks {ticks} do not start at 0")
    wanted: dict[str, dict[tuple[str, float], str]] = {"n_risk": {}}
    for g, group in groups.items():
        for t in ticks:
            wanted["n_risk"][(g, t)] = str(expected_at_risk(group, t))
    if counts:
        wanted["events"], wanted["censored"] = {}, {}
        for g, group in groups.items():
            for t in ticks:
                ev, ce = expected_cumulative(group, t)
                wanted["events"][(g, t)], wanted["censored"][(g, t)] = str(ev), str(ce)
    for kind, want in wanted.items():
        got = table_cells(fig, kind)
        for key in sorted(set(want) | set(got)):
            if want.get(key) != got.get(key):
                problems.append(f"{kind} {key}: drawn {got.get(key)!r}, expected {want.get(key)!r}")
    return problems


def groups_of(a: Analysis, grouping: str, subgroup: str | None = None) -> dict[str, GroupSummary]:
    if subgroup is not None:
        return dict(next(s for s in a.subgroups if s.name == subgroup).groups)
    return dict(a.groups if grouping == "q1" else a.quartile_groups)


# --------------------------------------------------------------------------- KM figures


@pytest.mark.parametrize("grouping", ["q1", "quartiles"])
@pytest.mark.parametrize("marker", MARKERS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_at_risk_table_matches_results(
    demo: Results, marker: str, endpoint: str, grouping: str
) -> None:
    a = demo.analysis(marker, endpoint)
    fig = km_figure(a, grouping=grouping)  # type: ignore[arg-type]
    groups = groups_of(a, grouping)
    assert at_risk_mismatches(fig, groups) == []
    cells = table_cells(fig, "n_risk")
    assert len(cells) == len(groups) * len(km_ticks(fig)) >= 2 * 5


def test_at_risk_counts_rows(demo: Results) -> None:
    a = demo.analysis("IKZF1", "pfs")
    for grouping in ("q1", "quartiles"):
        fig = km_figure(a, grouping=grouping, counts=True)  # type: ignore[arg-type]
        assert at_risk_mismatches(fig, groups_of(a, grouping), counts=True) == []
        headings = [
            t.get_text() for t in axes_by_label(fig, "at_risk").texts if t.get_label() == "heading"
        ]
        assert headings == ["Number at risk", "Cumulative events", "Cumulative censored"]


def test_at_risk_checker_can_fail(demo: Results) -> None:
    """The comparison catches a wrong number, a shifted number and a missing number."""
    a = demo.analysis("IKZF1", "pfs")
    groups = groups_of(a, "q1")
    fig = km_figure(a)
    cells = [t for t in axes_by_label(fig, "at_risk").texts if t.get_label() == "n_risk"]
    cells[3].set_text(str(int(cells[3].get_text()) + 1))
    assert len(at_risk_mismatches(fig, groups)) == 1
    cells[3].set_text(str(int(cells[3].get_text()) - 1))
    assert at_risk_mismatches(fig, groups) == []
    x, y = cells[4].get_position()
    cells[4].set_position((x + 0.5, y))
    assert at_risk_mismatches(fig, groups)
    cells[4].set_position((x, y))
    cells[5].remove()
    assert at_risk_mismatches(fig, groups)


def test_at_risk_numbers_centred_on_ticks_when_rendered(demo: Results) -> None:
    """After drawing, each number's box is centred on its tick (within half a pixel)."""
    a = demo.analysis("IKZF1", "os")
    fig = km_figure(a, grouping="quartiles")
    fig.set_dpi(200)
    fig.canvas.draw()  # type: ignore[attr-defined]
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    km = axes_by_label(fig, "km")
    tab = axes_by_label(fig, "at_risk")
    tick_px = {
        round(float(t), 6): km.transData.transform((t, 0))[0]
        for t in km.get_xticks()
        if km.get_xlim()[0] <= t <= km.get_xlim()[1]
    }
    label_px = {
        round(float(lbl.get_position()[0]), 6): lbl.get_window_extent(renderer)
        for lbl in km.get_xticklabels()
        if lbl.get_text()
    }
    numbers = [t for t in tab.texts if t.get_label() == "n_risk"]
    assert numbers
    for t in numbers:
        box = t.get_window_extent(renderer)
        x = round(float(t.get_position()[0]), 6)
        assert abs((box.x0 + box.x1) / 2 - tick_px[x]) < 0.5
        tick_box = label_px[x]  # centred under the tick label as well
        assert abs((box.x0 + box.x1) / 2 - (tick_box.x0 + tick_box.x1) / 2) < 0.5
    # rows do not overlap each other; row labels sit left of every number
    rows = sorted({t.get_position()[1] for t in numbers})
    for y0, y1 in itertools.pairwise(rows):
        b0 = [t.get_window_extent(renderer) for t in numbers if t.get_position()[1] == y0]
        b1 = [t.get_window_extent(renderer) for t in numbers if t.get_position()[1] == y1]
        assert min(b.y0 for b in b0) >= max(b.y1 for b in b1) - 0.5
    labels = [t.get_window_extent(renderer) for t in tab.texts if t.get_label() == "row"]
    assert max(b.x1 for b in labels) < min(t.get_window_extent(renderer).x0 for t in numbers)


def test_row_labels_coloured_like_curves(demo: Results) -> None:
    a = demo.analysis("CRBN", "pfs")
    fig = km_figure(a, grouping="quartiles")
    km = axes_by_label(fig, "km")
    curve_color = {ln.get_label(): ln.get_color() for ln in km.lines if ln.get_label()[0] != "_"}
    assert set(curve_color) == {"Q1", "Q2", "Q3", "Q4"}
    assert len(set(curve_color.values())) == 4
    assert set(curve_color.values()) <= set(PALETTE)
    for t in axes_by_label(fig, "at_risk").texts:
        if t.get_label() == "row":
            assert t.get_color() == curve_color[t.get_text()]


def censor_lines(ax: Axes) -> dict[str, Line2D]:
    return {
        ln.get_label().removeprefix("_censor "): ln
        for ln in ax.lines
        if ln.get_label().startswith("_censor ")
    }


@pytest.mark.parametrize("grouping", ["q1", "quartiles"])
def test_censor_marks_one_per_censored_patient(demo: Results, grouping: str) -> None:
    for a in demo.analyses:
        fig = km_figure(a, grouping=grouping)  # type: ignore[arg-type]
        marks = censor_lines(axes_by_label(fig, "km"))
        for g, group in groups_of(a, grouping).items():
            assert group.curve is not None
            c = group.curve
            n_censor = sum(c.n_censor)
            line = marks.get(g)
            drawn = 0 if line is None else len(line.get_xdata())  # type: ignore[arg-type]
            assert drawn == n_censor, (a.marker, a.endpoint, g)
            if line is not None:
                assert line.get_marker() in ("|", "+")
                assert line.get_linestyle() == "None"
                want = sorted(
                    (t, s)
                    for t, s, k in zip(c.time, c.surv, c.n_censor, strict=True)
                    for _ in range(k)
                )
                got = sorted(zip(line.get_xdata(), line.get_ydata(), strict=True))  # type: ignore[arg-type]
                assert np.allclose(got, want)


def test_curves_start_at_one_and_step_post(demo: Results) -> None:
    a = demo.analysis("IKZF1", "pfs")
    km = axes_by_label(km_figure(a), "km")
    curves = {ln.get_label(): ln for ln in km.lines if ln.get_label() in a.groups}
    assert set(curves) == {"Q1", "Q2-4"}
    for g, line in curves.items():
        x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        assert (x[0], y[0]) == (0.0, 1.0)
        assert line.get_drawstyle() == "steps-post"
        c = a.groups[g].curve
        assert c is not None
        assert np.allclose(x[1:], c.time) and np.allclose(y[1:], c.surv)


def test_ci_band_present(demo: Results) -> None:
    a = demo.analysis("IKZF1", "pfs")
    km = axes_by_label(km_figure(a), "km")
    bands = {c.get_label(): c for c in km.collections if isinstance(c, PolyCollection)}
    assert set(bands) == {"_ci Q1", "_ci Q2-4"}
    for g, group in a.groups.items():
        band = bands[f"_ci {g}"]
        assert 0 < band.get_alpha() < 0.5  # type: ignore[operator]
        verts = np.concatenate([p.vertices for p in band.get_paths()])
        assert group.curve is not None
        lows = [v for v in group.curve.lower if v is not None]
        highs = [v for v in group.curve.upper if v is not None]
        assert verts[:, 1].min() == pytest.approx(min(lows))
        assert verts[:, 1].max() == pytest.approx(1.0)
        assert max(highs) <= 1.0
        assert verts[:, 0].max() == pytest.approx(group.curve.time[-1])


def test_no_band_where_no_interval(demo: Results) -> None:
    """IKZF1 x OS: no death in Q1, so no interval there; Q2-4 still has its band."""
    a = demo.analysis("IKZF1", "os")
    assert a.groups["Q1"].events == 0
    km = axes_by_label(km_figure(a), "km")
    labels = {c.get_label() for c in km.collections if isinstance(c, PolyCollection)}
    assert labels == {"_ci Q2-4"}
    assert not {
        c.get_label()
        for c in axes_by_label(km_figure(a, ci=False), "km").collections
        if isinstance(c, PolyCollection)
    }


def legend_texts(fig: Figure) -> list[Text]:
    return [t for t in fig.texts if t.get_label() == "legend"]


def test_legend_groups_n_landmark_and_p(demo: Results) -> None:
    a = demo.analysis("IKZF1", "pfs")
    fig = km_figure(a)
    text = " | ".join(t.get_text() for t in legend_texts(fig))
    for g, group in a.groups.items():
        assert g in text and str(group.n) in text
        lm = group.landmark
        assert lm.lower is not None and lm.upper is not None
        assert f"{100 * lm.survival:.0f}% ({100 * lm.lower:.0f}–{100 * lm.upper:.0f}%)" in text
    assert f"Log-rank P {p_text(a.logrank.p)}" in text
    assert "3-year PFS (95% CI)" in text
    km = axes_by_label(fig, "km")
    assert km.get_ylabel() == "PFS probability"
    assert km.get_xlabel() == "Time (months)"
    quart = " | ".join(t.get_text() for t in legend_texts(km_figure(a, grouping="quartiles")))
    assert f"Log-rank P {p_text(a.logrank_quartiles.p)} (3 df)" in quart
    assert f"trend P {p_text(a.trend_quartiles.p)}" in quart


def test_legend_covers_no_curve(demo: Results) -> None:
    """The legend block lies where no step curve passes (checked on the rendered boxes)."""
    for a in demo.analyses:
        for grouping in ("q1", "quartiles"):
            fig = km_figure(a, grouping=grouping)  # type: ignore[arg-type]
            assert_legend_clear(fig)


def assert_legend_clear(fig: Figure) -> None:
    fig.canvas.draw()  # type: ignore[attr-defined]
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    km = axes_by_label(fig, "km")
    inv = km.transData.inverted()
    boxes = [t.get_window_extent(renderer) for t in legend_texts(fig) if t.get_text()]
    assert boxes
    x0 = min(b.x0 for b in boxes)
    x1 = max(b.x1 for b in boxes)
    y0 = min(b.y0 for b in boxes)
    y1 = max(b.y1 for b in boxes)
    (dx0, dy0), (dx1, dy1) = inv.transform([(x0, y0), (x1, y1)])
    for line in km.lines:
        if line.get_label().startswith("_"):
            continue
        x = np.asarray(line.get_xdata(), dtype=float)
        y = np.asarray(line.get_ydata(), dtype=float)
        # the step function takes y[i] on [x[i], x[i+1]] (vertical risers included)
        ends = np.append(x[1:], x[-1])
        inside = [y[i] for i in range(len(x)) if x[i] <= dx1 and ends[i] >= dx0]
        if inside:
            assert max(inside) < dy0 or min(inside) > dy1, line.get_label()


def test_legend_moves_to_header_when_curves_fill_the_plot(demo: Results) -> None:
    """Curves through every corner push the legend above the plot instead of over them."""
    a = demo.analysis("IKZF1", "pfs")

    def flat(level: float, n: int) -> GroupSummary:
        times = tuple(float(t) for t in range(1, 61))
        curve = Curve(
            time=times,
            n_risk=tuple(range(n, n - 60, -1)),
            n_event=(1,) + (0,) * 59,
            n_censor=(0,) + (1,) * 59,
            surv=(level,) * 60,
            lower=(None,) * 60,
            upper=(None,) * 60,
        )
        return dataclasses.replace(a.groups["Q1"], n=n, events=1, curve=curve)

    groups = {"A": flat(0.12, 80), "B": flat(0.5, 80), "C": flat(0.9, 80)}
    a2 = dataclasses.replace(a, groups=groups)
    fig = km_figure(a2)
    km = axes_by_label(fig, "km")
    fig.canvas.draw()  # type: ignore[attr-defined]
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    top = km.get_window_extent(renderer).y1
    assert all(t.get_window_extent(renderer).y0 >= top for t in legend_texts(fig) if t.get_text())
    assert at_risk_mismatches(fig, groups) == []
    title = next(t for t in fig.texts if t.get_label() == "title").get_window_extent(renderer)
    assert all(
        t.get_window_extent(renderer).y1 <= title.y0 for t in legend_texts(fig) if t.get_text()
    )


@pytest.mark.parametrize("name", ["standard risk", "high risk"])
def test_subgroup_curves(demo: Results, name: str) -> None:
    for marker in MARKERS:
        a = demo.analysis(marker, "pfs")
        fig = km_figure(a, subgroup=name)
        groups = groups_of(a, "q1", name)
        assert at_risk_mismatches(fig, groups) == []
        assert set(censor_lines(axes_by_label(fig, "km"))) <= set(groups)
        sg = next(s for s in a.subgroups if s.name == name)
        notes = [t.get_text() for t in fig.texts if t.get_label() == "note"]
        assert notes == ([f"Note: {sg.note}"] if sg.note else [])
    with pytest.raises(ValueError, match="no subgroup"):
        km_figure(a, subgroup="intermediate risk")
    with pytest.raises(ValueError, match="primary cut only"):
        km_figure(a, subgroup="high risk", grouping="quartiles")


def test_time_ticks() -> None:
    assert time_ticks(59.6) == (0, 12, 24, 36, 48, 60)
    assert time_ticks(98.5) == (0, 12, 24, 36, 48, 60, 72, 84, 96)
    assert time_ticks(45.5) == (0, 12, 24, 36, 48)
    assert time_ticks(20.0) == (0, 3, 6, 9, 12, 15, 18)
    assert time_ticks(150.0) == (0, 24, 48, 72, 96, 120, 144)
    assert time_ticks(7.3, "years") == (0, 1, 2, 3, 4, 5, 6, 7)


def test_figure_sizes(demo: Results) -> None:
    a = demo.analysis("IKZF1", "pfs")
    w, h = km_figure(a).get_size_inches()
    assert w == KM_WIDTH and 3.5 < h < 6.5
    assert forest_figure(demo, "pfs", kind="multivariable").get_size_inches()[0] == 7.0
    assert marker_figure(demo.marker_associations[0]).get_size_inches()[0] == 3.5
    assert paper_figure(compare_with_paper(demo)).get_size_inches()[0] == 7.0


# --------------------------------------------------------------------------- forest plots


def forest_rows(fig: Figure) -> list[tuple[float, str]]:
    ax = axes_by_label(fig, "forest")
    return sorted(
        (t.get_position()[1], t.get_text()) for t in ax.texts if t.get_label() == "row_label"
    )


def row_texts(fig: Figure, label: str) -> dict[float, str]:
    ax = axes_by_label(fig, "forest")
    return {t.get_position()[1]: t.get_text() for t in ax.texts if t.get_label() == label}


def test_firth_rows_carry_the_dagger(demo: Results) -> None:
    a = demo.analysis("IKZF1", "os")
    assert a.cox_group_multivariable is not None
    assert a.cox_group_multivariable.method == "firth"
    fig = forest_figure(demo, "os", kind="multivariable")
    rows = forest_rows(fig)
    labels = [label for _, label in rows]
    start = labels.index("IKZF1")
    block = labels[start : labels.index("IKZF3")]
    firth_head = next(i for i, s in enumerate(block) if s.startswith("Q2-4 vs Q1"))
    # the Firth model's heading and each of its terms end with the dagger, no other row does
    n_terms = len(a.cox_group_multivariable.terms)
    marked = block[firth_head : firth_head + 1 + n_terms]
    assert all(s.endswith("†") for s in marked), marked
    assert sum(s.endswith("†") for s in labels) == len(marked) == 3
    foot = [t.get_text() for t in fig.texts if t.get_label() == "footnote"]
    assert any(s.startswith("† Firth penalised likelihood") for s in foot)
    # the PFS models are ordinary fits: no dagger, no footnote
    pfs = forest_figure(demo, "pfs", kind="multivariable")
    assert not any(s.endswith("†") for _, s in forest_rows(pfs))
    assert not any("Firth" in t.get_text() for t in pfs.texts)


def test_multivariable_forest_values(demo: Results) -> None:
    fig = forest_figure(demo, "pfs", kind="multivariable")
    rows = forest_rows(fig)
    hr = row_texts(fig, "hr_text")
    p = row_texts(fig, "p_text")
    for marker in MARKERS:
        a = demo.analysis(marker, "pfs")
        mv = a.cox_multivariable
        assert mv is not None
        t = mv.terms[marker]
        y = next(y for y, s in rows if s == f"{marker}, per SD")
        assert hr[y] == f"{t.hr_per_sd:.2f} ({t.lower_per_sd:.2f}–{t.upper_per_sd:.2f})"
        assert p[y] == p_text(t.p).removeprefix("= ").replace(" ", "")
        assert any(s == f"Continuous marker (n = {mv.n}, {mv.events} events)" for _, s in rows)
        gm = a.cox_group_multivariable
        assert gm is not None
        assert any(s == f"{marker} Q2-4 vs Q1" for _, s in rows)
    # the points sit at the hazard ratios on a log axis with a reference line at 1
    ax = axes_by_label(fig, "forest")
    assert ax.get_xscale() == "log"
    assert any(
        list(ln.get_xdata()) == [1.0, 1.0]
        for ln in ax.lines  # type: ignore[arg-type]
    )
    points = sorted(
        float(ln.get_xdata()[0])  # type: ignore[index]
        for ln in ax.lines
        if ln.get_label() == "_hr"
    )
    values = sorted(
        (t.hr_per_sd if t.hr_per_sd is not None and name == a.marker else t.hr)
        for a in demo.analyses
        if a.endpoint == "pfs"
        for m in (a.cox_multivariable, a.cox_group_multivariable)
        if m is not None
        for name, t in m.terms.items()
    )
    assert np.allclose(points, values)


def test_clipped_intervals_get_arrows(demo: Results) -> None:
    fig = forest_figure(demo, "os", kind="multivariable")
    ax = axes_by_label(fig, "forest")
    lo, hi = ax.get_xlim()
    assert 0 < lo < 1 < hi < 1e4
    a = demo.analysis("IKZF1", "os")
    assert a.cox_group_multivariable is not None
    upper = a.cox_group_multivariable.terms["IKZF1 Q2-4 vs Q1"].upper
    assert upper > hi  # 738: beyond the axis
    arrows = [ln for ln in ax.lines if ln.get_label() == "_arrow"]
    assert any(
        ln.get_marker() == ">" and ln.get_xdata()[0] == hi  # type: ignore[index]
        for ln in arrows
    )
    # an infinite or missing bound does not break the axis either
    m = a.cox_group_multivariable
    term = dataclasses.replace(m.terms["IKZF1 Q2-4 vs Q1"], upper=math.inf, lower=float("nan"))
    m2 = dataclasses.replace(m, terms={**m.terms, "IKZF1 Q2-4 vs Q1": term})
    a2 = dataclasses.replace(a, cox_group_multivariable=m2)
    res2 = dataclasses.replace(demo, analyses=tuple(a2 if x is a else x for x in demo.analyses))
    fig2 = forest_figure(res2, "os", kind="multivariable")
    ax2 = axes_by_label(fig2, "forest")
    assert all(map(math.isfinite, ax2.get_xlim()))
    marks = {ln.get_marker() for ln in ax2.lines if ln.get_label() == "_arrow"}
    assert {"<", ">"} <= marks
    fig2.canvas.draw()  # type: ignore[attr-defined]


def test_subgroup_forest(demo: Results) -> None:
    fig = forest_figure(demo, "os", kind="subgroups")
    rows = forest_rows(fig)
    hr = row_texts(fig, "hr_text")
    p = row_texts(fig, "p_text")
    for marker in MARKERS:
        a = demo.analysis(marker, "os")
        y_head = next(y for y, s in rows if s == marker)
        assert a.interaction is not None and a.interaction.lr_p is not None
        assert hr[y_head] == "interaction (LR)"
        assert p[y_head] == p_text(a.interaction.lr_p).removeprefix("= ").replace(" ", "")
        for sg in a.subgroups:
            assert sg.cox_continuous is not None
            t = sg.cox_continuous.terms[marker]
            label = f"{sg.name[0].upper()}{sg.name[1:]} (n = {sg.n}, {sg.events} events)"
            y = next(y for y, s in rows if s.removesuffix(" †") == label and y > y_head)
            assert hr[y].startswith(f"{t.hr_per_sd:.2f} (")


# --------------------------------------------------------------------------- marker figure


def tick_counts(ax: Axes) -> dict[str, int]:
    out = {}
    for lbl in ax.get_xticklabels():
        name, n = lbl.get_text().split("\n")
        out[name] = int(re.fullmatch(r"n = (\d+)", n).group(1))  # type: ignore[union-attr]
    return out


def test_marker_figure_counts_and_p(demo: Results) -> None:
    for assoc in demo.marker_associations:
        fig = marker_figure(assoc)
        iss = axes_by_label(fig, "iss")
        resp = axes_by_label(fig, "response")
        roman = {"1": "ISS I", "2": "ISS II", "3": "ISS III"}
        assert tick_counts(iss) == {roman[k]: len(v) for k, v in assoc.values_by_iss.items()}
        assert list(tick_counts(iss)) == ["ISS I", "ISS II", "ISS III"]
        assert tick_counts(resp) == {k: len(v) for k, v in assoc.values_by_response.items()}
        assert list(tick_counts(resp)) == ["CR/VGPR", "PR/SD"]
        # every value is drawn once, as a point
        n_points = sum(len(c.get_offsets()) for c in iss.collections)  # type: ignore[arg-type]
        assert n_points == sum(len(v) for v in assoc.values_by_iss.values())
        p_iss = " ".join(t.get_text() for t in iss.texts if t.get_label() == "p_value")
        p_resp = " ".join(t.get_text() for t in resp.texts if t.get_label() == "p_value")
        assert assoc.iss_kruskal and assoc.iss_trend and assoc.response_mann_whitney
        assert "Kruskal–Wallis P" in p_iss and "Jonckheere–Terpstra P" in p_iss
        assert "Mann–Whitney P" in p_resp
        assert f"Mann–Whitney P {p_text(assoc.response_mann_whitney.p)}" in p_resp
        assert f"Kruskal–Wallis P {p_text(assoc.iss_kruskal.p)}" in p_iss


def test_marker_figure_jitter_is_fixed(demo: Results) -> None:
    assoc = demo.marker_associations[0]
    a = axes_by_label(marker_figure(assoc), "iss").collections[0].get_offsets()
    b = axes_by_label(marker_figure(assoc), "iss").collections[0].get_offsets()
    assert np.array_equal(a, b)  # type: ignore[arg-type]


def test_marker_figure_without_values() -> None:
    empty = MarkerAssociation("IKZF1", None, None, None)
    fig = marker_figure(empty)
    for label in ("iss", "response"):
        ax = axes_by_label(fig, label)
        assert any("not available" in t.get_text() for t in ax.texts)
    fig.canvas.draw()  # type: ignore[attr-defined]
    half = MarkerAssociation("X", None, None, None, values_by_iss={"1": (1.0, 2.0), "2": ()})
    fig = marker_figure(half)
    assert tick_counts(axes_by_label(fig, "iss")) == {"ISS I": 2, "ISS II": 0}
    assert any("not available" in t.get_text() for t in axes_by_label(fig, "response").texts)
    fig.canvas.draw()  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- paper figure


def test_paper_figure(demo: Results) -> None:
    rows = compare_with_paper(demo)
    fig = paper_figure(rows)
    texts = {
        lab: [t.get_text() for t in fig.texts if t.get_label() == lab]
        for lab in ("quantity", "paper", "cohort")
    }
    assert texts["paper"] == [r.published for r in rows]
    assert texts["cohort"] == [r.reproduced or "n/a" for r in rows]
    assert [q.rstrip("¹²³⁴⁵⁶⁷⁸⁹") for q in texts["quantity"]] == [r.quantity for r in rows]
    assert any(t.get_text() == "Kronke et al. 2017 vs this cohort" for t in fig.texts)


# --------------------------------------------------------------------------- saving


def _all_figures(res: Results) -> list[tuple[str, Callable[[], Figure]]]:
    a = res.analyses[0]
    ep = res.options.endpoints[0]
    return [
        ("km", lambda: km_figure(a, counts=True)),
        ("km_quartiles", lambda: km_figure(a, grouping="quartiles")),
        ("forest_mv", lambda: forest_figure(res, ep, kind="multivariable")),
        ("forest_sg", lambda: forest_figure(res, ep, kind="subgroups")),
        ("marker", lambda: marker_figure(res.marker_associations[0])),
        ("paper", lambda: paper_figure(compare_with_paper(res))),
    ]


def test_saved_bytes_are_identical_across_renders(demo: Results, tmp_path: Path) -> None:
    for stem, make in _all_figures(demo):
        png1, svg1 = save_figure(make(), tmp_path / "one", stem)
        png2, svg2 = save_figure(make(), tmp_path / "two", stem)
        assert png1.read_bytes() == png2.read_bytes(), stem
        assert svg1.read_bytes() == svg2.read_bytes(), stem
        assert png1.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        svg = svg1.read_text(encoding="utf-8")
        assert "<text" in svg  # text kept as text
        assert "<dc:date>" not in svg and "Matplotlib v" not in svg
        assert b"Software" not in png1.read_bytes()[:4096]


def test_png_is_300_dpi(demo: Results, tmp_path: Path) -> None:
    from PIL import Image

    fig = km_figure(demo.analyses[0])
    png, _ = save_figure(fig, tmp_path, "km")
    with Image.open(png) as im:
        w, h = im.size
        dpi = im.info["dpi"]
    assert round(dpi[0]) == 300
    assert all(abs(a - 300 * b) <= 1 for a, b in zip((w, h), fig.get_size_inches(), strict=True))


def test_saving_changes_no_global_rc(demo: Results, tmp_path: Path) -> None:
    import matplotlib

    before = dict(matplotlib.rcParams)
    save_figure(km_figure(demo.analyses[0]), tmp_path, "km")
    assert dict(matplotlib.rcParams) == before


# --------------------------------------------------------------------------- a real cohort


def test_gse24080_every_figure(gse: Results, tmp_path: Path) -> None:
    """565 patients, follow-up to ~98 months: all figure functions, at-risk table checked."""
    for a in gse.analyses:
        for grouping in ("q1", "quartiles"):
            fig = km_figure(a, grouping=grouping, counts=True)  # type: ignore[arg-type]
            assert at_risk_mismatches(fig, groups_of(a, grouping), counts=True) == []
            assert km_ticks(fig) == [0, 12, 24, 36, 48, 60, 72, 84, 96]
            assert_legend_clear(fig)
            marks = censor_lines(axes_by_label(fig, "km"))
            for g, group in groups_of(a, grouping).items():
                assert group.curve is not None
                assert len(marks[g].get_xdata()) == sum(group.curve.n_censor)  # type: ignore[arg-type]
        for s in a.subgroups:
            assert at_risk_mismatches(km_figure(a, subgroup=s.name), dict(s.groups)) == []
    for ep in gse.options.endpoints:
        for kind in ("multivariable", "subgroups"):
            save_figure(forest_figure(gse, ep, kind=kind), tmp_path, f"forest_{ep}_{kind}")  # type: ignore[arg-type]
    for assoc in gse.marker_associations:
        fig = marker_figure(assoc)
        assert tick_counts(axes_by_label(fig, "iss")) == {
            f"ISS {r}": len(assoc.values_by_iss[k])
            for k, r in (("1", "I"), ("2", "II"), ("3", "III"))
        }
        assert any("not available" in t.get_text() for t in axes_by_label(fig, "response").texts)
        save_figure(fig, tmp_path, f"marker_{assoc.marker}")
    save_figure(paper_figure(compare_with_paper(gse)), tmp_path, "paper")
    assert len(list(tmp_path.glob("*.png"))) == len(list(tmp_path.glob("*.svg"))) == 7
