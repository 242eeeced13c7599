"""Treatment-course figures: what is drawn must be what the inputs hold.

Inputs are small seeded fake data built here: cumulative incidence step data (a hand-rolled
Aalen-Johansen estimate of simulated competing risks), a 32-patient course table shaped like the
lenalidomide-associated B-ALL series of Geyer et al. (Blood Adv 2023: B-ALL at median 54 months
from first lenalidomide after median 42 months of exposure, allo-HCTs, deaths, regressions after
withdrawal) and a mutation table (TP53 in 9 of 19 evaluable patients; a variant with cells not
evaluated). The expected numbers at
risk, step data, exposure intervals, marker counts, row order and frequencies are derived here
independently of the figure code and compared with the matplotlib artists.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from ikaros.report.figures import (
    cif_figure,
    oncoprint_figure,
    save_figure,
    swimmer_figure,
)
from ikaros.report.figures.cif import CIFLike

# --------------------------------------------------------------------------- fake inputs


@dataclass(frozen=True)
class FakeCIF:
    """Same attributes as ``ikaros.stats.competing.CIFCurve``."""

    group: str
    cause: str
    time: np.ndarray
    estimate: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    n_risk: np.ndarray


def _competing(n: int, rate_spm: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Times (months) and status: 1 SPM, 2 death without SPM, 0 censored."""
    rng = np.random.default_rng(seed)
    t_spm = rng.exponential(1 / rate_spm, n)
    t_death = rng.exponential(1 / 0.012, n)
    t_cens = rng.uniform(20, 130, n)
    time = np.minimum.reduce([t_spm, t_death, t_cens])
    status = np.where(time == t_spm, 1, np.where(time == t_death, 2, 0))
    return np.round(time, 1), status


