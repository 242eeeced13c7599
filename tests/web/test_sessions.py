"""Server-side sessions: the cookie holds a signed random id; logout and password changes end it.

* The session cookie carries only a random 256-bit id, signed; the database keeps the SHA-256 of
  that id (a copy of the table yields no usable cookie). The user name is not in the cookie.
* A cookie replayed after logout is worth nothing: 401 for the API, the login page for pages,
  nothing stored.
* A password change (page, API or ``ikaros user passwd``) ends every session of the account;
  the old password stops working at once.
* A session ends after 12 hours, whatever the cookie says.
* The cookie is ``Secure`` with ``--secure-cookies``, and when a trusted proxy says the request
  came over https; ``X-Forwarded-*`` headers from anybody else are ignored.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from itsdangerous import Signer
from sqlalchemy import select, update
from typer.testing import CliRunner

from ikaros.cli import app as cli_app
from ikaros.web.models import LoginSession, utcnow
from ikaros.web.sessions import COOKIE
from tests.web.conftest import BASE, AppFactory, csrf_headers
from tests.web.security_support import (
    ALICE,
    BOB,
    add_account,
    counts,
    csv_bytes,
    demo_frame,
    login,
    page_csrf,
    post_file,
    same_app_client,
)

API = "/api/v1/cohorts"
NEW_PASSWORD = "a-brand-new-password-7"


@pytest.fixture(autouse=True)
def _no_app_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IKAROS_TOKEN", raising=False)


def _basic(name: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


@pytest.fixture
def public(make_client: AppFactory, database_url: str) -> TestClient:
    client = make_client(host="0.0.0.0", database_url=database_url)
    add_account(client, *ALICE)
    add_account(client, *BOB)
    return client


def _cookie(r: httpx.Response) -> str:
    header = r.headers["set-cookie"]
    name, _, rest = header.partition("=")
    assert name == COOKIE
    return rest.split(";")[0]


def _rows(client: TestClient) -> list[LoginSession]:
    with client.app.state.ctx.db.session() as s:  # type: ignore[attr-defined]
        return list(s.scalars(select(LoginSession)))


def _as_browser(client: TestClient, cookie: str) -> TestClient:
    """Another client presenting a copied cookie."""
    thief = same_app_client(client)
    thief.cookies.set(COOKIE, cookie, domain="127.0.0.1", path="/")
    return thief


def test_cookie_holds_only_a_signed_random_id(public: TestClient) -> None:
    r = login(public, *ALICE)
    assert r.status_code == 303
    value = _cookie(r)
    secret = public.app.state.ctx.settings.secret_key  # type: ignore[attr-defined]
    sid = Signer(secret, salt="ikaros.session").unsign(value).decode()
    assert len(sid) == 43 and len(base64.urlsafe_b64decode(sid + "=")) == 32
    assert value == f"{sid}.{value.split('.')[-1]}"  # the id and its signature, nothing else
    assert "alice" not in value
    rows = _rows(public)
    assert [row.id for row in rows] == [hashlib.sha256(sid.encode()).hexdigest()]
    assert sid not in {row.id for row in rows}
    assert rows[0].expires_at - rows[0].created_at == timedelta(hours=12)
    # an unsigned or re-signed id is not a session
    assert _as_browser(public, sid).get(API).status_code == 401
    forged = Signer("another key", salt="ikaros.session").sign(sid).decode()
    assert _as_browser(public, forged).get(API).status_code == 401
    assert _as_browser(public, value).get(API).status_code == 200


def test_replayed_cookie_after_logout(public: TestClient) -> None:
    assert login(public, *ALICE).status_code == 303
    cookie = public.cookies[COOKIE]
    thief = _as_browser(public, cookie)
    token = page_csrf(thief.get("/").text)
    assert thief.get(API).status_code == 200
    r = post_file(thief, csv_bytes(demo_frame()), "c.csv", headers={"X-CSRF-Token": token})
    assert r.status_code == 201, r.text
    # log out in the original browser
    logout = public.post(
        "/logout", data={"csrf_token": page_csrf(public.get("/").text)}, follow_redirects=False
    )
    assert logout.status_code == 303
    assert _cookie(logout) != cookie  # a fresh, anonymous session id
    assert _rows(public) == []
    # the copy is worth nothing now: API 401, pages to the login, uploads refused
    before = counts(public)
    replay = _as_browser(public, cookie)
    assert replay.get(API).status_code == 401
    r = replay.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = post_file(replay, csv_bytes(demo_frame()), "d.csv", headers={"X-CSRF-Token": token})
    assert r.status_code == 401
    r = replay.post("/api/v1/projects", json={"name": "x"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 401
    assert counts(public) == before
    assert public.get(API).status_code == 401


def test_login_replaces_a_planted_session_id(public: TestClient) -> None:
    """Session fixation: an id planted before the login is not the logged-in one."""
    planted = _cookie(public.get("/api/v1/csrf"))
    attacker = _as_browser(public, planted)
    victim = _as_browser(public, planted)
    assert login(victim, *ALICE).status_code == 303
    assert victim.cookies[COOKIE] != planted
    assert victim.get(API).status_code == 200
    assert attacker.get(API).status_code == 401


def test_password_change_on_the_page_ends_every_session(public: TestClient) -> None:
    first, second = same_app_client(public), same_app_client(public)
    for browser in (first, second):
        assert login(browser, *ALICE).status_code == 303
    assert login(same_app_client(public), *BOB).status_code == 303
    assert len(_rows(public)) == 3
    page = first.get("/account")
    assert page.status_code == 200 and 'action="/account/password"' in page.text
    form = {"csrf_token": page_csrf(page.text), "current_password": ALICE[1]}
    # checks first: wrong current password, two different new ones, too short
    r = first.post(
        "/account/password",
        data={
            **form,
            "current_password": "nope",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert r.status_code == 403 and "current password is wrong" in r.text
    r = first.post(
        "/account/password",
        data={**form, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD + "x"},
    )
    assert r.status_code == 422 and "differ" in r.text
    r = first.post(
        "/account/password", data={**form, "new_password": "short", "new_password_again": "short"}
    )
    assert r.status_code == 422 and "shorter than 8 characters" in r.text
    r = first.post(
        "/account/password", data={**form, "new_password": NEW_PASSWORD}, headers={}
    )  # no repeat
    assert r.status_code == 422
    assert second.get(API).status_code == 200  # nothing changed so far
    # without the CSRF token: refused
    r = first.post(
        "/account/password",
        data={
            "current_password": ALICE[1],
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert r.status_code == 403
    r = first.post(
        "/account/password",
        data={**form, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/login?changed"
    assert "log in again" in first.get("/login?changed").text
    # both of alice's sessions ended, bob's did not
    assert first.get(API).status_code == 401
    assert second.get(API).status_code == 401
    assert len(_rows(public)) == 1
    # the old password is gone, the new one works
    assert public.get(API, headers=_basic(*ALICE)).status_code == 401
    assert public.get(API, headers=_basic("alice", NEW_PASSWORD)).status_code == 200
    assert login(first, "alice", NEW_PASSWORD).status_code == 303


def test_password_change_api(public: TestClient) -> None:
    browser = same_app_client(public)
    assert login(browser, *ALICE).status_code == 303
    url = "/api/v1/account/password"
    auth = _basic(*ALICE)
    r = public.post(url, json={"current_password": "x", "new_password": NEW_PASSWORD}, headers=auth)
    assert r.status_code == 403
    r = public.post(url, json={"current_password": ALICE[1], "new_password": "short"}, headers=auth)
    assert r.status_code == 422 and "shorter than 8" in r.json()["detail"]
    r = public.post(
        url, json={"current_password": ALICE[1], "new_password": NEW_PASSWORD}, headers=auth
    )
    assert r.status_code == 200 and r.json() == {"sessions_ended": 1}
    assert browser.get(API).status_code == 401
    assert public.get(API, headers=_basic("alice", NEW_PASSWORD)).status_code == 200
    # from a browser session: the CSRF token is needed, and the session itself ends too
    assert login(browser, "alice", NEW_PASSWORD).status_code == 303
    body = {"current_password": NEW_PASSWORD, "new_password": ALICE[1]}
    assert browser.post(url, json=body).status_code == 403
    r = browser.post(url, json=body, headers=csrf_headers(browser))
    assert r.status_code == 200 and r.json() == {"sessions_ended": 1}
    assert browser.get(API).status_code == 401


def test_wrong_current_passwords_are_rate_limited(public: TestClient) -> None:
    """A stolen session cannot be used to guess the password."""
    browser = same_app_client(public)
    assert login(browser, *BOB).status_code == 303
    url = "/api/v1/account/password"
    codes = [
        browser.post(
            url,
            json={"current_password": f"guess{i}", "new_password": NEW_PASSWORD},
            headers=csrf_headers(browser),
        ).status_code
        for i in range(8)
    ]
    assert codes == [403] * 6 + [429] * 2


def test_the_local_user_has_no_password(make_client: AppFactory) -> None:
    client = make_client()
    r = client.post(
        "/api/v1/account/password",
        json={"current_password": "x", "new_password": NEW_PASSWORD},
        headers=csrf_headers(client),
    )
    assert r.status_code == 409
    assert "has no password" in client.get("/account").text


def test_cli_passwd_ends_the_sessions(make_client: AppFactory, tmp_path: Path) -> None:
    data = tmp_path / "cli-data"
    client = make_client(data_dir=data, host="0.0.0.0")
    add_account(client, *ALICE)
    assert login(client, *ALICE).status_code == 303
    args = ["user", "passwd", "alice", "--data-dir", str(data), "--password-stdin"]
    run = CliRunner().invoke(
        cli_app, args, input=NEW_PASSWORD + "\n", env={"IKAROS_DATABASE_URL": ""}
    )
    assert run.exit_code == 0, run.output
    assert "password of 'alice' changed; 1 session(s) ended" in run.output
    assert client.get(API).status_code == 401
    assert client.get(API, headers=_basic("alice", NEW_PASSWORD)).status_code == 200


def test_sessions_expire(public: TestClient) -> None:
    assert login(public, *ALICE).status_code == 303
    assert public.get(API).status_code == 200
    with public.app.state.ctx.db.session() as s:  # type: ignore[attr-defined]
        s.execute(update(LoginSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert public.get(API).status_code == 401
    # the next login removes expired rows
    assert login(same_app_client(public), *BOB).status_code == 303
    assert len(_rows(public)) == 1


# --- the Secure flag and trusted proxies ----------------------------------------------------------


def _flags(r: httpx.Response) -> set[str]:
    return {f.strip().lower() for f in r.headers["set-cookie"].split(";")[1:]}


def test_secure_cookies_option(make_client: AppFactory) -> None:
    plain = make_client(host="0.0.0.0")
    add_account(plain, *ALICE)
    assert "secure" not in _flags(login(plain, *ALICE))
    secure = make_client(host="0.0.0.0", secure_cookies=True)
    add_account(secure, *ALICE)
    flags = _flags(secure.get("/api/v1/csrf"))
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= flags
    # an https request is Secure anyway
    https = TestClient(plain.app, base_url="https://127.0.0.1")
    assert "secure" in _flags(https.get("/api/v1/csrf"))


PROXY = ("10.0.0.5", 40000)


def test_trusted_proxy_headers(make_client: AppFactory) -> None:
    client = make_client(trusted_proxies=["10.0.0.5"])  # on 127.0.0.1, behind a proxy
    add_account(client, *ALICE)
    add_account(client, *BOB)
    assert client.get(API).status_code == 401  # a proxy means remote users: login required
    via_proxy = TestClient(client.app, base_url=BASE, client=PROXY)
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    assert "secure" in _flags(via_proxy.get("/api/v1/csrf", headers=https))
    # headers from anybody else are ignored
    stranger = TestClient(client.app, base_url=BASE, client=("10.0.0.6", 40000))
    assert "secure" not in _flags(stranger.get("/api/v1/csrf", headers=https))
    # the public Host name the proxy forwards is accepted
    assert via_proxy.get("/login", headers={"Host": "ikaros.example.org"}).status_code == 200
    # the rate limit counts the forwarded client address, not the proxy's
    for i in range(11):
        assert via_proxy.get(API, headers={**https, **_basic(f"u{i}", "guess")}).status_code == 401
    assert via_proxy.get(API, headers={**https, **_basic(*ALICE)}).status_code == 429
    other = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.10"}
    assert via_proxy.get(API, headers={**other, **_basic(*ALICE)}).status_code == 200
    # a stranger cannot dodge its own limit by claiming another address
    for i in range(11):
        bad = _basic(f"x{i}", "wrong")
        assert (
            stranger.get(API, headers={"X-Forwarded-For": f"198.51.100.{i}", **bad}).status_code
            == 401
        )
    r = stranger.get(API, headers={"X-Forwarded-For": "198.51.100.99", **_basic(*BOB)})
    assert r.status_code == 429
