"""The upload pages: a cohort file that does not validate is kept (for :data:`UPLOAD_TTL`) and
its problems are shown beside a column-mapping form -- the patient identifier, each endpoint's
time and event columns or their derivation from status, death and last-follow-up columns (as
``--time-from``/``--event-from``), competing risks, the other canonical columns, the time unit and
extra missing-value tokens. The mapping is validated as the command line would read the file;
once valid, the upload becomes a cohort that records its mapping."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from ikaros.cohort import TIME_UNITS
from ikaros.errors import InputError
from ikaros.web.deps import AppContext, Principal
from ikaros.web.ingest import Problem, file_columns, upload_limits, validate_file
from ikaros.web.mapping import CANONICAL_OPTIONAL, CohortSpec, mapped_columns, suggest_id_column
from ikaros.web.models import Upload
from ikaros.web.pages_common import Ctx, Who, check_form_csrf, index_page, render
from ikaros.web.services import (
    UPLOAD_TTL,
    StoredFile,
    create_cohort,
    discard_upload,
    keep_upload,
    purge_uploads,
    store_upload,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
#: endpoint rows of the mapping form (at least; one more than the endpoints found), at most
ROWS, MAX_ROWS = 4, 20
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}")
_ID = re.compile(r"[0-9a-f]{32}")


def _get_upload(ctx: AppContext, who: Principal, upload_id: str) -> Upload:
    with ctx.db.session() as s:
        u = s.get(Upload, upload_id) if _ID.fullmatch(upload_id) else None
        if u is None or u.project_id not in who.project_ids:
            raise HTTPException(404, "upload not found")
        return u


def _stored(ctx: AppContext, u: Upload) -> StoredFile:
    return StoredFile(
        u.name, u.sha256, u.file_format, u.size_bytes, ctx.files.path(u.sha256, u.file_format)
    )


def _endpoint_rows(spec: CohortSpec, columns: list[str]) -> list[dict[str, Any]]:
    """The endpoint rows of the form: found in the file, or derived by ``spec``."""
    names_after = mapped_columns(columns, spec)
    mapped = spec.mapping
    specs = {s.name: s for s in spec.endpoint_specs()}
    found = [c[: -len("_time")] for c in names_after if c.endswith("_time") and len(c) > 5]
    rows = []
    for name in dict.fromkeys([*found, *specs]):
        s = specs.get(name)
        row = {
            "name": name,
            "time": mapped.get(f"{name}_time", f"{name}_time" if name in found else ""),
            "time2": "",
            "event": mapped.get(f"{name}_event", f"{name}_event"),
            "values": "",
            "competing": bool(s and s.competing),
            "causes": "",
        }
        if s is not None and s.time_from:
            row["time"], row["time2"] = s.time_from[0], ",".join(s.time_from[1:])
        if s is not None and s.event_from:
            row["event"], row["values"] = s.event_from, ",".join(s.event_values)
        for text in spec.causes:
            e, _, rest = text.partition("=")
            if e.strip() == name:
                row["causes"] = rest.strip()
        if row["event"] not in columns:
            row["event"] = "" if not (s and s.event_from) else row["event"]
        rows.append(row)
    while len(rows) < ROWS or all(r["name"] for r in rows):
        rows.append(
            {
                "name": "",
                "time": "",
                "time2": "",
                "event": "",
                "values": "",
                "competing": False,
                "causes": "",
            }
        )
    return rows[:MAX_ROWS]


def _mapping_page(
    request: Request,
    ctx: AppContext,
    who: Principal,
    u: Upload,
    problems: list[Problem],
    spec: CohortSpec,
    status_code: int = 422,
) -> HTMLResponse:
    path = ctx.files.path(u.sha256, u.file_format)
    columns, values = file_columns(path, u.name, upload_limits(ctx.settings.max_upload_bytes))
    mapped = spec.mapping
    patient = mapped.get("patient_id") or (
        "" if "patient_id" in columns else (suggest_id_column(columns) or "")
    )
    return render(
        request,
        "upload.html.j2",
        who,
        status_code=status_code,
        upload=u,
        problems=problems,
        columns=columns,
        values=values,
        patient=patient,
        rows=_endpoint_rows(spec, columns),
        canonical={c: mapped.get(c, "") for c in CANONICAL_OPTIONAL},
        spec=spec,
        na_text=", ".join(spec.na_values),
        time_units=list(TIME_UNITS),
        ttl_hours=int(UPLOAD_TTL.total_seconds() // 3600),
        cli=" ".join(spec.cli_options()),
    )


@router.post("/cohorts", response_model=None)
async def upload_page(
    request: Request,
    ctx: Ctx,
    who: Who,
    file: Annotated[UploadFile, File()],
    project_id: Annotated[str | None, Form()] = None,
    time_unit: Annotated[str, Form()] = "months",
    na_values: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Upload: a valid file becomes a cohort; otherwise it is kept and the mapping page (its
    problems and the mapping form) follows."""
    await asyncio.to_thread(purge_uploads, ctx)
    try:
        spec = CohortSpec.parse(time_unit=time_unit, na_values=na_values)
    except InputError as exc:
        problems = [Problem.from_error(exc)]
        return index_page(
            request, ctx, who, problems=problems, upload_name=file.filename, status_code=422
        )
    cohort, problems, stored = await store_upload(ctx, who, file, project_id, spec)
    if cohort is not None:
        return RedirectResponse(f"/cohorts/{cohort.id}", status_code=303)
    if stored is None:
        return index_page(
            request, ctx, who, problems=problems, upload_name=file.filename, status_code=422
        )
    u = await asyncio.to_thread(keep_upload, ctx, who, project_id, stored, spec)
    return RedirectResponse(f"/uploads/{u.id}", status_code=303)


