"""HTTP-level rules, checked against the real server (``ikaros serve`` in a subprocess).

* No path traversal through any parameter: analysis file names, cohort/analysis ids and static
  paths with ``../``, ``%2f``, ``%2e``, double encoding, backslashes or absolute paths answer
  404 (or 422 for an over-long id), never 500 and never the content of secret.key, the database
  or any file outside what the route serves. Requests are sent byte for byte over a socket, so no
  client normalises them first. An upload named ``../../evil.csv`` is stored content-addressed
  and shown as ``evil.csv``.
* Security headers on every kind of response (page, API JSON, static file, 404, 405, 413, 422,
  400, redirect, downloads) and the report's own sandboxed CSP.
* The pages and the static scripts and styles refer to no other host.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from ikaros.web import app as app_module
from tests.web.conftest import BASE, AppFactory, csrf_headers
from tests.web.security_support import (
    csv_bytes,
    demo_frame,
    raw_request,
    real_server,
    tree,
)

STATIC = Path(app_module.__file__).parent / "static"
#: XML namespace names used with createElementNS: identifiers, never fetched
NAMESPACES = {
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/1999/xlink",
    "http://www.w3.org/1999/xhtml",
    "http://www.w3.org/XML/1998/namespace",
}
SAFE_REFERRER = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}


@dataclass
class Server:
    url: str
    data_dir: Path
    client: httpx.Client
    cohort_id: str
    analysis_id: str
    files: list[str]
    secrets: list[bytes]  # byte strings that must never be served


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real server with the demo cohort and a finished analysis with its report."""
    root = tmp_path_factory.mktemp("http")
    data_dir = root / "data"
    with real_server(data_dir) as url, httpx.Client(base_url=url, timeout=60) as client:
        r = client.post(
            "/api/v1/cohorts",
            files={"file": ("demo.csv", csv_bytes(demo_frame()), "text/csv")},
            headers=csrf_headers(client),
        )
        assert r.status_code == 201, r.text
        cohort_id = r.json()["id"]
        body = {"markers": ["IKZF1"], "endpoints": ["pfs"], "report": True}
        r = client.post(
            f"/api/v1/cohorts/{cohort_id}/analyses", json=body, headers=csrf_headers(client)
        )
        assert r.status_code == 202, r.text
        analysis = _wait(client, r.json()["id"])
        key = (data_dir / "secret.key").read_bytes().strip()
        passwd = Path("/etc/passwd")
        leaks = [key, b"SQLite format 3", b"def create_app"]
        if passwd.is_file():
            leaks.append(passwd.read_bytes().splitlines()[0])
        files = [str(f) for f in analysis["files"]]  # type: ignore[attr-defined]
        yield Server(url, data_dir, client, cohort_id, str(analysis["id"]), files, leaks)


def _wait(client: httpx.Client, analysis_id: str, timeout: float = 300) -> dict[str, object]:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        a = client.get(f"/api/v1/analyses/{analysis_id}").json()
        if a["status"] in ("done", "failed"):
            assert a["status"] == "done", a
            return dict(a)
        time.sleep(0.3)
    raise AssertionError("analysis did not finish")


def _assert_not_leaked(server: Server, body: bytes, where: str) -> None:
    for secret in server.secrets:
        assert secret not in body, where


# --- path traversal -------------------------------------------------------------------------

FILE_ATTACKS = [
    "../secret.key",
    "../../secret.key",
    "../ikaros.db",
    "../../ikaros.db",
    "..%2fsecret.key",
    "..%2f..%2fsecret.key",
    "..%2F..%2Fikaros.db",
    "%2e%2e/%2e%2e/secret.key",
    "%2e%2e%2f%2e%2e%2fsecret.key",
    "%252e%252e%252fsecret.key",
    "%c0%ae%c0%ae/secret.key",
    "....//....//secret.key",
    "tables/../../secret.key",
    "tables/..%2f..%2fsecret.key",
    "tables/%2e%2e/%2e%2e/secret.key",
    "..\\..\\secret.key",
    "..%5c..%5csecret.key",
    "tables\\..\\..\\secret.key",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "//etc/passwd",
    "~/.ssh/id_rsa",
    "C:%5cWindows%5cwin.ini",
    "..%00/secret.key",
    "results.json%00.csv",
    ".",
    "..",
    "tables",
    "tables/",
    "report.html/",
    "tables/summary.csv/..",
    "figures/../../../secret.key",
]


