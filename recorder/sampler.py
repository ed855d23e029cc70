"""The sampler: keeps each open incident's Prometheus signals stored, round after round.

Each round (every sampling interval, just after a grid instant settles) the sampler
takes or renews the leases of the incidents it samples (one store call), plans each one
(`recorder.prometheus.plan`, pure), runs the range queries with at most `concurrency` in
flight, and saves each incident's new samples in one batch. A resolved incident gets one
backfill over its whole window once Prometheus has the tail; then its lease is released
for good and `time_to_detect` is observed.

Failures never end the loop: a failed query leaves its signal's cursor where it was (the
next round asks again, and whatever Prometheus still holds fills in), storage errors skip
the round, and both are logged once per change of state, not per tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from recorder.clock import Clock
from recorder.evidence.incident import build_incident_evidence
from recorder.evidence.model import Thresholds
from recorder.metrics import RecorderMetrics
from recorder.prometheus.held import HeldIncident
from recorder.prometheus.plan import Query, Timing, align_down, lease_ttl, plan_target
from recorder.prometheus.promapi import (
    PrometheusBadQuery,
    PrometheusClient,
    PrometheusError,
)
from recorder.prometheus.query_failures import failures_of_round
from recorder.prometheus.signals import DEFAULT_SERVICE_LABELS, Signal
from recorder.store.errors import StoreError
from recorder.store.protocol import SampleStore, SamplingTarget, StoredSample

RESOLVED_WITHIN = timedelta(hours=24)
"""Resolved incidents older than this are not backfilled any more (restart after days)."""
MAX_TARGETS = 10_000
"""Most incidents one replica samples at a time."""


def new_holder_id() -> str:
    """This process's lease holder name: host, pid and a random part (pids get reused)."""
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}"


@dataclass
class RoundResult:
    """What one round did, for tests and the benchmark."""

    targets: int = 0
    queries: int = 0
    errors: int = 0
    skipped: int = 0
    saved: int = 0
    backfilled: list[str] = field(default_factory=list)


class _QueryFailed(Exception):
    def __init__(self, query: Query, error: PrometheusError | None) -> None:
        super().__init__(query.signal)
        self.query = query
        self.error = error  # None: skipped because Prometheus was already failing


