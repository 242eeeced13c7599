"""JSON API with the real app on a real database (SQLite file and PostgreSQL server).

Cohorts (upload, validation row by row, content-addressed storage), the marker explorer (checked
against the engine on the same split) and who sees what. Analyses: test_api_analyses.py;
restarts: test_api_restart.py; the migration: test_api_migrations.py.
"""

from __future__ import annotations

import base64
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ikaros.cutpoints import p_lausen94, standardized_statistics
from ikaros.stats.km import kaplan_meier
from ikaros.stats.logrank import logrank
from ikaros.web.auth import add_user
from ikaros.web.db import Database
from ikaros.web.models import Cohort
from tests.web.conftest import AppFactory, csrf_headers, upload

API = "/api/v1"
DEMO_MARKERS = ["IKZF1", "IKZF3", "CRBN", "BSG"]


def stored_files(client: TestClient) -> list[Path]:
    """Every file in the app's content-addressed store (temporary upload files included)."""
    root = client.app.state.ctx.settings.files_dir  # type: ignore[attr-defined]
    return sorted(p for p in Path(root).rglob("*") if p.is_file())


def demo_cohort(client: TestClient, demo_csv: Path) -> dict[str, Any]:
    r = upload(client, demo_csv)
    assert r.status_code == 201, r.text
    return dict(r.json())


# --------------------------------------------------------------------------------------------
# basics
# --------------------------------------------------------------------------------------------


def test_health(database_url: str, make_client: AppFactory) -> None:
    client = make_client(database_url=database_url)
    r = client.get(f"{API}/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r.json()["version"]


def test_openapi_schema_lists_the_api(database_url: str, make_client: AppFactory) -> None:
    client = make_client(database_url=database_url)
    r = client.get(f"{API}/openapi.json")
    assert r.status_code == 200
    schema = r.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    expected = {
        f"{API}/health": {"get"},
        f"{API}/csrf": {"get"},
        f"{API}/projects": {"get", "post"},
        f"{API}/cohorts": {"get", "post"},
        f"{API}/cohorts/{{cohort_id}}": {"get"},
        f"{API}/cohorts/{{cohort_id}}/overview.csv": {"get"},
        f"{API}/cohorts/{{cohort_id}}/explorer": {"get"},
        f"{API}/cohorts/{{cohort_id}}/analyses": {"get", "post"},
        f"{API}/analyses/{{analysis_id}}": {"get"},
        f"{API}/analyses/{{analysis_id}}/results.json": {"get"},
        f"{API}/analyses/{{analysis_id}}/files/{{name}}": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, f"{path} missing from the OpenAPI schema"
        assert methods <= set(paths[path]), path
    # the pages are not part of the API description
    assert all(p.startswith(f"{API}/") for p in paths)


# --------------------------------------------------------------------------------------------
# upload
# --------------------------------------------------------------------------------------------


def test_upload_demo_cohort(database_url: str, make_client: AppFactory, demo_csv: Path) -> None:
    client = make_client(database_url=database_url)
    c = demo_cohort(client, demo_csv)
    frame = pd.read_csv(demo_csv)
    assert c["name"] == "demo_cohort.csv"
    assert c["format"] == "csv"
    assert c["time_unit"] == "months"
    assert c["size_bytes"] == demo_csv.stat().st_size
    assert c["markers"] == DEMO_MARKERS
    assert c["endpoints"] == ["pfs", "os"]
    assert c["n_patients"] == len(frame) == 60
    ov = c["overview"]
    assert ov["n"] == len(frame)
    by_name = {e["name"]: e for e in ov["endpoints"]}
    for endpoint in ("pfs", "os"):
        assert by_name[endpoint]["evaluable"] == frame[f"{endpoint}_time"].notna().sum()
        assert by_name[endpoint]["events"] == int(frame[f"{endpoint}_event"].sum())
    assert (by_name["pfs"]["events"], by_name["os"]["events"]) == (30, 14)
    for m in ov["markers"]:
        x = frame[m["name"]].dropna().to_numpy(dtype=float)
        assert m["n"] == x.size
        assert m["missing"] == frame[m["name"]].isna().sum()
        q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75])
        assert m["q1"] == pytest.approx(q1, abs=1e-6)
        assert m["median"] == pytest.approx(med, abs=1e-6)
        assert m["q3"] == pytest.approx(q3, abs=1e-6)
    # the cohort is listed and can be fetched again
    listed = client.get(f"{API}/cohorts").json()
    assert [x["id"] for x in listed] == [c["id"]]
    again = client.get(f"{API}/cohorts/{c['id']}")
    assert again.status_code == 200
    assert again.json() == c


