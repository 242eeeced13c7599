"""Server-rendered pages (Jinja2, autoescaped): upload, overview, explorer, analyses, login."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from ikaros import __version__
from ikaros.cohort import TIME_UNITS
from ikaros.web.auth import authenticate
from ikaros.web.deps import AppContext, Principal, context, get_analysis, get_cohort, principal
from ikaros.web.models import Analysis, Cohort, Project
from ikaros.web.security import check_csrf, csrf_token, is_cross_site
from ikaros.web.services import analysis_view, cohort_view, start_analysis, store_upload

__all__ = ["make_templates", "render", "router"]

router = APIRouter(include_in_schema=False)
Ctx = Annotated[AppContext, Depends(context)]
Who = Annotated[Principal, Depends(principal)]
_CSRF_FAILED = "missing or invalid CSRF token: reload the page and try again"


def make_templates(directory: Path) -> Jinja2Templates:
    """The page templates, every one autoescaped.

    Starlette's default environment escapes by file extension only (.html, .htm, .xml), which
    would leave ``*.html.j2`` templates -- and every uploaded name in them -- unescaped.
    """
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(directory)), autoescape=True)
    return Jinja2Templates(env=env)


def _check_form_csrf(request: Request, sent: object) -> None:
    if is_cross_site(request.headers):
        raise HTTPException(403, "cross-site request refused")
    if not check_csrf(request.session, sent if isinstance(sent, str) else None):
        raise HTTPException(403, _CSRF_FAILED)


def render(
    request: Request,
    template: str,
    who: Principal | None = None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    ctx = context(request)
    return ctx.templates.TemplateResponse(
        request,
        template,
        {
            "who": who,
            "csrf": csrf_token(request.session),
            "version": __version__,
            "needs_login": not ctx.settings.loopback,
            **values,
        },
        status_code=status_code,
    )


def _index(request: Request, ctx: AppContext, who: Principal, **extra: Any) -> HTMLResponse:
    with ctx.db.session() as s:
        cohorts = list(
            s.scalars(
                select(Cohort)
                .where(Cohort.project_id.in_(who.project_ids))
                .order_by(Cohort.created_at.desc())
            )
        )
        projects = list(s.scalars(select(Project).where(Project.id.in_(who.project_ids))))
    return render(
        request,
        "index.html.j2",
        who,
        cohorts=cohorts,
        projects=projects,
        time_units=list(TIME_UNITS),
        **extra,
    )


@router.get("/", response_class=HTMLResponse)
def index(request: Request, ctx: Ctx, who: Who) -> HTMLResponse:
    return _index(request, ctx, who)


@router.post("/cohorts", response_model=None)
async def upload_page(
    request: Request,
    ctx: Ctx,
    who: Who,
    file: Annotated[UploadFile, File()],
    project_id: Annotated[str | None, Form()] = None,
    time_unit: Annotated[str, Form()] = "months",
) -> Response:
    cohort, problems = await store_upload(ctx, who, file, project_id, time_unit)
    if cohort is None:
        return _index(
            request,
            ctx,
            who,
            problems=problems,
            upload_name=file.filename or "upload",
            status_code=422,
        )
    return RedirectResponse(f"/cohorts/{cohort.id}", status_code=303)


@router.get("/cohorts/{cohort_id}", response_class=HTMLResponse)
def cohort_page(cohort_id: str, request: Request, ctx: Ctx, who: Who) -> HTMLResponse:
    c = get_cohort(ctx, who, cohort_id)
    with ctx.db.session() as s:
        analyses = list(
            s.scalars(
                select(Analysis)
                .where(Analysis.cohort_id == c.id)
                .order_by(Analysis.created_at.desc())
            )
        )
    return render(request, "cohort.html.j2", who, cohort=cohort_view(c), analyses=analyses)


@router.post("/cohorts/{cohort_id}/analyses", response_model=None)
async def analysis_form(cohort_id: str, request: Request, ctx: Ctx, who: Who) -> Response:
    c = get_cohort(ctx, who, cohort_id)
    form = await request.form()
    markers = [m for m in form.getlist("markers") if isinstance(m, str) and m in c.markers]
    endpoints = [e for e in form.getlist("endpoints") if isinstance(e, str) and e in c.endpoints]
    try:
        landmark = float(str(form.get("landmark") or 36))
    except ValueError:
        landmark = float("nan")
    cut = str(form.get("cut") or "quartile")
    problems = []
    if not markers:
        problems.append("choose at least one marker")
    if not endpoints:
        problems.append("choose at least one endpoint")
    if not (0 < landmark <= 600):
        problems.append("the landmark must be a number of months in (0, 600]")
    if cut not in ("quartile", "optimal"):
        problems.append("cut must be quartile or optimal")
    if problems:
        raise HTTPException(422, "; ".join(problems))
    params = {
        "markers": markers,
        "endpoints": endpoints,
        "landmark": landmark,
        "cut": cut,
        "report": form.get("report") == "on",
        "measurement": str(form.get("measurement") or "")[:500] or None,
    }
    a = start_analysis(ctx, who, c, params)
    return RedirectResponse(f"/analyses/{a.id}", status_code=303)


@router.get("/cohorts/{cohort_id}/explore", response_class=HTMLResponse)
def explore_page(cohort_id: str, request: Request, ctx: Ctx, who: Who) -> HTMLResponse:
    c = get_cohort(ctx, who, cohort_id)
    return render(
        request,
        "explore.html.j2",
        who,
        cohort=cohort_view(c),
        markers_json=json.dumps(c.markers),
        endpoints_json=json.dumps(c.endpoints),
    )


@router.get("/analyses/{analysis_id}", response_class=HTMLResponse)
def analysis_page(analysis_id: str, request: Request, ctx: Ctx, who: Who) -> HTMLResponse:
    a, c = get_analysis(ctx, who, analysis_id)
    return render(
        request, "analysis.html.j2", who, analysis=analysis_view(ctx, a), cohort=cohort_view(c)
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html.j2")


@router.post("/login", response_model=None)
async def login(request: Request, ctx: Ctx) -> Response:
    form = await request.form()
    _check_form_csrf(request, form.get("csrf_token"))
    name = str(form.get("username") or "")[:64]
    password = str(form.get("password") or "")[:1024]

    def check() -> bool:
        with ctx.db.session() as s:
            return authenticate(s, name, password) is not None

    if not await run_in_threadpool(check):  # scrypt takes ~50 ms: not on the event loop
        return render(
            request, "login.html.j2", error="unknown user or wrong password", status_code=401
        )
    request.session.clear()
    request.session["user"] = name
    csrf_token(request.session)
    return RedirectResponse("/", status_code=303)


@router.post("/logout", response_model=None)
async def logout(request: Request) -> Response:
    form = await request.form()
    _check_form_csrf(request, form.get("csrf_token"))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
