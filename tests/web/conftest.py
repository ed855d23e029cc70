"""Build the real app through the real factory, with an injected clock, on each backend."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry

from recorder.settings import load_settings
from recorder.web.app import create_app


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def set_unix(self, seconds: float) -> None:
        self.current = datetime.fromtimestamp(seconds, tz=UTC)


MakeClient = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 28, 17, 37, 5, tzinfo=UTC))


@pytest.fixture
def make_client(aiohttp_client: Any, database_url: str, clock: FakeClock) -> MakeClient:
    """Start the app on the parametrized backend; keyword args override settings."""

    async def make(**overrides: Any) -> TestClient[Any, Any]:
        env = {"RECORDER_DATABASE_URL": overrides.pop("database_url", database_url)}
        settings = load_settings(environ=env, flags=overrides)
        app = create_app(settings, clock=clock, registry=CollectorRegistry())
        client: TestClient[Any, Any] = await aiohttp_client(app)
        return client

    return make
