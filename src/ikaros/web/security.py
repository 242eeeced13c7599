"""HTTP hardening: security headers, request body limit, cross-site requests.

* Every response carries a strict Content-Security-Policy (scripts, styles and images only from
  this server; the generated report gets its own policy: inline styles, data: images, nothing
  else, sandboxed), ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` and
  ``Referrer-Policy: same-origin`` (with no-referrer, browsers send ``Origin: null`` on
  same-origin form posts).
* Request bodies larger than the upload limit are refused with 413 before they are stored.
* State-changing requests authenticated by the browser (session cookie, or nobody on an open
  loopback server) must carry the session's CSRF token (form field ``csrf_token`` or header
  ``X-CSRF-Token``; see :mod:`ikaros.web.sessions`); requests with an ``Authorization`` header
  are not ambient and need none.
* State-changing requests that a browser marks as coming from another origin (``Origin`` or
  ``Sec-Fetch-Site``) are refused whatever their credentials.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "APP_CSP",
    "REPORT_CSP",
    "BodyLimitMiddleware",
    "SecurityHeadersMiddleware",
    "format_size",
    "is_cross_site",
]

APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeadersMiddleware:
    """Adds the security headers (and the default CSP unless the route set its own).

    An unexpected error before the response started is answered here (500, with the headers),
    then re-raised so that the server logs it; Starlette's own error response would come from
    outside every middleware, without them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in _HEADERS if k not in names]
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", APP_CSP.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                body = b'{"detail":"internal server error"}'
                await send_with_headers(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send_with_headers({"type": "http.response.body", "body": body})
            raise


class _TooLarge(Exception):
    pass


def format_size(n_bytes: float) -> str:
    """``n_bytes`` for messages: "50 MB", "0.5 MB", "100 kB", "300 bytes"."""
    if n_bytes >= 1024 * 1024:
        return f"{n_bytes / 1024 / 1024:.3g} MB"
    if n_bytes >= 1024:
        return f"{n_bytes / 1024:.3g} kB"
    return f"{n_bytes:.0f} bytes"


class BodyLimitMiddleware:
    """Refuses request bodies over ``limit`` bytes (413), by header or while streaming.

    A body without ``Content-Length`` (chunked) is counted as it arrives; once it passes the limit
    the 413 answer is sent at once and the request is abandoned (whatever the application would
    still send for it is dropped). ``shown_limit`` is the limit named in the message (the upload
    limit, without the allowance for the multipart framing).
    """

    def __init__(self, app: ASGIApp, limit: int, shown_limit: int | None = None) -> None:
        self.app = app
        self.limit = limit
        self.shown_limit = limit if shown_limit is None else shown_limit

    async def _reply(self, send: Send) -> None:
        detail = (
            f"the upload is larger than the limit of {format_size(self.shown_limit)}; split the "
            "file, or start the server with a larger --max-upload-mb"
        )
        body = json.dumps({"detail": detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    too_big = False
                if too_big:
                    await self._reply(send)
                    return
        received = 0
        started = False
        replied = False

        async def limited_receive() -> Message:
            nonlocal received, replied
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    if not started and not replied:
                        replied = True
                        await self._reply(send)
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if replied:  # the 413 is out; this is the app's answer to the abandoned body
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with contextlib.suppress(_TooLarge):
            await self.app(scope, limited_receive, tracking_send)


def is_cross_site(headers: Mapping[str, str]) -> bool:
    """Whether a browser says the request comes from another site (or origin).

    Browsers send ``Sec-Fetch-Site`` (which pages cannot forge) and, on state-changing requests,
    ``Origin``; other clients usually send neither. A request a browser made on behalf of another
    origin is refused whatever credentials it carries (a browser may attach remembered HTTP Basic
    credentials by itself). ``Origin: null`` (sandboxed frames, some referrer policies) counts as
    foreign unless ``Sec-Fetch-Site`` says same-origin.
    """
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site.lower() not in ("same-origin", "none")
    origin = headers.get("origin")
    if origin is None:
        return False
    host = headers.get("host", "")
    _, sep, netloc = origin.partition("://")
    return not sep or netloc.rstrip("/").lower() != host.lower()
