"""PagerDuty V3 signature verification against the recorded and computed test vectors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from alert_adapters.signature import verify_pagerduty_signature
from tests.conftest import fixture_bytes

VECTORS: list[dict[str, Any]] = json.loads(fixture_bytes("pagerduty_v3_signature_vectors.json"))[
    "vectors"
]


def vector_body(vector: dict[str, Any]) -> bytes:
    """The exact body bytes of a vector: a fixture file's bytes or the UTF-8 of its text."""
    if "body_file" in vector:
        return fixture_bytes(vector["body_file"])
    body: bytes = vector["body_utf8"].encode("utf-8")
    return body


def expected_valid(vector: dict[str, Any]) -> bool:
    """The vector's verdict for a verifier that strips entries (the recorder's choice)."""
    # "space_after_comma" reads "valid if elements are stripped; invalid under go-pagerduty".
    return str(vector["expect"]).startswith("valid")


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_signature_vector(vector: dict[str, Any]) -> None:
    """Each vector verifies (or fails) exactly as its `expect` says."""
    body = vector_body(vector)
    if "body_len_bytes" in vector:
        assert len(body) == vector["body_len_bytes"]

    result = verify_pagerduty_signature([vector["secret"]], body, vector["x_pagerduty_signature"])

    assert result is expected_valid(vector)


def test_vectors_cover_the_documented_cases() -> None:
    """The vector file still holds every case the recorder relies on."""
    names = {v["name"] for v in VECTORS}

    assert {
        "gopagerduty_official_valid",
        "gopagerduty_official_mismatch",
        "own_reserialized_body_fails",
        "rotation_two_signatures_verify_with_new",
        "rotation_two_signatures_verify_with_old",
        "unknown_version_prefix_ignored",
        "only_non_v1_signature",
        "own_unicode_utf8",
        "space_after_comma",
    } <= names


def test_unicode_body_signed_over_latin1_fails() -> None:
    """The signature computed over a Latin-1 mis-encoding of the body is rejected."""
    vector = next(v for v in VECTORS if v["name"] == "own_unicode_utf8")

    assert not verify_pagerduty_signature(
        [vector["secret"]], vector_body(vector), vector["latin1_mistake_signature"]
    )


def test_any_configured_secret_may_match() -> None:
    """With several configured secrets (rotation on our side), one match is enough."""
    vector = next(v for v in VECTORS if v["name"] == "gopagerduty_official_valid")

    assert verify_pagerduty_signature(
        ["old-secret", vector["secret"]], vector_body(vector), vector["x_pagerduty_signature"]
    )


def test_uppercase_hex_signature_matches() -> None:
    """Hex case does not matter: the digest is compared case-insensitively."""
    vector = next(v for v in VECTORS if v["name"] == "gopagerduty_official_valid")
    header = "v1=" + vector["x_pagerduty_signature"].removeprefix("v1=").upper()

    assert verify_pagerduty_signature([vector["secret"]], vector_body(vector), header)


@pytest.mark.parametrize("header", [None, "", " ", ",", "v1=", "v1=zz", "sha256=abc"], ids=repr)
def test_missing_or_malformed_header_fails(header: str | None) -> None:
    """No header, an empty one or one without a usable v1 entry never verifies."""
    vector = next(v for v in VECTORS if v["name"] == "gopagerduty_official_valid")

    assert not verify_pagerduty_signature([vector["secret"]], vector_body(vector), header)


def test_no_secrets_never_verifies() -> None:
    """An empty secret list rejects everything (the caller decides whether to check)."""
    vector = next(v for v in VECTORS if v["name"] == "gopagerduty_official_valid")

    assert not verify_pagerduty_signature([], vector_body(vector), vector["x_pagerduty_signature"])
