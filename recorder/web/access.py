"""Who may do what: reading, writing, webhook bearer tokens, and the browser session.

Every access decision of the web layer is made here. The API and the webhooks take a
bearer token (`Authorization: Bearer …`); the pages and their charts also take a
signed-in browser session.

The session cookie never holds the API token. A signed-in editor's cookie is
HMAC(token, "session"): the server recomputes it and compares in constant time, so
rotating RECORDER_API_TOKEN signs every browser out. Visitors who have not signed in get
a random cookie, only so that their forms can carry a CSRF token (see `security`). The
CSRF token is HMAC(key, "csrf:" + cookie), keyed by the API token or, with no token
configured, by a per-process random key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web
from pydantic import SecretStr

from recorder.web.auth import bearer_token, tokens_match
from recorder.web.keys import SETTINGS
from recorder.web.problems import Problem

SESSION_COOKIE = "recorder_session"
SESSION_MAX_AGE = 12 * 3600
# Keys CSRF tokens when no API token is configured; a restart only re-renders forms.
PAGE_SECRET = web.AppKey("page_secret", bytes)


def require_bearer(request: web.Request, expected: SecretStr | None, what: str) -> None:
    """Raise 401 unless the request carries the configured bearer token (if one is set)."""
    if expected is None:
        return
    given = bearer_token(request)
    if given is None:
        raise Problem(
            401,
            "Unauthorized",
            f"{what} needs `Authorization: Bearer <token>`",
            headers={"WWW-Authenticate": 'Bearer realm="incident-recorder"'},
        )
    if not tokens_match(given, expected):
        raise Problem(
            401,
            "Unauthorized",
            f"the bearer token for {what} does not match",
            headers={"WWW-Authenticate": 'Bearer realm="incident-recorder", error="invalid_token"'},
        )


def require_read(request: web.Request) -> None:
    """API reads are open unless RECORDER_API_READ_AUTH=true; then the bearer token."""
    settings = request.app[SETTINGS]
    if settings.api_read_auth:
        require_bearer(request, settings.api_token, "reading the API")


def require_write(request: web.Request) -> None:
    """Writes need the API token when one is configured."""
    require_bearer(request, request.app[SETTINGS].api_token, "writing through the API")


def may_read(request: web.Request) -> bool:
    """Pages are open unless RECORDER_API_READ_AUTH=true; then a signed-in session or the
    bearer token is needed."""
    settings = request.app[SETTINGS]
    if not settings.api_read_auth or settings.api_token is None:
        return True
    return session_for(request).editor or tokens_match(bearer_token(request), settings.api_token)


def require_page_read(request: web.Request, what: str) -> None:
    """Raise 401 (problem+json) unless `may_read`: for what the pages embed (charts)."""
    if not may_read(request):
        raise Problem(
            401,
            "Unauthorized",
            f"{what} needs `Authorization: Bearer <token>` or a signed-in session",
            headers={"WWW-Authenticate": 'Bearer realm="incident-recorder"'},
        )


def login_redirect(request: web.Request) -> web.Response:
    """303 to the sign-in page, coming back to this page afterwards."""
    response = web.Response(
        status=303, headers={"Location": "/login?" + urlencode({"next": request.path_qs})}
    )
    store_session(request, response)
    return response


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
    return _keep_session(request, value, editor=token is None or signed_in, fresh=fresh)


def new_session(request: web.Request, *, signed_in: bool) -> Session:
    """A replacement session after signing in or out (new value, new CSRF token)."""
    token = request.app[SETTINGS].api_token
    value = signed_in_value(token) if signed_in and token else secrets.token_hex(32)
    return _keep_session(request, value, editor=token is None or signed_in, fresh=True)


def _keep_session(request: web.Request, value: str, *, editor: bool, fresh: bool) -> Session:
    session = Session(value, editor, _mac(_csrf_key(request), "csrf:" + value), fresh)
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
