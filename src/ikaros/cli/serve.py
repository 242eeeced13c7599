"""``ikaros serve`` and ``ikaros user``: the web workbench and its accounts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ikaros.cli._common import Command, Group, guard, out_console

__all__ = ["serve", "user_add", "user_app", "user_passwd"]

user_app = typer.Typer(cls=Group, help="User accounts of the web workbench.", no_args_is_help=True)

DataDirOption = Annotated[
    Path, typer.Option("--data-dir", help="Workbench data directory (database, stored files).")
]


@guard
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8000,
    data_dir: DataDirOption = Path("ikaros-data"),
    max_upload_mb: Annotated[float, typer.Option(help="Largest accepted upload in MB.")] = 50,
    workers: Annotated[
        int | None, typer.Option(help="Processes running analyses (default: up to 2).", min=1)
    ] = None,
    require_auth: Annotated[
        bool,
        typer.Option(
            "--require-auth", help="Demand a login on 127.0.0.1/::1 too (e.g. behind a proxy)."
        ),
    ] = False,
    secure_cookies: Annotated[
        bool,
        typer.Option(
            "--secure-cookies",
            help="Mark the session cookie Secure always (TLS in front). It is marked anyway when "
            "the request came over https.",
        ),
    ] = False,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-proxy",
            help="Address or network of a reverse proxy whose X-Forwarded-For and "
            "X-Forwarded-Proto headers are believed (repeat). Implies a login is required.",
        ),
    ] = None,
) -> None:
    """Start the web workbench (upload cohorts, explore markers, run analyses, reports).

    On 127.0.0.1 or ::1 no login is needed (unless --require-auth or --trusted-proxy). Otherwise
    it starts only with authentication: user accounts (`ikaros user add`) or a token in
    IKAROS_TOKEN. IKAROS_DATABASE_URL selects PostgreSQL
    (postgresql+psycopg://user:password@host/db); the default is SQLite in DATA_DIR. Ctrl-C
    waits for running analyses (queued ones run at the next start); a second Ctrl-C stops them.
    """
    from ikaros.web.server import serve as run_server
    from ikaros.web.settings import Settings

    settings = Settings.create(
        data_dir,
        host=host,
        max_upload_mb=max_upload_mb,
        analysis_workers=workers,
        require_auth=require_auth,
        secure_cookies=secure_cookies,
        trusted_proxies=tuple(trusted_proxy or ()),
    )
    run_server(settings, port)


@guard
def user_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    data_dir: DataDirOption = Path("ikaros-data"),
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a workbench user (with an own project); asks for the password."""
    from ikaros.web.auth import add_user
    from ikaros.web.db import Database
    from ikaros.web.settings import Settings

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    settings = Settings.create(data_dir)
    db = Database(settings.database_url)
    try:
        db.migrate()
        with db.session() as s:
            add_user(s, name, password)
    finally:
        db.dispose()
    out_console().print(f"user {name!r} created")


@guard
def user_passwd(
    name: Annotated[str, typer.Argument(help="User name.")],
    data_dir: DataDirOption = Path("ikaros-data"),
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Set a workbench user's password; every session of the user ends (logged out)."""
    from ikaros.web.auth import set_password
    from ikaros.web.db import Database
    from ikaros.web.settings import Settings

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    settings = Settings.create(data_dir)
    db = Database(settings.database_url)
    try:
        db.migrate()
        with db.session() as s:
            ended = set_password(s, name, password)
    finally:
        db.dispose()
    out_console().print(f"password of {name!r} changed; {ended} session(s) ended")


user_app.command("add", cls=Command)(user_add)
user_app.command("passwd", cls=Command)(user_passwd)
