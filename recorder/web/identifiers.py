"""Path parameters that cannot name anything are answered 404 before a handler runs."""

from __future__ import annotations

from aiohttp import web

from recorder.ids import is_incident_id
from recorder.web.problems import Problem

# Signal names come from configuration; nothing longer or odder can name one.
_MAX_NAME = 200


def check_identifiers(request: web.Request) -> None:
    """404 for an incident id that no incident can have (NUL, '/', '..', over 64
    characters) and for a signal name with control characters or over 200 characters,
    so such text never reaches storage."""
    info = request.match_info
    incident_id = info.get("id")
    if incident_id is not None and not is_incident_id(incident_id):
        raise Problem(
            404,
            "Incident not found",
            "no incident has this id: ids are 1 to 64 letters, digits, '-' or '_'",
        )
    signal = info.get("signal")
    if signal is not None and (len(signal) > _MAX_NAME or not signal.isprintable()):
        raise Problem(404, "Signal not found", "no signal has this name")
