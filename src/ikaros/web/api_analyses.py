"""API routes of analyses: start (everything ``ikaros analyze`` offers), progress, results,
files, deletion."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import FileResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from ikaros.errors import IkarosError
from ikaros.web.analysis_params import AnalysisRequest, check_request, load_for
from ikaros.web.api_common import Ctx, IdPath, Who, unprocessable
from ikaros.web.audit import log_event
from ikaros.web.deps import AppContext, Principal, get_analysis, get_cohort
from ikaros.web.models import Analysis, Cohort
from ikaros.web.security import REPORT_CSP
from ikaros.web.services import (
    analysis_files,
    analysis_view,
    cohort_expression,
    cohort_spec,
    delete_analysis,
    start_analysis,
)
from ikaros.web.storage import analysis_dir, safe_member

__all__ = ["queue_analysis", "router"]

router = APIRouter()


def _checked(ctx: AppContext, c: Cohort, body: AnalysisRequest) -> dict[str, Any]:
    """The parameters, checked against the cohort and by reading it as the analysis will."""
    params = check_request(body, list(c.markers), list(c.endpoints), c.variables)
    load_for(
        ctx.files.path(c.sha256, c.file_format),
        c.name,
        cohort_spec(c),
        params,
        cohort_expression(ctx, c),
    )
    return params


async def queue_analysis(
    ctx: AppContext, who: Principal, c: Cohort, body: AnalysisRequest
) -> Analysis:
    """Check the request (422 naming the problem) and queue the analysis."""
    try:
        params = await run_in_threadpool(_checked, ctx, c, body)
    except IkarosError as exc:
        raise unprocessable(exc) from None
    return start_analysis(ctx, who, c, params)


@router.post("/cohorts/{cohort_id}/analyses", status_code=202)
async def create_analysis(
    cohort_id: IdPath, body: AnalysisRequest, ctx: Ctx, who: Who
) -> dict[str, Any]:
    """Queue the study analysis (and report) as a background job."""
    c = get_cohort(ctx, who, cohort_id)
    a = await queue_analysis(ctx, who, c, body)
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


@router.delete("/analyses/{analysis_id}", status_code=204)
def delete_analysis_api(analysis_id: IdPath, ctx: Ctx, who: Who) -> Response:
    """Delete the analysis and its files (a running one stops)."""
    a, c = get_analysis(ctx, who, analysis_id)
    delete_analysis(ctx, who, a, c)
    return Response(status_code=204)


@router.get("/analyses/{analysis_id}/results.json", response_class=Response)
def analysis_results(analysis_id: IdPath, ctx: Ctx, who: Who) -> Response:
    """results.json as recorded in the database."""
    a, c = get_analysis(ctx, who, analysis_id)
    if a.results_json is None:
        raise HTTPException(409, f"the analysis is {a.status}; results.json exists once done")
    log_event(ctx, who, c.project_id, "download", "analysis", a.id, "results.json")
    return Response(a.results_json, media_type="application/json")


@router.get("/analyses/{analysis_id}/files/{name:path}", response_class=Response)
def analysis_file(
    analysis_id: IdPath,
    name: str,
    ctx: Ctx,
    who: Who,
    download: Annotated[bool, Query(description="as an attachment (figures)")] = False,
) -> Response:
    """A file of a finished analysis: report.html, report.pdf, results.json, tables/*.csv,
    figures/*.png|svg. Downloads are recorded in the audit log (figures shown in the page
    are not)."""
    a, c = get_analysis(ctx, who, analysis_id)
    if name not in analysis_files(ctx, a):
        raise HTTPException(404, "file not found")
    path = safe_member(analysis_dir(ctx.settings.analyses_dir, a.id), name)
    if path is None:
        raise HTTPException(404, "file not found")
    shown = name.startswith("figures/") and name.endswith(".png") and not download
    if not shown:
        log_event(ctx, who, c.project_id, "download", "analysis", a.id, name)
    headers = {"Content-Security-Policy": REPORT_CSP} if name.endswith((".html", ".svg")) else {}
    inline = (name.endswith((".html", ".pdf")) or shown) and not download
    return FileResponse(
        path,
        filename=path.name,
        headers=headers,
        content_disposition_type="inline" if inline else "attachment",
    )
