"""StateGauges: read from storage when scraped, reused for the ttl, read again after this
process's own transitions, last values kept while storage cannot be read."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Gauge

from recorder.metrics import StateGauges
from recorder.store.errors import StorageUnavailable


class CountingStore:
    """A store stand-in that counts reads and can fail."""

    def __init__(self) -> None:
        self.open = 0
        self.reads = 0
        self.down = False

    async def count_open(self) -> int:
        self.reads += 1
        if self.down:
            raise StorageUnavailable("postgres", "connection refused")
        return self.open


class Ticker:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def value(gauge: Gauge) -> float:
    """The gauge's current value, as the exposition shows it."""
    (metric,) = gauge.collect()
    return metric.samples[0].value


@pytest.fixture
def parts() -> tuple[StateGauges, Gauge, CountingStore, Ticker]:
    ticker = Ticker()
    gauges = StateGauges(ttl=5.0, monotonic=ticker)
    gauge = Gauge("open_now", "test", registry=CollectorRegistry())
    store = CountingStore()
    gauges.add(gauge, lambda s: s.count_open())
    return gauges, gauge, store, ticker


async def test_refresh_is_reused_within_the_ttl(
    parts: tuple[StateGauges, Gauge, CountingStore, Ticker],
) -> None:
    """Scrapes within 5 s cost one read; after it, storage is read again."""
    gauges, gauge, store, ticker = parts
    store.open = 3
    await gauges.refresh(store)
    store.open = 4
    ticker.now += 4.9
    await gauges.refresh(store)
    assert (value(gauge), store.reads) == (3, 1)
    ticker.now += 0.2
    await gauges.refresh(store)
    assert (value(gauge), store.reads) == (4, 2)


async def test_invalidate_forces_the_next_read(
    parts: tuple[StateGauges, Gauge, CountingStore, Ticker],
) -> None:
    """A transition seen by this process shows at the next scrape, ttl or not."""
    gauges, gauge, store, _ = parts
    await gauges.refresh(store)
    store.open = 1
    gauges.invalidate()
    await gauges.refresh(store)
    assert (value(gauge), store.reads) == (1, 2)


async def test_storage_down_keeps_the_last_value_and_retries(
    parts: tuple[StateGauges, Gauge, CountingStore, Ticker],
) -> None:
    """A failed read raises, leaves the gauge as it was, and is not cached."""
    gauges, gauge, store, ticker = parts
    store.open = 2
    await gauges.refresh(store)
    ticker.now += 10
    store.down = True
    with pytest.raises(StorageUnavailable):
        await gauges.refresh(store)
    assert value(gauge) == 2
    store.down = False
    store.open = 0
    await gauges.refresh(store)
    assert (value(gauge), store.reads) == (0, 3)
