"""What the API and the pages both do: store and validate uploads (with the column mapping),
keep uploads awaiting a mapping, attach expression files, start and delete analyses, delete
cohorts, and record every step in the audit log."""

from __future__ import annotations

import asyncio
import re
import shutil
from datetime import timedelta
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from fastapi import HTTPException, UploadFile
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ikaros.web.audit import record
from ikaros.web.deps import AppContext, Principal
from ikaros.web.ingest import (
    ExpressionRef,
    Problem,
    Validated,
    expression_markers,
    expression_ref,
    load_stored,
    overview,
    upload_limits,
    validate_file,
)
from ikaros.web.mapping import CohortSpec
from ikaros.web.models import Analysis, Cohort, Upload, utcnow
from ikaros.web.security import format_size
from ikaros.web.storage import ALLOWED_FORMATS, UploadTooLarge, analysis_dir

__all__ = [
    "EXPRESSION_FORMATS",
    "MAX_EXPRESSION_MARKERS",
    "UPLOAD_TTL",
    "StoredFile",
    "analysis_files",
    "analysis_view",
    "attach_expression",
    "clean_filename",
    "cohort_expression",
    "cohort_spec",
    "cohort_view",
    "create_cohort",
    "delete_analysis",
    "delete_cohort",
    "discard_upload",
    "full_cohort",
    "keep_upload",
    "purge_uploads",
    "start_analysis",
    "store_file",
    "store_upload",
]

_CHUNK = 1024 * 1024
#: how long an upload awaiting its column mapping is kept
UPLOAD_TTL = timedelta(hours=24)
#: expression files: text tables or Parquet (a matrix is read as ``ikaros scan`` reads it)
EXPRESSION_FORMATS: tuple[str, ...] = (".csv", ".tsv", ".txt", ".parquet")
#: most markers taken from an expression file without naming them
MAX_EXPRESSION_MARKERS = 500