def _aalen_johansen(
    group: str, time: np.ndarray, status: np.ndarray, cause: int, naive: bool
) -> FakeCIF:
    """Incidence of ``cause`` (naive: 1 - KM with the other cause censored), rough CI."""
    times = np.unique(time[status > 0])
    surv, cif = 1.0, 0.0
    est, n_risk, var = [], [], []
    for t in times:
        n = int(np.sum(time >= t))
        d = int(np.sum((time == t) & (status == cause)))
        d_all = int(np.sum((time == t) & (status > 0)))
        if naive:
            surv *= 1 - d / n
            cif = 1 - surv
        else:
            cif += surv * d / n
            surv *= 1 - d_all / n
        est.append(cif)
        n_risk.append(n)
        var.append(cif * (1 - cif) / max(n, 1))
    e = np.asarray(est)
    se = np.sqrt(np.asarray(var))
    lower = np.clip(e - 1.96 * se, 0, 1)
    upper = np.clip(e + 1.96 * se, 0, 1)
    if len(upper) > 6:
        upper[len(upper) // 2] = np.nan  # a missing limit: a gap in the band
    return FakeCIF(group, str(cause), times, e, lower, upper, np.asarray(n_risk, dtype=int))


@cache
def _cohorts() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {
        "Lenalidomide maintenance": _competing(140, 0.0016, 11),
        "Observation": _competing(110, 0.0007, 12),
    }


def cif_curves() -> dict[str, FakeCIF]:
    return {g: _aalen_johansen(g, t, s, 1, False) for g, (t, s) in _cohorts().items()}


def naive_curves() -> dict[str, FakeCIF]:
    return {f"{g}, 1 − KM": _aalen_johansen(g, t, s, 1, True) for g, (t, s) in _cohorts().items()}


N_COURSE = 32


@cache
def _course_rows() -> tuple[tuple[str, str, float], ...]:
    """32 courses: auto-HCT, lenalidomide maintenance (median ~42 months of exposure), B-ALL at
    median ~54 months from first lenalidomide, withdrawal at B-ALL while still on lenalidomide,
    5 regressions (3 then progressing), responses, allo-HCTs, deaths."""
    rng = np.random.default_rng(2023)
    rows: list[tuple[str, str, float]] = []
    regress = set(rng.choice(N_COURSE, 5, replace=False).tolist())
    for i in range(N_COURSE):
        pid = f"P{i + 1:02d}"

        def add(event: str, month: float, pid: str = pid) -> None:
            rows.append((pid, event, round(float(month), 1)))

        add("diagnosis", 0.0)
        if rng.random() < 0.75:
            auto = rng.uniform(5, 9)
            add("hct_auto", auto)
            len_start = auto + rng.uniform(2, 4)
        else:
            len_start = rng.uniform(1, 5)
        add("len_start", len_start)
        latency = float(np.clip(np.exp(rng.normal(np.log(54), 0.45)), 5, 119))
        spm = len_start + latency
        if i in regress or rng.random() < 0.6:  # on lenalidomide at B-ALL: withdrawn
            if rng.random() < 0.3 and latency > 30:  # one interruption
                pause = len_start + rng.uniform(0.3, 0.5) * latency
                add("len_stop", pause)
                add("len_start", pause + rng.uniform(2, 6))
            add("len_stop", spm + rng.uniform(0, 0.8))
        else:
            add("len_stop", len_start + latency * rng.uniform(0.35, 0.9))
        add("spm", spm)
        t = spm + 1.0
        if i in regress:
            t = spm + rng.uniform(2, 5)
            add("regression", t)
            if rng.random() < 0.7:
                t += rng.uniform(4, 10)
                add("progression", t)
        if rng.random() < 0.85:
            t += rng.uniform(1, 3)
            add("response", t)
            if rng.random() < 0.5:
                t += rng.uniform(3, 6)
                add("hct_allo", t)
        if rng.random() < 0.45:
            add("death", t + rng.uniform(1, 30))
        else:
            add("last_followup", t + rng.uniform(6, 55))
    return tuple(rows)


def course_table() -> pd.DataFrame:
    df = pd.DataFrame(list(_course_rows()), columns=["patient_id", "event", "month"])
    df["detail"] = ""
    return df.sample(frac=1.0, random_state=7).reset_index(drop=True)  # order must not matter


#: 19 evaluable patients; TP53 in 9 of them, two without any alteration.
EVALUATED = tuple(f"P{i:02d}" for i in range(1, 20))


def mutation_table() -> pd.DataFrame:
    rows = [
        *[(p, "TP53", "missense") for p in ("P01", "P03", "P04", "P07", "P09", "P12", "P15")],
        ("P02", "TP53", "Frame_Shift_Del"),
        ("P05", "TP53", "splice"),
        ("P03", "TP53", "deletion"),  # second alteration of the same gene: split cell
        *[(p, "Low hypodiploidy", "hypodiploidy") for p in ("P01", "P02", "P04", "P09", "P12")],
        *[(p, "IKZF1", "deletion") for p in ("P06", "P10", "P11", "P07")],
        ("P08", "CDKN2A", "deletion"),
        ("P13", "CDKN2A", "deletion"),
        ("P14", "NRAS", "missense"),
        ("P16", "KRAS", "missense"),
        ("P16", "NRAS", "missense"),
        ("P17", "BCR::ABL1", "fusion"),
        ("P06", "PAX5", "nonsense"),
        ("P10", "RB1", "amplification"),
        ("P11", "ETV6", "weird class"),
    ]
    return pd.DataFrame(rows, columns=["patient_id", "gene", "alteration"])


# --------------------------------------------------------------------------- artist helpers


def axes_by_label(fig: Figure, label: str) -> Axes:
    found = [ax for ax in fig.axes if ax.get_label() == label]
    assert len(found) == 1, f"axes {label!r}: {[a.get_label() for a in fig.axes]}"
    return found[0]


def visible_ticks(ax: Axes) -> list[float]:
    lo, hi = ax.get_xlim()
    return [float(t) for t in ax.get_xticks() if lo - 1e-9 <= t <= hi + 1e-9]


def all_texts(fig: Figure) -> list[Text]:
    """Every visible non-empty text: figure texts, axes texts, tick and axis labels."""
    texts: list[Text] = list(fig.texts)
    for ax in fig.axes:
        texts += ax.texts
        texts += [ax.xaxis.label, ax.yaxis.label]
        texts += ax.get_xticklabels() + ax.get_yticklabels()
    return [t for t in texts if t.get_visible() and t.get_text()]


def text_problems(fig: Figure) -> list[str]:
    """Overlapping texts and texts outside the figure, after rendering at 300 dpi."""
    fig.set_dpi(300)
    fig.canvas.draw()  # type: ignore[attr-defined]
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in all_texts(fig)]
    W, H = fig.bbox.width, fig.bbox.height
    problems = [
        f"{s!r} outside the figure"
        for s, b in boxes
        if b.x0 < -0.5 or b.y0 < -0.5 or b.x1 > W + 0.5 or b.y1 > H + 0.5
    ]
    for (s1, b1), (s2, b2) in itertools.combinations(boxes, 2):
        ox = min(b1.x1, b2.x1) - max(b1.x0, b2.x0)
        oy = min(b1.y1, b2.y1) - max(b1.y0, b2.y0)
        if ox > 1.0 and oy > 1.0:
            problems.append(f"{s1!r} overlaps {s2!r}")
    fig.set_dpi(100)
    return problems


