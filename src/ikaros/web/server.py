"""Starting and stopping the workbench: checks before the server listens, then uvicorn.

Stopping: the first Ctrl-C (or SIGTERM) stops taking requests and new analyses and waits for the
running analyses, saying which; queued analyses stay queued for the next start. A second Ctrl-C
stops the running analyses at once (their worker processes are killed) and records them as
interrupted.
"""

from __future__ import annotations

import logging
from types import FrameType
from typing import TYPE_CHECKING

from ikaros.errors import InputError
from ikaros.web.auth import has_accounts
from ikaros.web.db import Database
from ikaros.web.settings import Settings

if TYPE_CHECKING:
    from ikaros.web.jobs import JobRunner

__all__ = ["check_can_start", "serve"]


def check_can_start(settings: Settings) -> None:
    """Refuse to need a login without a way to log in: a token or user accounts."""
    db = Database(settings.database_url)
    try:
        db.migrate()
        if settings.open_access or settings.auth_token:
            return
        with db.session() as s:
            if has_accounts(s):
                return
    finally:
        db.dispose()
    if settings.loopback and settings.require_auth:
        why = "--require-auth is set, but nobody could log in"
    elif settings.loopback:
        why = "behind a trusted proxy a login is required, but nobody could log in"
    else:
        why = "anyone who can reach this address could read the cohorts"
    raise InputError(
        f"refusing to listen on {settings.host} without authentication: {why}",
        remedy="create a user with `ikaros user add NAME --data-dir DIR`, or set IKAROS_TOKEN to a "
        "long random token" + (", or bind to 127.0.0.1" if not settings.loopback else ""),
    )


def serve(settings: Settings, port: int) -> None:
    """Run the workbench until Ctrl-C / SIGTERM (graceful) or a second Ctrl-C (forced)."""
    import uvicorn

    from ikaros.web.app import create_app

    check_can_start(settings)
    logger = logging.getLogger("uvicorn.error")
    app = create_app(settings, notify=logger.warning)
    jobs: JobRunner = app.state.ctx.jobs

    class Server(uvicorn.Server):
        signals = 0

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            self.signals += 1
            if self.signals > 1:  # a second Ctrl-C (or SIGTERM): stop the analyses now
                jobs.force()

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=port,
        log_level="info",
        proxy_headers=False,  # a trusted proxy is configured in the app (--trusted-proxy)
        server_header=False,
        timeout_graceful_shutdown=30,
    )
    server = Server(config)
    try:
        server.run()  # re-raises the Ctrl-C that stopped it once it has stopped
    except KeyboardInterrupt:
        pass
    finally:
        # forced while uvicorn still waited for connections: the app's shutdown never ran
        if server.force_exit:
            jobs.shutdown(force=True)
    logger.info("ikaros workbench stopped")
