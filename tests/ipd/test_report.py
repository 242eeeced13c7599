"""Figures and report of reconstructed data (the files themselves: tests/ipd/test_cli.py)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from matplotlib.figure import Figure

from ikaros.ipd.report import _figure_plan, ipd_sections
from ikaros.ipd.run import ArmSpec, CompetingSpec, IPDRun, run_ipd
from ikaros.report.figures import save_figure
from tests.conftest import ROOT

EXAMPLE = ROOT / "docs" / "examples" / "ipd"


@cache
def _run() -> IPDRun:
    return run_ipd(
        [
            ArmSpec("Rd", EXAMPLE / "rd_pfs.csv", EXAMPLE / "rd_atrisk.csv"),
            ArmSpec("KRd", EXAMPLE / "krd_pfs.csv", None, None, 396),
        ],
        [
            CompetingSpec(
                "maint",
                EXAMPLE / "cif_progression.csv",
                EXAMPLE / "cif_death.csv",
                EXAMPLE / "cif_atrisk.csv",
            )
        ],
        landmarks=(12.0,),
    )


def _texts(fig: Figure, axes_label: str, text_label: str) -> list[str]:
    ax = next(a for a in fig.axes if a.get_label() == axes_label)
    return [t.get_text() for t in ax.texts if t.get_label() == text_label]


def test_figure_plan_has_an_overlay_per_arm_and_the_comparison() -> None:
    stems = [job[0] for job in _figure_plan(_run())]
    assert stems == ["ipd_overlay_Rd", "ipd_overlay_KRd", "ipd_comparison", "ipd_overlay_cif_maint"]


def test_overlay_shows_published_and_reconstructed_numbers_at_risk() -> None:
    run = _run()
    fig = _figure_plan(run)[0][3]()
    table = run.arms[0].at_risk
    assert table is not None
    assert _texts(fig, "at_risk", "published") == [str(n) for n in table.n]
    assert _texts(fig, "at_risk", "reconstructed") == [str(n) for n in table.n]
    curves = next(a for a in fig.axes if a.get_label() == "curves")
    labels = [line.get_label() for line in curves.lines]
    assert "Digitised" in labels and "Reconstructed" in labels


def test_unreliable_arm_is_flagged_in_its_figures() -> None:
    plan = {job[0]: job[3] for job in _figure_plan(_run())}
    notes = [t.get_text() for t in plan["ipd_overlay_KRd"]().texts if t.get_label() == "note"]
    assert any("number of patients only" in n for n in notes)
    fig = plan["ipd_comparison"]()
    assert any("unreliable" in t.get_text() for t in fig.texts if t.get_label() == "note")


def test_figures_are_byte_identical_when_redrawn(tmp_path: Path) -> None:
    for stem, _, _, make in _figure_plan(_run()):
        a = save_figure(make(), tmp_path / "a", stem)
        b = save_figure(make(), tmp_path / "b", stem)
        assert a[0].read_bytes() == b[0].read_bytes(), stem
        assert a[1].read_bytes() == b[1].read_bytes(), stem


def test_sections_hold_the_tables_warnings_and_limits() -> None:
    sections = ipd_sections(_run().results, {})
    anchors = [s.anchor for s in sections]
    assert anchors == ["summary", "comparison", "landmarks", "reconstruction", "competing"]
    summary = sections[0]
    kinds = [b.kind for b in summary.blocks]
    assert kinds.count("warning") >= 2  # the arm and the comparison
    assert any("reliable only when" in b.text for b in summary.blocks if b.kind == "text")
    table = summary.blocks[0].table
    assert table is not None and [r[1] for r in table.rows] == [
        "at-risk table",
        "patients only (less reliable)",
    ]
