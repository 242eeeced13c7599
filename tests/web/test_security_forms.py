"""State-changing requests: the upload size limit and CSRF protection.

* An upload over the limit is refused with 413 and a clear message -- whether the client declares
  its size (``Content-Length``) or streams it chunked -- and leaves nothing behind: no file in the
  store, no cohort row.
* Every state-changing route refuses a browser-style request (session cookie, or the anonymous
  loopback user) without the session's CSRF token, with a wrong one or with another session's
  (403, nothing created), and accepts the right one. Clients that authenticate with an
  ``Authorization`` header need no token. The session cookie is HttpOnly and SameSite=strict.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import AppFactory, csrf_headers
from tests.web.security_support import (
    ALICE,
    add_account,
    counts,
    csv_bytes,
    demo_frame,
    page_csrf,
    same_app_client,
    upload_frame,
)

TOKEN = "t0ken-for-the-tests-0123456789"


@pytest.fixture(autouse=True)
def _no_app_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IKAROS_TOKEN", raising=False)


# --- upload size limit ----------------------------------------------------------------------


def _multipart(data: bytes, name: str, fields: dict[str, str]) -> tuple[bytes, str]:
    request = httpx.Request(
        "POST", "http://x/", files={"file": (name, data, "text/csv")}, data=fields
    )
    return request.read(), request.headers["content-type"]


def _chunked(body: bytes, size: int = 4096) -> Iterator[bytes]:
    for i in range(0, len(body), size):
        yield body[i : i + size]


def _assert_nothing_stored(client: TestClient) -> None:
    assert counts(client).cohorts == 0
    assert client.get("/api/v1/cohorts").json() == []
    files = client.app.state.ctx.settings.files_dir  # type: ignore[attr-defined]
    assert [p for p in files.rglob("*")] == []  # not even a temporary file


def _assert_413(r: httpx.Response) -> None:
    assert r.status_code == 413, r.text[:500]
    assert r.headers["content-type"].startswith("application/json")
    detail = r.json()["detail"]
    assert detail.startswith("the upload is larger than the limit of "), detail
    assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("size", ["just over the limit", "far over the limit"])
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_upload_over_the_limit_is_413(make_client: AppFactory, size: str, framing: str) -> None:
    limit_mb = 50 / 1024  # 50 kB
    client = make_client(max_upload_mb=limit_mb)
    data = csv_bytes(demo_frame())
    # a valid cohort file padded with blank lines: 51 kB, or 1 MB (past the framing allowance)
    pad = 51 * 1024 if size == "just over the limit" else 1024 * 1024
    data += b"\n" * (pad - len(data))
    body, content_type = _multipart(data, "big.csv", {"time_unit": "months"})
    headers = {**csrf_headers(client), "Content-Type": content_type}
    if framing == "chunked":
        r = client.post("/api/v1/cohorts", content=_chunked(body), headers=headers)
        assert "content-length" not in r.request.headers
        assert r.request.headers["transfer-encoding"] == "chunked"
    else:
        r = client.post("/api/v1/cohorts", content=body, headers=headers)
        assert int(r.request.headers["content-length"]) == len(body)
    _assert_413(r)
    _assert_nothing_stored(client)
    # the same through the upload page
    token = page_csrf(client.get("/").text)
    body, content_type = _multipart(data, "big.csv", {"csrf_token": token})
    content = _chunked(body) if framing == "chunked" else body
    r = client.post("/cohorts", content=content, headers={"Content-Type": content_type})
    assert r.status_code == 413
    assert "larger than the limit of" in r.text
    _assert_nothing_stored(client)
    # a file within the limit is accepted
    small = csv_bytes(demo_frame())
    assert len(small) < 50 * 1024
    assert upload_frame(client, demo_frame())["size_bytes"] == len(small)


# --- CSRF -----------------------------------------------------------------------------------

Sender = Callable[[TestClient, dict[str, str]], httpx.Response]


def _senders(cohort_id: str) -> dict[str, tuple[Sender, int]]:
    """Per state-changing route: how to send it with a CSRF header/field, and success status."""
    data = csv_bytes(demo_frame())
    analysis = {"markers": ["IKZF1"], "endpoints": ["pfs"], "report": False}

    def api_upload(c: TestClient, token: dict[str, str]) -> httpx.Response:
        return c.post(
            "/api/v1/cohorts",
            files={"file": ("c.csv", data, "text/csv")},
            headers=_as_header(token),
        )

    def api_project(c: TestClient, token: dict[str, str]) -> httpx.Response:
        return c.post("/api/v1/projects", json={"name": "p"}, headers=_as_header(token))

    def api_analysis(c: TestClient, token: dict[str, str]) -> httpx.Response:
        path = f"/api/v1/cohorts/{cohort_id}/analyses"
        return c.post(path, json=analysis, headers=_as_header(token))

    def page_upload(c: TestClient, token: dict[str, str]) -> httpx.Response:
        return c.post(
            "/cohorts",
            files={"file": ("c.csv", data, "text/csv")},
            data=token,
            follow_redirects=False,
        )

    def page_analysis(c: TestClient, token: dict[str, str]) -> httpx.Response:
        form = {"markers": "IKZF1", "endpoints": "pfs", "landmark": "36", "cut": "quartile"}
        path = f"/cohorts/{cohort_id}/analyses"
        return c.post(path, data={**form, **token}, follow_redirects=False)

    return {
        "POST /api/v1/cohorts": (api_upload, 201),
        "POST /api/v1/projects": (api_project, 201),
        "POST /api/v1/cohorts/{id}/analyses": (api_analysis, 202),
        "POST /cohorts": (page_upload, 303),
        "POST /cohorts/{id}/analyses": (page_analysis, 303),
    }


def _as_header(token: dict[str, str]) -> dict[str, str]:
    return {"X-CSRF-Token": token["csrf_token"]} if "csrf_token" in token else {}


ROUTES = list(_senders("x"))


@pytest.mark.parametrize("route", ROUTES)
def test_csrf_token_required(make_client: AppFactory, database_url: str, route: str) -> None:
    client = make_client(database_url=database_url)
    cohort = upload_frame(client, demo_frame())
    send, ok_status = _senders(cohort["id"])[route]
    right = client.get("/api/v1/csrf").json()["csrf_token"]
    other = same_app_client(client).get("/api/v1/csrf").json()["csrf_token"]
    assert other != right
    before = counts(client)
    for token in ({}, {"csrf_token": ""}, {"csrf_token": "wrong"}, {"csrf_token": other}):
        r = send(client, token)
        assert r.status_code == 403, (token, r.status_code, r.text[:300])
        assert "CSRF token" in r.text
        assert counts(client) == before, token
    # a client without any session (no cookie) is refused too
    fresh = same_app_client(client)
    assert send(fresh, {"csrf_token": right}).status_code == 403
    assert counts(client) == before
    r = send(client, {"csrf_token": right})
    assert r.status_code == ok_status, r.text[:500]
    assert counts(client) != before


def test_csrf_on_login_and_logout(make_client: AppFactory, database_url: str) -> None:
    client = make_client(host="0.0.0.0", database_url=database_url)
    add_account(client, *ALICE)
    form = {"username": ALICE[0], "password": ALICE[1]}
    page_token = page_csrf(client.get("/login").text)
    for token in ({}, {"csrf_token": "wrong"}, {"csrf_token": ""}):
        r = client.post("/login", data={**form, **token}, follow_redirects=False)
        assert r.status_code == 403, token
        assert client.get("/", follow_redirects=False).status_code == 303  # not logged in
    r = client.post("/login", data={**form, "csrf_token": page_token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    # the login starts a new session with a new token; the old one is void
    new_token = page_csrf(client.get("/").text)
    assert new_token != page_token
    for token in ({}, {"csrf_token": "wrong"}, {"csrf_token": page_token}):
        r = client.post("/logout", data=token, follow_redirects=False)
        assert r.status_code == 403, token
        assert client.get("/", follow_redirects=False).status_code == 200  # still logged in
    r = client.post("/logout", data={"csrf_token": new_token}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_authorization_header_needs_no_csrf_token(make_client: AppFactory) -> None:
    basic = make_client(host="0.0.0.0")
    add_account(basic, *ALICE)
    auth = {"Authorization": "Basic " + base64.b64encode(":".join(ALICE).encode()).decode()}
    bearer = make_client(host="0.0.0.0", auth_token=TOKEN)
    for client, headers in ((basic, auth), (bearer, {"Authorization": f"Bearer {TOKEN}"})):
        r = client.post("/api/v1/projects", json={"name": "p"}, headers=headers)
        assert r.status_code == 201, r.text
        r = client.post(
            "/api/v1/cohorts",
            files={"file": ("c.csv", csv_bytes(demo_frame()), "text/csv")},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        r = client.post(
            f"/api/v1/cohorts/{r.json()['id']}/analyses",
            json={"markers": ["IKZF1"], "endpoints": ["pfs"], "report": False},
            headers=headers,
        )
        assert r.status_code == 202, r.text
        assert "set-cookie" not in r.headers  # no session was started for it


def test_session_cookie_flags(make_client: AppFactory) -> None:
    client = make_client()
    r = client.get("/api/v1/csrf")
    cookie = r.headers["set-cookie"]
    name, _, rest = cookie.partition("=")
    assert name == "ikaros_session"
    flags = {f.strip().lower().split("=")[0]: f.strip().lower() for f in rest.split(";")[1:]}
    assert "httponly" in flags
    assert flags["samesite"] == "samesite=strict"
    assert flags["path"] == "path=/"
    # the token is not readable from the cookie without the server's key: it is signed, and
    # a tampered cookie is a new, empty session
    value = rest.split(";")[0]
    forged = client.get(
        "/api/v1/csrf", headers={"Cookie": f"ikaros_session={value[:-2]}xx"}
    ).json()["csrf_token"]
    assert forged != r.json()["csrf_token"]
