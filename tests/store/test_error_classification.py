"""Storage turns what the database refuses into domain errors: DataRejected for a value
it can never hold, on both backends; unavailability stays StorageUnavailable."""

from __future__ import annotations

import pytest

from recorder.store.errors import DataRejected, IncidentNotFound, StoreError
from recorder.store.protocol import Store
from tests.store.builders import make_incident, open_if_absent


async def test_text_that_is_not_unicode_is_data_rejected(store: Store) -> None:
    """A lone surrogate in a stored string is refused as data, not as an internal error."""
    incident = make_incident(key="group-\ud800")
    with pytest.raises(DataRejected) as caught:
        await store.record("group-\ud800", open_if_absent(incident))
    assert caught.value.backend == store.backend
    assert await store.count_open() == 0


async def test_an_over_long_indexed_value_is_data_rejected_on_postgres(store: Store) -> None:
    """A correlation key past PostgreSQL's btree limit is DataRejected there (SQLite has
    no such limit and stores it): never a bare StoreError."""
    key = "k" * 3000 + "".join(chr(0x4E00 + i) for i in range(3000))  # incompressible
    decide = open_if_absent(make_incident(key=key))
    if store.backend == "sqlite":
        assert (await store.record(key, decide)).created
        return
    with pytest.raises(DataRejected, match=r"index row|size"):
        await store.record(key, decide)


async def test_nul_in_a_stored_value_is_data_rejected_on_postgres(store: Store) -> None:
    """PostgreSQL cannot hold U+0000 in text or jsonb: DataRejected, nothing stored."""
    decide = open_if_absent(make_incident(key="group-nul", labels={"alertname": "a\x00b"}))
    if store.backend == "sqlite":
        assert (await store.record("group-nul", decide)).created
        return
    with pytest.raises(DataRejected, match="0000"):
        await store.record("group-nul", decide)
    assert await store.count_open() == 0


async def test_data_rejected_is_a_store_error(store: Store) -> None:
    """Callers that handle StoreError keep working; a missing incident is still NotFound."""
    assert issubclass(DataRejected, StoreError)
    with pytest.raises(IncidentNotFound):
        await store.load("0000000000abcdefghjk")
