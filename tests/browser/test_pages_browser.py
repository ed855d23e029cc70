"""The web pages in headless Chromium: list, report, charts, hostile text, editing, CSP."""

from __future__ import annotations

import math
import re

import pytest

from recorder.web.security import PAGE_CSP
from tests.browser.conftest import ARTIFACTS, LOCAL_HOSTS, TOKEN, Browsing, Site
from tests.browser.seed import HOSTILE, HOSTILE_SCRIPT, signal_samples

pytestmark = pytest.mark.browser


def markdown_headings(markdown: str) -> list[str]:
    """The `#`, `##` and `###` headings of the Markdown report, in order."""
    return [
        line.lstrip("#").strip() for line in markdown.splitlines() if re.match(r"#{1,3} ", line)
    ]


def is_subsequence(wanted: list[str], seen: list[str]) -> bool:
    found = iter(seen)
    return all(any(item == s for s in found) for item in wanted)


async def test_list_shows_the_incidents(site: Site, browsing: Browsing) -> None:
    """The list has one row per incident with its status and severity badges."""
    page = browsing.page
    await page.goto(site.base)
    rows = page.locator("table.incidents tbody tr")
    assert await rows.count() == 3
    disk = page.locator(f'tr[data-incident="{site.ids["DiskAlmostFull"]}"]')
    assert await disk.locator(".badge.status-investigating").inner_text() == "Investigating"
    assert await disk.locator(".badge.sev").inner_text() == "SEV1"
    checkout = page.locator(f'tr[data-incident="{site.ids["CheckoutErrors"]}"]')
    assert await checkout.locator(".badge.status-resolved").count() == 1
    await browsing.screenshot("incident-list")


async def test_report_page_has_every_section_and_one_chart_per_signal(
    site: Site, browsing: Browsing
) -> None:
    """The page shows every Markdown section; the HTML download keeps the Markdown's order;
    each signal has one SVG whose line has one point per sample, broken at the gap."""
    incident_id = site.ids["DiskAlmostFull"]
    report_url = f"/api/v1/incidents/{incident_id}/report"
    markdown = await (await site.client.get(f"{report_url}?format=markdown")).text()
    wanted = markdown_headings(markdown)
    assert len(wanted) > 30
    page = browsing.page

    await page.goto(site.url(f"{report_url}?format=html"))
    exported = [
        h.strip() for h in await page.locator("article.report :is(h1, h2, h3)").all_inner_texts()
    ]
    assert is_subsequence(wanted, exported), (wanted, exported)

    await page.goto(site.url(f"/incidents/{incident_id}"))
    shown = {h.strip() for h in await page.locator("article.report :is(h2, h3)").all_inner_texts()}
    sections = [h for h in wanted if not h.startswith("Incident Report:")]
    sections = [h for h in sections if h != "Signal Samples"]  # the charts stand for them
    assert set(sections) <= shown, set(sections) - shown

    for signal, rows in signal_samples().items():
        charts = page.locator(f'.charts figure[data-signal="{signal}"] svg')
        if signal == "pool_max":  # constant: one line instead of a chart
            assert await charts.count() == 0
            text = page.locator(".evidence .constant")
            assert await text.inner_text() == "pool_max: 100 connections throughout"
            continue
        assert await charts.count() == 1, signal
        d = await charts.locator("path.series").get_attribute("d")
        assert d is not None
        assert len(re.findall(r"-?[\d.]+,-?[\d.]+", d)) == len(rows), signal
        assert d.count("M") == 2, "the five missing samples break the line once"
        assert await charts.get_attribute("aria-label")
        assert all(math.isfinite(v) for _, v in rows)
    assert await page.locator(".charts svg line.threshold").count() == 2  # pool, error rate
    await browsing.screenshot("incident-report")


async def test_hostile_alert_text_is_shown_as_text_and_runs_nothing(
    site: Site, browsing: Browsing
) -> None:
    """An annotation `<img src=x onerror=alert(1)>` appears literally; no dialog, no <img>."""
    page = browsing.page
    await page.goto(site.url(f"/incidents/{site.ids['DiskAlmostFull']}"))
    await page.wait_for_load_state("networkidle")
    body = await page.locator("body").inner_text()
    assert HOSTILE in body
    assert HOSTILE_SCRIPT in body
    assert "<b>storage</b>" in body
    assert await page.locator('img[src="x"]').count() == 0
    assert await page.evaluate("document.scripts.length") == 0
    assert await page.locator('a[href^="javascript:"]').count() == 0
    assert browsing.dialogs == []
    await browsing.screenshot("hostile-annotations")


async def test_editing_root_cause_through_the_form_persists(site: Site, browsing: Browsing) -> None:
    """Signing in with the token and saving the Root Cause form stores the text."""
    incident_id = site.ids["DiskAlmostFull"]
    page = browsing.page
    await page.goto(site.url(f"/incidents/{incident_id}"))
    assert await page.locator("details.edit").count() == 0, "read-only before signing in"
    await page.click("text=Sign in to edit")
    await page.fill("#token", TOKEN)
    await page.click("button:has-text('Sign in')")
    await page.wait_for_url(f"**/incidents/{incident_id}")

    cookies = await page.context.cookies()
    session = next(c for c in cookies if c["name"] == "recorder_session")
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert TOKEN not in session["value"]

    text = "Log rotation stopped; <b>disk</b> filled\nsecond line"
    await page.click("#edit-root-cause summary")
    await page.fill("#field-root_cause", text)
    await page.click("#edit-root-cause button[type=submit]")
    await page.wait_for_url("**saved=1**")
    assert await page.locator(".notice").inner_text() == "Saved."
    shown = page.locator('#root-cause .human[data-field="root_cause"]')
    assert await shown.inner_text() == text
    await browsing.screenshot("edited-root-cause", full_page=False)

    resp = await site.client.get(f"/api/v1/incidents/{incident_id}/report?format=json")
    report = await resp.json()
    assert report["human"]["root_cause"]["text"] == text
    assert browsing.dialogs == []


async def test_pages_send_csp_and_request_nothing_off_host(site: Site, browsing: Browsing) -> None:
    """The report page carries the CSP header and every request stays on localhost."""
    page = browsing.page
    response = await page.goto(site.url(f"/incidents/{site.ids['DiskAlmostFull']}"))
    assert response is not None
    headers = await response.all_headers()
    assert headers["content-security-policy"] == PAGE_CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    await page.goto(site.base)
    await page.wait_for_load_state("networkidle")
    assert browsing.requests
    off_host = [
        u for u in browsing.requests if re.sub(r"^\w+://([^/:]+).*", r"\1", u) not in LOCAL_HOSTS
    ]
    assert off_host == []


async def test_report_prints_without_navigation_or_forms(site: Site, browsing: Browsing) -> None:
    """Under print media the navigation and forms are hidden; the PDF is kept as an artifact."""
    page = browsing.page
    await page.goto(site.url(f"/incidents/{site.ids['DiskAlmostFull']}"))
    await page.emulate_media(media="print")
    assert not await page.locator("nav.topbar").is_visible()
    assert not await page.locator(".actions").is_visible()
    assert await page.locator("article.report h1").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = await page.pdf(path=str(ARTIFACTS / "incident-report.pdf"))
    assert pdf.startswith(b"%PDF")
