"""Uploaded names are data: escaped on every page, neutralised in CSV exports.

* A marker column called ``<script>alert(1)</script>``, a file name and patient ids with HTML show
  as text on every page (index, cohort, explorer, analysis, validation problems), never as
  markup; the JSON API returns them unchanged, as data.
* Spreadsheet formulas in names (``=HYPERLINK(...)``, ``+cmd``, ``@SUM(1)``, ``-2+3``) are
  neutralised with a leading ``'`` in the cohort overview CSV and in the report's tables; numbers
  such as ``-1.5`` are left alone.
"""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser

import pandas as pd
import pytest

from tests.web.conftest import AppFactory
from tests.web.security_support import (
    csv_bytes,
    demo_frame,
    page_csrf,
    post_file,
    run_analysis,
    upload_frame,
)

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
FILE_NAME = "<img src=x onerror=alert(3)>.csv"  # no "/": it survives as the display name
PATIENT = "<img src=x onerror=alert(2)>"
FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd", "@SUM(1)", "-2+3"]


@pytest.fixture(autouse=True)
def _no_app_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IKAROS_TOKEN", raising=False)


class _Markup(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.script_text.append(data)


def assert_no_injected_markup(html: str, where: str) -> None:
    assert "<script>alert" not in html, where
    assert "<img src=x" not in html, where
    page = _Markup()
    page.feed(html)
    for tag, attrs in page.tags:
        handlers = [a for a in attrs if a.startswith("on")]
        assert not handlers, (where, tag, attrs)
        if tag == "script":
            assert (attrs.get("src") or "").startswith("/static/"), (where, attrs)
        assert tag != "img" or attrs.get("src") != "x", where
    assert page.script_text == [], where


def _hostile_frame() -> pd.DataFrame:
    frame = demo_frame().rename(columns={"BSG": SCRIPT})
    frame.loc[0, "patient_id"] = PATIENT
    return frame


def test_uploaded_names_are_escaped_on_every_page(make_client: AppFactory) -> None:
    client = make_client()
    cohort = upload_frame(client, _hostile_frame(), FILE_NAME)
    # the API returns the names unchanged, as JSON data
    assert cohort["name"] == FILE_NAME
    assert SCRIPT in cohort["markers"]
    assert client.get(f"/api/v1/cohorts/{cohort['id']}").json()["markers"] == cohort["markers"]
    explored = client.get(
        f"/api/v1/cohorts/{cohort['id']}/explorer", params={"marker": SCRIPT, "endpoint": "pfs"}
    )
    assert explored.status_code == 200
    assert explored.headers["content-type"] == "application/json"
    assert explored.json()["marker"] == SCRIPT
    analysis = run_analysis(client, cohort["id"], [SCRIPT, "IKZF1"])
    assert analysis["params"]["markers"] == [SCRIPT, "IKZF1"]
    results = json.loads(client.get(f"/api/v1/analyses/{analysis['id']}/results.json").text)
    assert SCRIPT in json.dumps(results, ensure_ascii=False)

    pages = {
        "index": "/",
        "cohort": f"/cohorts/{cohort['id']}",
        "explore": f"/cohorts/{cohort['id']}/explore",
        "analysis": f"/analyses/{analysis['id']}",
        "audit": "/audit",
    }
    for where, path in pages.items():
        r = client.get(path)
        assert r.status_code == 200, where
        assert r.headers["content-type"].startswith("text/html")
        assert_no_injected_markup(r.text, where)
        assert ESCAPED_SCRIPT in r.text, where
    for where in ("index", "cohort", "explore", "analysis", "audit"):
        assert "&lt;img src=x onerror=alert(3)&gt;.csv" in client.get(pages[where]).text, where


def test_validation_problems_are_escaped(make_client: AppFactory) -> None:
    client = make_client()
    frame = _hostile_frame()
    frame.loc[1, "patient_id"] = PATIENT  # duplicate id: a problem naming the value
    frame["pfs_time"] = frame["pfs_time"].astype(object)
    frame.loc[2, "pfs_time"] = SCRIPT  # not a number: a problem naming the value
    token = page_csrf(client.get("/").text)
    r = post_file(
        client, csv_bytes(frame), FILE_NAME, url="/cohorts", form={"csrf_token": token}, headers={}
    )
    # the upload is kept for the mapping step: its page lists the problems beside the form
    assert r.status_code == 303
    assert r.headers["location"].startswith("/uploads/")
    r = client.get(r.headers["location"])
    assert r.status_code == 200
    assert_no_injected_markup(r.text, "upload problems")
    assert "&lt;img src=x onerror=alert(2)&gt;" in r.text or ESCAPED_SCRIPT in r.text
    assert "&lt;img src=x onerror=alert(3)&gt;.csv" in r.text
    assert f'<option value="{ESCAPED_SCRIPT}">' in r.text  # a column name in the mapping form
    index = client.get("/").text  # listed as awaiting its mapping
    assert_no_injected_markup(index, "index")
    assert "&lt;img src=x onerror=alert(3)&gt;.csv" in index
    # the API gives the same problems as data
    r = post_file(client, csv_bytes(frame), FILE_NAME)
    assert r.status_code == 422
    values = {p["value"] for p in r.json()["problems"]}
    assert values & {PATIENT, SCRIPT}, r.json()


# --- CSV formula injection ------------------------------------------------------------------


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def assert_csv_neutralised(text: str, where: str) -> list[str]:
    """No cell a spreadsheet would run as a formula; returns all cells."""
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    for cell in cells:
        if cell[:1] in ("=", "+", "@", "\t", "\r"):
            raise AssertionError(f"{where}: formula cell {cell!r}")
        if cell[:1] == "-" and not _is_number(cell):
            raise AssertionError(f"{where}: formula cell {cell!r}")
    return cells


def test_overview_csv_neutralises_formulas(make_client: AppFactory) -> None:
    client = make_client()
    frame = demo_frame()
    for i, name in enumerate(FORMULAS):
        frame[name] = frame["IKZF1"] * (i + 2)
    frame["-1.5"] = frame["CRBN"]
    frame.loc[:4, "-2+3"] = None  # some missingness, so the row has a non-zero fraction
    cohort = upload_frame(client, frame)
    assert set(FORMULAS) <= set(cohort["markers"])  # stored and returned as data
    r = client.get(f"/api/v1/cohorts/{cohort['id']}/overview.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith("attachment")
    cells = assert_csv_neutralised(r.text, "overview.csv")
    for name in FORMULAS:
        assert "'" + name in cells, name
    assert "-1.5" in cells  # a number stays a number
    assert "0.0833" in cells


def test_report_tables_neutralise_formulas(make_client: AppFactory) -> None:
    client = make_client()
    frame = demo_frame()
    hostile = ["=2+5+cmd|'calc'!A0", "@SUM(1)", "+cmd", "-2+3", IMG]
    for i, name in enumerate(hostile):
        frame[name] = frame["IKZF1"] * (i + 2) + frame["CRBN"]
    cohort = upload_frame(client, frame)
    analysis = run_analysis(client, cohort["id"], ["IKZF1", *hostile], report=True)
    tables = [f for f in analysis["files"] if f.startswith("tables/")]
    assert "tables/summary.csv" in tables
    seen: set[str] = set()
    for name in tables:
        r = client.get(f"/api/v1/analyses/{analysis['id']}/files/{name}")
        assert r.status_code == 200, name
        assert r.headers["content-disposition"].startswith("attachment")
        seen |= set(assert_csv_neutralised(r.text, name))
    for name in hostile[:4]:
        assert any(cell.startswith("'" + name) for cell in seen), name
    # the report page shows the HTML-like name as text (and is sandboxed: see test_security_http)
    report = client.get(f"/api/v1/analyses/{analysis['id']}/files/report.html").text
    assert_no_injected_markup(report, "report.html")
    assert "&lt;img src=x onerror=alert(1)&gt;" in report
