"""Browser-facing security: response headers, the session cookie and CSRF tokens.

The session cookie never holds the API token. A signed-in editor's cookie is
HMAC(token, "session"): the server recomputes it and compares in constant time, so
rotating RECORDER_API_TOKEN signs every browser out. Visitors who have not signed in get
a random cookie, only so that their forms can carry a CSRF token. The CSRF token is
HMAC(key, "csrf:" + cookie), keyed by the API token or, with no token configured, by a
per-process random key; every POST must carry it, come from the same site
(Sec-Fetch-Site, Origin) and, by SameSite=Strict, cannot ride a cross-site request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import SecretStr

from recorder.report.html import export_style_hash
from recorder.web.auth import bearer_token, tokens_match
from recorder.web.keys import SETTINGS
from recorder.web.problems import Problem

PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self';"
    " frame-ancestors 'none'; base-uri 'none'"
)
SVG_CSP = "default-src 'none'; frame-ancestors 'none'"
SESSION_COOKIE = "recorder_session"
SESSION_MAX_AGE = 12 * 3600
CSRF_FIELD = "csrf_token"
# Keys CSRF tokens when no API token is configured; a restart only re-renders forms.
PAGE_SECRET = web.AppKey("page_secret", bytes)


@dataclass(frozen=True, slots=True)
class Session:
    """The browser's session as this request sees it.

    `editor`: may edit (signed in, or no API token configured). `fresh`: the cookie is new
    and the response must set it.
    """

    value: str
    editor: bool
    csrf: str
    fresh: bool


_SESSION = web.RequestKey("page_session", Session)


def signed_in_value(token: SecretStr) -> str:
    """The cookie value of a signed-in editor: derived from the token, never the token."""
    return _mac(token.get_secret_value().encode(), "session")


def _mac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _csrf_key(request: web.Request) -> bytes:
    token = request.app[SETTINGS].api_token
    return token.get_secret_value().encode() if token else request.app[PAGE_SECRET]


def session_for(request: web.Request) -> Session:
    """The request's session, made once per request (a new anonymous one if needed)."""
    if _SESSION in request:
        return request[_SESSION]
    token = request.app[SETTINGS].api_token
    cookie = request.cookies.get(SESSION_COOKIE, "")
    signed_in = token is not None and hmac.compare_digest(cookie, signed_in_value(token))
    fresh = len(cookie) != 64 or not all(c in "0123456789abcdef" for c in cookie)
    value = secrets.token_hex(32) if fresh else cookie
    session = Session(
        value=value,
        editor=token is None or signed_in,
        csrf=_mac(_csrf_key(request), "csrf:" + value),
        fresh=fresh,
    )
    request[_SESSION] = session
    return session


def new_session(request: web.Request, *, signed_in: bool) -> Session:
    """A replacement session after signing in or out (new value, new CSRF token)."""
    token = request.app[SETTINGS].api_token
    value = signed_in_value(token) if signed_in and token else secrets.token_hex(32)
    session = Session(
        value=value,
        editor=token is None or signed_in,
        csrf=_mac(_csrf_key(request), "csrf:" + value),
        fresh=True,
    )
    request[_SESSION] = session
    return session


def store_session(request: web.Request, response: web.StreamResponse) -> None:
    """Set the session cookie on `response` when this request made a new session."""
    session = session_for(request)
    if not session.fresh:
        return
    response.set_cookie(
        SESSION_COOKIE,
        session.value,
        max_age=SESSION_MAX_AGE,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )


def may_read(request: web.Request) -> bool:
    """Pages are open unless RECORDER_API_READ_AUTH=true; then a signed-in session or the
    bearer token is needed."""
    settings = request.app[SETTINGS]
    if not settings.api_read_auth or settings.api_token is None:
        return True
    return session_for(request).editor or tokens_match(bearer_token(request), settings.api_token)


def check_form_post(request: web.Request, submitted_csrf: str | None) -> Session:
    """Reject (403) a form POST that is cross-site or lacks this session's CSRF token.

    Our pages send `Referrer-Policy: no-referrer`, under which browsers send
    `Origin: null` on form posts, so "null" is accepted and Sec-Fetch-Site decides.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site != "same-origin":
        raise Problem(403, "Cross-site request refused", f"Sec-Fetch-Site is {site!r}")
    origin = request.headers.get("Origin")
    if origin is not None and origin != "null" and urlsplit(origin).netloc != request.host:
        raise Problem(403, "Cross-site request refused", "the Origin header names another site")
    session = session_for(request)
    if session.fresh or not submitted_csrf or not hmac.compare_digest(submitted_csrf, session.csrf):
        raise Problem(
            403, "CSRF check failed", "the form is stale or did not come from this site; reload it"
        )
    return session


def local_path(target: str | None, default: str = "/") -> str:
    """`target` when it is a path on this site (no scheme, host or `//`), else `default`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: CSP on HTML and SVG, nosniff and no-referrer everywhere."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    content_type = response.content_type
    if content_type == "text/html":
        headers.setdefault("Content-Security-Policy", html_policy(request))
        headers.setdefault("Cache-Control", "no-store")
    elif content_type == "image/svg+xml":
        headers.setdefault("Content-Security-Policy", SVG_CSP)


def html_policy(request: web.Request) -> str:
    """The page policy; the standalone report export may also apply its one inline
    stylesheet, allowed by hash (it must stay readable when saved to a file)."""
    if request.path.startswith("/api/v1/incidents/") and request.path.endswith("/report"):
        return PAGE_CSP.replace("style-src 'self'", f"style-src 'self' '{export_style_hash()}'")
    return PAGE_CSP


def init_security(app: web.Application) -> None:
    """Give the app its per-process CSRF key and the header hook."""
    app[PAGE_SECRET] = secrets.token_bytes(32)
    app.on_response_prepare.append(add_security_headers)