class Sampler:
    """Samples every incident whose lease it holds; see the module docstring.

    `client` is the Prometheus client on the app's session; `holder` names this replica
    in the leases. Call `run()` as a task and cancel it to stop, then `close()` to free
    the leases so another replica takes over at once.
    """

    def __init__(
        self,
        store: SampleStore,
        client: PrometheusClient,
        *,
        signals: Sequence[Signal],
        timing: Timing,
        thresholds: Thresholds,
        concurrency: int,
        query_timeout: float,
        metrics: RecorderMetrics,
        log: structlog.typing.FilteringBoundLogger,
        clock: Clock,
        holder: str | None = None,
        resolved_within: timedelta = RESOLVED_WITHIN,
        max_targets: int = MAX_TARGETS,
        service_labels: Sequence[str] = DEFAULT_SERVICE_LABELS,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        if not signals:
            raise ValueError("the sampler needs at least one signal")
        self.store = store
        self.client = client
        self.signals = tuple(signals)
        self.timing = timing
        self.thresholds = thresholds
        self.metrics = metrics
        self.log = log
        self.clock = clock
        self.holder = holder or new_holder_id()
        self.ttl = lease_ttl(timing.interval, query_timeout)
        # A resolved incident is sampled through its recovery tail, then backfilled:
        # it must stay among the leased incidents at least that long.
        self.resolved_within = max(resolved_within, timing.tail + 2 * timing.interval)
        self.max_targets = max_targets
        self.service_labels = tuple(service_labels)
        self._semaphore = asyncio.Semaphore(concurrency)
        self._held: dict[str, HeldIncident] = {}
        self._prometheus_failing = False
        self._storage_failing = False
        self._round_down = False
        self._round_error: PrometheusError | None = None
        self._rejected: set[str] = set()
        self._many_series: set[str] = set()
        self.saved_by_incident: Counter[str] = Counter()
        """New samples this replica stored, per incident (tests check who sampled what)."""
        self.fetched = 0
        """Samples Prometheus returned to this replica (new or already stored)."""

    async def run(self) -> None:
        """Sample round after round until cancelled; one round's failure is logged and
        the next round runs on schedule."""
        self.log.info(
            "sampler_started",
            holder=self.holder,
            interval_s=self.timing.step_seconds,
            signals=[s.name for s in self.signals],
        )
        while True:
            try:
                await self.run_round()
            except Exception:
                self.log.exception("sampler_round_crashed", holder=self.holder)
            now = self.clock.now()
            tick = align_down(now, self.timing.step_seconds) + self.timing.interval
            delay = (tick + self.timing.settle - now).total_seconds()
            await asyncio.sleep(min(max(delay, 0.0), self.timing.step_seconds * 2))

    async def close(self) -> None:
        """Write the failures still waiting, then free this replica's leases (both
        shielded from cancellation)."""
        try:
            for incident_id, state in list(self._held.items()):
                if state.failures:
                    await asyncio.shield(
                        self.store.save_sampling_failures(incident_id, state.failures)
                    )
                    state.failures = []
        except StoreError as exc:
            self.log.warning("sampler_failures_not_saved", error=str(exc), holder=self.holder)
        try:
            freed = await asyncio.shield(self.store.release_leases(self.holder))
        except StoreError as exc:
            self.log.warning("sampler_leases_not_released", error=str(exc), holder=self.holder)
            return
        self.log.info("sampler_stopped", holder=self.holder, leases_released=freed)

    async def run_round(self) -> RoundResult:
        """Take the leases, sample every held incident once, return what happened."""
        result = RoundResult()
        now = self.clock.now()
        try:
            targets = await self.store.acquire_leases(
                self.holder,
                now=now,
                ttl=self.ttl,
                resolved_since=now - self.resolved_within,
                limit=self.max_targets,
            )
        except StoreError as exc:
            self._storage_failed(exc)
            return result
        held = {t.incident_id for t in targets}
        for lost in set(self._held) - held:
            # Lease lost or sampling finished: a later lease reloads from the store.
            del self._held[lost]
        self._round_down = False
        self._round_error = None
        result.targets = len(targets)
        outcomes = await asyncio.gather(
            *(self._sample_target(target, now, result) for target in targets),
            return_exceptions=True,
        )
        for target, outcome in zip(targets, outcomes, strict=True):
            if isinstance(outcome, StoreError):
                self._storage_failed(outcome)
            elif isinstance(outcome, BaseException):
                if isinstance(outcome, asyncio.CancelledError):
                    raise outcome
                self.log.error(
                    "sampler_target_crashed",
                    incident_id=target.incident_id,
                    exc_info=outcome,
                )
        if not any(isinstance(o, StoreError) for o in outcomes):
            self._storage_ok()
        if result.queries and not self._round_down:
            self._prometheus_ok()
        return result

    async def _sample_target(
        self, target: SamplingTarget, now: datetime, result: RoundResult
    ) -> None:
        incident_id = target.incident_id
        state = self._held.get(incident_id)
        if state is None:
            # New to this replica (start, restart, takeover): resume after what is stored.
            state = HeldIncident(dict(await self.store.last_sample_times(incident_id)))
            self._held[incident_id] = state
        work = plan_target(
            labels=target.labels,
            started_at=target.started_at,
            resolved_at=target.resolved_at,
            signals=self.signals,
            cursors=state.cursors,
            now=now,
            timing=self.timing,
            service_labels=self.service_labels,
        )
        for missing in work.unsampled:
            if missing.signal not in state.unsampled_saved:
                await self.store.save_unsampled(incident_id, missing.signal, missing.reason)
                state.unsampled_saved.add(missing.signal)
                self.log.info(
                    "signal_unsampled",
                    incident_id=incident_id,
                    signal=missing.signal,
                    reason=missing.reason,
                )
        answers = await asyncio.gather(
            *(self._fetch(query) for query in work.queries), return_exceptions=True
        )
        samples: list[StoredSample] = []
        reached: dict[str, datetime] = {}
        failed: dict[str, PrometheusError] = {}
        answered: dict[str, bool] = {}  # signal -> some query of it returned a series
        complete = True
        for query, answer in zip(work.queries, answers, strict=True):
            if isinstance(answer, _QueryFailed) and answer.error is None:
                result.skipped += 1
                complete = False
                if self._round_error is not None:
                    failed.setdefault(query.signal, self._round_error)
                continue
            result.queries += 1
            if isinstance(answer, _QueryFailed):
                result.errors += 1
                # A rejected query will not improve by retrying: it does not hold up
                # the backfill. Anything else is asked again next round.
                if not isinstance(answer.error, PrometheusBadQuery):
                    complete = False
                if answer.error is not None:
                    failed[query.signal] = answer.error
                continue
            if isinstance(answer, BaseException):
                raise answer
            samples.extend(answer)
            self.fetched += len(answer)
            reached[query.signal] = max(query.end, reached.get(query.signal, query.end))
            answered[query.signal] = answered.get(query.signal, False) or bool(answer)
        saved = await self.store.save_samples(incident_id, samples)
        state.failures += failures_of_round(failed, answered, self.client.base_url, now)
        await self._save_failures(incident_id, state, now, final=work.backfill)
        result.saved += saved
        if saved:
            self.saved_by_incident[incident_id] += saved
        state.cursors.update(reached)
        if work.backfill and complete and target.resolved_at is not None:
            if await self.store.mark_backfilled(incident_id, self.holder, target.resolved_at):
                result.backfilled.append(incident_id)
                await self._observe_time_to_detect(target, now)
            self._held.pop(incident_id, None)

    async def _save_failures(
        self, incident_id: str, state: HeldIncident, now: datetime, *, final: bool
    ) -> None:
        """Write the incident's waiting failures when they are due (`recorder.prometheus.held`)."""
        if state.failures_due(now, final=final):
            await self.store.save_sampling_failures(incident_id, state.failures)
            state.failures_written(now)

    async def _fetch(self, query: Query) -> list[StoredSample]:
        """One range query under the concurrency limit, counted and timed."""
        async with self._semaphore:
            if self._round_down:
                # Prometheus already failed this round: do not pile more on it.
                raise _QueryFailed(query, None)
            began = time.perf_counter()
            try:
                series = await self.client.query_range(
                    query.expr, query.start, query.end, query.step_seconds
                )
            except PrometheusError as exc:
                self.metrics.sampler_queries.labels(outcome="error").inc()
                self._query_failed(query, exc)
                raise _QueryFailed(query, exc) from exc
            finally:
                self.metrics.sampler_query_duration.observe(time.perf_counter() - began)
        self.metrics.sampler_queries.labels(outcome="ok").inc()
        self._rejected.discard(query.signal)
        if len(series) > 1 and query.signal not in self._many_series:
            self._many_series.add(query.signal)
            self.log.warning(
                "signal_returned_many_series",
                signal=query.signal,
                series=len(series),
                hint="aggregate the query (e.g. sum(...)) so it returns one series",
            )
        if not series:
            return []
        # One value per instant: the first series (Prometheus sorts them by labels).
        return [StoredSample(query.signal, s.at, s.value) for s in series[0].samples]

    def _query_failed(self, query: Query, exc: PrometheusError) -> None:
        if isinstance(exc, PrometheusBadQuery):
            if query.signal not in self._rejected:
                self._rejected.add(query.signal)
                self.log.error(
                    "signal_query_rejected", signal=query.signal, expr=query.expr, error=str(exc)
                )
            return
        self._round_down = True
        self._round_error = self._round_error or exc
        if not self._prometheus_failing:
            self._prometheus_failing = True
            self.log.warning(
                "sampler_failed",
                error=str(exc),
                error_type=exc.error_type,
                prometheus=self.client.base_url,
            )

    def _prometheus_ok(self) -> None:
        if self._prometheus_failing:
            self._prometheus_failing = False
            self.log.info("sampler_recovered", prometheus=self.client.base_url)

    def _storage_failed(self, exc: StoreError) -> None:
        if not self._storage_failing:
            self._storage_failing = True
            self.log.warning("sampler_storage_failed", error=str(exc))

    def _storage_ok(self) -> None:
        if self._storage_failing:
            self._storage_failing = False
            self.log.info("sampler_storage_recovered")

    async def _observe_time_to_detect(self, target: SamplingTarget, now: datetime) -> None:
        samples = await self.store.load_samples(target.incident_id)
        evidence = build_incident_evidence(
            samples,
            started_at=target.started_at,
            resolved_at=target.resolved_at,
            now=now,
            baseline_window=self.timing.baseline_window,
            interval_seconds=self.timing.step_seconds,
            thresholds=self.thresholds,
        )
        seconds = evidence.time_to_detect.value
        if seconds is not None:
            # An onset after the alert means it fired first: detection took no time.
            self.metrics.time_to_detect.observe(max(0.0, seconds))
            self.log.info(
                "time_to_detect_observed", incident_id=target.incident_id, seconds=seconds
            )


async def stop_task(task: asyncio.Task[None]) -> None:
    """Cancel `task` and wait for it to finish."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
