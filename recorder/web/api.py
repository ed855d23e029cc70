"""The incident API under /api/v1: list, read, edit, acknowledge, resolve, add to timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from alert_adapters.errors import ProblemList
from alert_adapters.json_document import decode_document
from alert_adapters.limits import TEXT_MAX_BYTES, text_problem, utc_instant
from recorder.core.actions import Actor, Edit, acknowledge, add_entry, edit, resolve
from recorder.core.incident import (
    HUMAN_FIELDS,
    IncidentStatus,
    IncidentView,
    Outcome,
    TimelineEntry,
    TimelineKind,
)
from recorder.core.timeline import full_timeline
from recorder.report_io import FORMATS, render_report
from recorder.timefmt import parse_rfc3339
from recorder.web.access import require_read, require_write
from recorder.web.intake import read_limited, require_json
from recorder.web.keys import CLOCK, LOG_FIELDS, RECORDING, SETTINGS, STORE
from recorder.web.problems import Problem
from recorder.web.samples import load_signal_summaries
from recorder.web.serialize import incident_detail, incident_summary

API_BODY_LIMIT = 256 * 1024
MAX_LIMIT = 500


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _storable(cls, value: object) -> object:
        # What storage cannot hold is refused here, the same on both backends.
        if isinstance(value, str):
            problem = text_problem(value, TEXT_MAX_BYTES * 4)
            if problem is not None:
                raise ValueError(problem)
        if isinstance(value, datetime) and value.tzinfo is not None:
            instant = utc_instant(value)
            if isinstance(instant, str):
                raise ValueError(instant)
        return value


class ActorBody(_Body):
    by: str = Field(min_length=1, max_length=200)
    at: datetime | None = None
    note: str = Field(default="", max_length=2000)

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a time zone (RFC 3339, e.g. 2026-11-28T14:02:00Z)")
        return value


class TimelineBody(_Body):
    at: datetime
    event: str = Field(min_length=1, max_length=2000)
    action: str = Field(default="", max_length=2000)
    by: str = Field(min_length=1, max_length=200)

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a time zone (RFC 3339, e.g. 2026-11-28T14:02:00Z)")
        return value


class _PatchBase(_Body):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    status: IncidentStatus | None = None
    severity: str | None = Field(default=None, min_length=1, max_length=40)
    by: str = Field(default="API", min_length=1, max_length=200)


# The human fields come from HUMAN_FIELDS so the API and the report cannot drift apart.
_HUMAN_FIELD_DEFINITIONS: dict[str, Any] = {
    name: (str | None, Field(default=None, max_length=20000)) for name in HUMAN_FIELDS
}
PatchBody: type[BaseModel] = create_model(
    "PatchBody", __base__=_PatchBase, **_HUMAN_FIELD_DEFINITIONS
)

B = TypeVar("B", bound=BaseModel)


async def read_json_body(request: web.Request, model: type[B]) -> B:
    """Parse and validate a JSON API body; 400 for bad JSON, 422 for schema errors.

    The body is decoded like a webhook's (decode_document: bounded depth, no NaN, no
    duplicate keys) and at most ten problems are reported.
    """
    require_json(request)
    raw = await read_limited(request, API_BODY_LIMIT)
    data = decode_document(raw, "API") if raw.strip() else {}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = ProblemList()
        problems.add_validation_error(exc)
        raise Problem(422, "Invalid request body", "; ".join(problems.lines)) from exc


async def list_incidents(request: web.Request) -> web.Response:
    """GET /api/v1/incidents: newest first, `status`, `limit`, `cursor`."""
    require_read(request)
    status_text = request.query.get("status")
    open_only = False
    status: IncidentStatus | None = None
    if status_text == "open":
        open_only = True
    elif status_text:
        try:
            status = IncidentStatus(status_text)
        except ValueError:
            raise Problem(
                400,
                "Invalid status filter",
                "status must be open, resolved, investigating or mitigating",
            ) from None
    try:
        limit = int(request.query.get("limit", "50"))
    except ValueError:
        raise Problem(400, "Invalid limit", "limit must be a whole number from 1 to 500") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise Problem(400, "Invalid limit", "limit must be a whole number from 1 to 500")
    page = await request.app[STORE].list_incidents(
        status=status, open_only=open_only, limit=limit, cursor=request.query.get("cursor")
    )
    return web.json_response(
        {
            "incidents": [incident_summary(i) for i in page.incidents],
            "next_cursor": page.next_cursor,
        }
    )


async def incident_payload(request: web.Request, incident_id: str) -> dict[str, Any]:
    """The full incident object, loaded with its alerts and timeline."""
    store = request.app[STORE]
    view = await store.load(incident_id)
    timeline = full_timeline(await store.load_timeline(incident_id), view.alerts.values())
    signals = await load_signal_summaries(store, request.app[SETTINGS], incident_id)
    return incident_detail(view.incident, view.alerts.values(), timeline, signals)


async def get_incident(request: web.Request) -> web.Response:
    """GET /api/v1/incidents/{id}."""
    require_read(request)
    return web.json_response(await incident_payload(request, request.match_info["id"]))


async def _apply(request: web.Request, decide: Any) -> web.Response:
    incident_id = request.match_info["id"]
    outcome: Outcome = await request.app[RECORDING].update(incident_id, decide)
    request[LOG_FIELDS].update(
        incident_id=incident_id, transitions=[t.value for t in outcome.transitions]
    )
    return web.json_response(await incident_payload(request, incident_id))


async def acknowledge_incident(request: web.Request) -> web.Response:
    """POST /api/v1/incidents/{id}/acknowledge {"by": name}: the first ack wins."""
    require_write(request)
    body = await read_json_body(request, ActorBody)
    now = request.app[CLOCK].now()
    actor = Actor(by=body.by, source=f"API ({body.by})")

    def decide(view: IncidentView) -> Outcome:
        return acknowledge(view, actor, body.at or now, now)

    return await _apply(request, decide)


async def resolve_incident(request: web.Request) -> web.Response:
    """POST /api/v1/incidents/{id}/resolve {"by": name}."""
    require_write(request)
    body = await read_json_body(request, ActorBody)
    now = request.app[CLOCK].now()
    actor = Actor(by=body.by, source=f"API ({body.by})")

    def decide(view: IncidentView) -> Outcome:
        return resolve(view, actor, body.at or now, now, note=body.note)

    return await _apply(request, decide)


async def add_timeline_entry(request: web.Request) -> web.Response:
    """POST /api/v1/incidents/{id}/timeline {"at", "event", "action", "by"}."""
    require_write(request)
    body = await read_json_body(request, TimelineBody)
    now = request.app[CLOCK].now()
    entry = TimelineEntry(
        at=parse_rfc3339(body.at.isoformat()),
        event=body.event,
        action=body.action,
        by=body.by,
        source=f"API ({body.by})",
        kind=TimelineKind.MANUAL,
    )

    def decide(view: IncidentView) -> Outcome:
        return add_entry(view, entry, now)

    response = await _apply(request, decide)
    response.set_status(201)
    return response


async def patch_incident(request: web.Request) -> web.Response:
    """PATCH /api/v1/incidents/{id}: title, status, severity and the human sections."""
    require_write(request)
    body = await read_json_body(request, PatchBody)
    values = body.model_dump(exclude_unset=True)
    human = {name: values[name] or "" for name in HUMAN_FIELDS if name in values}
    change = Edit(
        title=values.get("title"),
        status=values.get("status"),
        severity=values.get("severity"),
        human=human or None,
    )
    now = request.app[CLOCK].now()
    by = str(values.get("by", "API"))
    actor = Actor(by=by, source=f"API ({by})")

    def decide(view: IncidentView) -> Outcome:
        return edit(view, change, actor, now)

    return await _apply(request, decide)


async def get_report(request: web.Request) -> web.Response:
    """GET /api/v1/incidents/{id}/report?format=markdown|json|html."""
    require_read(request)
    fmt = request.query.get("format", "markdown")
    if fmt not in FORMATS:
        raise Problem(400, "Invalid format", "format must be markdown, json or html")
    text, content_type = await render_report(
        request.app[STORE],
        request.app[SETTINGS],
        request.match_info["id"],
        fmt,
        now=request.app[CLOCK].now(),
        base_url=request.app[SETTINGS].public_url(f"{request.scheme}://{request.host}"),
    )
    return web.Response(text=text, content_type=content_type, charset="utf-8")
