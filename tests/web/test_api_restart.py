"""Restarts: what the database and data directory hold survives the app; unfinished analyses.

Each test stops the app (leaves the TestClient context: lifespan shutdown, workers stopped) and
starts a new app on the same data directory and database (SQLite file and PostgreSQL server).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from ikaros.web.db import Database
from ikaros.web.models import Analysis, Cohort
from tests.web.conftest import AppFactory, csrf_headers, upload, wait_for_analysis

API = "/api/v1"


def stop(client: TestClient) -> None:
    """Stop the app as the server does on shutdown (make_client's teardown is then a no-op)."""
    client.__exit__(None, None, None)


def test_cohorts_and_analyses_survive_a_restart(
    database_url: str, make_client: AppFactory, demo_csv: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    first = make_client(data_dir=data_dir, database_url=database_url)
    r = upload(first, demo_csv)
    assert r.status_code == 201, r.text
    cohort = r.json()
    r = first.post(
        f"{API}/cohorts/{cohort['id']}/analyses",
        json={"markers": ["IKZF1"], "endpoints": ["pfs"], "report": False},
        headers=csrf_headers(first),
    )
    assert r.status_code == 202, r.text
    analysis = wait_for_analysis(first, r.json()["id"])
    assert analysis["status"] == "done"
    results = first.get(f"{API}/analyses/{analysis['id']}/results.json").text
    explorer = first.get(
        f"{API}/cohorts/{cohort['id']}/explorer", params={"marker": "IKZF1", "endpoint": "pfs"}
    ).json()
    stop(first)

    second = make_client(data_dir=data_dir, database_url=database_url)
    assert second.get(f"{API}/cohorts").json() == [cohort]
    assert second.get(f"{API}/cohorts/{cohort['id']}").json() == cohort
    assert second.get(f"{API}/analyses/{analysis['id']}").json() == analysis
    assert second.get(f"{API}/cohorts/{cohort['id']}/analyses").json() == [analysis]
    assert second.get(f"{API}/analyses/{analysis['id']}/results.json").text == results
    assert second.get(f"{API}/analyses/{analysis['id']}/files/results.json").text == results
    again = second.get(
        f"{API}/cohorts/{cohort['id']}/explorer", params={"marker": "IKZF1", "endpoint": "pfs"}
    )
    assert again.status_code == 200
    assert again.json() == explorer
    # the restarted app takes new work on the stored cohort
    r = second.post(
        f"{API}/cohorts/{cohort['id']}/analyses",
        json={"markers": ["CRBN"], "endpoints": ["os"], "report": False},
        headers=csrf_headers(second),
    )
    assert r.status_code == 202
    assert wait_for_analysis(second, r.json()["id"])["status"] == "done"


def _insert(database_url: str, cohort_id: str, **values: Any) -> str:
    db = Database(database_url)
    try:
        with db.session() as s:
            cohort = s.get(Cohort, cohort_id)
            assert cohort is not None
            a = Analysis(
                cohort_id=cohort_id,
                created_by=cohort.uploaded_by,
                params={
                    "markers": ["IKZF1"],
                    "endpoints": ["pfs"],
                    "landmark": 36.0,
                    "cut": "quartile",
                    "measurement": None,
                },
                with_report=False,
                progress=0.0,
                progress_label=values.get("status", ""),
                **values,
            )
            s.add(a)
        return a.id
    finally:
        db.dispose()


def test_unfinished_analyses_at_start_up(
    database_url: str, make_client: AppFactory, demo_csv: Path, tmp_path: Path
) -> None:
    """Queued analyses left in the database are run; running ones are marked interrupted."""
    data_dir = tmp_path / "data"
    first = make_client(data_dir=data_dir, database_url=database_url)
    r = upload(first, demo_csv)
    assert r.status_code == 201, r.text
    cohort_id = r.json()["id"]
    stop(first)

    queued = _insert(database_url, cohort_id, status="queued")
    running = _insert(database_url, cohort_id, status="running")
    done_before = _insert(database_url, cohort_id, status="failed", error="earlier failure")

    second = make_client(data_dir=data_dir, database_url=database_url)
    interrupted = second.get(f"{API}/analyses/{running}").json()
    assert interrupted["status"] == "failed"
    assert interrupted["error"].startswith("interrupted")
    assert interrupted["finished_at"] is not None
    picked_up = wait_for_analysis(second, queued)
    assert picked_up["status"] == "done", picked_up
    assert picked_up["files"] == ["results.json"]
    assert second.get(f"{API}/analyses/{queued}/results.json").status_code == 200
    untouched = second.get(f"{API}/analyses/{done_before}").json()
    assert (untouched["status"], untouched["error"]) == ("failed", "earlier failure")
    db = Database(database_url)
    try:
        with db.session() as s:
            statuses = {a.id: a.status for a in s.scalars(select(Analysis))}
    finally:
        db.dispose()
    assert statuses == {queued: "done", running: "failed", done_before: "failed"}