# --------------------------------------------------------------------------- CIF


def expected_at_risk(curve: FakeCIF, t: float) -> int:
    for time, n in zip(curve.time, curve.n_risk, strict=True):
        if time >= t:
            return int(n)
    return 0


def at_risk_cells(fig: Figure) -> dict[tuple[str, float], str]:
    tab = axes_by_label(fig, "at_risk")
    rows = {t.get_position()[1]: t.get_text() for t in tab.texts if t.get_label() == "row"}
    cells: dict[tuple[str, float], str] = {}
    for t in tab.texts:
        if t.get_label() == "n_risk":
            x, y = t.get_position()
            key = (rows[y], float(x))
            assert key not in cells
            cells[key] = t.get_text()
    return cells


def at_risk_mismatches(fig: Figure, curves: dict[str, FakeCIF]) -> list[str]:
    ticks = visible_ticks(axes_by_label(fig, "cif"))
    want = {}
    for c in curves.values():
        for t in ticks:
            want[(c.group, t)] = str(expected_at_risk(c, t))
    got = at_risk_cells(fig)
    return [
        f"{k}: drawn {got.get(k)!r}, expected {want.get(k)!r}"
        for k in sorted(set(want) | set(got))
        if want.get(k) != got.get(k)
    ]


def test_fake_curves_satisfy_the_protocol() -> None:
    assert all(isinstance(c, CIFLike) for c in cif_curves().values())


def test_cif_at_risk_numbers_match_inputs() -> None:
    curves = cif_curves()
    fig = cif_figure(curves, naive=naive_curves())
    assert at_risk_mismatches(fig, curves) == []
    ticks = visible_ticks(axes_by_label(fig, "cif"))
    assert ticks[0] == 0 and len(ticks) >= 5
    assert len(at_risk_cells(fig)) == len(curves) * len(ticks)
    assert at_risk_cells(fig)[("Lenalidomide maintenance", 0.0)] == "140"


def test_cif_at_risk_checker_can_fail() -> None:
    curves = cif_curves()
    fig = cif_figure(curves)
    cells = [t for t in axes_by_label(fig, "at_risk").texts if t.get_label() == "n_risk"]
    cells[2].set_text(str(int(cells[2].get_text()) + 1))
    assert len(at_risk_mismatches(fig, curves)) == 1
    cells[2].set_text(str(int(cells[2].get_text()) - 1))
    x, y = cells[3].get_position()
    cells[3].set_position((x + 1.0, y))
    assert at_risk_mismatches(fig, curves)


def test_cif_at_risk_centred_on_ticks_when_rendered() -> None:
    fig = cif_figure(cif_curves(), naive=naive_curves())
    fig.set_dpi(200)
    fig.canvas.draw()  # type: ignore[attr-defined]
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ax = axes_by_label(fig, "cif")
    tick_px = {t: ax.transData.transform((t, 0))[0] for t in visible_ticks(ax)}
    label_px = {
        float(lbl.get_position()[0]): lbl.get_window_extent(renderer)
        for lbl in ax.get_xticklabels()
        if lbl.get_text()
    }
    numbers = [t for t in axes_by_label(fig, "at_risk").texts if t.get_label() == "n_risk"]
    assert numbers
    for t in numbers:
        box = t.get_window_extent(renderer)
        x = float(t.get_position()[0])
        assert abs((box.x0 + box.x1) / 2 - tick_px[x]) < 0.5
        lb = label_px[x]
        assert abs((box.x0 + box.x1) / 2 - (lb.x0 + lb.x1) / 2) < 0.5
    labels = [t for t in axes_by_label(fig, "at_risk").texts if t.get_label() == "row"]
    assert max(t.get_window_extent(renderer).x1 for t in labels) < min(
        t.get_window_extent(renderer).x0 for t in numbers
    )


