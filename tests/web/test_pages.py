"""Page routes through the aiohttp test client on both backends: headers, auth, CSRF."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from recorder.web import pages
from recorder.web.access import SESSION_COOKIE, signed_in_value
from recorder.web.security import PAGE_CSP, SVG_CSP
from tests.browser.seed import HOSTILE, seed
from tests.web.conftest import MakeClient
from tests.web.test_pagerduty_webhook import (
    ACKNOWLEDGED,
    AM_FIRING,
    PD_ID,
    PD_URL,
    SECRET,
    TRIGGERED,
    post_am,
    post_pd,
    sign,
)

TOKEN = "secret-token"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
HUMAN_SECTIONS = ["Summary", "Impact", "Timeline", "Root Cause", "Detection", "Metrics"]


async def csrf_from(client: TestClient[Any, Any], path: str) -> str:
    """GET a page (which sets the session cookie) and return its form's CSRF token."""
    resp = await client.get(path)
    assert resp.status == 200
    match = CSRF.search(await resp.text())
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


async def sign_in(client: TestClient[Any, Any]) -> None:
    csrf = await csrf_from(client, "/login")
    resp = await client.post(
        "/login",
        data={"token": TOKEN, "csrf_token": csrf, "next": "/"},
        allow_redirects=False,
    )
    assert resp.status == 303


async def test_list_page_is_html_with_security_headers(make_client: MakeClient) -> None:
    """GET / lists the incidents with CSP, nosniff, no-referrer and no-store."""
    client = await make_client(api_token=TOKEN)
    await seed(client)
    resp = await client.get("/")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    assert resp.headers["Content-Security-Policy"] == PAGE_CSP
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["Cache-Control"] == "no-store"
    text = await resp.text()
    assert "DiskAlmostFull on demo-exporter" in text
    assert "CheckoutErrors on checkout" in text
    assert "<script" not in text


