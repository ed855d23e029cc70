"""The silence poller: reads Alertmanager's silences while incidents are open and applies
each one that matches an incident's firing alerts as acknowledgment.

Every `interval` (TOML `silence_poll`) it asks the store whether any incident is open;
if so it reads `GET /api/v2/silences` from the first Alertmanager URL that answers (the
last one that did is tried first: HA peers gossip silences, so any peer's list is the
cluster's), then checks every open incident against the silences (pure:
`recorder.core.silences`) and writes the ones that apply through `Recording`, once per
incident and silence id, whichever replica sees it first (the store remembers).

Failures never end the loop and never touch webhook handling: an unreachable or
garbled Alertmanager, or storage trouble, is counted in `recorder_silence_polls_total`,
logged once per change of state, and the next poll tries again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import aiohttp
import structlog

from alert_adapters.silences import SilencesUnreadable, parse_silences
from recorder.core.silences import Silence, silence_applies
from recorder.ingest import Recording
from recorder.metrics import RecorderMetrics
from recorder.store.errors import IncidentNotFound, StoreError
from recorder.store.protocol import SilenceStore

SILENCES_PATH = "/api/v2/silences"
PAGE_SIZE = 500
"""Open incidents read per store call."""


class _Unanswered(Exception):
    """No Alertmanager URL gave a usable answer; `outcome` says how they failed."""

    def __init__(self, outcome: str, errors: dict[str, str]) -> None:
        super().__init__(outcome)
        self.outcome = outcome
        self.errors = errors


def poll_timeout(interval: timedelta) -> float:
    """Seconds one request may take: most of the interval, between 1 s and 10 s."""
    return min(max(interval.total_seconds() * 0.8, 1.0), 10.0)


class SilencePoller:
    """Applies Alertmanager silences to open incidents; see the module docstring.

    Call `run()` as a task and cancel it to stop. `poll_once()` is one poll, for tests.
    """

    def __init__(
        self,
        store: SilenceStore,
        recording: Recording,
        session: aiohttp.ClientSession,
        urls: Sequence[str],
        *,
        interval: timedelta,
        metrics: RecorderMetrics,
        log: structlog.typing.FilteringBoundLogger,
    ) -> None:
        if not urls:
            raise ValueError("the silence poller needs at least one Alertmanager URL")
        if interval <= timedelta(0):
            raise ValueError(f"interval must be positive, got {interval}")
        self.store = store
        self.recording = recording
        self.session = session
        self.urls = [url.rstrip("/") for url in urls]
        self.interval = interval
        self.timeout = aiohttp.ClientTimeout(total=poll_timeout(interval))
        self.metrics = metrics
        self.log = log
        self._preferred = 0
        self._failing: str | None = None
        # (incident id, silence id) pairs applied or known applied: skip them next time.
        self._applied: set[tuple[str, str]] = set()

    async def run(self) -> None:
        """Poll every interval until cancelled; a crashed poll is logged, the next runs."""
        self.log.info(
            "silence_poller_started", urls=self.urls, interval_s=self.interval.total_seconds()
        )
        while True:
            try:
                await self.poll_once()
            except Exception:
                self.log.exception("silence_poll_crashed")
            await asyncio.sleep(self.interval.total_seconds())

    async def poll_once(self) -> str | None:
        """One poll: the outcome counted ("ok", "unreachable", "invalid",
        "storage_error"), or None when no incident is open (nothing read, nothing counted)."""
        try:
            if await self.store.count_open() == 0:
                self._applied.clear()
                return None
        except StoreError as exc:
            return self._failed("storage_error", {"storage": str(exc)})
        try:
            silences = await self.fetch_silences()
        except _Unanswered as exc:
            return self._failed(exc.outcome, exc.errors)
        try:
            applied = await self.apply(silences)
        except StoreError as exc:
            return self._failed("storage_error", {"storage": str(exc)})
        self.metrics.silence_polls.labels(outcome="ok").inc()
        if self._failing is not None:
            self.log.info("silence_poll_recovered", was=self._failing)
            self._failing = None
        if applied:
            self.log.info("silences_applied", count=applied)
        return "ok"

    async def fetch_silences(self) -> list[Silence]:
        """The silences from the first URL that answers; raises _Unanswered."""
        errors: dict[str, str] = {}
        outcome = "unreachable"
        order = self.urls[self._preferred :] + self.urls[: self._preferred]
        for url in order:
            try:
                async with self.session.get(url + SILENCES_PATH, timeout=self.timeout) as resp:
                    if resp.status != 200:
                        errors[url] = f"HTTP {resp.status}"
                        continue
                    body = await resp.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                errors[url] = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                continue
            try:
                silences, skipped = parse_silences(body)
            except SilencesUnreadable as exc:
                errors[url] = exc.reason
                outcome = "invalid"
                continue
            if skipped:
                self.log.warning("silences_skipped", url=url, count=skipped)
            self._preferred = self.urls.index(url)
            return silences
        raise _Unanswered(outcome, errors)

    async def apply(self, silences: Sequence[Silence]) -> int:
        """Check every open incident against the silences in force; returns how many
        (incident, silence) pairs were applied now. Raises StoreError."""
        in_force = [s for s in silences if s.state != "pending"]
        if not in_force:
            return 0
        applied = 0
        open_ids: set[str] = set()
        cursor: str | None = None
        while True:
            page = await self.store.list_incidents(
                status=None, open_only=True, limit=PAGE_SIZE, cursor=cursor
            )
            for incident in page.incidents:
                open_ids.add(incident.id)
                fresh = [s for s in in_force if (incident.id, s.id) not in self._applied]
                if fresh:
                    applied += await self._apply_to(incident.id, fresh)
            cursor = page.next_cursor
            if cursor is None:
                break
        # Forget incidents that are no longer open: a re-opened one is checked again.
        self._applied = {pair for pair in self._applied if pair[0] in open_ids}
        return applied

    async def _apply_to(self, incident_id: str, silences: Sequence[Silence]) -> int:
        try:
            view = await self.store.load(incident_id)
        except IncidentNotFound:
            return 0
        applied = 0
        for silence in silences:
            if not silence_applies(view, silence):
                continue
            try:
                outcome = await self.recording.record_silence(incident_id, silence)
            except IncidentNotFound:
                return applied
            if outcome is not None and not outcome.changed:
                continue  # it stopped applying meanwhile (alert resolved): check again later
            self._applied.add((incident_id, silence.id))
            if outcome is not None:
                applied += 1
                self.log.info(
                    "silence_applied",
                    incident_id=incident_id,
                    silence_id=silence.id,
                    created_by=silence.created_by,
                )
        return applied

    def _failed(self, outcome: str, errors: dict[str, str]) -> str:
        self.metrics.silence_polls.labels(outcome=outcome).inc()
        if self._failing != outcome:
            self.log.warning("silence_poll_failed", outcome=outcome, errors=errors)
            self._failing = outcome
        else:
            self.log.debug("silence_poll_failed", outcome=outcome, errors=errors)
        return outcome