def test_cif_steps_match_inputs() -> None:
    curves, naive = cif_curves(), naive_curves()
    fig = cif_figure(curves, naive=naive)
    ax = axes_by_label(fig, "cif")
    lines = {ln.get_label(): ln for ln in ax.lines}
    for key, c in curves.items():
        ln = lines[key]
        assert ln.get_drawstyle() == "steps-post"
        assert ln.get_linestyle() == "-"
        np.testing.assert_allclose(ln.get_xdata(), np.r_[0.0, c.time])
        np.testing.assert_allclose(ln.get_ydata(), np.r_[0.0, c.estimate])
    for key, c in naive.items():
        ln = lines[f"_naive {key}"]
        assert ln.get_linestyle() == "--"
        np.testing.assert_allclose(ln.get_ydata(), np.r_[0.0, c.estimate])
        # the naive estimate is never below the Aalen-Johansen one (same group)
        aj = curves[c.group]
        assert np.all(c.estimate >= np.interp(c.time, aj.time, aj.estimate) - 1e-12)
        assert ln.get_color() == lines[c.group].get_color()
    bands = [a for a in ax.collections if isinstance(a, PolyCollection)]
    assert sorted(b.get_label() for b in bands) == sorted(f"_ci {k}" for k in curves)


def test_cif_curve_starting_at_zero_is_not_doubled() -> None:
    c = FakeCIF(
        "All",
        "B-ALL",
        np.array([0.0, 5, 9]),
        np.array([0.0, 0.1, 0.2]),
        np.array([0.0, 0.02, np.nan]),
        np.array([0.0, 0.3, 0.4]),
        np.array([20, 18, 9]),
    )
    fig = cif_figure({"B-ALL": c}, title="One group")
    ln = next(ln for ln in axes_by_label(fig, "cif").lines if ln.get_label() == "B-ALL")
    np.testing.assert_allclose(ln.get_xdata(), [0, 5, 9])
    assert at_risk_mismatches(fig, {"B-ALL": c}) == []
    assert at_risk_cells(fig)[("All", 0.0)] == "20"


def test_cif_legend_and_layout() -> None:
    curves, naive = cif_curves(), naive_curves()
    fig = cif_figure(curves, naive=naive, title="Cumulative incidence of SPM")
    legend = [t.get_text() for t in fig.texts if t.get_label() == "legend"]
    assert legend[: len(curves) + len(naive)] == [*curves, *naive]
    assert any(s.startswith("Dashed: 1 − Kaplan-Meier") for s in legend)
    assert text_problems(fig) == []
    plain = cif_figure(curves, at_risk=False)
    assert [a.get_label() for a in plain.axes] == ["cif"]
    assert text_problems(plain) == []


def test_cif_two_causes_share_one_at_risk_row() -> None:
    t, s = _cohorts()["Observation"]
    c1 = _aalen_johansen("Observation", t, s, 1, False)
    c2 = _aalen_johansen("Observation", t, s, 2, False)
    fig = cif_figure({"SPM": c1, "Death without SPM": c2})
    rows = [t.get_text() for t in axes_by_label(fig, "at_risk").texts if t.get_label() == "row"]
    assert rows == ["Observation"]
    assert at_risk_mismatches(fig, {"SPM": c1}) == []


def test_cif_rejects_bad_curves() -> None:
    c = cif_curves()["Observation"]
    bad = FakeCIF(c.group, c.cause, c.time[::-1], c.estimate, c.lower, c.upper, c.n_risk)
    with pytest.raises(ValueError, match="increasing"):
        cif_figure({"x": bad})
    with pytest.raises(ValueError, match="no curves"):
        cif_figure({})


# --------------------------------------------------------------------------- swimmer


def expected_courses(df: pd.DataFrame) -> dict[str, dict]:
    """Lane end, exposure intervals and marker counts, derived from the table row by row."""
    out = {}
    for pid, rows in df.groupby("patient_id"):
        ev = sorted(zip(rows.month, rows.event, strict=True))
        months = {e: [m for m, x in ev if x == e] for e in set(rows.event)}
        end = max(months.get("death", []) + months.get("last_followup", []))
        spm = min(months.get("spm", [math.inf]))
        starts = months.get("len_start", [])
        stops = months.get("len_stop", [])
        bars = []
        for s in starts:
            after = [x for x in stops if x >= s]
            bars.append((s, min(after) if after else end))
        marks = {
            "spm": len(months.get("spm", [])),
            "withdrawal": sum(1 for x in stops if x >= spm),
            "regression": len(months.get("regression", [])),
            "progression": len(months.get("progression", [])),
            "response": len(months.get("response", [])),
            "hct_auto": len(months.get("hct_auto", [])),
            "hct_allo": len(months.get("hct_allo", [])),
            "death": int("death" in months),
            "alive": int("death" not in months),
        }
        out[str(pid)] = {"end": end, "bars": bars, "marks": marks, "spm": spm}
    return out