def clean_filename(name: str | None) -> str:
    """The last path component of a client-supplied file name, without control characters."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip()
    return base[:200] or "upload"


def problem(text: str, remedy: str) -> Problem:
    return Problem(None, None, None, text, remedy, f"{text}. Remedy: {remedy}")


class StoredFile:
    """An upload in the content-addressed store."""

    def __init__(self, name: str, sha256: str, ext: str, size: int, path: Path) -> None:
        self.name, self.sha256, self.ext, self.size, self.path = name, sha256, ext, size, path


async def store_file(
    ctx: AppContext, upload: UploadFile, formats: tuple[str, ...] = ALLOWED_FORMATS
) -> StoredFile | Problem:
    """Stream an upload into the store (413 past the limit); a problem for a wrong file type."""
    name = clean_filename(upload.filename)
    ext = Path(name).suffix.lower()
    if ext not in formats:
        return problem(
            f"{name}: file type {ext or '(none)'!r} is not supported",
            f"upload one of {', '.join(formats)}",
        )

    async def chunks() -> Any:
        while block := await upload.read(_CHUNK):
            yield block

    try:
        sha, size = await ctx.files.put_stream(chunks(), ext, ctx.settings.max_upload_bytes)
    except UploadTooLarge:
        limit = format_size(ctx.settings.max_upload_bytes)
        raise HTTPException(413, f"the upload is larger than the limit of {limit}") from None
    return StoredFile(name, sha, ext, size, ctx.files.path(sha, ext))


def _in_use(s: Session, sha: str) -> bool:
    """Whether a cohort, a pending upload or an expression file refers to the stored bytes."""
    for model in (Cohort, Upload):
        if s.scalar(select(func.count()).select_from(model).where(model.sha256 == sha)):
            return True
    for expr in s.scalars(select(Cohort.expression).where(Cohort.expression.is_not(None))):
        if expr and sha in (expr.get("sha256"), (expr.get("genes") or {}).get("sha256")):
            return True
    return False


def remove_unused(ctx: AppContext, files: list[tuple[str, str]]) -> None:
    """Delete stored files (sha256, extension) that nothing refers to any more."""
    with ctx.db.session() as s:
        unused = [(sha, ext) for sha, ext in dict.fromkeys(files) if not _in_use(s, sha)]
    for sha, ext in unused:
        ctx.files.path(sha, ext).unlink(missing_ok=True)


def _project(who: Principal, project_id: str | None) -> str:
    if project_id is None:
        return who.project_ids[0]
    if project_id not in who.project_ids:
        raise HTTPException(404, "project not found")
    return project_id


def create_cohort(
    ctx: AppContext,
    who: Principal,
    project_id: str,
    stored: StoredFile,
    spec: CohortSpec,
    valid: Validated,
) -> Cohort:
    """Record a validated upload as a cohort of ``project_id``."""
    summary = overview(valid.cohort)
    with ctx.db.session() as s:
        row = Cohort(
            project_id=project_id,
            name=stored.name,
            sha256=stored.sha256,
            file_format=stored.ext,
            size_bytes=stored.size,
            time_unit=spec.time_unit,
            uploaded_by=who.user_id,
            n_patients=valid.cohort.n,
            markers=list(valid.cohort.markers),
            endpoints=list(valid.cohort.endpoints),
            overview=summary,
            mapping=spec.to_json(),
            variables=valid.variables_json(),
            expression=None,
        )
        s.add(row)
        s.flush()
        options = " ".join(spec.cli_options())
        record(
            s,
            who,
            project_id,
            "upload",
            "cohort",
            row.id,
            stored.name + (f" ({options})" if options else ""),
        )
    return row


async def store_upload(
    ctx: AppContext,
    who: Principal,
    upload: UploadFile,
    project_id: str | None,
    spec: CohortSpec,
) -> tuple[Cohort | None, list[Problem], StoredFile | None]:
    """Store an uploaded cohort file and validate it with ``spec``.

    Returns the new cohort, or the problems and the stored file (removed again unless the caller
    keeps it, see :func:`keep_upload`, or another cohort uses the same bytes).
    """
    project_id = _project(who, project_id)
    stored = await store_file(ctx, upload)
    if isinstance(stored, Problem):
        return None, [stored], None
    limits = upload_limits(ctx.settings.max_upload_bytes)
    valid, problems = await asyncio.to_thread(validate_file, stored.path, stored.name, spec, limits)
    if valid is None:
        problems.sort(key=lambda p: (p.row is not None, p.row or 0))
        return None, problems, stored
    row = await asyncio.to_thread(create_cohort, ctx, who, project_id, stored, spec, valid)
    return row, [], stored


def keep_upload(
    ctx: AppContext, who: Principal, project_id: str | None, stored: StoredFile, spec: CohortSpec
) -> Upload:
    """Keep a stored upload that did not validate, for the mapping step of the pages."""
    with ctx.db.session() as s:
        row = Upload(
            project_id=_project(who, project_id),
            user_id=who.user_id,
            name=stored.name,
            sha256=stored.sha256,
            file_format=stored.ext,
            size_bytes=stored.size,
            mapping=spec.to_json(),
        )
        s.add(row)
    return row


def discard_upload(ctx: AppContext, upload: Upload) -> None:
    """Forget a pending upload and its file (unless something else uses the same bytes)."""
    with ctx.db.session() as s:
        s.execute(delete(Upload).where(Upload.id == upload.id))
    remove_unused(ctx, [(upload.sha256, upload.file_format)])


def purge_uploads(ctx: AppContext) -> int:
    """Remove pending uploads older than :data:`UPLOAD_TTL`; how many."""
    cutoff = utcnow() - UPLOAD_TTL
    with ctx.db.session() as s:
        old = list(s.scalars(select(Upload).where(Upload.created_at < cutoff)))
        for u in old:
            s.delete(u)
    remove_unused(ctx, [(u.sha256, u.file_format) for u in old])
    return len(old)


def cohort_spec(c: Cohort) -> CohortSpec:
    return CohortSpec.from_json(c.mapping, c.time_unit)


def cohort_expression(ctx: AppContext, c: Cohort) -> ExpressionRef | None:
    """The stored expression file of a cohort, if any."""
    return expression_ref(ctx.files, c.expression)


def full_cohort(ctx: AppContext, c: Cohort) -> Any:
    """The stored cohort with every marker and grouping variable validated (the explorer's)."""
    groups = tuple(g["name"] for g in (c.variables or {}).get("groups", []))
    return load_stored(
        ctx.files.path(c.sha256, c.file_format),
        c.name,
        cohort_spec(c),
        tuple(c.markers),
        groups,
        (),
        cohort_expression(ctx, c),
    )


def _file_record(stored: StoredFile) -> dict[str, Any]:
    return {
        "name": stored.name,
        "sha256": stored.sha256,
        "format": stored.ext,
        "size_bytes": stored.size,
    }


async def attach_expression(
    ctx: AppContext,
    who: Principal,
    c: Cohort,
    upload: UploadFile,
    genes_upload: UploadFile | None,
    sample_pattern: str | None,
    wanted: list[str],
) -> tuple[Cohort | None, list[Problem]]:
    """Join an expression file (patient table or matrix, either orientation) to cohort ``c``.

    The markers are the file's columns or gene symbols (``wanted``: only these); the cohort is
    read again with them, as ``ikaros analyze --expression`` reads it. The previous expression
    file of the cohort, if any, is replaced.
    """
    from ikaros.cohort import read_gene_map
    from ikaros.errors import InputError

    stored = await store_file(ctx, upload, EXPRESSION_FORMATS)
    if isinstance(stored, Problem):
        return None, [stored]
    genes_stored: StoredFile | None = None
    if genes_upload is not None and genes_upload.filename:
        g = await store_file(ctx, genes_upload, (".csv", ".tsv", ".txt"))
        if isinstance(g, Problem):
            remove_unused(ctx, [(stored.sha256, stored.ext)])
            return None, [g]
        genes_stored = g
    ref = ExpressionRef(
        stored.path,
        stored.name,
        sample_pattern or None,
        None if genes_stored is None else genes_stored.path,
        None if genes_stored is None else genes_stored.name,
    )
    spec = cohort_spec(c)
    path = ctx.files.path(c.sha256, c.file_format)
    groups = tuple(g["name"] for g in (c.variables or {}).get("groups", []))
    clinical = tuple((c.variables or {}).get("markers", c.markers))

    def check() -> tuple[list[str], Any]:
        base = load_stored(path, c.name, spec, clinical, groups)
        genes = (
            {}
            if genes_stored is None
            else _named(read_gene_map, genes_stored.path, genes_stored.name)
        )
        offered = expression_markers(ref, list(base.data["patient_id"]), genes)
        markers = [m for m in offered if m not in clinical]
        if wanted:
            absent = [m for m in wanted if m not in offered]
            if absent:
                raise InputError(
                    f"marker {absent[0]!r} is not in the expression file",
                    file=stored.name,
                    remedy="name genes or columns of the file (after the gene map), or leave "
                    "the list empty to take them all",
                )
            markers = [m for m in wanted if m not in clinical]
        if not markers:
            raise InputError(
                "the expression file holds no marker that the cohort does not already have",
                file=stored.name,
                remedy="upload a file with patient_id and marker columns, or a genes x samples "
                "matrix whose samples are the cohort's patients (see the sample pattern)",
            )
        if len(markers) > MAX_EXPRESSION_MARKERS:
            raise InputError(
                f"the expression file holds {len(markers)} genes; at most "
                f"{MAX_EXPRESSION_MARKERS} are taken without naming them",
                file=stored.name,
                remedy="list the markers to analyse (gene symbols, comma-separated)",
            )
        cohort = load_stored(path, c.name, spec, (*clinical, *markers), groups, (), ref)
        return markers, cohort

    def cleanup() -> None:
        files = [(stored.sha256, stored.ext)]
        if genes_stored is not None:
            files.append((genes_stored.sha256, genes_stored.ext))
        remove_unused(ctx, files)

    try:
        markers, cohort = await asyncio.to_thread(check)
    except InputError as exc:
        await asyncio.to_thread(cleanup)
        return None, [Problem.from_error(exc)]
    summary = overview(cohort)
    with ctx.db.session() as s:
        row = s.get(Cohort, c.id)
        if row is None:  # deleted meanwhile
            raise HTTPException(404, "cohort not found")
        old = row.expression
        row.expression = {
            **_file_record(stored),
            "sample_pattern": sample_pattern or None,
            "genes": None if genes_stored is None else _file_record(genes_stored),
            "markers": markers,
        }
        row.markers = [*clinical, *markers]
        row.overview = summary
        record(s, who, row.project_id, "expression", "cohort", row.id, stored.name)
    if old:
        files = [(old["sha256"], old["format"])]
        if old.get("genes"):
            files.append((old["genes"]["sha256"], old["genes"]["format"]))
        await asyncio.to_thread(remove_unused, ctx, files)
    return row, []


def _named(reader: Any, path: Path, name: str) -> Any:
    """Call ``reader(path)``, naming the uploaded file (not the storage path) in its errors."""
    from ikaros.errors import InputError
    from ikaros.web.ingest import relabel

    try:
        return reader(path)
    except InputError as exc:
        raise relabel(exc, {str(path): name}) from None


def cohort_view(c: Cohort) -> dict[str, Any]:
    spec = cohort_spec(c)
    expression = dict(c.expression) if c.expression else None
    if expression is not None:
        expression.pop("sha256", None)
        if expression.get("genes"):
            expression["genes"] = {"name": expression["genes"]["name"]}
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
        "mapping": spec.to_json(),
        "cli_options": spec.cli_options(),
        "variables": c.variables or {"markers": c.markers, "groups": []},
        "expression": expression,
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
        s.flush()
        what = ", ".join([*params.get("markers", []), *params.get("groups", [])])
        record(s, who, c.project_id, "analyse", "analysis", a.id, f"{c.name}: {what}")
    ctx.jobs.submit(a.id)
    return a


def delete_analysis(ctx: AppContext, who: Principal, a: Analysis, c: Cohort) -> None:
    """Delete an analysis with its files (a running one is disowned: its worker stops)."""
    with ctx.db.session() as s:
        s.execute(delete(Analysis).where(Analysis.id == a.id))
        record(s, who, c.project_id, "delete", "analysis", a.id, f"{c.name}: analysis ({a.status})")
    shutil.rmtree(analysis_dir(ctx.settings.analyses_dir, a.id), ignore_errors=True)


def delete_cohort(ctx: AppContext, who: Principal, c: Cohort) -> int:
    """Delete a cohort, its analyses and their files, and its stored files if unused; returns
    the number of analyses deleted."""
    with ctx.db.session() as s:
        ids = list(s.scalars(select(Analysis.id).where(Analysis.cohort_id == c.id)))
        s.execute(delete(Analysis).where(Analysis.cohort_id == c.id))
        s.execute(delete(Cohort).where(Cohort.id == c.id))
        record(s, who, c.project_id, "delete", "cohort", c.id, f"{c.name} with {len(ids)} analyses")
    for analysis_id in ids:
        shutil.rmtree(analysis_dir(ctx.settings.analyses_dir, analysis_id), ignore_errors=True)
    files = [(c.sha256, c.file_format)]
    if c.expression:
        files.append((c.expression["sha256"], c.expression["format"]))
        if c.expression.get("genes"):
            files.append((c.expression["genes"]["sha256"], c.expression["genes"]["format"]))
    remove_unused(ctx, files)
    return len(ids)


#: files of an analysis shown or offered for download, besides results.json and the report
_FIGURE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,120}\.(png|svg)")


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
    figures = root / "figures"
    if figures.is_dir():
        out += [f"figures/{p.name}" for p in sorted(figures.iterdir()) if _FIGURE.fullmatch(p.name)]
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