def test_same_bytes_are_stored_once(
    database_url: str, make_client: AppFactory, demo_csv: Path
) -> None:
    client = make_client(database_url=database_url)
    first = demo_cohort(client, demo_csv)
    second = demo_cohort(client, demo_csv)
    assert first["id"] != second["id"]
    assert first["sha256"] == second["sha256"]
    files = stored_files(client)
    assert len(files) == 1, files
    stored = files[0]
    assert stored.name == f"{first['sha256']}.csv"
    assert stored.parent.name == first["sha256"][:2]
    assert stored.read_bytes() == demo_csv.read_bytes()
    assert stat.S_IMODE(stored.stat().st_mode) & 0o222 == 0, "stored file is writable"
    listed = client.get(f"{API}/cohorts").json()
    assert sorted(x["id"] for x in listed) == sorted([first["id"], second["id"]])
    # two database rows pointing at the same content
    db = Database(database_url)
    try:
        with db.session() as s:
            rows = list(s.scalars(select(Cohort)))
        assert len(rows) == 2
        assert {r.sha256 for r in rows} == {first["sha256"]}
    finally:
        db.dispose()


def _bad_demo(demo_csv: Path, target: Path) -> list[tuple[int, str, str]]:
    """The demo cohort with three problems in three rows; returns (row, column, value)."""
    frame = pd.read_csv(demo_csv, dtype=str, keep_default_na=False)
    edits = [(3, "pfs_time", "abc"), (17, "IKZF1", "high"), (41, "os_event", "2")]
    for index, column, value in edits:
        frame.loc[index, column] = value
    target.write_text(frame.to_csv(index=False, lineterminator="\n"))
    # spreadsheet numbering: header is row 1, the first data row is row 2
    return [(index + 2, column, value) for index, column, value in edits]


def test_invalid_cohort_lists_every_problem_row_by_row(
    database_url: str, make_client: AppFactory, demo_csv: Path, tmp_path: Path
) -> None:
    client = make_client(database_url=database_url)
    bad = tmp_path / "bad_cohort.csv"
    expected = _bad_demo(demo_csv, bad)
    r = upload(client, bad)
    assert r.status_code == 422, r.text
    body = r.json()
    problems = body["problems"]
    assert body["detail"].startswith("3 problem")
    assert [(p["row"], p["column"], p["value"]) for p in problems] == expected
    for p in problems:
        assert p["problem"]
        assert p["remedy"]
        assert f"row {p['row']}" in p["message"]
        assert "bad_cohort.csv" in p["message"]
    # nothing stored: no file, no cohort
    assert stored_files(client) == []
    assert client.get(f"{API}/cohorts").json() == []


def test_invalid_cohort_keeps_an_identical_stored_file(
    database_url: str, make_client: AppFactory, demo_csv: Path, tmp_path: Path
) -> None:
    """A rejected upload never removes a stored file that a valid cohort uses."""
    client = make_client(database_url=database_url)
    good = demo_cohort(client, demo_csv)
    r = upload(client, demo_csv, time_unit="fortnights")
    assert r.status_code == 422
    assert "time unit" in r.json()["problems"][0]["problem"]
    assert [p.name for p in stored_files(client)] == [f"{good['sha256']}.csv"]


