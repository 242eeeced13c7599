"""API routes of cohorts: upload (with the column mapping), overview, expression file, explorer
(and its downloads), deletion."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from ikaros.errors import IkarosError, InputError
from ikaros.report.tables import Table
from ikaros.web.api_common import Ctx, IdPath, Who, unprocessable
from ikaros.web.audit import log_event
from ikaros.web.deps import AppContext, get_cohort
from ikaros.web.explorer import Exploration, explore
from ikaros.web.ingest import Problem
from ikaros.web.mapping import CohortSpec
from ikaros.web.models import Cohort
from ikaros.web.services import (
    attach_expression,
    cohort_view,
    delete_cohort,
    full_cohort,
    remove_unused,
    store_upload,
)

__all__ = ["explorer_view", "problems_response", "router"]

router = APIRouter()


def problems_response(problems: list[Problem], what: str = "the cohort file") -> JSONResponse:
    return JSONResponse(
        {
            "detail": f"{len(problems)} problem(s) in {what}",
            "problems": [p.as_dict() for p in problems],
        },
        status_code=422,
    )


@router.get("/cohorts")
def list_cohorts(ctx: Ctx, who: Who) -> list[dict[str, Any]]:
    from sqlalchemy import select

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
    map_: Annotated[
        list[str] | None, Form(alias="map", description="CANONICAL=COLUMN (--map)")
    ] = None,
    time_from: Annotated[list[str] | None, Form(description="E=COL1,COL2 (--time-from)")] = None,
    event_from: Annotated[
        list[str] | None, Form(description="E=COL:VALUE[,VALUE] (--event-from)")
    ] = None,
    competing: Annotated[list[str] | None, Form(description="E (--competing)")] = None,
    causes: Annotated[list[str] | None, Form(description="E=1:NAME,2:NAME (--causes)")] = None,
    na_values: Annotated[str, Form(max_length=2000, description="--na-values")] = "",
) -> dict[str, Any] | JSONResponse:
    """Upload a cohort read with the options of ``ikaros analyze`` (``--map``, ``--time-from``,
    ``--event-from``, ``--competing``, ``--causes``, ``--time-unit``, ``--na-values``); on
    validation problems 422 with every problem, row by row, and nothing is stored."""
    try:
        spec = CohortSpec.parse(
            maps=map_ or (),
            time_from=time_from or (),
            event_from=event_from or (),
            competing=competing or (),
            causes=causes or (),
            time_unit=time_unit,
            na_values=na_values,
        )
    except InputError as exc:
        return problems_response([Problem.from_error(exc)])
    cohort, problems, stored = await store_upload(ctx, who, file, project_id, spec)
    if cohort is None:
        if stored is not None:
            await asyncio.to_thread(remove_unused, ctx, [(stored.sha256, stored.ext)])
        return problems_response(problems)
    return cohort_view(cohort)


@router.get("/cohorts/{cohort_id}")
def get_cohort_api(cohort_id: IdPath, ctx: Ctx, who: Who) -> dict[str, Any]:
    return cohort_view(get_cohort(ctx, who, cohort_id))


@router.delete("/cohorts/{cohort_id}", status_code=204)
def delete_cohort_api(cohort_id: IdPath, ctx: Ctx, who: Who) -> Response:
    """Delete the cohort, its analyses and their files (its stored files unless shared)."""
    delete_cohort(ctx, who, get_cohort(ctx, who, cohort_id))
    return Response(status_code=204)


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


@router.post("/cohorts/{cohort_id}/expression", response_model=None)
async def upload_expression(
    cohort_id: IdPath,
    ctx: Ctx,
    who: Who,
    file: Annotated[
        UploadFile,
        File(description="patient_id + marker columns, or an expression matrix (either way)"),
    ],
    genes: Annotated[
        UploadFile | None, File(description="gene identifier -> symbol (two columns)")
    ] = None,
    sample_pattern: Annotated[str, Form(max_length=500)] = "",
    markers: Annotated[str, Form(max_length=5000, description="comma-separated")] = "",
) -> dict[str, Any] | JSONResponse:
    """Join marker values from an expression file to the cohort (as ``--expression``,
    ``--sample-pattern``, ``--genes``); replaces an earlier one. 422 with the problem."""
    c = get_cohort(ctx, who, cohort_id)
    wanted = [m.strip() for m in markers.replace(";", ",").split(",") if m.strip()]
    row, problems = await attach_expression(
        ctx, who, c, file, genes, sample_pattern.strip() or None, wanted
    )
    if row is None:
        return problems_response(problems, "the expression file")
    return cohort_view(row)


def explorer_view(
    ctx: AppContext,
    c: Cohort,
    endpoint: str,
    marker: str | None,
    variable: str | None,
    split: str,
    cut: float | None,
    thresholds: str | None,
    reference: str | None,
    landmark: float,
) -> Exploration:
    """The explorer's computation for cohort ``c`` (run it off the event loop)."""
    values: tuple[float, ...] = ()
    if thresholds:
        try:
            values = tuple(float(v) for v in thresholds.split(",") if v.strip())
        except ValueError:
            raise InputError(
                f"thresholds {thresholds!r} are not numbers", remedy="write e.g. 3.5,5.5"
            ) from None
    return explore(
        full_cohort(ctx, c),
        endpoint,
        marker=marker,
        variable=variable,
        split=split,
        cut=cut,
        thresholds=values,
        reference=reference,
        landmark=landmark,
    )


