"""Why a signal has no samples for an incident: failures recorded per cause, and the
cause as the report states it (pure).

The sampler records each failed query (and each query that returned no series) per
incident, signal and cause; the report says which cause kept a figure unknown, with the
error, the Prometheus URL, when it first and last happened and how often.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from recorder.timefmt import to_rfc3339


class FailureCause(StrEnum):
    """Why a signal's query gave no samples, in the sampler's words."""

    UNREACHABLE = "unreachable"
    """No answer: connection refused, unknown host, timeout."""
    UNAVAILABLE = "unavailable"
    """Prometheus answered with an error it may recover from (5xx, 429)."""
    REJECTED = "rejected"
    """The URL does not answer like the Prometheus API (401/403/404, not JSON)."""
    QUERY_REJECTED = "query_rejected"
    """Prometheus refused the query itself (bad PromQL, execution error)."""
    NO_SERIES = "no_series"
    """The query ran and returned no series."""


@dataclass(frozen=True, slots=True)
class SamplingFailure:
    """Failed queries of one signal for one incident, per cause: the latest error text,
    the Prometheus URL asked (password masked), the first and last failure, how many."""

    signal: str
    cause: FailureCause
    error: str
    source: str
    first_at: datetime
    last_at: datetime
    count: int = 1


def _when(failure: SamplingFailure) -> str:
    first = to_rfc3339(failure.first_at.replace(microsecond=0))
    if failure.count == 1:
        return f"once, at {first}"
    last = to_rfc3339(failure.last_at.replace(microsecond=0))
    return f"{failure.count} times, first at {first}, last at {last}"


def describe_failure(failure: SamplingFailure) -> str:
    """The cause in a sentence fragment, e.g. "Prometheus unreachable at http://…
    (connection refused: …); failed 12 times, first at …, last at …"."""
    where, error, when = failure.source, failure.error, _when(failure)
    match failure.cause:
        case FailureCause.UNREACHABLE:
            return f"Prometheus unreachable at {where} ({error}); failed {when}"
        case FailureCause.UNAVAILABLE:
            return f"Prometheus at {where} answered with an error ({error}); failed {when}"
        case FailureCause.REJECTED:
            return f"{where} does not answer as the Prometheus API ({error}); failed {when}"
        case FailureCause.QUERY_REJECTED:
            return f"Prometheus at {where} rejected the query ({error}); failed {when}"
        case FailureCause.NO_SERIES:
            return f"the query returned no series from Prometheus at {where} ({when})"


def signal_causes(
    unsampled: Mapping[str, str], failures: Iterable[SamplingFailure]
) -> dict[str, str]:
    """Signal -> why it has no samples: a reason it could not be sampled at all (its
    query needs a label the incident lacks) first, else its most recent failure."""
    latest: dict[str, SamplingFailure] = {}
    for failure in failures:
        known = latest.get(failure.signal)
        if known is None or failure.last_at > known.last_at:
            latest[failure.signal] = failure
    causes = {signal: describe_failure(f) for signal, f in sorted(latest.items())}
    causes.update(unsampled)
    return causes