@pytest.mark.parametrize(
    ("name", "content"),
    [("cohort.docx", b"PK\x03\x04 not a table"), ("cohort", b"a,b\n1,2\n"), ("x.exe", b"MZ")],
)
def test_unsupported_extension(
    database_url: str, make_client: AppFactory, tmp_path: Path, name: str, content: bytes
) -> None:
    client = make_client(database_url=database_url)
    path = tmp_path / "upload.bin"
    path.write_bytes(content)
    r = upload(client, path, name=name)
    assert r.status_code == 422, r.text
    problems = r.json()["problems"]
    assert len(problems) == 1
    assert "not supported" in problems[0]["problem"]
    assert ".csv" in problems[0]["remedy"]
    assert problems[0]["row"] is None
    assert stored_files(client) == []
    assert client.get(f"{API}/cohorts").json() == []


def test_unreadable_cohort_is_one_problem(
    database_url: str, make_client: AppFactory, tmp_path: Path
) -> None:
    client = make_client(database_url=database_url)
    path = tmp_path / "cohort.xlsx"
    path.write_bytes(b"this is not a spreadsheet")
    r = upload(client, path)
    assert r.status_code == 422, r.text
    problems = r.json()["problems"]
    assert len(problems) == 1
    assert "cohort.xlsx" in problems[0]["message"]
    assert str(tmp_path) not in r.text  # the storage path is never shown
    assert stored_files(client) == []


# --------------------------------------------------------------------------------------------
# explorer
# --------------------------------------------------------------------------------------------


def _split(demo_csv: Path, marker: str, endpoint: str) -> tuple[np.ndarray, ...]:
    frame = pd.read_csv(demo_csv)
    t = frame[f"{endpoint}_time"].to_numpy(dtype=float)
    e = frame[f"{endpoint}_event"].to_numpy(dtype=float)
    x = frame[marker].to_numpy(dtype=float)
    return t, e, x


def _check_groups(view: dict[str, Any], t: np.ndarray, e: np.ndarray, low: np.ndarray) -> None:
    """The low and high groups of the explorer against the engine's Kaplan-Meier estimate."""
    groups = {g["key"]: g for g in view["groups"]}
    for key, mask in (("low", low), ("high", ~low)):
        curve = kaplan_meier(t[mask], e[mask])
        g = groups[key]
        assert g["n"] == int(mask.sum())
        assert g["events"] == int(e[mask].sum())
        assert g["time"] == pytest.approx(curve.time.tolist(), abs=1e-9)
        assert g["surv"] == pytest.approx(curve.surv.tolist(), abs=1e-9)
        assert g["n_risk"] == curve.n_risk.tolist()
        assert g["landmark_surv"] == pytest.approx(curve.at(36.0).survival, abs=1e-9)


def test_explorer_default_cut_is_the_lower_quartile(
    database_url: str, make_client: AppFactory, demo_csv: Path
) -> None:
    client = make_client(database_url=database_url)
    c = demo_cohort(client, demo_csv)
    r = client.get(
        f"{API}/cohorts/{c['id']}/explorer", params={"marker": "IKZF1", "endpoint": "pfs"}
    )
    assert r.status_code == 200, r.text
    view = r.json()
    t, e, x = _split(demo_csv, "IKZF1", "pfs")
    q1 = float(np.quantile(x, 0.25))
    low = x <= q1
    assert (view["marker"], view["endpoint"], view["n"], view["n_excluded"]) == (
        "IKZF1",
        "pfs",
        60,
        0,
    )
    cut = view["cut"]
    assert cut["origin"] == "prespecified"
    assert cut["value"] == pytest.approx(q1, rel=1e-12)
    assert cut["prespecified"] == pytest.approx(q1, rel=1e-12)
    assert view["quartiles"]["q1"] == pytest.approx(q1, rel=1e-12)
    assert view["candidate_n_low"][cut["index"]] == int(low.sum())
    expected = logrank(t, e, np.where(low, "low", "high")).p
    assert view["p"]["logrank"] == pytest.approx(expected, rel=1e-10)
    assert view["p"]["corrected"] is None
    _check_groups(view, t, e, low)
    low_group = next(g for g in view["groups"] if g["key"] == "low")
    assert low_group["landmark_surv"] == pytest.approx(
        kaplan_meier(t[low], e[low]).at(36).survival, abs=1e-9
    )


