"""The JSON API (``/api/v1``), described by the app's OpenAPI schema.

This module holds the account, project and audit routes and includes the cohort
(:mod:`ikaros.web.api_cohorts`) and analysis (:mod:`ikaros.web.api_analyses`) routes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from ikaros import __version__
from ikaros.errors import InputError
from ikaros.web import api_analyses, api_cohorts
from ikaros.web.analysis_params import AnalysisRequest, no_control_characters
from ikaros.web.api_common import Ctx, Who
from ikaros.web.audit import audit_view, recent_events
from ikaros.web.auth import set_password
from ikaros.web.deps import check_password, client_address
from ikaros.web.models import Project, ProjectMember
from ikaros.web.sessions import browser_session, csrf_token

__all__ = ["AnalysisRequest", "router"]

router = APIRouter(prefix="/api/v1", tags=["api"])


def _name(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return no_control_characters(value)


class PasswordChange(BaseModel):
    """A new password for the caller's account; the current one is required."""

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class ProjectRequest(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_name)]


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/csrf")
def csrf(request: Request) -> dict[str, str]:
    """A CSRF token for browser-style clients (send it as ``X-CSRF-Token``)."""
    return {"csrf_token": csrf_token(request)}


@router.post("/account/password")
async def change_password(
    body: PasswordChange, request: Request, ctx: Ctx, who: Who
) -> dict[str, int]:
    """Change the caller's password; every session of the account ends (also this one).

    403 for a wrong current password, 429 with ``Retry-After`` after too many, 409 for the
    built-in users (``local``, ``token``), which have no password.
    """
    if who.via not in ("session", "basic"):
        raise HTTPException(409, f"the built-in user {who.name!r} has no password")
    address = client_address(request)
    user_id = await run_in_threadpool(check_password, ctx, who.name, body.current_password, address)
    if user_id is None:
        raise HTTPException(403, "the current password is wrong")

    def change() -> int:
        with ctx.db.session() as s:
            return set_password(s, who.name, body.new_password)

    try:
        ended = await run_in_threadpool(change)
    except InputError as exc:
        raise HTTPException(422, exc.message) from None
    if who.via == "session":
        browser_session(request).rotate()
    return {"sessions_ended": ended}


@router.get("/projects")
def list_projects(ctx: Ctx, who: Who) -> list[dict[str, str]]:
    with ctx.db.session() as s:
        rows = s.scalars(select(Project).where(Project.id.in_(who.project_ids)))
        return [{"id": p.id, "name": p.name} for p in sorted(rows, key=lambda p: p.created_at)]


@router.post("/projects", status_code=201)
def create_project(body: ProjectRequest, ctx: Ctx, who: Who) -> dict[str, str]:
    with ctx.db.session() as s:
        p = Project(name=body.name)
        s.add(p)
        s.flush()
        s.add(ProjectMember(project_id=p.id, user_id=who.user_id))
        return {"id": p.id, "name": p.name}


@router.get("/audit")
def audit_log(
    ctx: Ctx, who: Who, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[dict[str, Any]]:
    """Who uploaded, ran, downloaded or deleted what in the caller's projects, newest first."""
    return [audit_view(e) for e in recent_events(ctx, who, limit)]


router.include_router(api_cohorts.router)
router.include_router(api_analyses.router)
