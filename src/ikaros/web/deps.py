"""Request dependencies: the app context, who is asking, CSRF, and access to cohorts/analyses.

Who is asking, in this order: an ``Authorization`` header (HTTP Basic or the bearer token; a
wrong one is 401, and password checks are rate limited: 429 with ``Retry-After``), a logged-in
browser session, and on an open loopback server the built-in user ``local``.

Access rule: a user sees a cohort (and its analyses) only if the cohort belongs to one of the
user's projects. Anything else -- another user's id, a malformed id -- is answered 404, so ids of
other projects cannot even be confirmed to exist.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from fastapi import HTTPException, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ikaros.web.auth import LOCAL_USER, TOKEN_USER, authenticate, ensure_user, user_project_ids
from ikaros.web.db import Database
from ikaros.web.jobs import JobRunner
from ikaros.web.models import Analysis, Cohort, User
from ikaros.web.ratelimit import LoginLimiter
from ikaros.web.security import is_cross_site
from ikaros.web.sessions import browser_session, check_csrf, session_user
from ikaros.web.settings import Settings
from ikaros.web.storage import FileStore

__all__ = [
    "AppContext",
    "Principal",
    "check_password",
    "client_address",
    "context",
    "get_analysis",
    "get_cohort",
    "principal",
    "too_many_attempts",
]

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
#: the form of generated ids (:func:`ikaros.web.models.new_id`); anything else cannot exist
_ID = re.compile(r"[0-9a-f]{32}")


@dataclass
class AppContext:
    settings: Settings
    db: Database
    files: FileStore
    jobs: JobRunner
    templates: Jinja2Templates
    limiter: LoginLimiter


@dataclass(frozen=True)
class Principal:
    """The user behind a request, and how they authenticated."""

    user_id: int
    name: str
    via: str  # "local", "token", "basic", "session"
    project_ids: tuple[str, ...]

    @property
    def ambient(self) -> bool:
        """Authenticated by something a browser sends by itself (needs CSRF protection)."""
        return self.via in ("local", "session")


class NeedsLogin(Exception):
    """A page needs a logged-in user; the handler redirects to the login page."""


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def client_address(request: Request) -> str | None:
    """The client's address (a trusted proxy's ``X-Forwarded-For`` is already applied)."""
    return request.client.host if request.client else None


def too_many_attempts(seconds: int) -> HTTPException:
    return HTTPException(
        429,
        f"too many failed logins: try again in {seconds} s",
        headers={"Retry-After": str(seconds)},
    )


def check_password(ctx: AppContext, name: str, password: str, address: str | None) -> int | None:
    """The user id if ``password`` is ``name``'s password, else None; rate limited.

    Raises the 429 of :func:`too_many_attempts` while the account or the address is blocked
    (the password is then not checked). Runs scrypt: call it off the event loop.
    """
    attempt = ctx.limiter.begin(name, address)
    if isinstance(attempt, int):
        raise too_many_attempts(attempt)
    user_id = None
    try:
        with ctx.db.session() as s:
            user = authenticate(s, name, password)
            user_id = None if user is None else user.id
    finally:
        ctx.limiter.finish(attempt, user_id is not None)
    return user_id


def _from_authorization(
    ctx: AppContext, header: str, address: str | None
) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        token = ctx.settings.auth_token
        attempt = ctx.limiter.begin(None, address)
        if isinstance(attempt, int):
            raise too_many_attempts(attempt)
        ok = bool(token) and hmac.compare_digest(value.strip().encode(), (token or "").encode())
        ctx.limiter.finish(attempt, ok)
        return (TOKEN_USER, "token") if ok else None
    if scheme.lower() == "basic":
        try:
            raw = base64.b64decode(value.strip(), validate=True)
            name, _, password = raw.decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if check_password(ctx, name, password, address) is not None:
            return name, "basic"
        return None
    return None


def _login_required(request: Request) -> NoReturn:
    """401 for the API, the login page for pages."""
    if request.url.path.startswith("/api/"):
        raise HTTPException(
            401,
            "authentication required: log in, or send an Authorization header",
            headers={"WWW-Authenticate": 'Basic realm="ikaros"'},
        )
    raise NeedsLogin


def _principal(s: Session, user: User, via: str) -> Principal:
    return Principal(user.id, user.name, via, tuple(user_project_ids(s, user.id)))


def _load_principal(ctx: AppContext, name: str, via: str) -> Principal | None:
    for attempt in range(2):
        try:
            with ctx.db.session() as s:
                user: User | None = (
                    ensure_user(s, name)
                    if via in ("local", "token")
                    else s.scalar(select(User).where(User.name == name))
                )
                return None if user is None else _principal(s, user, via)
        except IntegrityError:  # two first requests created the built-in user at once
            if attempt:
                raise
    return None  # pragma: no cover


def _session_principal(ctx: AppContext, sid: str) -> Principal | None:
    with ctx.db.session() as s:
        user = session_user(s, sid)
        return None if user is None else _principal(s, user, "session")


async def principal(request: Request) -> Principal:
    """Who is asking: Authorization header, session cookie, or (open loopback) the local user."""
    ctx = context(request)
    header = request.headers.get("authorization")
    sid = browser_session(request).sid
    who: Principal | None = None
    if header:  # password hashing and the database off the event loop
        found = await run_in_threadpool(_from_authorization, ctx, header, client_address(request))
        if found is None:
            raise HTTPException(
                401, "invalid credentials", headers={"WWW-Authenticate": 'Basic realm="ikaros"'}
            )
        who = await run_in_threadpool(_load_principal, ctx, *found)
    elif sid is not None:
        who = await run_in_threadpool(_session_principal, ctx, sid)
    if who is None and not header and ctx.settings.open_access:
        who = await run_in_threadpool(_load_principal, ctx, LOCAL_USER, "local")
    if who is None:  # nobody, a logged-out or expired session, or an account removed since
        _login_required(request)
    if request.method not in SAFE_METHODS and is_cross_site(request.headers):
        raise HTTPException(403, "cross-site request refused")
    if request.method not in SAFE_METHODS and who.ambient:
        sent = request.headers.get("x-csrf-token")
        content_type = request.headers.get("content-type", "")
        if sent is None and content_type.startswith(
            ("multipart/form-data", "application/x-www-form-urlencoded")
        ):
            field = (await request.form()).get("csrf_token")
            sent = field if isinstance(field, str) else None
        if not check_csrf(request, sent):
            raise HTTPException(
                403,
                "missing or invalid CSRF token: reload the page and try again (API clients: "
                "send X-CSRF-Token from GET /api/v1/csrf, or use an Authorization header)",
            )
    return who


def get_cohort(ctx: AppContext, who: Principal, cohort_id: str) -> Cohort:
    with ctx.db.session() as s:
        c = s.get(Cohort, cohort_id) if _ID.fullmatch(cohort_id) else None
        if c is None or c.project_id not in who.project_ids:
            raise HTTPException(404, "cohort not found")
        return c


def get_analysis(ctx: AppContext, who: Principal, analysis_id: str) -> tuple[Analysis, Cohort]:
    with ctx.db.session() as s:
        a = s.get(Analysis, analysis_id) if _ID.fullmatch(analysis_id) else None
        c = s.get(Cohort, a.cohort_id) if a is not None else None
        if a is None or c is None or c.project_id not in who.project_ids:
            raise HTTPException(404, "analysis not found")
        return a, c


def cohort_path(ctx: AppContext, c: Cohort) -> Path:
    return ctx.files.path(c.sha256, c.file_format)