async def test_list_filters_by_status_and_pages_with_the_cursor(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """?status=open hides resolved incidents; the Older link pages through the rest."""
    client = await make_client(api_token=TOKEN)
    ids = await seed(client)
    text = await (await client.get("/?status=open")).text()
    assert ids["DiskAlmostFull"] in text
    assert ids["CheckoutErrors"] not in text

    monkeypatch.setattr(pages, "PAGE_SIZE", 1)
    first = await (await client.get("/")).text()
    match = re.search(r'rel="next" href="/\?([^"]+)"', first)
    assert match
    second = await (await client.get("/?" + match.group(1).replace("&amp;", "&"))).text()
    shown = [i for i in ids.values() if f'data-incident="{i}"' in first]
    later = [i for i in ids.values() if f'data-incident="{i}"' in second]
    assert len(shown) == len(later) == 1
    assert shown != later


async def test_empty_list_shows_webhooks_and_a_curl_without_the_secret(
    make_client: MakeClient,
) -> None:
    """With no incident the list names each served webhook and a curl that carries the
    Alertmanager token's variable name, never its value."""
    client = await make_client(api_token=TOKEN, alertmanager_token="am-secret-value")
    text = await (await client.get("/")).text()
    base = str(client.make_url("")).rstrip("/")
    assert f"{base}/webhooks/alertmanager" in text
    assert f"{base}/webhooks/pagerduty" in text
    assert "curl -X POST" in text
    assert "$RECORDER_ALERTMANAGER_TOKEN" in text
    assert "am-secret-value" not in text


async def test_filtered_empty_list_says_so_without_first_steps(make_client: MakeClient) -> None:
    """An empty filter result is not the first-run state: no webhook instructions."""
    client = await make_client(api_token=TOKEN)
    await seed(client)
    text = await (await client.get("/?status=mitigating")).text()
    assert "No incidents with status" in text
    assert "curl" not in text


async def test_list_durations_are_compact(make_client: MakeClient) -> None:
    """The two-day-old open incident reads "2 d 1 h" with non-breaking spaces."""
    client = await make_client(api_token=TOKEN)
    ids = await seed(client)
    text = await (await client.get("/")).text()
    row = text.split(f'data-incident="{ids["DatabasePoolSaturated"]}"', 1)[1].split("</tr>")[0]
    assert "2\u00a0d\u00a01\u00a0h" in row
    assert "days" not in row


async def test_list_rejects_an_unknown_status(make_client: MakeClient) -> None:
    """An unknown ?status= is a 400 problem."""
    client = await make_client()
    resp = await client.get("/?status=bogus")
    assert resp.status == 400
    assert resp.content_type == "application/problem+json"


async def test_unknown_incident_page_is_a_404_problem(make_client: MakeClient) -> None:
    """GET /incidents/{unknown} answers 404 problem+json."""
    client = await make_client()
    resp = await client.get("/incidents/does-not-exist")
    assert resp.status == 404
    assert resp.content_type == "application/problem+json"
    assert (await resp.json())["title"] == "Incident not found"


async def test_incident_page_escapes_alert_text(make_client: MakeClient) -> None:
    """Annotations and labels are escaped; javascript: URLs never become links."""
    client = await make_client()
    ids = await seed(client)
    resp = await client.get(f"/incidents/{ids['DiskAlmostFull']}")
    text = await resp.text()
    assert HOSTILE not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "<b>storage</b>" not in text
    assert 'href="javascript:' not in text
    for section in HUMAN_SECTIONS:
        assert f"<h2>{section}</h2>" in text
    # pool_max never changes: one line instead of a chart.
    assert text.count('<path class="series"') == 3
    assert "pool_max: 100 connections throughout" in text


async def test_pages_need_sign_in_when_read_auth_is_on(make_client: MakeClient) -> None:
    """With RECORDER_API_READ_AUTH=true pages redirect to the sign-in form until signed in."""
    client = await make_client(api_token=TOKEN, api_read_auth=True)
    ids = await seed_with_token(client)
    for path in ("/", f"/incidents/{ids['DiskAlmostFull']}"):
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 303
        assert resp.headers["Location"].startswith("/login?next=")
    chart = f"/api/v1/incidents/{ids['DiskAlmostFull']}/charts/error_rate.svg"
    assert (await client.get(chart)).status == 401
    assert (await client.get(chart, headers={"Authorization": f"Bearer {TOKEN}"})).status == 200
    await sign_in(client)
    assert (await client.get("/", allow_redirects=False)).status == 200
    assert (await client.get(chart)).status == 200


async def seed_with_token(client: TestClient[Any, Any]) -> dict[str, str]:
    """seed() reads the incident list, which needs the token under read auth."""
    client.session.headers["Authorization"] = f"Bearer {TOKEN}"
    try:
        return await seed(client)
    finally:
        del client.session.headers["Authorization"]


async def test_login_sets_a_derived_httponly_strict_cookie(make_client: MakeClient) -> None:
    """The cookie is HMAC(token, "session"), HttpOnly, SameSite=Strict, never the token."""
    client = await make_client(api_token=TOKEN)
    csrf = await csrf_from(client, "/login")
    resp = await client.post(
        "/login",
        data={"token": TOKEN, "csrf_token": csrf, "next": "/incidents/x"},
        allow_redirects=False,
    )
    assert resp.status == 303
    assert resp.headers["Location"] == "/incidents/x"
    cookie = resp.cookies[SESSION_COOKIE]
    assert cookie.value == signed_in_value(SecretStr(TOKEN))
    assert TOKEN not in cookie.value
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/"


async def test_login_with_a_wrong_token_is_refused(make_client: MakeClient) -> None:
    """A wrong token re-shows the form with 401 and sets no signed-in cookie."""
    client = await make_client(api_token=TOKEN)
    csrf = await csrf_from(client, "/login")
    resp = await client.post(
        "/login", data={"token": "wrong", "csrf_token": csrf}, allow_redirects=False
    )
    assert resp.status == 401
    assert "does not match" in await resp.text()
    assert SESSION_COOKIE not in resp.cookies


async def test_login_redirects_only_to_local_paths(make_client: MakeClient) -> None:
    """`next` pointing off-site falls back to /."""
    client = await make_client(api_token=TOKEN)
    csrf = await csrf_from(client, "/login")
    resp = await client.post(
        "/login",
        data={"token": TOKEN, "csrf_token": csrf, "next": "//evil.example/"},
        allow_redirects=False,
    )
    assert resp.headers["Location"] == "/"


async def test_edit_without_csrf_token_is_refused(make_client: MakeClient) -> None:
    """A signed-in POST without the form's CSRF token is a 403."""
    client = await make_client(api_token=TOKEN)
    ids = await seed(client)
    await sign_in(client)
    resp = await client.post(f"/incidents/{ids['DiskAlmostFull']}/edit", data={"root_cause": "x"})
    assert resp.status == 403
    assert (await resp.json())["title"] == "CSRF check failed"


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}],
    ids=["foreign-origin", "cross-site-fetch"],
)
async def test_cross_site_edit_is_refused(make_client: MakeClient, headers: dict[str, str]) -> None:
    """Even with a valid CSRF token, a cross-site POST is a 403."""
    client = await make_client(api_token=TOKEN)
    ids = await seed(client)
    await sign_in(client)
    path = f"/incidents/{ids['DiskAlmostFull']}"
    csrf = await csrf_from(client, path)
    resp = await client.post(
        f"{path}/edit", data={"root_cause": "x", "csrf_token": csrf}, headers=headers
    )
    assert resp.status == 403
    assert (await resp.json())["title"] == "Cross-site request refused"


