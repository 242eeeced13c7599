"""End to end in headless Chromium (Debian's chromium, driven by Playwright; no browser download).

A real ``ikaros serve`` process on a free loopback port; the browser uploads the demo cohort,
sees the KM plot for IKZF1, moves the cut, runs the analysis and downloads the report. Screenshots
of every page go to ``IKAROS_SCREENSHOTS`` (default: the test's temporary directory).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import CHROMIUM_FLAGS

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


def test_upload_explore_analyse_download(
    server: str, browser: Any, demo_csv: Path, tmp_path: Path
) -> None:
    shots = Path(os.environ.get("IKAROS_SCREENSHOTS", tmp_path / "screens"))
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    problems: list[str] = []
    hosts: set[str] = set()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: hosts.add(re.sub(r"^(https?://[^/]+).*", r"\1", r.url)))

    # upload the demo cohort
    page.goto(server + "/")
    page.screenshot(path=shots / "01_index.png", full_page=True)
    page.set_input_files("#upload-file", str(demo_csv))
    with page.expect_navigation():
        page.click("#upload-submit")
    assert re.search(r"/cohorts/[0-9a-f]{32}$", page.url)
    cohort_url = page.url
    rows = page.locator("#endpoint-table tbody tr").all_inner_texts()
    assert rows[0].split()[:3] == ["pfs", "60", "30"]
    page.screenshot(path=shots / "02_cohort.png", full_page=True)

    # the KM plot for IKZF1 at the pre-specified cut
    page.click("#explore-link")
    page.wait_for_selector("#km-chart svg path")
    assert page.input_value("#marker-select") == "IKZF1"
    expect(page.locator("#p-logrank")).to_have_text(re.compile(r"\d"))
    cohort_id = cohort_url.rsplit("/", 1)[1]
    api = page.request.get(
        f"{server}/api/v1/cohorts/{cohort_id}/explorer?marker=IKZF1&endpoint=pfs"
    ).json()
    assert api["cut"]["origin"] == "prespecified"
    assert page.inner_text("#p-logrank").strip().startswith("0.0062")
    assert "pre-specified" in page.inner_text("#cut-origin")
    assert page.inner_text("#p-corrected").strip() == ""
    page.screenshot(path=shots / "03_explore_ikzf1.png", full_page=True)
    box = page.locator("#km-chart svg").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.3)
    page.wait_for_selector(".km-tooltip", state="visible")
    assert "at risk" in page.inner_text(".km-tooltip").lower()
    page.screenshot(path=shots / "04_explore_hover.png")

    # move the cut: corrected p and the "optimised" label appear
    page.focus("#cut-slider")
    for _ in range(12):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#p-corrected")).to_have_text(re.compile(r"\d"), timeout=10000)
    page.wait_for_timeout(500)  # let the debounced request settle
    index = int(page.input_value("#cut-slider"))
    cut = api["candidates"][index]
    moved = page.request.get(
        f"{server}/api/v1/cohorts/{cohort_id}/explorer?marker=IKZF1&endpoint=pfs&cut={cut}"
    ).json()
    assert moved["cut"]["origin"] == "optimised"
    assert "optimised" in page.inner_text("#cut-origin")
    shown = float(re.sub(r"[^0-9.e-]", "", page.inner_text("#p-corrected")))
    assert shown == pytest.approx(moved["p"]["corrected"], rel=0.05)
    page.screenshot(path=shots / "05_explore_moved_cut.png", full_page=True)

    # run the full analysis with the report, wait for it, download
    page.goto(cohort_url)
    with page.expect_navigation():
        page.click("#run-analysis")
    assert "/analyses/" in page.url
    page.screenshot(path=shots / "06_analysis_running.png")
    page.wait_for_selector("#downloads", timeout=180_000)
    page.screenshot(path=shots / "07_analysis_done.png", full_page=True)
    with page.expect_download() as dl:
        page.click("#downloads a:text-is('results.json')")
    saved = tmp_path / "results.json"
    dl.value.save_as(saved)
    results = json.loads(saved.read_text())
    assert [a["marker"] for a in results["analyses"]][:2] == ["IKZF1", "IKZF1"]
    href = page.get_attribute("#downloads a:text-is('report.pdf')", "href")
    pdf = page.request.get(server + href)
    assert pdf.ok and pdf.body()[:5] == b"%PDF-"
    href = page.get_attribute("#downloads a:text-is('report.html')", "href")
    report = browser.new_page(viewport={"width": 1280, "height": 900})
    report.goto(server + href)
    assert "IKZF1" in report.inner_text("body")
    report.screenshot(path=shots / "08_report.png")
    report.close()

    assert problems == []
    assert hosts == {server}, f"requests to other hosts: {hosts - {server}}"
    if shutil.which("true"):
        page.close()
