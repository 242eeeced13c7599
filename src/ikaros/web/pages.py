"""Server-rendered pages (Jinja2, autoescaped): the cohort list and upload, login, account
(password change) and the audit log; cohorts, explorer and analyses are in
:mod:`ikaros.web.pages_cohorts`, the mapping step of an upload in :mod:`ikaros.web.pages_upload`."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ikaros.errors import InputError
from ikaros.web import pages_cohorts, pages_upload
from ikaros.web.audit import recent_events
from ikaros.web.auth import set_password
from ikaros.web.deps import AppContext, check_password, client_address
from ikaros.web.pages_common import (
    Ctx,
    Who,
    check_form_csrf,
    index_page,
    make_templates,
    render,
)
from ikaros.web.sessions import browser_session, end_session, start_session

__all__ = ["index_page", "make_templates", "render", "router"]

router = APIRouter(include_in_schema=False)
_check_form_csrf = check_form_csrf


@router.get("/", response_class=HTMLResponse)
def index(request: Request, ctx: Ctx, who: Who) -> HTMLResponse:
    return index_page(request, ctx, who)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, ctx: Ctx, who: Who) -> HTMLResponse:
    """Who uploaded, ran, downloaded or deleted what in the user's projects."""
    return render(request, "audit.html.j2", who, events=recent_events(ctx, who, 500))


_CHANGED = "your password was changed and every session of the account ended: log in again"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, changed: str | None = None) -> HTMLResponse:
    return render(request, "login.html.j2", notice=_CHANGED if changed is not None else None)


async def _checked_password(
    request: Request, ctx: AppContext, name: str, password: str
) -> int | HTTPException | None:
    """The user id, None for a wrong password, or the 429 to answer (rate limit)."""
    try:  # scrypt takes ~50 ms: not on the event loop
        return await run_in_threadpool(check_password, ctx, name, password, client_address(request))
    except HTTPException as exc:
        if exc.status_code != 429:
            raise
        return exc


@router.post("/login", response_model=None)
async def login(request: Request, ctx: Ctx) -> Response:
    form = await request.form()
    _check_form_csrf(request, form.get("csrf_token"))
    name = str(form.get("username") or "")[:64]
    password = str(form.get("password") or "")[:1024]
    user_id = await _checked_password(request, ctx, name, password)
    if isinstance(user_id, HTTPException):
        return render(
            request,
            "login.html.j2",
            error=str(user_id.detail),
            status_code=429,
            headers=user_id.headers,
        )
    if user_id is None:
        return render(
            request, "login.html.j2", error="unknown user or wrong password", status_code=401
        )
    session = browser_session(request)
    old = session.sid
    new = session.rotate()  # a new id at login: a planted cookie does not become a login

    def record() -> None:
        with ctx.db.session() as s:
            if old is not None:
                end_session(s, old)
            start_session(s, user_id, new)

    await run_in_threadpool(record)
    return RedirectResponse("/", status_code=303)


@router.post("/logout", response_model=None)
async def logout(request: Request, ctx: Ctx) -> Response:
    form = await request.form()
    _check_form_csrf(request, form.get("csrf_token"))
    session = browser_session(request)
    old = session.sid
    if old is not None:

        def forget() -> None:
            with ctx.db.session() as s:
                end_session(s, old)

        await run_in_threadpool(forget)
    session.rotate()
    return RedirectResponse("/login", status_code=303)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, who: Who) -> HTMLResponse:
    return render(request, "account.html.j2", who)


@router.post("/account/password", response_model=None)
async def change_password_page(request: Request, ctx: Ctx, who: Who) -> Response:
    """Change the password (current one required); every session of the account ends."""
    form = await request.form()
    current = str(form.get("current_password") or "")[:1024]
    new = str(form.get("new_password") or "")[:1024]
    again = str(form.get("new_password_again") or "")[:1024]

    def fail(message: str, code: int, headers: Mapping[str, str] | None = None) -> HTMLResponse:
        return render(
            request, "account.html.j2", who, error=message, status_code=code, headers=headers
        )

    if who.via not in ("session", "basic"):
        return fail(f"the built-in user {who.name!r} has no password", 409)
    checked = await _checked_password(request, ctx, who.name, current)
    if isinstance(checked, HTTPException):
        return fail(str(checked.detail), 429, checked.headers)
    if checked is None:
        return fail("the current password is wrong", 403)
    if new != again:
        return fail("the two new passwords differ", 422)

    def change() -> None:
        with ctx.db.session() as s:
            set_password(s, who.name, new)

    try:
        await run_in_threadpool(change)
    except InputError as exc:
        return fail(exc.problem + (f"; {exc.remedy}" if exc.remedy else ""), 422)
    browser_session(request).rotate()
    return RedirectResponse("/login?changed", status_code=303)


router.include_router(pages_upload.router)
router.include_router(pages_cohorts.router)