def lanes_drawn(fig: Figure) -> list[str]:
    ax = axes_by_label(fig, "swimmer")
    return [t.get_text() for t in ax.get_yticklabels()]


def test_swimmer_one_lane_per_patient() -> None:
    df = course_table()
    fig = swimmer_figure(df)
    ax = axes_by_label(fig, "swimmer")
    want = expected_courses(df)
    lanes = lanes_drawn(fig)
    assert sorted(lanes) == sorted(want) and len(lanes) == N_COURSE
    drawn = [ln for ln in ax.lines if ln.get_label().startswith("_lane ")]
    assert len(drawn) == N_COURSE
    for ln in drawn:
        pid = ln.get_label().split(" ", 1)[1]
        y = lanes.index(pid)
        assert list(ln.get_ydata()) == [y, y]
        assert list(ln.get_xdata()) == pytest.approx([0.0, want[pid]["end"]])
    # readable: 0.16 inch per lane at most 7 inches wide
    w, h = fig.get_size_inches()
    assert w == 7.0 and N_COURSE * 0.16 <= h <= N_COURSE * 0.16 + 1.5
    assert text_problems(fig) == []


def test_swimmer_exposure_bars_span_the_intervals() -> None:
    df = course_table()
    fig = swimmer_figure(df)
    ax = axes_by_label(fig, "swimmer")
    want = expected_courses(df)
    lanes = lanes_drawn(fig)
    got: dict[str, list[tuple[float, float]]] = {}
    for p in ax.patches:
        assert isinstance(p, Rectangle)
        if p.get_label().startswith("_len "):
            pid = p.get_label().split(" ", 1)[1]
            assert p.get_y() + p.get_height() / 2 == pytest.approx(lanes.index(pid))
            got.setdefault(pid, []).append((p.get_x(), p.get_x() + p.get_width()))
    assert set(got) == set(want)
    for pid, w in want.items():
        assert len(got[pid]) == len(w["bars"]), pid
        np.testing.assert_allclose(sorted(got[pid]), sorted(w["bars"]), err_msg=pid)
    assert any(len(w["bars"]) == 2 for w in want.values())  # interruptions are covered


def test_swimmer_marker_counts_and_positions() -> None:
    df = course_table()
    fig = swimmer_figure(df)
    ax = axes_by_label(fig, "swimmer")
    want = expected_courses(df)
    lanes = lanes_drawn(fig)
    markers = {
        ln.get_label()[len("_marker ") :]: ln
        for ln in ax.lines
        if ln.get_label().startswith("_marker ")
    }
    totals = {
        k: sum(w["marks"][k] for w in want.values()) for k in next(iter(want.values()))["marks"]
    }
    assert {k for k, v in totals.items() if v} == set(markers)
    for kind, ln in markers.items():
        assert len(ln.get_xdata()) == totals[kind], kind
    assert totals["regression"] == 5 and totals["spm"] == N_COURSE
    assert totals["death"] + totals["alive"] == N_COURSE
    # SPM stars sit on their own lanes at the SPM month
    for x, y in zip(markers["spm"].get_xdata(), markers["spm"].get_ydata(), strict=True):
        assert want[lanes[int(y)]]["spm"] == pytest.approx(x)
    # the legend names every marker kind drawn, plus the exposure bar
    legend = [t.get_text() for t in fig.texts if t.get_label() == "legend"]
    assert legend[0] == "Lenalidomide exposure"
    assert "Lenalidomide withdrawal" in legend and "Alive at last follow-up" in legend
    assert len(legend) == 1 + len(markers)


def test_swimmer_order() -> None:
    df = course_table()
    want = expected_courses(df)
    lanes = lanes_drawn(swimmer_figure(df))
    ends = [want[p]["end"] for p in lanes]
    assert ends == sorted(ends, reverse=True)
    lanes = lanes_drawn(swimmer_figure(df, order="spm"))
    spm = [want[p]["spm"] for p in lanes]
    assert spm == sorted(spm, reverse=True)
    with pytest.raises(ValueError, match="order"):
        swimmer_figure(df, order="age")