async def test_edit_needs_sign_in_when_a_token_is_set(make_client: MakeClient) -> None:
    """An anonymous session's valid CSRF token does not grant editing: 403."""
    client = await make_client(api_token=TOKEN)
    ids = await seed(client)
    csrf = await csrf_from(client, "/login")
    resp = await client.post(
        f"/incidents/{ids['DiskAlmostFull']}/edit",
        data={"root_cause": "x", "csrf_token": csrf},
    )
    assert resp.status == 403
    assert (await resp.json())["title"] == "Sign-in required"


async def test_edit_is_open_but_csrf_protected_without_a_token(make_client: MakeClient) -> None:
    """With no API token the page has forms; a post with the CSRF token saves and redirects."""
    client = await make_client()
    ids = await seed(client)
    path = f"/incidents/{ids['DiskAlmostFull']}"
    csrf = await csrf_from(client, path)
    resp = await client.post(
        f"{path}/edit",
        data={
            "csrf_token": csrf,
            "section": "lessons",
            "lessons_went_well": "Paging\r\nworked",
            "lessons_went_wrong": "",
        },
        headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"},
        allow_redirects=False,
    )
    assert resp.status == 303
    assert resp.headers["Location"] == f"{path}?saved=1#lessons"
    report = await (
        await client.get(f"/api/v1/incidents/{ids['DiskAlmostFull']}/report?format=json")
    ).json()
    assert report["human"]["lessons_went_well"]["text"] == "Paging\nworked"
    assert report["human"]["lessons_went_wrong"]["filled"] is False


async def test_edit_rejects_text_over_the_patch_limit(make_client: MakeClient) -> None:
    """The form obeys the PATCH body's limits: 422 above 20,000 characters."""
    client = await make_client()
    ids = await seed(client)
    path = f"/incidents/{ids['DiskAlmostFull']}"
    csrf = await csrf_from(client, path)
    resp = await client.post(f"{path}/edit", data={"csrf_token": csrf, "root_cause": "x" * 20001})
    assert resp.status == 422


async def test_edit_of_an_unknown_incident_is_a_404(make_client: MakeClient) -> None:
    """Posting to an unknown incident's edit form answers 404."""
    client = await make_client()
    ids = await seed(client)
    csrf = await csrf_from(client, f"/incidents/{ids['DiskAlmostFull']}")
    resp = await client.post("/incidents/nope/edit", data={"csrf_token": csrf, "summary": "x"})
    assert resp.status == 404


async def test_logout_drops_the_signed_in_session(make_client: MakeClient) -> None:
    """After signing out the page is read-only again."""
    client = await make_client(api_token=TOKEN)
    ids = await seed(client)
    await sign_in(client)
    path = f"/incidents/{ids['DiskAlmostFull']}"
    csrf = await csrf_from(client, path)
    assert 'class="edit"' in await (await client.get(path)).text()
    resp = await client.post("/logout", data={"csrf_token": csrf}, allow_redirects=False)
    assert resp.status == 303
    assert 'class="edit"' not in await (await client.get(path)).text()


