"""Web pages: the incident list, one incident's report, sign-in, and editing the human sections.

Pages are server-rendered without scripts. Edits reuse the PATCH body's validation and
the same pure decision (`recorder.core.actions.edit`), then redirect back (303).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from pydantic import ValidationError

from recorder import __version__
from recorder.core.actions import Actor, Edit, edit
from recorder.core.durations import format_duration_short
from recorder.core.incident import HUMAN_FIELDS, Incident, IncidentStatus, IncidentView, Outcome
from recorder.report import build_report
from recorder.report.charts import build_charts
from recorder.report.html import EDIT_GROUPS, EditForms, report_context
from recorder.report_io import load_report_input
from recorder.timefmt import to_rfc3339
from recorder.web.access import (
    login_redirect,
    may_read,
    new_session,
    session_for,
    store_session,
)
from recorder.web.api import PatchBody
from recorder.web.auth import tokens_match
from recorder.web.keys import CLOCK, LOG_FIELDS, RECORDING, SETTINGS, STORE
from recorder.web.onboarding import build_onboarding
from recorder.web.problems import Problem
from recorder.web.security import CSRF_FIELD, check_form_post, local_path
from recorder.web.templating import render_template, utc_minute

PAGE_SIZE = 50
FILTERS = (
    ("", "All"),
    ("open", "Open"),
    ("investigating", "Investigating"),
    ("mitigating", "Mitigating"),
    ("resolved", "Resolved"),
)
SERVICE_LABELS = ("service", "job", "namespace")
WEB_ACTOR = Actor(by="Web", source="Web page")
# Charts sit three abreast on a laptop and full width on a phone: laid out at about that
# size, their 11 px labels stay legible (the 720 px download charts shrink to 5 px there).
PAGE_CHART_SIZE = (440, 200)


@dataclass(frozen=True, slots=True)
class IncidentRow:
    """One line of the incident list, already in words."""

    id: str
    title: str
    status: IncidentStatus
    severity: str | None
    service: str
    started: str
    started_iso: str
    duration: str
    ongoing: bool
    tta: str
    ttr: str


def _page(
    request: web.Request, template: str, http_status: int = 200, **context: Any
) -> web.Response:
    settings = request.app[SETTINGS]
    body = render_template(
        template,
        session=session_for(request),
        token_configured=settings.api_token is not None,
        here=request.path_qs,
        version=__version__,
        **context,
    )
    response = web.Response(
        text=body, status=http_status, content_type="text/html", charset="utf-8"
    )
    store_session(request, response)
    return response


def _redirect(request: web.Request, location: str) -> web.Response:
    response = web.Response(status=303, headers={"Location": location})
    store_session(request, response)
    return response


def _span(start: datetime, end: datetime | None) -> str:
    return "—" if end is None else format_duration_short((end - start).total_seconds())


def incident_row(incident: Incident, now: datetime) -> IncidentRow:
    """The list's view of one incident; an open incident's duration runs until `now`."""
    service = next((incident.labels[k] for k in SERVICE_LABELS if incident.labels.get(k)), "—")
    return IncidentRow(
        id=incident.id,
        title=incident.title,
        status=incident.status,
        severity=incident.severity,
        service=service,
        started=utc_minute(incident.started_at),
        started_iso=to_rfc3339(incident.started_at) or "",
        duration=_span(incident.started_at, incident.resolved_at or now),
        ongoing=incident.resolved_at is None,
        tta=_span(incident.started_at, incident.acknowledged_at),
        ttr=_span(incident.started_at, incident.resolved_at),
    )


async def incident_list(request: web.Request) -> web.Response:
    """GET /: incidents by start time, newest first, `?status=` filter, `?cursor=` paging."""
    if not may_read(request):
        return login_redirect(request)
    status_text = request.query.get("status", "")
    if status_text not in {value for value, _ in FILTERS}:
        raise Problem(
            400,
            "Invalid status filter",
            "status must be open, resolved, investigating or mitigating",
        )
    cursor = request.query.get("cursor") or None
    page = await request.app[STORE].list_incidents(
        status=IncidentStatus(status_text) if status_text not in {"", "open"} else None,
        open_only=status_text == "open",
        limit=PAGE_SIZE,
        cursor=cursor,
    )
    now = request.app[CLOCK].now()
    next_query = ""
    if page.next_cursor:
        query = {"status": status_text} if status_text else {}
        next_query = urlencode({**query, "cursor": page.next_cursor})
    onboarding = None
    if not page.incidents and not status_text and not cursor:
        origin = f"{request.scheme}://{request.host}"
        served = {resource.canonical for resource in request.app.router.resources()}
        onboarding = build_onboarding(request.app[SETTINGS], origin, now, served)
    return _page(
        request,
        "incidents.html",
        rows=[incident_row(i, now) for i in page.incidents],
        onboarding=onboarding,
        filters=FILTERS,
        status=status_text,
        cursor=cursor,
        next_cursor=page.next_cursor,
        next_query=next_query,
    )


async def incident_page(request: web.Request) -> web.Response:
    """GET /incidents/{id}: evidence first (status band, key figures and charts, timeline,
    alerts), then the report's sections with (for editors) their edit forms."""
    if not may_read(request):
        return login_redirect(request)
    incident_id = request.match_info["id"]
    request[LOG_FIELDS]["incident_id"] = incident_id
    store, settings = request.app[STORE], request.app[SETTINGS]
    now = request.app[CLOCK].now()
    session = session_for(request)
    forms = None
    if session.editor:
        forms = EditForms(action=f"/incidents/{incident_id}/edit", csrf=session.csrf)
    samples = await store.load_samples(incident_id)
    data = await load_report_input(store, settings, incident_id, now, samples=samples)
    report = build_report(data)
    charts = build_charts(data, samples, size=PAGE_CHART_SIZE)
    return _page(
        request,
        "incident.html",
        saved=request.query.get("saved") == "1",
        sections_only=True,  # the page lays out report_body.html's sections itself
        **report_context(report, data, charts, forms),
    )