def test_swimmer_rejects_bad_tables() -> None:
    df = pd.DataFrame({"patient_id": ["A", "A"], "event": ["len_stop", "death"], "month": [3, 9]})
    with pytest.raises(ValueError, match="without a len_start"):
        swimmer_figure(df)
    df = pd.DataFrame({"patient_id": ["A"], "event": ["relapse"], "month": [3.0]})
    with pytest.raises(ValueError, match="unknown event"):
        swimmer_figure(df)
    with pytest.raises(ValueError, match="month"):
        swimmer_figure(pd.DataFrame({"patient_id": ["A"], "event": ["death"]}))


# --------------------------------------------------------------------------- oncoprint


def test_oncoprint_rows_by_frequency_and_percentages() -> None:
    df = mutation_table()
    fig = oncoprint_figure(df, patients=EVALUATED)
    ax = axes_by_label(fig, "oncoprint")
    genes = [t.get_text() for t in ax.get_yticklabels()]
    n_alt = {g: df.loc[df.gene == g, "patient_id"].nunique() for g in set(df.gene)}
    assert sorted(genes) == sorted(n_alt)
    assert [n_alt[g] for g in genes] == sorted(n_alt.values(), reverse=True)
    assert genes[:3] == ["TP53", "Low hypodiploidy", "IKZF1"]
    freq = {t.get_position()[1]: t.get_text() for t in ax.texts if t.get_label() == "freq"}
    count = {t.get_position()[1]: t.get_text() for t in ax.texts if t.get_label() == "count"}
    for i, g in enumerate(genes):
        assert freq[i] == f"{round(100 * n_alt[g] / 19)}%", g
        assert count[i] == f"{n_alt[g]}/19", g
    assert freq[0] == "47%" and count[0] == "9/19"
    assert text_problems(fig) == []


def test_oncoprint_columns_and_cells() -> None:
    df = mutation_table()
    fig = oncoprint_figure(df, patients=EVALUATED, title="Alterations")
    ax = axes_by_label(fig, "oncoprint")
    genes = [t.get_text() for t in ax.get_yticklabels()]
    cols = [t.get_text() for t in ax.get_xticklabels()]
    assert sorted(cols) == sorted(EVALUATED)
    altered = {(g, p) for g, p in zip(df.gene, df.patient_id, strict=True)}
    vectors = [tuple(int((g, p) in altered) for g in genes) for p in cols]
    assert vectors == sorted(vectors, reverse=True)  # lexicographic by the gene rows
    assert cols[-2:] == ["P18", "P19"]  # no alterations: right end, input order
    cells: dict[tuple[str, str], list[str]] = {}
    for p in ax.patches:
        if p.get_label().startswith("_cell "):
            g, pid, cls = p.get_label()[len("_cell ") :].split("|")
            assert genes.index(g) == pytest.approx(p.get_y() + 0.42, abs=0.43)
            assert cols.index(pid) == pytest.approx(p.get_x() + p.get_width() / 2)
            cells.setdefault((g, pid), []).append(cls)
    assert set(cells) == altered
    assert sorted(cells[("TP53", "P03")]) == ["deletion", "missense"]  # split cell
    assert cells[("TP53", "P02")] == ["frameshift"]
    assert cells[("ETV6", "P11")] == ["other"]
    empty = [p for p in ax.patches if p.get_label() == "_empty"]
    assert len(empty) == len(genes) * len(cols) - len(altered)
    legend = [t.get_text() for t in fig.texts if t.get_label() == "legend"]
    assert legend[0] == "Missense" and legend[-1] == "Not altered"
    assert text_problems(fig) == []


def test_oncoprint_denominator_and_errors() -> None:
    df = mutation_table()
    fig = oncoprint_figure(df)  # only the patients with alterations: 17
    ax = axes_by_label(fig, "oncoprint")
    assert next(t.get_text() for t in ax.texts if t.get_label() == "count") == "9/17"
    with pytest.raises(ValueError, match="not among the evaluated"):
        oncoprint_figure(df, patients=EVALUATED[:10])
    with pytest.raises(ValueError, match="column"):
        oncoprint_figure(df.drop(columns="alteration"))


#: Cells not evaluated, added to mutation_table(): gene -> patients (none of them altered there).
NOT_EVALUATED = {
    "TP53": {"P17", "P18", "P19"},
    "Low hypodiploidy": {"P06", "P16", "P17", "P18", "P19"},
    "IKZF1": {"P18"},
    "MYC": {"P01", "P02"},  # evaluated in the others, never altered: not drawn
}


