"""Configuration of the web workbench, read once at start-up."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from ikaros.errors import InputError

__all__ = ["DEFAULT_MAX_UPLOAD_MB", "Settings", "is_loopback"]

DEFAULT_MAX_UPLOAD_MB = 50


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _secret_key(data_dir: Path) -> str:
    """A per-installation signing key, created once (mode 0600) in the data directory."""
    path = data_dir / "secret.key"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        os.replace(tmp, path)
    return path.read_text().strip()


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to know about its environment.

    Attributes
    ----------
    data_dir
        Holds the SQLite database (by default), the cohort file store and analysis outputs.
    database_url
        SQLAlchemy URL; default ``sqlite:///DATA_DIR/ikaros.db``.
    host
        Address the server binds to. On a loopback address no login is needed.
    auth_token
        Shared bearer token (``IKAROS_TOKEN``); with user accounts, the other way to authenticate.
    max_upload_bytes
        Largest accepted upload.
    analysis_workers
        Processes running analyses in the background.
    secret_key
        Signs session cookies and CSRF tokens.
    """

    data_dir: Path
    database_url: str
    host: str = "127.0.0.1"
    auth_token: str | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
    analysis_workers: int = 2
    secret_key: str = ""

    @classmethod
    def create(
        cls,
        data_dir: str | os.PathLike[str],
        *,
        host: str = "127.0.0.1",
        database_url: str | None = None,
        auth_token: str | None = None,
        max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
        analysis_workers: int | None = None,
    ) -> Settings:
        """Settings for ``data_dir``; unset values come from the environment.

        ``IKAROS_DATABASE_URL`` and ``IKAROS_TOKEN`` are read when ``database_url`` and
        ``auth_token`` are not given.
        """
        path = Path(data_dir).expanduser().resolve()
        if path.exists() and not path.is_dir():
            raise InputError(
                "data directory exists and is not a directory",
                file=str(path),
                remedy="choose a directory for --data-dir",
            )
        if not max_upload_mb > 0:
            raise InputError(
                f"upload limit must be positive, got {max_upload_mb}",
                remedy="give --max-upload-mb a positive number",
            )
        try:
            path.mkdir(parents=True, exist_ok=True)
            (path / "files").mkdir(exist_ok=True)
            (path / "analyses").mkdir(exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"cannot create the data directory: {exc.strerror}",
                file=str(path),
                remedy="choose a writable location for --data-dir",
            ) from None
        url = database_url or os.environ.get("IKAROS_DATABASE_URL") or ""
        if not url:
            url = f"sqlite:///{path / 'ikaros.db'}"
        token = auth_token if auth_token is not None else os.environ.get("IKAROS_TOKEN") or None
        if token is not None and len(token) < 16:
            raise InputError(
                "the access token is shorter than 16 characters",
                remedy="set IKAROS_TOKEN to a long random string, e.g. from "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`",
            )
        workers = analysis_workers or max(1, min(2, os.cpu_count() or 1))
        return cls(
            data_dir=path,
            database_url=url,
            host=host,
            auth_token=token,
            max_upload_bytes=int(max_upload_mb * 1024 * 1024),
            analysis_workers=workers,
            secret_key=_secret_key(path),
        )

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def analyses_dir(self) -> Path:
        return self.data_dir / "analyses"
