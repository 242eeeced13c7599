"""The study report: content agrees with results.json, self-contained HTML, PDF, failure modes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from ikaros.cli import app
from ikaros.cohort import cohort_from_frame, load_cohort
from ikaros.report.build import build_report
from ikaros.report.tables import fmt_p, fmt_pct
from ikaros.results import Results, load_results, to_json
from ikaros.simulate import demo_cohort
from ikaros.study import StudyOptions, run_study
from tests.conftest import CHROMIUM_FLAGS, require_shared

runner = CliRunner()
MARKERS = ("IKZF1", "IKZF3", "CRBN", "BSG")
ENDPOINTS = ("pfs", "os")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class _Tables(HTMLParser):
    """Collects the cells of every <table data-table=...> and the figure ids and sources."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.figures: list[str] = []
        self.sources: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("data-table"):
            self._table = a["data-table"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []
        elif tag == "figure" and a.get("data-figure"):
            self.figures.append(str(a["data-figure"]))
        for key in ("src", "href"):
            if a.get(key):
                self.sources.append(str(a[key]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, Path, _Tables]:
    cohort = cohort_from_frame(demo_cohort(), markers=MARKERS, endpoints=ENDPOINTS)
    results = run_study(cohort, StudyOptions(MARKERS, ENDPOINTS, seed=245))
    out = tmp_path_factory.mktemp("report")
    build_report(results, out)
    parser = _Tables()
    parser.feed((out / "report.html").read_text())
    return results, out, parser


def test_outputs_exist(demo_report: tuple[Results, Path, _Tables]) -> None:
    results, out, _ = demo_report
    assert (out / "report.html").stat().st_size > 10_000
    assert (out / "report.pdf").read_bytes()[:5] == b"%PDF-"
    pngs = sorted(p.stem for p in (out / "figures").glob("*.png"))
    svgs = sorted(p.stem for p in (out / "figures").glob("*.svg"))
    assert pngs == svgs and len(pngs) >= 2 * len(results.analyses)
    for name in (
        "summary",
        "characteristics",
        "landmark_survival",
        "cox_univariate",
        "cox_multivariable",
        "patient_flow",
    ):
        assert (out / "tables" / f"{name}.csv").is_file()


def test_html_is_self_contained(demo_report: tuple[Results, Path, _Tables]) -> None:
    _, out, parser = demo_report
    text = (out / "report.html").read_text()
    assert parser.sources, "the page should reference its images"
    for src in parser.sources:
        assert src.startswith(("data:", "#")), src
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", text)
    assert "Content-Security-Policy" in text


def test_landmark_table_matches_results(demo_report: tuple[Results, Path, _Tables]) -> None:
    results, _, parser = demo_report
    rows = parser.tables["landmark_survival"][1:]
    seen = 0
    for a in results.analyses:
        for grouping, groups in (("Q1 vs Q2-4", a.groups), ("quartiles", a.quartile_groups)):
            for label, g in groups.items():
                row = next(
                    r for r in rows if r[:4] == [a.marker, a.endpoint.upper(), grouping, label]
                )
                assert row[4] == str(g.n) and row[5] == str(g.events)
                assert row[6] == fmt_pct(g.landmark.survival)
                assert row[8] == str(g.landmark.n_risk)
                seen += 1
    assert seen == len(rows)


def test_summary_and_flow_match_results(demo_report: tuple[Results, Path, _Tables]) -> None:
    results, _, parser = demo_report
    summary = parser.tables["summary"][1:]
    for a, row in zip(results.analyses, summary, strict=True):
        assert row[0] == a.marker and row[2] == f"{a.n}/{a.events}"
        assert row[3] == fmt_pct(a.groups["Q1"].landmark.survival)
        assert row[5] == fmt_p(a.logrank.p)
    flow = parser.tables["patient_flow"]
    assert flow[1][2] == str(results.input.rows)
    events = {(r[0].strip()): r[3] for r in flow[1:]}
    assert events["IKZF1 x OS"] == str(results.analysis("IKZF1", "os").events)


def test_firth_and_methods_are_reported(demo_report: tuple[Results, Path, _Tables]) -> None:
    results, out, parser = demo_report
    text = (out / "report.html").read_text()
    assert any(m.method == "firth" for a in results.analyses for m in (a.cox_group,))
    assert "Firth&#39;s penalised likelihood" in text or "Firth's penalised likelihood" in text
    assert "Efron" in text and "log-log" in text
    cox_rows = parser.tables["cox_univariate"]
    assert any("†" in r[2] for r in cox_rows[1:])
    assert "paper_vs_cohort" in parser.figures
    for a in results.analyses:
        assert f"km_{a.marker}_{a.endpoint}_q1" in parser.figures


def test_reproducibility_footer(demo_report: tuple[Results, Path, _Tables]) -> None:
    results, out, _ = demo_report
    text = (out / "report.html").read_text()
    footer = text[text.index('id="reproducibility"') :]
    assert results.software["lifelines"] in footer and "seed 245" in footer


def test_report_is_deterministic(
    demo_report: tuple[Results, Path, _Tables], tmp_path: Path
) -> None:
    results, out, _ = demo_report
    build_report(results, tmp_path)
    assert (tmp_path / "report.html").read_bytes() == (out / "report.html").read_bytes()
    assert (tmp_path / "report.pdf").read_bytes() == (out / "report.pdf").read_bytes()


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdf_text_carries_the_estimates(demo_report: tuple[Results, Path, _Tables]) -> None:
    results, out, _ = demo_report
    text = subprocess.run(
        ["pdftotext", "-layout", str(out / "report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    a = results.analysis("IKZF1", "pfs")
    assert "REMARK" in text and "Reproducibility" in text
    assert f"{a.n}/{a.events}" in text
    assert fmt_pct(a.groups["Q1"].landmark.survival) in text


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (CI installs it)")
def test_html_renders_in_headless_chromium(
    demo_report: tuple[Results, Path, _Tables], tmp_path: Path
) -> None:
    _, out, parser = demo_report
    flags = ["--headless", *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    url = (out / "report.html").as_uri()
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert dom.count("<figure") == len(parser.figures)
    shot = tmp_path / "page.png"
    subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1200,2400", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[0] == 2400 and pixels.std() > 0.05  # not a blank page


def test_cli_report_command_and_schema_mismatch(tmp_path: Path) -> None:
    cohort = tmp_path / "c.csv"
    demo_cohort().to_csv(cohort, index=False)
    out = tmp_path / "r"
    r = runner.invoke(
        app, ["analyze", str(cohort), "-m", "IKZF1", "-e", "pfs", "-q", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["report", str(out), "-q", "--no-pdf"])
    assert r.exit_code == 0, r.output
    assert (out / "report.html").is_file() and not (out / "report.pdf").exists()
    data = json.loads((out / "results.json").read_text())
    data["schema_version"] = "2.0"
    old = tmp_path / "old"
    old.mkdir()
    (old / "results.json").write_text(json.dumps(data))
    r = runner.invoke(app, ["report", str(old)])
    assert r.exit_code == 2
    assert "schema version '2.0'" in r.output and "Remedy" in r.output
    assert "Traceback" not in r.output
    assert sorted(p.name for p in old.iterdir()) == ["results.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "results file not found"),
        ("{not json", "not valid JSON"),
        ('{"schema_version": "1.0"}', "does not follow results schema"),
    ],
)
def test_report_on_bad_results_file(tmp_path: Path, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / "results.json").write_text(content)
    r = runner.invoke(app, ["report", str(tmp_path)])
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output
    assert not (tmp_path / "report.html").exists()


def test_report_for_real_cohort_gse24080(tmp_path: Path) -> None:
    path = require_shared() / "gse24080" / "clinical.tsv"
    markers, endpoints = ("b2m_mg_l", "ldh"), ("efs", "os")
    cohort = load_cohort(
        path,
        markers=markers,
        endpoints=endpoints,
        mapping={"patient_id": "patid", "cyto_high_risk": "cyto_abn"},
    )
    results = run_study(cohort, StudyOptions(markers, endpoints))
    (tmp_path / "results.json").write_text(to_json(results))
    build_report(load_results(tmp_path), tmp_path)
    parser = _Tables()
    parser.feed((tmp_path / "report.html").read_text())
    chars = dict((r[0], r[1]) for r in parser.tables["characteristics"][1:])
    assert chars["Patients"] == "565"
    assert chars["EFS: evaluable / events"] == f"565 / {results.cohort.endpoints['efs'].events}"
    assert len(parser.figures) >= 8


@pytest.mark.skipif(shutil.which("pdfimages") is None, reason="needs poppler's pdfimages")
def test_pdf_images_are_the_figures(
    demo_report: tuple[Results, Path, _Tables], tmp_path: Path
) -> None:
    """Each image in report.pdf is a figure PNG pixel for pixel (RGB PNGs pass into the PDF
    unchanged: ikaros.report.pdf_images)."""
    _, out, _ = demo_report
    subprocess.run(
        ["pdfimages", "-png", str(out / "report.pdf"), str(tmp_path / "img")],
        check=True,
        timeout=120,
    )
    extracted = sorted(tmp_path.glob("img-*.png"))
    figures = {}
    for path in (out / "figures").glob("*.png"):
        with Image.open(path) as im:
            assert im.mode == "RGB", path.name  # opaque figures are written as RGB
            figures[path.name] = np.asarray(im)
    assert len(extracted) == len(figures)
    for path in extracted:
        with Image.open(path) as im:
            pixels = np.asarray(im.convert("RGB"))
        assert any(f.shape == pixels.shape and np.array_equal(f, pixels) for f in figures.values())
