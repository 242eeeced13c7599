"""Figure files of markers whose names are not file names ('/', markup, spaces)."""

from __future__ import annotations

from pathlib import Path

from ikaros.cohort import cohort_from_frame
from ikaros.report.build import build_report, file_stem
from ikaros.simulate import DEMO_SEED, simulate_cohort
from ikaros.study import StudyOptions, run_study


def test_file_stem_keeps_plain_names_and_defuses_others() -> None:
    assert file_stem("km_IKZF1_pfs_q1") == "km_IKZF1_pfs_q1"
    odd = file_stem("km_</script>_pfs_q1")
    assert "/" not in odd and "<" not in odd and odd.startswith("km__script_")
    assert file_stem("km_a/b_pfs_q1") != file_stem("km_a b_pfs_q1")  # no collision
    assert file_stem("..") not in ("", ".", "..")


def test_report_for_a_marker_named_like_markup(tmp_path: Path) -> None:
    name = "</script> a/b"
    frame = simulate_cohort(DEMO_SEED).rename(columns={"IKZF1": name})
    frame = frame.astype(str).where(frame.notna(), None)
    cohort = cohort_from_frame(frame, markers=(name,), endpoints=("pfs",))
    results = run_study(cohort, StudyOptions(markers=(name,), endpoints=("pfs",)))
    out = tmp_path / "report"
    out.mkdir()
    written = build_report(results, out, pdf=False)
    assert all(out in p.parents for p in written)
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures and all("/" not in f and "<" not in f for f in figures)
    html = (out / "report.html").read_text()
    assert "&lt;/script&gt; a/b" in html and "</script> a/b" not in html
