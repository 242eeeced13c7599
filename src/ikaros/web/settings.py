"""Configuration of the web workbench, read once at start-up."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from ikaros.errors import InputError

__all__ = ["DEFAULT_MAX_UPLOAD_MB", "LOCAL_ADDRESSES", "Settings", "is_loopback"]

DEFAULT_MAX_UPLOAD_MB = 50
#: the only bind addresses on which the workbench may run without login
LOCAL_ADDRESSES = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


def is_loopback(host: str) -> bool:
    """Whether ``host`` is 127.0.0.1 or ::1 (in any spelling, e.g. ``[::1]``).

    Nothing else counts as local: not ``localhost`` (a name, which the resolver may map anywhere),
    not the rest of 127.0.0.0/8 (``127.0.0.2`` can be routed or forwarded to differently), not
    IPv4-mapped addresses.
    """
    try:
        return ipaddress.ip_address(host.strip().strip("[]")) in LOCAL_ADDRESSES
    except ValueError:
        return False


def _proxy_list(values: tuple[str, ...]) -> tuple[str, ...]:
    """Trusted proxy addresses or networks, checked (uvicorn would silently take typos)."""
    out = []
    for raw in values:
        value = raw.strip()
        try:
            if "/" in value:
                ipaddress.ip_network(value, strict=False)
            else:
                ipaddress.ip_address(value)
        except ValueError:
            raise InputError(
                "a trusted proxy must be an IP address or network",
                value=raw,
                remedy="give --trusted-proxy the proxy's address, e.g. 127.0.0.1 or 10.0.0.0/24",
            ) from None
        out.append(value)
    return tuple(out)


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
        Address the server binds to. On 127.0.0.1 and ::1 no login is needed unless
        ``require_auth`` or ``trusted_proxies`` say otherwise (see :attr:`open_access`).
    auth_token
        Shared bearer token (``IKAROS_TOKEN``); with user accounts, the other way to authenticate.
    max_upload_bytes
        Largest accepted upload.
    analysis_workers
        Processes running analyses in the background.
    secret_key
        Signs session cookies and CSRF tokens.
    require_auth
        Demand a login on a loopback address too (``ikaros serve --require-auth``).
    secure_cookies
        Always mark the session cookie ``Secure`` (``--secure-cookies``). It is marked anyway
        when the request came over https (directly or per a trusted proxy's
        ``X-Forwarded-Proto``).
    trusted_proxies
        Addresses or networks of reverse proxies whose ``X-Forwarded-For`` and
        ``X-Forwarded-Proto`` headers are believed (``--trusted-proxy``); none by default.
    """

    data_dir: Path
    database_url: str
    host: str = "127.0.0.1"
    auth_token: str | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
    analysis_workers: int = 2
    secret_key: str = ""
    require_auth: bool = False
    secure_cookies: bool = False
    trusted_proxies: tuple[str, ...] = ()

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
        require_auth: bool = False,
        secure_cookies: bool = False,
        trusted_proxies: tuple[str, ...] | list[str] = (),
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
        proxies = _proxy_list(tuple(trusted_proxies))
        return cls(
            data_dir=path,
            database_url=url,
            host=host,
            auth_token=token,
            max_upload_bytes=int(max_upload_mb * 1024 * 1024),
            analysis_workers=workers,
            secret_key=_secret_key(path),
            require_auth=require_auth,
            secure_cookies=secure_cookies,
            trusted_proxies=proxies,
        )

    @property
    def loopback(self) -> bool:
        """Bound to 127.0.0.1 or ::1 (the ``Host`` header is then checked: DNS rebinding)."""
        return is_loopback(self.host)

    @property
    def open_access(self) -> bool:
        """No login needed: every request acts as the built-in user ``local``.

        Only on 127.0.0.1/::1, without ``--require-auth`` and without trusted proxies (a proxy
        forwards requests from other machines, so they would all count as local).
        """
        return self.loopback and not self.require_auth and not self.trusted_proxies

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def analyses_dir(self) -> Path:
        return self.data_dir / "analyses"