def test_analysis_file_traversal(server: Server) -> None:
    base = f"/api/v1/analyses/{server.analysis_id}/files/"
    assert "tables/summary.csv" in server.files
    for name in server.files:  # the real files are served
        status, _, _ = raw_request(server.url, base + name)
        assert status == 200, name
    for attack in FILE_ATTACKS:
        status, _, body = raw_request(server.url, base + attack)
        assert status == 404, (attack, status, body[:200])
        assert body == b'{"detail":"file not found"}', attack
        _assert_not_leaked(server, body, attack)
    # past the route itself
    for target in (
        f"/api/v1/analyses/{server.analysis_id}/../../../secret.key",
        f"/api/v1/analyses/{server.analysis_id}/files/../../../../../../etc/passwd",
        "/../../secret.key",
        "/api/v1/../../ikaros.db",
    ):
        status, _, body = raw_request(server.url, target)
        assert status == 404, target
        _assert_not_leaked(server, body, target)


ID_ATTACKS = [
    "..",
    "%2e%2e",
    "..%2f..%2fsecret.key",
    "..%5c..%5csecret.key",
    "%2e%2e%2f%2e%2e%2fikaros.db",
    "%00",
    "a%00b",
    "%ff%fe",
    "%27%20OR%20%271%27=%271",
    "1%3BDROP%20TABLE%20cohorts",
    "a" * 65,
    "0" * 32 + "%00",
    "%252e%252e",
]


def test_ids_with_traversal_characters(server: Server) -> None:
    templates = [
        "/api/v1/cohorts/{}",
        "/api/v1/cohorts/{}/overview.csv",
        "/api/v1/cohorts/{}/explorer?marker=IKZF1&endpoint=pfs",
        "/api/v1/cohorts/{}/analyses",
        "/api/v1/analyses/{}",
        "/api/v1/analyses/{}/results.json",
        "/api/v1/analyses/{}/files/results.json",
        "/cohorts/{}",
        "/cohorts/{}/explore",
        "/analyses/{}",
    ]
    for template in templates:
        for attack in ID_ATTACKS:
            target = template.format(attack)
            status, _, body = raw_request(server.url, target)
            assert status in (404, 422), (target, status, body[:200])
            _assert_not_leaked(server, body, target)


def test_ids_never_reach_the_database_as_errors(make_client: AppFactory, database_url: str) -> None:
    """The same ids through the app on each database (PostgreSQL rejects NUL in text)."""
    client = make_client(database_url=database_url)
    for attack in ID_ATTACKS:
        if attack == "..":  # the test client would resolve it to the parent path
            continue
        for path in (
            f"/api/v1/cohorts/{attack}",
            f"/api/v1/analyses/{attack}/results.json",
            f"/cohorts/{attack}",
            f"/analyses/{attack}",
        ):
            r = client.get(path)
            assert r.status_code in (404, 422), (path, r.status_code, r.text[:200])
    body = {"markers": ["IKZF1"], "report": False}
    r = client.post("/api/v1/cohorts/%00/analyses", json=body, headers=csrf_headers(client))
    assert r.status_code == 404


def test_static_traversal(server: Server) -> None:
    assert raw_request(server.url, "/static/css/app.css")[0] == 200
    for target in (
        "/static/../secret.key",
        "/static/../../secret.key",
        "/static/..%2f..%2fsecret.key",
        "/static/../app.py",
        "/static/..%2fapp.py",
        "/static/%2e%2e/app.py",
        "/static/%2e%2e%2fapp.py",
        "/static/css/../../app.py",
        "/static/css/..%2f..%2fapp.py",
        "/static/..\\app.py",
        "/static/..%5capp.py",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/css/app.css%00.py",
        "/static/%252e%252e/app.py",
    ):
        status, _, body = raw_request(server.url, target)
        assert status == 404, (target, status)
        _assert_not_leaked(server, body, target)