def mutation_table_with_states() -> pd.DataFrame:
    """mutation_table() with not-evaluated cells and explicit unaltered cells (two spellings)."""
    extra = [(p, g, "not_evaluated") for g, ps in NOT_EVALUATED.items() for p in sorted(ps)]
    extra[0] = (*extra[0][:2], "Not evaluated")  # a usual spelling of the same state
    extra += [("P08", "TP53", "unaltered"), ("P10", "TP53", "wild-type")]
    extra += [("P14", "MYC", "unaltered")]
    rows = pd.DataFrame(extra, columns=["patient_id", "gene", "alteration"])
    return pd.concat([mutation_table(), rows], ignore_index=True)


def test_oncoprint_not_evaluated_cells_are_dark_and_leave_the_denominator() -> None:
    df = mutation_table_with_states()
    fig = oncoprint_figure(df, patients=EVALUATED)
    ax = axes_by_label(fig, "oncoprint")
    genes = [t.get_text() for t in ax.get_yticklabels()]
    cols = [t.get_text() for t in ax.get_xticklabels()]
    alt = mutation_table()
    altered = {g: set(alt.loc[alt.gene == g, "patient_id"]) for g in set(alt.gene)}
    assert sorted(genes) == sorted(altered)  # MYC, never altered, is not drawn
    # frequencies among the evaluated: the 19 patients minus the gene's not-evaluated cells
    freq = {t.get_position()[1]: t.get_text() for t in ax.texts if t.get_label() == "freq"}
    count = {t.get_position()[1]: t.get_text() for t in ax.texts if t.get_label() == "count"}
    for i, g in enumerate(genes):
        n_eval = 19 - len(NOT_EVALUATED.get(g, set()))
        assert count[i] == f"{len(altered[g])}/{n_eval}", g
        assert freq[i] == f"{round(100 * len(altered[g]) / n_eval)}%", g
    assert count[genes.index("TP53")] == "9/16" and freq[genes.index("TP53")] == "56%"
    assert count[genes.index("Low hypodiploidy")] == "5/14"
    # not-evaluated cells: where they belong, dark grey, never also coloured or light grey
    cells = [p for p in ax.patches if isinstance(p, Rectangle)]
    drawn: dict[str, set[str]] = {}
    for p in cells:
        label = str(p.get_label())
        if label.startswith("_not_evaluated "):
            g, pid = label[len("_not_evaluated ") :].split("|")
            assert genes.index(g) == pytest.approx(p.get_y() + 0.42)
            assert cols.index(pid) == pytest.approx(p.get_x() + p.get_width() / 2)
            assert to_hex(p.get_facecolor()) == "#595959"
            drawn.setdefault(g, set()).add(pid)
    assert drawn == {g: ps for g, ps in NOT_EVALUATED.items() if g in genes}
    # the unaltered rows ("unaltered", "wild-type") add no coloured cell (not even "other")
    labels = [str(p.get_label()) for p in cells]
    coloured = {tuple(s[len("_cell ") :].split("|")[:2]) for s in labels if s.startswith("_cell ")}
    assert coloured == {(g, p) for g, ps in altered.items() for p in ps}
    n_altered_cells = sum(len(ps) for ps in altered.values())
    n_ne = sum(len(ps) for ps in drawn.values())
    empty = [p for p in cells if p.get_label() == "_empty"]
    assert len(empty) == len(genes) * len(cols) - n_altered_cells - n_ne
    assert {to_hex(p.get_facecolor()) for p in empty} == {"#e4e4e4"}
    # columns: lexicographic by gene rows, altered < not altered < not evaluated

    def state(g: str, p: str) -> int:
        return 0 if p in altered[g] else 2 if p in NOT_EVALUATED.get(g, set()) else 1

    vectors = [tuple(state(g, p) for g in genes) for p in cols]
    assert vectors == sorted(vectors)
    assert cols[-2:] == ["P19", "P18"]  # P18: also not evaluated for IKZF1
    legend = [t.get_text() for t in fig.texts if t.get_label() == "legend"]
    assert legend[-2:] == ["Not altered", "Not evaluated"]
    assert text_problems(fig) == []


