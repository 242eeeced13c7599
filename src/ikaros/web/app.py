"""The FastAPI application: ``create_app(settings)``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from ikaros import __version__
from ikaros.web import api, pages
from ikaros.web.auth import LOCAL_USER, ensure_user
from ikaros.web.db import Database
from ikaros.web.deps import AppContext, NeedsLogin
from ikaros.web.jobs import JobRunner
from ikaros.web.ratelimit import LoginLimiter
from ikaros.web.security import BodyLimitMiddleware, SecurityHeadersMiddleware
from ikaros.web.services import purge_uploads
from ikaros.web.sessions import SessionCookieMiddleware
from ikaros.web.settings import Settings
from ikaros.web.storage import FileStore

__all__ = ["LOOPBACK_HOSTS", "create_app"]

HERE = Path(__file__).parent
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]
#: multipart framing around the file itself
_FORM_OVERHEAD = 64 * 1024


def create_app(settings: Settings, notify: Callable[[str], None] | None = None) -> FastAPI:
    """The workbench app for ``settings`` (migrates the database and starts workers on startup).

    ``notify`` receives messages for the operator (what a shutdown waits for).
    """
    db = Database(settings.database_url)
    templates = pages.make_templates(HERE / "templates")
    ctx = AppContext(
        settings=settings,
        db=db,
        files=FileStore(settings.files_dir),
        jobs=JobRunner(db, settings.data_dir, settings.analysis_workers, notify),
        templates=templates,
        limiter=LoginLimiter(),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db.migrate()
        if settings.open_access:
            with db.session() as s:
                ensure_user(s, LOCAL_USER)
        ctx.jobs.start()
        purge_uploads(ctx)
        try:
            yield
        finally:
            try:
                await ctx.jobs.drain()
            finally:
                ctx.jobs.shutdown()
                db.dispose()

    app = FastAPI(
        title="ikaros workbench",
        version=__version__,
        description="Prognostic-biomarker survival analysis: cohorts, marker explorer, analyses.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.ctx = ctx
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.exception_handler(NeedsLogin)
    async def needs_login(request: Request, exc: NeedsLogin) -> Response:
        return RedirectResponse("/login", status_code=303)

    # Starlette's own HTTPException (unknown routes, 405) as well as FastAPI's subclass
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.url.path.startswith("/static/"):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        return pages.render(
            request,
            "error.html.j2",
            status_code=exc.status_code,
            headers=exc.headers,
            code=exc.status_code,
            detail=str(exc.detail),
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()
        ]
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "; ".join(problems)}, status_code=422)
        return pages.render(
            request, "error.html.j2", status_code=422, code=422, detail="; ".join(problems)
        )

    # outermost first: trusted proxy's headers applied, security headers on every response,
    # then size limit, host check, sessions
    app.add_middleware(
        SessionCookieMiddleware,
        secret_key=settings.secret_key,
        always_secure=settings.secure_cookies,
    )
    if settings.loopback and not settings.trusted_proxies:
        hosts = [*LOOPBACK_HOSTS, settings.host.lower()]
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts)
    app.add_middleware(
        BodyLimitMiddleware,
        limit=settings.max_upload_bytes + _FORM_OVERHEAD,
        shown_limit=settings.max_upload_bytes,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    return app
