"""The sampler's pure planning: grid alignment, next range, backfill, chunking, leases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from recorder.prometheus.plan import (
    Timing,
    align_after,
    align_down,
    align_up,
    backfill_due,
    backfill_range,
    lease_ttl,
    next_range,
    plan_target,
    query_timeout,
    split_range,
)
from recorder.prometheus.signals import DEFAULT_SIGNALS

T = datetime(2026, 11, 28, 14, 0, 0, tzinfo=UTC)
TIMING = Timing.for_interval(timedelta(seconds=15), timedelta(hours=1))
CHECKOUT = {"service": "checkout", "alertname": "HighErrorRate"}


def s(seconds: float) -> datetime:
    return T + timedelta(seconds=seconds)


def test_grid_alignment_is_on_whole_intervals_since_the_epoch() -> None:
    """Down, up and strictly-after land on multiples of the step."""
    assert align_down(s(22.5), 15) == s(15)
    assert align_up(s(22.5), 15) == s(30)
    assert align_up(s(30), 15) == s(30)
    assert align_after(s(30), 15) == s(45)
    assert align_down(s(0.3), 0.5) == s(0)


def test_first_range_starts_at_the_baseline_and_ends_at_the_last_settled_instant() -> None:
    """No cursor: from baseline start (aligned up) to the grid instant before now − settle."""
    started = s(7)
    span = next_range(None, started, s(70), TIMING)
    assert span == (align_up(started - timedelta(hours=1), 15), s(60))
    # 62 s: 62 − 5 s settle = 57, so the 60 s instant is not settled yet.
    assert next_range(None, started, s(62), TIMING) == (
        align_up(started - timedelta(hours=1), 15),
        s(45),
    )


def test_next_range_resumes_after_the_cursor_without_repeating_it() -> None:
    """With a cursor the range starts one step later; nothing new gives None."""
    assert next_range(s(45), s(0), s(70), TIMING) == (s(60), s(60))
    assert next_range(s(60), s(0), s(70), TIMING) is None


def test_cursor_off_the_grid_resumes_on_the_grid() -> None:
    """A stored sample off the grid (an older interval) resumes at the next grid instant."""
    assert next_range(s(50), s(0), s(100), TIMING) == (s(60), s(90))


def test_backfill_covers_baseline_incident_and_tail_once_due() -> None:
    """Due only after resolved + tail + settle; range from baseline start to resolved + tail."""
    resolved = s(300)
    assert TIMING.settle == timedelta(seconds=5)  # half the interval, at most 5 s
    assert not backfill_due(resolved, s(300 + 60 + 4.9), TIMING)
    assert backfill_due(resolved, s(300 + 60 + 5), TIMING)
    assert backfill_range(s(7), resolved, TIMING) == (
        align_up(s(7) - timedelta(hours=1), 15),
        s(360),
    )


def test_long_ranges_are_split_on_the_grid_within_the_point_limit() -> None:
    """Pieces hold at most max_points instants, are contiguous and keep the step."""
    pieces = split_range(s(0), s(100), 10, max_points=4)
    assert pieces == [(s(0), s(30)), (s(40), s(70)), (s(80), s(100))]
    assert split_range(s(10), s(0), 10) == []


def test_plan_for_open_incident_queries_each_signal_from_its_cursor() -> None:
    """Each signal resumes from its own cursor; a fresh one starts at the baseline."""
    work = plan_target(
        labels=CHECKOUT,
        started_at=s(0),
        resolved_at=None,
        signals=DEFAULT_SIGNALS,
        cursors={"error_rate": s(45), "pool_in_use": s(60)},
        now=s(70),
        timing=TIMING,
    )
    assert not work.backfill
    assert work.unsampled == ()
    spans = {q.signal: (q.start, q.end) for q in work.queries}
    assert spans["error_rate"] == (s(60), s(60))
    assert "pool_in_use" not in spans
    assert spans["pool_max"] == (s(-3600), s(60))
    assert all('service="checkout"' in q.expr and q.step_seconds == 15 for q in work.queries)


def test_plan_with_missing_label_leaves_signals_unsampled() -> None:
    """Without a service label no query is planned and each signal says why."""
    work = plan_target(
        labels={"alertname": "HighErrorRate"},
        started_at=s(0),
        resolved_at=None,
        signals=DEFAULT_SIGNALS,
        cursors={},
        now=s(70),
        timing=TIMING,
    )
    assert work.queries == ()
    assert [m.signal for m in work.unsampled] == [sig.name for sig in DEFAULT_SIGNALS]
    assert work.unsampled[0].reason.startswith("no label among service, job,")


def test_plan_fills_service_from_the_configured_service_labels() -> None:
    """An incident labelled only `app` is sampled when `app` is a service label."""
    work = plan_target(
        labels={"app": "checkout"},
        started_at=s(0),
        resolved_at=None,
        signals=DEFAULT_SIGNALS[:1],
        cursors={},
        now=s(70),
        timing=TIMING,
        service_labels=("service", "app"),
    )
    assert work.unsampled == ()
    assert 'service="checkout"' in work.queries[0].expr


def test_resolved_incident_samples_live_until_the_tail_then_backfills() -> None:
    """Before the tail is in, it keeps sampling; once due, it re-reads the whole window."""
    common = {
        "labels": CHECKOUT,
        "started_at": s(0),
        "resolved_at": s(300),
        "signals": DEFAULT_SIGNALS[:1],
        "cursors": {"error_rate": s(300)},
        "timing": TIMING,
    }
    early = plan_target(now=s(320), **common)  # type: ignore[arg-type]
    assert not early.backfill
    assert [(q.start, q.end) for q in early.queries] == [(s(315), s(315))]
    due = plan_target(now=s(400), **common)  # type: ignore[arg-type]
    assert due.backfill
    assert [(q.start, q.end) for q in due.queries] == [(s(-3600), s(360))]


def test_lease_ttl_is_three_intervals_or_enough_for_slow_queries() -> None:
    """3 × interval normally; longer when two query timeouts plus an interval exceed it."""
    assert lease_ttl(timedelta(seconds=15), query_timeout(timedelta(seconds=15))) == timedelta(
        seconds=45
    )
    one = timedelta(seconds=1)
    assert query_timeout(one) == 2
    assert lease_ttl(one, query_timeout(one)) == timedelta(seconds=5)