def test_oncoprint_without_not_evaluated_cells_has_no_such_legend_entry() -> None:
    fig = oncoprint_figure(mutation_table(), patients=EVALUATED)
    legend = [t.get_text() for t in fig.texts if t.get_label() == "legend"]
    assert "Not evaluated" not in legend
    assert not any(p.get_label().startswith("_not_evaluated") for p in fig.axes[0].patches)


def test_oncoprint_refuses_a_cell_both_evaluated_and_not() -> None:
    df = mutation_table_with_states()
    clash = pd.DataFrame([("P01", "TP53", "not_evaluated")], columns=df.columns)
    with pytest.raises(ValueError, match="TP53 of patient 'P01' is both not evaluated"):
        oncoprint_figure(pd.concat([df, clash], ignore_index=True), patients=EVALUATED)
    only_states = df.loc[df.alteration.isin(["not_evaluated", "unaltered"])]
    with pytest.raises(ValueError, match="no alterations to draw"):
        oncoprint_figure(only_states, patients=EVALUATED)


# --------------------------------------------------------------------------- bytes


def test_saved_bytes_are_identical_across_renders(tmp_path: Path) -> None:
    makers = {
        "cif": lambda: cif_figure(cif_curves(), naive=naive_curves(), title="SPM"),
        "swimmer": lambda: swimmer_figure(course_table()),
        "oncoprint": lambda: oncoprint_figure(mutation_table(), patients=EVALUATED),
        "oncoprint_states": lambda: oncoprint_figure(
            mutation_table_with_states(), patients=EVALUATED, title="Mutations"
        ),
    }
    for stem, make in makers.items():
        png1, svg1 = save_figure(make(), tmp_path / "one", stem)
        png2, svg2 = save_figure(make(), tmp_path / "two", stem)
        assert png1.read_bytes() == png2.read_bytes(), stem
        assert svg1.read_bytes() == svg2.read_bytes(), stem
        assert png1.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_swimmer_ongoing_exposure_and_lane_start() -> None:
    """Exposure without a stop runs to the end of the lane; a stop before the SPM is no
    withdrawal; a patient without death or last follow-up gets no end marker."""
    df = pd.DataFrame(
        {
            "patient_id": ["A"] * 5 + ["B"] * 4 + ["C"] * 2,
            "event": [
                *("diagnosis", "len_start", "spm", "len_stop", "last_followup"),
                *("len_start", "len_stop", "spm", "death"),
                *("len_start", "progression"),
            ],
            "month": [0, 6, 40, 40.5, 70, 3, 20, 30, 33, 2, 15],
        }
    )
    fig = swimmer_figure(df)
    ax = axes_by_label(fig, "swimmer")
    bars = {p.get_label(): (p.get_x(), p.get_x() + p.get_width()) for p in ax.patches}
    assert bars == {"_len A": (6, 40.5), "_len B": (3, 20), "_len C": (2, 15)}
    kinds = {ln.get_label(): len(ln.get_xdata()) for ln in ax.lines if "_marker" in ln.get_label()}
    assert kinds == {
        "_marker withdrawal": 1,
        "_marker spm": 2,
        "_marker progression": 1,
        "_marker death": 1,
        "_marker alive": 1,
    }
    assert lanes_drawn(fig) == ["A", "B", "C"]
    assert text_problems(fig) == []


def test_cif_legend_goes_to_a_header_when_the_plot_is_full() -> None:
    t = np.linspace(0.5, 30, 60)
    n_risk = np.arange(60, 0, -1)

    def flat(cause: str, level: float) -> FakeCIF:
        return FakeCIF("All", cause, t, np.full_like(t, level), 0 * t, 0 * t + 1, n_risk)

    curves = {f"Cause {k}": flat(str(k), lv) for k, lv in enumerate((0.05, 0.5, 0.95))}
    fig = cif_figure(curves, title="Full plot")
    ax = axes_by_label(fig, "cif")
    legend = [x for x in fig.texts if x.get_label() == "legend"]
    assert len(legend) == 3
    fig.canvas.draw()  # type: ignore[attr-defined]
    top = ax.get_window_extent().y1
    assert all(x.get_window_extent().y0 > top for x in legend)
    title = next(x for x in fig.texts if x.get_label() == "title")
    assert all(x.get_window_extent().y1 < title.get_window_extent().y0 for x in legend)
    assert text_problems(fig) == []


def test_course_module_names_the_figures() -> None:
    from ikaros.report.figures import course

    assert course.swimmer_figure is swimmer_figure
    assert course.cif_figure is cif_figure
    assert course.oncoprint_figure is oncoprint_figure
