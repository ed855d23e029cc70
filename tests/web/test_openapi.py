"""The OpenAPI document: generated from the models, true to the router and to real answers."""

from __future__ import annotations

from typing import Any

import jsonschema
from aiohttp import web
from prometheus_client import CollectorRegistry

from recorder.settings import load_settings
from recorder.web.api import ActorBody
from recorder.web.app import create_app
from recorder.web.openapi import build_openapi
from tests.conftest import fixture_bytes
from tests.web.conftest import MakeClient

JSON = {"Content-Type": "application/json"}


def _routes(app: web.Application) -> set[tuple[str, str]]:
    """(method, path) for every route the app serves; HEAD is aiohttp's echo of GET."""
    found = set()
    for route in app.router.routes():
        if route.method == "HEAD":
            continue
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("formatter") or info.get("path")
        if path is None:  # a static resource: a prefix with any file below it
            path = info["prefix"] + "/{path}"
        found.add((route.method.lower(), path))
    return found


def _documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, path) for path, ops in document["paths"].items() for method in ops}


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    """The router and the document list the same (method, path) pairs, both ways."""
    app = create_app(
        load_settings(environ={"RECORDER_DATABASE_URL": "sqlite:///:memory:"}, flags={}),
        registry=CollectorRegistry(),
    )
    served, documented = _routes(app), _documented(build_openapi())
    assert served - documented == set(), "routes missing from the OpenAPI document"
    assert documented - served == set(), "documented paths the app does not serve"


def test_request_bodies_carry_the_models_constraints() -> None:
    """Body schemas come from the pydantic models, limits included."""
    schemas = build_openapi()["components"]["schemas"]
    by = schemas[ActorBody.__name__]["properties"]["by"]
    assert by["maxLength"] == ActorBody.model_fields["by"].metadata[1].max_length
    assert schemas[ActorBody.__name__]["additionalProperties"] is False


def _validator(document: dict[str, Any], model: str) -> jsonschema.Draft202012Validator:
    schema = {"$ref": f"#/components/schemas/{model}", "components": document["components"]}
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


async def test_real_answers_validate_against_the_document(make_client: MakeClient) -> None:
    """Incident, list, samples, webhook, health and problem answers fit their schemas."""
    client = await make_client()
    document = await (await client.get("/api/v1/openapi.json")).json()
    stored = await client.post(
        "/webhooks/alertmanager", data=fixture_bytes("alertmanager_firing.json"), headers=JSON
    )
    assert stored.status == 200
    _validator(document, "WebhookResult").validate(await stored.json())
    incident_id = (await stored.json())["incidents"][0]

    listing = await client.get("/api/v1/incidents")
    _validator(document, "IncidentPage").validate(await listing.json())
    detail = await client.get(f"/api/v1/incidents/{incident_id}")
    _validator(document, "Incident").validate(await detail.json())
    samples = await client.get(f"/api/v1/incidents/{incident_id}/samples")
    _validator(document, "Samples").validate(await samples.json())
    for probe in ("/healthz", "/readyz"):
        _validator(document, "Health").validate(await (await client.get(probe)).json())
    missing = await client.get("/api/v1/incidents/no-such-incident")
    assert missing.status == 404
    _validator(document, "Problem").validate(await missing.json())


async def test_a_wrong_answer_fails_validation(make_client: MakeClient) -> None:
    """The schemas are strict enough to catch a broken answer (so the test above can fail)."""
    client = await make_client()
    document = await (await client.get("/api/v1/openapi.json")).json()
    broken = {"incidents": [{"id": "x", "status": "on fire"}], "next_cursor": None}
    errors = list(_validator(document, "IncidentPage").iter_errors(broken))
    assert errors
