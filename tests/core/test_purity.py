"""The pure core packages import no I/O, logging or metrics libraries."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE_PACKAGES = ["recorder/core", "recorder/report", "recorder/evidence"]
FORBIDDEN = {"aiohttp", "asyncpg", "aiosqlite", "structlog", "prometheus_client", "os", "time"}


def imported_roots(path: Path) -> set[str]:
    """Top-level module names imported by one source file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def pure_files() -> list[Path]:
    files = [p for pkg in PURE_PACKAGES for p in sorted((ROOT / pkg).glob("**/*.py"))]
    assert files, "no pure-core files found: the layout changed"
    return files


@pytest.mark.parametrize("path", pure_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module_imports_no_io_library(path: Path) -> None:
    """A pure-core module importing aiohttp, asyncpg, aiosqlite, structlog, prometheus_client,
    os or time fails this test."""
    assert imported_roots(path).isdisjoint(FORBIDDEN), sorted(imported_roots(path) & FORBIDDEN)


def test_purity_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    """The checker itself sees `from aiohttp import web` and `import asyncpg.pool`."""
    sample = tmp_path / "bad.py"
    sample.write_text("from aiohttp import web\nimport asyncpg.pool\n", encoding="utf-8")
    assert {"aiohttp", "asyncpg"} <= imported_roots(sample)
