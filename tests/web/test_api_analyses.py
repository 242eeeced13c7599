"""Analyses through the API, on a real database (SQLite file and PostgreSQL server).

An analysis runs :func:`ikaros.study.run_study` in a worker process; its results.json must be
what the engine produces for the same cohort and options (``ikaros analyze``), recorded in the
database with its parameters and software versions, and its files downloadable.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from ikaros.cohort import load_cohort
from ikaros.results import to_json
from ikaros.study import StudyOptions, run_study, software_versions
from ikaros.web.db import Database
from ikaros.web.models import Analysis
from tests.web.conftest import AppFactory, csrf_headers, upload, wait_for_analysis

API = "/api/v1"


def demo_cohort(client: TestClient, path: Path) -> dict[str, Any]:
    r = upload(client, path)
    assert r.status_code == 201, r.text
    return dict(r.json())


def start(client: TestClient, cohort_id: str, **body: Any) -> dict[str, Any]:
    r = client.post(f"{API}/cohorts/{cohort_id}/analyses", json=body, headers=csrf_headers(client))
    assert r.status_code == 202, r.text
    return dict(r.json())


def analysis_dir(client: TestClient, analysis_id: str) -> Path:
    return Path(client.app.state.ctx.settings.analyses_dir) / analysis_id  # type: ignore[attr-defined]


def engine_results(
    csv: Path, markers: list[str], options: StudyOptions, *, command: str | None
) -> str:
    """results.json as ``ikaros analyze`` computes it, for the upload named ``csv.name``."""
    cohort = load_cohort(csv, markers=markers)
    cohort = replace(cohort, source=csv.name)  # the web names the cohort by its upload name
    return to_json(run_study(cohort, options, command=command))


def db_row(database_url: str, analysis_id: str) -> Analysis:
    db = Database(database_url)
    try:
        with db.session() as s:
            row = s.get(Analysis, analysis_id)
            assert row is not None
            return row
    finally:
        db.dispose()


def test_analysis_results_equal_the_engine(
    database_url: str, make_client: AppFactory, demo_csv: Path
) -> None:
    client = make_client(database_url=database_url)
    c = demo_cohort(client, demo_csv)
    a = start(client, c["id"], markers=["IKZF1", "CRBN", "IKZF1"], landmark=24, report=False)
    assert a["status"] in ("queued", "running")
    assert a["report"] is False
    assert a["params"] == {
        "markers": ["IKZF1", "CRBN"],  # duplicates dropped, order kept
        "endpoints": ["pfs", "os"],  # default: every endpoint of the cohort
        "groups": [],
        "covariates": [],
        "references": {},
        "landmark": 24.0,
        "cut": "quartile",
        "transform": "none",
        "xlim": None,
        "title": None,
        "measurement": None,
        "treatment": None,
        "treatment_reference": None,
        "performance": False,
        "base_model": [],
        "performance_bootstrap": 200,
    }
    done = wait_for_analysis(client, a["id"])
    assert done["status"] == "done", done
    assert done["error"] is None
    assert done["progress"] == 1.0
    assert done["files"] == ["results.json"]  # no report asked for
    assert done["finished_at"] is not None

    r = client.get(f"{API}/analyses/{a['id']}/results.json")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    text = r.text
    assert (analysis_dir(client, a["id"]) / "results.json").read_text() == text
    download = client.get(f"{API}/analyses/{a['id']}/files/results.json")
    assert download.status_code == 200
    assert download.text == text

    # the same computation through the engine, byte for byte apart from the command line
    options = StudyOptions(
        markers=("IKZF1", "CRBN"), endpoints=("pfs", "os"), landmark=24.0, cut="quartile"
    )
    command = json.loads(text)["command"]
    assert command == f"ikaros serve: analysis {a['id']}"
    assert text == engine_results(demo_csv, c["markers"], options, command=command)
    results = json.loads(text)
    assert results["input"]["sha256"] == hashlib.sha256(demo_csv.read_bytes()).hexdigest()
    assert (results["input"]["source"], results["input"]["rows"]) == ("demo_cohort.csv", 60)

    # recorded in the database: parameters, software versions, results.json and its digest
    row = db_row(database_url, a["id"])
    assert row.status == "done"
    assert row.params == a["params"]
    assert row.with_report is False
    assert row.software == software_versions()
    assert row.software == results["software"]
    assert row.results_json == text
    assert row.results_sha256 == hashlib.sha256(text.encode()).hexdigest() == done["results_sha256"]
    assert row.started_at is not None and row.finished_at is not None
    assert row.started_at <= row.finished_at

    listed = client.get(f"{API}/cohorts/{c['id']}/analyses").json()
    assert [x["id"] for x in listed] == [a["id"]]


def test_analysis_with_report_and_downloads(
    database_url: str, make_client: AppFactory, demo_csv: Path
) -> None:
    client = make_client(database_url=database_url)
    c = demo_cohort(client, demo_csv)
    a = start(client, c["id"], markers=["IKZF1"], endpoints=["pfs"], cut="optimal")
    assert a["report"] is True
    done = wait_for_analysis(client, a["id"])
    assert done["status"] == "done", done
    files = done["files"]
    assert files[:3] == ["results.json", "report.html", "report.pdf"]
    tables = [f for f in files if f.startswith("tables/")]
    assert tables, files
    assert all(f.endswith(".csv") for f in tables)
    assert (
        json.loads(client.get(f"{API}/analyses/{a['id']}/results.json").text)["options"]["cut"]
        == "optimal"
    )

    html = client.get(f"{API}/analyses/{a['id']}/files/report.html")
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert "inline" in html.headers["content-disposition"]
    assert "sandbox" in html.headers["content-security-policy"]
    assert "IKZF1" in html.text
    assert html.content == (analysis_dir(client, a["id"]) / "report.html").read_bytes()

    pdf = client.get(f"{API}/analyses/{a['id']}/files/report.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    for name in tables:
        r = client.get(f"{API}/analyses/{a['id']}/files/{name}")
        assert r.status_code == 200, name
        assert r.headers["content-type"].startswith("text/csv"), name
        assert "attachment" in r.headers["content-disposition"]
        assert r.content == (analysis_dir(client, a["id"]) / name).read_bytes()
        assert len(r.text.splitlines()) >= 2, name  # header and at least one row

    # the figures: PNG shown inline (the analysis page), attachments on request; SVG attachment
    figures = [f for f in files if f.startswith("figures/")]
    assert "figures/km_IKZF1_pfs_q1.png" in figures and "figures/km_IKZF1_pfs_q1.svg" in figures
    png = client.get(f"{API}/analyses/{a['id']}/files/figures/km_IKZF1_pfs_q1.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert "inline" in png.headers["content-disposition"]
    png = client.get(f"{API}/analyses/{a['id']}/files/figures/km_IKZF1_pfs_q1.png?download=1")
    assert "attachment" in png.headers["content-disposition"]
    svg = client.get(f"{API}/analyses/{a['id']}/files/figures/km_IKZF1_pfs_q1.svg")
    assert "attachment" in svg.headers["content-disposition"]
    assert "default-src 'none'" in svg.headers["content-security-policy"]

    # only the listed files can be downloaded
    for name in ("figures", "report.htm", "tables", "secret.key", "figures/nothing.png"):
        r = client.get(f"{API}/analyses/{a['id']}/files/{name}")
        assert r.status_code == 404, name


def test_downloads_of_an_unfinished_analysis(
    database_url: str, make_client: AppFactory, demo_csv: Path
) -> None:
    """While queued or running: no files, results.json answers 409 (not 500, not 404)."""
    client = make_client(database_url=database_url)
    c = demo_cohort(client, demo_csv)
    a = start(client, c["id"], markers=["IKZF1"], endpoints=["pfs"], report=False)
    r = client.get(f"{API}/analyses/{a['id']}/results.json")
    if r.status_code != 200:  # it may have finished already on a fast machine
        assert r.status_code == 409
        assert "results.json exists once done" in r.json()["detail"]
    r = client.get(f"{API}/analyses/{a['id']}/files/report.html")
    assert r.status_code == 404
    wait_for_analysis(client, a["id"])


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"markers": ["NOPE"]}, "unknown marker"),
        ({"markers": ["IKZF1", "pfs_time"]}, "unknown marker"),
        ({"markers": ["IKZF1"], "endpoints": ["efs"]}, "unknown endpoint"),
        ({"markers": []}, "marker or grouping variable"),
        ({"markers": ["IKZF1"], "cut": "best"}, "cut"),
        ({"markers": ["IKZF1"], "landmark": -1}, "landmark"),
        ({"endpoints": ["pfs"]}, "marker or grouping variable"),
        ({"markers": ["IKZF1"], "groups": ["protocol"]}, "unknown grouping variable"),
        ({"markers": ["IKZF1"], "covariates": ["nope"]}, "unknown covariate"),
        ({"markers": ["IKZF1"], "treatment": "arm"}, "unknown treatment 'arm'"),
        ({"markers": ["IKZF1"], "treatment": "iss"}, "compares two"),
        ({"markers": ["IKZF1"], "treatment": "sex", "treatment_reference": "X"}, "not a level"),
        ({"markers": ["IKZF1"], "treatment_reference": "M"}, "needs a treatment"),
        ({"markers": ["IKZF1"], "treatment": "sex", "covariates": ["sex"]}, "both the treatment"),
        ({"markers": ["IKZF1"], "base_model": ["age"]}, "--performance"),
        ({"markers": ["IKZF1"], "performance": True, "base_model": ["nope"]}, "base-model"),
        ({"markers": ["IKZF1"], "performance": True, "performance_bootstrap": -1}, "bootstrap"),
        ({"markers": ["IKZF1"], "cut": "5,3"}, "increase"),
        ({"markers": ["IKZF1"], "measurement": "qPCR\x00"}, "control characters"),
    ],
)
def test_invalid_analysis_requests_are_422(
    database_url: str,
    make_client: AppFactory,
    demo_csv: Path,
    body: dict[str, Any],
    needle: str,
) -> None:
    client = make_client(database_url=database_url)
    c = demo_cohort(client, demo_csv)
    r = client.post(f"{API}/cohorts/{c['id']}/analyses", json=body, headers=csrf_headers(client))
    assert r.status_code == 422, r.text
    assert needle in r.json()["detail"]
    assert client.get(f"{API}/cohorts/{c['id']}/analyses").json() == []


def test_analysis_of_an_unknown_cohort_is_404(database_url: str, make_client: AppFactory) -> None:
    client = make_client(database_url=database_url)
    r = client.post(
        f"{API}/cohorts/{'0' * 32}/analyses",
        json={"markers": ["IKZF1"]},
        headers=csrf_headers(client),
    )
    assert r.status_code == 404
    assert client.get(f"{API}/analyses/{'0' * 32}").status_code == 404
    assert client.get(f"{API}/analyses/{'0' * 32}/results.json").status_code == 404


def test_failed_analysis_is_recorded_with_its_message(
    database_url: str, make_client: AppFactory, demo_csv: Path, tmp_path: Path
) -> None:
    """A valid request whose analysis fails in the engine: status failed, the engine's message.

    FLAT is numeric with three values (a valid marker) but three quarters of its values are tied at
    the maximum, so the lower quartile puts every patient in the low group and Q2-4 is empty.
    """
    frame = pd.read_csv(demo_csv)
    frame["FLAT"] = [0.25] * 2 + [0.5] * 3 + [1.0] * (len(frame) - 5)
    flat = tmp_path / "flat.csv"
    flat.write_text(frame.to_csv(index=False, lineterminator="\n"))
    client = make_client(database_url=database_url)
    c = demo_cohort(client, flat)
    assert "FLAT" in c["markers"]
    a = start(client, c["id"], markers=["FLAT"], endpoints=["pfs"], report=False)
    done = wait_for_analysis(client, a["id"])
    assert done["status"] == "failed", done
    assert "group Q2-4 is empty" in done["error"]
    assert "internal error" not in done["error"]
    assert done["files"] == []
    assert done["finished_at"] is not None
    r = client.get(f"{API}/analyses/{a['id']}/results.json")
    assert r.status_code == 409
    assert not (analysis_dir(client, a["id"]) / "results.json").exists()
    row = db_row(database_url, a["id"])
    assert (row.status, row.error, row.results_json) == ("failed", done["error"], None)
    # the same marker in the explorer: 422 with the engine's reason, never a 500
    r = client.get(
        f"{API}/cohorts/{c['id']}/explorer", params={"marker": "FLAT", "endpoint": "pfs"}
    )
    assert r.status_code == 422, r.text
    assert "tied" in r.json()["detail"]
    # and the cohort still works for other markers
    b = start(client, c["id"], markers=["IKZF1"], endpoints=["pfs"], report=False)
    assert wait_for_analysis(client, b["id"])["status"] == "done"


def test_analyses_of_two_cohorts_are_listed_apart(
    database_url: str, make_client: AppFactory, demo_csv: Path
) -> None:
    client = make_client(database_url=database_url)
    first = demo_cohort(client, demo_csv)
    second = demo_cohort(client, demo_csv)
    a = start(client, first["id"], markers=["BSG"], endpoints=["os"], report=False)
    b = start(client, second["id"], markers=["IKZF3"], endpoints=["os"], report=False)
    for cohort, analysis in ((first, a), (second, b)):
        listed = client.get(f"{API}/cohorts/{cohort['id']}/analyses").json()
        assert [x["id"] for x in listed] == [analysis["id"]]
        assert listed[0]["cohort_id"] == cohort["id"]
    for analysis in (a, b):
        assert wait_for_analysis(client, analysis["id"])["status"] == "done"