def test_explorer_moved_cut_is_optimised_with_corrected_p(
    database_url: str, make_client: AppFactory, demo_csv: Path
) -> None:
    client = make_client(database_url=database_url)
    c = demo_cohort(client, demo_csv)
    url = f"{API}/cohorts/{c['id']}/explorer"
    base = client.get(url, params={"marker": "IKZF1", "endpoint": "pfs"}).json()
    t, e, x = _split(demo_csv, "IKZF1", "pfs")
    scan = standardized_statistics(t, e, x)
    assert base["candidates"] == pytest.approx(scan["cut"].tolist(), rel=1e-9)
    assert base["candidate_n_low"] == scan["n_low"].tolist()
    for step in (-3, 5, 12):
        i = base["cut"]["index"] + step
        value = base["candidates"][i]
        r = client.get(url, params={"marker": "IKZF1", "endpoint": "pfs", "cut": value})
        assert r.status_code == 200, r.text
        view = r.json()
        low = x <= value
        assert view["cut"]["origin"] == "optimised"
        assert view["cut"]["index"] == i
        assert view["cut"]["prespecified"] == base["cut"]["value"]
        unadjusted = logrank(t, e, np.where(low, "low", "high")).p
        assert view["p"]["logrank"] == pytest.approx(unadjusted, rel=1e-10)
        corrected = p_lausen94(float(scan["statistic"][i]), x.size, scan["n_low"])
        assert view["p"]["corrected_method"] == "Lau94"
        assert view["p"]["corrected"] == pytest.approx(corrected, rel=1e-10)
        assert view["p"]["corrected"] >= view["p"]["logrank"]
        _check_groups(view, t, e, low)
    # a cut between two candidates selects the same split as the candidate below it
    i = base["cut"]["index"] + 5
    between = (base["candidates"][i] + base["candidates"][i + 1]) / 2
    view = client.get(url, params={"marker": "IKZF1", "endpoint": "pfs", "cut": between}).json()
    assert view["cut"]["index"] == i


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"marker": "IKZF1", "endpoint": "pfs", "cut": "-1"}, "search range"),
        ({"marker": "IKZF1", "endpoint": "pfs", "cut": "1000"}, "search range"),
        ({"marker": "NOPE", "endpoint": "pfs"}, "unknown marker"),
        ({"marker": "IKZF1", "endpoint": "efs"}, "unknown endpoint"),
        ({"marker": "pfs_time", "endpoint": "pfs"}, "unknown marker"),
        ({"marker": "IKZF1", "endpoint": "pfs", "cut": "nan"}, "cut"),
        ({"marker": "IKZF1", "endpoint": "pfs", "cut": "inf"}, "cut"),
        ({"marker": "IKZF1", "endpoint": "pfs", "cut": "abc"}, "cut"),
        ({"marker": "IKZF1", "endpoint": "pfs", "landmark": "0"}, "landmark"),
        ({"marker": "IKZF1"}, "endpoint"),
    ],
)
def test_explorer_rejects_bad_requests(
    database_url: str,
    make_client: AppFactory,
    demo_csv: Path,
    params: dict[str, str],
    needle: str,
) -> None:
    client = make_client(database_url=database_url)
    c = demo_cohort(client, demo_csv)
    r = client.get(f"{API}/cohorts/{c['id']}/explorer", params=params)
    assert r.status_code == 422, r.text
    assert needle in r.json()["detail"]


def test_explorer_of_an_unknown_cohort_is_404(database_url: str, make_client: AppFactory) -> None:
    client = make_client(database_url=database_url)
    for cohort_id in ("0" * 32, "not-an-id", "x" * 64):
        r = client.get(
            f"{API}/cohorts/{cohort_id}/explorer", params={"marker": "IKZF1", "endpoint": "pfs"}
        )
        assert r.status_code == 404, (cohort_id, r.text)


# --------------------------------------------------------------------------------------------
# who sees what
# --------------------------------------------------------------------------------------------

TOKEN = "t" * 40
PASSWORD = b"correct horse battery"


