"""A real app on SQLite with seeded incidents, and headless Chromium driving it.

Playwright's async API runs in the test's event loop next to the aiohttp test server.
Every request the browser makes is routed through a recorder that aborts anything not on
127.0.0.1/localhost, so a page reaching for a CDN fails the test instead of the network.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import Browser, Dialog, Page, Route, async_playwright
from prometheus_client import CollectorRegistry

from recorder.settings import load_settings
from recorder.web.app import create_app
from tests.browser.seed import seed
from tests.conftest import require_binary
from tests.web.conftest import FakeClock

TOKEN = "secret-token"
NOW = datetime(2026, 11, 28, 17, 55, tzinfo=UTC)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@dataclass
class Site:
    """The running app: its test client, base URL and seeded incident ids by alertname."""

    client: TestClient[Any, Any]
    base: str
    ids: dict[str, str]

    def url(self, path: str) -> str:
        return self.base.rstrip("/") + path


@dataclass
class Browsing:
    """A page plus everything it requested and every dialog it tried to open."""

    page: Page
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    async def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=full_page)
        return path


async def start_site(aiohttp_client: Any, tmp_path: Path) -> TestClient[Any, Any]:
    env = {"RECORDER_DATABASE_URL": f"sqlite:///{tmp_path / 'recorder.db'}"}
    settings = load_settings(environ=env, flags={"api_token": TOKEN})
    app = create_app(settings, clock=FakeClock(NOW), registry=CollectorRegistry())
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return client


@pytest.fixture
async def site(aiohttp_client: Any, tmp_path: Path) -> Site:
    client = await start_site(aiohttp_client, tmp_path)
    ids = await seed(client)
    return Site(client, str(client.make_url("/")), ids)


@pytest.fixture
async def empty_site(aiohttp_client: Any, tmp_path: Path) -> Site:
    """The app with no incident recorded yet."""
    client = await start_site(aiohttp_client, tmp_path)
    return Site(client, str(client.make_url("/")), {})


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    chromium = require_binary("chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def browsing(browser: Browser) -> AsyncIterator[Browsing]:
    async with browse(browser, 1280, 900) as seen:
        yield seen


@asynccontextmanager
async def browse(browser: Browser, width: int, height: int) -> AsyncIterator[Browsing]:
    """A fresh page at `width` x `height`, recording requests and dialogs, off-host blocked."""
    context = await browser.new_context(viewport={"width": width, "height": height})
    page = await context.new_page()
    seen = Browsing(page)

    async def guard(route: Route) -> None:
        url = route.request.url
        seen.requests.append(url)
        if urlsplit(url).hostname in LOCAL_HOSTS:
            await route.continue_()
        else:
            await route.abort()

    async def on_dialog(dialog: Dialog) -> None:
        seen.dialogs.append(f"{dialog.type}: {dialog.message}")
        await dialog.dismiss()

    await context.route("**/*", guard)
    page.on("dialog", on_dialog)
    try:
        yield seen
    finally:
        await context.close()
