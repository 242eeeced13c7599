"""Starting the workbench: checks that run before the server listens, then uvicorn."""

from __future__ import annotations

from ikaros.errors import InputError
from ikaros.web.auth import has_accounts
from ikaros.web.db import Database
from ikaros.web.settings import Settings

__all__ = ["check_can_start", "serve"]


def check_can_start(settings: Settings) -> None:
    """Refuse a non-loopback address unless a token or user accounts are configured."""
    db = Database(settings.database_url)
    try:
        db.migrate()
        if settings.loopback or settings.auth_token:
            return
        with db.session() as s:
            if has_accounts(s):
                return
    finally:
        db.dispose()
    raise InputError(
        f"refusing to listen on {settings.host} without authentication: anyone who can reach "
        "this address could read the cohorts",
        remedy="create a user with `ikaros user add NAME --data-dir DIR`, or set IKAROS_TOKEN to a "
        "long random token, or bind to 127.0.0.1",
    )


def serve(settings: Settings, port: int) -> None:
    import uvicorn

    from ikaros.web.app import create_app

    check_can_start(settings)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=port,
        log_level="info",
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=30,
    )
