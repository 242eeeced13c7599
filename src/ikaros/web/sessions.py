"""Browser sessions: a signed cookie holding a random id; logins are recorded server side.

* The cookie ``ikaros_session`` carries only a random 256-bit session id, signed with the
  installation's secret key (a forged or altered cookie is ignored: a new, empty session).
* A login is a row in the ``sessions`` table keyed by the SHA-256 of that id (the table holds
  no usable cookie). Logging out deletes the row, so a copied cookie is worth nothing afterwards;
  a password change deletes every row of the user; rows expire after :data:`LIFETIME`.
* Logging in and out start a new session id (no session fixation).
* The CSRF token of a session is an HMAC of its id under the secret key: it needs no storage,
  changes with the session id, and cannot be computed without the key.
* The cookie is ``HttpOnly``, ``SameSite=Strict``, ``Path=/``, and ``Secure`` when the request
  came over https (directly, or per a trusted proxy) or the server runs with ``--secure-cookies``.

Anonymous visitors (the login page, or everybody on an open loopback server) get a session id
for their CSRF token but nothing is stored for them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from itsdangerous import BadSignature, Signer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ikaros.web.models import LoginSession, User, utcnow

__all__ = [
    "COOKIE",
    "LIFETIME",
    "BrowserSession",
    "SessionCookieMiddleware",
    "browser_session",
    "check_csrf",
    "csrf_token",
    "end_session",
    "revoke_user_sessions",
    "session_user",
    "start_session",
]

COOKIE = "ikaros_session"
LIFETIME = timedelta(hours=12)
_SCOPE_KEY = "ikaros.session"
_SID = re.compile(r"[A-Za-z0-9_-]{43}")


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


@dataclass
class BrowserSession:
    """The session of one request: its id (None: no valid cookie) and whether to send a cookie."""

    key: bytes = field(repr=False)
    sid: str | None = None
    send: bool = False

    def ensure(self) -> str:
        """The session id, created (and sent) if the request had none."""
        if self.sid is None:
            self.rotate()
        assert self.sid is not None
        return self.sid

    def rotate(self) -> str:
        """Start a new session id (login, logout); the old one is forgotten."""
        self.sid = secrets.token_urlsafe(32)
        self.send = True
        return self.sid

    def csrf_token(self) -> str:
        mac = hmac.new(self.key, b"csrf\0" + self.ensure().encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def check_csrf(self, sent: str | None) -> bool:
        if self.sid is None or not sent:
            return False
        return hmac.compare_digest(self.csrf_token().encode(), sent.encode())


def browser_session(conn: HTTPConnection) -> BrowserSession:
    state = conn.scope.get(_SCOPE_KEY)
    if not isinstance(state, BrowserSession):
        raise RuntimeError("SessionCookieMiddleware is not installed")
    return state


def csrf_token(conn: HTTPConnection) -> str:
    """The CSRF token of the request's session (a session is started if there is none)."""
    return browser_session(conn).csrf_token()


def check_csrf(conn: HTTPConnection, sent: str | None) -> bool:
    return browser_session(conn).check_csrf(sent)


class SessionCookieMiddleware:
    """Reads the signed session id from the cookie; sets the cookie when the id is new."""

    def __init__(
        self, app: ASGIApp, secret_key: str, *, always_secure: bool = False, max_age: int = 0
    ) -> None:
        self.app = app
        self.key = hashlib.sha256(b"ikaros csrf\0" + secret_key.encode()).digest()
        self.signer = Signer(secret_key, salt="ikaros.session")
        self.always_secure = always_secure
        self.max_age = max_age or int(LIFETIME.total_seconds())

    def _read(self, scope: Scope) -> str | None:
        value = HTTPConnection(scope).cookies.get(COOKIE)
        if not value:
            return None
        try:
            sid = self.signer.unsign(value).decode()
        except (BadSignature, UnicodeDecodeError):
            return None
        return sid if _SID.fullmatch(sid) else None

    def _cookie(self, sid: str, scope: Scope) -> str:
        value = self.signer.sign(sid).decode()
        parts = [f"{COOKIE}={value}", "Path=/", f"Max-Age={self.max_age}", "HttpOnly"]
        parts.append("SameSite=Strict")
        if self.always_secure or scope.get("scheme") == "https":
            parts.append("Secure")
        return "; ".join(parts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = BrowserSession(self.key, self._read(scope))
        scope[_SCOPE_KEY] = state

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and state.send and state.sid:
                MutableHeaders(scope=message).append("set-cookie", self._cookie(state.sid, scope))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


# --- the server side --------------------------------------------------------------------------


def start_session(s: Session, user_id: int, sid: str) -> None:
    """Record a login for session id ``sid``; expired sessions of everybody are removed."""
    now = utcnow()
    s.execute(delete(LoginSession).where(LoginSession.expires_at <= now))
    s.add(LoginSession(id=_digest(sid), user_id=user_id, created_at=now, expires_at=now + LIFETIME))


def session_user(s: Session, sid: str) -> User | None:
    """The user logged in with session id ``sid``, if that login is current."""
    row = s.get(LoginSession, _digest(sid))
    if row is None or row.expires_at <= utcnow():
        return None
    return s.get(User, row.user_id)


def end_session(s: Session, sid: str) -> None:
    """Log out: the session id is void from now on."""
    s.execute(delete(LoginSession).where(LoginSession.id == _digest(sid)))


def revoke_user_sessions(s: Session, user_id: int) -> int:
    """End every session of a user (password change); returns how many there were."""
    ids = list(s.scalars(select(LoginSession.id).where(LoginSession.user_id == user_id)))
    if ids:
        s.execute(delete(LoginSession).where(LoginSession.user_id == user_id))
    return len(ids)
