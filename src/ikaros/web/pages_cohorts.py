"""Pages of a cohort: overview with its mapping, expression upload, the analysis form (everything
``ikaros analyze`` offers), the explorer, the analysis page with its results (tables, figures,
REMARK profile, downloads), and deletion with a confirmation step."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from ikaros.groups import CUT_KINDS
from ikaros.web.analysis_params import AnalysisRequest, cohort_columns
from ikaros.web.api_analyses import queue_analysis
from ikaros.web.deps import AppContext, Principal, get_analysis, get_cohort
from ikaros.web.ingest import Problem
from ikaros.web.models import Analysis, Cohort
from ikaros.web.pages_common import Ctx, Who, check_form_csrf, render
from ikaros.web.services import (
    analysis_files,
    analysis_view,
    attach_expression,
    cohort_view,
    delete_analysis,
    delete_cohort,
)

__all__ = ["request_from_form", "router"]

router = APIRouter(include_in_schema=False)
#: markers pre-selected in the analysis form when the cohort has at most this many
PRESELECT_MARKERS = 8
CUTS = (*[k for k in CUT_KINDS if k != "thresholds"], "optimal", "thresholds")


def _analyses(ctx: AppContext, c: Cohort) -> list[Analysis]:
    with ctx.db.session() as s:
        return list(
            s.scalars(
                select(Analysis)
                .where(Analysis.cohort_id == c.id)
                .order_by(Analysis.created_at.desc())
            )
        )


def _cohort_page(
    request: Request,
    ctx: AppContext,
    who: Principal,
    c: Cohort,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    view = cohort_view(c)
    cols = cohort_columns(c.variables, list(c.markers))
    variables = view["variables"]
    competing = [e["name"] for e in c.overview.get("endpoints", []) if e.get("competing")]
    return render(
        request,
        "cohort.html.j2",
        who,
        status_code=status_code,
        cohort=view,
        analyses=_analyses(ctx, c),
        columns=cols,
        binary=variables.get("binary", []),
        ignored=variables.get("ignored", []),
        competing=competing,
        preselect=list(c.markers) if len(c.markers) <= PRESELECT_MARKERS else [],
        cuts=CUTS,
        **extra,
    )


@router.get("/cohorts/{cohort_id}", response_class=HTMLResponse)
def cohort_page(cohort_id: str, request: Request, ctx: Ctx, who: Who) -> HTMLResponse:
    return _cohort_page(request, ctx, who, get_cohort(ctx, who, cohort_id))


def _strings(form: FormData, name: str) -> list[str]:
    return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def request_from_form(form: FormData) -> AnalysisRequest:
    """The analysis form as an :class:`AnalysisRequest` (ValidationError for invalid fields)."""
    groups = _strings(form, "groups")
    cut = _text(form, "cut") or "quartile"
    if cut == "thresholds":
        cut = _text(form, "thresholds") or "thresholds"
    fields: dict[str, Any] = {
        "markers": _strings(form, "markers"),
        "endpoints": _strings(form, "endpoints") or None,
        "groups": groups,
        "covariates": _strings(form, "covariates"),
        "references": {g: _text(form, f"ref_{g}") for g in groups if _text(form, f"ref_{g}")},
        "cut": cut,
        "landmark": _text(form, "landmark") or 36,
        "transform": _text(form, "transform") or "none",
        "xlim": _text(form, "xlim") or None,
        "title": _text(form, "title")[:500] or None,
        "measurement": _text(form, "measurement")[:500] or None,
        "report": form.get("report") == "on",
    }
    treatment = _text(form, "treatment")
    if treatment:
        fields["treatment"] = treatment
        fields["treatment_reference"] = _text(form, f"tref_{treatment}") or None
    if form.get("performance") == "on":
        fields["performance"] = True
        fields["base_model"] = _strings(form, "base_model")
        fields["performance_bootstrap"] = _text(form, "performance_bootstrap") or 200
    return AnalysisRequest.model_validate(fields)


def _validation_text(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e.get("loc", ()))
        parts.append(f"{where}: {e.get('msg', '')}")
    return "; ".join(parts)


@router.post("/cohorts/{cohort_id}/analyses", response_model=None)
async def analysis_form(cohort_id: str, request: Request, ctx: Ctx, who: Who) -> Response:
    c = get_cohort(ctx, who, cohort_id)
    form = await request.form()
    try:
        body = request_from_form(form)
    except ValidationError as exc:
        return _cohort_page(request, ctx, who, c, 422, form_error=_validation_text(exc))
    try:
        a = await queue_analysis(ctx, who, c, body)
    except HTTPException as exc:
        if exc.status_code != 422:
            raise
        return _cohort_page(request, ctx, who, c, 422, form_error=str(exc.detail))
    return RedirectResponse(f"/analyses/{a.id}", status_code=303)


@router.post("/cohorts/{cohort_id}/expression", response_model=None)
async def expression_form(cohort_id: str, request: Request, ctx: Ctx, who: Who) -> Response:
    c = get_cohort(ctx, who, cohort_id)
    form = await request.form()
    check_form_csrf(request, form.get("csrf_token"))
    file, genes = form.get("file"), form.get("genes")
    if not isinstance(file, UploadFile) or not file.filename:
        problem = Problem(None, None, None, "no file chosen", "choose the expression file", "")
        return _cohort_page(request, ctx, who, c, 422, expression_problems=[problem])
    row, problems = await attach_expression(
        ctx,
        who,
        c,
        file,
        genes if isinstance(genes, UploadFile) and genes.filename else None,
        _text(form, "sample_pattern") or None,
        [m.strip() for m in _text(form, "markers").replace(";", ",").split(",") if m.strip()],
    )
    if row is None:
        return _cohort_page(request, ctx, who, c, 422, expression_problems=problems)
    return RedirectResponse(f"/cohorts/{c.id}", status_code=303)


@router.get("/cohorts/{cohort_id}/explore", response_class=HTMLResponse)
def explore_page(cohort_id: str, request: Request, ctx: Ctx, who: Who) -> HTMLResponse:
    c = get_cohort(ctx, who, cohort_id)
    view = cohort_view(c)
    groups = view["variables"].get("groups", [])
    competing = {e["name"] for e in c.overview.get("endpoints", []) if e.get("competing")}
    return render(
        request,
        "explore.html.j2",
        who,
        cohort=view,
        # JSON in data attributes, escaped by the template like any other text
        markers_json=json.dumps(list(c.markers)),
        variables_json=json.dumps([{"name": g["name"], "levels": g["levels"]} for g in groups]),
        endpoints_json=json.dumps([e for e in c.endpoints if e not in competing]),
    )


@router.get("/cohorts/{cohort_id}/delete", response_class=HTMLResponse)
def delete_cohort_page(cohort_id: str, request: Request, ctx: Ctx, who: Who) -> HTMLResponse:
    c = get_cohort(ctx, who, cohort_id)
    n = len(_analyses(ctx, c))
    return render(
        request,
        "delete.html.j2",
        who,
        what="cohort",
        name=c.name,
        consequence=f"the cohort, its {n} analys{'i' if n == 1 else 'e'}s with their reports "
        "and files, and the uploaded file (unless another cohort uses the same file). "
        "The audit log keeps a record.",
        action=f"/cohorts/{c.id}/delete",
        cancel=f"/cohorts/{c.id}",
    )


@router.post("/cohorts/{cohort_id}/delete", response_model=None)
async def delete_cohort_form(cohort_id: str, request: Request, ctx: Ctx, who: Who) -> Response:
    c = get_cohort(ctx, who, cohort_id)
    form = await request.form()
    check_form_csrf(request, form.get("csrf_token"))
    await run_in_threadpool(delete_cohort, ctx, who, c)
    return RedirectResponse("/", status_code=303)


@router.get("/analyses/{analysis_id}", response_class=HTMLResponse)
async def analysis_page(analysis_id: str, request: Request, ctx: Ctx, who: Who) -> HTMLResponse:
    from ikaros.web.results_view import results_view

    a, c = get_analysis(ctx, who, analysis_id)
    view = analysis_view(ctx, a)
    results = None
    if a.status == "done" and a.results_json and a.results_sha256:
        files = tuple(analysis_files(ctx, a))
        results = await run_in_threadpool(results_view, a.results_sha256, a.results_json, files)
    return render(
        request,
        "analysis.html.j2",
        who,
        analysis=view,
        cohort=cohort_view(c),
        results=results,
    )


@router.get("/analyses/{analysis_id}/delete", response_class=HTMLResponse)
def delete_analysis_page(analysis_id: str, request: Request, ctx: Ctx, who: Who) -> HTMLResponse:
    a, c = get_analysis(ctx, who, analysis_id)
    running = " It is still running: it stops." if a.status in ("queued", "running") else ""
    return render(
        request,
        "delete.html.j2",
        who,
        what="analysis",
        name=f"{c.name}: analysis of {a.created_at:%Y-%m-%d %H:%M:%S} UTC",
        consequence="the analysis with its results, report and files."
        + running
        + " The audit log keeps a record.",
        action=f"/analyses/{a.id}/delete",
        cancel=f"/analyses/{a.id}",
    )


@router.post("/analyses/{analysis_id}/delete", response_model=None)
async def delete_analysis_form(analysis_id: str, request: Request, ctx: Ctx, who: Who) -> Response:
    a, c = get_analysis(ctx, who, analysis_id)
    form = await request.form()
    check_form_csrf(request, form.get("csrf_token"))
    await run_in_threadpool(delete_analysis, ctx, who, a, c)
    return RedirectResponse(f"/cohorts/{c.id}", status_code=303)
