"""Request authentication: bearer tokens and HTTP Basic, compared in constant time."""

from __future__ import annotations

import base64
import binascii
import hmac

from aiohttp import web
from pydantic import SecretStr

from recorder.web.problems import Problem


def bearer_token(request: web.Request) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def tokens_match(given: str | None, expected: SecretStr) -> bool:
    """Constant-time comparison of a presented token with the configured one."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.get_secret_value().encode())


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


def basic_auth_matches(request: web.Request, expected: SecretStr) -> bool:
    """True when the request's HTTP Basic credentials equal `user:password`."""
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(given, expected.get_secret_value().encode())
