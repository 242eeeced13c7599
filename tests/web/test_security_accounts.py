"""Accounts under attack: login rate limit, who counts as local, ``--require-auth``.

* Password checks are rate limited per account and per client address (the login form, HTTP
  Basic on every API request, the password change): after a few failures every further attempt
  is answered 429 with ``Retry-After`` -- the right password too -- until the backoff has passed.
* Only 127.0.0.1 and ::1 are local; on any other address (127.0.0.2 included) a login is needed.
* ``ikaros serve --require-auth`` demands a login on 127.0.0.1 as well.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ikaros.errors import InputError
from ikaros.web.models import User
from ikaros.web.server import check_can_start
from ikaros.web.settings import Settings
from tests.web.conftest import BASE, AppFactory, csrf_headers
from tests.web.security_support import ALICE, BOB, add_account, counts, login

API = "/api/v1/cohorts"


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


def _retry_after(r: httpx.Response) -> int:
    value = int(r.headers["retry-after"])
    assert value >= 1
    return value


def test_twenty_wrong_form_logins(public: TestClient) -> None:
    statuses = []
    for i in range(20):
        r = login(public, "alice", f"wrong-password-{i}")
        statuses.append(r.status_code)
        if r.status_code == 429:
            _retry_after(r)
            assert "too many failed logins" in r.text
        else:
            assert r.status_code == 401 and "retry-after" not in r.headers
    # 5 free failures, the 6th is checked and starts the backoff, the rest are refused unchecked
    assert statuses == [401] * 6 + [429] * 14, statuses
    # the right password is not even checked while blocked
    r = login(public, *ALICE)
    assert r.status_code == 429
    assert public.get("/", follow_redirects=False).status_code == 303  # not logged in
    time.sleep(_retry_after(r) + 0.2)
    r = login(public, *ALICE)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert public.get(API).status_code == 200


def test_twenty_wrong_basic_logins(public: TestClient) -> None:
    statuses = []
    for i in range(20):
        r = public.get(API, headers=_basic("bob", f"guess-{i}"))
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert "too many failed logins" in r.json()["detail"]
            _retry_after(r)
    assert statuses == [401] * 6 + [429] * 14, statuses
    # also for a state-changing request, the right password, and nothing happens
    before = counts(public)
    r = public.post("/api/v1/projects", json={"name": "x"}, headers=_basic(*BOB))
    assert r.status_code == 429
    assert counts(public) == before
    page = public.get("/", headers=_basic(*BOB))  # a page: the same answer, as HTML
    assert page.status_code == 429 and "Too many failed logins" in page.text
    _retry_after(page)
    # alice is another account: she may still log in (the address has failures to spare)
    assert public.get(API, headers=_basic(*ALICE)).status_code == 200
    time.sleep(_retry_after(r) + 0.2)
    assert public.get(API, headers=_basic(*BOB)).status_code == 200


def test_guessing_many_accounts_from_one_address(public: TestClient) -> None:
    statuses = [login(public, f"user{i}", "password-guess").status_code for i in range(14)]
    assert statuses == [401] * 11 + [429] * 3, statuses
    r = login(public, *ALICE)  # a valid account, but from the blocked address
    assert r.status_code == 429
    # another client address is not blocked
    other = TestClient(public.app, base_url=BASE, client=("198.51.100.2", 40000))
    assert login(other, *ALICE).status_code == 303


def test_wrong_bearer_tokens_are_limited_per_address(make_client: AppFactory) -> None:
    token = "a-long-enough-token-0123456789"
    client = make_client(host="0.0.0.0", auth_token=token)
    statuses = [
        client.get(API, headers={"Authorization": f"Bearer guess{i}-xxxxxxxxxxxxxxxx"}).status_code
        for i in range(13)
    ]
    assert statuses == [401] * 11 + [429] * 2, statuses
    other = TestClient(client.app, base_url=BASE, client=("198.51.100.3", 40000))
    assert other.get(API, headers={"Authorization": f"Bearer {token}"}).status_code == 200


# --- who is local -------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.2", "127.1.1.1", "localhost"])
def test_only_127_0_0_1_and_ipv6_loopback_are_local(make_client: AppFactory, host: str) -> None:
    client = make_client(host=host)
    r = client.get(API)
    assert r.status_code == 401
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    add_account(client, *ALICE)
    assert login(client, *ALICE).status_code == 303
    assert client.get(API).status_code == 200


def test_127_0_0_2_does_not_start_without_authentication(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with pytest.raises(InputError, match=r"refusing to listen on 127\.0\.0\.2 without auth"):
        check_can_start(Settings.create(data, host="127.0.0.2"))
    check_can_start(Settings.create(data, host="::1"))


def test_require_auth_on_loopback(make_client: AppFactory, tmp_path: Path) -> None:
    data = tmp_path / "req"
    settings = Settings.create(data, require_auth=True)
    with pytest.raises(InputError, match="--require-auth is set, but nobody could log in"):
        check_can_start(settings)
    client = make_client(data_dir=data, require_auth=True)
    assert client.get(API).status_code == 401
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    page = client.get("/login").text
    assert 'href="/login"' in page  # the page offers a login
    before = counts(client)
    r = client.post("/api/v1/projects", json={"name": "x"}, headers=csrf_headers(client))
    assert r.status_code == 401
    assert counts(client) == before
    add_account(client, *ALICE)
    check_can_start(settings)
    assert login(client, *ALICE).status_code == 303
    assert client.get(API).status_code == 200
    r = client.post("/api/v1/projects", json={"name": "x"}, headers=csrf_headers(client))
    assert r.status_code == 201
    # still bound to loopback: foreign Host headers are refused (DNS rebinding)
    assert client.get(API, headers={"Host": "evil.example"}).status_code == 400
    # the built-in local user does not exist on such a server
    with client.app.state.ctx.db.session() as s:  # type: ignore[attr-defined]
        assert s.scalar(select(User.id).where(User.name == "local")) is None
