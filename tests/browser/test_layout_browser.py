"""Layout in headless Chromium at a laptop's and a phone's width: screenshots, no sideways
scroll, the list in start order, durations that never split, the empty list's first steps,
and no character that needs a font the pages do not ship."""

from __future__ import annotations

import asyncio
import re
from asyncio.subprocess import PIPE

import pytest
from playwright.async_api import Browser, Page

from tests.browser.conftest import Browsing, Site, browse
from tests.conftest import require_binary

pytestmark = pytest.mark.browser

VIEWPORTS = [(1400, 1000), (400, 800), (360, 740)]
SCREENSHOT_VIEWPORTS = [(1400, 1000), (400, 800)]
# Characters every system font has: ASCII, Latin-1, and the general punctuation the pages
# print (dashes, quotes, ellipsis, middle dot, non-breaking space).
FONT_SAFE = re.compile(r"[\t\n\r\x20-\x7e\u00a0-\u00ff\u2010-\u2027\u2030-\u203a\u2212]*")


async def overflow(page: Page) -> tuple[int, int]:
    """(document width, viewport width) once the page has laid out."""
    sizes = await page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]",
    )
    return int(sizes[0]), int(sizes[1])


async def assert_no_sideways_scroll(page: Page) -> None:
    width, viewport = await overflow(page)
    assert width <= viewport, f"page is {width}px wide in a {viewport}px viewport"


async def unsafe_glyphs(page: Page) -> set[str]:
    """Characters in the page's text, SVG text or generated content outside FONT_SAFE."""
    texts: list[str] = await page.evaluate(
        """() => {
          const out = [document.body.textContent, document.title];
          for (const el of document.querySelectorAll('*')) {
            for (const pseudo of ['::before', '::after', '::marker']) {
              const c = getComputedStyle(el, pseudo).content;
              if (c && c !== 'none' && c !== 'normal') out.push(c);
            }
          }
          return out;
        }"""
    )
    return {ch for text in texts for ch in text if not FONT_SAFE.fullmatch(ch)}


@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
async def test_list_fits_the_screen_and_is_screenshotted(
    site: Site, browser: Browser, width: int, height: int
) -> None:
    """The list never scrolls sideways, from a 360 px phone up to a laptop."""
    async with browse(browser, width, height) as browsing:
        await browsing.page.goto(site.base)
        await assert_no_sideways_scroll(browsing.page)
        if (width, height) in SCREENSHOT_VIEWPORTS:
            await browsing.screenshot(f"list-{width}x{height}")


@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
async def test_empty_list_fits_the_screen_and_is_screenshotted(
    empty_site: Site, browser: Browser, width: int, height: int
) -> None:
    """The empty list with its webhook URLs and curl never scrolls sideways."""
    async with browse(browser, width, height) as browsing:
        await browsing.page.goto(empty_site.base)
        assert await browsing.page.locator("pre.command").is_visible()
        await assert_no_sideways_scroll(browsing.page)
        if (width, height) in SCREENSHOT_VIEWPORTS:
            await browsing.screenshot(f"empty-list-{width}x{height}")


async def test_list_is_in_start_order_newest_first(site: Site, browsing: Browsing) -> None:
    """The incident received last but started two days earlier is listed last."""
    page = browsing.page
    await page.goto(site.base)
    rows = await page.locator("table.incidents tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.incident)"
    )
    ids = site.ids
    assert rows == [ids["CheckoutErrors"], ids["DiskAlmostFull"], ids["DatabasePoolSaturated"]]
    times = await page.locator("table.incidents td.started time").evaluate_all(
        "ts => ts.map(t => t.getAttribute('datetime'))"
    )
    assert times == sorted(times, reverse=True)


async def test_filter_keeps_start_order(site: Site, browsing: Browsing) -> None:
    """The Open filter lists only unresolved incidents, still newest start first."""
    page = browsing.page
    await page.goto(site.url("/?status=open"))
    rows = await page.locator("table.incidents tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.incident)"
    )
    assert rows == [site.ids["DiskAlmostFull"], site.ids["DatabasePoolSaturated"]]
    assert await page.locator(".filters a.active").inner_text() == "Open"


