"""GET /api/v1/incidents/{id}/report: stored events in, the user's template out."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import fixture_bytes
from tests.report.test_markdown import headings, is_subsequence, template_headings
from tests.web.conftest import FakeClock, MakeClient

JSON = {"Content-Type": "application/json"}


async def resolved_disk_incident(client: TestClient[Any, Any], clock: FakeClock) -> str:
    """The lab's DiskAlmostFull capture pair: fired 17:37:03.194, resolved 17:37:34.194."""
    clock.set_unix(1795887425.227)
    resp = await client.post(
        "/webhooks/alertmanager", data=fixture_bytes("alertmanager_firing.json"), headers=JSON
    )
    incident_id: str = (await resp.json())["incidents"][0]
    clock.set_unix(1795887455.23)
    await client.post(
        "/webhooks/alertmanager", data=fixture_bytes("alertmanager_resolved.json"), headers=JSON
    )
    return incident_id


async def test_markdown_report_follows_template_with_stored_values(
    make_client: MakeClient, clock: FakeClock
) -> None:
    """Every template heading in order; header, timeline, detection and metrics values
    are the stored instants, to the second."""
    client = await make_client()
    incident_id = await resolved_disk_incident(client, clock)
    resp = await client.get(f"/api/v1/incidents/{incident_id}/report")
    assert resp.status == 200
    assert resp.content_type == "text/markdown"
    text = await resp.text()
    title = "DiskAlmostFull on demo-exporter"
    assert is_subsequence(template_headings(title), headings(text))
    for line in (
        "**Date**: 2026-11-28",
        "**Time Started**: 17:37:03 UTC",
        "**Time Resolved**: 17:37:34 UTC",
        "**Duration**: 31 seconds",
        "**Severity**: SEV1",
        "**Status**: Resolved",
        "- [X] Automated monitoring alert",
        '- Alert name: "DiskAlmostFull"',
    ):
        assert line in text, line
    assert "| 17:37:03 |" in text
    assert "| 17:37:05 |" in text  # notification received, incident opened
    assert "| 17:37:34 |" in text
    assert "Time to detection: unknown (no signal onset; no Prometheus configured" in text
    assert "notification delay: 2 seconds" in text
    assert "unknown (not acknowledged)" in text
    assert "_To fill in_" in text


async def test_json_report_carries_seconds_and_instants(
    make_client: MakeClient, clock: FakeClock
) -> None:
    """The JSON form has the same figures in seconds and the instants they came from."""
    client = await make_client()
    incident_id = await resolved_disk_incident(client, clock)
    resp = await client.get(f"/api/v1/incidents/{incident_id}/report?format=json")
    assert resp.status == 200
    report = await resp.json()
    dumped = json.dumps(report)
    assert "2026-11-28T17:37:03.194" in dumped
    assert "2026-11-28T17:37:34.194" in dumped
    assert '"seconds"' in dumped or '"unit": "s"' in dumped


async def test_report_of_unknown_incident_is_404_problem(make_client: MakeClient) -> None:
    """A report for an id that does not exist is a 404 problem, not an empty report."""
    client = await make_client()
    resp = await client.get("/api/v1/incidents/nope/report")
    assert resp.status == 404
    assert resp.content_type == "application/problem+json"


async def test_report_rejects_unknown_format(make_client: MakeClient, clock: FakeClock) -> None:
    """format=pdf is a 400 problem naming the accepted formats."""
    client = await make_client()
    incident_id = await resolved_disk_incident(client, clock)
    resp = await client.get(f"/api/v1/incidents/{incident_id}/report?format=pdf")
    assert resp.status == 400
    assert "markdown, json or html" in (await resp.json())["detail"]


async def test_readme_fixture_report_says_unknown_with_cause_for_availability(
    make_client: MakeClient, clock: FakeClock
) -> None:
    """The README's DiskAlmostFull fixture has no error-rate samples: downtime, error
    budget used and SLA breach read unknown with the cause in Markdown, HTML and JSON,
    never the incident's duration or a breach."""
    client = await make_client()
    incident_id = await resolved_disk_incident(client, clock)
    base = f"/api/v1/incidents/{incident_id}/report"
    markdown = await (await client.get(base)).text()
    cause = "no Prometheus configured: set RECORDER_PROMETHEUS_URL"
    assert f"- **Actual downtime**: unknown ({cause})" in markdown
    assert f"- **Error budget used**: unknown (downtime unknown: {cause})" in markdown
    assert f"- **SLA breach**: unknown (downtime unknown: {cause})" in markdown
    assert f"- **SLA Breach**: unknown (downtime unknown: {cause})" in markdown
    assert "SLA Breach**: Yes" not in markdown
    assert "incident duration" not in markdown
    report = await (await client.get(f"{base}?format=json")).json()
    for name in ("downtime", "budget_used", "sla_breach"):
        figure = report["figures"][name]
        assert figure["value"] is None, name
        assert cause in figure["unknown_reason"], name
        assert figure["text"] == f"unknown ({figure['unknown_reason']})"
    html = await (await client.get(f"{base}?format=html")).text()
    assert f"<strong>SLA breach</strong>: unknown (downtime unknown: {cause})" in html
