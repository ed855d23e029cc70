"""The one error table: storage refusals are 422 with the cause, anything unclassified a
500 whose error id is in the body and in the log, and the delivery is counted rejected."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry

from recorder.settings import load_settings
from recorder.store.errors import DataRejected, StoreError
from recorder.store.factory import open_store
from recorder.web.app import create_app
from tests.conftest import fixture_bytes


class FailingStore:
    """The real store, except that `record` raises what the test chose."""

    def __init__(self, inner: Any, error: Exception) -> None:
        self._inner = inner
        self._error = error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def record(self, *args: Any, **kwargs: Any) -> Any:
        raise self._error


async def client_with(
    aiohttp_client: Any, database_url: str, error: Exception
) -> TestClient[Any, Any]:
    settings = load_settings(environ={"RECORDER_DATABASE_URL": database_url})
    store = FailingStore(open_store(database_url), error)
    app = create_app(settings, store=store, registry=CollectorRegistry())  # type: ignore[arg-type]
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return client


async def post_alert(client: TestClient[Any, Any]) -> Any:
    return await client.post(
        "/webhooks/alertmanager",
        data=fixture_bytes("alertmanager_firing.json"),
        headers={"Content-Type": "application/json"},
    )


async def test_a_value_storage_refuses_is_422_with_the_cause(
    aiohttp_client: Any, database_url: str
) -> None:
    """DataRejected is 422 naming what the database said, and counted as rejected."""
    client = await client_with(
        aiohttp_client, database_url, DataRejected("postgres", "index row size 3000 exceeds")
    )
    resp = await post_alert(client)
    assert resp.status == 422
    problem = await resp.json()
    assert "index row size 3000 exceeds" in problem["detail"]
    metrics = await (await client.get("/metrics")).text()
    assert 'outcome="rejected",source="alertmanager"} 1.0' in metrics


async def test_an_unclassified_store_error_is_500_with_a_logged_error_id(
    aiohttp_client: Any, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bare StoreError is a 500 whose error_id appears in the body and the log line."""
    client = await client_with(aiohttp_client, database_url, StoreError("something odd"))
    resp = await post_alert(client)
    assert resp.status == 500
    problem = await resp.json()
    error_id = problem["error_id"]
    assert error_id in problem["detail"]
    assert "something odd" not in problem["detail"]  # the cause stays in the log
    out = capsys.readouterr().out
    assert error_id in out
    assert "request_failed" in out


async def test_client_request_ids_that_could_spoil_logs_are_replaced(
    aiohttp_client: Any, database_url: str
) -> None:
    """An X-Request-Id that is not a short token is replaced by one of the recorder's own."""
    client = await client_with(aiohttp_client, database_url, StoreError("x"))
    resp = await client.get("/healthz", headers={"X-Request-Id": "a" * 500})
    assert resp.headers["X-Request-Id"] != "a" * 500
    ok = await client.get("/healthz", headers={"X-Request-Id": "req-1.2:3"})
    assert ok.headers["X-Request-Id"] == "req-1.2:3"