@pytest.mark.parametrize(("width", "height"), [(1400, 1000), (360, 740)])
async def test_durations_are_compact_and_never_split(
    site: Site, browser: Browser, width: int, height: int
) -> None:
    """Durations read "2 d 1 h" or "18 min" and each sits on one line, even on a phone."""
    async with browse(browser, width, height) as browsing:
        page = browsing.page
        await page.goto(site.base)
        old = page.locator(f'tr[data-incident="{site.ids["DatabasePoolSaturated"]}"]')
        text = await old.locator("td.duration .dur").inner_text()
        assert text.replace("\u00a0", " ") == "2 d 1 h"
        disk = page.locator(f'tr[data-incident="{site.ids["DiskAlmostFull"]}"]')
        assert (await disk.locator("td.tta .dur").inner_text()).replace("\u00a0", " ") == (
            "17 min 57 s"
        )
        lines = await page.locator(".dur").evaluate_all(
            "els => els.map(e => [e.textContent, e.getClientRects().length])"
        )
        assert len(lines) >= 9
        assert all(count == 1 for _, count in lines), lines


async def test_titles_break_between_words_only(site: Site, browser: Browser) -> None:
    """At 360 px no word of an incident's title is split across two lines."""
    async with browse(browser, 360, 740) as browsing:
        page = browsing.page
        await page.goto(site.base)
        split = await page.locator("td.title a").evaluate_all(
            """links => links.flatMap(a => {
              const node = a.firstChild, text = node.textContent, out = [];
              for (const m of text.matchAll(/[^\\s-]+/g)) {
                const r = document.createRange();
                r.setStart(node, m.index); r.setEnd(node, m.index + m[0].length);
                const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
                if (tops.size > 1) out.push(m[0]);
              }
              return out;
            })"""
        )
        assert split == []


async def test_empty_list_shows_webhooks_and_a_curl_that_works(
    empty_site: Site, browsing: Browsing
) -> None:
    """With nothing recorded the list names the webhook URLs and a one-line curl; running
    that curl opens an incident the list then shows."""
    curl_binary = require_binary("curl")
    page = browsing.page
    await page.goto(empty_site.base)
    urls = await page.locator(".webhooks code.url").all_inner_texts()
    assert empty_site.url("/webhooks/alertmanager") in urls
    assert empty_site.url("/webhooks/pagerduty") in urls
    command = await page.locator("pre.command").inner_text()
    assert "\n" not in command.strip()
    assert command.startswith("curl ")
    shell = command.strip().replace("curl ", f"{curl_binary} -sS -f ", 1)
    # Asynchronously: the test server answers on this same event loop.
    process = await asyncio.create_subprocess_exec("sh", "-c", shell, stdout=PIPE, stderr=PIPE)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr
    await page.reload()
    assert await page.locator("table.incidents tbody tr").count() == 1
    assert await page.locator("pre.command").count() == 0


async def test_list_pages_use_only_shipped_glyphs(site: Site, browsing: Browsing) -> None:
    """No emoji or symbol that would render as an empty box without a special font."""
    page = browsing.page
    await page.goto(site.base)
    assert await unsafe_glyphs(page) == set()
    await page.goto(site.url("/?status=mitigating"))
    assert await unsafe_glyphs(page) == set()


INCIDENTS = {"open-incident": "DiskAlmostFull", "resolved-incident": "CheckoutErrors"}


async def box(page: Page, selector: str) -> dict[str, float]:
    """The first match's bounding box relative to the viewport."""
    found = await page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not rendered"
    return found


