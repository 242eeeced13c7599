"""Security rules of the workbench: who may start it, who may use it.

* On loopback no login is needed: every request is the built-in user ``local``.
* On any other address ``ikaros serve`` refuses to start without authentication (exit 2, one
  error line, nothing listening) and starts with a token or a user account.
* On such an app the API answers 401 and pages redirect to the login page until the client
  authenticates (HTTP Basic, bearer token, or the login form, which sets a session).
* Passwords are stored as scrypt hashes, never in clear.
* DNS rebinding: on loopback a request for a foreign ``Host`` is refused (400).
* Requests a browser sends on behalf of another origin are refused whatever their credentials.
"""

from __future__ import annotations

import base64
import sqlite3
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ikaros.errors import InputError
from ikaros.web.auth import verify_password
from ikaros.web.server import check_can_start
from ikaros.web.settings import Settings
from tests.conftest import ANSI
from tests.web.conftest import AppFactory, csrf_headers
from tests.web.security_support import (
    ALICE,
    BOB,
    add_account,
    clean_env,
    counts,
    free_port,
    ikaros_command,
    login,
    page_csrf,
    port_open,
    same_app_client,
)

TOKEN = "t0ken-for-the-tests-0123456789"


@pytest.fixture(autouse=True)
def _no_app_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IKAROS_TOKEN", raising=False)