def test_listings_only_return_the_callers_objects(
    database_url: str, make_client: AppFactory, demo_csv: Path
) -> None:
    """On loopback with a token configured: the local user, the token user and an account."""
    client = make_client(database_url=database_url, auth_token=TOKEN)
    mine = demo_cohort(client, demo_csv)
    analysis = client.post(
        f"{API}/cohorts/{mine['id']}/analyses",
        json={"markers": ["IKZF1"], "endpoints": ["pfs"], "report": False},
        headers=csrf_headers(client),
    )
    assert analysis.status_code == 202, analysis.text
    db = client.app.state.ctx.db  # type: ignore[attr-defined]
    with db.session() as s:
        add_user(s, "alice", PASSWORD.decode())
    others = {
        "token": {"Authorization": f"Bearer {TOKEN}"},
        "alice": {"Authorization": "Basic " + base64.b64encode(b"alice:" + PASSWORD).decode()},
    }
    local_projects = client.get(f"{API}/projects").json()
    assert [p["id"] for p in local_projects] == [mine["project_id"]]
    for name, headers in others.items():
        assert client.get(f"{API}/cohorts", headers=headers).json() == [], name
        projects = client.get(f"{API}/projects", headers=headers).json()
        assert len(projects) == 1
        assert projects[0]["id"] != mine["project_id"]
        for path in (
            f"cohorts/{mine['id']}",
            f"cohorts/{mine['id']}/analyses",
            f"cohorts/{mine['id']}/overview.csv",
            f"cohorts/{mine['id']}/explorer?marker=IKZF1&endpoint=pfs",
            f"analyses/{analysis.json()['id']}",
            f"analyses/{analysis.json()['id']}/results.json",
            f"analyses/{analysis.json()['id']}/files/results.json",
        ):
            assert client.get(f"{API}/{path}", headers=headers).status_code == 404, (name, path)
        r = client.post(
            f"{API}/cohorts/{mine['id']}/analyses",
            json={"markers": ["IKZF1"], "report": False},
            headers=headers,
        )
        assert r.status_code == 404, name
        # their own upload is theirs only
        with demo_csv.open("rb") as fh:
            theirs = client.post(
                f"{API}/cohorts", files={"file": ("theirs.csv", fh)}, headers=headers
            )
        assert theirs.status_code == 201, theirs.text
        assert [x["id"] for x in client.get(f"{API}/cohorts", headers=headers).json()] == [
            theirs.json()["id"]
        ]
        assert client.get(f"{API}/cohorts/{theirs.json()['id']}").status_code == 404
        # uploading into someone else's project is refused
        with demo_csv.open("rb") as fh:
            r = client.post(
                f"{API}/cohorts",
                files={"file": ("x.csv", fh)},
                data={"project_id": mine["project_id"]},
                headers=headers,
            )
        assert r.status_code == 404, name
    assert [x["id"] for x in client.get(f"{API}/cohorts").json()] == [mine["id"]]
    assert [a["id"] for a in client.get(f"{API}/cohorts/{mine['id']}/analyses").json()] == [
        analysis.json()["id"]
    ]


def test_new_project_is_listed_and_takes_uploads(
    database_url: str, make_client: AppFactory, demo_csv: Path
) -> None:
    client = make_client(database_url=database_url)
    r = client.post(f"{API}/projects", json={"name": "trial B"}, headers=csrf_headers(client))
    assert r.status_code == 201, r.text
    project = r.json()
    assert project["name"] == "trial B"
    assert project["id"] in [p["id"] for p in client.get(f"{API}/projects").json()]
    c = upload(client, demo_csv, project_id=project["id"])
    assert c.status_code == 201, c.text
    assert c.json()["project_id"] == project["id"]
    r = upload(client, demo_csv, project_id="0" * 32)
    assert r.status_code == 404


@pytest.mark.parametrize("name", ["a\x00b", "tab\there", "   ", ""])
def test_project_names_with_control_characters_are_422(
    database_url: str, make_client: AppFactory, name: str
) -> None:
    """Not a 500 on PostgreSQL, whose text columns cannot hold NUL."""
    client = make_client(database_url=database_url)
    before = client.get(f"{API}/projects").json()
    r = client.post(f"{API}/projects", json={"name": name}, headers=csrf_headers(client))
    assert r.status_code == 422, r.text
    assert client.get(f"{API}/projects").json() == before
