"""Transaction advisory locks: which keys a write locks, in which order."""

from __future__ import annotations

import hashlib
from typing import TypeAlias

from recorder.core.incident import Incident
from recorder.core.links import incident_link_key

# Lock key namespaces beside correlation keys (which start with group:, labels:, ...).
_LINK_LOCK_PREFIX = "link:"
PAGERDUTY_LOCK_PREFIX = "pagerduty-id:"
# How often a write is retried when its target moved between reading and locking.
TARGET_ATTEMPTS = 5


def lock_id(correlation_key: str) -> int:
    """The transaction advisory lock id serializing writes for a correlation key.

    64 bits of BLAKE2b, computed here rather than with hashtextextended() in SQL so
    that BEGIN and the lock travel in one simple-query round trip.
    """
    # surrogatepass: a key that is not Unicode still gets a lock; the server refuses it.
    data = correlation_key.encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(data, digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def begin_locked(*keys: str) -> str:
    """BEGIN, then one transaction advisory lock per key, in the order given.

    Every writer takes link keys first, then PagerDuty ids, then correlation keys, so
    two writers never wait for each other in opposite orders.
    """
    # Only integers are formatted into the SQL: no quoting concerns.
    ids = dict.fromkeys(lock_id(key) for key in keys)
    return "BEGIN" + "".join(f"; SELECT pg_advisory_xact_lock({i:d})" for i in ids)


def link_lock_key(link_key: str) -> str:
    return _LINK_LOCK_PREFIX + link_key


class TargetMoved(Exception):
    """The incident to lock changed between reading it and holding its locks."""


# (id, correlation key, link key) of the incident a page applies to.
Target: TypeAlias = tuple[str, str, "str | None"]


def target_of(incident: Incident | None) -> Target | None:
    if incident is None:
        return None
    return (incident.id, incident.correlation_key, incident_link_key(incident))