def _basic(name: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{name}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


# --- loopback -------------------------------------------------------------------------------


def test_loopback_needs_no_login(make_client: AppFactory) -> None:
    client = make_client()
    page = client.get("/", follow_redirects=False)
    assert page.status_code == 200
    assert '<span class="user">local</span>' in page.text
    assert "/login" not in page.text  # no login link on loopback
    assert client.get("/api/v1/cohorts").json() == []
    projects = client.get("/api/v1/projects").json()
    assert [p["name"] for p in projects] == ["local's project"]
    # state changes need only the CSRF token of the (anonymous) browser session
    r = client.post("/api/v1/projects", json={"name": "trial"}, headers=csrf_headers(client))
    assert r.status_code == 201, r.text


# --- starting on a public address -----------------------------------------------------------


def _serve(data_dir: Path, host: str, port: int, **env: str) -> subprocess.CompletedProcess[str]:
    cmd = [*ikaros_command(), "serve", "--host", host, "--port", str(port)]
    return subprocess.run(
        [*cmd, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(**env),
        check=False,
    )


def _one_error_line(run: subprocess.CompletedProcess[str]) -> str:
    stderr, stdout = ANSI.sub("", run.stderr), ANSI.sub("", run.stdout)
    shown = f"exit {run.returncode}\nstderr: {stderr}\nstdout: {stdout}"
    assert run.returncode == 2, shown
    assert "Traceback" not in stderr + stdout, shown
    assert stdout.strip() == "", shown
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), shown
    return lines[0]


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_serve_refuses_public_address_without_auth(tmp_path: Path, host: str) -> None:
    port = free_port()
    run = _serve(tmp_path / "data", host, port)
    line = _one_error_line(run)
    assert f"refusing to listen on {host} without authentication" in line
    assert "ikaros user add" in line and "IKAROS_TOKEN" in line
    assert not port_open(port)  # it never listened


def test_serve_refuses_a_short_token(tmp_path: Path) -> None:
    port = free_port()
    line = _one_error_line(_serve(tmp_path / "data", "0.0.0.0", port, IKAROS_TOKEN="short"))
    assert "shorter than 16 characters" in line
    assert "short" not in line.replace("shorter", "")  # the token is not echoed
    assert not port_open(port)


def test_can_start_with_token_or_account(tmp_path: Path) -> None:
    data = tmp_path / "data"
    public = Settings.create(data, host="0.0.0.0")
    with pytest.raises(InputError, match=r"refusing to listen on 0\.0\.0\.0"):
        check_can_start(public)
    check_can_start(Settings.create(tmp_path / "data", host="127.0.0.1"))
    check_can_start(Settings.create(tmp_path / "data", host="0.0.0.0", auth_token=TOKEN))
    # a user account created with the real command line
    run = subprocess.run(
        [*ikaros_command(), "user", "add", "alice", "--password-stdin", "--data-dir", str(data)],
        input="long enough password\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(),
        check=False,
    )
    assert run.returncode == 0, run.stderr
    check_can_start(public)


def test_user_add_stores_a_scrypt_hash_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    password = "Tr0ub4dor&3-horse-battery"
    run = subprocess.run(
        [*ikaros_command(), "user", "add", "carol", "--password-stdin", "--data-dir", str(data)],
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(),
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "carol" in run.stdout and password not in run.stdout + run.stderr
    with sqlite3.connect(data / "ikaros.db") as db:
        (stored,) = db.execute("SELECT password_hash FROM users WHERE name = 'carol'").fetchone()
    scheme, n, r, p, salt, key = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(key)) == 32
    assert verify_password(password, stored) and not verify_password(password + "x", stored)
    # the password is nowhere in the database files (main file, WAL, journal)
    for f in data.glob("ikaros.db*"):
        content = f.read_bytes()
        assert password.encode() not in content, f
        assert password.encode("utf-16-le") not in content, f


# --- a public app: authentication required ---------------------------------------------------


@pytest.fixture
def public(make_client: AppFactory, database_url: str) -> TestClient:
    """An app bound (as far as it knows) to 0.0.0.0, with the accounts alice and bob."""
    client = make_client(host="0.0.0.0", database_url=database_url)
    add_account(client, *ALICE)
    add_account(client, *BOB)
    return client


def test_public_app_requires_authentication(public: TestClient) -> None:
    for path in ("/api/v1/cohorts", "/api/v1/projects", f"/api/v1/cohorts/{'a' * 32}"):
        r = public.get(path)
        assert r.status_code == 401, path
        assert "authentication required" in r.json()["detail"]
        assert r.headers["www-authenticate"].startswith("Basic")
    before = counts(public)
    r = public.post("/api/v1/projects", json={"name": "x"}, headers=csrf_headers(public))
    assert r.status_code == 401
    for path in (
        "/",
        f"/cohorts/{'a' * 32}",
        f"/analyses/{'b' * 32}",
        f"/cohorts/{'a' * 32}/explore",
    ):
        r = public.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login", path
    token = page_csrf(public.get("/login").text)
    r = public.post(
        "/cohorts",
        files={"file": ("c.csv", b"patient_id\n1\n")},
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert counts(public) == before
    # what stays public: health, the login page, static files
    assert public.get("/api/v1/health").status_code == 200
    assert public.get("/login").status_code == 200
    assert public.get("/static/css/app.css").status_code == 200


def test_wrong_password_or_token_is_401(public: TestClient) -> None:
    assert public.get("/api/v1/cohorts", headers=_basic(*ALICE)).status_code == 200
    bad = [
        _basic("alice", "wrong-password"),
        _basic("alice", ""),
        _basic("nobody", ALICE[1]),
        _basic("local", ""),
        _basic("al\x00ice", ALICE[1]),
        {"Authorization": "Basic not-base64!!"},
        {"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:x").decode()},
        {"Authorization": f"Bearer {TOKEN}"},  # no token configured
        {"Authorization": "Digest username=alice"},
    ]
    for headers in bad:
        r = public.get("/api/v1/cohorts", headers=headers)
        assert r.status_code == 401, headers
        assert r.json() == {"detail": "invalid credentials"}


def test_bearer_token(make_client: AppFactory) -> None:
    client = make_client(host="0.0.0.0", auth_token=TOKEN)
    assert client.get("/api/v1/cohorts").status_code == 401
    for wrong in (TOKEN[:-1], TOKEN + "x", TOKEN.upper(), "", "x" * len(TOKEN)):
        r = client.get("/api/v1/cohorts", headers={"Authorization": f"Bearer {wrong}"})
        assert r.status_code == 401, wrong
    ok = client.get("/api/v1/cohorts", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.json() == []


def test_login_form(public: TestClient) -> None:
    # wrong password: 401, the form again, no session
    r = login(public, "alice", "not-her-password")
    assert r.status_code == 401
    assert "unknown user or wrong password" in r.text
    assert public.get("/", follow_redirects=False).status_code == 303
    r = login(public, "al\x00ice", ALICE[1])
    assert r.status_code == 401
    # right password: a session cookie, then pages and the API work
    r = login(public, *ALICE)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("ikaros_session=")
    flags = {f.strip().lower() for f in cookie.split(";")[1:]}
    assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
    page = public.get("/", follow_redirects=False)
    assert page.status_code == 200 and '<span class="user">alice</span>' in page.text
    assert public.get("/api/v1/cohorts").status_code == 200
    # log out (with the page's token): the session is gone
    token = page_csrf(page.text)
    r = public.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert public.get("/", follow_redirects=False).status_code == 303
    assert public.get("/api/v1/cohorts").status_code == 401


def test_session_of_a_removed_account(public: TestClient) -> None:
    from sqlalchemy import delete, select

    from ikaros.web.models import ProjectMember, User

    assert login(public, *BOB).status_code == 303
    with public.app.state.ctx.db.session() as s:  # type: ignore[attr-defined]
        user_id = s.scalar(select(User.id).where(User.name == "bob"))
        s.execute(delete(ProjectMember).where(ProjectMember.user_id == user_id))
        s.execute(delete(User).where(User.id == user_id))
    assert public.get("/api/v1/cohorts").status_code == 401
    r = public.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


# --- DNS rebinding and cross-site requests ---------------------------------------------------


def test_loopback_refuses_foreign_host_header(make_client: AppFactory) -> None:
    client = make_client()
    for host in ("evil.example", "evil.example:8000", "127.0.0.1.evil.example", "10.0.0.1"):
        for path in ("/", "/api/v1/health", "/api/v1/cohorts", "/static/css/app.css"):
            r = client.get(path, headers={"Host": host})
            assert r.status_code == 400, (host, path)
        r = client.post("/api/v1/projects", json={"name": "x"}, headers={"Host": host})
        assert r.status_code == 400
    for host in ("127.0.0.1", "127.0.0.1:8000", "localhost:8000", "[::1]:8000"):
        assert client.get("/api/v1/cohorts", headers={"Host": host}).status_code == 200, host


@pytest.mark.parametrize(
    "browser",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:9999"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1"},
    ],
)
def test_cross_site_requests_are_refused(public: TestClient, browser: dict[str, str]) -> None:
    """Even with a valid CSRF token, or with HTTP Basic credentials a browser may replay."""
    alice = same_app_client(public)
    assert login(alice, *ALICE).status_code == 303
    before = counts(public)
    attempts = [
        alice.post(
            "/api/v1/projects", json={"name": "x"}, headers={**csrf_headers(alice), **browser}
        ),
        public.post("/api/v1/projects", json={"name": "x"}, headers={**_basic(*ALICE), **browser}),
        public.post(
            "/login",
            data={"csrf_token": page_csrf(public.get("/login").text), "username": "alice"},
            headers=browser,
        ),
    ]
    for r in attempts:
        assert r.status_code == 403, r.text
    assert counts(public) == before
    same = {"Origin": "http://127.0.0.1", "Sec-Fetch-Site": "same-origin"}
    r = alice.post("/api/v1/projects", json={"name": "y"}, headers={**csrf_headers(alice), **same})
    assert r.status_code == 201
