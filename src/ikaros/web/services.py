"""What the API and the pages both do: store and validate uploads, start analyses, list files."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from fastapi import HTTPException, UploadFile
from sqlalchemy import func, select

from ikaros.cohort import TIME_UNITS
from ikaros.web.deps import AppContext, Principal
from ikaros.web.ingest import Problem, overview, validate_file
from ikaros.web.models import Analysis, Cohort
from ikaros.web.security import format_size
from ikaros.web.storage import ALLOWED_FORMATS, UploadTooLarge, analysis_dir

__all__ = [
    "analysis_files",
    "analysis_view",
    "cohort_view",
    "start_analysis",
    "store_upload",
]

_CHUNK = 1024 * 1024


def clean_filename(name: str | None) -> str:
    """The last path component of a client-supplied file name, without control characters."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip()
    return base[:200] or "upload"


def _problem(text: str, remedy: str) -> Problem:
    return Problem(None, None, None, text, remedy, f"{text}. Remedy: {remedy}")


async def store_upload(
    ctx: AppContext, who: Principal, upload: UploadFile, project_id: str | None, time_unit: str
) -> tuple[Cohort | None, list[Problem]]:
    """Store an uploaded cohort file and validate it; returns the new cohort or the problems."""
    name = clean_filename(upload.filename)
    ext = Path(name).suffix.lower()
    if project_id is None:
        project_id = who.project_ids[0]
    if project_id not in who.project_ids:
        raise HTTPException(404, "project not found")
    if time_unit not in TIME_UNITS:
        return None, [
            _problem(f"unknown time unit {time_unit!r}", f"use one of {list(TIME_UNITS)}")
        ]
    if ext not in ALLOWED_FORMATS:
        return None, [
            _problem(
                f"{name}: file type {ext or '(none)'!r} is not supported",
                f"upload one of {', '.join(ALLOWED_FORMATS)}",
            )
        ]

    async def chunks() -> Any:
        while block := await upload.read(_CHUNK):
            yield block

    try:
        sha, size = await ctx.files.put_stream(chunks(), ext, ctx.settings.max_upload_bytes)
    except UploadTooLarge:
        limit = format_size(ctx.settings.max_upload_bytes)
        raise HTTPException(413, f"the upload is larger than the limit of {limit}") from None
    path = ctx.files.path(sha, ext)
    cohort, problems = await asyncio.to_thread(validate_file, path, name, time_unit)
    if cohort is None:
        problems.sort(key=lambda p: (p.row is not None, p.row or 0))
        with ctx.db.session() as s:
            used = s.scalar(select(func.count()).select_from(Cohort).where(Cohort.sha256 == sha))
        if not used:
            path.unlink(missing_ok=True)
        return None, problems
    summary = await asyncio.to_thread(overview, cohort)
    with ctx.db.session() as s:
        row = Cohort(
            project_id=project_id,
            name=name,
            sha256=sha,
            file_format=ext,
            size_bytes=size,
            time_unit=time_unit,
            uploaded_by=who.user_id,
            n_patients=cohort.n,
            markers=list(cohort.markers),
            endpoints=list(cohort.endpoints),
            overview=summary,
        )
        s.add(row)
    return row, []


def cohort_view(c: Cohort) -> dict[str, Any]:
    return {
        "id": c.id,
        "project_id": c.project_id,
        "name": c.name,
        "sha256": c.sha256,
        "format": c.file_format.lstrip("."),
        "size_bytes": c.size_bytes,
        "time_unit": c.time_unit,
        "created_at": c.created_at.isoformat() + "Z",
        "n_patients": c.n_patients,
        "markers": c.markers,
        "endpoints": c.endpoints,
        "overview": c.overview,
    }


def start_analysis(ctx: AppContext, who: Principal, c: Cohort, params: dict[str, Any]) -> Analysis:
    """Record a queued analysis of cohort ``c`` and hand it to the job runner."""
    with_report = bool(params.pop("report", True))
    with ctx.db.session() as s:
        a = Analysis(
            cohort_id=c.id,
            created_by=who.user_id,
            params=params,
            with_report=with_report,
            status="queued",
            progress=0.0,
            progress_label="queued",
        )
        s.add(a)
    ctx.jobs.submit(a.id)
    return a


def analysis_files(ctx: AppContext, a: Analysis) -> list[str]:
    """Downloadable files of a finished analysis (relative names)."""
    if a.status != "done":
        return []
    root = analysis_dir(ctx.settings.analyses_dir, a.id)
    if not root.is_dir():
        return []
    names = ["results.json", "report.html", "report.pdf"]
    out = [n for n in names if (root / n).is_file()]
    tables = root / "tables"
    if tables.is_dir():
        out += [f"tables/{p.name}" for p in sorted(tables.glob("*.csv"))]
    return out


def analysis_view(ctx: AppContext, a: Analysis) -> dict[str, Any]:
    return {
        "id": a.id,
        "cohort_id": a.cohort_id,
        "status": a.status,
        "progress": a.progress,
        "progress_label": a.progress_label,
        "error": a.error,
        "params": a.params,
        "report": a.with_report,
        "software": a.software,
        "results_sha256": a.results_sha256,
        "created_at": a.created_at.isoformat() + "Z",
        "finished_at": None if a.finished_at is None else a.finished_at.isoformat() + "Z",
        "files": analysis_files(ctx, a),
    }
