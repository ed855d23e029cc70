"""GET /api/v1/openapi.json: an OpenAPI 3.1 description of every HTTP path."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from alert_adapters.limits import describe_limits
from recorder import __version__
from recorder.core.incident import HUMAN_FIELDS

_PROBLEM = {"$ref": "#/components/responses/Problem"}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_TIME = {"type": ["string", "null"], "format": "date-time"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _PROBLEM for code in codes}


def _webhook(summary: str, description: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "description": f"{description} {describe_limits()}",
            "security": [{"bearer": []}, {}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "responses": {
                "200": _json({"$ref": "#/components/schemas/WebhookResult"}, "stored"),
                **_errors(400, 401, 413, 415, 422, 503),
            },
        }
    }


def _action(summary: str, body: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "parameters": [_ID],
            "security": [{"bearer": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}
                },
            },
            "responses": {
                "200": _json({"$ref": "#/components/schemas/Incident"}, "the incident"),
                "201": _json({"$ref": "#/components/schemas/Incident"}, "entry added"),
                **_errors(400, 401, 404, 422, 503),
            },
        }
    }


def build_openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document (pure data)."""
    incident_summary = {
        "type": "object",
        "required": ["id", "title", "status", "started_at", "detected_at"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "status": {"enum": ["investigating", "mitigating", "resolved"]},
            "severity": {"type": ["string", "null"]},
            "correlation_key": {"type": "string"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "started_at": {"type": "string", "format": "date-time"},
            "detected_at": {"type": "string", "format": "date-time"},
            "acknowledged_at": _TIME,
            "acknowledged_by": {"type": ["string", "null"]},
            "resolved_at": _TIME,
            "resolved_by": {"type": ["string", "null"]},
            "pagerduty": {
                "type": ["object", "null"],
                "properties": {
                    "id": {"type": "string"},
                    "html_url": {"type": "string"},
                    "incident_key": {"type": ["string", "null"]},
                },
            },
        },
    }
    incident = {
        "allOf": [
            {"$ref": "#/components/schemas/IncidentSummary"},
            {
                "type": "object",
                "properties": {
                    "alerts": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}},
                    "timeline": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/TimelineEntry"},
                    },
                    "signals": {"type": "object"},
                    "human": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
        ]
    }
    human_props = {name: {"type": ["string", "null"]} for name in HUMAN_FIELDS}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Incident Recorder",
            "version": __version__,
            "description": "Incidents from Alertmanager and PagerDuty webhooks, with "
            "Prometheus evidence and postmortem drafts.",
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Problem": {
                    "description": "RFC 9457 problem details",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                }
            },
            "schemas": {
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status", "detail"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                    },
                },
                "WebhookResult": {
                    "type": "object",
                    "properties": {
                        "status": {"enum": ["stored", "duplicate", "ignored"]},
                        "incidents": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "IncidentSummary": incident_summary,
                "Incident": incident,
                "Alert": {
                    "type": "object",
                    "properties": {
                        "fingerprint": {"type": "string"},
                        "status": {"enum": ["firing", "resolved"]},
                        "labels": {"type": "object"},
                        "annotations": {"type": "object"},
                        "starts_at": {"type": "string", "format": "date-time"},
                        "ends_at": _TIME,
                    },
                },
                "TimelineEntry": {
                    "type": "object",
                    "required": ["at", "event", "by", "source"],
                    "properties": {
                        "at": {"type": "string", "format": "date-time"},
                        "event": {"type": "string"},
                        "action": {"type": "string"},
                        "by": {"type": "string"},
                        "source": {"type": "string"},
                    },
                },
                "Actor": {
                    "type": "object",
                    "required": ["by"],
                    "properties": {
                        "by": {"type": "string"},
                        "at": {"type": "string", "format": "date-time"},
                        "note": {"type": "string"},
                    },
                    "additionalProperties": False,
                },
                "NewTimelineEntry": {
                    "type": "object",
                    "required": ["at", "event", "by"],
                    "properties": {
                        "at": {"type": "string", "format": "date-time"},
                        "event": {"type": "string"},
                        "action": {"type": "string"},
                        "by": {"type": "string"},
                    },
                    "additionalProperties": False,
                },
                "IncidentPatch": {
                    "type": "object",
                    "properties": {
                        "title": {"type": "string"},
                        "status": {"enum": ["investigating", "mitigating", "resolved"]},
                        "severity": {"type": "string"},
                        "by": {"type": "string"},
                        **human_props,
                    },
                    "additionalProperties": False,
                },
            },
        },
        "paths": {
            "/webhooks/alertmanager": _webhook(
                "Alertmanager webhook (payload version 4)",
                "200 once stored, also for duplicates. 503 when storage is down, so "
                "Alertmanager retries.",
            ),
            "/webhooks/pagerduty": _webhook(
                "PagerDuty webhook V3 (and legacy V2)",
                "Signed with X-PagerDuty-Signature when RECORDER_PAGERDUTY_SECRET is set. "
                "Unknown event types are answered 200 and counted as ignored.",
            ),
            "/api/v1/incidents": {
                "get": {
                    "summary": "List incidents, newest first",
                    "parameters": [
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {"enum": ["open", "resolved", "investigating", "mitigating"]},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": 500,
                                "default": 50,
                            },
                        },
                        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "incidents": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/IncidentSummary"},
                                    },
                                    "next_cursor": {"type": ["string", "null"]},
                                },
                            },
                            "a page of incidents",
                        ),
                        **_errors(400, 401, 503),
                    },
                }
            },
            "/api/v1/incidents/{id}": {
                "get": {
                    "summary": "One incident with alerts, timeline and signal summaries",
                    "parameters": [_ID],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Incident"}, "the incident"),
                        **_errors(401, 404, 503),
                    },
                },
                "patch": {
                    "summary": "Edit the human fields, title, status or severity",
                    "parameters": [_ID],
                    "security": [{"bearer": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/IncidentPatch"}
                            }
                        },
                    },
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Incident"}, "the incident"),
                        **_errors(400, 401, 404, 422, 503),
                    },
                },
            },
            "/api/v1/incidents/{id}/report": {
                "get": {
                    "summary": "The filled postmortem report",
                    "parameters": [
                        _ID,
                        {
                            "name": "format",
                            "in": "query",
                            "schema": {"enum": ["markdown", "json", "html"], "default": "markdown"},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "the report",
                            "content": {
                                "text/markdown": {"schema": {"type": "string"}},
                                "application/json": {"schema": {"type": "object"}},
                                "text/html": {"schema": {"type": "string"}},
                            },
                        },
                        **_errors(400, 401, 404, 503),
                    },
                }
            },
            "/api/v1/incidents/{id}/samples": {
                "get": {
                    "summary": "Stored Prometheus samples per signal",
                    "parameters": [_ID],
                    "responses": {
                        "200": _json({"type": "object"}, "samples by signal"),
                        **_errors(401, 404, 503),
                    },
                }
            },
            "/api/v1/incidents/{id}/acknowledge": _action("Acknowledge (first one wins)", "Actor"),
            "/api/v1/incidents/{id}/resolve": _action("Resolve by hand", "Actor"),
            "/api/v1/incidents/{id}/timeline": _action("Add a timeline entry", "NewTimelineEntry"),
            "/api/v1/openapi.json": {
                "get": {"summary": "This document", "responses": {"200": {"description": "OK"}}}
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus exposition of the recorder's own metrics",
                    "responses": {"200": {"description": "text exposition"}},
                }
            },
            "/healthz": {
                "get": {"summary": "Liveness", "responses": {"200": {"description": "alive"}}}
            },
            "/readyz": {
                "get": {
                    "summary": "Readiness: storage reachable and migrated",
                    "responses": {"200": {"description": "ready"}, **_errors(503)},
                }
            },
        },
    }


async def openapi_handler(request: web.Request) -> web.Response:
    """Serve the OpenAPI document."""
    return web.json_response(build_openapi())