@router.get("/uploads/{upload_id}", response_class=HTMLResponse)
async def upload_mapping_page(upload_id: str, request: Request, ctx: Ctx, who: Who) -> Response:
    u = _get_upload(ctx, who, upload_id)
    spec = CohortSpec.from_json(u.mapping)
    path = ctx.files.path(u.sha256, u.file_format)
    limits = upload_limits(ctx.settings.max_upload_bytes)
    _, problems = await asyncio.to_thread(validate_file, path, u.name, spec, limits)
    return await asyncio.to_thread(_mapping_page, request, ctx, who, u, problems, spec, 200)


def spec_from_form(form: FormData) -> CohortSpec:
    """The mapping of the form (InputError naming the field in its text form)."""

    def field(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    maps: list[str] = []
    time_from: list[str] = []
    event_from: list[str] = []
    competing: list[str] = []
    causes: list[str] = []
    patient = field("patient_id")
    if patient and patient != "patient_id":
        maps.append(f"patient_id={patient}")
    for canonical in CANONICAL_OPTIONAL:
        source = field(f"map_{canonical}")
        if source and source != canonical:
            maps.append(f"{canonical}={source}")
    for i in range(MAX_ROWS):
        name = field(f"ep{i}_name")
        if not name:
            continue
        if not _NAME.fullmatch(name):
            raise InputError(
                f"endpoint name {name!r} is not a short name",
                remedy="use letters, digits and _ (e.g. os, pfs, ttp), starting with a letter",
            )
        t1, t2 = field(f"ep{i}_time"), field(f"ep{i}_time2")
        event, values = field(f"ep{i}_event"), field(f"ep{i}_values")
        if t2:
            time_from.append(f"{name}={','.join(c for c in (t1, t2) if c)}")
        elif t1 and t1 != f"{name}_time":
            maps.append(f"{name}_time={t1}")
        if values:
            if not event:
                raise InputError(
                    f"endpoint {name}: event values {values!r} but no event column",
                    remedy="choose the column that holds them (e.g. vital_status)",
                )
            event_from.append(f"{name}={event}:{values}")
        elif event and event != f"{name}_event":
            maps.append(f"{name}_event={event}")
        if field(f"ep{i}_competing"):
            competing.append(name)
            if field(f"ep{i}_causes"):
                causes.append(f"{name}={field(f'ep{i}_causes')}")
    return CohortSpec.parse(
        maps=maps,
        time_from=time_from,
        event_from=event_from,
        competing=competing,
        causes=causes,
        time_unit=field("time_unit") or "months",
        na_values=field("na_values"),
    )


@router.post("/uploads/{upload_id}", response_model=None)
async def upload_mapping(upload_id: str, request: Request, ctx: Ctx, who: Who) -> Response:
    """Validate the upload with the mapping of the form; a cohort once valid."""
    u = _get_upload(ctx, who, upload_id)
    form = await request.form()
    check_form_csrf(request, form.get("csrf_token"))
    old = CohortSpec.from_json(u.mapping)
    try:
        spec = spec_from_form(form)
    except InputError as exc:
        return await asyncio.to_thread(
            _mapping_page, request, ctx, who, u, [Problem.from_error(exc)], old
        )
    with ctx.db.session() as s:
        row = s.get(Upload, u.id)
        if row is None:
            raise HTTPException(404, "upload not found")
        row.mapping = spec.to_json()
    path = ctx.files.path(u.sha256, u.file_format)
    limits = upload_limits(ctx.settings.max_upload_bytes)
    valid, problems = await asyncio.to_thread(validate_file, path, u.name, spec, limits)
    if valid is None:
        problems.sort(key=lambda p: (p.row is not None, p.row or 0))
        return await asyncio.to_thread(_mapping_page, request, ctx, who, u, problems, spec)
    cohort = await asyncio.to_thread(
        create_cohort, ctx, who, u.project_id, _stored(ctx, u), spec, valid
    )
    with ctx.db.session() as s:
        row = s.get(Upload, u.id)
        if row is not None:
            s.delete(row)
    return RedirectResponse(f"/cohorts/{cohort.id}", status_code=303)


@router.post("/uploads/{upload_id}/discard", response_model=None)
async def upload_discard(upload_id: str, request: Request, ctx: Ctx, who: Who) -> Response:
    u = _get_upload(ctx, who, upload_id)
    form = await request.form()
    check_form_csrf(request, form.get("csrf_token"))
    await asyncio.to_thread(discard_upload, ctx, u)
    return RedirectResponse("/", status_code=303)
