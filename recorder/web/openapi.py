"""GET /api/v1/openapi.json: the OpenAPI 3.1 document, generated from one table of
operations and the pydantic models of their bodies (`api.py`) and answers (`schemas.py`).

A test checks that the table and the router agree in both directions, and that real
answers validate against the generated schemas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from alert_adapters.limits import describe_limits
from recorder import __version__
from recorder.web import schemas
from recorder.web.api import MAX_LIMIT, ActorBody, PatchBody, TimelineBody

Access = Literal["open", "read", "write", "webhook"]
_REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Operation:
    """One method on one path: what it takes, what it answers, and who may call it."""

    method: str
    path: str
    summary: str
    answer: type[BaseModel] | None = None
    media: str = "application/json"
    body: type[BaseModel] | None = None
    vendor_body: bool = False
    errors: tuple[int, ...] = ()
    access: Access = "read"
    query: tuple[dict[str, Any], ...] = ()
    description: str = ""


_WEBHOOK_ERRORS = (400, 401, 413, 415, 422, 503)
_FORMAT = {
    "name": "format",
    "in": "query",
    "schema": {"enum": ["markdown", "json", "html"], "default": "markdown"},
}
_LIST_QUERY = (
    {
        "name": "status",
        "in": "query",
        "schema": {"enum": ["open", "resolved", "investigating", "mitigating"]},
    },
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50},
    },
    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
)


def _incident_write(method: str, path: str, summary: str, body: type[BaseModel]) -> Operation:
    """An API write: a JSON body, the API token, the incident as the answer."""
    return Operation(
        method,
        path,
        summary,
        answer=schemas.Incident,
        body=body,
        access="write",
        errors=(400, 401, 404, 413, 415, 422, 503),
    )


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "post",
        "/webhooks/alertmanager",
        "Alertmanager webhook (payload version 4; also Grafana's version 1)",
        answer=schemas.WebhookResult,
        vendor_body=True,
        errors=_WEBHOOK_ERRORS,
        access="webhook",
        description="200 once stored, also for duplicates. 503 when storage is down, so "
        "Alertmanager retries. Alerts without `fingerprint` (Alertmanager before 0.19) get "
        "the one Alertmanager computes from the labels.",
    ),
    Operation(
        "post",
        "/webhooks/grafana",
        "Grafana-managed alerting webhook contact point (payload version 1)",
        answer=schemas.WebhookResult,
        vendor_body=True,
        errors=_WEBHOOK_ERRORS,
        access="webhook",
        description="Same token and answers as /webhooks/alertmanager. `values` (or "
        "`valueString`) at firing reach the timeline; dashboard, panel, image and silence "
        "URLs reach the report's Related Documentation. A legacy Grafana (7 and earlier) "
        "body is refused with 400.",
    ),
    Operation(
        "post",
        "/webhooks/pagerduty",
        "PagerDuty webhook V3 (and legacy V2)",
        answer=schemas.WebhookResult,
        vendor_body=True,
        errors=_WEBHOOK_ERRORS,
        access="webhook",
        description="Signed with X-PagerDuty-Signature when RECORDER_PAGERDUTY_SECRET is set. "
        "Unknown event types are answered 200 and counted as ignored.",
    ),
    Operation(
        "get",
        "/api/v1/incidents",
        "List incidents, newest first",
        answer=schemas.IncidentPage,
        query=_LIST_QUERY,
        errors=(400, 401, 503),
    ),
    Operation(
        "get",
        "/api/v1/incidents/{id}",
        "One incident with alerts, timeline and signal summaries",
        answer=schemas.Incident,
        errors=(401, 404, 503),
    ),
    _incident_write(
        "patch",
        "/api/v1/incidents/{id}",
        "Edit the human fields, title, status or severity",
        PatchBody,
    ),
    Operation(
        "get",
        "/api/v1/incidents/{id}/report",
        "The filled postmortem report (Markdown, JSON or HTML)",
        media="text/markdown",
        query=(_FORMAT,),
        errors=(400, 401, 404, 503),
    ),
    Operation(
        "get",
        "/api/v1/incidents/{id}/samples",
        "Stored Prometheus samples per signal",
        answer=schemas.Samples,
        errors=(401, 404, 503),
    ),
    Operation(
        "get",
        "/api/v1/incidents/{id}/charts/{signal}.svg",
        "One signal's chart over the incident",
        media="image/svg+xml",
        errors=(401, 404, 503),
    ),
    _incident_write(
        "post",
        "/api/v1/incidents/{id}/acknowledge",
        "Acknowledge (the earliest acknowledgment wins)",
        ActorBody,
    ),
    _incident_write("post", "/api/v1/incidents/{id}/resolve", "Resolve by hand", ActorBody),
    _incident_write(
        "post", "/api/v1/incidents/{id}/timeline", "Add a timeline entry", TimelineBody
    ),
    Operation("get", "/api/v1/openapi.json", "This document", access="open"),
    Operation(
        "get",
        "/metrics",
        "Prometheus exposition of the recorder's own metrics",
        media="text/plain",
        access="open",
    ),
    Operation("get", "/healthz", "Liveness", answer=schemas.Health, access="open"),
    Operation(
        "get",
        "/readyz",
        "Readiness: storage reachable and migrated",
        answer=schemas.Health,
        access="open",
        errors=(503,),
    ),
    Operation("get", "/", "Web page: the incident list", media="text/html"),
    Operation("get", "/incidents/{id}", "Web page: one incident's report", media="text/html"),
    Operation(
        "post",
        "/incidents/{id}/edit",
        "Web form: edit a human section (session and CSRF token)",
        media="text/html",
        access="write",
    ),
    Operation(
        "get", "/login", "Web page: sign in with the API token", media="text/html", access="open"
    ),
    Operation("post", "/login", "Web form: sign in", media="text/html", access="open"),
    Operation("post", "/logout", "Web form: sign out", media="text/html", access="open"),
    Operation(
        "get", "/static/{path}", "Static files of the web pages", media="text/css", access="open"
    ),
)


def _security(access: Access) -> list[dict[str, list[str]]] | None:
    """Webhooks and reads may be open (no token configured); writes need the token."""
    if access == "open":
        return None
    if access == "write":
        return [{"bearer": []}]
    return [{"bearer": []}, {}]


def _component_schemas() -> tuple[dict[Any, Any], dict[str, Any]]:
    models: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
    for op in OPERATIONS:
        if op.answer is not None:
            models[(op.answer, "serialization")] = None
        if op.body is not None:
            models[(op.body, "validation")] = None
    models[(schemas.Problem, "serialization")] = None
    refs, document = models_json_schema(list(models), ref_template=_REF)
    return dict(refs), document.get("$defs", {})


def _operation(op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAM.findall(op.path)
    ]
    parameters += list(op.query)
    if op.answer is not None:
        ok = {
            "description": "OK",
            "content": {op.media: {"schema": refs[(op.answer, "serialization")]}},
        }
    else:
        ok = {"description": "OK", "content": {op.media: {"schema": {"type": "string"}}}}
    if op.path.endswith("/report"):
        ok["content"] = {
            "text/markdown": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
            "text/html": {"schema": {"type": "string"}},
        }
    result: dict[str, Any] = {
        "summary": op.summary,
        "responses": {
            "200": ok,
            **{str(code): {"$ref": "#/components/responses/Problem"} for code in op.errors},
        },
    }
    if op.description:
        result["description"] = op.description
    if op.vendor_body:
        result["description"] = f"{op.description} {describe_limits()}".strip()
    if parameters:
        result["parameters"] = parameters
    security = _security(op.access)
    if security is not None:
        result["security"] = security
    if op.body is not None:
        schema = refs[(op.body, "validation")]
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    elif op.vendor_body:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    return result


def build_openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document (pure data), generated from OPERATIONS and the models."""
    refs, definitions = _component_schemas()
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Incident Recorder",
            "version": __version__,
            "description": "Incidents from Alertmanager, Grafana and PagerDuty webhooks, with "
            "Prometheus evidence and postmortem drafts.",
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Problem": {
                    "description": "RFC 9457 problem details",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": _REF.format(model="Problem")}
                        }
                    },
                }
            },
            "schemas": definitions,
        },
        "paths": paths,
    }


async def openapi_handler(request: web.Request) -> web.Response:
    """Serve the OpenAPI document."""
    return web.json_response(build_openapi())
