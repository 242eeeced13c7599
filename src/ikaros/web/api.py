"""The JSON API (``/api/v1``), described by the app's OpenAPI schema."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy import select

from ikaros import __version__
from ikaros.errors import IkarosError
from ikaros.report.tables import Table
from ikaros.web.deps import (
    AppContext,
    Principal,
    cohort_path,
    context,
    get_analysis,
    get_cohort,
    principal,
)
from ikaros.web.explorer import explore
from ikaros.web.ingest import load_stored
from ikaros.web.models import Analysis, Cohort, Project, ProjectMember
from ikaros.web.security import REPORT_CSP, csrf_token
from ikaros.web.services import (
    analysis_files,
    analysis_view,
    cohort_view,
    start_analysis,
    store_upload,
)
from ikaros.web.storage import analysis_dir, safe_member

__all__ = ["AnalysisRequest", "router"]

router = APIRouter(prefix="/api/v1", tags=["api"])
Ctx = Annotated[AppContext, Depends(context)]
Who = Annotated[Principal, Depends(principal)]
IdPath = Annotated[str, Field(min_length=1, max_length=64)]


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _no_control_characters(value: str) -> str:
    """Text stored and shown on pages: no control characters (PostgreSQL text cannot hold NUL)."""
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _name(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return _no_control_characters(value)


class AnalysisRequest(BaseModel):
    """Parameters of a study analysis (as ``ikaros analyze``)."""

    markers: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=50
    )
    endpoints: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        default=None, min_length=1, max_length=10
    )
    landmark: float = Field(default=36.0, gt=0, le=600)
    cut: Literal["quartile", "optimal"] = "quartile"
    report: bool = True
    measurement: (
        Annotated[str, Field(max_length=500), AfterValidator(_no_control_characters)] | None
    ) = None


class ProjectRequest(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_name)]


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/csrf")
def csrf(request: Request) -> dict[str, str]:
    """A CSRF token for browser-style clients (send it as ``X-CSRF-Token``)."""
    return {"csrf_token": csrf_token(request.session)}


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


@router.get("/cohorts")
def list_cohorts(ctx: Ctx, who: Who) -> list[dict[str, Any]]:
    with ctx.db.session() as s:
        rows = s.scalars(
            select(Cohort)
            .where(Cohort.project_id.in_(who.project_ids))
            .order_by(Cohort.created_at.desc())
        )
        return [cohort_view(c) for c in rows]


@router.post("/cohorts", status_code=201, response_model=None)
async def upload_cohort(
    ctx: Ctx,
    who: Who,
    file: Annotated[UploadFile, File(description="Clinical table: CSV, TSV, XLSX or Parquet")],
    project_id: Annotated[str | None, Form(max_length=64)] = None,
    time_unit: Annotated[str, Form(max_length=16)] = "months",
) -> dict[str, Any] | JSONResponse:
    """Upload a cohort; on validation problems 422 with every problem, row by row."""
    cohort, problems = await store_upload(ctx, who, file, project_id, time_unit)
    if cohort is None:
        return JSONResponse(
            {
                "detail": f"{len(problems)} problem(s) in the cohort file",
                "problems": [p.as_dict() for p in problems],
            },
            status_code=422,
        )
    return cohort_view(cohort)


@router.get("/cohorts/{cohort_id}")
def get_cohort_api(cohort_id: IdPath, ctx: Ctx, who: Who) -> dict[str, Any]:
    return cohort_view(get_cohort(ctx, who, cohort_id))


@router.get("/cohorts/{cohort_id}/overview.csv", response_class=Response)
def cohort_overview_csv(cohort_id: IdPath, ctx: Ctx, who: Who) -> Response:
    """Missingness per column and marker distributions, as CSV (formula-injection safe)."""
    c = get_cohort(ctx, who, cohort_id)
    ov = c.overview
    rows = [
        (str(m["column"]), str(m["missing"]), f"{m['fraction']:.4f}") for m in ov["missingness"]
    ]
    table = Table("overview", "Missingness", ("column", "missing", "fraction"), tuple(rows))
    return Response(
        table.to_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="cohort_overview.csv"'},
    )


@router.get("/cohorts/{cohort_id}/explorer")
async def explorer(
    cohort_id: IdPath,
    ctx: Ctx,
    who: Who,
    marker: Annotated[str, Query(min_length=1, max_length=200)],
    endpoint: Annotated[str, Query(min_length=1, max_length=200)],
    cut: Annotated[float | None, Query(allow_inf_nan=False)] = None,
    landmark: Annotated[float, Query(gt=0, le=600)] = 36.0,
) -> dict[str, Any]:
    """Kaplan-Meier curves of ``marker`` at ``cut`` with the log-rank and corrected p."""
    c = get_cohort(ctx, who, cohort_id)
    path = cohort_path(ctx, c)

    def run() -> dict[str, Any]:
        cohort = load_stored(path, c.name, c.time_unit)
        return explore(cohort, marker, endpoint, cut, landmark=landmark)

    try:
        return await asyncio.to_thread(run)
    except IkarosError as exc:
        raise HTTPException(422, exc.message) from None


@router.post("/cohorts/{cohort_id}/analyses", status_code=202)
def create_analysis(cohort_id: IdPath, body: AnalysisRequest, ctx: Ctx, who: Who) -> dict[str, Any]:
    """Queue the full study analysis (and report) as a background job."""
    c = get_cohort(ctx, who, cohort_id)
    params = body.model_dump()
    unknown = [m for m in body.markers if m not in c.markers]
    if unknown:
        raise HTTPException(422, f"unknown marker(s) {unknown}; this cohort has {c.markers}")
    endpoints = body.endpoints or list(c.endpoints)
    bad = [e for e in endpoints if e not in c.endpoints]
    if bad:
        raise HTTPException(422, f"unknown endpoint(s) {bad}; this cohort has {c.endpoints}")
    params["endpoints"] = endpoints
    params["markers"] = list(dict.fromkeys(body.markers))
    a = start_analysis(ctx, who, c, params)
    return analysis_view(ctx, a)


@router.get("/cohorts/{cohort_id}/analyses")
def list_analyses(cohort_id: IdPath, ctx: Ctx, who: Who) -> list[dict[str, Any]]:
    c = get_cohort(ctx, who, cohort_id)
    with ctx.db.session() as s:
        rows = s.scalars(
            select(Analysis).where(Analysis.cohort_id == c.id).order_by(Analysis.created_at)
        )
        return [analysis_view(ctx, a) for a in rows]


@router.get("/analyses/{analysis_id}")
def get_analysis_api(analysis_id: IdPath, ctx: Ctx, who: Who) -> dict[str, Any]:
    a, _ = get_analysis(ctx, who, analysis_id)
    return analysis_view(ctx, a)


@router.get("/analyses/{analysis_id}/results.json", response_class=Response)
def analysis_results(analysis_id: IdPath, ctx: Ctx, who: Who) -> Response:
    """results.json as recorded in the database."""
    a, _ = get_analysis(ctx, who, analysis_id)
    if a.results_json is None:
        raise HTTPException(409, f"the analysis is {a.status}; results.json exists once done")
    return Response(a.results_json, media_type="application/json")


@router.get("/analyses/{analysis_id}/files/{name:path}", response_class=Response)
def analysis_file(analysis_id: IdPath, name: str, ctx: Ctx, who: Who) -> Response:
    """A file of a finished analysis: report.html, report.pdf, results.json, tables/*.csv."""
    a, _ = get_analysis(ctx, who, analysis_id)
    if name not in analysis_files(ctx, a):
        raise HTTPException(404, "file not found")
    path = safe_member(analysis_dir(ctx.settings.analyses_dir, a.id), name)
    if path is None:
        raise HTTPException(404, "file not found")
    headers = {"Content-Security-Policy": REPORT_CSP} if name.endswith(".html") else {}
    inline = name.endswith((".html", ".pdf"))
    return FileResponse(
        path,
        filename=path.name,
        headers=headers,
        content_disposition_type="inline" if inline else "attachment",
    )