def test_upload_file_name_cannot_escape(make_client: AppFactory, tmp_path: Path) -> None:
    client = make_client(data_dir=tmp_path / "data")
    before = tree(tmp_path)
    data = csv_bytes(demo_frame())
    sha = hashlib.sha256(data).hexdigest()
    for name in (
        "../../evil.csv",
        "..\\..\\evil.csv",
        "/tmp/evil.csv",
        "C:\\Users\\x\\evil.csv",
        "files/../../../evil.csv",
    ):
        r = client.post(
            "/api/v1/cohorts",
            files={"file": (name, data, "text/csv")},
            headers=csrf_headers(client),
        )
        assert r.status_code == 201, (name, r.text)
        cohort = r.json()
        assert cohort["name"] == "evil.csv", name
        assert cohort["sha256"] == sha
    added = set(tree(tmp_path)) - set(before)
    stored = f"data/files/{sha[:2]}/{sha}.csv"
    assert stored in added
    assert {p for p in added if not p.startswith("data/ikaros.db")} == {stored}
    assert not list(tmp_path.rglob("evil.csv"))
    assert tree(tmp_path)[stored] == sha  # stored unchanged


# --- security headers -----------------------------------------------------------------------


def _check_headers(headers: httpx.Headers | dict[str, str], where: str) -> str:
    h = {k.lower(): v for k, v in headers.items()}
    assert h.get("x-content-type-options") == "nosniff", where
    assert h.get("x-frame-options") == "DENY", where
    assert h.get("referrer-policy") in SAFE_REFERRER, where
    csp = h.get("content-security-policy", "")
    assert csp, where
    directives = {d.strip().split()[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert "'unsafe-eval'" not in csp, where
    assert "http:" not in csp and "https:" not in csp and "*" not in csp, where
    script = directives.get("script-src", directives.get("default-src", ""))
    assert "'unsafe-inline'" not in script, where
    assert directives.get("object-src", directives.get("default-src")) in (
        "object-src 'none'",
        "default-src 'none'",
    ), where
    return csp


def test_security_headers_on_every_response(server: Server) -> None:
    c = server.client
    a, co = server.analysis_id, server.cohort_id
    token = csrf_headers(c)
    responses = {
        "page": c.get("/"),
        "cohort page": c.get(f"/cohorts/{co}"),
        "api json": c.get("/api/v1/cohorts"),
        "openapi": c.get("/api/v1/openapi.json"),
        "static css": c.get("/static/css/app.css"),
        "static js": c.get("/static/js/explorer.js"),
        "404 page": c.get("/no/such/page"),
        "404 api": c.get(f"/api/v1/cohorts/{secrets.token_hex(16)}"),
        "404 static": c.get("/static/nope.css"),
        "405": c.delete("/api/v1/cohorts"),
        "422": c.get(
            f"/api/v1/cohorts/{co}/explorer", params={"marker": "NOPE", "endpoint": "pfs"}
        ),
        "403": c.post("/api/v1/projects", json={"name": "x"}),
        "303": c.post("/logout", data={"csrf_token": token["X-CSRF-Token"]}),
        "results.json": c.get(f"/api/v1/analyses/{a}/results.json"),
        "table csv": c.get(f"/api/v1/analyses/{a}/files/tables/summary.csv"),
        "overview csv": c.get(f"/api/v1/cohorts/{co}/overview.csv"),
        "report pdf": c.get(f"/api/v1/analyses/{a}/files/report.pdf"),
    }
    expected = {"404 page": 404, "404 api": 404, "404 static": 404, "405": 405, "422": 422}
    expected |= {"403": 403, "303": 303}
    for where, r in responses.items():
        assert r.status_code == expected.get(where, 200), (where, r.status_code, r.text[:200])
        csp = _check_headers(r.headers, where)
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, where
    assert responses["404 page"].headers["content-type"].startswith("text/html")
    # 413 (refused before the body is read) and 400 (DNS rebinding): over a raw socket
    status, headers, _ = raw_request(
        server.url,
        "/api/v1/cohorts",
        method="POST",
        headers={"Content-Length": str(10**12), "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert status == 413
    _check_headers(headers, "413")
    status, headers, _ = raw_request(server.url, "/", headers={"Host": "evil.example"})
    assert status == 400
    _check_headers(headers, "400")


def test_security_headers_on_an_internal_error(make_client: AppFactory) -> None:
    client = make_client()

    def boom() -> None:
        raise RuntimeError("secret detail of the failure")

    client.app.add_api_route("/api/v1/boom-for-the-test", boom)  # type: ignore[attr-defined]
    quiet = TestClient(client.app, base_url=BASE, raise_server_exceptions=False)
    r = quiet.get("/api/v1/boom-for-the-test")
    assert r.status_code == 500
    assert r.json() == {"detail": "internal server error"}
    _check_headers(r.headers, "500")


def test_report_has_its_own_sandboxed_csp(server: Server) -> None:
    r = server.client.get(f"/api/v1/analyses/{server.analysis_id}/files/report.html")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = _check_headers(r.headers, "report.html")
    directives = [d.strip() for d in csp.split(";")]
    assert "default-src 'none'" in directives  # no scripts, no requests at all
    assert "sandbox" in directives  # a unique origin: no cookies, no same-origin API access
    assert not any(d.startswith("script-src") for d in directives)
    assert "connect-src" not in csp and "'self'" not in csp
    assert r.headers["content-disposition"].startswith("inline")


# --- no other hosts -------------------------------------------------------------------------

_URL = re.compile(r"""(?i)\b(?:https?|ftp|wss?):\/\/[^\s"'<>)\\]*""")


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.inline_styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "action", "formaction", "poster", "srcset", "data"):
                self.refs.append(value or "")
            if name == "style":
                self.inline_styles.append(tag)


def _foreign(text: str) -> list[str]:
    return [u for u in _URL.findall(text) if u.rstrip("/.,;") not in NAMESPACES]


def test_pages_refer_to_no_other_host(server: Server) -> None:
    c = server.client
    pages = [
        "/",
        f"/cohorts/{server.cohort_id}",
        f"/cohorts/{server.cohort_id}/explore",
        f"/analyses/{server.analysis_id}",
        "/login",
        "/no/such/page",
    ]
    static_paths: set[str] = set()
    for path in pages:
        r = c.get(path)
        assert r.headers["content-type"].startswith("text/html"), path
        assert _foreign(r.text) == [], path
        refs = _Refs()
        refs.feed(r.text)
        assert refs.inline_styles == [], path  # the CSP (style-src 'self') would drop them
        for ref in refs.refs:
            assert ref.startswith(("/", "#", "?")) and not ref.startswith("//"), (path, ref)
            if ref.startswith("/static/"):
                static_paths.add(ref)
    assert {"/static/css/app.css", "/static/js/explorer.js"} <= static_paths
    # every static file, as served
    served = {
        "/static/" + p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*") if p.is_file()
    }
    assert static_paths <= served
    for path in sorted(served):
        r = c.get(path)
        assert r.status_code == 200, path
        text = r.text
        assert _foreign(text) == [], (path, _foreign(text))
        if path.endswith(".css"):
            for ref in re.findall(r"url\(\s*['\"]?([^'\")]*)", text) + re.findall(
                r"@import\s+['\"]([^'\"]+)", text
            ):
                assert not ref.startswith("//") and ":" not in ref.split("/")[0].replace(
                    "data:", ""
                ), (path, ref)
        if path.endswith(".js"):
            assert "eval(" not in text and "new Function(" not in text, path
            assert "innerHTML" not in text and "outerHTML" not in text, path
            assert "document.write" not in text, path
