"""Browser-facing security: response headers and the CSRF check of form posts.

Every POST from a page must carry the session's CSRF token (`access.Session.csrf`), come
from the same site (Sec-Fetch-Site, Origin) and, by SameSite=Strict, cannot ride a
cross-site request.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from aiohttp import hdrs, web

from recorder.report.html import export_style_hash
from recorder.web.access import PAGE_SECRET, Session, session_for
from recorder.web.problems import Problem

PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self';"
    " frame-ancestors 'none'; base-uri 'none'"
)
SVG_CSP = "default-src 'none'; frame-ancestors 'none'"
CSRF_FIELD = "csrf_token"


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
    raw = headers.get(hdrs.CONTENT_TYPE)
    if raw is None or ("html" not in raw.lower() and "svg" not in raw.lower()):
        return  # neither HTML nor SVG, without parsing the header (most answers are JSON)
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
