"""Each user sees only the cohorts of their own projects.

Alice uploads a cohort and runs an analysis. For Bob (logged in with the form, or with HTTP Basic)
every route that takes her cohort or analysis id answers 404 -- the very answer a random id gets,
so Bob cannot even learn that the id exists -- and nothing of hers is listed or created.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import AppFactory, csrf_headers
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
    run_analysis,
    same_app_client,
    upload_frame,
)


@pytest.fixture(autouse=True)
def _no_app_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IKAROS_TOKEN", raising=False)


@dataclass
class World:
    alice: TestClient
    bob: TestClient
    bob_headers: dict[str, str]  # Authorization for Bob, or {} when he uses a session
    cohort_id: str
    analysis_id: str
    project_id: str
    upload_id: str  # an upload awaiting its column mapping


@pytest.fixture(params=["session", "basic"])
def world(request: pytest.FixtureRequest, make_client: AppFactory, database_url: str) -> World:
    alice = make_client(host="0.0.0.0", database_url=database_url)
    add_account(alice, *ALICE)
    add_account(alice, *BOB)
    assert login(alice, *ALICE).status_code == 303
    cohort = upload_frame(alice, demo_frame(), "trial.csv")
    analysis = run_analysis(alice, cohort["id"], ["IKZF1"])
    raw = csv_bytes(demo_frame().rename(columns={"patient_id": "patid"}))
    token = page_csrf(alice.get("/").text)
    r = post_file(alice, raw, "trial.csv", url="/cohorts", form={"csrf_token": token}, headers={})
    assert r.status_code == 303 and r.headers["location"].startswith("/uploads/")
    bob = same_app_client(alice)
    headers: dict[str, str] = {}
    if request.param == "session":
        assert login(bob, *BOB).status_code == 303
    else:
        headers = {"Authorization": "Basic " + base64.b64encode(":".join(BOB).encode()).decode()}
    upload_id = r.headers["location"].rsplit("/", 1)[1]
    return World(alice, bob, headers, cohort["id"], analysis["id"], cohort["project_id"], upload_id)


def _routes(
    cohort_id: str, analysis_id: str, upload_id: str
) -> list[tuple[str, str, dict[str, object]]]:
    """(method, path, request arguments) of every route that takes a cohort, analysis or
    upload id."""
    c, a, u = cohort_id, analysis_id, upload_id
    body = {"markers": ["IKZF1"], "endpoints": ["pfs"], "report": False}
    return [
        ("GET", f"/api/v1/cohorts/{c}", {}),
        ("GET", f"/api/v1/cohorts/{c}/overview.csv", {}),
        ("GET", f"/api/v1/cohorts/{c}/explorer?marker=IKZF1&endpoint=pfs", {}),
        ("GET", f"/api/v1/cohorts/{c}/explorer?marker=IKZF1&endpoint=pfs&cut=0.2", {}),
        ("GET", f"/api/v1/cohorts/{c}/analyses", {}),
        ("POST", f"/api/v1/cohorts/{c}/analyses", {"json": body}),
        ("GET", f"/api/v1/analyses/{a}", {}),
        ("GET", f"/api/v1/analyses/{a}/results.json", {}),
        ("GET", f"/api/v1/analyses/{a}/files/results.json", {}),
        ("GET", f"/cohorts/{c}", {}),
        ("GET", f"/cohorts/{c}/explore", {}),
        ("POST", f"/cohorts/{c}/analyses", {"form": {"markers": "IKZF1", "endpoints": "pfs"}}),
        ("GET", f"/analyses/{a}", {}),
        ("GET", f"/api/v1/cohorts/{c}/explorer?variable=iss&endpoint=pfs", {}),
        ("GET", f"/api/v1/cohorts/{c}/explorer/export?marker=IKZF1&endpoint=pfs&format=csv", {}),
        ("GET", f"/api/v1/cohorts/{c}/explorer/export?variable=iss&endpoint=pfs&format=png", {}),
        ("POST", f"/api/v1/cohorts/{c}/expression", {"files": ("x.csv", b"patient_id,G1\n")}),
        ("POST", f"/cohorts/{c}/expression", {"form": {}, "files": ("x.csv", b"patient_id,G\n")}),
        ("GET", f"/cohorts/{c}/delete", {}),
        ("GET", f"/analyses/{a}/delete", {}),
        ("GET", f"/uploads/{u}", {}),
        ("POST", f"/uploads/{u}", {"form": {"patient_id": "nope"}}),
        ("POST", f"/uploads/{u}/discard", {"form": {}}),
        # last: the deletions (the owner's test deletes for real)
        ("POST", f"/analyses/{a}/delete", {"form": {}}),
        ("DELETE", f"/api/v1/analyses/{a}", {}),
        ("POST", f"/cohorts/{c}/delete", {"form": {}}),
        ("DELETE", f"/api/v1/cohorts/{c}", {}),
    ]


def _send(
    client: TestClient, headers: dict[str, str], method: str, path: str, args: dict[str, object]
) -> httpx.Response:
    if method == "GET":
        return client.get(path, headers=headers, follow_redirects=False)
    files = {"file": args["files"]} if "files" in args else None
    if "form" in args:
        token = page_csrf(client.get("/", headers=headers).text)
        form = {**args["form"], "csrf_token": token}  # type: ignore[dict-item]
        return client.post(path, data=form, files=files, headers=headers, follow_redirects=False)
    token_headers = csrf_headers(client) if not headers else {}
    if method == "DELETE":
        return client.delete(path, headers={**headers, **token_headers}, follow_redirects=False)
    if files is not None:
        return client.post(
            path, files=files, headers={**headers, **token_headers}, follow_redirects=False
        )
    return client.post(
        path, json=args["json"], headers={**headers, **token_headers}, follow_redirects=False
    )


def _stable(r: httpx.Response) -> tuple[int, str, str]:
    return r.status_code, r.headers.get("content-type", ""), r.text


def test_owner_can_use_every_route(world: World) -> None:
    """The routes work -- so the 404s below are about access, not broken routes."""
    for method, path, args in _routes(world.cohort_id, world.analysis_id, world.upload_id):
        r = _send(world.alice, {}, method, path, args)
        if "expression" in path:  # a file without values: refused, but reached (not 404)
            assert r.status_code == 422, (method, path, r.status_code, r.text[:300])
        elif method == "DELETE":  # deleted by the page just before
            assert r.status_code == 404, (method, path, r.status_code, r.text[:300])
        elif path == f"/uploads/{world.upload_id}" and method == "POST":  # a wrong mapping
            assert r.status_code == 422, (method, path, r.status_code, r.text[:300])
        else:
            assert r.status_code in (200, 202, 303), (method, path, r.status_code, r.text[:300])


def test_other_users_ids_are_404_like_random_ids(world: World) -> None:
    before = counts(world.alice)
    random_c, random_a, random_u = (secrets.token_hex(16) for _ in range(3))
    real = _routes(world.cohort_id, world.analysis_id, world.upload_id)
    fake = _routes(random_c, random_a, random_u)
    for (method, path, args), (_, fake_path, fake_args) in zip(real, fake, strict=True):
        r = _send(world.bob, world.bob_headers, method, path, args)
        assert r.status_code == 404, (method, path, r.status_code, r.text[:300])
        assert world.cohort_id not in r.text and world.analysis_id not in r.text
        assert "trial.csv" not in r.text and "IKZF3" not in r.text
        other = _send(world.bob, world.bob_headers, method, fake_path, fake_args)
        assert _stable(r) == _stable(other), (method, path)
    assert counts(world.alice) == before  # Bob created nothing in Alice's cohort


def test_other_users_cohorts_are_not_listed(world: World) -> None:
    h = world.bob_headers
    assert world.bob.get("/api/v1/cohorts", headers=h).json() == []
    projects = world.bob.get("/api/v1/projects", headers=h).json()
    assert [p["name"] for p in projects] == ["bob's project"]
    assert world.project_id not in {p["id"] for p in projects}
    index = world.bob.get("/", headers=h).text
    assert world.cohort_id not in index and "trial.csv" not in index
    assert world.upload_id not in index
    assert world.project_id not in index
    # nor in the audit log
    assert world.bob.get("/api/v1/audit", headers=h).json() == []
    assert "trial.csv" not in world.bob.get("/audit", headers=h).text
    # Alice still sees hers
    assert [c["id"] for c in world.alice.get("/api/v1/cohorts").json()] == [world.cohort_id]
    assert {e["action"] for e in world.alice.get("/api/v1/audit").json()} == {"upload", "analyse"}


def test_upload_into_another_users_project_is_404(world: World) -> None:
    before = counts(world.alice)
    h = world.bob_headers
    form = {"project_id": world.project_id}
    data = csv_bytes(demo_frame())
    r = post_file(world.bob, data, "x.csv", form=form, headers=h or csrf_headers(world.bob))
    assert r.status_code == 404 and r.json() == {"detail": "project not found"}
    token = page_csrf(world.bob.get("/", headers=h).text)
    r = post_file(
        world.bob, data, "x.csv", url="/cohorts", form={**form, "csrf_token": token}, headers=h
    )
    assert r.status_code == 404
    assert counts(world.alice) == before


def test_projects_shared_by_membership(make_client: AppFactory) -> None:
    """A member of a project sees its cohorts; removing the membership hides them again."""
    from sqlalchemy import delete

    from ikaros.web.models import ProjectMember, User

    alice = make_client(host="0.0.0.0")
    add_account(alice, *ALICE)
    add_account(alice, *BOB)
    assert login(alice, *ALICE).status_code == 303
    cohort = upload_frame(alice, demo_frame())
    bob = same_app_client(alice)
    assert login(bob, *BOB).status_code == 303
    path = f"/api/v1/cohorts/{cohort['id']}"
    assert bob.get(path).status_code == 404
    db = alice.app.state.ctx.db  # type: ignore[attr-defined]
    with db.session() as s:
        bob_id = s.query(User.id).filter(User.name == "bob").scalar()
        s.add(ProjectMember(project_id=cohort["project_id"], user_id=bob_id))
    assert bob.get(path).status_code == 200
    with db.session() as s:
        s.execute(
            delete(ProjectMember).where(
                ProjectMember.project_id == cohort["project_id"], ProjectMember.user_id == bob_id
            )
        )
    assert bob.get(path).status_code == 404
