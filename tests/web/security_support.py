"""Helpers of the security tests: accounts, logins, hostile cohorts, a real ``ikaros serve``."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ikaros.simulate import DEMO_SEED, simulate_cohort
from ikaros.web.auth import add_user
from ikaros.web.models import Analysis, Cohort, Project
from tests.web.conftest import BASE, csrf_headers, wait_for_analysis

ALICE = ("alice", "alice-secret-pw-1")
BOB = ("bob", "bob-secret-pw-22")
#: environment variables that change what the app does; tests set them explicitly
APP_ENV = ("IKAROS_TOKEN", "IKAROS_DATABASE_URL", "IKAROS_DEBUG")
_META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def demo_frame() -> pd.DataFrame:
    return simulate_cohort(DEMO_SEED)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode()


def add_account(client: TestClient, name: str, password: str) -> None:
    """Create a user account (with its own project) in the app's database."""
    with client.app.state.ctx.db.session() as s:  # type: ignore[attr-defined]
        add_user(s, name, password)


def same_app_client(client: TestClient) -> TestClient:
    """Another browser (own cookies) on the already started app of ``client``."""
    return TestClient(client.app, base_url=BASE)


def page_csrf(html: str) -> str:
    found = _META_CSRF.search(html)
    assert found, "page without <meta name=csrf-token>"
    return found.group(1)


def login(client: TestClient, name: str, password: str) -> httpx.Response:
    """Log in through the login form, as a browser does (CSRF token from the page)."""
    token = page_csrf(client.get("/login").text)
    return client.post(
        "/login",
        data={"csrf_token": token, "username": name, "password": password},
        follow_redirects=False,
    )


def post_file(
    client: TestClient,
    data: bytes,
    name: str,
    *,
    url: str = "/api/v1/cohorts",
    headers: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> httpx.Response:
    return client.post(
        url,
        files={"file": (name, data, "application/octet-stream")},
        data=form or {},
        headers=csrf_headers(client) if headers is None else headers,
        follow_redirects=False,
    )


def upload_frame(client: TestClient, frame: pd.DataFrame, name: str = "cohort.csv") -> Any:
    r = post_file(client, csv_bytes(frame), name)
    assert r.status_code == 201, r.text
    return r.json()


def run_analysis(
    client: TestClient,
    cohort_id: str,
    markers: list[str],
    *,
    endpoints: list[str] | None = None,
    report: bool = False,
) -> dict[str, Any]:
    """Start an analysis through the API and wait for it; asserts it finished."""
    body = {"markers": markers, "endpoints": endpoints or ["pfs"], "report": report}
    r = client.post(
        f"/api/v1/cohorts/{cohort_id}/analyses", json=body, headers=csrf_headers(client)
    )
    assert r.status_code == 202, r.text
    done = wait_for_analysis(client, r.json()["id"])
    assert done["status"] == "done", done
    return done


@dataclass(frozen=True)
class Counts:
    projects: int
    cohorts: int
    analyses: int
    files: int


def counts(client: TestClient) -> Counts:
    """Rows in the database and files in the store (to show that nothing was created)."""
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.db.session() as s:
        n = [s.scalar(select(func.count()).select_from(t)) for t in (Project, Cohort, Analysis)]
    stored = [p for p in ctx.settings.data_dir.rglob("*") if p.is_file()]
    in_store = [p for p in stored if ctx.settings.files_dir in p.parents]
    return Counts(int(n[0] or 0), int(n[1] or 0), int(n[2] or 0), len(in_store))


def tree(root: Path) -> dict[str, str]:
    """Every file below ``root``: relative path -> SHA-256."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# --- the real server ------------------------------------------------------------------------


def ikaros_command() -> list[str]:
    here = Path(sys.executable).parent
    for name in ("ikaros", "ikaros.exe"):
        if (here / name).is_file():
            return [str(here / name)]
    found = shutil.which("ikaros")
    if found is None:
        pytest.skip("the ikaros console script is not installed")
    return [found]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in APP_ENV}
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


@contextlib.contextmanager
def server_process(
    data_dir: Path, *args: str, workers: int = 1, timeout: float = 60
) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    """``ikaros serve`` on a free loopback port (subprocess): (process, base URL, log file).

    Extra ``args`` go to ``ikaros serve``. The server is stopped at the end (SIGTERM, then
    SIGKILL) unless the test ended it.
    """
    port = free_port()
    log = data_dir.parent / f"server-{port}.log"
    cmd = [
        *ikaros_command(),
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--workers",
        str(workers),
        *args,
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=clean_env())
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"ikaros serve exited {proc.returncode}: {log.read_text()}")
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"ikaros serve did not start: {log.read_text()}")
            time.sleep(0.2)
        yield proc, url, log
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def real_server(data_dir: Path, *, workers: int = 1, timeout: float = 60) -> Iterator[str]:
    """``ikaros serve`` on a free loopback port (subprocess); yields its base URL."""
    with server_process(data_dir, workers=workers, timeout=timeout) as (_, url, _):
        yield url


def raw_request(
    url: str,
    target: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> tuple[int, dict[str, str], bytes]:
    """Send ``method target`` byte for byte (no client-side normalisation of ``..``, ``%2f``)."""
    port = httpx.URL(url).port or 80
    fields = {"Host": f"127.0.0.1:{port}", "Connection": "close", **(headers or {})}
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head.encode("latin-1") + b"\r\n" + body)
        chunks = []
        while block := s.recv(65536):
            chunks.append(block)
    raw = b"".join(chunks)
    top, _, content = raw.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    parsed: dict[str, str] = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        parsed[key.strip().lower()] = value.strip()
    return status, parsed, content
