"""The evidence maths and signal templates stay pure: no I/O, logging or clock imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import recorder

ROOT = Path(recorder.__file__).parent
PURE = [*sorted((ROOT / "evidence").glob("*.py")), ROOT / "sampling" / "signals.py"]
FORBIDDEN = {
    "aiohttp",
    "asyncpg",
    "aiosqlite",
    "structlog",
    "prometheus_client",
    "os",
    "time",
    "socket",
    "asyncio",
    "logging",
    "recorder.store",
    "recorder.web",
}


def imported(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module_imports_no_io(path: Path) -> None:
    """Each pure module imports nothing that does I/O or reads the clock."""
    bad = {m for m in imported(path) if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)}
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module_never_reads_the_clock(path: Path) -> None:
    """No datetime.now()/utcnow()/today(): times come in as arguments."""
    calls = {
        node.func.attr
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert not calls & {"now", "utcnow", "today"}