async def test_chart_svg_is_served_with_its_own_csp(make_client: MakeClient) -> None:
    """GET …/charts/{signal}.svg is image/svg+xml under default-src 'none'; unknown is 404."""
    client = await make_client()
    ids = await seed(client)
    base = f"/api/v1/incidents/{ids['DiskAlmostFull']}/charts"
    resp = await client.get(f"{base}/pool_in_use.svg")
    assert resp.status == 200
    assert resp.content_type == "image/svg+xml"
    assert resp.headers["Content-Security-Policy"] == SVG_CSP
    assert (await resp.text()).startswith("<svg")
    missing = await client.get(f"{base}/nope.svg")
    assert missing.status == 404
    assert missing.content_type == "application/problem+json"


async def test_markdown_report_links_the_charts(make_client: MakeClient) -> None:
    """With samples stored, the Markdown report embeds each signal's chart by an absolute
    link, so the charts show in any Markdown viewer."""
    client = await make_client()
    ids = await seed(client)
    incident_id = ids["DiskAlmostFull"]
    text = await (await client.get(f"/api/v1/incidents/{incident_id}/report")).text()
    origin = f"http://{client.host}:{client.port}"
    for signal in ("error_rate", "error_count", "pool_in_use"):
        link = f"![{signal}]({origin}/api/v1/incidents/{incident_id}/charts/{signal}.svg)"
        assert link in text
    assert "/charts/pool_max.svg" not in text  # constant: one line, no chart


async def test_external_url_is_the_base_of_chart_links(make_client: MakeClient) -> None:
    """RECORDER_EXTERNAL_URL (behind a proxy) is used for chart links instead of the Host."""
    client = await make_client(external_url="https://recorder.example.com/")
    ids = await seed(client)
    incident_id = ids["DiskAlmostFull"]
    text = await (await client.get(f"/api/v1/incidents/{incident_id}/report")).text()
    link = f"(https://recorder.example.com/api/v1/incidents/{incident_id}/charts/error_rate.svg)"
    assert link in text


async def test_html_export_is_standalone_and_allows_only_its_stylesheet(
    make_client: MakeClient,
) -> None:
    """format=html is one document with an inline stylesheet allowed by hash, no scripts."""
    client = await make_client()
    ids = await seed(client)
    resp = await client.get(f"/api/v1/incidents/{ids['DiskAlmostFull']}/report?format=html")
    assert resp.status == 200
    csp = resp.headers["Content-Security-Policy"]
    assert re.search(r"style-src 'self' 'sha256-[A-Za-z0-9+/=]+';", csp)
    text = await resp.text()
    assert "<style>" in text
    assert "<script" not in text
    assert HOSTILE not in text
    assert text.count("<svg") == 3  # pool_max is constant: one line, no chart


async def test_status_band_links_pagerduty_and_names_who_acknowledged(
    make_client: MakeClient,
) -> None:
    """A paged and acknowledged incident's band links the PagerDuty incident and names
    Jane Doe, above the charts, timeline and alerts."""
    client = await make_client(api_token=TOKEN, pagerduty_secret=SECRET)
    await post_am(client, AM_FIRING)
    for body in (TRIGGERED, ACKNOWLEDGED):
        await post_pd(client, body, sign(body))
    incident_id = (await (await client.get("/api/v1/incidents")).json())["incidents"][0]["id"]
    text = await (await client.get(f"/incidents/{incident_id}")).text()
    band = text.split('id="status-band"', 1)[1].split("</dl>", 1)[0]
    assert f'<a href="{PD_URL}" rel="noopener noreferrer">{PD_ID}</a>' in band
    assert "Jane Doe" in band
    positions = [
        text.index(marker)
        for marker in ('id="status-band"', 'id="timeline"', 'id="alerts"', 'id="summary"')
    ]
    assert positions == sorted(positions)
