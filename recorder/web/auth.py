"""Credentials as presented: bearer tokens and HTTP Basic, compared in constant time.

Who needs which credential is decided in `recorder.web.access`.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from aiohttp import web
from pydantic import SecretStr


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
