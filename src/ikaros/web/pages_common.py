"""What the page modules share: the autoescaped templates, rendering, form CSRF checks."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from ikaros import __version__
from ikaros.cohort import TIME_UNITS
from ikaros.web.deps import AppContext, Principal, context, principal
from ikaros.web.models import Cohort, Project, Upload
from ikaros.web.security import is_cross_site
from ikaros.web.sessions import check_csrf, csrf_token

__all__ = ["Ctx", "Who", "check_form_csrf", "index_page", "make_templates", "render"]

Ctx = Annotated[AppContext, Depends(context)]
Who = Annotated[Principal, Depends(principal)]
_CSRF_FAILED = "missing or invalid CSRF token: reload the page and try again"


def _p(value: object) -> str:
    """A p-value for the pages: ``<0.001``, else three decimals (two significant below 0.01)."""
    if not isinstance(value, int | float) or value != value:
        return "n/a"
    if value < 0.001:
        return "<0.001"
    return f"{value:.2g}" if value < 0.01 else f"{value:.3f}"


def _num(value: object, digits: int = 2) -> str:
    if not isinstance(value, int | float) or value != value:
        return "n/a"
    return f"{value:.{digits}f}"


def make_templates(directory: Path) -> Jinja2Templates:
    """The page templates, every one autoescaped.

    Starlette's default environment escapes by file extension only (.html, .htm, .xml), which
    would leave ``*.html.j2`` templates -- and every uploaded name in them -- unescaped.
    """
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(directory)), autoescape=True)
    env.filters["p"] = _p
    env.filters["num"] = _num
    return Jinja2Templates(env=env)


def check_form_csrf(request: Request, sent: object) -> None:
    if is_cross_site(request.headers):
        raise HTTPException(403, "cross-site request refused")
    if not check_csrf(request, sent if isinstance(sent, str) else None):
        raise HTTPException(403, _CSRF_FAILED)


def render(
    request: Request,
    template: str,
    who: Principal | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    ctx = context(request)
    return ctx.templates.TemplateResponse(
        request,
        template,
        {
            "who": who,
            "csrf": csrf_token(request),
            "version": __version__,
            "needs_login": not ctx.settings.open_access,
            **values,
        },
        status_code=status_code,
        headers=headers,
    )


def index_page(request: Request, ctx: AppContext, who: Principal, **extra: Any) -> HTMLResponse:
    with ctx.db.session() as s:
        cohorts = list(
            s.scalars(
                select(Cohort)
                .where(Cohort.project_id.in_(who.project_ids))
                .order_by(Cohort.created_at.desc())
            )
        )
        projects = list(s.scalars(select(Project).where(Project.id.in_(who.project_ids))))
        uploads = list(
            s.scalars(
                select(Upload)
                .where(Upload.project_id.in_(who.project_ids))
                .order_by(Upload.created_at.desc())
            )
        )
    return render(
        request,
        "index.html.j2",
        who,
        cohorts=cohorts,
        projects=projects,
        uploads=uploads,
        time_units=list(TIME_UNITS),
        max_bytes=ctx.settings.max_upload_bytes,
        **extra,
    )
