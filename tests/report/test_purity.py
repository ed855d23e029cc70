"""The report package stays pure: no I/O, clock, logging or web imports."""

from __future__ import annotations

import ast
from pathlib import Path

import recorder.report

FORBIDDEN = {
    "aiohttp",
    "asyncpg",
    "aiosqlite",
    "structlog",
    "prometheus_client",
    "os",
    "time",
    "logging",
    "socket",
    "subprocess",
    "recorder.store",
    "recorder.web",
}


def imported_modules(path: Path) -> set[str]:
    """Top-level and dotted names imported by one module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_report_modules_import_nothing_impure() -> None:
    """No module under recorder/report imports I/O, clock, logging or web packages."""
    package = Path(recorder.report.__file__).parent
    for path in sorted(package.glob("*.py")):
        for name in imported_modules(path):
            assert not any(name == f or name.startswith(f"{f}.") for f in FORBIDDEN), (path, name)


def test_report_modules_never_read_the_clock() -> None:
    """No module calls datetime.now()/utcnow(): `now` is an argument."""
    package = Path(recorder.report.__file__).parent
    for path in sorted(package.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for call in (".now(", "utcnow(", "today("):
            assert call not in text, (path, call)
