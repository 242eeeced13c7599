"""End to end in headless Chromium (Debian's chromium, driven by Playwright; no browser download).

A real ``ikaros serve`` process on a free loopback port. The browser uploads the raw GSE24080
clinical table (its patient id column is ``patid``), maps the column in the page, sees the
overview, explores B2M by its median and OS by ISS stage -- the hazard ratios shown are those of
``ikaros analyze`` on the same file, run as a command --, moves the cut (the search-corrected p
appears), downloads the chart, runs the analysis grouped by protocol and sees its tables, figures
and REMARK profile in the page, downloads results.json and the report, deletes the analysis and
reads the audit log. Screenshots of every step go to ``IKAROS_SCREENSHOTS`` (default: the test's
temporary directory).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import CHROMIUM_FLAGS, require_shared

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """``ikaros serve`` on loopback; yields its base URL."""
    port = _free_port()
    exe = Path(sys.executable).with_name("ikaros")
    cmd = [str(exe), "serve", "--port", str(port), "--data-dir", str(tmp_path / "data")]
    env = {**os.environ, "IKAROS_DATABASE_URL": ""}
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((tmp_path / "server.log").read_text())
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium missing under CI: .ci/run must install it")
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_FLAGS))
        try:
            yield b
        finally:
            b.close()


def analyze_command(clinical: Path, out: Path) -> dict[str, Any]:
    """``ikaros analyze`` on the raw file, as a command: B2M by its median, ISS stage, OS."""
    exe = Path(sys.executable).with_name("ikaros")
    args = ["analyze", str(clinical), "--map", "patient_id=patid", "--endpoint", "os"]
    args += ["--marker", "b2m_mg_l", "--cut", "median", "--group", "iss", "--out", str(out), "-q"]
    done = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return dict(json.loads((out / "results.json").read_text()))


def hr_text(term: dict[str, Any]) -> str:
    """A hazard ratio as the explorer shows it: ``2.38 (1.74–3.24)``."""
    return f"{term['hr']:.2f} ({term['lower']:.2f}\u2013{term['upper']:.2f})"


def shown_hrs(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("#hr-table .hr-value").all_inner_texts()]


def test_gse24080_upload_map_explore_analyse(server: str, browser: Any, tmp_path: Path) -> None:
    clinical = require_shared() / "gse24080" / "clinical.tsv"
    cli = analyze_command(clinical, tmp_path / "cli")
    median_term = cli["analyses"][0]["cox_group"]["terms"]["b2m_mg_l high vs low"]
    iss_terms = cli["groupings"][0]["cox"]["terms"]
    assert list(iss_terms) == ["iss II vs I", "iss III vs I"]

    shots = Path(os.environ.get("IKAROS_SCREENSHOTS", tmp_path / "screens"))
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    problems: list[str] = []
    hosts: set[str] = set()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: hosts.add(re.sub(r"^(https?://[^/]+).*", r"\1", r.url)))

    # upload the raw file: the problem (no patient_id; the file has patid) and the mapping form
    page.goto(server + "/")
    page.screenshot(path=shots / "01_index.png", full_page=True)
    page.set_input_files("#upload-file", str(clinical))
    with page.expect_navigation():
        page.click("#upload-submit")
    assert re.search(r"/uploads/[0-9a-f]{32}$", page.url)
    problem = page.locator("#upload-problems tbody tr").inner_text()
    assert "'patid'" in problem and "--map patient_id=patid" in problem
    page.select_option("#map-patient-id", "")  # nothing chosen yet: as in the file
    page.screenshot(path=shots / "02_mapping.png", full_page=True)
    page.select_option("#map-patient-id", "patid")
    with page.expect_navigation():
        page.click("#mapping-submit")
    assert re.search(r"/cohorts/[0-9a-f]{32}$", page.url)
    cohort_url = page.url

    # the overview: endpoints, the mapping as the command line writes it, the markers
    rows = page.locator("#endpoint-table tbody tr").all_inner_texts()
    assert [r.split()[:3] for r in rows] == [["efs", "565", "254"], ["os", "565", "175"]]
    assert "ikaros analyze clinical.tsv --map patient_id=patid" in page.inner_text("#cohort-cli")
    assert page.is_checked("#analysis-form input[name=markers][value=b2m_mg_l]")
    assert page.locator("#analysis-form input[name=markers][value=cyto_abn]").count() == 0
    page.screenshot(path=shots / "03_cohort.png", full_page=True)

    # explore B2M, OS: the pre-specified lower quartile, then the median with its hazard ratio
    page.click("#explore-link")
    page.wait_for_selector("#km-chart svg path")
    assert page.input_value("#by-select") == "m:b2m_mg_l"
    page.select_option("#endpoint-select", "os")
    expect(page.locator("#explorer-title")).to_have_text(
        "OS by b2m_mg_l, lower quartile (Q1 vs Q2-4)"
    )
    page.select_option("#split-select", "median")
    expect(page.locator("#explorer-title")).to_have_text("OS by b2m_mg_l, median")
    assert shown_hrs(page) == [hr_text(median_term)]
    cohort_id = cohort_url.rsplit("/", 1)[1]
    api = page.request.get(
        f"{server}/api/v1/cohorts/{cohort_id}/explorer?marker=b2m_mg_l&endpoint=os&split=median"
    ).json()
    (term,) = api["hr"]["terms"]
    for key in ("hr", "lower", "upper", "p"):
        assert term[key] == pytest.approx(median_term[key], rel=1e-9), key
    assert api["p"]["logrank"] == pytest.approx(cli["analyses"][0]["logrank"]["p"], rel=1e-9)
    assert "pre-specified (median)" in page.inner_text("#cut-origin")
    page.screenshot(path=shots / "04_explore_b2m_median.png", full_page=True)
    box = page.locator("#km-chart svg").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.3)
    page.wait_for_selector(".km-tooltip", state="visible")
    assert "at risk" in page.inner_text(".km-tooltip").lower()
    with page.expect_download() as dl:
        page.click("#download-png")
    saved = tmp_path / "chart.png"
    dl.value.save_as(saved)
    assert saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert dl.value.suggested_filename == "km_os_b2m_mg_l_median.png"

    # move the cut: corrected p and the label "optimised" appear
    page.focus("#cut-slider")
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#p-corrected")).to_have_text(re.compile(r"\d"), timeout=10000)
    expect(page.locator("#cut-origin")).to_contain_text("optimised")
    page.screenshot(path=shots / "05_explore_moved_cut.png", full_page=True)

    # by ISS stage: two hazard ratios against stage I, as the command line computes them
    page.select_option("#by-select", "v:iss")
    expect(page.locator("#explorer-title")).to_have_text("OS by ISS stage")
    expect(page.locator("#hr-table .hr-value")).to_have_count(2)
    assert shown_hrs(page) == [
        hr_text(iss_terms["iss II vs I"]),
        hr_text(iss_terms["iss III vs I"]),
    ]
    assert page.locator("#p-trend-row").is_visible()
    expect(page.locator("#explorer")).not_to_have_class(re.compile("is-optimised"))
    page.screenshot(path=shots / "06_explore_iss.png", full_page=True)

    # the analysis grouped by protocol, with age as covariate: tables and figures in the page
    page.goto(cohort_url)
    for marker in ("alb_g_dl", "ldh", "crp"):
        page.uncheck(f"#analysis-form input[name=markers][value={marker}]")
    page.uncheck("#analysis-form input[name=endpoints][value=efs]")
    page.check("#analysis-form input[name=groups][value=protocol]")
    page.check("#analysis-form input[name=covariates][value=age]")
    with page.expect_navigation():
        page.click("#run-analysis")
    assert "/analyses/" in page.url
    status = page.inner_text("#analysis").lower()
    assert "queued queued" not in status and "done done" not in status
    page.screenshot(path=shots / "07_analysis_running.png")
    page.wait_for_selector("#results-figures", timeout=180_000)
    summary = page.inner_text("#results-summary")
    assert "b2m_mg_l" in summary and "protocol" in summary and "TT2 351, TT3 214" in summary
    titles = page.locator("#results-figures figcaption strong").all_inner_texts()
    assert any("by protocol" in t for t in titles) and any("Multivariable" in t for t in titles)
    images = page.locator("#results-figures img")
    for i in range(images.count()):
        images.nth(i).scroll_into_view_if_needed()
        expect(images.nth(i)).to_have_js_property("complete", True)
        assert images.nth(i).evaluate("img => img.naturalWidth") > 500
    assert "REMARK item 12" in page.inner_text("#remark")
    page.screenshot(path=shots / "08_analysis_results.png", full_page=True)
    with page.expect_download() as dl:
        page.click("#downloads a:text-is('results.json')")
    saved = tmp_path / "results.json"
    dl.value.save_as(saved)
    results = json.loads(saved.read_text())
    assert results["options"]["groups"] == ["protocol"]
    assert results["groupings"][0]["levels"][1]["label"] == "TT3"
    href = page.get_attribute("#downloads a:text-is('report.pdf')", "href")
    pdf = page.request.get(server + href)
    assert pdf.ok and pdf.body()[:5] == b"%PDF-"

    # delete the analysis (confirmed), then the audit log
    page.click("#delete-analysis")
    with page.expect_navigation():
        page.click("#confirm-delete")
    assert page.url == cohort_url
    assert page.locator("#analysis-list").count() == 0
    page.click("#audit-link")
    actions = page.locator("#audit-table tbody tr td:nth-child(3)").all_inner_texts()
    assert actions == ["delete", "download", "download", "analyse", "download", "upload"]
    page.screenshot(path=shots / "09_audit.png", full_page=True)

    assert problems == [], problems
    assert hosts == {server}, f"requests to other hosts: {hosts - {server}}"
    page.close()
