"""The `recorder` command: serve, migrate, report, incidents, check-config, signals.

Imports at the top stay few: a body-parsing worker process started from the `recorder`
console script runs the script again (multiprocessing's spawn), and with it this module.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from recorder import __version__

if TYPE_CHECKING:
    from recorder.settings import Settings

# The contract's exit codes (see recorder.serving); a missing incident is a plain failure.
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_STORAGE = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recorder",
        description="Incident Recorder: incidents from Alertmanager and PagerDuty webhooks, "
        "evidence from Prometheus, postmortem drafts.",
    )
    parser.add_argument("--version", action="version", version=f"recorder {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="TOML config file (or RECORDER_CONFIG)")
    common.add_argument("--database-url", help="sqlite:///path.db or postgresql://…")
    common.add_argument("--log-format", choices=["json", "console"])
    common.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", parents=[common], help="run the daemon")
    serve.add_argument("--listen", help="host:port to bind (default 127.0.0.1:9470)")
    serve.add_argument("--prometheus-url", help="base URL of the Prometheus HTTP API")
    serve.add_argument(
        "--no-migrate", action="store_true", help="do not apply schema migrations at start"
    )
    sub.add_parser("migrate", parents=[common], help="apply schema migrations and exit")
    report = sub.add_parser("report", parents=[common], help="print one incident's report")
    report.add_argument("id", help="incident id")
    report.add_argument("--format", choices=["markdown", "json", "html"], default="markdown")
    incidents = sub.add_parser("incidents", parents=[common], help="list incidents")
    incidents.add_argument("--status", choices=["open", "resolved"])
    incidents.add_argument("--limit", type=int, default=50)
    check = sub.add_parser(
        "check-config",
        parents=[common],
        help="validate the configuration and print it with secrets masked",
    )
    check.add_argument(
        "--online",
        action="store_true",
        help="also reach storage, Prometheus and Alertmanager (exit 3 when storage cannot "
        "work as configured, 1 when something cannot be reached)",
    )
    demo = sub.add_parser(
        "demo", parents=[common], help="run a local Prometheus + Alertmanager scenario"
    )
    demo.add_argument("--workdir", help="where to keep the demo's files (default: a temp dir)")
    signals = sub.add_parser(
        "signals",
        parents=[common],
        help="list the signal presets a Prometheus has metrics for, and the TOML to paste",
    )
    signals.add_argument(
        "--prometheus", help="Prometheus base URL (default RECORDER_PROMETHEUS_URL)"
    )
    return parser


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    names = ("listen", "database_url", "prometheus_url", "log_format", "log_level")
    return {name: getattr(args, name, None) for name in names}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    import asyncio

    from recorder.settings import SettingsError, load_settings

    args = _parser().parse_args(argv)
    try:
        settings = load_settings(config_path=args.config, flags=_flags(args))
    except SettingsError as exc:
        from recorder.serving import fail_line

        print(fail_line(str(exc)), file=sys.stderr)
        return EXIT_CONFIG
    from recorder.logs import configure_logging

    configure_logging(settings.log_format, settings.log_level)
    if args.command == "check-config":
        print(json.dumps(settings.masked(), indent=2, sort_keys=True))
        if not args.online:
            return 0
        from recorder.preflight import run_online_checks

        return asyncio.run(run_online_checks(settings))
    if args.command == "serve":
        from recorder.serving import run_serve

        return run_serve(settings, migrate=not args.no_migrate)
    if args.command == "signals":
        from recorder.signals_cli import run_signals

        return run_signals(args.prometheus or settings.prometheus_url, settings.service_labels)
    if args.command == "demo":
        from recorder.demo.command import run_demo

        return run_demo(settings, workdir=args.workdir)
    return asyncio.run(_offline(args, settings))


async def _offline(args: argparse.Namespace, settings: Settings) -> int:
    from recorder.store.errors import IncidentNotFound, StorageMisconfigured, StoreError
    from recorder.store.factory import open_store

    store = open_store(settings.database_url)
    try:
        await store.start()
        if args.command == "migrate":
            applied = await store.migrate()
            print(f"applied migrations: {applied}" if applied else "schema is up to date")
            return 0
        await store.check_ready()
        if args.command == "incidents":
            return await _print_incidents(store, args.status, args.limit)
        if args.command == "report":
            from recorder.report_io import render_report

            text, _ = await render_report(
                store, settings, args.id, args.format, base_url=settings.public_url()
            )
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            return 0
        raise AssertionError(args.command)
    except IncidentNotFound as exc:
        print(f"recorder: {exc}; list them with `recorder incidents`", file=sys.stderr)
        return EXIT_FAILED
    except StorageMisconfigured as exc:
        print(f"recorder: {exc}; {exc.hint}", file=sys.stderr)
        return EXIT_STORAGE
    except StoreError as exc:
        print(f"recorder: {exc}", file=sys.stderr)
        return EXIT_STORAGE
    finally:
        await store.close()


async def _print_incidents(store: Any, status: str | None, limit: int) -> int:
    from recorder.core.incident import IncidentStatus
    from recorder.timefmt import to_rfc3339

    page = await store.list_incidents(
        status=IncidentStatus.RESOLVED if status == "resolved" else None,
        open_only=status == "open",
        limit=max(1, min(limit, 500)),
        cursor=None,
    )
    print(f"{'ID':<22} {'STATUS':<14} {'SEVERITY':<9} {'STARTED (UTC)':<25} TITLE")
    for incident in page.incidents:
        print(
            f"{incident.id:<22} {incident.status.value:<14} {incident.severity or '-':<9} "
            f"{to_rfc3339(incident.started_at) or '':<25} {incident.title}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
