"""Reaching what the configuration names: storage, Prometheus, Alertmanager.

Used by `recorder check-config --online` (every check, one line each) and at `serve`
start (a warning naming the Prometheus URL when it cannot be reached; sampling keeps
retrying on its own).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp

from recorder.prometheus.promapi import PrometheusClient, PrometheusError
from recorder.settings import Settings, mask_url
from recorder.store.errors import NotMigrated, StorageMisconfigured, StoreError
from recorder.store.factory import open_store

EXIT_OK = 0
EXIT_UNREACHABLE = 1
EXIT_STORAGE = 3
PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Check:
    """The result of reaching one dependency."""

    name: str
    ok: bool
    detail: str
    exit_code: int = EXIT_OK


async def check_storage(settings: Settings) -> Check:
    """Connect and read the schema version; never migrates."""
    where = mask_url(settings.database_url)
    try:
        store = open_store(settings.database_url)
    except ValueError as exc:
        return Check("storage", False, f"{where}: {exc}", EXIT_STORAGE)
    try:
        await store.start()
        await store.check_ready()
    except NotMigrated as exc:
        return Check("storage", True, f"{where}: reachable; {exc} (serve migrates on start)")
    except StorageMisconfigured as exc:
        return Check("storage", False, f"{where}: {exc}; {exc.hint}", EXIT_STORAGE)
    except StoreError as exc:
        return Check("storage", False, f"{where}: {exc}", EXIT_UNREACHABLE)
    finally:
        await store.close()
    return Check("storage", True, f"{where}: reachable, schema up to date")


async def probe_prometheus(url: str, session: aiohttp.ClientSession) -> str | None:
    """None when Prometheus at `url` answers a trivial query, else why not."""
    try:
        client = PrometheusClient(url, session, timeout=PROBE_TIMEOUT_S, retries=0)
        await client.query("vector(1)", datetime.now(UTC))
    except (PrometheusError, aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return None


async def probe_alertmanager(url: str, session: aiohttp.ClientSession) -> str | None:
    """None when the Alertmanager API at `url` answers GET /api/v2/status, else why not."""
    try:
        async with session.get(
            f"{url.rstrip('/')}/api/v2/status",
            timeout=aiohttp.ClientTimeout(total=PROBE_TIMEOUT_S),
        ) as response:
            if response.status != 200:
                return f"GET /api/v2/status answered {response.status}"
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return None


async def check_services(settings: Settings) -> list[Check]:
    """Prometheus (when configured) and every configured Alertmanager."""
    checks: list[Check] = []
    async with aiohttp.ClientSession(headers={"User-Agent": "incident-recorder"}) as session:
        if settings.prometheus_url is None:
            checks.append(Check("prometheus", True, "not configured: no sampling"))
        else:
            url = mask_url(settings.prometheus_url)
            error = await probe_prometheus(settings.prometheus_url, session)
            checks.append(
                Check("prometheus", True, f"{url}: answered")
                if error is None
                else Check("prometheus", False, f"{url}: {error}", EXIT_UNREACHABLE)
            )
        urls = settings.alertmanager_urls
        if not urls:
            checks.append(Check("alertmanager", True, "not configured: silences not read"))
        errors = {url: await probe_alertmanager(url, session) for url in urls}
        if urls and any(error is None for error in errors.values()):
            answered = ", ".join(mask_url(u) for u, e in errors.items() if e is None)
            checks.append(Check("alertmanager", True, f"{answered}: answered"))
        elif urls:
            detail = "; ".join(f"{mask_url(u)}: {e}" for u, e in errors.items())
            checks.append(Check("alertmanager", False, detail, EXIT_UNREACHABLE))
    return checks


async def run_online_checks(settings: Settings) -> int:
    """Print one line per dependency; the exit code of the worst failure (0 when none)."""
    checks = [await check_storage(settings), *await check_services(settings)]
    for check in checks:
        status = "ok" if check.ok else "FAILED"
        print(f"{check.name}: {status}: {check.detail}", file=sys.stdout)
    codes = [c.exit_code for c in checks if not c.ok]
    # Storage that cannot work as configured (3) outranks something unreachable (1).
    return max(codes, default=EXIT_OK)