@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
@pytest.mark.parametrize("shot", sorted(INCIDENTS))
async def test_incident_page_fits_the_screen_and_is_screenshotted(
    site: Site, browser: Browser, shot: str, width: int, height: int
) -> None:
    """Open and resolved incidents never scroll sideways, from 360 px up; wide tables and
    charts stay inside their own boxes."""
    async with browse(browser, width, height) as browsing:
        page = browsing.page
        await page.goto(site.url(f"/incidents/{site.ids[INCIDENTS[shot]]}"))
        await assert_no_sideways_scroll(page)
        charts = await page.locator(".charts svg").evaluate_all(
            "svgs => svgs.map(s => [s.getBoundingClientRect().right, s.clientWidth])"
        )
        assert charts, "the seeded incidents have charts"
        assert max(right for right, _ in charts) <= width
        # Charts scale to the width: a third of a laptop screen, nearly all of a phone's.
        assert min(w for _, w in charts) >= min(300, 0.85 * width), charts
        if (width, height) in SCREENSHOT_VIEWPORTS:
            await browsing.screenshot(f"{shot}-{width}x{height}")


@pytest.mark.parametrize("shot", sorted(INCIDENTS))
async def test_first_laptop_screen_holds_band_chart_and_first_timeline_row(
    site: Site, browser: Browser, shot: str
) -> None:
    """At 1400 x 1000 the status band, a chart and the first timeline row are all visible
    without scrolling."""
    async with browse(browser, 1400, 1000) as browsing:
        page = browsing.page
        await page.goto(site.url(f"/incidents/{site.ids[INCIDENTS[shot]]}"))
        for selector in ("#status-band", ".charts svg", "table.timeline tbody tr"):
            found = await box(page, selector)
            assert found["y"] >= 0, selector
            assert found["y"] + found["height"] <= 1000, (selector, found)


async def test_incident_page_reads_evidence_first(site: Site, browsing: Browsing) -> None:
    """Band, key figures and charts, timeline, alerts, then the sections people write."""
    page = browsing.page
    await page.goto(site.url(f"/incidents/{site.ids['DiskAlmostFull']}"))
    order = [
        "#status-band",
        ".key-figures",
        ".charts",
        "#timeline",
        ".alert-card",
        "#summary",
        "#root-cause",
        "#review",
    ]
    tops = [(await box(page, selector))["y"] for selector in order]
    assert tops == sorted(tops), list(zip(order, tops, strict=True))
    band = page.locator("#status-band")
    text = (await band.inner_text()).replace("\u00a0", " ")
    for expected in ("Investigating", "SEV1", "2026-11-28 17:37", "17 min 57 s"):
        assert expected in text
    assert "Sam Oncall" in text
    assert "not linked" in text
    peak = page.locator('.key-figures [data-figure="error_rate_peak"] dd')
    assert "%" in await peak.inner_text()


async def test_prompts_are_collapsed_and_rendered_as_html(site: Site, browsing: Browsing) -> None:
    """Unfilled sections show one line each; opened, their prompt is HTML, not Markdown."""
    page = browsing.page
    await page.goto(site.url(f"/incidents/{site.ids['DiskAlmostFull']}"))
    prompts = page.locator("details.prompt")
    assert await prompts.count() >= 10
    assert await page.locator("details.prompt[open]").count() == 0
    visible = await page.locator("body").inner_text()
    for raw in ("**", "```", "|---", "[ ]"):
        assert raw not in visible
    users = page.locator('details.prompt[data-field="users_affected"]')
    assert not await users.locator("strong").first.is_visible()
    await users.locator("summary").click()
    assert await users.locator("strong", has_text="Scope").is_visible()
    items = page.locator('details.prompt[data-field="action_items"]')
    await items.locator("summary").click()
    assert await items.locator("table th").count() == 6
    opened = await page.locator("body").inner_text()
    assert "**" not in opened
    assert "|---" not in opened


@pytest.mark.parametrize("shot", sorted(INCIDENTS))
async def test_incident_pages_use_only_shipped_glyphs(
    site: Site, browsing: Browsing, shot: str
) -> None:
    """No emoji or symbol on the incident page or its HTML download needs a special font."""
    page = browsing.page
    incident_id = site.ids[INCIDENTS[shot]]
    await page.goto(site.url(f"/incidents/{incident_id}"))
    assert await unsafe_glyphs(page) == set()
    await page.goto(site.url(f"/api/v1/incidents/{incident_id}/report?format=html"))
    assert await unsafe_glyphs(page) == set()