async def edit_incident(request: web.Request) -> web.Response:
    """POST /incidents/{id}/edit: save the submitted human sections, then 303 back."""
    incident_id = request.match_info["id"]
    form = await request.post()
    csrf = form.get(CSRF_FIELD)
    session = check_form_post(request, csrf if isinstance(csrf, str) else None)
    if not session.editor:
        raise Problem(403, "Sign-in required", "editing needs the API token; sign in first")
    submitted = {
        name: value.replace("\r\n", "\n")
        for name in HUMAN_FIELDS
        if isinstance(value := form.get(name), str)
    }
    if not submitted:
        raise Problem(422, "Invalid request body", "the form carries no report section")
    try:
        PatchBody.model_validate(submitted)
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise Problem(422, "Invalid request body", details) from exc
    change = Edit(human=submitted)
    now = request.app[CLOCK].now()

    def decide(view: IncidentView) -> Outcome:
        return edit(view, change, WEB_ACTOR, now)

    await request.app[RECORDING].update(incident_id, decide)
    request[LOG_FIELDS].update(incident_id=incident_id, fields=sorted(submitted))
    section = form.get("section")
    anchor = f"#{section}" if isinstance(section, str) and section in EDIT_GROUPS else ""
    return _redirect(request, f"/incidents/{incident_id}?saved=1{anchor}")


async def login_page(request: web.Request) -> web.Response:
    """GET /login: the token form (or a note that editing is open)."""
    target = local_path(request.query.get("next"))
    return _page(request, "login.html", next=target, error=None)


async def login(request: web.Request) -> web.Response:
    """POST /login: check the token once, then keep a derived session cookie."""
    form = await request.post()
    csrf = form.get(CSRF_FIELD)
    check_form_post(request, csrf if isinstance(csrf, str) else None)
    target = form.get("next")
    target = local_path(target if isinstance(target, str) else None)
    token = request.app[SETTINGS].api_token
    given = form.get("token")
    if token is not None and not tokens_match(given if isinstance(given, str) else None, token):
        request[LOG_FIELDS]["login"] = "rejected"
        return _page(
            request, "login.html", http_status=401, next=target, error="That token does not match."
        )
    new_session(request, signed_in=True)
    request[LOG_FIELDS]["login"] = "accepted"
    return _redirect(request, target)


async def logout(request: web.Request) -> web.Response:
    """POST /logout: replace the session with an anonymous one."""
    form = await request.post()
    csrf = form.get(CSRF_FIELD)
    check_form_post(request, csrf if isinstance(csrf, str) else None)
    new_session(request, signed_in=False)
    return _redirect(request, "/")