Name = Annotated[str | None, Query(min_length=1, max_length=200)]
Split = Annotated[
    Literal["q1", "median", "tertile", "quartiles", "upper-quartile", "thresholds"], Query()
]
Thresholds = Annotated[str | None, Query(max_length=500, description="e.g. 3.5,5.5")]


@router.get("/cohorts/{cohort_id}/explorer")
async def explorer(
    cohort_id: IdPath,
    ctx: Ctx,
    who: Who,
    endpoint: Annotated[str, Query(min_length=1, max_length=200)],
    marker: Name = None,
    variable: Name = None,
    split: Split = "q1",
    cut: Annotated[float | None, Query(allow_inf_nan=False)] = None,
    thresholds: Thresholds = None,
    reference: Name = None,
    landmark: Annotated[float, Query(gt=0, le=600)] = 36.0,
) -> dict[str, Any]:
    """Kaplan-Meier curves, log-rank p and hazard ratios (95% CI) of a grouping: a marker by
    ``split`` (or at ``cut``, with the search-corrected p) or a grouping ``variable``."""
    c = get_cohort(ctx, who, cohort_id)
    args = (endpoint, marker, variable, split, cut, thresholds, reference, landmark)
    try:
        ex = await asyncio.to_thread(explorer_view, ctx, c, *args)
    except IkarosError as exc:
        raise unprocessable(exc) from None
    return ex.view


@router.get("/cohorts/{cohort_id}/explorer/export", response_class=Response)
async def explorer_export(
    cohort_id: IdPath,
    ctx: Ctx,
    who: Who,
    endpoint: Annotated[str, Query(min_length=1, max_length=200)],
    fmt: Annotated[Literal["png", "svg", "csv"], Query(alias="format")] = "png",
    marker: Name = None,
    variable: Name = None,
    split: Split = "q1",
    cut: Annotated[float | None, Query(allow_inf_nan=False)] = None,
    thresholds: Thresholds = None,
    reference: Name = None,
    landmark: Annotated[float, Query(gt=0, le=600)] = 36.0,
    xlim: Annotated[float | None, Query(gt=0, le=1200)] = None,
) -> Response:
    """The explorer's current chart as PNG or SVG (the report's figure), or its data as CSV
    (R survfit-like: strata, time, n.risk, n.event, n.censor, surv, lower, upper); recorded in
    the audit log."""
    from ikaros.web.explorer_export import explorer_csv, explorer_figure, export_name

    c = get_cohort(ctx, who, cohort_id)
    args = (endpoint, marker, variable, split, cut, thresholds, reference, landmark)
    try:
        ex = await asyncio.to_thread(explorer_view, ctx, c, *args)
        if fmt == "csv":
            body: bytes = explorer_csv(ex).encode()
            media = "text/csv; charset=utf-8"
        else:
            body = await asyncio.to_thread(explorer_figure, ex, fmt, xlim)
            media = "image/png" if fmt == "png" else "image/svg+xml"
    except IkarosError as exc:
        raise unprocessable(exc) from None
    name = export_name(ex, fmt)
    await asyncio.to_thread(log_event, ctx, who, c.project_id, "download", "cohort", c.id, name)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "svg":
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return Response(body, media_type=media, headers=headers)
