"""Web workbench fixtures: the real app on a real database file (SQLite) or server (PostgreSQL).

PostgreSQL: set ``IKAROS_TEST_DATABASE_URL`` to a server URL whose user may create databases
(.ci/run installs, starts and exports one); each test gets a fresh database, dropped afterwards.
Without it the PostgreSQL variants are skipped -- except under CI (``CI`` set), where that is an
error.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from ikaros.simulate import DEMO_SEED, simulate_cohort
from ikaros.web.app import create_app
from ikaros.web.settings import Settings

PG_ENV = "IKAROS_TEST_DATABASE_URL"
BASE = "http://127.0.0.1"


@pytest.fixture(scope="session")
def demo_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo cohort exactly as ``ikaros demo`` writes demo_cohort.csv."""
    path = tmp_path_factory.mktemp("demo") / "demo_cohort.csv"
    path.write_text(simulate_cohort(DEMO_SEED).to_csv(index=False, lineterminator="\n"))
    return path


def _postgres_database() -> Iterator[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = os.environ.get(PG_ENV)
    if not base:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} is not set under CI: .ci/run must start PostgreSQL")
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (see tests/web/conftest.py)")
    name = f"ikaros_test_{secrets.token_hex(6)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'web.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'web.db'}"


AppFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[AppFactory]:
    """Start the real app (lifespan: migrations, job workers) and return a TestClient.

    Keyword arguments go to :meth:`Settings.create`; ``data_dir`` defaults to a fresh directory.
    """
    clients: list[TestClient] = []

    def make(**kwargs: Any) -> TestClient:
        data_dir = kwargs.pop("data_dir", tmp_path / f"data{len(clients)}")
        kwargs.setdefault("analysis_workers", 1)
        settings = Settings.create(data_dir, **kwargs)
        client = TestClient(create_app(settings), base_url=BASE)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for c in reversed(clients):
        c.__exit__(None, None, None)


def csrf_headers(client: TestClient | httpx.Client) -> dict[str, str]:
    """Header with the session's CSRF token (browser-style clients must send it)."""
    token = client.get("/api/v1/csrf").json()["csrf_token"]
    return {"X-CSRF-Token": token}


def upload(
    client: TestClient, path: Path, *, name: str | None = None, **form: str
) -> httpx.Response:
    with path.open("rb") as fh:
        return client.post(
            "/api/v1/cohorts",
            files={"file": (name or path.name, fh, "application/octet-stream")},
            data=form,
            headers=csrf_headers(client),
        )


def wait_for_analysis(client: TestClient, analysis_id: str, timeout: float = 180) -> dict[str, Any]:
    """Poll until the analysis is done or failed; returns its final JSON."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        a = client.get(f"/api/v1/analyses/{analysis_id}").json()
        if a["status"] in ("done", "failed"):
            return dict(a)
        time.sleep(0.25)
    raise AssertionError(f"analysis {analysis_id} did not finish in {timeout} s")
